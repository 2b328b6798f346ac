//! "Ours" in the clustering peer comparison (`bench/peers.sh`): runs one algorithm on the
//! benchmark data that `bench/prepare_data.py` wrote, saves the assignments as an `.npy` (int64) so
//! the Python side scores every contender with the same scikit-learn NMI/ARI, and prints one JSON
//! line with the wall-clock seconds of the algorithm alone (file reading excluded) and the CPU
//! seconds all threads spent on it.
//!
//! ```text
//! cargo run --release --no-default-features --example cluster_peer -- <algo> <data-dir> <out.npy>
//!   algo: kmeans    k-means, k = 10, k-means++ (1 init), at most 5 iterations, tol 1e-4
//!         pckmeans  PCK-means, k = 10, paper settings (5 iterations, w = 2k/(n·f)), neighbourhood
//!                   init, the expanded label constraints; the time includes building the
//!                   constraint set and its preparation (adjacency, components)
//!         pca32     whitened PCA to 32 dimensions, fit + transform (writes the features)
//! ```
//! (The lead will later switch the script to the `deepclust cluster` CLI.)
use anyhow::{bail, Context};
use deepclust::cluster::{ConstrainedClusterer, KMeansParams, Pca, PckMeansParams};
use deepclust::labels::ConstraintSet;
use ndarray::{Array1, Array2};
use ndarray_npy::{read_npy, write_npy};
use std::path::PathBuf;
use std::time::Instant;

fn pairs(a: &Array2<i64>) -> Vec<(u32, u32)> {
    a.rows()
        .into_iter()
        .map(|r| (r[0] as u32, r[1] as u32))
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [algo, dir, out] = args.as_slice() else {
        bail!("usage: cluster_peer <kmeans|pckmeans|pca32> <data-dir> <out.npy>");
    };
    let dir = PathBuf::from(dir);
    let feats = dir.join("mnist_pca64.npy");
    let x: Array2<f32> =
        read_npy(&feats).with_context(|| format!("reading {}", feats.display()))?;
    let seed = 0;
    rayon::ThreadPoolBuilder::new().build_global().ok();
    let cpu0 = cpu_seconds();
    let (seconds, json) = match algo.as_str() {
        "kmeans" => {
            let t = Instant::now();
            let params = KMeansParams::new(10).with_n_init(1).with_max_iter(5);
            let r = params.fit(x.view(), &ConstraintSet::empty(x.nrows()), seed)?;
            let s = t.elapsed().as_secs_f64();
            save(out, &r.assignments)?;
            (
                s,
                format!(r#""n_iter": {}, "objective": {}"#, r.n_iter, r.objective),
            )
        }
        "pckmeans" => {
            let ml: Array2<i64> = read_npy(dir.join("mnist_ml.npy")).context("mnist_ml.npy")?;
            let cl: Array2<i64> = read_npy(dir.join("mnist_cl.npy")).context("mnist_cl.npy")?;
            let t = Instant::now();
            let cs = ConstraintSet {
                n_points: x.nrows(),
                must_link: pairs(&ml),
                cannot_link: pairs(&cl),
            };
            let r = PckMeansParams::paper(10).fit(x.view(), &cs, seed)?;
            let s = t.elapsed().as_secs_f64();
            save(out, &r.assignments)?;
            (
                s,
                format!(
                    r#""n_iter": {}, "objective": {}, "violated_must_links": {}, "violated_cannot_links": {}"#,
                    r.n_iter, r.objective, r.violated_must_links, r.violated_cannot_links
                ),
            )
        }
        "pca32" => {
            let t = Instant::now();
            let y = Pca::new(32, true).fit_transform(x.view())?;
            let s = t.elapsed().as_secs_f64();
            write_npy(out, &y)?;
            (s, r#""dim": 32"#.to_string())
        }
        other => bail!("unknown algorithm `{other}`; expected kmeans, pckmeans or pca32"),
    };
    let cpu = match (cpu0, cpu_seconds()) {
        (Some(a), Some(b)) => format!("{:.4}", b - a),
        _ => "null".into(),
    };
    println!(
        r#"{{"algo": "{algo}", "seconds": {seconds}, "cpu_seconds": {cpu}, "threads": {}, {json}}}"#,
        rayon::current_num_threads()
    );
    Ok(())
}

/// CPU time of all threads of this process so far (Linux: the first field of each thread's
/// `/proc/self/task/*/schedstat`, in ns), to compare work done on a machine busy with other jobs,
/// where wall-clock seconds mostly measure the competition. `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let mut total = 0u64;
    for t in std::fs::read_dir("/proc/self/task").ok()? {
        let s = std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok()?;
        total += s.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total as f64 * 1e-9)
}

fn save(path: &str, labels: &[usize]) -> anyhow::Result<()> {
    let a: Array1<i64> = labels.iter().map(|&l| l as i64).collect();
    write_npy(path, &a).with_context(|| format!("writing {path}"))
}
