//! PCK-means (Basu, Banerjee & Mooney 2004): k-means with weighted penalties for violated
//! pairwise constraints, with the semantics of the implementation the paper used (see
//! `original_implementation.md`), minus its crash on empty clusters.
use super::kernels::{
    assign_accumulate, check_constraints, check_init, check_k, component_means, count_pairs,
    dedup_adjacency, kmeans_plus_plus, max_abs_shift, sq_dist, to_usize, Points, UNASSIGNED,
};
use super::kmeans::{validate_common, KMeansParams};
use super::{ClusterError, Clustering, ConstrainedClusterer, IterStats};
use crate::labels::{Adjacency, ConstraintSet};
use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// The paper's constraint weight `w = 2k / (n·f)` for `k` clusters, `n` points and a labelled
/// fraction `f` (0 when nothing is labelled). With `f = n_labelled / n` this is
/// `2k / n_labelled`; e.g. `k = 10`, `n = 60 000`, `f = 1 %` gives `1/30 ≈ 0.0333`.
pub fn paper_weight(k: usize, n_points: usize, labelled_fraction: f64) -> f64 {
    if labelled_fraction <= 0.0 || n_points == 0 {
        0.0
    } else {
        2.0 * k as f64 / (n_points as f64 * labelled_fraction)
    }
}

/// How PCK-means chooses its initial centroids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PckMeansInit {
    /// The means of the `k` largest must-link components (transitive closure; ties → the
    /// component with the smallest point id); fewer than `k` components are topped up as
    /// [`PckMeansParams::top_up`] says (by default k-means fitted around the component means).
    /// With labels this is the mean of each class's labelled points, as in the original.
    #[default]
    #[serde(rename = "neighbourhood", alias = "neighborhood")]
    Neighbourhood,
    /// k-means++ on the data, ignoring the constraints.
    #[serde(rename = "kmeans++", alias = "kmeanspp")]
    KMeansPlusPlus,
    /// The original study's initialisation, for faithful reruns. The original's neighbourhoods
    /// are the must-link components of *all* points, unconstrained points being singletons, and it
    /// took the means of the `k` largest: like `Neighbourhood` when there are at least `k`
    /// must-link components, otherwise topped up with singletons — the smallest point ids here
    /// (the original: whatever its sort's tie-breaking picked), not k-means++. Without labels its
    /// "k-means baseline" therefore started from `k` fixed data points, without restarts.
    #[serde(rename = "original")]
    Original,
}

/// How the neighbourhood initialisation fills the centroids that the must-link components do not
/// provide: when there are fewer than `k` components (no labels, labels from only some classes,
/// superclass labels that give cannot-links only, classes with a single labelled point).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopUp {
    /// k-means around the component means: the component means stay fixed and the other
    /// centroids are fitted by Lloyd's algorithm to the points the fixed ones do not explain
    /// (3 k-means++ restarts whose D² weighting counts the fixed means, to convergence; the
    /// lowest inertia wins; seed stream `pckmeans/top-up`). Without labels this is plain k-means
    /// (the baseline's algorithm, on a stream of its own), so PCK-means starts from a k-means
    /// solution.
    #[default]
    #[serde(rename = "kmeans")]
    KMeans,
    /// One k-means++ draw (D² weighting from the component means already chosen): the earlier
    /// default. With few components the unlabelled part then starts from a single seeding and
    /// PCK-means' few iterations do not repair it.
    #[serde(rename = "kmeans++", alias = "kmeanspp")]
    KMeansPlusPlus,
}

fn default_max_iter() -> usize {
    100
}

fn default_tol() -> f64 {
    2e-4
}

/// Hyper-parameters of PCK-means.
///
/// Each iteration resets all labels and visits the points in a fresh random order (stream
/// `pckmeans/order/{t}`: a uniform permutation of all `N` points); each point takes the cluster
/// `c` minimising
/// `½‖x − μ_c‖² + w·#{must-link partners already assigned to another cluster} +
/// w̄·#{cannot-link partners already assigned to c}` (ties → lowest `c`; partners count once
/// however often a pair is listed). Points without constraints cannot be affected by the order,
/// so they are assigned in one parallel nearest-centroid pass and only the constrained points are
/// visited sequentially: `O(N·k·D + |constraints|)` per iteration. Then the centroids become the
/// means (empty clusters repaired, see the module docs); stop after `max_iter` iterations or when
/// no centroid coordinate moved by more than `tol`. The result's labels are those of the last
/// pass, its centroids their means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PckMeansParams {
    /// Number of clusters (`1 ≤ k ≤ N`).
    pub k: usize,
    /// Iterations at most; default 100 (the paper runs 5: see [`PckMeansParams::paper`]).
    #[serde(default = "default_max_iter")]
    pub max_iter: usize,
    /// Stop when `max |Δμ| ≤ tol` over all centroid coordinates; default 2e-4.
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Must-link weight `w`; `None` ⇒ [`paper_weight`] with `f` = constrained points / `N`.
    #[serde(default)]
    pub w_must: Option<f64>,
    /// Cannot-link weight `w̄`; `None` ⇒ [`paper_weight`] with `f` = constrained points / `N`.
    #[serde(default)]
    pub w_cannot: Option<f64>,
    /// Initialisation; default [`PckMeansInit::Neighbourhood`].
    #[serde(default)]
    pub init: PckMeansInit,
    /// How [`PckMeansInit::Neighbourhood`] fills centroids beyond the must-link components;
    /// default [`TopUp::KMeans`]. The other initialisations ignore it. (A run directory's config
    /// saved before this key existed was run with k-means++; `RunConfig` reads it so.)
    #[serde(default)]
    pub top_up: TopUp,
}

impl PckMeansParams {
    /// Defaults for `k` clusters: neighbourhood init, at most 100 iterations, tol 2e-4, the paper's
    /// weights.
    pub fn new(k: usize) -> Self {
        PckMeansParams {
            k,
            max_iter: default_max_iter(),
            tol: default_tol(),
            w_must: None,
            w_cannot: None,
            init: PckMeansInit::default(),
            top_up: TopUp::default(),
        }
    }

    /// The paper's setting: as [`Self::new`] with at most 5 iterations.
    pub fn paper(k: usize) -> Self {
        PckMeansParams::new(k).with_max_iter(5)
    }

    /// Sets the iteration limit.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Sets the tolerance on the largest centroid coordinate change.
    pub fn with_tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Sets both weights to `w`.
    pub fn with_weight(self, w: f64) -> Self {
        self.with_weights(w, w)
    }

    /// Sets the must-link and cannot-link weights.
    pub fn with_weights(mut self, w_must: f64, w_cannot: f64) -> Self {
        self.w_must = Some(w_must);
        self.w_cannot = Some(w_cannot);
        self
    }

    /// Sets the initialisation.
    pub fn with_init(mut self, init: PckMeansInit) -> Self {
        self.init = init;
        self
    }

    /// Sets how the neighbourhood initialisation fills centroids beyond the components.
    pub fn with_top_up(mut self, top_up: TopUp) -> Self {
        self.top_up = top_up;
        self
    }

    /// Checks the parameters without data.
    pub fn validate(&self) -> Result<(), ClusterError> {
        validate_common(self.k, self.max_iter, self.tol)?;
        for (name, w) in [("w_must", self.w_must), ("w_cannot", self.w_cannot)] {
            if let Some(w) = w {
                if !(w.is_finite() && w >= 0.0) {
                    return Err(ClusterError::InvalidParam {
                        name,
                        reason: format!("expected a finite weight ≥ 0, found {w}"),
                    });
                }
            }
        }
        Ok(())
    }

    /// The weights `(w, w̄)` used for `constraints` over `n` points.
    pub fn weights(&self, constraints: &ConstraintSet) -> (f64, f64) {
        let n = constraints.n_points;
        let f = if n == 0 {
            0.0
        } else {
            constraints.constrained_points().len() as f64 / n as f64
        };
        let w = paper_weight(self.k, n, f);
        (self.w_must.unwrap_or(w), self.w_cannot.unwrap_or(w))
    }

    /// Runs PCK-means from the given `k × D` initial centroids (the visiting orders still come
    /// from `seed`).
    pub fn fit_with_init(
        &self,
        x: ArrayView2<'_, f32>,
        constraints: &ConstraintSet,
        init: ArrayView2<'_, f32>,
        seed: u64,
    ) -> Result<Clustering, ClusterError> {
        self.validate()?;
        let p = Points::new(x)?;
        check_k(self.k, p.n)?;
        check_constraints(constraints, p.n)?;
        let init = init.as_standard_layout().to_owned();
        check_init(&init, self.k, p.d)?;
        let prep = Prepared::new(constraints);
        Ok(self.run(&p, &prep, init, seed))
    }

    fn run(&self, p: &Points, prep: &Prepared, init: Array2<f32>, seed: u64) -> Clustering {
        let k = self.k;
        let n = p.n;
        let f = prep.constrained.len() as f64 / n as f64;
        let w_default = paper_weight(k, n, f);
        let wm = self.w_must.unwrap_or(w_default);
        let wc = self.w_cannot.unwrap_or(w_default);
        let mut mu = init;
        let mut labels = vec![0u32; n];
        let m = prep.constrained.len();
        let mut clab = vec![UNASSIGNED; m];
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut ml_cnt = vec![0usize; k];
        let mut cl_cnt = vec![0usize; k];
        let mut history = Vec::new();
        let mut repaired = 0;
        let mut last = None;
        for t in 0..self.max_iter {
            // 1. Unconstrained points: nearest centroid, in parallel, with their cluster sums
            //    (constrained points are redone and added below).
            let mut acc = assign_accumulate(p, &mu, &mut labels, Some(&prep.rank));
            let refined = acc.refined;
            // 2. Constrained points: sequential ICM pass in this iteration's random order of all
            //    points (unconstrained ones are skipped: nothing depends on them).
            clab.fill(UNASSIGNED);
            order.clear();
            order.extend(0..n as u32);
            order.shuffle(&mut crate::seed::rng(seed, &format!("pckmeans/order/{t}")));
            for &i in &order {
                let r = prep.rank[i as usize];
                if r == UNASSIGNED {
                    continue;
                }
                let r = r as usize;
                ml_cnt.fill(0);
                cl_cnt.fill(0);
                let mut ml_total = 0usize;
                for &j in prep.ml.of(r) {
                    let l = clab[j as usize];
                    if l != UNASSIGNED {
                        ml_cnt[l as usize] += 1;
                        ml_total += 1;
                    }
                }
                for &j in prep.cl.of(r) {
                    let l = clab[j as usize];
                    if l != UNASSIGNED {
                        cl_cnt[l as usize] += 1;
                    }
                }
                let x = p.row(i as usize);
                let mut best = f64::INFINITY;
                let mut arg = 0u32;
                for c in 0..k {
                    let mrow = mu.row(c);
                    let obj = 0.5 * sq_dist(x, mrow.as_slice().expect("standard layout"))
                        + wm * (ml_total - ml_cnt[c]) as f64
                        + wc * cl_cnt[c] as f64;
                    if obj < best {
                        best = obj;
                        arg = c as u32;
                    }
                }
                clab[r] = arg;
            }
            for (&i, &l) in prep.constrained.iter().zip(&clab) {
                labels[i as usize] = l;
                acc.add_point(p.row(i as usize), p.sq_norms[i as usize], l);
            }
            // 3. Statistics and the update.
            let distance = acc.distance_to(&mu);
            let vm = count_pairs(&prep.ml, &clab, |a, b| a != b);
            let vc = count_pairs(&prep.cl, &clab, |a, b| a == b);
            let mut new = acc.means(&mu);
            repaired += acc.repair_empty(&mut new);
            let shift = max_abs_shift(&new, &mu);
            history.push(IterStats {
                distance,
                must_link_penalty: wm * vm as f64,
                cannot_link_penalty: wc * vc as f64,
                max_shift: shift,
            });
            log::debug!(
                "PCK-means iteration {t}: distance {distance:.6e}, violated must-links {vm}, cannot-links {vc}, max shift {shift:.3e}, {refined} exact fallbacks"
            );
            mu = new;
            last = Some((acc, vm, vc));
            if shift <= self.tol {
                break;
            }
        }
        let (acc, vm, vc) = last.expect("max_iter ≥ 1");
        let objective = 0.5 * acc.distance_to(&mu) + wm * vm as f64 + wc * vc as f64;
        Clustering {
            assignments: to_usize(&labels),
            centroids: mu,
            objective,
            n_iter: history.len(),
            empty_clusters_repaired: repaired,
            violated_must_links: vm,
            violated_cannot_links: vc,
            history,
        }
    }
}

/// Constraints in the form the sequential pass needs: the constrained points renumbered
/// `0..m` (their *ranks*), so their labels and partner lists are small and cache-resident.
pub(crate) struct Prepared {
    /// The point of each rank: the points with at least one constraint, ascending.
    pub constrained: Vec<u32>,
    /// The rank of each point (`UNASSIGNED` for unconstrained points).
    pub rank: Vec<u32>,
    /// Must-link partners by rank, each listed once.
    pub ml: Adjacency,
    /// Cannot-link partners by rank, each listed once.
    pub cl: Adjacency,
}

impl Prepared {
    pub fn new(cs: &ConstraintSet) -> Self {
        let n = cs.n_points;
        let mut rank = vec![UNASSIGNED; n];
        for &(a, b) in cs.must_link.iter().chain(&cs.cannot_link) {
            rank[a as usize] = 0;
            rank[b as usize] = 0;
        }
        let mut constrained = Vec::new();
        for (i, r) in rank.iter_mut().enumerate() {
            if *r == 0 {
                *r = constrained.len() as u32;
                constrained.push(i as u32);
            }
        }
        let m = constrained.len();
        let remap = |pairs: &[(u32, u32)]| -> Vec<(u32, u32)> {
            pairs
                .iter()
                .map(|&(a, b)| (rank[a as usize], rank[b as usize]))
                .collect()
        };
        Prepared {
            ml: dedup_adjacency(m, &remap(&cs.must_link)),
            cl: dedup_adjacency(m, &remap(&cs.cannot_link)),
            constrained,
            rank,
        }
    }
}

impl ConstrainedClusterer for PckMeansParams {
    /// PCK-means; initialisation draws from the stream `pckmeans/init`, the visiting order of
    /// iteration `t` from `pckmeans/order/{t}`.
    fn fit(
        &self,
        x: ArrayView2<'_, f32>,
        constraints: &ConstraintSet,
        seed: u64,
    ) -> Result<Clustering, ClusterError> {
        self.validate()?;
        let p = Points::new(x)?;
        check_k(self.k, p.n)?;
        check_constraints(constraints, p.n)?;
        let prep = Prepared::new(constraints);
        let init = self.initial_centroids(&p, constraints, seed);
        Ok(self.run(&p, &prep, init, seed))
    }
}

impl PckMeansParams {
    /// The `k` starting centroids (see [`PckMeansInit`]).
    pub(crate) fn initial_centroids(
        &self,
        p: &Points,
        constraints: &ConstraintSet,
        seed: u64,
    ) -> Array2<f32> {
        let mut rng = crate::seed::rng(seed, "pckmeans/init");
        let preset = match self.init {
            PckMeansInit::Neighbourhood => {
                let means = component_means(p, &constraints.must_link_components(false), self.k);
                if means.nrows() < self.k && self.top_up == TopUp::KMeans {
                    let seed = crate::seed::derive(seed, "pckmeans/top-up");
                    return KMeansParams::new(self.k)
                        .best_of_restarts_around(p, &means, seed)
                        .centroids;
                }
                means
            }
            PckMeansInit::KMeansPlusPlus => Array2::zeros((0, p.d)),
            // The original's neighbourhoods include every point (unconstrained ones as
            // singletons), so with fewer than k must-link components the rest of the k largest
            // are singletons picked by sort tie-breaking: fixed data points, not k-means++.
            PckMeansInit::Original => {
                component_means(p, &constraints.must_link_components(true), self.k)
            }
        };
        kmeans_plus_plus(p, self.k, &preset, &mut rng)
    }
}
