//! The datasets deepclust knows by name: their files, checksums and download mirrors.
//!
//! Checksums are SHA-256s of the **uncompressed** files, so a file verifies whether it is stored
//! gzipped or raw, and whoever recompressed it (the Debian package's `.gz` files differ byte-wise
//! from upstream's, their contents do not).
use super::dataset::Split;
use super::error::DataError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// N × H × W images (IDX `0x00000803`).
    Images,
    /// N labels (IDX `0x00000801`).
    Labels,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            FileKind::Images => "images",
            FileKind::Labels => "labels",
        })
    }
}

/// One file of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSpec {
    /// The split it belongs to.
    pub split: Split,
    /// Images or labels.
    pub kind: FileKind,
    /// The uncompressed file name; on disk and on mirrors it may carry a `.gz` suffix.
    pub file_name: &'static str,
    /// SHA-256 of the uncompressed bytes, lowercase hex.
    pub sha256: &'static str,
}

/// A named dataset: what it is, its files and where to get them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSpec {
    /// The name used on the command line and in configs.
    pub name: &'static str,
    /// One line for `deepclust data list`.
    pub description: &'static str,
    /// Number of classes; labels are `0..n_classes`.
    pub n_classes: usize,
    /// Class names, index = label.
    pub class_names: &'static [&'static str],
    /// `[height, width]` of every image.
    pub image_shape: [usize; 2],
    /// The files, four for the MNIST family (train/test × images/labels).
    pub files: &'static [FileSpec],
    /// Base URLs tried in order; a file is fetched from `<mirror><file_name>.gz`.
    pub mirrors: &'static [&'static str],
    /// Folders outside the data folder where the files may already be (e.g. a Debian package).
    pub system_dirs: &'static [&'static str],
    /// Whether the files ship in the repository's `fixtures/<name>/` folder.
    pub bundled: bool,
}

impl DatasetSpec {
    /// The files of one split.
    pub fn split_files(&self, split: Split) -> impl Iterator<Item = &'static FileSpec> + '_ {
        self.files.iter().filter(move |f| f.split == split)
    }

    /// The file of `split` holding `kind`, if the dataset has one.
    pub fn file(&self, split: Split, kind: FileKind) -> Option<&'static FileSpec> {
        self.files
            .iter()
            .find(|f| f.split == split && f.kind == kind)
    }

    /// Where this dataset's files live inside a data folder: `<data_dir>/<name>/`.
    pub fn dir_in(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(self.name)
    }

    /// Every folder searched for the files, in order: `<data_dir>/<name>/`, then the system
    /// folders, then (for bundled datasets) the repository's `fixtures/<name>/`.
    pub fn search_dirs(&self, data_dir: &Path) -> Vec<PathBuf> {
        let mut dirs = vec![self.dir_in(data_dir)];
        dirs.extend(self.system_dirs.iter().map(PathBuf::from));
        if self.bundled {
            dirs.push(super::fixture_dir().join(self.name));
        }
        dirs
    }

    /// The command that puts this dataset into `data_dir`, for error messages.
    pub fn fetch_command(&self, data_dir: &Path) -> String {
        let from = if self.mirrors.is_empty() {
            if self.bundled {
                format!(" --from {}", super::fixture_dir().join(self.name).display())
            } else {
                " --from DIR".to_string()
            }
        } else {
            String::new()
        };
        format!(
            "deepclust data fetch --dataset {}{from} --data-dir {}",
            self.name,
            data_dir.display()
        )
    }
}

/// The path of `file_name` in `dir`, raw or gzipped (raw preferred: it reads faster), if present.
pub fn find_file(dir: &Path, file_name: &str) -> Option<PathBuf> {
    let raw = dir.join(file_name);
    if raw.is_file() {
        return Some(raw);
    }
    let gz = dir.join(format!("{file_name}.gz"));
    gz.is_file().then_some(gz)
}

/// The first folder in [`DatasetSpec::search_dirs`] holding all of `files`, with their paths.
pub fn locate<'a>(
    spec: &DatasetSpec,
    data_dir: &Path,
    files: impl IntoIterator<Item = &'a FileSpec> + Clone,
) -> Result<Vec<PathBuf>, DataError> {
    for dir in spec.search_dirs(data_dir) {
        let found: Option<Vec<PathBuf>> = files
            .clone()
            .into_iter()
            .map(|f| find_file(&dir, f.file_name))
            .collect();
        if let Some(paths) = found {
            return Ok(paths);
        }
    }
    Err(missing_error(spec, data_dir, files))
}

/// The [`DataError::Missing`] for `files` of `spec`, listing those absent from `<data_dir>/<name>/`.
pub(crate) fn missing_error<'a>(
    spec: &DatasetSpec,
    data_dir: &Path,
    files: impl IntoIterator<Item = &'a FileSpec>,
) -> DataError {
    let primary = spec.dir_in(data_dir);
    DataError::Missing {
        dataset: spec.name.to_string(),
        dir: data_dir.to_path_buf(),
        missing: files
            .into_iter()
            .filter(|f| find_file(&primary, f.file_name).is_none())
            .map(|f| f.file_name.to_string())
            .collect(),
        command: spec.fetch_command(data_dir),
    }
}

const DIGITS: &[&str] = &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

static MNIST: DatasetSpec = DatasetSpec {
    name: "mnist",
    description:
        "MNIST handwritten digits: 60,000 train + 10,000 test 28×28 grey images, 10 classes",
    n_classes: 10,
    class_names: DIGITS,
    image_shape: [28, 28],
    files: &[
        FileSpec {
            split: Split::Train,
            kind: FileKind::Images,
            file_name: "train-images-idx3-ubyte",
            sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        },
        FileSpec {
            split: Split::Train,
            kind: FileKind::Labels,
            file_name: "train-labels-idx1-ubyte",
            sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        },
        FileSpec {
            split: Split::Test,
            kind: FileKind::Images,
            file_name: "t10k-images-idx3-ubyte",
            sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        },
        FileSpec {
            split: Split::Test,
            kind: FileKind::Labels,
            file_name: "t10k-labels-idx1-ubyte",
            sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
    ],
    // The mirrors torchvision and TensorFlow use, in that order; LeCun's page last (often down).
    mirrors: &[
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    system_dirs: &[],
    bundled: false,
};

static FASHION_MNIST: DatasetSpec = DatasetSpec {
    name: "fashion-mnist",
    description:
        "Fashion-MNIST (Zalando): 60,000 train + 10,000 test 28×28 grey clothing images, 10 classes",
    n_classes: 10,
    class_names: &[
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    image_shape: [28, 28],
    // Checksums computed from the uncompressed files of Debian's `dataset-fashion-mnist`
    // (0.0~git20200523.55506a9-1).
    files: &[
        FileSpec {
            split: Split::Train,
            kind: FileKind::Images,
            file_name: "train-images-idx3-ubyte",
            sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        },
        FileSpec {
            split: Split::Train,
            kind: FileKind::Labels,
            file_name: "train-labels-idx1-ubyte",
            sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        },
        FileSpec {
            split: Split::Test,
            kind: FileKind::Images,
            file_name: "t10k-images-idx3-ubyte",
            sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        },
        FileSpec {
            split: Split::Test,
            kind: FileKind::Labels,
            file_name: "t10k-labels-idx1-ubyte",
            sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
    ],
    mirrors: &[
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    ],
    // `apt-get install dataset-fashion-mnist`
    system_dirs: &["/usr/share/datasets/fashion-mnist"],
    bundled: false,
};

static MNIST_MINI: DatasetSpec = DatasetSpec {
    name: "mnist-mini",
    description: "2,000 train + 500 test images of MNIST, class-balanced: the test fixture in fixtures/mnist-mini",
    n_classes: 10,
    class_names: DIGITS,
    image_shape: [28, 28],
    // `deepclust data subset` prints these; regenerate with the command in fixtures/README.md.
    files: &[
        FileSpec {
            split: Split::Train,
            kind: FileKind::Images,
            file_name: "train-images-idx3-ubyte",
            sha256: "6d5d89eccb5ac3a8813ef1758a56037b43c8576abc9533fd012ae1ef9008e53e",
        },
        FileSpec {
            split: Split::Train,
            kind: FileKind::Labels,
            file_name: "train-labels-idx1-ubyte",
            sha256: "b6740a13c6bb49a065134194216ffbd3a73a74982a37af91c934f7d84e8355c2",
        },
        FileSpec {
            split: Split::Test,
            kind: FileKind::Images,
            file_name: "t10k-images-idx3-ubyte",
            sha256: "d48e3bd72dbe422d45896fcba3932a350796c8dbd5707a0ad66c111ea6f9f089",
        },
        FileSpec {
            split: Split::Test,
            kind: FileKind::Labels,
            file_name: "t10k-labels-idx1-ubyte",
            sha256: "da63cf7e9fb293a287100d27301eb54040506a056c8a9f75b93bdd791b7f3aee",
        },
    ],
    mirrors: &[],
    system_dirs: &[],
    bundled: true,
};

static ALL: [&DatasetSpec; 3] = [&MNIST, &FASHION_MNIST, &MNIST_MINI];

/// Every registered dataset.
pub fn all() -> &'static [&'static DatasetSpec] {
    &ALL
}

/// The dataset called `name` (exactly); an unknown name gives an error listing the known ones.
pub fn lookup(name: &str) -> Result<&'static DatasetSpec, DataError> {
    if let Some(spec) = ALL.iter().copied().find(|s| s.name == name) {
        return Ok(spec);
    }
    let known: Vec<String> = ALL.iter().map(|s| s.name.to_string()).collect();
    let suggestion = known
        .iter()
        .map(|k| (strsim::jaro_winkler(&name.to_lowercase(), k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.clone());
    Err(DataError::UnknownDataset {
        name: name.to_string(),
        known,
        suggestion,
    })
}
