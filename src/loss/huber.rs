//! The Huber loss with threshold `δ` (PyTorch `HuberLoss`, scikit-learn's `epsilon`):
//! `ℓ = r²/2` if `|r| ≤ δ`, else `δ(|r| − δ/2)`; `∂ℓ/∂z = clamp(r, −δ, δ)`; curvature 1.
//!
//! Lanes (the SIMD path's order): `r = z − y`, `a = |r|`; `ℓ = a ≤ δ ? (r·r)·0.5 : δ·(a − δ/2)`;
//! `g = r > δ ? δ : (r < −δ ? −δ : r)`. `Lip(ℓ) = δ`, `Lip(ℓ') = 1`.

use super::Spec;
use crate::Error;
use crate::kernel::simd::{Link, apply_link};
use crate::kernel::vmath;
use wide::f32x8;

/// The Huber loss.
#[derive(Clone, Copy)]
pub(super) struct Huber {
    pub(super) delta: f32,
}

#[derive(Clone, Copy)]
struct Lanes {
    delta: f32x8,
    half_delta: f32x8,
}

impl Link for Lanes {
    #[inline(always)]
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8) {
        let r = z - y;
        let a = r.abs();
        let quad = (r * r) * f32x8::splat(0.5);
        let lin = self.delta * (a - self.half_delta);
        let l = vmath::le(a, self.delta).select(quad, lin);
        let g = vmath::gt(r, self.delta)
            .select(self.delta, vmath::lt(r, -self.delta).select(-self.delta, r));
        (l, g)
    }
}

impl Spec for Huber {
    const NAME: &'static str = "huber";
    const CODE: u8 = 1;
    const PARAM: Option<&'static str> = Some("delta");
    fn param(self) -> f32 {
        self.delta
    }
    fn validate(self) -> Result<(), Error> {
        if self.delta.is_finite() && self.delta > 0.0 {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: "delta",
                reason: "must be finite and > 0",
            })
        }
    }
    fn value64(self, z: f64, y: f64) -> f64 {
        let (r, d) = (z - y, f64::from(self.delta));
        if r.abs() <= d {
            0.5 * r * r
        } else {
            d * (r.abs() - 0.5 * d)
        }
    }
    fn derivative64(self, z: f64, y: f64) -> f64 {
        let d = f64::from(self.delta);
        (z - y).max(-d).min(d)
    }
    fn curvature(self) -> f32 {
        1.0
    }
    fn block(self, z: &mut [f32], y: &[f32]) -> (f32, f32) {
        let lanes = Lanes {
            delta: f32x8::splat(self.delta),
            half_delta: f32x8::splat(0.5 * self.delta),
        };
        apply_link(lanes, z, y)
    }
}
