//! The model module's error type.
use std::path::PathBuf;

/// Everything that can go wrong in [`crate::model`]. Messages name the field, file or argument, what
/// was expected and what was found.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A [`crate::model::ModelConfig`] field is out of range.
    #[error("model config: `{field}` must be {expected}, found {found}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// What the field must be.
        expected: &'static str,
        /// The value found.
        found: String,
    },
    /// A call argument (images, targets, visiting order, cluster count) is unusable.
    #[error("{argument}: expected {expected}, found {found}")]
    InvalidArgument {
        /// The argument's name, e.g. `images` or `targets[17]`.
        argument: String,
        /// What it must be.
        expected: String,
        /// What was passed.
        found: String,
    },
    /// A checkpoint file cannot be used with this network.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done (`writing checkpoint`, …).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// libtorch reported an error (out of memory, an unsupported device, …).
    #[error("libtorch failed while {context}: {message}")]
    Torch {
        /// What the model was doing.
        context: &'static str,
        /// libtorch's message.
        message: String,
    },
}

impl ModelError {
    #[cfg(feature = "torch")]
    pub(crate) fn torch(context: &'static str) -> impl FnOnce(tch::TchError) -> ModelError {
        move |e| ModelError::Torch {
            context,
            message: e.to_string(),
        }
    }

    #[cfg_attr(not(feature = "torch"), allow(dead_code))]
    pub(crate) fn arg(
        argument: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> ModelError {
        ModelError::InvalidArgument {
            argument: argument.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}
