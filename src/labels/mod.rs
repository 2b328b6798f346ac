//! Label scenarios: how a sparse, possibly imperfect subset of labels is revealed, and the pairwise
//! constraints it yields.
//!
//! A [`LabelScenario`] is a validated, serialisable description (how many points are labelled and
//! how they are drawn, label noise, which classes get labels, superclass groups, how many
//! must-/cannot-links are made). [`LabelScenario::reveal`] turns it, the true labels and a seed into
//! a [`Revealed`]: the labelled points, the labels shown for them, the [`ConstraintSet`] and
//! [`ConstraintStats`] that say how many constraints there are and how many of them are true.
//! A [`Schedule`] makes the labelled fraction change per epoch ("dynamic labels").
//!
//! ```
//! use deepclust::labels::{LabelAmount, LabelScenario};
//! let truth: Vec<usize> = (0..1000).map(|i| i % 10).collect();
//! let scenario = LabelScenario::paper(0.0).with_amount("2%".parse::<LabelAmount>().unwrap());
//! let revealed = scenario.reveal(&truth, 10, 42).unwrap();
//! assert_eq!(revealed.labelled.len(), 20);
//! assert_eq!(revealed.stats.must_link_precision, Some(1.0));
//! ```
mod amount;
mod constraints;
mod scenario;
mod schedule;

pub use amount::LabelAmount;
pub use constraints::{Adjacency, ConstraintSet, UnionFind};
pub use scenario::{ClassCoverage, ConstraintStats, Groups, LabelScenario, Revealed, Sampling};
pub use schedule::Schedule;

use thiserror::Error;

/// What is wrong with a label scenario, a schedule or their inputs.
///
/// Every message names the setting (as a config key / CLI flag) or the input, what was expected and
/// what was found.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LabelError {
    /// A setting is out of range or inconsistent.
    #[error("invalid label setting `{name}`: {reason}")]
    InvalidParam {
        /// The setting's name as in configs and on the command line.
        name: &'static str,
        /// What was expected and what was found.
        reason: String,
    },
    /// A text value (e.g. from the command line) could not be parsed.
    #[error("cannot parse {what} from {input:?}: {reason}")]
    Parse {
        /// What kind of value was expected (`label amount`, `groups`, …).
        what: &'static str,
        /// The text as given.
        input: String,
        /// Why it was rejected and what would be accepted.
        reason: String,
    },
    /// More labelled points were asked for than the data (or the allowed classes) hold.
    #[error("cannot label {requested} points: only {available} {context}")]
    TooManyLabels {
        /// Number of labelled points asked for.
        requested: usize,
        /// Number of points available to draw from.
        available: usize,
        /// Which points were counted, e.g. "points in the data" or "points of classes [3, 5]".
        context: String,
    },
    /// The true labels do not fit the declared number of classes.
    #[error("invalid true labels: {0}")]
    InvalidTruth(String),
    /// A schedule does not fit the number of epochs.
    #[error("label schedule: {0}")]
    Schedule(String),
}
