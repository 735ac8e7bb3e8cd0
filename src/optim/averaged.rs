//! SGD with Polyak–Ruppert averaging from step `t0` (scikit-learn's
//! `SGDRegressor(average=t0)`): `u = w − η·g`; from `t0` on, `w̄ ← w̄ + (w − w̄)/(t − t0 + 1)`
//! (`w̄ = w` at `t0`). The model returned by training is the average.

use super::Update;
use super::lane::Lane;
use super::prox::prox;
use super::step::StepScalars;
use crate::Error;

/// Averaging from step `start`.
#[derive(Clone, Copy)]
pub(super) struct Averaged {
    pub(super) start: u64,
}

impl Update for Averaged {
    const NAME: &'static str = "averaged";
    const KIND: u64 = 4;
    const BUFFERS: usize = 1;
    fn validate(self) -> Result<(), Error> {
        if self.start == 0 {
            Err(Error::InvalidParameter {
                name: "start",
                reason: "must be >= 1",
            })
        } else {
            Ok(())
        }
    }
    fn scalars(self, s: &mut StepScalars) {
        if s.t >= self.start {
            s.avg_k = (s.t - self.start + 1) as f32;
        }
    }
    #[inline(always)]
    fn element<L: Lane>(self, s: &StepScalars, w: L, g: L, a: L, b: L) -> (L, L, L) {
        let w1 = prox(w - L::splat(s.lr) * g, s);
        let avg = if s.avg_k == 1.0 {
            w1
        } else if s.avg_k > 1.0 {
            a + (w1 - a) / L::splat(s.avg_k)
        } else {
            a
        };
        (w1, avg, b)
    }
}
