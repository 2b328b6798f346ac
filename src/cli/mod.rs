//! Argument parsing and dispatch. Each subcommand lives in its own file and only turns flags into
//! library calls and library results into output.
use clap::{Args, Parser, Subcommand};

mod cluster;
mod data;
mod eval;
mod experiment;
#[cfg(feature = "torch")]
mod run;
mod tsne;

/// Semi-supervised deep clustering research: DeepCluster + PCK-means with label scenarios.
///
/// Typical session:
///   deepclust data fetch                      # MNIST into the data dir (verified by SHA-256)
///   deepclust run --labels 1%                 # one DeepCluster + PCK-means run
///   deepclust cluster --features F.npy --truth T.npy --algo pckmeans --labels 1%
///   deepclust experiment run paper && deepclust report runs/paper   # the paper's study
///
/// Exit codes: 0 success, 1 error while running, 2 bad usage (flags, config).
#[derive(Debug, Parser)]
#[command(name = "deepclust", version, about, long_about, verbatim_doc_comment)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand understands.
#[derive(Debug, Args)]
pub struct Global {
    /// Seed for every random choice (label sampling, initialisation, training) [default: 42, or
    /// the run config's].
    #[arg(long, global = true)]
    pub seed: Option<u64>,
    /// Worker threads for clustering, metrics and libtorch [default: all cores].
    #[arg(long, global = true, env = "DEEPCLUST_THREADS")]
    pub threads: Option<usize>,
    /// No progress bars; only results and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// More log output (-v info, -vv debug).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Get, verify and describe datasets.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Cluster a feature matrix (.npy) with k-means, PCK-means, COP-k-means or seeded k-means.
    Cluster(Box<cluster::ClusterArgs>),
    /// Score a predicted clustering against true labels (NMI, ARI, AMI, ACC, silhouette, DBI).
    Eval(eval::EvalArgs),
    /// Train DeepCluster (+ constraints) on a dataset: one run, checkpointed and resumable.
    #[cfg(feature = "torch")]
    Run(Box<run::RunArgs>),
    /// Run grids of runs (the paper's study or your own), show and list the built-in ones.
    #[command(subcommand)]
    Experiment(experiment::ExperimentCommand),
    /// Write REPORT.md, results.csv and figures (PNG + SVG) for an experiment folder.
    Report(experiment::ReportArgs),
    /// Embed a feature matrix in 2-D with t-SNE (Barnes-Hut) and draw it.
    Tsne(tsne::TsneArgs),
}

/// A mistake in how the command was called (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Applies the global options: logging, quiet mode, thread pool.
pub fn init(g: &Global) -> anyhow::Result<()> {
    let level = match g.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp(None)
        .init();
    deepclust::progress::set_quiet(g.quiet);
    if let Some(t) = g.threads {
        if t == 0 {
            anyhow::bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .map_err(|e| anyhow::anyhow!("cannot set up {t} threads: {e}"))?;
    }
    Ok(())
}

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Data(c) => data::run(c, &cli.global),
        Command::Cluster(a) => cluster::run(*a, &cli.global),
        Command::Eval(a) => eval::run(a, &cli.global),
        #[cfg(feature = "torch")]
        Command::Run(a) => run::run(*a, &cli.global),
        Command::Experiment(c) => experiment::run(c, &cli.global),
        Command::Report(a) => experiment::report(a, &cli.global),
        Command::Tsne(a) => tsne::run(a, &cli.global),
    }
}
