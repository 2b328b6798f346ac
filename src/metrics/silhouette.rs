//! Exact silhouette coefficients on all points, without an N×N distance matrix.
//!
//! Points are sorted by cluster. The pairs are visited in square tiles of `BLOCK × BLOCK` points,
//! upper triangle only: each tile is centred at the midpoint of its two blocks' means (distances are
//! translation invariant; centring keeps the norms small) and becomes one `f32` matrix product
//! `A·Bᵀ` (ndarray → matrixmultiply, SIMD); distances are `sqrt(‖a‖² + ‖b‖² − 2a·b)`, except for
//! pairs so close that this formula cancels digits (`‖a−b‖² < REFINE·(‖a‖² + ‖b‖²)`), which are
//! recomputed directly in `f64` — so duplicates get exactly 0 and every distance keeps a relative
//! error near 1e-6 or better. Each tile's distances are summed per cluster in `f64` and used twice,
//! for its rows and, transposed, for its columns, so every distance is computed once. Tiles run in
//! parallel on rayon. Partial sums are added into a fixed-point (`u64`, ~2⁻⁶² of the largest
//! possible sum) per-point-per-cluster table with atomic integer adds: integer addition is
//! associative, so the result does not depend on the thread count or scheduling. Memory is
//! O(N·k + threads·BLOCK²), never O(N²).
//!
//! Hand-written rather than a crate: no maintained Rust crate computes an exact silhouette without
//! materialising the distance matrix, and this is the hot spot of evaluation (scikit-learn takes
//! ~60 s for 60,000 × 64 on two cores).
use super::{encode, MetricsError};
use crate::seed;
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, Axis};
use rand::seq::index;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Side of the square tiles of point pairs: a 256 × 256 `f32` tile (256 KiB) fits in L2.
const BLOCK: usize = 256;
/// Largest per-point-per-cluster table (entries) the exact method allocates (8 bytes each: 1 GiB).
const MAX_TABLE: usize = 1 << 27;

/// Validates a feature matrix and its labels for silhouette / Davies–Bouldin; returns the label codes
/// (`0..k`) and `k`.
pub(crate) fn check_features(
    x: ArrayView2<'_, f32>,
    labels: &[usize],
    metric: &'static str,
) -> Result<(Vec<u32>, usize), MetricsError> {
    if x.nrows() != labels.len() {
        return Err(MetricsError::LengthMismatch {
            what: "feature rows vs labels",
            left: x.nrows(),
            right: labels.len(),
        });
    }
    if labels.is_empty() {
        return Err(MetricsError::Empty("the feature matrix"));
    }
    if let Some(((row, col), &value)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(MetricsError::NonFinite { row, col, value });
    }
    let (uniq, codes) = encode(labels);
    let k = uniq.len();
    let n = labels.len();
    if k < 2 || k + 1 > n {
        return Err(MetricsError::ClusterCount {
            metric,
            n_labels: k,
            max: n.saturating_sub(1),
        });
    }
    Ok((codes, k))
}

/// Mean silhouette coefficient over all points (Euclidean), as scikit-learn's `silhouette_score`:
/// for each point `(b − a) / max(a, b)` with `a` its mean distance to the other points of its cluster
/// and `b` the smallest mean distance to another cluster; 0 for points in singleton clusters. Exact
/// (all pairs). Needs 2 to n−1 clusters, like scikit-learn.
pub fn silhouette(x: ArrayView2<'_, f32>, labels: &[usize]) -> Result<f64, MetricsError> {
    let s = silhouette_samples(x, labels)?;
    Ok(s.iter().sum::<f64>() / s.len() as f64)
}

/// The silhouette coefficient of every point, in input order (scikit-learn's `silhouette_samples`).
pub fn silhouette_samples(
    x: ArrayView2<'_, f32>,
    labels: &[usize],
) -> Result<Vec<f64>, MetricsError> {
    let (codes, k) = check_features(x, labels, "silhouette")?;
    let n = codes.len();
    if n.checked_mul(k).is_none_or(|e| e > MAX_TABLE) {
        return Err(MetricsError::InvalidParam {
            name: "labels",
            reason: format!(
                "{n} points × {k} clusters is too large for the exact silhouette; use silhouette_sampled"
            ),
        });
    }
    // Squared norms are formed in f32: keep them far from overflow.
    if let Some(((row, col), &value)) = x.indexed_iter().find(|(_, v)| v.abs() > 1e18) {
        return Err(MetricsError::InvalidParam {
            name: "features",
            reason: format!(
                "value {value} at row {row}, column {col} is too large for f32 distances (|x| <= 1e18)"
            ),
        });
    }
    Ok(samples_exact(x, &codes, k))
}

/// Indices (ascending) of the `n` points that [`silhouette_sampled`] uses for `seed`; all points when
/// `n >= n_points`.
pub fn silhouette_sample_indices(n_points: usize, n: usize, seed: u64) -> Vec<usize> {
    if n >= n_points {
        return (0..n_points).collect();
    }
    let mut rng = seed::rng(seed, "metrics/silhouette_sample");
    let mut v = index::sample(&mut rng, n_points, n).into_vec();
    v.sort_unstable();
    v
}

/// The exact silhouette of a seeded random subset of `n` points (distances only within the subset),
/// like scikit-learn's `silhouette_score(..., sample_size=n)` (with a different generator). All points
/// when `n >= x.nrows()`.
pub fn silhouette_sampled(
    x: ArrayView2<'_, f32>,
    labels: &[usize],
    n: usize,
    seed: u64,
) -> Result<f64, MetricsError> {
    if x.nrows() != labels.len() {
        return Err(MetricsError::LengthMismatch {
            what: "feature rows vs labels",
            left: x.nrows(),
            right: labels.len(),
        });
    }
    if n == 0 {
        return Err(MetricsError::InvalidParam {
            name: "sample size",
            reason: "must be at least 2, found 0".into(),
        });
    }
    if n >= x.nrows() {
        return silhouette(x, labels);
    }
    let idx = silhouette_sample_indices(x.nrows(), n, seed);
    let xs = x.select(Axis(0), &idx);
    let ls: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
    silhouette(xs.view(), &ls)
}

/// Sum of `f32` values accumulated in `f64` (four independent lanes so it vectorises).
#[inline(always)]
fn sum_f64(v: &[f32]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut chunks = v.chunks_exact(4);
    for c in &mut chunks {
        for l in 0..4 {
            acc[l] += c[l] as f64;
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for &r in chunks.remainder() {
        s += r as f64;
    }
    s
}

#[inline(always)]
fn add_f64(acc: &mut [f64], v: &[f32]) {
    for (a, &x) in acc.iter_mut().zip(v) {
        *a += x as f64;
    }
}

/// Squared Euclidean distance computed directly, in `f64` (exact differences of `f32` values).
#[inline(always)]
fn direct_d2(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&u, &v)| {
            let d = u as f64 - v as f64;
            d * d
        })
        .sum()
}

/// Everything a tile needs besides its own buffers.
struct TileCtx<'a> {
    /// Points sorted by cluster, original `f32` values (row-major, `dim` columns).
    xsort: &'a [f32],
    dim: usize,
    seg_of: &'a [u32],
    offsets: &'a [usize],
    k: usize,
}

/// Buffers of one tile: the two blocks shifted to their common centre, their squared norms, the
/// product `g = A·Bᵀ` (`bi × bj`, row-major) and a row of distances.
struct Tile<'a> {
    i0: usize,
    j0: usize,
    bi: usize,
    bj: usize,
    na: &'a [f32],
    nb: &'a [f32],
    g: &'a [f32],
}

/// Pairs with `‖a−b‖² < REFINE · (‖a‖² + ‖b‖²)` (after centring the tile) lose digits to
/// cancellation in `‖a‖² + ‖b‖² − 2a·b`; their distance is recomputed directly. Elsewhere the
/// relative error of a distance stays near 1e-6 or better.
const REFINE: f32 = 0.25;

/// Distances of one tile row by row, summed per cluster: into `row_acc` (rows of the tile, per column
/// cluster) and, through `col_flush`, per column and row cluster. Compiled twice (AVX2+FMA and
/// baseline) and picked at run time.
#[inline(always)]
fn tile_rows_body(
    ctx: &TileCtx<'_>,
    t: &Tile<'_>,
    dbuf: &mut [f32],
    row_acc: &mut [f64],
    col_acc: &mut [f64],
    col_flush: &mut dyn FnMut(usize, &mut [f64]),
) {
    let (i0, j0, bi, bj) = (t.i0, t.j0, t.bi, t.bj);
    let diagonal = i0 == j0;
    let dim = ctx.dim;
    // Column-cluster segments of this tile, in local coordinates.
    let mut segs: Vec<(usize, usize, usize)> = Vec::new();
    let mut s = 0;
    while s < bj {
        let c = ctx.seg_of[j0 + s] as usize;
        let e = (ctx.offsets[c + 1] - j0).min(bj);
        segs.push((s, e, c));
        s = e;
    }
    let mut cur_cluster = ctx.seg_of[i0] as usize;
    for r in 0..bi {
        let p = i0 + r;
        let ci = ctx.seg_of[p] as usize;
        if !diagonal && ci != cur_cluster {
            col_flush(cur_cluster, col_acc);
            cur_cluster = ci;
        }
        let d = &mut dbuf[..bj];
        let na = t.na[r];
        let grow = &t.g[r * bj..(r + 1) * bj];
        // Squared distances, and whether a chunk has pairs that need refining.
        const CH: usize = 16;
        for (ch, ((dc, nc), gc)) in d
            .chunks_mut(CH)
            .zip(t.nb.chunks(CH))
            .zip(grow.chunks(CH))
            .enumerate()
        {
            let mut flags = 0u32;
            for ((dv, &nbj), &gv) in dc.iter_mut().zip(nc).zip(gc) {
                let d2 = na + nbj - 2.0 * gv;
                *dv = d2;
                flags |= u32::from(d2 < REFINE * (na + nbj));
            }
            if flags != 0 {
                let a = &ctx.xsort[p * dim..(p + 1) * dim];
                for (jj, (dv, &nbj)) in dc.iter_mut().zip(nc).enumerate() {
                    if *dv < REFINE * (na + nbj) {
                        let q = j0 + ch * CH + jj;
                        *dv = direct_d2(a, &ctx.xsort[q * dim..(q + 1) * dim]) as f32;
                    }
                }
            }
        }
        for v in d.iter_mut() {
            let v2 = if *v > 0.0 { *v } else { 0.0 };
            *v = v2.sqrt();
        }
        if diagonal {
            d[r] = 0.0;
        }
        let racc = &mut row_acc[r * ctx.k..(r + 1) * ctx.k];
        for &(s, e, c) in &segs {
            racc[c] += sum_f64(&d[s..e]);
        }
        if !diagonal {
            add_f64(col_acc, d);
        }
    }
    if !diagonal {
        col_flush(cur_cluster, col_acc);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_rows_avx2(
    ctx: &TileCtx<'_>,
    t: &Tile<'_>,
    dbuf: &mut [f32],
    row_acc: &mut [f64],
    col_acc: &mut [f64],
    col_flush: &mut dyn FnMut(usize, &mut [f64]),
) {
    tile_rows_body(ctx, t, dbuf, row_acc, col_acc, col_flush)
}

fn tile_rows(
    ctx: &TileCtx<'_>,
    t: &Tile<'_>,
    dbuf: &mut [f32],
    row_acc: &mut [f64],
    col_acc: &mut [f64],
    col_flush: &mut dyn FnMut(usize, &mut [f64]),
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            unsafe {
                return tile_rows_avx2(ctx, t, dbuf, row_acc, col_acc, col_flush);
            }
        }
    }
    tile_rows_body(ctx, t, dbuf, row_acc, col_acc, col_flush)
}

/// `out[r] = xb[r0 + r] + shift` for `r < len` (`dim` columns) and the squared norms of the result.
#[inline(always)]
fn shifted_block_body(
    xb: &[f32],
    dim: usize,
    r0: usize,
    len: usize,
    shift: &[f32],
    out: &mut [f32],
    norms: &mut [f32],
) {
    let src = &xb[r0 * dim..(r0 + len) * dim];
    for ((o, sr), nrm) in out
        .chunks_mut(dim)
        .zip(src.chunks(dim))
        .zip(norms.iter_mut())
    {
        let mut acc = 0.0f32;
        for ((ov, &v), &sh) in o.iter_mut().zip(sr).zip(shift) {
            let y = v + sh;
            *ov = y;
            acc += y * y;
        }
        *nrm = acc;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn shifted_block_avx2(
    xb: &[f32],
    dim: usize,
    r0: usize,
    len: usize,
    shift: &[f32],
    out: &mut [f32],
    norms: &mut [f32],
) {
    shifted_block_body(xb, dim, r0, len, shift, out, norms)
}

fn shifted_block(
    xb: &[f32],
    dim: usize,
    r0: usize,
    len: usize,
    shift: &[f32],
    out: &mut [f32],
    norms: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            unsafe {
                return shifted_block_avx2(xb, dim, r0, len, shift, out, norms);
            }
        }
    }
    shifted_block_body(xb, dim, r0, len, shift, out, norms)
}

fn samples_exact(x: ArrayView2<'_, f32>, codes: &[u32], k: usize) -> Vec<f64> {
    let (n, dim) = x.dim();
    // Sort points by cluster (counting sort, stable).
    let mut sizes = vec![0usize; k];
    for &c in codes {
        sizes[c as usize] += 1;
    }
    let mut offsets = vec![0usize; k + 1];
    for c in 0..k {
        offsets[c + 1] = offsets[c] + sizes[c];
    }
    let mut fill = offsets.clone();
    let mut perm = vec![0usize; n];
    for (i, &c) in codes.iter().enumerate() {
        perm[fill[c as usize]] = i;
        fill[c as usize] += 1;
    }
    let seg_of: Vec<u32> = perm.iter().map(|&i| codes[i]).collect();
    let mut xsort = vec![0.0f32; n * dim];
    for (p, &i) in perm.iter().enumerate() {
        for (dst, &v) in xsort[p * dim..(p + 1) * dim].iter_mut().zip(x.row(i)) {
            *dst = v;
        }
    }

    // Block means (f64) and the rows centred at their block's mean (f32). A tile (I, J) is centred
    // at block I's mean: block I is used as it is, block J shifted by mean_J − mean_I.
    let n_blocks = n.div_ceil(BLOCK);
    let mut block_mean = vec![0.0f64; n_blocks * dim];
    let mut xb = vec![0.0f32; n * dim];
    for b in 0..n_blocks {
        let (r0, r1) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
        let m = &mut block_mean[b * dim..(b + 1) * dim];
        for p in r0..r1 {
            for (acc, &v) in m.iter_mut().zip(&xsort[p * dim..(p + 1) * dim]) {
                *acc += v as f64;
            }
        }
        for v in m.iter_mut() {
            *v /= (r1 - r0) as f64;
        }
        for p in r0..r1 {
            for ((dst, &v), &mu) in xb[p * dim..(p + 1) * dim]
                .iter_mut()
                .zip(&xsort[p * dim..(p + 1) * dim])
                .zip(m.iter())
            {
                *dst = (v as f64 - mu) as f32;
            }
        }
    }
    // Largest distance from the global mean bounds every distance by twice itself.
    let mut mean = vec![0.0f64; dim];
    for p in 0..n {
        for (acc, &v) in mean.iter_mut().zip(&xsort[p * dim..(p + 1) * dim]) {
            *acc += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let max_norm = (0..n)
        .map(|p| direct_d2_f64(&xsort[p * dim..(p + 1) * dim], &mean).sqrt())
        .fold(0.0f64, f64::max);

    // Fixed-point scale: no per-point-per-cluster sum exceeds n · 2·max_norm (with slack).
    let bound = n as f64 * (2.0 * max_norm * 1.01 + 1e-30);
    let scale = (1u64 << 62) as f64 / bound;
    let table: Vec<AtomicU64> = (0..n * k).map(|_| AtomicU64::new(0)).collect();
    let add = |p: usize, c: usize, v: f64| {
        let q = (v * scale).round();
        if q > 0.0 {
            table[p * k + c].fetch_add(q as u64, Ordering::Relaxed);
        }
    };

    let ctx = TileCtx {
        xsort: &xsort,
        dim,
        seg_of: &seg_of,
        offsets: &offsets,
        k,
    };
    // Interleave long and short rows of the triangle for balance.
    let order: Vec<usize> = (0..n_blocks)
        .map(|t| {
            if t % 2 == 0 {
                t / 2
            } else {
                n_blocks - 1 - t / 2
            }
        })
        .collect();
    order.par_iter().for_each(|&bi_idx| {
        let i0 = bi_idx * BLOCK;
        let bi = BLOCK.min(n - i0);
        let zero = vec![0.0f32; dim];
        let mut a = vec![0.0f32; bi * dim];
        let mut b = vec![0.0f32; BLOCK * dim];
        let mut na = vec![0.0f32; bi];
        let mut nb = vec![0.0f32; BLOCK];
        let mut g = vec![0.0f32; bi * BLOCK];
        let mut shift = vec![0.0f32; dim];
        let mut dbuf = vec![0.0f32; BLOCK];
        let mut row_acc = vec![0.0f64; bi * k];
        let mut col_acc = vec![0.0f64; BLOCK];
        shifted_block(&xb, dim, i0, bi, &zero, &mut a, &mut na);
        let a_view = ArrayView2::from_shape((bi, dim), &a).expect("block shape");
        let mi = &block_mean[bi_idx * dim..(bi_idx + 1) * dim];
        for bj_idx in bi_idx..n_blocks {
            let j0 = bj_idx * BLOCK;
            let bj = BLOCK.min(n - j0);
            let mj = &block_mean[bj_idx * dim..(bj_idx + 1) * dim];
            for ((s, &u), &v) in shift.iter_mut().zip(mj).zip(mi) {
                *s = (u - v) as f32;
            }
            shifted_block(&xb, dim, j0, bj, &shift, &mut b[..bj * dim], &mut nb[..bj]);
            {
                let bv = ArrayView2::from_shape((bj, dim), &b[..bj * dim]).expect("block shape");
                let mut gv = ndarray::ArrayViewMut2::from_shape((bi, bj), &mut g[..bi * bj])
                    .expect("tile shape");
                general_mat_mul(1.0, &a_view, &bv.t(), 0.0, &mut gv);
            }
            let tile = Tile {
                i0,
                j0,
                bi,
                bj,
                na: &na,
                nb: &nb[..bj],
                g: &g[..bi * bj],
            };
            let mut flush = |c: usize, acc: &mut [f64]| {
                for (jj, v) in acc[..bj].iter_mut().enumerate() {
                    add(j0 + jj, c, *v);
                    *v = 0.0;
                }
            };
            tile_rows(
                &ctx,
                &tile,
                &mut dbuf,
                &mut row_acc,
                &mut col_acc,
                &mut flush,
            );
        }
        for r in 0..bi {
            for c in 0..k {
                add(i0 + r, c, row_acc[r * k + c]);
            }
        }
    });

    // Silhouette per point from the per-cluster distance sums.
    let mut out = vec![0.0f64; n];
    for (p, &i) in perm.iter().enumerate() {
        let own = seg_of[p] as usize;
        if sizes[own] <= 1 {
            continue; // singleton cluster: 0, as scikit-learn
        }
        let sum = |c: usize| table[p * k + c].load(Ordering::Relaxed) as f64 / scale;
        let a = sum(own) / (sizes[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own)
            .map(|c| sum(c) / sizes[c] as f64)
            .fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        out[i] = if m > 0.0 { (b - a) / m } else { 0.0 };
    }
    out
}

fn direct_d2_f64(a: &[f32], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(&u, &v)| (u as f64 - v).powi(2)).sum()
}

/// Reference O(N²) silhouette with direct `f64` distances, for tests.
#[cfg(test)]
pub(crate) fn naive_samples(x: ArrayView2<'_, f32>, labels: &[usize]) -> Vec<f64> {
    let n = x.nrows();
    let (_, codes) = encode(labels);
    let k = codes.iter().max().map_or(0, |&m| m as usize + 1);
    let mut sizes = vec![0usize; k];
    for &c in &codes {
        sizes[c as usize] += 1;
    }
    (0..n)
        .map(|i| {
            let mut sums = vec![0.0f64; k];
            for j in 0..n {
                let d: f64 = x
                    .row(i)
                    .iter()
                    .zip(x.row(j))
                    .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                    .sum::<f64>()
                    .sqrt();
                sums[codes[j] as usize] += d;
            }
            let own = codes[i] as usize;
            if sizes[own] <= 1 {
                return 0.0;
            }
            let a = sums[own] / (sizes[own] - 1) as f64;
            let b = (0..k)
                .filter(|&c| c != own)
                .map(|c| sums[c] / sizes[c] as f64)
                .fold(f64::INFINITY, f64::min);
            let m = a.max(b);
            if m > 0.0 {
                (b - a) / m
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::Rng;

    fn clustered(n: usize, d: usize, k: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
        let mut rng = seed::rng(seed, "test");
        let centres: Vec<Vec<f32>> = (0..k)
            .map(|_| {
                (0..d)
                    .map(|_| rng.random_range(-5.0..5.0) + 100.0)
                    .collect()
            })
            .collect();
        let labels: Vec<usize> = (0..n).map(|_| rng.random_range(0..k)).collect();
        let x = Array2::from_shape_fn((n, d), |(i, j)| {
            centres[labels[i]][j] + rng.random_range(-3.0f32..3.0)
        });
        (x, labels)
    }

    #[test]
    fn blocked_equals_naive_across_tile_edges() {
        // 700 points: several tiles, a partial last tile, clusters spanning tile boundaries, a
        // singleton cluster and an exact duplicate point.
        let (mut x, mut labels) = clustered(700, 7, 5, 1);
        labels[13] = 9; // singleton
        let r = x.row(5).to_owned();
        x.row_mut(6).assign(&r);
        let fast = silhouette_samples(x.view(), &labels).unwrap();
        let slow = naive_samples(x.view(), &labels);
        for (i, (a, b)) in fast.iter().zip(&slow).enumerate() {
            assert!((a - b).abs() < 5e-7, "point {i}: {a} vs {b}");
        }
        assert_eq!(fast[13], 0.0);
        let mean_fast = fast.iter().sum::<f64>() / 700.0;
        let mean_slow = slow.iter().sum::<f64>() / 700.0;
        assert!(
            (mean_fast - mean_slow).abs() < 1e-7 * mean_slow.abs(),
            "{mean_fast} vs {mean_slow}"
        );
    }

    #[test]
    fn thread_count_does_not_change_the_result() {
        let (x, labels) = clustered(600, 5, 4, 2);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let a = one.install(|| silhouette_samples(x.view(), &labels).unwrap());
        let b = silhouette_samples(x.view(), &labels).unwrap();
        assert_eq!(a, b);
    }
}
