//! The shared entries of both paths: the shape and value checks before a pass, the final
//! scaling and the check of its result after it.

use super::{LossGrad, MAX_CLASSES, PointLoss};
use crate::Error;
use crate::check::{all_finite, check_finite, check_labels, check_len, check_params, diagnose};

/// Checks the shapes shared by every kernel, then the finiteness of `w` and `b`; returns
/// `(n, d)`.
///
/// `n` is the length of `y` (or of the output for `forward`); `grad_len` is the length of the
/// gradient output, if the kernel has one.
pub(crate) fn check_shapes(
    x: &[f32],
    n: usize,
    w: &[f32],
    b: f32,
    grad_len: Option<usize>,
) -> Result<(usize, usize), Error> {
    let d = w.len();
    if d == 0 {
        return Err(Error::ZeroFeatures);
    }
    if n == 0 {
        return Err(Error::EmptyBatch);
    }
    match n.checked_mul(d) {
        Some(len) if len == x.len() => {}
        other => {
            return Err(Error::LengthMismatch {
                what: "x",
                expected: other.unwrap_or(usize::MAX),
                found: x.len(),
            });
        }
    }
    if let Some(len) = grad_len {
        check_len("grad_w", len, d)?;
    }
    check_params(w, b)?;
    Ok((n, d))
}

/// Final scaling shared by both paths and every loss: `L = loss_acc/n`,
/// `∂L/∂b = k·sum_acc/n`, `∂L/∂w_j = grad_w[j]·(k/n as f32)`, with `k = 2` for the squared
/// error (its derivative `2r` is summed as `r`) and `k = 1` for the others (exact: multiplying
/// by 1 changes no bit). Then the result is checked: a non-finite one becomes the right error.
#[inline]
fn finish(
    (n, k): (usize, f64),
    (loss_acc, sum_acc): (f64, f64),
    grad_w: &mut [f32],
    (x, y): (&[f32], &[f32]),
) -> Result<LossGrad, Error> {
    let nf = n as f64;
    let s = (k / nf) as f32;
    for g in grad_w.iter_mut() {
        *g *= s;
    }
    let out = LossGrad {
        loss: (loss_acc / nf) as f32,
        grad_b: (k * sum_acc / nf) as f32,
    };
    if out.loss.is_finite() && out.grad_b.is_finite() && all_finite(grad_w) {
        return Ok(out);
    }
    let what = if out.loss.is_finite() {
        "gradient"
    } else {
        "loss"
    };
    Err(diagnose(x, Some(y), what))
}

/// The shared entry of `forward` on both paths: checks, runs `pass` (which writes the
/// predictions into `out`), checks the output.
#[inline(always)]
pub(crate) fn entry_forward(
    x: &[f32],
    w: &[f32],
    b: f32,
    out: &mut [f32],
    pass: impl FnOnce(&mut [f32]),
) -> Result<(), Error> {
    check_shapes(x, out.len(), w, b, None)?;
    pass(out);
    if all_finite(out) {
        Ok(())
    } else {
        Err(diagnose(x, None, "predictions"))
    }
}

/// The shared entry of `loss` on both paths: `pass` returns `Σ r²` in `f64`.
#[inline(always)]
pub(crate) fn entry_loss(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    pass: impl FnOnce() -> f64,
) -> Result<f32, Error> {
    let (n, _) = check_shapes(x, y.len(), w, b, None)?;
    let l = (pass() / n as f64) as f32;
    if l.is_finite() {
        Ok(l)
    } else {
        Err(diagnose(x, Some(y), "loss"))
    }
}

/// The shared entry of `gradient` and `fused` on both paths: checks, zeroes `grad_w`, runs
/// `pass` (which adds `Σ r·x` into it and returns `(Σ r², Σ r)`, the first `0` when the loss is
/// not wanted), scales, and turns a non-finite result into the right error.
#[inline(always)]
pub(crate) fn entry_grad(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    pass: impl FnOnce(&mut [f32]) -> (f64, f64),
) -> Result<LossGrad, Error> {
    let (n, _) = check_shapes(x, y.len(), w, b, Some(grad_w.len()))?;
    grad_w.fill(0.0);
    let sums = pass(grad_w);
    finish((n, 2.0), sums, grad_w, (x, y))
}

/// The error of a loss kernel other than the squared error in a build without the `losses`
/// feature.
pub(crate) const NEEDS_LOSSES: Error = Error::InvalidParameter {
    name: "loss",
    reason: "needs the `losses` feature (only the squared error is compiled in)",
};

/// The shared entry of the [`PointLoss`] kernels: checks, zeroes `grad_w`, runs `pass` (which
/// returns `(Σℓ, Σg)` and adds `Σ g·x` into `grad_w`), scales and checks the result.
#[inline(always)]
pub(crate) fn entry_pointwise(
    loss: &dyn PointLoss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    mut grad_w: Option<&mut [f32]>,
    pass: impl FnOnce(Option<&mut [f32]>) -> (f64, f64),
) -> Result<LossGrad, Error> {
    // A constant: without the feature the rest (and the loss kernels) is never compiled in.
    if !cfg!(feature = "losses") {
        return Err(NEEDS_LOSSES);
    }
    let (n, _) = check_shapes(x, y.len(), w, b, grad_w.as_deref().map(<[f32]>::len))?;
    loss.check(y)?;
    if let Some(g) = grad_w.as_deref_mut() {
        g.fill(0.0);
    }
    let sums = pass(grad_w.as_deref_mut());
    let mut empty: [f32; 0] = [];
    finish((n, 1.0), sums, grad_w.unwrap_or(&mut empty), (x, y))
}

/// Shapes of a softmax kernel: `k = b.len()` classes (`1..=MAX_CLASSES`), `w` of `k·d`
/// (class-major: class `c`'s weights are `w[c·d..(c+1)·d]`), `x` of `n·d`, `n = y.len()`.
/// Then `w`, `b` finite and the labels valid. Returns `(n, d, k)`.
pub(crate) fn check_softmax(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
    grads: Option<(usize, usize)>,
) -> Result<(usize, usize, usize), Error> {
    let k = b.len();
    if k == 0 || k > MAX_CLASSES {
        return Err(Error::InvalidParameter {
            name: "classes",
            reason: "must be in 1..=256",
        });
    }
    let d = w.len() / k;
    if d == 0 {
        return Err(Error::ZeroFeatures);
    }
    check_len("w", w.len(), k * d)?;
    let (n, _) = check_shapes(x, y.len(), w.get(..d).unwrap_or(&[]), 0.0, None)?;
    if let Some((gw, gb)) = grads {
        check_len("grad_w", gw, k * d)?;
        check_len("grad_b", gb, k)?;
    }
    check_finite("w", w)?;
    if let Err(Error::NonFinite { index, .. }) = check_finite("b", b) {
        return Err(Error::NonFinite { what: "b", index });
    }
    check_labels(y, k)?;
    Ok((n, d, k))
}

/// The shared entry of the softmax kernels: checks, zeroes the gradients, runs `pass` (which
/// returns `Σℓ`, adds `Σ g·x` into `grad_w` and writes `grad_b = (Σ g)/n`), scales `grad_w`,
/// checks.
#[inline(always)]
pub(crate) fn entry_softmax(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
    mut grads: Option<(&mut [f32], &mut [f32])>,
    pass: impl FnOnce(usize, usize, Option<(&mut [f32], &mut [f32])>) -> f64,
) -> Result<f32, Error> {
    if !cfg!(feature = "losses") {
        return Err(NEEDS_LOSSES);
    }
    let lens = grads.as_ref().map(|(gw, gb)| (gw.len(), gb.len()));
    let (n, d, k) = check_softmax(x, y, w, b, lens)?;
    if let Some((gw, gb)) = grads.as_mut() {
        gw.fill(0.0);
        gb.fill(0.0);
    }
    let l = pass(d, k, grads.as_mut().map(|(gw, gb)| (&mut **gw, &mut **gb)));
    let loss = (l / n as f64) as f32;
    let mut ok = loss.is_finite();
    if let Some((gw, gb)) = grads {
        let s = (1.0 / n as f64) as f32;
        for g in gw.iter_mut() {
            *g *= s;
        }
        // `grad_b` is final already: the pass divides its `f64` sums by `n`.
        ok = ok && all_finite(gw) && all_finite(gb);
        if !ok {
            return Err(diagnose(
                x,
                Some(y),
                if loss.is_finite() { "gradient" } else { "loss" },
            ));
        }
    }
    if ok {
        Ok(loss)
    } else {
        Err(diagnose(x, Some(y), "loss"))
    }
}
