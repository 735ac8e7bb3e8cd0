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
//! A per-sample loss on one output reaches the kernels through the [`PointLoss`] trait (the
//! kernels name no loss: `crate::loss` implements the trait, one file per loss):
//! [`pointwise_fused`] / [`pointwise_loss`] compute, for the loss `ℓ` given, `L = (1/n) Σ ℓ(z_i, y_i)`,
//! `∂L/∂b = (1/n) Σ g_i`, `∂L/∂w = (1/n) Σ g_i x_i` with `z_i = w·x_i + b` and `g_i = ℓ'(z_i, y_i)`.
//! [`softmax_fused`] / [`softmax_loss`] are the cross-entropy of `K = b.len()` classes
//! (`K ≤` [`MAX_CLASSES`]), with `w` holding the `K` weight rows one after the other and `y` the
//! class of each sample as a float. The scalar path evaluates `ℓ` and `g` in `f64` with `libm`
//! ([`PointLoss::point`], [`scalar::softmax_xent`]); the SIMD path evaluates them on eight lanes
//! ([`PointLoss::block`], normally [`simd::apply_link`] of a [`simd::Link`]).
//!
//! The SIMD path's order, the same bits everywhere:
//! 1. Blocks of [`block_len(d)`](block_len) samples ([`softmax_block_len`] for softmax: fewer
//!    when the `K` logit rows of a block would exceed 2048 floats). Per block, the predictions
//!    `z` exactly as [`forward`] computes them.
//! 2. Per sample, in lanes (sample `t` of the block in lane `t mod 8`), with the lane
//!    functions of [`vmath`]:
//!    * a [`PointLoss`]: `(ℓ_t, g_t)` by its [`PointLoss::block`], in the lane formula its file
//!      in `crate::loss` states (Huber, absolute, logistic, quantile, Poisson);
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
//! 1 ulp, see [`vmath`]) and each `g_i` within `Lip(ℓ')·e_i` plus a few roundings (each loss
//! states its `Lip(ℓ)` and `Lip(ℓ')`; a kinked loss's `g_i` is exact unless `|z_i − y_i| ≤ e_i`); the
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

mod entry;
pub(crate) use entry::NEEDS_LOSSES;
pub mod scalar;
pub mod simd;
pub mod vmath;

pub use simd::{
    forward, fused, gradient, loss, pointwise_fused, pointwise_loss, softmax_fused, softmax_loss,
};

/// Loss and bias gradient returned by the fused kernel (the weight gradient is written into the
/// caller's `grad_w` slice).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossGrad {
    /// The mean loss, `L = (1/n) Σ r_i²` for the squared error.
    pub loss: f32,
    /// `∂L/∂b`, `(2/n) Σ r_i` for the squared error.
    pub grad_b: f32,
}

/// A per-sample loss on one output, as the kernels see it: the seam through which
/// `crate::loss` reaches the fused passes (the kernels name no loss). A loss gives its checks,
/// its scalar reference and its eight-lane formula; [`pointwise_fused`] does the rest.
///
/// ```
/// use npoa::kernel::{self, PointLoss, simd::{self, Link}};
/// use wide::f32x8;
///
/// /// Half the squared error, as a new loss outside the crate.
/// #[derive(Clone, Copy)]
/// struct HalfSquared;
/// impl Link for HalfSquared {
///     fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8) {
///         let r = z - y;
///         ((r * r) * f32x8::splat(0.5), r)
///     }
/// }
/// impl PointLoss for HalfSquared {
///     fn check(&self, _y: &[f32]) -> Result<(), npoa::Error> { Ok(()) }
///     fn point(&self, z: f32, y: f32) -> (f32, f32) { let r = z - y; ((r * r) * 0.5, r) }
///     fn block(&self, z: &mut [f32], y: &[f32]) -> (f32, f32) { simd::apply_link(*self, z, y) }
/// }
/// let (x, y) = ([1.0f32, 2.0], [3.0f32, 5.0]);
/// let mut g = [0.0f32];
/// let lg = kernel::pointwise_fused(&HalfSquared, &x, &y, &[2.0], 0.0, &mut g)?;
/// assert_eq!(lg.loss, 0.5); // ((2−3)²/2 + (4−5)²/2) / 2
/// let mut gs = [0.0f32];
/// assert_eq!(kernel::scalar::pointwise_fused(&HalfSquared, &x, &y, &[2.0], 0.0, &mut gs)?, lg);
/// # Ok::<(), npoa::Error>(())
/// ```
pub trait PointLoss {
    /// Checks the loss's parameters and the targets `y` (once per call, before the pass).
    ///
    /// # Errors
    /// Whatever the loss refuses: [`Error::InvalidParameter`] for a parameter,
    /// [`Error::NonFinite`] or [`Error::InvalidData`] for a target.
    fn check(&self, y: &[f32]) -> Result<(), Error>;
    /// The scalar reference: `(ℓ(z, y), ∂ℓ/∂z)` for one sample, each rounded to `f32`.
    fn point(&self, z: f32, y: f32) -> (f32, f32);
    /// The SIMD path on one block: replaces the predictions `z` by `g_t = ∂ℓ/∂z` and returns
    /// `(tree8(Σ_lane ℓ_t), tree8(Σ_lane g_t))`, lanes past the end of `z` set to `+0`
    /// (normally [`simd::apply_link`] of the loss's [`simd::Link`]).
    fn block(&self, z: &mut [f32], y: &[f32]) -> (f32, f32);
}

/// Signature of a `forward` kernel: `(x, w, b, out)`; `n = out.len()`.
pub type ForwardFn = fn(&[f32], &[f32], f32, &mut [f32]) -> Result<(), Error>;
/// Signature of a `loss` kernel: `(x, y, w, b) -> L`.
pub type LossFn = fn(&[f32], &[f32], &[f32], f32) -> Result<f32, Error>;
/// Signature of a `gradient` kernel: `(x, y, w, b, grad_w) -> ∂L/∂b`.
pub type GradientFn = fn(&[f32], &[f32], &[f32], f32, &mut [f32]) -> Result<f32, Error>;
/// Signature of a `fused` kernel: `(x, y, w, b, grad_w) -> LossGrad`.
pub type FusedFn = fn(&[f32], &[f32], &[f32], f32, &mut [f32]) -> Result<LossGrad, Error>;
/// Signature of a `pointwise_fused` kernel: `(loss, x, y, w, b, grad_w) -> LossGrad`.
pub type PointwiseFusedFn =
    fn(&dyn PointLoss, &[f32], &[f32], &[f32], f32, &mut [f32]) -> Result<LossGrad, Error>;
/// Signature of a `pointwise_loss` kernel: `(loss, x, y, w, b) -> L`.
pub type PointwiseLossFn = fn(&dyn PointLoss, &[f32], &[f32], &[f32], f32) -> Result<f32, Error>;
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
    /// Squared error and its gradient in one pass over `x`.
    pub fused: FusedFn,
    /// Loss and gradient of any [`PointLoss`] in one pass over `x`.
    pub pointwise_fused: PointwiseFusedFn,
    /// Mean loss of any [`PointLoss`].
    pub pointwise_loss: PointwiseLossFn,
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
    pointwise_fused: scalar::pointwise_fused,
    pointwise_loss: scalar::pointwise_loss,
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
    pointwise_fused: simd::pointwise_fused,
    pointwise_loss: simd::pointwise_loss,
    softmax_fused: simd::softmax_fused,
    softmax_loss: simd::softmax_loss,
};

/// Number of samples per accumulation block of the SIMD path for `d` features (part of the
/// summation-order contract, see the [module docs](self)).
pub const fn block_len(d: usize) -> usize {
    if d < 8 {
        return 256;
    }
    let rows = (8192 / crate::check::nz(d)) / 8 * 8;
    if rows < 32 {
        32
    } else if rows > 256 {
        256
    } else {
        rows
    }
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
