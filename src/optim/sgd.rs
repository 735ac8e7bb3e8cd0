//! Plain (proximal) gradient descent: `u = w − η·g`, no state; the prox step is `h = η`.

use super::Update;
use super::lane::Lane;
use super::prox::prox;
use super::step::StepScalars;

/// SGD.
#[derive(Clone, Copy)]
pub(super) struct Sgd;

impl Update for Sgd {
    const NAME: &'static str = "sgd";
    const KIND: u64 = 1;
    const BUFFERS: usize = 0;
    #[inline(always)]
    fn element<L: Lane>(self, s: &StepScalars, w: L, g: L, a: L, b: L) -> (L, L, L) {
        (prox(w - L::splat(s.lr) * g, s), a, b)
    }
}
