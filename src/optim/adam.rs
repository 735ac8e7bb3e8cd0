//! Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), PyTorch's formulas with the bias
//! corrections folded as PyTorch does: `m ← β1·m + (1 − β1)·g`, `v ← β2·v + (1 − β2)·g·g`;
//! `u = w − (s·m) / (√v / c + ε)` with `s = η/(1 − β1ᵗ)`, `c = √(1 − β2ᵗ)` (two `f64` powers per
//! step). AdamW starts from `w·(1 − η·λ2)` (decoupled weight decay) instead of the L2 prox. The
//! step is per coordinate, so the prox uses `h = η`, a heuristic.

use super::lane::Lane;
use super::prox::prox;
use super::step::StepScalars;
use super::{Penalty, Update};
use crate::Error;

/// Adam's `β1`, `β2`, `ε`; `decoupled` for AdamW.
#[derive(Clone, Copy)]
pub(super) struct Adam {
    pub(super) beta1: f32,
    pub(super) beta2: f32,
    pub(super) eps: f32,
    pub(super) decoupled: bool,
}

impl Update for Adam {
    const NAME: &'static str = "adam";
    const KIND: u64 = 3;
    const BUFFERS: usize = 2;
    fn validate(self) -> Result<(), Error> {
        let bad = |name, reason| Err(Error::InvalidParameter { name, reason });
        let unit = |v: f32| v.is_finite() && (0.0..1.0).contains(&v);
        if !unit(self.beta1) {
            bad("beta1", "must be in [0, 1)")
        } else if !unit(self.beta2) {
            bad("beta2", "must be in [0, 1)")
        } else if !(self.eps.is_finite() && self.eps > 0.0) {
            bad("eps", "must be finite and > 0")
        } else {
            Ok(())
        }
    }
    fn penalty(self) -> Penalty {
        if self.decoupled {
            Penalty::Decoupled
        } else {
            Penalty::Prox
        }
    }
    fn scalars(self, s: &mut StepScalars) {
        if cfg!(feature = "optimizers") {
            let tf = s.t as f64;
            let bc1 = 1.0 - libm::pow(f64::from(self.beta1), tf);
            let bc2 = 1.0 - libm::pow(f64::from(self.beta2), tf);
            s.step_size = (f64::from(s.lr) / bc1) as f32;
            s.bc2_sqrt = libm::sqrt(bc2) as f32;
        }
    }
    #[inline(always)]
    fn element<L: Lane>(self, s: &StepScalars, w: L, g: L, a: L, b: L) -> (L, L, L) {
        let w0 = if s.decay != 1.0 {
            w * L::splat(s.decay)
        } else {
            w
        };
        let m = L::splat(self.beta1) * a + L::splat(1.0 - self.beta1) * g;
        let v = L::splat(self.beta2) * b + L::splat(1.0 - self.beta2) * (g * g);
        let den = v.sqrt() / L::splat(s.bc2_sqrt) + L::splat(self.eps);
        let u = w0 - (L::splat(s.step_size) * m) / den;
        (prox(u, s), m, v)
    }
}
