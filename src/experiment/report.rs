//! `REPORT.md`, `results.csv` and figures from an experiment folder.
//!
//! Everything is read back from the run folders (`metrics.jsonl`, `summary.json`, the final
//! arrays), so a report can be redrawn at any time, also while runs are missing: missing and
//! failed runs are listed, never silently averaged over.
use super::plan::{plan, run_status, PlannedRun, RunStatus};
use super::spec::{CompareEpoch, ExperimentSpec, Study};
use super::{ExperimentError, SPEC_FILE};
use crate::pipeline::{atomic_write, EpochRecord, RunDir, Summary};
use crate::viz::plot::{self, ChartText, Series};
use crate::viz::tsne::{self, TsneParams};
use ndarray::Array2;
use rand::seq::index::sample;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How to draw the report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Draw the t-SNE maps the spec asks for.
    pub tsne: bool,
    /// Points per t-SNE map (a seeded random sample; the original used 3,000).
    pub tsne_points: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            tsne: true,
            tsne_points: 3000,
        }
    }
}

/// What a report wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOutcome {
    /// `REPORT.md`.
    pub report: PathBuf,
    /// `results.csv`.
    pub csv: PathBuf,
    /// Figures written (PNG and SVG).
    pub figures: Vec<PathBuf>,
    /// Finished runs.
    pub finished: usize,
    /// Planned runs that are not finished (pending, partial or failed).
    pub unfinished: usize,
}

/// Literature values on MNIST (NMI, ARI), as in the paper's Table 3 (Ren et al., 2019).
pub const LITERATURE: &[(&str, f64, f64)] = &[
    ("k-means (raw pixels)", 0.50, 0.37),
    ("PCK-means (raw pixels)", 0.50, 0.38),
    ("AE + k-means", 0.72, 0.65),
    ("AE + k-means, constraints", 0.73, 0.67),
    ("DEC", 0.82, 0.77),
    ("IDEC", 0.78, 0.73),
    ("SDEC (pairwise constraints)", 0.83, 0.79),
    ("DeepCluster (the paper)", 0.40, 0.26),
    ("DeepCluster + PCK-means, 1 % (the paper)", 0.73, 0.69),
];

/// One run as read back from disk.
struct RunResult<'a> {
    run: &'a PlannedRun,
    status: RunStatus,
    records: Vec<EpochRecord>,
    summary: Option<Summary>,
}

impl RunResult<'_> {
    /// The record the tables compare (see [`CompareEpoch`]); only for finished runs.
    fn compared(&self, how: CompareEpoch) -> Option<&EpochRecord> {
        self.summary.as_ref()?;
        match how {
            CompareEpoch::Final => self.records.iter().rev().find(|r| r.is_final),
            CompareEpoch::LastTrained => {
                let last = self.run.config.epochs.checked_sub(1)?;
                self.records.iter().find(|r| !r.is_final && r.epoch == last)
            }
        }
    }
}

/// Mean and sample standard deviation (n − 1); `None` when empty.
fn mean_std(v: &[f64]) -> Option<(f64, Option<f64>)> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let s =
        (v.len() > 1).then(|| (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    Some((m, s))
}

fn fmt_ms(v: &[f64]) -> String {
    match mean_std(v) {
        None => "–".into(),
        Some((m, None)) => format!("{m:.3}"),
        Some((m, Some(s))) => format!("{m:.3} ± {s:.3}"),
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |x| format!("{x:.3}"))
}

/// Reads the experiment in `root` and writes `REPORT.md`, `results.csv` and `figures/`.
pub fn report(root: &Path, opts: &ReportOptions) -> Result<ReportOutcome, ExperimentError> {
    let spec_path = root.join(SPEC_FILE);
    if !spec_path.is_file() {
        return Err(ExperimentError::NotAnExperiment(root.to_path_buf()));
    }
    let text =
        std::fs::read_to_string(&spec_path).map_err(|e| ExperimentError::io(&spec_path, e))?;
    let spec = ExperimentSpec::from_toml(&text, &spec_path.display().to_string())?;
    let planned = plan(&spec)?;
    let results: Vec<RunResult> = planned
        .iter()
        .map(|r| read_run(root, r))
        .collect::<Result<_, _>>()?;

    let fig_dir = root.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|e| ExperimentError::io(&fig_dir, e))?;
    let mut figures = Vec::new();

    let csv = root.join("results.csv");
    write_csv(&csv, &results)?;

    let mut md = String::new();
    let finished = results.iter().filter(|r| r.summary.is_some()).count();
    let total_secs: f64 = results
        .iter()
        .filter_map(|r| r.summary.as_ref().map(|s| s.seconds))
        .sum();
    let backend = results
        .iter()
        .find_map(|r| r.summary.as_ref().map(|s| s.backend.clone()))
        .unwrap_or_else(|| "–".into());
    let _ = writeln!(md, "# Experiment `{}`\n", spec.name);
    if !spec.description.is_empty() {
        let _ = writeln!(md, "{}\n", spec.description);
    }
    let _ = writeln!(
        md,
        "- runs: {finished} of {} finished; compute time of the finished runs: {:.1} min\n\
         - deepclust {}, backend: {backend}\n\
         - tables show the clustering {} as mean ± sample std over seeds; `paper` is the value the \
         paper reported; silhouette is on the raw 64-d features, as in the paper\n\
         - made by `deepclust report {}`; every number comes from the run folders \
         (`results.csv` has one row per run and epoch)\n",
        planned.len(),
        total_secs / 60.0,
        crate::VERSION,
        match spec.compare {
            CompareEpoch::Final => "after the last training epoch",
            CompareEpoch::LastTrained =>
                "made at the start of the last training epoch (what the original reported)",
        },
        root.display(),
    );

    let baseline_series = spec
        .studies
        .iter()
        .position(|s| s.name == "baseline")
        .and_then(|bi| {
            let rs: Vec<&RunResult> = results.iter().filter(|r| r.run.study_index == bi).collect();
            epoch_series("baseline", &rs)
        });

    if spec.studies.len() > 1 {
        overview(&mut md, &spec, &results);
    }

    let mut deviations = Vec::new();
    for (si, study) in spec.studies.iter().enumerate() {
        let rs: Vec<&RunResult> = results.iter().filter(|r| r.run.study_index == si).collect();
        study_section(&mut md, &spec, study, &rs, &mut deviations);
        // Figure: NMI per epoch, one line per condition, seed band.
        let mut series: Vec<Series> = Vec::new();
        let conds = study.conditions().expect("checked when parsed");
        for (ci, c) in conds.iter().enumerate() {
            let crs: Vec<&RunResult> = rs
                .iter()
                .copied()
                .filter(|r| r.run.condition_index == ci)
                .collect();
            if let Some(s) = epoch_series(&c.name, &crs) {
                series.push(s);
            }
        }
        if study.name != "baseline" {
            if let Some(b) = &baseline_series {
                series.push(b.clone().dashed());
            }
        }
        if !series.is_empty() {
            let stem = fig_dir.join(format!("{}-nmi", study.name));
            let text = ChartText {
                title: study.title.clone().unwrap_or_else(|| study.name.clone()),
                x_label: "epoch".into(),
                y_label: "NMI".into(),
            };
            let written = plot::line_chart(&stem, &text, &series, Some((0.0, 1.0)))
                .map_err(|e| figure_err(&stem, e))?;
            let _ = writeln!(
                md,
                "![NMI per epoch: {}](figures/{}-nmi.png)\n",
                study.name, study.name
            );
            figures.extend(written);
        }
    }

    table3(&mut md, &spec, &results);

    if opts.tsne && !spec.tsne.is_empty() {
        let _ = writeln!(
            md,
            "## t-SNE maps (Figures 1–2)\n\n{} random points of the clustered features after the last \
             epoch; left coloured by cluster (each in the colour of the class it is matched to, as for ACC), right by true class.\n",
            opts.tsne_points
        );
        for sel in &spec.tsne {
            let (si, ci) = spec.find_selector(sel).expect("checked when parsed");
            let Some(r) = results.iter().find(|r| {
                r.run.study_index == si && r.run.condition_index == ci && r.summary.is_some()
            }) else {
                let _ = writeln!(md, "- `{sel}`: no finished run yet\n");
                continue;
            };
            let stem = fig_dir.join(format!("tsne-{}", slug_of(sel)));
            let run_dir = RunDir::new(root.join(&r.run.rel_dir));
            let drawn = stem.with_extension("png");
            let written = if !run_dir.file("embedding-final.npy").is_file() && drawn.is_file() {
                // An exported folder keeps the maps but not the arrays they were drawn from.
                log::info!(
                    "{}: the run's arrays are not here; keeping the map drawn before",
                    drawn.display()
                );
                vec![drawn, stem.with_extension("svg")]
                    .into_iter()
                    .filter(|p| p.is_file())
                    .collect()
            } else {
                tsne_figure(root, r.run, &stem, opts)?
            };
            let _ = writeln!(
                md,
                "![t-SNE of {}](figures/{}.png)\n",
                r.run.label(),
                stem.file_name().expect("has a name").to_string_lossy()
            );
            figures.extend(written);
        }
    }

    if !deviations.is_empty() {
        let _ = writeln!(
            md,
            "## Where we differ from the paper by more than 0.05 NMI\n\n\
             The paper's baseline spread over seeds was 0.36–0.46 NMI, so single-seed differences \
             below about 0.1 can be noise. See NOTES.md below (if present) for explanations.\n"
        );
        for d in &deviations {
            let _ = writeln!(md, "- {d}");
        }
        md.push('\n');
    }

    let unfinished: Vec<&RunResult> = results.iter().filter(|r| r.summary.is_none()).collect();
    if !unfinished.is_empty() {
        let _ = writeln!(md, "## Runs not finished\n");
        for r in &unfinished {
            let _ = writeln!(
                md,
                "- `{}` ({}): {}",
                r.run.rel_dir.display(),
                r.run.label(),
                r.status
            );
        }
        md.push('\n');
    }

    let notes = root.join("NOTES.md");
    if let Ok(n) = std::fs::read_to_string(&notes) {
        let _ = writeln!(md, "## Notes\n\n{}", n.trim());
    }

    let report_path = root.join("REPORT.md");
    atomic_write(&report_path, md.as_bytes()).map_err(|e| ExperimentError::io(&report_path, e))?;
    Ok(ReportOutcome {
        report: report_path,
        csv,
        figures,
        finished,
        unfinished: unfinished.len(),
    })
}

fn figure_err(path: &Path, e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Figure {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn slug_of(sel: &str) -> String {
    super::spec::slugify(&sel.replace('/', "-"))
}

fn read_run<'a>(root: &Path, run: &'a PlannedRun) -> Result<RunResult<'a>, ExperimentError> {
    let dir = RunDir::new(root.join(&run.rel_dir));
    let status = run_status(root, run);
    let lines = dir
        .read_metrics_lines(None)
        .map_err(|e| ExperimentError::io(dir.metrics(), e))?;
    let records = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str::<EpochRecord>(l)
                .map_err(|e| ExperimentError::io(dir.metrics(), format!("line {}: {e}", i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let summary = if status == RunStatus::Finished {
        Some(
            crate::pipeline::read_json::<Summary>(&dir.summary())
                .map_err(|e| ExperimentError::io(dir.summary(), e))?,
        )
    } else {
        None
    };
    Ok(RunResult {
        run,
        status,
        records,
        summary,
    })
}

/// Mean NMI per epoch over the runs (finished or not), with a min–max band over seeds.
fn epoch_series(name: &str, runs: &[&RunResult]) -> Option<Series> {
    let max_len = runs.iter().map(|r| r.records.len()).max()?;
    if max_len == 0 {
        return None;
    }
    let (mut x, mut y, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
    for e in 0..max_len {
        let v: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.records.get(e).map(|rec| rec.nmi))
            .collect();
        if v.is_empty() {
            continue;
        }
        x.push(e as f64);
        y.push(v.iter().sum::<f64>() / v.len() as f64);
        lo.push(v.iter().copied().fold(f64::INFINITY, f64::min));
        hi.push(v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    let several = runs.iter().filter(|r| !r.records.is_empty()).count() > 1;
    let label = if several {
        format!("{name} (mean, min–max of {} seeds)", runs.len())
    } else {
        name.to_string()
    };
    let s = Series::new(label, x, y);
    Some(if several { s.with_band(lo, hi) } else { s })
}

/// The compared records of one condition of a study, column by column.
struct CondStats {
    finished: usize,
    planned: usize,
    nmi: Vec<f64>,
    ari: Vec<f64>,
    /// On the raw 64-d features, as the paper.
    silhouette: Vec<f64>,
    acc: Vec<f64>,
    minutes: Vec<f64>,
    test_nmi: Vec<f64>,
    test_ari: Vec<f64>,
    test_acc: Vec<f64>,
}

impl CondStats {
    /// `runs` are the runs of one study; `ci` the condition's index in it.
    fn of(spec: &ExperimentSpec, runs: &[&RunResult], ci: usize) -> Self {
        let crs: Vec<&&RunResult> = runs
            .iter()
            .filter(|r| r.run.condition_index == ci)
            .collect();
        let recs: Vec<&EpochRecord> = crs
            .iter()
            .filter_map(|r| r.compared(spec.compare))
            .collect();
        let col = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Vec<f64> {
            recs.iter().filter_map(|r| f(r)).collect()
        };
        CondStats {
            finished: recs.len(),
            planned: crs.len(),
            nmi: col(&|r| Some(r.nmi)),
            ari: col(&|r| Some(r.ari)),
            silhouette: col(&|r| r.silhouette_raw),
            acc: col(&|r| Some(r.acc)),
            minutes: crs
                .iter()
                .filter_map(|r| r.summary.as_ref().map(|s| s.seconds / 60.0))
                .collect(),
            test_nmi: col(&|r| r.test.as_ref().map(|t| t.nmi)),
            test_ari: col(&|r| r.test.as_ref().map(|t| t.ari)),
            test_acc: col(&|r| r.test.as_ref().map(|t| t.acc)),
        }
    }

    fn runs_text(&self) -> String {
        format!("{}/{}", self.finished, self.planned)
    }

    /// Mean wall time of a run in minutes.
    fn minutes_text(&self) -> String {
        mean_std(&self.minutes).map_or("–".into(), |(m, _)| format!("{m:.1}"))
    }
}

/// One table of every condition of every study (for experiments with several studies, e.g. an
/// ablation where each study is one lever).
fn overview(md: &mut String, spec: &ExperimentSpec, results: &[RunResult]) {
    let _ = writeln!(
        md,
        "## All conditions\n\n\
         | study | condition | runs | NMI | ARI | ACC | silhouette | test NMI | test ARI | test ACC | minutes |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (si, study) in spec.studies.iter().enumerate() {
        let rs: Vec<&RunResult> = results.iter().filter(|r| r.run.study_index == si).collect();
        for (ci, c) in study
            .conditions()
            .expect("checked when parsed")
            .iter()
            .enumerate()
        {
            let st = CondStats::of(spec, &rs, ci);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                study.name,
                c.name,
                st.runs_text(),
                fmt_ms(&st.nmi),
                fmt_ms(&st.ari),
                fmt_ms(&st.acc),
                fmt_ms(&st.silhouette),
                fmt_ms(&st.test_nmi),
                fmt_ms(&st.test_ari),
                fmt_ms(&st.test_acc),
                st.minutes_text()
            );
        }
    }
    md.push('\n');
}

fn study_section(
    md: &mut String,
    spec: &ExperimentSpec,
    study: &Study,
    runs: &[&RunResult],
    deviations: &mut Vec<String>,
) {
    let _ = writeln!(
        md,
        "## {}\n",
        study.title.clone().unwrap_or_else(|| study.name.clone())
    );
    let has_test = runs
        .iter()
        .any(|r| r.compared(spec.compare).is_some_and(|c| c.test.is_some()));
    let has_paper = !study.paper.is_empty();
    let mut header = vec!["condition", "runs", "NMI"];
    if has_paper {
        header.push("paper NMI");
    }
    header.push("ARI");
    if has_paper {
        header.push("paper ARI");
    }
    header.push("silhouette");
    if has_paper {
        header.push("paper sil.");
    }
    header.extend(["ACC", "minutes"]);
    if has_test {
        header.extend(["test NMI", "test ARI", "test ACC"]);
    }
    let _ = writeln!(md, "| {} |", header.join(" | "));
    let _ = writeln!(
        md,
        "|{}",
        header
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
            .collect::<String>()
    );
    for (ci, c) in study
        .conditions()
        .expect("checked when parsed")
        .iter()
        .enumerate()
    {
        let st = CondStats::of(spec, runs, ci);
        let nmi = &st.nmi;
        let paper = study.paper.iter().find(|p| p.condition == c.name);
        let mut row = vec![c.name.clone(), st.runs_text()];
        row.push(fmt_ms(nmi));
        if has_paper {
            row.push(fmt_opt(paper.and_then(|p| p.nmi)));
        }
        row.push(fmt_ms(&st.ari));
        if has_paper {
            row.push(fmt_opt(paper.and_then(|p| p.ari)));
        }
        row.push(fmt_ms(&st.silhouette));
        if has_paper {
            row.push(fmt_opt(paper.and_then(|p| p.silhouette)));
        }
        row.push(fmt_ms(&st.acc));
        row.push(st.minutes_text());
        if has_test {
            row.push(fmt_ms(&st.test_nmi));
            row.push(fmt_ms(&st.test_ari));
            row.push(fmt_ms(&st.test_acc));
        }
        let _ = writeln!(md, "| {} |", row.join(" | "));
        if let (Some((m, _)), Some(p)) = (mean_std(nmi), paper.and_then(|p| p.nmi)) {
            if (m - p).abs() > 0.05 {
                deviations.push(format!(
                    "{} / {}: NMI {m:.3} vs the paper's {p:.3} ({:+.3}, {} seed{})",
                    study.name,
                    c.name,
                    m - p,
                    nmi.len(),
                    if nmi.len() == 1 { "" } else { "s" }
                ));
            }
        }
    }
    md.push('\n');
}

/// Table 3: literature rows and ours (baseline and the largest labelled fraction of `sparsity`).
fn table3(md: &mut String, spec: &ExperimentSpec, results: &[RunResult]) {
    let find = |name: &str| spec.studies.iter().position(|s| s.name == name);
    let (Some(bi), Some(si)) = (find("baseline"), find("sparsity")) else {
        return;
    };
    let conds = spec.studies[si].conditions().expect("checked when parsed");
    let last = conds.len() - 1;
    let pick = |study: usize, cond: Option<usize>| -> (Vec<f64>, Vec<f64>) {
        let recs: Vec<&EpochRecord> = results
            .iter()
            .filter(|r| {
                r.run.study_index == study && cond.is_none_or(|c| r.run.condition_index == c)
            })
            .filter_map(|r| r.compared(spec.compare))
            .collect();
        (
            recs.iter().map(|r| r.nmi).collect(),
            recs.iter().map(|r| r.ari).collect(),
        )
    };
    let _ = writeln!(
        md,
        "## Comparison with the literature on MNIST (Table 3)\n\n| method | NMI | ARI |\n|---|---:|---:|"
    );
    for (m, n, a) in LITERATURE {
        let _ = writeln!(md, "| {m} | {n:.2} | {a:.2} |");
    }
    let (n, a) = pick(bi, None);
    let _ = writeln!(
        md,
        "| **DeepCluster (deepclust, `{}`)** | {} | {} |",
        spec.name,
        fmt_ms(&n),
        fmt_ms(&a)
    );
    let (n, a) = pick(si, Some(last));
    let _ = writeln!(
        md,
        "| **DeepCluster + PCK-means, {} (deepclust, `{}`)** | {} | {} |\n",
        conds[last].name,
        spec.name,
        fmt_ms(&n),
        fmt_ms(&a)
    );
}

fn tsne_figure(
    root: &Path,
    run: &PlannedRun,
    stem: &Path,
    opts: &ReportOptions,
) -> Result<Vec<PathBuf>, ExperimentError> {
    let dir = RunDir::new(root.join(&run.rel_dir));
    let read = |name: &str| -> Result<PathBuf, ExperimentError> {
        let p = dir.file(name);
        if p.is_file() {
            Ok(p)
        } else {
            Err(ExperimentError::io(
                &p,
                "missing (needed for the t-SNE map)",
            ))
        }
    };
    let emb = crate::data::npy::read_features(&read("embedding-final.npy")?)
        .map_err(|e| ExperimentError::io(dir.file("embedding-final.npy"), e))?;
    let pred = crate::data::npy::read_labels(&read("labels-final.npy")?)
        .map_err(|e| ExperimentError::io(dir.file("labels-final.npy"), e))?;
    let truth = crate::data::npy::read_labels(&read("truth.npy")?)
        .map_err(|e| ExperimentError::io(dir.file("truth.npy"), e))?;
    let n = emb.nrows();
    if pred.len() != n || truth.len() != n {
        return Err(ExperimentError::io(
            dir.root(),
            format!(
                "final arrays disagree: {n} embeddings, {} clusters, {} true labels",
                pred.len(),
                truth.len()
            ),
        ));
    }
    let m = opts.tsne_points.min(n);
    let mut rng = crate::seed::rng(run.seed, "report/tsne/sample");
    let mut idx = sample(&mut rng, n, m).into_vec();
    idx.sort_unstable();
    let x = Array2::from_shape_fn((m, emb.ncols()), |(i, j)| emb[[idx[i], j]]);
    let params = TsneParams::default().with_seed(crate::seed::derive(run.seed, "report/tsne"));
    let perplexity = params.perplexity.min(((m as f64) - 1.0) / 3.0).max(1.0);
    let y = tsne::tsne(x.view(), &params.with_perplexity(perplexity))
        .map_err(|e| figure_err(stem, e))?;
    // Clusters are drawn in the colour of their matched class (the matching behind ACC), so the
    // two panels can be compared colour by colour; unmatched clusters get colours of their own.
    let matching = crate::metrics::best_matching(&truth, &pred).map_err(|e| figure_err(stem, e))?;
    let n_classes = truth.iter().max().map_or(0, |&m| m + 1);
    let colour_of = |c: usize| matching.class_of(c).unwrap_or(n_classes + c);
    let left: Vec<usize> = idx.iter().map(|&i| colour_of(pred[i])).collect();
    let right: Vec<usize> = idx.iter().map(|&i| truth[i]).collect();
    plot::scatter_pair(
        stem,
        &format!("t-SNE of {}", run.label()),
        y.view(),
        &left,
        "coloured by cluster (as its matched class)",
        &right,
        "coloured by true class",
    )
    .map_err(|e| figure_err(stem, e))
}

/// One row per run and evaluated epoch.
fn write_csv(path: &Path, results: &[RunResult]) -> Result<(), ExperimentError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "study",
        "condition",
        "seed",
        "run_dir",
        "status",
        "epoch",
        "final",
        "labelled_fraction",
        "nmi",
        "ari",
        "acc",
        "nmi_prev",
        "silhouette",
        "silhouette_raw",
        "davies_bouldin",
        "objective",
        "violated_must_links",
        "violated_cannot_links",
        "train_loss",
        "train_accuracy",
        "test_nmi",
        "test_ari",
        "test_acc",
        "seconds",
    ];
    let e = |e: csv::Error| ExperimentError::io(path, e);
    w.write_record(header).map_err(e)?;
    let opt = |v: Option<f64>| v.map_or_else(String::new, |x| x.to_string());
    for r in results {
        let status = match &r.status {
            RunStatus::Failed(_) => "failed".to_string(),
            s => s.to_string(),
        };
        for rec in &r.records {
            let s = &rec.seconds;
            let secs = s.extract + s.preprocess + s.constraints + s.cluster + s.metrics + s.train;
            w.write_record([
                r.run.study.clone(),
                r.run.condition.clone(),
                r.run.seed.to_string(),
                r.run.rel_dir.display().to_string(),
                status.clone(),
                rec.epoch.to_string(),
                rec.is_final.to_string(),
                rec.labelled_fraction.to_string(),
                rec.nmi.to_string(),
                rec.ari.to_string(),
                rec.acc.to_string(),
                opt(rec.nmi_prev),
                opt(rec.silhouette),
                opt(rec.silhouette_raw),
                opt(rec.davies_bouldin),
                rec.objective.to_string(),
                rec.violated_must_links.to_string(),
                rec.violated_cannot_links.to_string(),
                opt(rec.train_loss),
                opt(rec.train_accuracy),
                opt(rec.test.as_ref().map(|t| t.nmi)),
                opt(rec.test.as_ref().map(|t| t.ari)),
                opt(rec.test.as_ref().map(|t| t.acc)),
                secs.to_string(),
            ])
            .map_err(e)?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|err| ExperimentError::io(path, err.to_string()))?;
    atomic_write(path, &bytes).map_err(|err| ExperimentError::io(path, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        assert_eq!(mean_std(&[]), None);
        assert_eq!(mean_std(&[0.5]), Some((0.5, None)));
        let (m, s) = mean_std(&[1.0, 2.0, 3.0]).unwrap();
        assert!((m - 2.0).abs() < 1e-12 && (s.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(fmt_ms(&[0.25, 0.75]), "0.500 ± 0.354");
    }

    #[test]
    fn a_folder_without_spec_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let e = report(d.path(), &ReportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("experiment.toml is missing"), "{e}");
    }
}
