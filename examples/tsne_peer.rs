//! "Ours" in the t-SNE peer comparison (`bench/tsne_peer.sh`): embeds the first `N` rows of a
//! feature matrix with [`deepclust::viz::tsne::tsne`] (default parameters, as openTSNE's) and
//! prints one JSON line: wall-clock seconds of `tsne` alone (file reading excluded), the 10-NN
//! accuracy of the map ([`knn_accuracy`]), `N`, and the peak resident memory of the process.
//!
//! ```text
//! cargo run --release --no-default-features --example tsne_peer -- \
//!     <features.npy> <labels.npy> [--n N] [--threads T] [--seed S] [--out map.npy]
//! ```
//! `--out` writes the map (`float32`, `N × 2`) so that the Python side can score it too.
use anyhow::{bail, Context};
use deepclust::data::npy::{read_features, read_labels, write_features};
use deepclust::viz::tsne::{knn_accuracy, tsne, TsneParams};
use ndarray::s;
use std::path::PathBuf;
use std::time::Instant;

/// Peak resident set size (`VmHWM`) in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let mut positional = Vec::new();
    let (mut n, mut threads, mut seed, mut out) = (None, None, 0u64, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            "--n" => n = Some(value("--n")?.parse::<usize>().context("--n")?),
            "--threads" => {
                threads = Some(value("--threads")?.parse::<usize>().context("--threads")?)
            }
            "--seed" => seed = value("--seed")?.parse().context("--seed")?,
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            _ if a.starts_with("--") => bail!("unknown option {a}"),
            _ => positional.push(PathBuf::from(a)),
        }
    }
    let [features, labels] = positional.as_slice() else {
        bail!("usage: tsne_peer <features.npy> <labels.npy> [--n N] [--threads T] [--seed S] [--out map.npy]");
    };
    let x = read_features(features)?;
    let y = read_labels(labels)?;
    let n = n.unwrap_or(x.nrows()).min(x.nrows()).min(y.len());
    let x = x.slice(s![..n, ..]).to_owned();
    let y = &y[..n];
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        pool = pool.num_threads(t);
    }
    let pool = pool.build()?;
    deepclust::progress::set_quiet(true);
    let params = TsneParams::new().with_seed(seed);
    let (seconds, map) = pool.install(|| {
        let t = Instant::now();
        let map = tsne(x.view(), &params);
        (t.elapsed().as_secs_f64(), map)
    });
    let map = map?;
    let knn10 = pool.install(|| knn_accuracy(map.view(), y, 10));
    if let Some(out) = &out {
        write_features(out, map.view()).with_context(|| format!("writing {}", out.display()))?;
    }
    println!(
        r#"{{"method": "deepclust", "seconds": {seconds:.3}, "knn10": {knn10:.4}, "n": {n}, "threads": {}, "peak_rss_mib": {:.1}}}"#,
        pool.current_num_threads(),
        peak_rss_mib().unwrap_or(f64::NAN),
    );
    Ok(())
}
