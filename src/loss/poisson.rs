//! The Poisson loss with the log link, for counts `y ≥ 0` (finite; non-integer values are
//! taken): the model's output is `z = ln μ`, and
//! `ℓ(z, y) = e^z − y·z`, `∂ℓ/∂z = e^z − y`, `∂²ℓ/∂z² = e^z`.
//!
//! This is the negative Poisson log-likelihood `μ − y·ln μ + ln Γ(y + 1)` without its
//! `y`-only term `ln Γ(y + 1)`. scikit-learn's `PoissonRegressor` minimises the mean half
//! deviance `y·ln(y/μ) − y + μ` (plus `α/2·‖w‖²`; `alpha=0` for no penalty), which is this `ℓ`
//! plus the `y`-only term `y·ln y − y` (`0·ln 0 = 0`): the same gradient and the same
//! minimiser, but the loss here is smaller by the mean of `y·ln y − y` and can be negative (its
//! minimum over `z` is `y − y·ln y`, at `z = ln y`).
//!
//! Curvature: `e^z` is unbounded, so no rate is stable for every model. The bound given to
//! the auto LR is `4`, the curvature at predicted means `μ = e^z ≤ 4`: the rate
//! [`crate::control::autolr`] derives is stable while the `x̃x̃ᵀ`-weighted mean of `μ` stays
//! below about `4/0.9` (at the optimum the mean of `μ` equals the mean count), which covers a
//! zero-initialised model (`μ = 1`) on counts of mean up to about 4. For larger counts pass a
//! smaller rate (or an offset in the bias). A rate too large shows as divergence: when `e^z`
//! overflows `f32` (`z > 88.7`), the kernels return [`Error::Overflow`](crate::Error::Overflow).
//!
//! Lanes: `e = exp(z)` ([`vmath::exp`]: `+∞` above 88.73, `+0` below −103.98);
//! `ℓ = e − y·z`; `g = e − y`. `Lip(ℓ) = |e^z − y|` and `Lip(ℓ') = e^z` near `z` (local
//! constants: an error `δ` in `z` moves `e` by `e·(e^δ − 1)`), plus the evaluation: `exp` ≤ 1
//! ulp, then one rounding each for `y·z` and the subtraction.

use super::Spec;
use crate::Error;
use crate::check::check_finite;
use crate::kernel::simd::{Link, apply_link};
use crate::kernel::vmath;
use wide::f32x8;

/// The Poisson loss (log link).
#[derive(Clone, Copy)]
pub(super) struct Poisson;

#[derive(Clone, Copy)]
struct Lanes;

impl Link for Lanes {
    #[inline(always)]
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8) {
        let e = vmath::exp(z);
        (e - y * z, e - y)
    }
}

impl Spec for Poisson {
    const NAME: &'static str = "poisson";
    const CODE: u8 = 6;
    fn check_targets(self, y: &[f32]) -> Result<(), Error> {
        check_finite("y", y)?;
        if y.iter().all(|v| *v >= 0.0) {
            Ok(())
        } else {
            Err(Error::InvalidData {
                what: "y",
                reason: "Poisson targets must be >= 0 (counts)",
            })
        }
    }
    fn value64(self, z: f64, y: f64) -> f64 {
        libm::exp(z) - y * z
    }
    fn derivative64(self, z: f64, y: f64) -> f64 {
        libm::exp(z) - y
    }
    fn curvature(self) -> f32 {
        4.0
    }
    fn block(self, z: &mut [f32], y: &[f32]) -> (f32, f32) {
        apply_link(Lanes, z, y)
    }
}
