//! Learning from a stream: a fixed sample window, incremental training in bounded steps, and
//! warm restarts when the data drifts. No heap: every buffer is sized by const generics.
//!
//! * [`Window<N, D>`] keeps `N` samples of `D` features: the most recent ones (a ring buffer,
//!   [`Sampling::Sliding`]) or a uniform sample of the whole stream ([`Sampling::Reservoir`],
//!   Vitter's algorithm R with a seeded generator).
//! * [`OnlineLearner<M, D, N, V>`] owns a model, its optimizer state, a best copy, a strategy
//!   [`Controller`], a training window of `N` samples and a held-out window of `V` samples
//!   (every `k`-th pushed sample goes there, [`OnlineConfig::holdout_every`]).
//!   [`push`](OnlineLearner::push) stores a sample; [`step`](OnlineLearner::step) runs a fixed
//!   number of mini-batch updates over the training window;
//!   [`partial_fit`](OnlineLearner::partial_fit) runs one update on a batch the caller holds.
//!
//! ## Rounds: the controller's epochs
//! The controller sees a **round** of [`OnlineConfig::round_steps`] updates as one epoch: the
//! round's rate is `controller.rate(round)`, and after the round the metric (the loss on the
//! held-out window; on the training window if nothing is held out; else the round's mean
//! training loss, each batch's loss taken before its step) goes to the controller, which may
//! keep a best copy, roll back to it, cut the rate on a plateau, or stop. The state carries
//! over between calls, so a round may span many calls, and the updates and rounds are those of
//! [`crate::train::fit_controlled`]: the same code runs each batch step and each epoch's end.
//! Fed the same batches in the same order, with rounds as long as an epoch, the learner's best
//! model equals `fit_controlled`'s result bit for bit (tested), as long as no step diverges (a
//! diverged step ends its round early, where `fit_controlled` skips the rest of the epoch).
//!
//! The controller starts once the metric's window holds
//! [`OnlineConfig::metric_warmup`] samples (by default: once it is full). Before that the
//! updates run at the schedule's first rate, no round ends, and a step that would make
//! something non-finite is skipped.
//!
//! ## Drift
//! With [`OnlineConfig::drift`] set (the default), when the metric stays above
//! `factor × level + floor` for `patience` rounds in a row (`level`: the running mean of the
//! metric over the good rounds since the start or the last restart) while the learner is
//! frozen (stopped, or at a rate below the highest of its run), the learner makes a warm
//! restart ([`Controller::restart`]): the schedule starts again at its full rate, the rate cuts
//! of plateaus and rollbacks are undone, the early stop is lifted, the current weights become
//! the best copy and the best metric is forgotten (the old best describes data that is gone),
//! and an averaged SGD starts its average again. [`EventKind::Restarted`](crate::controller::EventKind::Restarted)
//! reports it. A stopped learner keeps measuring its metric once per idle round (one loss
//! pass every `round_steps` calls) to see drift. A [`Sampling::Reservoir`] window remembers the
//! whole stream, old regime included: it reacts to drift slowly, so prefer
//! [`Sampling::Sliding`] where the data may change.
//!
//! Drift handling is **on by default**: a learner on a device runs unattended, and without it a
//! change of regime leaves the model frozen (early-stopped, or at the minimum rate after the
//! plateau cuts, or rolled back again and again by the divergence guard, which reads the
//! higher error as a spike) — the failure nobody sees. The cost of a false alarm is bounded: a
//! restart needs `patience` consecutive bad rounds, and the guard still protects the restarted
//! run. Set `drift: None` for a stationary stream.
//!
//! ## Bounded work
//! With `B` = [`OnlineConfig::batch_size`], `S` = [`OnlineConfig::steps_per_call`], `R` =
//! [`OnlineConfig::round_steps`], and `E` = the rows the metric reads (`V`, or `N` when nothing
//! is held out), in kernel passes:
//!
//! | call | worst case |
//! |---|---|
//! | [`push`](OnlineLearner::push) | no kernel pass: one copy of `D + 1` floats, a target check, one generator draw (reservoir) |
//! | [`step`](OnlineLearner::step) | `S` fused passes over ≤ `B` rows and `S` parameter updates, plus `⌈S / R⌉ + 1` loss passes over ≤ `E` rows (round ends; the first call's starting metric); stopped: one loss pass over ≤ `E` rows once per idle round (drift watch), or nothing |
//! | [`partial_fit`](OnlineLearner::partial_fit) | one fused pass over the batch, one update, plus ≤ 2 loss passes over ≤ `E` rows (the round's end; the first call's starting metric); stopped: one loss pass once per idle round (over ≤ `E` rows, or over the batch when no window holds samples), or nothing |
//!
//! Besides the passes, each `step` and `partial_fit` copies the model, its optimizer state,
//! the best copy, the controller and the counters once (the backup that undoes a failed call:
//! 3768 bytes of learner with `D = 8, N = 64, V = 16` copy about 760 bytes), and each round's
//! end may copy the model and its state once more (a best copy or a rollback). Nothing depends
//! on how many samples the stream has seen.
//!
//! ```
//! use npoa::LinearModel;
//! use npoa::controller::ControllerConfig;
//! use npoa::online::{OnlineConfig, OnlineLearner, Sampling};
//!
//! // 64 training samples, 16 held out, 2 features: y = 2·x0 − x1 + 0.5.
//! let mut learner = OnlineLearner::<LinearModel<2>, 2, 64, 16>::new(
//!     LinearModel::zeros(),
//!     ControllerConfig::constant(0.1)?,
//!     OnlineConfig::default(),
//!     Sampling::Sliding,
//! )?;
//! let mut events = 0;
//! for i in 0..2000u32 {
//!     let x = [(i % 7) as f32 / 7.0, (i % 5) as f32 / 5.0];
//!     learner.push(&x, 2.0 * x[0] - x[1] + 0.5)?;
//!     learner.step(&mut |_| events += 1)?;
//! }
//! let m = learner.model();
//! assert!((m.weights()[0] - 2.0).abs() < 1e-2 && (m.bias() - 0.5).abs() < 1e-2);
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::Error;
use crate::controller::{Controller, ControllerConfig, Event, StopCause};
use crate::kernel;
use crate::loss::{Loss, Objective};
use crate::optim::{OptimState, Regularization, Rule};
use crate::train::{self, EpochRecord, Hooks, Run, Stepping, TrainConfig, Trainable, TypedRun};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// Which samples a [`Window`] keeps once it is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// The most recent `N` samples: each new one overwrites the oldest (a ring buffer).
    Sliding,
    /// A uniform sample of every sample offered so far (Vitter's algorithm R): the `i`-th
    /// sample (from 0) replaces a random slot with probability `N / (i + 1)`. The generator
    /// is xoshiro256++ seeded with `seed`; a slot is drawn by a 64×64 → 128-bit multiply
    /// without rejection (bounded work), whose bias is below `(i + 1) / 2⁶⁴`.
    Reservoir {
        /// The generator's seed.
        seed: u64,
    },
}

/// A fixed-capacity window of `N` samples with `D` features each, on the stack (no heap).
///
/// Rows live in slots `0..len()`, contiguous, so [`x`](Self::x) and [`y`](Self::y) feed the
/// kernels directly. With [`Sampling::Sliding`] the slots fill in arrival order and then wrap:
/// slot [`next`](Self::next) holds the oldest sample, and [`chronological`](Self::chronological)
/// walks them oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Window<const N: usize, const D: usize> {
    x: [[f32; D]; N],
    y: [f32; N],
    len: usize,
    next: usize,
    seen: u64,
    rng: Option<Xoshiro256PlusPlus>,
}

impl<const N: usize, const D: usize> Default for Window<N, D> {
    fn default() -> Self {
        Self::new(Sampling::Sliding)
    }
}

impl<const N: usize, const D: usize> Window<N, D> {
    /// An empty window. `N` and `D` must be at least 1 (a compile-time error otherwise).
    pub fn new(sampling: Sampling) -> Self {
        const {
            assert!(
                N > 0 && D > 0,
                "a window needs N >= 1 samples of D >= 1 features"
            )
        };
        Self {
            x: [[0.0; D]; N],
            y: [0.0; N],
            len: 0,
            next: 0,
            seen: 0,
            rng: match sampling {
                Sampling::Sliding => None,
                Sampling::Reservoir { seed } => Some(Xoshiro256PlusPlus::seed_from_u64(seed)),
            },
        }
    }

    /// Offers a sample. Returns the slot it was written to, or `None` if the reservoir kept
    /// its current samples instead.
    ///
    /// # Errors
    /// [`Error::NonFinite`] if `x` or `y` holds a NaN or an infinity; the window is unchanged.
    pub fn push(&mut self, x: &[f32; D], y: f32) -> Result<Option<usize>, Error> {
        kernel::check_finite("x", x)?;
        kernel::check_finite("y", &[y])?;
        Ok(self.put(x, y))
    }

    /// [`push`](Self::push) without the checks.
    fn put(&mut self, x: &[f32; D], y: f32) -> Option<usize> {
        let i = self.seen;
        self.seen = self.seen.saturating_add(1);
        let slot = if self.len < N {
            self.len += 1;
            Some(self.len - 1)
        } else if let Some(rng) = self.rng.as_mut() {
            // Algorithm R: keep the new sample with probability N / (i + 1), in a uniform slot.
            let j = ((u128::from(rng.next_u64()) * u128::from(i.saturating_add(1))) >> 64) as u64;
            usize::try_from(j).ok().filter(|&j| j < N)
        } else {
            Some(self.next)
        };
        if let Some(s) = slot {
            if let (Some(row), Some(t)) = (self.x.get_mut(s), self.y.get_mut(s)) {
                *row = *x;
                *t = y;
            }
            if self.rng.is_none() {
                self.next = (s + 1) % N;
            }
        }
        slot
    }

    /// Samples held (at most `N`).
    pub const fn len(&self) -> usize {
        self.len
    }

    /// No samples yet.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Samples offered so far (kept or not).
    pub const fn seen(&self) -> u64 {
        self.seen
    }

    /// The slot the next sample goes to in a sliding window (the oldest sample's, once full).
    pub const fn next(&self) -> usize {
        self.next
    }

    /// The features of the samples held, row after row (`len() · D` floats, slot order).
    pub fn x(&self) -> &[f32] {
        let rows = self.x.get(..self.len).unwrap_or_default();
        rows.as_flattened()
    }

    /// The targets of the samples held (`len()` floats, slot order).
    pub fn y(&self) -> &[f32] {
        self.y.get(..self.len).unwrap_or_default()
    }

    /// Slot `i`'s sample.
    pub fn get(&self, i: usize) -> Option<(&[f32; D], f32)> {
        if i < self.len {
            Some((self.x.get(i)?, *self.y.get(i)?))
        } else {
            None
        }
    }

    /// The samples held, oldest first for a sliding window (slot order for a reservoir).
    pub fn chronological(&self) -> impl Iterator<Item = (&[f32; D], f32)> + '_ {
        let start = if self.rng.is_none() && self.len == N {
            self.next
        } else {
            0
        };
        (0..self.len).filter_map(move |k| self.get((start + k) % N))
    }

    /// Rows `start .. start + len` (clamped to the samples held), as `(x, y)`.
    fn rows(&self, start: usize, len: usize) -> (&[f32], &[f32]) {
        let end = start.saturating_add(len).min(self.len);
        let start = start.min(end);
        let xs = self.x.get(start..end).unwrap_or_default();
        let ys = self.y.get(start..end).unwrap_or_default();
        (xs.as_flattened(), ys)
    }

    /// Forgets every sample (the reservoir's generator keeps its position).
    pub fn clear(&mut self) {
        self.len = 0;
        self.next = 0;
        self.seen = 0;
    }
}

/// When the learner sees drift (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drift {
    /// A round is bad when its metric is above `factor × level + floor`, where `level` is
    /// the running mean of the good rounds' metrics (finite, ≥ 1).
    pub factor: f32,
    /// Absolute slack added to the bound, for metrics near 0 (finite, ≥ 0).
    pub floor: f32,
    /// Bad rounds in a row that make a drift (≥ 1).
    pub patience: u32,
}

impl Default for Drift {
    /// Three times the level, for 3 rounds in a row, no floor.
    fn default() -> Self {
        Self {
            factor: 3.0,
            floor: 0.0,
            patience: 3,
        }
    }
}

/// How an [`OnlineLearner`] trains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OnlineConfig {
    /// Samples per update (≥ 1; a window's last batch may be shorter).
    pub batch_size: usize,
    /// Updates per [`step`](OnlineLearner::step) call (≥ 1): the caller's time budget.
    pub steps_per_call: u32,
    /// Updates per round, the controller's epoch (≥ 1).
    pub round_steps: u32,
    /// Every `k`-th pushed sample goes to the held-out window (0: none is held out; then
    /// the metric reads the training window, unless samples come by
    /// [`push_holdout`](OnlineLearner::push_holdout)).
    pub holdout_every: u32,
    /// Samples the metric's window must hold before the controller starts (`None`: its
    /// capacity). Until then the updates run at the schedule's first rate and no round ends:
    /// a loss over a handful of samples, changing with each sample, would read as spikes and
    /// plateaus that are not there.
    pub metric_warmup: Option<usize>,
    /// The update rule (at most two state buffers, which every rule fits).
    pub optimizer: Rule,
    /// The proximal penalty and box.
    pub regularization: Regularization,
    /// Warm restarts on drift (`None`: off).
    pub drift: Option<Drift>,
}

impl Default for OnlineConfig {
    /// Batches of 8, one update per call, rounds of 8 updates, every 5th sample held out,
    /// the controller started once the held-out window is full, SGD, no penalty, drift
    /// handling on with [`Drift::default`].
    fn default() -> Self {
        Self {
            batch_size: 8,
            steps_per_call: 1,
            round_steps: 8,
            holdout_every: 5,
            metric_warmup: None,
            optimizer: Rule::Sgd,
            regularization: Regularization::NONE,
            drift: Some(Drift::default()),
        }
    }
}

impl OnlineConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), Error> {
        let inv = |name, reason| Err(Error::InvalidParameter { name, reason });
        if self.steps_per_call == 0 {
            return inv("steps_per_call", "must be >= 1");
        }
        if self.round_steps == 0 {
            return inv("round_steps", "must be >= 1");
        }
        if self.holdout_every == 1 {
            return inv(
                "holdout_every",
                "must be 0 (none held out) or >= 2 (1 would leave nothing to train on)",
            );
        }
        if let Some(d) = self.drift {
            if !(d.factor.is_finite() && d.factor >= 1.0) {
                return inv("drift.factor", "must be finite and >= 1");
            }
            if !(d.floor.is_finite() && d.floor >= 0.0) {
                return inv("drift.floor", "must be finite and >= 0");
            }
            if d.patience == 0 {
                return inv("drift.patience", "must be >= 1");
            }
        }
        self.as_train_config().validate()
    }

    /// The fields a [`TrainConfig`] checks (its rate is not used here).
    fn as_train_config(&self) -> TrainConfig {
        TrainConfig {
            learning_rate: 1.0,
            batch_size: self.batch_size,
            optimizer: self.optimizer,
            regularization: self.regularization,
            ..TrainConfig::default()
        }
    }
}

/// What a [`step`](OnlineLearner::step) or [`partial_fit`](OnlineLearner::partial_fit) did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepReport {
    /// Updates applied by this call.
    pub updates: u32,
    /// Rounds that ended during this call.
    pub rounds: u32,
    /// The metric of the last round that ended (or of the drift watch), if any; NaN after a
    /// round that diverged.
    pub metric: Option<f32>,
    /// A warm restart happened in this call.
    pub restarted: bool,
    /// The learner is stopped (by the controller) after this call.
    pub stopped: Option<StopCause>,
}

/// The counters of an [`OnlineLearner`] (all `Copy`, for the error backup).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Progress {
    /// Rounds ended so far (the controller's epoch count).
    round: u32,
    /// Updates in the current round so far.
    in_round: u32,
    /// The current round's rate (set when it starts).
    lr: f32,
    /// Σ batch loss × batch size, and samples, in the current round.
    loss_sum: f64,
    samples: u64,
    /// Updates applied in total.
    updates: u64,
    /// Next training-window row for `step`.
    cursor: usize,
    /// Samples pushed (for the held-out split).
    pushed: u64,
    /// The controller has seen the starting metric.
    started: bool,
    stopped: Option<StopCause>,
    /// Bad rounds in a row (drift).
    bad: u32,
    /// The running mean of the good rounds' metrics since the start or the last restart
    /// (NaN until the first finite metric).
    level: f32,
    /// The rate of the first round since the start or the last restart.
    peak: f32,
    /// Warm restarts so far.
    restarts: u32,
}

/// A model that learns from a stream: see the [module docs](self). `M` is the model
/// ([`crate::LinearModel<D>`], [`crate::LinearClassifier<D, K>`]), `D` its feature count, `N`
/// the training window's capacity and `V` the held-out window's (both ≥ 1, checked at compile
/// time: `V = 1` when nothing is held out).
///
/// A call that fails (an error from a kernel other than an overflow) leaves the model, its
/// state, the best copy, the controller and the counters as they were; the events it already
/// delivered stand.
#[derive(Debug, Clone)]
pub struct OnlineLearner<M: Trainable, const D: usize, const N: usize, const V: usize> {
    model: M,
    state: OptimState<M, 2>,
    best: (M, OptimState<M, 2>),
    controller: Controller,
    config: OnlineConfig,
    train: Window<N, D>,
    holdout: Window<V, D>,
    progress: Progress,
}

impl<M: Trainable, const D: usize, const N: usize, const V: usize> OnlineLearner<M, D, N, V> {
    /// A learner starting from `model`, with empty windows (both use `sampling`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an invalid configuration or controller configuration,
    /// [`Error::LengthMismatch`] if the model does not have `D` features,
    /// [`Error::NonFinite`] for non-finite parameters.
    pub fn new(
        mut model: M,
        controller: ControllerConfig,
        config: OnlineConfig,
        sampling: Sampling,
    ) -> Result<Self, Error> {
        config.validate()?;
        let controller = Controller::new(controller)?;
        let obj = model.objective();
        let mut g = M::zero_grad();
        let (gw, gb) = M::grad_parts(&mut g);
        let (w, b) = model.params();
        train::check_model(obj, w, b, gw, gb, D)?;
        let state = OptimState::new();
        // A second generator for the held-out reservoir, decorrelated from the first.
        let held = match sampling {
            Sampling::Reservoir { seed } => Sampling::Reservoir {
                seed: seed ^ 0x9e37_79b9_7f4a_7c15,
            },
            s => s,
        };
        Ok(Self {
            model,
            state,
            best: (model, state),
            controller,
            config,
            train: Window::new(sampling),
            holdout: Window::new(held),
            progress: Progress {
                round: 0,
                in_round: 0,
                lr: 0.0,
                loss_sum: 0.0,
                samples: 0,
                updates: 0,
                cursor: 0,
                pushed: 0,
                started: false,
                stopped: None,
                bad: 0,
                level: f32::NAN,
                peak: f32::NAN,
                restarts: 0,
            },
        })
    }

    /// Offers a sample: every [`holdout_every`](OnlineConfig::holdout_every)-th goes to the
    /// held-out window, the others to the training window. No training happens here.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a NaN or infinity in `x` or `y`; [`Error::InvalidParameter`]
    /// for a target the model's loss does not accept (logistic: outside `[0, 1]`; softmax: not
    /// a class index). The learner is unchanged.
    pub fn push(&mut self, x: &[f32; D], y: f32) -> Result<(), Error> {
        kernel::check_finite("x", x)?;
        self.check_target(y)?;
        let k = u64::from(self.config.holdout_every);
        self.progress.pushed = self.progress.pushed.saturating_add(1);
        if k > 0 && self.progress.pushed.is_multiple_of(k) {
            self.holdout.put(x, y);
        } else {
            self.train.put(x, y);
        }
        Ok(())
    }

    /// Offers a sample to the held-out window directly (for a separate validation stream).
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_holdout(&mut self, x: &[f32; D], y: f32) -> Result<(), Error> {
        kernel::check_finite("x", x)?;
        self.check_target(y)?;
        self.holdout.put(x, y);
        Ok(())
    }

    fn check_target(&mut self, y: f32) -> Result<(), Error> {
        match self.model.objective() {
            Objective::Single(Loss::Squared) => kernel::check_finite("y", &[y]),
            Objective::Single(l) => kernel::check_targets(l, &[y]),
            Objective::Softmax => kernel::check_labels(&[y], self.model.params().1.len()),
        }
    }

    /// Runs [`steps_per_call`](OnlineConfig::steps_per_call) updates on mini-batches of the
    /// training window, taken in slot order from where the last call stopped and wrapping
    /// around; ends rounds as they fill. Does nothing while the window is empty. While the
    /// learner is stopped, only watches for drift (one loss pass) if drift handling is on.
    ///
    /// # Errors
    /// A kernel's error other than an overflow (which is divergence, handled by the
    /// controller); then the model, its state and the counters are as before the call.
    pub fn step(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<StepReport, Error> {
        let mut report = StepReport::default();
        if self.train.is_empty() {
            report.stopped = self.progress.stopped;
            return Ok(report);
        }
        self.undo_on_error(|l| l.step_inner(&mut report, on_event))?;
        report.stopped = self.progress.stopped;
        Ok(report)
    }

    /// Runs `f`; if it fails, puts back the model, its state, the best copy, the controller
    /// and the counters as they were (the windows are not touched by training).
    fn undo_on_error(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let backup = (
            self.model,
            self.state,
            self.best,
            self.controller,
            self.progress,
        );
        let out = f(self);
        if out.is_err() {
            (
                self.model,
                self.state,
                self.best,
                self.controller,
                self.progress,
            ) = backup;
        }
        out
    }

    fn step_inner(
        &mut self,
        report: &mut StepReport,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<(), Error> {
        if self.progress.stopped.is_some() {
            // A call while stopped counts as one update of an idle round; the watch runs at
            // the round's end.
            if self.idle_round_ends() {
                self.watch(report, None, on_event);
            }
            return Ok(());
        }
        for _ in 0..self.config.steps_per_call {
            let start = if self.progress.cursor < self.train.len() {
                self.progress.cursor
            } else {
                0
            };
            let end = start.saturating_add(self.config.batch_size);
            self.progress.cursor = if end >= self.train.len() { 0 } else { end };
            self.update(Batch::Window(start), report, on_event)?;
            if self.progress.stopped.is_some() {
                break;
            }
        }
        Ok(())
    }

    /// One update on a batch the caller holds (`x`: `len · D` floats, row after row; `y`: one
    /// target per row), counted in the current round like a window batch. The windows are not
    /// touched, except to measure the metric at a round's end. While stopped, no update: the
    /// batch's loss is the drift watch's metric when no window holds samples.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`], [`Error::LengthMismatch`], non-finite or invalid data, and
    /// kernel errors other than an overflow; then the learner is as before the call.
    pub fn partial_fit(
        &mut self,
        x: &[f32],
        y: &[f32],
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<StepReport, Error> {
        let mut report = StepReport::default();
        if y.is_empty() {
            return Err(Error::EmptyBatch);
        }
        kernel::check_len("x", x.len(), y.len().saturating_mul(D))?;
        kernel::check_finite("x", x)?;
        for &t in y {
            self.check_target(t)?;
        }
        if self.progress.stopped.is_some() {
            if self.idle_round_ends() {
                self.watch(&mut report, Some((x, y)), on_event);
            }
        } else {
            self.undo_on_error(|l| l.update(Batch::Slice(x, y), &mut report, on_event))?;
        }
        report.stopped = self.progress.stopped;
        Ok(report)
    }

    /// One update in the current round, and the round's end if it fills.
    fn update(
        &mut self,
        batch: Batch<'_>,
        report: &mut StepReport,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<(), Error> {
        let kern = M::kernels();
        let obj = self.model.objective();
        let Self {
            model,
            state,
            best,
            controller,
            config,
            train,
            holdout,
            progress: p,
        } = self;
        let (eval, need) = eval_rows(config, train, holdout);
        let (xb, yb) = match batch {
            Batch::Window(start) => train.rows(start, config.batch_size),
            Batch::Slice(x, y) => (x, y),
        };
        let mut run = TypedRun {
            model,
            state,
            grad: M::zero_grad(),
        };
        let mut no_epoch = |_: &EpochRecord| {};
        let mut hooks = Hooks {
            on_event,
            on_epoch: &mut no_epoch,
        };
        // Warm-up (the metric's window not yet full): updates at the schedule's first rate,
        // no round.
        let warming = !p.started && eval.is_some_and(|(_, y)| y.len() < need);
        if !p.started && !warming {
            p.started = true;
            // The starting point of the run: the first best copy, as in `fit_controlled`.
            *best = run.snapshot();
            if let Some(rows) = eval {
                controller.start(loss_on(&mut run, rows), hooks.on_event);
            }
        }
        if !warming && p.in_round == 0 {
            p.lr = controller.rate(u64::from(p.round));
            // The highest rate of the run so far (a warm-up schedule climbs to it).
            p.peak = p.peak.max(p.lr);
        }
        let ran = {
            let ((w, b), (gw, gb), mut st) = run.split();
            let mut stepping = Stepping {
                rule: config.optimizer,
                regularization: &config.regularization,
                lr: if warming { controller.rate(0) } else { p.lr },
                clip: controller.clip(),
                state: &mut st,
            };
            train::batch_step((obj, kern), (xb, yb), (w, b), (gw, gb), &mut stepping)?
        };
        if warming {
            if ran.is_some() {
                p.updates += 1;
                report.updates += 1;
            }
            return Ok(());
        }
        let round_mean = match ran {
            Some(loss) => {
                p.updates += 1;
                report.updates += 1;
                p.in_round += 1;
                p.loss_sum += f64::from(loss) * yb.len() as f64;
                p.samples += yb.len() as u64;
                if p.in_round < config.round_steps {
                    return Ok(());
                }
                Some((p.loss_sum / p.samples as f64) as f32)
            }
            None => None,
        };
        // The round ends: after `round_steps` updates, or at a diverged step.
        p.round = p.round.saturating_add(1);
        let epoch = p.round;
        let fallback = round_mean.unwrap_or(f32::NAN);
        let mut metric_of =
            |run: &mut TypedRun<'_, M, 2>| eval.map_or(fallback, |rows| loss_on(run, rows));
        let (stop, metric) = train::end_epoch(
            &mut run,
            best,
            (epoch, p.lr, round_mean),
            &mut metric_of,
            controller,
            &mut hooks,
        );
        p.in_round = 0;
        p.loss_sum = 0.0;
        p.samples = 0;
        report.rounds += 1;
        report.metric = Some(metric);
        if let Some(cause) = stop {
            p.stopped = Some(cause);
            // As `fit_controlled` returns it: the best copy.
            run.restore(best);
        }
        drift_check(
            config,
            controller,
            p,
            (&mut run, best),
            metric,
            report,
            hooks.on_event,
        );
        Ok(())
    }

    /// Counts an idle update of a stopped learner; true when its idle round ends.
    fn idle_round_ends(&mut self) -> bool {
        let p = &mut self.progress;
        p.in_round = p.in_round.saturating_add(1);
        if p.in_round >= self.config.round_steps {
            p.in_round = 0;
            true
        } else {
            false
        }
    }

    /// A stopped learner's drift watch: one metric, one drift check.
    fn watch(
        &mut self,
        report: &mut StepReport,
        batch: Option<Rows<'_>>,
        on_event: &mut dyn FnMut(&Event),
    ) {
        if self.config.drift.is_none() {
            return;
        }
        let Self {
            model,
            state,
            best,
            controller,
            config,
            train,
            holdout,
            progress: p,
        } = self;
        let (eval, _) = eval_rows(config, train, holdout);
        let mut run = TypedRun {
            model,
            state,
            grad: M::zero_grad(),
        };
        // The windows' loss; with no window holding samples, the caller's batch's.
        let Some(rows) = eval.or(batch) else {
            return;
        };
        let metric = loss_on(&mut run, rows);
        report.metric = Some(metric);
        drift_check(
            config,
            controller,
            p,
            (&mut run, best),
            metric,
            report,
            on_event,
        );
    }

    /// The current weights (for [`Rule::Averaged`], the average once it has started).
    pub fn model(&self) -> M {
        with_average(self.config.optimizer, self.model, self.state)
    }

    /// The best copy: the weights with the best metric since the start or the last warm
    /// restart (for [`Rule::Averaged`], its average), as `fit_controlled` returns them.
    pub fn best_model(&self) -> M {
        with_average(self.config.optimizer, self.best.0, self.best.1)
    }

    /// The optimizer state that goes with [`model`](Self::model).
    pub fn state(&self) -> &OptimState<M, 2> {
        &self.state
    }

    /// The controller (its rate, best metric, rollbacks).
    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// The training window.
    pub fn window(&self) -> &Window<N, D> {
        &self.train
    }

    /// The held-out window.
    pub fn holdout(&self) -> &Window<V, D> {
        &self.holdout
    }

    /// Rounds ended so far.
    pub fn rounds(&self) -> u32 {
        self.progress.round
    }

    /// Updates applied so far.
    pub fn updates(&self) -> u64 {
        self.progress.updates
    }

    /// Warm restarts so far.
    pub fn restarts(&self) -> u32 {
        self.progress.restarts
    }

    /// Why the learner stopped, if it did (a warm restart lifts it).
    pub fn stopped(&self) -> Option<StopCause> {
        self.progress.stopped
    }

    /// The rate of the current (or next) round.
    pub fn rate(&self) -> f32 {
        self.controller.rate(u64::from(self.progress.round))
    }
}

/// The loss of the run's current weights on `rows` (NaN if the kernel refuses them).
fn loss_on<M: Trainable>(run: &mut TypedRun<'_, M, 2>, (x, y): Rows<'_>) -> f32 {
    let obj = run.model.objective();
    let ((w, b), _, _) = run.split();
    (M::kernels().loss)(obj, x, y, (w, b)).unwrap_or(f32::NAN)
}

/// Where an update's batch comes from.
enum Batch<'a> {
    /// The training window's rows from this slot (`batch_size` of them, or to the end).
    Window(usize),
    /// The caller's rows.
    Slice(&'a [f32], &'a [f32]),
}

/// Features and targets of some rows.
type Rows<'a> = (&'a [f32], &'a [f32]);

/// The rows the metric reads and the number it waits for: the held-out window if it holds
/// samples; an empty held-out window to wait for if samples are being pushed and some are to
/// be held out; else the training window; `None` when no window holds samples and nothing is
/// to be held out (only `partial_fit`: the round's mean loss is the metric). The number is at
/// least 1, so the controller never starts on an empty window.
fn eval_rows<'a, const N: usize, const V: usize, const D: usize>(
    config: &OnlineConfig,
    train: &'a Window<N, D>,
    holdout: &'a Window<V, D>,
) -> (Option<Rows<'a>>, usize) {
    let need = |cap: usize| config.metric_warmup.unwrap_or(cap).clamp(1, cap);
    if !holdout.is_empty() || (config.holdout_every > 0 && !train.is_empty()) {
        (Some((holdout.x(), holdout.y())), need(V))
    } else if !train.is_empty() {
        (Some((train.x(), train.y())), need(N))
    } else {
        (None, 0)
    }
}

/// The model as training returns it: the average for [`Rule::Averaged`] once started.
fn with_average<M: Trainable>(rule: Rule, mut model: M, mut state: OptimState<M, 2>) -> M {
    let (w, b) = model.params();
    train::finish_average(rule, (w, b), &state.parts());
    model
}

/// Follows the metric's level and makes a warm restart after `patience` bad rounds in a row,
/// if the learner is frozen: stopped, or at a rate below the highest of its run (a restart of
/// a learner at full rate would change nothing). Bad rounds do not move the level (a trimmed
/// running mean: trimming at `factor` times the mean barely biases it).
fn drift_check<M: Trainable>(
    config: &OnlineConfig,
    controller: &mut Controller,
    p: &mut Progress,
    (run, best): (&mut TypedRun<'_, M, 2>, &mut (M, OptimState<M, 2>)),
    metric: f32,
    report: &mut StepReport,
    on_event: &mut dyn FnMut(&Event),
) {
    let Some(d) = config.drift else {
        return;
    };
    if !metric.is_finite() {
        return;
    }
    if !p.level.is_finite() {
        p.level = metric;
        p.bad = 0;
        return;
    }
    let bad = f64::from(metric) > f64::from(d.factor) * f64::from(p.level) + f64::from(d.floor);
    if !bad {
        p.bad = 0;
        p.level += LEVEL_WEIGHT * (metric - p.level);
        return;
    }
    p.bad = p.bad.saturating_add(1);
    let frozen = p.stopped.is_some() || controller.rate(u64::from(p.round)) < p.peak;
    if p.bad >= d.patience && frozen {
        controller.restart(p.round, metric, on_event);
        if let Rule::Averaged { .. } = config.optimizer {
            // The average of the old regime's weights would hold the model back: start it again.
            *run.state = OptimState::new();
        }
        // The weights as they are now (after any rollback of this round) are the first best
        // copy of the new regime; the controller's best is forgotten, so the next round's
        // metric replaces it (and the copy) whatever it is.
        *best = run.snapshot();
        p.stopped = None;
        p.bad = 0;
        p.level = f32::NAN;
        p.peak = f32::NAN;
        p.in_round = 0;
        p.loss_sum = 0.0;
        p.samples = 0;
        p.restarts = p.restarts.saturating_add(1);
        report.restarted = true;
    }
}

/// The weight of a good round's metric in the drift level (a running mean over about 8
/// rounds).
const LEVEL_WEIGHT: f32 = 0.125;
