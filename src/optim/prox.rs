//! The penalty and its proximal operator: `w ← clamp(soft(u, h·λ1) / (1 + h·λ2), lo, hi)`, with
//! `soft(u, τ) = sign(u)·max(|u| − τ, 0)` (exact zeros) and the clamp only with bounds (a
//! projection). See the [module docs](super) for the objective and each rule's `h`.

use super::lane::Lane;
use super::step::StepScalars;
use crate::Error;

/// The penalty `λ1·‖w‖₁ + (λ2/2)·‖w‖₂²` and box constraints (see the [module docs](crate::optim)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regularization {
    /// `λ1 ≥ 0` (L1, lasso).
    pub l1: f32,
    /// `λ2 ≥ 0` (L2, ridge; AdamW's weight decay).
    pub l2: f32,
    /// Penalise (and bound) the biases too.
    pub bias: bool,
    /// Keep each weight in `[lo, hi]` (a projection after the step).
    pub bounds: Option<(f32, f32)>,
}

impl Default for Regularization {
    fn default() -> Self {
        Self::NONE
    }
}

impl Regularization {
    /// No penalty, no bounds.
    pub const NONE: Self = Self {
        l1: 0.0,
        l2: 0.0,
        bias: false,
        bounds: None,
    };

    /// L1 only.
    pub const fn l1(l1: f32) -> Self {
        Self { l1, ..Self::NONE }
    }

    /// L2 only.
    pub const fn l2(l2: f32) -> Self {
        Self { l2, ..Self::NONE }
    }

    /// Elastic net as scikit-learn's `ElasticNet(alpha, l1_ratio)` writes it, in this crate's
    /// objective: `λ1 = 2·alpha·l1_ratio`, `λ2 = 2·alpha·(1 − l1_ratio)` (scikit-learn's loss is
    /// half a mean squared error).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `alpha` not finite and ≥ 0 or `l1_ratio` outside `[0, 1]`.
    pub fn elastic_net(alpha: f32, l1_ratio: f32) -> Result<Self, Error> {
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "alpha",
                reason: "must be finite and >= 0",
            });
        }
        if !(0.0..=1.0).contains(&l1_ratio) {
            return Err(Error::InvalidParameter {
                name: "l1_ratio",
                reason: "must be in [0, 1]",
            });
        }
        let r = Self {
            l1: 2.0 * alpha * l1_ratio,
            l2: 2.0 * alpha * (1.0 - l1_ratio),
            ..Self::NONE
        };
        r.validate()?;
        Ok(r)
    }

    /// Checks the fields.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite `l1`/`l2`, or bounds that are
    /// NaN or with `lo > hi`.
    pub fn validate(&self) -> Result<(), Error> {
        let ok = |v: f32| v.is_finite() && v >= 0.0;
        if !ok(self.l1) {
            return Err(Error::InvalidParameter {
                name: "l1",
                reason: "must be finite and >= 0",
            });
        }
        if !ok(self.l2) {
            return Err(Error::InvalidParameter {
                name: "l2",
                reason: "must be finite and >= 0",
            });
        }
        if let Some((lo, hi)) = self.bounds
            && (lo.is_nan() || hi.is_nan() || lo > hi)
        {
            return Err(Error::InvalidParameter {
                name: "bounds",
                reason: "must be ordered (lo <= hi), not NaN",
            });
        }
        Ok(())
    }
}

/// The proximal operator and the projection: `clamp(soft(u, thresh)/shrink, lo, hi)`.
#[inline(always)]
pub(super) fn prox<L: Lane>(u: L, s: &StepScalars) -> L {
    if s.plain {
        return u;
    }
    let z = L::splat(0.0);
    let mut u = u;
    if s.thresh > 0.0 {
        let mag = u.abs() - L::splat(s.thresh);
        u = L::gt0(mag, L::gt0(u, mag, -mag), z);
    }
    if s.shrink != 1.0 {
        u = u / L::splat(s.shrink);
    }
    bound(u, s)
}

#[inline(always)]
pub(super) fn bound<L: Lane>(u: L, s: &StepScalars) -> L {
    match s.bounds {
        Some((lo, hi)) => L::clamp(u, lo, hi),
        None => u,
    }
}

/// The proximal operator at a per-coordinate step `h` (a lane of steps, computed only when the
/// penalty is on): `clamp(soft(u, h·λ1)/(1 + h·λ2), lo, hi)` with `λ1`, `λ2` from the scalars
/// ([`Penalty::PerCoordinate`](super::Penalty::PerCoordinate), AdaGrad).
#[inline(always)]
pub(super) fn prox_at<L: Lane>(u: L, h: impl FnOnce() -> L, s: &StepScalars) -> L {
    let z = L::splat(0.0);
    let mut u = u;
    if s.l1 > 0.0 || s.l2 > 0.0 {
        let h = h();
        if s.l1 > 0.0 {
            let mag = u.abs() - h * L::splat(s.l1);
            u = L::gt0(mag, L::gt0(u, mag, -mag), z);
        }
        if s.l2 > 0.0 {
            u = u / (L::splat(1.0) + h * L::splat(s.l2));
        }
    }
    bound(u, s)
}
