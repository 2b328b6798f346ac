//! Clustering algorithms on `f32` feature matrices (`N × D`, one row per point).
//!
//! Every algorithm follows the same shape, after linfa: a validated hyper-parameter struct
//! (`KMeansParams`, `PckMeansParams`, …) separate from the algorithm, a [`Clustering`] result, and
//! one error type [`ClusterError`]. All of them implement [`ConstrainedClusterer`], which is what the
//! DeepCluster pipeline calls; an unconstrained algorithm simply ignores the constraints.
//!
//! | algorithm | params | constraints |
//! |---|---|---|
//! | k-means (Lloyd, k-means++ restarts) | [`KMeansParams`] | ignored |
//! | PCK-means (Basu, Banerjee & Mooney 2004) | [`PckMeansParams`] | soft, weighted penalties |
//! | COP-k-means (Wagstaff et al. 2001) | [`CopKMeansParams`] | hard |
//! | seeded k-means (Basu et al. 2002) | [`SeededKMeansParams`] | initialisation only |
//!
//! [`Algorithm`] holds any of them in a run config (`algo = "kmeans" | "pckmeans" | "copkmeans" |
//! "seeded"`) and dispatches. Feature preprocessing (PCA/whitening, L2 rows, finiteness checks) is
//! in [`preprocess`].
//!
//! ## Numerics shared by all algorithms
//! - Data are `f32`; centroids are means accumulated in `f64` and stored as `f32`.
//! - **Assignment** is the exact argmin of the squared Euclidean distance computed in `f64`
//!   (`Σ_d (x_d − μ_d)²`, ties → lowest cluster id). The fast path computes
//!   `‖μ‖² − 2x·μ` for a block of rows with one `f32` matrix product and only falls back to the
//!   `f64` distances for a row whose two best candidates are closer than a proven bound on the
//!   `f32` rounding error, so its result equals the plain `f64` loop (tested).
//! - Parallel work is split into row groups that depend only on `N`, and partial sums are reduced
//!   in group order: results are bit-identical for any number of rayon threads.
//! - An empty cluster is repaired by splitting the largest cluster as faiss does: its centroid is
//!   copied and both copies are moved apart by ±(|μ_d| + σ)/1024 per coordinate with alternating
//!   signs (σ = the cluster's RMS spread per coordinate). Repairs are counted in
//!   [`Clustering::empty_clusters_repaired`]; a cluster that empties in the very last assignment
//!   stays empty in the returned assignments.
//!
//! To add an algorithm: write `src/cluster/<name>.rs` with its params struct and `impl
//! ConstrainedClusterer`, then add a variant to [`Algorithm`] so runs and the CLI can select it.
use crate::labels::ConstraintSet;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use thiserror::Error;

mod copkmeans;
mod kernels;
mod kmeans;
mod pckmeans;
pub mod preprocess;
mod seeded;

pub use copkmeans::{CopKMeansInit, CopKMeansParams};
pub use kmeans::{KMeansInit, KMeansParams};
pub use pckmeans::{paper_weight, PckMeansInit, PckMeansParams, TopUp};
pub use preprocess::{check_finite, l2_normalize_rows, Pca, PcaModel, Preprocess, PreprocessError};
pub use seeded::SeededKMeansParams;

/// What went wrong in a clustering call.
#[derive(Debug, Error)]
pub enum ClusterError {
    /// A hyper-parameter is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParam {
        /// The parameter's name as in configs and the CLI.
        name: &'static str,
        /// What was expected and what was found.
        reason: String,
    },
    /// The data cannot be clustered as asked (too few points, NaN, zero rows, …).
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// The constraints refer to points that do not exist, or are inconsistent with the data.
    #[error("invalid constraints: {0}")]
    InvalidConstraints(String),
    /// Hard constraints (COP-k-means) cannot be satisfied.
    #[error("infeasible: {0}")]
    Infeasible(String),
}

/// Statistics of one iteration, for convergence plots and debugging.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IterStats {
    /// `Σᵢ ‖xᵢ − μ_{lᵢ}‖²` of this iteration's assignment against the centroids it was made with
    /// (the centroids *before* this iteration's update), without PCK-means' ½.
    pub distance: f64,
    /// Total must-link penalty (weight × violated must-links).
    pub must_link_penalty: f64,
    /// Total cannot-link penalty (weight × violated cannot-links).
    pub cannot_link_penalty: f64,
    /// Largest absolute change of any centroid coordinate in this iteration's update.
    pub max_shift: f64,
}

/// The result of a clustering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Cluster of each point, in `0..k`.
    pub assignments: Vec<usize>,
    /// `k × D` centroids.
    pub centroids: Array2<f32>,
    /// Final objective of the returned assignments and centroids. k-means and seeded k-means: the
    /// inertia `Σᵢ ‖xᵢ − μ_{lᵢ}‖²`. PCK-means: eq. (1) of the paper, `½ Σᵢ ‖xᵢ − μ_{lᵢ}‖² +
    /// w·#violated must-links + w̄·#violated cannot-links`. COP-k-means: the inertia (it has no
    /// violations).
    pub objective: f64,
    /// Iterations run (of the best restart).
    pub n_iter: usize,
    /// Empty clusters repaired along the way.
    pub empty_clusters_repaired: usize,
    /// Violated must-links in the final assignment.
    pub violated_must_links: usize,
    /// Violated cannot-links in the final assignment.
    pub violated_cannot_links: usize,
    /// Objective terms per iteration (of the best restart).
    pub history: Vec<IterStats>,
}

/// A clustering algorithm that may use pairwise constraints.
pub trait ConstrainedClusterer {
    /// Clusters the rows of `x`; `seed` drives every random choice.
    fn fit(
        &self,
        x: ArrayView2<'_, f32>,
        constraints: &ConstraintSet,
        seed: u64,
    ) -> Result<Clustering, ClusterError>;
}

/// Any of the clustering algorithms, as held in a run config (TOML/JSON) and selected on the CLI.
///
/// Tagged by `algo`, the remaining keys are the algorithm's parameters, e.g.
/// `{ algo = "pckmeans", k = 10, max_iter = 5 }`; parameters left out take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algo")]
pub enum Algorithm {
    /// Plain k-means.
    #[serde(rename = "kmeans")]
    KMeans(KMeansParams),
    /// PCK-means: soft pairwise constraints.
    #[serde(rename = "pckmeans")]
    PckMeans(PckMeansParams),
    /// COP-k-means: hard pairwise constraints.
    #[serde(rename = "copkmeans")]
    CopKMeans(CopKMeansParams),
    /// Seeded k-means: must-link components seed the centroids.
    #[serde(rename = "seeded")]
    Seeded(SeededKMeansParams),
}

impl Algorithm {
    /// The config/CLI name of the algorithm (`"kmeans"`, `"pckmeans"`, `"copkmeans"`, `"seeded"`).
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::KMeans(_) => "kmeans",
            Algorithm::PckMeans(_) => "pckmeans",
            Algorithm::CopKMeans(_) => "copkmeans",
            Algorithm::Seeded(_) => "seeded",
        }
    }

    /// The algorithm called `name` (as in configs and `--algo`) with its default parameters
    /// (its `new(k)`) for `k` clusters; `None` for an unknown name.
    pub fn defaults(name: &str, k: usize) -> Option<Self> {
        Some(match name {
            "kmeans" => Algorithm::KMeans(KMeansParams::new(k)),
            "pckmeans" => Algorithm::PckMeans(PckMeansParams::new(k)),
            "copkmeans" => Algorithm::CopKMeans(CopKMeansParams::new(k)),
            "seeded" => Algorithm::Seeded(SeededKMeansParams::new(k)),
            _ => return None,
        })
    }

    /// The number of clusters asked for.
    pub fn k(&self) -> usize {
        match self {
            Algorithm::KMeans(p) => p.k,
            Algorithm::PckMeans(p) => p.k,
            Algorithm::CopKMeans(p) => p.k,
            Algorithm::Seeded(p) => p.k,
        }
    }

    /// Checks the parameters without data.
    pub fn validate(&self) -> Result<(), ClusterError> {
        match self {
            Algorithm::KMeans(p) => p.validate(),
            Algorithm::PckMeans(p) => p.validate(),
            Algorithm::CopKMeans(p) => p.validate(),
            Algorithm::Seeded(p) => p.validate(),
        }
    }
}

impl ConstrainedClusterer for Algorithm {
    fn fit(
        &self,
        x: ArrayView2<'_, f32>,
        constraints: &ConstraintSet,
        seed: u64,
    ) -> Result<Clustering, ClusterError> {
        match self {
            Algorithm::KMeans(p) => p.fit(x, constraints, seed),
            Algorithm::PckMeans(p) => p.fit(x, constraints, seed),
            Algorithm::CopKMeans(p) => p.fit(x, constraints, seed),
            Algorithm::Seeded(p) => p.fit(x, constraints, seed),
        }
    }
}

/// The nearest centroid (squared Euclidean, ties → lowest id) of every row of `x`: how new points
/// (e.g. a test split) are assigned to a finished clustering.
pub fn predict_nearest(
    x: ArrayView2<'_, f32>,
    centroids: ArrayView2<'_, f32>,
) -> Result<Vec<usize>, ClusterError> {
    if x.ncols() != centroids.ncols() {
        return Err(ClusterError::InvalidData(format!(
            "points have {} columns but the centroids have {}",
            x.ncols(),
            centroids.ncols()
        )));
    }
    let p = kernels::Points::new(x)?;
    let mu = centroids.as_standard_layout().into_owned();
    let mut labels = vec![0u32; p.n];
    kernels::assign_nearest(&p, &mu, &mut labels);
    Ok(labels.into_iter().map(|l| l as usize).collect())
}

#[cfg(test)]
mod tests;
