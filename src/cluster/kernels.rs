//! Numeric kernels shared by the algorithms: rows with cached norms, exact nearest-centroid
//! assignment, deterministic accumulation of cluster sums, k-means++ seeding, empty-cluster repair.
//!
//! Hand-written: no crate offers an assignment step that is both exact (equal to the plain `f64`
//! loop) and independent of the thread count, which the reference tests and the reproducibility
//! rules need. The dot products of a block of rows with the centroids are a small register-blocked
//! kernel ([`Panel`]) rather than ndarray's matrix product: with `k ≈ 10` columns, matrixmultiply
//! spent more time packing the data block than multiplying (profiled: 38 % `pack_avx2` vs 13 %
//! kernel for 5 k-means iterations on 60 000 × 64), and the data never need packing here.
//! See `benches/cluster.rs` for the measured speed.
use super::preprocess::check_finite;
use super::ClusterError;
use crate::labels::{Adjacency, ConstraintSet};
use crate::seed::Rng;
use ndarray::{s, Array2, ArrayView2, CowArray, Ix2};
use rand::Rng as _;
use rayon::prelude::*;

/// Marks a point not yet assigned in a sequential (ICM) pass.
pub(crate) const UNASSIGNED: u32 = u32::MAX;

/// Rows per matrix product (keeps a block of rows and its `rows × k` products in L2).
const SUB_ROWS: usize = 512;
/// Upper bound on the number of row groups (each group has its own partial sums).
const MAX_GROUPS: usize = 32;
/// Lower bound on the rows of a group (smaller groups are not worth a task).
const MIN_GROUP_ROWS: usize = 256;

/// Rows per group: a function of `n` only, so partial sums — and hence every result — do not
/// depend on the number of threads.
fn group_rows(n: usize) -> usize {
    n.div_ceil(MAX_GROUPS).max(MIN_GROUP_ROWS)
}

/// The squared Euclidean distance in `f64`, summed in coordinate order. This is the distance every
/// assignment is defined by.
#[inline]
pub(crate) fn sq_dist(a: &[f32], b: &[f32]) -> f64 {
    let mut s = 0.0f64;
    for (&x, &y) in a.iter().zip(b) {
        let t = x as f64 - y as f64;
        s += t * t;
    }
    s
}

/// The data in row-major layout with cached squared row norms.
pub(crate) struct Points<'a> {
    x: CowArray<'a, f32, Ix2>,
    /// Number of rows.
    pub n: usize,
    /// Number of columns.
    pub d: usize,
    /// `‖xᵢ‖²` in `f64`.
    pub sq_norms: Vec<f64>,
    group_rows: usize,
}

impl<'a> Points<'a> {
    /// Checks that `x` is non-empty and finite and caches its row norms.
    pub fn new(x: ArrayView2<'a, f32>) -> Result<Self, ClusterError> {
        let (n, d) = x.dim();
        if n == 0 || d == 0 {
            return Err(ClusterError::InvalidData(format!(
                "the feature matrix is {n} × {d}; need at least one row and one column"
            )));
        }
        let x: CowArray<'a, f32, Ix2> = if x.is_standard_layout() {
            CowArray::from(x)
        } else {
            CowArray::from(x.as_standard_layout().into_owned())
        };
        let slice = x.as_slice().expect("standard layout");
        let sq_norms: Vec<f64> = slice
            .par_chunks(d)
            .map(|r| {
                let mut s = 0.0f64;
                for &v in r {
                    s += v as f64 * v as f64;
                }
                s
            })
            .collect();
        // A non-finite entry makes its row's norm non-finite (finite f32 squares cannot overflow
        // f64); only then scan for the exact position.
        if sq_norms.iter().any(|v| !v.is_finite()) {
            check_finite(x.view()).map_err(|e| ClusterError::InvalidData(e.to_string()))?;
        }
        Ok(Points {
            x,
            n,
            d,
            sq_norms,
            group_rows: group_rows(n),
        })
    }

    /// All rows, row-major.
    pub fn as_slice(&self) -> &[f32] {
        self.x.as_slice().expect("standard layout")
    }

    /// Row `i`.
    #[inline]
    pub fn row(&self, i: usize) -> &[f32] {
        &self.as_slice()[i * self.d..(i + 1) * self.d]
    }

    /// The mean over columns of the per-column (population) variance, as scikit-learn scales its
    /// k-means tolerance.
    pub fn mean_variance(&self) -> f64 {
        let d = self.d;
        let parts = self.par_groups(|_, xs, _| {
            let mut s = vec![0.0f64; d];
            for r in xs.chunks_exact(d) {
                for (a, &v) in s.iter_mut().zip(r) {
                    *a += v as f64;
                }
            }
            s
        });
        let mut col = vec![0.0f64; d];
        for p in parts {
            for (a, v) in col.iter_mut().zip(p) {
                *a += v;
            }
        }
        let n = self.n as f64;
        let mean_sq: f64 = col.iter().map(|s| (s / n) * (s / n)).sum();
        let total: f64 = self.sq_norms.iter().sum();
        ((total / n - mean_sq) / d as f64).max(0.0)
    }

    /// Runs `f(first_row, rows, norms)` on each row group in parallel; results in group order.
    fn par_groups<T: Send>(&self, f: impl Fn(usize, &[f32], &[f64]) -> T + Sync) -> Vec<T> {
        let (d, g) = (self.d, self.group_rows);
        self.as_slice()
            .par_chunks(g * d)
            .zip(self.sq_norms.par_chunks(g))
            .enumerate()
            .map(|(i, (xs, ns))| f(i * g, xs, ns))
            .collect()
    }

    /// As [`Self::par_groups`] with the group's slice of `labels`.
    fn par_groups_mut<T: Send>(
        &self,
        labels: &mut [u32],
        f: impl Fn(usize, &[f32], &[f64], &mut [u32]) -> T + Sync,
    ) -> Vec<T> {
        let (d, g) = (self.d, self.group_rows);
        self.as_slice()
            .par_chunks(g * d)
            .zip(self.sq_norms.par_chunks(g))
            .zip(labels.par_chunks_mut(g))
            .enumerate()
            .map(|(i, ((xs, ns), ls))| f(i * g, xs, ns, ls))
            .collect()
    }
}

/// Lanes of the dot-product kernel (one AVX register of `f32`).
const LANES: usize = 8;

/// A set of vectors (centroids or candidates) laid out for [`Panel::dots`]: transposed and padded
/// with zero columns to a multiple of [`LANES`] (`D × kp`, row-major).
pub(crate) struct Panel {
    ct: Vec<f32>,
    kp: usize,
    d: usize,
}

impl Panel {
    /// The panel of the rows of `c` (`k × D`).
    pub fn new(c: &Array2<f32>) -> Self {
        let (k, d) = c.dim();
        let kp = k.div_ceil(LANES) * LANES;
        let mut ct = vec![0.0f32; d * kp];
        for ((i, j), &v) in c.indexed_iter() {
            ct[j * kp + i] = v;
        }
        Panel { ct, kp, d }
    }

    /// `out[r·kp + c] = x_r · v_c` for the rows of `xs` (`rows × D`); `out` has `rows × kp`
    /// entries (the padding lanes get 0). Each lane accumulates its `D` products in order with
    /// fused multiply–adds (`f32::mul_add`: one rounding each, so the error is at most
    /// `γ_D Σ|xᵢvᵢ|`). On CPUs with AVX2 and FMA these are 8-wide hardware FMAs; elsewhere
    /// `mul_add` is computed in software, slower but bit-identical, so results do not depend on
    /// the machine.
    pub fn dots(&self, xs: &[f32], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU supports AVX2 and FMA, checked just above.
                unsafe { self.dots_avx2(xs, out) };
                return;
            }
        }
        self.dots_generic(xs, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn dots_avx2(&self, xs: &[f32], out: &mut [f32]) {
        self.dots_generic(xs, out);
    }

    #[inline(always)]
    pub(crate) fn dots_generic(&self, xs: &[f32], out: &mut [f32]) {
        // Eight independent accumulator chains hide the add latency: 4 rows × 2 blocks of
        // vectors when there are 16 or more, else 8 rows × 1 block.
        if self.kp.is_multiple_of(2 * LANES) {
            self.rows_in_steps::<4, 2>(xs, out);
        } else {
            self.rows_in_steps::<8, 1>(xs, out);
        }
    }

    #[inline(always)]
    fn rows_in_steps<const R: usize, const B: usize>(&self, xs: &[f32], out: &mut [f32]) {
        let (d, kp) = (self.d, self.kp);
        let rows = xs.len() / d;
        let mut r = 0;
        while r + R <= rows {
            self.micro::<R, B>(&xs[r * d..(r + R) * d], &mut out[r * kp..(r + R) * kp]);
            r += R;
        }
        while r < rows {
            self.micro::<1, B>(&xs[r * d..(r + 1) * d], &mut out[r * kp..(r + 1) * kp]);
            r += 1;
        }
    }

    /// `R` rows against all vectors, `B` blocks of [`LANES`] vectors at a time (`kp` is a multiple
    /// of `B · LANES`). Index loops over the constant bounds keep the accumulators in registers.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)]
    fn micro<const R: usize, const B: usize>(&self, xs: &[f32], out: &mut [f32]) {
        let (d, kp) = (self.d, self.kp);
        let x: [&[f32]; R] = std::array::from_fn(|r| &xs[r * d..(r + 1) * d]);
        for cb in (0..kp).step_by(B * LANES) {
            let mut acc = [[[0.0f32; LANES]; B]; R];
            for j in 0..d {
                let row = &self.ct[j * kp + cb..j * kp + cb + B * LANES];
                let c: [&[f32; LANES]; B] = std::array::from_fn(|b| {
                    row[b * LANES..(b + 1) * LANES].try_into().expect("LANES")
                });
                for r in 0..R {
                    let v = x[r][j];
                    for b in 0..B {
                        for l in 0..LANES {
                            acc[r][b][l] = v.mul_add(c[b][l], acc[r][b][l]);
                        }
                    }
                }
            }
            for r in 0..R {
                for b in 0..B {
                    let o = r * kp + cb + b * LANES;
                    out[o..o + LANES].copy_from_slice(&acc[r][b]);
                }
            }
        }
    }
}

/// Centroids prepared for the assignment kernel.
pub(crate) struct Centroids<'c> {
    c: &'c Array2<f32>,
    panel: Panel,
    /// `‖μ_c‖²`, rounded to `f32`.
    norms: Vec<f32>,
    /// `max_c ‖μ_c‖²`.
    max_norm: f64,
}

impl<'c> Centroids<'c> {
    /// Caches the norms of `c` (`k × D`, standard layout).
    pub fn new(c: &'c Array2<f32>) -> Self {
        assert!(c.is_standard_layout());
        let norms64: Vec<f64> = c
            .rows()
            .into_iter()
            .map(|r| {
                let mut s = 0.0;
                for &v in r {
                    s += v as f64 * v as f64;
                }
                s
            })
            .collect();
        Centroids {
            c,
            panel: Panel::new(c),
            norms: norms64.iter().map(|&v| v as f32).collect(),
            max_norm: norms64.iter().cloned().fold(0.0, f64::max),
        }
    }

    fn k(&self) -> usize {
        self.c.nrows()
    }

    fn row(&self, c: usize) -> &[f32] {
        let d = self.c.ncols();
        &self.c.as_slice().expect("standard layout")[c * d..(c + 1) * d]
    }

    /// The exact nearest centroid of `x` (`f64` distances, ties → lowest id).
    pub fn nearest_exact(&self, x: &[f32]) -> u32 {
        let mut best = f64::INFINITY;
        let mut arg = 0u32;
        for c in 0..self.k() {
            let v = sq_dist(x, self.row(c));
            if v < best {
                best = v;
                arg = c as u32;
            }
        }
        arg
    }

    /// Nearest centroid of each row of `xs` (`rows × D`) into `out`, using `g` (`≥ rows × kp`) as
    /// scratch. Returns how many rows needed the exact fallback.
    ///
    /// Let `g_c = ‖μ_c‖² − 2x·μ_c` (the distance less `‖x‖²`). Computed in `f32` with a `D`-term dot
    /// product, its error is at most `(γ_D + 3u)(‖x‖² + ‖μ_c‖²)` with `u = 2⁻²⁴` and
    /// `γ_D = Du/(1 − Du)` (the dot product's error is `≤ γ_D Σ|xᵢμᵢ| ≤ γ_D(‖x‖² + ‖μ‖²)/2`, the
    /// rounding of `‖μ‖²` to `f32` and the final subtraction add `3u(…)` at most). When the best
    /// two candidates differ by more than twice a bound twice that large, the `f32` winner is the
    /// exact winner; otherwise the row is redone with `f64` distances.
    fn assign_rows(&self, xs: &[f32], norms: &[f64], g: &mut [f32], out: &mut [u32]) -> usize {
        let rows = norms.len();
        let d = self.c.ncols();
        let k = self.k();
        if k == 1 {
            out[..rows].fill(0);
            return 0;
        }
        let kp = self.panel.kp;
        self.panel.dots(xs, &mut g[..rows * kp]);
        let u = f32::EPSILON as f64 / 2.0;
        let gamma = d as f64 * u / (1.0 - d as f64 * u);
        let err = 2.0 * (gamma + 3.0 * u);
        let mut refined = 0;
        for (r, grow) in g[..rows * kp].chunks_exact_mut(kp).enumerate() {
            // v_c = ‖μ_c‖² − 2x·μ_c; the best and second best without branches.
            let mut best = f32::INFINITY;
            let mut arg = 0u32;
            for (c, (gc, &nc)) in grow[..k].iter_mut().zip(&self.norms).enumerate() {
                let v = nc - 2.0 * *gc;
                *gc = v;
                let lt = v < best;
                best = if lt { v } else { best };
                arg = if lt { c as u32 } else { arg };
            }
            let mut second = f32::INFINITY;
            for (c, &v) in grow[..k].iter().enumerate() {
                let v = if c as u32 == arg { f32::INFINITY } else { v };
                second = if v < second { v } else { second };
            }
            let margin = err * (norms[r] + self.max_norm);
            if (second as f64 - best as f64) > 2.0 * margin {
                out[r] = arg;
            } else {
                out[r] = self.nearest_exact(&xs[r * d..(r + 1) * d]);
                refined += 1;
            }
        }
        refined
    }
}

/// Per-cluster sums of one assignment: `Σx`, counts and `Σ‖x‖²`.
#[derive(Debug, Clone)]
pub(crate) struct Acc {
    k: usize,
    d: usize,
    /// `k × D` row-major `Σ_{i∈c} xᵢ`.
    pub sums: Vec<f64>,
    /// `|c|`.
    pub counts: Vec<usize>,
    /// `Σ_{i∈c} ‖xᵢ‖²`.
    pub sq: Vec<f64>,
    /// Points whose label differs from the previous one (assignment kernels only).
    pub changed: usize,
    /// Rows that needed the exact `f64` fallback.
    pub refined: usize,
}

impl Acc {
    fn new(k: usize, d: usize) -> Self {
        Acc {
            k,
            d,
            sums: vec![0.0; k * d],
            counts: vec![0; k],
            sq: vec![0.0; k],
            changed: 0,
            refined: 0,
        }
    }

    /// Adds the rows of `xs` under `labels`, leaving out rows `r` with `skip[r] != UNASSIGNED`.
    fn add_rows(&mut self, xs: &[f32], norms: &[f64], labels: &[u32], skip: Option<&[u32]>) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { self.add_rows_avx2(xs, norms, labels, skip) };
                return;
            }
        }
        self.add_rows_generic(xs, norms, labels, skip);
    }

    /// The same additions in the same order per element, 4 `f64` lanes wide: identical sums.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn add_rows_avx2(
        &mut self,
        xs: &[f32],
        norms: &[f64],
        labels: &[u32],
        skip: Option<&[u32]>,
    ) {
        self.add_rows_generic(xs, norms, labels, skip);
    }

    #[inline(always)]
    fn add_rows_generic(
        &mut self,
        xs: &[f32],
        norms: &[f64],
        labels: &[u32],
        skip: Option<&[u32]>,
    ) {
        let d = self.d;
        for (r, ((row, &nrm), &l)) in xs.chunks_exact(d).zip(norms).zip(labels).enumerate() {
            if skip.is_some_and(|s| s[r] != UNASSIGNED) {
                continue;
            }
            let l = l as usize;
            let s = &mut self.sums[l * d..(l + 1) * d];
            for (a, &v) in s.iter_mut().zip(row) {
                *a += v as f64;
            }
            self.counts[l] += 1;
            self.sq[l] += nrm;
        }
    }

    /// Adds one point with label `l`.
    pub fn add_point(&mut self, row: &[f32], nrm: f64, l: u32) {
        let d = self.d;
        let l = l as usize;
        for (a, &v) in self.sums[l * d..(l + 1) * d].iter_mut().zip(row) {
            *a += v as f64;
        }
        self.counts[l] += 1;
        self.sq[l] += nrm;
    }

    fn merge(parts: Vec<Acc>, k: usize, d: usize) -> Acc {
        let mut acc = Acc::new(k, d);
        for p in parts {
            for (a, v) in acc.sums.iter_mut().zip(&p.sums) {
                *a += v;
            }
            for c in 0..k {
                acc.counts[c] += p.counts[c];
                acc.sq[c] += p.sq[c];
            }
            acc.changed += p.changed;
            acc.refined += p.refined;
        }
        acc
    }

    /// `Σᵢ ‖xᵢ − μ_{lᵢ}‖²` for the accumulated assignment and centroids `mu`, from
    /// `Σ‖x‖² − 2μ·Σx + |c|‖μ‖²` per cluster in `f64` (each cluster's term clamped at 0).
    pub fn distance_to(&self, mu: &Array2<f32>) -> f64 {
        let d = self.d;
        let mut total = 0.0;
        for (c, m) in mu.rows().into_iter().enumerate() {
            if self.counts[c] == 0 {
                continue;
            }
            let s = &self.sums[c * d..(c + 1) * d];
            let mut dot = 0.0;
            let mut nn = 0.0;
            for (&mv, &sv) in m.iter().zip(s) {
                dot += mv as f64 * sv;
                nn += mv as f64 * mv as f64;
            }
            total += (self.sq[c] - 2.0 * dot + self.counts[c] as f64 * nn).max(0.0);
        }
        total
    }

    /// The means of the clusters; an empty cluster keeps its row of `prev`.
    pub fn means(&self, prev: &Array2<f32>) -> Array2<f32> {
        let d = self.d;
        let mut out = prev.clone();
        for (c, mut row) in out.rows_mut().into_iter().enumerate() {
            let n = self.counts[c];
            if n == 0 {
                continue;
            }
            let s = &self.sums[c * d..(c + 1) * d];
            for (o, &v) in row.iter_mut().zip(s) {
                *o = (v / n as f64) as f32;
            }
        }
        out
    }

    /// Repairs every empty cluster of this assignment in `mu` (the new centroids) by splitting the
    /// currently largest cluster (ties → lowest id), as faiss does; returns how many were repaired.
    ///
    /// The split copies the centroid and moves the copies apart by `±(|μ_d| + σ)/1024` per
    /// coordinate, alternating signs, where σ is the cluster's RMS spread per coordinate (so the
    /// split also works for coordinates that are exactly 0). The two halves share the count.
    pub fn repair_empty(&self, mu: &mut Array2<f32>) -> usize {
        let d = self.d;
        let mut counts = self.counts.clone();
        let mut sigma: Vec<f64> = (0..self.k)
            .map(|c| {
                let n = counts[c];
                if n == 0 {
                    return 0.0;
                }
                let s = &self.sums[c * d..(c + 1) * d];
                let mean_sq: f64 = s.iter().map(|v| (v / n as f64).powi(2)).sum();
                ((self.sq[c] / n as f64 - mean_sq) / d as f64)
                    .max(0.0)
                    .sqrt()
            })
            .collect();
        let mut repaired = 0;
        for c in 0..self.k {
            if counts[c] != 0 {
                continue;
            }
            let j = (0..self.k).fold(0, |best, i| if counts[i] > counts[best] { i } else { best });
            let src: Vec<f32> = mu.row(j).to_vec();
            for (t, &m) in src.iter().enumerate() {
                let delta = ((m.abs() as f64 + sigma[j]) / 1024.0) as f32;
                let sign = if t % 2 == 0 { 1.0 } else { -1.0 };
                mu[[c, t]] = m + sign * delta;
                mu[[j, t]] = m - sign * delta;
            }
            counts[c] = counts[j] / 2;
            counts[j] -= counts[c];
            sigma[c] = sigma[j];
            repaired += 1;
        }
        repaired
    }
}

/// Assigns every point to its exact nearest centroid (overwriting `labels`) and accumulates the
/// cluster sums of the new assignment; `changed` counts labels that differ from `labels`' old
/// content. Points `i` with `skip[i] != UNASSIGNED` are assigned but left out of the sums (the
/// caller relabels and adds them itself).
pub(crate) fn assign_accumulate(
    p: &Points,
    mu: &Array2<f32>,
    labels: &mut [u32],
    skip: Option<&[u32]>,
) -> Acc {
    let cents = Centroids::new(mu);
    let (k, d) = (mu.nrows(), p.d);
    let parts = p.par_groups_mut(labels, |start, xs, ns, ls| {
        let mut acc = Acc::new(k, d);
        let mut g = vec![0.0f32; SUB_ROWS.min(ns.len()) * cents.panel.kp];
        let mut new = vec![0u32; SUB_ROWS];
        let mut row0 = start;
        for ((xb, nb), lb) in xs
            .chunks(SUB_ROWS * d)
            .zip(ns.chunks(SUB_ROWS))
            .zip(ls.chunks_mut(SUB_ROWS))
        {
            acc.refined += cents.assign_rows(xb, nb, &mut g, &mut new);
            for (old, &nw) in lb.iter_mut().zip(&new) {
                acc.changed += (*old != nw) as usize;
                *old = nw;
            }
            acc.add_rows(xb, nb, lb, skip.map(|s| &s[row0..row0 + nb.len()]));
            row0 += nb.len();
        }
        acc
    });
    Acc::merge(parts, k, d)
}

/// Assigns every point to its exact nearest centroid; returns how many rows needed the exact
/// fallback.
pub(crate) fn assign_nearest(p: &Points, mu: &Array2<f32>, labels: &mut [u32]) -> usize {
    let cents = Centroids::new(mu);
    let d = p.d;
    p.par_groups_mut(labels, |_, xs, ns, ls| {
        let mut g = vec![0.0f32; SUB_ROWS.min(ns.len()) * cents.panel.kp];
        let mut refined = 0;
        for ((xb, nb), lb) in xs
            .chunks(SUB_ROWS * d)
            .zip(ns.chunks(SUB_ROWS))
            .zip(ls.chunks_mut(SUB_ROWS))
        {
            refined += cents.assign_rows(xb, nb, &mut g, lb);
        }
        refined
    })
    .into_iter()
    .sum()
}

/// Cluster sums of a given assignment (every label `< k`).
pub(crate) fn accumulate(p: &Points, labels: &[u32], k: usize) -> Acc {
    let d = p.d;
    let g = p.group_rows;
    let parts: Vec<Acc> = p
        .as_slice()
        .par_chunks(g * d)
        .zip(p.sq_norms.par_chunks(g))
        .zip(labels.par_chunks(g))
        .map(|((xs, ns), ls)| {
            let mut acc = Acc::new(k, d);
            acc.add_rows(xs, ns, ls, None);
            acc
        })
        .collect();
    Acc::merge(parts, k, d)
}

/// The largest absolute change of any coordinate.
pub(crate) fn max_abs_shift(a: &Array2<f32>, b: &Array2<f32>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(&x, &y)| (x as f64 - y as f64).abs())
        .fold(0.0, f64::max)
}

/// `Σ_c ‖a_c − b_c‖²` (scikit-learn's convergence measure).
pub(crate) fn total_sq_shift(a: &Array2<f32>, b: &Array2<f32>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum()
}

fn row_norms(c: &Array2<f32>) -> Vec<f64> {
    c.rows()
        .into_iter()
        .map(|r| r.iter().map(|&v| v as f64 * v as f64).sum())
        .collect()
}

/// Squared distances `max(0, ‖xᵢ‖² + ‖c_t‖² − 2xᵢ·c_t)` (dot products in `f32`) from every row
/// to every row of `c` (`m × D`), as `N × m` row-major, computed in parallel.
fn sq_dists(p: &Points, c: &Array2<f32>) -> Vec<f64> {
    let panel = Panel::new(c);
    let cn = row_norms(c);
    let (d, m, kp) = (p.d, c.nrows(), panel.kp);
    let mut out = vec![0.0f64; p.n * m];
    let g_rows = p.group_rows;
    out.par_chunks_mut(g_rows * m)
        .zip(p.as_slice().par_chunks(g_rows * d))
        .zip(p.sq_norms.par_chunks(g_rows))
        .for_each(|((o, xs), ns)| {
            let mut g = vec![0.0f32; SUB_ROWS.min(ns.len()) * kp];
            for ((ob, xb), nb) in o
                .chunks_mut(SUB_ROWS * m)
                .zip(xs.chunks(SUB_ROWS * d))
                .zip(ns.chunks(SUB_ROWS))
            {
                let rows = nb.len();
                panel.dots(xb, &mut g[..rows * kp]);
                for r in 0..rows {
                    for t in 0..m {
                        ob[r * m + t] = (nb[r] + cn[t] - 2.0 * g[r * kp + t] as f64).max(0.0);
                    }
                }
            }
        });
    out
}

/// Greedy k-means++ (as scikit-learn: `2 + ⌊ln k⌋` candidates per step, drawn with probability
/// ∝ D², keeping the one that lowers the potential most). Starts from the rows of `preset`
/// (`m × D`, may be empty); with none, the first centre is a uniformly random point. Returns
/// `k × D`. If `preset` already has `k` rows or more, its first `k` rows are returned.
///
/// The D² weights use `f32` dot products (as scikit-learn's float32 path); the potentials are
/// summed in `f64` in a fixed order, so the choice does not depend on the thread count.
pub(crate) fn kmeans_plus_plus(
    p: &Points,
    k: usize,
    preset: &Array2<f32>,
    rng: &mut Rng,
) -> Array2<f32> {
    let d = p.d;
    if preset.nrows() >= k {
        return preset.slice(s![..k, ..]).to_owned();
    }
    let mut chosen: Vec<f32> = preset.iter().cloned().collect();
    if preset.nrows() == 0 {
        let i = rng.random_range(0..p.n);
        chosen.extend_from_slice(p.row(i));
    }
    let m = chosen.len() / d;
    let start = Array2::from_shape_vec((m, d), chosen.clone()).expect("m × d");
    let mut closest: Vec<f64> = sq_dists(p, &start)
        .chunks_exact(m)
        .map(|r| r.iter().cloned().fold(f64::INFINITY, f64::min))
        .collect();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut cumsum = vec![0.0f64; p.n];
    while chosen.len() / d < k {
        let mut acc = 0.0;
        for (c, &v) in cumsum.iter_mut().zip(&closest) {
            acc += v;
            *c = acc;
        }
        let pot = acc;
        let mut cands = Array2::zeros((trials, d));
        for t in 0..trials {
            let r = rng.random::<f64>() * pot;
            let i = cumsum.partition_point(|&c| c < r).min(p.n - 1);
            cands.row_mut(t).assign(&ndarray::aview1(p.row(i)));
        }
        let dist = sq_dists(p, &cands);
        // Potential of each candidate: Σᵢ min(closestᵢ, d(xᵢ, candidate)), in fixed groups.
        let parts: Vec<Vec<f64>> = dist
            .par_chunks(p.group_rows * trials)
            .zip(closest.par_chunks(p.group_rows))
            .map(|(dg, cg)| {
                let mut pots = vec![0.0f64; trials];
                for (row, &c) in dg.chunks_exact(trials).zip(cg) {
                    for (pt, &v) in pots.iter_mut().zip(row) {
                        *pt += v.min(c);
                    }
                }
                pots
            })
            .collect();
        let mut pots = vec![0.0f64; trials];
        for part in parts {
            for (a, v) in pots.iter_mut().zip(part) {
                *a += v;
            }
        }
        let best = (0..trials).fold(0, |b, t| if pots[t] < pots[b] { t } else { b });
        for (c, row) in closest.iter_mut().zip(dist.chunks_exact(trials)) {
            if row[best] < *c {
                *c = row[best];
            }
        }
        chosen.extend(cands.row(best).iter().cloned());
    }
    Array2::from_shape_vec((k, d), chosen).expect("k × d")
}

/// `k` distinct random rows.
pub(crate) fn random_rows(p: &Points, k: usize, rng: &mut Rng) -> Array2<f32> {
    let idx = rand::seq::index::sample(rng, p.n, k).into_vec();
    let mut out = Array2::zeros((k, p.d));
    for (r, &i) in idx.iter().enumerate() {
        out.row_mut(r).assign(&ndarray::aview1(p.row(i)));
    }
    out
}

/// The means of the first `min(k, #components)` must-link components (largest first, ties by
/// smallest member), as an `m × D` matrix.
pub(crate) fn component_means(p: &Points, comps: &[Vec<u32>], k: usize) -> Array2<f32> {
    let m = comps.len().min(k);
    let mut out = Array2::zeros((m, p.d));
    for (r, comp) in comps.iter().take(m).enumerate() {
        let mut s = vec![0.0f64; p.d];
        for &i in comp {
            for (a, &v) in s.iter_mut().zip(p.row(i as usize)) {
                *a += v as f64;
            }
        }
        for (o, v) in out.row_mut(r).iter_mut().zip(s) {
            *o = (v / comp.len() as f64) as f32;
        }
    }
    out
}

/// Adjacency of `pairs` over `n` points with each partner listed once (duplicates and reversed
/// duplicates removed), partners ascending.
pub(crate) fn dedup_adjacency(n: usize, pairs: &[(u32, u32)]) -> Adjacency {
    let raw = Adjacency::from_pairs(n, pairs);
    let mut offsets = Vec::with_capacity(n + 1);
    let mut neighbours = Vec::with_capacity(raw.neighbours.len());
    offsets.push(0);
    let mut buf: Vec<u32> = Vec::new();
    for i in 0..n {
        let row = raw.of(i);
        if row.len() > 1 {
            buf.clear();
            buf.extend_from_slice(row);
            buf.sort_unstable();
            buf.dedup();
            neighbours.extend_from_slice(&buf);
        } else {
            neighbours.extend_from_slice(row);
        }
        offsets.push(neighbours.len());
    }
    Adjacency {
        offsets,
        neighbours,
    }
}

/// Number of distinct pairs `{i, j}` of `adj` (over the points `0..labels.len()`) for which
/// `bad(lᵢ, lⱼ)`.
pub(crate) fn count_pairs(
    adj: &Adjacency,
    labels: &[u32],
    bad: impl Fn(u32, u32) -> bool,
) -> usize {
    let mut n = 0;
    for (i, &li) in labels.iter().enumerate() {
        for &j in adj.of(i) {
            if j as usize > i && bad(li, labels[j as usize]) {
                n += 1;
            }
        }
    }
    n
}

/// Violated must-links and cannot-links of `labels` (distinct pairs).
pub(crate) fn violations(cs: &ConstraintSet, labels: &[u32]) -> (usize, usize) {
    if cs.is_empty() {
        return (0, 0);
    }
    let count = |pairs: &[(u32, u32)], bad: &dyn Fn(u32, u32) -> bool| {
        let mut v: Vec<(u32, u32)> = pairs.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
        v.sort_unstable();
        v.dedup();
        v.iter()
            .filter(|&&(a, b)| bad(labels[a as usize], labels[b as usize]))
            .count()
    };
    (
        count(&cs.must_link, &|a, b| a != b),
        count(&cs.cannot_link, &|a, b| a == b),
    )
}

/// Checks `constraints` against a data set of `n` points.
pub(crate) fn check_constraints(cs: &ConstraintSet, n: usize) -> Result<(), ClusterError> {
    if cs.n_points != n {
        return Err(ClusterError::InvalidConstraints(format!(
            "the constraint set is over {} points but the feature matrix has {n} rows",
            cs.n_points
        )));
    }
    cs.validate().map_err(ClusterError::InvalidConstraints)
}

/// Checks `1 ≤ k ≤ n`.
pub(crate) fn check_k(k: usize, n: usize) -> Result<(), ClusterError> {
    if k > n {
        return Err(ClusterError::InvalidParam {
            name: "k",
            reason: format!("k = {k} clusters asked for but the data have only {n} points"),
        });
    }
    Ok(())
}

/// Checks that `init` is `k × d` and finite.
pub(crate) fn check_init(init: &Array2<f32>, k: usize, d: usize) -> Result<(), ClusterError> {
    if init.dim() != (k, d) {
        return Err(ClusterError::InvalidParam {
            name: "init",
            reason: format!(
                "initial centroids must be {k} × {d} (k × features), found {} × {}",
                init.nrows(),
                init.ncols()
            ),
        });
    }
    check_finite(init.view()).map_err(|e| ClusterError::InvalidParam {
        name: "init",
        reason: format!("initial centroids: {e}"),
    })
}

/// Converts internal labels to the public form.
pub(crate) fn to_usize(labels: &[u32]) -> Vec<usize> {
    labels.iter().map(|&l| l as usize).collect()
}
