//! The CNN, its forward pass, training epoch, feature extraction and checkpoints.
use super::sgd::Sgd;
use super::{tch_device, Images, ModelConfig, ModelError};
use crate::seed;
use indicatif::ProgressBar;
use ndarray::Array2;
use rand::{Rng as _, RngCore as _};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Kind, Tensor};

/// Side of the square input images the network takes (MNIST's 28 pixels): three poolings then
/// leave a 2×2 map, so the flattened conv output has 4 × (last channel count) values.
pub const INPUT_SIDE: usize = 28;
const BN_MOMENTUM: f64 = 0.1;
const BN_EPS: f64 = 1e-5;
/// Format tag stored in every checkpoint.
const CHECKPOINT_FORMAT: i64 = 1;

/// What one [`Network::train_epoch`] did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainStats {
    /// Samples visited (length of the visiting order).
    pub samples: usize,
    /// Mean cross-entropy over the samples (each batch's mean weighted by its size), in train mode
    /// and before each batch's update.
    pub loss: f64,
    /// Fraction of samples whose arg-max prediction equals its pseudo-label, same conditions.
    pub accuracy: f64,
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
}

/// Names of the body's trainable tensors, in the order kept in `Network::body`.
const BODY_NAMES: [&str; 14] = [
    "conv1.weight",
    "conv1.bias",
    "bn1.weight",
    "bn1.bias",
    "conv2.weight",
    "conv2.bias",
    "bn2.weight",
    "bn2.bias",
    "conv3.weight",
    "conv3.bias",
    "bn3.weight",
    "bn3.bias",
    "fc.weight",
    "fc.bias",
];
/// Names of the batch-norm running statistics, in the order kept in `Network::buffers`.
const BUFFER_NAMES: [&str; 6] = [
    "bn1.running_mean",
    "bn1.running_var",
    "bn2.running_mean",
    "bn2.running_var",
    "bn3.running_mean",
    "bn3.running_var",
];
const HEAD_NAMES: [&str; 2] = ["head.weight", "head.bias"];

/// The DeepCluster CNN (see [`super::Arch`]) with its two SGD optimisers: one for the body, created
/// once, whose momentum persists; one for the head, created afresh by every [`Network::reset_head`].
///
/// | stage | layers (Paper widths) | output |
/// |---|---|---|
/// | 1 | Conv(1→8, 3×3, stride 2, pad 1) + BN + ReLU, MaxPool 2 | 8×7×7 |
/// | 2 | Conv(8→16, 2×2, pad 1) + BN + ReLU, MaxPool 2 | 16×4×4 |
/// | 3 | Conv(16→32, 2×2, pad 1) + BN + ReLU, MaxPool 2 | 32×2×2 = 128 |
/// | 4 | Dropout → Linear(128→64) (= features) → ReLU | 64 |
/// | 5 | head Linear(64→k) | k |
pub struct Network {
    cfg: ModelConfig,
    n_clusters: usize,
    /// Trainable body tensors, order of [`BODY_NAMES`].
    body: Vec<Tensor>,
    /// BN running statistics, order of [`BUFFER_NAMES`].
    buffers: Vec<Tensor>,
    /// Head weight (k×feature_dim) and bias (k).
    head: Vec<Tensor>,
    body_opt: Sgd,
    head_opt: Sgd,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("arch", &self.cfg.arch)
            .field("feature_dim", &self.cfg.feature_dim)
            .field("n_clusters", &self.n_clusters)
            .field("n_params", &self.n_params())
            .finish()
    }
}

/// A tensor of normal samples N(0, `std`) drawn from our own generator: libtorch's generator is
/// one global object, so drawing from it would make results depend on whatever else the process
/// (another thread, another run) does with it.
fn normal(shape: &[i64], std: f64, rng: &mut seed::Rng) -> Tensor {
    let dist = rand_distr::Normal::new(0.0f64, std).expect("std is finite and positive");
    let n: i64 = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.sample(dist) as f32).collect();
    Tensor::from_slice(&v).view(shape).to_device(tch_device())
}

/// An inverted-dropout mask (entries 0 or 1/(1−p), like `torch.nn.functional.dropout`) drawn from
/// our own generator, for the same reason as [`normal`].
fn dropout_mask(
    rows: i64,
    cols: i64,
    p: f64,
    rng: &mut seed::Rng,
) -> Result<Tensor, tch::TchError> {
    let keep = 1.0 - p;
    let scale = (1.0 / keep) as f32;
    let threshold = (keep * 4_294_967_296.0) as u64;
    let v: Vec<f32> = (0..rows * cols)
        .map(|_| {
            if u64::from(rng.next_u32()) < threshold {
                scale
            } else {
                0.0
            }
        })
        .collect();
    Tensor::f_from_slice(&v)?
        .f_view([rows, cols])?
        .f_to_device(tch_device())
}

/// The same values in channels-last layout (strides C·H·W, 1, W·C, C), also for C = 1 where
/// libtorch would otherwise treat the tensor as plain contiguous. With channels-last conv weights
/// libtorch's oneDNN convolutions, batch norm and max-pooling all run in channels-last layout,
/// which measured 1.7× faster per training step than the default layout for this network
/// (max-pooling in NCHW layout alone took over a fifth of the time).
fn channels_last(t: &Tensor) -> Tensor {
    let s = t.size();
    let (o, c, h, w) = (s[0], s[1], s[2], s[3]);
    t.permute([0, 2, 3, 1])
        .contiguous()
        .as_strided([o, c, h, w], [c * h * w, 1, w * c, c], 0)
        .detach()
}

/// 2×2 max-pooling with stride 2 (floor) as two pairwise maxima of strided views: exactly the
/// values of `max_pool2d`, several times faster on the CPU without autograd (no indices). Used
/// for feature extraction only; training keeps `max_pool2d`, whose backward is faster.
fn max_pool_2x2_eval(x: &Tensor) -> Result<Tensor, tch::TchError> {
    let s = x.size();
    let (h, w) = (s[2] / 2 * 2, s[3] / 2 * 2);
    let x = x.f_narrow(2, 0, h)?.f_narrow(3, 0, w)?;
    let rows = x.f_slice(2, 0, h, 2)?.f_maximum(&x.f_slice(2, 1, h, 2)?)?;
    rows.f_slice(3, 0, w, 2)?
        .f_maximum(&rows.f_slice(3, 1, w, 2)?)
}

fn leaf(t: Tensor) -> Tensor {
    t.set_requires_grad(true)
}

fn check_clusters(n_clusters: usize) -> Result<(), ModelError> {
    if n_clusters == 0 {
        return Err(ModelError::arg("n_clusters", "at least 1", "0".to_string()));
    }
    Ok(())
}

impl Network {
    /// A freshly initialised network with a head of `n_clusters` outputs, initialised as the
    /// original: conv weights Kaiming-normal (fan_out, ReLU gain), every linear weight N(0, 0.01),
    /// all biases 0, BN γ = 1, β = 0, running mean 0 and variance 1. Seeded from `seed`.
    pub fn new(cfg: &ModelConfig, n_clusters: usize, seed: u64) -> Result<Network, ModelError> {
        cfg.validate()?;
        check_clusters(n_clusters)?;
        let mut rng = seed::rng(seed, "model/init");
        let opts = (Kind::Float, tch_device());
        let [c1, c2, c3] = cfg.arch.channels();
        let fd = cfg.feature_dim as i64;
        let mut kaiming = |o: i64, i: i64, k: i64| {
            let std = (2.0 / (o * k * k) as f64).sqrt();
            leaf(channels_last(&normal(&[o, i, k, k], std, &mut rng)))
        };
        let zeros = |n: i64| leaf(Tensor::zeros([n], opts));
        let ones = |n: i64| leaf(Tensor::ones([n], opts));
        let mut body = Vec::with_capacity(BODY_NAMES.len());
        for (o, i, k) in [(c1, 1, 3), (c2, c1, 2), (c3, c2, 2)] {
            body.push(kaiming(o, i, k));
            body.push(zeros(o));
            body.push(ones(o));
            body.push(zeros(o));
        }
        body.push(leaf(normal(&[fd, 4 * c3], 0.01, &mut rng)));
        body.push(zeros(fd));
        let buffers = [c1, c2, c3]
            .into_iter()
            .flat_map(|c| [Tensor::zeros([c], opts), Tensor::ones([c], opts)])
            .collect();
        let mut net = Network {
            cfg: cfg.clone(),
            n_clusters,
            body,
            buffers,
            head: Vec::new(),
            body_opt: Sgd::new(BODY_NAMES.len(), cfg.lr, cfg.momentum, cfg.weight_decay),
            head_opt: Sgd::new(0, 0.0, 0.0, 0.0),
        };
        net.reset_head(n_clusters, seed);
        Ok(net)
    }

    /// The configuration the network was built with.
    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    /// Number of outputs of the current head.
    pub fn n_clusters(&self) -> usize {
        self.n_clusters
    }

    /// Number of trainable parameters, head included (BN running statistics excluded).
    pub fn n_params(&self) -> usize {
        self.body.iter().chain(&self.head).map(|t| t.numel()).sum()
    }

    /// Replaces the head by a fresh Linear(feature_dim → `n_clusters`) with weights N(0, 0.01)
    /// and bias 0 (seeded from `seed`), and gives it a fresh optimiser (`head_lr`,
    /// `head_momentum`, `weight_decay`). The body and its optimiser state are untouched.
    ///
    /// # Panics
    /// If `n_clusters` is 0.
    pub fn reset_head(&mut self, n_clusters: usize, seed: u64) {
        assert!(n_clusters > 0, "reset_head: n_clusters must be at least 1");
        let opts = (Kind::Float, tch_device());
        let mut rng = seed::rng(seed, "model/head");
        let w = normal(
            &[n_clusters as i64, self.cfg.feature_dim as i64],
            0.01,
            &mut rng,
        );
        self.head = vec![leaf(w), leaf(Tensor::zeros([n_clusters as i64], opts))];
        self.n_clusters = n_clusters;
        self.head_opt = Sgd::new(
            2,
            self.cfg.head_lr(),
            self.cfg.head_momentum,
            self.cfg.weight_decay,
        );
    }

    /// Sets the head to the nearest-centroid classifier of `assignments` ([`HeadInit::Centroids`]):
    /// row `c` of the weights is the mean of `relu(features)` over the points of cluster `c` (zero
    /// for an empty cluster), the bias −½‖row‖². `features` are [`Network::features`]' output
    /// (`N × feature_dim`). A fresh head optimiser is created, as by [`Network::reset_head`].
    pub fn set_head_to_centroids(
        &mut self,
        features: &Array2<f32>,
        assignments: &[usize],
        n_clusters: usize,
    ) -> Result<(), ModelError> {
        check_clusters(n_clusters)?;
        let d = self.cfg.feature_dim;
        if features.ncols() != d || features.nrows() != assignments.len() {
            return Err(ModelError::arg(
                "features",
                format!("{} × {d} (one row per assignment)", assignments.len()),
                format!("{} × {}", features.nrows(), features.ncols()),
            ));
        }
        let mut sums = vec![0.0f64; n_clusters * d];
        let mut counts = vec![0usize; n_clusters];
        for (row, &c) in features.rows().into_iter().zip(assignments) {
            if c >= n_clusters {
                return Err(ModelError::arg(
                    "assignments",
                    format!("cluster ids below {n_clusters}"),
                    c.to_string(),
                ));
            }
            counts[c] += 1;
            for (s, &v) in sums[c * d..(c + 1) * d].iter_mut().zip(row) {
                *s += f64::from(v.max(0.0));
            }
        }
        let mut w = vec![0.0f32; n_clusters * d];
        let mut bias = vec![0.0f32; n_clusters];
        for c in 0..n_clusters {
            if counts[c] == 0 {
                continue;
            }
            let mean: Vec<f64> = sums[c * d..(c + 1) * d]
                .iter()
                .map(|s| s / counts[c] as f64)
                .collect();
            bias[c] = (-0.5 * mean.iter().map(|m| m * m).sum::<f64>()) as f32;
            for (o, m) in w[c * d..(c + 1) * d].iter_mut().zip(&mean) {
                *o = *m as f32;
            }
        }
        let dev = tch_device();
        let w = Tensor::from_slice(&w)
            .view([n_clusters as i64, d as i64])
            .to_device(dev);
        let b = Tensor::from_slice(&bias).to_device(dev);
        self.head = vec![leaf(w), leaf(b)];
        self.n_clusters = n_clusters;
        self.head_opt = Sgd::new(
            2,
            self.cfg.head_lr(),
            self.cfg.head_momentum,
            self.cfg.weight_decay,
        );
        Ok(())
    }

    /// Scales the learning rates of the body and of the current head to `factor` × the
    /// configured ones (`lr`, `head_lr`), for a schedule over epochs. A head reset restores the
    /// head's configured rate, so call this after [`Network::reset_head`].
    pub fn set_lr_factor(&mut self, factor: f64) {
        self.body_opt.lr = self.cfg.lr * factor;
        self.head_opt.lr = self.cfg.head_lr() * factor;
    }

    /// Pre-ReLU output of the hidden linear layer for a batch.
    /// `dropout`: the generator for the dropout mask in train mode (`None`: eval mode).
    fn body_forward(
        &self,
        x: &Tensor,
        dropout: Option<&mut seed::Rng>,
    ) -> Result<Tensor, tch::TchError> {
        let train = dropout.is_some();
        let b = &self.body;
        let r = &self.buffers;
        let stage = |x: &Tensor, i: usize, stride: i64| -> Result<Tensor, tch::TchError> {
            let mut y = x
                .f_conv2d(
                    &b[4 * i],
                    Some(&b[4 * i + 1]),
                    [stride, stride],
                    [1, 1],
                    [1, 1],
                    1,
                )?
                .f_batch_norm(
                    Some(&b[4 * i + 2]),
                    Some(&b[4 * i + 3]),
                    Some(&r[2 * i]),
                    Some(&r[2 * i + 1]),
                    train,
                    BN_MOMENTUM,
                    BN_EPS,
                    true,
                )?;
            let _ = y.f_relu_()?;
            if train {
                y.f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)
            } else {
                max_pool_2x2_eval(&y)
            }
        };
        let y = stage(x, 0, 2)?;
        let y = stage(&y, 1, 1)?;
        let y = stage(&y, 2, 1)?;
        let y = y.f_flatten(1, -1)?;
        let y = match dropout {
            Some(rng) if self.cfg.dropout > 0.0 => {
                let s = y.size();
                y.f_mul(&dropout_mask(s[0], s[1], self.cfg.dropout, rng)?)?
            }
            _ => y,
        };
        y.f_linear(&b[12], Some(&b[13]))
    }

    fn check_images(&self, images: &Images) -> Result<(), ModelError> {
        if images.height != INPUT_SIDE || images.width != INPUT_SIDE {
            return Err(ModelError::arg(
                "images",
                format!("{INPUT_SIDE}×{INPUT_SIDE} pixels"),
                format!("{}×{}", images.height, images.width),
            ));
        }
        Ok(())
    }

    /// Features of every image: the pre-ReLU output of the hidden linear layer (with
    /// `feature_relu`, the post-ReLU output the head sees), N×`feature_dim`, in eval mode (no dropout, BN running statistics), without autograd, in batches of
    /// `eval_batch_size`. The progress bar, if any, advances by images.
    pub fn features(
        &self,
        images: &Images,
        progress: Option<&ProgressBar>,
    ) -> Result<Array2<f32>, ModelError> {
        self.check_images(images)?;
        let n = images.len();
        let fd = self.cfg.feature_dim;
        let mut out = Array2::<f32>::zeros((n, fd));
        let slice = out.as_slice_mut().expect("fresh array is contiguous");
        let _guard = tch::no_grad_guard();
        let bs = self.cfg.eval_batch_size;
        let mut start = 0;
        while start < n {
            let len = bs.min(n - start);
            let x = images.data.narrow(0, start as i64, len as i64);
            let relu = self.cfg.feature_relu;
            let f = self
                .body_forward(&x, None)
                .and_then(|f| if relu { f.f_relu() } else { Ok(f) })
                .and_then(|f| f.f_to_device(tch::Device::Cpu)?.f_contiguous())
                .map_err(ModelError::torch("extracting features"))?;
            f.f_copy_data(&mut slice[start * fd..(start + len) * fd], len * fd)
                .map_err(ModelError::torch("copying features"))?;
            start += len;
            if let Some(pb) = progress {
                pb.inc(len as u64);
            }
        }
        Ok(out)
    }

    /// One pass of training: the images `order[0..batch_size]`, then the next batch, … (the last
    /// batch may be smaller), each with cross-entropy against `targets[image]` and one SGD step of
    /// the body and of the head. Train mode: dropout on, BN batch statistics (running statistics
    /// updated). Dropout and augmentation are seeded from `seed`. The progress bar, if any,
    /// advances by samples.
    pub fn train_epoch(
        &mut self,
        images: &Images,
        targets: &[usize],
        order: &[usize],
        seed: u64,
        progress: Option<&ProgressBar>,
    ) -> Result<TrainStats, ModelError> {
        let started = Instant::now();
        self.check_images(images)?;
        let n = images.len();
        if targets.len() != n {
            return Err(ModelError::arg(
                "targets",
                format!("one pseudo-label per image ({n})"),
                format!("{} labels", targets.len()),
            ));
        }
        if let Some((i, &t)) = targets
            .iter()
            .enumerate()
            .find(|(_, &t)| t >= self.n_clusters)
        {
            return Err(ModelError::arg(
                format!("targets[{i}]"),
                format!("a cluster id below the head's {} outputs", self.n_clusters),
                t.to_string(),
            ));
        }
        if let Some((i, &o)) = order.iter().enumerate().find(|(_, &o)| o >= n) {
            return Err(ModelError::arg(
                format!("order[{i}]"),
                format!("an image index below {n}"),
                o.to_string(),
            ));
        }
        let dev = tch_device();
        let mut drop_rng = seed::rng(seed, "model/dropout");
        let mut aug_rng = seed::rng(seed, "model/augment");
        let order_i64: Vec<i64> = order.iter().map(|&o| o as i64).collect();
        let targets_i64: Vec<i64> = targets.iter().map(|&t| t as i64).collect();
        let mut run = |net: &mut Network| -> Result<(f64, i64), tch::TchError> {
            let order_t = Tensor::f_from_slice(&order_i64)?.f_to_device(dev)?;
            let targets_t = Tensor::f_from_slice(&targets_i64)?.f_to_device(dev)?;
            let mut loss_sum = 0.0f64;
            let mut correct = 0i64;
            let bs = net.cfg.batch_size;
            let mut start = 0;
            while start < order.len() {
                let len = bs.min(order.len() - start);
                let idx = order_t.f_narrow(0, start as i64, len as i64)?;
                let mut x = images.data.f_index_select(0, &idx)?;
                if net.cfg.rotate > 0.0 || net.cfg.scale > 0.0 {
                    x = warp(
                        &x,
                        images.background,
                        net.cfg.rotate,
                        net.cfg.scale,
                        &mut aug_rng,
                    )?;
                }
                if net.cfg.augment {
                    x = shift(&x, images.background, &mut aug_rng)?;
                }
                let y = targets_t.f_index_select(0, &idx)?;
                let feats = net.body_forward(&x, Some(&mut drop_rng))?;
                let logits = feats.f_relu()?.f_linear(&net.head[0], Some(&net.head[1]))?;
                let loss = logits.f_log_softmax(-1, Kind::Float)?.f_nll_loss(
                    &y,
                    None::<&Tensor>,
                    tch::Reduction::Mean,
                    -100,
                )?;
                let params: Vec<&Tensor> = net.body.iter().chain(&net.head).collect();
                let grads = Tensor::f_run_backward(&[&loss], &params, false, false)?;
                let (gb, gh) = grads.split_at(net.body.len());
                net.body_opt.step(&net.body, gb)?;
                net.head_opt.step(&net.head, gh)?;
                loss_sum += loss.f_double_value(&[])? * len as f64;
                correct += logits
                    .f_argmax(-1, false)?
                    .f_eq_tensor(&y)?
                    .f_sum(Kind::Int64)?
                    .f_int64_value(&[])?;
                start += len;
                if let Some(pb) = progress {
                    pb.inc(len as u64);
                }
            }
            Ok((loss_sum, correct))
        };
        let (loss_sum, correct) = run(self).map_err(ModelError::torch("training"))?;
        let samples = order.len();
        let denom = samples.max(1) as f64;
        Ok(TrainStats {
            samples,
            loss: loss_sum / denom,
            accuracy: correct as f64 / denom,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// All named tensors of a checkpoint.
    fn named_state(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = Vec::new();
        for (name, t) in BODY_NAMES.iter().zip(&self.body) {
            v.push((format!("body.{name}"), t.detach().contiguous()));
        }
        for (name, t) in BUFFER_NAMES.iter().zip(&self.buffers) {
            v.push((format!("body.{name}"), t.shallow_clone()));
        }
        for (name, t) in HEAD_NAMES.iter().zip(&self.head) {
            v.push((name.to_string(), t.detach()));
        }
        for (name, b) in BODY_NAMES.iter().zip(&self.body_opt.bufs) {
            if let Some(b) = b {
                v.push((format!("opt.body.{name}"), b.contiguous()));
            }
        }
        for (name, b) in HEAD_NAMES.iter().zip(&self.head_opt.bufs) {
            if let Some(b) = b {
                v.push((format!("opt.{name}"), b.shallow_clone()));
            }
        }
        v.push((
            "meta.format".to_string(),
            Tensor::from_slice(&[CHECKPOINT_FORMAT]),
        ));
        v
    }

    /// Writes weights, BN running statistics and both optimisers' momentum buffers to `path`
    /// (libtorch's tensor archive format), atomically: a temporary file beside it, synced, then
    /// renamed over `path`.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let tmp = tmp_path(path);
        let named = self.named_state();
        Tensor::save_multi(&named, &tmp).map_err(|e| ModelError::Checkpoint {
            path: tmp.clone(),
            reason: format!("cannot write: {e}"),
        })?;
        let io = |action, source| ModelError::Io {
            action,
            path: tmp.clone(),
            source,
        };
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| io("syncing checkpoint", e))?;
        std::fs::rename(&tmp, path).map_err(|source| ModelError::Io {
            action: "renaming checkpoint into",
            path: path.to_path_buf(),
            source,
        })?;
        Ok(())
    }

    /// Restores a checkpoint written by [`Network::save`] for the same architecture and
    /// `feature_dim`. The head takes the checkpoint's number of clusters. Hyper-parameters (learning
    /// rates, …) stay those of this network's config. On error the network is unchanged.
    pub fn load(&mut self, path: &Path) -> Result<(), ModelError> {
        let ck = |reason: String| ModelError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let loaded = Tensor::load_multi_with_device(path, tch_device())
            .map_err(|e| ck(format!("cannot read: {e}")))?;
        let mut map: std::collections::HashMap<String, Tensor> = loaded.into_iter().collect();
        match map.remove("meta.format") {
            Some(t) if t.numel() == 1 && t.int64_value(&[0]) == CHECKPOINT_FORMAT => {}
            Some(t) => {
                return Err(ck(format!(
                    "format {:?} is not this version's {CHECKPOINT_FORMAT}",
                    Vec::<i64>::try_from(t.flatten(0, -1)).unwrap_or_default()
                )))
            }
            None => {
                return Err(ck(
                    "no `meta.format` entry: not a deepclust checkpoint".into()
                ))
            }
        }
        let (arch, fd) = (self.cfg.arch, self.cfg.feature_dim);
        // Removes `name` from the map, checking kind and (if `like` is given) shape. `None` when
        // absent and not `required`.
        let mut take = |name: &str,
                        like: Option<&Tensor>,
                        required: bool|
         -> Result<Option<Tensor>, ModelError> {
            let Some(t) = map.remove(name) else {
                return if required {
                    Err(ck(format!("missing tensor `{name}`")))
                } else {
                    Ok(None)
                };
            };
            if t.kind() != Kind::Float {
                return Err(ck(format!(
                    "`{name}` has kind {:?}, expected Float",
                    t.kind()
                )));
            }
            if let Some(like) = like {
                if t.size() != like.size() {
                    return Err(ck(format!(
                        "`{name}` has shape {:?}, this network ({arch:?}, feature_dim {fd}) needs {:?}",
                        t.size(),
                        like.size()
                    )));
                }
            }
            Ok(Some(t))
        };
        let mut body = Vec::with_capacity(BODY_NAMES.len());
        for (n, p) in BODY_NAMES.iter().zip(&self.body) {
            body.extend(take(&format!("body.{n}"), Some(p), true)?);
        }
        let mut buffers = Vec::with_capacity(BUFFER_NAMES.len());
        for (n, p) in BUFFER_NAMES.iter().zip(&self.buffers) {
            buffers.extend(take(&format!("body.{n}"), Some(p), true)?);
        }
        let head_w = take("head.weight", None, true)?.expect("required");
        let hs = head_w.size();
        if hs.len() != 2 || hs[1] != fd as i64 || hs[0] < 1 {
            return Err(ck(format!(
                "`head.weight` has shape {hs:?}, expected [k, {fd}]"
            )));
        }
        let k = hs[0];
        let head_b = take("head.bias", None, true)?.expect("required");
        if head_b.size() != [k] {
            return Err(ck(format!(
                "`head.bias` has shape {:?}, expected [{k}]",
                head_b.size()
            )));
        }
        let mut body_bufs = Vec::with_capacity(BODY_NAMES.len());
        for (n, p) in BODY_NAMES.iter().zip(&self.body) {
            body_bufs.push(take(&format!("opt.body.{n}"), Some(p), false)?);
        }
        let mut head_bufs = Vec::with_capacity(2);
        for (n, p) in HEAD_NAMES.iter().zip([&head_w, &head_b]) {
            head_bufs.push(take(&format!("opt.{n}"), Some(p), false)?);
        }
        if let Some(extra) = map.keys().next() {
            return Err(ck(format!("unexpected tensor `{extra}`")));
        }
        // Everything checked: commit.
        {
            let _guard = tch::no_grad_guard();
            for (p, t) in self.body.iter_mut().zip(&body) {
                p.copy_(t);
            }
            for (p, t) in self.buffers.iter_mut().zip(&buffers) {
                p.copy_(t);
            }
        }
        self.head = vec![leaf(head_w), leaf(head_b)];
        self.n_clusters = k as usize;
        self.body_opt.bufs = body_bufs;
        self.head_opt = Sgd::new(
            2,
            self.cfg.head_lr(),
            self.cfg.head_momentum,
            self.cfg.weight_decay,
        );
        self.head_opt.bufs = head_bufs;
        Ok(())
    }

    /// Copies of all state tensors by name (weights, BN statistics, momentum buffers), on the CPU;
    /// for tests and diagnostics.
    pub fn state_vectors(&self) -> Vec<(String, Vec<f32>)> {
        self.named_state()
            .into_iter()
            .filter(|(n, _)| !n.starts_with("meta."))
            .map(|(n, t)| {
                let v = Vec::<f32>::try_from(t.to_device(tch::Device::Cpu).flatten(0, -1))
                    .expect("float tensor");
                (n, v)
            })
            .collect()
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Shifts every image of the batch (B×1×H×W) by its own random offset in [−2, 2]² pixels,
/// filling uncovered pixels with the background value: pad by 2, then gather each image's crop.
fn shift(x: &Tensor, background: f64, rng: &mut seed::Rng) -> Result<Tensor, tch::TchError> {
    const P: i64 = 2;
    let s = x.size();
    let (b, h, w) = (s[0], s[2], s[3]);
    let (ph, pw) = (h + 2 * P, w + 2 * P);
    let padded = x
        .f_pad([P, P, P, P], "constant", Some(background))?
        .f_view([b, ph * pw])?;
    let offsets: Vec<i64> = (0..b)
        .map(|_| rng.random_range(0..=2 * P) * pw + rng.random_range(0..=2 * P))
        .collect();
    let base: Vec<i64> = (0..h)
        .flat_map(|r| (0..w).map(move |c| r * pw + c))
        .collect();
    let dev = x.device();
    let base = Tensor::f_from_slice(&base)?
        .f_to_device(dev)?
        .f_view([1, h * w])?;
    let offsets = Tensor::f_from_slice(&offsets)?
        .f_to_device(dev)?
        .f_view([b, 1])?;
    let index = base.f_add(&offsets)?;
    padded.f_gather(1, &index, false)?.f_view([b, 1, h, w])
}

/// Rotates each image of the batch (B×1×H×W) by its own random angle in ±`rotate_deg` degrees
/// and scales it by a random factor in [1 − `scale`, 1 + `scale`] about the image centre, with
/// bilinear interpolation ([`apply_warp`]). Draws per image: angle, then scale.
fn warp(
    x: &Tensor,
    background: f64,
    rotate_deg: f64,
    scale: f64,
    rng: &mut seed::Rng,
) -> Result<Tensor, tch::TchError> {
    let warps: Vec<(f64, f64)> = (0..x.size()[0])
        .map(|_| {
            let angle = if rotate_deg > 0.0 {
                rng.random_range(-rotate_deg..=rotate_deg)
            } else {
                0.0
            };
            let factor = if scale > 0.0 {
                rng.random_range(1.0 - scale..=1.0 + scale)
            } else {
                1.0
            };
            (angle, factor)
        })
        .collect();
    apply_warp(x, background, &warps)
}

/// Warps image `i` of the batch by `warps[i] = (degrees, factor)`: rotated counter-clockwise on
/// screen by `degrees` and enlarged by `factor` about the image centre, bilinear; uncovered
/// pixels get the background value (the warp runs on `x − background` with zero padding).
fn apply_warp(x: &Tensor, background: f64, warps: &[(f64, f64)]) -> Result<Tensor, tch::TchError> {
    let s = x.size();
    let mut theta = Vec::with_capacity(warps.len() * 6);
    for &(degrees, factor) in warps {
        // `affine_grid` maps output coordinates to input coordinates, so an image enlarged by
        // `factor` samples the input at coordinates divided by it.
        let (sin, cos) = degrees.to_radians().sin_cos();
        let (a, c) = (cos / factor, sin / factor);
        theta.extend_from_slice(&[a as f32, -c as f32, 0.0, c as f32, a as f32, 0.0]);
    }
    let theta = Tensor::f_from_slice(&theta)?
        .f_to_device(x.device())?
        .f_view([s[0], 2, 3])?;
    let grid = Tensor::f_affine_grid_generator(&theta, s.as_slice(), false)?;
    // interpolation 0 = bilinear, padding 0 = zeros.
    x.f_sub_scalar(background)?
        .f_grid_sampler(&grid, 0, 0, false)?
        .f_add_scalar(background)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shift worked by hand on a 1×1×3×3 image... done on 28×28 via the known pattern: a single
    /// bright pixel moves by the drawn offset minus 2 in each direction, or stays inside.
    #[test]
    fn shift_moves_pixels_and_pads_with_background() {
        let mut img = vec![0.0f32; 28 * 28];
        img[10 * 28 + 12] = 5.0;
        let x = Tensor::from_slice(&img).view([1, 1, 28, 28]);
        let mut rng = seed::rng(3, "t");
        // Same draws as `shift` makes: row offset then column offset.
        let mut probe = seed::rng(3, "t");
        let dy: i64 = probe.random_range(0..=4);
        let dx: i64 = probe.random_range(0..=4);
        let y = shift(&x, -1.0, &mut rng).unwrap();
        let v = Vec::<f32>::try_from(y.flatten(0, -1)).unwrap();
        // Output pixel (r, c) = padded (r + dy, c + dx) = input (r + dy − 2, c + dx − 2).
        let (r, c) = (10 + 2 - dy, 12 + 2 - dx);
        assert_eq!(v[(r * 28 + c) as usize], 5.0);
        assert_eq!(v.iter().filter(|&&p| p == 5.0).count(), 1);
        // Corners come from padding when shifted towards them.
        if dy < 2 && dx < 2 {
            assert_eq!(v[0], -1.0);
        }
    }

    /// Mass and mass-weighted centre (row, column) of the pixels above the background −1.
    fn blob(v: &[f32]) -> (f64, f64, f64) {
        let (mut m, mut sr, mut sc) = (0.0f64, 0.0f64, 0.0f64);
        for (i, &p) in v.iter().enumerate() {
            let w = (f64::from(p) + 1.0).max(0.0);
            m += w;
            sr += w * (i / 28) as f64;
            sc += w * (i % 28) as f64;
        }
        (m, sr / m, sc / m)
    }

    /// A 4×4 blob of value 3 on background −1, centred at row 13.5, column 21.5 (8 pixels right
    /// of the image centre 13.5, 13.5), warped by known angles and factors.
    #[test]
    fn warp_rotates_and_scales_about_the_centre_and_pads_with_background() {
        let mut img = vec![-1.0f32; 28 * 28];
        for r in 12..16 {
            for c in 20..24 {
                img[r * 28 + c] = 3.0;
            }
        }
        let x = Tensor::from_slice(&img).view([1, 1, 28, 28]);
        let warped = |deg: f64, factor: f64| {
            let y = apply_warp(&x, -1.0, &[(deg, factor)]).unwrap();
            Vec::<f32>::try_from(y.flatten(0, -1)).unwrap()
        };
        let close = |a: f64, b: f64, tol: f64, what: &str| {
            assert!((a - b).abs() < tol, "{what}: {a}, expected {b}");
        };
        // Identity.
        let same = warped(0.0, 1.0);
        let diff = same
            .iter()
            .zip(&img)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(diff < 1e-4, "identity warp changed a pixel by {diff}");
        // 90°: the blob moves from right of the centre to above it (row 5.5, column 13.5).
        let (m, r, c) = blob(&warped(90.0, 1.0));
        close(m, 64.0, 0.5, "mass after 90°");
        close(r, 5.5, 0.1, "row after 90°");
        close(c, 13.5, 0.1, "column after 90°");
        // −90°: below the centre.
        let (_, r, c) = blob(&warped(-90.0, 1.0));
        close(r, 21.5, 0.1, "row after −90°");
        close(c, 13.5, 0.1, "column after −90°");
        // Shrunk by half: the blob's distance to the centre and its side halve (mass ÷ 4).
        let (m, r, c) = blob(&warped(0.0, 0.5));
        close(m, 16.0, 1.0, "mass at ×0.5");
        close(r, 13.5, 0.1, "row at ×0.5");
        close(c, 17.5, 0.1, "column at ×0.5");
        // Background fills what the rotation uncovers: a uniform image turned by 45° keeps its
        // value in the middle and gets the background in the corners.
        let bright = Tensor::full([1, 1, 28, 28], 2.0, (Kind::Float, tch::Device::Cpu));
        let y = apply_warp(&bright, -1.0, &[(45.0, 1.0)]).unwrap();
        let v = Vec::<f32>::try_from(y.flatten(0, -1)).unwrap();
        assert_eq!(v[0], -1.0);
        assert_eq!(v[28 * 28 - 1], -1.0);
        close(f64::from(v[14 * 28 + 14]), 2.0, 1e-5, "centre after 45°");
        // The random warp draws angle then factor per image, within the ranges.
        let mut rng = seed::rng(4, "t");
        let mut probe = seed::rng(4, "t");
        let deg: f64 = probe.random_range(-30.0..=30.0);
        let factor: f64 = probe.random_range(1.0 - 0.2..=1.0 + 0.2);
        let drawn = warp(&x, -1.0, 30.0, 0.2, &mut rng).unwrap();
        let expected = apply_warp(&x, -1.0, &[(deg, factor)]).unwrap();
        assert_eq!(
            Vec::<f32>::try_from(drawn.flatten(0, -1)).unwrap(),
            Vec::<f32>::try_from(expected.flatten(0, -1)).unwrap()
        );
    }
}
