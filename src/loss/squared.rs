//! The squared error `ℓ(z, y) = (z − y)²`, `∂ℓ/∂z = 2(z − y)`, curvature 2: the seed's loss.
//!
//! It has its own kernels ([`crate::kernel::fused`]): the derivative `2r` is summed as `r` and
//! scaled by 2 at the end (exact), so the hot path does one multiply less per sample. Its
//! [`Link`] below (`ℓ = r·r`, `g = r + r`) serves only a direct call of the point-wise kernels
//! and gives the same bits as [`crate::kernel::fused`] wherever nothing overflows.

use super::Spec;
use crate::kernel::simd::{Link, apply_link};
use wide::f32x8;

/// The squared error.
#[derive(Clone, Copy)]
pub(super) struct Squared;

#[derive(Clone, Copy)]
struct Lanes;

impl Link for Lanes {
    #[inline(always)]
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8) {
        let r = z - y;
        (r * r, r + r)
    }
}

impl Spec for Squared {
    const NAME: &'static str = "squared";
    const CODE: u8 = 0;
    fn value64(self, z: f64, y: f64) -> f64 {
        let r = z - y;
        r * r
    }
    fn derivative64(self, z: f64, y: f64) -> f64 {
        2.0 * (z - y)
    }
    fn curvature(self) -> f32 {
        2.0
    }
    fn block(self, z: &mut [f32], y: &[f32]) -> (f32, f32) {
        apply_link(Lanes, z, y)
    }
}
