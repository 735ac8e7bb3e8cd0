//! Full-batch solvers that reach the optimum and say so: conjugate gradients for the squared
//! error (with or without L2), truncated Newton for the other smooth losses (logistic,
//! softmax, Poisson, Huber; with or without L2), and FISTA with backtracking and adaptive
//! restart for every smooth loss with L1, elastic net or a box. Each iteration is an "epoch"
//! of the observer's records, and ends with the
//! [optimality certificate](crate::control::certificate); the run stops `converged` once it
//! is below the tolerance.
//!
//! Why these two. Full-batch gradient descent at `1/L` needs `O(κ·log 1/ε)` passes: on NIST
//! Longley after standardisation (`κ ≈ 1.2e4`) about 170 000. Both methods here need
//! `O(√κ·log 1/ε)` or fewer:
//!
//! * **Conjugate gradients** on the quadratic `F(θ) = mse(θ) + (λ2/2)‖w‖²`: exact in `p + 1`
//!   steps in exact arithmetic (`p` parameters). Each step takes the curvature along the
//!   direction `p` from two fused passes, `H·p = (∇f(θ + s·p) − ∇f(θ))/s` (exact for a
//!   quadratic up to rounding; `s` scales the probe to the weights' size), the exact line
//!   minimum `α = −g·p/(p·Hp)`, the new gradient from a fresh pass (not the recurrence, so
//!   that rounding does not accumulate), and Polak–Ribière+ directions, restarted every `p`
//!   steps and whenever a direction stops descending.
//! * **Truncated Newton** (Newton–CG) for a curved loss without L1 or a box: each iteration
//!   solves the Newton system `H·d = −∇F` by conjugate gradients with the same
//!   finite-difference curvature products (one fused pass each, at a probe 1e-3 of the
//!   weights' size), only as far as the forcing tolerance `min(½, √(‖∇F‖/‖∇F₀‖))·‖∇F‖`
//!   (Eisenstat–Walker; superlinear convergence), then backtracks from the full step. On a
//!   200,000 × 32 logistic problem: 11 iterations where FISTA took 148, 3× less time.
//! * **FISTA** (Beck & Teboulle 2009) with a step `1/L` from the curvature estimate (power
//!   iteration on the Hessian at the start, by the model's own fused kernels, + λ2), doubled
//!   wherever the gradient changes faster than `L` between the extrapolated point and the
//!   step (Poisson's curvature is unbounded), and the gradient restart of O'Donoghue & Candès
//!   (2015): momentum drops to zero when the step points against the last move, which gives
//!   the linear rate of a strongly convex problem without knowing its `μ`. Both tests read
//!   gradients, not loss values: near the optimum a difference of two losses is lost in the
//!   rounding of `f32` predictions long before a gradient is. Two fused passes per iteration
//!   (at the extrapolated point and at the step), one after a restart.
//!
//! The absolute and quantile losses are not smooth: [`Method::Auto`] refuses them
//! ([`Error::InvalidParameter`]); train them with a subgradient rule and a decaying rate.
//!
//! ```
//! use npoa::LinearModel;
//! use npoa::train::{Dataset, Stop};
//! use npoa::train::solve::{solve, SolveConfig};
//! // y = 2·x0 − x1 + 0.5 on a nearly collinear design.
//! let x = [1.0f32, 1.01, 2.0, 1.98, 3.0, 3.02, 4.0, 3.99, 5.0, 5.03];
//! let y: Vec<f32> = x.chunks(2).map(|r| 2.0 * r[0] - r[1] + 0.5).collect();
//! let data = Dataset::new(&x, &y, 2)?;
//! let mut model = LinearModel::<2>::zeros();
//! let s = solve(&mut model, &data, &SolveConfig::default())?;
//! assert_eq!(s.stop, Stop::Converged);
//! assert!((model.weights()[0] - 2.0).abs() < 1e-2 && (model.weights()[1] + 1.0).abs() < 1e-2);
//! # Ok::<(), npoa::Error>(())
//! ```

use core::ops::ControlFlow;

use super::observe::{Decision, Epoch, Observer, Summary};
use super::step::{ObjectiveKernels, Trainable, check_model, sealed::Access};
use crate::Error;
use crate::control::Stop;
use crate::control::certificate::{self, Measure};
use crate::dataset::Dataset;
use crate::loss::{Loss, Objective};
use crate::optim::{self, Regularization};

/// Which full-batch method [`solve`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Conjugate gradients for the squared error without L1 and box, truncated Newton for the
    /// other smooth losses without them, FISTA with L1 or a box.
    #[default]
    Auto,
    /// Conjugate gradients (the squared error, no L1, no box).
    ConjugateGradient,
    /// Truncated Newton: conjugate gradients on each iteration's Newton system, then a line
    /// search (any smooth loss, no L1, no box). An iteration is several passes.
    Newton,
    /// FISTA with backtracking and restart (any smooth loss, any penalty and box).
    Fista,
}

/// How [`solve`] runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveConfig {
    /// Iterations at most (each one an epoch of the records; ≥ 1).
    pub max_iter: u32,
    /// Stop `converged` when the relative certificate is at most this (`None`:
    /// [`certificate::default_tol`] of the measure).
    pub tol: Option<f32>,
    /// The penalty and the box.
    pub regularization: Regularization,
    /// The method.
    pub method: Method,
    /// The targets' population variance, the scale of the duality gap (`None`: computed from
    /// the data, one pass over `y`).
    pub target_var: Option<f64>,
}

impl Default for SolveConfig {
    /// 5000 iterations, the default tolerance, no penalty, [`Method::Auto`].
    fn default() -> Self {
        Self {
            max_iter: 5000,
            tol: None,
            regularization: Regularization::NONE,
            method: Method::Auto,
            target_var: None,
        }
    }
}

/// A model [`solve`] can train (every model of the crate). Sealed.
pub trait Solve: Access {
    /// Runs the solver on this model (use [`solve`]).
    #[doc(hidden)]
    fn solve_in(
        &mut self,
        config: &SolveConfig,
        data: &Dataset<'_>,
        validation: Option<&Dataset<'_>>,
        observer: &mut dyn Observer,
    ) -> Result<Summary, Error>;
}

impl<M: Trainable> Solve for M {
    fn solve_in(
        &mut self,
        config: &SolveConfig,
        data: &Dataset<'_>,
        validation: Option<&Dataset<'_>>,
        observer: &mut dyn Observer,
    ) -> Result<Summary, Error> {
        let backup = *self;
        let obj = self.objective();
        let mut s = [M::zero_grad(); 6];
        let [a, b, c, d, e, f] = &mut s;
        let out = {
            let (w, bias) = self.params();
            solve_parts(
                (obj, M::kernels()),
                (w, bias),
                [
                    M::grad_parts(a),
                    M::grad_parts(b),
                    M::grad_parts(c),
                    M::grad_parts(d),
                    M::grad_parts(e),
                    M::grad_parts(f),
                ],
                (data, validation),
                config,
                observer,
            )
        };
        if out.is_err() {
            *self = backup;
        }
        out
    }
}

/// Trains `model` on all of `data` at once to the minimiser of its objective (see the
/// [module docs](self)), starting from the model as it is. The model returned is the last
/// iterate, the one the certificate describes. The summary's `stop` is
/// [`Stop::Converged`] when the certificate fell below the tolerance, else
/// [`Stop::MaxEpochs`] when the budget ran out, [`Stop::Stalled`] when the certificate stopped
/// falling above the tolerance (the `f32` floor), or [`Stop::Observer`]; `certificate` holds
/// the last one.
///
/// # Errors
/// [`Error::InvalidParameter`] for an invalid configuration or a loss that is not smooth;
/// the errors of the fused kernels for bad data; on error the model is unchanged.
pub fn solve<M: Solve + ?Sized>(
    model: &mut M,
    data: &Dataset<'_>,
    config: &SolveConfig,
) -> Result<Summary, Error> {
    model.solve_in(config, data, None, &mut ())
}

/// [`solve`] with a validation set (its loss is each record's metric) and an observer.
///
/// # Errors
/// As [`solve`].
pub fn solve_with<M: Solve + ?Sized>(
    model: &mut M,
    data: &Dataset<'_>,
    validation: Option<&Dataset<'_>>,
    config: &SolveConfig,
    observer: &mut dyn Observer,
) -> Result<Summary, Error> {
    model.solve_in(config, data, validation, observer)
}

/// A vector of the parameters' shape: weights and biases.
type Part<'a> = (&'a mut [f32], &'a mut [f32]);

fn vals<'a>(p: &'a Part<'_>) -> impl Iterator<Item = f32> + 'a {
    p.0.iter().chain(p.1.iter()).copied()
}

fn elems<'a>(p: &'a mut Part<'_>) -> impl Iterator<Item = &'a mut f32> + 'a {
    p.0.iter_mut().chain(p.1.iter_mut())
}

fn dot(a: &Part<'_>, b: &Part<'_>) -> f64 {
    vals(a)
        .zip(vals(b))
        .map(|(x, y)| f64::from(x) * f64::from(y))
        .sum()
}

fn copy(dst: &mut Part<'_>, src: &Part<'_>) {
    for (d, s) in elems(dst).zip(vals(src)) {
        *d = s;
    }
}

fn ro<'a>(p: &'a Part<'_>) -> (&'a [f32], &'a [f32]) {
    (&*p.0, &*p.1)
}

/// `g += λ2·θ` on the penalised coordinates: the smooth part's gradient.
fn add_l2(reg: &Regularization, g: &mut Part<'_>, theta: &Part<'_>) {
    if reg.l2 > 0.0 {
        let nw = theta.0.len();
        for (j, (gj, t)) in elems(g).zip(vals(theta)).enumerate() {
            if j < nw || reg.bias {
                *gj = (f64::from(*gj) + f64::from(reg.l2) * f64::from(t)) as f32;
            }
        }
    }
}

fn norm(a: &Part<'_>) -> f64 {
    libm::sqrt(dot(a, a))
}

/// Reports one iteration; returns `true` if the observer stops the run.
fn report(
    observer: &mut dyn Observer,
    (epoch, train_loss, metric, rate): (u32, f32, f32, f32),
    w: &[f32],
    cert: f32,
) -> bool {
    observer.on_epoch(&Epoch {
        epoch,
        train_loss,
        metric,
        learning_rate: rate,
        steps: u64::from(epoch),
        zeros: optim::zeros(w),
        certificate: cert,
    }) == Decision::Stop
}

/// A record's metric at `θ`: the loss on the validation set if there is one (`NaN` where its
/// kernels refuse it), else the training loss `loss`.
fn metric(
    (obj, kern): (Objective, ObjectiveKernels),
    validation: Option<&Dataset<'_>>,
    theta: &Part<'_>,
    loss: f32,
) -> f32 {
    match validation {
        Some(v) => (kern.loss)(obj, v.x(), v.y(), ro(theta)).unwrap_or(f32::NAN),
        None => loss,
    }
}

/// The solver on parameter slices and six scratch vectors of their shape.
pub(crate) fn solve_parts(
    (obj, kern): (Objective, ObjectiveKernels),
    (w, b): Part<'_>,
    scratch: [Part<'_>; 6],
    (data, validation): (&Dataset<'_>, Option<&Dataset<'_>>),
    config: &SolveConfig,
    observer: &mut dyn Observer,
) -> Result<Summary, Error> {
    if config.max_iter == 0 {
        return Err(Error::InvalidParameter {
            name: "max_iter",
            reason: "must be >= 1",
        });
    }
    if config.tol.is_some_and(|t| !(t.is_finite() && t >= 0.0)) {
        return Err(Error::InvalidParameter {
            name: "tol",
            reason: "must be finite and >= 0",
        });
    }
    let reg = config.regularization;
    reg.validate()?;
    {
        let [g, ..] = &scratch;
        check_model(obj, w, b, g.0, g.1, data.features())?;
    }
    if let Some(v) = validation
        && v.features() != data.features()
    {
        return Err(Error::FeatureMismatch {
            model: data.features(),
            data: v.features(),
        });
    }
    let prox = reg.l1 > 0.0 || reg.bounds.is_some();
    let smooth = !matches!(
        obj,
        Objective::Single(Loss::Absolute | Loss::Quantile { .. })
    );
    let squared = obj == Objective::Single(Loss::Squared);
    let method = match config.method {
        Method::Auto if !smooth => {
            return Err(Error::InvalidParameter {
                name: "loss",
                reason: "the solver needs a smooth loss (absolute and quantile are not): train it with a subgradient rule and a decaying rate",
            });
        }
        Method::Auto if squared && !prox => Method::ConjugateGradient,
        Method::Auto if !prox => Method::Newton,
        Method::Auto => Method::Fista,
        Method::ConjugateGradient if !squared || prox => {
            return Err(Error::InvalidParameter {
                name: "method",
                reason: "conjugate gradients need the squared error without L1 or a box",
            });
        }
        Method::Newton if !smooth || prox => {
            return Err(Error::InvalidParameter {
                name: "method",
                reason: "Newton's method needs a smooth loss without L1 or a box",
            });
        }
        m => m,
    };
    let theta: Part<'_> = (w, b);
    let [mut g, b0, c, d, e, f] = scratch;
    if method == Method::Fista {
        return fista(
            (obj, kern),
            theta,
            [g, b0, c, d],
            (data, validation),
            config,
            observer,
        );
    }
    let opened = match opening((obj, kern), &theta, &mut g, data, config)? {
        ControlFlow::Continue(o) => o,
        ControlFlow::Break(done) => return Ok(done),
    };
    if method == Method::Newton {
        newton(
            (obj, kern),
            theta,
            opened,
            [g, b0, c, d, e, f],
            (data, validation),
            config,
            observer,
        )
    } else {
        cg(
            (obj, kern),
            theta,
            opened,
            [g, b0, c, d],
            (data, validation),
            config,
            observer,
        )
    }
}

/// Polishing past the tolerance: the run goes on while the certificate still halves, and
/// stops (converged if at most `tol`) once it does not — the rounding floor of `f32` sums.
/// Rounding makes the certificate noisy near that floor, so progress is judged on the best
/// value over a window that slides from the last halving:
///
/// * above the tolerance, `10·(p + 1)` iterations (at least 100; `p` parameters: ten
///   conjugate-gradient cycles);
/// * within it, a window from the problem's conditioning, at most twice the first: for
///   conjugate gradients `4·√κ` (at least 10), `κ` estimated from the curvatures along the
///   directions (the Rayleigh quotients `pᵀHp / pᵀp`; CG's error halves about every
///   `0.35·√κ` iterations in exact arithmetic); for FISTA eight times the run's mean pace (its
///   iterations per halving so far), at least `2·(p + 1)` (and 20).
///
/// A well-conditioned problem that reached its floor in a few iterations then stops a few
/// cycles later, not hundreds (200,000 × 32 standardised Gaussian rows, `κ ≈ 1`: 14
/// iterations instead of 680); an ill-conditioned one that still halves every hundred
/// iterations (NIST Longley, `κ ≈ 9·10³`) polishes on.
struct Progress {
    /// The best certificate at the last halving.
    mark: f32,
    /// Iterations fed, and since the last halving.
    it: u32,
    since: u32,
    /// Halvings so far, and the iteration of the last.
    halvings: u32,
    last: u32,
    /// The window above the tolerance, and FISTA's shortest one within it (conjugate
    /// gradients: 10).
    window: u32,
    least: u32,
    tol: f32,
    /// The extreme curvatures seen (conjugate gradients), `[min, max]`.
    curvature: Option<[f64; 2]>,
    /// Newton's fixed windows (`window` above the tolerance, `least` within it).
    fixed: bool,
}

impl Progress {
    fn new(params: usize, tol: f32) -> Self {
        let cycles = |k: usize| {
            u32::try_from(params.saturating_add(1).saturating_mul(k)).unwrap_or(u32::MAX)
        };
        Self {
            mark: f32::INFINITY,
            it: 0,
            since: 0,
            halvings: 0,
            last: 0,
            window: cycles(10).max(100),
            least: cycles(2).max(20),
            tol,
            curvature: None,
            fixed: false,
        }
    }

    /// Newton's windows: 10 iterations above the tolerance, 3 within it (a Newton iteration
    /// halves the gradient's norm at least once until rounding stops it).
    fn newton(params: usize, tol: f32) -> Self {
        Self {
            window: 10,
            least: 3,
            fixed: true,
            ..Self::new(params, tol)
        }
    }

    /// Records the curvature `pᵀHp / pᵀp` along one direction (positive and finite only).
    fn curvature(&mut self, c: f64) {
        if c.is_finite() && c > 0.0 {
            let [lo, hi] = self.curvature.get_or_insert([c, c]);
            *lo = lo.min(c);
            *hi = hi.max(c);
        }
    }

    /// Feeds one certificate; `true` once the run has stopped making progress.
    fn stalled(&mut self, cert: f32) -> bool {
        self.it = self.it.saturating_add(1);
        if cert <= 0.5 * self.mark {
            self.mark = cert;
            self.since = 0;
            self.halvings = self.halvings.saturating_add(1);
            self.last = self.it;
            return false;
        }
        self.since = self.since.saturating_add(1);
        let window = if self.fixed {
            if self.mark <= self.tol {
                self.least
            } else {
                self.window
            }
        } else if self.mark <= self.tol {
            let most = self.window.saturating_mul(2);
            let (w, least) = match self.curvature {
                Some([lo, hi]) => (4.0 * libm::sqrt(hi / lo), 10),
                None => (
                    8.0 * f64::from(self.last) / f64::from(self.halvings.max(1)),
                    self.least,
                ),
            };
            // `as` saturates (and maps NaN to 0); the clamp bounds it.
            (w as u32).clamp(least.min(most), most)
        } else {
            self.window
        };
        self.since >= window
    }
}

/// The stop of a run that cannot move on: converged if the certificate is within `tol`.
fn settled(cert: f32, tol: f32) -> Stop {
    if cert <= tol {
        Stop::Converged
    } else {
        Stop::Stalled
    }
}

/// The summary of a solver run.
fn summary(epochs: u32, loss: f32, stop: Stop, cert: f32) -> Summary {
    Summary {
        epochs,
        steps: u64::from(epochs),
        final_loss: loss,
        best_metric: loss,
        stop,
        rollbacks: 0,
        certificate: cert,
    }
}

/// What [`opening`] hands [`cg`] and [`newton`]: `(tol, loss, ‖∇F(θ)‖, certificate)` at the
/// start.
type Opened = (f32, f32, f64, f32);

/// The opening of [`cg`] and [`newton`]: the smooth part's gradient `∇F(θ)` into `g` (one
/// fused pass and the L2 term), then what they go on with, or the summary of a run that is
/// over (a zero gradient: converged); an error is the kernel's.
fn opening(
    (obj, kern): (Objective, ObjectiveKernels),
    theta: &Part<'_>,
    g: &mut Part<'_>,
    data: &Dataset<'_>,
    config: &SolveConfig,
) -> Result<ControlFlow<Summary, Opened>, Error> {
    let tol = config
        .tol
        .unwrap_or(certificate::default_tol(Measure::Gradient));
    let loss = (kern.fused)(obj, data.x(), data.y(), ro(theta), g.0, g.1)?;
    add_l2(&config.regularization, g, theta);
    let start = norm(g);
    if start == 0.0 {
        return Ok(ControlFlow::Break(summary(0, loss, Stop::Converged, 0.0)));
    }
    let cert = certificate::relative(start, start);
    Ok(ControlFlow::Continue((tol, loss, start, cert)))
}

/// Why [`curvature_product`] gave no product.
enum NoProduct {
    /// `s = size/‖p‖` is zero or not finite.
    Scale,
    /// The probe point is not finite or its pass failed.
    Refused,
}

/// `h ← H·p = (∇F(θ + s·p) − ∇F(θ))/s`, `s = size/‖p‖`, from one fused pass at the probe
/// `t = θ + s·p` and the L2 term (`g` holds `∇F(θ)`); returns `(‖p‖, pᵀHp)`.
fn curvature_product(
    (obj, kern): (Objective, ObjectiveKernels),
    data: &Dataset<'_>,
    reg: &Regularization,
    size: f64,
    (theta, g, p): (&Part<'_>, &Part<'_>, &Part<'_>),
    (t, h): (&mut Part<'_>, &mut Part<'_>),
) -> Result<(f64, f64), NoProduct> {
    let pn = norm(p);
    let scale = size / pn;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(NoProduct::Scale);
    }
    for ((e, a), s) in elems(t).zip(vals(theta)).zip(vals(p)) {
        *e = (f64::from(a) + scale * f64::from(s)) as f32;
    }
    if !(vals(t).all(f32::is_finite)
        && (kern.fused)(obj, data.x(), data.y(), ro(t), h.0, h.1).is_ok())
    {
        return Err(NoProduct::Refused);
    }
    add_l2(reg, h, t);
    for (e, b0) in elems(h).zip(vals(g)) {
        *e = ((f64::from(*e) - f64::from(b0)) / scale) as f32;
    }
    Ok((pn, dot(p, h)))
}

/// Conjugate gradients (see the [module docs](self)) from the [`opening`] (`g` holds `∇F(θ)`).
/// Scratch: four vectors of the parameters' shape.
fn cg(
    (obj, kern): (Objective, ObjectiveKernels),
    mut theta: Part<'_>,
    (tol, mut loss, start, mut cert): Opened,
    [mut g, mut p, mut t, mut h]: [Part<'_>; 4],
    (data, validation): (&Dataset<'_>, Option<&Dataset<'_>>),
    config: &SolveConfig,
    observer: &mut dyn Observer,
) -> Result<Summary, Error> {
    let reg = config.regularization;
    let (x, y) = (data.x(), data.y());
    let params = theta.0.len() + theta.1.len();
    for (d, s) in elems(&mut p).zip(vals(&g)) {
        *d = -s;
    }
    let mut since_restart = 0usize;
    let mut progress = Progress::new(params, tol);
    for it in 1..=config.max_iter {
        // h ← H·p, the curvature along p, from a probe of the weights' size.
        let (pn, php) = match curvature_product(
            (obj, kern),
            data,
            &reg,
            norm(&theta).max(1.0),
            (&theta, &g, &p),
            (&mut t, &mut h),
        ) {
            Ok(c) => c,
            Err(NoProduct::Scale) => return Ok(summary(it - 1, loss, settled(cert, tol), cert)),
            Err(NoProduct::Refused) => return Ok(summary(it - 1, loss, Stop::MaxEpochs, cert)),
        };
        let gp = dot(&g, &p);
        if !(php > 0.0 && gp < 0.0) {
            // No curvature left to use along p (rounding): the gradient is at its floor.
            if since_restart == 0 {
                return Ok(summary(it - 1, loss, settled(cert, tol), cert));
            }
            for (d, s) in elems(&mut p).zip(vals(&g)) {
                *d = -s;
            }
            since_restart = 0;
            continue;
        }
        progress.curvature(php / (pn * pn));
        let alpha = -gp / php;
        // The step into t, taken only if t is finite and its pass (into h: H·p is no longer
        // needed) succeeds: the model never holds a point the kernels refused.
        for ((d, a), s) in elems(&mut t).zip(vals(&theta)).zip(vals(&p)) {
            *d = (f64::from(a) + alpha * f64::from(s)) as f32;
        }
        let stepped = if vals(&t).all(f32::is_finite) {
            (kern.fused)(obj, x, y, ro(&t), h.0, h.1).ok()
        } else {
            None
        };
        let Some(l) = stepped else {
            return Ok(summary(it - 1, loss, Stop::MaxEpochs, cert));
        };
        loss = l;
        copy(&mut theta, &t);
        add_l2(&reg, &mut h, &theta);
        cert = certificate::relative(norm(&h), start);
        let metric = metric((obj, kern), validation, &theta, loss);
        if report(observer, (it, loss, metric, alpha as f32), theta.0, cert) {
            return Ok(summary(it, loss, Stop::Observer, cert));
        }
        if cert == 0.0 || progress.stalled(cert) {
            return Ok(summary(it, loss, settled(cert, tol), cert));
        }
        since_restart += 1;
        let gg = dot(&g, &g);
        let beta = if since_restart >= params {
            since_restart = 0;
            0.0
        } else {
            let hg: f64 = vals(&h)
                .zip(vals(&g))
                .map(|(a, b0)| f64::from(a) * (f64::from(a) - f64::from(b0)))
                .sum();
            (hg / gg).max(0.0)
        };
        for (d, s) in elems(&mut p).zip(vals(&h)) {
            *d = (-f64::from(s) + beta * f64::from(*d)) as f32;
        }
        if dot(&h, &p) >= 0.0 {
            for (d, s) in elems(&mut p).zip(vals(&h)) {
                *d = -s;
            }
            since_restart = 0;
        }
        copy(&mut g, &h);
    }
    Ok(summary(
        config.max_iter,
        loss,
        max_iter_stop(cert, tol),
        cert,
    ))
}

/// The stop after the last iteration: converged if the certificate is within `tol`.
fn max_iter_stop(cert: f32, tol: f32) -> Stop {
    if cert <= tol {
        Stop::Converged
    } else {
        Stop::MaxEpochs
    }
}

/// `dst = prox(src − h·grad)` for L1 and the box (L2 is in the gradient).
fn prox_step(reg: &Regularization, h: f64, dst: &mut Part<'_>, src: &Part<'_>, grad: &Part<'_>) {
    let nw = src.0.len();
    for (j, ((d, s), g)) in elems(dst).zip(vals(src)).zip(vals(grad)).enumerate() {
        let u = f64::from(s) - h * f64::from(g);
        *d = certificate::prox_coord(reg, h, u, j < nw || reg.bias) as f32;
    }
}

fn fista(
    (obj, kern): (Objective, ObjectiveKernels),
    mut theta: Part<'_>,
    [mut yk, mut g, mut t, mut gt]: [Part<'_>; 4],
    (data, validation): (&Dataset<'_>, Option<&Dataset<'_>>),
    config: &SolveConfig,
    observer: &mut dyn Observer,
) -> Result<Summary, Error> {
    let reg = config.regularization;
    let (x, y) = (data.x(), data.y());
    let measure = certificate::measure(obj, &reg);
    let gap = measure == Measure::DualityGap;
    let tol = config.tol.unwrap_or(certificate::default_tol(measure));
    let target_var = config
        .target_var
        .unwrap_or_else(|| crate::scale::moments_of(y).1);
    // L from the curvature at the start (power iteration with the model's own kernels).
    let mut lip = curvature(
        (obj, kern),
        data,
        &theta,
        [&mut yk, &mut g, &mut t, &mut gt],
    )? + f64::from(reg.l2);
    if !(lip.is_finite() && lip > 0.0) {
        lip = 1.0;
    }
    // y = θ, and the gradient there (an error at θ is the data's: θ was checked finite).
    copy(&mut yk, &theta);
    let mut loss = (kern.fused)(obj, x, y, ro(&yk), g.0, g.1)?;
    add_l2(&reg, &mut g, &yk);
    // The smooth part's gradient norm at the start: the scale of the curvature test's
    // rounding slack.
    let slack = 1e-6 * norm(&g);
    let mut tk = 1.0f64;
    let mut start = f64::NAN;
    let mut cert = f32::NAN;
    let mut progress = Progress::new(theta.0.len() + theta.1.len(), tol);
    for it in 1..=config.max_iter {
        // The prox-gradient step from y, with L doubled until the gradient's change between y
        // and T is within L·‖T − y‖ (the curvature bound the step assumes). Gradients, not
        // loss values: near the optimum a loss difference is lost in f32 rounding long before
        // a gradient is.
        let mut f_t = None;
        while lip.is_finite() && lip <= 1e30 {
            prox_step(&reg, 1.0 / lip, &mut t, &yk, &g);
            if vals(&t).all(f32::is_finite)
                && let Ok(ft) = (kern.fused)(obj, x, y, ro(&t), gt.0, gt.1)
            {
                let nw = t.0.len();
                let (mut dg, mut dt) = (0.0f64, 0.0f64);
                for (j, ((a, b0), (ga, gb0))) in vals(&t)
                    .zip(vals(&yk))
                    .zip(vals(&gt).zip(vals(&g)))
                    .enumerate()
                {
                    let l2 = if j < nw || reg.bias {
                        f64::from(reg.l2)
                    } else {
                        0.0
                    };
                    let d = f64::from(ga) + l2 * f64::from(a) - f64::from(gb0);
                    dg += d * d;
                    let e = f64::from(a) - f64::from(b0);
                    dt += e * e;
                }
                if libm::sqrt(dg) <= lip * libm::sqrt(dt) + slack {
                    f_t = Some(ft);
                    break;
                }
            }
            lip *= 2.0;
        }
        let Some(ft) = f_t else {
            // No step the bound accepts: nothing moves any more.
            return Ok(summary(it - 1, loss, settled(cert, tol), cert));
        };
        loss = ft;
        // The certificate at T, the new iterate, from its own gradient.
        let raw = if gap {
            certificate::duality_gap(&reg, ro(&t), ro(&gt), ft, data.len(), target_var, None)
        } else {
            certificate::stationarity(&reg, (1.0 / lip) as f32, ro(&t), ro(&gt)).0
        };
        cert = if gap {
            raw as f32
        } else {
            if start.is_nan() {
                start = raw;
            }
            certificate::relative(raw, start)
        };
        // Gradient restart (O'Donoghue & Candès): drop the momentum when the step from y
        // points against the last move, (y − T)·(T − θ) > 0.
        let against: f64 = vals(&yk)
            .zip(vals(&t))
            .zip(vals(&theta))
            .map(|((a, b0), c)| (f64::from(a) - f64::from(b0)) * (f64::from(b0) - f64::from(c)))
            .sum();
        let tn = if against > 0.0 {
            1.0
        } else {
            (1.0 + libm::sqrt(1.0 + 4.0 * tk * tk)) / 2.0
        };
        let beta = (tk - 1.0) / tn;
        let beta = if against > 0.0 { 0.0 } else { beta };
        // y ← T + β·(T − θ), then θ ← T.
        for ((d, a), c) in elems(&mut yk).zip(vals(&t)).zip(vals(&theta)) {
            *d = (f64::from(a) + beta * (f64::from(a) - f64::from(c))) as f32;
        }
        copy(&mut theta, &t);
        tk = tn;
        let metric = metric((obj, kern), validation, &theta, loss);
        if report(
            observer,
            (it, loss, metric, (1.0 / lip) as f32),
            theta.0,
            cert,
        ) {
            return Ok(summary(it, loss, Stop::Observer, cert));
        }
        if cert == 0.0 || progress.stalled(cert) {
            return Ok(summary(it, loss, settled(cert, tol), cert));
        }
        // The gradient at the new y: T's own when there is no momentum (y = T).
        if beta == 0.0 {
            copy(&mut g, &gt);
        } else if !(vals(&yk).all(f32::is_finite)
            && (kern.fused)(obj, x, y, ro(&yk), g.0, g.1).is_ok())
        {
            // An extrapolated point the kernels refuse: restart from y = θ = T.
            copy(&mut yk, &theta);
            copy(&mut g, &gt);
            tk = 1.0;
        }
        add_l2(&reg, &mut g, &yk);
    }
    Ok(summary(
        config.max_iter,
        loss,
        max_iter_stop(cert, tol),
        cert,
    ))
}

/// `(λ2/2)·‖θ‖²` on the penalised coordinates: the smooth penalty's value.
fn l2_value(reg: &Regularization, theta: &Part<'_>) -> f64 {
    if reg.l2 > 0.0 {
        let nw = theta.0.len();
        let sq: f64 = vals(theta)
            .enumerate()
            .filter(|&(j, _)| j < nw || reg.bias)
            .map(|(_, t)| f64::from(t) * f64::from(t))
            .sum();
        0.5 * f64::from(reg.l2) * sq
    } else {
        0.0
    }
}

/// Halvings of the step at most in one line search of [`newton`].
const LINE_HALVINGS: u32 = 30;

/// The relative size of [`newton`]'s curvature probes: `H·p` from a step of this times the
/// weights' size (at least 1) along `p`.
const NEWTON_PROBE: f64 = 1e-3;

/// Truncated Newton (Newton–CG, Nocedal & Wright 2006, algorithm 7.1) for a smooth loss
/// without L1 or a box. Each iteration solves `H·d = −∇F(θ)` by conjugate gradients to the
/// forcing tolerance `‖r‖ ≤ min(0.5, √(‖∇F‖/‖∇F₀‖))·‖∇F‖` (superlinear convergence), each
/// product `H·p = (∇F(θ + s·p) − ∇F(θ))/s` one fused pass, then takes the largest of `1, ½, ¼, …`
/// times `d` that satisfies Armijo's condition on `F` — or, where a difference of two `f32`
/// losses is lost in rounding, that does not raise `F` beyond that rounding and lowers the
/// gradient's norm. It starts from the [`opening`] (`g` holds `∇F(θ)`). Scratch: six vectors
/// of the parameters' shape.
fn newton(
    (obj, kern): (Objective, ObjectiveKernels),
    mut theta: Part<'_>,
    (tol, mut loss, start, mut cert): Opened,
    [mut g, mut d, mut r, mut p, mut t, mut h]: [Part<'_>; 6],
    (data, validation): (&Dataset<'_>, Option<&Dataset<'_>>),
    config: &SolveConfig,
    observer: &mut dyn Observer,
) -> Result<Summary, Error> {
    let reg = config.regularization;
    let (x, y) = (data.x(), data.y());
    let params = theta.0.len() + theta.1.len();
    let mut value = f64::from(loss) + l2_value(&reg, &theta);
    let mut gn = start;
    let mut progress = Progress::newton(params, tol);
    for it in 1..=config.max_iter {
        // d ≈ −H⁻¹·g by conjugate gradients from d = 0 (r = −g − H·d, p the direction).
        let forcing = libm::sqrt(gn / start).min(0.5) * gn;
        for e in elems(&mut d) {
            *e = 0.0;
        }
        for ((a, b0), s) in elems(&mut r).zip(elems(&mut p)).zip(vals(&g)) {
            *a = -s;
            *b0 = -s;
        }
        let mut rr = gn * gn;
        let mut inner = 0usize;
        let probe = NEWTON_PROBE * norm(&theta).max(1.0);
        while inner < params.max(1) {
            // h ← H·p.
            let Ok((_, php)) = curvature_product(
                (obj, kern),
                data,
                &reg,
                probe,
                (&theta, &g, &p),
                (&mut t, &mut h),
            ) else {
                break;
            };
            if !(php > 0.0 && php.is_finite()) {
                // No positive curvature along p (rounding, or a flat direction): stop with
                // what d holds (the steepest descent below if nothing).
                break;
            }
            let alpha = rr / php;
            for ((e, a), (q, hp)) in elems(&mut d).zip(elems(&mut r)).zip(vals(&p).zip(vals(&h))) {
                *e = (f64::from(*e) + alpha * f64::from(q)) as f32;
                *a = (f64::from(*a) - alpha * f64::from(hp)) as f32;
            }
            inner += 1;
            let rr_new = dot(&r, &r);
            if libm::sqrt(rr_new) <= forcing {
                break;
            }
            let beta = rr_new / rr;
            rr = rr_new;
            for (e, a) in elems(&mut p).zip(vals(&r)) {
                *e = (f64::from(a) + beta * f64::from(*e)) as f32;
            }
        }
        let mut gd = dot(&g, &d);
        if inner == 0 || gd.is_nan() || gd >= 0.0 {
            // No Newton direction: the steepest descent, its length found by the line search.
            for (e, s) in elems(&mut d).zip(vals(&g)) {
                *e = -s;
            }
            gd = -gn * gn;
        }
        // The line search along d from α = 1.
        let mut alpha = 1.0f64;
        let mut accepted = None;
        for _ in 0..=LINE_HALVINGS {
            for ((e, a), s) in elems(&mut t).zip(vals(&theta)).zip(vals(&d)) {
                *e = (f64::from(a) + alpha * f64::from(s)) as f32;
            }
            if vals(&t).all(f32::is_finite)
                && let Ok(l) = (kern.fused)(obj, x, y, ro(&t), h.0, h.1)
            {
                add_l2(&reg, &mut h, &t);
                let v = f64::from(l) + l2_value(&reg, &t);
                let hn = norm(&h);
                let armijo = v <= value + 1e-4 * alpha * gd;
                let slack = 8.0 * f64::from(f32::EPSILON) * value.abs().max(f64::MIN_POSITIVE);
                if armijo || (v <= value + slack && hn < gn) {
                    accepted = Some((l, v, hn));
                    break;
                }
            }
            alpha *= 0.5;
        }
        let Some((l, v, hn)) = accepted else {
            // No step lowers the objective or the gradient: the rounding floor.
            return Ok(summary(it - 1, loss, settled(cert, tol), cert));
        };
        copy(&mut theta, &t);
        copy(&mut g, &h);
        (loss, value, gn) = (l, v, hn);
        cert = certificate::relative(gn, start);
        let metric = metric((obj, kern), validation, &theta, loss);
        if report(observer, (it, loss, metric, alpha as f32), theta.0, cert) {
            return Ok(summary(it, loss, Stop::Observer, cert));
        }
        if cert == 0.0 || progress.stalled(cert) {
            return Ok(summary(it, loss, settled(cert, tol), cert));
        }
    }
    Ok(summary(
        config.max_iter,
        loss,
        max_iter_stop(cert, tol),
        cert,
    ))
}

/// Power iterations at most in [`curvature`]; it stops earlier once the estimate moves by
/// less than 1e-4 (relative).
const POWER_ITERATIONS: u32 = 50;

/// `λ_max` of the mean loss's Hessian at `θ` by power iteration, each product
/// `H·v = (∇f(θ + s·v) − ∇f(θ))/s` two fused passes of the model's own kernels (so that a
/// firmware image links no other kernel shape; exact for the squared error, the local
/// curvature otherwise, which FISTA's backtracking corrects upwards where it must). `s` is
/// 1 % of the weights' size. Scratch: four vectors of the parameters' shape.
fn curvature(
    (obj, kern): (Objective, ObjectiveKernels),
    data: &Dataset<'_>,
    theta: &Part<'_>,
    [v, probe, gp, g0]: [&mut Part<'_>; 4],
) -> Result<f64, Error> {
    let (x, y) = (data.x(), data.y());
    (kern.fused)(obj, x, y, ro(theta), g0.0, g0.1)?;
    let count = (v.0.len() + v.1.len()).max(1);
    let start = (1.0 / libm::sqrt(count as f64)) as f32;
    for e in elems(v) {
        *e = start;
    }
    // A probe small enough to read the curvature at θ on a curved loss (a logistic loss
    // read over a step of 1 saturates: 0.4× its λ_max on breast-cancer data), large enough
    // for the difference of two f32 gradients.
    let s = 1e-2 * norm(theta).max(1.0);
    let mut estimate = 0.0f64;
    for _ in 0..POWER_ITERATIONS {
        for ((d, a), b) in elems(probe).zip(vals(theta)).zip(vals(v)) {
            *d = (f64::from(a) + s * f64::from(b)) as f32;
        }
        if (kern.fused)(obj, x, y, ro(probe), gp.0, gp.1).is_err() {
            break;
        }
        // v ← H·v, then its norm (‖v‖ = 1 before: the estimate of λ_max).
        for ((d, a), b) in elems(v).zip(vals(gp)).zip(vals(g0)) {
            *d = ((f64::from(a) - f64::from(b)) / s) as f32;
        }
        let n = norm(v);
        if !(n.is_finite() && n > 0.0) {
            break;
        }
        for d in elems(v) {
            *d = (f64::from(*d) / n) as f32;
        }
        let done = (n - estimate).abs() <= 1e-4 * n;
        estimate = n;
        if done {
            break;
        }
    }
    Ok(estimate)
}
