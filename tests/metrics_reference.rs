//! Metrics against scikit-learn: tests/data/metrics_reference.json and tests/data/metrics_*.npy are
//! written by scripts/reference/metrics_reference.py (scikit-learn 1.6.1, SciPy 1.15.3).
use deepclust::metrics::{
    accuracy, ami, ari, confusion_matrix, contingency, davies_bouldin, entropy, label_scores,
    mutual_info, nmi, silhouette, silhouette_sample_indices, silhouette_sampled,
    silhouette_samples, MetricsError, NmiNorm,
};
use ndarray::{Array2, Axis};
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn reference() -> Value {
    let p = root().join("tests/data/metrics_reference.json");
    serde_json::from_str(&std::fs::read_to_string(&p).expect("reference json")).expect("valid json")
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("non-negative integer") as usize)
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn norm(name: &str) -> NmiNorm {
    name.parse().expect("norm")
}

/// Label metrics: absolute difference to scikit-learn.
const LABEL_TOL: f64 = 1e-9;

#[test]
fn label_metrics_match_scikit_learn() {
    let r = reference();
    let cases = r["labels"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let mut worst = 0.0f64;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let t = usizes(&case["truth"]);
        let p = usizes(&case["pred"]);
        let mut check = |what: &str, ours: f64, theirs: f64| {
            let d = (ours - theirs).abs();
            worst = worst.max(d);
            assert!(
                d <= LABEL_TOL,
                "{name}: {what}: ours {ours} vs scikit-learn {theirs}"
            );
        };
        for (m, v) in case["nmi"].as_object().unwrap() {
            check(&format!("nmi/{m}"), nmi(&t, &p, norm(m)).unwrap(), f(v));
        }
        for (m, v) in case["ami"].as_object().unwrap() {
            check(&format!("ami/{m}"), ami(&t, &p, norm(m)).unwrap(), f(v));
        }
        check("ari", ari(&t, &p).unwrap(), f(&case["ari"]));
        check(
            "mutual_info",
            mutual_info(&t, &p).unwrap(),
            f(&case["mutual_info"]),
        );
        check("entropy", entropy(&t).unwrap(), f(&case["entropy_truth"]));
        check("accuracy", accuracy(&t, &p).unwrap(), f(&case["accuracy"]));
        let s = label_scores(&t, &p).unwrap();
        check("scores.nmi", s.nmi, f(&case["nmi"]["arithmetic"]));
        check("scores.ami", s.ami, f(&case["ami"]["arithmetic"]));
        check("scores.ari", s.ari, f(&case["ari"]));
        check("scores.accuracy", s.accuracy, f(&case["accuracy"]));
        if let Some(c) = case.get("contingency") {
            let ours = contingency(&t, &p).unwrap();
            let theirs: Vec<Vec<u64>> = serde_json::from_value(c.clone()).unwrap();
            assert_eq!(ours.counts.nrows(), theirs.len(), "{name}");
            for (row, want) in ours.counts.rows().into_iter().zip(&theirs) {
                assert_eq!(row.to_vec(), *want, "{name}: contingency");
            }
            let cm = confusion_matrix(&t, &p).unwrap();
            assert_eq!(cm.labels, usizes(&case["confusion_labels"]), "{name}");
            let theirs: Vec<Vec<u64>> = serde_json::from_value(case["confusion"].clone()).unwrap();
            for (row, want) in cm.counts.rows().into_iter().zip(&theirs) {
                assert_eq!(row.to_vec(), *want, "{name}: confusion matrix");
            }
        }
    }
    eprintln!("label metrics: largest absolute difference to scikit-learn {worst:.2e}");
}

fn features(case: &Value) -> Array2<f32> {
    let p = root().join(case["features"].as_str().unwrap());
    let x: Array2<f32> = ndarray_npy::read_npy(&p).expect("npy");
    let shape = usizes(&case["shape"]);
    assert_eq!(x.dim(), (shape[0], shape[1]));
    x
}

#[test]
fn feature_metrics_match_scikit_learn() {
    let r = reference();
    let mut worst_sil = 0.0f64;
    let mut worst_dbi = 0.0f64;
    for case in r["features"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let x = features(case);
        let labels = usizes(&case["labels"]);
        let sil = silhouette(x.view(), &labels).unwrap();
        let want = f(&case["silhouette"]);
        let rel = (sil - want).abs() / want.abs();
        worst_sil = worst_sil.max(rel);
        assert!(
            rel <= 1e-7,
            "{name}: silhouette {sil} vs scikit-learn {want} (rel {rel:.1e})"
        );
        let dbi = davies_bouldin(x.view(), &labels).unwrap();
        let want = f(&case["davies_bouldin"]);
        let rel = (dbi - want).abs() / want.abs();
        worst_dbi = worst_dbi.max(rel);
        assert!(
            rel <= 1e-9,
            "{name}: davies_bouldin {dbi} vs scikit-learn {want}"
        );
        if let Some(s) = case.get("silhouette_samples") {
            let ours = silhouette_samples(x.view(), &labels).unwrap();
            for (i, (a, b)) in ours.iter().zip(s.as_array().unwrap()).enumerate() {
                let b = f(b);
                assert!((a - b).abs() <= 1e-6, "{name}: sample {i}: {a} vs {b}");
            }
        }
    }
    eprintln!(
        "silhouette: largest relative difference {worst_sil:.2e}; Davies-Bouldin {worst_dbi:.2e}"
    );
}

#[test]
fn sampled_silhouette_is_the_exact_silhouette_of_its_subset() {
    let r = reference();
    let case = &r["features"].as_array().unwrap()[1];
    let x = features(case);
    let labels = usizes(&case["labels"]);
    let idx = silhouette_sample_indices(x.nrows(), 500, 9);
    assert_eq!(idx.len(), 500);
    assert!(idx.windows(2).all(|w| w[0] < w[1]));
    let sub = x.select(Axis(0), &idx);
    let sub_labels: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
    let want = silhouette(sub.view(), &sub_labels).unwrap();
    assert_eq!(silhouette_sampled(x.view(), &labels, 500, 9).unwrap(), want);
    assert_ne!(silhouette_sample_indices(x.nrows(), 500, 10), idx);
    // A sample as large as the data is the data.
    assert_eq!(
        silhouette_sampled(x.view(), &labels, 10_000, 9).unwrap(),
        silhouette(x.view(), &labels).unwrap()
    );
}

#[test]
fn bad_inputs_are_errors_like_scikit_learn() {
    let x = Array2::<f32>::zeros((4, 2));
    // scikit-learn raises for 1 cluster and for n clusters.
    assert!(matches!(
        silhouette(x.view(), &[3, 3, 3, 3]),
        Err(MetricsError::ClusterCount { n_labels: 1, .. })
    ));
    assert!(matches!(
        silhouette(x.view(), &[0, 1, 2, 3]),
        Err(MetricsError::ClusterCount {
            n_labels: 4,
            max: 3,
            ..
        })
    ));
    assert!(matches!(
        davies_bouldin(x.view(), &[0, 0, 0, 0]),
        Err(MetricsError::ClusterCount { .. })
    ));
    assert!(matches!(
        silhouette(x.view(), &[0, 1, 0]),
        Err(MetricsError::LengthMismatch {
            left: 4,
            right: 3,
            ..
        })
    ));
    let mut y = x.clone();
    y[[2, 1]] = f32::NAN;
    let e = silhouette(y.view(), &[0, 1, 0, 1]).unwrap_err();
    assert!(
        matches!(e, MetricsError::NonFinite { row: 2, col: 1, .. }),
        "{e}"
    );
    assert!(matches!(
        nmi(&[], &[], NmiNorm::Arithmetic),
        Err(MetricsError::Empty(_))
    ));
    assert!(matches!(
        ari(&[0, 1], &[0]),
        Err(MetricsError::LengthMismatch { .. })
    ));
    assert!(matches!(accuracy(&[], &[]), Err(MetricsError::Empty(_))));
    assert!(silhouette_sampled(x.view(), &[0, 1, 0, 1], 0, 1).is_err());
    assert!("harmonic".parse::<NmiNorm>().is_err());
    // Identical points in two clusters: every a = b = 0, silhouette 0 (scikit-learn's nan_to_num).
    assert_eq!(silhouette(x.view(), &[0, 1, 0, 1]).unwrap(), 0.0);
}
