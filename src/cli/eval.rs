//! `deepclust eval`
use super::{Global, UsageError};
use clap::Args;
use deepclust::{data, metrics};
use serde_json::json;
use std::path::PathBuf;

/// Score a predicted clustering against true labels.
///
/// P and T are `.npy` files of any integer type, or text files with one label per line.
/// With --features, also the silhouette (exact, Euclidean) and the Davies–Bouldin index.
///
/// Example:
///   deepclust eval --pred assignments.npy --truth y.npy --features feats.npy --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct EvalArgs {
    /// Predicted cluster per point.
    #[arg(long, value_name = "P")]
    pub pred: PathBuf,
    /// True label per point.
    #[arg(long, value_name = "T")]
    pub truth: PathBuf,
    /// Feature matrix (N×D `.npy`) for silhouette and Davies–Bouldin.
    #[arg(long, value_name = "F.npy")]
    pub features: Option<PathBuf>,
    /// Silhouette on a random sample of this many points instead of all.
    #[arg(long, requires = "features")]
    pub sample: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: EvalArgs, g: &Global) -> anyhow::Result<()> {
    let pred = data::npy::read_labels(&a.pred)?;
    let truth = data::npy::read_labels(&a.truth)?;
    if pred.len() != truth.len() {
        return Err(UsageError(format!(
            "{} has {} labels but {} has {}",
            a.pred.display(),
            pred.len(),
            a.truth.display(),
            truth.len()
        ))
        .into());
    }
    let mut r = json!({
        "n": pred.len(),
        "nmi": metrics::nmi(&truth, &pred, metrics::NmiNorm::Arithmetic)?,
        "ari": metrics::ari(&truth, &pred)?,
        "ami": metrics::ami(&truth, &pred, metrics::NmiNorm::Arithmetic)?,
        "acc": metrics::accuracy(&truth, &pred)?,
    });
    if let Some(f) = &a.features {
        let x = data::npy::read_features(f)?;
        if x.nrows() != pred.len() {
            return Err(UsageError(format!(
                "{} has {} rows but {} has {} labels",
                f.display(),
                x.nrows(),
                a.pred.display(),
                pred.len()
            ))
            .into());
        }
        let t = std::time::Instant::now();
        r["silhouette"] = match a.sample {
            Some(m) => metrics::silhouette_sampled(x.view(), &pred, m, g.seed.unwrap_or(42))?,
            None => metrics::silhouette(x.view(), &pred)?,
        }
        .into();
        r["silhouette_seconds"] = t.elapsed().as_secs_f64().into();
        r["dbi"] = metrics::davies_bouldin(x.view(), &pred)?.into();
    }
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        for key in ["nmi", "ari", "ami", "acc", "silhouette", "dbi"] {
            if let Some(v) = r.get(key).and_then(|v| v.as_f64()) {
                println!("{key:<11} {v:.6}");
            }
        }
    }
    Ok(())
}
