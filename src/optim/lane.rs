//! The lane types of the element-wise updates: `f32` (the scalar path) and `wide::f32x8` (the
//! SIMD path), with the same IEEE operation per lane (square roots are correctly rounded on
//! every target), so both paths give the same bits.

use crate::kernel::vmath;
use core::ops::{Add, Div, Mul, Neg, Sub};
use wide::f32x8;

/// `f32` or `f32x8`: the operations the updates use, each one IEEE operation per lane.
pub(crate) trait Lane:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    fn splat(v: f32) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    /// `a <= b ? x : y`.
    fn le(a: Self, b: Self, x: Self, y: Self) -> Self;
    /// `a > 0 ? x : y` (cheaper than [`gt`](Lane::gt) against zero on the SIMD path).
    fn gt0(a: Self, x: Self, y: Self) -> Self;
    /// `a < lo ? lo : (a > hi ? hi : a)`.
    fn clamp(a: Self, lo: f32, hi: f32) -> Self;
}

impl Lane for f32 {
    #[inline(always)]
    fn splat(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        libm::sqrtf(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabsf(self)
    }
    #[inline(always)]
    fn le(a: Self, b: Self, x: Self, y: Self) -> Self {
        if a <= b { x } else { y }
    }
    #[inline(always)]
    fn gt0(a: Self, x: Self, y: Self) -> Self {
        if a > 0.0 { x } else { y }
    }
    #[inline(always)]
    fn clamp(a: Self, lo: f32, hi: f32) -> Self {
        if a < lo {
            lo
        } else if a > hi {
            hi
        } else {
            a
        }
    }
}

impl Lane for f32x8 {
    #[inline(always)]
    fn splat(v: f32) -> Self {
        f32x8::splat(v)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32x8::sqrt(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f32x8::abs(self)
    }
    #[inline(always)]
    fn le(a: Self, b: Self, x: Self, y: Self) -> Self {
        vmath::le(a, b).select(x, y)
    }
    #[inline(always)]
    fn gt0(a: Self, x: Self, y: Self) -> Self {
        vmath::pos(a).select(x, y)
    }
    #[inline(always)]
    fn clamp(a: Self, lo: f32, hi: f32) -> Self {
        vmath::clamp(a, lo, hi)
    }
}
