//! Feature preprocessing before clustering, usable on its own: finiteness check, PCA (optionally
//! whitened, as faiss' `PCAMatrix(eigen_power = -0.5)` that DeepCluster uses) and L2 row
//! normalisation. [`Preprocess`] chains them as the pipeline does (PCA, then L2).
use super::ClusterError;
use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What went wrong while preprocessing features.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PreprocessError {
    /// A NaN or infinite entry.
    #[error("feature row {row}, column {col} is {value}; features must be finite")]
    NonFinite {
        /// Row (point) index.
        row: usize,
        /// Column (feature) index.
        col: usize,
        /// The value found.
        value: f32,
    },
    /// A row of zeros cannot be L2-normalised.
    #[error("feature row {row} is all zeros and cannot be L2-normalised")]
    ZeroRow {
        /// Row (point) index.
        row: usize,
    },
    /// A parameter is out of range for these data.
    #[error("invalid PCA parameter `{name}`: {reason}")]
    InvalidParam {
        /// The parameter's name.
        name: &'static str,
        /// What was expected and what was found.
        reason: String,
    },
    /// The data do not fit the fitted model or the operation.
    #[error("invalid data for PCA: {0}")]
    InvalidData(String),
}

impl From<PreprocessError> for ClusterError {
    fn from(e: PreprocessError) -> Self {
        ClusterError::InvalidData(e.to_string())
    }
}

/// Checks that every entry of `x` is finite; the error names the first bad entry (lowest row,
/// then lowest column).
pub fn check_finite(x: ArrayView2<'_, f32>) -> Result<(), PreprocessError> {
    let x = x.as_standard_layout();
    let d = x.ncols();
    if d == 0 {
        return Ok(());
    }
    let slice = x.as_slice().expect("standard layout");
    if let Some(row) = slice
        .par_chunks(d)
        .position_first(|r| r.iter().any(|v| !v.is_finite()))
    {
        let r = &slice[row * d..(row + 1) * d];
        let col = r.iter().position(|v| !v.is_finite()).expect("a bad entry");
        return Err(PreprocessError::NonFinite {
            row,
            col,
            value: r[col],
        });
    }
    Ok(())
}

/// Scales every row of `x` to unit Euclidean norm (norm computed in `f64`). An all-zero row is an
/// error naming the first such row (nothing is changed then); so is a non-finite entry.
pub fn l2_normalize_rows(mut x: ArrayViewMut2<'_, f32>) -> Result<(), PreprocessError> {
    let norms: Vec<f64> = x
        .axis_iter(Axis(0))
        .into_par_iter()
        .map(|r| r.iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt())
        .collect();
    if let Some(row) = norms.iter().position(|v| !v.is_finite()) {
        check_finite(x.view())?;
        return Err(PreprocessError::InvalidData(format!(
            "feature row {row} has a non-finite norm"
        )));
    }
    if let Some(row) = norms.iter().position(|&v| v == 0.0) {
        return Err(PreprocessError::ZeroRow { row });
    }
    x.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(norms.par_iter())
        .for_each(|(mut r, &nrm)| {
            for v in r.iter_mut() {
                *v = (*v as f64 / nrm) as f32;
            }
        });
    Ok(())
}

fn default_eps() -> f64 {
    1e-10
}

/// Rows per block of the parallel passes (fixed, so results do not depend on the thread count).
const BLOCK_ROWS: usize = 2048;

/// PCA to `dim` components, optionally whitened.
///
/// The covariance is the population one, `C = (1/N) Σ (x − x̄)(x − x̄)ᵀ` (as faiss), accumulated
/// in `f64` as a parallel `Xᵀ X` over fixed row blocks; its eigenvectors come from nalgebra's
/// `SymmetricEigen`, sorted by decreasing eigenvalue λᵢ, each with its largest-magnitude entry made
/// positive (a deterministic sign). `transform` maps `x ↦ (x − x̄) Pᵀ`, and with `whiten` also
/// scales component `i` by `(λᵢ + eps·λ₁)^(−½)`, so whitened features have identity (population)
/// covariance. faiss adds an absolute `epsilon = 0` and divides by zero on a zero-variance
/// component; here `eps` is relative to the largest eigenvalue λ₁ (default 1e-10), which changes
/// no component with `λᵢ/λ₁ ≫ 1e-10` beyond `f32` precision and keeps degenerate features finite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pca {
    /// Number of components kept (`1 ≤ dim ≤ D`).
    pub dim: usize,
    /// Scale each component to unit variance.
    pub whiten: bool,
    /// Whitening regulariser relative to the largest eigenvalue; default 1e-10.
    #[serde(default = "default_eps")]
    pub eps: f64,
}

impl Pca {
    /// PCA to `dim` components, whitened or not, default `eps`.
    pub fn new(dim: usize, whiten: bool) -> Self {
        Pca {
            dim,
            whiten,
            eps: default_eps(),
        }
    }

    /// Sets the whitening regulariser (relative to the largest eigenvalue).
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Checks the parameters without data (`dim ≤ D` is checked by `fit`).
    pub fn validate(&self) -> Result<(), PreprocessError> {
        if self.dim == 0 {
            return Err(PreprocessError::InvalidParam {
                name: "dim",
                reason: "need at least one component, found 0".into(),
            });
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(PreprocessError::InvalidParam {
                name: "eps",
                reason: format!("expected a finite number ≥ 0, found {}", self.eps),
            });
        }
        Ok(())
    }

    /// Fits the PCA on the rows of `x` (at least 2 rows, `dim ≤ D`, finite).
    pub fn fit(&self, x: ArrayView2<'_, f32>) -> Result<PcaModel, PreprocessError> {
        self.validate()?;
        let (n, d) = x.dim();
        if self.dim > d {
            return Err(PreprocessError::InvalidParam {
                name: "dim",
                reason: format!("asked for {} components of {d}-dimensional data", self.dim),
            });
        }
        if n < 2 {
            return Err(PreprocessError::InvalidData(format!(
                "need at least 2 rows to fit a PCA, found {n}"
            )));
        }
        check_finite(x)?;
        let x = x.as_standard_layout();
        let slice = x.as_slice().expect("standard layout");
        // Mean, then centred Xᵀ X, both over fixed blocks reduced in order.
        let col_sums: Vec<Vec<f64>> = slice
            .par_chunks(BLOCK_ROWS * d)
            .map(|b| {
                let mut s = vec![0.0f64; d];
                for r in b.chunks_exact(d) {
                    for (a, &v) in s.iter_mut().zip(r) {
                        *a += v as f64;
                    }
                }
                s
            })
            .collect();
        let mut mean = Array1::<f64>::zeros(d);
        for s in col_sums {
            for (m, v) in mean.iter_mut().zip(s) {
                *m += v;
            }
        }
        mean /= n as f64;
        let partials: Vec<Array2<f64>> = slice
            .par_chunks(BLOCK_ROWS * d)
            .map(|b| {
                let rows = b.len() / d;
                let xb = ArrayView2::from_shape((rows, d), b).expect("rows × d");
                let centred =
                    Array2::from_shape_fn((rows, d), |(i, j)| xb[[i, j]] as f64 - mean[j]);
                centred.t().dot(&centred)
            })
            .collect();
        let mut cov = Array2::<f64>::zeros((d, d));
        for p in partials {
            cov += &p;
        }
        cov /= n as f64;
        let eig = SymmetricEigen::new(DMatrix::from_fn(d, d, |i, j| cov[[i, j]]));
        let mut idx: Vec<usize> = (0..d).collect();
        idx.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let eigenvalues: Vec<f64> = idx.iter().map(|&i| eig.eigenvalues[i]).collect();
        let mut components = Array2::<f64>::zeros((d, d));
        for (r, &i) in idx.iter().enumerate() {
            let v = eig.eigenvectors.column(i);
            let big = (0..d).fold(0, |b, j| if v[j].abs() > v[b].abs() { j } else { b });
            let sign = if v[big] < 0.0 { -1.0 } else { 1.0 };
            for j in 0..d {
                components[[r, j]] = sign * v[j];
            }
        }
        let lambda1 = eigenvalues[0].max(0.0);
        let scale: Vec<f64> = if self.whiten {
            if lambda1 == 0.0 {
                return Err(PreprocessError::InvalidData(
                    "all rows are identical (zero variance): nothing to whiten".into(),
                ));
            }
            eigenvalues[..self.dim]
                .iter()
                .map(|&l| 1.0 / (l.max(0.0) + self.eps * lambda1).sqrt())
                .collect()
        } else {
            vec![1.0; self.dim]
        };
        if let Some(i) = scale.iter().position(|s| !s.is_finite()) {
            return Err(PreprocessError::InvalidData(format!(
                "PCA component {i} has zero variance and eps = 0: whitening would divide by zero"
            )));
        }
        let weights = Array2::from_shape_fn((d, self.dim), |(j, i)| {
            (components[[i, j]] * scale[i]) as f32
        });
        Ok(PcaModel {
            mean_f32: mean.mapv(|v| v as f32),
            mean,
            components,
            eigenvalues,
            dim: self.dim,
            whiten: self.whiten,
            scale,
            n_samples: n,
            weights,
        })
    }

    /// Fits on `x` and transforms it.
    pub fn fit_transform(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, PreprocessError> {
        self.fit(x)?.transform(x)
    }
}

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq)]
pub struct PcaModel {
    /// Column means of the training data.
    pub mean: Array1<f64>,
    /// All `D` principal axes as rows (`D × D`), by decreasing eigenvalue; the first `dim` are used.
    pub components: Array2<f64>,
    /// All `D` eigenvalues of the population covariance, decreasing.
    pub eigenvalues: Vec<f64>,
    /// Components kept.
    pub dim: usize,
    /// Whether the output is whitened.
    pub whiten: bool,
    /// Factor applied to each kept component (1 without whitening).
    pub scale: Vec<f64>,
    /// Rows the model was fitted on.
    pub n_samples: usize,
    /// `D × dim` projection (components × scale) in `f32`.
    weights: Array2<f32>,
    mean_f32: Array1<f32>,
}

impl PcaModel {
    /// Input dimension `D`.
    pub fn input_dim(&self) -> usize {
        self.mean.len()
    }

    /// Variance of each kept component with scikit-learn's `N − 1` denominator (its
    /// `explained_variance_`).
    pub fn explained_variance(&self) -> Vec<f64> {
        let f = self.n_samples as f64 / (self.n_samples as f64 - 1.0);
        self.eigenvalues[..self.dim].iter().map(|l| l * f).collect()
    }

    /// Fraction of the total variance explained by each kept component.
    pub fn explained_variance_ratio(&self) -> Vec<f64> {
        let total: f64 = self.eigenvalues.iter().map(|l| l.max(0.0)).sum();
        self.eigenvalues[..self.dim]
            .iter()
            .map(|l| l / total)
            .collect()
    }

    /// Projects the rows of `x` (`N × D`) to `N × dim`.
    pub fn transform(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, PreprocessError> {
        let (n, d) = x.dim();
        if d != self.input_dim() {
            return Err(PreprocessError::InvalidData(format!(
                "the PCA was fitted on {} features, found {d}",
                self.input_dim()
            )));
        }
        check_finite(x)?;
        let x = x.as_standard_layout();
        let slice = x.as_slice().expect("standard layout");
        let mut out = Array2::<f32>::zeros((n, self.dim));
        let dim = self.dim;
        out.as_slice_mut()
            .expect("standard layout")
            .par_chunks_mut(BLOCK_ROWS * dim)
            .zip(slice.par_chunks(BLOCK_ROWS * d))
            .for_each(|(o, b)| {
                let rows = b.len() / d;
                let xb = ArrayView2::from_shape((rows, d), b).expect("rows × d");
                let centred = &xb - &self.mean_f32;
                let mut ov =
                    ndarray::ArrayViewMut2::from_shape((rows, dim), o).expect("rows × dim");
                ndarray::linalg::general_mat_mul(1.0, &centred, &self.weights, 0.0, &mut ov);
            });
        Ok(out)
    }

    /// Maps projected rows (`N × dim`) back to the input space (exact when `dim = D`).
    pub fn inverse_transform(
        &self,
        y: ArrayView2<'_, f32>,
    ) -> Result<Array2<f32>, PreprocessError> {
        if y.ncols() != self.dim {
            return Err(PreprocessError::InvalidData(format!(
                "expected {} PCA components per row, found {}",
                self.dim,
                y.ncols()
            )));
        }
        let back = Array2::from_shape_fn((self.dim, self.input_dim()), |(i, j)| {
            self.components[[i, j]] / self.scale[i]
        });
        let y64 = y.mapv(|v| v as f64);
        let mut x = y64.dot(&back);
        x += &self.mean;
        Ok(x.mapv(|v| v as f32))
    }
}

/// The preprocessing chain of the pipeline: finiteness check, optional PCA to `pca_dim`
/// components (whitened when `whiten`), then optional L2 row normalisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Preprocess {
    /// PCA to this many components; `0` skips PCA.
    pub pca_dim: usize,
    /// Whiten the PCA components (ignored without PCA).
    pub whiten: bool,
    /// L2-normalise rows (after PCA).
    pub l2: bool,
}

impl Preprocess {
    /// The paper's (and DeepCluster's) chain: whitened PCA to 32, then L2.
    pub fn paper() -> Self {
        Preprocess {
            pca_dim: 32,
            whiten: true,
            l2: true,
        }
    }

    /// Applies the chain to `x`.
    pub fn apply(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, PreprocessError> {
        Ok(self.apply_with_model(x)?.0)
    }

    /// Applies the chain to `x` and also returns the fitted PCA, if any.
    pub fn apply_with_model(
        &self,
        x: ArrayView2<'_, f32>,
    ) -> Result<(Array2<f32>, Option<PcaModel>), PreprocessError> {
        check_finite(x)?;
        let model = match self.pca_dim {
            0 => None,
            dim => Some(Pca::new(dim, self.whiten).fit(x)?),
        };
        let out = self.apply_with_fitted(x, model.as_ref())?;
        Ok((out, model))
    }

    /// Applies the chain to new points `x` with a PCA fitted earlier (`None` skips PCA), e.g. to
    /// map a test split into the space a clustering was made in.
    pub fn apply_with_fitted(
        &self,
        x: ArrayView2<'_, f32>,
        pca: Option<&PcaModel>,
    ) -> Result<Array2<f32>, PreprocessError> {
        check_finite(x)?;
        let mut out = match pca {
            Some(m) => m.transform(x)?,
            None => x.to_owned(),
        };
        if self.l2 {
            l2_normalize_rows(out.view_mut())?;
        }
        Ok(out)
    }
}
