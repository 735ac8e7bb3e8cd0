//! The scalar reference path: plain loops in the order a textbook writes them.
//!
//! This path is the readable oracle for the SIMD path. Each prediction is a sequential dot
//! product starting from `+0.0`; the loss and `Σ r_i` are summed in `f64`; each weight gradient
//! is summed sequentially in `f32`. See the [module docs](super) for the error bound it
//! meets and the SIMD path's exact order.

use super::entry::{entry_forward, entry_grad, entry_loss, entry_pointwise, entry_softmax};
use super::{LossGrad, MAX_CLASSES, PointLoss};
use crate::Error;
use crate::check::{check_finite, check_len};

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

/// The shared loop of the [`PointLoss`] kernels: `(ℓ, ℓ')` per sample from
/// [`PointLoss::point`]; `(Σℓ, Σℓ')` in `f64`; `Σ ℓ'·x` in `f32` into `grad_w` if given.
fn pointwise_pass(
    loss: &dyn PointLoss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    mut grad_w: Option<&mut [f32]>,
) -> (f64, f64) {
    let d = w.len().max(1);
    let mut lsum = 0.0f64;
    let mut gsum = 0.0f64;
    for (row, &yi) in x.chunks_exact(d).zip(y) {
        let z = predict_row(row, w, b);
        let (l, g) = loss.point(z, yi);
        lsum += f64::from(l);
        gsum += f64::from(g);
        if let Some(gw) = grad_w.as_deref_mut() {
            for (gj, xj) in gw.iter_mut().zip(row) {
                *gj += g * xj;
            }
        }
    }
    (lsum, gsum)
}

/// Loss and gradient of any [`PointLoss`] in one pass over `x` (see
/// [`super::simd::pointwise_fused`]).
///
/// # Errors
/// As [`super::simd::pointwise_fused`].
pub fn pointwise_fused(
    loss: &dyn PointLoss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
) -> Result<LossGrad, Error> {
    entry_pointwise(loss, x, y, w, b, Some(grad_w), |g| {
        pointwise_pass(loss, x, y, w, b, g)
    })
}

/// The mean loss of any [`PointLoss`] (see [`super::simd::pointwise_loss`]).
///
/// # Errors
/// As [`super::simd::pointwise_fused`].
pub fn pointwise_loss(
    loss: &dyn PointLoss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
) -> Result<f32, Error> {
    entry_pointwise(loss, x, y, w, b, None, |_| {
        pointwise_pass(loss, x, y, w, b, None)
    })
    .map(|o| o.loss)
}

/// Cross-entropy of K logits `z` for the class `label`, `log Σ e^{z_k} − z_label`, with the
/// maximum subtracted first, in `f64`; writes the gradient `softmax(z) − onehot(label)` into
/// `grad` (each rounded once to `f32`). The reference of the softmax kernels.
///
/// # Errors
/// [`Error::EmptyBatch`] for no logits, [`Error::LengthMismatch`] if `grad` is not as long as
/// `z`, [`Error::InvalidData`] if `label ≥ K`, [`Error::NonFinite`] for a non-finite logit,
/// [`Error::Overflow`] if the loss overflows `f32` (logits more than `f32::MAX` apart). On
/// error `grad` is unchanged.
pub fn softmax_xent(z: &[f32], label: usize, grad: &mut [f32]) -> Result<f32, Error> {
    if z.is_empty() {
        return Err(Error::EmptyBatch);
    }
    check_len("grad", grad.len(), z.len())?;
    if label >= z.len() {
        return Err(Error::InvalidData {
            what: "label",
            reason: "must be < the number of classes",
        });
    }
    check_finite("z", z)?;
    let m = z
        .iter()
        .fold(f64::NEG_INFINITY, |a, &v| a.max(f64::from(v)));
    let sum: f64 = z.iter().map(|&v| libm::exp(f64::from(v) - m)).sum();
    let lse = m + libm::log(sum);
    let zl = z.get(label).copied().map_or(0.0, f64::from);
    let loss = (lse - zl) as f32;
    if !loss.is_finite() {
        return Err(Error::Overflow { what: "loss" });
    }
    for (k, (g, &v)) in grad.iter_mut().zip(z).enumerate() {
        let p = libm::exp(f64::from(v) - lse);
        *g = (p - if k == label { 1.0 } else { 0.0 }) as f32;
    }
    Ok(loss)
}

/// The softmax loop: per sample, `K` sequential logits, then [`softmax_xent`]'s
/// `f64` formulas (the `K ≤ 256` gradients of one sample on the stack).
fn softmax_pass(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
    d: usize,
    mut grads: Option<(&mut [f32], &mut [f32])>,
) -> f64 {
    let k = b.len();
    let mut lsum = 0.0f64;
    let mut gb_acc = [0.0f64; MAX_CLASSES];
    let mut z = [0.0f32; MAX_CLASSES];
    let mut g = [0.0f32; MAX_CLASSES];
    let (z, g) = (&mut z[..k.min(MAX_CLASSES)], &mut g[..k.min(MAX_CLASSES)]);
    for (row, &yi) in x.chunks_exact(d.max(1)).zip(y) {
        for ((zc, wc), &bc) in z.iter_mut().zip(w.chunks_exact(d.max(1))).zip(b) {
            *zc = predict_row(row, wc, bc);
        }
        let Ok(l) = softmax_xent(z, yi as usize, g) else {
            return f64::NAN;
        };
        lsum += f64::from(l);
        if let Some((gw, _)) = grads.as_mut() {
            for ((gwc, &gc), acc) in gw.chunks_exact_mut(d.max(1)).zip(g.iter()).zip(&mut gb_acc) {
                *acc += f64::from(gc);
                for (gj, xj) in gwc.iter_mut().zip(row) {
                    *gj += gc * xj;
                }
            }
        }
    }
    if let Some((_, gb)) = grads {
        for (o, a) in gb.iter_mut().zip(gb_acc) {
            *o = (a / y.len() as f64) as f32;
        }
    }
    lsum
}

/// Softmax cross-entropy and its gradient (see [`super::simd::softmax_fused`]).
///
/// # Errors
/// As [`super::simd::softmax_fused`].
pub fn softmax_fused(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
    grad_w: &mut [f32],
    grad_b: &mut [f32],
) -> Result<f32, Error> {
    entry_softmax(x, y, w, b, Some((grad_w, grad_b)), |d, _, g| {
        softmax_pass(x, y, w, b, d, g)
    })
}

/// Softmax cross-entropy alone (see [`super::simd::softmax_loss`]).
///
/// # Errors
/// As [`super::simd::softmax_fused`].
pub fn softmax_loss(x: &[f32], y: &[f32], w: &[f32], b: &[f32]) -> Result<f32, Error> {
    entry_softmax(x, y, w, b, None, |d, _, _| {
        softmax_pass(x, y, w, b, d, None)
    })
}
