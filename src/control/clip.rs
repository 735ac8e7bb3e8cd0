//! Truncation of gradients and steps: clipping by global L2 norm, by value, and a cap on the
//! size of a parameter step (a trust region).
//!
//! The gradient of the linear model is `(∂L/∂w, ∂L/∂b)`: a slice and a scalar. Norms are
//! accumulated in `f64`, so they neither overflow nor lose the small components for any finite
//! `f32` input, and they are the same on every target. A function that fails leaves its
//! arguments unchanged.
//!
//! ```
//! use npoa::control::clip::clip_grad_norm;
//! let mut g = [3.0f32, 0.0];
//! let mut gb = 4.0f32; // ‖(3, 0, 4)‖ = 5
//! let before = clip_grad_norm(&mut g, &mut gb, 1.0)?;
//! assert_eq!(before, 5.0);
//! assert!((g[0] - 0.6).abs() < 1e-6 && (gb - 0.8).abs() < 1e-6);
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::Error;

/// Truncation applied to every step's gradient, in this order: by value, by global norm, then
/// the step length capped by a trust region (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Clip {
    /// Clamp every gradient value to `[-v, v]`.
    pub value: Option<f32>,
    /// Scale the gradient to a global L2 norm of at most this (PyTorch `clip_grad_norm_`).
    pub norm: Option<f32>,
    /// Cap the parameter change `η·‖g‖` of a step to this length.
    pub trust_radius: Option<f32>,
}

impl Clip {
    /// No truncation.
    pub const NONE: Clip = Clip {
        value: None,
        norm: None,
        trust_radius: None,
    };
}

/// Euclidean norm of `(v, extra)`, accumulated in `f64`; `None` if any value is not finite.
pub fn global_norm(v: &[f32], extra: f32) -> Option<f64> {
    let mut s = f64::from(extra) * f64::from(extra);
    for &e in v {
        let e = f64::from(e);
        s += e * e;
    }
    let n = libm::sqrt(s);
    n.is_finite().then_some(n)
}

fn check_limit(name: &'static str, v: f32) -> Result<(), Error> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            reason: "must be finite and > 0",
        })
    }
}

fn non_finite_grad(g: &[f32], gb: &[f32]) -> Error {
    if let Some(index) = g.iter().position(|e| !e.is_finite()) {
        return Error::NonFinite {
            what: "grad_w",
            index,
        };
    }
    match gb.iter().position(|e| !e.is_finite()) {
        Some(index) => Error::NonFinite {
            what: "grad_b",
            index,
        },
        None => Error::Overflow { what: "gradient" },
    }
}

/// Norm of the two parts of a gradient (weights, biases), in `f64`.
/// The biases' squares come first, so that with one bias this is [`global_norm`]'s order.
fn norm_parts(gw: &[f32], gb: &[f32]) -> Option<f64> {
    let mut s = 0.0f64;
    for &e in gb.iter().chain(gw) {
        let e = f64::from(e);
        s += e * e;
    }
    let n = libm::sqrt(s);
    n.is_finite().then_some(n)
}

/// [`clip_grad_norm`] for a gradient in two parts (weights, and one bias per output).
pub(crate) fn clip_norm_parts(gw: &mut [f32], gb: &mut [f32], max_norm: f32) -> Result<f64, Error> {
    check_limit("max_norm", max_norm)?;
    let Some(norm) = norm_parts(gw, gb) else {
        return Err(non_finite_grad(gw, gb));
    };
    let coef = f64::from(max_norm) / (norm + 1e-6);
    if coef < 1.0 {
        let c = coef as f32;
        for g in gw.iter_mut().chain(gb.iter_mut()) {
            *g *= c;
        }
    }
    Ok(norm)
}

/// [`clip_grad_value`] for a gradient in two parts.
pub(crate) fn clip_value_parts(
    gw: &mut [f32],
    gb: &mut [f32],
    clip_value: f32,
) -> Result<usize, Error> {
    check_limit("clip_value", clip_value)?;
    if !(crate::check::all_finite(gw) && crate::check::all_finite(gb)) {
        return Err(non_finite_grad(gw, gb));
    }
    let mut clamped = 0;
    for g in gw.iter_mut().chain(gb.iter_mut()) {
        let c = g.clamp(-clip_value, clip_value);
        clamped += usize::from(c != *g);
        *g = c;
    }
    Ok(clamped)
}

/// [`trust_region_factor`] for a gradient in two parts.
pub(crate) fn trust_factor_parts(
    gw: &[f32],
    gb: &[f32],
    learning_rate: f32,
    radius: f32,
) -> Result<f32, Error> {
    check_limit("learning_rate", learning_rate)?;
    check_limit("radius", radius)?;
    let Some(norm) = norm_parts(gw, gb) else {
        return Err(non_finite_grad(gw, gb));
    };
    let step = f64::from(learning_rate) * norm;
    if step <= f64::from(radius) {
        return Ok(1.0);
    }
    // `radius / step` is in (0, 1); as f32 it may round to 0 only for absurd ratios, where a
    // zero step is the honest answer.
    Ok((f64::from(radius) / step) as f32)
}

/// Scales `(grad_w, grad_b)` so that their global L2 norm is at most `max_norm`, with PyTorch's
/// `clip_grad_norm_` semantics: the factor is `max_norm / (norm + 1e-6)`, applied only when it
/// is below 1. Returns the norm before clipping (in `f64`: for huge gradients it may exceed
/// `f32::MAX`).
///
/// # Errors
/// [`Error::InvalidParameter`] if `max_norm` is not finite and > 0; [`Error::NonFinite`] if a
/// gradient value is NaN or infinite (PyTorch's `error_if_nonfinite=True`). On error the
/// gradient is unchanged.
pub fn clip_grad_norm(grad_w: &mut [f32], grad_b: &mut f32, max_norm: f32) -> Result<f64, Error> {
    clip_norm_parts(grad_w, core::slice::from_mut(grad_b), max_norm)
}

/// Clamps every gradient value to `[-clip_value, clip_value]` (PyTorch `clip_grad_value_`).
/// Returns how many values were clamped.
///
/// # Errors
/// [`Error::InvalidParameter`] if `clip_value` is not finite and > 0; [`Error::NonFinite`] for
/// a NaN or infinite gradient value. On error the gradient is unchanged.
pub fn clip_grad_value(
    grad_w: &mut [f32],
    grad_b: &mut f32,
    clip_value: f32,
) -> Result<usize, Error> {
    clip_value_parts(grad_w, core::slice::from_mut(grad_b), clip_value)
}

/// The factor in `[0, 1]` that caps a gradient step `−η·g` to an L2 length of at most `radius`
/// (a trust region around the current parameters): `min(1, radius / (η·‖g‖))`.
///
/// # Errors
/// [`Error::InvalidParameter`] if `learning_rate` or `radius` is not finite and > 0;
/// [`Error::NonFinite`] for a non-finite gradient.
pub fn trust_region_factor(
    grad_w: &[f32],
    grad_b: f32,
    learning_rate: f32,
    radius: f32,
) -> Result<f32, Error> {
    trust_factor_parts(grad_w, &[grad_b], learning_rate, radius)
}
