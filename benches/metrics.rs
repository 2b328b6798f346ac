//! Metric timings: exact silhouette on 60,000 × 64 points with 10 clusters (MNIST PCA-64 from
//! `bench/data/mnist_pca64.npy` when present, else synthetic clustered data), Davies–Bouldin, and
//! NMI/ARI/AMI/accuracy on 60,000 labels (10 classes × 12 clusters).
//!
//! `cargo bench --no-default-features --bench metrics`
use criterion::{criterion_group, criterion_main, Criterion};
use deepclust::metrics::{accuracy, ami, ari, davies_bouldin, nmi, silhouette, NmiNorm};
use deepclust::seed;
use ndarray::Array2;
use rand::Rng;
use std::path::Path;
use std::time::Duration;

const N: usize = 60_000;
const D: usize = 64;
const K: usize = 10;

fn normal(rng: &mut seed::Rng) -> f32 {
    // Box–Muller.
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random();
    ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
}

/// 10 Gaussian clusters in 64-D whose centres are about as far apart as their spread (overlapping,
/// like learned features), labelled by their generating cluster.
fn synthetic() -> (Array2<f32>, Vec<usize>) {
    let mut rng = seed::rng(1, "bench/metrics");
    let centres: Vec<f32> = (0..K * D).map(|_| 1.5 * normal(&mut rng)).collect();
    let labels: Vec<usize> = (0..N).map(|_| rng.random_range(0..K)).collect();
    let mut x = Array2::<f32>::zeros((N, D));
    for (i, mut row) in x.rows_mut().into_iter().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = centres[labels[i] * D + j] + normal(&mut rng);
        }
    }
    (x, labels)
}

/// MNIST PCA-64 features if another step has written them; labels are the nearest of 10 fixed
/// rows (a cheap clustering; the cost of the silhouette does not depend on the labels' quality).
fn mnist() -> Option<(Array2<f32>, Vec<usize>)> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/data/mnist_pca64.npy");
    let x: Array2<f32> = ndarray_npy::read_npy(&p).ok()?;
    if x.nrows() < 2 * K {
        return None;
    }
    let seeds: Vec<usize> = (0..K).map(|c| c * (x.nrows() / K)).collect();
    let labels = x
        .rows()
        .into_iter()
        .map(|r| {
            (0..K)
                .min_by(|&a, &b| {
                    let da: f32 = r
                        .iter()
                        .zip(x.row(seeds[a]))
                        .map(|(u, v)| (u - v).powi(2))
                        .sum();
                    let db: f32 = r
                        .iter()
                        .zip(x.row(seeds[b]))
                        .map(|(u, v)| (u - v).powi(2))
                        .sum();
                    da.total_cmp(&db)
                })
                .unwrap()
        })
        .collect();
    Some((x, labels))
}

fn bench_silhouette(c: &mut Criterion) {
    let (x, labels, what) = match mnist() {
        Some((x, l)) => (x, l, "mnist_pca64"),
        None => {
            let (x, l) = synthetic();
            (x, l, "synthetic")
        }
    };
    eprintln!(
        "silhouette data: {what} {}×{}, {} threads",
        x.nrows(),
        x.ncols(),
        rayon::current_num_threads()
    );
    let mut g = c.benchmark_group("feature_metrics");
    g.sample_size(10).measurement_time(Duration::from_secs(40));
    g.bench_function(
        format!("silhouette_exact_{what}_{}x{}", x.nrows(), x.ncols()),
        |b| b.iter(|| silhouette(x.view(), &labels).unwrap()),
    );
    g.bench_function(format!("davies_bouldin_{what}"), |b| {
        b.iter(|| davies_bouldin(x.view(), &labels).unwrap())
    });
    g.finish();
}

fn bench_label_metrics(c: &mut Criterion) {
    let mut rng = seed::rng(2, "bench/labels");
    let truth: Vec<usize> = (0..N).map(|_| rng.random_range(0..10)).collect();
    let pred: Vec<usize> = truth
        .iter()
        .map(|&t| {
            if rng.random_bool(0.35) {
                rng.random_range(0..12)
            } else {
                t
            }
        })
        .collect();
    let mut g = c.benchmark_group("label_metrics_60000_10x12");
    g.sample_size(20);
    g.bench_function("nmi", |b| {
        b.iter(|| nmi(&truth, &pred, NmiNorm::Arithmetic).unwrap())
    });
    g.bench_function("ari", |b| b.iter(|| ari(&truth, &pred).unwrap()));
    g.bench_function("ami", |b| {
        b.iter(|| ami(&truth, &pred, NmiNorm::Arithmetic).unwrap())
    });
    g.bench_function("accuracy", |b| b.iter(|| accuracy(&truth, &pred).unwrap()));
    g.finish();
}

criterion_group!(benches, bench_label_metrics, bench_silhouette);
criterion_main!(benches);
