//! The Davies–Bouldin index.
use super::silhouette::check_features;
use super::MetricsError;
use ndarray::ArrayView2;

/// Davies–Bouldin index of the clustering `labels` of the rows of `x` (lower is better), as
/// scikit-learn's `davies_bouldin_score`: the mean over clusters of the largest
/// `(s_i + s_j) / d(c_i, c_j)`, with `s` the mean distance of a cluster's points to its centroid.
/// Computed in `f64` (centroids included). Needs 2 to n−1 clusters.
pub fn davies_bouldin(x: ArrayView2<'_, f32>, labels: &[usize]) -> Result<f64, MetricsError> {
    let (codes, k) = check_features(x, labels, "davies_bouldin")?;
    let d = x.ncols();
    let mut sizes = vec![0usize; k];
    let mut centroids = vec![0.0f64; k * d];
    for (row, &c) in x.rows().into_iter().zip(&codes) {
        let c = c as usize;
        sizes[c] += 1;
        for (acc, &v) in centroids[c * d..(c + 1) * d].iter_mut().zip(row) {
            *acc += v as f64;
        }
    }
    for c in 0..k {
        for v in &mut centroids[c * d..(c + 1) * d] {
            *v /= sizes[c] as f64;
        }
    }
    let mut intra = vec![0.0f64; k];
    for (row, &c) in x.rows().into_iter().zip(&codes) {
        let c = c as usize;
        let cen = &centroids[c * d..(c + 1) * d];
        let s: f64 = row
            .iter()
            .zip(cen)
            .map(|(&v, &m)| (v as f64 - m).powi(2))
            .sum();
        intra[c] += s.sqrt();
    }
    for c in 0..k {
        intra[c] /= sizes[c] as f64;
    }
    let dist = |a: usize, b: usize| -> f64 {
        centroids[a * d..(a + 1) * d]
            .iter()
            .zip(&centroids[b * d..(b + 1) * d])
            .map(|(u, v)| (u - v).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let mut cdist = vec![0.0f64; k * k];
    for a in 0..k {
        for b in 0..k {
            cdist[a * k + b] = if a == b { 0.0 } else { dist(a, b) };
        }
    }
    // np.allclose(v, 0): |v| <= 1e-8.
    let allclose0 = |v: &[f64]| v.iter().all(|x| x.abs() <= 1e-8);
    if allclose0(&intra) || allclose0(&cdist) {
        return Ok(0.0);
    }
    let mut total = 0.0;
    for a in 0..k {
        let mut worst = f64::NEG_INFINITY;
        for b in 0..k {
            let cd = if cdist[a * k + b] == 0.0 {
                f64::INFINITY
            } else {
                cdist[a * k + b]
            };
            worst = worst.max((intra[a] + intra[b]) / cd);
        }
        total += worst;
    }
    Ok(total / k as f64)
}
