//! Clustering quality metrics, each checked against scikit-learn
//! (`scripts/reference/metrics_reference.py` → `tests/data/metrics_reference.json`).
//!
//! External metrics compare a predicted clustering with the true classes: [`nmi`], [`ari`], [`ami`],
//! [`accuracy`] (Hungarian matching), [`contingency`] and [`confusion_matrix`]; [`label_scores`]
//! computes the usual four at once. Internal metrics judge a clustering of a feature matrix:
//! [`silhouette`] (exact, blocked and parallel, never an N×N matrix), [`silhouette_samples`],
//! [`silhouette_sampled`] and [`davies_bouldin`].
//!
//! Labels are `&[usize]` and need not be contiguous: like scikit-learn, the distinct values are the
//! classes/clusters. Deviations from scikit-learn: empty input is an error here (scikit-learn
//! returns 1.0 for NMI/ARI/AMI of empty labelings).
mod contingency;
mod dbi;
mod info;
mod matching;
mod silhouette;

pub use contingency::{confusion_matrix, contingency, ConfusionMatrix, Contingency};
pub use dbi::davies_bouldin;
pub use info::{ami, entropy, mutual_info, nmi, NmiNorm};
pub use matching::{accuracy, best_matching, Matching};
pub use silhouette::{
    silhouette, silhouette_sample_indices, silhouette_sampled, silhouette_samples,
};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What went wrong computing a metric.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MetricsError {
    /// Two inputs that must have one entry per point differ in length.
    #[error("length mismatch: {what}: {left} vs {right}")]
    LengthMismatch {
        /// Which inputs, e.g. "truth vs pred" or "feature rows vs labels".
        what: &'static str,
        /// Length of the first.
        left: usize,
        /// Length of the second.
        right: usize,
    },
    /// There are no points.
    #[error("empty input: {0} has no points")]
    Empty(&'static str),
    /// Silhouette and Davies–Bouldin need between 2 and n−1 clusters (as scikit-learn).
    #[error("{metric}: number of clusters is {n_labels}; valid values are 2 to n_samples - 1 = {max} (inclusive)")]
    ClusterCount {
        /// The metric.
        metric: &'static str,
        /// Distinct labels found.
        n_labels: usize,
        /// n_samples − 1.
        max: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("feature value at row {row}, column {col} is {value} (NaN or infinite)")]
    NonFinite {
        /// Row of the bad value.
        row: usize,
        /// Column of the bad value.
        col: usize,
        /// The value.
        value: f32,
    },
    /// A parameter is out of range, or the problem is too large for the method.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParam {
        /// The parameter.
        name: &'static str,
        /// What was expected and what was found.
        reason: String,
    },
}

/// NMI (arithmetic), ARI, AMI (arithmetic) and accuracy of one clustering against the truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelScores {
    /// Normalised mutual information, arithmetic normalisation (scikit-learn's default).
    pub nmi: f64,
    /// Adjusted Rand index.
    pub ari: f64,
    /// Adjusted mutual information, arithmetic normalisation.
    pub ami: f64,
    /// Clustering accuracy after the best one-to-one matching of clusters to classes.
    pub accuracy: f64,
}

/// Computes [`LabelScores`] from one contingency table.
pub fn label_scores(truth: &[usize], pred: &[usize]) -> Result<LabelScores, MetricsError> {
    let c = contingency(truth, pred)?;
    Ok(LabelScores {
        nmi: info::nmi_from(&c, NmiNorm::Arithmetic),
        ari: contingency::ari_from(&c),
        ami: info::ami_from(&c, NmiNorm::Arithmetic),
        accuracy: matching::best_matching_from(&c).accuracy,
    })
}

/// Adjusted Rand index of `pred` against `truth` (scikit-learn's `adjusted_rand_score`): 1 for
/// identical partitions, about 0 for independent ones, can be negative.
pub fn ari(truth: &[usize], pred: &[usize]) -> Result<f64, MetricsError> {
    Ok(contingency::ari_from(&contingency(truth, pred)?))
}

fn check_lengths(truth: &[usize], pred: &[usize]) -> Result<(), MetricsError> {
    if truth.len() != pred.len() {
        return Err(MetricsError::LengthMismatch {
            what: "truth vs pred labels",
            left: truth.len(),
            right: pred.len(),
        });
    }
    if truth.is_empty() {
        return Err(MetricsError::Empty("the labeling"));
    }
    Ok(())
}

/// Maps labels to `0..k` in order of their sorted distinct values; returns (distinct values, codes).
fn encode(labels: &[usize]) -> (Vec<usize>, Vec<u32>) {
    let max = labels.iter().copied().max().unwrap_or(0);
    if max < 4 * labels.len() + 1024 {
        // Small label values: a direct lookup table, no sorting.
        const ABSENT: u32 = u32::MAX;
        let mut map = vec![ABSENT; max + 1];
        for &l in labels {
            map[l] = 0;
        }
        let mut uniq = Vec::new();
        for (v, m) in map.iter_mut().enumerate() {
            if *m != ABSENT {
                *m = uniq.len() as u32;
                uniq.push(v);
            }
        }
        let codes = labels.iter().map(|&l| map[l]).collect();
        return (uniq, codes);
    }
    let mut uniq = labels.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    let codes = labels
        .iter()
        .map(|l| uniq.binary_search(l).expect("present") as u32)
        .collect();
    (uniq, codes)
}
