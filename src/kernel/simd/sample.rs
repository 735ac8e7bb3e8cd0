//! One sample at a time: the bits of the block kernels on a batch of one row, without their
//! entry checks, block buffers or scaling loops. The single-sample path of `fit` with
//! batches of one, of the online learner and of `partial_fit` calls it once the shapes and
//! values were checked where the data came in (a `Dataset`, a window).
//!
//! On a batch of one row the contract's order (see the [module docs](crate::kernel)) reduces to:
//! `ŷ` as for any row (a sequential sum for `d < 8`, the lanes and `tree8` for `d ≥ 8`);
//! every lane sum holds the one sample in lane 0 and `+0` elsewhere, so a `tree8` of it is
//! `v + 0` (which turns a `−0` into `+0` and leaves every other value alone); the `f64` block
//! sums and the division by `n = 1` are exact. Hence, for the squared error with `r = ŷ − y`:
//! `L = r·r`, `∂L/∂b = 2·(r + 0)`, `∂L/∂w_j = ((r·x_j) + 0)·2`; for a [`PointLoss`] whose block
//! gives `(ℓ, g)`: `L = ℓ`, `∂L/∂b = g`, `∂L/∂w_j = (g·x_j) + 0`. `tests/single_sample.rs`
//! checks these bits against the block kernels for every `d` from 1 to 33 and every loss.

use super::wide::{row_acc, tail_weights};
use super::{Lane8, Lanes, dot_seq, tree8};
use crate::kernel::PointLoss;

/// `w·x + b` for one row of `D ≥ 1` features, in the contract's order (the bits of
/// [`forward`](super::forward) on that row).
#[inline(always)]
pub(crate) fn predict<const D: usize>(x: &[f32; D], w: &[f32; D], b: f32) -> f32 {
    if D < 8 {
        dot_seq(x, w) + b
    } else {
        tree8(row_acc::<Lane8>(x, w, tail_weights::<Lane8>(w)).lanes()) + b
    }
}

/// The squared error of one row: writes `∂L/∂w` into `gw`, returns `(L, ∂L/∂b)`, the bits of
/// [`fused`](super::fused) on that row. Unchecked: a non-finite result (an overflow) is
/// returned as it is, for the caller to refuse.
#[inline(always)]
pub(crate) fn squared<const D: usize>(
    x: &[f32; D],
    y: f32,
    w: &[f32; D],
    b: f32,
    gw: &mut [f32; D],
) -> (f32, f32) {
    let r = predict(x, w, b) - y;
    scaled_products(x, r, 2.0, gw);
    (r * r, (r + 0.0) * 2.0)
}

/// A [`PointLoss`] on one row: writes `∂L/∂w` into `gw`, returns `(L, ∂L/∂b)`, the bits of
/// [`pointwise_fused`](super::pointwise_fused) on that row (the loss's own
/// [`PointLoss::block`] on a block of one). Unchecked, as [`squared`]; the targets must have
/// passed [`PointLoss::check`].
#[inline(always)]
pub(crate) fn pointwise<const D: usize>(
    loss: &dyn PointLoss,
    x: &[f32; D],
    y: f32,
    w: &[f32; D],
    b: f32,
    gw: &mut [f32; D],
) -> (f32, f32) {
    let mut z = [predict(x, w, b)];
    let (l, gsum) = loss.block(&mut z, &[y]);
    let [g] = z;
    scaled_products(x, g, 1.0, gw);
    (l, gsum)
}

/// `out_j = ((r·x_j) + 0)·k`, eight lanes at a time (`k = 1` changes no bit).
#[inline(always)]
fn scaled_products<const D: usize>(x: &[f32; D], r: f32, k: f32, out: &mut [f32; D]) {
    let (xc, xt) = x.as_chunks::<8>();
    let (oc, ot) = out.as_chunks_mut::<8>();
    let (rv, kv) = (Lane8::splat(r), Lane8::splat(k));
    for (o, x8) in oc.iter_mut().zip(xc) {
        let p = (Lane8::load(x8) * rv) + Lane8::ZERO;
        *o = if k == 1.0 { p } else { p * kv }.lanes();
    }
    for (o, xj) in ot.iter_mut().zip(xt) {
        let p = (xj * r) + 0.0;
        *o = if k == 1.0 { p } else { p * k };
    }
}

/// Whether every value of `v` is finite: `v·0` is `0` for a finite `v` and NaN otherwise, and
/// a sum keeps a NaN (eight values to a vector where there is a vector unit).
#[inline(always)]
pub(crate) fn all_finite<const D: usize>(v: &[f32; D]) -> bool {
    if super::SMALL {
        return v.iter().all(|e| e.is_finite());
    }
    let (c, t) = v.as_chunks::<8>();
    let mut acc = ::wide::f32x8::ZERO;
    for k in c {
        acc += ::wide::f32x8::new(*k) * ::wide::f32x8::ZERO;
    }
    let mut s = 0.0f32;
    for e in t {
        s += *e * 0.0;
    }
    s == 0.0 && acc.simd_eq(::wide::f32x8::ZERO).all()
}
