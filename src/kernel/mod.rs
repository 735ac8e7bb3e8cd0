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
//! # Errors
//!
//! Shapes are checked first (`d = w.len() ≥ 1`, `n ≥ 1`, `x.len() == n·d`, output lengths), then
//! `w` and `b` must be finite. Non-finite values in `x` or `y` always make the result non-finite;
//! the kernels detect that after the pass (no extra pass on the fast path) and then report the
//! first non-finite input as [`Error::NonFinite`]; a non-finite result from finite inputs is
//! [`Error::Overflow`]. On error the contents of the output slice are unspecified (it is
//! scratch, never the model).

use crate::Error;

pub mod scalar;
pub mod simd;

pub use simd::{forward, fused, gradient, loss};

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
}

/// The scalar reference path.
pub const SCALAR: Kernels = Kernels {
    name: "scalar",
    forward: scalar::forward,
    loss: scalar::loss,
    gradient: scalar::gradient,
    fused: scalar::fused,
};

/// The SIMD path (the default).
pub const SIMD: Kernels = Kernels {
    name: "simd",
    forward: simd::forward,
    loss: simd::loss,
    gradient: simd::gradient,
    fused: simd::fused,
};

/// Number of samples per accumulation block of the SIMD path for `d` features (part of the
/// summation-order contract, see the [module docs](self)).
pub const fn block_len(d: usize) -> usize {
    if d < 8 {
        return 256;
    }
    let rows = (8192 / d) / 8 * 8;
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

/// Final scaling shared by both paths: returns `(L, ∂L/∂b)` and scales `grad_w` in place.
#[inline]
fn finish(n: usize, loss_acc: f64, rsum_acc: f64, grad_w: &mut [f32]) -> LossGrad {
    let nf = n as f64;
    let s = (2.0 / nf) as f32;
    for g in grad_w.iter_mut() {
        *g *= s;
    }
    LossGrad {
        loss: (loss_acc / nf) as f32,
        grad_b: (2.0 * rsum_acc / nf) as f32,
    }
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
    let (l, rsum) = pass(grad_w);
    let out = finish(n, l, rsum, grad_w);
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
