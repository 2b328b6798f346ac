//! COP-k-means (Wagstaff, Cardie, Rogers & Schrödl 2001): k-means under hard constraints.
use super::kernels::{
    accumulate, assign_nearest, check_constraints, check_k, dedup_adjacency, kmeans_plus_plus,
    max_abs_shift, random_rows, sq_dist, to_usize, total_sq_shift, Points, UNASSIGNED,
};
use super::kmeans::validate_common;
use super::{ClusterError, Clustering, ConstrainedClusterer, IterStats, KMeansInit};
use crate::labels::{ConstraintSet, UnionFind};
use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// COP-k-means initialises like k-means.
pub type CopKMeansInit = KMeansInit;

fn default_max_iter() -> usize {
    300
}
fn default_tol() -> f64 {
    1e-4
}
fn default_max_restarts() -> usize {
    10
}

/// Hyper-parameters of COP-k-means.
///
/// Must-link components (transitive closure) are assigned as units. Each iteration assigns the
/// unconstrained points to their nearest centroid (in parallel: the order cannot matter for them),
/// then visits the units in a random order (stream `copkmeans/{restart}/order/{t}`); a unit joins
/// the cluster with the least total squared distance among those holding none of its cannot-link
/// partners. A unit with no such cluster makes the attempt infeasible; up to `max_restarts` new
/// attempts follow with fresh initialisations and orders before
/// [`ClusterError::Infeasible`] is returned, naming the point and, for every cluster, the
/// cannot-link that blocks it. Iterations stop when no label changes, when
/// `Σ‖Δμ‖² ≤ tol × (mean variance)` (as k-means), or after `max_iter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopKMeansParams {
    /// Number of clusters (`1 ≤ k ≤ N`).
    pub k: usize,
    /// Iterations per attempt at most; default 300.
    #[serde(default = "default_max_iter")]
    pub max_iter: usize,
    /// Convergence tolerance relative to the data's mean variance; default 1e-4.
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Initialisation; default k-means++.
    #[serde(default)]
    pub init: CopKMeansInit,
    /// New attempts after an infeasible one; default 10.
    #[serde(default = "default_max_restarts")]
    pub max_restarts: usize,
}

impl CopKMeansParams {
    /// Defaults for `k` clusters: k-means++, at most 300 iterations, tol 1e-4, 10 restarts.
    pub fn new(k: usize) -> Self {
        CopKMeansParams {
            k,
            max_iter: default_max_iter(),
            tol: default_tol(),
            init: CopKMeansInit::default(),
            max_restarts: default_max_restarts(),
        }
    }

    /// Sets the iteration limit.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Sets the relative tolerance.
    pub fn with_tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Sets the initialisation.
    pub fn with_init(mut self, init: CopKMeansInit) -> Self {
        self.init = init;
        self
    }

    /// Sets the number of new attempts after an infeasible one.
    pub fn with_max_restarts(mut self, max_restarts: usize) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// Checks the parameters without data.
    pub fn validate(&self) -> Result<(), ClusterError> {
        validate_common(self.k, self.max_iter, self.tol)
    }
}

/// Must-link units and their cannot-link neighbours.
struct Units {
    /// Members of each unit, ascending; units ordered by smallest member.
    members: Vec<Vec<u32>>,
    /// Unit of each point (`UNASSIGNED` for unconstrained points).
    unit_of: Vec<u32>,
    /// Units linked to each unit by a cannot-link, ascending, each once.
    cl_units: Vec<Vec<u32>>,
    /// Cannot-link partners of each point.
    cl: crate::labels::Adjacency,
}

impl Units {
    fn new(cs: &ConstraintSet) -> Result<Self, ClusterError> {
        let n = cs.n_points;
        let ml = dedup_adjacency(n, &cs.must_link);
        let cl = dedup_adjacency(n, &cs.cannot_link);
        let mut uf = UnionFind::new(n);
        for &(a, b) in &cs.must_link {
            uf.union(a as usize, b as usize);
        }
        let mut unit_of = vec![UNASSIGNED; n];
        let mut root_unit = vec![UNASSIGNED; n];
        let mut members: Vec<Vec<u32>> = Vec::new();
        for (i, unit) in unit_of.iter_mut().enumerate() {
            if ml.of(i).is_empty() && cl.of(i).is_empty() {
                continue;
            }
            let r = uf.find(i);
            if root_unit[r] == UNASSIGNED {
                root_unit[r] = members.len() as u32;
                members.push(Vec::new());
            }
            *unit = root_unit[r];
            members[root_unit[r] as usize].push(i as u32);
        }
        let mut cl_units = vec![Vec::new(); members.len()];
        for (u, mem) in members.iter().enumerate() {
            let list: &mut Vec<u32> = &mut cl_units[u];
            for &i in mem {
                for &j in cl.of(i as usize) {
                    let v = unit_of[j as usize];
                    if v as usize == u {
                        return Err(ClusterError::Infeasible(format!(
                            "cannot-link ({i}, {j}) joins two points that are must-linked \
                             (directly or through a chain of must-links); no clustering satisfies both"
                        )));
                    }
                    list.push(v);
                }
            }
            list.sort_unstable();
            list.dedup();
        }
        Ok(Units {
            members,
            unit_of,
            cl_units,
            cl,
        })
    }

    /// Why unit `u` fits no cluster under `unit_label`: for each cluster, one blocking cannot-link.
    fn explain(&self, u: usize, unit_label: &[u32], k: usize) -> String {
        let mem = &self.members[u];
        let mut parts = Vec::new();
        for c in 0..k as u32 {
            let found = mem.iter().find_map(|&i| {
                self.cl
                    .of(i as usize)
                    .iter()
                    .find(|&&j| unit_label[self.unit_of[j as usize] as usize] == c)
                    .map(|&j| (i, j))
            });
            if let Some((i, j)) = found {
                parts.push(format!("cluster {c} holds {j} (cannot-link ({i}, {j}))"));
            }
            if parts.len() == 10 && k > 10 {
                parts.push(format!("… and {} more clusters", k - 10));
                break;
            }
        }
        let with = if mem.len() > 1 {
            format!(" (must-linked with {} other points)", mem.len() - 1)
        } else {
            String::new()
        };
        format!(
            "point {}{with} fits none of the {k} clusters: {}",
            mem[0],
            parts.join("; ")
        )
    }
}

impl CopKMeansParams {
    fn attempt(
        &self,
        p: &Points,
        units: &Units,
        init: Array2<f32>,
        tol_abs: f64,
        seed: u64,
        restart: usize,
    ) -> Result<Clustering, ClusterError> {
        let k = self.k;
        let mut mu = init;
        let mut labels = vec![0u32; p.n];
        let mut prev = vec![UNASSIGNED; p.n];
        let mut unit_label = vec![UNASSIGNED; units.members.len()];
        let mut order: Vec<u32> = Vec::with_capacity(units.members.len());
        let mut blocked = vec![false; k];
        let mut cost = vec![0.0f64; k];
        let mut history = Vec::new();
        let mut repaired = 0;
        let mut last_acc = None;
        for t in 0..self.max_iter {
            assign_nearest(p, &mu, &mut labels);
            unit_label.fill(UNASSIGNED);
            order.clear();
            order.extend(0..units.members.len() as u32);
            order.shuffle(&mut crate::seed::rng(
                seed,
                &format!("copkmeans/{restart}/order/{t}"),
            ));
            for &u in &order {
                let u = u as usize;
                blocked.fill(false);
                for &v in &units.cl_units[u] {
                    let l = unit_label[v as usize];
                    if l != UNASSIGNED {
                        blocked[l as usize] = true;
                    }
                }
                cost.fill(0.0);
                for &i in &units.members[u] {
                    let x = p.row(i as usize);
                    for (c, cs) in cost.iter_mut().enumerate() {
                        if !blocked[c] {
                            *cs += sq_dist(x, mu.row(c).as_slice().expect("standard layout"));
                        }
                    }
                }
                let mut best: Option<(f64, usize)> = None;
                for c in 0..k {
                    if !blocked[c] && best.is_none_or(|(b, _)| cost[c] < b) {
                        best = Some((cost[c], c));
                    }
                }
                let Some((_, c)) = best else {
                    return Err(ClusterError::Infeasible(units.explain(u, &unit_label, k)));
                };
                unit_label[u] = c as u32;
                for &i in &units.members[u] {
                    labels[i as usize] = c as u32;
                }
            }
            let changed = labels.iter().zip(&prev).filter(|(a, b)| a != b).count();
            prev.copy_from_slice(&labels);
            let acc = accumulate(p, &labels, k);
            let distance = acc.distance_to(&mu);
            let mut new = acc.means(&mu);
            repaired += acc.repair_empty(&mut new);
            let shift_sq = total_sq_shift(&new, &mu);
            history.push(IterStats {
                distance,
                must_link_penalty: 0.0,
                cannot_link_penalty: 0.0,
                max_shift: max_abs_shift(&new, &mu),
            });
            mu = new;
            last_acc = Some(acc);
            if changed == 0 || shift_sq <= tol_abs {
                break;
            }
        }
        let acc = last_acc.expect("max_iter ≥ 1");
        Ok(Clustering {
            assignments: to_usize(&labels),
            objective: acc.distance_to(&mu),
            centroids: mu,
            n_iter: history.len(),
            empty_clusters_repaired: repaired,
            violated_must_links: 0,
            violated_cannot_links: 0,
            history,
        })
    }
}

impl ConstrainedClusterer for CopKMeansParams {
    /// COP-k-means; attempt `r` initialises from the stream `copkmeans/{r}/init`.
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
        let units = Units::new(constraints)?;
        let tol_abs = self.tol * p.mean_variance();
        let mut last_err = None;
        for r in 0..=self.max_restarts {
            let mut rng = crate::seed::rng(seed, &format!("copkmeans/{r}/init"));
            let init = match self.init {
                KMeansInit::KMeansPlusPlus => {
                    kmeans_plus_plus(&p, self.k, &Array2::zeros((0, p.d)), &mut rng)
                }
                KMeansInit::Random => random_rows(&p, self.k, &mut rng),
            };
            match self.attempt(&p, &units, init, tol_abs, seed, r) {
                Ok(c) => return Ok(c),
                Err(ClusterError::Infeasible(msg)) => {
                    log::debug!("COP-k-means attempt {r} infeasible: {msg}");
                    last_err = Some(msg);
                }
                Err(e) => return Err(e),
            }
        }
        Err(ClusterError::Infeasible(format!(
            "{} (in the last of {} attempts with different initialisations and visiting orders)",
            last_err.expect("at least one attempt"),
            self.max_restarts + 1
        )))
    }
}
