//! Running the DeepCluster loop.
use super::config::{RunConfig, SilhouetteMode};
use super::record::{EpochRecord, PhaseSeconds, Summary, TestMetrics};
use super::rundir::{write_json, CheckpointState, RunDir, RunDirError};
use crate::cluster::{predict_nearest, Clustering, ConstrainedClusterer};
use crate::data::{self, Dataset, Split};
use crate::labels::{ConstraintSet, Revealed};
use crate::metrics;
use crate::model::{self, Images, Network};
use crate::{progress, seed};
use ndarray::{Array2, ArrayView2};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What went wrong in a run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The config is not usable.
    #[error(transparent)]
    Config(#[from] super::ConfigError),
    /// The data could not be loaded.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The label scenario does not fit the data.
    #[error("labels: {0}")]
    Labels(#[from] crate::labels::LabelError),
    /// Clustering failed.
    #[error("clustering (epoch {epoch}): {source}")]
    Cluster {
        /// The epoch.
        epoch: usize,
        /// What failed.
        source: crate::cluster::ClusterError,
    },
    /// Preprocessing failed (e.g. the network produced NaN features).
    #[error("preprocessing (epoch {epoch}): {source}")]
    Preprocess {
        /// The epoch.
        epoch: usize,
        /// What failed.
        source: crate::cluster::PreprocessError,
    },
    /// A metric could not be computed.
    #[error("metrics: {0}")]
    Metrics(#[from] crate::metrics::MetricsError),
    /// The network failed.
    #[error("model: {0}")]
    Model(#[from] crate::model::ModelError),
    /// Reading or writing the run directory failed.
    #[error(transparent)]
    RunDir(#[from] RunDirError),
    /// The run directory holds a finished run and `force` was not given.
    #[error("{0} holds a finished run; pass --force to overwrite it")]
    Finished(PathBuf),
    /// The run directory holds an unfinished run and neither `resume` nor `force` was given.
    #[error("{0} holds an unfinished run; pass --resume to continue it or --force to start over")]
    Unfinished(PathBuf),
    /// Resuming with a config that differs from the one the run started with.
    #[error("{path}: the run was started with a different config; differing keys: {keys}")]
    ConfigMismatch {
        /// The run's config file.
        path: PathBuf,
        /// Which keys differ.
        keys: String,
    },
}

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The run directory.
    pub out: PathBuf,
    /// Where datasets live.
    pub data_dir: PathBuf,
    /// Continue an unfinished run in `out`.
    pub resume: bool,
    /// Overwrite whatever is in `out`.
    pub force: bool,
    /// Stop after this many training epochs (the run stays resumable); for tests and time limits.
    pub stop_after: Option<usize>,
    /// A bar advanced by one for every clustering evaluated (`epochs + 1` per run); experiments
    /// use it for an overall progress bar across runs.
    pub progress: Option<indicatif::ProgressBar>,
}

/// Runs (or resumes) one DeepCluster run; returns its summary. With `stop_after` the run may end
/// early, unfinished, and `Ok(None)` is returned.
pub fn run(cfg: &RunConfig, opts: &RunOptions) -> Result<Option<Summary>, PipelineError> {
    cfg.validate()?;
    let dir = RunDir::new(&opts.out);
    let started = Instant::now();
    let state = prepare_dir(cfg, &dir, opts)?;

    // Data.
    let (train, truth, n_classes) = load_train(cfg, &opts.data_dir)?;
    let images = Images::from_u8(
        train.images.as_ref().expect("checked in load_train").view(),
        cfg.model.mean,
        cfg.model.std,
    )?;
    let n = images.len();
    let k = cfg.k();

    let mut net = Network::new(&cfg.model, k, seed::derive(cfg.seed, "model/init"))?;
    let (first_epoch, mut lines, seconds_before) = match &state {
        Some(s) => {
            net.load(&dir.checkpoint_dir().join("model.bin"))?;
            (
                s.epochs_done,
                dir.read_metrics_lines(Some(s.metrics_lines))?,
                s.seconds,
            )
        }
        None => (0, Vec::new(), 0.0),
    };
    if !progress::is_quiet() {
        eprintln!(
            "deepclust: {} images, k = {k}, {} epochs, {} ({} parameters), {}{}",
            n,
            cfg.epochs,
            cfg.cluster.name(),
            net.n_params(),
            model::backend(),
            if first_epoch > 0 {
                format!(", resuming after epoch {first_epoch}")
            } else {
                String::new()
            }
        );
    }

    // The previous epoch's assignment, for NMI between epochs.
    let mut prev: Option<Vec<usize>> = if first_epoch > 0 {
        Some(data::npy::read_labels(&dir.assignments(first_epoch - 1))?)
    } else {
        None
    };
    let static_labels = if cfg.schedule.is_none() {
        Some(reveal(cfg, &truth, n_classes, 0)?)
    } else {
        None
    };

    for epoch in first_epoch..=cfg.epochs {
        let is_final = epoch == cfg.epochs;
        let mut secs = PhaseSeconds::default();

        // 1. Features.
        let t = Instant::now();
        let pb = progress::bar(n as u64, format!("extract {epoch}"));
        let features = net.features(&images, Some(&pb))?;
        pb.finish_and_clear();
        secs.extract = t.elapsed().as_secs_f64();

        // 2. Preprocess.
        let t = Instant::now();
        let (embedding, pca) = cfg
            .preprocess
            .apply_with_model(features.view())
            .map_err(|source| PipelineError::Preprocess { epoch, source })?;
        secs.preprocess = t.elapsed().as_secs_f64();

        // 3. Constraints of this epoch.
        let t = Instant::now();
        let dynamic;
        let revealed: Option<&Revealed> = match (&static_labels, &cfg.schedule) {
            (Some(r), _) => r.as_ref(),
            (None, Some(_)) => {
                dynamic = reveal(cfg, &truth, n_classes, epoch.min(cfg.epochs - 1))?;
                dynamic.as_ref()
            }
            (None, None) => unreachable!("static labels exist without a schedule"),
        };
        let empty = ConstraintSet::empty(n);
        let constraints = revealed.map_or(&empty, |r| &r.constraints);
        secs.constraints = t.elapsed().as_secs_f64();

        // 4. Cluster.
        let t = Instant::now();
        let clustering = cfg
            .cluster
            .fit(
                embedding.view(),
                constraints,
                seed::derive(cfg.seed, &format!("epoch/{epoch}/cluster")),
            )
            .map_err(|source| PipelineError::Cluster { epoch, source })?;
        secs.cluster = t.elapsed().as_secs_f64();

        // 5. Metrics.
        let t = Instant::now();
        let mut record = evaluate(
            cfg,
            epoch,
            &truth,
            &features,
            &embedding,
            &clustering,
            prev.as_deref(),
        )?;
        record.is_final = is_final;
        record.labelled_fraction = match &cfg.schedule {
            Some(s) => s.fraction_at(epoch.min(cfg.epochs - 1)),
            None => revealed.map_or(0.0, |r| r.labelled.len() as f64 / n as f64),
        };
        record.constraints = revealed.map(|r| r.stats.clone());
        secs.metrics = t.elapsed().as_secs_f64();
        crate::data::npy::write_labels(&dir.assignments(epoch), &clustering.assignments)?;
        if let Some(p) = &opts.progress {
            p.inc(1);
        }

        if is_final {
            if cfg.data.eval_test {
                record.test = Some(evaluate_test(
                    cfg,
                    &opts.data_dir,
                    &net,
                    pca.as_ref(),
                    &clustering,
                )?);
            }
            write_final_arrays(&dir, &features, &embedding, &clustering, &truth)?;
            record.seconds = secs;
            print_epoch(&record);
            lines.push(serde_json::to_string(&record).expect("record serialises"));
            dir.write_metrics_lines(&lines)?;
            let summary = Summary {
                version: crate::VERSION.into(),
                backend: model::backend(),
                n_params: net.n_params(),
                n_images: n,
                epochs: cfg.epochs,
                final_record: record,
                seconds: seconds_before + started.elapsed().as_secs_f64(),
            };
            write_json(&dir.summary(), &summary)?;
            return Ok(Some(summary));
        }

        // 6. Train on the pseudo-labels.
        let t = Instant::now();
        match cfg.model.head_init {
            model::HeadInit::Random => {
                net.reset_head(k, seed::derive(cfg.seed, &format!("epoch/{epoch}/head")))
            }
            model::HeadInit::Centroids => {
                net.set_head_to_centroids(&features, &clustering.assignments, k)?
            }
        }
        net.set_lr_factor(cfg.train.lr_schedule.factor(epoch, cfg.epochs));
        let total = (cfg.train.reassign * n as f64).round() as usize;
        let order = cfg.train.sampler.draw(
            &clustering.assignments,
            total,
            cfg.seed,
            &format!("epoch/{epoch}/sampler"),
        );
        let pb = progress::bar(order.len() as u64, format!("train {epoch}"));
        let stats = net.train_epoch(
            &images,
            &clustering.assignments,
            &order,
            seed::derive(cfg.seed, &format!("epoch/{epoch}/train")),
            Some(&pb),
        )?;
        pb.finish_and_clear();
        secs.train = t.elapsed().as_secs_f64();
        record.train_loss = Some(stats.loss);
        record.train_accuracy = Some(stats.accuracy);
        record.seconds = secs;
        print_epoch(&record);

        // 7. Checkpoint: metrics first, then the model, then the state that points at both.
        lines.push(serde_json::to_string(&record).expect("record serialises"));
        dir.write_metrics_lines(&lines)?;
        net.save(&dir.checkpoint_dir().join("model.bin"))?;
        let elapsed = seconds_before + started.elapsed().as_secs_f64();
        write_json(
            &dir.checkpoint_state(),
            &CheckpointState {
                epochs_done: epoch + 1,
                metrics_lines: lines.len(),
                seconds: elapsed,
            },
        )?;
        prev = Some(clustering.assignments);
        if opts.stop_after.is_some_and(|s| epoch + 1 >= s) {
            return Ok(None);
        }
    }
    unreachable!("the loop returns at the final epoch")
}

/// Checks what is in the run directory, clears it with `force`, writes the config; returns the
/// checkpoint to resume from, if any.
fn prepare_dir(
    cfg: &RunConfig,
    dir: &RunDir,
    opts: &RunOptions,
) -> Result<Option<CheckpointState>, PipelineError> {
    let root = dir.root().to_path_buf();
    if opts.force && root.exists() {
        std::fs::remove_dir_all(&root).map_err(|source| RunDirError::Io {
            path: root.clone(),
            source,
        })?;
    }
    if dir.is_finished() {
        return Err(PipelineError::Finished(root));
    }
    let existing = dir.config().is_file();
    if existing && !opts.resume {
        return Err(PipelineError::Unfinished(root));
    }
    if existing {
        let text = std::fs::read_to_string(dir.config()).map_err(|source| RunDirError::Io {
            path: dir.config(),
            source,
        })?;
        let old = RunConfig::from_saved_toml(&text, &dir.config().display().to_string())?;
        if &old != cfg {
            return Err(PipelineError::ConfigMismatch {
                path: dir.config(),
                keys: old.differing_keys(cfg).join(", "),
            });
        }
        return Ok(dir.read_checkpoint()?);
    }
    for sub in ["assignments", "checkpoint"] {
        let p = root.join(sub);
        std::fs::create_dir_all(&p).map_err(|source| RunDirError::Io { path: p, source })?;
    }
    super::rundir::atomic_write(
        &dir.config(),
        cfg.to_saved_toml(&model::backend()).as_bytes(),
    )?;
    Ok(None)
}

fn load_train(
    cfg: &RunConfig,
    data_dir: &Path,
) -> Result<(Dataset, Vec<usize>, usize), PipelineError> {
    let mut ds = data::load(&cfg.data.name, Split::Train, data_dir)?;
    if cfg.data.limit > 0 && cfg.data.limit < ds.len() {
        ds = ds.balanced_prefix(cfg.data.limit, seed::derive(cfg.seed, "data/limit"));
    }
    if ds.images.is_none() {
        return Err(PipelineError::Config(super::ConfigError::Invalid(format!(
            "dataset `{}` has no images; the pipeline trains a CNN on images",
            cfg.data.name
        ))));
    }
    let truth = ds.labels.clone().ok_or_else(|| {
        PipelineError::Config(super::ConfigError::Invalid(format!(
            "dataset `{}` has no labels; runs need true labels for constraints and metrics",
            cfg.data.name
        )))
    })?;
    let n_classes = ds.n_classes;
    Ok((ds, truth, n_classes))
}

/// The revealed labels of `epoch` (None when no point is labelled).
fn reveal(
    cfg: &RunConfig,
    truth: &[usize],
    n_classes: usize,
    epoch: usize,
) -> Result<Option<Revealed>, PipelineError> {
    let scenario = match &cfg.schedule {
        Some(s) => cfg.labels.for_epoch(s, epoch),
        None => cfg.labels.clone(),
    };
    if scenario.labelled_count(truth.len()) == 0 {
        return Ok(None);
    }
    Ok(Some(scenario.reveal(
        truth,
        n_classes,
        seed::derive(cfg.seed, "labels"),
    )?))
}

fn silhouette(
    mode: SilhouetteMode,
    x: ArrayView2<'_, f32>,
    labels: &[usize],
    seed: u64,
) -> Result<Option<f64>, PipelineError> {
    let distinct = labels
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    if distinct < 2 {
        return Ok(None);
    }
    Ok(match mode {
        SilhouetteMode::Off => None,
        SilhouetteMode::Exact => Some(metrics::silhouette(x, labels)?),
        SilhouetteMode::Sampled(m) if m >= labels.len() => Some(metrics::silhouette(x, labels)?),
        SilhouetteMode::Sampled(m) => Some(metrics::silhouette_sampled(x, labels, m, seed)?),
    })
}

fn evaluate(
    cfg: &RunConfig,
    epoch: usize,
    truth: &[usize],
    features: &Array2<f32>,
    embedding: &Array2<f32>,
    c: &Clustering,
    prev: Option<&[usize]>,
) -> Result<EpochRecord, PipelineError> {
    let pred = &c.assignments;
    let sseed = seed::derive(cfg.seed, &format!("epoch/{epoch}/silhouette"));
    // Silhouettes and Davies–Bouldin cost more than the rest of an epoch's evaluation together;
    // `eval.every_epoch = false` keeps them for the last two clusterings only: the one made at the
    // start of the last training epoch (what the original reported) and the final one.
    let geometry = cfg.eval.every_epoch || epoch + 1 >= cfg.epochs;
    let off = |m: SilhouetteMode| if geometry { m } else { SilhouetteMode::Off };
    let mut sizes = vec![0usize; cfg.k()];
    for &a in pred {
        sizes[a] += 1;
    }
    Ok(EpochRecord {
        epoch,
        is_final: false,
        labelled_fraction: 0.0,
        constraints: None,
        nmi: metrics::nmi(truth, pred, metrics::NmiNorm::Arithmetic)?,
        ari: metrics::ari(truth, pred)?,
        acc: metrics::accuracy(truth, pred)?,
        nmi_prev: prev
            .map(|p| metrics::nmi(p, pred, metrics::NmiNorm::Arithmetic))
            .transpose()?,
        silhouette: silhouette(off(cfg.eval.silhouette), embedding.view(), pred, sseed)?,
        silhouette_raw: silhouette(off(cfg.eval.silhouette_raw), features.view(), pred, sseed)?,
        davies_bouldin: if geometry
            && cfg.eval.davies_bouldin
            && sizes.iter().filter(|&&s| s > 0).count() > 1
        {
            Some(metrics::davies_bouldin(features.view(), pred)?)
        } else {
            None
        },
        objective: c.objective,
        cluster_iterations: c.n_iter,
        violated_must_links: c.violated_must_links,
        violated_cannot_links: c.violated_cannot_links,
        empty_clusters_repaired: c.empty_clusters_repaired,
        cluster_sizes: sizes,
        train_loss: None,
        train_accuracy: None,
        test: None,
        seconds: PhaseSeconds::default(),
    })
}

fn evaluate_test(
    cfg: &RunConfig,
    data_dir: &Path,
    net: &Network,
    pca: Option<&crate::cluster::PcaModel>,
    c: &Clustering,
) -> Result<TestMetrics, PipelineError> {
    let test = data::load(&cfg.data.name, Split::Test, data_dir)?;
    let truth = test.labels.clone().unwrap_or_default();
    let images = Images::from_u8(
        test.images.as_ref().expect("image dataset").view(),
        cfg.model.mean,
        cfg.model.std,
    )?;
    let feats = net.features(&images, None)?;
    let emb = cfg
        .preprocess
        .apply_with_fitted(feats.view(), pca)
        .map_err(|source| PipelineError::Preprocess {
            epoch: cfg.epochs,
            source,
        })?;
    let pred = predict_nearest(emb.view(), c.centroids.view()).map_err(|source| {
        PipelineError::Cluster {
            epoch: cfg.epochs,
            source,
        }
    })?;
    Ok(TestMetrics {
        n: truth.len(),
        nmi: metrics::nmi(&truth, &pred, metrics::NmiNorm::Arithmetic)?,
        ari: metrics::ari(&truth, &pred)?,
        acc: metrics::accuracy(&truth, &pred)?,
    })
}

fn write_final_arrays(
    dir: &RunDir,
    features: &Array2<f32>,
    embedding: &Array2<f32>,
    c: &Clustering,
    truth: &[usize],
) -> Result<(), PipelineError> {
    data::npy::write_features(&dir.file("features-final.npy"), features.view())?;
    data::npy::write_features(&dir.file("embedding-final.npy"), embedding.view())?;
    data::npy::write_labels(&dir.file("labels-final.npy"), &c.assignments)?;
    data::npy::write_labels(&dir.file("truth.npy"), truth)?;
    Ok(())
}

fn print_epoch(r: &EpochRecord) {
    if progress::is_quiet() {
        return;
    }
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    let s = &r.seconds;
    eprintln!(
        "{} NMI {:.3} ARI {:.3} ACC {:.3} sil {} NMI-prev {} | loss {} | {:.1}s (extract {:.1}, cluster {:.1}, metrics {:.1}, train {:.1})",
        if r.is_final { "final   ".to_string() } else { format!("epoch {:>2}", r.epoch) },
        r.nmi,
        r.ari,
        r.acc,
        opt(r.silhouette_raw),
        opt(r.nmi_prev),
        opt(r.train_loss),
        s.extract + s.preprocess + s.constraints + s.cluster + s.metrics + s.train,
        s.extract,
        s.cluster,
        s.metrics,
        s.train
    );
    if let Some(t) = &r.test {
        eprintln!(
            "test     NMI {:.3} ARI {:.3} ACC {:.3} on {} images",
            t.nmi, t.ari, t.acc, t.n
        );
    }
}
