//! t-SNE timing: 2,000 points of synthetic clustered data (10 Gaussian clusters in 50-D), default
//! parameters (750 iterations), end to end: neighbours, affinities, PCA initialisation and the
//! Barnes-Hut gradient descent.
//!
//! `cargo bench --no-default-features --bench tsne`
use criterion::{criterion_group, criterion_main, Criterion};
use deepclust::seed;
use deepclust::viz::tsne::{tsne, TsneParams};
use ndarray::Array2;
use rand::Rng;
use rand_distr::StandardNormal;

const N: usize = 2_000;
const D: usize = 50;
const K: usize = 10;

/// `N` points around `K` random centres, centres about as far apart as a few spreads.
fn synthetic() -> Array2<f32> {
    let mut rng = seed::rng(1, "bench/tsne");
    let centres: Vec<f32> = (0..K * D)
        .map(|_| 2.0 * rng.sample::<f32, _>(StandardNormal))
        .collect();
    Array2::from_shape_fn((N, D), |(i, j)| {
        centres[(i % K) * D + j] + rng.sample::<f32, _>(StandardNormal)
    })
}

fn bench(c: &mut Criterion) {
    deepclust::progress::set_quiet(true);
    let x = synthetic();
    let params = TsneParams::new();
    let mut g = c.benchmark_group("tsne");
    g.sample_size(10);
    g.bench_function("2000x50_default", |b| {
        b.iter(|| tsne(x.view(), &params).expect("valid input"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
