//! Experiment files: a base run config, studies with grids of values, seeds, and the paper's
//! reference values. See `experiments/*.toml` for the built-in presets.
use super::ExperimentError;
use crate::pipeline::RunConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which clustering of a run the tables compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompareEpoch {
    /// The clustering after the last training epoch (deepclust's evaluation).
    #[default]
    Final,
    /// The clustering made at the start of the last training epoch: what the original reported.
    LastTrained,
}

/// A paper value for one condition of a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperValue {
    /// The condition's name (one of the study's `names`, or its value as written).
    pub condition: String,
    /// NMI reported by the paper.
    pub nmi: Option<f64>,
    /// ARI reported by the paper.
    pub ari: Option<f64>,
    /// Silhouette (raw 64-d features) reported by the paper.
    pub silhouette: Option<f64>,
}

/// A condition named and defined by its own run-config keys: for studies whose conditions change
/// different keys (an ablation: "no shifts", "lr 0.01", "original network", ...), which a grid
/// over one set of keys cannot express.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Display name of the condition (its folder is the slug of it).
    pub name: String,
    /// Run-config keys of this condition, applied after the study's `set`.
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
}

/// One study: a set of conditions (a grid over run-config keys, or a list of named variants)
/// sharing fixed settings; it becomes one table and one figure of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Short name, used for folders and figure files (letters, digits, `-`, `_`).
    pub name: String,
    /// Heading in the report.
    #[serde(default)]
    pub title: Option<String>,
    /// Seeds of this study (overrides the experiment's).
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
    /// Run-config keys set for every run of the study (`"labels.fraction" = 0.01`).
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
    /// Run-config keys and the values to try; the conditions are all their combinations.
    #[serde(default)]
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// Display names of the conditions, in grid order.
    #[serde(default)]
    pub names: Option<Vec<String>>,
    /// Named conditions, each with its own keys (`[[study.variant]]`), instead of a `grid`.
    #[serde(default, rename = "variant", skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
    /// The paper's values, for the column beside ours.
    #[serde(default)]
    pub paper: Vec<PaperValue>,
}

/// An experiment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// Name of the experiment.
    pub name: String,
    /// One sentence on what it studies.
    #[serde(default)]
    pub description: String,
    /// The run preset every run starts from (`default`, `paper`, `smoke`).
    #[serde(default = "default_preset")]
    pub preset: String,
    /// Seeds of every study that does not give its own.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Which clustering the tables compare.
    #[serde(default)]
    pub compare: CompareEpoch,
    /// Runs to draw t-SNE maps of: `study` (its first condition) or `study/condition`; first seed.
    #[serde(default)]
    pub tsne: Vec<String>,
    /// Run-config keys applied to every run, as a TOML table (nested tables or dotted keys).
    #[serde(default)]
    pub base: toml::Table,
    /// The studies.
    #[serde(default, rename = "study")]
    pub studies: Vec<Study>,
}

fn default_preset() -> String {
    "default".into()
}
fn default_seeds() -> Vec<u64> {
    vec![42]
}

/// One condition of a study: its name and the run-config values that define it.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Display name.
    pub name: String,
    /// Folder-safe name.
    pub slug: String,
    /// The run-config values that define this condition (its grid values, or its variant's
    /// `set`), as (dotted key, value).
    pub values: Vec<(String, toml::Value)>,
}

/// The built-in experiments: name, description, TOML text.
pub const PRESETS: &[(&str, &str)] = &[
    ("paper", include_str!("../../experiments/paper.toml")),
    (
        "paper-fixed",
        include_str!("../../experiments/paper-fixed.toml"),
    ),
    ("smoke", include_str!("../../experiments/smoke.toml")),
];

impl ExperimentSpec {
    /// A built-in experiment's TOML text.
    pub fn preset_text(name: &str) -> Result<&'static str, ExperimentError> {
        PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| ExperimentError::UnknownPreset {
                name: name.into(),
                known: PRESETS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// A built-in experiment.
    pub fn preset(name: &str) -> Result<Self, ExperimentError> {
        Self::from_toml(Self::preset_text(name)?, &format!("preset `{name}`"))
    }

    /// Parses and checks an experiment file. Unknown keys are errors with the closest valid key
    /// suggested; every run config of the grid is built and validated.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ExperimentError> {
        let spec: ExperimentSpec = toml::from_str(text).map_err(|e| {
            let mut message = e.to_string();
            if let Some(s) = crate::pipeline::suggest_key(e.message()) {
                message.push_str(&format!("\nhelp: did you mean `{s}`?"));
            }
            ExperimentError::Parse {
                origin: origin.into(),
                message,
            }
        })?;
        spec.check(origin)?;
        Ok(spec)
    }

    /// The spec as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("an experiment spec serialises")
    }

    fn check(&self, origin: &str) -> Result<(), ExperimentError> {
        let bad = |message: String| {
            Err(ExperimentError::Parse {
                origin: origin.into(),
                message,
            })
        };
        if self.studies.is_empty() {
            return bad("no [[study]]: an experiment needs at least one".into());
        }
        if self.seeds.is_empty() {
            return bad("`seeds` is empty".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.studies {
            if s.name.is_empty()
                || !s
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return bad(format!(
                    "study name `{}`: use letters, digits, `-` and `_` only",
                    s.name
                ));
            }
            if !seen.insert(&s.name) {
                return bad(format!("two studies are named `{}`", s.name));
            }
            if s.seeds.as_ref().is_some_and(|v| v.is_empty()) {
                return bad(format!("study `{}`: `seeds` is empty", s.name));
            }
            for (k, v) in &s.grid {
                if v.is_empty() {
                    return bad(format!("study `{}`: grid key `{k}` has no values", s.name));
                }
            }
            let conditions = s.conditions().map_err(|m| ExperimentError::Parse {
                origin: origin.into(),
                message: format!("study `{}`: {m}", s.name),
            })?;
            for p in &s.paper {
                if !conditions.iter().any(|c| c.name == p.condition) {
                    return bad(format!(
                        "study `{}`: paper value for unknown condition `{}` (conditions: {})",
                        s.name,
                        p.condition,
                        conditions
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        for sel in &self.tsne {
            self.find_selector(sel)
                .map_err(|message| ExperimentError::Parse {
                    origin: origin.into(),
                    message,
                })?;
        }
        // Build every run config now so that a bad key or value is reported before any run.
        let base = self.base_config(origin)?;
        for s in &self.studies {
            for c in s.conditions().expect("checked above") {
                self.condition_config(&base, s, &c, origin)?;
            }
        }
        Ok(())
    }

    /// The base config: the preset with `[base]` applied.
    pub fn base_config(&self, origin: &str) -> Result<RunConfig, ExperimentError> {
        let mut cfg = RunConfig::preset(&self.preset).map_err(|e| ExperimentError::Parse {
            origin: origin.into(),
            message: format!("preset: {e}"),
        })?;
        let pairs: Vec<(String, toml::Value)> = self
            .base
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        cfg = apply_values(&cfg, &pairs, &format!("{origin} [base]"))?;
        Ok(cfg)
    }

    /// The config of one condition of a study (seed not yet set).
    pub fn condition_config(
        &self,
        base: &RunConfig,
        study: &Study,
        condition: &Condition,
        origin: &str,
    ) -> Result<RunConfig, ExperimentError> {
        let fixed: Vec<(String, toml::Value)> = study
            .set
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let cfg = apply_values(
            base,
            &fixed,
            &format!("{origin} study `{}` set", study.name),
        )?;
        apply_values(
            &cfg,
            &condition.values,
            &format!(
                "{origin} study `{}` condition `{}`",
                study.name, condition.name
            ),
        )
    }

    /// The same experiment with these seeds for every study (the CLI's `--seeds`).
    pub fn with_seeds(mut self, seeds: Vec<u64>) -> Self {
        self.seeds = seeds;
        for s in &mut self.studies {
            s.seeds = None;
        }
        self
    }

    /// Seeds of a study.
    pub fn seeds_of<'a>(&'a self, study: &'a Study) -> &'a [u64] {
        study.seeds.as_deref().unwrap_or(&self.seeds)
    }

    /// Resolves a t-SNE selector (`study` or `study/condition`) to (study index, condition index).
    pub fn find_selector(&self, sel: &str) -> Result<(usize, usize), String> {
        let (sname, cname) = match sel.split_once('/') {
            Some((s, c)) => (s, Some(c)),
            None => (sel, None),
        };
        let si = self
            .studies
            .iter()
            .position(|s| s.name == sname)
            .ok_or_else(|| format!("tsne: no study `{sname}` (in `{sel}`)"))?;
        let conds = self.studies[si].conditions()?;
        let ci = match cname {
            None => 0,
            Some(c) => conds
                .iter()
                .position(|x| x.name == c || x.slug == c)
                .ok_or_else(|| {
                    format!(
                        "tsne: study `{sname}` has no condition `{c}` (conditions: {})",
                        conds
                            .iter()
                            .map(|x| x.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?,
        };
        Ok((si, ci))
    }
}

impl Study {
    /// The conditions: every combination of the grid's values, in order (the last key varies
    /// fastest; keys in alphabetical order), named from `names` or from the values.
    /// With `[[study.variant]]`s instead of a grid, the conditions are the variants, in order.
    pub fn conditions(&self) -> Result<Vec<Condition>, String> {
        if !self.variants.is_empty() {
            if !self.grid.is_empty() {
                return Err("give either `grid` or `[[study.variant]]`s, not both".into());
            }
            if self.names.is_some() {
                return Err("`names` is for grids; each variant has its own `name`".into());
            }
            let named = self
                .variants
                .iter()
                .map(|v| {
                    let values = v.set.iter().map(|(k, x)| (k.clone(), x.clone())).collect();
                    (v.name.clone(), values)
                })
                .collect();
            return Self::named_conditions(named);
        }
        let mut combos: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
        for (k, values) in &self.grid {
            let mut next = Vec::with_capacity(combos.len() * values.len());
            for c in &combos {
                for v in values {
                    let mut c = c.clone();
                    c.push((k.clone(), v.clone()));
                    next.push(c);
                }
            }
            combos = next;
        }
        if let Some(names) = &self.names {
            if names.len() != combos.len() {
                return Err(format!(
                    "`names` has {} entries but the grid has {} conditions",
                    names.len(),
                    combos.len()
                ));
            }
        }
        let named = combos
            .into_iter()
            .enumerate()
            .map(|(i, values)| {
                let name = match &self.names {
                    Some(n) => n[i].clone(),
                    None if values.is_empty() => self.name.clone(),
                    None => values
                        .iter()
                        .map(|(_, v)| value_text(v))
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                (name, values)
            })
            .collect();
        Self::named_conditions(named)
    }

    /// Conditions from (name, values), checking that their folder names are usable and distinct.
    fn named_conditions(
        named: Vec<(String, Vec<(String, toml::Value)>)>,
    ) -> Result<Vec<Condition>, String> {
        let mut out: Vec<Condition> = Vec::with_capacity(named.len());
        for (name, values) in named {
            let slug = slugify(&name);
            if slug.is_empty() {
                return Err(format!(
                    "condition name `{name}` gives an empty folder name"
                ));
            }
            if let Some(o) = out.iter().find(|c| c.slug == slug) {
                return Err(format!(
                    "conditions `{}` and `{name}` would share the folder `{slug}`; give them distinct names",
                    o.name
                ));
            }
            out.push(Condition { name, slug, values });
        }
        Ok(out)
    }
}

/// A value as a person would write it in a condition name: strings without quotes.
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A folder-safe name: ASCII letters, digits, `.`, `-`; `%` becomes `pct`; the rest `-`.
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars() {
        match c {
            'a'..='z' | '0'..='9' | '.' | '-' | '_' => out.push(c),
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            '%' => out.push_str("pct"),
            _ => {
                if !out.ends_with('-') {
                    out.push('-')
                }
            }
        }
    }
    out.trim_matches('-').to_string()
}

/// Applies (dotted key, value) pairs to a config. Dotted keys become nested tables; the overlay is
/// merged so that sections keep their other keys and a new `cluster.algo` starts from that
/// algorithm's defaults (keeping `k`).
pub fn apply_values(
    cfg: &RunConfig,
    pairs: &[(String, toml::Value)],
    origin: &str,
) -> Result<RunConfig, ExperimentError> {
    if pairs.is_empty() {
        return Ok(cfg.clone());
    }
    let mut cfg = cfg.clone();
    // The algorithm first: switching it resets the section, later keys then refine it.
    let (algo, rest): (Vec<_>, Vec<_>) = pairs.iter().partition(|(k, _)| k == "cluster.algo");
    for group in [algo, rest] {
        if group.is_empty() {
            continue;
        }
        let mut overlay = toml::Table::new();
        for (k, v) in group {
            insert_dotted(&mut overlay, k, v.clone()).map_err(|message| {
                ExperimentError::Parse {
                    origin: origin.into(),
                    message,
                }
            })?;
        }
        let text = toml::to_string(&overlay).map_err(|e| ExperimentError::Parse {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        cfg = cfg
            .merged_with_toml(&text, origin)
            .map_err(|e| ExperimentError::Config(e.to_string()))?;
    }
    Ok(cfg)
}

fn insert_dotted(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{key}` is not a valid dotted key"));
    }
    let mut cur = table;
    for p in &parts[..parts.len() - 1] {
        let e = cur
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()));
        cur = match e {
            toml::Value::Table(t) => t,
            _ => {
                return Err(format!(
                    "`{p}` in `{key}` is set both as a value and as a section"
                ))
            }
        };
    }
    let last = parts[parts.len() - 1].to_string();
    match (cur.get_mut(&last), value) {
        (Some(toml::Value::Table(a)), toml::Value::Table(b)) => {
            for (k, v) in b {
                a.insert(k, v);
            }
        }
        (_, v) => {
            cur.insert(last, v);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_build_every_config() {
        for (name, _) in PRESETS {
            let s = ExperimentSpec::preset(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!s.studies.is_empty());
        }
        let p = ExperimentSpec::preset("paper").unwrap();
        let n: usize = p
            .studies
            .iter()
            .map(|s| s.conditions().unwrap().len() * p.seeds_of(s).len())
            .sum();
        // baseline 5 seeds + sparsity 5 + noise 7 + classes 5 + granularity 5 + dynamic 1.
        assert_eq!(n, 28);
    }

    #[test]
    fn every_experiment_file_parses_and_builds_every_config() {
        // The ablations and other files in experiments/ are not compiled in; keep them valid.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let origin = path.display().to_string();
                let spec = ExperimentSpec::from_toml(&text, &origin)
                    .unwrap_or_else(|e| panic!("{origin}: {e}"));
                assert!(
                    !crate::experiment::plan(&spec).unwrap().is_empty(),
                    "{origin}"
                );
                n += 1;
            }
        }
        assert!(n >= PRESETS.len(), "{n} files in {}", dir.display());
    }

    #[test]
    fn grid_values_reach_the_configs() {
        let p = ExperimentSpec::preset("paper").unwrap();
        let base = p.base_config("t").unwrap();
        let g = p.studies.iter().find(|s| s.name == "granularity").unwrap();
        let conds = g.conditions().unwrap();
        assert_eq!(conds[0].name, "vertical lines");
        assert_eq!(conds[0].slug, "vertical-lines");
        let c = p.condition_config(&base, g, &conds[0], "t").unwrap();
        assert_eq!(c.labels.fraction, 0.01);
        assert_eq!(c.labels.must_link_fraction, 0.0);
        assert_eq!(
            c.labels.groups,
            Some(crate::labels::Groups::vertical_lines())
        );
        let fixed = ExperimentSpec::preset("paper-fixed").unwrap();
        let base = fixed.base_config("t").unwrap();
        let b = &fixed.studies[0];
        let c = fixed
            .condition_config(&base, b, &b.conditions().unwrap()[0], "t")
            .unwrap();
        assert_eq!(c.cluster.name(), "kmeans");
        assert_eq!(c.k(), 10);
    }

    #[test]
    fn unknown_keys_are_rejected_with_a_suggestion() {
        let e = ExperimentSpec::from_toml("name = \"x\"\nseedz = [1]\n", "x.toml").unwrap_err();
        assert!(e.to_string().contains("did you mean `seeds`"), "{e}");
        let text =
            "name = \"x\"\n[[study]]\nname = \"a\"\ngrid = { \"labels.fractoin\" = [0.1] }\n";
        let e = ExperimentSpec::from_toml(text, "x.toml").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("fractoin") && m.contains("did you mean `fraction`"),
            "{m}"
        );
        let text =
            "name = \"x\"\n[[study]]\nname = \"a\"\ngrid = { \"labels.fraction\" = [1.5] }\n";
        let e = ExperimentSpec::from_toml(text, "x.toml").unwrap_err();
        assert!(e.to_string().contains("fraction"), "{e}");
    }

    #[test]
    fn condition_names_must_match_and_be_distinct() {
        let text = "name = \"x\"\n[[study]]\nname = \"a\"\ngrid = { \"labels.fraction\" = [0.1, 0.2] }\nnames = [\"one\"]\n";
        let e = ExperimentSpec::from_toml(text, "x.toml").unwrap_err();
        assert!(e.to_string().contains("2 conditions"), "{e}");
        let text = "name = \"x\"\n[[study]]\nname = \"a\"\ngrid = { \"labels.fraction\" = [0.1, 0.2] }\nnames = [\"a b\", \"a-b\"]\n";
        let e = ExperimentSpec::from_toml(text, "x.toml").unwrap_err();
        assert!(e.to_string().contains("share the folder"), "{e}");
        let text = "name = \"x\"\ntsne = [\"nope\"]\n[[study]]\nname = \"a\"\n";
        let e = ExperimentSpec::from_toml(text, "x.toml").unwrap_err();
        assert!(e.to_string().contains("no study `nope`"), "{e}");
    }

    #[test]
    fn multi_key_grids_take_every_combination() {
        let text = "name = \"x\"\n[[study]]\nname = \"a\"\ngrid = { \"labels.fraction\" = [0.01, 0.02], \"labels.noise\" = [0.0, 0.5, 0.9] }\n";
        let s = ExperimentSpec::from_toml(text, "x.toml").unwrap();
        let c = s.studies[0].conditions().unwrap();
        assert_eq!(c.len(), 6);
        assert_eq!(c[1].name, "0.01, 0.5");
        assert_eq!(c[1].slug, "0.01-0.5");
    }

    #[test]
    fn variants_are_named_conditions_with_their_own_keys() {
        let text = r#"
name = "x"
[base]
"labels.fraction" = 0.01
[[study]]
name = "without"
set = { "model.lr" = 0.02 }
[[study.variant]]
name = "no shifts"
set = { "model.augment" = false }
[[study.variant]]
name = "original network"
set = { "model.arch" = "paper", "model.lr" = 0.01 }
[[study.variant]]
name = "as is"
"#;
        let s = ExperimentSpec::from_toml(text, "x.toml").unwrap();
        let study = &s.studies[0];
        let c = study.conditions().unwrap();
        let names: Vec<&str> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["no shifts", "original network", "as is"]);
        assert_eq!(c[1].slug, "original-network");
        let base = s.base_config("t").unwrap();
        let cfg: Vec<RunConfig> = c
            .iter()
            .map(|c| s.condition_config(&base, study, c, "t").unwrap())
            .collect();
        let d = RunConfig::default();
        assert!(!cfg[0].model.augment && cfg[0].model.lr == 0.02);
        assert_eq!(cfg[0].model.arch, d.model.arch);
        assert!(cfg[1].model.augment && cfg[1].model.lr == 0.01);
        assert_eq!(cfg[1].model.arch, crate::model::Arch::Paper);
        assert_eq!(cfg[2].model.augment, d.model.augment);
        assert_eq!(cfg[2].labels.fraction, 0.01);
        // The spec round-trips through its TOML (what a run folder stores).
        let again = ExperimentSpec::from_toml(&s.to_toml(), "again").unwrap();
        assert_eq!(again, s);
        // A spec without variants does not mention them when written.
        let p = ExperimentSpec::preset("paper").unwrap();
        assert!(!p.to_toml().contains("variant"));

        let both = "name = \"x\"\n[[study]]\nname = \"a\"\ngrid = { \"labels.fraction\" = [0.1] }\n[[study.variant]]\nname = \"v\"\n";
        let e = ExperimentSpec::from_toml(both, "x.toml").unwrap_err();
        assert!(e.to_string().contains("either `grid` or"), "{e}");
        let named = "name = \"x\"\n[[study]]\nname = \"a\"\nnames = [\"n\"]\n[[study.variant]]\nname = \"v\"\n";
        let e = ExperimentSpec::from_toml(named, "x.toml").unwrap_err();
        assert!(e.to_string().contains("its own `name`"), "{e}");
        let twice = "name = \"x\"\n[[study]]\nname = \"a\"\n[[study.variant]]\nname = \"v w\"\n[[study.variant]]\nname = \"v-w\"\n";
        let e = ExperimentSpec::from_toml(twice, "x.toml").unwrap_err();
        assert!(e.to_string().contains("share the folder"), "{e}");
        let bad_key = "name = \"x\"\n[[study]]\nname = \"a\"\n[[study.variant]]\nname = \"v\"\nset = { \"model.agument\" = false }\n";
        let e = ExperimentSpec::from_toml(bad_key, "x.toml").unwrap_err();
        assert!(e.to_string().contains("agument"), "{e}");
    }

    #[test]
    fn top_up_conditions_are_paper_fixed_runs_with_either_top_up() {
        // results/top-up reuses paper-fixed's runs for its "k-means solution" conditions (and the
        // earlier paper-fixed runs for "k-means++ seeding"): valid only while the configs agree.
        let top =
            ExperimentSpec::from_toml(include_str!("../../experiments/top-up.toml"), "top-up.toml")
                .unwrap();
        let fixed = ExperimentSpec::preset("paper-fixed").unwrap();
        let (tb, fb) = (
            top.base_config("t").unwrap(),
            fixed.base_config("f").unwrap(),
        );
        let mut checked = 0;
        for ts in &top.studies {
            let fs = fixed.studies.iter().find(|s| s.name == ts.name).unwrap();
            let fconds = fs.conditions().unwrap();
            for tc in ts.conditions().unwrap() {
                let (name, how) = tc.name.rsplit_once(", ").unwrap();
                let fc = fconds
                    .iter()
                    .find(|c| c.name == name)
                    .unwrap_or_else(|| panic!("{}: no `{name}` in paper-fixed", ts.name));
                let t = top.condition_config(&tb, ts, &tc, "t").unwrap();
                let mut f = fixed.condition_config(&fb, fs, fc, "f").unwrap();
                if how == "k-means++ seeding" {
                    f = f.with_override("cluster.top_up", "kmeans++").unwrap();
                }
                assert_eq!(t, f, "{}/{}", ts.name, tc.name);
                checked += 1;
            }
        }
        assert_eq!(checked, 22);
    }

    #[test]
    fn slugs_are_folder_safe() {
        assert_eq!(slugify("0.05%"), "0.05pct");
        assert_eq!(slugify("1,4,7,9|0,2"), "1-4-7-9-0-2");
        assert_eq!(slugify("Vertical Lines"), "vertical-lines");
    }
}
