//! `deepclust cluster`
use super::{Global, UsageError};
use anyhow::Context;
use clap::Args;
use deepclust::cluster::{Algorithm, ConstrainedClusterer, Preprocess};
use deepclust::labels::{ClassCoverage, ConstraintSet, Groups, LabelAmount, LabelScenario};
use deepclust::{data, metrics};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

/// Cluster the rows of a feature matrix, optionally with constraints from a sparse subset of the
/// true labels.
///
/// Examples:
///   deepclust cluster --features feats.npy --truth y.npy --algo kmeans --k 10
///   deepclust cluster --features feats.npy --truth y.npy --algo pckmeans --labels 1% --max-iter 5 --json
///   deepclust cluster --features feats.npy --truth y.npy --algo pckmeans --labels 1% --noise 0.2 --pca 32 --whiten --l2
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ClusterArgs {
    /// Feature matrix, N×D `.npy` (f32 or f64).
    #[arg(long, value_name = "F.npy")]
    pub features: PathBuf,
    /// True labels (`.npy` of any integer type, or text with one label per line): used for the
    /// label scenario and for the metrics.
    #[arg(long, value_name = "T.npy")]
    pub truth: Option<PathBuf>,
    /// Algorithm: kmeans, pckmeans, copkmeans, seeded.
    #[arg(long, default_value = "kmeans")]
    pub algo: String,
    /// Number of clusters [default: the number of classes in --truth, else 10].
    #[arg(long)]
    pub k: Option<usize>,
    /// Maximum iterations.
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Restarts (k-means and seeded k-means), keeping the lowest objective.
    #[arg(long)]
    pub n_init: Option<usize>,
    /// PCK-means constraint weight for both kinds [default: the paper's 2k/(n·f)].
    #[arg(long)]
    pub w: Option<f64>,
    /// PCK-means: how centroids beyond the labelled classes' means are chosen: `kmeans` (k-means
    /// fitted around those means, which stay fixed) or `kmeans++` (one k-means++ draw) [default:
    /// kmeans].
    #[arg(long, value_name = "HOW")]
    pub top_up: Option<String>,
    /// Labelled points from --truth that become constraints: `1%`, `0.01` or `600`.
    #[arg(long, value_name = "AMOUNT")]
    pub labels: Option<String>,
    /// Fraction of labelled points given a wrong class.
    #[arg(long)]
    pub noise: Option<f64>,
    /// Labels only from these classes: `0,1,7` or `random:M`.
    #[arg(long, conflicts_with = "n_classes")]
    pub classes: Option<String>,
    /// Labels only from this many random classes.
    #[arg(long)]
    pub n_classes: Option<usize>,
    /// Superclass groups: `1,4,7,9|0,2,3,5,6,8`, `size:S`, `count:G`.
    #[arg(long)]
    pub groups: Option<String>,
    /// Fraction of cannot-links kept per class pair (the original: 0.1).
    #[arg(long)]
    pub cannot_link_fraction: Option<f64>,
    /// Do not expand cannot-links over must-link components.
    #[arg(long)]
    pub no_expand: bool,
    /// PCA to this many dimensions before clustering.
    #[arg(long)]
    pub pca: Option<usize>,
    /// Whiten the PCA components.
    #[arg(long, requires = "pca")]
    pub whiten: bool,
    /// L2-normalise rows (after PCA).
    #[arg(long)]
    pub l2: bool,
    /// Write the assignments here (`.npy`, int64).
    #[arg(long, value_name = "OUT.npy")]
    pub out: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

fn usage(e: impl std::fmt::Display) -> anyhow::Error {
    UsageError(e.to_string()).into()
}

fn algorithm(a: &ClusterArgs, k: usize) -> anyhow::Result<Algorithm> {
    let mut t = toml::Table::new();
    t.insert("algo".into(), a.algo.clone().into());
    t.insert("k".into(), (k as i64).into());
    if let Some(m) = a.max_iter {
        t.insert("max_iter".into(), (m as i64).into());
    }
    if let Some(n) = a.n_init {
        t.insert("n_init".into(), (n as i64).into());
    }
    if let Some(w) = a.w {
        t.insert("w_must".into(), w.into());
        t.insert("w_cannot".into(), w.into());
    }
    if let Some(how) = &a.top_up {
        t.insert("top_up".into(), how.clone().into());
    }
    let algo: Algorithm = toml::Value::Table(t)
        .try_into()
        .map_err(|e| usage(format!("--algo {} with these options: {e}", a.algo)))?;
    algo.validate().map_err(usage)?;
    Ok(algo)
}

fn scenario(a: &ClusterArgs) -> anyhow::Result<Option<LabelScenario>> {
    let Some(amount) = &a.labels else {
        if a.noise.is_some() || a.classes.is_some() || a.n_classes.is_some() || a.groups.is_some() {
            return Err(usage("--noise, --classes and --groups need --labels"));
        }
        return Ok(None);
    };
    let mut s =
        LabelScenario::paper(0.0).with_amount(amount.parse::<LabelAmount>().map_err(usage)?);
    if let Some(n) = a.noise {
        s = s.with_noise(n);
    }
    if let Some(c) = &a.classes {
        s = s.with_classes(c.parse::<ClassCoverage>().map_err(usage)?);
    }
    if let Some(m) = a.n_classes {
        s = s.with_classes(ClassCoverage::Random(m));
    }
    if let Some(g) = &a.groups {
        s = s.with_groups(g.parse::<Groups>().map_err(usage)?);
    }
    if let Some(f) = a.cannot_link_fraction {
        s = s.with_cannot_link_fraction(f);
    }
    if a.no_expand {
        s = s.with_expand_cannot_links(false);
    }
    s.check().map_err(usage)?;
    Ok(Some(s))
}

pub fn run(a: ClusterArgs, g: &Global) -> anyhow::Result<()> {
    let seed = g.seed.unwrap_or(42);
    let x = data::npy::read_features(&a.features)?;
    let truth = match &a.truth {
        Some(p) => {
            let t = data::npy::read_labels(p)?;
            if t.len() != x.nrows() {
                return Err(usage(format!(
                    "{} has {} labels but {} has {} rows",
                    p.display(),
                    t.len(),
                    a.features.display(),
                    x.nrows()
                )));
            }
            Some(t)
        }
        None => None,
    };
    let n_classes = truth.as_ref().map(|t| t.iter().max().map_or(0, |m| m + 1));
    let k = a.k.or(n_classes).unwrap_or(10);
    let algo = algorithm(&a, k)?;
    let scenario = scenario(&a)?;

    let t0 = Instant::now();
    let pre = Preprocess {
        pca_dim: a.pca.unwrap_or(0),
        whiten: a.whiten,
        l2: a.l2,
    };
    let x = pre.apply(x.view()).context("preprocessing the features")?;
    let preprocess_seconds = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let revealed = match (&scenario, &truth) {
        (Some(s), Some(t)) => Some(
            s.reveal(
                t,
                n_classes.unwrap_or(0),
                deepclust::seed::derive(seed, "labels"),
            )
            .map_err(usage)?,
        ),
        (Some(_), None) => return Err(usage("--labels needs --truth")),
        _ => None,
    };
    let empty = ConstraintSet::empty(x.nrows());
    let constraints = revealed.as_ref().map_or(&empty, |r| &r.constraints);
    let constraint_seconds = t1.elapsed().as_secs_f64();

    let t2 = Instant::now();
    let c = algo
        .fit(
            x.view(),
            constraints,
            deepclust::seed::derive(seed, "cluster"),
        )
        .with_context(|| format!("clustering with {}", algo.name()))?;
    let cluster_seconds = t2.elapsed().as_secs_f64();

    if let Some(out) = &a.out {
        data::npy::write_labels(out, &c.assignments)?;
    }
    let mut result = json!({
        "algo": algo.name(),
        "k": k,
        "n": x.nrows(),
        "dim": x.ncols(),
        "objective": c.objective,
        "n_iter": c.n_iter,
        "empty_clusters_repaired": c.empty_clusters_repaired,
        "violated_must_links": c.violated_must_links,
        "violated_cannot_links": c.violated_cannot_links,
        "preprocess_seconds": preprocess_seconds,
        "constraint_seconds": constraint_seconds,
        "cluster_seconds": cluster_seconds,
        "seconds": constraint_seconds + cluster_seconds,
    });
    if let Some(r) = &revealed {
        result["constraints"] = serde_json::to_value(&r.stats)?;
    }
    if let Some(t) = &truth {
        let p = &c.assignments;
        result["nmi"] = metrics::nmi(t, p, metrics::NmiNorm::Arithmetic)?.into();
        result["ari"] = metrics::ari(t, p)?.into();
        result["acc"] = metrics::accuracy(t, p)?.into();
    }
    if a.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        print_text(&result);
    }
    Ok(())
}

fn print_text(r: &serde_json::Value) {
    println!(
        "{} (k = {}) on {} × {}: objective {:.6}, {} iterations, {} empty clusters repaired",
        r["algo"].as_str().unwrap_or("?"),
        r["k"],
        r["n"],
        r["dim"],
        r["objective"].as_f64().unwrap_or(f64::NAN),
        r["n_iter"],
        r["empty_clusters_repaired"]
    );
    if let Some(c) = r.get("constraints") {
        println!(
            "constraints: {} labelled, {} must-links, {} cannot-links ({} after expansion); violated: {} must, {} cannot",
            c["labelled"], c["must_links"], c["cannot_links_raw"], c["cannot_links_expanded"],
            r["violated_must_links"], r["violated_cannot_links"]
        );
    }
    if r.get("nmi").is_some() {
        println!(
            "NMI {:.4}  ARI {:.4}  ACC {:.4}",
            r["nmi"].as_f64().unwrap_or(f64::NAN),
            r["ari"].as_f64().unwrap_or(f64::NAN),
            r["acc"].as_f64().unwrap_or(f64::NAN)
        );
    }
    println!(
        "time: preprocess {:.3}s, constraints {:.3}s, clustering {:.3}s",
        r["preprocess_seconds"].as_f64().unwrap_or(0.0),
        r["constraint_seconds"].as_f64().unwrap_or(0.0),
        r["cluster_seconds"].as_f64().unwrap_or(0.0)
    );
}
