//! Images as one normalised tensor, built once and indexed per batch.
use super::{tch_device, ModelError};
use ndarray::ArrayView3;
use tch::{Kind, Tensor};

/// All images of a dataset as one normalised `f32` tensor of shape N×1×H×W on the model's device.
/// Built once; training and feature extraction pick batches out of it with `index_select`, so no
/// per-batch conversion or host→device copy happens.
pub struct Images {
    pub(crate) data: Tensor,
    pub(crate) height: usize,
    pub(crate) width: usize,
    /// The normalised value of a black pixel, used to pad shifted images.
    pub(crate) background: f64,
}

impl std::fmt::Debug for Images {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Images")
            .field("len", &self.len())
            .field("height", &self.height)
            .field("width", &self.width)
            .finish()
    }
}

impl Images {
    /// Scales `images` (N×H×W bytes) to [0, 1] and normalises with `mean` and `std`, as
    /// torchvision's `ToTensor` + `Normalize` do: `(x / 255 − mean) / std` in `f32`.
    pub fn from_u8(images: ArrayView3<u8>, mean: f64, std: f64) -> Result<Images, ModelError> {
        let (n, h, w) = images.dim();
        if n == 0 || h == 0 || w == 0 {
            return Err(ModelError::arg(
                "images",
                "a non-empty N×H×W array",
                format!("{n}×{h}×{w}"),
            ));
        }
        if !mean.is_finite() {
            return Err(ModelError::arg("mean", "a finite number", mean.to_string()));
        }
        if !(std.is_finite() && std > 0.0) {
            return Err(ModelError::arg(
                "std",
                "a finite number > 0",
                std.to_string(),
            ));
        }
        let owned;
        let bytes: &[u8] = match images.as_slice() {
            Some(s) => s,
            None => {
                owned = images.as_standard_layout().into_owned();
                owned.as_slice().expect("standard layout")
            }
        };
        let build = || -> Result<Tensor, tch::TchError> {
            let t = Tensor::f_from_slice(bytes)?
                .f_view([n as i64, 1, h as i64, w as i64])?
                .f_to_device(tch_device())?
                .f_to_kind(Kind::Float)?;
            // Same op sequence as torchvision: div(255), then sub_(mean).div_(std) in f32.
            let mut t = t.f_div_scalar(255.0)?;
            let mean32 = Tensor::from(mean as f32).f_to_device(tch_device())?;
            let std32 = Tensor::from(std as f32).f_to_device(tch_device())?;
            let _ = t.f_sub_(&mean32)?;
            let _ = t.f_div_(&std32)?;
            Ok(t)
        };
        let data = build().map_err(ModelError::torch("normalising images"))?;
        let background = f64::from((0.0f32 - mean as f32) / std as f32);
        Ok(Images {
            data,
            height: h,
            width: w,
            background,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.data.size()[0] as usize
    }

    /// Whether there are no images (never true: construction rejects empty input).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Image `i` as normalised `f32` pixels (H×W), or `None` past the end.
    pub fn image(&self, i: usize) -> Option<ndarray::Array2<f32>> {
        if i >= self.len() {
            return None;
        }
        let t = self
            .data
            .get(i as i64)
            .to_device(tch::Device::Cpu)
            .flatten(0, -1);
        let v = Vec::<f32>::try_from(t).ok()?;
        ndarray::Array2::from_shape_vec((self.height, self.width), v).ok()
    }

    /// Image height and width in pixels.
    pub fn shape(&self) -> (usize, usize) {
        (self.height, self.width)
    }
}
