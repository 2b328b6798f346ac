//! The run directory: what a run writes, where, and how it survives being killed.
//!
//! ```text
//! runs/NAME/
//!   config.toml              the fully resolved config (every default written out) + [meta]
//!   metrics.jsonl            one line per evaluated clustering (epoch 0 … epochs; the last is "final")
//!   assignments/epoch-NNN.npy
//!   features-final.npy       the network's 64-d features after the last epoch (pre-ReLU; post-ReLU with model.feature_relu)
//!   embedding-final.npy      the same after preprocessing (what was clustered)
//!   labels-final.npy         the final cluster of every image
//!   truth.npy                the true class of every image (for reports and t-SNE maps)
//!   checkpoint/              model + optimiser state and `state.json`, rewritten atomically every epoch
//!   summary.json             written last: its presence means the run finished
//!   error.txt                written when a run fails (experiments record it and go on)
//! ```
//!
//! Every file is written to a temporary name in the same folder and renamed into place, so a killed
//! run never leaves a half-written file that looks complete.
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What went wrong with the run directory.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file exists but does not parse.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunDirError + '_ {
    move |source| RunDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, fsync, rename).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), RunDirError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err(dir))?;
    tmp.write_all(bytes).map_err(io_err(path))?;
    tmp.as_file().sync_all().map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| RunDirError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), RunDirError> {
    let mut s = serde_json::to_string_pretty(value).map_err(|e| RunDirError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    s.push('\n');
    atomic_write(path, s.as_bytes())
}

/// Reads JSON written by [`write_json`].
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, RunDirError> {
    let s = std::fs::read_to_string(path).map_err(io_err(path))?;
    serde_json::from_str(&s).map_err(|e| RunDirError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Where a run keeps its files.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

/// Progress recorded in `checkpoint/state.json` after each finished training epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Training epochs finished (the next epoch to run).
    pub epochs_done: usize,
    /// Lines of `metrics.jsonl` that belong to those epochs.
    pub metrics_lines: usize,
    /// Wall time spent so far, in seconds (summed over resumptions).
    pub seconds: f64,
}

impl RunDir {
    /// A run directory at `root` (not created yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunDir { root: root.into() }
    }
    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `config.toml`.
    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    /// `metrics.jsonl`.
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }
    /// `summary.json`.
    pub fn summary(&self) -> PathBuf {
        self.root.join("summary.json")
    }
    /// `error.txt`.
    pub fn error(&self) -> PathBuf {
        self.root.join("error.txt")
    }
    /// `assignments/epoch-NNN.npy`.
    pub fn assignments(&self, epoch: usize) -> PathBuf {
        self.root
            .join("assignments")
            .join(format!("epoch-{epoch:03}.npy"))
    }
    /// A file in the run folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
    /// The checkpoint folder.
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.root.join("checkpoint")
    }
    /// `checkpoint/state.json`.
    pub fn checkpoint_state(&self) -> PathBuf {
        self.checkpoint_dir().join("state.json")
    }
    /// True when the run finished (its summary exists).
    pub fn is_finished(&self) -> bool {
        self.summary().is_file()
    }
    /// The checkpoint state, if a checkpoint exists.
    pub fn read_checkpoint(&self) -> Result<Option<CheckpointState>, RunDirError> {
        let p = self.checkpoint_state();
        if !p.is_file() {
            return Ok(None);
        }
        read_json(&p).map(Some)
    }

    /// Reads the first `lines` lines of `metrics.jsonl` (all when `None`).
    pub fn read_metrics_lines(&self, lines: Option<usize>) -> Result<Vec<String>, RunDirError> {
        let p = self.metrics();
        if !p.is_file() {
            return Ok(Vec::new());
        }
        let s = std::fs::read_to_string(&p).map_err(io_err(&p))?;
        let it = s.lines().filter(|l| !l.trim().is_empty()).map(String::from);
        Ok(match lines {
            Some(n) => it.take(n).collect(),
            None => it.collect(),
        })
    }

    /// Rewrites `metrics.jsonl` atomically with `lines` (one JSON object each).
    pub fn write_metrics_lines(&self, lines: &[String]) -> Result<(), RunDirError> {
        let mut s = String::new();
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        atomic_write(&self.metrics(), s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporaries() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/x.json");
        write_json(&p, &vec![1, 2]).unwrap();
        write_json(&p, &vec![3]).unwrap();
        assert_eq!(read_json::<Vec<i32>>(&p).unwrap(), vec![3]);
        let names: Vec<_> = std::fs::read_dir(d.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn metrics_lines_round_trip_and_truncate() {
        let d = tempfile::tempdir().unwrap();
        let r = RunDir::new(d.path());
        r.write_metrics_lines(&["{\"a\":1}".into(), "{\"a\":2}".into()])
            .unwrap();
        assert_eq!(r.read_metrics_lines(Some(1)).unwrap(), vec!["{\"a\":1}"]);
        assert_eq!(r.read_metrics_lines(None).unwrap().len(), 2);
        assert!(r.read_checkpoint().unwrap().is_none());
        assert!(!r.is_finished());
    }
}
