//! The quantile (pinball) loss at level `τ ∈ (0, 1)`: with `u = y − z`,
//! `ℓ = τ·u` if `u ≥ 0`, else `(τ − 1)·u`; `∂ℓ/∂z = −τ` if `z < y`, `1 − τ` if `z > y`, `0` at
//! `z = y` (a subgradient, as for the absolute loss); no curvature (a subgradient method: use a
//! decaying schedule). Its minimiser over a constant `z` is the `τ`-quantile of `y`; `τ = ½` is
//! half the absolute error. scikit-learn's `QuantileRegressor(quantile=τ)` and PyTorch-style
//! pinball losses use the same `ℓ`.
//!
//! Lanes: `r = z − y`, `ω = 1 − τ` (rounded to `f32` once, exact for `τ ≥ ½`);
//! `ℓ = r > 0 ? ω·r : τ·(−r)`; `g = r > 0 ? ω : (r < 0 ? −τ : 0)`. `Lip(ℓ) = max(τ, 1 − τ)`;
//! `g` is exact unless `|r|` is within the prediction's rounding error (then off by at most 1),
//! and `ω` differs from `1 − τ` by at most `u·(1 − τ)`.

use super::Spec;
use crate::Error;
use crate::kernel::simd::{Link, apply_link};
use crate::kernel::vmath;
use wide::f32x8;

/// The quantile loss.
#[derive(Clone, Copy)]
pub(super) struct Quantile {
    pub(super) tau: f32,
}

#[derive(Clone, Copy)]
struct Lanes {
    tau: f32x8,
    omega: f32x8,
}

impl Link for Lanes {
    #[inline(always)]
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8) {
        let r = z - y;
        let zero = f32x8::ZERO;
        let above = vmath::pos(r);
        let l = above.select(self.omega * r, self.tau * (-r));
        let g = above.select(self.omega, vmath::neg(r).select(-self.tau, zero));
        (l, g)
    }
}

impl Spec for Quantile {
    const NAME: &'static str = "quantile";
    const CODE: u8 = 5;
    const PARAM: Option<&'static str> = Some("tau");
    fn param(self) -> f32 {
        self.tau
    }
    fn validate(self) -> Result<(), Error> {
        // NaN fails both comparisons.
        if self.tau > 0.0 && self.tau < 1.0 {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: "tau",
                reason: "must be in the open interval (0, 1)",
            })
        }
    }
    fn value64(self, z: f64, y: f64) -> f64 {
        let (r, t) = (z - y, f64::from(self.tau));
        if r > 0.0 { (1.0 - t) * r } else { t * -r }
    }
    fn derivative64(self, z: f64, y: f64) -> f64 {
        let t = f64::from(self.tau);
        if z > y {
            1.0 - t
        } else if z < y {
            -t
        } else {
            0.0
        }
    }
    fn curvature(self) -> f32 {
        0.0
    }
    fn block(self, z: &mut [f32], y: &[f32]) -> (f32, f32) {
        let lanes = Lanes {
            tau: f32x8::splat(self.tau),
            omega: f32x8::splat(1.0 - self.tau),
        };
        apply_link(lanes, z, y)
    }
}
