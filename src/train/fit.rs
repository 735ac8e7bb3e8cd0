//! The one training loop, and the way in: [`Training`] (a configuration with an optional
//! controller, validation set and observer) and its shorthand [`fit`].

use super::config::{TrainConfig, check_rate};
use super::observe::{Decision, Epoch, Observer, Summary};
use super::step::{
    ObjectiveKernels, Stepping, Trainable, check_model, finish_average, run_pass, sealed::Access,
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
}

impl<O: Observer> core::fmt::Debug for Training<'_, O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Training")
            .field("config", &self.config)
            .field("controller", &self.controller)
            .field("validation", &self.validation)
            .field("observer", &core::any::type_name::<O>())
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
        }
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
        state.check_for(rule)?;
        let obj = model.objective();
        let mut run = TypedRun {
            model,
            state,
            grad: M::zero_grad(),
        };
        let out = self.run(&mut run, (obj, M::kernels()), data);
        if out.is_ok() {
            run.state.mark(rule);
        }
        out
    }

    /// Runs the loop on any [`Run`] (the fixed-size models' and the `std` layer's).
    pub(crate) fn run<R: Run>(
        mut self,
        run: &mut R,
        kern: (Objective, ObjectiveKernels),
        data: &Dataset<'_>,
    ) -> Result<Summary, Error> {
        run_loop(
            run,
            kern,
            (data, self.validation),
            &self.config,
            self.controller,
            &mut self.observer,
        )
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

/// The loop (see [`Training`]).
pub(crate) fn run_loop<R: Run, O: Observer + ?Sized>(
    run: &mut R,
    (obj, kern): (Objective, ObjectiveKernels),
    (data, validation): (&Dataset<'_>, Option<&Dataset<'_>>),
    config: &TrainConfig,
    mut controller: Option<&mut Controller>,
    observer: &mut O,
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
    let mut epochs = Epochs::new(data, config.batch_size, config.shuffle, config.seed);
    let backup = run.snapshot();
    // The controller's best copy (none without a controller: the model returned is the last).
    let mut best = controller.is_some().then(|| run.snapshot());
    let mut lowest_loss = f32::INFINITY;
    let mut out = Summary {
        epochs: 0,
        steps: 0,
        final_loss: f32::NAN,
        best_metric: f32::INFINITY,
        stop: Stop::MaxEpochs,
        rollbacks: 0,
        certificate: f32::INFINITY,
    };
    let eval = validation.unwrap_or(data);
    // The metric pass is a fused one: the loss, and the gradient for the certificate.
    let reg = config.regularization;
    let measure = certificate::measure(obj, &reg);
    let target_var = if measure == Measure::DualityGap {
        crate::scale::moments_of(eval.y()).1
    } else {
        f64::NAN
    };
    let h = core::cell::Cell::new(config.learning_rate);
    let start = core::cell::Cell::new(f64::NAN);
    let every = controller
        .as_deref()
        .map_or(0, |c| c.config().certify_every);
    // Metric passes so far, and the last certificate (carried between measurements).
    let passes = core::cell::Cell::new(0u32);
    let last = core::cell::Cell::new(f32::INFINITY);
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
    if let Some(c) = controller.as_deref_mut() {
        let (metric, cert) = metric_of(run);
        out.certificate = cert;
        c.start(metric, &mut Events(&mut *observer).sink());
    }
    let mut lr = config.learning_rate;
    for epoch in 1..=config.epochs {
        if let Some(c) = controller.as_deref() {
            lr = c.rate(u64::from(epoch - 1));
            h.set(lr);
        }
        let pass = epochs.next_pass();
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
                &mut out.steps,
            )
        };
        let ran = match ran {
            Ok(r) => r,
            Err(e) => {
                run.restore(&backup);
                return Err(e);
            }
        };
        out.epochs = epoch;
        let decision = match (controller.as_deref_mut().zip(best.as_mut()), ran) {
            (Some((c, best)), ran) => {
                if let Some(l) = ran {
                    out.final_loss = l;
                }
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
                    out.stop = s;
                    break;
                }
                decision
            }
            (None, None) => {
                run.restore(&backup);
                return Err(Error::Diverged { epoch });
            }
            (None, Some(loss)) => {
                out.final_loss = loss;
                lowest_loss = lowest_loss.min(loss);
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
                    steps: out.steps,
                    zeros,
                    certificate: f32::INFINITY,
                })
            }
        };
        match decision {
            Decision::Continue => {}
            Decision::Stop => {
                out.stop = Stop::Observer;
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
                    run.restore(&backup);
                    return Err(e);
                }
                lr = r;
            }
        }
    }
    match controller.zip(best.as_ref()) {
        Some((c, best)) => {
            run.restore(best);
            out.best_metric = c.best();
            out.rollbacks = c.retries();
        }
        None => out.best_metric = lowest_loss,
    }
    let ((w, b), _, st) = run.split();
    finish_average(config.optimizer, (w, b), &st);
    Ok(out)
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
