//! Seeded k-means (Basu, Banerjee & Mooney 2002): the labelled points only seed the centroids.
use super::kernels::{check_constraints, check_k, component_means, kmeans_plus_plus, Points};
use super::kmeans::{lloyd, validate_common};
use super::{ClusterError, Clustering, ConstrainedClusterer};
use crate::labels::ConstraintSet;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

fn default_max_iter() -> usize {
    300
}
fn default_tol() -> f64 {
    1e-4
}

/// Hyper-parameters of seeded k-means.
///
/// The initial centroids are the means of the `k` largest must-link components (with constraints
/// made from labels: the labelled class means), topped up with k-means++ seeding (stream
/// `seeded/init`) when there are fewer than `k`; then plain Lloyd iterations as
/// [`super::KMeansParams`] (same stopping rule), ignoring the constraints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeededKMeansParams {
    /// Number of clusters (`1 ≤ k ≤ N`).
    pub k: usize,
    /// Lloyd iterations at most; default 300.
    #[serde(default = "default_max_iter")]
    pub max_iter: usize,
    /// Convergence tolerance relative to the data's mean variance; default 1e-4.
    #[serde(default = "default_tol")]
    pub tol: f64,
}

impl SeededKMeansParams {
    /// Defaults for `k` clusters: at most 300 iterations, tol 1e-4.
    pub fn new(k: usize) -> Self {
        SeededKMeansParams {
            k,
            max_iter: default_max_iter(),
            tol: default_tol(),
        }
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

    /// Checks the parameters without data.
    pub fn validate(&self) -> Result<(), ClusterError> {
        validate_common(self.k, self.max_iter, self.tol)
    }
}

impl ConstrainedClusterer for SeededKMeansParams {
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
        let preset = component_means(&p, &constraints.must_link_components(false), self.k);
        let mut rng = crate::seed::rng(seed, "seeded/init");
        let init = kmeans_plus_plus(&p, self.k, &preset, &mut rng);
        let out = lloyd(&p, init, 0, self.max_iter, self.tol * p.mean_variance());
        Ok(out.into_clustering(constraints))
    }
}
