//! # deepclust
//!
//! Semi-supervised deep clustering for research: a CNN trained on the (constrained) cluster
//! assignments of its own features — **DeepCluster** — where the clustering step can use pairwise
//! constraints derived from a sparse, possibly noisy subset of labels — **PCK-means** and friends.
//!
//! The crate is organised as the pipeline is:
//!
//! | module | what lives there |
//! |---|---|
//! | [`data`] | datasets, IDX and NPY readers/writers, the dataset registry and verified downloads |
//! | [`labels`] | label scenarios (sparsity, noise, class coverage, granularity, schedules) → [`labels::ConstraintSet`] |
//! | [`cluster`] | k-means, PCK-means, COP-k-means, seeded k-means, PCA/whitening/L2 preprocessing |
//! | [`metrics`] | NMI, ARI, AMI, accuracy (Hungarian), silhouette, Davies–Bouldin, confusion matrix |
//! | [`model`] | the CNN and its training on libtorch via `tch` (the network needs feature `torch`, on by default) |
//! | [`pipeline`] | run configs and the DeepCluster loop: extract → preprocess → cluster → train, checkpointed (running needs `torch`) |
//! | [`viz`] | plots and t-SNE |
//! | [`experiment`] | run configs, presets, grids, reports |
//!
//! Everything except `model` is plain Rust on `ndarray` and slices, parallel with `rayon`, and
//! deterministic for a given seed (see [`seed`]).
#![warn(missing_docs)]

pub mod cluster;
pub mod data;
pub mod experiment;
pub mod labels;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod seed;
pub mod viz;

/// The crate version, recorded in every run's saved config.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
