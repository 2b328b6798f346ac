//! The one error type of the data layer.
use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

/// One failed attempt to get a file from a mirror or a local folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The URL or path that was tried.
    pub source: String,
    /// Why it did not give a valid file (HTTP error, checksum mismatch, corrupt gzip, …).
    pub reason: String,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.reason)
    }
}

/// What went wrong while reading, writing, locating or downloading data.
///
/// Every variant names the file (or dataset) concerned, and where it applies what was expected and
/// what was found. Nothing in the data layer panics on bad input: it returns one of these.
#[derive(Debug, Error)]
pub enum DataError {
    /// An operating-system level I/O failure (permissions, disk full, …).
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("open", "read", "write", "rename", …).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The file holds no bytes at all (after decompression, for `.gz` files).
    #[error("{}: file is empty (expected an IDX file starting with magic number {expected_magic:#010x})", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// The magic number that should have started it.
        expected_magic: u32,
    },

    /// The IDX magic number is not the expected one (wrong file, or wrong number of dimensions).
    #[error("{}: wrong IDX magic number: expected {expected:#010x} ({what}), found {found:#010x}", path.display())]
    WrongMagic {
        /// The file.
        path: PathBuf,
        /// The expected magic number.
        expected: u32,
        /// What the expected magic number means ("unsigned bytes, 3 dimensions").
        what: String,
        /// The magic number found in the file (first four bytes, big-endian).
        found: u32,
    },

    /// The IDX data-type code is not `0x08` (unsigned byte), the only one MNIST-style data uses.
    #[error("{}: unsupported IDX data type code: expected {expected:#04x} (unsigned byte), found {found:#04x}", path.display())]
    WrongDtype {
        /// The file.
        path: PathBuf,
        /// The expected type code.
        expected: u8,
        /// The type code found (third byte of the magic number).
        found: u8,
    },

    /// The file ends before the header or before all the data its header announces.
    #[error("{}: truncated: expected {expected} bytes ({what}), found {found}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What the bytes were for ("the header", "data for dimensions [60000, 28, 28]").
        what: String,
        /// Bytes expected (uncompressed).
        expected: u64,
        /// Bytes found (uncompressed).
        found: u64,
    },

    /// The file holds more bytes than its header announces.
    #[error("{}: {found} trailing bytes after the {expected} data bytes announced by dimensions {dims:?}", path.display())]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Dimensions from the header.
        dims: Vec<usize>,
        /// Data bytes announced by the header.
        expected: u64,
        /// Extra bytes found after them.
        found: u64,
    },

    /// The header's dimensions are impossible (their product overflows).
    #[error("{}: impossible dimensions {dims:?} in header: {reason}", path.display())]
    BadDimensions {
        /// The file.
        path: PathBuf,
        /// Dimensions from the header.
        dims: Vec<u64>,
        /// Why they are impossible.
        reason: String,
    },

    /// The images do not have the shape the dataset's registry entry says.
    #[error("{}: images are {found}, but dataset `{dataset}` has {expected} images", path.display())]
    WrongShape {
        /// The file.
        path: PathBuf,
        /// The dataset.
        dataset: String,
        /// Expected `H×W`.
        expected: String,
        /// Found `H×W`.
        found: String,
    },

    /// The images file and the labels file disagree on the number of examples.
    #[error("{} holds {n_images} examples but {} holds {n_labels} labels", images.display(), labels.display())]
    CountMismatch {
        /// The images file.
        images: PathBuf,
        /// The labels file.
        labels: PathBuf,
        /// Number of images.
        n_images: usize,
        /// Number of labels.
        n_labels: usize,
    },

    /// A label is not below the dataset's number of classes.
    #[error("{}: label {label} at index {index} is out of range: expected 0..{n_classes} ({n_classes} classes)", path.display())]
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// Position of the label.
        index: usize,
        /// The label found.
        label: u64,
        /// Number of classes.
        n_classes: usize,
    },

    /// A `.gz` file (or gzip download) is not a valid gzip stream.
    #[error("{}: corrupt gzip stream: {reason}", path.display())]
    CorruptGzip {
        /// The file.
        path: PathBuf,
        /// What the decoder reported.
        reason: String,
    },

    /// The dataset's files are not in the data folder.
    #[error("dataset `{dataset}` not found in {} (missing {}); run `{command}`", dir.display(), missing.iter().map(|f| format!("{f}[.gz]")).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The dataset.
        dataset: String,
        /// The data folder that was searched (the `--data-dir`).
        dir: PathBuf,
        /// Uncompressed names of the missing files.
        missing: Vec<String>,
        /// The command that gets the files.
        command: String,
    },

    /// No dataset of that name is registered.
    #[error("unknown dataset `{name}`{}; known datasets: {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), known.join(", "))]
    UnknownDataset {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
        /// The closest known name, if one is close.
        suggestion: Option<String>,
    },

    /// An `.npy` file could not be read or written (bad header, missing or extra data, …).
    #[error("{}: {reason}", path.display())]
    Npy {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// An `.npy` file has an element type that cannot be used here.
    #[error("{}: unsupported dtype {found}: expected {expected}", path.display())]
    NpyDtype {
        /// The file.
        path: PathBuf,
        /// What would have been accepted.
        expected: &'static str,
        /// The numpy type descriptor found.
        found: String,
    },

    /// An `.npy` file has the wrong number of dimensions.
    #[error("{}: array has shape {found:?}: expected {expected}", path.display())]
    NpyShape {
        /// The file.
        path: PathBuf,
        /// What would have been accepted.
        expected: &'static str,
        /// The shape found.
        found: Vec<usize>,
    },

    /// A label is negative (or does not fit in `usize`).
    #[error("{}: label at index {index} is {value}: labels must be non-negative integers", path.display())]
    NegativeLabel {
        /// The file.
        path: PathBuf,
        /// Position of the label.
        index: usize,
        /// The value found.
        value: i128,
    },

    /// A line of a text labels file is not a non-negative integer.
    #[error("{}:{line}: expected one non-negative integer per line, found {text:?}", path.display())]
    LabelParse {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: usize,
        /// The offending text.
        text: String,
    },

    /// A file's SHA-256 (of its uncompressed bytes) is not the registered one.
    #[error("{}: SHA-256 mismatch: expected {expected}, found {found}", path.display())]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The registered checksum.
        expected: String,
        /// The checksum of the file's uncompressed bytes.
        found: String,
    },

    /// Every mirror (or the `--from` folder) failed to give a valid copy of a file.
    #[error("could not get `{file}` of dataset `{dataset}`; tried:{}", attempts.iter().map(|a| format!("\n  - {a}")).collect::<String>())]
    AllSourcesFailed {
        /// The dataset.
        dataset: String,
        /// The file (uncompressed name).
        file: String,
        /// Each source tried, in order, and why it failed.
        attempts: Vec<Attempt>,
    },

    /// There is nowhere to get the dataset from (no mirrors registered, none given, no `--from`).
    #[error("dataset `{dataset}` has no download mirrors: pass `--mirror URL` or `--from DIR`")]
    NoSource {
        /// The dataset.
        dataset: String,
    },

    /// An argument is out of range (e.g. asking for more points than a dataset holds).
    #[error("invalid `{name}`: {reason}")]
    InvalidArgument {
        /// The argument's name.
        name: &'static str,
        /// What was expected and what was found.
        reason: String,
    },
}

impl DataError {
    /// An [`DataError::Io`] for `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        DataError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
