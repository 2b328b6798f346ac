//! Running an experiment's runs: finished runs are skipped, unfinished ones resumed, failures
//! recorded (in the run's `error.txt`) while the others go on; `jobs` runs at a time.
use super::plan::{run_status, PlannedRun, RunStatus};
use super::{ExperimentError, ExperimentSpec, SPEC_FILE};
use crate::pipeline::{self, atomic_write, RunDir, RunOptions};
use crate::progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// How to run an experiment.
#[derive(Debug, Clone)]
pub struct ExperimentOptions {
    /// The experiment folder (`runs/NAME`).
    pub out: PathBuf,
    /// Where datasets live.
    pub data_dir: PathBuf,
    /// Runs at a time (each gets `threads / jobs` libtorch threads).
    pub jobs: usize,
    /// Total threads [default: all cores].
    pub threads: Option<usize>,
    /// Start at most this many runs, then stop (the rest stay pending); for time-boxing and tests.
    pub max_runs: Option<usize>,
}

/// What an experiment run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Runs finished now.
    pub finished: usize,
    /// Runs already finished before (skipped).
    pub skipped: usize,
    /// Runs left pending because of `max_runs`.
    pub left: usize,
    /// Runs that failed: label and error.
    pub failed: Vec<(String, String)>,
}

/// Runs every planned run that is not finished yet. Writes the spec to `out/experiment.toml` first.
/// Returns an error only when the experiment itself cannot proceed (the folder cannot be written);
/// a failing run is recorded in the outcome and in its `error.txt`.
pub fn run_experiment(
    spec: &ExperimentSpec,
    plan: &[PlannedRun],
    opts: &ExperimentOptions,
) -> Result<Outcome, ExperimentError> {
    let spec_path = opts.out.join(SPEC_FILE);
    atomic_write(&spec_path, spec.to_toml().as_bytes())
        .map_err(|e| ExperimentError::io(&spec_path, e))?;

    let mut outcome = Outcome::default();
    let mut todo: Vec<&PlannedRun> = Vec::new();
    let mut steps = 0u64;
    for r in plan {
        match run_status(&opts.out, r) {
            RunStatus::Finished => outcome.skipped += 1,
            st => {
                if opts.max_runs.is_some_and(|m| todo.len() >= m) {
                    outcome.left += 1;
                    continue;
                }
                let done = match st {
                    RunStatus::Partial(e) => e,
                    _ => 0,
                };
                steps += (r.config.epochs + 1).saturating_sub(done) as u64;
                todo.push(r);
            }
        }
    }
    if todo.is_empty() {
        return Ok(outcome);
    }

    let jobs = opts.jobs.max(1).min(todo.len());
    let threads = opts.threads.unwrap_or_else(rayon::current_num_threads);
    crate::model::set_threads((threads / jobs).max(1));

    // Inner runs are quiet; one overall bar counts clusterings (epochs + 1 per run).
    let was_quiet = progress::is_quiet();
    progress::set_quiet(true);
    let bar = ProgressBar::new(steps);
    bar.set_draw_target(if was_quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} epochs (eta {eta}) {msg}",
        )
        .expect("valid template"),
    );
    bar.set_prefix(format!("{} runs", todo.len()));

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<f64, String>)>> = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(r) = todo.get(i) else { break };
                bar.set_message(r.label());
                let res = run_one(r, opts, &bar);
                match &res {
                    Ok(nmi) => bar.println(format!("finished {}: NMI {nmi:.4}", r.label())),
                    Err(e) => bar.println(format!(
                        "FAILED {}: {}",
                        r.label(),
                        e.lines().next().unwrap_or("")
                    )),
                }
                results
                    .lock()
                    .expect("no panics while holding")
                    .push((i, res));
            });
        }
    });
    bar.finish_and_clear();
    progress::set_quiet(was_quiet);
    let mut results = results.into_inner().expect("no panics while holding");
    results.sort_by_key(|(i, _)| *i);
    for (i, r) in results {
        match r {
            Ok(_) => outcome.finished += 1,
            Err(e) => outcome.failed.push((todo[i].label(), e)),
        }
    }
    log::info!(
        "experiment {}: {} finished, {} skipped, {} failed in {:.0}s",
        spec.name,
        outcome.finished,
        outcome.skipped,
        outcome.failed.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(outcome)
}

/// Runs or resumes one run; on failure writes `error.txt` and returns the message.
fn run_one(r: &PlannedRun, opts: &ExperimentOptions, bar: &ProgressBar) -> Result<f64, String> {
    let dir = RunDir::new(opts.out.join(&r.rel_dir));
    // A previous failure is retried.
    let _ = std::fs::remove_file(dir.error());
    let ropts = RunOptions {
        out: dir.root().to_path_buf(),
        data_dir: opts.data_dir.clone(),
        resume: true,
        force: false,
        stop_after: None,
        progress: Some(bar.clone()),
    };
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pipeline::run(&r.config, &ropts)
    }));
    let msg = match res {
        Ok(Ok(Some(summary))) => return Ok(summary.final_record.nmi),
        Ok(Ok(None)) => "the run stopped before its last epoch".to_string(),
        // Every PipelineError's message already includes what caused it.
        Ok(Err(e)) => e.to_string(),
        Err(p) => format!(
            "panic: {}",
            p.downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("unknown")
        ),
    };
    if let Err(e) = atomic_write(&dir.error(), format!("{msg}\n").as_bytes()) {
        log::warn!("cannot record the failure of {}: {e}", r.label());
    }
    Err(msg)
}
