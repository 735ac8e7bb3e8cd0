//! Heavy-ball momentum and Nesterov (PyTorch `SGD` with `momentum`, `dampening`, `nesterov`):
//! `v ← g` at `t = 1`, else `μ·v + (1 − τ)·g`; `u = w − η·(nesterov ? g + μ·v : v)`. Its buffer
//! settles at `(1 − τ)/(1 − μ)·g`, so the prox step is `h = η·(1 − τ)/(1 − μ)`: the fixed points
//! are the penalised objective's minimisers.

use super::Update;
use super::lane::Lane;
use super::prox::prox;
use super::step::StepScalars;
use crate::Error;

/// Momentum `μ`, dampening `τ`, Nesterov's variant.
#[derive(Clone, Copy)]
pub(super) struct Momentum {
    pub(super) momentum: f32,
    pub(super) dampening: f32,
    pub(super) nesterov: bool,
}

impl Update for Momentum {
    const NAME: &'static str = "momentum";
    const KIND: u64 = 2;
    const BUFFERS: usize = 1;
    fn validate(self) -> Result<(), Error> {
        let bad = |name, reason| Err(Error::InvalidParameter { name, reason });
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            bad("momentum", "must be in [0, 1)")
        } else if !(0.0..=1.0).contains(&self.dampening) {
            bad("dampening", "must be in [0, 1]")
        } else if self.nesterov && (self.momentum == 0.0 || self.dampening != 0.0) {
            bad("nesterov", "needs momentum > 0 and zero dampening")
        } else {
            Ok(())
        }
    }
    fn prox_step(self, lr: f32) -> f32 {
        (f64::from(lr) * (1.0 - f64::from(self.dampening)) / (1.0 - f64::from(self.momentum)))
            as f32
    }
    #[inline(always)]
    fn element<L: Lane>(self, s: &StepScalars, w: L, g: L, a: L, b: L) -> (L, L, L) {
        let lr = L::splat(s.lr);
        let mu = L::splat(self.momentum);
        let v = if s.t <= 1 {
            g
        } else {
            mu * a + L::splat(1.0 - self.dampening) * g
        };
        let d = if self.nesterov { g + mu * v } else { v };
        (prox(w - lr * d, s), v, b)
    }
}
