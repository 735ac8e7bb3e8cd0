//! A stable learning rate from the data ("auto LR").
//!
//! For the mean squared error the Hessian is `H = 2·E[x̃ x̃ᵀ]` with `x̃ = [x, 1]`, and gradient
//! descent converges for `η < 2/λ_max(H) = 1/λ_max(E[x̃ x̃ᵀ])`. [`lambda_max`] estimates that
//! eigenvalue by power iteration without forming the matrix: `H·v` is the difference of two
//! gradients, `∇L(v) − ∇L(0)`, so each iteration is one pass of the fused SIMD kernel over the
//! data (plus one pass for `∇L(0)`, once). [`stable_rate`] returns `safety / λ_max`.
//!
//! Power iteration approaches `λ_max` from below, so the safety factor (default
//! [`DEFAULT_SAFETY`] = 0.9) keeps the rate under the limit even when the estimate is a few per
//! cent short.
//!
//! ```
//! use npoa::control::autolr::stable_rate_for;
//! use npoa::train::Dataset;
//! // The seed's data: x = 1..4, y = 2x. E[x̃x̃ᵀ] = [[7.5, 2.5], [2.5, 1]], λ_max = 8.3503.
//! let (x, y) = ([1.0f32, 2.0, 3.0, 4.0], [2.0f32, 4.0, 6.0, 8.0]);
//! let data = Dataset::new(&x, &y, 1)?;
//! let lr = stable_rate_for::<1>(&data)?;
//! assert!((lr - 0.9 / 8.3503).abs() < 1e-4);
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::Error;
use crate::check;
use crate::dataset::Dataset;
use crate::kernel;
use crate::loss::Objective;

/// Safety factor of [`stable_rate`]: the rate is `DEFAULT_SAFETY / λ_max`.
pub const DEFAULT_SAFETY: f32 = 0.9;

/// Power iterations at most; the loop stops earlier once the estimate changes by less than
/// 1e-4 (relative).
pub const MAX_ITERATIONS: u32 = 50;

/// Estimates `λ_max(E[x̃ x̃ᵀ])` for the data, with caller-provided scratch of length `d` each
/// (`v`, `g`, `g0`), so that it needs no heap.
///
/// # Errors
/// [`Error::LengthMismatch`] for scratch of the wrong length; [`Error::Overflow`] if the data
/// are so large that the products overflow `f32`.
pub fn lambda_max(
    data: &Dataset<'_>,
    v: &mut [f32],
    g: &mut [f32],
    g0: &mut [f32],
) -> Result<f64, Error> {
    let d = data.features();
    for (name, s) in [("v", v.len()), ("g", g.len()), ("g0", g0.len())] {
        check::check_len(name, s, d)?;
    }
    let (x, y) = (data.x(), data.y());
    // ∇L(0): the part of every gradient that does not depend on v.
    g0.fill(0.0);
    let gb0 = kernel::gradient(x, y, g0, 0.0, &mut *g)?;
    for (a, c) in g0.iter_mut().zip(g.iter()) {
        *a = *c;
    }
    // Start from the all-ones vector (bias component 1), normalised.
    let start = 1.0 / libm::sqrt(d as f64 + 1.0);
    v.fill(start as f32);
    let mut vb = start;
    let mut estimate = 0.0f64;
    for _ in 0..MAX_ITERATIONS {
        // H·v = ∇L(v) − ∇L(0), with H = 2·E[x̃ x̃ᵀ].
        let gb = kernel::gradient(x, y, v, vb as f32, &mut *g)?;
        let mut hb = f64::from(gb) - f64::from(gb0);
        let mut s = hb * hb;
        for (gj, g0j) in g.iter_mut().zip(g0.iter()) {
            let h = f64::from(*gj) - f64::from(*g0j);
            *gj = h as f32;
            s += h * h;
        }
        let norm = libm::sqrt(s);
        if !(norm.is_finite() && norm > 0.0) {
            break;
        }
        // ‖H v‖ with ‖v‖ = 1 is the power-iteration estimate of λ_max(H); E's is half of it.
        let next = norm / 2.0;
        let inv = 1.0 / norm;
        for (vj, gj) in v.iter_mut().zip(g.iter()) {
            *vj = (f64::from(*gj) * inv) as f32;
        }
        hb *= inv;
        vb = hb;
        let done = (next - estimate).abs() <= 1e-4 * next;
        estimate = next;
        if done {
            break;
        }
    }
    if estimate.is_finite() && estimate > 0.0 {
        Ok(estimate)
    } else if estimate == 0.0 {
        // All-zero features and the bias alone: E[x̃ x̃ᵀ] has λ_max = 1.
        Ok(1.0)
    } else {
        Err(Error::Overflow {
            what: "curvature estimate",
        })
    }
}

/// `safety / λ_max(E[x̃ x̃ᵀ])`: a rate at which gradient descent on the mean squared error is
/// stable for these data.
///
/// # Errors
/// As [`lambda_max`]; [`Error::InvalidParameter`] if `safety` is not in `(0, 1]`.
pub fn stable_rate(
    data: &Dataset<'_>,
    safety: f32,
    v: &mut [f32],
    g: &mut [f32],
    g0: &mut [f32],
) -> Result<f32, Error> {
    if !(safety.is_finite() && safety > 0.0 && safety <= 1.0) {
        return Err(Error::InvalidParameter {
            name: "safety",
            reason: "must be in (0, 1]",
        });
    }
    let l = lambda_max(data, v, g, g0)?;
    let lr = f64::from(safety) / l;
    if lr.is_finite() && lr > 0.0 && lr <= f64::from(f32::MAX) {
        Ok(lr as f32)
    } else {
        Err(Error::Overflow {
            what: "learning rate",
        })
    }
}

/// `safety·2/(c·λ_max(E[x̃ x̃ᵀ]))` with `c` = [`Objective::curvature_bound`]: the stable rate
/// for a model trained on `objective` (the Hessian is at most `c·E[x̃ x̃ᵀ]` per output). For the
/// squared error (`c = 2`) this is [`stable_rate`]; the logistic loss (`c = ¼`) allows 8× that,
/// softmax (`c = ½`) 4×.
///
/// # Errors
/// As [`stable_rate`].
pub fn stable_rate_with(
    data: &Dataset<'_>,
    objective: Objective,
    safety: f32,
    v: &mut [f32],
    g: &mut [f32],
    g0: &mut [f32],
) -> Result<f32, Error> {
    let base = stable_rate(data, safety, v, g, g0)?;
    let lr = f64::from(base) * 2.0 / f64::from(objective.curvature_bound());
    if lr.is_finite() && lr > 0.0 && lr <= f64::from(f32::MAX) {
        Ok(lr as f32)
    } else {
        Err(Error::Overflow {
            what: "learning rate",
        })
    }
}

/// [`stable_rate_with`] with [`DEFAULT_SAFETY`] and scratch on the stack, for `D` features.
///
/// # Errors
/// As [`stable_rate_for`].
pub fn stable_rate_for_objective<const D: usize>(
    data: &Dataset<'_>,
    objective: Objective,
) -> Result<f32, Error> {
    let (mut v, mut g, mut g0) = ([0.0f32; D], [0.0f32; D], [0.0f32; D]);
    stable_rate_with(data, objective, DEFAULT_SAFETY, &mut v, &mut g, &mut g0)
}

/// [`stable_rate`] with [`DEFAULT_SAFETY`] and scratch on the stack, for `D` features.
///
/// # Errors
/// As [`stable_rate`]; [`Error::LengthMismatch`] if the data do not have `D` features.
pub fn stable_rate_for<const D: usize>(data: &Dataset<'_>) -> Result<f32, Error> {
    let (mut v, mut g, mut g0) = ([0.0f32; D], [0.0f32; D], [0.0f32; D]);
    stable_rate(data, DEFAULT_SAFETY, &mut v, &mut g, &mut g0)
}
