//! Contingency tables, confusion matrices and the adjusted Rand index.
use super::{check_lengths, encode, MetricsError};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Counts of points per (true class, predicted cluster).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contingency {
    /// Distinct true labels, ascending (row `r` is class `classes[r]`).
    pub classes: Vec<usize>,
    /// Distinct predicted labels, ascending (column `c` is cluster `clusters[c]`).
    pub clusters: Vec<usize>,
    /// `classes.len() × clusters.len()` counts.
    pub counts: Array2<u64>,
    /// Total number of points.
    pub n: u64,
}

impl Contingency {
    /// Points per true class (row sums).
    pub fn class_sizes(&self) -> Vec<u64> {
        self.counts.rows().into_iter().map(|r| r.sum()).collect()
    }
    /// Points per predicted cluster (column sums).
    pub fn cluster_sizes(&self) -> Vec<u64> {
        self.counts.columns().into_iter().map(|c| c.sum()).collect()
    }
}

/// The contingency table of `truth` (rows) against `pred` (columns), as scikit-learn's
/// `contingency_matrix`.
pub fn contingency(truth: &[usize], pred: &[usize]) -> Result<Contingency, MetricsError> {
    check_lengths(truth, pred)?;
    let (classes, tc) = encode(truth);
    let (clusters, pc) = encode(pred);
    let mut counts = Array2::<u64>::zeros((classes.len(), clusters.len()));
    for (&t, &p) in tc.iter().zip(&pc) {
        counts[[t as usize, p as usize]] += 1;
    }
    Ok(Contingency {
        classes,
        clusters,
        counts,
        n: truth.len() as u64,
    })
}

/// A square confusion matrix over the union of the true and predicted label values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// The label values, ascending; row `r` / column `c` stand for `labels[r]` / `labels[c]`.
    pub labels: Vec<usize>,
    /// `counts[[r, c]]`: points whose true label is `labels[r]` and predicted label `labels[c]`.
    pub counts: Array2<u64>,
}

/// The confusion matrix as scikit-learn's `confusion_matrix(truth, pred)`: rows are true labels,
/// columns predicted labels, both over the sorted union of values. Cluster ids are compared as they
/// are; to compare clusters with classes first relabel them with [`super::best_matching`].
pub fn confusion_matrix(truth: &[usize], pred: &[usize]) -> Result<ConfusionMatrix, MetricsError> {
    check_lengths(truth, pred)?;
    let mut all: Vec<usize> = truth.iter().chain(pred).copied().collect();
    let (labels, codes) = encode(&all);
    let n = truth.len();
    let mut counts = Array2::<u64>::zeros((labels.len(), labels.len()));
    for i in 0..n {
        counts[[codes[i] as usize, codes[n + i] as usize]] += 1;
    }
    all.clear();
    Ok(ConfusionMatrix { labels, counts })
}

/// ARI from a contingency table, computed as scikit-learn does (pair confusion matrix, exact integer
/// arithmetic, then one division).
pub(crate) fn ari_from(c: &Contingency) -> f64 {
    let n = c.n as i128;
    let sum_squares: i128 = c.counts.iter().map(|&v| (v as i128) * (v as i128)).sum();
    let a: Vec<i128> = c.class_sizes().into_iter().map(|v| v as i128).collect();
    let b: Vec<i128> = c.cluster_sizes().into_iter().map(|v| v as i128).collect();
    let tp = sum_squares - n;
    // Σ_ij n_ij · b_j  and  Σ_ij n_ij · a_i.
    let mut nb = 0i128;
    let mut na = 0i128;
    for ((i, j), &v) in c.counts.indexed_iter() {
        nb += v as i128 * b[j];
        na += v as i128 * a[i];
    }
    let fp = nb - sum_squares;
    let fn_ = na - sum_squares;
    let tn = n * n - fp - fn_ - sum_squares;
    if fn_ == 0 && fp == 0 {
        return 1.0;
    }
    let num = 2 * (tp * tn - fn_ * fp);
    let den = (tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn);
    num as f64 / den as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_table_and_ari() {
        // truth 0 0 0 1 1 1, pred 0 0 1 1 2 2: ARI = 0.24242424… (scikit-learn's doc example).
        let t = [0, 0, 0, 1, 1, 1];
        let p = [0, 0, 1, 1, 2, 2];
        let c = contingency(&t, &p).unwrap();
        assert_eq!(c.counts, ndarray::arr2(&[[2, 1, 0], [0, 1, 2]]));
        assert!((ari_from(&c) - 0.242_424_242_424_242_4).abs() < 1e-15);
        let m = confusion_matrix(&[2, 0, 2, 2, 0, 1], &[0, 0, 2, 2, 0, 2]).unwrap();
        assert_eq!(m.counts, ndarray::arr2(&[[2, 0, 0], [0, 0, 1], [1, 0, 2]]));
    }
}
