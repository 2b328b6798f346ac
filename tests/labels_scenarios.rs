//! Label scenarios → constraints, checked against brute-force counts computed here from the truth.
use deepclust::labels::{
    ClassCoverage, ConstraintSet, Groups, LabelAmount, LabelError, LabelScenario, Sampling,
    Schedule,
};
use std::collections::{BTreeSet, HashSet};

/// `n` points with classes drawn unevenly from `0..k` (deterministic, not from the code under test).
fn truth(n: usize, k: usize) -> Vec<usize> {
    (0..n)
        .map(|i| ((i * 7919) ^ (i / 3)) % (k + 3) % k)
        .collect()
}

fn counts(labels: impl IntoIterator<Item = usize>, k: usize) -> Vec<usize> {
    let mut c = vec![0; k];
    for l in labels {
        c[l] += 1;
    }
    c
}

fn set(v: &[usize]) -> BTreeSet<usize> {
    v.iter().copied().collect()
}

#[test]
fn labelled_sets_are_nested_across_fractions() {
    let t = truth(5000, 10);
    for sampling in [Sampling::Uniform, Sampling::Stratified] {
        for classes in [ClassCoverage::All, ClassCoverage::List(vec![2, 7, 8])] {
            let mut prev: BTreeSet<usize> = BTreeSet::new();
            for f in [0.0, 0.001, 0.005, 0.01, 0.05, 0.1] {
                let s = LabelScenario::paper(f)
                    .with_sampling(sampling)
                    .with_classes(classes.clone());
                let r = s.reveal(&t, 10, 42).unwrap();
                assert_eq!(r.labelled.len(), (f * 5000.0_f64).round() as usize);
                let cur = set(&r.labelled);
                assert!(prev.is_subset(&cur), "{sampling:?} {classes:?} f={f}");
                prev = cur;
            }
        }
    }
    // Another seed draws other points.
    let a = LabelScenario::paper(0.01).reveal(&t, 10, 1).unwrap();
    let b = LabelScenario::paper(0.01).reveal(&t, 10, 2).unwrap();
    assert_ne!(a.labelled, b.labelled);
    // Same seed, same everything.
    assert_eq!(a, LabelScenario::paper(0.01).reveal(&t, 10, 1).unwrap());
}

#[test]
fn schedule_epochs_are_nested_prefixes() {
    let t = truth(20_000, 10);
    let (s, sched) = LabelScenario::paper_dynamic();
    assert_eq!(s.cannot_link_fraction, 0.01);
    assert!(sched.check_epochs(10).is_ok());
    assert!(sched.is_non_decreasing());
    let mut prev = BTreeSet::new();
    for e in 0..10 {
        let r = s.for_epoch(&sched, e).reveal(&t, 10, 42).unwrap();
        assert_eq!(
            r.labelled.len(),
            (sched.fraction_at(e) * 20_000.0).round() as usize
        );
        let cur = set(&r.labelled);
        assert!(prev.is_subset(&cur), "epoch {e}");
        prev = cur;
    }
    let e = "0,0,1%"
        .parse::<Schedule>()
        .unwrap()
        .check_epochs(10)
        .unwrap_err();
    assert!(
        e.to_string().contains("3 entries") && e.to_string().contains("10 epochs"),
        "{e}"
    );
}

#[test]
fn stratified_prefixes_are_balanced() {
    // Class sizes 600, 300, 60, 40, 5: small classes run out, the others stay within one.
    let sizes = [600usize, 300, 60, 40, 5];
    let t: Vec<usize> = sizes
        .iter()
        .enumerate()
        .flat_map(|(c, &n)| vec![c; n])
        .collect();
    for count in [1, 4, 5, 13, 50, 100, 200, 230, 500, 1000] {
        let s = LabelScenario::default()
            .with_amount(LabelAmount::Count(count))
            .with_sampling(Sampling::Stratified);
        let r = s.reveal(&t, 5, 3).unwrap();
        let per = counts(r.labelled.iter().map(|&i| t[i]), 5);
        assert_eq!(per, r.stats.labelled_per_class);
        let open: Vec<usize> = (0..5)
            .filter(|&c| per[c] < sizes[c])
            .map(|c| per[c])
            .collect();
        let (lo, hi) = (*open.iter().min().unwrap(), *open.iter().max().unwrap());
        assert!(hi - lo <= 1, "count {count}: {per:?}");
        // Exhausted classes have at most as many as the open ones.
        for c in 0..5 {
            if per[c] == sizes[c] {
                assert!(per[c] <= hi, "count {count}: {per:?}");
            }
        }
    }
    // Uniform sampling of a tiny fraction is visibly unbalanced, stratified is not.
    let t = truth(60_000, 10);
    let r = LabelScenario::paper(0.001)
        .with_sampling(Sampling::Stratified)
        .reveal(&t, 10, 42)
        .unwrap();
    assert_eq!(r.stats.labelled_per_class, vec![6; 10]);
}

#[test]
fn noise_changes_exactly_round_noise_times_n_labels_never_to_the_same_class() {
    let t = truth(30_000, 10);
    let clean = LabelScenario::paper(0.01).reveal(&t, 10, 42).unwrap();
    for noise in [0.0, 0.1, 0.25, 0.5, 0.9, 1.0] {
        let r = LabelScenario::paper_noise(noise)
            .reveal(&t, 10, 42)
            .unwrap();
        // Noise does not move which points are labelled.
        assert_eq!(r.labelled, clean.labelled);
        let changed = r
            .labelled
            .iter()
            .zip(&r.given)
            .filter(|(&i, &g)| g != t[i])
            .count();
        assert_eq!(
            changed,
            (noise * 300.0_f64).round() as usize,
            "noise {noise}"
        );
        assert_eq!(r.stats.noisy, changed);
        assert!(r.given.iter().all(|&g| g < 10));
        assert_eq!(r.stats.given_per_class, counts(r.given.iter().copied(), 10));
    }
    // The wrong class is spread over all other classes.
    let t = truth(60_000, 10);
    let r = LabelScenario::paper(0.1)
        .with_noise(1.0)
        .reveal(&t, 10, 5)
        .unwrap();
    let mut offsets = [0usize; 10];
    for (&i, &g) in r.labelled.iter().zip(&r.given) {
        offsets[(g + 10 - t[i]) % 10] += 1;
    }
    assert_eq!(offsets[0], 0);
    for (o, &c) in offsets.iter().enumerate().skip(1) {
        assert!(
            (500..834).contains(&c),
            "offset {o}: {c} of 6000 (expect ~667)"
        );
    }
}

#[test]
fn class_coverage_draws_only_from_allowed_classes_with_the_same_count() {
    let t = truth(20_000, 10);
    let all = LabelScenario::paper(0.02).reveal(&t, 10, 42).unwrap();
    for classes in [
        ClassCoverage::List(vec![3]),
        ClassCoverage::List(vec![0, 9]),
        ClassCoverage::Random(1),
        ClassCoverage::Random(5),
        ClassCoverage::Random(8),
    ] {
        let r = LabelScenario::paper(0.02)
            .with_classes(classes.clone())
            .reveal(&t, 10, 42)
            .unwrap();
        assert_eq!(r.labelled.len(), all.labelled.len(), "{classes}");
        let allowed: HashSet<usize> = r.classes.iter().copied().collect();
        if let ClassCoverage::Random(m) = classes {
            assert_eq!(allowed.len(), m);
        }
        assert!(
            r.labelled.iter().all(|&i| allowed.contains(&t[i])),
            "{classes}"
        );
    }
    let m5 = LabelScenario::paper_class_specific(5);
    assert_eq!(m5.cannot_link_fraction, 0.01);
    let a = m5.reveal(&t, 10, 1).unwrap().classes;
    let b = m5.reveal(&t, 10, 2).unwrap().classes;
    assert_ne!(a, b, "random classes depend on the seed");
}

/// All must-links join equal shown labels; every within-class pair is there exactly once.
#[test]
fn must_links_are_all_within_class_pairs() {
    let t = truth(10_000, 10);
    let r = LabelScenario::paper(0.03).reveal(&t, 10, 42).unwrap();
    let label: std::collections::HashMap<usize, usize> = r
        .labelled
        .iter()
        .copied()
        .zip(r.given.iter().copied())
        .collect();
    let per = counts(r.given.iter().copied(), 10);
    let want: usize = per.iter().map(|&n| n * (n - 1) / 2).sum();
    assert_eq!(r.constraints.must_link.len(), want);
    assert_eq!(r.stats.must_links, want);
    let mut seen = HashSet::new();
    for &(a, b) in &r.constraints.must_link {
        assert_eq!(label[&(a as usize)], label[&(b as usize)]);
        assert!(seen.insert((a.min(b), a.max(b))), "duplicate must-link");
    }
    // The expanded cannot-links are then every cross-class pair of labelled points.
    let cross = (r.labelled.len().pow(2) - per.iter().map(|n| n * n).sum::<usize>()) / 2;
    assert_eq!(r.constraints.cannot_link.len(), cross);
    assert!(r.constraints.validate().is_ok());

    // A fraction of must-links: floor(f · n(n−1)/2) per class, still within class.
    let r = LabelScenario::paper(0.03)
        .with_must_link_fraction(0.3)
        .reveal(&t, 10, 42)
        .unwrap();
    let want: usize = per.iter().map(|&n| n * (n - 1) / 2 * 3 / 10).sum();
    assert_eq!(r.constraints.must_link.len(), want);
    assert!(r
        .constraints
        .must_link
        .iter()
        .all(|&(a, b)| label[&(a as usize)] == label[&(b as usize)] && a != b));
}

#[test]
fn raw_cannot_links_per_class_pair_are_int_f_na_nb() {
    let t = truth(30_000, 10);
    let r = LabelScenario::paper(0.02)
        .with_noise(0.2)
        .with_expand_cannot_links(false)
        .reveal(&t, 10, 7)
        .unwrap();
    let label: std::collections::HashMap<u32, usize> = r
        .labelled
        .iter()
        .map(|&i| i as u32)
        .zip(r.given.iter().copied())
        .collect();
    let per = counts(r.given.iter().copied(), 10);
    let mut got = vec![vec![0usize; 10]; 10];
    let mut seen = HashSet::new();
    for &(a, b) in &r.constraints.cannot_link {
        let (la, lb) = (label[&a], label[&b]);
        assert_ne!(la, lb);
        got[la.min(lb)][la.max(lb)] += 1;
        assert!(seen.insert((a.min(b), a.max(b))), "duplicate cannot-link");
    }
    let mut total = 0;
    for a in 0..10 {
        for b in a + 1..10 {
            // int(0.1 · nₐ · n_b), in exact integer arithmetic.
            assert_eq!(got[a][b], per[a] * per[b] / 10, "classes {a}, {b}");
            total += per[a] * per[b] / 10;
        }
    }
    assert_eq!(r.stats.cannot_links_raw, total);
    assert_eq!(r.stats.cannot_links_expanded, total);
}

/// Brute-force expansion: pairs (a, b) with a ~ i and b ~ j for some cannot-link (i, j), where ~ is
/// the reflexive-transitive closure of the must-links (Floyd–Warshall reachability).
fn brute_force_expansion(c: &ConstraintSet) -> BTreeSet<(u32, u32)> {
    let n = c.n_points;
    let mut reach = vec![vec![false; n]; n];
    for (i, row) in reach.iter_mut().enumerate() {
        row[i] = true;
    }
    for &(a, b) in &c.must_link {
        reach[a as usize][b as usize] = true;
        reach[b as usize][a as usize] = true;
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                if reach[i][k] && reach[k][j] {
                    reach[i][j] = true;
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    for &(i, j) in &c.cannot_link {
        for a in 0..n {
            for b in 0..n {
                if reach[a][i as usize] && reach[b][j as usize] {
                    out.insert((a.min(b) as u32, a.max(b) as u32));
                }
            }
        }
    }
    out
}

#[test]
fn expansion_equals_brute_force() {
    // Hand-made: components {0,1,2}, {3,4}, {5}, {6,7}; cannot-links 1–4 (twice, both ways), 5–7.
    let c = ConstraintSet {
        n_points: 9,
        must_link: vec![(0, 1), (2, 1), (3, 4), (6, 7)],
        cannot_link: vec![(1, 4), (4, 2), (5, 7)],
    };
    let ours = c.expanded_cannot_links();
    let mut dedup = ours.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert_eq!(dedup.len(), ours.len(), "no duplicates");
    assert_eq!(
        dedup.into_iter().collect::<BTreeSet<_>>(),
        brute_force_expansion(&c)
    );
    assert_eq!(ours.len(), 3 * 2 + 2);

    // From scenarios: small data, partial must-links (so components are not whole classes) and noise.
    let t = truth(400, 4);
    for (mlf, noise, seed) in [(1.0, 0.0, 1), (0.2, 0.3, 2), (0.05, 0.0, 3), (0.5, 1.0, 4)] {
        let s = LabelScenario::paper(0.1)
            .with_must_link_fraction(mlf)
            .with_noise(noise)
            .with_cannot_link_fraction(0.05);
        let raw = s
            .clone()
            .with_expand_cannot_links(false)
            .reveal(&t, 4, seed)
            .unwrap();
        let exp = s.reveal(&t, 4, seed).unwrap();
        assert_eq!(raw.constraints.must_link, exp.constraints.must_link);
        let want = brute_force_expansion(&raw.constraints);
        let got: BTreeSet<(u32, u32)> = exp.constraints.cannot_link.iter().copied().collect();
        assert_eq!(
            got.len(),
            exp.constraints.cannot_link.len(),
            "no duplicates"
        );
        assert_eq!(got, want, "mlf {mlf} noise {noise}");
        assert_eq!(
            exp.stats.cannot_links_raw,
            raw.constraints.cannot_link.len()
        );
        assert_eq!(exp.stats.cannot_links_expanded, want.len());
    }
}

#[test]
fn precision_equals_a_brute_force_count() {
    let t = truth(30_000, 10);
    for (noise, groups) in [
        (0.0, None),
        (0.3, None),
        (0.9, None),
        (0.4, Some(Groups::circles())),
    ] {
        let mut s = LabelScenario::paper(0.01).with_noise(noise);
        if let Some(g) = groups.clone() {
            s = s.with_groups(g);
        }
        let r = s.reveal(&t, 10, 11).unwrap();
        let group = |c: usize| match &groups {
            Some(Groups::Explicit(gs)) => gs.iter().position(|g| g.contains(&c)).unwrap(),
            _ => c,
        };
        let ml = &r.constraints.must_link;
        let cl = &r.constraints.cannot_link;
        let ml_true = ml
            .iter()
            .filter(|&&(a, b)| t[a as usize] == t[b as usize])
            .count();
        let cl_true = cl
            .iter()
            .filter(|&&(a, b)| group(t[a as usize]) != group(t[b as usize]))
            .count();
        let p = |k: usize, n: usize| (n > 0).then(|| k as f64 / n as f64);
        assert_eq!(
            r.stats.must_link_precision,
            p(ml_true, ml.len()),
            "noise {noise}"
        );
        assert_eq!(
            r.stats.cannot_link_precision,
            p(cl_true, cl.len()),
            "noise {noise}"
        );
        if noise == 0.0 {
            assert_eq!(r.stats.must_link_precision, Some(1.0));
            assert_eq!(r.stats.cannot_link_precision, Some(1.0));
        } else if groups.is_none() {
            assert!(r.stats.must_link_precision.unwrap() < 1.0);
        }
    }
}

#[test]
fn groups_give_no_must_links_and_only_cross_group_cannot_links() {
    let t = truth(30_000, 10);
    for g in [
        Groups::vertical_lines(),
        Groups::circles(),
        Groups::RandomSize(5),
        Groups::RandomSize(3),
        Groups::RandomSize(2),
        Groups::RandomCount(4),
    ] {
        let r = LabelScenario::paper_granularity(g.clone())
            .reveal(&t, 10, 42)
            .unwrap();
        assert!(r.constraints.must_link.is_empty(), "{g}");
        let groups = r.groups.clone().unwrap();
        let mut all: Vec<usize> = groups.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..10).collect::<Vec<_>>(),
            "{g}: groups partition the classes"
        );
        let group_of = |c: usize| groups.iter().position(|gr| gr.contains(&c)).unwrap();
        let shown: std::collections::HashMap<u32, usize> = r
            .labelled
            .iter()
            .map(|&i| i as u32)
            .zip(r.given.iter().copied())
            .collect();
        assert!(!r.constraints.cannot_link.is_empty());
        for &(a, b) in &r.constraints.cannot_link {
            assert_ne!(group_of(shown[&a]), group_of(shown[&b]), "{g}");
        }
        // Per group pair: int(0.1 · n_A · n_B).
        let ng = groups.len();
        let per = counts(r.given.iter().map(|&c| group_of(c)), ng);
        let want: usize = (0..ng)
            .flat_map(|a| (a + 1..ng).map(move |b| (a, b)))
            .map(|(a, b)| per[a] * per[b] / 10)
            .sum();
        assert_eq!(r.constraints.cannot_link.len(), want, "{g}");
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        match g {
            Groups::RandomSize(3) => assert_eq!(sizes, vec![3, 3, 3, 1]),
            Groups::RandomSize(2) => assert_eq!(sizes, vec![2; 5]),
            Groups::RandomCount(4) => assert_eq!(sizes, vec![3, 3, 2, 2]),
            _ => {}
        }
    }
}

#[test]
fn paper_preset_at_one_percent_of_mnist_size() {
    let t = truth(60_000, 10);
    let s = LabelScenario::paper(0.01);
    assert_eq!(s.labelled_count(60_000), 600);
    let r = s.reveal(&t, 10, 42).unwrap();
    let per = &r.stats.labelled_per_class;
    assert_eq!(per.iter().sum::<usize>(), 600);
    assert_eq!(
        r.stats.must_links,
        per.iter().map(|n| n * (n - 1) / 2).sum::<usize>()
    );
    assert_eq!(
        r.stats.cannot_links_expanded,
        (600 * 600 - per.iter().map(|n| n * n).sum::<usize>()) / 2
    );
    let shown = r.label_of_points(60_000);
    assert_eq!(shown.iter().filter(|l| l.is_some()).count(), 600);
    assert!(r
        .labelled
        .iter()
        .zip(&r.given)
        .all(|(&i, &g)| shown[i] == Some(g)));
    let json = serde_json::to_value(&r.stats).unwrap();
    for key in [
        "labelled",
        "labelled_per_class",
        "must_links",
        "cannot_links_raw",
        "cannot_links_expanded",
        "must_link_precision",
        "cannot_link_precision",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert!(LabelScenario::default().is_unlabelled());
    let none = LabelScenario::default().reveal(&t, 10, 42).unwrap();
    assert!(none.labelled.is_empty() && none.constraints.is_empty());
    assert_eq!(none.stats.must_link_precision, None);
}

fn err(s: LabelScenario, t: &[usize], k: usize) -> String {
    s.reveal(t, k, 1).unwrap_err().to_string()
}

#[test]
fn invalid_scenarios_say_what_is_wrong() {
    let t = truth(100, 10);
    let p = LabelScenario::paper;
    let cases: Vec<(LabelScenario, &str)> = vec![
        (p(1.5), "`fraction`: must lie in [0, 1], found 1.5"),
        (p(-0.1), "`fraction`"),
        (p(f64::NAN), "`fraction`"),
        (p(0.1).with_noise(1.2), "`noise`"),
        (p(0.1).with_must_link_fraction(-1.0), "`must_link_fraction`"),
        (
            p(0.1).with_cannot_link_fraction(2.0),
            "`cannot_link_fraction`",
        ),
        (
            p(0.0).with_amount(LabelAmount::Count(101)),
            "cannot label 101 points: only 100",
        ),
        (
            p(0.1).with_classes(ClassCoverage::List(vec![3, 10])),
            "unknown class 10",
        ),
        (
            p(0.1).with_classes(ClassCoverage::List(vec![3, 3])),
            "class 3 is listed twice",
        ),
        (
            p(0.1).with_classes(ClassCoverage::List(vec![])),
            "class list is empty",
        ),
        (p(0.1).with_classes(ClassCoverage::Random(11)), "random:11"),
        (p(0.1).with_classes(ClassCoverage::Random(0)), "random:0"),
        (
            p(0.1).with_groups("0,1,2|2,3,4,5,6,7,8,9".parse().unwrap()),
            "overlap: class 2",
        ),
        (
            p(0.1).with_groups("0,1,2|3,4,5,6,7,8".parse().unwrap()),
            "incomplete: classes [9]",
        ),
        (
            p(0.1).with_groups("0,1,2||3,4,5,6,7,8,9".parse().unwrap()),
            "group #1 is empty",
        ),
        (
            p(0.1).with_groups("0,1,2,3,4,5,6,7,8,9".parse().unwrap()),
            "at least 2 groups",
        ),
        (
            p(0.1).with_groups("0,1|2,3,4,5,6,7,8,9,12".parse().unwrap()),
            "unknown class 12",
        ),
        (p(0.1).with_groups(Groups::RandomSize(10)), "single group"),
        (p(0.1).with_groups(Groups::RandomSize(0)), "size:0"),
        (p(0.1).with_groups(Groups::RandomCount(1)), "count:1"),
        (p(0.1).with_groups(Groups::RandomCount(11)), "count:11"),
    ];
    for (s, want) in cases {
        let e = err(s.clone(), &t, 10);
        assert!(e.contains(want), "{s:?}: {e}");
    }
    // Too few points in the allowed classes.
    let e = err(p(0.5).with_classes(ClassCoverage::List(vec![1])), &t, 10);
    assert!(
        e.contains("cannot label 50 points") && e.contains("classes [1]"),
        "{e}"
    );
    // Noise needs two classes.
    let e = err(p(0.5).with_noise(0.1), &[0; 10], 1);
    assert!(
        e.contains("`noise`") && e.contains("at least 2 classes"),
        "{e}"
    );
    // Truth outside 0..n_classes.
    let e = p(0.5).reveal(&[0, 1, 5], 3, 1).unwrap_err();
    assert!(matches!(e, LabelError::InvalidTruth(_)), "{e}");
    assert!(e.to_string().contains("point 2 has class 5"), "{e}");
    // Parse errors name the input.
    let e = "12x".parse::<LabelAmount>().unwrap_err().to_string();
    assert!(e.contains("\"12x\""), "{e}");
    assert!("1,a|2".parse::<Groups>().is_err());
    assert!("random:x".parse::<ClassCoverage>().is_err());
    assert!("sorted".parse::<Sampling>().is_err());
}
