//! Clustering speed on MNIST-sized data: `cargo bench --bench cluster` (add
//! `--no-default-features` to skip libtorch).
//!
//! Uses `bench/data/` from `bench/prepare_data.py` (MNIST pixels → PCA-64, 60 000 × 64, and the
//! constraints of 1 % labels: all within-class must-links and all ≈162k cross-class cannot-links).
//! Without those files it falls back to synthetic data of the same shape (10 Gaussian blobs, 600
//! "labelled" points) and says so. Targets on the 2-core machine: PCK-means (5 iterations, with
//! constraint preparation) < 0.1 s; k-means (5 iterations, k = 10) no slower than faiss' 0.17 s.
use criterion::{criterion_group, criterion_main, Criterion};
use deepclust::cluster::{ConstrainedClusterer, KMeansParams, Pca, PckMeansParams};
use deepclust::labels::ConstraintSet;
use ndarray::Array2;
use ndarray_npy::read_npy;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

struct Data {
    x: Array2<f32>,
    constraints: ConstraintSet,
}

fn load() -> Data {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/data");
    let read = || -> Result<Data, ndarray_npy::ReadNpyError> {
        let x: Array2<f32> = read_npy(dir.join("mnist_pca64.npy"))?;
        let pairs = |name: &str| -> Result<Vec<(u32, u32)>, ndarray_npy::ReadNpyError> {
            let a: Array2<i64> = read_npy(dir.join(name))?;
            Ok(a.rows()
                .into_iter()
                .map(|r| (r[0] as u32, r[1] as u32))
                .collect())
        };
        Ok(Data {
            constraints: ConstraintSet {
                n_points: x.nrows(),
                must_link: pairs("mnist_ml.npy")?,
                cannot_link: pairs("mnist_cl.npy")?,
            },
            x,
        })
    };
    match read() {
        Ok(d) => {
            eprintln!(
                "bench data: {} ({} × {}, {} must-links, {} cannot-links)",
                dir.display(),
                d.x.nrows(),
                d.x.ncols(),
                d.constraints.must_link.len(),
                d.constraints.cannot_link.len()
            );
            d
        }
        Err(e) => {
            eprintln!(
                "bench data: {} unusable ({e}); run bench/prepare_data.py (bench/peers.sh does). \
                 Using synthetic 60000 × 64 blobs instead.",
                dir.display()
            );
            synthetic()
        }
    }
}

fn synthetic() -> Data {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let (n, d, k) = (60_000, 64, 10);
    let centres: Vec<f32> = (0..k * d).map(|_| rng.random_range(-3.0..3.0)).collect();
    let truth: Vec<usize> = (0..n).map(|_| rng.random_range(0..k)).collect();
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        centres[truth[i] * d + j] + rng.random_range(-2.0f32..2.0)
    });
    let labelled: Vec<usize> = rand::seq::index::sample(&mut rng, n, 600).into_vec();
    let mut cs = ConstraintSet::empty(n);
    for (a, &i) in labelled.iter().enumerate() {
        for &j in &labelled[a + 1..] {
            if truth[i] == truth[j] {
                cs.must_link.push((i as u32, j as u32));
            } else {
                cs.cannot_link.push((i as u32, j as u32));
            }
        }
    }
    Data { x, constraints: cs }
}

fn benches(c: &mut Criterion) {
    let data = load();
    let n = data.x.nrows();
    let mut g = c.benchmark_group("mnist60k");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    let empty = ConstraintSet::empty(n);
    g.bench_function("kmeans_k10_5iter", |b| {
        let p = KMeansParams::new(10).with_n_init(1).with_max_iter(5);
        b.iter(|| black_box(p.fit(data.x.view(), &empty, 0).unwrap()))
    });
    g.bench_function("pckmeans_k10_5iter_with_preparation", |b| {
        let p = PckMeansParams::paper(10);
        b.iter(|| black_box(p.fit(data.x.view(), &data.constraints, 0).unwrap()))
    });
    g.bench_function("pca32_whiten_fit_transform", |b| {
        let p = Pca::new(32, true);
        b.iter(|| black_box(p.fit_transform(data.x.view()).unwrap()))
    });
    g.finish();
}

criterion_group!(cluster, benches);
criterion_main!(cluster);
