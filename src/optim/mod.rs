//! Update rules and proximal steps: SGD, heavy-ball momentum and Nesterov, Adam and AdamW,
//! averaged SGD, FTRL-Proximal, AdaGrad; L1 / L2 / elastic-net proximal operators and box constraints.
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
//! `g`: with `h = η` they would solve the problem with `λ` scaled by `(1 − μ)/(1 − τ)`).
//! AdaGrad's step is per coordinate, and so is its prox: `h_i = η/(√G_i + ε)` (composite mirror
//! descent, Duchi et al. 2011), whose fixed points are exactly `F`'s minimisers. For Adam the
//! step is per coordinate too but changes sign and size with `m`: the prox uses `h = η`, a
//! heuristic whose fixed points are not exactly `F`'s (prefer AdamW's decoupled decay for L2).
//! Two rules
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
//! | [`Rule::Nlms`] | — | `w − h·g` at `h = η/(2·(ε + m))`, `m` the batch's mean `‖(x, 1)‖²`; the prox at `h` |
//! | [`Rule::AdaGrad`] | `G` | `G ← G + g·g`; `u = w − η·(g / (√G + ε))`, then the prox at `h_i = η/(√G_i + ε)` per coordinate |
//! | [`Rule::Ftrl`] | `z`, `n` | `σ = (√(n + g²) − √n)/η`, `z ← z + g − σ·w`, `n ← n + g²`; `w = |z| ≤ λ1 ? 0 : −(z − sign(z)·λ1) / ((β + √n)/η + λ2)` with FTRL's own `λ1`, `λ2` |
//!
//! These are PyTorch's `SGD` (momentum, dampening `τ`, nesterov), `Adam`, `AdamW` (the same
//! formulas, bias corrections folded as PyTorch does), scikit-learn's `SGDRegressor(average=t0)`
//! (the model returned is the average) and McMahan et al. (2013), Algorithm 1, with `α = η`
//! (so schedules and the controller's cuts scale FTRL's rate too), and PyTorch's `Adagrad`
//! (`lr_decay = 0`, `initial_accumulator_value = 0`).
//!
//! # State and memory
//!
//! The state lives in [`OptimState<M, BUFS>`]: `BUFS` buffers shaped like the model's gradient,
//! plus the step count. A rule needs [`Rule::buffers`] of them; its exact state is
//! [`Rule::state_bytes`]`(p) = ⌈4·buffers·p / 8⌉·8 + 16` bytes for `p` parameters (`p = D + 1` for a
//! `LinearModel<D>`, `K·(D + 1)` for a `LinearClassifier<D, K>`), which is
//! `size_of::<OptimState<M, BUFS>>()` when `BUFS = buffers` ([`OptimState::BYTES`]).
//!
//! # SIMD and bits
//!
//! The updates are element-wise, written once over a lane type (`lane.rs`) and instantiated for
//! `f32` ([`scalar`]) and `wide::f32x8` ([`simd`]): the same separate IEEE operations per element
//! (square roots are correctly rounded on every target), so the two paths agree bit for bit and
//! the results do not depend on the target. A step is all-or-nothing: the new weights and state
//! are computed once to check that all are finite, and only then written.

//!
//! # Files
//! One file per rule (`sgd.rs`, `momentum.rs`, `adam.rs` for Adam and AdamW, `averaged.rs`,
//! `ftrl.rs`, `adagrad.rs`, `nlms.rs`): its checks, its per-step scalars and its element formula, as an `Update`
//! implementation. `prox.rs` holds the penalty and its proximal operator, `lane.rs` the lane
//! types, `step.rs` the loops. Adding a rule: one file, one [`Rule`] variant, one line in the
//! `each_rule!` registry below and one example in [`Rule::EXAMPLES`].

use crate::Error;

mod adagrad;
mod adam;
mod averaged;
mod ftrl;
pub(crate) mod lane;
mod momentum;
mod nlms;
mod prox;
pub mod rls;
mod sgd;
mod step;

pub use prox::Regularization;
pub use rls::{Rls, RlsConfig};
pub(crate) use step::{
    AnyRule, One, OneRule, OneScalars, PART_FIXED, PartFn, RuleVisitor, Spare, part_scalar,
    part_simd, step_parts, visit_rule,
};
pub use step::{StepScalars, scalar, simd};

/// The shape of a model's parameters as the update rules see them: a gradient-shaped scratch
/// type of fixed size and its weight and bias parts. Implemented by the fixed-size models.
pub trait Params: Copy {
    /// Gradient scratch of the model's shape (on the stack).
    type Grad: Copy;
    /// A zero gradient.
    fn zero_grad() -> Self::Grad;
    /// The gradient's weight and bias parts.
    fn grad_parts(g: &mut Self::Grad) -> (&mut [f32], &mut [f32]);
    /// The gradient's weight and bias parts, read-only.
    fn grad_parts_ref(g: &Self::Grad) -> (&[f32], &[f32]);
}

/// How a rule applies the [`Regularization`] penalty.
#[derive(Clone, Copy)]
pub(crate) enum Penalty {
    /// The proximal operator after the step (step `h` from [`Update::prox_step`]).
    Prox,
    /// Decoupled weight decay `w·(1 − η·λ2)` before the step, the L1 prox after it (AdamW).
    Decoupled,
    /// The proximal operator at a per-coordinate step `h_i`, which the rule's element code
    /// applies itself (`prox_at`, AdaGrad): [`StepScalars`] carries `λ1`, `λ2` and the scalar
    /// prox is off.
    PerCoordinate,
    /// The rule's own `λ1`, `λ2` in its closed form (FTRL); no prox.
    Own {
        /// `λ1`.
        l1: f32,
        /// `λ2`.
        l2: f32,
    },
}

/// What each rule file gives (crate-internal: [`Rule`] is the public face).
pub(crate) trait Update: Copy {
    /// The rule's name (as [`Rule::name`]).
    const NAME: &'static str;
    /// The kind of state it keeps, `≥ 1` and different for every file (the tag of
    /// [`OptimState`]).
    const KIND: u64;
    /// State buffers shaped like the parameters.
    const BUFFERS: usize;
    /// Checks the hyper-parameters.
    fn validate(self) -> Result<(), Error> {
        Ok(())
    }
    /// How the penalty is applied.
    fn penalty(self) -> Penalty {
        Penalty::Prox
    }
    /// The prox's step `h` at rate `lr` (the step the rule takes along `g` once settled).
    fn prox_step(self, lr: f32) -> f32 {
        lr
    }
    /// The rate of a step on the batch `x` of `rows` rows at the configured rate `lr`: `lr`
    /// itself except for NLMS, which divides it by the batch's input energy.
    fn batch_rate(self, lr: f32, _x: &[f32], _rows: usize) -> f32 {
        lr
    }
    /// Sets the rule's own per-step scalars (after the common ones).
    fn scalars(self, _s: &mut StepScalars) {}
    /// One element (lane) of a step: `(w', a', b')` from the weight, the gradient and the
    /// state buffers' elements.
    fn element<L: lane::Lane>(self, s: &StepScalars, w: L, g: L, a: L, b: L) -> (L, L, L);
}

/// The registry: `$body` with `$r` bound to the [`Update`] of `$rule`. One line per rule.
macro_rules! each_rule {
    ($rule:expr, $r:ident => $body:expr) => {
        match $rule {
            Rule::Sgd => {
                let $r = $crate::optim::sgd::Sgd;
                $body
            }
            Rule::Momentum {
                momentum,
                dampening,
                nesterov,
            } => {
                let $r = $crate::optim::momentum::Momentum {
                    momentum,
                    dampening,
                    nesterov,
                };
                $body
            }
            // One arm for both, so that a dispatch compiles Adam's loop once.
            Rule::Adam { beta1, beta2, eps } | Rule::AdamW { beta1, beta2, eps } => {
                let $r = $crate::optim::adam::Adam {
                    beta1,
                    beta2,
                    eps,
                    decoupled: matches!($rule, Rule::AdamW { .. }),
                };
                $body
            }
            Rule::Averaged { start } => {
                let $r = $crate::optim::averaged::Averaged { start };
                $body
            }
            Rule::Ftrl { beta, l1, l2 } => {
                let $r = $crate::optim::ftrl::Ftrl { beta, l1, l2 };
                $body
            }
            Rule::AdaGrad { eps } => {
                let $r = $crate::optim::adagrad::AdaGrad { eps };
                $body
            }
            Rule::Nlms { eps } => {
                let $r = $crate::optim::nlms::Nlms { eps };
                $body
            }
        }
    };
}
use each_rule;

/// An update rule and its hyper-parameters (see the [module docs](self) for the formulas).
///
/// Set it in [`TrainConfig::optimizer`](crate::train::TrainConfig::optimizer); its state lives
/// in an [`OptimState`] of [`buffers`](Self::buffers) buffers.
///
/// ```
/// use npoa::{Dataset, LinearModel, optim::{OptimState, Rule}};
/// use npoa::train::{TrainConfig, Training};
///
/// assert_eq!((Rule::Sgd.buffers(), Rule::momentum(0.9).buffers(), Rule::ADAM.buffers()), (0, 1, 2));
/// // Exact state size for a LinearModel<8> (9 parameters): the buffers, the step count, the tag.
/// assert_eq!(Rule::ADAM.state_bytes(9), 88);
/// assert_eq!(Rule::nesterov(0.9).name(), "nesterov");
/// assert!(Rule::momentum(1.0).validate().is_err()); // μ must be below 1
///
/// // Nesterov momentum on y = 2x; the caller owns the state and can keep it between runs.
/// let (x, y) = ([1.0f32, 2.0, 3.0, 4.0], [2.0f32, 4.0, 6.0, 8.0]);
/// let data = Dataset::new(&x, &y, 1)?;
/// let config = TrainConfig {
///     learning_rate: 0.01, epochs: 300, batch_size: 4,
///     optimizer: Rule::nesterov(0.9),
///     ..TrainConfig::default()
/// };
/// let mut model = LinearModel::<1>::zeros();
/// let mut state = OptimState::<LinearModel<1>, 1>::new();
/// Training::new(&config).fit_with(&mut model, &mut state, &data)?;
/// assert_eq!(state.steps(), 300);
/// assert!(model.loss(&x, &y)? < 1e-4);
/// # Ok::<(), npoa::Error>(())
/// ```
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
    /// AdaGrad (Duchi, Hazan & Singer 2011; PyTorch `Adagrad`): per-coordinate steps
    /// `η/(√G + ε)` with `G` the sum of squared gradients; the penalty's prox at that step.
    AdaGrad {
        /// `ε > 0`.
        eps: f32,
    },
    /// Normalised least mean squares: SGD at the rate `η/(2·(ε + m))`, `m` the batch's mean
    /// `‖(x, 1)‖²` (with the squared error and one sample, the textbook NLMS
    /// `w ← w + η·e·x̃/(ε + ‖x̃‖²)`, CMSIS-DSP's `arm_lms_norm_f32` on `(x, 1)`; stable for
    /// `0 < η < 2`).
    Nlms {
        /// `ε > 0` (CMSIS's `DELTA`).
        eps: f32,
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

    /// AdaGrad with PyTorch's default `ε = 1e-10`.
    pub const ADAGRAD: Rule = Rule::AdaGrad { eps: 1e-10 };

    /// NLMS with `ε = 1.2e-7` (CMSIS-DSP's `DELTA`, `f32::EPSILON`).
    pub const NLMS: Rule = Rule::Nlms { eps: f32::EPSILON };

    /// State buffers (each shaped like the parameters) the rule needs: 0, 1 or 2.
    pub const fn buffers(&self) -> usize {
        const fn bufs<R: Update>(_: &R) -> usize {
            R::BUFFERS
        }
        each_rule!(*self, r => bufs(&r))
    }

    /// The rule's name (`"sgd"`, `"momentum"`, `"adam"`, `"adagrad"`, …), as the CLI spells it (AdamW is
    /// `"adamw"`, Nesterov `"nesterov"`).
    pub fn name(&self) -> &'static str {
        const fn name<R: Update>(_: &R) -> &'static str {
            R::NAME
        }
        match self {
            Rule::AdamW { .. } => "adamw",
            Rule::Momentum { nesterov: true, .. } => "nesterov",
            r => each_rule!(*r, u => name(&u)),
        }
    }

    /// One example of each rule with typical hyper-parameters: the list that tests, fuzz
    /// targets, benches and the CLI iterate.
    pub const EXAMPLES: [Rule; 9] = [
        Rule::Sgd,
        Rule::momentum(0.9),
        Rule::nesterov(0.9),
        Rule::ADAM,
        Rule::ADAMW,
        Rule::Averaged { start: 1 },
        Rule::Ftrl {
            beta: 1.0,
            l1: 0.0,
            l2: 0.0,
        },
        Rule::ADAGRAD,
        Rule::NLMS,
    ];

    /// Exact bytes of state for `params` parameters: the buffers, `4·buffers·params`, rounded
    /// up to a multiple of 8 (the alignment of the step count), plus the `u64` step count and
    /// the `u64` tag of the rule that stepped it: the size of an [`OptimState`] with
    /// `BUFS = buffers`.
    pub const fn state_bytes(&self, params: usize) -> usize {
        (4 * self.buffers() * params).div_ceil(8) * 8 + 16
    }

    /// The rate of a training step on the batch `x` (`rows` rows) at the rate `lr`: `lr`, or
    /// NLMS's normalised rate.
    pub(crate) fn batch_rate(&self, lr: f32, x: &[f32], rows: usize) -> f32 {
        each_rule!(*self, r => r.batch_rate(lr, x, rows))
    }

    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), Error> {
        if !cfg!(feature = "optimizers") && *self != Rule::Sgd {
            return Err(Error::InvalidParameter {
                name: "optimizer",
                reason: "needs the `optimizers` feature (only SGD is compiled in)",
            });
        }
        each_rule!(*self, r => r.validate())
    }
}

/// Optimizer state for a model type `M`: `BUFS` buffers shaped like its gradient (on the
/// stack, no heap) and the step count. It belongs to the caller, so training can resume
/// where it stopped; a controlled run copies it with the best weights and restores it on a
/// rollback. It remembers the rule that stepped it, so that a state left by one rule is never
/// read as another's (training refuses it).
pub struct OptimState<M: Params, const BUFS: usize = 2> {
    pub(crate) bufs: [M::Grad; BUFS],
    pub(crate) t: u64,
    /// The tag of the rule that stepped it (`0`: none yet).
    pub(crate) owner: u64,
}

impl<M: Params, const BUFS: usize> Clone for OptimState<M, BUFS> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M: Params, const BUFS: usize> Copy for OptimState<M, BUFS> {}

impl<M: Params, const BUFS: usize> core::fmt::Debug for OptimState<M, BUFS> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OptimState")
            .field("buffers", &BUFS)
            .field("steps", &self.t)
            .field("rule", &self.rule_name())
            .finish()
    }
}

impl<M: Params, const BUFS: usize> Default for OptimState<M, BUFS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Params, const BUFS: usize> OptimState<M, BUFS> {
    /// Bytes of this state: `BUFS · size_of::<M::Grad>()` (rounded up to 8) `+ 16`.
    pub const BYTES: usize = core::mem::size_of::<Self>();

    /// Zero buffers, step 0.
    pub fn new() -> Self {
        Self {
            bufs: [M::zero_grad(); BUFS],
            t: 0,
            owner: 0,
        }
    }

    /// Steps taken.
    pub const fn steps(&self) -> u64 {
        self.t
    }

    /// Buffer `i`'s weight and bias parts (momentum `v`, Adam `m` then `v`, FTRL `z` then `n`,
    /// the average `w̄`, AdaGrad `G`), or `None` past `BUFS`. Read-only: the state is written by training
    /// alone, so it stays finite and consistent with its rule.
    ///
    /// ```compile_fail
    /// use npoa::{LinearModel, optim::OptimState};
    /// let mut st = OptimState::<LinearModel<1>, 1>::new();
    /// if let Some((w, _)) = st.buffer(0) {
    ///     w[0] = f32::NAN; // a shared slice
    /// }
    /// ```
    pub fn buffer(&self, i: usize) -> Option<(&[f32], &[f32])> {
        self.bufs.get(i).map(M::grad_parts_ref)
    }

    /// The kind of rule that last stepped this state (`None` for a fresh state): one of
    /// [`Rule::EXAMPLES`], by [`Rule::name`] (Adam and AdamW share a kind, as do momentum and
    /// Nesterov: their buffers mean the same).
    pub fn rule_name(&self) -> Option<&'static str> {
        Rule::EXAMPLES
            .iter()
            .find(|r| owner_code(**r) == self.owner)
            .map(Rule::name)
    }

    /// Checks that `rule` may continue this state: a fresh state, or one a rule of the same
    /// kind stepped. (The buffers are finite: only training writes them, all or nothing.)
    pub(crate) fn check_for(&self, rule: Rule) -> Result<(), Error> {
        if self.owner != 0 && self.owner != owner_code(rule) {
            return Err(Error::InvalidParameter {
                name: "state",
                reason: "was left by another update rule: start from a fresh OptimState",
            });
        }
        Ok(())
    }

    /// Marks the state as `rule`'s once it has stepped.
    pub(crate) fn mark(&mut self, rule: Rule) {
        if self.t > 0 {
            self.owner = owner_code(rule);
        }
    }

    /// The state as slices for the training loop.
    pub(crate) fn parts(&mut self) -> StateParts<'_> {
        let mut it = self.bufs.iter_mut().map(M::grad_parts);
        let first = it.next().map(Buffer::from).unwrap_or_default();
        let second = it.next().map(Buffer::from).unwrap_or_default();
        StateParts {
            first,
            second,
            steps: &mut self.t,
        }
    }
}

/// The identity of a rule's state ([`Update::KIND`], `≠ 0`): two configurations of one rule
/// (other hyper-parameters) share it.
pub(crate) const fn owner_code(rule: Rule) -> u64 {
    const fn kind<R: Update>(_: &R) -> u64 {
        R::KIND
    }
    each_rule!(rule, r => kind(&r))
}

/// One state buffer's weight and bias parts (empty when the rule has no such buffer).
#[derive(Default)]
pub(crate) struct Buffer<'s> {
    pub(crate) weights: &'s mut [f32],
    pub(crate) biases: &'s mut [f32],
}

impl<'s> From<(&'s mut [f32], &'s mut [f32])> for Buffer<'s> {
    fn from((weights, biases): (&'s mut [f32], &'s mut [f32])) -> Self {
        Self { weights, biases }
    }
}

/// Mutable views of a state: the rule's first and second buffers and the step count.
pub(crate) struct StateParts<'s> {
    pub(crate) first: Buffer<'s>,
    pub(crate) second: Buffer<'s>,
    pub(crate) steps: &'s mut u64,
}

/// Exact zeros among the weights (the sparsity an L1 penalty or FTRL produces).
pub(crate) fn zeros(w: &[f32]) -> usize {
    w.iter().filter(|v| **v == 0.0).count()
}

#[cfg(test)]
mod tests {
    use super::step::StepScalars;
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
        let extra = [
            Rule::nesterov(0.5),
            Rule::Averaged { start: 3 },
            Rule::Ftrl {
                beta: 1.0,
                l1: 0.1,
                l2: 0.01,
            },
        ];
        for rule in Rule::EXAMPLES.into_iter().chain(extra) {
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
