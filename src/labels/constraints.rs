//! Pairwise constraints: the only way labels enter clustering.
use serde::{Deserialize, Serialize};

/// Must-link and cannot-link pairs over the points `0..n_points`.
///
/// Pairs are stored as given (`i != j`, no particular order); duplicates are allowed but wasteful.
/// Build one by hand, from a [`crate::labels::LabelScenario`], or load it from a file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConstraintSet {
    /// Number of points the indices refer to.
    pub n_points: usize,
    /// Pairs that should share a cluster.
    pub must_link: Vec<(u32, u32)>,
    /// Pairs that should not share a cluster.
    pub cannot_link: Vec<(u32, u32)>,
}

/// Per-point adjacency lists in compressed (CSR) form: the partners of point `i` are
/// `neighbours[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjacency {
    /// Start of each point's partner list; length `n_points + 1`.
    pub offsets: Vec<usize>,
    /// Partner indices.
    pub neighbours: Vec<u32>,
}

impl Adjacency {
    /// Builds the symmetric adjacency of `pairs` over `n` points.
    pub fn from_pairs(n: usize, pairs: &[(u32, u32)]) -> Self {
        let mut degree = vec![0usize; n + 1];
        for &(a, b) in pairs {
            degree[a as usize + 1] += 1;
            degree[b as usize + 1] += 1;
        }
        for i in 0..n {
            degree[i + 1] += degree[i];
        }
        let offsets = degree;
        let mut fill = offsets.clone();
        let mut neighbours = vec![0u32; offsets[n]];
        for &(a, b) in pairs {
            neighbours[fill[a as usize]] = b;
            fill[a as usize] += 1;
            neighbours[fill[b as usize]] = a;
            fill[b as usize] += 1;
        }
        Adjacency {
            offsets,
            neighbours,
        }
    }

    /// The partners of point `i`.
    pub fn of(&self, i: usize) -> &[u32] {
        &self.neighbours[self.offsets[i]..self.offsets[i + 1]]
    }
}

impl ConstraintSet {
    /// An empty set over `n_points` points.
    pub fn empty(n_points: usize) -> Self {
        ConstraintSet {
            n_points,
            ..Default::default()
        }
    }

    /// True when there are no constraints at all.
    pub fn is_empty(&self) -> bool {
        self.must_link.is_empty() && self.cannot_link.is_empty()
    }

    /// Checks that every index is below `n_points` and no pair links a point to itself.
    pub fn validate(&self) -> Result<(), String> {
        for (kind, pairs) in [
            ("must-link", &self.must_link),
            ("cannot-link", &self.cannot_link),
        ] {
            for (k, &(a, b)) in pairs.iter().enumerate() {
                if a as usize >= self.n_points || b as usize >= self.n_points {
                    return Err(format!(
                        "{kind} #{k} ({a}, {b}) refers to a point outside 0..{}",
                        self.n_points
                    ));
                }
                if a == b {
                    return Err(format!("{kind} #{k} links point {a} to itself"));
                }
            }
        }
        Ok(())
    }

    /// Connected components of the must-link graph (its transitive closure), largest first; ties are
    /// broken by the smallest member index. Points without must-links are singleton components and are
    /// included only when `with_singletons` is true. Members are sorted ascending.
    pub fn must_link_components(&self, with_singletons: bool) -> Vec<Vec<u32>> {
        let n = self.n_points;
        let mut uf = UnionFind::new(n);
        let mut touched = vec![false; n];
        for &(a, b) in &self.must_link {
            uf.union(a as usize, b as usize);
            touched[a as usize] = true;
            touched[b as usize] = true;
        }
        let mut by_root: std::collections::HashMap<usize, Vec<u32>> = Default::default();
        for (i, &t) in touched.iter().enumerate() {
            if t || with_singletons {
                by_root.entry(uf.find(i)).or_default().push(i as u32);
            }
        }
        let mut comps: Vec<Vec<u32>> = by_root.into_values().collect();
        comps.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
        comps
    }

    /// The cannot-links expanded over the must-link components, as the original PCK-means
    /// preprocessing did: each cannot-link `(i, j)` becomes every pair `(a, b)` with `a` in the
    /// must-link component of `i` and `b` in that of `j`.
    ///
    /// Pairs are returned as `(min, max)`, without duplicates, in a deterministic order (component
    /// pairs in order of their first cannot-link, members ascending). A cannot-link whose two ends
    /// are in the same component (inconsistent constraints) is kept as it is, not expanded.
    pub fn expanded_cannot_links(&self) -> Vec<(u32, u32)> {
        let n = self.n_points;
        let mut uf = UnionFind::new(n);
        for &(a, b) in &self.must_link {
            uf.union(a as usize, b as usize);
        }
        let roots: Vec<u32> = (0..n).map(|i| uf.find(i) as u32).collect();
        // Members of each component, in CSR form keyed by root.
        let mut offsets = vec![0usize; n + 1];
        for &r in &roots {
            offsets[r as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut members = vec![0u32; n];
        for (i, &r) in roots.iter().enumerate() {
            members[fill[r as usize]] = i as u32;
            fill[r as usize] += 1;
        }
        let comp = |r: u32| &members[offsets[r as usize]..offsets[r as usize + 1]];

        let mut seen: std::collections::HashSet<(u32, u32)> = Default::default();
        let mut seen_inconsistent: std::collections::HashSet<(u32, u32)> = Default::default();
        let mut out = Vec::new();
        for &(i, j) in &self.cannot_link {
            let (ri, rj) = (roots[i as usize], roots[j as usize]);
            if ri == rj {
                let p = (i.min(j), i.max(j));
                if seen_inconsistent.insert(p) {
                    out.push(p);
                }
                continue;
            }
            let key = (ri.min(rj), ri.max(rj));
            if seen.insert(key) {
                let (ca, cb) = (comp(key.0), comp(key.1));
                out.reserve(ca.len() * cb.len());
                for &a in ca {
                    for &b in cb {
                        out.push((a.min(b), a.max(b)));
                    }
                }
            }
        }
        out
    }

    /// Points that take part in at least one constraint, ascending.
    pub fn constrained_points(&self) -> Vec<u32> {
        let mut seen = vec![false; self.n_points];
        for &(a, b) in self.must_link.iter().chain(&self.cannot_link) {
            seen[a as usize] = true;
            seen[b as usize] = true;
        }
        (0..self.n_points as u32)
            .filter(|&i| seen[i as usize])
            .collect()
    }
}

/// Disjoint sets with path halving and union by size.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }
    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    /// Merges the sets of `a` and `b`; returns false if they were already one.
    pub fn union(&mut self, a: usize, b: usize) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra] < self.size[rb] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb] = ra;
        self.size[ra] += self.size[rb];
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_transitive_closure_largest_first() {
        let c = ConstraintSet {
            n_points: 8,
            must_link: vec![(0, 1), (1, 2), (5, 6)],
            cannot_link: vec![(0, 5)],
        };
        assert_eq!(
            c.must_link_components(false),
            vec![vec![0, 1, 2], vec![5, 6]]
        );
        assert_eq!(c.must_link_components(true).len(), 5);
        assert_eq!(c.constrained_points(), vec![0, 1, 2, 5, 6]);
        let adj = Adjacency::from_pairs(8, &c.must_link);
        assert_eq!(adj.of(1), &[0, 2]);
        assert!(adj.of(3).is_empty());
    }

    #[test]
    fn validate_names_the_bad_pair() {
        let c = ConstraintSet {
            n_points: 3,
            must_link: vec![(0, 1)],
            cannot_link: vec![(2, 3)],
        };
        let e = c.validate().unwrap_err();
        assert!(e.contains("cannot-link #0 (2, 3)"), "{e}");
    }
}
