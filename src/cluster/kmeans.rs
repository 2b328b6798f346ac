//! k-means: Lloyd's algorithm from k-means++ (or random) seeds, with restarts.
use super::kernels::{
    assign_accumulate, check_constraints, check_init, check_k, kmeans_plus_plus, max_abs_shift,
    random_rows, to_usize, total_sq_shift, violations, Points, UNASSIGNED,
};
use super::{ClusterError, Clustering, ConstrainedClusterer, IterStats};
use crate::labels::ConstraintSet;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// How k-means chooses its initial centroids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KMeansInit {
    /// Greedy k-means++ as scikit-learn: each new centre is the best of `2 + ⌊ln k⌋` candidates
    /// drawn with probability proportional to the squared distance to the nearest chosen centre.
    #[default]
    #[serde(rename = "kmeans++", alias = "kmeanspp")]
    KMeansPlusPlus,
    /// `k` distinct data points chosen uniformly at random.
    #[serde(rename = "random")]
    Random,
}

fn default_n_init() -> usize {
    3
}
fn default_max_iter() -> usize {
    300
}
fn default_tol() -> f64 {
    1e-4
}

/// Hyper-parameters of k-means.
///
/// Each restart runs Lloyd iterations until the labels stop changing, the total squared centroid
/// shift `Σ_c ‖Δμ_c‖²` falls to `tol × (mean per-feature variance of the data)` (scikit-learn's
/// rule) or `max_iter` is reached, then assigns every point to its final centroid. The restart
/// with the lowest inertia wins (ties → the earliest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KMeansParams {
    /// Number of clusters (`1 ≤ k ≤ N`).
    pub k: usize,
    /// Independent restarts (each with its own initialisation); default 3.
    #[serde(default = "default_n_init")]
    pub n_init: usize,
    /// Lloyd iterations per restart at most; default 300.
    #[serde(default = "default_max_iter")]
    pub max_iter: usize,
    /// Convergence tolerance relative to the data's mean variance; default 1e-4.
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Initialisation; default k-means++.
    #[serde(default)]
    pub init: KMeansInit,
}

impl KMeansParams {
    /// Defaults for `k` clusters: 3 restarts of k-means++, at most 300 iterations, tol 1e-4.
    pub fn new(k: usize) -> Self {
        KMeansParams {
            k,
            n_init: default_n_init(),
            max_iter: default_max_iter(),
            tol: default_tol(),
            init: KMeansInit::default(),
        }
    }

    /// Sets the number of restarts.
    pub fn with_n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }

    /// Sets the iteration limit.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Sets the relative tolerance.
    pub fn with_tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Sets the initialisation.
    pub fn with_init(mut self, init: KMeansInit) -> Self {
        self.init = init;
        self
    }

    /// Checks the parameters without data (`k ≤ N` is checked by `fit`).
    pub fn validate(&self) -> Result<(), ClusterError> {
        validate_common(self.k, self.max_iter, self.tol)?;
        if self.n_init == 0 {
            return Err(ClusterError::InvalidParam {
                name: "n_init",
                reason: "need at least one initialisation, found 0".into(),
            });
        }
        Ok(())
    }

    /// Runs Lloyd's algorithm once from the given `k × D` initial centroids (no restarts, no
    /// randomness), e.g. to compare with another implementation started from the same centroids.
    /// Constraints are only used to count violations in the result.
    pub fn fit_with_init(
        &self,
        x: ArrayView2<'_, f32>,
        init: ArrayView2<'_, f32>,
        constraints: &ConstraintSet,
    ) -> Result<Clustering, ClusterError> {
        self.validate()?;
        let p = Points::new(x)?;
        check_k(self.k, p.n)?;
        check_constraints(constraints, p.n)?;
        let init = init.as_standard_layout().to_owned();
        check_init(&init, self.k, p.d)?;
        let tol = self.tol * p.mean_variance();
        let out = lloyd(&p, init, 0, self.max_iter, tol);
        Ok(out.into_clustering(constraints))
    }
}

/// Shared checks of `k`, `max_iter` and `tol`.
pub(crate) fn validate_common(k: usize, max_iter: usize, tol: f64) -> Result<(), ClusterError> {
    if k == 0 {
        return Err(ClusterError::InvalidParam {
            name: "k",
            reason: "need at least one cluster, found k = 0".into(),
        });
    }
    if max_iter == 0 {
        return Err(ClusterError::InvalidParam {
            name: "max_iter",
            reason: "need at least one iteration, found 0".into(),
        });
    }
    if !(tol.is_finite() && tol >= 0.0) {
        return Err(ClusterError::InvalidParam {
            name: "tol",
            reason: format!("expected a finite number ≥ 0, found {tol}"),
        });
    }
    Ok(())
}

/// The outcome of one Lloyd run.
pub(crate) struct LloydOut {
    pub labels: Vec<u32>,
    pub centroids: Array2<f32>,
    pub inertia: f64,
    pub n_iter: usize,
    pub history: Vec<IterStats>,
    pub repaired: usize,
}

impl LloydOut {
    pub fn into_clustering(self, constraints: &ConstraintSet) -> Clustering {
        let (vm, vc) = violations(constraints, &self.labels);
        Clustering {
            assignments: to_usize(&self.labels),
            centroids: self.centroids,
            objective: self.inertia,
            n_iter: self.n_iter,
            empty_clusters_repaired: self.repaired,
            violated_must_links: vm,
            violated_cannot_links: vc,
            history: self.history,
        }
    }
}

/// Lloyd iterations from `init` (`k × D`): assign + accumulate in one parallel pass, update the
/// means, repair empty clusters; stop when no label changed, when `Σ‖Δμ‖² ≤ tol_abs`, or after
/// `max_iter` iterations; then a final assignment to the final centroids gives the labels and the
/// inertia (as scikit-learn).
/// Lloyd's algorithm from `init`; the first `fixed` centroids stay where they are (they still take
/// their nearest points), the others move to their clusters' means.
pub(crate) fn lloyd(
    p: &Points,
    init: Array2<f32>,
    fixed: usize,
    max_iter: usize,
    tol_abs: f64,
) -> LloydOut {
    let mut mu = init;
    let mut labels = vec![UNASSIGNED; p.n];
    let mut history = Vec::new();
    let mut repaired = 0;
    let mut n_iter = 0;
    for it in 0..max_iter {
        let acc = assign_accumulate(p, &mu, &mut labels, None);
        let distance = acc.distance_to(&mu);
        let mut new = acc.means(&mu);
        repaired += acc.repair_empty(&mut new);
        for r in 0..fixed.min(new.nrows()) {
            new.row_mut(r).assign(&mu.row(r));
        }
        let shift_sq = total_sq_shift(&new, &mu);
        history.push(IterStats {
            distance,
            must_link_penalty: 0.0,
            cannot_link_penalty: 0.0,
            max_shift: max_abs_shift(&new, &mu),
        });
        log::debug!(
            "k-means iteration {it}: inertia {distance:.6e}, {} labels changed, shift² {shift_sq:.3e}, {} exact fallbacks",
            acc.changed,
            acc.refined
        );
        mu = new;
        n_iter = it + 1;
        if acc.changed == 0 || shift_sq <= tol_abs {
            break;
        }
    }
    let acc = assign_accumulate(p, &mu, &mut labels, None);
    let inertia = acc.distance_to(&mu);
    LloydOut {
        labels,
        centroids: mu,
        inertia,
        n_iter,
        history,
        repaired,
    }
}

impl ConstrainedClusterer for KMeansParams {
    /// Plain k-means: `constraints` only serve to count violations in the result (they must still
    /// refer to the rows of `x`). Initialisation `r` draws from the stream `kmeans/init/{r}`.
    fn fit(
        &self,
        x: ArrayView2<'_, f32>,
        constraints: &ConstraintSet,
        seed: u64,
    ) -> Result<Clustering, ClusterError> {
        self.validate()?;
        let p = Points::new(x)?;
        check_k(self.k, p.n)?;
        check_constraints(constraints, p.n)?;
        Ok(self.best_of_restarts(&p, seed).into_clustering(constraints))
    }
}

impl KMeansParams {
    /// The best (lowest-inertia) of `n_init` Lloyd runs, restart `r` seeded from the stream
    /// `kmeans/init/{r}`. Parameters must have been validated.
    pub(crate) fn best_of_restarts(&self, p: &Points, seed: u64) -> LloydOut {
        self.best_of_restarts_around(p, &Array2::zeros((0, p.d)), seed)
    }

    /// As [`Self::best_of_restarts`], with the `m × D` centroids `fixed` (`m < k`) held in place as
    /// the first `m`: each restart draws the other `k − m` (k-means++ weighs by the distance to
    /// the fixed ones too) and only those move. With no fixed rows this is plain k-means.
    pub(crate) fn best_of_restarts_around(
        &self,
        p: &Points,
        fixed: &Array2<f32>,
        seed: u64,
    ) -> LloydOut {
        let m = fixed.nrows();
        let tol = self.tol * p.mean_variance();
        let mut best: Option<LloydOut> = None;
        for r in 0..self.n_init {
            let mut rng = crate::seed::rng(seed, &format!("kmeans/init/{r}"));
            let init = match self.init {
                KMeansInit::KMeansPlusPlus => kmeans_plus_plus(p, self.k, fixed, &mut rng),
                KMeansInit::Random => {
                    let drawn = random_rows(p, self.k - m, &mut rng);
                    ndarray::concatenate(ndarray::Axis(0), &[fixed.view(), drawn.view()])
                        .expect("same width")
                }
            };
            let out = lloyd(p, init, m, self.max_iter, tol);
            log::debug!("k-means restart {r}: inertia {:.6e}", out.inertia);
            if best.as_ref().is_none_or(|b| out.inertia < b.inertia) {
                best = Some(out);
            }
        }
        best.expect("n_init ≥ 1")
    }
}
