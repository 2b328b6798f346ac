//! From a spec to the list of runs, and the status of each run on disk.
use super::{ExperimentError, ExperimentSpec};
use crate::pipeline::{RunConfig, RunDir};
use std::path::{Path, PathBuf};

/// One run of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    /// Index of the study in the spec.
    pub study_index: usize,
    /// The study's name.
    pub study: String,
    /// Index of the condition in the study.
    pub condition_index: usize,
    /// The condition's display name.
    pub condition: String,
    /// The seed.
    pub seed: u64,
    /// Run folder relative to the experiment folder: `<study>/<condition>/seed-<seed>`.
    pub rel_dir: PathBuf,
    /// The fully resolved run config.
    pub config: RunConfig,
}

impl PlannedRun {
    /// `study/condition seed S`, for messages.
    pub fn label(&self) -> String {
        format!("{}/{} seed {}", self.study, self.condition, self.seed)
    }
}

/// Where a run stands on disk.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// Not started.
    Pending,
    /// Started; this many training epochs are checkpointed.
    Partial(usize),
    /// Failed; the recorded error.
    Failed(String),
    /// Finished (its summary exists).
    Finished,
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunStatus::Pending => f.write_str("pending"),
            RunStatus::Partial(e) => write!(f, "partial ({e} epochs done)"),
            RunStatus::Failed(e) => write!(f, "failed: {}", e.lines().next().unwrap_or("")),
            RunStatus::Finished => f.write_str("finished"),
        }
    }
}

/// Every run of the experiment: study by study, condition by condition, seed by seed.
pub fn plan(spec: &ExperimentSpec) -> Result<Vec<PlannedRun>, ExperimentError> {
    let origin = format!("experiment `{}`", spec.name);
    let base = spec.base_config(&origin)?;
    let mut out = Vec::new();
    for (si, study) in spec.studies.iter().enumerate() {
        let conditions = study
            .conditions()
            .map_err(|message| ExperimentError::Parse {
                origin: origin.clone(),
                message: format!("study `{}`: {message}", study.name),
            })?;
        for (ci, c) in conditions.iter().enumerate() {
            let cfg = spec.condition_config(&base, study, c, &origin)?;
            for &seed in spec.seeds_of(study) {
                let mut config = cfg.clone();
                config.seed = seed;
                out.push(PlannedRun {
                    study_index: si,
                    study: study.name.clone(),
                    condition_index: ci,
                    condition: c.name.clone(),
                    seed,
                    rel_dir: PathBuf::from(&study.name)
                        .join(&c.slug)
                        .join(format!("seed-{seed}")),
                    config,
                });
            }
        }
    }
    Ok(out)
}

/// The status of a planned run inside the experiment folder `root`.
pub fn run_status(root: &Path, run: &PlannedRun) -> RunStatus {
    let dir = RunDir::new(root.join(&run.rel_dir));
    if dir.is_finished() {
        return RunStatus::Finished;
    }
    if let Ok(e) = std::fs::read_to_string(dir.error()) {
        return RunStatus::Failed(e.trim().to_string());
    }
    match dir.read_checkpoint() {
        Ok(Some(s)) => RunStatus::Partial(s.epochs_done),
        _ if dir.config().is_file() => RunStatus::Partial(0),
        _ => RunStatus::Pending,
    }
}

/// The keys in which the config saved in a run's folder differs from the planned one; empty when
/// they agree or nothing is saved yet. A finished run is kept whatever made it, so an edited
/// experiment file or a changed deepclust default can leave finished runs with other settings
/// behind; `experiment run` and its `--dry-run` name them. An unreadable config is reported as
/// one entry saying why.
pub fn config_drift(root: &Path, run: &PlannedRun) -> Vec<String> {
    let path = RunDir::new(root.join(&run.rel_dir)).config();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    match RunConfig::from_saved_toml(&text, &path.display().to_string()) {
        Ok(saved) => saved.differing_keys(&run.config),
        Err(e) => vec![format!("unreadable: {e}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_names_folders_and_sets_seeds() {
        let spec = ExperimentSpec::preset("paper").unwrap();
        let p = plan(&spec).unwrap();
        assert_eq!(p.len(), 28);
        assert_eq!(p[0].rel_dir, PathBuf::from("baseline/0-pct/seed-0"));
        assert_eq!(p[4].config.seed, 4);
        let s = p.iter().find(|r| r.study == "sparsity").unwrap();
        assert_eq!(s.rel_dir, PathBuf::from("sparsity/0.05pct/seed-42"));
        assert_eq!(s.config.labels.fraction, 0.0005);
        let p = plan(&spec.clone().with_seeds(vec![7, 8])).unwrap();
        assert_eq!(p.len(), 2 * (1 + 5 + 7 + 5 + 5 + 1));
        let d = tempfile::tempdir().unwrap();
        assert_eq!(run_status(d.path(), &p[0]), RunStatus::Pending);
        let dir = d.path().join(&p[0].rel_dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("error.txt"), "boom\nmore").unwrap();
        assert_eq!(run_status(d.path(), &p[0]).to_string(), "failed: boom");
    }

    #[test]
    fn drift_names_the_keys_a_saved_config_differs_in() {
        let spec = ExperimentSpec::preset("paper-fixed").unwrap();
        let p = plan(&spec).unwrap();
        let r = p.iter().find(|r| r.study == "sparsity").unwrap();
        let d = tempfile::tempdir().unwrap();
        assert!(config_drift(d.path(), r).is_empty(), "nothing saved yet");
        let dir = RunDir::new(d.path().join(&r.rel_dir));
        std::fs::create_dir_all(dir.root()).unwrap();
        std::fs::write(dir.config(), r.config.to_saved_toml("b")).unwrap();
        assert!(config_drift(d.path(), r).is_empty());
        let other = r.config.with_override("model.lr", "0.5").unwrap();
        std::fs::write(dir.config(), other.to_saved_toml("b")).unwrap();
        assert_eq!(config_drift(d.path(), r), vec!["model.lr".to_string()]);
        std::fs::write(dir.config(), "epochs = [").unwrap();
        assert!(config_drift(d.path(), r)[0].starts_with("unreadable"));
    }
}
