//! Losses as data: the value and the derivative of each per-sample loss, in numerically stable
//! forms, one file per loss. Each file holds the loss's scalar reference (evaluated in `f64`
//! with `libm`, rounded once to `f32`), its eight-lane formula (a
//! [`Link`](crate::kernel::simd::Link)) that the fused kernels run, its checks, its curvature
//! bound and its name and code in the CLI and the model bytes. [`Loss`] is the registry:
//! [`Loss::ALL`] lists one example of each, and the tests, fuzz targets, benches, the byte
//! format and the CLI iterate it.
//!
//! For a prediction (or logit) `z` and a target `y`, with `r = z − y`:
//!
//! | loss | `ℓ(z, y)` | `∂ℓ/∂z` | `sup ∂²ℓ/∂z²` |
//! |---|---|---|---|
//! | [`Loss::Squared`] | `r²` (the kernels' MSE) | `2r` | 2 |
//! | [`Loss::Huber`] | `r²/2` if `|r| ≤ δ`, else `δ(|r| − δ/2)` | `clamp(r, −δ, δ)` | 1 |
//! | [`Loss::Absolute`] | `|r|` | `sign(r)` (0 at 0: a subgradient) | 0 (not smooth) |
//! | [`Loss::Logistic`] | `max(z, 0) − z·y + log1p(e^{−|z|})` | `σ(z) − y` | 1/4 |
//! | [`Loss::Quantile`] | `(1 − τ)·r` if `r > 0`, else `−τ·r` | `1 − τ`, `−τ` (0 at 0) | 0 (not smooth) |
//! | [`Loss::Poisson`] | `e^z − y·z` (`z = ln μ`) | `e^z − y` | unbounded; 4 assumed |
//!
//! The logistic loss is binary cross-entropy on a logit, for `y ∈ [0, 1]`; the form above never
//! overflows (`|z|` up to `f32::MAX` gives a finite loss and gradient). [`softmax_xent`] is the
//! K-class cross-entropy on logits, with the maximum subtracted before the exponentials.
//!
//! A loss reaches the kernels through [`PointLoss`]: [`Loss::fused`] runs the squared error's
//! own kernels and every other loss through [`kernel::pointwise_fused`](crate::kernel::pointwise_fused).
//!
//! # Adding a loss
//! One file here (a struct implementing `Spec`: name, byte code, parameter, checks, `f64`
//! value and derivative, curvature, lanes), one variant of [`Loss`], one line in the
//! `each!` registry below and one in [`Loss::ALL`]. The kernels, the training loops, the model
//! bytes and the CLI then take it as they are.
//!
//! ```
//! use npoa::loss::Loss;
//! assert_eq!(Loss::Squared.value(3.0, 1.0), 4.0);
//! assert_eq!(Loss::Huber { delta: 1.0 }.derivative(3.0, 1.0), 1.0);
//! let l = Loss::Logistic;
//! assert!((l.value(0.0, 1.0) - core::f32::consts::LN_2).abs() < 1e-7);
//! assert!(l.value(1e30, 0.0).is_finite() && l.derivative(-1e30, 1.0) == -1.0);
//! ```

use crate::Error;
use crate::check::check_finite;
use crate::kernel::{Kernels, LossGrad, PointLoss};

mod absolute;
mod huber;
mod logistic;
mod poisson;
mod quantile;
mod squared;

pub use crate::kernel::scalar::softmax_xent;

/// What each loss file gives (crate-internal: [`Loss`] is the public face).
pub(crate) trait Spec: Copy {
    /// The loss's name in the CLI and in messages.
    const NAME: &'static str;
    /// Its code in the model bytes (one byte; 4 is the softmax classifier's).
    const CODE: u8;
    /// The name of its one parameter, if it has one (stored in the model bytes' parameter slot).
    const PARAM: Option<&'static str> = None;
    /// The parameter's value (`0` without one).
    fn param(self) -> f32 {
        0.0
    }
    /// Checks the parameter.
    fn validate(self) -> Result<(), Error> {
        Ok(())
    }
    /// Checks the targets (after [`Spec::validate`]): finite by default.
    fn check_targets(self, y: &[f32]) -> Result<(), Error> {
        check_finite("y", y)
    }
    /// `ℓ(z, y)` in `f64`.
    fn value64(self, z: f64, y: f64) -> f64;
    /// `∂ℓ/∂z` in `f64` (a subgradient at a kink).
    fn derivative64(self, z: f64, y: f64) -> f64;
    /// `sup ∂²ℓ/∂z²`.
    fn curvature(self) -> f32;
    /// The SIMD path on one block ([`PointLoss::block`]).
    fn block(self, z: &mut [f32], y: &[f32]) -> (f32, f32);
}

/// The registry: `$body` with `$l` bound to the [`Spec`] of `$loss`. One line per loss.
macro_rules! each {
    ($loss:expr, $l:ident => $body:expr) => {
        match $loss {
            Loss::Squared => {
                let $l = squared::Squared;
                $body
            }
            Loss::Huber { delta } => {
                let $l = huber::Huber { delta };
                $body
            }
            Loss::Absolute => {
                let $l = absolute::Absolute;
                $body
            }
            Loss::Logistic => {
                let $l = logistic::Logistic;
                $body
            }
            Loss::Quantile { tau } => {
                let $l = quantile::Quantile { tau };
                $body
            }
            Loss::Poisson => {
                let $l = poisson::Poisson;
                $body
            }
        }
    };
}

/// A per-sample loss on a scalar prediction.
///
/// A [`LinearModel`](crate::LinearModel) carries one ([`with_loss`](crate::LinearModel::with_loss));
/// the training loop, the kernels and the model bytes follow it.
///
/// ```
/// use npoa::loss::Loss;
///
/// // Values and derivatives at prediction z for target y.
/// assert_eq!(Loss::Squared.value(3.0, 1.0), 4.0);
/// assert_eq!(Loss::Squared.derivative(3.0, 1.0), 4.0);
/// let huber = Loss::Huber { delta: 1.0 };
/// assert_eq!(huber.value(0.5, 0.0), 0.125); // quadratic inside δ: r²/2
/// assert_eq!(huber.value(3.0, 0.0), 2.5); // linear outside: δ·(|r| − δ/2)
/// assert_eq!(huber.derivative(3.0, 0.0), 1.0);
/// let pinball = Loss::Quantile { tau: 0.9 };
/// assert!((pinball.value(0.0, 1.0) - 0.9).abs() < 1e-6); // under-prediction costs τ per unit
///
/// // The names the command line uses, and targets outside a loss's domain.
/// assert_eq!(Loss::from_name("huber", 1.0), Some(huber));
/// assert!(Loss::ALL.iter().all(|l| Loss::from_name(l.name(), l.param()) == Some(*l)));
/// assert!(Loss::Logistic.check_targets(&[0.0, 1.0, 0.5]).is_ok());
/// assert!(Loss::Logistic.check_targets(&[2.0]).is_err());
/// assert!(Loss::Huber { delta: -1.0 }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Squared error `(z − y)²`.
    Squared,
    /// Huber loss with threshold `δ` (PyTorch `HuberLoss`, scikit-learn's `epsilon`).
    Huber {
        /// Threshold between the quadratic and the linear part (finite, > 0).
        delta: f32,
    },
    /// Absolute error `|z − y|`.
    Absolute,
    /// Binary cross-entropy on a logit `z`, for a target `y ∈ [0, 1]`.
    Logistic,
    /// Quantile (pinball) loss at level `τ`: with `u = y − z`, `τ·u` if `u ≥ 0`, else
    /// `(τ − 1)·u`; its minimiser is the conditional `τ`-quantile of `y` (scikit-learn's
    /// `QuantileRegressor`).
    Quantile {
        /// The quantile level, in the open interval `(0, 1)`.
        tau: f32,
    },
    /// Poisson loss with the log link, `e^z − y·z` for counts `y ≥ 0`: the model's output is
    /// `z = ln μ` (the negative log-likelihood without `ln Γ(y + 1)`; scikit-learn's
    /// `PoissonRegressor` half deviance without `y·ln y − y`).
    Poisson,
}

/// Logistic sigmoid `1/(1 + e^{−z})` in `f64`, rounded once to `f32`.
pub fn sigmoid(z: f32) -> f32 {
    logistic::sigmoid64(f64::from(z)) as f32
}

impl Loss {
    /// One of each loss, with typical parameters: the list that tests, fuzz targets, benches,
    /// the byte format and the CLI iterate.
    pub const ALL: [Loss; 6] = [
        Loss::Squared,
        Loss::Huber { delta: 1.0 },
        Loss::Absolute,
        Loss::Logistic,
        Loss::Quantile { tau: 0.9 },
        Loss::Poisson,
    ];

    /// The loss's name (`"squared"`, `"huber"`, …), as the CLI spells it.
    pub fn name(&self) -> &'static str {
        const fn name<S: Spec>(_: &S) -> &'static str {
            S::NAME
        }
        each!(*self, l => name(&l))
    }

    /// The name of the loss's parameter (`Some("delta")` for Huber), if it has one.
    pub fn param_name(&self) -> Option<&'static str> {
        const fn param<S: Spec>(_: &S) -> Option<&'static str> {
            S::PARAM
        }
        each!(*self, l => param(&l))
    }

    /// The loss's parameter (`δ` for Huber), `0` if it has none.
    pub fn param(&self) -> f32 {
        each!(*self, l => l.param())
    }

    /// The same loss with its parameter set to `p` (unchanged for a loss without one).
    pub fn with_param(self, p: f32) -> Self {
        match self {
            Loss::Huber { .. } => Loss::Huber { delta: p },
            Loss::Quantile { .. } => Loss::Quantile { tau: p },
            other => other,
        }
    }

    /// The loss's code in the model bytes.
    pub fn code(&self) -> u8 {
        const fn code<S: Spec>(_: &S) -> u8 {
            S::CODE
        }
        each!(*self, l => code(&l))
    }

    /// The loss with byte code `code` and parameter `p` (not validated), if there is one.
    pub fn from_code(code: u8, p: f32) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|l| l.code() == code)
            .map(|l| l.with_param(p))
    }

    /// The loss named `name` (as [`Loss::name`]) with parameter `p` (not validated).
    pub fn from_name(name: &str, p: f32) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|l| l.name() == name)
            .map(|l| l.with_param(p))
    }

    /// Checks the loss's parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a parameter out of range (a Huber `delta` that is not
    /// finite and > 0, a quantile `tau` not in `(0, 1)`).
    pub fn validate(&self) -> Result<(), Error> {
        each!(*self, l => l.validate())
    }

    /// Checks the parameters, then the targets: finite, and in the loss's domain (logistic
    /// targets in `[0, 1]`, Poisson targets `≥ 0`).
    ///
    /// # Errors
    /// As [`Loss::validate`]; [`Error::NonFinite`] or [`Error::InvalidData`] for a target.
    pub fn check_targets(&self, y: &[f32]) -> Result<(), Error> {
        self.validate()?;
        each!(*self, l => l.check_targets(y))
    }

    /// `ℓ(z, y)`.
    pub fn value(&self, z: f32, y: f32) -> f32 {
        self.value64(f64::from(z), f64::from(y)) as f32
    }

    /// `ℓ(z, y)` in `f64` (not rounded to `f32`).
    pub fn value64(&self, z: f64, y: f64) -> f64 {
        each!(*self, l => l.value64(z, y))
    }

    /// `∂ℓ/∂z` (a subgradient where `ℓ` has a kink).
    pub fn derivative(&self, z: f32, y: f32) -> f32 {
        self.derivative64(f64::from(z), f64::from(y)) as f32
    }

    /// `∂ℓ/∂z` in `f64`.
    pub fn derivative64(&self, z: f64, y: f64) -> f64 {
        each!(*self, l => l.derivative64(z, y))
    }

    /// `sup ∂²ℓ/∂z²`, the curvature bound that makes a rate stable (auto LR): 2, 1, 0, 1/4,
    /// 0 (quantile), and 4 for Poisson (whose `e^z` is unbounded: the bound holds for predicted
    /// means `e^z ≤ 4`, see its file).
    pub fn curvature_bound(&self) -> f32 {
        each!(*self, l => l.curvature())
    }

    /// The mean loss and its gradient on `(x, y)` for the weights `w` and bias `b`, in one
    /// pass, by the kernels of `path` ([`crate::kernel::SIMD`] or [`crate::kernel::SCALAR`]):
    /// the squared error's own kernels, or the point-wise kernels with this loss. Writes
    /// `∂L/∂w` into `grad_w`.
    ///
    /// # Errors
    /// As [`crate::kernel::fused`], plus [`Error::InvalidParameter`] for an invalid parameter
    /// and [`Error::InvalidData`] for a target outside the loss's domain.
    pub fn fused(
        &self,
        path: &Kernels,
        x: &[f32],
        y: &[f32],
        w: &[f32],
        b: f32,
        grad_w: &mut [f32],
    ) -> Result<LossGrad, Error> {
        match self {
            Loss::Squared => (path.fused)(x, y, w, b, grad_w),
            l => (path.pointwise_fused)(l, x, y, w, b, grad_w),
        }
    }

    /// The mean loss on `(x, y)` by the kernels of `path`; the same bits as the loss of
    /// [`Loss::fused`].
    ///
    /// # Errors
    /// As [`Loss::fused`].
    pub fn mean(
        &self,
        path: &Kernels,
        x: &[f32],
        y: &[f32],
        w: &[f32],
        b: f32,
    ) -> Result<f32, Error> {
        match self {
            Loss::Squared => (path.loss)(x, y, w, b),
            l => (path.pointwise_loss)(l, x, y, w, b),
        }
    }

    /// [`Loss::fused`] on the SIMD path compiled for `D` features only (`0`: any).
    pub(crate) fn fused_n<const D: usize>(
        &self,
        x: &[f32],
        y: &[f32],
        w: &[f32],
        b: f32,
        grad_w: &mut [f32],
    ) -> Result<LossGrad, Error> {
        use crate::kernel::simd;
        match self {
            Loss::Squared => simd::fused_n::<D>(x, y, w, b, grad_w),
            l => simd::pointwise_fused_n::<D>(l, x, y, w, b, grad_w),
        }
    }

    /// [`Loss::mean`] on the SIMD path compiled for `D` features only (`0`: any).
    pub(crate) fn mean_n<const D: usize>(
        &self,
        x: &[f32],
        y: &[f32],
        w: &[f32],
        b: f32,
    ) -> Result<f32, Error> {
        use crate::kernel::simd;
        match self {
            Loss::Squared => simd::loss_n::<D>(x, y, w, b),
            l => simd::pointwise_loss_n::<D>(l, x, y, w, b),
        }
    }
}

impl PointLoss for Loss {
    fn check(&self, y: &[f32]) -> Result<(), Error> {
        self.check_targets(y)
    }
    fn point(&self, z: f32, y: f32) -> (f32, f32) {
        (self.value(z, y), self.derivative(z, y))
    }
    // Not inlined: one copy per loss serves every kernel shape.
    #[inline(never)]
    fn block(&self, z: &mut [f32], y: &[f32]) -> (f32, f32) {
        each!(*self, l => l.block(z, y))
    }
}

/// What a model is trained to minimise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// A per-sample loss on the one output of a [`crate::LinearModel`].
    Single(Loss),
    /// Softmax cross-entropy over the `K` outputs of a [`crate::LinearClassifier`].
    Softmax,
}

impl Objective {
    /// The bound on the loss's second derivative with respect to the model's outputs that
    /// [`crate::control::autolr`] turns into a stable rate, `η < 2/(c·λ_max(E[x̃x̃ᵀ]))`:
    /// squared error 2, Huber 1, logistic ¼, softmax ½ (the largest eigenvalue of
    /// `diag(p) − ppᵀ`). The absolute and quantile losses have no curvature; they get Huber's
    /// 1, the rate of the Huber loss they approach (a subgradient method then needs a decaying
    /// schedule). Poisson gets 4, the curvature `e^z` at predicted means up to 4.
    pub fn curvature_bound(&self) -> f32 {
        match self {
            Objective::Single(Loss::Absolute | Loss::Quantile { .. }) => 1.0,
            Objective::Single(l) => l.curvature_bound(),
            Objective::Softmax => 0.5,
        }
    }

    /// The mean loss of a model with weights `w` (one row per output) and biases `b` (one per
    /// output) on `(x, y)`, by the kernels of path `k` ([`crate::kernel::SIMD`] or
    /// [`crate::kernel::SCALAR`]).
    pub(crate) fn loss_on(
        &self,
        k: &Kernels,
        x: &[f32],
        y: &[f32],
        w: &[f32],
        b: &[f32],
    ) -> Result<f32, Error> {
        match self {
            Objective::Single(l) => l.mean(k, x, y, w, b.first().copied().unwrap_or(f32::NAN)),
            Objective::Softmax => (k.softmax_loss)(x, y, w, b),
        }
    }

    /// Loss and gradient (`gw` like `w`, `gb` like `b`) by the fused kernels of path `k`.
    pub(crate) fn fused_on(
        &self,
        k: &Kernels,
        x: &[f32],
        y: &[f32],
        (w, b): (&[f32], &[f32]),
        gw: &mut [f32],
        gb: &mut [f32],
    ) -> Result<f32, Error> {
        match self {
            Objective::Single(l) => one_output(b, gb, |b0| l.fused(k, x, y, w, b0, gw)),
            Objective::Softmax => (k.softmax_fused)(x, y, w, b, gw, gb),
        }
    }

    /// [`Objective::fused_on`] on the SIMD path compiled for `D` features only (`0`: any).
    pub(crate) fn fused_n<const D: usize>(
        &self,
        x: &[f32],
        y: &[f32],
        (w, b): (&[f32], &[f32]),
        gw: &mut [f32],
        gb: &mut [f32],
    ) -> Result<f32, Error> {
        match self.single_fused_n::<D>(x, y, (w, b), gw, gb) {
            Some(out) => out,
            None => crate::kernel::simd::softmax_fused_n::<D>(x, y, w, b, gw, gb),
        }
    }

    /// [`Objective::fused_n`] of a one-output objective (`None` for softmax), which links no
    /// softmax code: the kernel of the fixed-size one-output models. (Through `fused_n`, the
    /// softmax pass and its 8 KiB logit buffer would be in the frame of every call where the
    /// compiler does not inline the dispatch.)
    pub(crate) fn single_fused_n<const D: usize>(
        &self,
        x: &[f32],
        y: &[f32],
        (w, b): (&[f32], &[f32]),
        gw: &mut [f32],
        gb: &mut [f32],
    ) -> Option<Result<f32, Error>> {
        match self {
            Objective::Single(l) => Some(one_output(b, gb, |b0| l.fused_n::<D>(x, y, w, b0, gw))),
            Objective::Softmax => None,
        }
    }

    /// [`Objective::loss_n`] of a one-output objective (`None` for softmax), as
    /// [`single_fused_n`](Self::single_fused_n).
    pub(crate) fn single_loss_n<const D: usize>(
        &self,
        x: &[f32],
        y: &[f32],
        (w, b): (&[f32], &[f32]),
    ) -> Option<Result<f32, Error>> {
        match self {
            Objective::Single(l) => {
                Some(l.mean_n::<D>(x, y, w, b.first().copied().unwrap_or(f32::NAN)))
            }
            Objective::Softmax => None,
        }
    }

    /// [`Objective::loss_on`] on the SIMD path compiled for `D` features only (`0`: any).
    pub(crate) fn loss_n<const D: usize>(
        &self,
        x: &[f32],
        y: &[f32],
        (w, b): (&[f32], &[f32]),
    ) -> Result<f32, Error> {
        self.single_loss_n::<D>(x, y, (w, b))
            .unwrap_or_else(|| crate::kernel::simd::softmax_loss_n::<D>(x, y, w, b))
    }
}

/// A one-output fused pass on the parameter slices: `fused` gets the bias (`NaN` for an empty
/// `b`, which the kernels refuse) and its `∂L/∂b` goes to `gb[0]`.
#[inline(always)]
fn one_output(
    b: &[f32],
    gb: &mut [f32],
    fused: impl FnOnce(f32) -> Result<LossGrad, Error>,
) -> Result<f32, Error> {
    let lg = fused(b.first().copied().unwrap_or(f32::NAN))?;
    if let Some(g) = gb.first_mut() {
        *g = lg.grad_b;
    }
    Ok(lg.loss)
}

#[cfg(test)]
mod tests {
    use super::{Loss, Objective};
    use crate::kernel::{SIMD, simd};

    /// The size-specialised entries give the run-time dispatched kernels' bits.
    #[test]
    fn fixed_size_kernels_match_runtime_dispatch() {
        fn check<const D: usize>() {
            let n = 37;
            let v = |i: usize| ((i * 2_654_435_761) % 1000) as f32 / 500.0 - 1.0;
            let x: std::vec::Vec<f32> = (0..n * D).map(v).collect();
            let y: std::vec::Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
            let w: std::vec::Vec<f32> = (0..2 * D).map(|i| v(i + 7)).collect();
            let w1 = &w[..D];
            for loss in Loss::ALL {
                let (mut g1, mut g2) = (std::vec![0.0f32; D], std::vec![0.0f32; D]);
                let a = loss.fused(&SIMD, &x, &y, w1, 0.25, &mut g1);
                let b = loss.fused_n::<D>(&x, &y, w1, 0.25, &mut g2);
                assert_eq!(a, b, "D={D} {loss:?}");
                assert_eq!(g1, g2);
                assert_eq!(
                    loss.mean(&SIMD, &x, &y, w1, 0.25),
                    loss.mean_n::<D>(&x, &y, w1, 0.25)
                );
            }
            let (mut p1, mut p2) = (std::vec![0.0f32; n], std::vec![0.0f32; n]);
            simd::forward(&x, w1, 0.5, &mut p1).unwrap();
            simd::forward_n::<D>(&x, w1, 0.5, &mut p2).unwrap();
            assert_eq!(p1, p2);
            let (mut a1, mut b1) = (std::vec![0.0f32; 2 * D], [0.0f32; 2]);
            let (mut a2, mut b2) = (std::vec![0.0f32; 2 * D], [0.0f32; 2]);
            let bias = [0.1f32, -0.1];
            let l1 = Objective::Softmax.fused_on(&SIMD, &x, &y, (&w, &bias), &mut a1, &mut b1);
            let l2 = Objective::Softmax.fused_n::<D>(&x, &y, (&w, &bias), &mut a2, &mut b2);
            assert_eq!(l1, l2);
            assert_eq!((a1, b1), (a2, b2));
        }
        check::<1>();
        check::<3>();
        check::<4>();
        check::<7>();
        check::<8>();
        check::<9>();
        check::<16>();
        check::<32>();
        check::<33>();
        check::<64>();
    }

    /// Every loss in the registry round-trips through its name and its byte code.
    #[test]
    fn registry_names_and_codes_round_trip() {
        for l in Loss::ALL {
            assert_eq!(Loss::from_name(l.name(), l.param()), Some(l));
            assert_eq!(Loss::from_code(l.code(), l.param()), Some(l));
            assert!(l.validate().is_ok(), "{l:?}");
        }
        let mut codes: std::vec::Vec<u8> = Loss::ALL.iter().map(Loss::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Loss::ALL.len());
    }
}
