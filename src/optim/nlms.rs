//! Normalised least mean squares (NLMS): SGD whose rate is divided by the batch's input energy,
//! so that the step does not depend on the scale of the features.
//!
//! For a batch of `n` rows `x_i` (with the bias input 1, `x̃_i = (x_i, 1)`), the step is SGD's
//! `u = w − h·g` at `h = μ / (2·(ε + m))` with `m = (1/n)·Σ_i ‖x̃_i‖²` and `μ` the controller's
//! (or the configuration's) rate. With the squared error `(ŷ − y)²`, whose gradient is
//! `g = (2/n)·Σ_i (ŷ_i − y_i)·x̃_i`, one sample gives the textbook NLMS
//! `w ← w + μ·e·x̃/(ε + ‖x̃‖²)` with `e = y − ŷ`: CMSIS-DSP's `arm_lms_norm_f32` on the input
//! `(x, 1)` (its `DELTA` is `ε`; CMSIS has no bias, so its energy has no `1`), stable for
//! `0 < μ < 2`, and `μ = 1`, `ε → 0` makes the sample's error after the step zero. The batch's
//! mean energy `m` is summed in `f64` in row order (bits the same on every path and target),
//! and `h` is rounded once to `f32`. Other losses get the same normalised step on their
//! gradient. The penalty's proximal step is `h` (proximal gradient descent at that step).
//!
//! The normalisation is done by the training step (which sees the batch); a direct call of the
//! element-wise updates ([`super::scalar::update`]) with `Rule::Nlms` is SGD at the rate given.

use super::Update;
use super::lane::Lane;
use super::prox::prox;
use super::step::StepScalars;
use crate::Error;

/// NLMS's `ε`.
#[derive(Clone, Copy)]
pub(super) struct Nlms {
    pub(super) eps: f32,
}

impl Update for Nlms {
    const NAME: &'static str = "nlms";
    const KIND: u64 = 7;
    const BUFFERS: usize = 0;
    fn validate(self) -> Result<(), Error> {
        if self.eps.is_finite() && self.eps > 0.0 {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: "eps",
                reason: "must be finite and > 0",
            })
        }
    }
    fn batch_rate(self, lr: f32, x: &[f32], rows: usize) -> f32 {
        let mut sum = 0.0f64;
        for v in x {
            let v = f64::from(*v);
            sum += v * v;
        }
        let m = sum / rows.max(1) as f64 + 1.0;
        (f64::from(lr) / (2.0 * (f64::from(self.eps) + m))) as f32
    }
    #[inline(always)]
    fn element<L: Lane>(self, s: &StepScalars, w: L, g: L, a: L, b: L) -> (L, L, L) {
        (prox(w - L::splat(s.lr) * g, s), a, b)
    }
}
