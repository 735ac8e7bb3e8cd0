//! The strategy controller: a pure state machine that turns each epoch's metric into the next
//! rate and into decisions — keep a copy of the best weights, roll back to it, stop — with a
//! reason for each, delivered as [`Event`]s.
//!
//! The rate of epoch `t` (from 0) is `clamp(schedule(t) · scale, min_lr, max_lr)`: the
//! [`LrSchedule`] gives the shape, and `scale` (starting at 1) is what plateaus, the adaptive
//! rule and rollbacks multiply, so a plateau reduction composes with warm-up and any schedule.
//!
//! [`crate::train::Training`] runs it inside the training loop; it can also be driven by
//! hand (`on_epoch`, `on_divergence`), with no data at all.

use super::clip::Clip;
use crate::Error;
use crate::control::adapt::{
    Adaptive, AdaptiveStep, EarlyStep, EarlyStop, EarlyStopping, Mode, Plateau, ReduceOnPlateau,
};
use crate::control::schedule::LrSchedule;

/// The divergence guard: what counts as divergence and how it is answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guard {
    /// An epoch metric above `spike_factor × best` is a spike (finite, > 1; default 10); where
    /// the caller measures the best copy on the same data, above `spike_factor ×` that
    /// ([`Controller::guard_reference`], which the online learner uses).
    pub spike_factor: f32,
    /// Factor applied to the rate after a rollback (in `(0, 1)`; default 0.1).
    pub cut: f32,
    /// Rollbacks allowed in a run before it stops as diverged (default 8).
    pub max_retries: u32,
}

impl Default for Guard {
    fn default() -> Self {
        Self {
            spike_factor: 10.0,
            cut: 0.1,
            max_retries: 8,
        }
    }
}

/// Everything the controller decides with. The metric is a loss (smaller is better).
///
/// Start from [`constant`](Self::constant) (or [`auto`](Self::auto)) and add rules;
/// [`Controller::new`] checks the whole configuration.
///
/// ```
/// use npoa::control::{Controller, ControllerConfig, EarlyStop, LrSchedule, Plateau, Schedule};
///
/// // Cosine decay from 0.1 over 200 epochs, never below 1e-4; halve the rate after 5 epochs
/// // without improvement; stop after 20; the divergence guard stays on (the default).
/// let config = ControllerConfig {
///     schedule: LrSchedule::new(0.1, Schedule::Cosine { t_max: 200, eta_min: 0.0 })?,
///     min_lr: 1e-4,
///     plateau: Some(Plateau { factor: 0.5, patience: 5, ..Plateau::default() }),
///     early_stop: Some(EarlyStop { patience: 20, ..EarlyStop::default() }),
///     ..ControllerConfig::constant(0.1)?
/// };
/// let controller = Controller::new(config)?;
/// assert_eq!(controller.rate(0), 0.1);
/// assert!((controller.rate(100) - 0.05).abs() < 1e-6); // half-way down the cosine
/// assert_eq!(controller.rate(200), 1e-4); // clamped at min_lr
///
/// // An inconsistent configuration is refused with the field's name.
/// let bad = ControllerConfig { min_lr: 1.0, max_lr: 0.5, ..config };
/// assert!(matches!(Controller::new(bad), Err(npoa::Error::InvalidParameter { name: "max_lr", .. })));
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControllerConfig {
    /// The rate's shape over epochs (its base is the initial rate).
    pub schedule: LrSchedule,
    /// Lowest rate (finite, ≥ 0).
    pub min_lr: f32,
    /// Highest rate (finite, ≥ `min_lr`, > 0).
    pub max_lr: f32,
    /// Reduce the rate on a plateau of the metric.
    pub plateau: Option<Plateau>,
    /// scikit-learn's adaptive rule `(tol, n_iter_no_change)`.
    pub adaptive: Option<(f32, u32)>,
    /// Stop when the metric stops improving, and return the best weights.
    pub early_stop: Option<EarlyStop>,
    /// Stop as soon as the metric is at or below this.
    pub target: Option<f32>,
    /// The divergence guard (on by default).
    pub guard: Option<Guard>,
    /// Truncation of each step's gradient (none by default).
    pub clip: Clip,
    /// Stop [`Stop::Converged`] once the epoch's relative optimality certificate
    /// ([`crate::control::certificate`], measured by the training loop) is at or below this
    /// (`None`: never on the certificate).
    pub tol: Option<f32>,
    /// Hold the plateau rule back while the certificate still falls geometrically (halved
    /// since the last cut; see [`Controller::certify`]). Off by default, so that a run whose
    /// loop measures no certificate (the online learner) and one that does decide alike.
    pub plateau_follows_certificate: bool,
    /// Measure the certificate every this many epochs (0: never). The training loop's metric
    /// pass is then a fused pass (loss and gradient) instead of a loss-only pass, which costs
    /// 15–25 % of an epoch at batch 32 for 32 to 256 features (`cargo bench --bench training
    /// -- certificate`); every 4th epoch keeps it under 6 %. Between measurements the records
    /// carry the last one.
    pub certify_every: u32,
}

impl ControllerConfig {
    /// A constant-rate configuration with the default guard and no other rule.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `learning_rate` is not finite and > 0.
    pub fn constant(learning_rate: f32) -> Result<Self, Error> {
        Ok(Self {
            schedule: LrSchedule::new(learning_rate, super::schedule::Schedule::Constant)?,
            min_lr: 0.0,
            max_lr: f32::MAX,
            plateau: None,
            adaptive: None,
            early_stop: None,
            target: None,
            guard: Some(Guard::default()),
            clip: Clip::NONE,
            tol: None,
            plateau_follows_certificate: false,
            certify_every: 4,
        })
    }

    /// [`constant`](Self::constant) at the stable rate of the data ([`crate::control::autolr`]): the
    /// default choice when nothing is known about the problem.
    ///
    /// # Errors
    /// As [`super::autolr::stable_rate_for`].
    pub fn auto<const D: usize>(data: &crate::dataset::Dataset<'_>) -> Result<Self, Error> {
        Self::constant(super::autolr::stable_rate_for::<D>(data)?)
    }

    /// [`auto`](Self::auto) for a model trained on any objective (the stable rate uses that
    /// objective's curvature bound, [`super::autolr::stable_rate_for_objective`]); pass
    /// `model.objective()` ([`crate::train::Trainable`]).
    ///
    /// # Errors
    /// As [`super::autolr::stable_rate_for_objective`].
    pub fn auto_for<const D: usize>(
        data: &crate::dataset::Dataset<'_>,
        objective: crate::loss::Objective,
    ) -> Result<Self, Error> {
        Self::constant(super::autolr::stable_rate_for_objective::<D>(
            data, objective,
        )?)
    }
}

/// Why the rate changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateCause {
    /// The metric plateaued.
    Plateau,
    /// scikit-learn's adaptive rule fired.
    Adaptive,
    /// A rollback cut it.
    Rollback,
}

/// Why a training run ended: the one vocabulary of the controller, the training loop and the
/// online learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Every configured epoch ran (the training loop's; the controller never says it).
    MaxEpochs,
    /// The observer answered [`Decision::Stop`](crate::train::Decision::Stop) (the training
    /// loop's).
    Observer,
    /// Early stopping: no improvement within the patience.
    EarlyStop,
    /// The target metric was reached.
    Target,
    /// The adaptive rule found no improvement at the smallest rate, or (a solver, a certified
    /// run) the optimality certificate fell below its tolerance.
    Converged,
    /// A solver can make no further progress (the rounding floor of `f32`) with its
    /// certificate still above the tolerance.
    Stalled,
    /// Divergence persisted beyond the controller's retry budget (the model is its best copy;
    /// without a controller divergence is [`Error::Diverged`]).
    Diverged,
    /// The run used up its step budget ([`Training::pause_after`](crate::train::Training::pause_after))
    /// and can be continued: the model holds the current weights (not the best copy, not the
    /// average), and [`RunState`](crate::train::RunState) where the loop stands. Not an end:
    /// the controller never says it and no [`EventKind::Stopped`] is reported.
    Paused,
}

impl Stop {
    /// Every stop, in the order of their [`code`](Stop::code)s.
    pub const ALL: [Stop; 8] = [
        Stop::MaxEpochs,
        Stop::Observer,
        Stop::EarlyStop,
        Stop::Target,
        Stop::Converged,
        Stop::Stalled,
        Stop::Diverged,
        Stop::Paused,
    ];

    /// A stable one-byte code, for encodings (checkpoints, histories): its index in
    /// [`Stop::ALL`], `0` (`MaxEpochs`) to `7` (`Paused`).
    ///
    /// ```
    /// use npoa::control::Stop;
    /// for s in Stop::ALL {
    ///     assert_eq!(Stop::from_code(s.code()), Some(s));
    /// }
    /// assert_eq!(Stop::from_code(8), None);
    /// ```
    pub const fn code(self) -> u8 {
        match self {
            Stop::MaxEpochs => 0,
            Stop::Observer => 1,
            Stop::EarlyStop => 2,
            Stop::Target => 3,
            Stop::Converged => 4,
            Stop::Stalled => 5,
            Stop::Diverged => 6,
            Stop::Paused => 7,
        }
    }

    /// The stop of [`code`](Stop::code) `c` (`None` for an unknown code).
    pub fn from_code(c: u8) -> Option<Stop> {
        Self::ALL.get(usize::from(c)).copied()
    }

    /// A short snake-case name (`max_epochs`, `converged`, …), for logs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Stop::MaxEpochs => "max_epochs",
            Stop::Observer => "observer",
            Stop::EarlyStop => "early_stop",
            Stop::Target => "target",
            Stop::Converged => "converged",
            Stop::Stalled => "stalled",
            Stop::Diverged => "diverged",
            Stop::Paused => "paused",
        }
    }
}

/// Why the model was rolled back to its best copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackCause {
    /// A non-finite loss, gradient or parameter.
    NonFinite,
    /// The metric rose above `spike_factor × best` (or × the paired reference,
    /// [`Controller::guard_reference`]).
    Spike,
}

/// What happened, for the log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventKind {
    /// The metric is the best so far; the weights were copied.
    Improved {
        /// The metric.
        metric: f32,
    },
    /// The rate scale changed.
    RateChanged {
        /// Rate before.
        from: f32,
        /// Rate after (for the next epoch).
        to: f32,
        /// Why.
        cause: RateCause,
    },
    /// The model went back to its best copy.
    RolledBack {
        /// Why.
        cause: RollbackCause,
        /// Rollbacks so far in this run.
        retry: u32,
    },
    /// The run stopped.
    Stopped(Stop),
    /// A warm restart ([`Controller::restart`]): the data drifted (the metric stayed well above
    /// its usual level), so the schedule starts again from its first epoch at the full rate,
    /// and the best so far is forgotten.
    Restarted {
        /// The metric that triggered the restart.
        metric: f32,
        /// The best metric of the regime that ended.
        previous_best: f32,
    },
}

/// One event, tagged with its epoch (from 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// The epoch.
    pub epoch: u32,
    /// What happened.
    pub kind: EventKind,
}

/// What the training loop must do after an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    /// Copy the current weights as the best.
    pub save_best: bool,
    /// Restore the best copy (before anything else).
    pub roll_back: bool,
    /// Stop, for this reason (the loop then returns the best copy).
    pub stop: Option<Stop>,
}

/// The controller's state: a pure state machine, metrics in and decisions ([`Verdict`]s and
/// [`Event`]s) out. [`Training::controller`](crate::train::Training::controller) and the
/// [`OnlineLearner`](crate::online::OnlineLearner) run it; it can be driven by hand too.
///
/// ```
/// use npoa::control::{Controller, ControllerConfig, EarlyStop, Event, EventKind, Stop};
///
/// let config = ControllerConfig {
///     early_stop: Some(EarlyStop { patience: 2, ..EarlyStop::default() }),
///     ..ControllerConfig::constant(0.1)?
/// };
/// let mut controller = Controller::new(config)?;
/// let mut improved = 0;
/// let mut on_event = |e: &Event| {
///     if matches!(e.kind, EventKind::Improved { .. }) {
///         improved += 1;
///     }
/// };
/// controller.start(1.0, &mut on_event); // the initial weights' loss
/// let v = controller.on_epoch(1, 0.5, &mut on_event);
/// assert!(v.save_best && v.stop.is_none()); // better: keep a copy of these weights
/// assert!(controller.on_epoch(2, 0.6, &mut on_event).stop.is_none()); // worse, patience 1 of 2
/// let v = controller.on_epoch(3, 0.55, &mut on_event);
/// assert_eq!(v.stop, Some(Stop::EarlyStop)); // patience spent: stop on the best copy
/// assert_eq!((controller.best(), improved), (0.5, 2));
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Controller {
    // `pub(crate)` for the checkpoint codec (`crate::state`), which validates what it reads.
    pub(crate) cfg: ControllerConfig,
    pub(crate) plateau: Option<ReduceOnPlateau>,
    pub(crate) adaptive: Option<Adaptive>,
    pub(crate) early: Option<EarlyStopping>,
    pub(crate) scale: f32,
    pub(crate) best: f32,
    pub(crate) retries: u32,
    /// Epochs before the current schedule started (0, or the epoch of the last restart).
    pub(crate) origin: u32,
    /// The current epoch's certificate (`+∞` until one is measured).
    pub(crate) cert: f32,
    /// The certificate when the plateau rule last cut the rate (or first measured).
    pub(crate) cert_mark: f32,
    /// The guard's paired reference for the coming epoch (see
    /// [`guard_reference`](Self::guard_reference)); consumed by the next `on_epoch` or
    /// `on_divergence`, so it is never part of a saved state.
    pub(crate) reference: Option<f32>,
}

impl Controller {
    /// A fresh controller.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first setting out of range.
    pub fn new(cfg: ControllerConfig) -> Result<Self, Error> {
        let inv = |name, reason| Error::InvalidParameter { name, reason };
        if !(cfg.min_lr.is_finite() && cfg.min_lr >= 0.0) {
            return Err(inv("min_lr", "must be finite and >= 0"));
        }
        if !(cfg.max_lr.is_finite() && cfg.max_lr > 0.0 && cfg.max_lr >= cfg.min_lr) {
            return Err(inv("max_lr", "must be finite, > 0 and >= min_lr"));
        }
        if cfg.target.is_some_and(f32::is_nan) {
            return Err(inv("target", "must not be NaN"));
        }
        if cfg.tol.is_some_and(|t| !(t.is_finite() && t >= 0.0)) {
            return Err(inv("tol", "must be finite and >= 0"));
        }
        if let Some(g) = cfg.guard {
            if !(g.spike_factor.is_finite() && g.spike_factor > 1.0) {
                return Err(inv("guard.spike_factor", "must be finite and > 1"));
            }
            if !(g.cut.is_finite() && g.cut > 0.0 && g.cut < 1.0) {
                return Err(inv("guard.cut", "must be in (0, 1)"));
            }
        }
        for (name, v) in [
            ("clip.value", cfg.clip.value),
            ("clip.norm", cfg.clip.norm),
            ("clip.trust_radius", cfg.clip.trust_radius),
        ] {
            if v.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
                return Err(inv(name, "must be finite and > 0"));
            }
        }
        // The controller's metric is a loss: a rule watching for a larger metric would invert.
        if cfg.plateau.is_some_and(|p| p.mode != Mode::Min) {
            return Err(inv(
                "plateau.mode",
                "must be Min: the controller's metric is a loss",
            ));
        }
        if cfg.early_stop.is_some_and(|e| e.mode != Mode::Min) {
            return Err(inv(
                "early_stop.mode",
                "must be Min: the controller's metric is a loss",
            ));
        }
        let plateau = cfg.plateau.map(ReduceOnPlateau::new).transpose()?;
        let adaptive = cfg
            .adaptive
            .map(|(tol, n)| Adaptive::new(tol, n))
            .transpose()?;
        let early = cfg.early_stop.map(EarlyStopping::new).transpose()?;
        Ok(Self {
            cfg,
            plateau,
            adaptive,
            early,
            scale: 1.0,
            best: f32::INFINITY,
            retries: 0,
            origin: 0,
            cert: f32::INFINITY,
            cert_mark: f32::INFINITY,
            reference: None,
        })
    }

    /// The rate for epoch `t` (from 0): `clamp(schedule(t) · scale, min_lr, max_lr)`, always
    /// finite and within the bounds. After a [`restart`](Self::restart) at epoch `e`, the
    /// schedule is read at `t − e`.
    pub fn rate(&self, t: u64) -> f32 {
        let t = t.saturating_sub(u64::from(self.origin));
        let r = f64::from(self.cfg.schedule.rate(t)) * f64::from(self.scale);
        let r = if r.is_nan() { 0.0 } else { r };
        // `max` then `min`, not `clamp`, which would keep a panic path for `min > max`
        // (impossible after `Controller::new`'s checks, but the optimiser cannot know).
        r.max(f64::from(self.cfg.min_lr))
            .min(f64::from(self.cfg.max_lr)) as f32
    }

    /// The best metric so far (`+∞` before the first finite one).
    pub fn best(&self) -> f32 {
        self.best
    }

    /// The configuration.
    pub fn config(&self) -> &ControllerConfig {
        &self.cfg
    }

    /// The truncation to apply to each step.
    pub fn clip(&self) -> Clip {
        self.cfg.clip
    }

    /// Rollbacks so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    fn rescale(&mut self, epoch: u32, factor: f32, cause: RateCause, ev: &mut dyn FnMut(&Event)) {
        let from = self.rate(u64::from(epoch.saturating_sub(1)));
        // Keep the scale positive and finite whatever the factors.
        self.scale = (self.scale * factor).max(f32::MIN_POSITIVE);
        let to = self.rate(u64::from(epoch));
        ev(&Event {
            epoch,
            kind: EventKind::RateChanged { from, to, cause },
        });
    }

    fn roll_back(
        &mut self,
        epoch: u32,
        cause: RollbackCause,
        ev: &mut dyn FnMut(&Event),
    ) -> Verdict {
        let mut v = Verdict {
            roll_back: true,
            ..Verdict::default()
        };
        self.retries = self.retries.saturating_add(1);
        ev(&Event {
            epoch,
            kind: EventKind::RolledBack {
                cause,
                retry: self.retries,
            },
        });
        let budget = self.cfg.guard.map_or(0, |g| g.max_retries);
        if self.retries > budget {
            v.stop = Some(Stop::Diverged);
            ev(&Event {
                epoch,
                kind: EventKind::Stopped(Stop::Diverged),
            });
            return v;
        }
        let cut = self.cfg.guard.map_or(0.1, |g| g.cut);
        self.rescale(epoch, cut, RateCause::Rollback, ev);
        v
    }

    /// A warm restart after `epoch`, for data that drifted: the schedule starts again (epoch
    /// `epoch + 1` gets the schedule's first rate), the rate scale returns to 1, the rollback
    /// budget is refilled, the plateau, adaptive and early-stopping rules start afresh (their
    /// epochs counted from the restart), the certificate and the best metric are forgotten
    /// (`+∞`), so that the next epoch's metric, whatever it is, makes a new best copy. `metric`
    /// (the one that triggered the restart) is reported in [`EventKind::Restarted`].
    ///
    /// The configuration is unchanged, so this cannot fail.
    pub fn restart(&mut self, epoch: u32, metric: f32, ev: &mut dyn FnMut(&Event)) {
        let previous_best = self.best;
        self.plateau = self.cfg.plateau.and_then(|p| ReduceOnPlateau::new(p).ok());
        self.adaptive = self
            .cfg
            .adaptive
            .and_then(|(tol, n)| Adaptive::new(tol, n).ok());
        self.early = self.cfg.early_stop.and_then(|e| EarlyStopping::new(e).ok());
        self.scale = 1.0;
        self.retries = 0;
        self.origin = epoch;
        self.best = f32::INFINITY;
        self.cert = f32::INFINITY;
        self.cert_mark = f32::INFINITY;
        ev(&Event {
            epoch,
            kind: EventKind::Restarted {
                metric,
                previous_best,
            },
        });
    }

    /// The metric of the initial weights, before any step (epoch 0): they are the first best
    /// copy, so that a first epoch that makes things worse rolls back to them.
    pub fn start(&mut self, metric: f32, ev: &mut dyn FnMut(&Event)) {
        if metric.is_finite() && metric < self.best {
            self.best = metric;
            ev(&Event {
                epoch: 0,
                kind: EventKind::Improved { metric },
            });
        }
    }

    /// The relative optimality certificate of the coming [`on_epoch`](Self::on_epoch)
    /// (`+∞` or NaN: not measured). It stops the run at [`ControllerConfig::tol`], and, with
    /// [`ControllerConfig::plateau_follows_certificate`], it holds the plateau rule back while
    /// it still falls geometrically (halved since the last cut): a loss that looks flat can
    /// hide a certificate that is still dropping.
    pub fn certify(&mut self, certificate: f32) {
        self.cert = certificate;
        if certificate.is_finite() && !self.cert_mark.is_finite() {
            self.cert_mark = certificate;
        }
    }

    /// The guard's reference for the coming [`on_epoch`](Self::on_epoch): the metric of the
    /// **best copy's weights on the same data** as the coming metric (a paired comparison).
    /// With it, a spike is a metric above `spike_factor × reference` rather than
    /// `spike_factor × best`: when the metric is measured on data that changes from epoch to
    /// epoch (the online learner's held-out window), the best metric is the luckiest window's,
    /// and an ordinary window's loss can exceed it many times over on pure noise; the best
    /// copy measured on the same window shares that window's noise, so only weights that are
    /// really worse than the best copy count as a spike. The reference is used once (the next
    /// `on_epoch` or `on_divergence` clears it); a non-finite one is ignored (the best metric
    /// is used). Batch training never sets it: its metric is measured on fixed data, where the
    /// two are the same.
    ///
    /// ```
    /// use npoa::control::{Controller, ControllerConfig};
    /// let mut c = Controller::new(ControllerConfig::constant(0.1)?)?;
    /// let _ = c.on_epoch(1, 0.01, &mut |_| {}); // a lucky window: best = 0.01
    /// // An ordinary window, 30 times the best: the best copy scores 0.29 on it.
    /// c.guard_reference(0.29);
    /// assert!(!c.on_epoch(2, 0.3, &mut |_| {}).roll_back);
    /// // Without the reference the same metric is a spike (30 > 10 × 0.01).
    /// assert!(c.on_epoch(3, 0.3, &mut |_| {}).roll_back);
    /// # Ok::<(), npoa::Error>(())
    /// ```
    pub fn guard_reference(&mut self, reference: f32) {
        self.reference = Some(reference);
    }

    /// A step of `epoch` produced a non-finite loss, gradient or parameter (and was not
    /// applied): roll back and cut the rate, or stop if the budget is spent or there is no
    /// guard.
    pub fn on_divergence(&mut self, epoch: u32, ev: &mut dyn FnMut(&Event)) -> Verdict {
        self.reference = None;
        self.roll_back(epoch, RollbackCause::NonFinite, ev)
    }

    /// The metric of `epoch` (from 1; a loss, smaller is better, NaN allowed).
    pub fn on_epoch(&mut self, epoch: u32, metric: f32, ev: &mut dyn FnMut(&Event)) -> Verdict {
        let base = match self.reference.take() {
            Some(r) if r.is_finite() && self.best.is_finite() => r,
            _ => self.best,
        };
        if !metric.is_finite() {
            return self.roll_back(epoch, RollbackCause::NonFinite, ev);
        }
        if let Some(g) = self.cfg.guard
            && base.is_finite()
            && f64::from(metric) > f64::from(g.spike_factor) * f64::from(base)
        {
            return self.roll_back(epoch, RollbackCause::Spike, ev);
        }
        let mut v = Verdict::default();
        if metric < self.best {
            self.best = metric;
            v.save_best = true;
            ev(&Event {
                epoch,
                kind: EventKind::Improved { metric },
            });
        }
        if let Some(t) = self.cfg.target
            && metric <= t
        {
            v.stop = Some(Stop::Target);
            ev(&Event {
                epoch,
                kind: EventKind::Stopped(Stop::Target),
            });
            return v;
        }
        if let Some(tol) = self.cfg.tol
            && self.cert <= tol
        {
            v.stop = Some(Stop::Converged);
            ev(&Event {
                epoch,
                kind: EventKind::Stopped(Stop::Converged),
            });
            return v;
        }
        let rate = self.rate(u64::from(epoch.saturating_sub(1)));
        if let Some(p) = self.plateau.as_mut()
            && let Some(new) = p.step(metric, rate)
        {
            let falling = self.cfg.plateau_follows_certificate
                && self.cert.is_finite()
                && self.cert <= 0.5 * self.cert_mark;
            if self.cert.is_finite() {
                self.cert_mark = self.cert;
            }
            if !falling {
                let f = if rate > 0.0 { new / rate } else { 1.0 };
                self.rescale(epoch, f, RateCause::Plateau, ev);
            }
        }
        if let Some(a) = self.adaptive.as_mut() {
            match a.step(metric, rate) {
                AdaptiveStep::Keep => {}
                AdaptiveStep::Reduce(_) => self.rescale(epoch, 0.2, RateCause::Adaptive, ev),
                AdaptiveStep::Stop => {
                    v.stop = Some(Stop::Converged);
                    ev(&Event {
                        epoch,
                        kind: EventKind::Stopped(Stop::Converged),
                    });
                    return v;
                }
            }
        }
        if let Some(e) = self.early.as_mut()
            && e.step(epoch.saturating_sub(self.origin), metric) == EarlyStep::Stop
        {
            v.stop = Some(Stop::EarlyStop);
            ev(&Event {
                epoch,
                kind: EventKind::Stopped(Stop::EarlyStop),
            });
        }
        v
    }
}
