//! The no_std training loop: epochs of mini-batch gradient descent over borrowed data.
//!
//! Each step runs the fused kernel on one mini-batch (a contiguous range of rows) and moves
//! the parameters by `−η·∇L`. The order of the batches is shuffled each epoch by a seeded
//! permutation that needs no memory (a keyed Feistel network with cycle walking), so training
//! is deterministic for a given seed and allocation-free for any number of batches.
//! Rows are not reordered: shuffle them once beforehand if their order carries structure.
//!
//! The learning rate is fixed unless a [`Strategy`] changes it: the strategy sees an
//! [`EpochReport`] after every epoch and answers with a [`Decision`]. That trait is the seam for
//! the strategy controller.
//!
//! A step whose loss or gradient overflows, or that would make a parameter non-finite, is not
//! applied: training stops with [`StopReason::Diverged`] and the model keeps its last finite
//! parameters.

use crate::Error;
#[cfg(doc)]
use crate::LinearModel;
use crate::clip;
use crate::controller::{Clip, Controller, Event, StopCause};
use crate::kernel;
use crate::loss::{Loss, Objective};
use crate::optim::{self, OptimState, Regularization, Rule, StateParts};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// A validated, borrowed data set: `n` samples of `d` features, row-major.
#[derive(Debug, Clone, Copy)]
pub struct Dataset<'a> {
    x: &'a [f32],
    y: &'a [f32],
    d: usize,
}

impl<'a> Dataset<'a> {
    /// A dataset whose checks the caller already did (an owner that checked at construction).
    #[cfg(feature = "std")]
    pub(crate) const fn prechecked(x: &'a [f32], y: &'a [f32], d: usize) -> Self {
        Self { x, y, d }
    }

    /// Checks shapes and values once (one pass over the data), so that training needs no
    /// further checks.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`], [`Error::EmptyBatch`], [`Error::LengthMismatch`] if
    /// `x.len() != y.len()·d`, [`Error::NonFinite`] for a NaN or infinity in `x` or `y`.
    pub fn new(x: &'a [f32], y: &'a [f32], d: usize) -> Result<Self, Error> {
        if d == 0 {
            return Err(Error::ZeroFeatures);
        }
        if y.is_empty() {
            return Err(Error::EmptyBatch);
        }
        let expected = y.len().saturating_mul(d);
        kernel::check_len("x", x.len(), expected)?;
        kernel::check_finite("x", x)?;
        kernel::check_finite("y", y)?;
        Ok(Self { x, y, d })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Always `false`: a data set has at least one sample.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.d
    }

    /// The features, row-major.
    pub fn x(&self) -> &'a [f32] {
        self.x
    }

    /// The targets.
    pub fn y(&self) -> &'a [f32] {
        self.y
    }

    /// Rows `start..start + len` (clamped to the data), as `(x, y)`.
    pub fn rows(&self, start: usize, len: usize) -> (&'a [f32], &'a [f32]) {
        let n = self.y.len();
        let s = start.min(n);
        let e = s.saturating_add(len).min(n);
        let x = self.x.get(s * self.d..e * self.d).unwrap_or(&[]);
        let y = self.y.get(s..e).unwrap_or(&[]);
        (x, y)
    }
}

/// Hyper-parameters of the training loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Learning rate `η` (finite, > 0).
    pub learning_rate: f32,
    /// Number of epochs (passes over the data).
    pub epochs: u32,
    /// Samples per mini-batch (≥ 1; larger than the data means full batch).
    pub batch_size: usize,
    /// Shuffle the order of the mini-batches every epoch.
    pub shuffle: bool,
    /// Seed of the shuffling generator.
    pub seed: u64,
    /// The update rule ([`optim`]); its state lives in an [`OptimState`].
    pub optimizer: Rule,
    /// The penalty and bounds applied by proximal steps ([`optim`]).
    pub regularization: Regularization,
}

impl Default for TrainConfig {
    /// `η = 0.01`, 100 epochs, batches of 32, shuffled, seed 0, plain SGD, no penalty.
    fn default() -> Self {
        Self {
            learning_rate: 0.01,
            epochs: 100,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            optimizer: Rule::Sgd,
            regularization: Regularization::NONE,
        }
    }
}

impl TrainConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), Error> {
        check_rate(self.learning_rate)?;
        if self.batch_size == 0 {
            return Err(Error::InvalidParameter {
                name: "batch_size",
                reason: "must be >= 1",
            });
        }
        self.optimizer.validate()?;
        self.regularization.validate()?;
        if matches!(self.optimizer, Rule::Ftrl { .. })
            && (self.regularization.l1 != 0.0 || self.regularization.l2 != 0.0)
        {
            return Err(Error::InvalidParameter {
                name: "regularization",
                reason: "FTRL takes its own l1 and l2 (Rule::Ftrl); set the penalty to zero",
            });
        }
        Ok(())
    }
}

fn check_rate(lr: f32) -> Result<(), Error> {
    if lr.is_finite() && lr > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "learning_rate",
            reason: "must be finite and > 0",
        })
    }
}

/// What one epoch did, handed to the [`Strategy`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochReport {
    /// Epoch number, from 1.
    pub epoch: u32,
    /// Mean training loss over the epoch, each batch's loss taken before its step and weighted
    /// by its size (for a full batch: the loss at the start of the epoch, as in the seed).
    pub loss: f32,
    /// Learning rate used in this epoch.
    pub learning_rate: f32,
    /// Parameter updates so far.
    pub steps: u64,
    /// Weights exactly zero after the epoch (biases not counted): the sparsity of an L1 penalty
    /// or FTRL.
    pub zeros: usize,
}

/// A strategy's answer after an epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Go on with the current rate.
    Continue,
    /// Go on with a new rate (finite, > 0).
    SetLearningRate(f32),
    /// Stop now.
    Stop,
}

/// The seam for learning-rate strategies: called after every epoch.
pub trait Strategy {
    /// Decide what happens next from the epoch's report.
    fn on_epoch(&mut self, report: &EpochReport) -> Decision;
}

/// The fixed learning rate of [`TrainConfig::learning_rate`], all epochs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FixedRate;

impl Strategy for FixedRate {
    fn on_epoch(&mut self, _report: &EpochReport) -> Decision {
        Decision::Continue
    }
}

/// A fixed-rate strategy that shows every [`EpochReport`] to a closure; made by [`observe`].
#[derive(Debug, Clone, Copy)]
pub struct Observe<F>(F);

/// Wraps a closure that watches the epochs (to print or record them) into a fixed-rate
/// [`Strategy`].
pub fn observe<F: FnMut(&EpochReport)>(f: F) -> Observe<F> {
    Observe(f)
}

impl<F: FnMut(&EpochReport)> Strategy for Observe<F> {
    fn on_epoch(&mut self, report: &EpochReport) -> Decision {
        (self.0)(report);
        Decision::Continue
    }
}

impl<S: Strategy + ?Sized> Strategy for &mut S {
    fn on_epoch(&mut self, report: &EpochReport) -> Decision {
        (**self).on_epoch(report)
    }
}

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// All configured epochs ran.
    MaxEpochs,
    /// The strategy answered [`Decision::Stop`].
    Strategy,
    /// A step would have produced a non-finite loss, gradient or parameter; it was not applied.
    Diverged {
        /// The epoch in which it happened.
        epoch: u32,
    },
}

/// The outcome of [`fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainSummary {
    /// Epochs completed.
    pub epochs: u32,
    /// Parameter updates applied.
    pub steps: u64,
    /// The last completed epoch's [`EpochReport::loss`] (`NaN` if none completed).
    pub final_loss: f32,
    /// Why training ended.
    pub stop: StopReason,
}

/// Trains a model in place ([`LinearModel`], [`crate::LinearClassifier`]) with the update rule
/// of `config`, its state fresh on the stack (see [`fit_with`] to keep it between calls).
///
/// # Errors
/// Invalid configuration, or a data set whose feature count does not match the model. On error
/// the model is unchanged.
pub fn fit<M: Trainable, S: Strategy>(
    model: &mut M,
    data: &Dataset<'_>,
    config: &TrainConfig,
    strategy: S,
) -> Result<TrainSummary, Error> {
    let mut state = OptimState::<M, 2>::new();
    fit_with(model, &mut state, data, config, strategy)
}

/// [`fit`] with caller-owned optimizer state (momentum, Adam moments, FTRL `z`/`n`, the
/// average), which training continues from. With [`Rule::Averaged`] the model ends as the
/// average once the averaging has started.
///
/// # Errors
/// As [`fit`], plus [`Error::InvalidParameter`] if `BUFS` is below the rule's
/// [`Rule::buffers`]. On error the model and the state are unchanged.
pub fn fit_with<M: Trainable, S: Strategy, const BUFS: usize>(
    model: &mut M,
    state: &mut OptimState<M, BUFS>,
    data: &Dataset<'_>,
    config: &TrainConfig,
    mut strategy: S,
) -> Result<TrainSummary, Error> {
    check_buffers(config.optimizer, BUFS)?;
    let (backup, state_backup) = (*model, *state);
    let mut grad = M::zero_grad();
    let obj = model.objective();
    let (gw, gb) = M::grad_parts(&mut grad);
    let (w, b) = model.params();
    let mut st = state.parts();
    let out = fit_parts(
        (obj, M::kernels()),
        (w, b),
        (gw, gb),
        &mut st,
        data,
        config,
        &mut strategy,
    );
    if out.is_err() {
        *model = backup;
        *state = state_backup;
    } else {
        let (w, b) = model.params();
        finish_average(config.optimizer, (w, b), &state.parts());
    }
    out
}

/// `BUFS` state buffers are enough for `rule`.
fn check_buffers(rule: Rule, bufs: usize) -> Result<(), Error> {
    if bufs >= rule.buffers() {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "optimizer",
            reason: "needs more state buffers than given (see Rule::buffers)",
        })
    }
}

/// With [`Rule::Averaged`], once the average has started, the model becomes the average.
pub(crate) fn finish_average(rule: Rule, (w, b): (&mut [f32], &mut [f32]), st: &StateParts<'_>) {
    if let Rule::Averaged { start } = rule
        && *st.t >= start
    {
        for (d, s) in w
            .iter_mut()
            .zip(st.a.0.iter())
            .chain(b.iter_mut().zip(st.a.1.iter()))
        {
            *d = *s;
        }
    }
}

/// The training loop over parameter slices: `w` (length `d`), `b`, and a scratch gradient
/// buffer of length `d`. [`fit`] and the `std` models call it.
///
/// # Errors
/// [`Error::LengthMismatch`] for `w` or `grad`, [`Error::NonFinite`] for non-finite initial
/// parameters, [`Error::InvalidParameter`] for an invalid configuration or a strategy's invalid
/// rate. Every check happens before the first step, except the strategy's rate, which is checked
/// between epochs (the model then holds the finite parameters reached so far).
pub fn fit_slices<S: Strategy + ?Sized>(
    w: &mut [f32],
    b: &mut f32,
    grad: &mut [f32],
    data: &Dataset<'_>,
    config: &TrainConfig,
    strategy: &mut S,
) -> Result<TrainSummary, Error> {
    if config.optimizer.buffers() > 0 {
        return Err(Error::InvalidParameter {
            name: "optimizer",
            reason: "fit_slices has no state: use Rule::Sgd, or a model type with fit_with",
        });
    }
    let mut gb = [0.0f32];
    let mut t = 0u64;
    let mut st = StateParts {
        a: (&mut [], &mut []),
        b: (&mut [], &mut []),
        t: &mut t,
    };
    fit_parts(
        (Objective::Single(Loss::Squared), ObjectiveKernels::RUNTIME),
        (w, core::slice::from_mut(b)),
        (grad, &mut gb),
        &mut st,
        data,
        config,
        strategy,
    )
}

/// The training loop over parameter slices for any objective: weights `w` (one row of `d` per
/// output), biases `b` (one per output), gradient scratch `gw`, `gb` of the same lengths, and
/// the optimizer state.
pub(crate) fn fit_parts<S: Strategy + ?Sized>(
    (obj, kern): (Objective, ObjectiveKernels),
    (w, b): (&mut [f32], &mut [f32]),
    (gw, gb): (&mut [f32], &mut [f32]),
    st: &mut StateParts<'_>,
    data: &Dataset<'_>,
    config: &TrainConfig,
    strategy: &mut S,
) -> Result<TrainSummary, Error> {
    config.validate()?;
    check_model(obj, w, b, gw, gb, data.features())?;
    let mut epochs = Epochs::new(data, config);
    let mut lr = config.learning_rate;
    let mut summary = TrainSummary {
        epochs: 0,
        steps: 0,
        final_loss: f32::NAN,
        stop: StopReason::MaxEpochs,
    };
    for epoch in 1..=config.epochs {
        let pass = epochs.next_pass();
        let Some(epoch_loss) = pass.run(
            (obj, kern),
            (w, b),
            (gw, gb),
            Stepping {
                rule: config.optimizer,
                regularization: &config.regularization,
                lr,
                clip: Clip::NONE,
                state: st,
            },
            &mut summary.steps,
        )?
        else {
            summary.stop = StopReason::Diverged { epoch };
            return Ok(summary);
        };
        let report = EpochReport {
            epoch,
            loss: epoch_loss,
            learning_rate: lr,
            steps: summary.steps,
            zeros: optim::zeros(w),
        };
        summary.epochs = epoch;
        summary.final_loss = report.loss;
        match strategy.on_epoch(&report) {
            Decision::Continue => {}
            Decision::SetLearningRate(r) => {
                check_rate(r)?;
                lr = r;
            }
            Decision::Stop => {
                summary.stop = StopReason::Strategy;
                return Ok(summary);
            }
        }
    }
    Ok(summary)
}

/// Shapes and finiteness of a model's parameter slices for `d` features.
pub(crate) fn check_model(
    obj: Objective,
    w: &[f32],
    b: &[f32],
    gw: &[f32],
    gb: &[f32],
    d: usize,
) -> Result<(), Error> {
    if d == 0 || w.is_empty() {
        return Err(Error::ZeroFeatures);
    }
    let outputs = match obj {
        Objective::Single(l) => {
            l.validate()?;
            1
        }
        Objective::Softmax => b.len(),
    };
    kernel::check_len("b", b.len(), outputs)?;
    kernel::check_len("w", w.len(), outputs.saturating_mul(d))?;
    kernel::check_len("grad", gw.len(), w.len())?;
    kernel::check_len("grad_b", gb.len(), b.len())?;
    kernel::check_finite("w", w)?;
    if let Err(Error::NonFinite { index, .. }) = kernel::check_finite("b", b) {
        return Err(Error::NonFinite { what: "b", index });
    }
    Ok(())
}

/// `(x, y, (w, b), grad_w, grad_b) -> L` for one objective.
type FusedParts =
    fn(Objective, &[f32], &[f32], (&[f32], &[f32]), &mut [f32], &mut [f32]) -> Result<f32, Error>;
/// `(x, y, (w, b)) -> L` for one objective.
type LossParts = fn(Objective, &[f32], &[f32], (&[f32], &[f32])) -> Result<f32, Error>;

/// The kernels a training loop calls for a model type. The fixed-size models return kernels
/// compiled for their size only, so that a firmware image links one kernel shape; any other
/// [`Trainable`] gets [`ObjectiveKernels::RUNTIME`] (every shape, chosen at run time).
#[derive(Clone, Copy)]
pub struct ObjectiveKernels {
    fused: FusedParts,
    pub(crate) loss: LossParts,
    /// The element-wise update of one parameter part.
    part: optim::PartFn,
}

impl core::fmt::Debug for ObjectiveKernels {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ObjectiveKernels")
    }
}

impl ObjectiveKernels {
    /// The SIMD kernels, dispatching on the size at run time.
    pub const RUNTIME: Self = Self {
        fused: |o, x, y, p, gw, gb| o.fused_on(&kernel::SIMD, x, y, p, gw, gb),
        loss: |o, x, y, (w, b)| o.loss_on(&kernel::SIMD, x, y, w, b),
        part: optim::part_simd,
    };

    /// The scalar reference path: [`kernel::SCALAR`] and the scalar update rules. Training
    /// with it gives the same updates as the SIMD path within the kernels' documented bound
    /// (the update rules give the same bits on both paths). See [`ScalarPath`].
    pub const SCALAR: Self = Self {
        fused: |o, x, y, p, gw, gb| o.fused_on(&kernel::SCALAR, x, y, p, gw, gb),
        loss: |o, x, y, (w, b)| o.loss_on(&kernel::SCALAR, x, y, w, b),
        part: optim::part_scalar,
    };

    /// One-output models of `D` features.
    pub(crate) const fn linear<const D: usize>() -> Self {
        Self {
            fused: |o, x, y, (w, b), gw, gb| match o {
                Objective::Single(l) => {
                    let b0 = b.first().copied().unwrap_or(f32::NAN);
                    let lg = kernel::simd::fused_with_fixed::<D>(l, x, y, w, b0, gw)?;
                    if let Some(g) = gb.first_mut() {
                        *g = lg.grad_b;
                    }
                    Ok(lg.loss)
                }
                Objective::Softmax => Err(WRONG_OBJECTIVE),
            },
            loss: |o, x, y, (w, b)| match o {
                Objective::Single(l) => {
                    let b0 = b.first().copied().unwrap_or(f32::NAN);
                    kernel::simd::loss_with_fixed::<D>(l, x, y, w, b0)
                }
                Objective::Softmax => Err(WRONG_OBJECTIVE),
            },
            part: optim::part_simd,
        }
    }

    /// Softmax classifiers of `D` features.
    pub(crate) const fn softmax<const D: usize>() -> Self {
        Self {
            fused: |o, x, y, (w, b), gw, gb| match o {
                Objective::Softmax => kernel::simd::softmax_fused_fixed::<D>(x, y, w, b, gw, gb),
                Objective::Single(_) => Err(WRONG_OBJECTIVE),
            },
            loss: |o, x, y, (w, b)| match o {
                Objective::Softmax => kernel::simd::softmax_loss_fixed::<D>(x, y, w, b),
                Objective::Single(_) => Err(WRONG_OBJECTIVE),
            },
            part: optim::part_simd,
        }
    }
}

const WRONG_OBJECTIVE: Error = Error::InvalidParameter {
    name: "objective",
    reason: "does not match the model",
};

/// A model the training loops drive: its parameters as two flat slices (weights, one row of
/// `d` per output; one bias per output) and its [`Objective`]. Implemented by
/// [`LinearModel`] and [`crate::LinearClassifier`].
pub trait Trainable: Copy {
    /// Gradient scratch of the model's shape (on the stack).
    type Grad: Copy;
    /// A zero gradient.
    fn zero_grad() -> Self::Grad;
    /// The gradient's weight and bias parts.
    fn grad_parts(g: &mut Self::Grad) -> (&mut [f32], &mut [f32]);
    /// The weights and biases, for the training loop (which keeps them finite).
    fn params(&mut self) -> (&mut [f32], &mut [f32]);
    /// What training minimises.
    fn objective(&self) -> Objective;
    /// The kernels the loops call for this model type (default: [`ObjectiveKernels::RUNTIME`]).
    fn kernels() -> ObjectiveKernels {
        ObjectiveKernels::RUNTIME
    }
}

/// A model trained on the scalar reference path ([`ObjectiveKernels::SCALAR`]): the same
/// training loops, with [`crate::kernel::SCALAR`] and the scalar update rules in place of the
/// SIMD ones. For checking the SIMD path end to end, and for the benchmarks' scalar baseline.
///
/// ```
/// use npoa::LinearModel;
/// use npoa::train::{fit, Dataset, FixedRate, ScalarPath, TrainConfig};
///
/// let x = [0.0f32, 1.0, 2.0, 3.0];
/// let y = [1.0f32, 3.0, 5.0, 7.0];
/// let data = Dataset::new(&x, &y, 1)?;
/// let config = TrainConfig { learning_rate: 0.1, epochs: 200, ..TrainConfig::default() };
/// let (mut simd, mut scalar) = (LinearModel::<1>::zeros(), ScalarPath(LinearModel::<1>::zeros()));
/// fit(&mut simd, &data, &config, FixedRate)?;
/// fit(&mut scalar, &data, &config, FixedRate)?;
/// let (a, b) = (simd.weights()[0], scalar.0.weights()[0]);
/// assert!((a - b).abs() < 1e-5 && (b - 2.0).abs() < 1e-3);
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalarPath<M>(pub M);

impl<M: Trainable> Trainable for ScalarPath<M> {
    type Grad = M::Grad;
    fn zero_grad() -> Self::Grad {
        M::zero_grad()
    }
    fn grad_parts(g: &mut Self::Grad) -> (&mut [f32], &mut [f32]) {
        M::grad_parts(g)
    }
    fn params(&mut self) -> (&mut [f32], &mut [f32]) {
        self.0.params()
    }
    fn objective(&self) -> Objective {
        self.0.objective()
    }
    fn kernels() -> ObjectiveKernels {
        ObjectiveKernels::SCALAR
    }
}

/// One epoch of a controlled run, for the per-epoch record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    /// Epoch, from 1.
    pub epoch: u32,
    /// Mean training loss of the epoch (each batch before its step).
    pub train_loss: f32,
    /// The metric the controller saw, measured after the epoch's steps: the loss on the
    /// validation set if there is one, else on the training set.
    pub metric: f32,
    /// The rate used in this epoch.
    pub learning_rate: f32,
    /// Weights exactly zero after the epoch (biases not counted).
    pub zeros: usize,
}

/// The outcome of [`fit_controlled`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControlledSummary {
    /// Epochs run (including rolled-back ones).
    pub epochs: u32,
    /// Parameter updates applied (including those later rolled back).
    pub steps: u64,
    /// The best metric seen (`+∞` if no epoch produced a finite one).
    pub best_metric: f32,
    /// Why the run stopped early, if it did (else all epochs ran).
    pub stop: Option<StopCause>,
    /// Rollbacks to the best copy.
    pub rollbacks: u32,
}

/// Trains a [`LinearModel`] under a strategy [`Controller`]: the controller sets each epoch's
/// rate, and after each epoch it may keep a copy of the weights as the best, roll the model
/// back to that copy (divergence, spike) or stop. The model returned is **the best seen**, and
/// always finite: the initial model if no epoch improved on it.
///
/// The metric is the loss after each epoch's steps (one extra loss pass), on `validation` when
/// given, else on the training data, so that it describes exactly the weights a "keep the
/// best" copies. `config.learning_rate` is not used (the controller's schedule has the rate).
///
/// # Errors
/// As [`fit`], plus [`Error::LengthMismatch`] if the validation set does not have `D`
/// features. On error the model is unchanged.
pub fn fit_controlled<M: Trainable>(
    model: &mut M,
    data: &Dataset<'_>,
    validation: Option<&Dataset<'_>>,
    config: &TrainConfig,
    controller: &mut Controller,
    on_event: &mut dyn FnMut(&Event),
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<ControlledSummary, Error> {
    let mut state = OptimState::<M, 2>::new();
    fit_controlled_with(
        model, &mut state, data, validation, config, controller, on_event, on_epoch,
    )
}

/// [`fit_controlled`] with caller-owned optimizer state. The best copy and every rollback
/// cover the state too (moments, FTRL `z`/`n`, the average, the step count), so that a
/// rollback resumes from a consistent state; the state returned is the one that goes with the
/// best weights.
///
/// # Errors
/// As [`fit_controlled`] and [`fit_with`]. On error the model and the state are unchanged.
#[allow(clippy::too_many_arguments)]
pub fn fit_controlled_with<M: Trainable, const BUFS: usize>(
    model: &mut M,
    state: &mut OptimState<M, BUFS>,
    data: &Dataset<'_>,
    validation: Option<&Dataset<'_>>,
    config: &TrainConfig,
    controller: &mut Controller,
    on_event: &mut dyn FnMut(&Event),
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<ControlledSummary, Error> {
    config.validate()?;
    check_buffers(config.optimizer, BUFS)?;
    let obj = model.objective();
    let mut run = TypedRun {
        model,
        state,
        grad: M::zero_grad(),
    };
    let hooks = Hooks { on_event, on_epoch };
    controlled_loop(
        &mut run,
        (obj, M::kernels()),
        (data, validation),
        config,
        controller,
        hooks,
    )
}

/// The callbacks of a controlled run.
pub(crate) struct Hooks<'h> {
    pub(crate) on_event: &'h mut dyn FnMut(&Event),
    pub(crate) on_epoch: &'h mut dyn FnMut(&EpochRecord),
}

/// What a controlled run trains: parameters, gradient scratch and optimizer state as slices,
/// and copies of the parameters with their state (the best copy, the backup).
pub(crate) trait Run {
    /// A copy of the parameters and the optimizer state.
    type Snap;
    fn snapshot(&mut self) -> Self::Snap;
    fn restore(&mut self, snap: &Self::Snap);
    /// `((w, b), (grad_w, grad_b), state)`.
    #[allow(clippy::type_complexity)]
    fn split(
        &mut self,
    ) -> (
        (&mut [f32], &mut [f32]),
        (&mut [f32], &mut [f32]),
        StateParts<'_>,
    );
}

/// A fixed-size model and its state (copies on the stack).
pub(crate) struct TypedRun<'a, M: Trainable, const BUFS: usize> {
    pub(crate) model: &'a mut M,
    pub(crate) state: &'a mut OptimState<M, BUFS>,
    pub(crate) grad: M::Grad,
}

impl<M: Trainable, const BUFS: usize> Run for TypedRun<'_, M, BUFS> {
    type Snap = (M, OptimState<M, BUFS>);
    fn snapshot(&mut self) -> Self::Snap {
        (*self.model, *self.state)
    }
    fn restore(&mut self, snap: &Self::Snap) {
        (*self.model, *self.state) = *snap;
    }
    fn split(
        &mut self,
    ) -> (
        (&mut [f32], &mut [f32]),
        (&mut [f32], &mut [f32]),
        StateParts<'_>,
    ) {
        (
            self.model.params(),
            M::grad_parts(&mut self.grad),
            self.state.parts(),
        )
    }
}

/// The controlled loop shared by the fixed-size and run-time sized models (see
/// [`fit_controlled`]).
pub(crate) fn controlled_loop<R: Run>(
    run: &mut R,
    (obj, kern): (Objective, ObjectiveKernels),
    (data, validation): (&Dataset<'_>, Option<&Dataset<'_>>),
    config: &TrainConfig,
    controller: &mut Controller,
    mut hooks: Hooks<'_>,
) -> Result<ControlledSummary, Error> {
    config.validate()?;
    {
        let ((w, b), (gw, gb), _) = run.split();
        check_model(obj, w, b, gw, gb, data.features())?;
    }
    if let Some(v) = validation {
        kernel::check_len("validation features", v.features(), data.features())?;
    }
    let mut epochs = Epochs::new(data, config);
    let backup = run.snapshot();
    let mut best = run.snapshot();
    let mut out = ControlledSummary {
        epochs: 0,
        steps: 0,
        best_metric: f32::INFINITY,
        stop: None,
        rollbacks: 0,
    };
    let eval = validation.unwrap_or(data);
    let mut metric_of = |run: &mut R| {
        let ((w, b), _, _) = run.split();
        (kern.loss)(obj, eval.x(), eval.y(), (w, b)).unwrap_or(f32::NAN)
    };
    controller.start(metric_of(run), hooks.on_event);
    for epoch in 1..=config.epochs {
        let lr = controller.rate(u64::from(epoch - 1));
        let pass = epochs.next_pass();
        let ran = {
            let ((w, b), (gw, gb), mut st) = run.split();
            let stepping = Stepping {
                rule: config.optimizer,
                regularization: &config.regularization,
                lr,
                clip: controller.clip(),
                state: &mut st,
            };
            pass.run((obj, kern), (w, b), (gw, gb), stepping, &mut out.steps)
        };
        let ran = match ran {
            Ok(r) => r,
            Err(e) => {
                run.restore(&backup);
                return Err(e);
            }
        };
        out.epochs = epoch;
        let (stop, _) = end_epoch(
            run,
            &mut best,
            (epoch, lr, ran),
            &mut metric_of,
            controller,
            &mut hooks,
        );
        if stop.is_some() {
            out.stop = stop;
            break;
        }
    }
    run.restore(&best);
    let ((w, b), _, st) = run.split();
    finish_average(config.optimizer, (w, b), &st);
    out.best_metric = controller.best();
    out.rollbacks = controller.retries();
    Ok(out)
}

/// The end of a controlled epoch (or of an online round): `ran` is the epoch's mean training
/// loss, or `None` if a step diverged. Measures the metric (one loss pass, by `metric_of`),
/// reports the epoch, asks the controller, and applies its verdict to `run` (roll back to
/// `best`, or make the current weights the best copy). Returns the stop cause, if any, and
/// the metric (NaN after a divergence).
pub(crate) fn end_epoch<R: Run>(
    run: &mut R,
    best: &mut R::Snap,
    (epoch, lr, ran): (u32, f32, Option<f32>),
    metric_of: &mut dyn FnMut(&mut R) -> f32,
    controller: &mut Controller,
    hooks: &mut Hooks<'_>,
) -> (Option<StopCause>, f32) {
    let mut measured = f32::NAN;
    let verdict = match ran {
        None => controller.on_divergence(epoch, hooks.on_event),
        Some(train_loss) => {
            // The metric describes the weights as they are now, the ones a `save_best`
            // would copy: one loss pass after the epoch's steps.
            let metric = metric_of(run);
            measured = metric;
            let zeros = optim::zeros(run.split().0.0);
            (hooks.on_epoch)(&EpochRecord {
                epoch,
                train_loss,
                metric,
                learning_rate: lr,
                zeros,
            });
            controller.on_epoch(epoch, metric, hooks.on_event)
        }
    };
    if verdict.roll_back {
        run.restore(best);
    }
    if verdict.save_best {
        *best = run.snapshot();
    }
    (verdict.stop, measured)
}

/// The batching of a run: batch size, number of batches, and the seeded generator of each
/// epoch's batch order.
struct Epochs<'d, 'a> {
    data: &'d Dataset<'a>,
    batch: usize,
    batches: u64,
    shuffle: bool,
    rng: Xoshiro256PlusPlus,
}

impl<'d, 'a> Epochs<'d, 'a> {
    fn new(data: &'d Dataset<'a>, config: &TrainConfig) -> Self {
        let n = data.len();
        let batch = config.batch_size.clamp(1, n.max(1));
        Self {
            data,
            batch,
            batches: n.div_ceil(batch) as u64,
            shuffle: config.shuffle,
            rng: Xoshiro256PlusPlus::seed_from_u64(config.seed),
        }
    }

    /// The next epoch, with its own shuffled batch order.
    fn next_pass(&mut self) -> Pass<'d, 'a> {
        Pass {
            data: self.data,
            batch: self.batch,
            batches: self.batches,
            key: self.shuffle.then(|| self.rng.next_u64()),
        }
    }
}

/// One epoch of mini-batch steps over a data set, in a given batch order.
struct Pass<'d, 'a> {
    data: &'d Dataset<'a>,
    batch: usize,
    batches: u64,
    /// Shuffling key of this epoch's batch order (`None`: in order).
    key: Option<u64>,
}

impl Pass<'_, '_> {
    /// Runs the epoch at rate `lr`. Returns the mean loss over the epoch (each batch's loss
    /// before its step, weighted by its size), or `None` if a step would have made the loss,
    /// the gradient or a parameter non-finite — that step is not applied.
    fn run(
        &self,
        (obj, kern): (Objective, ObjectiveKernels),
        (w, b): (&mut [f32], &mut [f32]),
        (gw, gb): (&mut [f32], &mut [f32]),
        mut stepping: Stepping<'_, '_, '_>,
        steps: &mut u64,
    ) -> Result<Option<f32>, Error> {
        let mut total = 0.0f64;
        for k in 0..self.batches {
            let bi = match self.key {
                Some(key) => permute(k, self.batches, key),
                None => k,
            };
            let batch = self.data.rows(bi as usize * self.batch, self.batch);
            let Some(loss) = batch_step((obj, kern), batch, (w, b), (gw, gb), &mut stepping)?
            else {
                return Ok(None);
            };
            *steps += 1;
            total += f64::from(loss) * batch.1.len() as f64;
        }
        Ok(Some((total / self.data.len() as f64) as f32))
    }
}

/// One mini-batch step: the fused loss and gradient pass over `(xb, yb)`, the clipping, the
/// update. Returns the batch's loss before the step, or `None` if the step would have made
/// the loss, the gradient or a parameter non-finite (then nothing was applied).
pub(crate) fn batch_step(
    (obj, kern): (Objective, ObjectiveKernels),
    (xb, yb): (&[f32], &[f32]),
    (w, b): (&mut [f32], &mut [f32]),
    (gw, gb): (&mut [f32], &mut [f32]),
    Stepping {
        rule,
        regularization,
        lr,
        clip,
        state,
    }: &mut Stepping<'_, '_, '_>,
) -> Result<Option<f32>, Error> {
    let loss = match (kern.fused)(obj, xb, yb, (w, b), gw, gb) {
        Ok(l) => l,
        Err(Error::Overflow { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut rate = *lr;
    if let Some(v) = clip.value {
        clip::clip_value_parts(gw, gb, v)?;
    }
    if let Some(n) = clip.norm {
        clip::clip_norm_parts(gw, gb, n)?;
    }
    if let Some(r) = clip.trust_radius {
        rate *= clip::trust_factor_parts(gw, gb, *lr, r)?;
    }
    let applied = optim::step_parts(
        kern.part,
        *rule,
        regularization,
        rate,
        (w, b),
        (gw, gb),
        state,
    )?;
    Ok(applied.then_some(loss))
}

/// How a pass steps: the rule and its penalty, this epoch's rate, the clipping, the
/// optimizer state.
pub(crate) struct Stepping<'c, 's, 'p> {
    pub(crate) rule: Rule,
    pub(crate) regularization: &'c Regularization,
    pub(crate) lr: f32,
    pub(crate) clip: Clip,
    pub(crate) state: &'s mut StateParts<'p>,
}

/// A seeded permutation of `0..m` without memory: a 4-round Feistel network on the smallest
/// even number of bits covering `m`, with cycle walking back into range.
pub(crate) fn permute(i: u64, m: u64, key: u64) -> u64 {
    if m <= 1 {
        return 0;
    }
    let bits = (64 - (m - 1).leading_zeros()).max(2);
    let bits = bits + (bits & 1);
    let half = bits / 2;
    let mask = (1u64 << half) - 1;
    let mut v = i % m;
    loop {
        let (mut l, mut r) = (v >> half, v & mask);
        for round in 0..4u32 {
            let f = mix(r ^ key.rotate_left(round * 16) ^ u64::from(round)) & mask;
            (l, r) = (r, l ^ f);
        }
        v = (l << half) | r;
        if v < m {
            return v;
        }
    }
}

/// The SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn permute_is_a_bijection() {
        for m in 1..300u64 {
            for key in [0u64, 1, 0xdead_beef, u64::MAX] {
                let mut seen = [false; 300];
                for i in 0..m {
                    let p = permute(i, m, key) as usize;
                    assert!(p < m as usize);
                    assert!(!seen[p], "m={m} key={key} repeats {p}");
                    seen[p] = true;
                }
            }
        }
    }

    #[test]
    fn permute_depends_on_key() {
        let a: [u64; 16] = core::array::from_fn(|i| permute(i as u64, 16, 1));
        let b: [u64; 16] = core::array::from_fn(|i| permute(i as u64, 16, 2));
        assert_ne!(a, b);
    }
}
