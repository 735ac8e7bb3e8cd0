//! The online learner: bounded steps over the windows, rounds as the controller's epochs, drift
//! and warm restarts (see the [module docs](super)).

use super::config::{OnlineConfig, StepReport};
use super::slots::{DetectorSlot, Gradient, Solver};
use super::window::{Sampling, Window};
use crate::Error;
use crate::check;
use crate::control::drift::{Adwin, Signal};
use crate::control::{Controller, ControllerConfig, Event, Stop};
use crate::kernel::simd::sample;
use crate::loss::{Loss, Objective};
use crate::optim::{OneScalars, OptimState, Rls, Rule};
use crate::scale::Scaler;
use crate::train::{self, Run, Stepping, Trainable, TypedRun};

/// The counters of an [`OnlineLearner`] (all `Copy`, for the error backup).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Progress {
    /// Rounds ended so far (the controller's epoch count).
    pub(crate) round: u32,
    /// Updates in the current round so far.
    pub(crate) in_round: u32,
    /// The current round's rate (set when it starts).
    pub(crate) lr: f32,
    /// Σ batch loss × batch size, and samples, in the current round.
    pub(crate) loss_sum: f64,
    pub(crate) samples: u64,
    /// Updates applied in total.
    pub(crate) updates: u64,
    /// Next training-window row for `step`.
    pub(crate) cursor: usize,
    /// Samples pushed (for the held-out split).
    pub(crate) pushed: u64,
    /// The controller has seen the starting metric.
    pub(crate) started: bool,
    pub(crate) stopped: Option<Stop>,
    /// Bad rounds in a row (drift).
    pub(crate) bad: u32,
    /// The running mean of the good rounds' metrics since the start or the last restart
    /// (NaN until the first finite metric).
    pub(crate) level: f32,
    /// The rate of the first round since the start or the last restart.
    pub(crate) peak: f32,
    /// Warm restarts so far.
    pub(crate) restarts: u32,
    /// The running mean of the metrics of the rounds the guard let pass (NaN until the
    /// first): the noise level below which the guard never sees a spike.
    pub(crate) guard_level: f32,
    /// The detector's watch (see [`Watch`]).
    pub(crate) watch: Watch,
}

/// What the statistical detector has seen since its last restart.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Watch {
    /// Samples pushed (training, held out) since the warning zone began (`None`: no warning
    /// now).
    pub(crate) since: Option<[u32; 2]>,
    /// A drift is confirmed: the next `step` restarts, keeping the newest `keep` samples
    /// (training, held out).
    pub(crate) confirmed: Option<[u32; 2]>,
    /// The last prequential loss.
    pub(crate) last: f32,
    /// The level of the prequential loss the exceedances are measured against: a winsorised
    /// running mean (each loss capped at 10 times the level), over the first samples and then
    /// over about the last [`WATCH_MEMORY`] (NaN until the first).
    pub(crate) level: f32,
    /// Losses in `level` (up to [`WATCH_MEMORY`]).
    pub(crate) seen: u32,
}

/// A model that learns from a stream: see the [module docs](super). `M` is the model
/// ([`crate::LinearModel<D>`], [`crate::LinearClassifier<D, K>`]), `D` its feature count, `N`
/// the training window's capacity and `V` the held-out window's (both ≥ 1, checked at compile
/// time: `V = 1` when nothing is held out).
///
/// A call that fails (an error from a kernel other than an overflow) leaves the model, its
/// state, the best copy, the controller and the counters as they were; the events it already
/// delivered stand.
///
/// ```
/// use npoa::{LinearModel, control::ControllerConfig};
/// use npoa::online::{OnlineConfig, OnlineLearner, Sampling};
///
/// // A sensor whose output is 0.5·x0 + 2·x1 − 1: 32 samples to train on, 8 held out.
/// let mut learner = OnlineLearner::<LinearModel<2>, 2, 32, 8>::new(
///     LinearModel::zeros(),
///     ControllerConfig::constant(0.2)?,
///     OnlineConfig::default(),
///     Sampling::Sliding,
/// )?;
/// let mut updates = 0;
/// for i in 0..1500u32 {
///     let x = [(i % 11) as f32 / 11.0, (i % 3) as f32 / 3.0];
///     learner.push(&x, 0.5 * x[0] + 2.0 * x[1] - 1.0)?; // stores, does not train
///     updates += learner.step(&mut |_event| {})?.updates; // a bounded amount of training
/// }
/// let model = learner.model(); // in raw feature units (the stream is standardised inside)
/// assert!((model.weights()[0] - 0.5).abs() < 0.02 && (model.weights()[1] - 2.0).abs() < 0.02);
/// assert!((model.bias() + 1.0).abs() < 0.02);
/// assert_eq!(u64::from(updates), learner.updates());
///
/// // A sample that does not fit is refused and changes nothing.
/// assert!(learner.push(&[f32::NAN, 0.0], 1.0).is_err());
/// assert_eq!(learner.model(), model);
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct OnlineLearner<
    M: Trainable,
    const D: usize,
    const N: usize,
    const V: usize,
    W: DetectorSlot = Adwin,
    S: Solver<D> = Gradient,
> {
    pub(crate) model: M,
    pub(crate) state: OptimState<M, 2>,
    pub(crate) best: (M, OptimState<M, 2>),
    pub(crate) controller: Controller,
    pub(crate) config: OnlineConfig,
    pub(crate) train: Window<N, D>,
    pub(crate) holdout: Window<V, D>,
    pub(crate) progress: Progress,
    /// The running moments (during the warm-up) or the frozen standardisation.
    pub(crate) scaler: Scaler<D>,
    /// The warm-up is over: the scaler is frozen, the windows and the model are standardised.
    pub(crate) frozen: bool,
    /// The statistical drift detector ([`OnlineConfig::detector`]).
    pub(crate) detector: Option<W>,
    /// Recursive least squares in place of the gradient rule ([`OnlineConfig::rls`]); its
    /// weights are the model's.
    pub(crate) rls: Option<S>,
}

impl<M: Trainable, const D: usize, const N: usize, const V: usize, W: DetectorSlot, S: Solver<D>>
    OnlineLearner<M, D, N, V, W, S>
{
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
        let detector = config.detector.map(W::from_config).transpose()?;
        let rls = match config.rls {
            None => None,
            Some(c) => {
                let (w, b) = model.params();
                let (Ok(w), [b], Objective::Single(Loss::Squared)) =
                    (<&[f32; D]>::try_from(&*w), b, obj)
                else {
                    return Err(Error::InvalidParameter {
                        name: "rls",
                        reason: "recursive least squares fits a linear model with the squared loss",
                    });
                };
                Some(S::from_config(c, w, *b)?)
            }
        };
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
                guard_level: f32::NAN,
                watch: Watch {
                    last: f32::NAN,
                    level: f32::NAN,
                    ..Watch::default()
                },
            },
            scaler: Scaler::new(),
            frozen: false,
            detector,
            rls,
        })
    }

    /// Offers a sample: every [`holdout_every`](OnlineConfig::holdout_every)-th goes to the
    /// held-out window, the others to the training window. No training happens here. With
    /// [`standardize`](OnlineConfig::standardize) on, the sample feeds the running moments
    /// during the warm-up (the sample that completes it freezes the scaler and standardises
    /// the windows), and is standardised before it is stored after it.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a NaN or infinity in `x` or `y`; [`Error::InvalidParameter`]
    /// for a target the model's loss does not accept (logistic: outside `[0, 1]`; softmax: not
    /// a class index); [`Error::Overflow`] if a standardised value (or, at the freeze, the
    /// standardised model) would overflow `f32`. The learner is unchanged.
    pub fn push(&mut self, x: &[f32; D], y: f32) -> Result<(), Error> {
        if !sample::all_finite(x) {
            check::check_finite("x", x)?;
        }
        self.check_target(y)?;
        let k = u64::from(self.config.holdout_every);
        let pushed = self.progress.pushed.saturating_add(1);
        let held = k > 0 && pushed.is_multiple_of(k);
        self.offer(x, y, held)?;
        self.progress.pushed = pushed;
        Ok(())
    }

    /// Offers a sample to the held-out window directly (for a separate validation stream).
    /// With [`standardize`](OnlineConfig::standardize) on, it is standardised (and counted in
    /// the warm-up) as a pushed sample.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_holdout(&mut self, x: &[f32; D], y: f32) -> Result<(), Error> {
        check::check_finite("x", x)?;
        self.check_target(y)?;
        self.offer(x, y, true)
    }

    /// Stores a checked sample in a window, standardising or warming up as configured; all or
    /// nothing.
    fn offer(&mut self, x: &[f32; D], y: f32, held: bool) -> Result<(), Error> {
        let row = match self.config.standardize {
            None => *x,
            Some(_) if self.frozen => self.standardized(x)?,
            Some(warmup) => {
                let mut s = self.scaler;
                s.push(x, y)?;
                if s.count() < warmup as u64 {
                    self.scaler = s;
                    *x
                } else {
                    // The sample completes the warm-up: check everything, then freeze.
                    let z = s.standardize_row(x);
                    check::check_finite("x", &z).map_err(|_| Error::Overflow {
                        what: "standardised features",
                    })?;
                    self.freeze(s)?;
                    z
                }
            }
        };
        if !self.warming_up() {
            self.watch_sample(&row, y, held);
            if !held {
                self.rls_update(&row, y)?;
            }
        }
        if held {
            self.holdout.put(&row, y);
        } else {
            self.train.put(&row, y);
        }
        if let Some(s) = self.progress.watch.since.as_mut() {
            let c = if held { &mut s[1] } else { &mut s[0] };
            *c = c.saturating_add(1);
        }
        Ok(())
    }

    /// Feeds the detector with the prequential value of a sample (in the model's space),
    /// once the controller has started; notes a warning or a confirmed drift for the next
    /// [`step`](Self::step). A drift that ADWIN sees as a fall of the error is no drift to
    /// restart for.
    fn watch_sample(&mut self, row: &[f32; D], y: f32, held: bool) {
        let Some(det) = self.detector.as_mut() else {
            return;
        };
        let p = &mut self.progress;
        if !p.started || p.watch.confirmed.is_some() {
            return;
        }
        // A bounded, scale-free stream, as the detectors' bounds assume (values in [0, 1]): a
        // classifier's misclassification, or whether the sample's loss exceeds
        // `EXCEEDANCE` times the running level of the held-out loss. A raw loss would not do:
        // its scale is the data's, and one outlier of a heavy-tailed stream moves a mean test
        // by thousands of times the noise.
        let loss = model_loss(self.model, (row.as_slice(), core::slice::from_ref(&y)));
        let value = match self.model.objective() {
            Objective::Softmax | Objective::Single(Loss::Logistic) => {
                misclassified(self.model, row, y)
            }
            Objective::Single(_) => {
                let w = &mut p.watch;
                if !loss.is_finite() {
                    return;
                }
                let ready = w.seen >= WATCH_WARMUP;
                let value = if f64::from(loss) > EXCEEDANCE * f64::from(w.level.max(0.0)) {
                    1.0
                } else {
                    0.0
                };
                if w.seen == 0 || !w.level.is_finite() {
                    w.level = loss;
                } else {
                    let capped = loss.min(10.0 * w.level.abs());
                    w.level += (capped - w.level) / (w.seen.saturating_add(1)) as f32;
                }
                w.seen = w.seen.saturating_add(1).min(WATCH_MEMORY);
                if !ready {
                    return;
                }
                value
            }
        };
        if !value.is_finite() {
            return;
        }
        p.watch.last = loss;
        let before = det.window_mean();
        match det.update(value) {
            Signal::Stable => p.watch.since = None,
            Signal::Warning => {
                p.watch.since.get_or_insert([0, 0]);
            }
            Signal::Drift => {
                // The samples since the warning began, this one included; without a warning
                // zone, none: no detector here marks where the change began (ADWIN's shrunk
                // window still holds whole buckets from before it).
                let keep = match (p.watch.since, before) {
                    (_, Some(m0)) if !det.window_mean().is_some_and(|m| m > m0) => None,
                    (Some([t, h]), _) => Some(if held { [t, h + 1] } else { [t + 1, h] }),
                    (None, _) => Some([0, 0]),
                };
                p.watch.since = None;
                p.watch.confirmed = keep;
            }
        }
    }

    /// One recursive-least-squares update on a training sample, counted in the current
    /// round (with [`OnlineConfig::rls`]; nothing otherwise, or while stopped).
    fn rls_update(&mut self, row: &[f32; D], y: f32) -> Result<bool, Error> {
        let p = &mut self.progress;
        let Some(rls) = self.rls.as_mut().and_then(S::rls) else {
            return Ok(false);
        };
        if p.stopped.is_some() {
            return Ok(false);
        }
        let e = rls.update(row, y)?;
        sync_model(&mut self.model, rls);
        p.updates = p.updates.saturating_add(1);
        if p.started {
            // The round's mean training loss, each sample's loss taken before its update
            // (the squared loss's `e²/2`).
            p.in_round = p.in_round.saturating_add(1).min(self.config.round_steps);
            p.loss_sum += 0.5 * f64::from(e) * f64::from(e);
            p.samples = p.samples.saturating_add(1);
        }
        Ok(true)
    }

    /// The learner trains by recursive least squares.
    fn is_rls(&self) -> bool {
        self.rls.is_some_and(|mut s| s.rls().is_some())
    }

    /// A sample standardised by the frozen scaler.
    fn standardized(&self, x: &[f32; D]) -> Result<[f32; D], Error> {
        let z = self.scaler.standardize_row(x);
        if !sample::all_finite(&z) {
            return Err(Error::Overflow {
                what: "standardised features",
            });
        }
        Ok(z)
    }

    /// Ends the warm-up with the scaler `s`: the model and its best copy move to standardised
    /// space ([`Scaler::unfold`]: they still make the same predictions), the windows' rows are
    /// standardised in place, and the scaler is frozen. All or nothing. No update ran during
    /// the warm-up, so the optimizer state is the fresh one.
    fn freeze(&mut self, s: Scaler<D>) -> Result<(), Error> {
        let mut model = self.model;
        let (w, b) = model.params();
        s.unfold(w, b)?;
        let mut best = self.best.0;
        let (w, b) = best.params();
        s.unfold(w, b)?;
        s.check_standardize(self.train.x())?;
        s.check_standardize(self.holdout.x())?;
        // Checked: these cannot fail now.
        s.standardize_in_place(self.train.x_mut())?;
        s.standardize_in_place(self.holdout.x_mut())?;
        self.model = model;
        self.best.0 = best;
        self.scaler = s;
        self.frozen = true;
        Ok(())
    }

    /// Still in the standardisation warm-up: no update runs.
    fn warming_up(&self) -> bool {
        self.config.standardize.is_some() && !self.frozen
    }

    /// The frozen standardisation once the warm-up is over (`None` before, or when
    /// [`standardize`](OnlineConfig::standardize) is off). The learner's model, windows and
    /// optimizer state are in its standardised space; [`model`](Self::model) and
    /// [`best_model`](Self::best_model) fold it back.
    pub fn scaler(&self) -> Option<&Scaler<D>> {
        self.frozen.then_some(&self.scaler)
    }

    fn check_target(&mut self, y: f32) -> Result<(), Error> {
        match self.model.objective() {
            // The squared error takes any finite target (the common case, without the
            // loss's dispatch).
            Objective::Single(Loss::Squared) if y.is_finite() => Ok(()),
            Objective::Single(l) => l.check_targets(&[y]),
            Objective::Softmax => check::check_labels(&[y], self.model.params().1.len()),
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
        if self.progress.watch.confirmed.is_some() {
            self.detector_restart(&mut report, on_event);
        }
        if self.train.is_empty() || self.warming_up() {
            report.stopped = self.progress.stopped;
            return Ok(report);
        }
        let p = &self.progress;
        if self.is_rls() {
            self.undo_on_error(|l| l.rls_step(&mut report, on_event))?;
        } else if p.started && p.stopped.is_none() && self.config.steps_per_call == 1 {
            // One update of a started run: before its step (which is all or nothing) it moves
            // only the cursor and, at a round's first update, the round's rate and the peak
            // rate; after its step nothing can fail. So an error puts back just those, instead
            // of a copy of the whole learner taken on every call.
            let saved = (p.cursor, p.lr, p.peak);
            let out = match self.one_update(&mut report, on_event) {
                Some(out) => out,
                None => self.step_inner(&mut report, on_event),
            };
            if out.is_err() {
                let p = &mut self.progress;
                (p.cursor, p.lr, p.peak) = saved;
            }
            out?;
        } else {
            self.undo_on_error(|l| l.step_inner(&mut report, on_event))?;
        }
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
            self.rls,
        );
        let out = f(self);
        if out.is_err() {
            (
                self.model,
                self.state,
                self.best,
                self.controller,
                self.progress,
                self.rls,
            ) = backup;
        }
        out
    }

    /// A `step` of a recursive-least-squares learner: the updates ran in `push`; this starts
    /// the controller once the metric's window is ready, ends the round once it holds
    /// `round_steps` updates, and, while stopped, watches for drift. A rollback, a stop (back
    /// to the best copy) or a restart resets `P`.
    fn rls_step(
        &mut self,
        report: &mut StepReport,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<(), Error> {
        if self.progress.stopped.is_some() {
            if self.idle_round_ends() {
                self.watch(report, None, on_event);
                self.sync_rls(report.restarted);
            }
            return Ok(());
        }
        let p = &mut self.progress;
        if !p.started {
            let (eval, need) = eval_rows(&self.config, &self.train, &self.holdout);
            if eval.is_some_and(|(_, y)| y.len() < need) {
                return Ok(());
            }
            p.started = true;
            self.best = (self.model, self.state);
            if let Some(rows) = eval {
                self.controller
                    .start(model_loss(self.model, rows), &mut *on_event);
            }
            return Ok(());
        }
        if p.in_round < self.config.round_steps {
            return Ok(());
        }
        p.lr = self.controller.rate(u64::from(p.round));
        let mean = (p.loss_sum / p.samples.max(1) as f64) as f32;
        let retries = self.controller.retries();
        self.end_round(Some(mean), report, on_event);
        let moved = self.controller.retries() != retries || self.progress.stopped.is_some();
        self.sync_rls(moved || report.restarted);
        Ok(())
    }

    /// After the controller moved the model (a rollback, a stop's best copy) or restarted:
    /// the RLS weights become the model's and `P` starts again.
    fn sync_rls(&mut self, reset: bool) {
        if let (true, Some(rls)) = (reset, self.rls.as_mut().and_then(S::rls)) {
            let (w, b) = self.model.params();
            if let (Ok(w), [b]) = (<&[f32; D]>::try_from(&*w), b) {
                rls.set_params(w, *b);
            }
            rls.reset();
        }
    }

    /// The warm restart on a drift the detector confirmed: the controller starts again, the
    /// windows keep only the samples since the warning began (or since ADWIN's cut; none for
    /// Page-Hinkley, which marks no change point), the optimizer state starts afresh, and an
    /// RLS learner resets `P` and learns the kept training samples again, oldest first — the
    /// learner a background learner started at the warning would be, built at the
    /// confirmation from the window instead of kept beside the foreground one (no second
    /// model in memory). Until the held-out window holds its warm-up again, the updates run
    /// at the schedule's first rate and no round ends.
    fn detector_restart(&mut self, report: &mut StepReport, on_event: &mut dyn FnMut(&Event)) {
        let p = &mut self.progress;
        let Some([t, h]) = p.watch.confirmed.take() else {
            return;
        };
        p.watch.since = None;
        p.watch.seen = 0;
        p.watch.level = f32::NAN;
        self.controller.restart(p.round, p.watch.last, on_event);
        self.train.keep_newest(t as usize);
        self.holdout.keep_newest(h as usize);
        self.progress.cursor = 0;
        self.state = OptimState::new();
        if let Some(rls) = self.rls.as_mut().and_then(S::rls) {
            rls.reset();
            for (row, y) in self.train.chronological() {
                if rls.update(row, y).is_ok() {
                    self.progress.updates = self.progress.updates.saturating_add(1);
                }
            }
            sync_model(&mut self.model, rls);
        }
        self.best = (self.model, self.state);
        let p = &mut self.progress;
        p.stopped = None;
        p.started = false;
        p.bad = 0;
        p.level = f32::NAN;
        p.peak = f32::NAN;
        p.in_round = 0;
        p.loss_sum = 0.0;
        p.samples = 0;
        p.restarts = p.restarts.saturating_add(1);
        report.restarted = true;
    }

    /// [`step_inner`](Self::step_inner) of a started, running learner with one update of one
    /// row per call, on the single-sample path, without `update`'s general set-up (the metric
    /// rows, a zeroed gradient, `batch_step`'s shape dispatch). The bits and the errors of
    /// `step_inner`. `None`, with nothing changed, where that path does not apply (batches of
    /// more than one row, a softmax model, a model without the fixed-size single-sample
    /// kernels).
    #[inline]
    fn one_update(
        &mut self,
        report: &mut StepReport,
        on_event: &mut dyn FnMut(&Event),
    ) -> Option<Result<(), Error>> {
        if self.config.batch_size != 1 || M::kernels().one.is_none() {
            return None;
        }
        let Objective::Single(loss) = self.model.objective() else {
            return None;
        };
        let Self {
            model,
            state,
            controller,
            config,
            train,
            progress: p,
            ..
        } = self;
        let len = train.len();
        let start = if p.cursor < len { p.cursor } else { 0 };
        let (xb, yb) = train.rows(start, 1);
        let (Ok(x), &[y]) = (<&[f32; D]>::try_from(xb), yb) else {
            return None;
        };
        // A round's first update takes the round's rate (and the run's peak rate).
        let lr = if p.in_round == 0 {
            controller.rate(u64::from(p.round))
        } else {
            p.lr
        };
        let clip = controller.clip();
        let (rule, reg) = (config.optimizer, &config.regularization);
        let sc = &mut OneScalars::new(rule, reg, lr, clip.trust_radius.is_some());
        let (w, b) = model.params();
        let mut st = state.parts();
        // The stored target is checked against the loss as the general step checks it (a
        // window decoded from bytes holds finite targets, not necessarily the loss's).
        let ran =
            match train::row_step::<D>(loss, (x, y), (w, b), &mut st, sc, (rule, reg, lr, clip))? {
                Ok(ran) => ran,
                Err(e) => return Some(Err(e)),
            };
        // As `step_inner` and `update` leave them.
        p.cursor = next_cursor(start, 1, len);
        if p.in_round == 0 {
            p.lr = lr;
            p.peak = p.peak.max(lr);
        }
        if let Some(round_mean) = p.count(ran, 1, config.round_steps, report) {
            self.end_round(round_mean, report, on_event);
        }
        Some(Ok(()))
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
            self.progress.cursor = next_cursor(start, self.config.batch_size, self.train.len());
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
    /// With [`standardize`](OnlineConfig::standardize) on, the batch is standardised like a
    /// pushed sample, into a stack buffer of `N` rows (so it may hold at most `N` rows, the
    /// training window's capacity); during the warm-up its rows only feed the running moments
    /// (no update, `updates == 0`), and the call whose rows complete the warm-up freezes the
    /// scaler and then runs its update.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`], [`Error::LengthMismatch`] (also for more than `N` rows with
    /// standardisation on), non-finite or invalid data, [`Error::Overflow`] for a standardised
    /// value beyond `f32`, and kernel errors other than an overflow; then the learner is as
    /// before the call (except that a call which completed the standardisation warm-up keeps
    /// its freeze when its update then fails).
    pub fn partial_fit(
        &mut self,
        x: &[f32],
        y: &[f32],
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<StepReport, Error> {
        if y.is_empty() {
            return Err(Error::EmptyBatch);
        }
        check::check_len("x", x.len(), y.len().saturating_mul(D))?;
        check::check_finite("x", x)?;
        for &t in y {
            self.check_target(t)?;
        }
        match self.config.standardize {
            None => self.fit_batch(x, y, on_event),
            Some(warmup) => self.fit_standardized(x, y, warmup, on_event),
        }
    }

    /// [`partial_fit`](Self::partial_fit) with standardisation on, after the checks.
    fn fit_standardized(
        &mut self,
        x: &[f32],
        y: &[f32],
        warmup: usize,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<StepReport, Error> {
        if y.len() > N {
            return Err(Error::LengthMismatch {
                what: "y (at most the training window's N rows with standardisation on)",
                expected: N,
                found: y.len(),
            });
        }
        let mut s = self.scaler;
        if !self.frozen {
            for (row, t) in x.chunks_exact(check::nz(D)).zip(y) {
                if let Ok(r) = <&[f32; D]>::try_from(row) {
                    s.push(r, *t)?;
                }
            }
            if s.count() < warmup as u64 {
                self.scaler = s;
                return Ok(StepReport {
                    stopped: self.progress.stopped,
                    ..StepReport::default()
                });
            }
        }
        let mut buf = [[0.0f32; D]; N];
        let z = buf
            .as_flattened_mut()
            .get_mut(..x.len())
            .unwrap_or_default();
        for (a, v) in z.iter_mut().zip(x) {
            *a = *v;
        }
        s.standardize_in_place(z)?;
        if !self.frozen {
            self.freeze(s)?;
        }
        self.fit_batch(z, y, on_event)
    }

    /// The update (or the stopped learner's drift watch) of a checked, standardised batch.
    fn fit_batch(
        &mut self,
        x: &[f32],
        y: &[f32],
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<StepReport, Error> {
        let mut report = StepReport::default();
        if self.is_rls() {
            // Each row is one RLS update (none while stopped), then the round's end if it
            // filled (or the stopped learner's watch).
            self.undo_on_error(|l| {
                for (row, t) in x.chunks_exact(check::nz(D)).zip(y) {
                    if let Ok(r) = <&[f32; D]>::try_from(row)
                        && l.rls_update(r, *t)?
                    {
                        report.updates += 1;
                    }
                }
                l.rls_step(&mut report, on_event)
            })?;
        } else if self.progress.stopped.is_some() {
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
            ..
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
        // Warm-up (the metric's window not yet full): updates at the schedule's first rate,
        // no round.
        let warming = !p.started && eval.is_some_and(|(_, y)| y.len() < need);
        if !p.started && !warming {
            p.started = true;
            // The starting point of the run: the first best copy, as in controlled training.
            *best = run.snapshot();
            if let Some(rows) = eval {
                controller.start(loss_on(&mut run, rows), &mut *on_event);
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
        if let Some(round_mean) = p.count(ran, yb.len(), config.round_steps, report) {
            self.end_round(round_mean, report, on_event);
        }
        Ok(())
    }

    /// The end of a round: after `round_steps` updates (`round_mean`: the round's mean
    /// training loss), or at a diverged step (`None`). The metric, the controller's verdict
    /// (best copy, rollback, stop) and the drift check.
    fn end_round(
        &mut self,
        round_mean: Option<f32>,
        report: &mut StepReport,
        on_event: &mut dyn FnMut(&Event),
    ) {
        let Self {
            model,
            state,
            best,
            controller,
            config,
            train,
            holdout,
            progress: p,
            ..
        } = self;
        let ran = round_mean;
        let (eval, _) = eval_rows(config, train, holdout);
        let mut run = TypedRun {
            model,
            state,
            grad: M::zero_grad(),
        };
        // The round ends: after `round_steps` updates, or at a diverged step.
        p.round = p.round.saturating_add(1);
        let epoch = p.round;
        let fallback = round_mean.unwrap_or(f32::NAN);
        let mut metric_of = |run: &mut TypedRun<'_, M, 2>| {
            (
                eval.map_or(fallback, |rows| loss_on(run, rows)),
                f32::INFINITY,
            )
        };
        if ran.is_some()
            && controller.config().guard.is_some()
            && let Some(rows) = eval
        {
            // The guard compares the weights with the best copy on the same window (a paired
            // comparison: see `Controller::guard_reference`), and never with less than the
            // running level of the metric: on a quiet window, where both losses are far below
            // the noise level, a step taken on an outlier is not a divergence.
            let paired = model_loss(best.0, rows);
            controller.guard_reference(if p.guard_level.is_finite() {
                paired.max(p.guard_level)
            } else {
                paired
            });
        }
        let retries = controller.retries();
        let (stop, _, metric) = train::end_epoch(
            &mut run,
            best,
            (epoch, p.lr, round_mean, p.updates),
            &mut metric_of,
            controller,
            &mut train::watch(|_| {}, &mut *on_event),
        );
        // An untrimmed running mean over about 8 rounds: an excursion that builds up over
        // rounds (an outlier of a heavy-tailed stream reused by the window's batches) raises
        // the level with it, so only a metric that jumps past ten times the recent level (a
        // divergence growing more than about 2.1 times per round: at a ratio `g` per round the
        // metric settles at `8g − 7` times the level) is a spike; a slower divergence is
        // answered at its first non-finite step or metric, which the guard always rolls back.
        if metric.is_finite() && controller.retries() == retries {
            p.guard_level = if p.guard_level.is_finite() {
                p.guard_level + LEVEL_WEIGHT * (metric - p.guard_level)
            } else {
                metric
            };
        }
        p.in_round = 0;
        p.loss_sum = 0.0;
        p.samples = 0;
        report.rounds += 1;
        report.metric = Some(metric);
        if let Some(cause) = stop {
            p.stopped = Some(cause);
            // As controlled training returns it: the best copy.
            run.restore(best);
        }
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
            ..
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

    /// The current weights (for [`Rule::Averaged`], the average once it has started), in raw
    /// feature space: with standardisation on, the trained model folded back
    /// ([`Scaler::fold`]; a folded value beyond `f32`'s range, which needs a standardised
    /// weight near `f32::MAX·σ_j`, is clamped to `±f32::MAX`).
    pub fn model(&self) -> M {
        self.raw(with_average(self.config.optimizer, self.model, self.state))
    }

    /// The best copy: the weights with the best metric since the start or the last warm
    /// restart (for [`Rule::Averaged`], its average), as controlled training returns them; in
    /// raw feature space, as [`model`](Self::model).
    pub fn best_model(&self) -> M {
        self.raw(with_average(
            self.config.optimizer,
            self.best.0,
            self.best.1,
        ))
    }

    /// A model of the learner's (standardised) space in raw feature space.
    fn raw(&self, mut m: M) -> M {
        if self.frozen {
            let (w, b) = m.params();
            // Fails only on shapes, which the constructor checked.
            let _ = self.scaler.fold_saturating(w, b);
        }
        m
    }

    /// The optimizer state that goes with [`model`](Self::model) (in standardised space once
    /// the standardisation warm-up is over).
    pub fn state(&self) -> &OptimState<M, 2> {
        &self.state
    }

    /// The controller (its rate, best metric, rollbacks).
    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// The configuration (as given to [`new`](Self::new), or as decoded from a checkpoint:
    /// read it to know what a [`step`](Self::step) call will cost, `steps_per_call` updates).
    pub fn config(&self) -> &OnlineConfig {
        &self.config
    }

    /// The training window (its rows standardised once the standardisation warm-up is over:
    /// see [`scaler`](Self::scaler)).
    pub fn window(&self) -> &Window<N, D> {
        &self.train
    }

    /// The held-out window (standardised as the [`window`](Self::window)).
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
    pub fn stopped(&self) -> Option<Stop> {
        self.progress.stopped
    }

    /// The rate of the current (or next) round.
    pub fn rate(&self) -> f32 {
        self.controller.rate(u64::from(self.progress.round))
    }
}

/// The loss of the run's current weights on `rows` (NaN if the kernel refuses them).
/// Where the window's next batch starts after the batch of `batch` rows at `start` (wrapping
/// to 0 at the end of a window of `len` samples).
fn next_cursor(start: usize, batch: usize, len: usize) -> usize {
    let end = start.saturating_add(batch);
    if end >= len { 0 } else { end }
}

impl Progress {
    /// Counts a round's update of `rows` rows whose step `ran` (its batch loss before the
    /// step, `None` if it was refused). `Some(round_mean)` when the round ends: after
    /// `round_steps` updates (the round's mean training loss) or at a refused step (`None`).
    #[inline(always)]
    fn count(
        &mut self,
        ran: Option<f32>,
        rows: usize,
        round_steps: u32,
        report: &mut StepReport,
    ) -> Option<Option<f32>> {
        let Some(loss) = ran else {
            return Some(None);
        };
        self.updates += 1;
        report.updates += 1;
        self.in_round += 1;
        self.loss_sum += f64::from(loss) * rows as f64;
        self.samples += rows as u64;
        (self.in_round >= round_steps).then(|| Some((self.loss_sum / self.samples as f64) as f32))
    }
}

fn loss_on<M: Trainable>(run: &mut TypedRun<'_, M, 2>, (x, y): Rows<'_>) -> f32 {
    let obj = run.model.objective();
    let ((w, b), _, _) = run.split();
    (M::kernels().loss)(obj, x, y, (w, b)).unwrap_or(f32::NAN)
}

/// The loss of `model` on `rows` (NaN if the kernel refuses them).
fn model_loss<M: Trainable>(mut model: M, (x, y): Rows<'_>) -> f32 {
    let obj = model.objective();
    let (w, b) = model.params();
    (M::kernels().loss)(obj, x, y, (w, b)).unwrap_or(f32::NAN)
}

/// The RLS weights as the model's parameters.
fn sync_model<M: Trainable, const D: usize>(model: &mut M, rls: &Rls<D>) {
    let (w, b) = model.params();
    for (a, v) in w.iter_mut().zip(rls.weights()) {
        *a = v;
    }
    if let Some(b) = b.first_mut() {
        *b = rls.bias();
    }
}

/// 1 if `model` misclassifies the sample, else 0 (a logistic model: the side of `z = 0`
/// against `y ≥ 0.5`; softmax: the arg-max against the label); NaN for another loss.
fn misclassified<M: Trainable, const D: usize>(mut model: M, x: &[f32; D], y: f32) -> f32 {
    let obj = model.objective();
    let (w, b) = model.params();
    let logit = |k: usize| -> f32 {
        let row = w.get(k * D..(k + 1) * D).unwrap_or_default();
        row.iter().zip(x).map(|(a, v)| a * v).sum::<f32>() + b.get(k).copied().unwrap_or(0.0)
    };
    let wrong = match obj {
        Objective::Single(Loss::Logistic) => (logit(0) > 0.0) != (y >= 0.5),
        Objective::Softmax => {
            let (mut best, mut top) = (0, logit(0));
            for k in 1..b.len() {
                let z = logit(k);
                if z > top {
                    (best, top) = (k, z);
                }
            }
            best as f32 != y
        }
        Objective::Single(_) => return f32::NAN,
    };
    if wrong { 1.0 } else { 0.0 }
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

/// A regression sample counts as an error for the detector when its loss exceeds this many
/// times the running level of the held-out loss (for the squared loss, a residual beyond
/// twice its typical size: 4.6 % of Gaussian noise, 5.9 % of Laplace, about 4 % of Student-t
/// with 3 degrees of freedom; nearly every sample after a change of regime).
const EXCEEDANCE: f64 = 4.0;

/// The memory of the exceedances' level, in samples.
const WATCH_MEMORY: u32 = 1024;

/// Samples in the level before the detector sees exceedances.
const WATCH_WARMUP: u32 = 64;

/// The weight of a good round's metric in the drift level (a running mean over about 8
/// rounds).
const LEVEL_WEIGHT: f32 = 0.125;
