//! An in-memory dataset (images or feature vectors, with optional labels) and loading it by name.
use super::error::DataError;
use super::registry::{self, DatasetSpec, FileKind};
use super::{idx, npy};
use ndarray::{Array2, Array3, Axis};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Which part of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The training set (MNIST: 60,000 images).
    Train,
    /// The test set (MNIST: 10,000 images).
    Test,
}

impl Split {
    /// Both splits, train first.
    pub const ALL: [Split; 2] = [Split::Train, Split::Test];
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Split::Train => "train",
            Split::Test => "test",
        })
    }
}

impl FromStr for Split {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "train" => Ok(Split::Train),
            "test" => Ok(Split::Test),
            _ => Err(DataError::InvalidArgument {
                name: "split",
                reason: format!("expected `train` or `test`, found `{s}`"),
            }),
        }
    }
}

/// A dataset held in memory: images (`N × H × W` bytes) or features (`N × D`), and maybe labels.
///
/// Exactly one of `images` and `features` is normally set; everything that needs a feature matrix
/// goes through [`Dataset::pixels_as_features`], which handles both.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The registry name (`mnist`, …) or a name given by the caller.
    pub name: String,
    /// The split it came from.
    pub split: Split,
    /// `N × H × W` grey images, 0 = background.
    pub images: Option<Array3<u8>>,
    /// `N × D` feature vectors (feature datasets read from `.npy`).
    pub features: Option<Array2<f32>>,
    /// True class of each point, in `0..n_classes`.
    pub labels: Option<Vec<usize>>,
    /// Number of classes (0 when unknown).
    pub n_classes: usize,
}

impl Dataset {
    /// Number of points.
    pub fn len(&self) -> usize {
        if let Some(im) = &self.images {
            im.len_of(Axis(0))
        } else if let Some(f) = &self.features {
            f.nrows()
        } else {
            self.labels.as_ref().map_or(0, Vec::len)
        }
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A feature dataset from an `N × D` matrix and optional labels; `n_classes` defaults to
    /// the largest label + 1.
    pub fn from_features(
        name: impl Into<String>,
        split: Split,
        features: Array2<f32>,
        labels: Option<Vec<usize>>,
        n_classes: Option<usize>,
    ) -> Result<Dataset, DataError> {
        if let Some(l) = &labels {
            if l.len() != features.nrows() {
                return Err(DataError::InvalidArgument {
                    name: "labels",
                    reason: format!("{} labels for {} feature rows", l.len(), features.nrows()),
                });
            }
        }
        let observed = labels
            .as_ref()
            .and_then(|l| l.iter().max())
            .map_or(0, |&m| m + 1);
        let n_classes = match n_classes {
            Some(k) if k < observed => {
                return Err(DataError::InvalidArgument {
                    name: "n_classes",
                    reason: format!("{k} classes, but the labels go up to {}", observed - 1),
                })
            }
            Some(k) => k,
            None => observed,
        };
        Ok(Dataset {
            name: name.into(),
            split,
            images: None,
            features: Some(features),
            labels,
            n_classes,
        })
    }

    /// The points as an `N × D` matrix: images flattened row-major and scaled to `[0, 1]` (`/255`),
    /// or a copy of the features. A dataset with neither gives an `N × 0` matrix.
    pub fn pixels_as_features(&self) -> Array2<f32> {
        if let Some(im) = &self.images {
            let (n, h, w) = im.dim();
            let flat: Vec<f32> = im.iter().map(|&p| f32::from(p) / 255.0).collect();
            Array2::from_shape_vec((n, h * w), flat).expect("n·h·w values")
        } else if let Some(f) = &self.features {
            f.clone()
        } else {
            Array2::zeros((self.len(), 0))
        }
    }

    /// The points at `idx`, in that order (repeats allowed).
    ///
    /// # Panics
    /// If an index is `>= self.len()`, like slice indexing.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        Dataset {
            name: self.name.clone(),
            split: self.split,
            images: self.images.as_ref().map(|im| im.select(Axis(0), idx)),
            features: self.features.as_ref().map(|f| f.select(Axis(0), idx)),
            labels: self
                .labels
                .as_ref()
                .map(|l| idx.iter().map(|&i| l[i]).collect()),
            n_classes: self.n_classes,
        }
    }

    /// Number of points of each class (`n_classes` entries, more if a label exceeds it), if labelled.
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        let labels = self.labels.as_ref()?;
        let k = labels
            .iter()
            .max()
            .map_or(self.n_classes, |&m| self.n_classes.max(m + 1));
        let mut counts = vec![0usize; k];
        for &l in labels {
            counts[l] += 1;
        }
        Some(counts)
    }

    /// Mean and standard deviation of the pixels scaled to `[0, 1]` (the numbers torchvision-style
    /// normalisation uses; MNIST train: 0.1307, 0.3081), if there are images.
    pub fn pixel_mean_std(&self) -> Option<(f64, f64)> {
        let im = self.images.as_ref()?;
        if im.is_empty() {
            return None;
        }
        let mut hist = [0u64; 256];
        for &p in im.iter() {
            hist[usize::from(p)] += 1;
        }
        let n = im.len() as f64;
        let mean = hist
            .iter()
            .enumerate()
            .map(|(v, &c)| c as f64 * v as f64)
            .sum::<f64>()
            / n;
        let var = hist
            .iter()
            .enumerate()
            .map(|(v, &c)| c as f64 * (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        Some((mean / 255.0, var.sqrt() / 255.0))
    }

    /// The indices of [`Dataset::balanced_prefix`], ascending.
    pub fn balanced_indices(&self, n: usize, seed: u64) -> Vec<usize> {
        let n = n.min(self.len());
        let mut rng = crate::seed::rng(seed, "data/balanced-prefix");
        // Members of each class in a seeded random order (one class if unlabelled).
        let mut members: Vec<Vec<usize>> = match &self.labels {
            Some(labels) => {
                let k = labels.iter().max().map_or(0, |&m| m + 1);
                let mut m = vec![Vec::new(); k];
                for (i, &l) in labels.iter().enumerate() {
                    m[l].push(i);
                }
                m
            }
            None => vec![(0..self.len()).collect()],
        };
        for m in &mut members {
            m.shuffle(&mut rng);
        }
        // Round robin over the classes in a seeded order, skipping exhausted classes: every class
        // gets ⌊n/k⌋ or ⌈n/k⌉ points when it has enough, and a smaller `n` gives a subset of the
        // points of a larger one.
        let mut order: Vec<usize> = (0..members.len()).collect();
        order.shuffle(&mut rng);
        let mut chosen = Vec::with_capacity(n);
        let mut round = 0;
        while chosen.len() < n {
            for &c in &order {
                if chosen.len() == n {
                    break;
                }
                if let Some(&i) = members[c].get(round) {
                    chosen.push(i);
                }
            }
            round += 1;
        }
        chosen.sort_unstable();
        chosen
    }

    /// `n` points (all of them if `n >= len()`) with the classes as balanced as possible, in their
    /// original order. Deterministic given `seed`: the points of each class are drawn at random
    /// (stream `data/balanced-prefix`), and which classes get one point more when `n` is not a
    /// multiple of the number of classes is drawn too. Nested: for the same seed, the result for a
    /// smaller `n` is a subset of that for a larger one.
    pub fn balanced_prefix(&self, n: usize, seed: u64) -> Dataset {
        self.subset(&self.balanced_indices(n, seed))
    }
}

/// The default data folder: `$DEEPCLUST_DATA`, else `<user cache dir>/deepclust/data`
/// (`~/.cache/deepclust/data` on Linux), else `./deepclust-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DEEPCLUST_DATA").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::cache_dir()
        .map(|c| c.join("deepclust").join("data"))
        .unwrap_or_else(|| PathBuf::from("deepclust-data"))
}

/// Loads split `split` of the registered dataset `name` from `data_dir` (see
/// [`DatasetSpec::search_dirs`] for where else it looks).
///
/// Validates the IDX format, the image shape, that images and labels agree in number and that
/// labels are below the number of classes. Checksums are not re-computed here: that is
/// [`super::verify`]'s job.
pub fn load(name: &str, split: Split, data_dir: &Path) -> Result<Dataset, DataError> {
    load_spec(registry::lookup(name)?, split, data_dir)
}

/// [`load`] for a registry entry.
pub fn load_spec(spec: &DatasetSpec, split: Split, data_dir: &Path) -> Result<Dataset, DataError> {
    let (Some(images_spec), Some(labels_spec)) = (
        spec.file(split, FileKind::Images),
        spec.file(split, FileKind::Labels),
    ) else {
        return Err(DataError::InvalidArgument {
            name: "split",
            reason: format!("dataset `{}` has no {split} split", spec.name),
        });
    };
    let paths = registry::locate(spec, data_dir, [images_spec, labels_spec])?;
    let (images_path, labels_path) = (&paths[0], &paths[1]);
    let images = idx::read_images(images_path)?;
    let (n, h, w) = images.dim();
    if [h, w] != spec.image_shape {
        return Err(DataError::WrongShape {
            path: images_path.clone(),
            dataset: spec.name.to_string(),
            expected: format!("{}×{}", spec.image_shape[0], spec.image_shape[1]),
            found: format!("{h}×{w}"),
        });
    }
    let raw_labels = idx::read_labels(labels_path)?;
    if raw_labels.len() != n {
        return Err(DataError::CountMismatch {
            images: images_path.clone(),
            labels: labels_path.clone(),
            n_images: n,
            n_labels: raw_labels.len(),
        });
    }
    let labels = labels_in_range(labels_path, &raw_labels, spec.n_classes)?;
    Ok(Dataset {
        name: spec.name.to_string(),
        split,
        images: Some(images),
        features: None,
        labels: Some(labels),
        n_classes: spec.n_classes,
    })
}

/// Converts IDX labels to `usize`, checking each is below `n_classes`.
pub fn labels_in_range(path: &Path, raw: &[u8], n_classes: usize) -> Result<Vec<usize>, DataError> {
    raw.iter()
        .enumerate()
        .map(|(index, &l)| {
            let l = usize::from(l);
            if l < n_classes {
                Ok(l)
            } else {
                Err(DataError::LabelOutOfRange {
                    path: path.to_path_buf(),
                    index,
                    label: l as u64,
                    n_classes,
                })
            }
        })
        .collect()
}

/// A feature dataset from `.npy` files: an `N × D` float matrix and optionally labels (integer
/// `.npy` or text, see [`npy::read_labels`]). Named after the features file's stem.
pub fn load_features(
    features: &Path,
    labels: Option<&Path>,
    split: Split,
) -> Result<Dataset, DataError> {
    let x = npy::read_features(features)?;
    let y = labels.map(npy::read_labels).transpose()?;
    if let (Some(y), Some(path)) = (&y, labels) {
        if y.len() != x.nrows() {
            return Err(DataError::CountMismatch {
                images: features.to_path_buf(),
                labels: path.to_path_buf(),
                n_images: x.nrows(),
                n_labels: y.len(),
            });
        }
    }
    let name = features
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "features".into());
    Dataset::from_features(name, split, x, y, None)
}
