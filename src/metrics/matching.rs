//! Clustering accuracy: the best one-to-one matching of clusters to classes (Hungarian algorithm).
use super::contingency::{contingency, Contingency};
use super::MetricsError;
use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;
use serde::{Deserialize, Serialize};

/// The best one-to-one matching between predicted clusters and true classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matching {
    /// Fraction of points whose cluster is matched to their class.
    pub accuracy: f64,
    /// Number of such points.
    pub correct: u64,
    /// `(cluster, matched class)` for every distinct predicted cluster, ascending by cluster. With more
    /// clusters than classes some clusters stay unmatched (`None`): their points count as errors.
    pub cluster_to_class: Vec<(usize, Option<usize>)>,
}

impl Matching {
    /// The class matched to `cluster`, if any.
    pub fn class_of(&self, cluster: usize) -> Option<usize> {
        self.cluster_to_class
            .binary_search_by_key(&cluster, |&(c, _)| c)
            .ok()
            .and_then(|k| self.cluster_to_class[k].1)
    }
}

/// Clustering accuracy: the largest fraction of points that a one-to-one mapping of clusters to
/// classes gets right (as `scipy.optimize.linear_sum_assignment` on the contingency table). Works with
/// any numbers of clusters and classes; unmatched clusters or classes count as errors.
pub fn accuracy(truth: &[usize], pred: &[usize]) -> Result<f64, MetricsError> {
    Ok(best_matching(truth, pred)?.accuracy)
}

/// The matching behind [`accuracy`], e.g. to relabel clusters as classes for a confusion matrix.
pub fn best_matching(truth: &[usize], pred: &[usize]) -> Result<Matching, MetricsError> {
    Ok(best_matching_from(&contingency(truth, pred)?))
}

pub(crate) fn best_matching_from(c: &Contingency) -> Matching {
    let (nr, nc) = c.counts.dim();
    let w = |r: usize, k: usize| c.counts[[r, k]] as i64;
    // kuhn_munkres needs rows <= columns: put the smaller side on the rows.
    let mut cluster_class: Vec<Option<usize>> = vec![None; nc];
    let correct = if nr <= nc {
        let m = Matrix::from_fn(nr, nc, |(r, k)| w(r, k));
        let (total, assign) = kuhn_munkres(&m);
        for (r, &k) in assign.iter().enumerate() {
            cluster_class[k] = Some(c.classes[r]);
        }
        total
    } else {
        let m = Matrix::from_fn(nc, nr, |(k, r)| w(r, k));
        let (total, assign) = kuhn_munkres(&m);
        for (k, &r) in assign.iter().enumerate() {
            cluster_class[k] = Some(c.classes[r]);
        }
        total
    } as u64;
    // A zero-weight assignment is no match at all.
    for (k, cls) in cluster_class.iter_mut().enumerate() {
        if let Some(class) = *cls {
            let r = c.classes.binary_search(&class).expect("class present");
            if c.counts[[r, k]] == 0 {
                *cls = None;
            }
        }
    }
    Matching {
        accuracy: correct as f64 / c.n as f64,
        correct,
        cluster_to_class: c.clusters.iter().copied().zip(cluster_class).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permuted_labels_are_fully_accurate_and_extra_clusters_count_as_errors() {
        let t = [0, 0, 1, 1, 2, 2];
        assert_eq!(accuracy(&t, &[5, 5, 3, 3, 9, 9]).unwrap(), 1.0);
        // 4 clusters for 3 classes: cluster 7 cannot be matched.
        let m = best_matching(&t, &[1, 1, 2, 7, 3, 3]).unwrap();
        assert_eq!(m.correct, 5);
        assert_eq!(m.class_of(1), Some(0));
        assert_eq!(m.class_of(3), Some(2));
        // Fewer clusters than classes.
        assert_eq!(best_matching(&t, &[0, 0, 0, 0, 1, 1]).unwrap().correct, 4);
    }
}
