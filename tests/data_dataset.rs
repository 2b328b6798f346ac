//! `Dataset`: loading the fixture and the real data, balanced subsets, features, statistics.
use deepclust::data::{
    default_data_dir, fixture_dir, load, load_features, registry, verify, Dataset, Split,
};
use ndarray::{array, Array2, Array3};
use std::collections::HashMap;
use std::path::PathBuf;

fn shared_data() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.join("mnist").is_dir() {
        Some(p)
    } else {
        println!("note: {} not found: skipping", p.display());
        None
    }
}

fn labelled(labels: Vec<usize>, n_classes: usize) -> Dataset {
    let n = labels.len();
    Dataset {
        name: "toy".into(),
        split: Split::Train,
        images: Some(Array3::from_shape_fn((n, 1, 1), |(i, _, _)| i as u8)),
        features: None,
        labels: Some(labels),
        n_classes,
    }
}

fn counts(ds: &Dataset) -> Vec<usize> {
    ds.class_counts().unwrap()
}

#[test]
fn split_parses_and_prints() {
    assert_eq!("train".parse::<Split>().unwrap(), Split::Train);
    assert_eq!("Test".parse::<Split>().unwrap(), Split::Test);
    assert!("val".parse::<Split>().is_err());
    assert_eq!(Split::Test.to_string(), "test");
    assert_eq!(serde_json::to_string(&Split::Train).unwrap(), "\"train\"");
    assert_eq!(
        serde_json::from_str::<Split>("\"test\"").unwrap(),
        Split::Test
    );
}

#[test]
fn fixture_loads_from_fixture_dir_and_by_fallback() {
    let train = load("mnist-mini", Split::Train, &fixture_dir()).unwrap();
    assert_eq!(train.len(), 2000);
    assert_eq!(train.images.as_ref().unwrap().dim(), (2000, 28, 28));
    assert_eq!(counts(&train), vec![200; 10]);
    assert_eq!(train.n_classes, 10);
    // mnist-mini is bundled: found even when the data folder does not have it.
    let empty = tempfile::tempdir().unwrap();
    let test = load("mnist-mini", Split::Test, empty.path()).unwrap();
    assert_eq!(counts(&test), vec![50; 10]);
    assert!(
        verify(registry::lookup("mnist-mini").unwrap(), &fixture_dir())
            .unwrap()
            .iter()
            .all(|s| s.is_ok())
    );
}

#[test]
fn pixel_statistics_match_numpy() {
    // Values computed with numpy on the same files (fixtures/README.md).
    let train = load("mnist-mini", Split::Train, &fixture_dir()).unwrap();
    let (m, s) = train.pixel_mean_std().unwrap();
    assert!(
        (m - 0.132423).abs() < 5e-7 && (s - 0.309820).abs() < 5e-7,
        "{m} {s}"
    );
    let x = train.pixels_as_features();
    assert_eq!(x.dim(), (2000, 784));
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
    assert!((mean - 0.132423).abs() < 1e-5, "{mean}");
}

#[test]
fn fixture_is_a_subset_of_real_mnist() {
    let Some(data) = shared_data() else { return };
    for split in Split::ALL {
        let full = load("mnist", split, &data).unwrap();
        let mini = load("mnist-mini", split, &fixture_dir()).unwrap();
        let fim = full.images.as_ref().unwrap();
        let mut index: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
        for (i, im) in fim.outer_iter().enumerate() {
            index
                .entry(im.iter().copied().collect())
                .or_default()
                .push(i);
        }
        let fl = full.labels.as_ref().unwrap();
        for (im, &l) in mini
            .images
            .as_ref()
            .unwrap()
            .outer_iter()
            .zip(mini.labels.as_ref().unwrap())
        {
            let key: Vec<u8> = im.iter().copied().collect();
            let hits = index.get(&key).expect("a fixture image is in MNIST");
            assert!(hits.iter().any(|&i| fl[i] == l));
        }
    }
}

#[test]
fn real_mnist_known_facts() {
    let Some(data) = shared_data() else { return };
    let train = load("mnist", Split::Train, &data).unwrap();
    assert_eq!(train.images.as_ref().unwrap().dim(), (60000, 28, 28));
    // The first labels of the training set, and the published class counts.
    assert_eq!(
        &train.labels.as_ref().unwrap()[..10],
        &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    );
    assert_eq!(
        counts(&train),
        vec![5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    // numpy on the same file: 0.130660 / 0.308108 (the famous 0.1307 / 0.3081).
    let (m, s) = train.pixel_mean_std().unwrap();
    assert!(
        (m - 0.130660).abs() < 5e-7 && (s - 0.308108).abs() < 5e-7,
        "{m} {s}"
    );
    let test = load("mnist", Split::Test, &data).unwrap();
    assert_eq!(
        counts(&test),
        vec![980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
}

#[test]
fn fashion_mnist_from_the_debian_package() {
    if !std::path::Path::new("/usr/share/datasets/fashion-mnist").is_dir() {
        println!("note: Debian's dataset-fashion-mnist is not installed: skipping");
        return;
    }
    let empty = tempfile::tempdir().unwrap();
    let train = load("fashion-mnist", Split::Train, empty.path()).unwrap();
    assert_eq!(counts(&train), vec![6000; 10]);
    let test = load("fashion-mnist", Split::Test, empty.path()).unwrap();
    assert_eq!(counts(&test), vec![1000; 10]);
    let statuses = verify(registry::lookup("fashion-mnist").unwrap(), empty.path()).unwrap();
    assert!(statuses.iter().all(|s| s.is_ok()), "{statuses:?}");
}

#[test]
fn balanced_prefix_hand_worked() {
    // Classes 0 (4 points), 1 (2 points), 2 (1 point).
    let ds = labelled(vec![0, 0, 1, 0, 2, 1, 0], 3);
    for seed in 0..20 {
        let c = counts(&ds.balanced_prefix(3, seed));
        assert_eq!(c, vec![1, 1, 1]);
        let c = counts(&ds.balanced_prefix(4, seed));
        assert_eq!(c[2], 1);
        assert!(c == vec![2, 1, 1] || c == vec![1, 2, 1], "{c:?}");
        // Class 2 is exhausted after one, class 1 after two: the rest goes to class 0.
        assert_eq!(counts(&ds.balanced_prefix(6, seed)), vec![3, 2, 1]);
        assert_eq!(counts(&ds.balanced_prefix(100, seed)), vec![4, 2, 1]);
    }
}

#[test]
fn balanced_prefix_is_deterministic_nested_and_ordered() {
    let ds = load("mnist-mini", Split::Test, &fixture_dir()).unwrap();
    let a = ds.balanced_indices(137, 3);
    assert_eq!(a, ds.balanced_indices(137, 3));
    assert_ne!(a, ds.balanced_indices(137, 4));
    assert!(a.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
    let mut c = counts(&ds.subset(&a));
    c.sort();
    assert_eq!(c, vec![13, 13, 13, 14, 14, 14, 14, 14, 14, 14]);
    // Nested in n.
    for n in [0, 1, 9, 10, 11, 50, 136] {
        let small = ds.balanced_indices(n, 3);
        assert_eq!(small.len(), n);
        assert!(small.iter().all(|i| a.binary_search(i).is_ok()), "n = {n}");
    }
    // The subset carries the right images and labels.
    let sub = ds.balanced_prefix(137, 3);
    let im = ds.images.as_ref().unwrap();
    for (k, &i) in a.iter().enumerate() {
        assert_eq!(
            sub.labels.as_ref().unwrap()[k],
            ds.labels.as_ref().unwrap()[i]
        );
        assert_eq!(
            sub.images.as_ref().unwrap().index_axis(ndarray::Axis(0), k),
            im.index_axis(ndarray::Axis(0), i)
        );
    }
}

#[test]
fn unlabelled_balanced_prefix_is_a_random_subset() {
    let mut ds = labelled(vec![0; 50], 1);
    ds.labels = None;
    let idx = ds.balanced_indices(10, 1);
    assert_eq!(idx.len(), 10);
    assert_ne!(idx, (0..10).collect::<Vec<_>>());
    assert!(ds.class_counts().is_none());
}

#[test]
fn pixels_as_features_scales_and_flattens() {
    let ds = Dataset {
        name: "t".into(),
        split: Split::Test,
        images: Some(array![[[0u8, 255], [51, 102]], [[255, 0], [0, 0]]]),
        features: None,
        labels: None,
        n_classes: 0,
    };
    assert_eq!(
        ds.pixels_as_features(),
        array![[0.0f32, 1.0, 0.2, 0.4], [1.0, 0.0, 0.0, 0.0]]
    );
    assert_eq!(ds.len(), 2);
    let (m, s) = ds.pixel_mean_std().unwrap();
    // Hand-worked: values {0, 1, .2, .4, 1, 0, 0, 0}: mean .325, E[x²] = .275.
    assert!((m - 0.325).abs() < 1e-12);
    assert!((s - (0.275f64 - 0.325 * 0.325).sqrt()).abs() < 1e-12);
}

#[test]
fn feature_datasets() {
    let npy = fixture_dir().join("npy");
    let ds = load_features(&npy.join("features_f64.npy"), None, Split::Train).unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(ds.name, "features_f64");
    assert_eq!(ds.pixels_as_features().dim(), (3, 4));
    // 3 rows but 5 labels.
    let e = load_features(
        &npy.join("features_f64.npy"),
        Some(&npy.join("labels_i8.npy")),
        Split::Train,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("3 examples") && e.to_string().contains("5 labels"),
        "{e}"
    );
    let ok = Dataset::from_features(
        "x",
        Split::Test,
        Array2::zeros((3, 2)),
        Some(vec![0, 4, 1]),
        None,
    )
    .unwrap();
    assert_eq!(ok.n_classes, 5);
    assert_eq!(counts(&ok), vec![1, 1, 0, 0, 1]);
    assert!(Dataset::from_features(
        "x",
        Split::Test,
        Array2::zeros((3, 2)),
        Some(vec![0, 4, 1]),
        Some(3)
    )
    .is_err());
    let sub = ok.subset(&[2, 2, 0]);
    assert_eq!(sub.labels, Some(vec![1, 1, 0]));
    assert_eq!(sub.len(), 3);
}

#[test]
fn default_data_dir_honours_the_environment() {
    // Only checks the fallback shape without touching the process environment (tests run in
    // parallel threads): with DEEPCLUST_DATA unset the path ends in deepclust/data.
    if std::env::var_os("DEEPCLUST_DATA").is_none() {
        assert!(default_data_dir().ends_with("deepclust/data"));
    }
}
