//! SGD with momentum and weight decay, written out on tensors so that its momentum buffers can be
//! checkpointed (tch's optimiser hides them). Same update as `torch.optim.SGD` with dampening 0 and
//! nesterov off:
//!
//! ```text
//! d = g + wd·p;  buf = d (first step) or m·buf + d;  p ← p − lr·buf   (m = 0: p ← p − lr·d)
//! ```
use tch::Tensor;

/// One optimiser over a fixed list of parameters (matched by position).
pub(crate) struct Sgd {
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    /// Momentum buffer per parameter; `None` until the first step (and always when momentum is 0).
    pub bufs: Vec<Option<Tensor>>,
}

impl Sgd {
    pub fn new(n_params: usize, lr: f64, momentum: f64, weight_decay: f64) -> Sgd {
        Sgd {
            lr,
            momentum,
            weight_decay,
            bufs: (0..n_params).map(|_| None).collect(),
        }
    }

    /// One update of `params` (leaf tensors) with `grads` (same order). Runs without autograd.
    pub fn step(&mut self, params: &[Tensor], grads: &[Tensor]) -> Result<(), tch::TchError> {
        debug_assert_eq!(params.len(), self.bufs.len());
        debug_assert_eq!(grads.len(), self.bufs.len());
        let _guard = tch::no_grad_guard();
        for ((p, g), buf) in params.iter().zip(grads).zip(self.bufs.iter_mut()) {
            if !g.defined() {
                continue;
            }
            let d = if self.weight_decay != 0.0 {
                g.f_add(&p.f_mul_scalar(self.weight_decay)?)?
            } else {
                g.shallow_clone()
            };
            let d = if self.momentum != 0.0 {
                match buf {
                    Some(b) => {
                        let _ = b.f_mul_scalar_(self.momentum)?;
                        let _ = b.f_add_(&d)?;
                        b.shallow_clone()
                    }
                    None => {
                        // `d` may alias the gradient; the buffer must own its storage.
                        let b = d.f_detach_copy()?;
                        *buf = Some(b.shallow_clone());
                        b
                    }
                }
            } else {
                d
            };
            let mut p = p.shallow_clone();
            let _ = p.f_sub_(&d.f_mul_scalar(self.lr)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two steps worked by hand: p = 1, wd = 0.1, m = 0.9, lr = 0.5, gradients 2 then 3.
    /// Step 1: d = 2 + 0.1·1 = 2.1, buf = 2.1, p = 1 − 1.05 = −0.05.
    /// Step 2: d = 3 + 0.1·(−0.05) = 2.995, buf = 0.9·2.1 + 2.995 = 4.885, p = −0.05 − 2.4425 = −2.4925.
    #[test]
    fn matches_hand_worked_momentum_steps() {
        let p = Tensor::from_slice(&[1.0f64]);
        let mut opt = Sgd::new(1, 0.5, 0.9, 0.1);
        opt.step(&[p.shallow_clone()], &[Tensor::from_slice(&[2.0f64])])
            .unwrap();
        assert!((p.double_value(&[0]) - (-0.05)).abs() < 1e-12);
        opt.step(&[p.shallow_clone()], &[Tensor::from_slice(&[3.0f64])])
            .unwrap();
        let buf = opt.bufs[0].as_ref().unwrap().double_value(&[0]);
        assert!((buf - 4.885).abs() < 1e-12, "buf {buf}");
        assert!((p.double_value(&[0]) - (-2.4925)).abs() < 1e-12);
    }

    /// Without momentum: p = 2, g = 1, wd = 0.5, lr = 0.1 → d = 2, p = 1.8; no buffer kept.
    #[test]
    fn plain_sgd_keeps_no_buffer() {
        let p = Tensor::from_slice(&[2.0f64]);
        let mut opt = Sgd::new(1, 0.1, 0.0, 0.5);
        opt.step(&[p.shallow_clone()], &[Tensor::from_slice(&[1.0f64])])
            .unwrap();
        assert!((p.double_value(&[0]) - 1.8).abs() < 1e-12);
        assert!(opt.bufs[0].is_none());
    }
}
