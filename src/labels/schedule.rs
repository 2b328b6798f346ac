//! Dynamic labels: a labelled fraction per epoch.
use super::amount::parse_fraction;
use super::LabelError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The labelled fraction for each epoch (0-based), for "dynamic label availability".
///
/// With one seed the labelled sets of all epochs are nested prefixes of the same permutation (see
/// [`super::LabelScenario::reveal`]), so labels only ever get added; constraints are recomputed each
/// epoch. Parsed from `"0,0,0.001,0.001"` or `"0,0,0.1%,0.1%"` (entries are fractions, `%` allowed;
/// a bare `1` means 100 %). In configs it is a list of fractions, or the same text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleRepr", into = "Vec<f64>")]
pub struct Schedule {
    fractions: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ScheduleRepr {
    List(Vec<f64>),
    Text(String),
}

impl TryFrom<ScheduleRepr> for Schedule {
    type Error = LabelError;
    fn try_from(r: ScheduleRepr) -> Result<Self, LabelError> {
        match r {
            ScheduleRepr::List(v) => Schedule::new(v),
            ScheduleRepr::Text(s) => s.parse(),
        }
    }
}

impl From<Schedule> for Vec<f64> {
    fn from(s: Schedule) -> Self {
        s.fractions
    }
}

impl Schedule {
    /// A schedule from per-epoch fractions; each must lie in `[0, 1]` and there must be at least one.
    pub fn new(fractions: Vec<f64>) -> Result<Self, LabelError> {
        if fractions.is_empty() {
            return Err(LabelError::Schedule(
                "needs at least one entry (the fraction of epoch 0)".into(),
            ));
        }
        for (e, &f) in fractions.iter().enumerate() {
            if !f.is_finite() || !(0.0..=1.0).contains(&f) {
                return Err(LabelError::Schedule(format!(
                    "the fraction of epoch {e} must lie in [0, 1], found {f}"
                )));
            }
        }
        Ok(Schedule { fractions })
    }

    /// The paper's dynamic schedule over 10 epochs: 0, 0, 0.1, 0.1, 0.2, 0.2, 0.5, 0.5, 1, 1 %.
    pub fn paper() -> Self {
        Schedule {
            fractions: vec![
                0.0, 0.0, 0.001, 0.001, 0.002, 0.002, 0.005, 0.005, 0.01, 0.01,
            ],
        }
    }

    /// The labelled fraction at `epoch` (0-based). Epochs past the end keep the last fraction; use
    /// [`Schedule::check_epochs`] to insist on an exact length.
    pub fn fraction_at(&self, epoch: usize) -> f64 {
        self.fractions[epoch.min(self.fractions.len() - 1)]
    }

    /// The per-epoch fractions.
    pub fn fractions(&self) -> &[f64] {
        &self.fractions
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.fractions.len()
    }

    /// Always false: a schedule has at least one entry.
    pub fn is_empty(&self) -> bool {
        self.fractions.is_empty()
    }

    /// Checks that the schedule has exactly one entry per epoch of a run of `epochs` epochs.
    pub fn check_epochs(&self, epochs: usize) -> Result<(), LabelError> {
        if self.fractions.len() != epochs {
            return Err(LabelError::Schedule(format!(
                "has {} entries but the run has {epochs} epochs; give exactly one fraction per epoch",
                self.fractions.len()
            )));
        }
        Ok(())
    }

    /// True when the fraction never decreases, so each epoch's labels include the previous ones.
    pub fn is_non_decreasing(&self) -> bool {
        self.fractions.windows(2).all(|w| w[0] <= w[1])
    }
}

impl FromStr for Schedule {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fractions = s
            .split(',')
            .map(|p| {
                parse_fraction(p, "label schedule entry").map_err(|e| match e {
                    LabelError::Parse { reason, input, .. } => LabelError::Parse {
                        what: "label schedule",
                        input: s.to_string(),
                        reason: format!("entry {input:?}: {reason}"),
                    },
                    other => other,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Schedule::new(fractions)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.fractions.iter().map(|x| x.to_string()).collect();
        write!(f, "{}", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_percent_entries() {
        let a: Schedule = "0,0,0.001,0.002".parse().unwrap();
        let b: Schedule = "0, 0, 0.1%, 0.2%".parse().unwrap();
        assert_eq!(a.fractions(), &[0.0, 0.0, 0.001, 0.002]);
        assert_eq!(a, b);
        assert_eq!(a.fraction_at(2), 0.001);
        assert_eq!(a.fraction_at(99), 0.002);
        assert!(a.check_epochs(4).is_ok());
        assert!(a.check_epochs(10).is_err());
        assert!("0,,0.1".parse::<Schedule>().is_err());
        assert!("0,2".parse::<Schedule>().is_err());
        assert!("".parse::<Schedule>().is_err());
    }

    #[test]
    fn serde_accepts_list_or_text() {
        let s: Schedule = serde_json::from_str("[0.0, 0.01]").unwrap();
        let t: Schedule = serde_json::from_str("\"0,1%\"").unwrap();
        assert_eq!(s, t);
        assert_eq!(serde_json::to_string(&s).unwrap(), "[0.0,0.01]");
        assert!(serde_json::from_str::<Schedule>("[0.5, 1.5]").is_err());
        assert_eq!(Schedule::paper().len(), 10);
    }
}
