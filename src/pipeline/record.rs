//! What a run reports: one [`EpochRecord`] per clustering (a line of `metrics.jsonl`) and a
//! [`Summary`] at the end.
use crate::labels::ConstraintStats;
use serde::{Deserialize, Serialize};

/// Wall time of each phase of an epoch, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseSeconds {
    /// Feature extraction.
    pub extract: f64,
    /// PCA / whitening / L2.
    pub preprocess: f64,
    /// Revealing labels and building constraints.
    pub constraints: f64,
    /// Clustering.
    pub cluster: f64,
    /// Metrics.
    pub metrics: f64,
    /// Training (zero for the final clustering).
    pub train: f64,
}

/// Metrics on the held-out test split (features of the trained network, nearest final centroid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestMetrics {
    /// Test images.
    pub n: usize,
    /// NMI against the test labels.
    pub nmi: f64,
    /// ARI against the test labels.
    pub ari: f64,
    /// Accuracy after Hungarian matching.
    pub acc: f64,
}

/// The clustering made at the start of an epoch (or after the last one: `final`), measured
/// against the true labels. One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch index (0-based); the final clustering has `epoch == epochs`.
    pub epoch: usize,
    /// True for the clustering after the last training epoch.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Labelled fraction in force this epoch.
    pub labelled_fraction: f64,
    /// Statistics of the constraints used (absent without labels).
    pub constraints: Option<ConstraintStats>,
    /// Normalised mutual information with the true labels (arithmetic).
    pub nmi: f64,
    /// Adjusted Rand index.
    pub ari: f64,
    /// Accuracy after Hungarian matching.
    pub acc: f64,
    /// NMI with the previous epoch's assignment (DeepCluster's stability measure).
    pub nmi_prev: Option<f64>,
    /// Silhouette of the clustered (preprocessed) features.
    pub silhouette: Option<f64>,
    /// Silhouette of the raw network features (the paper's "silhouette").
    pub silhouette_raw: Option<f64>,
    /// Davies–Bouldin index of the raw features.
    pub davies_bouldin: Option<f64>,
    /// Clustering objective.
    pub objective: f64,
    /// Clustering iterations.
    pub cluster_iterations: usize,
    /// Violated must-links.
    pub violated_must_links: usize,
    /// Violated cannot-links.
    pub violated_cannot_links: usize,
    /// Empty clusters repaired.
    pub empty_clusters_repaired: usize,
    /// Points per cluster.
    pub cluster_sizes: Vec<usize>,
    /// Mean training loss of the epoch that followed (absent for the final clustering).
    pub train_loss: Option<f64>,
    /// Training accuracy against the pseudo-labels.
    pub train_accuracy: Option<f64>,
    /// Test-split metrics (final clustering only, when enabled).
    pub test: Option<TestMetrics>,
    /// Time per phase.
    pub seconds: PhaseSeconds,
}

/// `summary.json`: written last, so its presence means the run finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// deepclust version.
    pub version: String,
    /// Backend that trained the network.
    pub backend: String,
    /// Trainable parameters of the network.
    pub n_params: usize,
    /// Training images.
    pub n_images: usize,
    /// Training epochs.
    pub epochs: usize,
    /// The final clustering.
    #[serde(rename = "final")]
    pub final_record: EpochRecord,
    /// Wall time of the whole run, summed over resumptions.
    pub seconds: f64,
}
