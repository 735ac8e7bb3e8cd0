//! Update rules and proximal steps: SGD, heavy-ball momentum and Nesterov, Adam and AdamW,
//! averaged SGD, FTRL-Proximal; L1 / L2 / elastic-net proximal operators and box constraints.
//!
//! # The objective
//!
//! Training minimises the model's mean loss plus a penalty on the weights (the biases only if
//! [`Regularization::bias`] is set):
//!
//! ```text
//! F(w) = L(w) + λ1·‖w‖₁ + (λ2/2)·‖w‖₂²
//! ```
//!
//! in the space the model is trained in. So `λ2` is PyTorch's `weight_decay` for SGD (which adds
//! `λ2·w` to the gradient), and scikit-learn's `Lasso(alpha)`, whose loss is half a mean squared
//! error, is `λ1 = 2·alpha` here; its `Ridge(alpha)` (a sum, not a mean) is `λ2 = 2·alpha/n`.
//!
//! # Steps
//!
//! Every rule turns the gradient `g` of `L` into a candidate `u` at rate `η`; then the penalty's
//! proximal operator with step `h` gives the new weight:
//! `w ← clamp(soft(u, h·λ1) / (1 + h·λ2), lo, hi)`, with `soft(u, τ) = sign(u)·max(|u| − τ, 0)`
//! (which makes exact zeros) and the clamp only with [`Regularization::bounds`] (a projection:
//! non-negativity is `bounds = Some((0.0, f32::MAX))`).
//!
//! `h` is the step the rule takes along `g` once settled, so that the fixed points are the
//! minimisers of `F`: `h = η` for SGD and averaged SGD (proximal gradient descent, exact), and
//! `h = η·(1 − τ)/(1 − μ)` for momentum and Nesterov (whose buffer settles at that multiple of
//! `g`: with `h = η` they would solve the problem with `λ` scaled by `(1 − μ)/(1 − τ)`). For
//! Adam the step is per coordinate and has no such scalar: the prox uses `h = η`, a heuristic
//! whose fixed points are not exactly `F`'s (prefer AdamW's decoupled decay for L2). Two rules
//! differ, as published:
//! AdamW decays the weights by `(1 − η·λ2)` before its step (decoupled weight decay) instead of
//! the L2 prox, and FTRL-Proximal computes its weights in closed form with its own `λ1`, `λ2`
//! (McMahan's, on the cumulative loss over steps: [`Rule::Ftrl`]).
//!
//! | rule | state per parameter | candidate `u` (step `t`, from 1) |
//! |---|---|---|
//! | [`Rule::Sgd`] | — | `w − η·g` |
//! | [`Rule::Momentum`] | `v` | `v ← g` at `t = 1`, else `μ·v + (1 − τ)·g`; `u = w − η·(nesterov ? g + μ·v : v)` |
//! | [`Rule::Adam`] | `m`, `v` | `m ← β1·m + (1 − β1)·g`, `v ← β2·v + (1 − β2)·g·g`; `u = w − (s·m) / (√v / c + ε)` with `s = η/(1 − β1ᵗ)`, `c = √(1 − β2ᵗ)` |
//! | [`Rule::AdamW`] | `m`, `v` | Adam's, from `w·(1 − η·λ2)` |
//! | [`Rule::Averaged`] | `w̄` | `w − η·g`; from step `t0` on, `w̄ ← w̄ + (w − w̄)/(t − t0 + 1)` (`w̄ = w` at `t0`) |
//! | [`Rule::Ftrl`] | `z`, `n` | `σ = (√(n + g²) − √n)/η`, `z ← z + g − σ·w`, `n ← n + g²`; `w = |z| ≤ λ1 ? 0 : −(z − sign(z)·λ1) / ((β + √n)/η + λ2)` with FTRL's own `λ1`, `λ2` |
//!
//! These are PyTorch's `SGD` (momentum, dampening `τ`, nesterov), `Adam`, `AdamW` (the same
//! formulas, bias corrections folded as PyTorch does), scikit-learn's `SGDRegressor(average=t0)`
//! (the model returned is the average) and McMahan et al. (2013), Algorithm 1, with `α = η`
//! (so schedules and the controller's cuts scale FTRL's rate too).
//!
//! # State and memory
//!
//! The state lives in [`OptimState<M, BUFS>`]: `BUFS` buffers shaped like the model's gradient,
//! plus the step count. A rule needs [`Rule::buffers`] of them; its exact state is
//! [`Rule::state_bytes`]`(p) = ⌈4·buffers·p / 8⌉·8 + 8` bytes for `p` parameters (`p = D + 1` for a
//! `LinearModel<D>`, `K·(D + 1)` for a `LinearClassifier<D, K>`), which is
//! `size_of::<OptimState<M, BUFS>>()` when `BUFS = buffers` ([`OptimState::BYTES`]).
//!
//! # SIMD and bits
//!
//! The updates are element-wise, written once over a lane type and instantiated for `f32`
//! ([`scalar`]) and `wide::f32x8` ([`simd`]): the same separate IEEE operations per element
//! (square roots are correctly rounded on every target), so the two paths agree bit for bit and
//! the results do not depend on the target. A step is all-or-nothing: the new weights and state
//! are computed once to check that all are finite, and only then written.

use crate::Error;
use crate::train::Trainable;
use core::ops::{Add, Div, Mul, Neg, Sub};
use wide::f32x8;

/// An update rule and its hyper-parameters (see the [module docs](self) for the formulas).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// Plain gradient descent.
    Sgd,
    /// Heavy-ball momentum or Nesterov (PyTorch `SGD`).
    Momentum {
        /// `μ ∈ [0, 1)`.
        momentum: f32,
        /// `τ ∈ [0, 1]`.
        dampening: f32,
        /// Nesterov's variant (needs `μ > 0` and `τ = 0`, as in PyTorch).
        nesterov: bool,
    },
    /// Adam (Kingma & Ba), with bias correction.
    Adam {
        /// `β1 ∈ [0, 1)`.
        beta1: f32,
        /// `β2 ∈ [0, 1)`.
        beta2: f32,
        /// `ε > 0`.
        eps: f32,
    },
    /// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay `λ2`.
    AdamW {
        /// `β1 ∈ [0, 1)`.
        beta1: f32,
        /// `β2 ∈ [0, 1)`.
        beta2: f32,
        /// `ε > 0`.
        eps: f32,
    },
    /// SGD with Polyak–Ruppert averaging from step `start` (≥ 1); the trained model is the
    /// average.
    Averaged {
        /// First step included in the average.
        start: u64,
    },
    /// FTRL-Proximal per coordinate (McMahan et al. 2013) with `α = η`. Its `λ1`, `λ2` are
    /// McMahan's, on the cumulative objective `Σ_t ℓ_t(w) + λ1‖w‖₁ + (λ2/2)‖w‖₂²` (so they act
    /// like `λ/steps` on the mean loss); the [`Regularization`] penalty must then be zero (its
    /// bounds still apply).
    Ftrl {
        /// `β ≥ 0`.
        beta: f32,
        /// `λ1 ≥ 0`.
        l1: f32,
        /// `λ2 ≥ 0`.
        l2: f32,
    },
}

impl Rule {
    /// Heavy-ball momentum `μ`, no dampening.
    pub const fn momentum(momentum: f32) -> Self {
        Rule::Momentum {
            momentum,
            dampening: 0.0,
            nesterov: false,
        }
    }

    /// Nesterov momentum `μ`.
    pub const fn nesterov(momentum: f32) -> Self {
        Rule::Momentum {
            momentum,
            dampening: 0.0,
            nesterov: true,
        }
    }

    /// Adam with PyTorch's defaults `β1 = 0.9`, `β2 = 0.999`, `ε = 1e-8`.
    pub const ADAM: Rule = Rule::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };

    /// AdamW with PyTorch's defaults `β1 = 0.9`, `β2 = 0.999`, `ε = 1e-8`.
    pub const ADAMW: Rule = Rule::AdamW {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };

    /// State buffers (each shaped like the parameters) the rule needs: 0, 1 or 2.
    pub const fn buffers(&self) -> usize {
        match self {
            Rule::Sgd => 0,
            Rule::Momentum { .. } | Rule::Averaged { .. } => 1,
            Rule::Adam { .. } | Rule::AdamW { .. } | Rule::Ftrl { .. } => 2,
        }
    }

    /// Exact bytes of state for `params` parameters: the buffers, `4·buffers·params`, rounded
    /// up to a multiple of 8 (the alignment of the step count), plus the `u64` step count:
    /// the size of an [`OptimState`] with `BUFS = buffers`.
    pub const fn state_bytes(&self, params: usize) -> usize {
        (4 * self.buffers() * params).div_ceil(8) * 8 + 8
    }

    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |name, reason| Err(Error::InvalidParameter { name, reason });
        let unit = |v: f32| v.is_finite() && (0.0..1.0).contains(&v);
        if !cfg!(feature = "optimizers") && *self != Rule::Sgd {
            return bad(
                "optimizer",
                "needs the `optimizers` feature (only SGD is compiled in)",
            );
        }
        match *self {
            Rule::Sgd => Ok(()),
            Rule::Momentum {
                momentum,
                dampening,
                nesterov,
            } => {
                if !unit(momentum) {
                    bad("momentum", "must be in [0, 1)")
                } else if !(0.0..=1.0).contains(&dampening) {
                    bad("dampening", "must be in [0, 1]")
                } else if nesterov && (momentum == 0.0 || dampening != 0.0) {
                    bad("nesterov", "needs momentum > 0 and zero dampening")
                } else {
                    Ok(())
                }
            }
            Rule::Adam { beta1, beta2, eps } | Rule::AdamW { beta1, beta2, eps } => {
                if !unit(beta1) {
                    bad("beta1", "must be in [0, 1)")
                } else if !unit(beta2) {
                    bad("beta2", "must be in [0, 1)")
                } else if !(eps.is_finite() && eps > 0.0) {
                    bad("eps", "must be finite and > 0")
                } else {
                    Ok(())
                }
            }
            Rule::Averaged { start } => {
                if start == 0 {
                    bad("start", "must be >= 1")
                } else {
                    Ok(())
                }
            }
            Rule::Ftrl { beta, l1, l2 } => {
                let ok = |v: f32| v.is_finite() && v >= 0.0;
                if !ok(beta) {
                    bad("beta", "must be finite and >= 0")
                } else if !ok(l1) {
                    bad("l1", "must be finite and >= 0")
                } else if !ok(l2) {
                    bad("l2", "must be finite and >= 0")
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// The penalty `λ1·‖w‖₁ + (λ2/2)·‖w‖₂²` and box constraints (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regularization {
    /// `λ1 ≥ 0` (L1, lasso).
    pub l1: f32,
    /// `λ2 ≥ 0` (L2, ridge; AdamW's weight decay).
    pub l2: f32,
    /// Penalise (and bound) the biases too.
    pub bias: bool,
    /// Keep each weight in `[lo, hi]` (a projection after the step).
    pub bounds: Option<(f32, f32)>,
}

impl Default for Regularization {
    fn default() -> Self {
        Self::NONE
    }
}

impl Regularization {
    /// No penalty, no bounds.
    pub const NONE: Self = Self {
        l1: 0.0,
        l2: 0.0,
        bias: false,
        bounds: None,
    };

    /// L1 only.
    pub const fn l1(l1: f32) -> Self {
        Self { l1, ..Self::NONE }
    }

    /// L2 only.
    pub const fn l2(l2: f32) -> Self {
        Self { l2, ..Self::NONE }
    }

    /// Elastic net as scikit-learn's `ElasticNet(alpha, l1_ratio)` writes it, in this crate's
    /// objective: `λ1 = 2·alpha·l1_ratio`, `λ2 = 2·alpha·(1 − l1_ratio)` (scikit-learn's loss is
    /// half a mean squared error).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `alpha` not finite and ≥ 0 or `l1_ratio` outside `[0, 1]`.
    pub fn elastic_net(alpha: f32, l1_ratio: f32) -> Result<Self, Error> {
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "alpha",
                reason: "must be finite and >= 0",
            });
        }
        if !(0.0..=1.0).contains(&l1_ratio) {
            return Err(Error::InvalidParameter {
                name: "l1_ratio",
                reason: "must be in [0, 1]",
            });
        }
        let r = Self {
            l1: 2.0 * alpha * l1_ratio,
            l2: 2.0 * alpha * (1.0 - l1_ratio),
            ..Self::NONE
        };
        r.validate()?;
        Ok(r)
    }

    /// Checks the fields.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite `l1`/`l2`, or bounds that are
    /// NaN or with `lo > hi`.
    pub fn validate(&self) -> Result<(), Error> {
        let ok = |v: f32| v.is_finite() && v >= 0.0;
        if !ok(self.l1) {
            return Err(Error::InvalidParameter {
                name: "l1",
                reason: "must be finite and >= 0",
            });
        }
        if !ok(self.l2) {
            return Err(Error::InvalidParameter {
                name: "l2",
                reason: "must be finite and >= 0",
            });
        }
        if let Some((lo, hi)) = self.bounds
            && (lo.is_nan() || hi.is_nan() || lo > hi)
        {
            return Err(Error::InvalidParameter {
                name: "bounds",
                reason: "must be ordered (lo <= hi), not NaN",
            });
        }
        Ok(())
    }
}

/// Optimizer state for a model type `M`: `BUFS` buffers shaped like its gradient (on the
/// stack, no heap) and the step count. It belongs to the caller, so training can resume
/// where it stopped; [`crate::train::fit_controlled_with`] copies it with the best weights and
/// restores it on a rollback.
pub struct OptimState<M: Trainable, const BUFS: usize = 2> {
    bufs: [M::Grad; BUFS],
    t: u64,
}

impl<M: Trainable, const BUFS: usize> Clone for OptimState<M, BUFS> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M: Trainable, const BUFS: usize> Copy for OptimState<M, BUFS> {}

impl<M: Trainable, const BUFS: usize> core::fmt::Debug for OptimState<M, BUFS> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OptimState")
            .field("buffers", &BUFS)
            .field("steps", &self.t)
            .finish()
    }
}

impl<M: Trainable, const BUFS: usize> Default for OptimState<M, BUFS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Trainable, const BUFS: usize> OptimState<M, BUFS> {
    /// Bytes of this state: `BUFS · size_of::<M::Grad>() + 8`.
    pub const BYTES: usize = core::mem::size_of::<Self>();

    /// Zero buffers, step 0.
    pub fn new() -> Self {
        Self {
            bufs: [M::zero_grad(); BUFS],
            t: 0,
        }
    }

    /// Steps taken.
    pub const fn steps(&self) -> u64 {
        self.t
    }

    /// Buffer `i`'s weight and bias parts (momentum `v`, Adam `m` then `v`, FTRL `z` then `n`,
    /// the average `w̄`), or `None` past `BUFS`.
    pub fn buffer(&mut self, i: usize) -> Option<(&mut [f32], &mut [f32])> {
        self.bufs.get_mut(i).map(M::grad_parts)
    }

    /// The state as slices for the training loop.
    pub(crate) fn parts(&mut self) -> StateParts<'_> {
        let mut it = self.bufs.iter_mut().map(M::grad_parts);
        let e = || (&mut [][..], &mut [][..]);
        let a = it.next().unwrap_or_else(e);
        let b = it.next().unwrap_or_else(e);
        StateParts {
            a,
            b,
            t: &mut self.t,
        }
    }
}

/// Mutable views of a state: two buffers (weights part, biases part; empty when absent) and
/// the step count.
pub(crate) struct StateParts<'s> {
    pub(crate) a: (&'s mut [f32], &'s mut [f32]),
    pub(crate) b: (&'s mut [f32], &'s mut [f32]),
    pub(crate) t: &'s mut u64,
}

// ---------------------------------------------------------------------------------------------
// Element-wise math, once, over a lane type
// ---------------------------------------------------------------------------------------------

/// `f32` or `f32x8`: the operations the updates use, each one IEEE operation per lane.
trait Lane:
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
    /// `a > b ? x : y`.
    fn gt(a: Self, b: Self, x: Self, y: Self) -> Self;
    /// `a < b ? x : y`.
    fn lt(a: Self, b: Self, x: Self, y: Self) -> Self;
    /// `a <= b ? x : y`.
    fn le(a: Self, b: Self, x: Self, y: Self) -> Self;
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
    fn gt(a: Self, b: Self, x: Self, y: Self) -> Self {
        if a > b { x } else { y }
    }
    #[inline(always)]
    fn lt(a: Self, b: Self, x: Self, y: Self) -> Self {
        if a < b { x } else { y }
    }
    #[inline(always)]
    fn le(a: Self, b: Self, x: Self, y: Self) -> Self {
        if a <= b { x } else { y }
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
    fn gt(a: Self, b: Self, x: Self, y: Self) -> Self {
        a.simd_gt(b).select(x, y)
    }
    #[inline(always)]
    fn lt(a: Self, b: Self, x: Self, y: Self) -> Self {
        a.simd_lt(b).select(x, y)
    }
    #[inline(always)]
    fn le(a: Self, b: Self, x: Self, y: Self) -> Self {
        a.simd_le(b).select(x, y)
    }
}

/// Everything a step needs that is the same for every element, computed once per step.
#[derive(Debug, Clone, Copy)]
pub struct StepScalars {
    rule: Rule,
    lr: f32,
    /// Step number (from 1).
    t: u64,
    /// `η·λ1` (0: no soft threshold).
    thresh: f32,
    /// `1 + η·λ2` (1: no shrinkage).
    shrink: f32,
    /// `λ1`, `λ2` (FTRL).
    l1: f32,
    l2: f32,
    /// `1 − η·λ2` (AdamW).
    decay: f32,
    /// Adam: `η/(1 − β1ᵗ)` and `√(1 − β2ᵗ)`.
    step_size: f32,
    bc2_sqrt: f32,
    /// Averaged: `t − t0 + 1` (0 before `t0`).
    avg_k: f32,
    bounds: Option<(f32, f32)>,
}

impl StepScalars {
    /// The scalars of step `t` (from 1) at rate `lr` for one part of the parameters, with its
    /// penalty (`None`: unpenalised, unbounded).
    pub fn new(rule: Rule, reg: Option<&Regularization>, lr: f32, t: u64) -> Self {
        let (mut l1, mut l2, bounds) = match reg {
            Some(r) => (r.l1, r.l2, r.bounds),
            None => (0.0, 0.0, None),
        };
        if let Rule::Ftrl { l1: f1, l2: f2, .. } = rule {
            // FTRL's own penalty, on the weights (and the biases only if the penalty covers
            // them); no proximal step on top.
            (l1, l2) = if reg.is_some() { (f1, f2) } else { (0.0, 0.0) };
        }
        let ftrl = matches!(rule, Rule::Ftrl { .. });
        let (step_size, bc2_sqrt) = match rule {
            Rule::Adam { beta1, beta2, .. } | Rule::AdamW { beta1, beta2, .. }
                if cfg!(feature = "optimizers") =>
            {
                let tf = t as f64;
                let bc1 = 1.0 - libm::pow(f64::from(beta1), tf);
                let bc2 = 1.0 - libm::pow(f64::from(beta2), tf);
                ((f64::from(lr) / bc1) as f32, libm::sqrt(bc2) as f32)
            }
            _ => (0.0, 1.0),
        };
        let avg_k = match rule {
            Rule::Averaged { start } if t >= start => (t - start + 1) as f32,
            _ => 0.0,
        };
        let adamw = matches!(rule, Rule::AdamW { .. });
        // The prox's step: momentum moves by `η·(1 − τ)/(1 − μ)·g` once its buffer has settled,
        // so that is the step whose prox has the minimisers of F as fixed points.
        let prox_step = match rule {
            Rule::Momentum {
                momentum,
                dampening,
                ..
            } => {
                (f64::from(lr) * (1.0 - f64::from(dampening)) / (1.0 - f64::from(momentum))) as f32
            }
            _ => lr,
        };
        Self {
            rule,
            lr,
            t,
            thresh: if ftrl { 0.0 } else { prox_step * l1 },
            shrink: if adamw || ftrl {
                1.0
            } else {
                1.0 + prox_step * l2
            },
            l1,
            l2,
            decay: if adamw { 1.0 - lr * l2 } else { 1.0 },
            step_size,
            bc2_sqrt,
            avg_k,
            bounds,
        }
    }

    /// The same step without the penalty and bounds: equal to `new(rule, None, lr, t)`, without
    /// recomputing the rule's scalars (Adam's bias corrections are two `f64` powers).
    fn unpenalised(&self) -> Self {
        Self {
            thresh: 0.0,
            shrink: 1.0,
            l1: 0.0,
            l2: 0.0,
            decay: 1.0,
            bounds: None,
            ..*self
        }
    }
}

/// The proximal operator and the projection: `clamp(soft(u, thresh)/shrink, lo, hi)`.
#[inline(always)]
fn prox<L: Lane>(u: L, s: &StepScalars) -> L {
    let z = L::splat(0.0);
    let mut u = u;
    if s.thresh > 0.0 {
        let mag = u.abs() - L::splat(s.thresh);
        u = L::gt(mag, z, L::gt(u, z, mag, -mag), z);
    }
    if s.shrink != 1.0 {
        u = u / L::splat(s.shrink);
    }
    bound(u, s)
}

#[inline(always)]
fn bound<L: Lane>(u: L, s: &StepScalars) -> L {
    match s.bounds {
        Some((lo, hi)) => {
            let (lo, hi) = (L::splat(lo), L::splat(hi));
            L::lt(u, lo, lo, L::gt(u, hi, hi, u))
        }
        None => u,
    }
}

/// Rule kinds, as const parameters, so that each rule gets its own loop.
const SGD: u8 = 0;
const MOMENTUM: u8 = 1;
const ADAM: u8 = 2;
const AVERAGED: u8 = 3;
const FTRL: u8 = 4;

const fn kind(rule: Rule) -> u8 {
    match rule {
        Rule::Sgd => SGD,
        Rule::Momentum { .. } => MOMENTUM,
        Rule::Adam { .. } | Rule::AdamW { .. } => ADAM,
        Rule::Averaged { .. } => AVERAGED,
        Rule::Ftrl { .. } => FTRL,
    }
}

/// One element (lane) of a step of a rule of kind `K`: `(w', a', b')` from the weight, the
/// gradient and the state.
#[inline(always)]
fn element<L: Lane, const K: u8>(s: &StepScalars, w: L, g: L, a: L, b: L) -> (L, L, L) {
    let lr = L::splat(s.lr);
    match (K, s.rule) {
        (
            MOMENTUM,
            Rule::Momentum {
                momentum,
                dampening,
                nesterov,
            },
        ) => {
            let mu = L::splat(momentum);
            let v = if s.t <= 1 {
                g
            } else {
                mu * a + L::splat(1.0 - dampening) * g
            };
            let d = if nesterov { g + mu * v } else { v };
            (prox(w - lr * d, s), v, b)
        }
        (ADAM, Rule::Adam { beta1, beta2, eps } | Rule::AdamW { beta1, beta2, eps }) => {
            let w0 = if s.decay != 1.0 {
                w * L::splat(s.decay)
            } else {
                w
            };
            let m = L::splat(beta1) * a + L::splat(1.0 - beta1) * g;
            let v = L::splat(beta2) * b + L::splat(1.0 - beta2) * (g * g);
            let den = v.sqrt() / L::splat(s.bc2_sqrt) + L::splat(eps);
            let u = w0 - (L::splat(s.step_size) * m) / den;
            (prox(u, s), m, v)
        }
        (AVERAGED, _) => {
            let w1 = prox(w - lr * g, s);
            let avg = if s.avg_k == 1.0 {
                w1
            } else if s.avg_k > 1.0 {
                a + (w1 - a) / L::splat(s.avg_k)
            } else {
                a
            };
            (w1, avg, b)
        }
        (FTRL, Rule::Ftrl { beta, .. }) => {
            let g2 = g * g;
            let n1 = b + g2;
            let sigma = (n1.sqrt() - b.sqrt()) / lr;
            let z1 = (a + g) - sigma * w;
            let l1 = L::splat(s.l1);
            let zero = L::splat(0.0);
            let num = z1 - L::gt(z1, zero, l1, -l1);
            let den = (L::splat(beta) + n1.sqrt()) / lr + L::splat(s.l2);
            let w1 = L::le(z1.abs(), l1, zero, -(num / den));
            (bound(w1, s), z1, n1)
        }
        // SGD (and kinds that do not match their rule, which `part_*` never passes).
        _ => (prox(w - lr * g, s), a, b),
    }
}

/// Which of the state buffers a rule writes.
const fn writes(rule: Rule) -> (bool, bool) {
    match rule {
        Rule::Sgd => (false, false),
        Rule::Momentum { .. } | Rule::Averaged { .. } => (true, false),
        _ => (true, true),
    }
}

/// Element-wise updates of one part (weights or biases) on one lane type.
macro_rules! part_update {
    ($name:ident, $doc:literal, $lane:ty, $chunk:literal, $load:expr, $store:expr, $all_zero:expr) => {
        #[doc = $doc]
        // Not inlined: one copy of each rule's loop serves the check and the write passes of
        // both parts (inlining all four cost about 27 KB of code for no measurable speed).
        #[inline(never)]
        pub(crate) fn $name(
            s: &StepScalars,
            w: &mut [f32],
            g: &[f32],
            a: &mut [f32],
            b: &mut [f32],
            write: bool,
        ) -> bool {
            /// The loop for one rule kind.
            #[inline(always)]
            fn run<const K: u8>(
                s: &StepScalars,
                w: &mut [f32],
                g: &[f32],
                a: &mut [f32],
                b: &mut [f32],
                write: bool,
            ) -> bool {
                let (wa, wb) = writes(s.rule);
                // `v·0` is 0 for a finite `v` and NaN otherwise; the sum keeps a NaN. Unused state
                // buffers (empty slices) read as zeros, which every rule maps to finite values.
                let zero = <$lane as Lane>::splat(0.0);
                let mut acc = zero;
                let n = w.len();
                // Whole chunks on the lane type; the last `n % chunk` elements one at a time
                // below (the same formula per element, so the same bits, without the cost of
                // gathering a partial vector: a model of 4 weights and 1 bias is all tail).
                #[allow(clippy::modulo_one)] // `$chunk` is 1 on the scalar path: no tail
                let full = n - n % $chunk;
                let mut i = 0;
                while i < full {
                    let m = $chunk;
                    let get = |v: &[f32]| -> $lane { $load(v.get(i..i + m).unwrap_or(&[])) };
                    let (w1, a1, b1) = element::<$lane, K>(s, get(w), get(g), get(a), get(b));
                    if write {
                        $store(w.get_mut(i..i + m).unwrap_or(&mut []), w1);
                        if wa {
                            $store(a.get_mut(i..i + m).unwrap_or(&mut []), a1);
                        }
                        if wb {
                            $store(b.get_mut(i..i + m).unwrap_or(&mut []), b1);
                        }
                    } else {
                        acc += w1 * zero;
                        if wa {
                            acc += a1 * zero;
                        }
                        if wb {
                            acc += b1 * zero;
                        }
                    }
                    i += m;
                }
                let mut tail = 0.0f32;
                for j in full..n {
                    let get = |v: &[f32]| v.get(j).copied().unwrap_or(0.0);
                    let (w1, a1, b1) = element::<f32, K>(s, get(w), get(g), get(a), get(b));
                    if write {
                        let put = |v: &mut [f32], x: f32| {
                            if let Some(d) = v.get_mut(j) {
                                *d = x;
                            }
                        };
                        put(w, w1);
                        if wa {
                            put(a, a1);
                        }
                        if wb {
                            put(b, b1);
                        }
                    } else {
                        tail += w1 * 0.0;
                        if wa {
                            tail += a1 * 0.0;
                        }
                        if wb {
                            tail += b1 * 0.0;
                        }
                    }
                }
                write || ($all_zero(acc) && tail == 0.0)
            }
            if !cfg!(feature = "optimizers") {
                // Only SGD is compiled in (`update_with`/`TrainConfig` refuse the others).
                return run::<SGD>(s, w, g, a, b, write);
            }
            match kind(s.rule) {
                MOMENTUM => run::<MOMENTUM>(s, w, g, a, b, write),
                ADAM => run::<ADAM>(s, w, g, a, b, write),
                AVERAGED => run::<AVERAGED>(s, w, g, a, b, write),
                FTRL => run::<FTRL>(s, w, g, a, b, write),
                _ => run::<SGD>(s, w, g, a, b, write),
            }
        }
    };
}

fn load_scalar(v: &[f32]) -> f32 {
    v.first().copied().unwrap_or(0.0)
}

fn store_scalar(v: &mut [f32], x: f32) {
    if let Some(d) = v.first_mut() {
        *d = x;
    }
}

fn zero_scalar(x: f32) -> bool {
    x == 0.0
}

fn load_vec(v: &[f32]) -> f32x8 {
    match v.first_chunk::<8>() {
        Some(a) => f32x8::new(*a),
        None => {
            let mut a = [0.0f32; 8];
            for (d, s) in a.iter_mut().zip(v) {
                *d = *s;
            }
            f32x8::new(a)
        }
    }
}

fn store_vec(v: &mut [f32], x: f32x8) {
    match v.first_chunk_mut::<8>() {
        Some(a) => *a = x.to_array(),
        None => {
            for (d, s) in v.iter_mut().zip(x.to_array()) {
                *d = s;
            }
        }
    }
}

fn zero_vec(x: f32x8) -> bool {
    x.to_array().iter().all(|v| *v == 0.0)
}

part_update!(
    part_scalar,
    "One part, one element at a time.",
    f32,
    1,
    load_scalar,
    store_scalar,
    zero_scalar
);
part_update!(
    part_simd,
    "One part, eight elements at a time.",
    f32x8,
    8,
    load_vec,
    store_vec,
    zero_vec
);

/// Signature of a path's update of one part: `(scalars, w, g, a, b, write) -> all finite`.
pub(crate) type PartFn = fn(&StepScalars, &mut [f32], &[f32], &mut [f32], &mut [f32], bool) -> bool;

/// Checks a buffer's length: the rule's buffers must match the part, unused ones may be empty.
fn check_state(name: &'static str, len: usize, want: usize, used: bool) -> Result<(), Error> {
    if !used || len == want {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what: name,
            expected: want,
            found: len,
        })
    }
}

/// Steps one part in place: checks the lengths, then that the whole step is finite, then
/// writes. Returns `Ok(false)` (nothing written) if a new value would not be finite.
fn update_with(
    part: PartFn,
    s: &StepScalars,
    w: &mut [f32],
    g: &[f32],
    a: &mut [f32],
    b: &mut [f32],
) -> Result<bool, Error> {
    s.rule.validate()?;
    let n = w.len();
    crate::kernel::check_len("grad", g.len(), n)?;
    let used = s.rule.buffers();
    check_state("state a", a.len(), n, used >= 1)?;
    check_state("state b", b.len(), n, used >= 2)?;
    if !part(s, w, g, a, b, false) {
        return Ok(false);
    }
    part(s, w, g, a, b, true);
    Ok(true)
}

/// The scalar reference of the element-wise updates.
pub mod scalar {
    use super::{Error, StepScalars};

    /// Applies one step to `w` (and the state buffers `a`, `b`: as long as `w` when the rule
    /// uses them, else may be empty) from the gradient `g`, element by element.
    /// Returns `Ok(false)` and writes nothing if a new value would not be finite.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a gradient or a used state buffer of the wrong length.
    pub fn update(
        s: &StepScalars,
        w: &mut [f32],
        g: &[f32],
        a: &mut [f32],
        b: &mut [f32],
    ) -> Result<bool, Error> {
        super::update_with(super::part_scalar, s, w, g, a, b)
    }
}

/// The SIMD path of the element-wise updates (`wide::f32x8`), bit-identical to [`scalar`].
pub mod simd {
    use super::{Error, StepScalars};

    /// As [`super::scalar::update`], eight elements at a time; the same bits.
    ///
    /// # Errors
    /// As [`super::scalar::update`].
    pub fn update(
        s: &StepScalars,
        w: &mut [f32],
        g: &[f32],
        a: &mut [f32],
        b: &mut [f32],
    ) -> Result<bool, Error> {
        super::update_with(super::part_simd, s, w, g, a, b)
    }
}

/// One training step over a model's two parts (weights, biases) with the path `part`
/// (`part_simd` or `part_scalar`, which give the same bits): the
/// weights get `reg`, the biases get it only if `reg.bias`. All-or-nothing: returns
/// `Ok(false)`, with nothing written (not even the step count), if any new value would not be
/// finite.
pub(crate) fn step_parts(
    part: PartFn,
    rule: Rule,
    reg: &Regularization,
    lr: f32,
    (w, bias): (&mut [f32], &mut [f32]),
    (gw, gb): (&[f32], &[f32]),
    st: &mut StateParts<'_>,
) -> Result<bool, Error> {
    let t = *st.t + 1;
    let sw = StepScalars::new(rule, Some(reg), lr, t);
    let sb = if reg.bias { sw } else { sw.unpenalised() };
    let used = rule.buffers();
    let n = w.len();
    let nb = bias.len();
    crate::kernel::check_len("grad", gw.len(), n)?;
    crate::kernel::check_len("grad_b", gb.len(), nb)?;
    check_state("state a", st.a.0.len(), n, used >= 1)?;
    check_state("state a (biases)", st.a.1.len(), nb, used >= 1)?;
    check_state("state b", st.b.0.len(), n, used >= 2)?;
    check_state("state b (biases)", st.b.1.len(), nb, used >= 2)?;
    let ok = part(&sw, w, gw, st.a.0, st.b.0, false) && part(&sb, bias, gb, st.a.1, st.b.1, false);
    if !ok {
        return Ok(false);
    }
    part(&sw, w, gw, st.a.0, st.b.0, true);
    part(&sb, bias, gb, st.a.1, st.b.1, true);
    *st.t = t;
    Ok(true)
}

/// Exact zeros among the weights (the sparsity an L1 penalty or FTRL produces).
pub(crate) fn zeros(w: &[f32]) -> usize {
    w.iter().filter(|v| **v == 0.0).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bias part's scalars, derived from the weights' without recomputing the rule's,
    /// are those of `new` without a penalty, bit for bit (Debug prints each `f32` exactly),
    /// for every rule and a few steps.
    #[test]
    fn unpenalised_equals_new_without_a_penalty() {
        let reg = Regularization {
            l1: 0.3,
            l2: 0.2,
            bias: false,
            bounds: Some((-1.0, 2.0)),
        };
        let rules = [
            Rule::Sgd,
            Rule::momentum(0.9),
            Rule::nesterov(0.5),
            Rule::ADAM,
            Rule::ADAMW,
            Rule::Averaged { start: 3 },
            Rule::Ftrl {
                beta: 1.0,
                l1: 0.1,
                l2: 0.01,
            },
        ];
        for rule in rules {
            for t in [1, 2, 7, 1000] {
                let a = StepScalars::new(rule, None, 0.05, t);
                let b = StepScalars::new(rule, Some(&reg), 0.05, t).unpenalised();
                assert_eq!(
                    std::format!("{a:?}"),
                    std::format!("{b:?}"),
                    "{rule:?} t = {t}"
                );
            }
        }
    }
}
