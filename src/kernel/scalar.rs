//! The scalar reference path: plain loops in the order a textbook writes them.
//!
//! This path is the readable oracle for the SIMD path. Each prediction is a sequential dot
//! product starting from `+0.0`; the loss and `Σ r_i` are summed in `f64`; each weight gradient
//! is summed sequentially in `f32`. See the [module docs](super) for the error bound it
//! meets and the SIMD path's exact order.

use super::{LossGrad, entry_forward, entry_grad, entry_loss};
use crate::Error;

/// `w · row + b`, summed left to right from `+0.0`.
#[inline]
fn predict_row(row: &[f32], w: &[f32], b: f32) -> f32 {
    let mut s = 0.0f32;
    for (xj, wj) in row.iter().zip(w) {
        s += xj * wj;
    }
    s + b
}

/// Predictions `out[i] = w·x_i + b` for `n = out.len()` samples.
///
/// # Errors
/// Shape errors, non-finite `w`/`b`; [`Error::NonFinite`] for a non-finite `x`,
/// [`Error::Overflow`] if a prediction overflows.
pub fn forward(x: &[f32], w: &[f32], b: f32, out: &mut [f32]) -> Result<(), Error> {
    entry_forward(x, w, b, out, |out| {
        // `d ≥ 1` once the entry's checks pass; `max(1)` only spares `chunks_exact` its panic.
        for (row, o) in x.chunks_exact(w.len().max(1)).zip(out.iter_mut()) {
            *o = predict_row(row, w, b);
        }
    })
}

/// The shared loop: returns `(Σ r², Σ r)` in `f64` and, if `GRAD`, accumulates `Σ r·x` into
/// `grad_w` (which must be zeroed).
#[inline]
fn pass<const GRAD: bool>(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
) -> (f64, f64) {
    let d = w.len().max(1);
    let mut loss = 0.0f64;
    let mut rsum = 0.0f64;
    for (row, &yi) in x.chunks_exact(d).zip(y) {
        let r = predict_row(row, w, b) - yi;
        loss += f64::from(r * r);
        rsum += f64::from(r);
        if GRAD {
            for (g, xj) in grad_w.iter_mut().zip(row) {
                *g += r * xj;
            }
        }
    }
    (loss, rsum)
}

/// Mean squared error `(1/n) Σ (w·x_i + b − y_i)²`, `n = y.len()`.
///
/// # Errors
/// As [`fused`].
pub fn loss(x: &[f32], y: &[f32], w: &[f32], b: f32) -> Result<f32, Error> {
    entry_loss(x, y, w, b, || pass::<false>(x, y, w, b, &mut []).0)
}

/// Gradient of the mean squared error: writes `∂L/∂w` into `grad_w` (length `d`) and returns
/// `∂L/∂b`.
///
/// # Errors
/// As [`fused`].
pub fn gradient(x: &[f32], y: &[f32], w: &[f32], b: f32, grad_w: &mut [f32]) -> Result<f32, Error> {
    entry_grad(x, y, w, b, grad_w, |g| (0.0, pass::<true>(x, y, w, b, g).1)).map(|o| o.grad_b)
}

/// Loss and gradient in one pass over `x`: writes `∂L/∂w` into `grad_w` (length `d`).
///
/// # Errors
/// [`Error::ZeroFeatures`], [`Error::EmptyBatch`], [`Error::LengthMismatch`] for `x` or
/// `grad_w`, [`Error::NonFinite`] for non-finite `w`, `b`, `x` or `y`, [`Error::Overflow`] if the
/// loss or gradient overflows `f32` from finite inputs.
pub fn fused(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
) -> Result<LossGrad, Error> {
    entry_grad(x, y, w, b, grad_w, |g| pass::<true>(x, y, w, b, g))
}
