//! t-SNE (Barnes-Hut), parallel and seeded.
//!
//! [`tsne`] maps the rows of an `N × D` matrix to 2-D with the Barnes-Hut approximation of
//! van der Maaten (2014), with openTSNE's defaults:
//!
//! 1. **Affinities.** The `k = min(N − 1, ⌊3·perplexity⌋)` exact nearest neighbours of every row
//!    (Euclidean; brute force in blocks of rows, `‖a‖² + ‖b‖² − 2a·b` through a matrix product,
//!    parallel over the blocks, only a per-row top-`k` kept; the `k` distances are then recomputed
//!    exactly in `f64`). For each row a binary search on the Gaussian precision matches the
//!    perplexity (entropy within `1e-5` nats, at most 100 steps); `P = (P + Pᵀ) / 2N` is kept
//!    sparse, row by row.
//! 2. **Initialisation.** PCA to 2-D (eigenvectors of the `D × D` covariance), each axis' sign
//!    fixed so that its largest loading is positive, scaled so that the first coordinate has
//!    standard deviation `1e-4`. An axis without variance (constant data, `D < 2`) is filled with
//!    Gaussian noise from the seed's stream `"tsne/init"` instead — the only use of the seed.
//! 3. **Gradient descent.** `n_iter` iterations in total, the first `early_iter` with `P`
//!    multiplied by `early_exaggeration` and momentum 0.5, then momentum 0.8; delta-bar-delta gains
//!    (+0.2 / ×0.8, at least 0.01); the embedding is centred after every step. The gradient is
//!    openTSNE's (without van der Maaten's factor 4):
//!    `∂ᵢ = Σⱼ e·pᵢⱼ qᵢⱼ (yᵢ − yⱼ) − (1/Z) Σⱼ qᵢⱼ² (yᵢ − yⱼ)` with `qᵢⱼ = 1 / (1 + ‖yᵢ − yⱼ‖²)`,
//!    `Z = Σ_{i≠j} qᵢⱼ` and `e` the current exaggeration. The repulsive sums come from a quadtree
//!    rebuilt every iteration: a cell of width `w` at distance `d` from the point is summarised by
//!    its centre of mass when `w / d < θ` (and it does not contain the point).
//!
//! Positions and forces are `f64`. Every point's forces are computed independently of the
//! others, and every sum over points (`Z`, the mean) runs sequentially in a fixed order, so the
//! map does not depend on the number of threads: same input and parameters, same bits.
//!
//! [`knn_accuracy`] scores a map by leave-one-out k-NN classification, the measure used to compare
//! with openTSNE (`bench/tsne_peer.sh`).
use crate::progress;
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Tolerance on the entropy (nats) of the per-row perplexity search.
const PERPLEXITY_TOL: f64 = 1e-5;
/// Steps of the per-row perplexity search at most.
const PERPLEXITY_STEPS: usize = 100;
/// Standard deviation of the first coordinate of the initial map (openTSNE's default).
const INIT_STD: f64 = 1e-4;
/// Momentum during early exaggeration, and afterwards.
const MOMENTUM_EARLY: f64 = 0.5;
const MOMENTUM_LATE: f64 = 0.8;
/// Smallest gain of the delta-bar-delta rule.
const MIN_GAIN: f64 = 0.01;
/// Smallest automatic learning rate.
const MIN_AUTO_LEARNING_RATE: f64 = 50.0;
/// Points a quadtree leaf holds at most (more only at [`MAX_DEPTH`]).
const LEAF_SIZE: usize = 4;
/// Depth at which quadtree cells stop splitting (coincident points).
const MAX_DEPTH: usize = 48;
/// Points per parallel task in the force computations.
const CHUNK: usize = 128;

/// Parameters of [`tsne`], with openTSNE's defaults.
///
/// Build with [`TsneParams::new`] and the `with_*` methods; [`TsneParams::validate`] checks them
/// (and [`tsne`] calls it). Deserialising fills missing fields with the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TsneParams {
    /// Effective number of neighbours each point's Gaussian is calibrated to (`≥ 1`, and
    /// `N ≥ ⌊perplexity⌋ + 2`); default 30.
    pub perplexity: f64,
    /// Barnes-Hut accuracy: a quadtree cell of width `w` at distance `d` is summarised when
    /// `w / d < theta`; `0` computes the exact repulsion (`O(N²)` per iteration); default 0.5.
    pub theta: f64,
    /// Gradient-descent iterations in total, early exaggeration included; default 750.
    pub n_iter: usize,
    /// Factor on the attractive forces during the first `early_iter` iterations (`> 0`);
    /// default 12.
    pub early_exaggeration: f64,
    /// Iterations with early exaggeration (`≤ n_iter`); default 250.
    pub early_iter: usize,
    /// Step size; `None` (the default) picks `max(N / early_exaggeration, 50)` (openTSNE's and
    /// scikit-learn's rule for this gradient, which omits the factor 4).
    pub learning_rate: Option<f64>,
    /// Seed of the random initialisation used for axes the data give no variance along.
    pub seed: u64,
}

impl Default for TsneParams {
    fn default() -> Self {
        TsneParams {
            perplexity: 30.0,
            theta: 0.5,
            n_iter: 750,
            early_exaggeration: 12.0,
            early_iter: 250,
            learning_rate: None,
            seed: 0,
        }
    }
}

impl TsneParams {
    /// The defaults: perplexity 30, θ = 0.5, 750 iterations of which 250 with exaggeration 12,
    /// automatic learning rate, seed 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the perplexity.
    pub fn with_perplexity(mut self, perplexity: f64) -> Self {
        self.perplexity = perplexity;
        self
    }

    /// Sets the Barnes-Hut accuracy θ.
    pub fn with_theta(mut self, theta: f64) -> Self {
        self.theta = theta;
        self
    }

    /// Sets the total number of iterations.
    pub fn with_n_iter(mut self, n_iter: usize) -> Self {
        self.n_iter = n_iter;
        self
    }

    /// Sets the early exaggeration factor.
    pub fn with_early_exaggeration(mut self, early_exaggeration: f64) -> Self {
        self.early_exaggeration = early_exaggeration;
        self
    }

    /// Sets the number of early-exaggeration iterations.
    pub fn with_early_iter(mut self, early_iter: usize) -> Self {
        self.early_iter = early_iter;
        self
    }

    /// Sets the learning rate (`None`: automatic).
    pub fn with_learning_rate(mut self, learning_rate: Option<f64>) -> Self {
        self.learning_rate = learning_rate;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The smallest number of points the perplexity allows: `⌊perplexity⌋ + 2`, so that every
    /// point has more than `perplexity` neighbours to spread its probability over.
    pub fn min_points(&self) -> usize {
        // Saturating float → int conversion; `validate` rejects non-finite perplexities first.
        (self.perplexity.floor() as usize).saturating_add(2)
    }

    /// Checks the parameters for `n` points.
    pub fn validate(&self, n: usize) -> Result<(), TsneError> {
        let bad = |name: &'static str, value: f64, expected: &'static str| {
            Err(TsneError::BadParameter {
                name,
                value,
                expected,
            })
        };
        if !(self.perplexity.is_finite() && self.perplexity >= 1.0) {
            return bad("perplexity", self.perplexity, "a finite number ≥ 1");
        }
        if !(self.theta.is_finite() && self.theta >= 0.0) {
            return bad("theta", self.theta, "a finite number ≥ 0");
        }
        if !(self.early_exaggeration.is_finite() && self.early_exaggeration > 0.0) {
            return bad(
                "early_exaggeration",
                self.early_exaggeration,
                "a finite number > 0",
            );
        }
        if self.early_iter > self.n_iter {
            return bad(
                "early_iter",
                self.early_iter as f64,
                "at most n_iter (the total number of iterations)",
            );
        }
        if let Some(lr) = self.learning_rate {
            if !(lr.is_finite() && lr > 0.0) {
                return bad("learning_rate", lr, "a finite number > 0");
            }
        }
        let min = self.min_points();
        if n < min {
            return Err(TsneError::TooFewPoints {
                n,
                min,
                perplexity: self.perplexity,
            });
        }
        Ok(())
    }

    /// The learning rate used for `n` points.
    fn learning_rate_for(&self, n: usize) -> f64 {
        self.learning_rate
            .unwrap_or_else(|| (n as f64 / self.early_exaggeration).max(MIN_AUTO_LEARNING_RATE))
    }

    /// Neighbours per point: `min(N − 1, ⌊3·perplexity⌋)`.
    fn n_neighbours(&self, n: usize) -> usize {
        ((3.0 * self.perplexity).floor() as usize).min(n - 1)
    }
}

/// Why [`tsne`] refused its input.
#[derive(Debug, thiserror::Error)]
pub enum TsneError {
    /// Fewer points than the perplexity needs.
    #[error("t-SNE with perplexity {perplexity} needs at least {min} points, found {n}")]
    TooFewPoints {
        /// Number of points given.
        n: usize,
        /// The smallest number allowed ([`TsneParams::min_points`]).
        min: usize,
        /// The perplexity asked for.
        perplexity: f64,
    },
    /// A NaN or infinite input value.
    #[error("t-SNE input row {row} has a non-finite value ({value} in column {col})")]
    NonFinite {
        /// Row of the first non-finite value.
        row: usize,
        /// Its column.
        col: usize,
        /// The value.
        value: f32,
    },
    /// A parameter out of its range.
    #[error("invalid t-SNE parameter {name} = {value}: expected {expected}")]
    BadParameter {
        /// The field of [`TsneParams`].
        name: &'static str,
        /// Its value.
        value: f64,
        /// What it must be.
        expected: &'static str,
    },
}

/// Embeds the rows of `x` (`N × D`) into 2-D with Barnes-Hut t-SNE. Returns `N × 2`.
///
/// See the [module documentation](self) for the algorithm. Deterministic: the result depends on
/// `x` and `params` only, not on the number of threads. Shows a progress bar on a terminal unless
/// [`progress::set_quiet`] is on.
pub fn tsne(x: ArrayView2<'_, f32>, params: &TsneParams) -> Result<Array2<f32>, TsneError> {
    let n = x.nrows();
    params.validate(n)?;
    check_finite(x)?;
    let x = x.as_standard_layout();
    let knn = nearest_neighbours(x.view(), params.n_neighbours(n));
    let p = joint_probabilities(&knn, params.perplexity);
    drop(knn);
    let init = pca_init(x.view(), params.seed);
    let y = optimise(&p, init, params);
    let mut out = Array2::<f32>::zeros((n, 2));
    for (mut row, yi) in out.rows_mut().into_iter().zip(&y) {
        row[0] = yi[0] as f32;
        row[1] = yi[1] as f32;
    }
    Ok(out)
}

/// Leave-one-out k-NN classification accuracy of the points `y` (a map, usually `N × 2`).
///
/// Each point is classified by the majority label of its `k` nearest other points (Euclidean,
/// ties in distance broken by the lower index; ties in the vote go to the smallest label), and the
/// fraction of points classified as their own label is returned. `k` is capped at `N − 1`; fewer
/// than two points give NaN. Brute force, parallel over points: `O(N²)`.
///
/// # Panics
/// If `labels.len() != y.nrows()` or `k == 0`.
pub fn knn_accuracy(y: ArrayView2<'_, f32>, labels: &[usize], k: usize) -> f64 {
    let n = y.nrows();
    assert_eq!(labels.len(), n, "one label per row of the map");
    assert!(k > 0, "k-NN accuracy needs k ≥ 1");
    if n < 2 {
        return f64::NAN;
    }
    let k = k.min(n - 1);
    let y = y.as_standard_layout();
    let d = y.ncols();
    let flat = y.as_slice().expect("standard layout");
    let n_labels = labels.iter().max().map_or(0, |&m| m + 1);
    let correct: usize = (0..n)
        .into_par_iter()
        .with_min_len(64)
        .map_init(
            || (Vec::with_capacity(n), vec![0usize; n_labels]),
            |(cand, votes), i| {
                let yi = &flat[i * d..(i + 1) * d];
                cand.clear();
                cand.extend((0..n).filter(|&j| j != i).map(|j| {
                    let yj = &flat[j * d..(j + 1) * d];
                    let d2: f64 = yi
                        .iter()
                        .zip(yj)
                        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                        .sum();
                    (d2, j)
                }));
                let by_dist =
                    |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
                if k < cand.len() {
                    cand.select_nth_unstable_by(k - 1, by_dist);
                }
                votes.iter_mut().for_each(|v| *v = 0);
                for &(_, j) in &cand[..k] {
                    votes[labels[j]] += 1;
                }
                let mut best = 0;
                for (l, &v) in votes.iter().enumerate() {
                    if v > votes[best] {
                        best = l;
                    }
                }
                usize::from(best == labels[i])
            },
        )
        .sum();
    correct as f64 / n as f64
}

/// The first non-finite value, row by row.
fn check_finite(x: ArrayView2<'_, f32>) -> Result<(), TsneError> {
    for (row, r) in x.rows().into_iter().enumerate() {
        if let Some((col, &value)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(TsneError::NonFinite { row, col, value });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Affinities
// ---------------------------------------------------------------------------------------------

/// The `k` nearest neighbours of every row, row-major `N × k`, nearest first.
struct Knn {
    k: usize,
    /// Neighbour indices.
    idx: Vec<u32>,
    /// Their squared distances (exact, `f64`).
    d2: Vec<f64>,
}

/// Exact squared distance in `f64`.
#[inline]
fn sq_dist(a: &[f32], b: &[f32]) -> f64 {
    let mut s = 0.0f64;
    for (&x, &y) in a.iter().zip(b) {
        let t = x as f64 - y as f64;
        s += t * t;
    }
    s
}

/// Exact k nearest neighbours by brute force. Rows are processed in blocks whose size depends on
/// `N` only; each block's dot products with all rows are one matrix product, of which each row
/// keeps its `k` smallest distances (ties → lower index). The chosen distances are recomputed
/// exactly and the neighbours ordered by them.
fn nearest_neighbours(x: ArrayView2<'_, f32>, k: usize) -> Knn {
    let n = x.nrows();
    let flat = x.as_slice().expect("standard layout");
    let d = x.ncols();
    let row = |i: usize| &flat[i * d..(i + 1) * d];
    let norms: Vec<f32> = (0..n).map(|i| row(i).iter().map(|v| v * v).sum()).collect();
    // A block's products take at most ~16 MB.
    let block = ((1usize << 22) / n.max(1)).clamp(32, 256);
    let mut idx = vec![0u32; n * k];
    let mut d2 = vec![0f64; n * k];
    idx.par_chunks_mut(block * k)
        .zip(d2.par_chunks_mut(block * k))
        .enumerate()
        .for_each_init(
            || {
                (
                    Vec::<(f32, u32)>::with_capacity(n),
                    Vec::<(f64, u32)>::new(),
                )
            },
            |(cand, exact), (b, (idx_b, d2_b))| {
                let lo = b * block;
                let rows = idx_b.len() / k;
                let xb = x.slice(s![lo..lo + rows, ..]);
                let mut dots = Array2::<f32>::zeros((rows, n));
                general_mat_mul(1.0, &xb, &x.t(), 0.0, &mut dots);
                for (r, dots_r) in dots.rows().into_iter().enumerate() {
                    let i = lo + r;
                    cand.clear();
                    cand.extend(
                        dots_r
                            .iter()
                            .enumerate()
                            .filter(|&(j, _)| j != i)
                            .map(|(j, &dot)| (norms[i] + norms[j] - 2.0 * dot, j as u32)),
                    );
                    if k < cand.len() {
                        cand.select_nth_unstable_by(k - 1, |a, b| {
                            a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
                        });
                    }
                    exact.clear();
                    exact.extend(
                        cand[..k]
                            .iter()
                            .map(|&(_, j)| (sq_dist(row(i), row(j as usize)), j)),
                    );
                    exact.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    for (t, &(dist, j)) in exact.iter().enumerate() {
                        idx_b[r * k + t] = j;
                        d2_b[r * k + t] = dist;
                    }
                }
            },
        );
    Knn { k, idx, d2 }
}

/// The conditional probabilities `p_{j|i}` of one row from its sorted squared distances: a
/// Gaussian whose precision β is found by bisection so that the entropy is `ln(perplexity)`.
fn conditional_row(d2: &[f64], perplexity: f64, out: &mut [f64]) {
    let target = perplexity.ln();
    let d0 = d2[0];
    // Distances relative to the nearest: the same distribution, without underflow.
    let mean = d2.iter().map(|&d| d - d0).sum::<f64>() / d2.len() as f64;
    let mut beta = if mean > 0.0 { 1.0 / mean } else { 1.0 };
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    for _ in 0..PERPLEXITY_STEPS {
        let mut sum = 0.0;
        let mut weighted = 0.0;
        for (o, &d) in out.iter_mut().zip(d2) {
            let e = (-beta * (d - d0)).exp();
            *o = e;
            sum += e;
            weighted += (d - d0) * e;
        }
        let entropy = sum.ln() + beta * weighted / sum;
        let diff = entropy - target;
        if diff.abs() < PERPLEXITY_TOL {
            break;
        }
        if diff > 0.0 {
            // Too flat: sharpen.
            lo = beta;
            beta = if hi.is_finite() {
                0.5 * (beta + hi)
            } else {
                2.0 * beta
            };
        } else {
            hi = beta;
            beta = 0.5 * (beta + lo);
        }
    }
    // `out` holds the weights of the last β tried.
    let sum: f64 = out.iter().sum();
    out.iter_mut().for_each(|o| *o /= sum);
}

/// A sparse symmetric matrix, row by row (columns ascending within a row).
struct Csr {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
}

/// `P = (P_cond + P_condᵀ) / 2N` from the neighbour lists: sums to one, symmetric bit for bit.
fn joint_probabilities(knn: &Knn, perplexity: f64) -> Csr {
    let k = knn.k;
    let n = knn.idx.len() / k;
    let mut cond = vec![0f64; n * k];
    cond.par_chunks_mut(k)
        .zip(knn.d2.par_chunks(k))
        .for_each(|(out, d2)| conditional_row(d2, perplexity, out));
    // Forward rows sorted by column.
    let mut fwd: Vec<(u32, f64)> = knn.idx.iter().copied().zip(cond).collect();
    fwd.par_chunks_mut(k)
        .for_each(|r| r.sort_unstable_by_key(|&(j, _)| j));
    // Transposed rows: sources in ascending order (counting sort).
    let mut rev_ptr = vec![0usize; n + 1];
    for &(j, _) in &fwd {
        rev_ptr[j as usize + 1] += 1;
    }
    for i in 0..n {
        rev_ptr[i + 1] += rev_ptr[i];
    }
    let mut fill = rev_ptr.clone();
    let mut rev = vec![(0u32, 0f64); n * k];
    for (i, r) in fwd.chunks(k).enumerate() {
        for &(j, p) in r {
            let slot = &mut fill[j as usize];
            rev[*slot] = (i as u32, p);
            *slot += 1;
        }
    }
    // Merge each row's forward and transposed entries.
    let scale = 1.0 / (2.0 * n as f64);
    let mut indptr = Vec::with_capacity(n + 1);
    indptr.push(0);
    let mut indices = Vec::with_capacity(2 * n * k);
    let mut values = Vec::with_capacity(2 * n * k);
    for i in 0..n {
        let a = &fwd[i * k..(i + 1) * k];
        let b = &rev[rev_ptr[i]..rev_ptr[i + 1]];
        let (mut s, mut t) = (0, 0);
        while s < a.len() || t < b.len() {
            let (j, p) = match (a.get(s), b.get(t)) {
                (Some(&(ja, pa)), Some(&(jb, pb))) => match ja.cmp(&jb) {
                    Ordering::Less => {
                        s += 1;
                        (ja, pa)
                    }
                    Ordering::Greater => {
                        t += 1;
                        (jb, pb)
                    }
                    Ordering::Equal => {
                        s += 1;
                        t += 1;
                        (ja, pa + pb)
                    }
                },
                (Some(&(ja, pa)), None) => {
                    s += 1;
                    (ja, pa)
                }
                (None, Some(&(jb, pb))) => {
                    t += 1;
                    (jb, pb)
                }
                (None, None) => unreachable!(),
            };
            indices.push(j);
            values.push(p * scale);
        }
        indptr.push(indices.len());
    }
    Csr {
        indptr,
        indices,
        values,
    }
}

// ---------------------------------------------------------------------------------------------
// Initialisation
// ---------------------------------------------------------------------------------------------

/// PCA to 2-D, scaled to a first-coordinate standard deviation of [`INIT_STD`]; axes without
/// variance are Gaussian noise from the seed.
fn pca_init(x: ArrayView2<'_, f32>, seed: u64) -> Vec<[f64; 2]> {
    let (n, d) = x.dim();
    let mut mean = vec![0f64; d];
    for r in x.rows() {
        for (m, &v) in mean.iter_mut().zip(r) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut centred = x.to_owned();
    for mut r in centred.rows_mut() {
        for (v, &m) in r.iter_mut().zip(&mean) {
            *v = (*v as f64 - m) as f32;
        }
    }
    let mut axes: Vec<Option<Vec<f64>>> = vec![None, None];
    if d > 0 {
        // Single-threaded matrix product: deterministic.
        let cov = centred.t().dot(&centred);
        let cov = nalgebra::DMatrix::<f64>::from_fn(d, d, |i, j| {
            0.5 * (cov[[i, j]] as f64 + cov[[j, i]] as f64)
        });
        let eig = nalgebra::SymmetricEigen::new(cov);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| {
            eig.eigenvalues[b]
                .total_cmp(&eig.eigenvalues[a])
                .then(a.cmp(&b))
        });
        let top = eig.eigenvalues[order[0]].max(0.0);
        for (slot, &c) in axes.iter_mut().zip(&order) {
            let lambda = eig.eigenvalues[c];
            if !(lambda > 1e-12 * top && lambda > 0.0) {
                continue;
            }
            let mut v: Vec<f64> = eig.eigenvectors.column(c).iter().copied().collect();
            // Sign: the largest loading (first of equals) positive.
            let mut big = 0;
            for (i, a) in v.iter().enumerate() {
                if a.abs() > v[big].abs() {
                    big = i;
                }
            }
            if v[big] < 0.0 {
                v.iter_mut().for_each(|a| *a = -*a);
            }
            *slot = Some(v);
        }
    }
    let mut y = vec![[0f64; 2]; n];
    let mut rng = crate::seed::rng(seed, "tsne/init");
    for (c, axis) in axes.iter().enumerate() {
        match axis {
            Some(v) => {
                let cf = centred.view();
                y.par_iter_mut().enumerate().for_each(|(i, yi)| {
                    yi[c] = cf.row(i).iter().zip(v).map(|(&a, &b)| a as f64 * b).sum();
                });
            }
            None => y
                .iter_mut()
                .for_each(|yi| yi[c] = StandardNormal.sample(&mut rng)),
        }
    }
    let m0 = y.iter().map(|p| p[0]).sum::<f64>() / n as f64;
    let m1 = y.iter().map(|p| p[1]).sum::<f64>() / n as f64;
    let var = y.iter().map(|p| (p[0] - m0).powi(2)).sum::<f64>() / n as f64;
    let scale = if var > 0.0 {
        INIT_STD / var.sqrt()
    } else {
        1.0
    };
    for p in &mut y {
        p[0] = (p[0] - m0) * scale;
        p[1] = (p[1] - m1) * scale;
    }
    y
}

// ---------------------------------------------------------------------------------------------
// Barnes-Hut quadtree
// ---------------------------------------------------------------------------------------------

/// A quadtree cell. Cells are stored depth-first; `skip` is the index after the cell's subtree,
/// so a leaf is a cell with `skip == own index + 1`.
#[derive(Clone, Copy)]
struct Node {
    /// Centre of mass.
    cx: f64,
    cy: f64,
    /// Number of points.
    mass: f64,
    /// Cell width, squared.
    w2: f64,
    /// The cell's points: `pts[start..end]`.
    start: u32,
    end: u32,
    skip: u32,
}

/// A quadtree over the current embedding, rebuilt every iteration (allocations reused).
#[derive(Default)]
struct QuadTree {
    nodes: Vec<Node>,
    /// Point indices in tree order.
    perm: Vec<u32>,
    /// Positions in tree order.
    pts: Vec<[f64; 2]>,
    /// Partition scratch.
    scratch: Vec<u32>,
}

impl QuadTree {
    fn build(&mut self, y: &[[f64; 2]]) {
        let n = y.len();
        self.nodes.clear();
        self.perm.clear();
        self.perm.extend(0..n as u32);
        self.scratch.resize(n, 0);
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in y {
            x0 = x0.min(p[0]);
            x1 = x1.max(p[0]);
            y0 = y0.min(p[1]);
            y1 = y1.max(p[1]);
        }
        let half = 0.5 * (x1 - x0).max(y1 - y0);
        self.split(y, 0, n, 0.5 * (x0 + x1), 0.5 * (y0 + y1), half, 0);
        self.pts.clear();
        self.pts.extend(self.perm.iter().map(|&i| y[i as usize]));
    }

    /// Builds the cell of `perm[lo..hi]` centred at `(mx, my)` with half-width `half`; returns
    /// its mass-weighted centre sums.
    #[allow(clippy::too_many_arguments)]
    fn split(
        &mut self,
        y: &[[f64; 2]],
        lo: usize,
        hi: usize,
        mx: f64,
        my: f64,
        half: f64,
        depth: usize,
    ) -> (f64, f64) {
        let me = self.nodes.len();
        self.nodes.push(Node {
            cx: 0.0,
            cy: 0.0,
            mass: (hi - lo) as f64,
            w2: 4.0 * half * half,
            start: lo as u32,
            end: hi as u32,
            skip: 0,
        });
        let (mut sx, mut sy) = (0.0, 0.0);
        if hi - lo <= LEAF_SIZE || depth >= MAX_DEPTH {
            for &i in &self.perm[lo..hi] {
                sx += y[i as usize][0];
                sy += y[i as usize][1];
            }
        } else {
            // Stable counting sort of the cell's points by quadrant.
            let quad = |p: &[f64; 2]| usize::from(p[0] >= mx) + 2 * usize::from(p[1] >= my);
            let mut start = [0usize; 5];
            for &i in &self.perm[lo..hi] {
                start[quad(&y[i as usize]) + 1] += 1;
            }
            for q in 0..4 {
                start[q + 1] += start[q];
            }
            let mut fill = start;
            for &i in &self.perm[lo..hi] {
                let q = quad(&y[i as usize]);
                self.scratch[lo + fill[q]] = i;
                fill[q] += 1;
            }
            self.perm[lo..hi].copy_from_slice(&self.scratch[lo..hi]);
            let h = 0.5 * half;
            for q in 0..4 {
                let (a, b) = (lo + start[q], lo + start[q + 1]);
                if a == b {
                    continue;
                }
                let cx = if q & 1 == 1 { mx + h } else { mx - h };
                let cy = if q & 2 == 2 { my + h } else { my - h };
                let (qx, qy) = self.split(y, a, b, cx, cy, h, depth + 1);
                sx += qx;
                sy += qy;
            }
        }
        let end = self.nodes.len() as u32;
        let node = &mut self.nodes[me];
        node.cx = sx / node.mass;
        node.cy = sy / node.mass;
        node.skip = end;
        (sx, sy)
    }

    /// The unnormalised repulsion on the point at tree position `s`:
    /// `(Σⱼ qᵢⱼ² (yᵢ − yⱼ), Σⱼ qᵢⱼ)` over all other points, Barnes-Hut approximated.
    #[inline]
    fn repulsion(&self, s: usize, theta2: f64) -> [f64; 3] {
        let [px, py] = self.pts[s];
        let s32 = s as u32;
        let (mut fx, mut fy, mut z) = (0.0, 0.0, 0.0);
        let nodes = &self.nodes[..];
        let mut c = 0;
        while c < nodes.len() {
            let nd = &nodes[c];
            let dx = px - nd.cx;
            let dy = py - nd.cy;
            let d2 = dx * dx + dy * dy;
            let inside = nd.start <= s32 && s32 < nd.end;
            if !inside && nd.w2 < theta2 * d2 {
                let q = 1.0 / (1.0 + d2);
                let mq = nd.mass * q;
                z += mq;
                let mq2 = mq * q;
                fx += mq2 * dx;
                fy += mq2 * dy;
                c = nd.skip as usize;
            } else if nd.skip as usize == c + 1 {
                for j in nd.start..nd.end {
                    if j == s32 {
                        continue;
                    }
                    let [qx, qy] = self.pts[j as usize];
                    let dx = px - qx;
                    let dy = py - qy;
                    let q = 1.0 / (1.0 + dx * dx + dy * dy);
                    z += q;
                    let q2 = q * q;
                    fx += q2 * dx;
                    fy += q2 * dy;
                }
                c += 1;
            } else {
                c += 1;
            }
        }
        [fx, fy, z]
    }
}

// ---------------------------------------------------------------------------------------------
// Gradient descent
// ---------------------------------------------------------------------------------------------

#[inline]
fn sign(v: f64) -> i8 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

/// Per-point optimiser state.
#[derive(Clone, Copy)]
struct State {
    update: [f64; 2],
    gains: [f64; 2],
}

fn optimise(p: &Csr, mut y: Vec<[f64; 2]>, params: &TsneParams) -> Vec<[f64; 2]> {
    let n = y.len();
    let lr = params.learning_rate_for(n);
    let theta2 = params.theta * params.theta;
    let mut state = vec![
        State {
            update: [0.0; 2],
            gains: [1.0; 2],
        };
        n
    ];
    let mut next = y.clone();
    let mut tree = QuadTree::default();
    let mut rep = vec![[0f64; 3]; n];
    let mut rank = vec![0u32; n];
    let bar = progress::bar(params.n_iter as u64, "t-SNE");
    for it in 0..params.n_iter {
        let (exaggeration, momentum) = if it < params.early_iter {
            (params.early_exaggeration, MOMENTUM_EARLY)
        } else {
            (1.0, MOMENTUM_LATE)
        };
        tree.build(&y);
        for (s, &i) in tree.perm.iter().enumerate() {
            rank[i as usize] = s as u32;
        }
        rep.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| {
                for (o, r) in chunk.iter_mut().enumerate() {
                    *r = tree.repulsion(c * CHUNK + o, theta2);
                }
            });
        // Z in tree order, sequentially.
        let z: f64 = rep.iter().map(|r| r[2]).sum();
        let inv_z = 1.0 / z;
        let y_ref = &y;
        next.par_chunks_mut(CHUNK)
            .zip(state.par_chunks_mut(CHUNK))
            .enumerate()
            .for_each(|(c, (next_c, state_c))| {
                for (o, (yn, st)) in next_c.iter_mut().zip(state_c).enumerate() {
                    let i = c * CHUNK + o;
                    let [px, py] = y_ref[i];
                    let (mut ax, mut ay) = (0.0, 0.0);
                    for e in p.indptr[i]..p.indptr[i + 1] {
                        let [qx, qy] = y_ref[p.indices[e] as usize];
                        let dx = px - qx;
                        let dy = py - qy;
                        let w = p.values[e] / (1.0 + dx * dx + dy * dy);
                        ax += w * dx;
                        ay += w * dy;
                    }
                    let r = rep[rank[i] as usize];
                    let grad = [
                        exaggeration * ax - r[0] * inv_z,
                        exaggeration * ay - r[1] * inv_z,
                    ];
                    let pos = [px, py];
                    for d in 0..2 {
                        let g = &mut st.gains[d];
                        *g = if sign(grad[d]) != sign(st.update[d]) {
                            *g + 0.2
                        } else {
                            (*g * 0.8).max(MIN_GAIN)
                        };
                        st.update[d] = momentum * st.update[d] - lr * *g * grad[d];
                        yn[d] = pos[d] + st.update[d];
                    }
                }
            });
        std::mem::swap(&mut y, &mut next);
        let m0 = y.iter().map(|p| p[0]).sum::<f64>() / n as f64;
        let m1 = y.iter().map(|p| p[1]).sum::<f64>() / n as f64;
        for p in &mut y {
            p[0] -= m0;
            p[1] -= m1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{fixture_dir, load, Split};
    use rand::Rng as _;

    /// `per` points around each of `centres.len()` centres in `d` dimensions with unit noise.
    fn blobs(centres: &[Vec<f32>], per: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
        let d = centres[0].len();
        let mut rng = crate::seed::rng(seed, "test/blobs");
        let n = centres.len() * per;
        let mut x = Array2::<f32>::zeros((n, d));
        let mut labels = Vec::with_capacity(n);
        for (i, mut row) in x.rows_mut().into_iter().enumerate() {
            let c = i / per;
            labels.push(c);
            for (v, &m) in row.iter_mut().zip(&centres[c]) {
                let z: f32 = StandardNormal.sample(&mut rng);
                *v = m + z;
            }
        }
        (x, labels)
    }

    fn three_blobs() -> (Array2<f32>, Vec<usize>) {
        let mut centres = vec![vec![0f32; 10]; 3];
        centres[1][0] = 12.0;
        centres[2][1] = 12.0;
        blobs(&centres, 100, 1)
    }

    /// Exact (θ = 0, no tree) repulsion for comparison.
    fn exact_repulsion(y: &[[f64; 2]]) -> (Vec<[f64; 2]>, f64) {
        let mut z = 0.0;
        let f = y
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut f = [0.0; 2];
                for (j, b) in y.iter().enumerate() {
                    if i != j {
                        let dx = a[0] - b[0];
                        let dy = a[1] - b[1];
                        let q = 1.0 / (1.0 + dx * dx + dy * dy);
                        z += q;
                        f[0] += q * q * dx;
                        f[1] += q * q * dy;
                    }
                }
                f
            })
            .collect();
        (f, z)
    }

    #[test]
    fn three_blobs_are_separated() {
        let (x, labels) = three_blobs();
        let y = tsne(x.view(), &TsneParams::new()).unwrap();
        assert_eq!(y.dim(), (300, 2));
        assert!(y.iter().all(|v| v.is_finite()));
        let acc = knn_accuracy(y.view(), &labels, 10);
        assert!(acc >= 0.99, "10-NN accuracy {acc}");
        // Centroids and RMS spreads of the blobs in the map.
        let stats: Vec<([f64; 2], f64)> = (0..3)
            .map(|c| {
                let rows: Vec<_> = (0..300).filter(|&i| labels[i] == c).collect();
                let m = [0, 1].map(|d| {
                    rows.iter().map(|&i| y[[i, d]] as f64).sum::<f64>() / rows.len() as f64
                });
                let spread = (rows
                    .iter()
                    .map(|&i| (y[[i, 0]] as f64 - m[0]).powi(2) + (y[[i, 1]] as f64 - m[1]).powi(2))
                    .sum::<f64>()
                    / rows.len() as f64)
                    .sqrt();
                (m, spread)
            })
            .collect();
        for a in 0..3 {
            for b in a + 1..3 {
                let dist = ((stats[a].0[0] - stats[b].0[0]).powi(2)
                    + (stats[a].0[1] - stats[b].0[1]).powi(2))
                .sqrt();
                assert!(
                    dist > stats[a].1 + stats[b].1,
                    "blobs {a} and {b}: centroids {dist} apart, spreads {} and {}",
                    stats[a].1,
                    stats[b].1
                );
            }
        }
    }

    #[test]
    fn mnist_fixture_map_keeps_classes_apart() {
        let ds = load("mnist-mini", Split::Train, &fixture_dir()).unwrap();
        let x = ds.pixels_as_features();
        let labels = ds.labels.clone().unwrap();
        let y = tsne(x.view(), &TsneParams::new()).unwrap();
        let acc = knn_accuracy(y.view(), &labels, 10);
        let mut rng = crate::seed::rng(3, "test/random-map");
        let random = Array2::from_shape_fn((x.nrows(), 2), |_| rng.random::<f32>());
        let chance = knn_accuracy(random.view(), &labels, 10);
        eprintln!("mnist-mini 10-NN accuracy: map {acc:.4}, random {chance:.4}");
        // Measured 0.8975 (openTSNE on the same data: 0.8995 with BH, 0.887 with FFT).
        assert!(acc >= 0.87, "10-NN accuracy of the map {acc}");
        assert!(chance < 0.2, "10-NN accuracy of a random map {chance}");
    }

    #[test]
    fn same_bits_with_one_and_two_threads() {
        let (x, _) = three_blobs();
        let params = TsneParams::new().with_n_iter(300).with_early_iter(100);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| tsne(x.view(), &params).unwrap())
        };
        let one = run(1);
        let two = run(2);
        let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one), bits(&two));
        assert_eq!(bits(&one), bits(&run(2)));
    }

    #[test]
    fn too_few_points_and_non_finite_input_are_errors() {
        let x = Array2::<f32>::zeros((20, 3));
        let err = tsne(x.view(), &TsneParams::new()).unwrap_err();
        assert!(
            matches!(err, TsneError::TooFewPoints { n: 20, min: 32, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("20") && err.to_string().contains("32"));
        // Enough points for a smaller perplexity.
        let y = tsne(x.view(), &TsneParams::new().with_perplexity(5.0)).unwrap();
        assert!(y.iter().all(|v| v.is_finite()));

        let (mut x, _) = three_blobs();
        x[[123, 4]] = f32::NAN;
        let err = tsne(x.view(), &TsneParams::new()).unwrap_err();
        assert!(
            matches!(
                err,
                TsneError::NonFinite {
                    row: 123,
                    col: 4,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("123"));
        x[[123, 4]] = f32::INFINITY;
        assert!(matches!(
            tsne(x.view(), &TsneParams::new()),
            Err(TsneError::NonFinite { row: 123, .. })
        ));
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            (TsneParams::new().with_perplexity(0.5), "perplexity"),
            (TsneParams::new().with_perplexity(f64::NAN), "perplexity"),
            (TsneParams::new().with_theta(-0.1), "theta"),
            (
                TsneParams::new().with_early_exaggeration(0.0),
                "early_exaggeration",
            ),
            (
                TsneParams::new().with_n_iter(100).with_early_iter(250),
                "early_iter",
            ),
            (
                TsneParams::new().with_learning_rate(Some(-1.0)),
                "learning_rate",
            ),
        ];
        for (params, name) in cases {
            let err = params.validate(1000).unwrap_err();
            match &err {
                TsneError::BadParameter { name: n, .. } => assert_eq!(*n, name),
                other => panic!("{name}: {other}"),
            }
            assert!(err.to_string().contains(name), "{err}");
        }
        assert!(TsneParams::new().validate(32).is_ok());
        assert!(TsneParams::new().validate(31).is_err());
        // Serde: missing fields take the defaults, unknown ones are refused.
        let p: TsneParams = serde_json::from_str(r#"{"perplexity": 10}"#).unwrap();
        assert_eq!(p, TsneParams::new().with_perplexity(10.0));
        assert!(serde_json::from_str::<TsneParams>(r#"{"perplexty": 10}"#).is_err());
    }

    #[test]
    fn affinities_match_the_perplexity_and_are_symmetric() {
        let (x, _) = three_blobs();
        let params = TsneParams::new().with_perplexity(20.0);
        let knn = nearest_neighbours(x.view(), params.n_neighbours(300));
        assert_eq!(knn.k, 60);
        // Neighbours are exact: compare one row with a full sort.
        let row = |i: usize| x.row(i).to_vec();
        let mut all: Vec<(f64, u32)> = (0..300)
            .filter(|&j| j != 7)
            .map(|j| (sq_dist(&row(7), &row(j)), j as u32))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(
            &knn.idx[7 * 60..8 * 60],
            all[..60].iter().map(|a| a.1).collect::<Vec<_>>()
        );
        for i in 0..300 {
            let d2 = &knn.d2[i * 60..(i + 1) * 60];
            let mut pr = vec![0.0; 60];
            conditional_row(d2, 20.0, &mut pr);
            let h: f64 = -pr
                .iter()
                .filter(|&&p| p > 0.0)
                .map(|p| p * p.ln())
                .sum::<f64>();
            assert!(
                (h.exp() - 20.0).abs() < 1e-3,
                "row {i}: perplexity {}",
                h.exp()
            );
        }
        let p = joint_probabilities(&knn, 20.0);
        let total: f64 = p.values.iter().sum();
        assert!((total - 1.0).abs() < 1e-9, "sum {total}");
        let get = |i: usize, j: u32| {
            let r = p.indptr[i]..p.indptr[i + 1];
            p.indices[r.clone()]
                .iter()
                .position(|&c| c == j)
                .map(|e| p.values[r.start + e])
        };
        for i in 0..300 {
            for e in p.indptr[i]..p.indptr[i + 1] {
                let j = p.indices[e];
                assert_ne!(j as usize, i);
                assert_eq!(get(j as usize, i as u32), Some(p.values[e]));
            }
        }
    }

    #[test]
    fn barnes_hut_matches_exact_repulsion() {
        let mut rng = crate::seed::rng(5, "test/bh");
        let y: Vec<[f64; 2]> = (0..500)
            .map(|i| {
                let c = (i % 4) as f64 * 10.0;
                [
                    c + Distribution::<f64>::sample(&StandardNormal, &mut rng),
                    3.0 * Distribution::<f64>::sample(&StandardNormal, &mut rng),
                ]
            })
            .collect();
        let (f, z) = exact_repulsion(&y);
        let mut tree = QuadTree::default();
        tree.build(&y);
        // Errors relative to the RMS force (single points' forces may nearly cancel).
        let rms = (f.iter().map(|e| e[0] * e[0] + e[1] * e[1]).sum::<f64>() / 500.0).sqrt();
        for (theta, tol) in [(0.0, 1e-12), (0.5, 0.05)] {
            let mut zt = 0.0;
            let mut worst: f64 = 0.0;
            for (s, &i) in tree.perm.iter().enumerate() {
                let r = tree.repulsion(s, theta * theta);
                zt += r[2];
                let e = &f[i as usize];
                worst = worst.max((r[0] - e[0]).hypot(r[1] - e[1]) / rms);
            }
            eprintln!(
                "θ={theta}: Z relative error {:e}, worst force error / RMS {worst:e}",
                (zt - z).abs() / z
            );
            assert!((zt - z).abs() / z < tol / 5.0, "θ={theta}: Z {zt} vs {z}");
            assert!(
                worst < tol,
                "θ={theta}: worst force error / RMS force {worst}"
            );
        }
        // Coincident points do not break the tree.
        let same = vec![[1.0, 2.0]; 40];
        tree.build(&same);
        let r = tree.repulsion(3, 0.25);
        assert_eq!(r, [0.0, 0.0, 39.0]);
    }

    #[test]
    fn knn_accuracy_counts_and_breaks_ties() {
        let y = ndarray::array![
            [0.0f32, 0.0],
            [0.1, 0.0],
            [0.2, 0.0],
            [5.0, 0.0],
            [5.1, 0.0]
        ];
        // Point 3's two nearest are 4 (label 1) and 2 (label 0): a tie, going to label 0.
        let labels = [0, 0, 0, 1, 1];
        let acc = knn_accuracy(y.view(), &labels, 2);
        // 0,1,2 correct; 3: tie {0,1} → 0, wrong; 4: neighbours 3 (1) and 2 (0) → 0, wrong.
        assert!((acc - 0.6).abs() < 1e-12, "{acc}");
        assert_eq!(knn_accuracy(y.view(), &labels, 1), 1.0);
        assert!(knn_accuracy(y.slice(s![..1, ..]), &labels[..1], 3).is_nan());
        // k larger than N − 1 is capped: 4 neighbours, labels 0,0,0,1 or 0,0,1,1.
        assert!((knn_accuracy(y.view(), &labels, 10) - 0.6).abs() < 1e-12);
    }

    #[test]
    fn constant_and_one_dimensional_input_get_a_random_axis() {
        let x = Array2::<f32>::from_shape_fn((50, 1), |(i, _)| (i % 5) as f32);
        let params = TsneParams::new()
            .with_perplexity(5.0)
            .with_n_iter(100)
            .with_early_iter(50);
        let a = tsne(x.view(), &params).unwrap();
        assert!(a.iter().all(|v| v.is_finite()));
        assert_eq!(a, tsne(x.view(), &params).unwrap());
        let b = tsne(x.view(), &params.clone().with_seed(1)).unwrap();
        assert_ne!(a, b);
        let init = pca_init(x.view(), 0);
        let std0 = (init.iter().map(|p| p[0] * p[0]).sum::<f64>() / 50.0).sqrt();
        assert!((std0 - INIT_STD).abs() < 1e-12 * INIT_STD.max(1.0));
    }
}
