//! The one training loop, and the way in: [`Training`] (a configuration with an optional
//! controller, validation set and observer) and its shorthand [`fit`].

use super::config::{TrainConfig, check_rate};
use super::observe::{Decision, Epoch, Observer, Summary};
use super::step::{
    ObjectiveKernels, PassAt, PassEnd, Stepping, Trainable, check_model, finish_average, run_pass,
    sealed::Access,
};
use crate::Error;
use crate::control::certificate::{self, Measure};
use crate::control::{Controller, Event, Stop};
use crate::dataset::{Dataset, Epochs};
use crate::loss::Objective;
use crate::optim::{self, OptimState, StateParts};

/// A training run: the hyper-parameters and, optionally, a strategy [`Controller`], a
/// validation set and an [`Observer`]. Build it, then call [`fit`](Training::fit) (a fresh
/// optimizer state) or [`fit_with`](Training::fit_with) (a state the caller keeps).
///
/// * **Without a controller** the rate is `config.learning_rate` (an observer may change it
///   between epochs) and the model returned is the last one. If a step diverges (it would
///   make the loss, the gradient or a parameter non-finite; it is not applied), the run fails
///   with [`Error::Diverged`] and the model is left as it was before the run: a fixed rate
///   that diverges has produced runaway weights (−5.8e17 in the test of this), not a model.
///   Lower the rate, or train under a controller, whose guard answers divergence.
/// * **With a controller** it sets each epoch's rate (`config.learning_rate` is not used), and
///   after each epoch it may keep a copy of the weights as the best, roll back to it, cut the
///   rate or stop. The metric is the loss after each epoch's steps (one extra loss pass), on
///   the validation set if given, else on the training data. The model returned is **the best
///   seen**, always finite: the initial model if no epoch improved on it.
///
/// On error the model (and the state) are unchanged.
///
/// ```
/// use npoa::LinearModel;
/// use npoa::control::{Controller, ControllerConfig};
/// use npoa::train::{Dataset, TrainConfig, Training, watch};
///
/// let x = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
/// let y = [1.0f32, 3.0, 5.0, 7.0, 9.0, 11.0];
/// let data = Dataset::new(&x, &y, 1)?;
/// let config = TrainConfig { epochs: 500, batch_size: 6, ..TrainConfig::default() };
/// let mut controller = Controller::new(ControllerConfig::auto::<1>(&data)?)?;
/// let mut model = LinearModel::<1>::zeros();
/// let mut epochs = 0;
/// let summary = Training::new(&config)
///     .controller(&mut controller)
///     .observer(&mut watch(|_| epochs += 1, |_| {}))
///     .fit(&mut model, &data)?;
/// assert!((model.weights()[0] - 2.0).abs() < 1e-3 && summary.best_metric < 1e-5);
/// assert_eq!(epochs, summary.epochs);
/// # Ok::<(), npoa::Error>(())
/// ```
///
/// The observer is a type parameter (`()` by default), so that a run without one compiles no
/// observer code at all (the firmware image of `ci/no_std_check` measures it).
pub struct Training<'a, O: Observer = ()> {
    config: TrainConfig,
    controller: Option<&'a mut Controller>,
    validation: Option<&'a Dataset<'a>>,
    observer: O,
    budget: Option<u64>,
}

impl<O: Observer> core::fmt::Debug for Training<'_, O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Training")
            .field("config", &self.config)
            .field("controller", &self.controller)
            .field("validation", &self.validation)
            .field("observer", &core::any::type_name::<O>())
            .field("budget", &self.budget)
            .finish()
    }
}

impl Training<'_> {
    /// A run with the hyper-parameters `config`, no controller, no validation set, no
    /// observer.
    pub fn new(config: &TrainConfig) -> Self {
        Self {
            config: *config,
            controller: None,
            validation: None,
            observer: (),
            budget: None,
        }
    }
}

impl<'a, O: Observer> Training<'a, O> {
    /// Under the strategy controller `controller`.
    pub fn controller(mut self, controller: &'a mut Controller) -> Self {
        self.controller = Some(controller);
        self
    }

    /// Measures the metric on `validation` (it must have the training data's features);
    /// takes `&data`, `Some(&data)` or `None`.
    pub fn validation(mut self, validation: impl Into<Option<&'a Dataset<'a>>>) -> Self {
        self.validation = validation.into();
        self
    }

    /// Shows every epoch and event to `observer` (usually `&mut something`).
    pub fn observer<P: Observer>(self, observer: P) -> Training<'a, P> {
        Training {
            config: self.config,
            controller: self.controller,
            validation: self.validation,
            observer,
            budget: self.budget,
        }
    }

    /// Pauses the run after at most `steps` mini-batch steps (counted in this call, including
    /// a step that diverged and was not applied), with [`Stop::Paused`]: the model holds the
    /// current weights, and the [`RunState`] given to
    /// [`fit_resumable`](Training::fit_resumable) where the loop stands, so that the same
    /// call continues it, to the same bits as a run never paused. Only for
    /// [`fit_resumable`](Training::fit_resumable) (and the `std` layer's recipes): the other
    /// ways in refuse a budget.
    pub fn pause_after(mut self, steps: u64) -> Self {
        self.budget = Some(steps);
        self
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Trains `model` in place on `data`, with a fresh optimizer state. With
    /// [`Rule::Averaged`](crate::optim::Rule::Averaged) the model ends as the average once the
    /// averaging has started.
    ///
    /// # Errors
    /// An invalid configuration ([`Error::InvalidParameter`]: `epochs: 0` among others), data
    /// whose feature count differs from the model's ([`Error::FeatureMismatch`]), targets the
    /// loss refuses ([`Error::InvalidData`]), an observer's invalid decision, or, without a
    /// controller, divergence ([`Error::Diverged`]). On error the model is unchanged.
    pub fn fit<M: Fit + ?Sized>(self, model: &mut M, data: &Dataset<'_>) -> Result<Summary, Error> {
        model.fit_in(self, data)
    }

    /// [`fit`](Training::fit) with caller-owned optimizer state (momentum, Adam moments, FTRL
    /// `z`/`n`, the average), which training continues from. The state must be fresh or left
    /// by the same rule. With a controller, the best copy and every rollback cover the state
    /// too, and the state returned goes with the best weights.
    ///
    /// # Errors
    /// As [`fit`](Training::fit), plus [`Error::InvalidParameter`] if `BUFS` is below the
    /// rule's [`Rule::buffers`](crate::optim::Rule::buffers) or the state was left by another
    /// rule. On error the model and the state are unchanged.
    pub fn fit_with<M: Trainable, const BUFS: usize>(
        self,
        model: &mut M,
        state: &mut OptimState<M, BUFS>,
        data: &Dataset<'_>,
    ) -> Result<Summary, Error> {
        let rule = self.config.optimizer;
        if BUFS < rule.buffers() {
            return Err(Error::InvalidParameter {
                name: "optimizer",
                reason: "needs more state buffers than given (see Rule::buffers)",
            });
        }
        if self.budget.is_some() {
            return Err(NEEDS_RESUMABLE);
        }
        let mut cursor = Cursor::new();
        self.fit_cursor(model, state, &mut cursor, data)
    }

    /// [`fit_with`](Training::fit_with) that can be paused ([`pause_after`](Self::pause_after))
    /// and continued: `progress` holds where the loop stands between calls (epochs and
    /// batches done, the current epoch's rate and batch order, the shuffling generator, the
    /// summary so far, the controller's best copy). Start with [`RunState::new`]; call again
    /// with the same model, state, controller, progress, data and configuration to continue
    /// (a [`Checkpoint`](crate::state::Checkpoint) carries them all as bytes). The steps,
    /// the model, the state, the controller and the events reported are bit for bit those of
    /// the same run never paused. Returns the summary so far with [`Stop::Paused`] when the
    /// budget ran out, else the run's summary (the model then is the best copy, as
    /// [`fit_with`](Training::fit_with)'s).
    ///
    /// ```
    /// use npoa::{LinearModel, optim::OptimState};
    /// use npoa::train::{Dataset, RunState, Stop, TrainConfig, Training};
    /// let x = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
    /// let y = [1.0f32, 3.0, 5.0, 7.0, 9.0, 11.0];
    /// let data = Dataset::new(&x, &y, 1)?;
    /// let config = TrainConfig { learning_rate: 0.05, epochs: 20, batch_size: 2, ..TrainConfig::default() };
    /// let (mut model, mut state) = (LinearModel::<1>::zeros(), OptimState::<_, 2>::new());
    /// let mut progress = RunState::new();
    /// loop {
    ///     let s = Training::new(&config).pause_after(7).fit_resumable(&mut model, &mut state, &mut progress, &data)?;
    ///     if s.stop != Stop::Paused { break; }
    /// }
    /// let mut plain = LinearModel::<1>::zeros();
    /// npoa::train::fit(&mut plain, &data, &config)?;
    /// assert_eq!(model.weights()[0].to_bits(), plain.weights()[0].to_bits());
    /// # Ok::<(), npoa::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`fit_with`](Training::fit_with), plus [`Error::InvalidParameter`] named
    /// `"run state"` if `progress` belongs to another run (other data — checked by their
    /// CRC-32 once per `RunState` value —, another configuration, with or without a
    /// controller) or to one that has ended or failed. On error the model and the state are
    /// as they were at the call's start, and `progress` is spent (marked failed) once a step
    /// ran.
    pub fn fit_resumable<M: Trainable, const BUFS: usize>(
        self,
        model: &mut M,
        state: &mut OptimState<M, BUFS>,
        progress: &mut RunState<M, BUFS>,
        data: &Dataset<'_>,
    ) -> Result<Summary, Error> {
        let bind = Binding::of(
            data,
            self.validation,
            &self.config,
            self.controller.is_some(),
        );
        let was_fresh = progress.cursor.status == Status::Fresh;
        progress.cursor.bind(bind, data, self.validation)?;
        let out = self.fit_cursor(model, state, &mut progress.cursor, data);
        if out.is_err() && was_fresh && progress.cursor.status == Status::Fresh {
            // Refused before any step (an invalid configuration, data the loss refuses): the
            // progress stays fresh, unbound, as its encoding requires (found by the fuzzer).
            progress.cursor = Cursor::new();
        }
        out
    }

    fn fit_cursor<M: Trainable, const BUFS: usize>(
        self,
        model: &mut M,
        state: &mut OptimState<M, BUFS>,
        cursor: &mut Cursor<(M, OptimState<M, BUFS>)>,
        data: &Dataset<'_>,
    ) -> Result<Summary, Error> {
        let rule = self.config.optimizer;
        if BUFS < rule.buffers() {
            return Err(Error::InvalidParameter {
                name: "optimizer",
                reason: "needs more state buffers than given (see Rule::buffers)",
            });
        }
        state.check_for(rule)?;
        let obj = model.objective();
        let mut run = TypedRun {
            model,
            state,
            grad: M::zero_grad(),
        };
        let out = self.run_cursor(&mut run, (obj, M::kernels()), data, cursor);
        if out.is_ok() {
            run.state.mark(rule);
        }
        out
    }

    /// Runs the loop on any [`Run`] (the fixed-size models' and the `std` layer's).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn run<R: Run>(
        self,
        run: &mut R,
        kern: (Objective, ObjectiveKernels),
        data: &Dataset<'_>,
    ) -> Result<Summary, Error> {
        if self.budget.is_some() {
            return Err(NEEDS_RESUMABLE);
        }
        self.run_cursor(run, kern, data, &mut Cursor::new())
    }

    /// [`run`](Self::run) from, and back into, `cursor` (whose binding the caller checked).
    pub(crate) fn run_cursor<R: Run>(
        mut self,
        run: &mut R,
        kern: (Objective, ObjectiveKernels),
        data: &Dataset<'_>,
        cursor: &mut Cursor<R::Snap>,
    ) -> Result<Summary, Error> {
        run_loop(
            run,
            kern,
            (data, self.validation),
            &self.config,
            self.controller,
            &mut self.observer,
            (cursor, self.budget),
        )
    }

    /// [`run_cursor`](Self::run_cursor) after binding `cursor` to this run (or checking it
    /// is bound to it).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn run_bound<R: Run>(
        self,
        run: &mut R,
        kern: (Objective, ObjectiveKernels),
        data: &Dataset<'_>,
        cursor: &mut Cursor<R::Snap>,
    ) -> Result<Summary, Error> {
        let bind = Binding::of(
            data,
            self.validation,
            &self.config,
            self.controller.is_some(),
        );
        cursor.bind(bind, data, self.validation)?;
        self.run_cursor(run, kern, data, cursor)
    }

    /// Under `controller` (a checkpoint's own); `Err` if it already has one.
    pub(crate) fn with_own_controller(
        mut self,
        controller: Option<&'a mut Controller>,
    ) -> Result<Self, Error> {
        if self.controller.is_some() {
            return Err(Error::InvalidParameter {
                name: "controller",
                reason: "the checkpoint brings its own controller: give the Training none",
            });
        }
        self.controller = controller;
        Ok(self)
    }
}

/// Trains `model` in place on `data` with the hyper-parameters `config`: the shorthand of
/// [`Training::new`]`(config).fit(model, data)` (no controller, no observer).
///
/// ```
/// use npoa::{LinearModel, train::{Dataset, TrainConfig, fit}};
/// let (x, y) = ([1.0f32, 2.0, 3.0, 4.0], [2.0f32, 4.0, 6.0, 8.0]);
/// let data = Dataset::new(&x, &y, 1)?;
/// let mut model = LinearModel::<1>::zeros();
/// let config = TrainConfig { learning_rate: 0.01, epochs: 1000, batch_size: 4, ..TrainConfig::default() };
/// let summary = fit(&mut model, &data, &config)?;
/// assert!((model.weights()[0] - 2.0).abs() < 0.02 && summary.final_loss < 1e-3);
/// # Ok::<(), npoa::Error>(())
/// ```
///
/// # Errors
/// As [`Training::fit`].
pub fn fit<M: Fit + ?Sized>(
    model: &mut M,
    data: &Dataset<'_>,
    config: &TrainConfig,
) -> Result<Summary, Error> {
    Training::new(config).fit(model, data)
}

/// A model [`Training`] can train: every model of the crate (the fixed-size ones through
/// [`Trainable`], the `std` layer's run-time sized ones directly). Sealed.
pub trait Fit: Access {
    /// Runs `training` on this model (use [`Training::fit`]).
    #[doc(hidden)]
    fn fit_in<O: Observer>(
        &mut self,
        training: Training<'_, O>,
        data: &Dataset<'_>,
    ) -> Result<Summary, Error>;
}

impl<M: Trainable> Fit for M {
    fn fit_in<O: Observer>(
        &mut self,
        training: Training<'_, O>,
        data: &Dataset<'_>,
    ) -> Result<Summary, Error> {
        // Without the `optimizers` feature only SGD exists, which keeps no state: no buffers
        // to copy into the backup and the best copy (216 bytes less stack for a
        // `LinearModel<8>`).
        let mut state = OptimState::<M, FIT_BUFS>::new();
        training.fit_with(self, &mut state, data)
    }
}

/// State buffers of [`fit`]'s optimizer state: every rule needs at most 2.
const FIT_BUFS: usize = if cfg!(feature = "optimizers") { 2 } else { 0 };

/// What a run trains: parameters, gradient scratch and optimizer state as slices, and copies
/// of the parameters with their state (the best copy, the backup).
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

/// Forwards a controller's events to the observer.
struct Events<'o, O: Observer + ?Sized>(&'o mut O);

impl<O: Observer + ?Sized> Events<'_, O> {
    fn sink(&mut self) -> impl FnMut(&Event) + '_ {
        |e| self.0.on_event(e)
    }
}

const NEEDS_RESUMABLE: Error = Error::InvalidParameter {
    name: "pause_after",
    reason: "a step budget needs Training::fit_resumable (a RunState to continue from)",
};

/// What a paused run is bound to: its data, validation data and configuration, so that a
/// continuation on anything else is an error, not a silent divergence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Binding {
    /// Rows and features of the training data.
    pub(crate) n: u64,
    pub(crate) d: u32,
    /// CRC-32 of the training data's bytes (`x` then `y`, little-endian `f32`).
    pub(crate) data_crc: u32,
    /// Rows of the validation data (0: none) and its CRC-32.
    pub(crate) val_n: u64,
    pub(crate) val_crc: u32,
    /// CRC-32 of the configuration's fields ([`config_crc`]).
    pub(crate) config_crc: u32,
    /// Whether a controller runs it.
    pub(crate) controlled: bool,
}

impl Binding {
    /// The binding of a run, without the data CRCs (see [`Binding::with_crcs`]).
    pub(crate) fn of(
        data: &Dataset<'_>,
        validation: Option<&Dataset<'_>>,
        config: &TrainConfig,
        controlled: bool,
    ) -> Self {
        Self {
            n: data.len() as u64,
            d: u32::try_from(data.features()).unwrap_or(u32::MAX),
            data_crc: 0,
            val_n: validation.map_or(0, |v| v.len() as u64),
            val_crc: 0,
            config_crc: config_crc(config),
            controlled,
        }
    }

    /// With the CRC-32s of the data's bytes (one pass over them).
    fn with_crcs(self, data: &Dataset<'_>, validation: Option<&Dataset<'_>>) -> Self {
        Self {
            data_crc: data_crc(data),
            val_crc: validation.map_or(0, data_crc),
            ..self
        }
    }
}

/// CRC-32 of a data set's bytes: `x` then `y`, little-endian `f32`.
pub(crate) fn data_crc(data: &Dataset<'_>) -> u32 {
    let mut c = !0u32;
    for v in data.x().iter().chain(data.y()) {
        c = crate::check::crc32_feed(c, &v.to_le_bytes());
    }
    !c
}

/// CRC-32 of a configuration's fields (every one, in declaration order; floats by bits).
pub(crate) fn config_crc(c: &TrainConfig) -> u32 {
    use crate::optim::Rule;
    let mut crc = !0u32;
    let mut put = |b: &[u8]| crc = crate::check::crc32_feed(crc, b);
    put(&c.learning_rate.to_bits().to_le_bytes());
    put(&c.epochs.to_le_bytes());
    put(&(c.batch_size as u64).to_le_bytes());
    put(&[u8::from(c.shuffle)]);
    put(&c.seed.to_le_bytes());
    let (tag, p, q, r): (u8, u32, u32, u32) = match c.optimizer {
        Rule::Sgd => (0, 0, 0, 0),
        Rule::Momentum {
            momentum,
            dampening,
            nesterov,
        } => (
            1,
            momentum.to_bits(),
            dampening.to_bits(),
            u32::from(nesterov),
        ),
        Rule::Adam { beta1, beta2, eps } => (2, beta1.to_bits(), beta2.to_bits(), eps.to_bits()),
        Rule::AdamW { beta1, beta2, eps } => (3, beta1.to_bits(), beta2.to_bits(), eps.to_bits()),
        Rule::Averaged { start } => (4, start as u32, (start >> 32) as u32, 0),
        Rule::Ftrl { beta, l1, l2 } => (5, beta.to_bits(), l1.to_bits(), l2.to_bits()),
        Rule::AdaGrad { eps } => (6, eps.to_bits(), 0, 0),
        Rule::Nlms { eps } => (7, eps.to_bits(), 0, 0),
    };
    put(&[tag]);
    for v in [p, q, r] {
        put(&v.to_le_bytes());
    }
    let reg = &c.regularization;
    put(&reg.l1.to_bits().to_le_bytes());
    put(&reg.l2.to_bits().to_le_bytes());
    put(&[u8::from(reg.bias)]);
    let (lo, hi) = reg.bounds.unwrap_or((0.0, 0.0));
    put(&[u8::from(reg.bounds.is_some())]);
    put(&lo.to_bits().to_le_bytes());
    put(&hi.to_bits().to_le_bytes());
    !crc
}

/// Where a run stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Nothing ran yet.
    Fresh,
    /// Paused: the next call continues it.
    Running,
    /// It ended (any stop but a pause).
    Ended,
    /// A call failed after it started: its place is lost.
    Failed,
}

/// Everything the loop keeps between steps, so that it can pause after any step and continue
/// from the same bits. `S` is the run's snapshot (the best copy).
#[derive(Debug, Clone)]
pub(crate) struct Cursor<S> {
    pub(crate) status: Status,
    pub(crate) bind: Binding,
    /// The data CRCs were checked against `bind` in this process (not encoded).
    pub(crate) verified: bool,
    /// Epochs completed.
    pub(crate) epochs: u32,
    /// The next epoch has drawn its rate and key (it may have run some batches).
    pub(crate) open: bool,
    /// Its batches done, and their loss sum (each batch's loss times its rows).
    pub(crate) batch: u64,
    pub(crate) partial: f64,
    /// Its shuffling key (0 without shuffling).
    pub(crate) key: u64,
    /// Its rate (without a controller, the rate an observer set last).
    pub(crate) lr: f32,
    /// The shuffling generator's state (after the open epoch's draw).
    pub(crate) rng: [u8; 32],
    /// The summary so far.
    pub(crate) out: Summary,
    /// The lowest epoch training loss (runs without a controller).
    pub(crate) lowest_loss: f32,
    /// The certificate's cells: the rate it is measured at, its first raw value, the metric
    /// passes so far, the last certificate.
    pub(crate) h: f32,
    pub(crate) start: f64,
    pub(crate) passes: u32,
    pub(crate) last: f32,
    /// The controller's best copy (none without a controller).
    pub(crate) best: Option<S>,
}

impl<S> Cursor<S> {
    /// A run that has not started.
    pub(crate) const fn new() -> Self {
        Self {
            status: Status::Fresh,
            bind: Binding {
                n: 0,
                d: 0,
                data_crc: 0,
                val_n: 0,
                val_crc: 0,
                config_crc: 0,
                controlled: false,
            },
            verified: false,
            epochs: 0,
            open: false,
            batch: 0,
            partial: 0.0,
            key: 0,
            lr: f32::NAN,
            rng: [0; 32],
            out: Summary {
                epochs: 0,
                steps: 0,
                final_loss: f32::NAN,
                best_metric: f32::INFINITY,
                stop: Stop::MaxEpochs,
                rollbacks: 0,
                certificate: f32::INFINITY,
            },
            lowest_loss: f32::INFINITY,
            h: f32::NAN,
            start: f64::NAN,
            passes: 0,
            last: f32::INFINITY,
            best: None,
        }
    }

    /// Binds a fresh cursor to `bind` (computing the data CRCs), or checks a started one
    /// against it (the data CRCs once per process).
    pub(crate) fn bind(
        &mut self,
        bind: Binding,
        data: &Dataset<'_>,
        validation: Option<&Dataset<'_>>,
    ) -> Result<(), Error> {
        let refuse = |reason| {
            Err(Error::InvalidParameter {
                name: "run state",
                reason,
            })
        };
        match self.status {
            Status::Fresh => {
                self.bind = bind.with_crcs(data, validation);
                self.verified = true;
                return Ok(());
            }
            Status::Ended => return refuse("the run has ended: start from a fresh RunState"),
            Status::Failed => return refuse("the run failed: start from a fresh RunState"),
            Status::Running => {}
        }
        let b = &self.bind;
        if (b.n, b.d, b.val_n) != (bind.n, bind.d, bind.val_n) {
            return refuse("belongs to data of another shape");
        }
        if b.config_crc != bind.config_crc {
            return refuse("belongs to another configuration");
        }
        if b.controlled != bind.controlled {
            return refuse("was made with a controller and is given none, or the reverse");
        }
        if !self.verified {
            let full = bind.with_crcs(data, validation);
            if (b.data_crc, b.val_crc) != (full.data_crc, full.val_crc) {
                return refuse("belongs to other data (CRC-32 mismatch)");
            }
            self.verified = true;
        }
        Ok(())
    }
}

/// Where a resumable run stands between calls of [`Training::fit_resumable`]: epochs and
/// batches done, the open epoch's rate, batch order and loss so far, the shuffling
/// generator, the summary so far, the optimality certificate's bookkeeping, the controller's
/// best copy (`M` and its optimizer state), and what the run is bound to (the data's shape
/// and CRC-32, the configuration's). [`crate::state`] encodes it as bytes.
///
/// Its size is about two models and two optimizer states (the best copy is inside).
#[derive(Debug, Clone, Copy)]
pub struct RunState<M: Trainable, const BUFS: usize = 2> {
    pub(crate) cursor: Cursor<(M, OptimState<M, BUFS>)>,
}

impl<S: Copy> Copy for Cursor<S> {}

impl<M: Trainable, const BUFS: usize> Default for RunState<M, BUFS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Trainable, const BUFS: usize> RunState<M, BUFS> {
    /// A run that has not started (bound to its data and configuration at the first call).
    pub const fn new() -> Self {
        Self {
            cursor: Cursor::new(),
        }
    }

    /// Epochs completed.
    pub fn epochs(&self) -> u32 {
        self.cursor.epochs
    }

    /// Mini-batch steps applied so far.
    pub fn steps(&self) -> u64 {
        self.cursor.out.steps
    }

    /// Whether the run can continue (it has not started, or it paused).
    pub fn can_continue(&self) -> bool {
        matches!(self.cursor.status, Status::Fresh | Status::Running)
    }

    /// The summary so far (its `stop` is [`Stop::MaxEpochs`] until the run ends).
    pub fn summary(&self) -> Summary {
        self.cursor.out
    }
}

/// The loop (see [`Training`]), from and back into `cursor`, for at most `budget` steps.
pub(crate) fn run_loop<R: Run, O: Observer + ?Sized>(
    run: &mut R,
    (obj, kern): (Objective, ObjectiveKernels),
    (data, validation): (&Dataset<'_>, Option<&Dataset<'_>>),
    config: &TrainConfig,
    mut controller: Option<&mut Controller>,
    observer: &mut O,
    (cur, mut budget): (&mut Cursor<R::Snap>, Option<u64>),
) -> Result<Summary, Error> {
    config.validate()?;
    {
        let ((w, b), (gw, gb), _) = run.split();
        check_model(obj, w, b, gw, gb, data.features())?;
    }
    if let Some(v) = validation
        && v.features() != data.features()
    {
        return Err(Error::FeatureMismatch {
            model: data.features(),
            data: v.features(),
        });
    }
    let fresh = match cur.status {
        Status::Fresh => true,
        Status::Running => false,
        Status::Ended | Status::Failed => {
            return Err(Error::InvalidParameter {
                name: "run state",
                reason: "the run has ended or failed: start from a fresh RunState",
            });
        }
    };
    if !fresh && controller.is_some() != cur.best.is_some() {
        return Err(Error::InvalidParameter {
            name: "run state",
            reason: "was made with a controller and is given none, or the reverse",
        });
    }
    let mut epochs = Epochs::new(data, config.batch_size, config.shuffle, config.seed);
    if !fresh {
        epochs.set_rng_state(cur.rng);
    }
    let backup = run.snapshot();
    if fresh {
        // The controller's best copy (none without a controller: the model returned is the
        // last).
        cur.best = controller.is_some().then(|| run.snapshot());
        cur.h = config.learning_rate;
        cur.lr = config.learning_rate;
    }
    let eval = validation.unwrap_or(data);
    // The metric pass is a fused one: the loss, and the gradient for the certificate.
    let reg = config.regularization;
    let measure = certificate::measure(obj, &reg);
    let target_var = if measure == Measure::DualityGap {
        crate::scale::moments_of(eval.y()).1
    } else {
        f64::NAN
    };
    let h = core::cell::Cell::new(cur.h);
    let start = core::cell::Cell::new(cur.start);
    let every = controller
        .as_deref()
        .map_or(0, |c| c.config().certify_every);
    // Metric passes so far, and the last certificate (carried between measurements).
    let passes = core::cell::Cell::new(cur.passes);
    let last = core::cell::Cell::new(cur.last);
    let metric_of = |run: &mut R| {
        let ((w, b), (gw, gb), _) = run.split();
        let k = passes.get();
        passes.set(k.wrapping_add(1));
        if every == 0 || !k.is_multiple_of(every) {
            let loss = (kern.loss)(obj, eval.x(), eval.y(), (&*w, &*b)).unwrap_or(f32::NAN);
            return (loss, last.get());
        }
        let Ok(loss) = (kern.fused)(obj, eval.x(), eval.y(), (&*w, &*b), gw, gb) else {
            return (f32::NAN, f32::NAN);
        };
        let (w, b, gw, gb) = (&*w, &*b, &*gw, &*gb);
        let cert = if measure == Measure::DualityGap {
            certificate::duality_gap(&reg, (w, b), (gw, gb), loss, eval.len(), target_var, None)
                as f32
        } else {
            let raw = certificate::stationarity(&reg, h.get(), (w, b), (gw, gb)).0;
            if start.get().is_nan() {
                start.set(raw);
            }
            certificate::relative(raw, start.get())
        };
        last.set(cert);
        (loss, cert)
    };
    if fresh {
        if let Some(c) = controller.as_deref_mut() {
            let (metric, cert) = metric_of(run);
            cur.out.certificate = cert;
            c.start(metric, &mut Events(&mut *observer).sink());
        }
        cur.status = Status::Running;
        // A valid generator state from the start, so that a run that fails or ends before
        // any pause still encodes to a run state that decodes (found by the fuzzer); a pause
        // overwrites it.
        cur.rng = epochs.rng_state();
    }
    // On error: the model as at the call's start, the cursor spent.
    macro_rules! fail {
        ($e:expr) => {{
            run.restore(&backup);
            cur.status = Status::Failed;
            return Err($e);
        }};
    }
    while cur.epochs < config.epochs {
        let epoch = cur.epochs + 1;
        if !cur.open {
            if let Some(c) = controller.as_deref() {
                cur.lr = c.rate(u64::from(epoch - 1));
                h.set(cur.lr);
            }
            cur.key = epochs.next_pass().key().unwrap_or(0);
            (cur.open, cur.batch, cur.partial) = (true, 0, 0.0);
        }
        let lr = cur.lr;
        let pass = epochs.pass_with_key(cur.key);
        let mut at = PassAt {
            batch: cur.batch,
            total: cur.partial,
            budget,
        };
        let ran = {
            let ((w, b), (gw, gb), mut st) = run.split();
            let stepping = Stepping {
                rule: config.optimizer,
                regularization: &config.regularization,
                lr,
                clip: controller
                    .as_deref()
                    .map_or(crate::control::Clip::NONE, Controller::clip),
                state: &mut st,
            };
            run_pass(
                &pass,
                (obj, kern),
                (w, b),
                (gw, gb),
                stepping,
                &mut cur.out.steps,
                &mut at,
            )
        };
        (cur.batch, cur.partial, budget) = (at.batch, at.total, at.budget);
        let ran = match ran {
            Ok(PassEnd::Done(r)) => r,
            Ok(PassEnd::Paused) => {
                (cur.h, cur.start, cur.passes, cur.last) =
                    (h.get(), start.get(), passes.get(), last.get());
                cur.rng = epochs.rng_state();
                return Ok(Summary {
                    stop: Stop::Paused,
                    ..cur.out
                });
            }
            Err(e) => fail!(e),
        };
        cur.open = false;
        cur.epochs = epoch;
        cur.out.epochs = epoch;
        let decision = match (controller.as_deref_mut().zip(cur.best.as_mut()), ran) {
            (Some((c, best)), ran) => {
                if let Some(l) = ran {
                    cur.out.final_loss = l;
                }
                let out = &mut cur.out;
                let (stop, decision, _) = end_epoch(
                    run,
                    best,
                    (epoch, lr, ran, out.steps),
                    &mut |r: &mut R| {
                        let (m, cert) = metric_of(r);
                        out.certificate = cert;
                        (m, cert)
                    },
                    c,
                    observer,
                );
                if let Some(s) = stop {
                    cur.out.stop = s;
                    break;
                }
                decision
            }
            (None, None) => fail!(Error::Diverged { epoch }),
            (None, Some(loss)) => {
                cur.out.final_loss = loss;
                cur.lowest_loss = cur.lowest_loss.min(loss);
                let metric = if validation.is_some() {
                    metric_of(run).0
                } else {
                    loss
                };
                let zeros = optim::zeros(run.split().0.0);
                observer.on_epoch(&Epoch {
                    epoch,
                    train_loss: loss,
                    metric,
                    learning_rate: lr,
                    steps: cur.out.steps,
                    zeros,
                    certificate: f32::INFINITY,
                })
            }
        };
        match decision {
            Decision::Continue => {}
            Decision::Stop => {
                cur.out.stop = Stop::Observer;
                break;
            }
            Decision::SetLearningRate(r) => {
                let checked = if controller.is_some() {
                    Err(Error::InvalidParameter {
                        name: "decision",
                        reason: "SetLearningRate under a controller (the controller sets the rate)",
                    })
                } else {
                    check_rate(r)
                };
                if let Err(e) = checked {
                    fail!(e);
                }
                cur.lr = r;
            }
        }
    }
    cur.status = Status::Ended;
    (cur.h, cur.start, cur.passes, cur.last) = (h.get(), start.get(), passes.get(), last.get());
    match controller.zip(cur.best.as_ref()) {
        Some((c, best)) => {
            run.restore(best);
            cur.out.best_metric = c.best();
            cur.out.rollbacks = c.retries();
        }
        None => cur.out.best_metric = cur.lowest_loss,
    }
    let ((w, b), _, st) = run.split();
    finish_average(config.optimizer, (w, b), &st);
    Ok(cur.out)
}

/// The end of a controlled epoch (or of an online round): `ran` is the epoch's mean training
/// loss, or `None` if a step diverged. Measures the metric (one loss pass, by `metric_of`),
/// reports the epoch, asks the controller, and applies its verdict to `run` (roll back to
/// `best`, or make the current weights the best copy). Returns the stop, if any, the
/// observer's decision and the metric (NaN after a divergence). `metric_of` returns the
/// metric and the relative certificate (`+∞`: not measured), which the controller sees first.
pub(crate) fn end_epoch<R: Run, O: Observer + ?Sized>(
    run: &mut R,
    best: &mut R::Snap,
    (epoch, lr, ran, steps): (u32, f32, Option<f32>, u64),
    metric_of: &mut dyn FnMut(&mut R) -> (f32, f32),
    controller: &mut Controller,
    observer: &mut O,
) -> (Option<Stop>, Decision, f32) {
    let mut decision = Decision::Continue;
    let mut measured = f32::NAN;
    let verdict = match ran {
        None => controller.on_divergence(epoch, &mut Events(&mut *observer).sink()),
        Some(train_loss) => {
            // The metric describes the weights as they are now, the ones a `save_best`
            // would copy: one loss pass after the epoch's steps.
            let (metric, cert) = metric_of(run);
            measured = metric;
            let zeros = optim::zeros(run.split().0.0);
            decision = observer.on_epoch(&Epoch {
                epoch,
                train_loss,
                metric,
                learning_rate: lr,
                steps,
                zeros,
                certificate: cert,
            });
            controller.certify(cert);
            controller.on_epoch(epoch, metric, &mut Events(&mut *observer).sink())
        }
    };
    if verdict.roll_back {
        run.restore(best);
    }
    if verdict.save_best {
        *best = run.snapshot();
    }
    (verdict.stop, decision, measured)
}
