//! The configuration of one run, as written to `config.toml` in the run directory.
//!
//! A config is built from a preset ([`RunConfig::preset`]), optionally a TOML file, then dotted
//! overrides (`--set train.reassign=2`, and the CLI's shorthands like `--labels 1%`). Every key is
//! checked: an unknown key is an error that names it and suggests the closest valid one.
use super::sampler::Sampler;
use crate::cluster::{Algorithm, KMeansParams, PckMeansInit, PckMeansParams, Preprocess};
use crate::labels::{LabelScenario, Schedule};
use crate::model::{Arch, ModelConfig};
use serde::{Deserialize, Serialize};

/// Why a config is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML does not parse or does not fit the schema.
    #[error("{origin}: {message}")]
    Parse {
        /// Where the text came from (file name, `--set`, preset).
        origin: String,
        /// What is wrong, with a suggestion when a key is misspelt.
        message: String,
    },
    /// A value is out of range or inconsistent with another.
    #[error("invalid config: {0}")]
    Invalid(String),
    /// An unknown preset name.
    #[error("unknown preset `{0}` (known: {known})", known = RunConfig::PRESETS.join(", "))]
    UnknownPreset(String),
}

/// Which data a run trains on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// A registered dataset name (`deepclust data list`).
    pub name: String,
    /// Use only this many training images (a class-balanced subset); `0` means all.
    pub limit: usize,
    /// Also report metrics on the test split (features of the trained network, each test image
    /// assigned to the nearest final centroid).
    pub eval_test: bool,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            name: "mnist".into(),
            limit: 0,
            eval_test: true,
        }
    }
}

/// How the network is trained on the pseudo-labels of each epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Training samples per epoch as a multiple of the number of images (3 in the original).
    pub reassign: f64,
    /// How samples are drawn: `uniform` over clusters (correct) or `original` (the original's bug).
    pub sampler: Sampler,
    /// Learning rate over the epochs: `constant` (the original) or `cosine`.
    pub lr_schedule: LrSchedule,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            reassign: 3.0,
            sampler: Sampler::Uniform,
            lr_schedule: LrSchedule::Constant,
        }
    }
}

/// The learning rate of each epoch's training as a factor of `model.lr` (and `model.head_lr`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    /// The same rate every epoch, as the original.
    #[default]
    Constant,
    /// Cosine decay over the training epochs: epoch `e` of `E` trains at `½(1 + cos(π e / E))`
    /// of the rate (1 at the first epoch, about 0.02 at the last of ten).
    Cosine,
}

impl LrSchedule {
    /// The factor for training epoch `epoch` (0-based) of `epochs`.
    pub fn factor(self, epoch: usize, epochs: usize) -> f64 {
        match self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine => {
                0.5 * (1.0 + (std::f64::consts::PI * epoch as f64 / epochs.max(1) as f64).cos())
            }
        }
    }
}

/// How a silhouette score is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SilhouetteMode {
    /// Exact, on all points.
    Exact,
    /// On a seeded random sample of this many points.
    Sampled(usize),
    /// Not computed.
    Off,
}

/// Which metrics are computed every epoch (NMI, ARI, ACC, sizes are always computed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalConfig {
    /// Silhouette of the clustered (preprocessed) features.
    pub silhouette: SilhouetteMode,
    /// Silhouette of the raw 64-d features (what the paper reported).
    pub silhouette_raw: SilhouetteMode,
    /// Davies–Bouldin index of the raw features.
    pub davies_bouldin: bool,
    /// Compute the silhouettes and Davies–Bouldin every epoch (`true`), or only for the last two
    /// clusterings — the one made at the start of the last training epoch and the final one after
    /// it (`false`: on MNIST these metrics took 3–4.4 s of a ~10 s epoch of the original network,
    /// so this saves roughly a third of its 10-epoch run; less of the wide network's longer
    /// epochs). NMI, ARI, ACC and cluster sizes are always computed every epoch.
    pub every_epoch: bool,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            silhouette: SilhouetteMode::Exact,
            silhouette_raw: SilhouetteMode::Exact,
            davies_bouldin: true,
            every_epoch: true,
        }
    }
}

/// Everything that defines a run. `Default` is deepclust's corrected setting; see
/// [`RunConfig::paper`] for the original study's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Seed of every random choice in the run.
    pub seed: u64,
    /// Training epochs. Each epoch clusters, then trains; a final clustering follows the last.
    pub epochs: usize,
    /// The data.
    pub data: DataConfig,
    /// How labels are revealed and turned into constraints.
    pub labels: LabelScenario,
    /// Optional labelled fraction per epoch (dynamic labels); overrides the amount in `labels`.
    pub schedule: Option<Schedule>,
    /// Feature preprocessing before clustering.
    pub preprocess: Preprocess,
    /// The clustering algorithm and its parameters (its `k` is the number of clusters).
    pub cluster: Algorithm,
    /// The network and its optimiser.
    pub model: ModelConfig,
    /// How the network trains on pseudo-labels.
    pub train: TrainConfig,
    /// Which metrics are computed.
    pub eval: EvalConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            seed: 42,
            epochs: 10,
            data: DataConfig::default(),
            labels: LabelScenario::default(),
            schedule: None,
            preprocess: Preprocess::paper(),
            // The ablations (results/ablation.md, one seed per cell) found these to help most:
            // PCK-means stopped after 5 iterations stays near its label-seeded start (+0.05 to
            // +0.12 NMI with labels), random shifts in training lift every label fraction (about
            // +0.2 NMI), and the wide network with lr 0.03 lifts 1 % labelled from 0.80 to 0.91
            // (at 3–4× the time of the original network).
            cluster: Algorithm::PckMeans(PckMeansParams::new(10).with_max_iter(5)),
            model: ModelConfig {
                arch: Arch::Wide,
                lr: 0.03,
                augment: true,
                ..ModelConfig::default()
            },
            train: TrainConfig::default(),
            eval: EvalConfig::default(),
        }
    }
}

impl RunConfig {
    /// Names accepted by [`RunConfig::preset`].
    pub const PRESETS: &'static [&'static str] = &["default", "paper", "smoke"];

    /// The original study's settings: PCK-means (5 iterations, the original's initialisation, the
    /// paper's weights), the original sampler, the original network and optimiser, 10 epochs.
    pub fn paper() -> Self {
        RunConfig {
            seed: 42,
            epochs: 10,
            data: DataConfig {
                eval_test: false,
                ..DataConfig::default()
            },
            labels: LabelScenario::paper(0.0),
            schedule: None,
            preprocess: Preprocess::paper(),
            cluster: Algorithm::PckMeans(
                PckMeansParams::paper(10).with_init(PckMeansInit::Original),
            ),
            model: ModelConfig::default(),
            train: TrainConfig {
                reassign: 3.0,
                sampler: Sampler::Original,
                lr_schedule: LrSchedule::Constant,
            },
            eval: EvalConfig::default(),
        }
    }

    /// A tiny run for tests and CI: the committed MNIST fixture, 2 epochs.
    pub fn smoke() -> Self {
        RunConfig {
            epochs: 2,
            data: DataConfig {
                name: "mnist-mini".into(),
                limit: 0,
                eval_test: true,
            },
            cluster: Algorithm::KMeans(KMeansParams::new(10)),
            ..RunConfig::default()
        }
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        match name {
            "default" => Ok(RunConfig::default()),
            "paper" => Ok(RunConfig::paper()),
            "smoke" => Ok(RunConfig::smoke()),
            _ => Err(ConfigError::UnknownPreset(name.into())),
        }
    }

    /// The number of clusters.
    pub fn k(&self) -> usize {
        self.cluster.k()
    }

    /// Parses a complete config from TOML; keys left out take the defaults of [`RunConfig::default`].
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let cfg: RunConfig = toml::from_str(text).map_err(|e| parse_error(origin, &e))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Applies TOML on top of this config: keys present in `text` replace ours, the rest stay.
    /// A `[meta]` table (as in a run directory's saved config) is ignored.
    pub fn merged_with_toml(&self, text: &str, origin: &str) -> Result<Self, ConfigError> {
        let mut overlay: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        if overlay.remove("meta").is_some() {
            fill_keys_of_older_versions(&mut overlay);
        }
        let mut base = self.to_table()?;
        merge_tables(&mut base, overlay);
        Self::from_table(base, origin)
    }

    /// Sets one dotted key (`labels.noise`, `cluster.max_iter`) to a value written as TOML
    /// (`0.2`, `"stratified"`, `[1, 2]`); a bare word is taken as a string.
    pub fn with_override(&self, key: &str, value: &str) -> Result<Self, ConfigError> {
        let origin = format!("--set {key}={value}");
        if key == "cluster.algo" {
            // Another algorithm has other parameters: start from its defaults, keeping k.
            let name = value.trim().trim_matches('"');
            return self.merged_with_toml(&format!("[cluster]\nalgo = {name:?}\n"), &origin);
        }
        let parsed: toml::Value = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        let mut table = self.to_table()?;
        let parts: Vec<&str> = key.split('.').collect();
        let mut cur = &mut table;
        for p in &parts[..parts.len() - 1] {
            let entry = cur
                .entry(p.to_string())
                .or_insert_with(|| toml::Value::Table(Default::default()));
            cur = match entry {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(ConfigError::Parse {
                        origin,
                        message: format!("`{p}` is a value, not a section"),
                    })
                }
            };
        }
        cur.insert(parts[parts.len() - 1].to_string(), parsed);
        Self::from_table(table, &origin)
    }

    fn to_table(&self) -> Result<toml::Table, ConfigError> {
        toml::Table::try_from(self).map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    fn from_table(table: toml::Table, origin: &str) -> Result<Self, ConfigError> {
        let text = toml::to_string(&table).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        Self::from_toml(&text, origin)
    }

    /// The config as TOML, every field written out.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a RunConfig always serialises")
    }

    /// The config as saved in a run directory: a `[meta]` table (deepclust version, backend) and
    /// then every field.
    pub fn to_saved_toml(&self, backend: &str) -> String {
        let mut meta = toml::Table::new();
        meta.insert("deepclust".into(), crate::VERSION.into());
        meta.insert("backend".into(), backend.into());
        let mut t = toml::Table::new();
        t.insert("meta".into(), toml::Value::Table(meta));
        // [meta] goes last: keys after a table header would belong to that table.
        format!(
            "# Written by deepclust {}. Rerun with: deepclust run --config <this file>\n{}\n{}",
            crate::VERSION,
            self.to_toml(),
            toml::to_string_pretty(&t).expect("meta serialises"),
        )
    }

    /// Reads a config written by [`RunConfig::to_saved_toml`] (or any config file; `[meta]` is
    /// ignored).
    pub fn from_saved_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let mut t: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        if t.remove("meta").is_some() {
            fill_keys_of_older_versions(&mut t);
        }
        Self::from_table(t, origin)
    }

    /// Dotted keys whose values differ between two configs.
    pub fn differing_keys(&self, other: &RunConfig) -> Vec<String> {
        fn walk(prefix: &str, a: &toml::Value, b: Option<&toml::Value>, out: &mut Vec<String>) {
            match (a, b) {
                (toml::Value::Table(ta), Some(toml::Value::Table(tb))) => {
                    for (k, va) in ta {
                        walk(&format!("{prefix}{k}."), va, tb.get(k), out);
                    }
                    for k in tb.keys().filter(|k| !ta.contains_key(*k)) {
                        out.push(format!("{prefix}{k}"));
                    }
                }
                (a, Some(b)) if a == b => {}
                _ => out.push(prefix.trim_end_matches('.').to_string()),
            }
        }
        let (Ok(a), Ok(b)) = (self.to_table(), other.to_table()) else {
            return vec!["<unserialisable>".into()];
        };
        let mut out = Vec::new();
        walk(
            "",
            &toml::Value::Table(a),
            Some(&toml::Value::Table(b)),
            &mut out,
        );
        out
    }

    /// Checks ranges and consistency between sections.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.epochs == 0 {
            return bad("`epochs` must be at least 1".into());
        }
        if self.k() < 2 {
            return bad(format!(
                "`cluster.k` must be at least 2, found {}",
                self.k()
            ));
        }
        self.cluster
            .validate()
            .map_err(|e| ConfigError::Invalid(format!("cluster: {e}")))?;
        self.model
            .validate()
            .map_err(|e| ConfigError::Invalid(format!("model: {e}")))?;
        self.labels
            .check()
            .map_err(|e| ConfigError::Invalid(format!("labels: {e}")))?;
        if let Some(s) = &self.schedule {
            s.check_epochs(self.epochs)
                .map_err(|e| ConfigError::Invalid(format!("schedule: {e}")))?;
        }
        if !(self.train.reassign.is_finite() && self.train.reassign > 0.0) {
            return bad(format!(
                "`train.reassign` must be a number > 0, found {}",
                self.train.reassign
            ));
        }
        for (name, m) in [
            ("eval.silhouette", self.eval.silhouette),
            ("eval.silhouette_raw", self.eval.silhouette_raw),
        ] {
            if m == SilhouetteMode::Sampled(0) {
                return bad(format!("`{name}` sampled needs at least 2 points"));
            }
        }
        Ok(())
    }
}

/// In a config that deepclust saved (it has a `[meta]` table), the keys added since configs were
/// first saved get the value that reproduces what such a run did when they are missing: a
/// PCK-means section with the neighbourhood initialisation and no `top_up` was run with the
/// k-means++ top-up (the default before `TopUp::KMeans`). Other initialisations ignore `top_up`,
/// so their sections take today's default and still equal the configs that made them.
fn fill_keys_of_older_versions(t: &mut toml::Table) {
    if let Some(toml::Value::Table(c)) = t.get_mut("cluster") {
        let pck = c.get("algo").and_then(|a| a.as_str()) == Some("pckmeans");
        let neighbourhood = match c.get("init").and_then(|i| i.as_str()) {
            None => true,
            Some(i) => i == "neighbourhood" || i == "neighborhood",
        };
        if pck && neighbourhood && !c.contains_key("top_up") {
            c.insert("top_up".into(), "kmeans++".into());
        }
    }
}

/// Recursively overlays `top` onto `base`.
fn merge_tables(base: &mut toml::Table, top: toml::Table) {
    for (k, v) in top {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) if k != "cluster" => {
                merge_tables(b, t)
            }
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) => {
                // A different algorithm replaces the section with that algorithm's defaults
                // (keeping k), then takes the new keys; the same algorithm is merged.
                if t.get("algo").is_some_and(|a| Some(a) != b.get("algo")) {
                    let k = t.get("k").or_else(|| b.get("k")).cloned();
                    let defaults = match (t.get("algo").and_then(|a| a.as_str()), &k) {
                        (Some(name), Some(toml::Value::Integer(k))) => usize::try_from(*k)
                            .ok()
                            .and_then(|k| Algorithm::defaults(name, k))
                            .and_then(|a| toml::Table::try_from(a).ok()),
                        _ => None,
                    };
                    match defaults {
                        Some(d) => *b = d,
                        None => {
                            // Unknown name or odd k: let deserialisation report it.
                            b.clear();
                            if let Some(k) = k {
                                b.insert("k".into(), k);
                            }
                        }
                    }
                    merge_tables(b, t);
                } else {
                    merge_tables(b, t)
                }
            }
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Turns a TOML/serde error into a message; for an unknown key, suggests the closest valid one.
fn parse_error(origin: &str, e: &toml::de::Error) -> ConfigError {
    let msg = e.message().to_string();
    let mut message = e.to_string();
    if let Some(suggestion) = suggest_key(&msg) {
        message.push_str(&format!("\nhelp: did you mean `{suggestion}`?"));
    }
    ConfigError::Parse {
        origin: origin.into(),
        message,
    }
}

/// From serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a` or `b`"), the
/// expected name closest to `x`, if reasonably close.
pub(crate) fn suggest_key(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(unknown, c), c))
        .filter(|(s, _)| *s > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_round_trip_through_toml() {
        for name in RunConfig::PRESETS {
            let c = RunConfig::preset(name).unwrap();
            let back = RunConfig::from_toml(&c.to_toml(), "test").unwrap();
            assert_eq!(c, back, "preset {name}");
        }
    }

    #[test]
    fn unknown_key_suggests_the_closest() {
        let e = RunConfig::from_toml("epochz = 3", "x.toml").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("epochz") && m.contains("did you mean `epochs`"),
            "{m}"
        );
        let e = RunConfig::from_toml("[train]\nsampeler = \"uniform\"", "x.toml").unwrap_err();
        assert!(e.to_string().contains("did you mean `sampler`"), "{e}");
    }

    #[test]
    fn overrides_apply_and_are_checked() {
        let c = RunConfig::default()
            .with_override("labels.noise", "0.2")
            .unwrap()
            .with_override("train.sampler", "original")
            .unwrap()
            .with_override("epochs", "3")
            .unwrap();
        assert_eq!(c.labels.noise, 0.2);
        assert_eq!(c.train.sampler, Sampler::Original);
        assert_eq!(c.epochs, 3);
        assert!(RunConfig::default().with_override("epochs", "0").is_err());
        assert!(RunConfig::default()
            .with_override("labels.fraction", "1.5")
            .is_err());
        let e = RunConfig::default()
            .with_override("trian.reassign", "2")
            .unwrap_err();
        assert!(e.to_string().contains("did you mean `train`"), "{e}");
    }

    #[test]
    fn merging_keeps_unspecified_keys() {
        let base = RunConfig::paper();
        let c = base
            .merged_with_toml("[labels]\nfraction = 0.01\n", "f.toml")
            .unwrap();
        assert_eq!(c.labels.fraction, 0.01);
        assert_eq!(c.train.sampler, Sampler::Original);
        let c = base
            .merged_with_toml("[cluster]\nalgo = \"kmeans\"\nk = 12\n", "f.toml")
            .unwrap();
        assert_eq!(c.k(), 12);
    }

    #[test]
    fn switching_algorithm_starts_from_its_defaults_keeping_k() {
        use crate::cluster::TopUp;
        let km = RunConfig::default()
            .with_override("cluster.algo", "kmeans")
            .unwrap()
            .with_override("cluster.k", "12")
            .unwrap();
        for c in [
            km.with_override("cluster.algo", "pckmeans").unwrap(),
            km.merged_with_toml("[cluster]\nalgo = \"pckmeans\"\n", "f.toml")
                .unwrap(),
        ] {
            assert_eq!(c.cluster, Algorithm::PckMeans(PckMeansParams::new(12)));
        }
        // Keys given with the switch win over the defaults.
        let c = km
            .merged_with_toml(
                "[cluster]\nalgo = \"pckmeans\"\nmax_iter = 3\ntop_up = \"kmeans++\"\n",
                "f.toml",
            )
            .unwrap();
        assert_eq!(
            c.cluster,
            Algorithm::PckMeans(
                PckMeansParams::new(12)
                    .with_max_iter(3)
                    .with_top_up(TopUp::KMeansPlusPlus)
            )
        );
        let e = km.with_override("cluster.algo", "spectral").unwrap_err();
        assert!(e.to_string().contains("spectral"), "{e}");
    }

    #[test]
    fn configs_saved_before_the_top_up_key_keep_their_kmeans_plus_plus_top_up() {
        use crate::cluster::TopUp;
        let c = RunConfig::default();
        let Algorithm::PckMeans(p) = &c.cluster else {
            panic!("the default clusters with PCK-means")
        };
        assert_eq!(p.top_up, TopUp::KMeans);
        let saved = c.to_saved_toml("b");
        assert!(saved.contains("top_up = \"kmeans\""), "{saved}");
        let old = saved.replace("top_up = \"kmeans\"\n", "");
        // Read back (resume, reports) and rerun with `--config`, the old file means k-means++.
        let read = RunConfig::from_saved_toml(&old, "old").unwrap();
        let rerun = RunConfig::paper().merged_with_toml(&old, "old").unwrap();
        for r in [&read, &rerun] {
            let Algorithm::PckMeans(p) = &r.cluster else {
                panic!("still PCK-means")
            };
            assert_eq!(p.top_up, TopUp::KMeansPlusPlus);
            assert_eq!(c.differing_keys(r), vec!["cluster.top_up".to_string()]);
        }
        // Saved paper runs (the original's init ignores top_up) still equal the paper preset, so
        // they resume.
        let paper = RunConfig::paper();
        let old_paper = paper
            .to_saved_toml("b")
            .replace("top_up = \"kmeans\"\n", "");
        assert!(!old_paper.contains("top_up"));
        assert_eq!(RunConfig::from_saved_toml(&old_paper, "p").unwrap(), paper);
        // A config a person wrote (no [meta]) takes the current default for a missing key.
        let mine = "[cluster]\nalgo = \"pckmeans\"\nk = 10\nmax_iter = 5\n";
        assert_eq!(
            RunConfig::from_toml(mine, "mine").unwrap().cluster,
            c.cluster
        );
    }

    #[test]
    fn saved_config_reads_back_and_diffs_name_keys() {
        let c = RunConfig::paper();
        let saved = c.to_saved_toml("test-backend");
        assert!(saved.contains("backend = \"test-backend\""));
        assert_eq!(RunConfig::from_saved_toml(&saved, "s").unwrap(), c);
        let d = c.with_override("labels.noise", "0.5").unwrap();
        assert_eq!(c.differing_keys(&d), vec!["labels.noise".to_string()]);
    }

    #[test]
    fn schedule_longer_than_epochs_is_rejected() {
        let c = RunConfig::default().with_override("epochs", "2").unwrap();
        let e = c
            .with_override("schedule", "[0.0, 0.001, 0.01]")
            .unwrap_err();
        assert!(e.to_string().contains("schedule"), "{e}");
    }

    #[test]
    fn cosine_schedule_decays_from_one_and_constant_stays() {
        let c = LrSchedule::Cosine;
        assert_eq!(c.factor(0, 10), 1.0);
        assert!((c.factor(5, 10) - 0.5).abs() < 1e-12);
        assert!((c.factor(9, 10) - 0.5 * (1.0 + (0.9 * std::f64::consts::PI).cos())).abs() < 1e-12);
        assert!((1..10).all(|e| c.factor(e, 10) < c.factor(e - 1, 10)));
        assert!((0..10).all(|e| LrSchedule::Constant.factor(e, 10) == 1.0));
        let set = RunConfig::default()
            .with_override("train.lr_schedule", "cosine")
            .unwrap();
        assert_eq!(set.train.lr_schedule, LrSchedule::Cosine);
        let e = RunConfig::default()
            .with_override("train.lr_schedule", "linear")
            .unwrap_err();
        assert!(e.to_string().contains("lr_schedule"), "{e}");
    }
}
