//! Tests of the CNN (`deepclust::model`): parameter count and initialisation against the original's
//! definitions, an independent plain-Rust forward pass, learning, determinism, checkpoints.
#![cfg(feature = "torch")]

use deepclust::model::{Arch, Images, ModelConfig, ModelError, Network};
use flate2::read::GzDecoder;
use ndarray::{s, Array1, Array2, Array3, Array4, ArrayView3};
use rand::Rng;
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

/// Synthetic 28×28 images: sparse random strokes of random brightness.
fn synthetic(n: usize, seed: u64) -> Array3<u8> {
    let mut rng = deepclust::seed::rng(seed, "test/images");
    let mut a = Array3::<u8>::zeros((n, 28, 28));
    for i in 0..n {
        let level: u8 = rng.random_range(60..=255);
        let strokes = rng.random_range(20..200);
        for _ in 0..strokes {
            let (r, c) = (rng.random_range(4..24), rng.random_range(4..24));
            a[[i, r, c]] = level;
        }
    }
    a
}

/// The first `n` training images of real MNIST, decoded from the gzip IDX file directly.
fn mnist(n: usize) -> Array3<u8> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("DEEPCLUST_MNIST_DIR").map(PathBuf::from),
        Some(manifest.join("../shared/data/mnist")),
        Some(PathBuf::from("/work/shared/data/mnist")),
    ];
    let file = candidates
        .into_iter()
        .flatten()
        .map(|d| d.join("train-images-idx3-ubyte.gz"))
        .find(|p| p.exists())
        .expect("MNIST train-images-idx3-ubyte.gz not found: set DEEPCLUST_MNIST_DIR");
    let mut bytes = Vec::new();
    GzDecoder::new(std::fs::File::open(&file).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    let be = |o: usize| u32::from_be_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
    assert_eq!(be(0), 0x0803, "IDX magic of {}", file.display());
    assert_eq!((be(8), be(12)), (28, 28));
    assert!(be(4) >= n);
    Array3::from_shape_vec((n, 28, 28), bytes[16..16 + n * 784].to_vec()).unwrap()
}

fn images(a: &Array3<u8>) -> Images {
    Images::from_u8(a.view(), 0.1307, 0.3081).unwrap()
}

fn state(net: &Network) -> HashMap<String, Vec<f32>> {
    net.state_vectors().into_iter().collect()
}

/// Panics naming the tensors that differ (and by how much) between two states.
fn assert_same(a: &HashMap<String, Vec<f32>>, b: &HashMap<String, Vec<f32>>, what: &str) {
    let mut keys: Vec<_> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let diffs: Vec<String> = keys
        .into_iter()
        .filter_map(|k| match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) if x.len() == y.len() => {
                let d = x
                    .iter()
                    .zip(y)
                    .map(|(p, q)| (p - q).abs())
                    .fold(0f32, f32::max);
                (x != y).then(|| format!("{k} (max |Δ| {d:e})"))
            }
            (x, y) => Some(format!(
                "{k} (lengths {:?} vs {:?})",
                x.map(Vec::len),
                y.map(Vec::len)
            )),
        })
        .collect();
    assert!(
        diffs.is_empty(),
        "{what}: {} differ: {}",
        diffs.len(),
        diffs.join(", ")
    );
}

fn std_dev(v: &[f32]) -> f64 {
    let n = v.len() as f64;
    let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    (v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n).sqrt()
}

#[test]
fn paper_network_has_the_originals_parameter_count() {
    // Counted by hand from the layer table: conv 8·1·9+8, BN 2·8, conv 16·8·4+16, BN 2·16,
    // conv 32·16·4+32, BN 2·32, fc 64·128+64, head 10·64+10 = 11,706 (the count the original printed).
    let net = Network::new(&ModelConfig::default(), 10, 0).unwrap();
    assert_eq!(net.n_params(), 11_706);
    // Wide: 32·9+32 + 64 + 64·32·4+64 + 128 + 128·64·4+128 + 256 + 64·512+64 + 650 = 75,402.
    let wide = ModelConfig {
        arch: Arch::Wide,
        ..ModelConfig::default()
    };
    assert_eq!(Network::new(&wide, 10, 0).unwrap().n_params(), 75_402);
    // A 3-cluster head: 11,706 − 650 + 3·64 + 3.
    assert_eq!(
        Network::new(&ModelConfig::default(), 3, 0)
            .unwrap()
            .n_params(),
        11_706 - 650 + 195
    );
}

#[test]
fn initialisation_follows_the_original() {
    let cfg = ModelConfig {
        arch: Arch::Wide,
        ..ModelConfig::default()
    };
    let st = state(&Network::new(&cfg, 10, 1).unwrap());
    // Kaiming normal, fan_out, ReLU gain: std = sqrt(2 / (out · k · k)).
    for (name, fan_out) in [
        ("body.conv1.weight", 32.0 * 9.0),
        ("body.conv2.weight", 64.0 * 4.0),
        ("body.conv3.weight", 128.0 * 4.0),
    ] {
        let want = (2.0f64 / fan_out).sqrt();
        let got = std_dev(&st[name]);
        assert!(
            (got / want - 1.0).abs() < 0.1,
            "{name}: std {got}, want {want}"
        );
    }
    for name in ["body.fc.weight", "head.weight"] {
        let got = std_dev(&st[name]);
        assert!((got / 0.01 - 1.0).abs() < 0.1, "{name}: std {got}");
    }
    for (name, v) in &st {
        let all = |x: f32| v.iter().all(|&y| y == x);
        if name.ends_with(".bias") || name.ends_with("running_mean") {
            assert!(all(0.0), "{name} should start at 0");
        }
        if name.starts_with("body.bn") && name.ends_with(".weight") || name.ends_with("running_var")
        {
            assert!(all(1.0), "{name} should start at 1");
        }
    }
    assert!(
        !st.keys().any(|k| k.starts_with("opt.")),
        "no momentum before a step"
    );
}

#[test]
fn images_are_normalised_like_torchvision() {
    let mut a = Array3::<u8>::zeros((2, 28, 28));
    a[[1, 3, 4]] = 255;
    a[[1, 0, 0]] = 51;
    let im = images(&a);
    assert_eq!(im.len(), 2);
    let x = im.image(1).unwrap();
    let norm = |p: f64| ((p / 255.0 - 0.1307) / 0.3081) as f32;
    assert!((x[[3, 4]] - norm(255.0)).abs() < 1e-6);
    assert!((x[[0, 0]] - norm(51.0)).abs() < 1e-6);
    assert!((x[[5, 5]] - norm(0.0)).abs() < 1e-6);
    assert!(im.image(2).is_none());
}

// ---- an independent forward pass in plain Rust (eval mode) ----

fn conv(x: &Array3<f32>, w: &Array4<f32>, b: &[f32], stride: usize, pad: usize) -> Array3<f32> {
    let (ci, h, wd) = x.dim();
    let (co, ci2, k, _) = w.dim();
    assert_eq!(ci, ci2);
    let oh = (h + 2 * pad - k) / stride + 1;
    let ow = (wd + 2 * pad - k) / stride + 1;
    let mut y = Array3::<f32>::zeros((co, oh, ow));
    for o in 0..co {
        for r in 0..oh {
            for c in 0..ow {
                let mut acc = b[o] as f64;
                for i in 0..ci {
                    for dr in 0..k {
                        for dc in 0..k {
                            let (rr, cc) = (
                                (r * stride + dr) as isize - pad as isize,
                                (c * stride + dc) as isize - pad as isize,
                            );
                            if rr >= 0 && cc >= 0 && (rr as usize) < h && (cc as usize) < wd {
                                acc += w[[o, i, dr, dc]] as f64
                                    * x[[i, rr as usize, cc as usize]] as f64;
                            }
                        }
                    }
                }
                y[[o, r, c]] = acc as f32;
            }
        }
    }
    y
}

fn bn_relu_pool(x: Array3<f32>, st: &HashMap<String, Vec<f32>>, l: usize) -> Array3<f32> {
    let g = &st[&format!("body.bn{l}.weight")];
    let be = &st[&format!("body.bn{l}.bias")];
    let m = &st[&format!("body.bn{l}.running_mean")];
    let v = &st[&format!("body.bn{l}.running_var")];
    let (c, h, w) = x.dim();
    let mut y = x;
    for ch in 0..c {
        let scale = g[ch] as f64 / (v[ch] as f64 + 1e-5).sqrt();
        y.slice_mut(s![ch, .., ..])
            .mapv_inplace(|t| ((t as f64 - m[ch] as f64) * scale + be[ch] as f64).max(0.0) as f32);
    }
    let mut p = Array3::<f32>::zeros((c, h / 2, w / 2));
    for ch in 0..c {
        for r in 0..h / 2 {
            for cc in 0..w / 2 {
                p[[ch, r, cc]] = y
                    .slice(s![ch, 2 * r..2 * r + 2, 2 * cc..2 * cc + 2])
                    .iter()
                    .cloned()
                    .fold(f32::MIN, f32::max);
            }
        }
    }
    p
}

fn reference_features(
    img: ArrayView3<f32>,
    st: &HashMap<String, Vec<f32>>,
    ch: [usize; 3],
) -> Array1<f32> {
    let w = |name: &str, shape: (usize, usize, usize, usize)| {
        Array4::from_shape_vec(shape, st[name].clone()).unwrap()
    };
    let x = img.to_owned();
    let x = conv(
        &x,
        &w("body.conv1.weight", (ch[0], 1, 3, 3)),
        &st["body.conv1.bias"],
        2,
        1,
    );
    let x = bn_relu_pool(x, st, 1);
    let x = conv(
        &x,
        &w("body.conv2.weight", (ch[1], ch[0], 2, 2)),
        &st["body.conv2.bias"],
        1,
        1,
    );
    let x = bn_relu_pool(x, st, 2);
    let x = conv(
        &x,
        &w("body.conv3.weight", (ch[2], ch[1], 2, 2)),
        &st["body.conv3.bias"],
        1,
        1,
    );
    let x = bn_relu_pool(x, st, 3);
    assert_eq!(x.dim(), (ch[2], 2, 2));
    let flat = Array1::from_iter(x.iter().cloned()); // channel-major, as torch's flatten
    let fcw = Array2::from_shape_vec(
        (st["body.fc.bias"].len(), 4 * ch[2]),
        st["body.fc.weight"].clone(),
    )
    .unwrap();
    fcw.dot(&flat) + Array1::from(st["body.fc.bias"].clone())
}

#[test]
fn features_match_an_independent_forward_pass() {
    let raw = mnist(300);
    let im = images(&raw);
    let cfg = ModelConfig {
        batch_size: 32,
        ..ModelConfig::default()
    };
    let mut net = Network::new(&cfg, 10, 5).unwrap();
    // Train a little so BN statistics and biases are no longer at their initial values.
    let targets: Vec<usize> = (0..300).map(|i| i % 10).collect();
    let order: Vec<usize> = (0..300).collect();
    net.train_epoch(&im, &targets, &order, 1, None).unwrap();
    let st = state(&net);
    assert!(st["body.bn2.running_mean"].iter().any(|&m| m != 0.0));
    let f = net.features(&im, None).unwrap();
    assert_eq!(f.dim(), (300, 64));
    for i in [0, 7, 299] {
        let x = im.image(i).unwrap().insert_axis(ndarray::Axis(0));
        let want = reference_features(x.view(), &st, [8, 16, 32]);
        for (j, (&a, &b)) in f.row(i).iter().zip(want.iter()).enumerate() {
            assert!(
                (a - b).abs() < 1e-4 * (1.0 + b.abs()),
                "image {i} feature {j}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn features_are_deterministic_and_independent_of_batch_size() {
    let im = images(&synthetic(130, 1));
    let net = Network::new(&ModelConfig::default(), 10, 3).unwrap();
    let a = net.features(&im, None).unwrap();
    let b = net.features(&im, None).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.dim(), (130, 64));
    let same_seed = Network::new(&ModelConfig::default(), 10, 3).unwrap();
    assert_eq!(a, same_seed.features(&im, None).unwrap());
    let other_seed = Network::new(&ModelConfig::default(), 10, 4).unwrap();
    assert_ne!(a, other_seed.features(&im, None).unwrap());
    let small_batches = Network::new(
        &ModelConfig {
            eval_batch_size: 7,
            ..ModelConfig::default()
        },
        10,
        3,
    )
    .unwrap();
    let c = small_batches.features(&im, None).unwrap();
    let diff = (&a - &c).iter().fold(0f32, |m, d| m.max(d.abs()));
    assert!(diff < 1e-5, "batch size changed features by {diff}");
    let pb = indicatif::ProgressBar::hidden();
    net.features(&im, Some(&pb)).unwrap();
    assert_eq!(pb.position(), 130);
}

/// label = mean brightness above the median: learnable from the pixels, so loss must fall and
/// accuracy rise well above chance.
#[test]
fn learns_a_trivially_learnable_labelling_of_real_mnist() {
    let n = 512;
    let raw = mnist(n);
    let im = images(&raw);
    let means: Vec<f64> = raw
        .outer_iter()
        .map(|m| m.iter().map(|&p| p as f64).sum::<f64>())
        .collect();
    let mut sorted = means.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[n / 2];
    let targets: Vec<usize> = means.iter().map(|&m| usize::from(m > median)).collect();
    let cfg = ModelConfig {
        batch_size: 32,
        ..ModelConfig::default()
    };
    let mut net = Network::new(&cfg, 2, 11).unwrap();
    let mut stats = Vec::new();
    for epoch in 0..12u64 {
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = deepclust::seed::rng(epoch, "test/order");
        for i in (1..n).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        stats.push(net.train_epoch(&im, &targets, &order, epoch, None).unwrap());
    }
    let (first, last) = (&stats[0], stats.last().unwrap());
    assert_eq!(last.samples, n);
    assert!(
        (first.loss - 2f64.ln()).abs() < 0.1,
        "first epoch loss {}",
        first.loss
    );
    assert!(
        last.loss < 0.5 * first.loss,
        "loss {} → {}",
        first.loss,
        last.loss
    );
    assert!(last.accuracy > 0.85, "accuracy {}", last.accuracy);
    // Eval-mode predictions agree with the labels too: features separate the classes.
    let f = net.features(&im, None).unwrap();
    let dim_means = |c: usize| {
        let rows: Vec<_> = (0..n).filter(|&i| targets[i] == c).collect();
        f.select(ndarray::Axis(0), &rows)
            .mean_axis(ndarray::Axis(0))
            .unwrap()
    };
    let gap = (&dim_means(0) - &dim_means(1)).mapv(|d| d * d).sum().sqrt();
    assert!(gap > 0.1, "class means of features only {gap} apart");
}

fn train_cfg() -> ModelConfig {
    ModelConfig {
        batch_size: 16,
        head_momentum: 0.5,
        ..ModelConfig::default()
    }
}

fn order_for(epoch: u64, n: usize) -> Vec<usize> {
    let mut rng = deepclust::seed::rng(epoch, "test/resume-order");
    (0..n + 13).map(|_| rng.random_range(0..n)).collect()
}

#[test]
fn save_load_round_trip_and_bit_identical_resume() {
    let n = 100;
    let im = images(&synthetic(n, 2));
    let targets: Vec<usize> = (0..n).map(|i| (i * 7) % 4).collect();
    let dir = tempfile::tempdir().unwrap();

    // Uninterrupted: two epochs, each with a fresh head as the DeepCluster loop does.
    let mut straight = Network::new(&train_cfg(), 4, 9).unwrap();
    for epoch in 0..2u64 {
        straight.reset_head(4, 100 + epoch);
        straight
            .train_epoch(&im, &targets, &order_for(epoch, n), epoch, None)
            .unwrap();
    }

    // Interrupted after one epoch.
    let mut first = Network::new(&train_cfg(), 4, 9).unwrap();
    first.reset_head(4, 100);
    first
        .train_epoch(&im, &targets, &order_for(0, n), 0, None)
        .unwrap();
    let ck = dir.path().join("net.pt");
    first.save(&ck).unwrap();
    assert!(!dir.path().join("net.pt.tmp").exists());

    let mut resumed = Network::new(&train_cfg(), 7, 12345).unwrap();
    resumed.load(&ck).unwrap();
    assert_eq!(resumed.n_clusters(), 4);
    let (a, b) = (state(&first), state(&resumed));
    assert_same(&a, &b, "round trip");
    assert!(a.contains_key("opt.body.conv1.weight") && a.contains_key("opt.head.weight"));
    assert_eq!(
        first.features(&im, None).unwrap(),
        resumed.features(&im, None).unwrap()
    );

    resumed.reset_head(4, 101);
    resumed
        .train_epoch(&im, &targets, &order_for(1, n), 1, None)
        .unwrap();
    assert_same(
        &state(&straight),
        &state(&resumed),
        "resumed vs uninterrupted",
    );
}

#[test]
fn load_rejects_a_checkpoint_of_another_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("wide.pt");
    let wide = ModelConfig {
        arch: Arch::Wide,
        ..ModelConfig::default()
    };
    Network::new(&wide, 10, 0).unwrap().save(&ck).unwrap();
    let mut paper = Network::new(&ModelConfig::default(), 10, 0).unwrap();
    let before = state(&paper);
    let err = paper.load(&ck).unwrap_err();
    assert!(matches!(err, ModelError::Checkpoint { .. }), "{err}");
    assert!(err.to_string().contains("conv1.weight"), "{err}");
    assert_same(
        &before,
        &state(&paper),
        "failed load must leave the network unchanged",
    );
    let missing = paper.load(&dir.path().join("nope.pt")).unwrap_err();
    assert!(missing.to_string().contains("nope.pt"), "{missing}");
}

#[test]
fn reset_head_changes_only_the_head() {
    let n = 64;
    let im = images(&synthetic(n, 3));
    let targets: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let mut net = Network::new(&train_cfg(), 3, 1).unwrap();
    net.train_epoch(&im, &targets, &(0..n).collect::<Vec<_>>(), 0, None)
        .unwrap();
    let before = state(&net);
    assert!(before.contains_key("opt.head.weight"));
    net.reset_head(5, 77);
    let after = state(&net);
    assert_eq!(net.n_clusters(), 5);
    for (k, v) in &before {
        if k.starts_with("body.") || k.starts_with("opt.body.") {
            assert_eq!(v, &after[k], "{k} changed");
        }
    }
    assert!(
        !after.contains_key("opt.head.weight"),
        "head optimiser must be fresh"
    );
    assert_eq!(after["head.weight"].len(), 5 * 64);
    assert!(after["head.bias"].iter().all(|&b| b == 0.0));
    let sd = std_dev(&after["head.weight"]);
    assert!((sd / 0.01 - 1.0).abs() < 0.15, "head std {sd}");
    // Seeded: the same seed gives the same head.
    let mut again = Network::new(&train_cfg(), 3, 1).unwrap();
    again.reset_head(5, 77);
    assert_eq!(state(&again)["head.weight"], after["head.weight"]);
}

#[test]
fn augmentation_is_seeded() {
    let n = 48;
    let im = images(&synthetic(n, 4));
    let targets: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let order: Vec<usize> = (0..n).collect();
    let cfg = ModelConfig {
        augment: true,
        batch_size: 16,
        ..ModelConfig::default()
    };
    let run = |seed| {
        let mut net = Network::new(&cfg, 2, 0).unwrap();
        net.train_epoch(&im, &targets, &order, seed, None).unwrap();
        state(&net)
    };
    assert_same(&run(1), &run(1), "same seed");
    assert_ne!(run(1), run(2), "different seeds must augment differently");

    // The rotation/scale warp is seeded too, and changes training.
    let warp_cfg = ModelConfig {
        rotate: 20.0,
        scale: 0.15,
        ..cfg.clone()
    };
    let run_warp = |seed| {
        let mut net = Network::new(&warp_cfg, 2, 0).unwrap();
        net.train_epoch(&im, &targets, &order, seed, None).unwrap();
        state(&net)
    };
    assert_same(&run_warp(1), &run_warp(1), "same seed, warp");
    assert_ne!(
        run_warp(1),
        run(1),
        "the warp must change the training images"
    );
}

#[test]
fn post_relu_features_are_the_relu_of_the_pre_relu_ones() {
    let im = images(&synthetic(40, 6));
    let pre = Network::new(&ModelConfig::default(), 3, 9).unwrap();
    let post_cfg = ModelConfig {
        feature_relu: true,
        ..ModelConfig::default()
    };
    let post = Network::new(&post_cfg, 3, 9).unwrap();
    let a = pre.features(&im, None).unwrap();
    let b = post.features(&im, None).unwrap();
    assert!(
        a.iter().any(|&v| v < 0.0),
        "pre-ReLU features have negatives"
    );
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.max(0.0), *y);
    }
}

#[test]
fn bad_configs_and_arguments_are_errors() {
    let bad = |cfg: ModelConfig, field: &str| {
        let err = Network::new(&cfg, 10, 0).unwrap_err();
        assert!(
            matches!(&err, ModelError::InvalidConfig { field: f, .. } if *f == field),
            "{field}: {err}"
        );
    };
    let d = ModelConfig::default;
    bad(ModelConfig { lr: 0.0, ..d() }, "lr");
    bad(ModelConfig { lr: -0.1, ..d() }, "lr");
    bad(
        ModelConfig {
            lr: f64::NAN,
            ..d()
        },
        "lr",
    );
    bad(
        ModelConfig {
            batch_size: 0,
            ..d()
        },
        "batch_size",
    );
    bad(
        ModelConfig {
            eval_batch_size: 0,
            ..d()
        },
        "eval_batch_size",
    );
    bad(
        ModelConfig {
            dropout: 1.0,
            ..d()
        },
        "dropout",
    );
    bad(
        ModelConfig {
            dropout: -0.1,
            ..d()
        },
        "dropout",
    );
    bad(
        ModelConfig {
            momentum: 1.0,
            ..d()
        },
        "momentum",
    );
    bad(
        ModelConfig {
            head_lr: Some(0.0),
            ..d()
        },
        "head_lr",
    );
    bad(ModelConfig { std: 0.0, ..d() }, "std");
    bad(
        ModelConfig {
            feature_dim: 0,
            ..d()
        },
        "feature_dim",
    );
    bad(
        ModelConfig {
            rotate: -1.0,
            ..d()
        },
        "rotate",
    );
    bad(
        ModelConfig {
            rotate: f64::INFINITY,
            ..d()
        },
        "rotate",
    );
    bad(ModelConfig { scale: 1.0, ..d() }, "scale");
    assert!(ModelConfig::default().validate().is_ok());
    assert!(Network::new(&d(), 0, 0).is_err());

    // Config files: defaults fill gaps, typos are rejected, snake_case arch names.
    let cfg: ModelConfig = toml::from_str("arch = \"wide\"\nlr = 0.05").unwrap();
    assert_eq!((cfg.arch, cfg.lr, cfg.batch_size), (Arch::Wide, 0.05, 256));
    assert!(toml::from_str::<ModelConfig>("learning_rate = 0.05").is_err());

    let im = images(&synthetic(10, 5));
    let mut net = Network::new(&d(), 3, 0).unwrap();
    let ok_order: Vec<usize> = (0..10).collect();
    let e = net
        .train_epoch(&im, &[0; 9], &ok_order, 0, None)
        .unwrap_err();
    assert!(e.to_string().contains("targets"), "{e}");
    let e = net
        .train_epoch(&im, &[3; 10], &ok_order, 0, None)
        .unwrap_err();
    assert!(e.to_string().contains("targets[0]"), "{e}");
    let e = net.train_epoch(&im, &[0; 10], &[10], 0, None).unwrap_err();
    assert!(e.to_string().contains("order[0]"), "{e}");
    let small = Images::from_u8(Array3::<u8>::zeros((2, 20, 20)).view(), 0.1, 0.3).unwrap();
    assert!(net
        .features(&small, None)
        .unwrap_err()
        .to_string()
        .contains("20×20"));
    assert!(Images::from_u8(Array3::<u8>::zeros((0, 28, 28)).view(), 0.1, 0.3).is_err());
    assert!(Images::from_u8(Array3::<u8>::zeros((1, 28, 28)).view(), 0.1, 0.0).is_err());
}

#[test]
fn network_and_images_can_move_between_threads() {
    fn is_send<T: Send>() {}
    is_send::<Network>();
    is_send::<Images>();
    let net = Network::new(&ModelConfig::default(), 2, 0).unwrap();
    let n = std::thread::spawn(move || net.n_params()).join().unwrap();
    assert_eq!(n, 11_706 - 8 * 65);
}

#[test]
fn centroid_head_is_the_nearest_mean_classifier_of_the_assignments() {
    let n = 60;
    let im = images(&synthetic(n, 5));
    let mut net = Network::new(&train_cfg(), 3, 2).unwrap();
    let feats = net.features(&im, None).unwrap();
    let assign: Vec<usize> = (0..n).map(|i| (i * 7) % 3).collect();
    let body_before: Vec<_> = state(&net)
        .into_iter()
        .filter(|(k, _)| k.starts_with("body."))
        .collect();
    net.set_head_to_centroids(&feats, &assign, 4).unwrap();
    let st = state(&net);
    assert_eq!(net.n_clusters(), 4);
    for (k, v) in body_before {
        assert_eq!(v, st[&k], "{k} changed");
    }
    let d = feats.ncols();
    let (w, b) = (&st["head.weight"], &st["head.bias"]);
    assert_eq!((w.len(), b.len()), (4 * d, 4));
    for c in 0..3 {
        let rows: Vec<usize> = (0..n).filter(|&i| assign[i] == c).collect();
        let mut norm2 = 0.0f64;
        for j in 0..d {
            let mean = rows
                .iter()
                .map(|&i| f64::from(feats[[i, j]].max(0.0)))
                .sum::<f64>()
                / rows.len() as f64;
            assert!((f64::from(w[c * d + j]) - mean).abs() < 1e-5, "w[{c},{j}]");
            norm2 += mean * mean;
        }
        assert!((f64::from(b[c]) + 0.5 * norm2).abs() < 1e-4, "bias {c}");
    }
    // Cluster 3 is empty: zero weights and bias.
    assert!(w[3 * d..].iter().all(|&x| x == 0.0) && b[3] == 0.0);
    assert!(
        !st.contains_key("opt.head.weight"),
        "head optimiser must be fresh"
    );

    let err = net
        .set_head_to_centroids(&feats, &assign[..10], 3)
        .unwrap_err();
    assert!(err.to_string().contains("features"), "{err}");
    let mut bad = assign.clone();
    bad[4] = 9;
    let err = net.set_head_to_centroids(&feats, &bad, 3).unwrap_err();
    assert!(err.to_string().contains("assignments"), "{err}");
}

#[test]
fn lr_factor_trains_like_the_scaled_rate() {
    let n = 48;
    let im = images(&synthetic(n, 7));
    let targets: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let order: Vec<usize> = (0..n).collect();
    let cfg = train_cfg();
    let half = ModelConfig {
        lr: cfg.lr * 0.5,
        ..cfg.clone()
    };
    let mut scaled = Network::new(&cfg, 3, 4).unwrap();
    scaled.set_lr_factor(0.5);
    scaled.train_epoch(&im, &targets, &order, 1, None).unwrap();
    let mut direct = Network::new(&half, 3, 4).unwrap();
    direct.train_epoch(&im, &targets, &order, 1, None).unwrap();
    assert_same(&state(&scaled), &state(&direct), "factor 0.5 vs lr/2");
    let mut full = Network::new(&cfg, 3, 4).unwrap();
    full.train_epoch(&im, &targets, &order, 1, None).unwrap();
    assert_ne!(
        state(&full),
        state(&scaled),
        "the factor must change the step"
    );
}
