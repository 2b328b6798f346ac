//! Label scenarios and how they turn true labels into constraints.
use super::amount::{floor_tolerant, LabelAmount};
use super::{ConstraintSet, LabelError, Schedule};
use crate::seed;
use rand::seq::{index, SliceRandom};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the labelled points are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// A seeded random permutation of all points (of the allowed classes); the labelled points are
    /// its first `count` entries. As the original (which was not stratified).
    #[default]
    Uniform,
    /// Per-class random orders interleaved round by round (classes in a fresh random order each
    /// round), so that every prefix holds the classes as evenly as their sizes allow.
    Stratified,
}

impl FromStr for Sampling {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "uniform" => Ok(Sampling::Uniform),
            "stratified" => Ok(Sampling::Stratified),
            _ => Err(LabelError::Parse {
                what: "sampling",
                input: s.to_string(),
                reason: "expected `uniform` or `stratified`".into(),
            }),
        }
    }
}

impl fmt::Display for Sampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sampling::Uniform => "uniform",
            Sampling::Stratified => "stratified",
        })
    }
}

/// Which classes labels are drawn from ("class-specific" scenarios). The number of labelled points
/// stays the same; they are drawn only from points of these classes.
///
/// Text form (configs and CLI): `all`, a list `3,5,7`, or `random:M` (M classes chosen with the
/// seed). In configs a list of integers is accepted as well.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "ListOrText", into = "String")]
pub enum ClassCoverage {
    /// Every class.
    #[default]
    All,
    /// Exactly these classes.
    List(Vec<usize>),
    /// This many classes, chosen at random (seeded).
    Random(usize),
}

/// Superclass groups ("label granularity"): labels are only known up to their group. There are no
/// must-links; cannot-links join points of different groups.
///
/// Text form: explicit groups `1,4,7,9|0,2,3,5,6,8`, `size:S` (random groups of S classes; the last
/// group takes the remainder, so 10 classes with `size:3` give groups of 3, 3, 3 and 1), or
/// `count:G` (G random groups as even as possible, larger first: 10 classes, `count:4` → 3, 3, 2, 2).
///
/// The original only says "random groups of size 5, 3, 2 (2, 4, 5 groups)"; with 10 classes size 3
/// can give 4 groups only as 3,3,3,1 or 3,3,2,2. `size:3` follows the chunking reading (3,3,3,1);
/// `count:4` gives the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ListOrText", into = "String")]
pub enum Groups {
    /// Groups given class by class; together they must hold every class exactly once.
    Explicit(Vec<Vec<usize>>),
    /// Random groups of this many classes (the last one takes the remainder).
    RandomSize(usize),
    /// This many random groups, sizes as equal as possible.
    RandomCount(usize),
}

impl Groups {
    /// The paper's "vertical lines" superclasses: {1, 4, 7, 9} vs {0, 2, 3, 5, 6, 8}.
    pub fn vertical_lines() -> Self {
        Groups::Explicit(vec![vec![1, 4, 7, 9], vec![0, 2, 3, 5, 6, 8]])
    }
    /// The paper's "circles" superclasses: {0, 6, 8, 9} vs {1, 2, 3, 4, 5, 7}.
    pub fn circles() -> Self {
        Groups::Explicit(vec![vec![0, 6, 8, 9], vec![1, 2, 3, 4, 5, 7]])
    }
}

/// Deserialisation helper: a text form, a list, or a list of lists.
#[derive(Deserialize)]
#[serde(untagged)]
enum ListOrText {
    Text(String),
    List(Vec<usize>),
    Nested(Vec<Vec<usize>>),
}

fn parse_usize_list(s: &str, what: &'static str, input: &str) -> Result<Vec<usize>, LabelError> {
    s.split(',')
        .map(|p| {
            p.trim().parse::<usize>().map_err(|_| LabelError::Parse {
                what,
                input: input.to_string(),
                reason: format!("{:?} is not a class number", p.trim()),
            })
        })
        .collect()
}

fn parse_prefixed(s: &str, prefix: &str, what: &'static str) -> Option<Result<usize, LabelError>> {
    let rest = s.trim().strip_prefix(prefix)?;
    Some(rest.trim().parse::<usize>().map_err(|_| LabelError::Parse {
        what,
        input: s.to_string(),
        reason: format!("expected an integer after `{prefix}`"),
    }))
}

impl FromStr for ClassCoverage {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(ClassCoverage::All);
        }
        if let Some(m) = parse_prefixed(t, "random:", "classes") {
            return m.map(ClassCoverage::Random);
        }
        if t.is_empty() {
            return Err(LabelError::Parse {
                what: "classes",
                input: s.to_string(),
                reason: "expected `all`, a list like `3,5,7` or `random:M`".into(),
            });
        }
        parse_usize_list(t, "classes", s).map(ClassCoverage::List)
    }
}

impl fmt::Display for ClassCoverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClassCoverage::All => f.write_str("all"),
            ClassCoverage::List(v) => f.write_str(&join(v, ",")),
            ClassCoverage::Random(m) => write!(f, "random:{m}"),
        }
    }
}

impl From<ClassCoverage> for String {
    fn from(c: ClassCoverage) -> String {
        c.to_string()
    }
}

impl TryFrom<ListOrText> for ClassCoverage {
    type Error = LabelError;
    fn try_from(r: ListOrText) -> Result<Self, LabelError> {
        match r {
            ListOrText::Text(s) => s.parse(),
            ListOrText::List(v) => Ok(ClassCoverage::List(v)),
            ListOrText::Nested(_) => Err(LabelError::Parse {
                what: "classes",
                input: "a list of lists".into(),
                reason: "expected `all`, a list like [3, 5, 7] or \"random:M\"".into(),
            }),
        }
    }
}

impl FromStr for Groups {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Some(v) = parse_prefixed(t, "size:", "groups") {
            return v.map(Groups::RandomSize);
        }
        if let Some(v) = parse_prefixed(t, "count:", "groups") {
            return v.map(Groups::RandomCount);
        }
        if t.is_empty() {
            return Err(LabelError::Parse {
                what: "groups",
                input: s.to_string(),
                reason: "expected groups like `1,4,7,9|0,2,3,5,6,8`, `size:S` or `count:G`".into(),
            });
        }
        t.split('|')
            .map(|g| {
                if g.trim().is_empty() {
                    Ok(Vec::new()) // reported as an empty group by validation
                } else {
                    parse_usize_list(g, "groups", s)
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Groups::Explicit)
    }
}

impl fmt::Display for Groups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Groups::Explicit(gs) => {
                let parts: Vec<String> = gs.iter().map(|g| join(g, ",")).collect();
                f.write_str(&parts.join("|"))
            }
            Groups::RandomSize(s) => write!(f, "size:{s}"),
            Groups::RandomCount(g) => write!(f, "count:{g}"),
        }
    }
}

impl From<Groups> for String {
    fn from(g: Groups) -> String {
        g.to_string()
    }
}

impl TryFrom<ListOrText> for Groups {
    type Error = LabelError;
    fn try_from(r: ListOrText) -> Result<Self, LabelError> {
        match r {
            ListOrText::Text(s) => s.parse(),
            ListOrText::Nested(v) => Ok(Groups::Explicit(v)),
            ListOrText::List(_) => Err(LabelError::Parse {
                what: "groups",
                input: "a flat list".into(),
                reason: "expected a list of groups like [[1, 4, 7, 9], [0, 2, 3, 5, 6, 8]], \
                         \"size:S\" or \"count:G\""
                    .into(),
            }),
        }
    }
}

fn join(v: &[usize], sep: &str) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

/// How labels are revealed and turned into constraints. Serialisable; its field names are the config
/// keys (and CLI flags, with `-` for `_`). `Default` is "no labels".
///
/// Validated by [`LabelScenario::check`] (settings alone) and [`LabelScenario::validate`] (against
/// the data); [`LabelScenario::reveal`] does both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelScenario {
    /// Fraction of all points that are labelled, in `[0, 1]`; the count is `floor(fraction · N)`.
    pub fraction: f64,
    /// Number of labelled points; overrides `fraction` when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// How labelled points are drawn.
    pub sampling: Sampling,
    /// Fraction of the labelled points (`round(noise · count)` of them) whose shown label is replaced
    /// by a uniformly random *other* class of all `n_classes` (also outside `classes`), in `[0, 1]`.
    /// 0.9 makes labels independent of the truth (for 10 classes), 1.0 anti-correlated. Which points
    /// are mislabelled and how is drawn independently of which points are labelled. (The original
    /// took `int(noise · count)` points; `round` differs only when `noise · count` is not an integer.)
    pub noise: f64,
    /// Classes that labels are drawn from.
    pub classes: ClassCoverage,
    /// Superclass groups; when set there are no must-links and cannot-links only join groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Groups>,
    /// Fraction of the within-class pairs that become must-links, in `[0, 1]` (per class
    /// `floor(f · n(n−1)/2)` random pairs; 1 = all pairs, as the original).
    pub must_link_fraction: f64,
    /// Fraction of the cross-class pairs that become cannot-links, in `[0, 1]`: per pair of classes
    /// `floor(f · nₐ · n_b)` random pairs, as the original (0.1; 0.01 in its class-specific and
    /// dynamic experiments).
    pub cannot_link_fraction: f64,
    /// Expand each cannot-link to all pairs between the must-link components of its ends, as the
    /// original's PCK-means did (true). With all must-links this cannot-links every cross-class pair
    /// of labelled points, whatever `cannot_link_fraction` is (unless a class pair drew none).
    pub expand_cannot_links: bool,
}

impl Default for LabelScenario {
    fn default() -> Self {
        LabelScenario {
            fraction: 0.0,
            count: None,
            sampling: Sampling::Uniform,
            noise: 0.0,
            classes: ClassCoverage::All,
            groups: None,
            must_link_fraction: 1.0,
            cannot_link_fraction: 0.1,
            expand_cannot_links: true,
        }
    }
}

/// The outcome of revealing labels: which points are labelled, with what label, and the constraints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revealed {
    /// Labelled point indices, ascending.
    pub labelled: Vec<usize>,
    /// The class shown for each labelled point (after noise), aligned with `labelled`. With groups
    /// this is still the (possibly noisy) class; constraints use its group.
    pub given: Vec<usize>,
    /// The classes labels were drawn from, ascending (all classes unless `classes` restricts them).
    pub classes: Vec<usize>,
    /// The superclass groups used (resolved when random), each ascending.
    pub groups: Option<Vec<Vec<usize>>>,
    /// The must-link and cannot-link pairs (cannot-links expanded if the scenario says so).
    pub constraints: ConstraintSet,
    /// Counts and precision of the constraints.
    pub stats: ConstraintStats,
}

impl Revealed {
    /// The shown label of every point: `Some(class)` for labelled points, `None` otherwise.
    pub fn label_of_points(&self, n_points: usize) -> Vec<Option<usize>> {
        let mut out = vec![None; n_points];
        for (&i, &g) in self.labelled.iter().zip(&self.given) {
            out[i] = Some(g);
        }
        out
    }
}

/// How many constraints a scenario produced and how many of them agree with the true labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstraintStats {
    /// Number of labelled points.
    pub labelled: usize,
    /// Labelled points per *true* class (length `n_classes`).
    pub labelled_per_class: Vec<usize>,
    /// Labelled points per *shown* class, after noise (length `n_classes`).
    pub given_per_class: Vec<usize>,
    /// Labelled points whose shown class was changed by noise.
    pub noisy: usize,
    /// Must-link pairs.
    pub must_links: usize,
    /// Cannot-link pairs as sampled, before expansion.
    pub cannot_links_raw: usize,
    /// Cannot-link pairs in the final set (after expansion when enabled, else equal to the raw count).
    pub cannot_links_expanded: usize,
    /// Fraction of must-links whose two points truly share a class; `None` without must-links.
    pub must_link_precision: Option<f64>,
    /// Fraction of (final) cannot-links whose two points truly differ in class (in group, when groups
    /// are used); `None` without cannot-links.
    pub cannot_link_precision: Option<f64>,
}

impl LabelScenario {
    /// The original's main setting with `fraction` of the points labelled: uniform sampling, no noise,
    /// all classes, all must-links, 10 % of cannot-links, cannot-links expanded.
    pub fn paper(fraction: f64) -> Self {
        LabelScenario {
            fraction,
            ..Default::default()
        }
    }

    /// The original's noise study: 1 % labelled, `noise` of them mislabelled.
    pub fn paper_noise(noise: f64) -> Self {
        LabelScenario::paper(0.01).with_noise(noise)
    }

    /// The original's class-specific study: 1 % labelled, drawn from `m` random classes, 1 % of
    /// cannot-links.
    pub fn paper_class_specific(m: usize) -> Self {
        LabelScenario {
            classes: ClassCoverage::Random(m),
            cannot_link_fraction: 0.01,
            ..LabelScenario::paper(0.01)
        }
    }

    /// The original's granularity study: 1 % labelled, superclass `groups`, no must-links.
    pub fn paper_granularity(groups: Groups) -> Self {
        LabelScenario {
            groups: Some(groups),
            must_link_fraction: 0.0,
            ..LabelScenario::paper(0.01)
        }
    }

    /// The original's dynamic study: [`Schedule::paper`] with 1 % of cannot-links. Use
    /// [`LabelScenario::for_epoch`] to get each epoch's scenario.
    pub fn paper_dynamic() -> (Self, Schedule) {
        let s = LabelScenario {
            cannot_link_fraction: 0.01,
            ..LabelScenario::paper(0.0)
        };
        (s, Schedule::paper())
    }

    /// Sets the number of labelled points from a parsed amount (`1%`, `0.01`, `600`).
    pub fn with_amount(mut self, amount: LabelAmount) -> Self {
        match amount {
            LabelAmount::Fraction(f) => {
                self.fraction = f;
                self.count = None;
            }
            LabelAmount::Count(c) => self.count = Some(c),
        }
        self
    }

    /// Sets the label noise.
    pub fn with_noise(mut self, noise: f64) -> Self {
        self.noise = noise;
        self
    }

    /// Sets the sampling.
    pub fn with_sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// Sets the class coverage.
    pub fn with_classes(mut self, classes: ClassCoverage) -> Self {
        self.classes = classes;
        self
    }

    /// Sets superclass groups.
    pub fn with_groups(mut self, groups: Groups) -> Self {
        self.groups = Some(groups);
        self
    }

    /// Sets the must-link fraction.
    pub fn with_must_link_fraction(mut self, f: f64) -> Self {
        self.must_link_fraction = f;
        self
    }

    /// Sets the cannot-link fraction.
    pub fn with_cannot_link_fraction(mut self, f: f64) -> Self {
        self.cannot_link_fraction = f;
        self
    }

    /// Turns cannot-link expansion on or off.
    pub fn with_expand_cannot_links(mut self, on: bool) -> Self {
        self.expand_cannot_links = on;
        self
    }

    /// This scenario with the labelled fraction of `epoch` in `schedule` (any `count` is dropped).
    /// For one seed the labelled sets of all epochs are nested.
    pub fn for_epoch(&self, schedule: &Schedule, epoch: usize) -> Self {
        LabelScenario {
            fraction: schedule.fraction_at(epoch),
            count: None,
            ..self.clone()
        }
    }

    /// Number of labelled points among `n_points` (`count`, else `floor(fraction · n_points)`).
    /// The original's PCK-means weight `2k / (n · f)` is `2k / labelled_count(n)`.
    pub fn labelled_count(&self, n_points: usize) -> usize {
        match self.count {
            Some(c) => c,
            None => LabelAmount::Fraction(self.fraction).count_of(n_points),
        }
    }

    /// True when the scenario reveals no label at all.
    pub fn is_unlabelled(&self) -> bool {
        self.count == Some(0) || (self.count.is_none() && self.fraction == 0.0)
    }

    /// Checks the settings on their own (ranges, group and class lists that are malformed whatever
    /// the data).
    pub fn check(&self) -> Result<(), LabelError> {
        for (name, v) in [
            ("fraction", self.fraction),
            ("noise", self.noise),
            ("must_link_fraction", self.must_link_fraction),
            ("cannot_link_fraction", self.cannot_link_fraction),
        ] {
            if !v.is_finite() || !(0.0..=1.0).contains(&v) {
                return Err(LabelError::InvalidParam {
                    name,
                    reason: format!("must lie in [0, 1], found {v}"),
                });
            }
        }
        match &self.classes {
            ClassCoverage::All => {}
            ClassCoverage::List(v) => {
                if v.is_empty() {
                    return Err(param("classes", "the class list is empty".into()));
                }
                let mut s = v.clone();
                s.sort_unstable();
                if let Some(w) = s.windows(2).find(|w| w[0] == w[1]) {
                    return Err(param("classes", format!("class {} is listed twice", w[0])));
                }
            }
            ClassCoverage::Random(0) => {
                return Err(param("classes", "random:0 would choose no class".into()));
            }
            ClassCoverage::Random(_) => {}
        }
        match &self.groups {
            None => {}
            Some(Groups::Explicit(gs)) => {
                if let Some(k) = gs.iter().position(|g| g.is_empty()) {
                    return Err(param("groups", format!("group #{k} is empty")));
                }
                if gs.len() < 2 {
                    return Err(param(
                        "groups",
                        format!(
                            "needs at least 2 groups to make cannot-links, found {}",
                            gs.len()
                        ),
                    ));
                }
                let mut owner = std::collections::HashMap::new();
                for (k, g) in gs.iter().enumerate() {
                    for &c in g {
                        if let Some(prev) = owner.insert(c, k) {
                            return Err(param(
                                "groups",
                                if prev == k {
                                    format!("class {c} appears twice in group #{k}")
                                } else {
                                    format!(
                                        "groups overlap: class {c} is in group #{prev} and #{k}"
                                    )
                                },
                            ));
                        }
                    }
                }
            }
            Some(Groups::RandomSize(0)) => {
                return Err(param(
                    "groups",
                    "size:0 — a group needs at least one class".into(),
                ));
            }
            Some(Groups::RandomCount(g)) if *g < 2 => {
                return Err(param(
                    "groups",
                    format!("count:{g} — needs at least 2 groups to make cannot-links"),
                ));
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Checks the scenario against data of `n_points` points and `n_classes` classes.
    pub fn validate(&self, n_points: usize, n_classes: usize) -> Result<(), LabelError> {
        self.check()?;
        let count = self.labelled_count(n_points);
        if count > n_points {
            return Err(LabelError::TooManyLabels {
                requested: count,
                available: n_points,
                context: "points in the data".into(),
            });
        }
        if count > 0 && n_classes == 0 {
            return Err(LabelError::InvalidTruth(
                "labels were asked for but the data has 0 classes".into(),
            ));
        }
        if self.noise > 0.0 && n_classes < 2 {
            return Err(param(
                "noise",
                format!("label noise needs at least 2 classes to pick a wrong one, the data has {n_classes}"),
            ));
        }
        match &self.classes {
            ClassCoverage::List(v) => {
                if let Some(&c) = v.iter().find(|&&c| c >= n_classes) {
                    return Err(param(
                        "classes",
                        format!("unknown class {c}: the data has classes 0..{n_classes}"),
                    ));
                }
            }
            ClassCoverage::Random(m) if *m > n_classes => {
                return Err(param(
                    "classes",
                    format!("random:{m} asks for more classes than the data's {n_classes}"),
                ));
            }
            _ => {}
        }
        match &self.groups {
            Some(Groups::Explicit(gs)) => {
                for (k, g) in gs.iter().enumerate() {
                    if let Some(&c) = g.iter().find(|&&c| c >= n_classes) {
                        return Err(param(
                            "groups",
                            format!("group #{k} has unknown class {c}: the data has classes 0..{n_classes}"),
                        ));
                    }
                }
                let covered: usize = gs.iter().map(|g| g.len()).sum();
                if covered != n_classes {
                    let mut missing: Vec<usize> = (0..n_classes)
                        .filter(|c| !gs.iter().any(|g| g.contains(c)))
                        .collect();
                    missing.truncate(20);
                    return Err(param(
                        "groups",
                        format!("incomplete: classes {missing:?} are in no group (every class of 0..{n_classes} must be in one)"),
                    ));
                }
            }
            Some(Groups::RandomSize(s)) if *s >= n_classes => {
                return Err(param(
                    "groups",
                    format!("size:{s} gives a single group for {n_classes} classes; use a size below {n_classes}"),
                ));
            }
            Some(Groups::RandomCount(g)) if *g > n_classes => {
                return Err(param(
                    "groups",
                    format!("count:{g} asks for more groups than the {n_classes} classes"),
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// Reveals labels of `truth` (one class in `0..n_classes` per point) with `seed`, and builds the
    /// constraints.
    ///
    /// Randomness comes from independent seed streams (`labels/order`, `labels/noise/*`,
    /// `labels/classes`, `labels/groups`, `labels/must_link`, `labels/cannot_link`), so e.g. the noise
    /// does not change which points are labelled. The labelled set depends on the seed, the truth, the
    /// sampling and the classes only; for one seed smaller counts give subsets of larger ones.
    pub fn reveal(
        &self,
        truth: &[usize],
        n_classes: usize,
        seed: u64,
    ) -> Result<Revealed, LabelError> {
        let n = truth.len();
        self.validate(n, n_classes)?;
        if let Some((i, &c)) = truth.iter().enumerate().find(|(_, &c)| c >= n_classes) {
            return Err(LabelError::InvalidTruth(format!(
                "point {i} has class {c}, outside 0..{n_classes}"
            )));
        }
        if n > u32::MAX as usize {
            return Err(LabelError::InvalidTruth(format!(
                "{n} points: constraints index points with 32 bits"
            )));
        }

        // Which classes may be labelled.
        let classes: Vec<usize> = match &self.classes {
            ClassCoverage::All => (0..n_classes).collect(),
            ClassCoverage::List(v) => {
                let mut v = v.clone();
                v.sort_unstable();
                v
            }
            ClassCoverage::Random(m) => {
                let mut rng = seed::rng(seed, "labels/classes");
                let mut v = index::sample(&mut rng, n_classes, *m).into_vec();
                v.sort_unstable();
                v
            }
        };
        let mut allowed = vec![false; n_classes];
        for &c in &classes {
            allowed[c] = true;
        }

        let count = self.labelled_count(n);
        let order = labelling_order(truth, n_classes, &allowed, self.sampling, seed);
        if count > order.len() {
            return Err(LabelError::TooManyLabels {
                requested: count,
                available: order.len(),
                context: format!("points of classes {classes:?}"),
            });
        }
        let mut labelled: Vec<usize> = order[..count].to_vec();
        labelled.sort_unstable();

        // Noise: which points (smallest ranks of an independent permutation) and which wrong class
        // (a per-point offset 1..n_classes), both independent of the sampling stream.
        let mut given: Vec<usize> = labelled.iter().map(|&i| truth[i]).collect();
        let n_noisy = (self.noise * count as f64).round() as usize;
        let mut noisy = 0;
        if n_noisy > 0 {
            let mut rank = vec![0u32; n];
            {
                let mut perm: Vec<u32> = (0..n as u32).collect();
                perm.shuffle(&mut seed::rng(seed, "labels/noise/points"));
                for (r, &p) in perm.iter().enumerate() {
                    rank[p as usize] = r as u32;
                }
            }
            let mut rng = seed::rng(seed, "labels/noise/class");
            let offset: Vec<u32> = (0..n)
                .map(|_| rng.random_range(1..n_classes as u32))
                .collect();
            let mut by_rank: Vec<usize> = (0..labelled.len()).collect();
            by_rank.sort_unstable_by_key(|&k| rank[labelled[k]]);
            for &k in &by_rank[..n_noisy.min(count)] {
                let i = labelled[k];
                given[k] = (truth[i] + offset[i] as usize) % n_classes;
                noisy += 1;
            }
        }

        // Groups.
        let groups: Option<Vec<Vec<usize>>> = self.groups.as_ref().map(|g| {
            let mut gs = match g {
                Groups::Explicit(gs) => gs.clone(),
                Groups::RandomSize(s) => {
                    let mut c: Vec<usize> = (0..n_classes).collect();
                    c.shuffle(&mut seed::rng(seed, "labels/groups"));
                    c.chunks(*s).map(|ch| ch.to_vec()).collect()
                }
                Groups::RandomCount(g) => {
                    let mut c: Vec<usize> = (0..n_classes).collect();
                    c.shuffle(&mut seed::rng(seed, "labels/groups"));
                    let (base, extra) = (n_classes / g, n_classes % g);
                    let mut out = Vec::with_capacity(*g);
                    let mut at = 0;
                    for k in 0..*g {
                        let len = base + usize::from(k < extra);
                        out.push(c[at..at + len].to_vec());
                        at += len;
                    }
                    out
                }
            };
            for g in &mut gs {
                g.sort_unstable();
            }
            gs
        });
        let group_of: Vec<usize> = match &groups {
            Some(gs) => {
                let mut m = vec![0; n_classes];
                for (k, g) in gs.iter().enumerate() {
                    for &c in g {
                        m[c] = k;
                    }
                }
                m
            }
            None => (0..n_classes).collect(),
        };
        let n_constraint_labels = groups.as_ref().map_or(n_classes, |g| g.len());

        // Labelled points by the label the constraints see (ascending point indices).
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); n_constraint_labels];
        for (k, &i) in labelled.iter().enumerate() {
            members[group_of[given[k]]].push(i as u32);
        }

        let mut must_link = Vec::new();
        if groups.is_none() && self.must_link_fraction > 0.0 {
            let mut rng = seed::rng(seed, "labels/must_link");
            for m in &members {
                let len = m.len();
                let total = len * len.saturating_sub(1) / 2;
                let take = floor_tolerant(self.must_link_fraction * total as f64).min(total);
                if take == total {
                    for a in 0..len {
                        for b in a + 1..len {
                            must_link.push((m[a], m[b]));
                        }
                    }
                } else if take > 0 {
                    // Pair index t enumerates (a, b), a < b, row by row.
                    let row_start: Vec<usize> =
                        (0..len).map(|a| a * len - a * (a + 1) / 2).collect();
                    let mut picks = index::sample(&mut rng, total, take).into_vec();
                    picks.sort_unstable();
                    for t in picks {
                        let a = row_start.partition_point(|&s| s <= t) - 1;
                        let b = a + 1 + (t - row_start[a]);
                        must_link.push((m[a], m[b]));
                    }
                }
            }
        }

        let mut cannot_link = Vec::new();
        if self.cannot_link_fraction > 0.0 {
            let mut rng = seed::rng(seed, "labels/cannot_link");
            for a in 0..n_constraint_labels {
                for b in a + 1..n_constraint_labels {
                    let (ma, mb) = (&members[a], &members[b]);
                    let total = ma.len() * mb.len();
                    let take = floor_tolerant(self.cannot_link_fraction * total as f64).min(total);
                    if take == 0 {
                        continue;
                    }
                    if take == total {
                        for &x in ma {
                            for &y in mb {
                                cannot_link.push((x, y));
                            }
                        }
                    } else {
                        let mut picks = index::sample(&mut rng, total, take).into_vec();
                        picks.sort_unstable();
                        for t in picks {
                            cannot_link.push((ma[t / mb.len()], mb[t % mb.len()]));
                        }
                    }
                }
            }
        }
        let cannot_links_raw = cannot_link.len();
        let mut constraints = ConstraintSet {
            n_points: n,
            must_link,
            cannot_link,
        };
        if self.expand_cannot_links && !constraints.must_link.is_empty() {
            constraints.cannot_link = constraints.expanded_cannot_links();
        }

        let true_group = |i: u32| group_of[truth[i as usize]];
        let precision =
            |agree: usize, total: usize| (total > 0).then(|| agree as f64 / total as f64);
        let ml_ok = constraints
            .must_link
            .iter()
            .filter(|&&(a, b)| truth[a as usize] == truth[b as usize])
            .count();
        let cl_ok = constraints
            .cannot_link
            .iter()
            .filter(|&&(a, b)| true_group(a) != true_group(b))
            .count();
        let mut labelled_per_class = vec![0; n_classes];
        let mut given_per_class = vec![0; n_classes];
        for (k, &i) in labelled.iter().enumerate() {
            labelled_per_class[truth[i]] += 1;
            given_per_class[given[k]] += 1;
        }
        let stats = ConstraintStats {
            labelled: labelled.len(),
            labelled_per_class,
            given_per_class,
            noisy,
            must_links: constraints.must_link.len(),
            cannot_links_raw,
            cannot_links_expanded: constraints.cannot_link.len(),
            must_link_precision: precision(ml_ok, constraints.must_link.len()),
            cannot_link_precision: precision(cl_ok, constraints.cannot_link.len()),
        };
        Ok(Revealed {
            labelled,
            given,
            classes,
            groups,
            constraints,
            stats,
        })
    }
}

fn param(name: &'static str, reason: String) -> LabelError {
    LabelError::InvalidParam { name, reason }
}

/// The order in which points of the allowed classes get labelled; the labelled set is a prefix.
fn labelling_order(
    truth: &[usize],
    n_classes: usize,
    allowed: &[bool],
    sampling: Sampling,
    seed: u64,
) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..truth.len()).collect();
    perm.shuffle(&mut seed::rng(seed, "labels/order"));
    match sampling {
        Sampling::Uniform => perm.into_iter().filter(|&i| allowed[truth[i]]).collect(),
        Sampling::Stratified => {
            let mut per_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
            for i in perm {
                if allowed[truth[i]] {
                    per_class[truth[i]].push(i);
                }
            }
            let mut classes: Vec<usize> = (0..n_classes).filter(|&c| allowed[c]).collect();
            let rounds = per_class.iter().map(Vec::len).max().unwrap_or(0);
            let mut rng = seed::rng(seed, "labels/order/stratified");
            let mut out = Vec::with_capacity(per_class.iter().map(Vec::len).sum());
            for r in 0..rounds {
                classes.shuffle(&mut rng);
                for &c in &classes {
                    if let Some(&i) = per_class[c].get(r) {
                        out.push(i);
                    }
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        for s in ["all", "3,5,7", "random:3"] {
            assert_eq!(s.parse::<ClassCoverage>().unwrap().to_string(), s);
        }
        for s in ["1,4,7,9|0,2,3,5,6,8", "size:3", "count:4"] {
            assert_eq!(s.parse::<Groups>().unwrap().to_string(), s);
        }
        assert_eq!(
            "stratified".parse::<Sampling>().unwrap(),
            Sampling::Stratified
        );
        assert!("x,1".parse::<ClassCoverage>().is_err());
        assert!("size:x".parse::<Groups>().is_err());
    }

    #[test]
    fn serde_round_trip_and_defaults() {
        let s = LabelScenario::paper_granularity(Groups::vertical_lines())
            .with_classes(ClassCoverage::List(vec![1, 2]));
        let j = serde_json::to_string(&s).unwrap();
        let back: LabelScenario = serde_json::from_str(&j).unwrap();
        assert_eq!(s, back);
        let t = toml::to_string(&s).unwrap();
        assert_eq!(toml::from_str::<LabelScenario>(&t).unwrap(), s);
        let d: LabelScenario = toml::from_str("fraction = 0.01\nclasses = [3, 5]").unwrap();
        assert_eq!(d.classes, ClassCoverage::List(vec![3, 5]));
        assert_eq!(d.cannot_link_fraction, 0.1);
        let e = toml::from_str::<LabelScenario>("fractoin = 0.01").unwrap_err();
        assert!(e.to_string().contains("fractoin"), "{e}");
        let g: LabelScenario = toml::from_str("groups = [[0, 1], [2]]").unwrap();
        assert_eq!(g.groups, Some(Groups::Explicit(vec![vec![0, 1], vec![2]])));
    }
}
