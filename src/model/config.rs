//! Hyper-parameters of the CNN and its training.
use super::ModelError;
use serde::{Deserialize, Serialize};

/// Which network to build. Both share the original's topology (three conv+BN+ReLU+max-pool stages,
/// dropout, one hidden linear layer of `feature_dim` units, a linear head); they differ in width.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// The original network exactly: channels 8/16/32, flattened 128 → `feature_dim` (64 in the
    /// original) → k. 11,706 trainable parameters with `feature_dim` 64 and k = 10.
    #[default]
    Paper,
    /// Four times the channels (32/64/128), so the flattened conv output is 512 → `feature_dim` → k.
    /// Same kernels, strides and pooling as `Paper`; 75,402 trainable parameters with
    /// `feature_dim` 64 and k = 10.
    Wide,
}

impl Arch {
    /// Output channels of the three conv stages.
    pub fn channels(self) -> [i64; 3] {
        match self {
            Arch::Paper => [8, 16, 32],
            Arch::Wide => [32, 64, 128],
        }
    }
}

/// How the linear head starts each epoch's training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadInit {
    /// Fresh random weights (N(0, 0.01²)) and zero bias, as DeepCluster and the original.
    #[default]
    Random,
    /// The nearest-centroid classifier of the new pseudo-labels, in the spirit of DeepCluster-v2
    /// (whose head *is* the centroids): row `c` of the weights is the mean of the post-ReLU
    /// features of cluster `c`, its bias −½‖mean‖², so the logits are −½‖x − μ_c‖² + ½‖x‖² and
    /// training starts from a head that already agrees with most pseudo-labels. The head is then
    /// trained as usual.
    Centroids,
}

/// Hyper-parameters of the network and of its SGD training. `Default` is the original's setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Network width (`paper` here, as the original; `wide` in `deepclust run`'s defaults,
    /// `RunConfig::default`).
    pub arch: Arch,
    /// Units of the hidden linear layer, i.e. the dimension of the extracted features (64).
    pub feature_dim: usize,
    /// Extract the features after the hidden layer's ReLU, as the head sees them, instead of
    /// before it (false, as the original and DeepCluster).
    pub feature_relu: bool,
    /// Dropout probability before the hidden linear layer, in [0, 1) (0.5).
    pub dropout: f64,
    /// SGD learning rate of the body (0.01 here, as the original; 0.03 in `deepclust run`'s
    /// defaults).
    pub lr: f64,
    /// SGD momentum of the body, in [0, 1) (0.9). Its buffers persist across epochs.
    pub momentum: f64,
    /// L2 weight decay, body and head (1e-5).
    pub weight_decay: f64,
    /// Learning rate of the head; `None` means `lr` (as the original).
    pub head_lr: Option<f64>,
    /// Momentum of the head's optimiser, which is created afresh at every head reset (0.0, as the
    /// original).
    pub head_momentum: f64,
    /// How the head starts every epoch (`random`, as the original, or `centroids`).
    pub head_init: HeadInit,
    /// Mini-batch size of training (256).
    pub batch_size: usize,
    /// Batch size of feature extraction; only speed and memory depend on it (2048).
    pub eval_batch_size: usize,
    /// Random translation of each training image by up to ±2 pixels (off here and in the original;
    /// on in `deepclust run`'s defaults, `RunConfig::default`).
    pub augment: bool,
    /// Random rotation of each training image by up to ± this many degrees (0 = none; 0 here and
    /// in the original). Applied with `scale` as one bilinear affine warp, before the shift.
    pub rotate: f64,
    /// Random isotropic scaling of each training image by a factor in [1 − scale, 1 + scale]
    /// (0 = none), in the same warp as `rotate`. Must be in [0, 1).
    pub scale: f64,
    /// Normalisation mean of pixels scaled to [0, 1] (0.1307, MNIST's).
    pub mean: f64,
    /// Normalisation standard deviation (0.3081, MNIST's).
    pub std: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            arch: Arch::Paper,
            feature_dim: 64,
            feature_relu: false,
            dropout: 0.5,
            lr: 0.01,
            momentum: 0.9,
            weight_decay: 1e-5,
            head_lr: None,
            head_momentum: 0.0,
            head_init: HeadInit::Random,
            batch_size: 256,
            eval_batch_size: 2048,
            augment: false,
            rotate: 0.0,
            scale: 0.0,
            mean: 0.1307,
            std: 0.3081,
        }
    }
}

fn bad(field: &'static str, expected: &'static str, found: impl ToString) -> ModelError {
    ModelError::InvalidConfig {
        field,
        expected,
        found: found.to_string(),
    }
}

impl ModelConfig {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), ModelError> {
        let positive = |field, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(bad(field, "a finite number > 0", v))
            }
        };
        let unit = |field, v: f64| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(bad(field, "in [0, 1)", v))
            }
        };
        if self.feature_dim == 0 {
            return Err(bad("feature_dim", "at least 1", 0));
        }
        unit("dropout", self.dropout)?;
        positive("lr", self.lr)?;
        unit("momentum", self.momentum)?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(bad(
                "weight_decay",
                "a finite number ≥ 0",
                self.weight_decay,
            ));
        }
        if let Some(h) = self.head_lr {
            positive("head_lr", h)?;
        }
        unit("head_momentum", self.head_momentum)?;
        if self.batch_size == 0 {
            return Err(bad("batch_size", "at least 1", 0));
        }
        if self.eval_batch_size == 0 {
            return Err(bad("eval_batch_size", "at least 1", 0));
        }
        if !(self.rotate.is_finite() && (0.0..=180.0).contains(&self.rotate)) {
            return Err(bad("rotate", "degrees in [0, 180]", self.rotate));
        }
        unit("scale", self.scale)?;
        if !self.mean.is_finite() {
            return Err(bad("mean", "a finite number", self.mean));
        }
        positive("std", self.std)?;
        Ok(())
    }

    /// The head's learning rate (`head_lr`, else `lr`).
    pub fn head_lr(&self) -> f64 {
        self.head_lr.unwrap_or(self.lr)
    }
}
