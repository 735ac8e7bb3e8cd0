//! AdaGrad (Duchi, Hazan & Singer 2011; PyTorch `Adagrad` with `lr_decay = 0` and
//! `initial_accumulator_value = 0`): `G ← G + g·g`, `u = w − η·(g / (√G + ε))`.
//!
//! The step is per coordinate, `h_i = η/(√G_i + ε)`, and so is the penalty's proximal operator
//! (composite mirror descent, Duchi et al. 2011, with the diagonal `√G + ε` as the metric):
//! `w ← clamp(soft(u, h_i·λ1) / (1 + h_i·λ2), lo, hi)`. A fixed point `w = prox_h(w − h·g)`
//! satisfies `0 ∈ g + λ1·∂‖w‖₁ + λ2·w` whatever `h_i > 0`, so the fixed points are exactly the
//! minimisers of the penalised objective (unlike Adam's `h = η` heuristic). The rule applies
//! that prox itself ([`Penalty::PerCoordinate`]); the scalar prox of the other rules is off.

use super::lane::Lane;
use super::prox::prox_at;
use super::step::StepScalars;
use super::{Penalty, Update};
use crate::Error;

/// AdaGrad's `ε`.
#[derive(Clone, Copy)]
pub(super) struct AdaGrad {
    pub(super) eps: f32,
}

impl Update for AdaGrad {
    const NAME: &'static str = "adagrad";
    const KIND: u64 = 6;
    const BUFFERS: usize = 1;
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
    fn penalty(self) -> Penalty {
        Penalty::PerCoordinate
    }
    #[inline(always)]
    fn element<L: Lane>(self, s: &StepScalars, w: L, g: L, a: L, b: L) -> (L, L, L) {
        let lr = L::splat(s.lr);
        let sum = a + g * g;
        let den = sum.sqrt() + L::splat(self.eps);
        // PyTorch's order: `param.addcdiv_(grad, std, value=-lr)`.
        let u = w - lr * (g / den);
        (prox_at(u, || lr / den, s), sum, b)
    }
}
