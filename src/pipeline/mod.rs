//! The DeepCluster loop: extract features → preprocess → cluster (with the epoch's constraints) →
//! train the network on the pseudo-labels; checkpointed every epoch and resumable.
//!
//! [`RunConfig`] (always available) says what a run does; [`run`] (feature `torch`) does it and
//! writes a [`RunDir`].
mod config;
mod record;
#[cfg(feature = "torch")]
mod run;
mod rundir;
mod sampler;

pub(crate) use config::suggest_key;
pub use config::{
    ConfigError, DataConfig, EvalConfig, LrSchedule, RunConfig, SilhouetteMode, TrainConfig,
};
pub use record::{EpochRecord, PhaseSeconds, Summary, TestMetrics};
#[cfg(feature = "torch")]
pub use run::{run, PipelineError, RunOptions};
pub use rundir::{atomic_write, read_json, write_json, CheckpointState, RunDir, RunDirError};
pub use sampler::Sampler;
