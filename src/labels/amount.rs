//! How many points are labelled: a fraction or a count, parsed from command-line text.
use super::LabelError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The number of labelled points, as a fraction of all points or as an absolute count.
///
/// Parsed from text ([`FromStr`]) as the CLI's `--labels` flag:
/// - `"1%"`, `"0.05%"` — a percentage (`1%` = fraction 0.01);
/// - `"0.01"`, `"1e-3"`, `"1.0"` — a fraction in `[0, 1]` (anything with a `.` or an exponent);
/// - `"600"`, `"0"` — a count of points (a plain integer). Note that `"1"` is *one point*, not 100 %:
///   write `"1.0"` or `"100%"` for all points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelAmount {
    /// A fraction of all points, in `[0, 1]`.
    Fraction(f64),
    /// An absolute number of points.
    Count(usize),
}

impl LabelAmount {
    /// The number of labelled points among `n_points`: `Count(c)` is `c`; `Fraction(f)` is
    /// `floor(f · n_points)` as the original's `int(f * N)`, but tolerant of binary round-off
    /// (`0.29 · 100` gives 29, where Python's `int()` gives 28).
    pub fn count_of(&self, n_points: usize) -> usize {
        match *self {
            LabelAmount::Count(c) => c,
            LabelAmount::Fraction(f) => floor_tolerant(f * n_points as f64),
        }
    }
}

/// `floor(x)` that treats values within a relative 1e-9 below an integer as that integer.
pub(crate) fn floor_tolerant(x: f64) -> usize {
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    (x + x.max(1.0) * 1e-9).floor() as usize
}

/// Parses one fraction: `"12.5%"` or `"0.125"`; used by [`LabelAmount`] and schedules.
pub(crate) fn parse_fraction(s: &str, what: &'static str) -> Result<f64, LabelError> {
    let t = s.trim();
    let err = |reason: String| LabelError::Parse {
        what,
        input: s.to_string(),
        reason,
    };
    let (num, scale) = match t.strip_suffix('%') {
        Some(p) => (p.trim(), 0.01),
        None => (t, 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| err("expected a number such as 0.01 or 1%".into()))?;
    let v = v * scale;
    if !v.is_finite() || !(0.0..=1.0).contains(&v) {
        return Err(err(format!(
            "a fraction must lie in [0, 1] (0% to 100%), found {v}"
        )));
    }
    Ok(v)
}

impl FromStr for LabelAmount {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() {
            return Err(LabelError::Parse {
                what: "label amount",
                input: s.to_string(),
                reason: "empty; expected e.g. 1%, 0.01 or 600".into(),
            });
        }
        if !t.ends_with('%') && t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse()
                .map(LabelAmount::Count)
                .map_err(|e| LabelError::Parse {
                    what: "label amount",
                    input: s.to_string(),
                    reason: format!("not a valid count: {e}"),
                });
        }
        parse_fraction(t, "label amount").map(LabelAmount::Fraction)
    }
}

impl fmt::Display for LabelAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelAmount::Count(c) => write!(f, "{c}"),
            LabelAmount::Fraction(x) => write!(f, "{}%", x * 100.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_percent_fraction_and_count() {
        assert_eq!(
            "1%".parse::<LabelAmount>().unwrap(),
            LabelAmount::Fraction(0.01)
        );
        assert_eq!(
            " 0.01 ".parse::<LabelAmount>().unwrap(),
            LabelAmount::Fraction(0.01)
        );
        assert_eq!(
            "1e-3".parse::<LabelAmount>().unwrap(),
            LabelAmount::Fraction(0.001)
        );
        assert_eq!(
            "600".parse::<LabelAmount>().unwrap(),
            LabelAmount::Count(600)
        );
        assert_eq!(
            "1.0".parse::<LabelAmount>().unwrap(),
            LabelAmount::Fraction(1.0)
        );
        assert!("150%".parse::<LabelAmount>().is_err());
        assert!("-0.1".parse::<LabelAmount>().is_err());
        assert!("abc".parse::<LabelAmount>().is_err());
        assert!("".parse::<LabelAmount>().is_err());
    }

    #[test]
    fn counts_follow_int_of_f_times_n() {
        assert_eq!(LabelAmount::Fraction(0.01).count_of(60_000), 600);
        assert_eq!(LabelAmount::Fraction(0.0005).count_of(60_000), 30);
        assert_eq!(LabelAmount::Fraction(0.29).count_of(100), 29);
        assert_eq!(LabelAmount::Fraction(0.015).count_of(100), 1);
        assert_eq!(LabelAmount::Count(7).count_of(100), 7);
    }
}
