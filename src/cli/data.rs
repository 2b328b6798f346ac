//! `deepclust data …`: fetch, verify, describe, list and subset datasets.
use super::{Global, UsageError};
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use deepclust::data::{
    self, default_data_dir, registry, DatasetSpec, FetchOptions, FetchOutcome, FileKind, FileState,
    Split,
};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download (or import with --from) a dataset into the data folder, verifying SHA-256s
    ///
    /// Each file is streamed to a temporary file while the SHA-256 of its uncompressed bytes is
    /// computed, and renamed into place only if it matches the registry. Mirrors are tried in
    /// order; a failing one (unreachable, HTTP error, corrupt data) is reported and the next is
    /// tried. Files already present and valid are skipped.
    ///
    /// Examples:
    ///   deepclust data fetch                                   # MNIST from its mirrors
    ///   deepclust data fetch --from /media/usb/mnist           # import a local copy
    ///   deepclust data fetch --dataset fashion-mnist --mirror https://example.org/fmnist/
    #[command(verbatim_doc_comment)]
    Fetch(FetchArgs),
    /// Re-check the SHA-256 of every file of a dataset (exit code 1 on any problem).
    Verify(DatasetArgs),
    /// Describe a dataset: shapes, class counts per split, pixel mean and standard deviation.
    Info(DatasetArgs),
    /// List the known datasets and whether they are in the data folder.
    List(DirArgs),
    /// Write a class-balanced subset of a dataset as gzipped IDX files (regenerates fixtures)
    ///
    /// The subset is deterministic given --seed: the same command gives byte-identical files.
    ///
    /// Example (the test fixture, see fixtures/README.md):
    ///   deepclust data subset --dataset mnist --train 2000 --test 500 --out fixtures/mnist-mini
    #[command(verbatim_doc_comment)]
    Subset(SubsetArgs),
}

/// The data folder option.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// Data folder: dataset NAME lives in DIR/NAME/ as IDX files, gzipped or not.
    #[arg(long, value_name = "DIR", env = "DEEPCLUST_DATA", default_value_os_t = default_data_dir())]
    pub data_dir: PathBuf,
}

/// A dataset and the data folder.
#[derive(Debug, Args)]
pub struct DatasetArgs {
    /// Dataset name (see `deepclust data list`).
    #[arg(long, value_name = "NAME", default_value = "mnist", value_parser = parse_dataset)]
    pub dataset: &'static DatasetSpec,
    #[command(flatten)]
    pub dir: DirArgs,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub target: DatasetArgs,
    /// Base URL to download from instead of the registered mirrors (repeat to try several in
    /// order); files are fetched as URL/FILE.gz.
    #[arg(long = "mirror", value_name = "URL")]
    pub mirrors: Vec<String>,
    /// Import from a local folder (holding the files, gzipped or raw, or a NAME/ sub-folder with
    /// them) instead of downloading.
    #[arg(long, value_name = "DIR", conflicts_with = "mirrors")]
    pub from: Option<PathBuf>,
    /// Fetch again even the files that are already present and valid.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SubsetArgs {
    #[command(flatten)]
    pub source: DatasetArgs,
    /// Number of training images to keep (classes balanced).
    #[arg(long, value_name = "N")]
    pub train: usize,
    /// Number of test images to keep (classes balanced).
    #[arg(long, value_name = "N")]
    pub test: usize,
    /// Output folder; receives the dataset's four files as .gz and SHA256SUMS.uncompressed.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

fn parse_dataset(name: &str) -> Result<&'static DatasetSpec, String> {
    registry::lookup(name).map_err(|e| e.to_string())
}

pub fn run(cmd: DataCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Fetch(a) => fetch(a),
        DataCommand::Verify(a) => verify(a),
        DataCommand::Info(a) => info(a),
        DataCommand::List(a) => list(a),
        DataCommand::Subset(a) => subset(a, g.seed.unwrap_or(42)),
    }
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

fn fetch(a: FetchArgs) -> anyhow::Result<()> {
    let spec = a.target.dataset;
    let data_dir = &a.target.dir.data_dir;
    let opts = FetchOptions {
        mirrors: (!a.mirrors.is_empty()).then_some(a.mirrors),
        from: a.from,
        force: a.force,
    };
    let report = data::fetch(spec, data_dir, &opts).with_context(|| {
        format!(
            "fetching dataset `{}` into {}",
            spec.name,
            data_dir.display()
        )
    })?;
    for f in &report.files {
        let mut what = match &f.outcome {
            FetchOutcome::AlreadyValid => "already present and valid".to_string(),
            FetchOutcome::Downloaded { url, bytes } => {
                format!("downloaded {} from {url}, verified", human_bytes(*bytes))
            }
            FetchOutcome::Imported { from, bytes } => {
                format!(
                    "imported {} from {}, verified",
                    human_bytes(*bytes),
                    from.display()
                )
            }
        };
        // Each failure was logged as a warning when it happened.
        match f.failed_attempts.len() {
            0 => {}
            1 => what.push_str(" (after 1 failed source)"),
            n => what.push_str(&format!(" (after {n} failed sources)")),
        }
        println!("{:<26} {what}", f.spec.file_name);
    }
    println!(
        "dataset `{}`: {} files verified in {}",
        report.dataset,
        report.files.len(),
        report.dir.display()
    );
    Ok(())
}

fn verify(a: DatasetArgs) -> anyhow::Result<()> {
    let spec = a.dataset;
    let data_dir = &a.dir.data_dir;
    let statuses = data::verify(spec, data_dir)
        .with_context(|| format!("verifying dataset `{}`", spec.name))?;
    let mut bad = 0;
    for s in &statuses {
        let path = s.path.as_ref().map_or_else(
            || format!("{}[.gz]", s.spec.file_name),
            |p| p.display().to_string(),
        );
        match &s.state {
            FileState::Ok => println!("OK        {path}"),
            FileState::Missing => {
                bad += 1;
                println!("MISSING   {path}");
            }
            FileState::Mismatch { found } => {
                bad += 1;
                println!(
                    "MISMATCH  {path}: SHA-256 of the uncompressed bytes is {found}, expected {}",
                    s.spec.sha256
                );
            }
            FileState::Unreadable { reason } => {
                bad += 1;
                println!("UNREADABLE {reason}");
            }
        }
    }
    if bad > 0 {
        bail!(
            "{bad} of {} files of dataset `{}` failed verification; run `deepclust data fetch --dataset {} --force --data-dir {}`",
            statuses.len(),
            spec.name,
            spec.name,
            data_dir.display()
        );
    }
    println!(
        "dataset `{}`: all {} files verified",
        spec.name,
        statuses.len()
    );
    Ok(())
}

fn info(a: DatasetArgs) -> anyhow::Result<()> {
    let spec = a.dataset;
    let data_dir = &a.dir.data_dir;
    let mut splits = Vec::new();
    for split in Split::ALL {
        let ds = data::load_spec(spec, split, data_dir)
            .with_context(|| format!("loading the {split} split of dataset `{}`", spec.name))?;
        splits.push(ds);
    }
    // Where it was read from (the first search folder holding the split's files).
    let from = registry::locate(spec, data_dir, spec.files.iter())
        .ok()
        .and_then(|p| p.first().and_then(|p| p.parent()).map(Path::to_path_buf));
    println!("dataset   {} — {}", spec.name, spec.description);
    if let Some(dir) = from {
        println!("folder    {}", dir.display());
    }
    println!("classes   {}", spec.n_classes);
    println!();
    println!("split    images  shape   pixel mean  pixel std");
    for ds in &splits {
        let (n, h, w) = ds.images.as_ref().map_or((0, 0, 0), |im| im.dim());
        let (mean, std) = ds.pixel_mean_std().unwrap_or((f64::NAN, f64::NAN));
        println!(
            "{:<8} {n:>6}  {:<6}  {mean:>10.4}  {std:>9.4}",
            ds.split.to_string(),
            format!("{h}×{w}")
        );
    }
    println!();
    println!("class counts");
    let counts: Vec<Vec<usize>> = splits
        .iter()
        .map(|d| d.class_counts().unwrap_or_default())
        .collect();
    let header: String = splits.iter().map(|d| format!("  {:>6}", d.split)).collect();
    println!("class  {:<12}{header}", "name");
    for c in 0..spec.n_classes {
        let name = spec.class_names.get(c).copied().unwrap_or("");
        let row: String = counts
            .iter()
            .map(|cs| format!("  {:>6}", cs.get(c).copied().unwrap_or(0)))
            .collect();
        println!("{c:>5}  {name:<12}{row}");
    }
    Ok(())
}

fn list(a: DirArgs) -> anyhow::Result<()> {
    println!("{:<14} {:>7}  {:<6} found in", "name", "classes", "shape");
    for spec in registry::all() {
        let found = match registry::locate(spec, &a.data_dir, spec.files.iter()) {
            Ok(paths) => paths
                .first()
                .and_then(|p| p.parent())
                .map_or_else(String::new, |d| d.display().to_string()),
            Err(_) => format!("(missing: {})", spec.fetch_command(&a.data_dir)),
        };
        println!(
            "{:<14} {:>7}  {:<6} {found}",
            spec.name,
            spec.n_classes,
            format!("{}×{}", spec.image_shape[0], spec.image_shape[1]),
        );
        println!("{:<14} {}", "", spec.description);
    }
    println!(
        "\n(data folder {}; `deepclust data verify --dataset NAME` checks SHA-256s)",
        a.data_dir.display()
    );
    Ok(())
}

fn subset(a: SubsetArgs, seed: u64) -> anyhow::Result<()> {
    let spec = a.source.dataset;
    let data_dir = &a.source.dir.data_dir;
    // Load and check everything before writing anything.
    let mut subsets = Vec::new();
    for (split, n) in [(Split::Train, a.train), (Split::Test, a.test)] {
        let ds = data::load_spec(spec, split, data_dir)
            .with_context(|| format!("loading the {split} split of dataset `{}`", spec.name))?;
        if n > ds.len() {
            return Err(UsageError(format!(
                "--{split} {n}: the {split} split of `{}` has only {} images",
                spec.name,
                ds.len()
            ))
            .into());
        }
        subsets.push(ds.balanced_prefix(n, seed));
    }
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("creating output folder {}", a.out.display()))?;
    let mut sums = String::new();
    for sub in &subsets {
        let split = sub.split;
        for kind in [FileKind::Images, FileKind::Labels] {
            let file = spec
                .file(split, kind)
                .with_context(|| format!("dataset `{}` has no {split} {kind} file", spec.name))?;
            let path = a.out.join(format!("{}.gz", file.file_name));
            match kind {
                FileKind::Images => {
                    let images = sub.images.as_ref().context("the dataset has no images")?;
                    data::idx::write_images(&path, images.view())?;
                }
                FileKind::Labels => {
                    let labels = sub.labels.as_ref().context("the dataset has no labels")?;
                    let bytes = labels
                        .iter()
                        .map(|&l| u8::try_from(l))
                        .collect::<Result<Vec<u8>, _>>()
                        .context("a label does not fit in a byte")?;
                    data::idx::write_labels(&path, &bytes)?;
                }
            }
            let sha = data::sha256_uncompressed(&path)?;
            sums.push_str(&format!("{sha}  {}\n", file.file_name));
        }
        let counts = sub.class_counts().unwrap_or_default();
        println!("{split}: {} images, class counts {counts:?}", sub.len());
    }
    let sums_path = a.out.join("SHA256SUMS.uncompressed");
    std::fs::write(&sums_path, &sums)
        .with_context(|| format!("writing {}", sums_path.display()))?;
    println!(
        "wrote {} (SHA-256 of the uncompressed files):",
        a.out.display()
    );
    print!("{sums}");
    Ok(())
}
