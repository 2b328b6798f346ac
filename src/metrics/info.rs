//! Information-theoretic scores: entropy, mutual information, NMI and AMI, computed as
//! scikit-learn does (natural logarithms, the same special cases).
use super::contingency::{contingency, Contingency};
use super::{check_lengths, encode, MetricsError};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// How NMI and AMI normalise the mutual information by the two entropies `H(truth)`, `H(pred)`
/// (scikit-learn's `average_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NmiNorm {
    /// Arithmetic mean — scikit-learn's default and what the paper reports.
    #[default]
    Arithmetic,
    /// Geometric mean.
    Geometric,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
}

impl NmiNorm {
    fn average(self, u: f64, v: f64) -> f64 {
        match self {
            NmiNorm::Arithmetic => (u + v) / 2.0,
            NmiNorm::Geometric => (u * v).sqrt(),
            NmiNorm::Min => u.min(v),
            NmiNorm::Max => u.max(v),
        }
    }
}

impl FromStr for NmiNorm {
    type Err = MetricsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "arithmetic" => Ok(NmiNorm::Arithmetic),
            "geometric" => Ok(NmiNorm::Geometric),
            "min" => Ok(NmiNorm::Min),
            "max" => Ok(NmiNorm::Max),
            _ => Err(MetricsError::InvalidParam {
                name: "nmi normalisation",
                reason: format!("expected arithmetic, geometric, min or max, found {s:?}"),
            }),
        }
    }
}

/// Shannon entropy (natural log) of a labeling, as scikit-learn's `entropy`.
pub fn entropy(labels: &[usize]) -> Result<f64, MetricsError> {
    if labels.is_empty() {
        return Err(MetricsError::Empty("the labeling"));
    }
    let (u, codes) = encode(labels);
    let mut counts = vec![0u64; u.len()];
    for &c in &codes {
        counts[c as usize] += 1;
    }
    Ok(entropy_of_counts(&counts))
}

fn entropy_of_counts(counts: &[u64]) -> f64 {
    let nz: Vec<f64> = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64)
        .collect();
    if nz.len() <= 1 {
        return 0.0;
    }
    let sum: f64 = nz.iter().sum();
    let log_sum = sum.ln();
    -nz.iter()
        .map(|&p| (p / sum) * (p.ln() - log_sum))
        .sum::<f64>()
}

/// Mutual information (natural log) between two labelings, as scikit-learn's `mutual_info_score`.
pub fn mutual_info(truth: &[usize], pred: &[usize]) -> Result<f64, MetricsError> {
    Ok(mi_from(&contingency(truth, pred)?))
}

pub(crate) fn mi_from(c: &Contingency) -> f64 {
    let pi = c.class_sizes();
    let pj = c.cluster_sizes();
    if pi.len() == 1 || pj.len() == 1 {
        return 0.0;
    }
    let total = c.n as f64;
    let log_total = total.ln();
    let log_pi_sum = (pi.iter().sum::<u64>() as f64).ln();
    let log_pj_sum = (pj.iter().sum::<u64>() as f64).ln();
    let mut mi = 0.0;
    for ((i, j), &v) in c.counts.indexed_iter() {
        if v == 0 {
            continue;
        }
        let nm = v as f64 / total;
        let outer = (pi[i] as i64 * pj[j] as i64) as f64;
        let log_outer = -outer.ln() + log_pi_sum + log_pj_sum;
        let term = nm * ((v as f64).ln() - log_total) + nm * log_outer;
        if term.abs() >= f64::EPSILON {
            mi += term;
        }
    }
    mi.max(0.0)
}

/// Normalised mutual information, as scikit-learn's `normalized_mutual_info_score` with the given
/// `average_method`: 1 when both labelings have a single cluster, 0 when the mutual information is 0.
pub fn nmi(truth: &[usize], pred: &[usize], norm: NmiNorm) -> Result<f64, MetricsError> {
    check_lengths(truth, pred)?;
    Ok(nmi_from(&contingency(truth, pred)?, norm))
}

pub(crate) fn nmi_from(c: &Contingency, norm: NmiNorm) -> f64 {
    if c.classes.len() == 1 && c.clusters.len() == 1 {
        return 1.0;
    }
    let mi = mi_from(c);
    if mi == 0.0 {
        return 0.0;
    }
    let h_true = entropy_of_counts(&c.class_sizes());
    let h_pred = entropy_of_counts(&c.cluster_sizes());
    mi / norm.average(h_true, h_pred)
}

/// Adjusted mutual information, as scikit-learn's `adjusted_mutual_info_score`: the mutual
/// information corrected for chance with the exact expected mutual information under the
/// hypergeometric model (log-factorials, so it stays exact and fast for tens of thousands of points).
pub fn ami(truth: &[usize], pred: &[usize], norm: NmiNorm) -> Result<f64, MetricsError> {
    check_lengths(truth, pred)?;
    Ok(ami_from(&contingency(truth, pred)?, norm))
}

pub(crate) fn ami_from(c: &Contingency, norm: NmiNorm) -> f64 {
    if c.classes.len() == 1 && c.clusters.len() == 1 {
        return 1.0;
    }
    let mi = mi_from(c);
    let emi = expected_mutual_info(&c.class_sizes(), &c.cluster_sizes(), c.n);
    let h_true = entropy_of_counts(&c.class_sizes());
    let h_pred = entropy_of_counts(&c.cluster_sizes());
    let normalizer = norm.average(h_true, h_pred);
    let mut denominator = normalizer - emi;
    // As scikit-learn: keep the sign, avoid 0/0 for a perfect match.
    if denominator < 0.0 {
        denominator = denominator.min(-f64::EPSILON);
    } else {
        denominator = denominator.max(f64::EPSILON);
    }
    (mi - emi) / denominator
}

/// `ln(k!)` for `k = 0..=n`, by a compensated running sum of `ln(i)`.
fn ln_factorials(n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n + 1);
    let (mut sum, mut comp) = (0.0f64, 0.0f64);
    out.push(0.0);
    for i in 1..=n {
        // Kahan summation keeps the absolute error near one ulp of the total.
        let y = (i as f64).ln() - comp;
        let t = sum + y;
        comp = (t - sum) - y;
        sum = t;
        out.push(sum);
    }
    out
}

/// Expected mutual information of two labelings with row sums `a` and column sums `b` over `n`
/// points (scikit-learn's `expected_mutual_information`, same summation, log-gamma via
/// log-factorials).
pub(crate) fn expected_mutual_info(a: &[u64], b: &[u64], n: u64) -> f64 {
    if a.len() == 1 || b.len() == 1 {
        return 0.0;
    }
    let n_us = n as usize;
    let lf = ln_factorials(n_us);
    let max_ab = a.iter().chain(b).copied().max().unwrap_or(0) as usize;
    let nf = n as f64;
    // term1[nij] = nij / N ; log_nnij[nij] = ln(N) + ln(nij)   (index 0 unused)
    let term1: Vec<f64> = (0..=max_ab).map(|k| k.max(1) as f64 / nf).collect();
    let log_nnij: Vec<f64> = (0..=max_ab)
        .map(|k| nf.ln() + (k.max(1) as f64).ln())
        .collect();
    let lg = |k: u64| lf[k as usize];
    let rows: Vec<f64> = a
        .par_iter()
        .map(|&ai| {
            let mut row = 0.0;
            let log_a = (ai as f64).ln();
            for &bj in b {
                let log_b = (bj as f64).ln();
                let start = 1.max((ai + bj).saturating_sub(n));
                let end = ai.min(bj);
                let gln_fixed = lg(ai) + lg(bj) + lg(n - ai) + lg(n - bj) - lg(n);
                for nij in start..=end {
                    let k = nij as usize;
                    let term2 = log_nnij[k] - log_a - log_b;
                    let gln =
                        gln_fixed - lf[k] - lg(ai - nij) - lg(bj - nij) - lg(n + nij - ai - bj);
                    row += term1[k] * term2 * gln.exp();
                }
            }
            row
        })
        .collect();
    rows.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_factorials_match_direct_products() {
        let lf = ln_factorials(170);
        let mut f = 1.0f64;
        for (k, &l) in lf.iter().enumerate().skip(1) {
            f *= k as f64;
            assert!((l - f.ln()).abs() <= 1e-12 * f.ln().max(1.0), "k={k}");
        }
    }

    #[test]
    fn hand_worked_nmi() {
        // truth 0 0 1 1, pred 0 0 0 1: MI = ln2 − ¾·ln(4/3)… checked by hand against the formula
        // H(T) = ln 2, H(P) = −(¾ ln ¾ + ¼ ln ¼), MI = H(T) + H(P) − H(T,P).
        let (t, p) = ([0, 0, 1, 1], [0, 0, 0, 1]);
        let ht = 2f64.ln();
        let hp = -(0.75 * 0.75f64.ln() + 0.25 * 0.25f64.ln());
        let hj = -(0.5 * 0.5f64.ln() + 2.0 * 0.25 * 0.25f64.ln());
        let mi = ht + hp - hj;
        assert!((mutual_info(&t, &p).unwrap() - mi).abs() < 1e-15);
        let want = mi / ((ht + hp) / 2.0);
        assert!((nmi(&t, &p, NmiNorm::Arithmetic).unwrap() - want).abs() < 1e-15);
        assert!((nmi(&t, &p, NmiNorm::Max).unwrap() - mi / ht.max(hp)).abs() < 1e-15);
        assert_eq!(nmi(&[3, 3], &[1, 1], NmiNorm::Min).unwrap(), 1.0);
        assert_eq!(nmi(&[0, 1], &[1, 1], NmiNorm::Min).unwrap(), 0.0);
    }
}
