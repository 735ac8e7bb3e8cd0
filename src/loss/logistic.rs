//! Binary cross-entropy on a logit `z`, for a target `y ∈ [0, 1]`:
//! `ℓ = max(z, 0) − z·y + log1p(e^{−|z|})`, `∂ℓ/∂z = σ(z) − y`, curvature ¼. The form never
//! overflows (`|z|` up to `f32::MAX` gives a finite loss and gradient).
//!
//! Lanes: `e = exp(−|z|)`; `ℓ = (max(z, 0) − z·y) + log1p(e)`;
//! `g = (z ≥ 0 ? 1/(1 + e) : e/(1 + e)) − y`. `Lip(ℓ) = 1`, `Lip(ℓ') = ¼`.

use super::Spec;
use crate::Error;
use crate::check::check_finite;
use crate::kernel::simd::{Link, apply_link};
use crate::kernel::vmath;
use wide::f32x8;

/// The logistic loss.
#[derive(Clone, Copy)]
pub(super) struct Logistic;

#[derive(Clone, Copy)]
struct Lanes;

impl Link for Lanes {
    #[inline(always)]
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8) {
        let one = f32x8::splat(1.0);
        let zero = f32x8::ZERO;
        let e = vmath::exp(-z.abs());
        let relu = vmath::pos(z).select(z, zero);
        let l = (relu - z * y) + vmath::log1p_unit(e);
        let q = one + e;
        let sigma = vmath::neg(z).select(e / q, one / q);
        (l, sigma - y)
    }
}

/// Logistic sigmoid, stable for every finite `z`.
pub(super) fn sigmoid64(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + libm::exp(-z))
    } else {
        let e = libm::exp(z);
        e / (1.0 + e)
    }
}

impl Spec for Logistic {
    const NAME: &'static str = "logistic";
    const CODE: u8 = 3;
    fn check_targets(self, y: &[f32]) -> Result<(), Error> {
        check_finite("y", y)?;
        if y.iter().all(|v| (0.0..=1.0).contains(v)) {
            Ok(())
        } else {
            Err(Error::InvalidData {
                what: "y",
                reason: "logistic targets must be in [0, 1]",
            })
        }
    }
    fn value64(self, z: f64, y: f64) -> f64 {
        z.max(0.0) - z * y + libm::log1p(libm::exp(-z.abs()))
    }
    fn derivative64(self, z: f64, y: f64) -> f64 {
        sigmoid64(z) - y
    }
    fn curvature(self) -> f32 {
        0.25
    }
    fn block(self, z: &mut [f32], y: &[f32]) -> (f32, f32) {
        apply_link(Lanes, z, y)
    }
}
