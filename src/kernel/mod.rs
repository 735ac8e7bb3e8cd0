//! Fused kernels for the linear model `ŷ = w·x + b` with mean squared error.
//!
//! Every kernel works on a mini-batch of `n` samples with `d` features, stored row-major:
//! `x` has `n·d` elements (sample `i` is `x[i*d..(i+1)*d]`), `y` has `n`, `w` has `d`.
//! The loss is the seed's mean squared error and its gradient:
//!
//! ```text
//! r_i = (w·x_i + b) − y_i          L = (1/n) Σ r_i²
//! ∂L/∂w = (2/n) Σ r_i x_i          ∂L/∂b = (2/n) Σ r_i
//! ```
//!
//! [`fused`] computes `L`, `∂L/∂w` and `∂L/∂b` in one pass over `x`.
//!
//! # Two paths, one signature
//!
//! [`scalar`] is the readable reference: plain loops, sequential sums (loss and `∂L/∂b` in `f64`).
//! [`simd`] is the fast path, built on `wide::f32x8`. The functions re-exported at this level
//! ([`forward`], [`loss`], [`gradient`], [`fused`]) are the SIMD ones. Both paths are also
//! available as values, [`SCALAR`] and [`SIMD`], so that tests and benchmarks can take either.
//!
//! # The SIMD path's summation order (the bit-exactness contract)
//!
//! The SIMD path gives the **same bits on every target** (SSE2, AVX2, AVX-512, NEON, `wide`'s
//! portable fallback), with any `RUSTFLAGS`, because its result is defined by the following
//! order of IEEE-754 single-precision operations, each a separate multiply or add rounded to
//! nearest (no fused multiply-add; Rust never contracts on its own). All accumulators start at `+0.0`.
//! This holds wherever `f32` arithmetic is IEEE binary32 with subnormals: every 64-bit target
//! and Cortex-M FPUs in their default mode; not x87 (`i586` without SSE), which rounds through
//! extended precision, nor an FPU set to flush subnormals to zero. Data movement (loads,
//! transposes) is exact, so `wide`'s choice of instructions never changes a bit.
//! `tree8(a) = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))`.
//!
//! 1. **Prediction of sample `i`.** If `d < 8` ("tiny" models, samples in lanes):
//!    `s = +0; for j in 0..d { s = s + x_ij * w_j }; ŷ_i = s + b` — the same as the scalar path.
//!    If `d ≥ 8` (features in lanes): lanes `a[0..8] = +0`; for each full chunk `c` of 8
//!    features, `a[k] = a[k] + x_i,8c+k * w_8c+k`; then, if `t = d mod 8 ≠ 0`, the last `t`
//!    features go to the *last* `t` lanes: `a[8−t+k] = a[8−t+k] + x_i,d−t+k * w_d−t+k` for
//!    `k < t` (the kernel loads the row's last eight features and zeroes the other lanes'
//!    weights; lanes are never −0, so adding those `±0` products changes nothing);
//!    `ŷ_i = tree8(a) + b`. Then `r_i = ŷ_i − y_i`.
//! 2. **Blocks.** Samples are taken in consecutive blocks of [`block_len(d)`](block_len) samples
//!    (256 for `d < 8`; else `⌊8192/d⌋` rounded down to a multiple of 8, clamped to `32..=256`:
//!    about 32 KiB of `x`, still in L1 when the gradient reads it again, up to `d = 256`; for
//!    larger `d` at least 32 rows, so that the per-block work is amortised, with the block in L2).
//!    Within a block, sample `t` (counted from the block's start) belongs to lane `t mod 8`.
//! 3. **Per block:** `loss_b = tree8(Σ_lane r_t²)` and `rsum_b = tree8(Σ_lane r_t)`, each lane
//!    summing its samples in increasing `t`. The gradient of feature `j`: if `d < 8`,
//!    `g_j = tree8(Σ_lane r_t·x_tj)` (lanes as above); if `d ≥ 8`, `g_j = +0`, then for each
//!    quad of rows `t = 4q..4q+4` in order,
//!    `g_j = g_j + ((r_4q·x_4q,j + r_4q+1·x_4q+1,j) + (r_4q+2·x_4q+2,j + r_4q+3·x_4q+3,j))`, then the
//!    rows left over (fewer than four, only in a last partial block) one at a time,
//!    `g_j = g_j + r_t·x_tj`.
//! 4. **Across blocks**, in block order: `loss_acc += loss_b as f64`, `rsum_acc += rsum_b as f64`
//!    (both `f64`, starting at `+0`), and `grad_w[j] = grad_w[j] + g_j` in `f32`.
//! 5. **Scaling:** `L = (loss_acc / n) as f32`, `∂L/∂b = (2·rsum_acc / n) as f32`,
//!    `∂L/∂w_j = grad_w[j] * s` with `s = (2/n as f64) as f32`.
//!
//! The two-level (lane, block) summation keeps the error of the sums over `n` samples small for
//! large `n`: the loss error grows with the block length and the number of blocks in `f64`, not
//! with `n` in `f32`.
//!
//! # Accuracy against exact arithmetic
//!
//! For either path, with `u = 2⁻²⁴`, `γ_k = k·u/(1 − k·u)`, `A_i = Σ_j |x_ij w_j| + |b| + |y_i|`
//! and `e_i = γ_{d+2}·A_i` (the bound on the error of `r_i`), the results satisfy (checked by
//! the property tests against an `f64` oracle, in `tests/common/mod.rs`):
//!
//! ```text
//! |∂L/∂b − exact| ≤ (2/n)·(Σ e_i + γ_{n+1}·Σ (|r_i| + e_i)) + u·|exact|
//! |∂L/∂w_j − exact| ≤ (2/n)·(Σ e_i|x_ij| + γ_{n+1}·Σ (|r_i| + e_i)|x_ij|) + 2u·|exact|
//! |L − exact| ≤ (1/n)·(Σ e_i(2|r_i| + e_i) + γ_{n+2}·Σ (|r_i| + e_i)²) + u·|exact|
//! ```
//!
//! # Other losses
//!
//! [`fused_with`] / [`loss_with`] take any [`Loss`]: [`Loss::Squared`] is the kernels above (same
//! bits); for the Huber, absolute and logistic losses `L = (1/n) Σ ℓ(z_i, y_i)`,
//! `∂L/∂b = (1/n) Σ g_i`, `∂L/∂w = (1/n) Σ g_i x_i` with `z_i = w·x_i + b` and `g_i = ℓ'(z_i, y_i)`.
//! [`softmax_fused`] / [`softmax_loss`] are the cross-entropy of `K = b.len()` classes
//! (`K ≤` [`MAX_CLASSES`]), with `w` holding the `K` weight rows one after the other and `y` the
//! class of each sample as a float. The scalar path evaluates `ℓ` and `g` in `f64` with `libm`
//! ([`Loss::value`], [`Loss::derivative`], [`crate::loss::softmax_xent`]).
//!
//! The SIMD path's order, the same bits everywhere:
//! 1. Blocks of [`block_len(d)`](block_len) samples ([`softmax_block_len`] for softmax: fewer
//!    when the `K` logit rows of a block would exceed 2048 floats). Per block, the predictions
//!    `z` exactly as [`forward`] computes them.
//! 2. Per sample, in lanes (sample `t` of the block in lane `t mod 8`), with the lane
//!    functions of [`vmath`]:
//!    * Huber: `r = z − y`, `a = |r|`; `ℓ = a ≤ δ ? (r·r)·0.5 : δ·(a − δ/2)`;
//!      `g = r > δ ? δ : (r < −δ ? −δ : r)`.
//!    * absolute: `r = z − y`; `ℓ = |r|`; `g = r > 0 ? 1 : (r < 0 ? −1 : 0)`.
//!    * logistic: `e = exp(−|z|)`; `ℓ = (max(z, 0) − z·y) + log1p(e)`;
//!      `g = (z ≥ 0 ? 1/(1 + e) : e/(1 + e)) − y`.
//!    * softmax: `m` = the running maximum over classes in class order
//!      (`m = z_c > m ? z_c : m` from `m = z_0`); `e_c = exp(z_c − m)`; `s = Σ_c e_c` from `+0` in
//!      class order; `ℓ = (m + ln s) − z_y`; `g_c = e_c / s − [c = y]`.
//! 3. Per block: `loss_b = tree8(Σ_lane ℓ_t)` and `gsum_b = tree8(Σ_lane g_t)` (per class for
//!    softmax), lanes summing in increasing `t`, lanes past the end of a block set to `+0`; the
//!    weight gradient of the block in the order of step 3 of the squared error with `g_t` for
//!    `r_t`.
//! 4. Across blocks, `loss_b` and `gsum_b` summed in `f64`, `grad_w` in `f32`; then
//!    `L = loss/n`, `∂L/∂b = gsum/n` (both from `f64`), `∂L/∂w_j = grad_w[j]·(1/n as f32)`.
//!
//! Accuracy (either path; checked against an `f64` oracle in `tests/loss_kernels.rs`): with
//! `e_i = γ_{d+2}·(Σ_j |x_ij w_j| + |b|) + u·|z_i − y_i|` the error of a prediction, each
//! per-sample `ℓ_i` is within `Lip(ℓ)·e_i` plus a few roundings (`exp`, `ln`, `log1p` are within
//! 1 ulp, see [`vmath`]) and each `g_i` within `Lip(ℓ')·e_i` plus a few roundings (`Lip(ℓ)`: δ, 1, 1;
//! `Lip(ℓ')`: 1, —, ¼; the absolute loss's `g_i` is exact unless `|z_i − y_i| ≤ e_i`); the
//! sums then obey the same `γ_{n+2}` bounds as the squared error. For softmax, the logits' error
//! `E_i = max_c e_ic` moves `ℓ_i` by at most `2E_i` and `p_ic` by `2p_ic·E_i`.
//!
//! # Errors
//!
//! Shapes are checked first (`d = w.len() ≥ 1`, `n ≥ 1`, `x.len() == n·d`, output lengths), then
//! `w` and `b` must be finite. Non-finite values in `x` or `y` always make the result non-finite;
//! the kernels detect that after the pass (no extra pass on the fast path) and then report the
//! first non-finite input as [`Error::NonFinite`]; a non-finite result from finite inputs is
//! [`Error::Overflow`]. On error the contents of the output slice are unspecified (it is
//! scratch, never the model).

use crate::Error;
use crate::loss::Loss;

pub mod scalar;
pub mod simd;
pub mod vmath;

pub use simd::{
    forward, fused, fused_with, gradient, loss, loss_with, softmax_fused, softmax_loss,
};

/// Loss and bias gradient returned by the fused kernel (the weight gradient is written into the
/// caller's `grad_w` slice).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossGrad {
    /// Mean squared error `L = (1/n) Σ r_i²`.
    pub loss: f32,
    /// `∂L/∂b = (2/n) Σ r_i`.
    pub grad_b: f32,
}

/// Signature of a `forward` kernel: `(x, w, b, out)`; `n = out.len()`.
pub type ForwardFn = fn(&[f32], &[f32], f32, &mut [f32]) -> Result<(), Error>;
/// Signature of a `loss` kernel: `(x, y, w, b) -> L`.
pub type LossFn = fn(&[f32], &[f32], &[f32], f32) -> Result<f32, Error>;
/// Signature of a `gradient` kernel: `(x, y, w, b, grad_w) -> ∂L/∂b`.
pub type GradientFn = fn(&[f32], &[f32], &[f32], f32, &mut [f32]) -> Result<f32, Error>;
/// Signature of a `fused` kernel: `(x, y, w, b, grad_w) -> LossGrad`.
pub type FusedFn = fn(&[f32], &[f32], &[f32], f32, &mut [f32]) -> Result<LossGrad, Error>;
/// Signature of a `fused_with` kernel: `(loss, x, y, w, b, grad_w) -> LossGrad`.
pub type FusedWithFn = fn(Loss, &[f32], &[f32], &[f32], f32, &mut [f32]) -> Result<LossGrad, Error>;
/// Signature of a `loss_with` kernel: `(loss, x, y, w, b) -> L`.
pub type LossWithFn = fn(Loss, &[f32], &[f32], &[f32], f32) -> Result<f32, Error>;
/// Signature of a `softmax_fused` kernel: `(x, y, w, b, grad_w, grad_b) -> L`.
pub type SoftmaxFusedFn =
    fn(&[f32], &[f32], &[f32], &[f32], &mut [f32], &mut [f32]) -> Result<f32, Error>;
/// Signature of a `softmax_loss` kernel: `(x, y, w, b) -> L`.
pub type SoftmaxLossFn = fn(&[f32], &[f32], &[f32], &[f32]) -> Result<f32, Error>;

/// One implementation path of the kernels, as values.
#[derive(Debug, Clone, Copy)]
pub struct Kernels {
    /// `"scalar"` or `"simd"`.
    pub name: &'static str,
    /// Predictions `ŷ_i = w·x_i + b`.
    pub forward: ForwardFn,
    /// Mean squared error.
    pub loss: LossFn,
    /// Gradient of the mean squared error.
    pub gradient: GradientFn,
    /// Loss and gradient in one pass over `x`.
    pub fused: FusedFn,
    /// Loss and gradient of any [`Loss`] in one pass over `x`.
    pub fused_with: FusedWithFn,
    /// Mean loss of any [`Loss`].
    pub loss_with: LossWithFn,
    /// Softmax cross-entropy and its gradient in one pass over `x`.
    pub softmax_fused: SoftmaxFusedFn,
    /// Softmax cross-entropy.
    pub softmax_loss: SoftmaxLossFn,
}

/// The scalar reference path.
pub const SCALAR: Kernels = Kernels {
    name: "scalar",
    forward: scalar::forward,
    loss: scalar::loss,
    gradient: scalar::gradient,
    fused: scalar::fused,
    fused_with: scalar::fused_with,
    loss_with: scalar::loss_with,
    softmax_fused: scalar::softmax_fused,
    softmax_loss: scalar::softmax_loss,
};

/// The SIMD path (the default).
pub const SIMD: Kernels = Kernels {
    name: "simd",
    forward: simd::forward,
    loss: simd::loss,
    gradient: simd::gradient,
    fused: simd::fused,
    fused_with: simd::fused_with,
    loss_with: simd::loss_with,
    softmax_fused: simd::softmax_fused,
    softmax_loss: simd::softmax_loss,
};

/// Number of samples per accumulation block of the SIMD path for `d` features (part of the
/// summation-order contract, see the [module docs](self)).
pub const fn block_len(d: usize) -> usize {
    if d < 8 {
        return 256;
    }
    let rows = (8192 / simd::nz(d)) / 8 * 8;
    if rows < 32 {
        32
    } else if rows > 256 {
        256
    } else {
        rows
    }
}

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

/// Checks model parameters: at least one weight, every weight and the bias finite.
pub(crate) fn check_params(w: &[f32], b: f32) -> Result<(), Error> {
    if w.is_empty() {
        return Err(Error::ZeroFeatures);
    }
    check_finite("w", w)?;
    if !b.is_finite() {
        return Err(Error::NonFinite {
            what: "b",
            index: 0,
        });
    }
    Ok(())
}

/// Checks that `len` equals `expected` for the argument `what`.
pub(crate) fn check_len(what: &'static str, len: usize, expected: usize) -> Result<(), Error> {
    if len == expected {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            expected,
            found: len,
        })
    }
}

/// Whether every element is finite, 32 at a time: `v·0` is `0` for a finite `v` and NaN
/// otherwise, and a NaN survives the sums.
pub(crate) fn all_finite(v: &[f32]) -> bool {
    use wide::f32x8;
    let (c, t) = v.as_chunks::<32>();
    let mut acc = [f32x8::ZERO; 4];
    for k in c {
        let (q, _) = k.as_chunks::<8>();
        for (a, e) in acc.iter_mut().zip(q) {
            *a += f32x8::new(*e) * f32x8::ZERO;
        }
    }
    let s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    s.to_array().iter().all(|e| *e == 0.0) && t.iter().all(|e| e.is_finite())
}

/// `Err(NonFinite)` with the index of the first NaN or infinity in `v`.
pub(crate) fn check_finite(what: &'static str, v: &[f32]) -> Result<(), Error> {
    if all_finite(v) {
        return Ok(());
    }
    match v.iter().position(|e| !e.is_finite()) {
        Some(index) => Err(Error::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// Called when a result is not finite: blames the first non-finite input, or reports overflow.
pub(crate) fn diagnose(x: &[f32], y: Option<&[f32]>, what: &'static str) -> Error {
    if let Err(e) = check_finite("x", x) {
        return e;
    }
    if let Some(Err(e)) = y.map(|y| check_finite("y", y)) {
        return e;
    }
    Error::Overflow { what }
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

/// Most classes a softmax kernel takes (its per-block logits live in an 8 KiB stack buffer).
pub const MAX_CLASSES: usize = 256;

/// Floats of the softmax kernels' per-block logit buffer.
pub(crate) const SOFTMAX_BUF: usize = 2048;

/// Samples per block of the softmax kernels for `d` features and `k` classes: [`block_len`]`(d)`,
/// or fewer so that the `k` logit rows of a block fit 2048 floats (a multiple of 8, ≥ 8).
pub const fn softmax_block_len(d: usize, k: usize) -> usize {
    let fit = match SOFTMAX_BUF.checked_div(k) {
        Some(q) => q / 8 * 8,
        None => 256,
    };
    let fit = if fit < 8 { 8 } else { fit };
    let b = block_len(d);
    if fit < b { fit } else { b }
}

/// The error of a loss kernel other than the squared error in a build without the `losses`
/// feature.
pub(crate) const NEEDS_LOSSES: Error = Error::InvalidParameter {
    name: "loss",
    reason: "needs the `losses` feature (only the squared error is compiled in)",
};

/// Checks the targets of a loss other than the squared error: finite, and for the logistic
/// loss in `[0, 1]`.
pub(crate) fn check_targets(loss: Loss, y: &[f32]) -> Result<(), Error> {
    loss.validate()?;
    check_finite("y", y)?;
    if loss == Loss::Logistic && !y.iter().all(|v| (0.0..=1.0).contains(v)) {
        return Err(Error::InvalidParameter {
            name: "y",
            reason: "logistic targets must be in [0, 1]",
        });
    }
    Ok(())
}

/// Checks class labels: finite integers in `0..k`.
pub(crate) fn check_labels(y: &[f32], k: usize) -> Result<(), Error> {
    check_finite("y", y)?;
    let kf = k as f32;
    // `v as u16` truncates (and saturates); in `[0, k)` with `k ≤ 256` it round-trips only for
    // integers.
    if y.iter()
        .all(|&v| v >= 0.0 && v < kf && f32::from(v as u16) == v)
    {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "y",
            reason: "class labels must be integers in 0..K",
        })
    }
}

/// The shared entry of `fused_with` / `loss_with` for the losses other than the squared error:
/// checks, zeroes `grad_w`, runs `pass` (which returns `(Σℓ, Σg)` and adds `Σ g·x` into
/// `grad_w`), scales and checks the result.
#[inline(always)]
pub(crate) fn entry_glm(
    loss: Loss,
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
    check_targets(loss, y)?;
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

#[cfg(test)]
mod tests {
    use super::{all_finite, check_finite};
    use crate::Error;

    #[test]
    fn all_finite_finds_every_position() {
        for len in 0..70 {
            let mut v = [0.0f32; 70];
            for (i, e) in v.iter_mut().enumerate() {
                *e = if i % 3 == 0 { f32::MAX } else { -1e-40 };
            }
            let v = &mut v[..len];
            assert!(all_finite(v));
            for pos in 0..len {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let keep = v[pos];
                    v[pos] = bad;
                    assert!(!all_finite(v), "len {len} pos {pos}");
                    assert_eq!(
                        check_finite("v", v),
                        Err(Error::NonFinite {
                            what: "v",
                            index: pos
                        })
                    );
                    v[pos] = keep;
                }
            }
        }
    }
}
