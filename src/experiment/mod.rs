//! Experiments: grids of runs described by a TOML file, run (resumably, in parallel, recording
//! failures) and turned into a report with tables and figures.
//!
//! ```text
//! experiments/paper.toml ──ExperimentSpec──▶ plan(): one PlannedRun per study × condition × seed
//!                                              │  run_experiment() (feature `torch`): skip finished,
//!                                              ▼  resume unfinished, record failures in error.txt
//!                         runs/NAME/<study>/<condition>/seed-<s>/   (each a pipeline RunDir)
//!                                              │  report()
//!                                              ▼
//!                         runs/NAME/REPORT.md, results.csv, figures/*.png|svg
//! ```
//!
//! Built-in experiments (`paper`, `paper-fixed`, `smoke`) are the files in `experiments/`,
//! compiled in; `deepclust experiment show NAME` prints one to copy and edit.
mod plan;
mod report;
#[cfg(feature = "torch")]
mod runner;
mod spec;

pub use plan::{config_drift, plan, run_status, PlannedRun, RunStatus};
pub use report::{report, ReportOptions, ReportOutcome};
#[cfg(feature = "torch")]
pub use runner::{run_experiment, ExperimentOptions, Outcome};
pub use spec::{
    apply_values, slugify, value_text, CompareEpoch, Condition, ExperimentSpec, PaperValue, Study,
    Variant, PRESETS,
};

use std::path::PathBuf;

/// What went wrong with an experiment.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The experiment file does not parse or does not fit the schema.
    #[error("{origin}: {message}")]
    Parse {
        /// Where the text came from.
        origin: String,
        /// What is wrong (with a suggestion for a misspelt key).
        message: String,
    },
    /// A run config built from the grid is not valid.
    #[error("{0}")]
    Config(String),
    /// An unknown built-in experiment.
    #[error("unknown experiment `{name}` (built in: {known}; or give a .toml file)")]
    UnknownPreset {
        /// The name given.
        name: String,
        /// The built-in names.
        known: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The folder holds no experiment.
    #[error("{0}: no experiment here (experiment.toml is missing); run `deepclust experiment run` first")]
    NotAnExperiment(PathBuf),
    /// A figure could not be drawn.
    #[error("figure {path}: {message}")]
    Figure {
        /// The figure.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

impl ExperimentError {
    pub(crate) fn io(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        ExperimentError::Io {
            path: path.into(),
            message: e.to_string(),
        }
    }
}

/// The file in an experiment folder that records the spec the runs were made from.
pub const SPEC_FILE: &str = "experiment.toml";
