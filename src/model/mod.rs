//! The CNN and its training, on libtorch through `tch`. The only module that touches libtorch:
//! no `tch` type appears in its public API. The configuration types ([`ModelConfig`], [`Arch`],
//! [`ModelError`]) are always available; the network itself needs the `torch` feature.
//!
//! * [`Images`] — a dataset's images as one normalised tensor, built once.
//! * [`Network`] — the original DeepCluster MNIST network ([`Arch::Paper`], 11,706 parameters
//!   with k = 10) or a wider variant ([`Arch::Wide`]); feature extraction, a training epoch on
//!   pseudo-labels, head reset, checkpoints.
//! * [`ModelConfig`] — validated hyper-parameters; `Default` is the original's setting.
//!
//! Randomness: initialisation, head resets, dropout masks and augmentation (shifts, rotation/scale warps) are drawn from
//! [`crate::seed::rng`] streams of the `seed` passed to [`Network::new`], [`Network::reset_head`]
//! and [`Network::train_epoch`] — never from libtorch's generator, which is one global object
//! shared by every thread of the process (concurrent runs would perturb each other). So results
//! are reproducible, and a run resumed from a checkpoint continues bit for bit.
//! Optimisers are plain SGD written on tensors (`sgd.rs`) so that the momentum buffers go into
//! checkpoints.
mod config;
mod error;
#[cfg(feature = "torch")]
mod images;
#[cfg(feature = "torch")]
mod network;
#[cfg(feature = "torch")]
mod sgd;

pub use config::{Arch, HeadInit, ModelConfig};
pub use error::ModelError;
#[cfg(feature = "torch")]
pub use images::Images;
#[cfg(feature = "torch")]
pub use network::{Network, TrainStats, INPUT_SIDE};

use serde::{Deserialize, Serialize};

/// The libtorch release tch 0.26 is built against (and `scripts/setup-libtorch.sh` installs).
pub const LIBTORCH_VERSION: &str = "2.13.0";

/// Where tensors live and computations run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComputeDevice {
    /// The CPU (libtorch's intra-op thread pool, see [`set_threads`]).
    Cpu,
    /// A CUDA GPU, by ordinal.
    Cuda(usize),
}

impl std::fmt::Display for ComputeDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComputeDevice::Cpu => write!(f, "cpu"),
            ComputeDevice::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

/// The device the model uses: the CPU, or with feature `cuda` the first GPU when one is present.
#[cfg(feature = "torch")]
pub fn device() -> ComputeDevice {
    match tch_device() {
        tch::Device::Cuda(i) => ComputeDevice::Cuda(i),
        _ => ComputeDevice::Cpu,
    }
}

#[cfg(feature = "torch")]
pub(crate) fn tch_device() -> tch::Device {
    #[cfg(feature = "cuda")]
    {
        tch::Device::cuda_if_available()
    }
    #[cfg(not(feature = "cuda"))]
    {
        tch::Device::Cpu
    }
}

/// Sets libtorch's intra-op thread count (its default is the number of cores). 0 is ignored.
///
/// libtorch's OpenMP threads spin while they wait. On a machine busy with other work (more
/// runnable threads than cores) two threads were measured 3–7× *slower* than one for this small
/// network; use 1 there, or start the process with `OMP_WAIT_POLICY=passive`.
#[cfg(feature = "torch")]
pub fn set_threads(n: usize) {
    if n > 0 {
        tch::set_num_threads(n.min(i32::MAX as usize) as i32);
    }
}

/// libtorch's current intra-op thread count.
#[cfg(feature = "torch")]
pub fn threads() -> usize {
    tch::get_num_threads().max(1) as usize
}

/// A one-line description of the backend, e.g. `tch 0.26.0 / libtorch 2.13.0 (cpu)`.
#[cfg(feature = "torch")]
pub fn backend() -> String {
    format!("tch 0.26.0 / libtorch {LIBTORCH_VERSION} ({})", device())
}
