//! The scalar reference path: plain loops in the order a textbook writes them.
//!
//! This path is the readable oracle for the SIMD path. Each prediction is a sequential dot
//! product starting from `+0.0`; the loss and `Σ r_i` are summed in `f64`; each weight gradient
//! is summed sequentially in `f32`. See the [module docs](super) for the error bound it
//! meets and the SIMD path's exact order.

use super::{LossGrad, check_result, check_shapes, diagnose, finish};
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
    let (_, d) = check_shapes(x, out.len(), w, b, None)?;
    for (row, o) in x.chunks_exact(d).zip(out.iter_mut()) {
        *o = predict_row(row, w, b);
    }
    if out.iter().all(|p| p.is_finite()) {
        Ok(())
    } else {
        Err(diagnose(x, None, "predictions"))
    }
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
    let d = w.len();
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
    let (n, _) = check_shapes(x, y.len(), w, b, None)?;
    let (l, _) = pass::<false>(x, y, w, b, &mut []);
    let l = (l / n as f64) as f32;
    if l.is_finite() {
        Ok(l)
    } else {
        Err(diagnose(x, Some(y), "loss"))
    }
}

/// Gradient of the mean squared error: writes `∂L/∂w` into `grad_w` (length `d`) and returns
/// `∂L/∂b`.
///
/// # Errors
/// As [`fused`].
pub fn gradient(x: &[f32], y: &[f32], w: &[f32], b: f32, grad_w: &mut [f32]) -> Result<f32, Error> {
    let (n, _) = check_shapes(x, y.len(), w, b, Some(grad_w.len()))?;
    grad_w.fill(0.0);
    let (_, rsum) = pass::<true>(x, y, w, b, grad_w);
    let mut out = finish(n, 0.0, rsum, grad_w);
    out.loss = 0.0;
    check_result(x, y, out, grad_w).map(|o| o.grad_b)
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
    let (n, _) = check_shapes(x, y.len(), w, b, Some(grad_w.len()))?;
    grad_w.fill(0.0);
    let (l, rsum) = pass::<true>(x, y, w, b, grad_w);
    let out = finish(n, l, rsum, grad_w);
    check_result(x, y, out, grad_w)
}
