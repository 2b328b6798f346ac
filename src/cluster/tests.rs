//! Tests of the clustering module against independent computations: plain-loop reference
//! implementations written here, scikit-learn's numbers (`tests/data/cluster_reference.json`,
//! made by `scripts/reference/cluster_reference.py`), and hand-made cases.
// The references are deliberately written as plain index loops.
#![allow(clippy::needless_range_loop)]
use super::kernels::{self, Points};
use super::*;
use crate::labels::ConstraintSet;
use ndarray::{array, Array2, Axis};
use rand::seq::SliceRandom;
use rand::Rng as _;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// Data helpers

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut crate::seed::Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// `per` points around each centre with standard deviation `std`, shuffled; returns data and the
/// blob of each point.
fn blobs(centres: &[Vec<f64>], per: usize, std: f64, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = crate::seed::rng(seed, "test/blobs");
    let d = centres[0].len();
    let mut rows: Vec<(Vec<f32>, usize)> = Vec::new();
    for (c, centre) in centres.iter().enumerate() {
        for _ in 0..per {
            rows.push((
                centre
                    .iter()
                    .map(|&m| (m + std * normal(&mut rng)) as f32)
                    .collect(),
                c,
            ));
        }
    }
    rows.shuffle(&mut rng);
    let n = rows.len();
    let truth = rows.iter().map(|r| r.1).collect();
    let flat: Vec<f32> = rows.into_iter().flat_map(|r| r.0).collect();
    (Array2::from_shape_vec((n, d), flat).unwrap(), truth)
}

/// `k` random centres in `d` dimensions with coordinates N(0, spread²).
fn random_centres(k: usize, d: usize, spread: f64, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = crate::seed::rng(seed, "test/centres");
    (0..k)
        .map(|_| (0..d).map(|_| spread * normal(&mut rng)).collect())
        .collect()
}

/// Constraints as the original makes them from labels: a random labelled subset of `n_labelled`
/// points, all within-class pairs must-linked, all cross-class pairs cannot-linked. A fraction
/// `noise` of the labelled points gets a random other class.
fn label_constraints(
    truth: &[usize],
    n_classes: usize,
    n_labelled: usize,
    noise: f64,
    seed: u64,
) -> ConstraintSet {
    let mut rng = crate::seed::rng(seed, "test/labels");
    let mut idx: Vec<u32> = (0..truth.len() as u32).collect();
    idx.shuffle(&mut rng);
    idx.truncate(n_labelled);
    let lab: Vec<(u32, usize)> = idx
        .iter()
        .map(|&i| {
            let mut c = truth[i as usize];
            if rng.random::<f64>() < noise {
                c = (c + 1 + rng.random_range(0..n_classes - 1)) % n_classes;
            }
            (i, c)
        })
        .collect();
    let mut cs = ConstraintSet::empty(truth.len());
    for a in 0..lab.len() {
        for b in a + 1..lab.len() {
            if lab[a].1 == lab[b].1 {
                cs.must_link.push((lab[a].0, lab[b].0));
            } else {
                cs.cannot_link.push((lab[b].0, lab[a].0));
            }
        }
    }
    cs
}

// ---------------------------------------------------------------------------------------------
// Plain-loop references

fn ref_dist(a: &[f32], b: &[f32]) -> f64 {
    let mut s = 0.0f64;
    for i in 0..a.len() {
        let t = a[i] as f64 - b[i] as f64;
        s += t * t;
    }
    s
}

fn row(x: &Array2<f32>, i: usize) -> Vec<f32> {
    x.row(i).to_vec()
}

fn ref_nearest(x: &[f32], mu: &Array2<f32>) -> usize {
    let mut best = f64::INFINITY;
    let mut arg = 0;
    for c in 0..mu.nrows() {
        let d = ref_dist(x, &row(mu, c));
        if d < best {
            best = d;
            arg = c;
        }
    }
    arg
}

/// Means of the labelled groups; panics on an empty cluster (reference data avoid them).
fn ref_means(x: &Array2<f32>, labels: &[usize], k: usize) -> Array2<f32> {
    let d = x.ncols();
    let mut sums = vec![vec![0.0f64; d]; k];
    let mut counts = vec![0usize; k];
    for i in 0..x.nrows() {
        counts[labels[i]] += 1;
        for j in 0..d {
            sums[labels[i]][j] += x[[i, j]] as f64;
        }
    }
    let mut out = Array2::zeros((k, d));
    for c in 0..k {
        assert!(counts[c] > 0, "reference data must not empty a cluster");
        for j in 0..d {
            out[[c, j]] = (sums[c][j] / counts[c] as f64) as f32;
        }
    }
    out
}

fn ref_max_shift(a: &Array2<f32>, b: &Array2<f32>) -> f64 {
    let mut m = 0.0f64;
    for (x, y) in a.iter().zip(b.iter()) {
        m = m.max((*x as f64 - *y as f64).abs());
    }
    m
}

/// Lloyd with PCK-means' loop shape: assign, take means, stop when `max|Δμ| ≤ tol` or after
/// `max_iter`; returns the last assignment and its means.
fn ref_lloyd(
    x: &Array2<f32>,
    init: &Array2<f32>,
    max_iter: usize,
    tol: f64,
) -> (Vec<usize>, Array2<f32>) {
    let k = init.nrows();
    let mut mu = init.clone();
    let mut labels = vec![0; x.nrows()];
    for _ in 0..max_iter {
        for i in 0..x.nrows() {
            labels[i] = ref_nearest(&row(x, i), &mu);
        }
        let new = ref_means(x, &labels, k);
        let shift = ref_max_shift(&new, &mu);
        mu = new;
        if shift <= tol {
            break;
        }
    }
    (labels, mu)
}

/// PCK-means exactly as described, slowly: all points visited one by one in the iteration's
/// random permutation, the objective evaluated for every cluster with plain loops over the
/// partner sets.
fn ref_pckmeans(
    x: &Array2<f32>,
    cs: &ConstraintSet,
    init: &Array2<f32>,
    (wm, wc): (f64, f64),
    max_iter: usize,
    tol: f64,
    seed: u64,
) -> (Vec<usize>, Array2<f32>) {
    let n = x.nrows();
    let k = init.nrows();
    let mut ml: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    let mut cl: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for &(a, b) in &cs.must_link {
        ml[a as usize].insert(b as usize);
        ml[b as usize].insert(a as usize);
    }
    for &(a, b) in &cs.cannot_link {
        cl[a as usize].insert(b as usize);
        cl[b as usize].insert(a as usize);
    }
    let mut mu = init.clone();
    let mut labels: Vec<Option<usize>> = vec![None; n];
    for t in 0..max_iter {
        labels = vec![None; n];
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.shuffle(&mut crate::seed::rng(seed, &format!("pckmeans/order/{t}")));
        for &i in &order {
            let i = i as usize;
            let mut best = f64::INFINITY;
            let mut arg = 0;
            for c in 0..k {
                let dist = ref_dist(&row(x, i), &row(&mu, c));
                let mut ml_viol = 0usize;
                for &j in &ml[i] {
                    if let Some(l) = labels[j] {
                        if l != c {
                            ml_viol += 1;
                        }
                    }
                }
                let mut cl_viol = 0usize;
                for &j in &cl[i] {
                    if labels[j] == Some(c) {
                        cl_viol += 1;
                    }
                }
                let obj = 0.5 * dist + wm * ml_viol as f64 + wc * cl_viol as f64;
                if obj < best {
                    best = obj;
                    arg = c;
                }
            }
            labels[i] = Some(arg);
        }
        let l: Vec<usize> = labels.iter().map(|l| l.unwrap()).collect();
        let new = ref_means(x, &l, k);
        let shift = ref_max_shift(&new, &mu);
        mu = new;
        if shift <= tol {
            break;
        }
    }
    (labels.into_iter().map(|l| l.unwrap()).collect(), mu)
}

/// Distinct pairs and their violations, counted directly.
fn ref_violations(cs: &ConstraintSet, labels: &[usize]) -> (usize, usize) {
    let norm = |v: &[(u32, u32)]| -> BTreeSet<(u32, u32)> {
        v.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect()
    };
    let ml = norm(&cs.must_link)
        .into_iter()
        .filter(|&(a, b)| labels[a as usize] != labels[b as usize])
        .count();
    let cl = norm(&cs.cannot_link)
        .into_iter()
        .filter(|&(a, b)| labels[a as usize] == labels[b as usize])
        .count();
    (ml, cl)
}

fn ref_inertia(x: &Array2<f32>, labels: &[usize], mu: &Array2<f32>) -> f64 {
    (0..x.nrows())
        .map(|i| ref_dist(&row(x, i), &row(mu, labels[i])))
        .sum()
}

/// True when the two labellings are the same partition.
fn same_partition(a: &[usize], b: &[usize]) -> bool {
    let mut ab = std::collections::HashMap::new();
    let mut ba = std::collections::HashMap::new();
    a.iter()
        .zip(b)
        .all(|(x, y)| *ab.entry(x).or_insert(y) == y && *ba.entry(y).or_insert(x) == x)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn reference_json() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cluster_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference file")).unwrap()
}

fn json_matrix(v: &serde_json::Value) -> Array2<f32> {
    let rows: Vec<Vec<f32>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    let (n, d) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((n, d), rows.into_iter().flatten().collect()).unwrap()
}

fn json_vec(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn none(n: usize) -> ConstraintSet {
    ConstraintSet::empty(n)
}

// ---------------------------------------------------------------------------------------------
// The assignment kernel

#[test]
fn fast_assignment_equals_plain_f64_argmin_even_near_ties() {
    // Data far from the origin (cancellation in ‖x‖² − 2x·μ + ‖μ‖²) and points exactly
    // equidistant from two centroids (ties must go to the lowest id).
    let mut rng = crate::seed::rng(1, "test/ties");
    let (n, d, k) = (3000, 24, 7);
    let mut x = Array2::<f32>::zeros((n, d));
    for v in x.iter_mut() {
        *v = (300.0 + normal(&mut rng)) as f32;
    }
    let mut mu = Array2::<f32>::zeros((k, d));
    for v in mu.iter_mut() {
        *v = (300.0 + 0.3 * normal(&mut rng)) as f32;
    }
    // Centroids 0 and 5 mirror each other in column 0; rows 0..100 sit on the mirror plane.
    for j in 0..d {
        mu[[5, j]] = mu[[0, j]];
    }
    mu[[0, 0]] = 299.0;
    mu[[5, 0]] = 301.0;
    for i in 0..100 {
        for j in 0..d {
            x[[i, j]] = mu[[0, j]] + if j == 0 { 1.0 } else { 0.01 * i as f32 };
        }
    }
    let p = Points::new(x.view()).unwrap();
    let mut labels = vec![0u32; n];
    let refined = kernels::assign_nearest(&p, &mu, &mut labels);
    assert!(refined > 0, "the near-tie rows must take the exact path");
    for i in 0..n {
        assert_eq!(labels[i] as usize, ref_nearest(&row(&x, i), &mu), "row {i}");
    }
    assert!(labels[..100].iter().all(|&l| l == 0 || l < 5));
}

#[test]
fn dot_kernel_is_accurate_and_identical_with_and_without_avx2() {
    let mut rng = crate::seed::rng(2, "test/panel");
    let (k, d, rows) = (13, 37, 11);
    let c = Array2::from_shape_fn((k, d), |_| normal(&mut rng) as f32);
    let xs: Vec<f32> = (0..rows * d)
        .map(|_| (5.0 * normal(&mut rng)) as f32)
        .collect();
    let panel = kernels::Panel::new(&c);
    let kp = 16;
    let mut fast = vec![f32::NAN; rows * kp];
    let mut generic = vec![f32::NAN; rows * kp];
    panel.dots(&xs, &mut fast);
    panel.dots_generic(&xs, &mut generic);
    assert_eq!(
        fast.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        generic.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    for r in 0..rows {
        for t in 0..kp {
            let (exact, abs) = if t < k {
                (0..d).fold((0.0f64, 0.0f64), |(s, a), j| {
                    let p = xs[r * d + j] as f64 * c[[t, j]] as f64;
                    (s + p, a + p.abs())
                })
            } else {
                (0.0, 0.0)
            };
            let u = f32::EPSILON as f64 / 2.0;
            let bound = d as f64 * u / (1.0 - d as f64 * u) * abs;
            assert!(
                (fast[r * kp + t] as f64 - exact).abs() <= bound,
                "row {r}, vector {t}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// k-means

#[test]
fn kmeans_recovers_well_separated_blobs() {
    let centres: Vec<Vec<f64>> = (0..5)
        .map(|c| (0..8).map(|j| if j == c { 20.0 } else { 0.0 }).collect())
        .collect();
    let (x, truth) = blobs(&centres, 120, 1.0, 3);
    for seed in 0..5 {
        let r = KMeansParams::new(5)
            .fit(x.view(), &none(x.nrows()), seed)
            .unwrap();
        assert!(same_partition(&r.assignments, &truth), "seed {seed}");
    }
}

#[test]
fn kmeans_inertia_equals_direct_recomputation() {
    let (x, _) = blobs(&random_centres(6, 10, 2.0, 4), 200, 1.0, 4);
    let r = KMeansParams::new(6)
        .fit(x.view(), &none(x.nrows()), 9)
        .unwrap();
    let direct = ref_inertia(&x, &r.assignments, &r.centroids);
    assert!(
        rel(r.objective, direct) < 1e-9,
        "{} vs {direct}",
        r.objective
    );
    // Final labels are the nearest final centroids.
    for i in 0..x.nrows() {
        assert_eq!(r.assignments[i], ref_nearest(&row(&x, i), &r.centroids));
    }
    // History distances are inertias of successive assignments: non-increasing for Lloyd.
    for w in r.history.windows(2) {
        assert!(w[1].distance <= w[0].distance * (1.0 + 1e-12));
    }
}

#[test]
fn kmeans_matches_scikit_learn_from_the_same_initial_centroids() {
    let r = reference_json();
    let case = &r["kmeans"];
    let x = json_matrix(&case["x"]);
    let init = json_matrix(&case["init"]);
    for run in case["runs"].as_array().unwrap() {
        let max_iter = run["max_iter"].as_u64().unwrap() as usize;
        let params = KMeansParams::new(init.nrows())
            .with_max_iter(max_iter)
            .with_tol(case["tol"].as_f64().unwrap());
        let ours = params
            .fit_with_init(x.view(), init.view(), &none(x.nrows()))
            .unwrap();
        let inertia = run["inertia"].as_f64().unwrap();
        assert!(
            rel(ours.objective, inertia) < 1e-4,
            "max_iter {max_iter}: ours {} vs scikit-learn {inertia}",
            ours.objective
        );
        let labels: Vec<usize> = json_vec(&run["labels"])
            .iter()
            .map(|&v| v as usize)
            .collect();
        assert_eq!(ours.assignments, labels, "max_iter {max_iter}");
        assert_eq!(ours.n_iter as u64, run["n_iter"].as_u64().unwrap());
        let c = json_matrix(&run["centroids"]);
        for (a, b) in ours.centroids.iter().zip(c.iter()) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}

#[test]
fn kmeans_repairs_an_empty_cluster_by_splitting_the_largest() {
    // Two tight groups; the third initial centroid is far from every point, so its cluster is
    // empty after the first assignment.
    let mut rng = crate::seed::rng(5, "test/empty");
    let mut x = Array2::<f32>::zeros((120, 2));
    for i in 0..120 {
        let cx = if i < 80 { 0.0 } else { 10.0 };
        x[[i, 0]] = (cx + 0.5 * normal(&mut rng)) as f32;
        x[[i, 1]] = (0.5 * normal(&mut rng)) as f32;
    }
    let init = array![[0.0f32, 0.0], [10.0, 0.0], [1000.0, 1000.0]];
    let r = KMeansParams::new(3)
        .fit_with_init(x.view(), init.view(), &none(120))
        .unwrap();
    assert!(r.empty_clusters_repaired >= 1);
    let mut sizes = [0; 3];
    for &l in &r.assignments {
        sizes[l] += 1;
    }
    assert!(sizes.iter().all(|&s| s > 0), "{sizes:?}");
    // The largest group (the first 80 points) was split; the other stays whole.
    let b = r.assignments[80];
    assert!(r.assignments[80..].iter().all(|&l| l == b));
    assert!(r.assignments[..80].iter().all(|&l| l != b));
    assert!(rel(r.objective, ref_inertia(&x, &r.assignments, &r.centroids)) < 1e-9);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let (x, truth) = blobs(&random_centres(8, 16, 1.5, 6), 700, 1.0, 6);
    let cs = label_constraints(&truth, 8, 120, 0.1, 6);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let km = KMeansParams::new(8).fit(x.view(), &cs, 1).unwrap();
            let pck = PckMeansParams::new(8).fit(x.view(), &cs, 1).unwrap();
            // Labels from 3 of the 8 classes: the rest of the centroids come from k-means.
            let few = ConstraintSet {
                must_link: cs
                    .must_link
                    .iter()
                    .copied()
                    .filter(|&(a, b)| truth[a as usize] < 3 && truth[b as usize] < 3)
                    .collect(),
                ..ConstraintSet::empty(x.nrows())
            };
            assert!((1..8).contains(&few.must_link_components(false).len()));
            let topped = PckMeansParams::new(8).fit(x.view(), &few, 1).unwrap();
            let seeded = SeededKMeansParams::new(8).fit(x.view(), &cs, 1).unwrap();
            let clean = label_constraints(&truth, 8, 120, 0.0, 7);
            let cop = CopKMeansParams::new(8).fit(x.view(), &clean, 1).unwrap();
            let pca = Pca::new(5, true).fit_transform(x.view()).unwrap();
            (km, pck, seeded, cop, pca, topped)
        })
    };
    let a = run(1);
    let b = run(2);
    let bits = |c: &Clustering| {
        (
            c.assignments.clone(),
            c.centroids.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            c.objective.to_bits(),
            c.history
                .iter()
                .map(|h| (h.distance.to_bits(), h.max_shift.to_bits()))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(bits(&a.0), bits(&b.0));
    assert_eq!(bits(&a.1), bits(&b.1));
    assert_eq!(bits(&a.2), bits(&b.2));
    assert_eq!(bits(&a.3), bits(&b.3));
    assert_eq!(bits(&a.5), bits(&b.5));
    assert_eq!(
        a.4.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.4.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn kmeans_plus_plus_and_random_init_are_seeded() {
    let (x, _) = blobs(&random_centres(4, 3, 3.0, 8), 50, 1.0, 8);
    for init in [KMeansInit::KMeansPlusPlus, KMeansInit::Random] {
        let p = KMeansParams::new(4).with_init(init).with_n_init(2);
        let a = p.fit(x.view(), &none(200), 11).unwrap();
        let b = p.fit(x.view(), &none(200), 11).unwrap();
        assert_eq!(a, b);
    }
}

// ---------------------------------------------------------------------------------------------
// PCK-means

/// Overlapping blobs with noisy label constraints, so the penalties change decisions.
fn pck_case(seed: u64) -> (Array2<f32>, Vec<usize>, ConstraintSet) {
    let (x, truth) = blobs(&random_centres(5, 6, 1.2, seed), 120, 1.0, seed);
    let cs = label_constraints(&truth, 5, 60, 0.15, seed);
    (x, truth, cs)
}

#[test]
fn pckmeans_fast_equals_slow_reference() {
    let mut penalties_mattered = false;
    for seed in 0..4u64 {
        let (x, _, cs) = pck_case(seed);
        let init = json_free_init(&x, 5, seed);
        for (w, max_iter) in [(None, 5), (Some(0.8), 8), (Some(3.0), 3)] {
            let mut params = PckMeansParams::new(5)
                .with_max_iter(max_iter)
                .with_tol(1e-6);
            if let Some(w) = w {
                params = params.with_weights(w, 0.7 * w);
            }
            let weights = params.weights(&cs);
            let fast = params
                .fit_with_init(x.view(), &cs, init.view(), seed)
                .unwrap();
            let (labels, mu) = ref_pckmeans(&x, &cs, &init, weights, max_iter, 1e-6, seed);
            assert_eq!(fast.assignments, labels, "seed {seed}, w {w:?}");
            assert_eq!(fast.n_iter, fast.history.len());
            for (a, b) in fast.centroids.iter().zip(mu.iter()) {
                assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
            }
            let (plain, _) = ref_pckmeans(&x, &cs, &init, (0.0, 0.0), max_iter, 1e-6, seed);
            penalties_mattered |= plain != labels;
        }
        // The default (neighbourhood) initialisation: the 5 largest must-link components' means.
        let comps = cs.must_link_components(false);
        assert!(comps.len() >= 5);
        let mut init = Array2::<f32>::zeros((5, 6));
        for (c, comp) in comps.iter().take(5).enumerate() {
            for j in 0..6 {
                let s: f64 = comp.iter().map(|&i| x[[i as usize, j]] as f64).sum();
                init[[c, j]] = (s / comp.len() as f64) as f32;
            }
        }
        let params = PckMeansParams::paper(5);
        let fast = params.fit(x.view(), &cs, seed).unwrap();
        let (labels, _) = ref_pckmeans(&x, &cs, &init, params.weights(&cs), 5, 2e-4, seed);
        assert_eq!(fast.assignments, labels, "neighbourhood init, seed {seed}");
    }
    assert!(
        penalties_mattered,
        "the test data must make the penalties matter"
    );
}

/// Some fixed initial centroids: `k` spread-out rows.
fn json_free_init(x: &Array2<f32>, k: usize, seed: u64) -> Array2<f32> {
    let mut rng = crate::seed::rng(seed, "test/init");
    let idx = rand::seq::index::sample(&mut rng, x.nrows(), k).into_vec();
    x.select(Axis(0), &idx)
}

#[test]
fn pckmeans_with_huge_weights_satisfies_all_label_constraints() {
    for seed in 0..3 {
        let (x, truth) = blobs(&random_centres(4, 5, 1.0, seed + 10), 150, 1.0, seed);
        let cs = label_constraints(&truth, 4, 80, 0.0, seed);
        assert!(!cs.must_link.is_empty() && !cs.cannot_link.is_empty());
        let r = PckMeansParams::new(4)
            .with_weight(1e6)
            .fit(x.view(), &cs, seed)
            .unwrap();
        assert_eq!(ref_violations(&cs, &r.assignments), (0, 0));
        assert_eq!((r.violated_must_links, r.violated_cannot_links), (0, 0));
        // The same data with weight 0 do violate some (the blobs overlap), so the test has teeth.
        let r0 = PckMeansParams::new(4)
            .with_weight(0.0)
            .fit(x.view(), &cs, seed)
            .unwrap();
        assert_ne!(ref_violations(&cs, &r0.assignments), (0, 0), "seed {seed}");
    }
}

#[test]
fn pckmeans_with_zero_weight_is_lloyd_from_the_same_init() {
    let (x, _, cs) = pck_case(7);
    let init = json_free_init(&x, 5, 7);
    for max_iter in [1, 4, 50] {
        let r = PckMeansParams::new(5)
            .with_weight(0.0)
            .with_max_iter(max_iter)
            .fit_with_init(x.view(), &cs, init.view(), 3)
            .unwrap();
        let (labels, mu) = ref_lloyd(&x, &init, max_iter, 2e-4);
        assert_eq!(r.assignments, labels, "max_iter {max_iter}");
        for (a, b) in r.centroids.iter().zip(mu.iter()) {
            assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0));
        }
    }
}

#[test]
fn pckmeans_objective_terms_equal_direct_recomputation() {
    let (x, _, cs) = pck_case(2);
    let params = PckMeansParams::new(5)
        .with_weights(0.4, 0.9)
        .with_max_iter(6);
    let r = params.fit(x.view(), &cs, 5).unwrap();
    let (vm, vc) = ref_violations(&cs, &r.assignments);
    assert_eq!((r.violated_must_links, r.violated_cannot_links), (vm, vc));
    assert!(vm + vc > 0, "the case should have violations");
    let direct =
        0.5 * ref_inertia(&x, &r.assignments, &r.centroids) + 0.4 * vm as f64 + 0.9 * vc as f64;
    assert!(
        rel(r.objective, direct) < 1e-9,
        "{} vs {direct}",
        r.objective
    );
    let last = r.history.last().unwrap();
    assert_eq!(last.must_link_penalty, 0.4 * vm as f64);
    assert_eq!(last.cannot_link_penalty, 0.9 * vc as f64);
    // The last history entry's distance is measured against the centroids the last pass used,
    // which are no closer than the means of that pass.
    assert!(last.distance >= ref_inertia(&x, &r.assignments, &r.centroids) * (1.0 - 1e-12));
}

#[test]
fn pckmeans_duplicate_pairs_count_once() {
    let (x, _, mut cs) = pck_case(3);
    let params = PckMeansParams::new(5).with_weight(0.5);
    let a = params.fit(x.view(), &cs, 1).unwrap();
    let dup: Vec<(u32, u32)> = cs.cannot_link.iter().map(|&(a, b)| (b, a)).collect();
    cs.cannot_link.extend(dup);
    cs.must_link.extend(cs.must_link.clone());
    let b = params.fit(x.view(), &cs, 1).unwrap();
    assert_eq!(a, b);
}

#[test]
fn paper_weight_is_two_k_over_labelled_points() {
    assert!((paper_weight(10, 60_000, 0.01) - 1.0 / 30.0).abs() < 1e-15);
    assert_eq!(paper_weight(10, 60_000, 0.0), 0.0);
    // Default weights use the fraction of constrained points.
    let (_, _, cs) = pck_case(1);
    let n_lab = cs.constrained_points().len();
    let (wm, wc) = PckMeansParams::new(5).weights(&cs);
    assert!((wm - 10.0 / n_lab as f64).abs() < 1e-12 && wm == wc);
}

#[test]
fn pckmeans_repairs_empty_clusters() {
    let (x, _, cs) = pck_case(4);
    let mut init = json_free_init(&x, 5, 4);
    init.row_mut(4).fill(1e4);
    let r = PckMeansParams::new(5)
        .with_weight(0.0)
        .with_max_iter(20)
        .fit_with_init(x.view(), &cs, init.view(), 1)
        .unwrap();
    assert!(r.empty_clusters_repaired >= 1);
    assert!(r.centroids.iter().all(|v| v.abs() < 100.0));
}

// ---------------------------------------------------------------------------------------------
// COP-k-means

#[test]
fn copkmeans_never_violates_a_constraint() {
    let mut feasible_runs = 0;
    for seed in 0..30u64 {
        let (x, truth) = blobs(&random_centres(4, 4, 1.0, seed), 60, 1.0, seed);
        // Label-made constraints (always satisfiable with k = classes) plus random extra pairs
        // (sometimes not).
        let mut cs = label_constraints(&truth, 4, 30, 0.0, seed);
        let mut rng = crate::seed::rng(seed, "test/cop");
        for _ in 0..(seed % 4) * 5 {
            let a = rng.random_range(0..240u32);
            let b = (a + 1 + rng.random_range(0..239u32)) % 240;
            if rng.random::<bool>() {
                cs.must_link.push((a, b));
            } else {
                cs.cannot_link.push((a, b));
            }
        }
        match CopKMeansParams::new(4).fit(x.view(), &cs, seed) {
            Ok(r) => {
                assert_eq!(ref_violations(&cs, &r.assignments), (0, 0), "seed {seed}");
                feasible_runs += 1;
            }
            Err(ClusterError::Infeasible(msg)) => assert!(msg.contains("cannot-link"), "{msg}"),
            Err(e) => panic!("seed {seed}: {e}"),
        }
    }
    assert!(feasible_runs >= 20, "only {feasible_runs} feasible runs");
}

#[test]
fn copkmeans_reports_infeasible_constraints() {
    let x = array![[0.0f32, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]];
    // Three points pairwise cannot-linked, two clusters: impossible.
    let cs = ConstraintSet {
        n_points: 4,
        must_link: vec![],
        cannot_link: vec![(0, 1), (1, 2), (0, 2)],
    };
    match CopKMeansParams::new(2)
        .with_max_restarts(3)
        .fit(x.view(), &cs, 0)
    {
        Err(ClusterError::Infeasible(m)) => {
            assert!(m.contains("point") && m.contains("cannot-link ("), "{m}");
            assert!(m.contains("4 attempts"), "{m}");
        }
        other => panic!("expected infeasible, got {other:?}"),
    }
    // A cannot-link inside a must-link chain.
    let cs = ConstraintSet {
        n_points: 4,
        must_link: vec![(0, 1), (1, 2)],
        cannot_link: vec![(2, 0)],
    };
    match CopKMeansParams::new(3).fit(x.view(), &cs, 0) {
        Err(ClusterError::Infeasible(m)) => {
            assert!(m.contains("(0, 2)") || m.contains("(2, 0)"), "{m}")
        }
        other => panic!("expected infeasible, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Seeded k-means

#[test]
fn seeded_kmeans_starts_from_the_labelled_class_means() {
    let (x, truth) = blobs(&random_centres(4, 5, 2.0, 12), 100, 1.0, 12);
    let cs = label_constraints(&truth, 4, 40, 0.0, 12);
    let comps = cs.must_link_components(false);
    assert_eq!(comps.len(), 4);
    let mut init = Array2::<f32>::zeros((4, 5));
    for (c, comp) in comps.iter().enumerate() {
        for j in 0..5 {
            let s: f64 = comp.iter().map(|&i| x[[i as usize, j]] as f64).sum();
            init[[c, j]] = (s / comp.len() as f64) as f32;
        }
    }
    let r = SeededKMeansParams::new(4).fit(x.view(), &cs, 0).unwrap();
    // The first iteration's inertia is that of the nearest-class-mean assignment.
    let first: Vec<usize> = (0..x.nrows())
        .map(|i| ref_nearest(&row(&x, i), &init))
        .collect();
    let expected = ref_inertia(&x, &first, &init);
    assert!(rel(r.history[0].distance, expected) < 1e-9);
    // Cluster c is seeded by component c, so clusters line up with the components' classes.
    for (c, comp) in comps.iter().enumerate() {
        let class = truth[comp[0] as usize];
        let agree = (0..x.nrows())
            .filter(|&i| truth[i] == class && r.assignments[i] == c)
            .count();
        assert!(agree > 80, "cluster {c}: {agree}");
    }
    // Fewer components than k: topped up, still k clusters.
    let r = SeededKMeansParams::new(6).fit(x.view(), &cs, 0).unwrap();
    assert_eq!(r.centroids.nrows(), 6);
}

#[test]
fn pckmeans_original_init_tops_up_with_fixed_singletons_not_kmeans_plus_plus() {
    let (x, truth) = blobs(&random_centres(4, 5, 2.0, 21), 50, 1.0, 21);
    let p = Points::new(x.view()).unwrap();
    // Labels from one class only: one must-link component, k = 4.
    let class0: Vec<u32> = (0..x.nrows() as u32)
        .filter(|&i| truth[i as usize] == 0)
        .take(10)
        .collect();
    let mut cs = ConstraintSet::empty(x.nrows());
    for (a, &i) in class0.iter().enumerate() {
        for &j in &class0[a + 1..] {
            cs.must_link.push((i, j));
        }
    }
    let params = PckMeansParams::paper(4).with_init(PckMeansInit::Original);
    for seed in [0, 1] {
        let init = params.initial_centroids(&p, &cs, seed);
        assert_eq!(init.nrows(), 4);
        // Row 0: the component's mean; rows 1..: the smallest ids outside it, whatever the seed.
        for j in 0..5 {
            let mean: f64 = class0
                .iter()
                .map(|&i| x[[i as usize, j]] as f64)
                .sum::<f64>()
                / 10.0;
            assert!((init[[0, j]] as f64 - mean).abs() < 1e-5);
        }
        let rest: Vec<usize> = (0..x.nrows())
            .filter(|i| !class0.contains(&(*i as u32)))
            .take(3)
            .collect();
        for (r, &i) in rest.iter().enumerate() {
            assert_eq!(init.row(r + 1), x.row(i), "row {}", r + 1);
        }
    }
    // The neighbourhood init tops up with k-means centroids (default) or k-means++ instead.
    let original = params.initial_centroids(&p, &cs, 0);
    for top_up in [TopUp::KMeans, TopUp::KMeansPlusPlus] {
        let nb = PckMeansParams::paper(4)
            .with_top_up(top_up)
            .initial_centroids(&p, &cs, 0);
        assert_eq!(nb.row(0), original.row(0));
        assert_ne!(nb, original);
    }
}

#[test]
fn pckmeans_tops_up_by_kmeans_around_the_labelled_class_means() {
    let (x, truth) = blobs(&random_centres(4, 5, 2.0, 31), 60, 1.0, 31);
    let p = Points::new(x.view()).unwrap();
    let seed = 7;
    let params = PckMeansParams::paper(4);
    assert_eq!(params.top_up, TopUp::KMeans);

    // No labels: the start is a k-means solution (3 restarts, on a stream of its own), so
    // PCK-means cannot end worse than it.
    let none = ConstraintSet::empty(x.nrows());
    let km = KMeansParams::new(4)
        .fit(
            x.view(),
            &none,
            crate::seed::derive(seed, "pckmeans/top-up"),
        )
        .unwrap();
    assert_eq!(params.initial_centroids(&p, &none, seed), km.centroids);
    let r = params.fit(x.view(), &none, seed).unwrap();
    assert!(2.0 * r.objective <= km.objective * (1.0 + 1e-9));
    assert_eq!(r.assignments, km.assignments);

    // Labels from class 0 only: its mean stays the first centroid and the other three are fitted
    // around it — a Lloyd fixed point in which each of them is the mean of its nearest points.
    let class0: Vec<u32> = (0..x.nrows() as u32)
        .filter(|&i| truth[i as usize] == 0)
        .take(10)
        .collect();
    let mut cs = ConstraintSet::empty(x.nrows());
    for w in class0.windows(2) {
        cs.must_link.push((w[0], w[1]));
    }
    let init = params.initial_centroids(&p, &cs, seed);
    let mean = component_mean(&x, &class0);
    for j in 0..5 {
        assert!((init[[0, j]] - mean[j]).abs() < 1e-6);
    }
    let nearest: Vec<usize> = (0..x.nrows())
        .map(|i| ref_nearest(&row(&x, i), &init))
        .collect();
    let means = ref_means(&x, &nearest, 4);
    for c in 1..4 {
        for j in 0..5 {
            assert!((init[[c, j]] - means[[c, j]]).abs() < 1e-3, "centroid {c}");
        }
    }
    // Fitted, that start explains the data better than the k-means++ top-up's single draw.
    let kpp = params.clone().with_top_up(TopUp::KMeansPlusPlus);
    let drawn = kpp.initial_centroids(&p, &cs, seed);
    assert_eq!(drawn.row(0), init.row(0));
    let inertia = |mu: &Array2<f32>| {
        let l: Vec<usize> = (0..x.nrows())
            .map(|i| ref_nearest(&row(&x, i), mu))
            .collect();
        ref_inertia(&x, &l, mu)
    };
    assert!(inertia(&init) < inertia(&drawn));

    // Every component present: the top-up is not needed, both give the component means.
    let all = label_constraints(&truth, 4, 40, 0.0, 31);
    assert_eq!(all.must_link_components(false).len(), 4);
    assert_eq!(
        params.initial_centroids(&p, &all, seed),
        kpp.initial_centroids(&p, &all, seed)
    );
}

fn component_mean(x: &Array2<f32>, comp: &[u32]) -> ndarray::Array1<f32> {
    let d = x.ncols();
    ndarray::Array1::from_shape_fn(d, |j| {
        (comp.iter().map(|&i| x[[i as usize, j]] as f64).sum::<f64>() / comp.len() as f64) as f32
    })
}

// ---------------------------------------------------------------------------------------------
// Preprocessing

#[test]
fn pca_matches_scikit_learn() {
    let r = reference_json();
    let case = &r["pca"];
    let x = json_matrix(&case["x"]);
    let d = x.ncols();
    let m = Pca::new(d, false).fit(x.view()).unwrap();
    for (a, b) in m
        .explained_variance()
        .iter()
        .zip(json_vec(&case["explained_variance"]))
    {
        assert!(rel(*a, b) < 1e-6, "{a} vs {b}");
    }
    for (a, b) in m
        .explained_variance_ratio()
        .iter()
        .zip(json_vec(&case["explained_variance_ratio"]))
    {
        assert!((a - b).abs() < 1e-8);
    }
    let comps = json_matrix(&case["components"]);
    for i in 0..d {
        // Same axis up to sign.
        let dot: f64 = (0..d)
            .map(|j| m.components[[i, j]] * comps[[i, j]] as f64)
            .sum();
        assert!((dot.abs() - 1.0).abs() < 1e-5, "component {i}: {dot}");
    }
    for (a, b) in m.mean.iter().zip(json_vec(&case["mean"])) {
        assert!(rel(*a, b) < 1e-9);
    }
}

#[test]
fn pca_with_all_components_reconstructs_the_data() {
    let r = reference_json();
    let x = json_matrix(&r["pca"]["x"]);
    for whiten in [false, true] {
        let m = Pca::new(x.ncols(), whiten).fit(x.view()).unwrap();
        let back = m
            .inverse_transform(m.transform(x.view()).unwrap().view())
            .unwrap();
        for (a, b) in back.iter().zip(x.iter()) {
            assert!((a - b).abs() < 1e-3, "whiten {whiten}: {a} vs {b}");
        }
    }
}

#[test]
fn whitened_pca_has_identity_covariance() {
    let r = reference_json();
    let x = json_matrix(&r["pca"]["x"]);
    let y = Pca::new(5, true).fit_transform(x.view()).unwrap();
    let n = y.nrows() as f64;
    for a in 0..5 {
        let mean: f64 = y.column(a).iter().map(|&v| v as f64).sum::<f64>() / n;
        assert!(mean.abs() < 1e-4);
        for b in 0..5 {
            let cov: f64 = y
                .column(a)
                .iter()
                .zip(y.column(b))
                .map(|(&u, &v)| u as f64 * v as f64)
                .sum::<f64>()
                / n;
            let want = if a == b { 1.0 } else { 0.0 };
            assert!((cov - want).abs() < 1e-4, "cov[{a}][{b}] = {cov}");
        }
    }
}

#[test]
fn preprocessing_errors_name_the_row_and_column() {
    let mut x = Array2::<f32>::ones((5, 3));
    x[[3, 2]] = f32::NAN;
    let e = check_finite(x.view()).unwrap_err();
    assert!(matches!(e, PreprocessError::NonFinite { row: 3, col: 2, value } if value.is_nan()));
    assert!(e.to_string().contains("row 3, column 2"), "{e}");
    let mut z = Array2::<f32>::ones((4, 3));
    z.row_mut(2).fill(0.0);
    let e = l2_normalize_rows(z.view_mut()).unwrap_err();
    assert_eq!(e, PreprocessError::ZeroRow { row: 2 });
    let mut y = array![[3.0f32, 4.0], [0.0, -2.0]];
    l2_normalize_rows(y.view_mut()).unwrap();
    assert_eq!(y, array![[0.6f32, 0.8], [0.0, -1.0]]);
}

#[test]
fn paper_preprocessing_gives_unit_rows_of_dimension_32() {
    let (x, _) = blobs(&random_centres(3, 64, 1.0, 13), 100, 1.0, 13);
    let y = Preprocess::paper().apply(x.view()).unwrap();
    assert_eq!(y.dim(), (300, 32));
    for r in y.rows() {
        let n: f64 = r.iter().map(|&v| v as f64 * v as f64).sum();
        assert!((n - 1.0).abs() < 1e-5);
    }
    let e = Preprocess::paper().apply(x.slice(ndarray::s![.., ..16]));
    assert!(matches!(
        e,
        Err(PreprocessError::InvalidParam { name: "dim", .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Parameters and bad input

#[test]
fn bad_parameters_and_data_are_errors() {
    let x = array![[0.0f32, 1.0], [1.0, 0.0], [2.0, 2.0]];
    let cs = none(3);
    let algos = [
        Algorithm::KMeans(KMeansParams::new(0)),
        Algorithm::PckMeans(PckMeansParams::new(0)),
        Algorithm::CopKMeans(CopKMeansParams::new(0)),
        Algorithm::Seeded(SeededKMeansParams::new(0)),
    ];
    for a in &algos {
        assert!(matches!(
            a.fit(x.view(), &cs, 0),
            Err(ClusterError::InvalidParam { name: "k", .. })
        ));
    }
    for k in [4usize] {
        let algos = [
            Algorithm::KMeans(KMeansParams::new(k)),
            Algorithm::PckMeans(PckMeansParams::new(k)),
            Algorithm::CopKMeans(CopKMeansParams::new(k)),
            Algorithm::Seeded(SeededKMeansParams::new(k)),
        ];
        for a in &algos {
            let e = a.fit(x.view(), &cs, 0).unwrap_err();
            assert!(e.to_string().contains("only 3 points"), "{e}");
        }
    }
    let mut bad = x.clone();
    bad[[1, 1]] = f32::INFINITY;
    let e = KMeansParams::new(2).fit(bad.view(), &cs, 0).unwrap_err();
    assert!(e.to_string().contains("row 1, column 1"), "{e}");
    let e = PckMeansParams::new(2).fit(bad.view(), &cs, 0).unwrap_err();
    assert!(e.to_string().contains("row 1, column 1"), "{e}");
    assert!(KMeansParams::new(2).with_n_init(0).validate().is_err());
    assert!(KMeansParams::new(2).with_max_iter(0).validate().is_err());
    assert!(KMeansParams::new(2).with_tol(f64::NAN).validate().is_err());
    assert!(PckMeansParams::new(2).with_weight(-1.0).validate().is_err());
    let e = KMeansParams::new(2).fit(x.view(), &none(4), 0).unwrap_err();
    assert!(
        e.to_string().contains("4 points") && e.to_string().contains("3 rows"),
        "{e}"
    );
    let out_of_range = ConstraintSet {
        n_points: 3,
        must_link: vec![(0, 7)],
        cannot_link: vec![],
    };
    assert!(matches!(
        PckMeansParams::new(2).fit(x.view(), &out_of_range, 0),
        Err(ClusterError::InvalidConstraints(_))
    ));
    let e = KMeansParams::new(2)
        .fit_with_init(x.view(), array![[0.0f32, 0.0]].view(), &cs)
        .unwrap_err();
    assert!(e.to_string().contains("2 × 2"), "{e}");
    assert!(Pca::new(0, true).validate().is_err());
    assert!(Pca::new(3, true).fit(x.view()).is_err());
    let empty = Array2::<f32>::zeros((0, 2));
    assert!(KMeansParams::new(1).fit(empty.view(), &none(0), 0).is_err());
}

#[test]
fn algorithm_defaults_are_the_serde_defaults() {
    // Switching `cluster.algo` in a config starts from `Algorithm::defaults`; a config that names
    // only the algorithm and k gets the serde defaults. The two must agree.
    for name in ["kmeans", "pckmeans", "copkmeans", "seeded"] {
        let from_serde: Algorithm = toml::from_str(&format!("algo = \"{name}\"\nk = 7\n")).unwrap();
        assert_eq!(Algorithm::defaults(name, 7).unwrap(), from_serde, "{name}");
        assert_eq!(Algorithm::defaults(name, 7).unwrap().name(), name);
    }
    assert!(Algorithm::defaults("spectral", 7).is_none());
}

#[test]
fn algorithm_config_round_trips_with_defaults() {
    let a: Algorithm =
        serde_json::from_str(r#"{"algo": "pckmeans", "k": 10, "max_iter": 5}"#).unwrap();
    assert_eq!(a, Algorithm::PckMeans(PckMeansParams::paper(10)));
    let t: Algorithm = toml::from_str("algo = \"kmeans\"\nk = 3\ninit = \"random\"\n").unwrap();
    assert_eq!(
        t,
        Algorithm::KMeans(KMeansParams::new(3).with_init(KMeansInit::Random))
    );
    for a in [
        Algorithm::KMeans(KMeansParams::new(3)),
        Algorithm::PckMeans(PckMeansParams::new(3).with_weights(0.1, 0.2)),
        Algorithm::CopKMeans(CopKMeansParams::new(3)),
        Algorithm::Seeded(SeededKMeansParams::new(3)),
    ] {
        let s = serde_json::to_string(&a).unwrap();
        assert!(s.contains(&format!("\"algo\":\"{}\"", a.name())), "{s}");
        assert_eq!(serde_json::from_str::<Algorithm>(&s).unwrap(), a);
        let t = toml::to_string(&a).unwrap();
        assert_eq!(toml::from_str::<Algorithm>(&t).unwrap(), a);
    }
    let e = serde_json::from_str::<Algorithm>(r#"{"algo": "kmeans", "k": 3, "n_iter": 2}"#);
    assert!(e.unwrap_err().to_string().contains("n_iter"));
    assert!(serde_json::from_str::<Algorithm>(r#"{"algo": "dbscan", "k": 3}"#).is_err());
}
