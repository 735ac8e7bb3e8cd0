//! `exp` and `ln` on `f32x8` lanes, bit-identical on every target.
//!
//! Each function is a fixed sequence of IEEE-754 single-precision operations that are correctly
//! rounded everywhere (separate `*`, `+`, `−`, `/`; no fused multiply-add), exact bit
//! manipulation (integer add/shift on the bit patterns) and lane selects. `wide`'s own `exp`/`ln`
//! use `mul_add`, which is a fused operation with FMA and two roundings without it, so their
//! bits depend on the target; these do not.
//!
//! Accuracy, measured against `f64` `libm` over every `f32` in the stated range
//! (`cargo test --release --lib -- --ignored exhaustive`) and on a sample in every test run:
//!
//! | function | range | max error |
//! |---|---|---|
//! | [`exp`] | `[−87.3, 88.7]` (normal results) | 1 ulp |
//! | [`exp`] | `[−103.9, −87.3)` (subnormal results) | 1 ulp of the smallest normal (the result is rounded once) |
//! | [`ln`] | `[2⁻¹²⁶, f32::MAX]` | 1 ulp |
//! | [`log1p_unit`] | `[0, 1]` | 1 ulp |
//!
//! Measured maxima (exhaustive, this machine): `exp` 0.990 ulp, `ln` 0.835 ulp, `log1p_unit`
//! 0.835 ulp.
//! `exp` is `+0` below `−103.98` and `+∞` above `88.73`, like the true value rounded to `f32`.

// The coefficients are quoted as their sources publish them (Cephes `expf`, musl `logf`); each
// literal parses to the intended `f32`.
#![allow(clippy::excessive_precision)]

use wide::{f32x8, i32x8};

/// `1.5·2²³`: adding it rounds a float of magnitude < 2²² to an integer (ties to even).
const ROUND_MAGIC: f32 = 12_582_912.0;
const LOG2E: f32 = core::f32::consts::LOG2_E;
/// `ln 2 = LN2_HI + LN2_LO`; `LN2_HI` has 17 significant bits, so `k·LN2_HI` is exact for
/// every exponent `|k| ≤ 2⁷` that [`ln`] sees.
const LN2_HI: f32 = 6.931_381_225_6e-1;
const LN2_LO: f32 = 9.058_000_614_5e-6;

#[inline(always)]
fn to_bits(v: f32x8) -> i32x8 {
    wide::bytemuck::cast(v)
}

#[inline(always)]
fn from_bits(v: i32x8) -> f32x8 {
    wide::bytemuck::cast(v)
}

/// Float compares are IEEE's on every target but one family: ARMv7 NEON compares flush
/// subnormal operands to zero, and LLVM lowers `wide`'s portable float compares to NEON
/// compares under `+neon` (armv7 with `-C target-feature=+neon`, the `thumbv7neon-*` targets).
/// On 32-bit ARM the lane compares below are therefore the integer ones of [`exact`], which no
/// flush-to-zero mode touches; everywhere else they are the float compares, which give the
/// same masks (both are IEEE's order) at no cost. Every 32-bit ARM target takes the integer
/// path, with or without NEON: whether `+neon` is on is not visible to `cfg` on stable Rust.
/// `tests/subnormal.rs` holds the known answers; CI runs it on armv7 `+neon` under QEMU.
const EXACT_COMPARES: bool = cfg!(target_arch = "arm");

/// Lane compares on the bit patterns, exact for subnormals on every target (see
/// [`EXACT_COMPARES`]); compiled everywhere, so that their unit tests run on every host.
pub(crate) mod exact {
    use super::{from_bits, to_bits};
    use wide::{f32x8, i32x8};

    /// An order-preserving integer image of each lane: `+|bits|` for a positive sign,
    /// `−|bits|` for a negative one (so `±0` are both 0). It orders finite values and
    /// infinities as the floats do; a NaN lane orders beyond `±∞` (the kernels refuse NaN
    /// inputs and report a NaN result as an overflow, so no answer depends on it).
    #[inline(always)]
    fn order_key(v: f32x8) -> i32x8 {
        let b = to_bits(v);
        let neg = b >> 31;
        ((b & i32x8::splat(0x7fff_ffff)) ^ neg) - neg
    }

    /// [`order_key`] of one float.
    #[inline(always)]
    fn order_key32(v: f32) -> i32 {
        let b = v.to_bits() as i32;
        let neg = b >> 31;
        ((b & 0x7fff_ffff) ^ neg) - neg
    }

    /// The mask of `a > b`.
    #[inline(always)]
    pub(crate) fn gt(a: f32x8, b: f32x8) -> f32x8 {
        from_bits(order_key(a).simd_gt(order_key(b)))
    }

    /// The mask of `a ≤ b`.
    #[inline(always)]
    pub(crate) fn le(a: f32x8, b: f32x8) -> f32x8 {
        from_bits(!order_key(a).simd_gt(order_key(b)))
    }

    /// The mask of `a > 0`: the bit pattern as a signed integer is positive exactly for a
    /// positive sign and a nonzero magnitude.
    #[inline(always)]
    pub(crate) fn pos(a: f32x8) -> f32x8 {
        from_bits(to_bits(a).simd_gt(i32x8::ZERO))
    }

    /// The mask of `a < 0`: [`pos`] with the sign bit flipped by an integer xor (a float
    /// negation could flush).
    #[inline(always)]
    pub(crate) fn neg(a: f32x8) -> f32x8 {
        from_bits((to_bits(a) ^ i32x8::splat(i32::MIN)).simd_gt(i32x8::ZERO))
    }

    /// `u` clamped to `[lo, hi]`: `u`'s key once, the bounds' as scalars.
    #[inline(always)]
    pub(crate) fn clamp(u: f32x8, lo: f32, hi: f32) -> f32x8 {
        let k = order_key(u);
        let below = from_bits(i32x8::splat(order_key32(lo)).simd_gt(k));
        let above = from_bits(k.simd_gt(i32x8::splat(order_key32(hi))));
        below.select(f32x8::splat(lo), above.select(f32x8::splat(hi), u))
    }
}

/// The lane mask of `a > b` (IEEE's on every target, see [`EXACT_COMPARES`]).
#[inline(always)]
pub(crate) fn gt(a: f32x8, b: f32x8) -> f32x8 {
    if EXACT_COMPARES {
        exact::gt(a, b)
    } else {
        a.simd_gt(b)
    }
}

/// The lane mask of `a < b` (as [`gt`]).
#[inline(always)]
pub(crate) fn lt(a: f32x8, b: f32x8) -> f32x8 {
    gt(b, a)
}

/// The lane mask of `a ≤ b` (as [`gt`]).
#[inline(always)]
pub(crate) fn le(a: f32x8, b: f32x8) -> f32x8 {
    if EXACT_COMPARES {
        exact::le(a, b)
    } else {
        a.simd_le(b)
    }
}

/// The lane mask of `a > 0` (as [`gt`]).
#[inline(always)]
pub(crate) fn pos(a: f32x8) -> f32x8 {
    if EXACT_COMPARES {
        exact::pos(a)
    } else {
        a.simd_gt(f32x8::ZERO)
    }
}

/// The lane mask of `a < 0` (as [`gt`]).
#[inline(always)]
pub(crate) fn neg(a: f32x8) -> f32x8 {
    if EXACT_COMPARES {
        exact::neg(a)
    } else {
        a.simd_lt(f32x8::ZERO)
    }
}

/// `u` clamped to `[lo, hi]` (`lo ≤ hi`; as [`gt`]).
#[inline(always)]
pub(crate) fn clamp(u: f32x8, lo: f32, hi: f32) -> f32x8 {
    if EXACT_COMPARES {
        exact::clamp(u, lo, hi)
    } else {
        let (lo, hi) = (f32x8::splat(lo), f32x8::splat(hi));
        u.simd_lt(lo).select(lo, u.simd_gt(hi).select(hi, u))
    }
}

/// `2ⁿ` for `n ∈ [−126, 127]` (a normal float built from its exponent field).
#[inline(always)]
fn pow2i(n: i32x8) -> f32x8 {
    from_bits((n + i32x8::splat(127)) << 23)
}

/// `eˣ`, lane-wise; see the [module docs](self) for the accuracy. NaN stays NaN.
///
/// Cody–Waite reduction `x = n·ln 2 + r`, `|r| ≤ ln2/2`, a degree-7 polynomial for `eʳ` (the
/// Cephes `expf` coefficients) and a scaling by `2ⁿ` in two exact halves, so that a subnormal
/// result is rounded once.
#[inline(always)]
pub fn exp(x: f32x8) -> f32x8 {
    let lo = f32x8::splat(-104.0);
    let hi = f32x8::splat(89.0);
    // Clamp (NaN compares false and stays NaN).
    // Float compares are safe here: the bounds are normal and far from 0, so a flushed
    // subnormal `x` (ARMv7 NEON) compares as 0 would, with the same answer.
    let x = x.simd_lt(lo).select(lo, x);
    let x = x.simd_gt(hi).select(hi, x);
    let magic = f32x8::splat(ROUND_MAGIC);
    let t = x * f32x8::splat(LOG2E) + magic;
    let nf = t - magic;
    let n = to_bits(t) - to_bits(magic);
    let r = (x - nf * f32x8::splat(0.693_359_375)) - nf * f32x8::splat(-2.121_944_4e-4);
    let z = r * r;
    let mut p = f32x8::splat(1.987_569_1e-4);
    p = p * r + f32x8::splat(1.398_199_9e-3);
    p = p * r + f32x8::splat(8.333_452e-3);
    p = p * r + f32x8::splat(4.166_579_6e-2);
    p = p * r + f32x8::splat(1.666_666_5e-1);
    p = p * r + f32x8::splat(5.000_000_1e-1);
    let e = (p * z + r) + f32x8::splat(1.0);
    // n ∈ [−150, 129]: 2ⁿ = 2^(n>>1) · 2^(n − n>>1), both halves normal; the first product is
    // exact, the second rounds once.
    let n1 = n >> 1;
    let n2 = n - n1;
    (e * pow2i(n1)) * pow2i(n2)
}

/// `ln(1 + f) − f + f²/2`'s kernel for `f ∈ [√½ − 1, √2 − 1]`, combined with the scaling
/// `k·ln 2` and a correction `c` (musl `logf`/`log1pf`):
/// `s(hfsq + R) + (k·LN2_LO + c) − hfsq + f + k·LN2_HI`, left to right.
#[inline(always)]
fn log_core(f: f32x8, k: f32x8, c: f32x8) -> f32x8 {
    let s = f / (f32x8::splat(2.0) + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (f32x8::splat(0.400_009_72) + w * f32x8::splat(0.242_790_79));
    let t2 = z * (f32x8::splat(0.666_666_63) + w * f32x8::splat(0.284_987_87));
    let r = t2 + t1;
    let hfsq = f32x8::splat(0.5) * f * f;
    ((((s * (hfsq + r)) + (k * f32x8::splat(LN2_LO) + c)) - hfsq) + f) + k * f32x8::splat(LN2_HI)
}

/// Natural logarithm for positive normal lanes (`[2⁻¹²⁶, f32::MAX]`); other lanes are
/// unspecified (finite garbage or NaN), callers never pass them.
#[inline(always)]
pub fn ln(x: f32x8) -> f32x8 {
    // x = 2ᵏ·m with m ∈ [√½, √2).
    let ix = to_bits(x) + i32x8::splat(0x3f80_0000 - 0x3f35_04f3);
    let k = (ix >> 23) - i32x8::splat(0x7f);
    let m = from_bits((ix & i32x8::splat(0x007f_ffff)) + i32x8::splat(0x3f35_04f3));
    let f = m - f32x8::splat(1.0);
    log_core(f, f32x8::from_i32x8(k), f32x8::ZERO)
}

/// `ln(1 + e)` for `e ∈ [0, 1]` (the softplus tail `log1p(exp(−|z|))`), accurate for tiny `e`.
#[inline(always)]
pub fn log1p_unit(e: f32x8) -> f32x8 {
    let one = f32x8::splat(1.0);
    // Small e: f = e, k = 0. Large e (≥ √2 − 1): u = 1 + e ∈ [√2, 2], ln(1+e) = ln 2 + ln(u/2)
    // + c, with u/2 − 1 exact and c = (e − (u − 1))/u the rounding error of u.
    let u = one + e;
    let c = (e - (u - one)) / u;
    let large = e.simd_ge(f32x8::splat(0.414_213_57));
    let f = large.select(f32x8::splat(0.5) * u - one, e);
    let k = large.select(one, f32x8::ZERO);
    let c = large.select(c, f32x8::ZERO);
    log_core(f, k, c)
}

#[cfg(test)]
mod tests {
    /// The exact compares against IEEE's on one lane each: signed zeros, subnormals, the
    /// normal boundary, infinities and random finite bit patterns, in every pairing.
    #[test]
    fn exact_compares_are_ieee() {
        use super::exact;
        let mut vals = std::vec![
            0.0f32,
            -0.0,
            1e-45,
            -1e-45,
            1e-40,
            -1e-40,
            3e-39,
            -3e-39,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            1.0,
            -1.0,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        while vals.len() < 64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f32::from_bits((state >> 32) as u32);
            if v.is_finite() {
                vals.push(v);
            }
        }
        let lane = |m: f32x8| m.to_array()[0].to_bits() != 0;
        for &a in &vals {
            let va = f32x8::splat(a);
            assert_eq!(lane(exact::pos(va)), a > 0.0, "{a:e} > 0");
            assert_eq!(lane(exact::neg(va)), a < 0.0, "{a:e} < 0");
            for &b in &vals {
                let vb = f32x8::splat(b);
                assert_eq!(lane(exact::gt(va, vb)), a > b, "{a:e} > {b:e}");
                assert_eq!(lane(exact::le(va, vb)), a <= b, "{a:e} <= {b:e}");
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                for &u in &vals[..20] {
                    let want = if u < lo {
                        lo
                    } else if u > hi {
                        hi
                    } else {
                        u
                    };
                    let got = exact::clamp(f32x8::splat(u), lo, hi).to_array()[0];
                    assert_eq!(
                        got.to_bits(),
                        want.to_bits(),
                        "clamp({u:e}, {lo:e}, {hi:e})"
                    );
                }
            }
        }
    }

    use super::{exp, f32x8, ln, log1p_unit};

    /// Error in ulps of the correctly rounded result (ulp of the result's binade; for
    /// subnormal results, the subnormal spacing 2⁻¹⁴⁹).
    fn ulps(got: f32, exact: f64) -> f64 {
        let r = exact as f32;
        if !r.is_finite() {
            return if got == r { 0.0 } else { f64::INFINITY };
        }
        let ulp = if r.abs() < f32::MIN_POSITIVE {
            f64::from(f32::from_bits(1))
        } else {
            let e = r.abs().to_bits() & 0x7f80_0000;
            f64::from(f32::from_bits(e)) * f64::from(f32::EPSILON)
        };
        (f64::from(got) - exact).abs() / ulp
    }

    /// Max error of `f` against `reference` over the floats between `a` and `b` (bit patterns,
    /// stepping by `stride`).
    fn sweep(
        f: fn(f32x8) -> f32x8,
        reference: fn(f64) -> f64,
        a: f32,
        b: f32,
        stride: u32,
    ) -> (f64, f32) {
        let (mut worst, mut at) = (0.0f64, a);
        let mut lanes = [0.0f32; 8];
        let mut fill = 0;
        let flush = |lanes: &[f32; 8], worst: &mut f64, at: &mut f32| {
            let got = f(f32x8::new(*lanes)).to_array();
            for (g, &x) in got.iter().zip(lanes) {
                let e = ulps(*g, reference(f64::from(x)));
                if e > *worst {
                    *worst = e;
                    *at = x;
                }
            }
        };
        // Walk the floats from a to b in order of value.
        let key = |v: f32| {
            let i = v.to_bits() as i32;
            if i < 0 { i32::MIN - i } else { i }
        };
        let unkey = |k: i32| {
            f32::from_bits(if k < 0 {
                (i32::MIN - k) as u32
            } else {
                k as u32
            })
        };
        let (ka, kb) = (key(a), key(b));
        let mut k = ka;
        while k <= kb {
            lanes[fill] = unkey(k);
            fill += 1;
            if fill == 8 {
                flush(&lanes, &mut worst, &mut at);
                fill = 0;
            }
            k = match k.checked_add(stride as i32) {
                Some(v) => v,
                None => break,
            };
        }
        if fill > 0 {
            for l in lanes.iter_mut().skip(fill) {
                *l = a;
            }
            flush(&lanes, &mut worst, &mut at);
        }
        (worst, at)
    }

    const EXP_LO: f32 = -103.97;

    #[test]
    fn exp_within_one_ulp_sampled() {
        let (e, at) = sweep(exp, libm::exp, EXP_LO, 88.72, 997);
        assert!(e <= 1.0, "exp: {e} ulp at {at}");
    }

    #[test]
    fn ln_within_one_ulp_sampled() {
        let (e, at) = sweep(ln, libm::log, f32::MIN_POSITIVE, f32::MAX, 4099);
        assert!(e <= 1.0, "ln: {e} ulp at {at}");
    }

    #[test]
    fn log1p_within_one_ulp_sampled() {
        let (e, at) = sweep(log1p_unit, libm::log1p, 0.0, 1.0, 503);
        assert!(e <= 1.0, "log1p: {e} ulp at {at}");
    }

    #[test]
    fn exp_edges() {
        let x = f32x8::new([-1e30, -104.0, 0.0, -0.0, 89.0, 1e30, f32::NAN, 1.0]);
        let r = exp(x).to_array();
        assert_eq!(r[0], 0.0);
        assert_eq!(r[1], 0.0);
        assert_eq!(r[2], 1.0);
        assert_eq!(r[3], 1.0);
        assert_eq!(r[4], f32::INFINITY);
        assert_eq!(r[5], f32::INFINITY);
        assert!(r[6].is_nan());
        assert!((r[7] - core::f32::consts::E).abs() <= f32::EPSILON * 3.0);
        assert_eq!(log1p_unit(f32x8::ZERO).to_array()[0], 0.0);
        assert_eq!(ln(f32x8::splat(1.0)).to_array()[0], 0.0);
    }

    /// Every float in each range (release mode: about a minute).
    #[test]
    #[ignore = "exhaustive: run in release with --ignored"]
    fn exhaustive() {
        let (e, at) = sweep(exp, libm::exp, EXP_LO, 88.72, 1);
        std::println!("exp [{EXP_LO}, 88.72]: max {e:.3} ulp at {at:e}");
        let (e, at) = sweep(log1p_unit, libm::log1p, 0.0, 1.0, 1);
        std::println!("log1p_unit [0, 1]: max {e:.3} ulp at {at:e}");
        let (e, at) = sweep(ln, libm::log, f32::MIN_POSITIVE, f32::MAX, 1);
        std::println!("ln [2^-126, MAX]: max {e:.3} ulp at {at:e}");
        assert!(e <= 1.0);
    }
}
