//! Datasets: IDX and NPY files, the registry of named datasets, verified downloads.
//!
//! * [`load`] reads a split of a registered dataset ([`registry::lookup`]: `mnist`,
//!   `fashion-mnist`, `mnist-mini`) from a data folder laid out as `<data_dir>/<name>/<file>[.gz]`
//!   into a [`Dataset`]; [`load_features`] reads `.npy` feature matrices and labels.
//! * [`fetch`] downloads (or imports) a dataset into the data folder, checking SHA-256s of the
//!   uncompressed bytes as it streams; [`verify`] re-checks them.
//! * [`idx`] and [`npy`] are the file formats, with readers and writers.
//! * [`fixture_dir`] is the repository's `fixtures/` folder, holding `mnist-mini` (2,000 + 500
//!   class-balanced MNIST images) for tests.
//!
//! Every failure is a [`DataError`] naming the file, what was expected and what was found.
mod atomic;
mod dataset;
mod error;
mod fetch;
pub mod idx;
pub mod npy;
pub mod registry;

pub use dataset::{
    default_data_dir, labels_in_range, load, load_features, load_spec, Dataset, Split,
};
pub use error::{Attempt, DataError};
pub use fetch::{
    fetch, sha256_uncompressed, verify, FetchOptions, FetchOutcome, FetchReport, FetchedFile,
    FileState, FileStatus,
};
pub use registry::{DatasetSpec, FileKind, FileSpec};

use std::path::PathBuf;

/// The repository's `fixtures/` folder (from `CARGO_MANIFEST_DIR` at build time), which holds
/// `mnist-mini/` in the data-folder layout: `load("mnist-mini", split, &fixture_dir())` works.
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}
