//! `deepclust experiment` and `deepclust report`
use super::{Global, UsageError};
use anyhow::Context;
use clap::{Args, Subcommand};
use deepclust::experiment::{self, ExperimentSpec};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Run every run of an experiment that is not finished yet (resumes interrupted ones).
    #[cfg(feature = "torch")]
    Run(RunArgs),
    /// Print a built-in experiment as TOML, to copy and edit.
    Show {
        /// Built-in experiment name (see `deepclust experiment list`).
        name: String,
    },
    /// List the built-in experiments and their number of runs.
    List,
}

/// Run an experiment: every study × condition × seed, each in its own run folder.
///
/// A rerun skips finished runs and resumes interrupted ones from their checkpoints; a run that
/// fails is recorded (its folder's error.txt) and the others go on (exit code 1 at the end).
///
/// Examples:
///   deepclust experiment run smoke --out runs/smoke && deepclust report runs/smoke
///   deepclust experiment run paper --dry-run
///   deepclust experiment run my-grid.toml --seeds 0,1,2 --jobs 2
#[cfg(feature = "torch")]
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RunArgs {
    /// A built-in experiment (`paper`, `paper-fixed`, `smoke`) or a TOML file.
    pub experiment: String,
    /// Seeds for every study, replacing the file's (e.g. `0,1,2`).
    #[arg(long, value_delimiter = ',')]
    pub seeds: Option<Vec<u64>>,
    /// Experiment folder [default: runs/<name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Runs at a time; the threads are shared between them.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// List the runs and their status, run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Start at most this many runs, then stop (the rest stay pending for the next call).
    #[arg(long)]
    pub max_runs: Option<usize>,
    /// Where datasets live.
    #[arg(long, env = "DEEPCLUST_DATA")]
    pub data_dir: Option<PathBuf>,
}

/// Write REPORT.md, results.csv and figures (PNG + SVG) for an experiment folder.
///
/// Tables per study (mean ± std over seeds, the paper's values beside ours), NMI-per-epoch figures,
/// the literature comparison and t-SNE maps of the runs the experiment names. Works on unfinished
/// experiments too: missing runs are listed. A NOTES.md in the folder is appended.
///
/// Example:
///   deepclust report runs/paper
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ReportArgs {
    /// The experiment folder.
    pub dir: PathBuf,
    /// Skip the t-SNE maps.
    #[arg(long)]
    pub no_tsne: bool,
    /// Points per t-SNE map.
    #[arg(long, default_value_t = 3000)]
    pub tsne_points: usize,
}

/// Loads a built-in experiment by name or a file by path.
fn load_spec(what: &str) -> anyhow::Result<ExperimentSpec> {
    let p = Path::new(what);
    if p.extension().is_some_and(|e| e == "toml") || p.is_file() {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("reading the experiment file {}", p.display()))?;
        return ExperimentSpec::from_toml(&text, &p.display().to_string())
            .map_err(|e| UsageError(e.to_string()).into());
    }
    ExperimentSpec::preset(what).map_err(|e| UsageError(e.to_string()).into())
}

pub fn run(c: ExperimentCommand, #[allow(unused_variables)] g: &Global) -> anyhow::Result<()> {
    match c {
        ExperimentCommand::Show { name } => {
            let text = ExperimentSpec::preset_text(&name).map_err(|e| UsageError(e.to_string()))?;
            print!("{text}");
            Ok(())
        }
        ExperimentCommand::List => {
            for (name, _) in experiment::PRESETS {
                let s = ExperimentSpec::preset(name)?;
                let n = experiment::plan(&s)?.len();
                println!("{name:<12} {n:>3} runs  {}", s.description);
            }
            Ok(())
        }
        #[cfg(feature = "torch")]
        ExperimentCommand::Run(a) => run_experiment(a, g),
    }
}

#[cfg(feature = "torch")]
fn run_experiment(a: RunArgs, g: &Global) -> anyhow::Result<()> {
    let mut spec = load_spec(&a.experiment)?;
    if let Some(s) = a.seeds.clone() {
        if s.is_empty() {
            return Err(UsageError("--seeds needs at least one seed".into()).into());
        }
        spec = spec.with_seeds(s);
    }
    if g.seed.is_some() {
        return Err(UsageError(
            "--seed does not apply to experiments; use --seeds (one or more, comma separated)"
                .into(),
        )
        .into());
    }
    if a.jobs == 0 {
        return Err(UsageError("--jobs must be at least 1".into()).into());
    }
    let plan = experiment::plan(&spec).map_err(|e| UsageError(e.to_string()))?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(&spec.name));
    if a.dry_run {
        println!(
            "experiment `{}`: {} runs in {}",
            spec.name,
            plan.len(),
            out.display()
        );
        for r in &plan {
            let status = experiment::run_status(&out, r);
            let drift = experiment::config_drift(&out, r);
            let note = if drift.is_empty() {
                String::new()
            } else {
                format!(" (saved config differs: {})", drift.join(", "))
            };
            println!(
                "  {:<48} {:<40} {status}{note}",
                r.rel_dir.display(),
                r.label(),
            );
        }
        return Ok(());
    }
    // Finished runs are kept whatever made them: say which were made with other settings.
    for r in &plan {
        if experiment::run_status(&out, r) == experiment::RunStatus::Finished {
            let drift = experiment::config_drift(&out, r);
            if !drift.is_empty() {
                eprintln!(
                    "note: {} is finished with other settings ({}); kept — delete its folder to redo it",
                    r.label(),
                    drift.join(", ")
                );
            }
        }
    }
    let opts = experiment::ExperimentOptions {
        out: out.clone(),
        data_dir: a
            .data_dir
            .clone()
            .unwrap_or_else(deepclust::data::default_data_dir),
        jobs: a.jobs,
        threads: g.threads,
        max_runs: a.max_runs,
    };
    let o = experiment::run_experiment(&spec, &plan, &opts)
        .with_context(|| format!("experiment {}", out.display()))?;
    println!(
        "{}: {} runs finished now, {} already finished, {} failed{}",
        out.display(),
        o.finished,
        o.skipped,
        o.failed.len(),
        if o.left > 0 {
            format!(", {} left for the next call", o.left)
        } else {
            String::new()
        }
    );
    for (label, e) in &o.failed {
        eprintln!("failed: {label}: {e}");
    }
    if !o.failed.is_empty() {
        anyhow::bail!(
            "{} of {} runs failed (see their error.txt); rerun to retry them",
            o.failed.len(),
            plan.len()
        );
    }
    println!("report: deepclust report {}", out.display());
    Ok(())
}

pub fn report(a: ReportArgs, _g: &Global) -> anyhow::Result<()> {
    let o = experiment::report(
        &a.dir,
        &experiment::ReportOptions {
            tsne: !a.no_tsne,
            tsne_points: a.tsne_points,
        },
    )?;
    println!(
        "{}: {} runs finished, {} not; {} figures; {}",
        o.report.display(),
        o.finished,
        o.unfinished,
        o.figures.len(),
        o.csv.display()
    );
    Ok(())
}
