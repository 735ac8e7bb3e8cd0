//! How an online learner trains, and what a call reports.

#[cfg(doc)]
use super::OnlineLearner;
use crate::Error;
use crate::control::Stop;
use crate::control::drift::{AdwinConfig, DetectorConfig};
use crate::optim::{Regularization, RlsConfig, Rule};
use crate::train::TrainConfig;

/// When the learner sees drift (see the [module docs](super)).
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

/// The default warm-up of [`OnlineConfig::standardize`]: 64 samples (a standard deviation
/// estimated from 64 samples is within about ±18 % of the truth at two standard errors, which
/// is all the conditioning needs; the fold keeps the model exact whatever the estimate).
pub const STANDARDIZE_WARMUP: usize = 64;

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
    /// Warm restarts on drift seen by the held-out heuristic (`None`: off).
    pub drift: Option<Drift>,
    /// Warm restarts on drift seen by a statistical detector
    /// ([`crate::control::drift`]) on the **prequential** error of every pushed sample (its
    /// loss under the model before any update has seen it; for [`Ddm`](crate::control::drift::Ddm)
    /// and [`Eddm`](crate::control::drift::Eddm), which need a classifier, whether it is
    /// misclassified). See the [module docs](super#drift) for the warning zone and the
    /// restart. `None`: off.
    pub detector: Option<DetectorConfig>,
    /// Recursive least squares ([`crate::optim::Rls`]) in place of the gradient rule: a
    /// [`crate::LinearModel`] with the squared loss only, `optimizer` left at [`Rule::Sgd`] and
    /// no penalty or box. Each pushed training sample is one RLS update, in
    /// [`push`](OnlineLearner::push); rounds, the guard and the restarts run as for the
    /// gradient rules (a rollback or a restart also resets `P`). `None`: the gradient rule.
    pub rls: Option<RlsConfig>,
    /// Standardisation of the features: the warm-up's length in samples (≥ 1; `None`: off).
    /// During the warm-up the learner only accumulates the running mean and variance of the
    /// samples it is offered and fills its windows (no update runs); then it freezes the
    /// [`Scaler`](crate::scale::Scaler), standardises the stored rows in place, and from then on
    /// standardises each sample as it arrives. Training runs in standardised space, and every
    /// model the learner returns is folded back to raw features (see the
    /// [module docs](super#standardisation)).
    pub standardize: Option<usize>,
}

impl Default for OnlineConfig {
    /// Batches of 8, one update per call, rounds of 8 updates, every 5th sample held out,
    /// the controller started once the held-out window is full, SGD, no penalty, drift
    /// handling on with an ADWIN detector on the prequential exceedances (`clock` 4, River's
    /// other parameters; the held-out heuristic [`Drift`] off: on the `sensor_stream` swap
    /// it recovers 41–57 samples sooner with SGD, and 27–31 samples after the swap with RLS,
    /// with no false alarm in 100,000 stationary samples on three seeds — the comparison of
    /// every detector is in the [module docs](super#drift)), no RLS, standardisation on with
    /// a warm-up of [`STANDARDIZE_WARMUP`] samples.
    fn default() -> Self {
        Self {
            batch_size: 8,
            steps_per_call: 1,
            round_steps: 8,
            holdout_every: 5,
            metric_warmup: None,
            optimizer: Rule::Sgd,
            regularization: Regularization::NONE,
            drift: None,
            detector: Some(DetectorConfig::Adwin(AdwinConfig {
                clock: 4,
                ..AdwinConfig::default()
            })),
            rls: None,
            standardize: Some(STANDARDIZE_WARMUP),
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
        if self.standardize == Some(0) {
            return inv(
                "standardize",
                "the warm-up must be >= 1 sample (None turns standardisation off)",
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
        if let Some(d) = self.detector {
            d.validate()?;
        }
        if let Some(r) = self.rls {
            r.validate()?;
            if self.optimizer != Rule::Sgd || self.regularization != Regularization::NONE {
                return inv(
                    "rls",
                    "recursive least squares takes no update rule, penalty or box: leave optimizer at Sgd and regularization at NONE",
                );
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
    pub stopped: Option<Stop>,
}
