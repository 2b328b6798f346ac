//! `deepclust run`
use super::{Global, UsageError};
use anyhow::Context;
use clap::Args;
use deepclust::labels::LabelAmount;
use deepclust::pipeline::{self, RunConfig, RunOptions};
use std::path::PathBuf;

/// Train DeepCluster (+ constraints) on a dataset.
///
/// The config is built in this order, later steps overriding earlier ones: the preset, the
/// --config file, the shorthand flags (--labels, --noise, …), then each --set KEY=VALUE.
/// The fully resolved config is written to OUT/config.toml; `--print-config` shows it and exits.
///
/// Examples:
///   deepclust run --labels 1%
///   deepclust run --preset paper --labels 0.1% --out runs/paper-0.1
///   deepclust run --labels 1% --noise 0.2 --set train.reassign=2 --set cluster.max_iter=10
///   deepclust run --schedule 0,0,0.1%,0.1%,0.2%,0.2%,0.5%,0.5%,1%,1%
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RunArgs {
    /// Starting point: `default` (deepclust's corrected settings), `paper` (the original study as
    /// it was run) or `smoke` (2 epochs on the bundled fixture).
    #[arg(long, default_value = "default")]
    pub preset: String,
    /// A TOML run config applied on top of the preset (see `--print-config` for every key).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Dataset name (`deepclust data list`).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Labelled points: `1%`, `0.01` (fraction) or `600` (count).
    #[arg(long, value_name = "AMOUNT")]
    pub labels: Option<String>,
    /// Fraction of labelled points given a wrong class, in [0, 1].
    #[arg(long)]
    pub noise: Option<f64>,
    /// Labels only from these classes: `all`, `0,1,7` or `random:M`.
    #[arg(long)]
    pub classes: Option<String>,
    /// Superclass labels: `1,4,7,9|0,2,3,5,6,8`, `size:S` or `count:G` (cannot-links only).
    #[arg(long)]
    pub groups: Option<String>,
    /// Labelled fraction per epoch, e.g. `0,0,0.1%,0.1%,0.2%,0.2%,0.5%,0.5%,1%,1%`.
    #[arg(long)]
    pub schedule: Option<String>,
    /// Clustering algorithm: kmeans, pckmeans, copkmeans, seeded.
    #[arg(long)]
    pub algo: Option<String>,
    /// Number of clusters.
    #[arg(long)]
    pub k: Option<usize>,
    /// Training epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Train on a class-balanced subset of this many images (0 = all).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Set any config key: `--set labels.sampling=stratified` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Run directory [default: runs/<algo>-<labels>-seed<seed>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the unfinished run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Overwrite whatever is in --out.
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Where datasets live.
    #[arg(long, env = "DEEPCLUST_DATA")]
    pub data_dir: Option<PathBuf>,
    /// Print the resolved config as TOML and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Stop after this many training epochs, leaving the run resumable.
    #[arg(long, hide = true)]
    pub stop_after: Option<usize>,
}

fn usage(e: impl std::fmt::Display) -> anyhow::Error {
    UsageError(e.to_string()).into()
}

/// Builds the run config from the preset, file, shorthands and `--set`s.
pub fn resolve_config(a: &RunArgs, g: &Global) -> anyhow::Result<RunConfig> {
    let mut cfg = RunConfig::preset(&a.preset).map_err(usage)?;
    if let Some(path) = &a.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the run config {}", path.display()))?;
        cfg = cfg
            .merged_with_toml(&text, &path.display().to_string())
            .map_err(usage)?;
    }
    let mut sets: Vec<(String, String)> = Vec::new();
    let quoted = |s: &str| format!("{:?}", s);
    if let Some(v) = &a.dataset {
        sets.push(("data.name".into(), quoted(v)));
    }
    if let Some(v) = &a.labels {
        match v.parse::<LabelAmount>().map_err(usage)? {
            LabelAmount::Fraction(f) => {
                sets.push(("labels.fraction".into(), format!("{f:?}")));
            }
            LabelAmount::Count(c) => sets.push(("labels.count".into(), c.to_string())),
        }
    }
    if let Some(v) = a.noise {
        sets.push(("labels.noise".into(), format!("{v:?}")));
    }
    if let Some(v) = &a.classes {
        sets.push(("labels.classes".into(), quoted(v)));
    }
    if let Some(v) = &a.groups {
        sets.push(("labels.groups".into(), quoted(v)));
    }
    if let Some(v) = &a.schedule {
        sets.push(("schedule".into(), quoted(v)));
    }
    if let Some(v) = &a.algo {
        // A different algorithm starts from its own defaults with the same k.
        let k = a.k.unwrap_or(cfg.k());
        cfg = cfg
            .merged_with_toml(
                &format!("[cluster]\nalgo = {}\nk = {k}\n", quoted(v)),
                "--algo",
            )
            .map_err(usage)?;
    }
    if let Some(v) = a.k {
        sets.push(("cluster.k".into(), v.to_string()));
    }
    if let Some(v) = a.epochs {
        sets.push(("epochs".into(), v.to_string()));
    }
    if let Some(v) = a.limit {
        sets.push(("data.limit".into(), v.to_string()));
    }
    if let Some(s) = g.seed {
        sets.push(("seed".into(), s.to_string()));
    }
    for s in &a.set {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| usage(format!("--set expects KEY=VALUE, found `{s}`")))?;
        sets.push((k.trim().into(), v.trim().into()));
    }
    for (k, v) in sets {
        cfg = cfg.with_override(&k, &v).map_err(usage)?;
    }
    Ok(cfg)
}

fn default_out(cfg: &RunConfig) -> PathBuf {
    let labels = match (&cfg.schedule, cfg.labels.count) {
        (Some(_), _) => "schedule".to_string(),
        (None, Some(c)) => format!("{c}labels"),
        (None, None) => format!("{}pct", cfg.labels.fraction * 100.0),
    };
    PathBuf::from("runs").join(format!("{}-{labels}-seed{}", cfg.cluster.name(), cfg.seed))
}

pub fn run(a: RunArgs, g: &Global) -> anyhow::Result<()> {
    let cfg = resolve_config(&a, g)?;
    if a.print_config {
        print!("{}", cfg.to_toml());
        return Ok(());
    }
    if let Some(t) = g.threads {
        deepclust::model::set_threads(t);
    }
    let out = a.out.clone().unwrap_or_else(|| default_out(&cfg));
    let opts = RunOptions {
        out: out.clone(),
        data_dir: a
            .data_dir
            .clone()
            .unwrap_or_else(deepclust::data::default_data_dir),
        resume: a.resume,
        force: a.force,
        stop_after: a.stop_after,
        progress: None,
    };
    let summary = pipeline::run(&cfg, &opts).with_context(|| format!("run {}", out.display()))?;
    match summary {
        Some(s) => {
            let f = &s.final_record;
            println!(
                "{}: NMI {:.4} ARI {:.4} ACC {:.4} after {} epochs in {:.1}s",
                out.display(),
                f.nmi,
                f.ari,
                f.acc,
                s.epochs,
                s.seconds
            );
        }
        None => println!(
            "{}: stopped early as asked; continue with --resume",
            out.display()
        ),
    }
    Ok(())
}
