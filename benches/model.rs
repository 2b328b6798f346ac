//! Speed of the CNN on synthetic MNIST-sized images: training throughput (batch 256, the
//! original's setting) and feature extraction of 60,000 images. `bench/model_peer.sh` compares the
//! same workload against PyTorch.
//!
//! `DEEPCLUST_BENCH_THREADS` sets libtorch's thread count (default: libtorch's own, the core count).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use deepclust::model::{self, Images, ModelConfig, Network};
use ndarray::Array3;
use rand::Rng;

const N: usize = 60_000;
const K: usize = 10;

fn setup() -> (Images, Vec<usize>) {
    if let Some(t) = std::env::var("DEEPCLUST_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        model::set_threads(t);
    }
    let mut rng = deepclust::seed::rng(0, "bench/images");
    let raw = Array3::from_shape_simple_fn((N, 28, 28), || {
        if rng.random_bool(0.2) {
            rng.random::<u8>()
        } else {
            0
        }
    });
    let images = Images::from_u8(raw.view(), 0.1307, 0.3081).expect("images");
    let targets = (0..N).map(|_| rng.random_range(0..K)).collect();
    (images, targets)
}

fn bench(c: &mut Criterion) {
    let (images, targets) = setup();
    let mut rng = deepclust::seed::rng(1, "bench/order");
    let samples = 256 * 40;
    let order: Vec<usize> = (0..samples).map(|_| rng.random_range(0..N)).collect();
    let mut net = Network::new(&ModelConfig::default(), K, 0).expect("network");

    let mut g = c.benchmark_group("model");
    g.sample_size(10);
    g.throughput(Throughput::Elements(samples as u64));
    let mut epoch = 0u64;
    g.bench_function("train_batch256_10240_images", |b| {
        b.iter(|| {
            epoch += 1;
            net.train_epoch(&images, &targets, &order, epoch, None)
                .expect("train")
        })
    });
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("features_60000_images", |b| {
        b.iter(|| net.features(&images, None).expect("features"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
