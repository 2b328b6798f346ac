//! Feature matrices and label vectors as numpy `.npy` files (via `ndarray-npy`), and labels as text.
//!
//! * Features: `N × D` arrays of `float32` or `float64` (converted to `f32`), C or Fortran order,
//!   either byte order. Anything else is refused with [`DataError::NpyDtype`] / [`DataError::NpyShape`].
//! * Labels: 1-d (or `N × 1`) arrays of any integer dtype (`int8`…`int64`, `uint8`…`uint64`), or a
//!   text file with one integer per line (what `np.savetxt(f, y, fmt="%d")` writes; `np.savetxt`'s
//!   default float format is accepted too when the values are whole numbers). A file is taken as
//!   `.npy` when its name ends in `.npy` or it starts with numpy's magic string, else as text.
//!   Negative labels are refused, naming their index.
//! * Written labels are `int64` `.npy`, which numpy, scikit-learn and pandas read natively.
use super::atomic::write_atomically;
use super::error::DataError;
use ndarray::{Array1, Array2, ArrayD, ArrayView2, Ix2};
use ndarray_npy::{ReadNpyError, ReadNpyExt, ReadableElement, WriteNpyError, WriteNpyExt};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// The magic string that starts every `.npy` file.
const NPY_MAGIC: &[u8] = b"\x93NUMPY";

const FEATURE_DTYPES: &str = "float32 or float64 ('<f4', '<f8', '>f4' or '>f8')";
const LABEL_DTYPES: &str = "an integer type (int8…int64, uint8…uint64)";

/// Reads the whole array if its dtype is `T`; `Ok(None)` if the file holds another dtype.
fn try_read<T: ReadableElement>(path: &Path) -> Result<Option<ArrayD<T>>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io("open", path, e))?;
    match ArrayD::<T>::read_npy(BufReader::with_capacity(1 << 16, file)) {
        Ok(a) => Ok(Some(a)),
        Err(ReadNpyError::WrongDescriptor(_)) => Ok(None),
        Err(e) => Err(npy_read_error(path, e)),
    }
}

fn npy_read_error(path: &Path, e: ReadNpyError) -> DataError {
    match e {
        ReadNpyError::Io(source) => DataError::io("read", path, source),
        other => DataError::Npy {
            path: path.to_path_buf(),
            reason: format!("not a valid .npy file: {other}"),
        },
    }
}

/// The dtype descriptor of an `.npy` file whose dtype none of the readers accepted, for messages.
fn descriptor(path: &Path) -> String {
    // Reading as `bool` never succeeds for the dtypes we tried, so its error carries the descriptor.
    let Ok(file) = File::open(path) else {
        return "(unreadable)".into();
    };
    match ArrayD::<bool>::read_npy(BufReader::new(file)) {
        Err(ReadNpyError::WrongDescriptor(d)) => d.to_string(),
        Ok(_) => "'|b1' (bool)".into(),
        Err(e) => format!("(unreadable: {e})"),
    }
}

/// Reads an `N × D` feature matrix from a `float32` or `float64` `.npy` file.
pub fn read_features(path: &Path) -> Result<Array2<f32>, DataError> {
    let array: ArrayD<f32> = if let Some(a) = try_read::<f32>(path)? {
        a
    } else if let Some(a) = try_read::<f64>(path)? {
        a.mapv(|v| v as f32)
    } else {
        return Err(DataError::NpyDtype {
            path: path.to_path_buf(),
            expected: FEATURE_DTYPES,
            found: descriptor(path),
        });
    };
    let shape = array.shape().to_vec();
    let array = array
        .into_dimensionality::<Ix2>()
        .map_err(|_| DataError::NpyShape {
            path: path.to_path_buf(),
            expected: "2 dimensions (N points × D features)",
            found: shape,
        })?;
    Ok(if array.is_standard_layout() {
        array
    } else {
        array.as_standard_layout().into_owned()
    })
}

/// Writes an `N × D` feature matrix as a `float32` `.npy` file (atomically).
pub fn write_features(path: &Path, features: ArrayView2<'_, f32>) -> Result<(), DataError> {
    write_npy_atomically(path, &features)
}

fn write_npy_atomically<T: WriteNpyExt>(path: &Path, array: &T) -> Result<(), DataError> {
    write_atomically(path, |w| {
        array.write_npy(w).map_err(|e| match e {
            WriteNpyError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        })
    })
}

/// Reads labels from an integer `.npy` file or a text file with one integer per line.
pub fn read_labels(path: &Path) -> Result<Vec<usize>, DataError> {
    if is_npy(path)? {
        read_labels_npy(path)
    } else {
        read_labels_text(path)
    }
}

fn is_npy(path: &Path) -> Result<bool, DataError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        return Ok(true);
    }
    let mut file = File::open(path).map_err(|e| DataError::io("open", path, e))?;
    let mut head = [0u8; 6];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(DataError::io("read", path, e)),
        }
    }
    Ok(&head[..n] == NPY_MAGIC)
}

/// Converts integer labels to `usize`, refusing negative ones.
fn to_usize<T: Copy + Into<i128>>(path: &Path, values: &[T]) -> Result<Vec<usize>, DataError> {
    values
        .iter()
        .enumerate()
        .map(|(index, &v)| {
            let v: i128 = v.into();
            usize::try_from(v).map_err(|_| DataError::NegativeLabel {
                path: path.to_path_buf(),
                index,
                value: v,
            })
        })
        .collect()
}

fn read_labels_npy(path: &Path) -> Result<Vec<usize>, DataError> {
    macro_rules! attempt {
        ($($t:ty),*) => {
            $(
                if let Some(a) = try_read::<$t>(path)? {
                    let a = labels_1d(path, a)?;
                    return to_usize(path, a.as_slice().expect("a 1-d owned array is contiguous"));
                }
            )*
        };
    }
    attempt!(i64, i32, u8, i16, i8, u16, u32, u64);
    Err(DataError::NpyDtype {
        path: path.to_path_buf(),
        expected: LABEL_DTYPES,
        found: descriptor(path),
    })
}

/// Accepts shape `(N,)` or `(N, 1)`.
fn labels_1d<T: Clone>(path: &Path, a: ArrayD<T>) -> Result<Array1<T>, DataError> {
    let shape = a.shape().to_vec();
    match shape.as_slice() {
        [_] | [_, 1] => Ok(Array1::from_iter(a.iter().cloned())),
        _ => Err(DataError::NpyShape {
            path: path.to_path_buf(),
            expected: "1 dimension (N labels), or N × 1",
            found: shape,
        }),
    }
}

fn read_labels_text(path: &Path) -> Result<Vec<usize>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io("open", path, e))?;
    let mut labels = Vec::new();
    let mut blank_at: Option<usize> = None;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| DataError::io("read", path, e))?;
        let text = line.trim();
        if text.is_empty() {
            blank_at.get_or_insert(i + 1);
            continue;
        }
        if let Some(line) = blank_at {
            // A blank line before more labels would silently shift every later label.
            return Err(DataError::LabelParse {
                path: path.to_path_buf(),
                line,
                text: String::new(),
            });
        }
        let value: i128 = match text.parse::<i128>() {
            Ok(v) => v,
            // `np.savetxt` writes floats ("3.000000000000000000e+00") unless told `fmt="%d"`.
            Err(_) => match text.parse::<f64>() {
                Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 2f64.powi(53) => f as i128,
                _ => {
                    return Err(DataError::LabelParse {
                        path: path.to_path_buf(),
                        line: i + 1,
                        text: text.to_string(),
                    })
                }
            },
        };
        let label = usize::try_from(value).map_err(|_| DataError::NegativeLabel {
            path: path.to_path_buf(),
            index: labels.len(),
            value,
        })?;
        labels.push(label);
    }
    Ok(labels)
}

/// Writes labels as an `int64` `.npy` file (atomically).
pub fn write_labels(path: &Path, labels: &[usize]) -> Result<(), DataError> {
    let values = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            i64::try_from(l).map_err(|_| DataError::InvalidArgument {
                name: "labels",
                reason: format!("label {l} at index {i} does not fit in int64"),
            })
        })
        .collect::<Result<Vec<i64>, _>>()?;
    write_npy_atomically(path, &Array1::from(values))
}
