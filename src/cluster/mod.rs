//! Clustering algorithms on `f32` feature matrices (`N × D`, one row per point).
//!
//! Every algorithm follows the same shape, after linfa: a validated hyper-parameter struct
//! (`KMeansParams`, `PckMeansParams`, …) separate from the algorithm, a [`Clustering`] result, and
//! one error type [`ClusterError`]. All of them implement [`ConstrainedClusterer`], which is what the
//! DeepCluster pipeline calls; an unconstrained algorithm simply ignores the constraints.
//!
//! To add an algorithm: write `src/cluster/<name>.rs` with its params struct and `impl
//! ConstrainedClusterer`, then add a variant to [`crate::experiment::AlgorithmConfig`] so runs and
//! the CLI can select it.
use crate::labels::ConstraintSet;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use thiserror::Error;

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
    /// Sum of squared distances of points to their centroids (k-means inertia, without the ½).
    pub distance: f64,
    /// Total must-link penalty (weight × violated must-links).
    pub must_link_penalty: f64,
    /// Total cannot-link penalty (weight × violated cannot-links).
    pub cannot_link_penalty: f64,
    /// Largest absolute change of any centroid coordinate.
    pub max_shift: f64,
}

/// The result of a clustering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Cluster of each point, in `0..k`.
    pub assignments: Vec<usize>,
    /// `k × D` centroids.
    pub centroids: Array2<f32>,
    /// Final objective: distance term plus penalties (equal to the inertia for k-means).
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
