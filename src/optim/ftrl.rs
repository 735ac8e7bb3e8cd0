//! FTRL-Proximal per coordinate (McMahan et al. 2013, Algorithm 1, with `α = η`):
//! `σ = (√(n + g²) − √n)/η`, `z ← z + g − σ·w`, `n ← n + g²`;
//! `w = |z| ≤ λ1 ? 0 : −(z − sign(z)·λ1) / ((β + √n)/η + λ2)`, with FTRL's own `λ1`, `λ2` on the
//! cumulative objective (no proximal step on top; the bounds still apply).

use super::lane::Lane;
use super::prox::bound;
use super::step::StepScalars;
use super::{Penalty, Update};
use crate::Error;

/// FTRL's `β`, `λ1`, `λ2`.
#[derive(Clone, Copy)]
pub(super) struct Ftrl {
    pub(super) beta: f32,
    pub(super) l1: f32,
    pub(super) l2: f32,
}

impl Update for Ftrl {
    const NAME: &'static str = "ftrl";
    const KIND: u64 = 5;
    const BUFFERS: usize = 2;
    fn validate(self) -> Result<(), Error> {
        let ok = |v: f32| v.is_finite() && v >= 0.0;
        let bad = |name| {
            Err(Error::InvalidParameter {
                name,
                reason: "must be finite and >= 0",
            })
        };
        if !ok(self.beta) {
            bad("beta")
        } else if !ok(self.l1) {
            bad("l1")
        } else if !ok(self.l2) {
            bad("l2")
        } else {
            Ok(())
        }
    }
    fn penalty(self) -> Penalty {
        Penalty::Own {
            l1: self.l1,
            l2: self.l2,
        }
    }
    #[inline(always)]
    fn element<L: Lane>(self, s: &StepScalars, w: L, g: L, a: L, b: L) -> (L, L, L) {
        let lr = L::splat(s.lr);
        let g2 = g * g;
        let n1 = b + g2;
        let sigma = (n1.sqrt() - b.sqrt()) / lr;
        let z1 = (a + g) - sigma * w;
        let l1 = L::splat(s.l1);
        let zero = L::splat(0.0);
        let num = z1 - L::gt0(z1, l1, -l1);
        let den = (L::splat(self.beta) + n1.sqrt()) / lr + L::splat(s.l2);
        let w1 = L::le(z1.abs(), l1, zero, -(num / den));
        (bound(w1, s), z1, n1)
    }
}
