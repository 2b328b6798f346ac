//! Which images the network trains on in one epoch, and in what order.
//!
//! DeepCluster balances the pseudo-labels: every non-empty cluster contributes the same number of
//! samples, `⌊total / k'⌋ + 1` (k' non-empty clusters), drawn without replacement when the cluster is
//! large enough and with replacement otherwise; the concatenation is shuffled and cut to `total`.
//!
//! The original code had a bug (also in facebookresearch/deepcluster): the drawn values are *dataset*
//! indices but were used as *positions* in the dataset sorted by cluster. Batches then follow cluster
//! sizes instead of being uniform over clusters. [`Sampler::Original`] reproduces that for faithful
//! reruns of the paper; [`Sampler::Uniform`] is the correct sampler and our default.
use crate::seed;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How training samples are drawn from the pseudo-labelled images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Sampler {
    /// Uniform over clusters (what DeepCluster intended).
    #[default]
    Uniform,
    /// The original code's behaviour: batches follow cluster sizes (see the module docs).
    Original,
}

impl std::fmt::Display for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sampler::Uniform => "uniform",
            Sampler::Original => "original",
        })
    }
}

impl std::str::FromStr for Sampler {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "uniform" => Ok(Sampler::Uniform),
            "original" => Ok(Sampler::Original),
            _ => Err(format!(
                "unknown sampler `{s}` (expected `uniform` or `original`)"
            )),
        }
    }
}

impl Sampler {
    /// The image indices to train on, in order: `total` of them, given the cluster of each image.
    pub fn draw(self, assignments: &[usize], total: usize, seed: u64, stream: &str) -> Vec<usize> {
        let n = assignments.len();
        if n == 0 || total == 0 {
            return Vec::new();
        }
        let k = assignments.iter().max().map_or(0, |m| m + 1);
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
        for (i, &c) in assignments.iter().enumerate() {
            members[c].push(i);
        }
        let non_empty = members.iter().filter(|m| !m.is_empty()).count();
        let per_cluster = total / non_empty + 1;
        let mut rng = seed::rng(seed, stream);
        let mut out = Vec::with_capacity(per_cluster * non_empty);
        for m in members.iter().filter(|m| !m.is_empty()) {
            if m.len() > per_cluster {
                out.extend(m.choose_multiple(&mut rng, per_cluster).copied());
            } else {
                out.extend((0..per_cluster).map(|_| m[rng.random_range(0..m.len())]));
            }
        }
        out.shuffle(&mut rng);
        out.truncate(total);
        if self == Sampler::Original {
            // Values are used as positions in the images sorted by cluster (stable within a cluster).
            // Positions ≥ n cannot occur: every drawn value is a dataset index < n.
            let sorted: Vec<usize> = members.iter().flatten().copied().collect();
            for p in out.iter_mut() {
                *p = sorted[*p];
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(assign: &[usize], order: &[usize], k: usize) -> Vec<usize> {
        let mut c = vec![0; k];
        for &i in order {
            c[assign[i]] += 1;
        }
        c
    }

    #[test]
    fn uniform_balances_clusters_of_very_different_sizes() {
        // 900 points in cluster 0, 100 in cluster 1.
        let assign: Vec<usize> = (0..1000).map(|i| usize::from(i >= 900)).collect();
        let order = Sampler::Uniform.draw(&assign, 3000, 1, "t");
        assert_eq!(order.len(), 3000);
        let c = counts(&assign, &order, 2);
        assert!((c[0] as i64 - c[1] as i64).abs() <= 2, "{c:?}");
    }

    #[test]
    fn original_follows_cluster_sizes() {
        let assign: Vec<usize> = (0..1000).map(|i| usize::from(i % 10 == 0)).collect();
        let order = Sampler::Original.draw(&assign, 3000, 1, "t");
        let c = counts(&assign, &order, 2);
        // Cluster 1 holds 10 % of the points and gets about 10 % of the samples, not 50 %.
        let share = c[1] as f64 / 3000.0;
        assert!(
            (0.05..0.15).contains(&share),
            "share of the small cluster: {share}"
        );
    }

    #[test]
    fn draws_are_reproducible_and_skip_empty_clusters() {
        let assign = vec![0, 0, 2, 2, 2];
        let a = Sampler::Uniform.draw(&assign, 10, 3, "s");
        assert_eq!(a, Sampler::Uniform.draw(&assign, 10, 3, "s"));
        assert_ne!(a, Sampler::Uniform.draw(&assign, 10, 4, "s"));
        assert!(a.iter().all(|&i| i < 5));
        assert_eq!(counts(&assign, &a, 3)[1], 0);
    }
}
