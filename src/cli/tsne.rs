//! `deepclust tsne`
use super::{Global, UsageError};
use anyhow::Context;
use clap::Args;
use deepclust::data::npy;
use deepclust::viz::{plot, tsne};
use ndarray::Array2;
use std::path::PathBuf;
use std::time::Instant;

/// Embed a feature matrix in 2-D with Barnes-Hut t-SNE and draw the map.
///
/// With more points than --max-points, a seeded random sample is embedded. The 2-D coordinates
/// can be saved with --save (.npy, N×2 float32, rows in the order of the sample, whose indices go
/// to the same name with `-index.npy`).
///
/// Examples:
///   deepclust tsne --features runs/x/embedding-final.npy --labels runs/x/truth.npy --out map.png
///   deepclust tsne --features F.npy --out map.svg --perplexity 50 --max-points 10000
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct TsneArgs {
    /// Feature matrix (N×D `.npy`, float32 or float64).
    #[arg(long, value_name = "F.npy")]
    pub features: PathBuf,
    /// Labels that colour the points (`.npy` of integers or text, one per line).
    #[arg(long, value_name = "L")]
    pub labels: Option<PathBuf>,
    /// The picture: `.png` or `.svg`.
    #[arg(long)]
    pub out: PathBuf,
    /// Also save the 2-D coordinates as `.npy`.
    #[arg(long, value_name = "Y.npy")]
    pub save: Option<PathBuf>,
    /// Perplexity (effective number of neighbours).
    #[arg(long, default_value_t = 30.0)]
    pub perplexity: f64,
    /// Embed at most this many points (a seeded random sample).
    #[arg(long, default_value_t = 10_000)]
    pub max_points: usize,
    /// Gradient-descent iterations in all (the first 250 with early exaggeration).
    #[arg(long, default_value_t = 750)]
    pub iterations: usize,
}

pub fn run(a: TsneArgs, g: &Global) -> anyhow::Result<()> {
    let x = npy::read_features(&a.features)?;
    let labels = match &a.labels {
        Some(p) => {
            let l = npy::read_labels(p)?;
            if l.len() != x.nrows() {
                return Err(UsageError(format!(
                    "{} has {} labels but {} has {} rows",
                    p.display(),
                    l.len(),
                    a.features.display(),
                    x.nrows()
                ))
                .into());
            }
            Some(l)
        }
        None => None,
    };
    let seed = g.seed.unwrap_or(42);
    let n = x.nrows();
    let idx: Vec<usize> = if n > a.max_points {
        let mut rng = deepclust::seed::rng(seed, "tsne/sample");
        let mut v = rand::seq::index::sample(&mut rng, n, a.max_points).into_vec();
        v.sort_unstable();
        v
    } else {
        (0..n).collect()
    };
    let xs = Array2::from_shape_fn((idx.len(), x.ncols()), |(i, j)| x[[idx[i], j]]);
    let params = tsne::TsneParams::default()
        .with_perplexity(a.perplexity)
        .with_n_iter(a.iterations)
        .with_seed(seed);
    let t = Instant::now();
    let y = tsne::tsne(xs.view(), &params).map_err(|e| UsageError(e.to_string()))?;
    let secs = t.elapsed().as_secs_f64();
    let colours: Option<Vec<usize>> = labels.as_ref().map(|l| idx.iter().map(|&i| l[i]).collect());
    let title = a
        .features
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    plot::scatter(
        &a.out,
        &format!("t-SNE of {title}"),
        y.view(),
        colours.as_deref(),
    )
    .with_context(|| format!("drawing {}", a.out.display()))?;
    if let Some(p) = &a.save {
        npy::write_features(p, y.view())?;
        let ip = p.with_file_name(format!(
            "{}-index.npy",
            p.file_stem().unwrap_or_default().to_string_lossy()
        ));
        npy::write_labels(&ip, &idx)?;
    }
    let mut line = format!("{}: {} points in {secs:.1}s", a.out.display(), idx.len());
    if let Some(c) = &colours {
        line.push_str(&format!(
            "; 10-NN accuracy of the map {:.4}",
            tsne::knn_accuracy(y.view(), c, 10)
        ));
    }
    println!("{line}");
    Ok(())
}
