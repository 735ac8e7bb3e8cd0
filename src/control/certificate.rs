//! The optimality certificate: how far a model is from the minimiser of its objective,
//! computed from what one fused pass gives (the mean loss and its gradient at the model), in
//! fixed memory.
//!
//! The objective is `F(θ) = f(θ) + λ1·‖w‖₁ + (λ2/2)·‖w‖₂²` (the biases penalised too with
//! [`Regularization::bias`]), inside the box of [`Regularization::bounds`] if there is one,
//! with `f` the mean loss. Three measures, from the weakest assumption to the strongest:
//!
//! * [`Measure::Gradient`], for a smooth `F` (no L1, no box): `‖∇F(θ)‖₂`, which is 0 exactly
//!   at the minimiser;
//! * [`Measure::Mapping`], with L1 or a box: the proximal-gradient mapping
//!   `G_h(θ) = (θ − prox_h(θ − h·∇(f + L2)(θ)))/h` at a step `h` (the rate), whose norm is 0
//!   exactly at the minimiser (Beck, *First-Order Methods in Optimization*, §10.3);
//! * [`Measure::DualityGap`], for the squared error with L1 (lasso, elastic net) and no box:
//!   the gap between the primal objective and the dual objective at the dual point scaled
//!   from the residuals, an upper bound on `F(θ) − F*`. It is scikit-learn's
//!   (`sklearn/linear_model/_cd_fast.pyx`), in the same units: reported relative to
//!   `‖y − ȳ‖²`, so that scikit-learn's `tol` (1e-4 by default) means the same here.
//!
//! [`relative`] turns the first two into a number without units: the measure divided by the
//! same measure at the start of the run (the zero model of a fresh run), so that `1e-5`
//! means "the gradient fell by five decades". The duality gap is already relative.
//!
//! ```
//! use npoa::control::certificate::{stationarity, Measure};
//! use npoa::optim::Regularization;
//! // f(w) = (w − 3)², so ∇f(1) = −4 and, with λ2 = 2, ∇F(1) = −4 + 2·1 = −2.
//! let (w, b, gw, gb) = ([1.0f32], [0.0f32], [-4.0f32], [0.0f32]);
//! let (m, kind) = stationarity(&Regularization::l2(2.0), 0.1, (&w, &b), (&gw, &gb));
//! assert_eq!(kind, Measure::Gradient);
//! assert!((m - 2.0).abs() < 1e-12);
//! ```

use crate::loss::{Loss, Objective};
use crate::optim::Regularization;

/// Which optimality measure a certificate holds (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// `‖∇F‖₂` of a smooth objective.
    Gradient,
    /// `‖G_h‖₂`, the proximal-gradient mapping's norm (L1 or a box).
    Mapping,
    /// The lasso / elastic-net duality gap relative to `‖y − ȳ‖²` (squared error with L1).
    DualityGap,
}

impl Measure {
    /// A short lower-case name (`gradient`, `mapping`, `gap`), for logs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Gradient => "gradient",
            Measure::Mapping => "mapping",
            Measure::DualityGap => "gap",
        }
    }
}

/// The measure that certifies `objective` with `reg`: the duality gap for the squared error
/// with L1 and no box, the mapping norm with L1 or a box, else the gradient norm.
pub fn measure(objective: Objective, reg: &Regularization) -> Measure {
    if objective == Objective::Single(Loss::Squared) && reg.l1 > 0.0 && reg.bounds.is_none() {
        Measure::DualityGap
    } else if reg.l1 > 0.0 || reg.bounds.is_some() {
        Measure::Mapping
    } else {
        Measure::Gradient
    }
}

/// The default tolerance of a `converged` stop on the relative gradient or mapping norm:
/// 1e-4, four decades below the start. The solvers ([`crate::train::solve`]) do not stop
/// there: they polish while the certificate still halves, down to the rounding floor of `f32`
/// sums (the model's error in a direction of curvature `λ` is `‖∇F‖/λ`, so on ill-conditioned
/// data the norm must fall further than any fixed tolerance says).
pub const DEFAULT_TOL: f32 = 1e-4;

/// The default tolerance for [`Measure::DualityGap`] (scikit-learn's `tol`).
pub const DEFAULT_GAP_TOL: f32 = 1e-4;

/// The tolerance [`DEFAULT_TOL`] or [`DEFAULT_GAP_TOL`] for a measure.
pub fn default_tol(measure: Measure) -> f32 {
    match measure {
        Measure::DualityGap => DEFAULT_GAP_TOL,
        _ => DEFAULT_TOL,
    }
}

/// Calls `f(θ_j, g_j, penalised)` for every weight and bias with its gradient.
fn each(
    reg: &Regularization,
    (w, b): (&[f32], &[f32]),
    (gw, gb): (&[f32], &[f32]),
    mut f: impl FnMut(f64, f64, bool),
) {
    for (t, g) in w.iter().zip(gw) {
        f(f64::from(*t), f64::from(*g), true);
    }
    for (t, g) in b.iter().zip(gb) {
        f(f64::from(*t), f64::from(*g), reg.bias);
    }
}

/// The stationarity measure at `θ = (w, b)` from the mean loss's gradient `(gw, gb)` there:
/// `‖∇F‖₂` without L1 and box, else `‖G_h‖₂` at step `h` (see the [module docs](self)). In
/// `f64`. A non-positive or non-finite `h` gives `NaN` with L1 or a box.
pub fn stationarity(
    reg: &Regularization,
    h: f32,
    (w, b): (&[f32], &[f32]),
    (gw, gb): (&[f32], &[f32]),
) -> (f64, Measure) {
    let (l1, l2) = (f64::from(reg.l1), f64::from(reg.l2));
    let prox = l1 > 0.0 || reg.bounds.is_some();
    let h = f64::from(h);
    if prox && !(h.is_finite() && h > 0.0) {
        return (f64::NAN, Measure::Mapping);
    }
    let mut s = 0.0f64;
    each(reg, (w, b), (gw, gb), |t, g, pen| {
        let g = if pen { g + l2 * t } else { g };
        let v = if prox {
            (t - prox_coord(reg, h, t - h * g, pen)) / h
        } else {
            g
        };
        s += v * v;
    });
    (
        libm::sqrt(s),
        if prox {
            Measure::Mapping
        } else {
            Measure::Gradient
        },
    )
}

/// The proximal operator of L1 and the box on one coordinate at step `h`, in `f64`:
/// `clamp(soft(u, h·λ1), lo, hi)` if the coordinate is penalised (`pen`), else `u`. L2 is in
/// the gradient. The certificate's mapping and the FISTA step ([`crate::train::solve`]) share it.
pub(crate) fn prox_coord(reg: &Regularization, h: f64, u: f64, pen: bool) -> f64 {
    if !pen {
        return u;
    }
    let mut u = u;
    let l1 = f64::from(reg.l1);
    if l1 > 0.0 {
        let m = u.abs() - h * l1;
        u = if m > 0.0 { m.copysign(u) } else { 0.0 };
    }
    if let Some((lo, hi)) = reg.bounds {
        u = u.max(f64::from(lo)).min(f64::from(hi));
    }
    u
}

/// The lasso / elastic-net duality gap of the squared error, relative to `‖y − ȳ‖²`
/// (scikit-learn's convergence test is `gap ≤ tol`).
///
/// Inputs are what a fused squared-error pass gives at `θ = (w, b)` over `n` rows: the mean
/// squared residual `mse = ‖r‖²/n` and the gradient `gw = −(2/n)·Xᵀr`, `gb = −(2/n)·Σr`;
/// `target_var` is the population variance of the targets, `‖y − ȳ‖²/n`. An unpenalised
/// bias is set to its optimum for `w` before the gap is taken (the residuals lose their mean,
/// `r̄ = −gb/2`), and the gap adds what that move gains, `r̄²/2`: with centred features (as the
/// recipe's standardisation makes them) the sum bounds `P(θ) − P*` for scikit-learn's
/// `P = ‖r‖²/(2n) + α‖w‖₁ + (β/2)‖w‖²`, with `α = λ1/2` and `β = λ2/2` (this crate's loss is
/// twice scikit-learn's). `x_mean` (the features' means, `None` for centred ones) makes it
/// exact for uncentred features. `NaN` for bad inputs (`n = 0`, a non-positive variance).
pub fn duality_gap(
    reg: &Regularization,
    (w, b): (&[f32], &[f32]),
    (gw, gb): (&[f32], &[f32]),
    mse: f32,
    n: usize,
    target_var: f64,
    x_mean: Option<&[f32]>,
) -> f64 {
    let nf = n as f64;
    if n == 0 || !(target_var.is_finite() && target_var > 0.0) {
        return f64::NAN;
    }
    // Coordinate-descent units: ½‖R‖² + a‖w‖₁ + (c/2)‖w‖², a = α·n, c = β·n.
    let (a, c) = (f64::from(reg.l1) * nf / 2.0, f64::from(reg.l2) * nf / 2.0);
    // The residuals' mean and the bias moved to its optimum (unless the bias is penalised,
    // then it is a coordinate like the others).
    let rbar = if reg.bias {
        0.0
    } else {
        -gb.first().map_or(0.0, |g| f64::from(*g)) / 2.0
    };
    let r_norm2 = (f64::from(mse) * nf - nf * rbar * rbar).max(0.0);
    // Xᵀr_c = Xᵀr − r̄·n·x̄, with Xᵀr = −(n/2)·g.
    let (mut dual_norm, mut l1n, mut w2, mut wxtr) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut add = |t: f64, xr: f64| {
        dual_norm = dual_norm.max((xr - c * t).abs());
        l1n += t.abs();
        w2 += t * t;
        wxtr += t * xr;
    };
    let means = x_mean
        .unwrap_or(&[])
        .iter()
        .map(|m| f64::from(*m))
        .chain(core::iter::repeat(0.0));
    for ((t, g), m) in w.iter().zip(gw).zip(means) {
        add(f64::from(*t), -nf / 2.0 * f64::from(*g) - rbar * nf * m);
    }
    if reg.bias {
        for (t, g) in b.iter().zip(gb) {
            add(f64::from(*t), -nf / 2.0 * f64::from(*g));
        }
    }
    // R·(y − prediction's other parts) = ‖R‖² + θ·XᵀR.
    let r_y = r_norm2 + wxtr;
    let (k, mut gap) = if dual_norm > a {
        let k = a / dual_norm;
        (k, 0.5 * (r_norm2 + r_norm2 * k * k))
    } else {
        (1.0, r_norm2)
    };
    gap += a * l1n - k * r_y + 0.5 * c * (1.0 + k * k) * w2;
    // The unpenalised bias's own suboptimality, n·r̄²/2 in these units.
    gap += nf * rbar * rbar / 2.0;
    gap.max(0.0) / (nf * target_var)
}

/// `measure / start`, the measure relative to its value at the start of the run (`0` when
/// both are 0: the start was optimal), as `f32`.
pub fn relative(measure: f64, start: f64) -> f32 {
    if measure == 0.0 {
        0.0
    } else if start > 0.0 && start.is_finite() {
        (measure / start) as f32
    } else {
        f32::NAN
    }
}
