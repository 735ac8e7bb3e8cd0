//! The SIMD path, on `wide::f32x8`, bit-identical across targets.
//!
//! The exact order of operations is the contract stated in the [module docs](super); this file
//! is organised around it:
//!
//! * **tiny models** (`d < 8`): eight samples per vector. Eight overlapping loads of eight
//!   floats starting at `x_i` (`i = 0..8`) and an 8×8 transpose give one vector per feature with
//!   the samples in lanes, so each prediction is a sequential sum, like the scalar path, and the
//!   sums over samples live in lanes.
//! * **other models** (`d ≥ 8`): features in lanes. Eight rows are reduced together: eight
//!   accumulators and three levels of in-lane shuffles and adds (`tree8_rows`, no full
//!   transpose) give eight dot products at once, in exactly the order of a single row's `tree8`. The gradient is then accumulated per feature
//!   over the block's rows, which are still in L1.
//!
//! Files by shape: `tiny.rs` (`d < 8`), `wide.rs` (`d ≥ 8`), `pointwise.rs` (any
//! [`PointLoss`] through its [`Link`]), `softmax.rs` (K outputs). Every entry has one body,
//! generic in a compile-time size `D` (`0`: the size is read at run time); the public
//! functions are the run-time instances, and the fixed-size models call the instance for
//! their `D`, so that a firmware image links one kernel shape.

use super::entry::{entry_forward, entry_grad, entry_loss};
use super::{LossGrad, PointLoss, block_len};
use crate::Error;
use crate::check::nz;
use ::wide::{f32x4, f32x8};

const ZERO: f32x8 = f32x8::ZERO;

/// The fixed reduction tree of the contract.
#[inline(always)]
fn tree8(a: [f32; 8]) -> f32 {
    ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
}

/// `tree8` of each of eight accumulators: lane `k` is `tree8(t[k])`, each lane's adds in the
/// order of [`tree8`] (the same bits as eight separate trees).
///
/// Not a full transpose: the tree's levels are done on pairs of rows with in-lane shuffles.
/// Level 1 puts rows `m` and `m + 4` in one vector (`[t_m lanes 0..4 | t_m+4 lanes 0..4]` plus
/// the upper halves: free on SSE2/NEON, where a vector is two halves), so one add gives
/// `a_k + a_k+4` for both rows; level 2 adds lanes `0, 1` to lanes `2, 3`, level 3 lane `0` to
/// lane `1` of each half, four rows per vector. 14 shuffles and 7 adds for eight rows (a
/// transpose alone is 24 shuffles on AVX, and `wide` does not accelerate it without AVX).
#[inline(always)]
fn tree8_rows(t: [f32x8; 8]) -> f32x8 {
    // s_m (m < 4), lanes: [row m: a0+a4, a1+a5, a2+a6, a3+a7 | row m+4: the same].
    // (Destructured, not indexed: no bounds check the no-panic proof would have to see through.)
    let [t0, t1, t2, t3, t4, t5, t6, t7] = t;
    let pair = |a, b| lo_halves(a, b) + hi_halves(a, b);
    let s = [pair(t0, t4), pair(t1, t5), pair(t2, t6), pair(t3, t7)];
    // u: [row m: (a0+a4)+(a2+a6), (a1+a5)+(a3+a7), row m+1: both | rows m+4, m+5: the same].
    let [s0, s1, s2, s3] = s;
    let u0 = shuf_0101(s0, s1) + shuf_2323(s0, s1);
    let u1 = shuf_0101(s2, s3) + shuf_2323(s2, s3);
    // Lanes [rows 0, 1, 2, 3 | rows 4, 5, 6, 7]: the rows in order.
    shuf_0202(u0, u1) + shuf_1313(u0, u1)
}

/// `[a0, a1, a2, a3, b0, b1, b2, b3]`.
#[inline(always)]
fn lo_halves(a: f32x8, b: f32x8) -> f32x8 {
    let (a, b) = (a.to_array(), b.to_array());
    f32x8::new([a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]])
}

/// `[a4, a5, a6, a7, b4, b5, b6, b7]`.
#[inline(always)]
fn hi_halves(a: f32x8, b: f32x8) -> f32x8 {
    let (a, b) = (a.to_array(), b.to_array());
    f32x8::new([a[4], a[5], a[6], a[7], b[4], b[5], b[6], b[7]])
}

/// In each half: `[a0, a1, b0, b1]` (`movelhps`).
#[inline(always)]
fn shuf_0101(a: f32x8, b: f32x8) -> f32x8 {
    let (a, b) = (a.to_array(), b.to_array());
    f32x8::new([a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]])
}

/// In each half: `[a2, a3, b2, b3]` (`movehlps`).
#[inline(always)]
fn shuf_2323(a: f32x8, b: f32x8) -> f32x8 {
    let (a, b) = (a.to_array(), b.to_array());
    f32x8::new([a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]])
}

/// In each half: `[a0, a2, b0, b2]` (`shufps`).
#[inline(always)]
fn shuf_0202(a: f32x8, b: f32x8) -> f32x8 {
    let (a, b) = (a.to_array(), b.to_array());
    f32x8::new([a[0], a[2], b[0], b[2], a[4], a[6], b[4], b[6]])
}

/// In each half: `[a1, a3, b1, b3]` (`shufps`).
#[inline(always)]
fn shuf_1313(a: f32x8, b: f32x8) -> f32x8 {
    let (a, b) = (a.to_array(), b.to_array());
    f32x8::new([a[1], a[3], b[1], b[3], a[5], a[7], b[5], b[7]])
}

#[inline(always)]
fn load(c: &[f32; 8]) -> f32x8 {
    f32x8::new(*c)
}

/// A partial chunk padded with zeros.
#[inline(always)]
fn load_padded(c: &[f32]) -> f32x8 {
    let mut a = [0.0f32; 8];
    for (dst, src) in a.iter_mut().zip(c) {
        *dst = *src;
    }
    f32x8::new(a)
}

/// Sequential dot product from `+0.0`, as in the scalar path (used for `d < 8`).
#[inline(always)]
fn dot_seq(row: &[f32], w: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for (xj, wj) in row.iter().zip(w) {
        s += xj * wj;
    }
    s
}

/// Which sums a pass computes, as a const parameter so that each kernel gets its own loop.
type Want = u8;
/// Predictions only (`forward`).
const PRED: Want = 0;
/// Loss only.
const LOSS: Want = 1;
/// Gradient only.
const GRAD: Want = 2;
/// Loss and gradient.
const BOTH: Want = 3;

#[inline(always)]
const fn wants_loss(w: Want) -> bool {
    w == LOSS || w == BOTH
}

#[inline(always)]
const fn wants_grad(w: Want) -> bool {
    w == GRAD || w == BOTH
}

/// Small targets (`target_os = "none"`: microcontrollers): the kernels hold fewer rows and
/// features at once and compute one row at a time, for the same bits with less stack and code
/// (see [`wide::RESIDUAL_ROWS`] and [`wide::GRAD_STRIPE`]).
pub(crate) const SMALL: bool = cfg!(target_os = "none");

/// Eight `f32` lanes, each operation separately rounded IEEE arithmetic lane by lane: `wide`'s
/// `f32x8`, or [`Arr8`], plain arrays whose loops LLVM keeps in scalar registers. Both give the
/// same bits (lane `k` of `a + b` is `a_k + b_k` either way); the kernels of `wide.rs` are
/// generic in it so that a core without a vector unit runs them on [`Arr8`].
pub(super) trait Lanes:
    Copy
    + core::ops::Add<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::AddAssign
    + core::ops::SubAssign
{
    /// All lanes `+0`.
    const ZERO: Self;
    /// Eight floats.
    fn load(c: &[f32; 8]) -> Self;
    /// One float in every lane.
    fn splat(v: f32) -> Self;
    /// The lanes.
    fn lanes(self) -> [f32; 8];
}

impl Lanes for f32x8 {
    const ZERO: Self = f32x8::ZERO;
    #[inline(always)]
    fn load(c: &[f32; 8]) -> Self {
        f32x8::new(*c)
    }
    #[inline(always)]
    fn splat(v: f32) -> Self {
        f32x8::splat(v)
    }
    #[inline(always)]
    fn lanes(self) -> [f32; 8] {
        self.to_array()
    }
}

/// Eight lanes as a plain array (see [`Lanes`]).
#[cfg_attr(not(target_os = "none"), allow(dead_code))] // the tests use it on every target
#[derive(Clone, Copy)]
pub(super) struct Arr8([f32; 8]);

macro_rules! arr8_op {
    ($tr:ident, $f:ident, $atr:ident, $af:ident, $op:tt) => {
        impl core::ops::$tr for Arr8 {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: Self) -> Self {
                // Written out: at `opt-level = "z"` a loop here stays a loop.
                let (a, b) = (self.0, o.0);
                Self([
                    a[0] $op b[0],
                    a[1] $op b[1],
                    a[2] $op b[2],
                    a[3] $op b[3],
                    a[4] $op b[4],
                    a[5] $op b[5],
                    a[6] $op b[6],
                    a[7] $op b[7],
                ])
            }
        }
        impl core::ops::$atr for Arr8 {
            #[inline(always)]
            fn $af(&mut self, o: Self) {
                *self = *self $op o;
            }
        }
    };
}
arr8_op!(Add, add, AddAssign, add_assign, +);
arr8_op!(Sub, sub, SubAssign, sub_assign, -);
arr8_op!(Mul, mul, MulAssign, mul_assign, *);

impl Lanes for Arr8 {
    const ZERO: Self = Self([0.0; 8]);
    #[inline(always)]
    fn load(c: &[f32; 8]) -> Self {
        Self(*c)
    }
    #[inline(always)]
    fn splat(v: f32) -> Self {
        Self([v; 8])
    }
    #[inline(always)]
    fn lanes(self) -> [f32; 8] {
        self.0
    }
}

/// The lane type of the `d ≥ 8` kernels' sums: [`Arr8`] on small targets (no vector unit),
/// `f32x8` elsewhere.
#[cfg(target_os = "none")]
pub(super) type Lane8 = Arr8;
/// The lane type of the `d ≥ 8` kernels' sums: [`Arr8`] on small targets (no vector unit),
/// `f32x8` elsewhere.
#[cfg(not(target_os = "none"))]
pub(super) type Lane8 = f32x8;

/// Lane sums of `v²` (if `squares`) and of `v` over one block's residuals, then `tree8`.
#[inline(always)]
fn lane_sums(r: &[f32], squares: bool) -> (f32, f32) {
    let (mut l, mut s) = (ZERO, ZERO);
    lane_acc(r, squares, &mut l, &mut s);
    (tree8(l.to_array()), tree8(s.to_array()))
}

/// Adds the residuals `r` to the lane sums `l` (of `v²`, if `squares`) and `s` (of `v`), sample
/// `t` of `r` in lane `t mod 8`: a block's sums, when its runs of residuals start at multiples
/// of 8.
#[inline(always)]
fn lane_acc<L: Lanes>(r: &[f32], squares: bool, l: &mut L, s: &mut L) {
    let (rc, rt) = r.as_chunks::<8>();
    for c in rc {
        let v = L::load(c);
        if squares {
            *l += v * v;
        }
        *s += v;
    }
    if !rt.is_empty() {
        // Padding with +0 adds +0 to lanes that are never −0: the same bits as not adding.
        let mut a = [0.0f32; 8];
        for (dst, src) in a.iter_mut().zip(rt) {
            *dst = *src;
        }
        let v = L::load(&a);
        if squares {
            *l += v * v;
        }
        *s += v;
    }
}

/// Lane index mask `lane < m`.
#[inline(always)]
pub(super) fn first_lanes(m: usize) -> f32x8 {
    let idx = f32x8::new([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    idx.simd_lt(f32x8::splat(m as f32))
}

/// Stores the first `dst.len() ≤ 8` lanes of `v`.
#[inline(always)]
pub(super) fn store_partial(dst: &mut [f32], v: f32x8) {
    for (d, s) in dst.iter_mut().zip(v.to_array()) {
        *d = s;
    }
}

/// Predictions of one block (the same bits as [`forward`]) and the gradient accumulation of one
/// block, for one model size.
pub(super) trait Shape: Copy {
    fn predict(self, xb: &[f32], w: &[f32], b: f32, out: &mut [f32], streaming: bool);
    fn grad(self, xb: &[f32], g: &[f32], grad_w: &mut [f32]);
    fn d(self) -> usize;
}

/// Calls `$f` with the [`Shape`] for `$d` (monomorphised for `d < 8` and `d ∈ {8, 16, 32, 64}`).
/// With a const generic `D` for `$d`, only the matching arm is compiled (rustc drops `match`
/// arms on a constant before code generation); see [`sized`].
macro_rules! with_shape {
    ($d:expr, $f:ident ( $($arg:expr),* )) => {
        match $d {
            1 => $f(Tiny::<1>, $($arg),*),
            2 => $f(Tiny::<2>, $($arg),*),
            3 => $f(Tiny::<3>, $($arg),*),
            4 => $f(Tiny::<4>, $($arg),*),
            5 => $f(Tiny::<5>, $($arg),*),
            6 => $f(Tiny::<6>, $($arg),*),
            7 => $f(Tiny::<7>, $($arg),*),
            8 => $f(Wide::<8>(8), $($arg),*),
            16 => $f(Wide::<16>(16), $($arg),*),
            32 => $f(Wide::<32>(32), $($arg),*),
            64 => $f(Wide::<64>(64), $($arg),*),
            d => $f(Wide::<0>(d), $($arg),*),
        }
    };
}

/// `$f` for the compile-time size `$D`, or, for `$D = 0`, for the run-time size `$d`: the one
/// body of each entry serves both (an inline `const` condition is decided before code
/// generation, so a fixed size compiles one arm).
macro_rules! sized {
    ($D:ident, $d:expr, $m:ident!($($rest:tt)*)) => {
        if const { $D == 0 } { $m!($d, $($rest)*) } else { $m!($D, $($rest)*) }
    };
}

/// The squared error's pass for `$d` features: the tiny kernels for `d = 1..=7`, fixed sizes
/// for `d ∈ {8, 16, 32, 64}`, the run-time size otherwise.
macro_rules! mse_pass {
    ($d:expr, $w:ident, ($($arg:expr),*)) => {
        match $d {
            1 => tiny_pass::<1, $w>($($arg),*),
            2 => tiny_pass::<2, $w>($($arg),*),
            3 => tiny_pass::<3, $w>($($arg),*),
            4 => tiny_pass::<4, $w>($($arg),*),
            5 => tiny_pass::<5, $w>($($arg),*),
            6 => tiny_pass::<6, $w>($($arg),*),
            7 => tiny_pass::<7, $w>($($arg),*),
            8 => wide_fixed::<$w, 8, 1>($($arg),*),
            16 => wide_fixed::<$w, 16, 2>($($arg),*),
            32 => wide_fixed::<$w, 32, 4>($($arg),*),
            64 => wide_fixed::<$w, 64, 8>($($arg),*),
            _ => wide_pass::<$w>($($arg),*),
        }
    };
}

/// The squared error's pass for the compile-time size `D` (`0`: run time).
#[inline(always)]
fn pass<const W: Want, const D: usize>(
    x: &[f32],
    y: Option<&[f32]>,
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    pred_out: Option<&mut [f32]>,
) -> (f64, f64) {
    sized!(D, w.len(), mse_pass!(W, (x, y, w, b, grad_w, pred_out)))
}

/// [`forward`] for the compile-time size `D` (`0`: run time); the same bits.
pub(crate) fn forward_n<const D: usize>(
    x: &[f32],
    w: &[f32],
    b: f32,
    out: &mut [f32],
) -> Result<(), Error> {
    entry_forward(x, w, b, out, |out| {
        pass::<PRED, D>(x, None, w, b, &mut [], Some(out));
    })
}

/// One prediction of a row of exactly `D` features, without the entry checks (the same bits
/// as [`forward`] of that row; a non-finite input or an overflow gives a non-finite result).
pub(crate) fn predict_one_n<const D: usize>(row: &[f32; D], w: &[f32], b: f32) -> f32 {
    if D == 0 || w.len() != D {
        return b;
    }
    let mut out = [0.0f32];
    pass::<PRED, D>(row, None, w, b, &mut [], Some(&mut out));
    out[0]
}

/// [`loss`] for the compile-time size `D` (`0`: run time); the same bits.
pub(crate) fn loss_n<const D: usize>(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
) -> Result<f32, Error> {
    entry_loss(x, y, w, b, || {
        pass::<LOSS, D>(x, Some(y), w, b, &mut [], None).0
    })
}

/// [`fused`] for the compile-time size `D` (`0`: run time); the same bits.
pub(crate) fn fused_n<const D: usize>(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
) -> Result<LossGrad, Error> {
    entry_grad(x, y, w, b, grad_w, |g| {
        pass::<BOTH, D>(x, Some(y), w, b, g, None)
    })
}

/// Predictions `out[i] = w·x_i + b` for `n = out.len()` samples.
///
/// # Errors
/// Shape errors, non-finite `w`/`b`; [`Error::NonFinite`] for a non-finite `x`,
/// [`Error::Overflow`] if a prediction overflows.
pub fn forward(x: &[f32], w: &[f32], b: f32, out: &mut [f32]) -> Result<(), Error> {
    forward_n::<0>(x, w, b, out)
}

/// Mean squared error `(1/n) Σ (w·x_i + b − y_i)²`, `n = y.len()`.
///
/// # Errors
/// As [`fused`].
pub fn loss(x: &[f32], y: &[f32], w: &[f32], b: f32) -> Result<f32, Error> {
    loss_n::<0>(x, y, w, b)
}

/// Gradient of the mean squared error: writes `∂L/∂w` into `grad_w` (length `d`) and returns
/// `∂L/∂b`. Same bits as the gradient of [`fused`].
///
/// # Errors
/// As [`fused`].
pub fn gradient(x: &[f32], y: &[f32], w: &[f32], b: f32, grad_w: &mut [f32]) -> Result<f32, Error> {
    entry_grad(x, y, w, b, grad_w, |g| {
        (0.0, pass::<GRAD, 0>(x, Some(y), w, b, g, None).1)
    })
    .map(|o| o.grad_b)
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
    fused_n::<0>(x, y, w, b, grad_w)
}

// The shapes and the losses' passes, after the macros they use.
mod pointwise;
pub(crate) mod sample;
mod softmax;
mod tiny;
mod wide;

pub use pointwise::{Link, apply_link, pointwise_fused, pointwise_loss};
pub(crate) use pointwise::{pointwise_fused_n, pointwise_loss_n};
pub use softmax::{softmax_fused, softmax_loss};
pub(crate) use softmax::{softmax_fused_n, softmax_loss_n};
use tiny::{Tiny, tiny_pass};
use wide::{STREAMING_FLOATS, Wide, wide_fixed, wide_pass};

#[cfg(test)]
mod tests {
    use super::wide::{wide_body, wide_residuals};
    use super::{Arr8, BOTH, GRAD, LOSS, Lanes, PRED};
    use std::format;
    use std::vec::Vec;
    use wide::f32x8;

    fn rnd_source() -> impl FnMut() -> f32 {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 8.0 - 4.0
        }
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|v| v.to_bits()).collect()
    }

    /// `tree8_rows` is `tree8` of each row, bit for bit, on values whose sums round, cancel to
    /// ±0 or are subnormal.
    #[test]
    fn tree8_rows_is_tree8_of_each_row() {
        let mut rnd = rnd_source();
        let special = [0.0f32, -0.0, 1e-45, -1e-45, 1.0, -1.0, 3.0e38, -3.0e38];
        for case in 0..200 {
            let t: [f32x8; 8] = core::array::from_fn(|m| {
                f32x8::new(core::array::from_fn(|k| {
                    let v = rnd();
                    if case % 2 == 0 {
                        special[((v.to_bits() as usize) ^ (m * 8 + k)) % 8]
                    } else {
                        v * 1e3
                    }
                }))
            });
            let got = super::tree8_rows(t).to_array();
            for (m, row) in t.iter().enumerate() {
                assert_eq!(
                    got[m].to_bits(),
                    super::tree8(row.to_array()).to_bits(),
                    "case {case} row {m}"
                );
            }
        }
    }

    /// The three loop shapes of `wide_residuals`, on either lane type, give the same bits (the kernels switch between
    /// them on the size of `x` and on the target, which the integration tests cannot reach).
    #[test]
    fn streaming_interleaved_and_rowwise_agree_bitwise() {
        let mut rnd = rnd_source();
        for d in [8usize, 9, 15, 16, 17, 31, 32, 33, 64, 100, 257] {
            for n in [1usize, 7, 8, 9, 16, 17, 40] {
                let x: Vec<f32> = (0..n * d).map(|_| rnd()).collect();
                let y: Vec<f32> = (0..n).map(|_| rnd()).collect();
                let w: Vec<f32> = (0..d).map(|_| rnd()).collect();
                let b = rnd();
                let mut r = [
                    std::vec![0.0f32; n],
                    std::vec![0.0f32; n],
                    std::vec![0.0f32; n],
                ];
                let mut r4 = std::vec![0.0f32; n];
                wide_residuals::<f32x8>(&x, Some(&y), &w, b, d, &mut r[0], (false, false));
                wide_residuals::<f32x8>(&x, Some(&y), &w, b, d, &mut r[1], (true, false));
                wide_residuals::<f32x8>(&x, Some(&y), &w, b, d, &mut r[2], (false, true));
                wide_residuals::<Arr8>(&x, Some(&y), &w, b, d, &mut r4, (false, true));
                assert_eq!(bits(&r[0]), bits(&r[1]), "d={d} n={n}");
                assert_eq!(bits(&r[0]), bits(&r[2]), "d={d} n={n}");
                assert_eq!(bits(&r[0]), bits(&r4), "d={d} n={n}");
            }
        }
    }

    /// One pass of `wide_body` with its buffers as given: `(loss, rsum, grad_w, predictions)`.
    fn pass<const R: usize, const V: usize, const ROWWISE: bool, L: Lanes>(
        x: &[f32],
        y: &[f32],
        w: &[f32],
        b: f32,
    ) -> Vec<u64> {
        let d = w.len();
        let n = y.len();
        let mut out = Vec::new();
        let mut g = std::vec![0.5f32; d];
        let (l, s) = wide_body::<BOTH, R, V, ROWWISE, L>(x, Some(y), w, b, &mut g, None);
        out.extend([l.to_bits(), s.to_bits()]);
        out.extend(g.iter().map(|v| u64::from(v.to_bits())));
        let (l, _) = wide_body::<LOSS, R, V, ROWWISE, L>(x, Some(y), w, b, &mut [], None);
        out.push(l.to_bits());
        let mut g = std::vec![0.0f32; d];
        let (_, s) = wide_body::<GRAD, R, V, ROWWISE, L>(x, Some(y), w, b, &mut g, None);
        out.push(s.to_bits());
        out.extend(g.iter().map(|v| u64::from(v.to_bits())));
        let mut p = std::vec![0.0f32; n];
        wide_body::<PRED, R, V, ROWWISE, L>(x, None, w, b, &mut [], Some(&mut p));
        out.extend(p.iter().map(|v| u64::from(v.to_bits())));
        out
    }

    /// The small targets' buffers (fewer residual rows, narrower gradient stripes, one row at
    /// a time, plain-array lanes) give the bits of the default ones: runs of residuals carried across a block,
    /// several stripes over several runs (residuals computed again per stripe), tails of
    /// `d mod 8` features and of `n mod 4` rows, blocks of every length.
    #[test]
    fn small_buffers_give_the_same_bits() {
        let mut rnd = rnd_source();
        for d in [8usize, 9, 15, 16, 17, 24, 31, 33, 64, 65, 100, 257, 300] {
            for n in [1usize, 3, 7, 8, 9, 31, 32, 33, 63, 100, 255, 256, 257, 600] {
                let x: Vec<f32> = (0..n * d).map(|_| rnd()).collect();
                let y: Vec<f32> = (0..n).map(|_| rnd()).collect();
                let w: Vec<f32> = (0..d).map(|_| rnd()).collect();
                let b = rnd();
                let reference = pass::<256, 32, false, f32x8>(&x, &y, &w, b);
                let ctx = format!("d={d} n={n}");
                assert_eq!(pass::<8, 8, true, Arr8>(&x, &y, &w, b), reference, "{ctx}");
                assert_eq!(
                    pass::<32, 8, true, f32x8>(&x, &y, &w, b),
                    reference,
                    "{ctx}"
                );
                assert_eq!(pass::<8, 1, false, Arr8>(&x, &y, &w, b), reference, "{ctx}");
                assert_eq!(
                    pass::<16, 2, true, f32x8>(&x, &y, &w, b),
                    reference,
                    "{ctx}"
                );
                assert_eq!(
                    pass::<256, 1, false, f32x8>(&x, &y, &w, b),
                    reference,
                    "{ctx}"
                );
                assert_eq!(
                    pass::<40, 3, false, Arr8>(&x, &y, &w, b),
                    reference,
                    "{ctx}"
                );
            }
        }
    }
}
