//! The absolute error `ℓ = |z − y|`, `∂ℓ/∂z = sign(z − y)` (0 at 0: a subgradient); no
//! curvature (a subgradient method: use a decaying schedule).
//!
//! Lanes: `r = z − y`; `ℓ = |r|`; `g = r > 0 ? 1 : (r < 0 ? −1 : 0)`. `Lip(ℓ) = 1`; `g` is exact
//! unless `|r|` is within the prediction's rounding error.

use super::Spec;
use crate::kernel::simd::{Link, apply_link};
use crate::kernel::vmath;
use wide::f32x8;

/// The absolute error.
#[derive(Clone, Copy)]
pub(super) struct Absolute;

#[derive(Clone, Copy)]
struct Lanes;

impl Link for Lanes {
    #[inline(always)]
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8) {
        let r = z - y;
        let one = f32x8::splat(1.0);
        let zero = f32x8::ZERO;
        let g = vmath::pos(r).select(one, vmath::neg(r).select(-one, zero));
        (r.abs(), g)
    }
}

/// `sign(r)`, 0 at 0.
pub(super) fn sign(r: f64) -> f64 {
    if r > 0.0 {
        1.0
    } else if r < 0.0 {
        -1.0
    } else {
        0.0
    }
}

impl Spec for Absolute {
    const NAME: &'static str = "absolute";
    const CODE: u8 = 2;
    fn value64(self, z: f64, y: f64) -> f64 {
        (z - y).abs()
    }
    fn derivative64(self, z: f64, y: f64) -> f64 {
        sign(z - y)
    }
    fn curvature(self) -> f32 {
        0.0
    }
    fn block(self, z: &mut [f32], y: &[f32]) -> (f32, f32) {
        apply_link(Lanes, z, y)
    }
}
