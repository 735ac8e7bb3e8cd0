//! A training recipe for data of run-time size (`std`): the choices a person makes on the
//! command line (the `train` example maps its options onto this), with defaults that reach
//! the optimum from raw data and say so.
//!
//! [`Recipe::fit`], by default:
//! 1. **standardises** the features (z-scores fitted on the training rows), and the targets
//!    too for the losses that are equivariant under a change of the target's unit (squared,
//!    Huber, absolute, quantile; Huber's δ and the penalties are rescaled so that the
//!    objective is the one in the target's own unit), and folds the scaling back into the
//!    model, which therefore predicts on raw features. Penalties and bounds act on the
//!    weights of the standardised features (glmnet's and scikit-learn's pipelines'
//!    convention); the losses reported (epoch records, summary) are in the target's unit;
//! 2. picks the **strategy** from the problem: with no update rule named, a full-batch solver
//!    ([`crate::train::solve`]: conjugate gradients for the squared error, truncated Newton
//!    for the other smooth losses, FISTA with restart for L1 or bounds), which stops `converged` on the
//!    optimality certificate; the absolute and quantile losses (not smooth), or a rule named
//!    in [`Recipe::optimizer`], train by mini-batches under the strategy controller (the
//!    schedule, a plateau rule that halves the rate when the validation loss stalls, the
//!    divergence guard, optional early stopping), at a rate chosen for the rule.
//!
//! ```
//! use npoa::data::DynDataset;
//! use npoa::recipe::Recipe;
//! use npoa::train::Stop;
//! // Raw units: one feature in thousands, one in thousandths.
//! let x: Vec<f32> = (0..200)
//!     .map(|i| if i % 2 == 0 { 1000.0 * (i % 17) as f32 } else { 1e-3 * (i % 5) as f32 })
//!     .collect();
//! let y: Vec<f32> = x.chunks(2).map(|r| 0.003 * r[0] - 700.0 * r[1] + 0.5).collect();
//! let data = DynDataset::new(x, y, 2)?;
//! let (model, summary) = Recipe::default().fit(&data, None, &mut ())?;
//! assert_eq!(summary.stop, Stop::Converged);
//! assert!(summary.best_metric < 1e-6 && model.features() == 2);
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::control::{
    Controller, ControllerConfig, EarlyStop, Event, EventKind, LrSchedule, Plateau, Schedule,
};
use crate::data::{DynDataset, Standardizer};
use crate::dynamic::{DynSnap, DynState, fit_dyn_resumable};
use crate::loss::{Loss, Objective};
use crate::model::bytes::encoded_len;
use crate::optim::{Regularization, Rule};
use crate::state::{
    Kind, MAX_STEPS, Reader, Writer, corrupt, finite, get_controller, get_head, put_controller,
    put_head,
};
use crate::train::solve::{SolveConfig, solve_with};
use crate::train::{Access, Decision, Epoch, Observer, Summary, TrainConfig, Training};
use crate::train::{Cursor, Status, Stop};
use crate::{DynClassifier, DynLinearModel, DynModel, Error};
use std::vec;
use std::vec::Vec;

/// How a resumable recipe run ended ([`Recipe::fit_until`], [`Recipe::resume`]).
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The run ended: the model (predicting on raw features) and the summary, as
    /// [`Recipe::fit`] returns them.
    Finished(DynModel, Summary),
    /// The step budget ran out.
    Paused {
        /// The bytes to continue from ([`Recipe::resume`]); see [`crate::state`] for the
        /// layout (kind 6).
        checkpoint: Vec<u8>,
        /// The summary so far (its `stop` is [`Stop::Paused`]).
        summary: Summary,
    },
}

/// Parameters of a run-time sized model of `d` features and `k` outputs.
fn params_of(d: usize, k: usize) -> Option<usize> {
    k.checked_mul(d.checked_add(1)?)
}

/// Bytes of a recipe checkpoint: frame (12), `d`, `k`, buffers (9), the model's bytes, the
/// optimizer state (8 + 4·nb·P), the controller, the run head, the best copy (4·P + 8 +
/// 4·nb·P), for `P` parameters and `nb` buffers.
fn checkpoint_len(d: usize, k: usize, nb: usize) -> Option<usize> {
    let p4 = params_of(d, k)?.checked_mul(4)?;
    let bufs = p4.checked_mul(nb)?;
    crate::state::FRAME_LEN
        .checked_add(9)?
        .checked_add(encoded_len(d, k))?
        .checked_add(8)?
        .checked_add(bufs)?
        .checked_add(crate::state::CONTROLLER_RAW_LEN)?
        .checked_add(crate::state::RUN_HEAD_LEN)?
        .checked_add(p4)?
        .checked_add(8)?
        .checked_add(bufs)
}

fn dims(m: &DynModel) -> (usize, usize) {
    match m {
        DynModel::Linear(l) => (l.weights().len(), 1),
        DynModel::Classifier(c) => (c.features(), c.classes()),
    }
}

fn encode_checkpoint(
    model: &DynModel,
    state: &DynState,
    ctl: &Controller,
    cursor: &Cursor<DynSnap>,
) -> Result<Vec<u8>, Error> {
    let (d, k) = dims(model);
    let nb = state.bufs.iter().filter(|b| !b.0.is_empty()).count();
    let Some(best) = cursor.best.as_ref() else {
        return Err(corrupt("a recipe run has a best copy"));
    };
    let len = checkpoint_len(d, k, nb).ok_or(corrupt("model too large"))?;
    let mut out = vec![0u8; len];
    let mut w = Writer::frame(&mut out, len, Kind::Dynamic)?;
    w.u32(u32::try_from(d).map_err(|_| corrupt("too many features"))?);
    w.u32(u32::try_from(k).map_err(|_| corrupt("too many classes"))?);
    w.u8(nb as u8);
    w.bytes(&model.to_bytes());
    let floats = |w: &mut Writer<'_>, v: &[f32]| v.iter().for_each(|x| w.f32(*x));
    w.u64(state.t);
    for (bw, bb) in state.bufs.iter().take(nb) {
        floats(&mut w, bw);
        floats(&mut w, bb);
    }
    put_controller(&mut w, ctl);
    put_head(&mut w, cursor);
    floats(&mut w, &best.0);
    floats(&mut w, &best.1);
    w.u64(best.3);
    for (bw, bb) in best.2.iter().take(nb) {
        floats(&mut w, bw);
        floats(&mut w, bb);
    }
    w.finish()?;
    Ok(out)
}

type Decoded = (DynModel, DynState, Controller, Cursor<DynSnap>);

fn decode_checkpoint(bytes: &[u8]) -> Result<Decoded, Error> {
    let word = |at: usize| {
        bytes
            .get(at..at + 4)
            .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    if bytes.len() < crate::state::HEADER_LEN + 9 {
        return Err(Error::LengthMismatch {
            what: "checkpoint bytes",
            expected: crate::state::HEADER_LEN + 9,
            found: bytes.len(),
        });
    }
    let (d, k, nb) = (word(8), word(12), usize::from(bytes[16]));
    if d == 0 || k == 0 || nb > 2 || k > crate::kernel::MAX_CLASSES {
        return Err(corrupt("checkpoint dimensions out of range"));
    }
    let len = checkpoint_len(d, k, nb).ok_or(corrupt("checkpoint dimensions out of range"))?;
    let p = params_of(d, k).unwrap_or(0);
    let mut r = Reader::frame(bytes, len, Kind::Dynamic)?;
    let _ = r.slice(9);
    let model = DynModel::from_bytes(r.slice(encoded_len(d, k)))?;
    if dims(&model) != (d, k) {
        return Err(corrupt("model dimensions differ from the checkpoint's"));
    }
    let floats = |r: &mut Reader<'_>, n: usize| -> Result<Vec<f32>, Error> {
        (0..n)
            .map(|_| finite(r.f32(), "a parameter or state value is not finite"))
            .collect()
    };
    let nw = p - k;
    let steps = |r: &mut Reader<'_>| {
        let t = r.u64();
        if t > MAX_STEPS {
            Err(corrupt("optimizer step count out of range"))
        } else {
            Ok(t)
        }
    };
    let mut state = DynState {
        t: steps(&mut r)?,
        ..DynState::default()
    };
    for b in state.bufs.iter_mut().take(nb) {
        *b = (floats(&mut r, nw)?, floats(&mut r, k)?);
    }
    let ctl = get_controller(&mut r)?;
    let mut cursor: Cursor<DynSnap> = get_head(&mut r)?;
    if cursor.status != Status::Running || !cursor.bind.controlled {
        return Err(corrupt(
            "a recipe checkpoint is of a paused, controlled run",
        ));
    }
    let (bw, bb) = (floats(&mut r, nw)?, floats(&mut r, k)?);
    let bt = steps(&mut r)?;
    let mut bbufs: [(Vec<f32>, Vec<f32>); 2] = Default::default();
    for b in bbufs.iter_mut().take(nb) {
        *b = (floats(&mut r, nw)?, floats(&mut r, k)?);
    }
    cursor.best = Some((bw, bb, bbufs, bt));
    Ok((model, state, ctl, cursor))
}

/// The training choices (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipe {
    /// The loss, or softmax with this many classes.
    pub objective: Objective,
    /// Classes for [`Objective::Softmax`] (ignored otherwise).
    pub classes: usize,
    /// The update rule of a mini-batch run; `None` (the default): the full-batch solver for
    /// smooth losses, SGD for the absolute and quantile losses.
    pub optimizer: Option<Rule>,
    /// The rate of a mini-batch run. `None`: [`Recipe::rate_for`].
    pub learning_rate: Option<f32>,
    /// The rate's shape over the epochs (mini-batch runs).
    pub schedule: Schedule,
    /// Halve the rate (down to 1e-4 of its start) when the validation loss (the training loss
    /// without validation data) has not improved for this many epochs, then wait as many
    /// before the next cut, and not while the certificate still halves (`None`: never).
    /// Mini-batch runs, except AdaGrad, whose steps decay on their own.
    pub plateau_patience: Option<u32>,
    /// Epochs (the solver's iterations); `None`: 5000 for the solver, 200 for a mini-batch
    /// run.
    pub epochs: Option<u32>,
    /// Mini-batch size (mini-batch runs).
    pub batch_size: usize,
    /// Penalty and bounds.
    pub regularization: Regularization,
    /// Standardise the features, and the targets of the losses that allow it (see the
    /// [module docs](self)), and fold the scaling back into the model. On by default.
    pub standardize: bool,
    /// Stop after this many epochs without improvement (`None`: run every epoch). Mini-batch
    /// runs (the solver stops on the certificate).
    pub early_stop: Option<u32>,
    /// Seed of the shuffling (mini-batch runs; the solver is deterministic).
    pub seed: u64,
    /// The tolerance of the `converged` stop on the relative certificate, for the solver and
    /// mini-batch runs alike (`None`: [`crate::control::certificate::default_tol`]).
    pub tol: Option<f32>,
}

impl Default for Recipe {
    /// Squared error, standardisation on, the full-batch solver (up to 5000 iterations), no
    /// penalty; for mini-batch runs: batches of 32, a constant schedule with the plateau rule
    /// (patience 5), no early stop.
    fn default() -> Self {
        Self {
            objective: Objective::Single(Loss::Squared),
            classes: 2,
            optimizer: None,
            learning_rate: None,
            schedule: Schedule::Constant,
            plateau_patience: Some(5),
            epochs: None,
            batch_size: 32,
            regularization: Regularization::NONE,
            standardize: true,
            early_stop: None,
            seed: 0,
            tol: None,
        }
    }
}

/// How the recipe trains, as decided from the data and the choices (see [`Recipe::plan`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// The full-batch solver (else mini-batches with [`Plan::rule`]).
    pub solver: bool,
    /// The update rule of a mini-batch run.
    pub rule: Rule,
    /// The features are standardised.
    pub features_standardized: bool,
    /// The targets are standardised too.
    pub target_standardized: bool,
    /// Epochs (iterations).
    pub epochs: u32,
}

/// What a standardised target changes in the objective: the loss carries `σ^p`
/// (`ℓ(σ·r) = σ^p·ℓ_s(r)`, `p` = 2 for the squared error and Huber, 1 for the absolute and
/// quantile losses), so the penalties and Huber's δ are rescaled to keep the raw-unit
/// objective, and the losses reported are multiplied back.
#[derive(Debug, Clone, Copy)]
struct TargetScale {
    scale: f64,
    power: i32,
}

impl TargetScale {
    fn of(loss: Loss, s: &Standardizer) -> Self {
        let power = match loss {
            Loss::Absolute | Loss::Quantile { .. } => 1,
            _ => 2,
        };
        Self {
            scale: f64::from(s.target_scale),
            power,
        }
    }
    /// The loss's factor from standardised to raw units.
    fn factor(&self) -> f32 {
        libm::pow(self.scale, f64::from(self.power)) as f32
    }
    /// The penalty in standardised units: `λ1·σ^(1−p)`, `λ2·σ^(2−p)`.
    fn regularization(&self, r: Regularization) -> Regularization {
        let k = |l: f32, e: i32| (f64::from(l) * libm::pow(self.scale, f64::from(e))) as f32;
        Regularization {
            l1: k(r.l1, 1 - self.power),
            l2: k(r.l2, 2 - self.power),
            ..r
        }
    }
    fn loss(&self, l: Loss) -> Loss {
        match l {
            Loss::Huber { delta } => Loss::Huber {
                delta: (f64::from(delta) / self.scale) as f32,
            },
            l => l,
        }
    }
}

/// Reports losses in the target's unit (`× factor`) to the caller's observer.
struct Rescaled<'o> {
    inner: &'o mut dyn Observer,
    factor: f32,
}

impl Observer for Rescaled<'_> {
    fn on_epoch(&mut self, e: &Epoch) -> Decision {
        self.inner.on_epoch(&Epoch {
            train_loss: e.train_loss * self.factor,
            metric: e.metric * self.factor,
            ..*e
        })
    }
    fn on_event(&mut self, e: &Event) {
        let kind = match e.kind {
            EventKind::Improved { metric } => EventKind::Improved {
                metric: metric * self.factor,
            },
            EventKind::Restarted {
                metric,
                previous_best,
            } => EventKind::Restarted {
                metric: metric * self.factor,
                previous_best: previous_best * self.factor,
            },
            k => k,
        };
        self.inner.on_event(&Event { kind, ..*e });
    }
}

impl Recipe {
    /// What [`fit`](Self::fit) will do with these choices.
    pub fn plan(&self) -> Plan {
        let smooth = !matches!(
            self.objective,
            Objective::Single(Loss::Absolute | Loss::Quantile { .. })
        );
        let solver = self.optimizer.is_none() && smooth;
        let target = self.standardize
            && self.regularization.bounds.is_none()
            && matches!(
                self.objective,
                Objective::Single(
                    Loss::Squared | Loss::Huber { .. } | Loss::Absolute | Loss::Quantile { .. }
                )
            );
        Plan {
            solver,
            rule: self.optimizer.unwrap_or(Rule::Sgd),
            features_standardized: self.standardize,
            target_standardized: target,
            epochs: self.epochs.unwrap_or(if solver { 5000 } else { 200 }),
        }
    }

    /// The rate of a mini-batch run on (possibly standardised) training data: the one given,
    /// else the stable rate of the data for the loss ([`crate::control::autolr`]) scaled down
    /// for the batch size `B` (half the mean-square stability limit of mini-batch SGD on least
    /// squares, `B / (R² + (B − 1)·λ)` with `λ = λ_max(E[x̃ x̃ᵀ])` and `R² = E‖x̃‖²`, over the
    /// full-batch `1/λ`; Jain et al., JMLR 2018) for SGD and
    /// averaged SGD, ×0.1 for momentum and Nesterov (their steps settle at `1/(1 − μ)` times
    /// SGD's), at most 0.01 for Adam and AdamW (their steps are about the rate in every
    /// coordinate: on standardised data the weights are of order 1), 0.1 for AdaGrad, and
    /// FTRL's `α` = the stable rate × 10 (its steps shrink like `1/√Σg²`).
    ///
    /// # Errors
    /// As [`crate::control::autolr::stable_rate_with`].
    pub fn rate_for(&self, train: &DynDataset) -> Result<f32, Error> {
        if let Some(lr) = self.learning_rate {
            return Ok(lr);
        }
        let d = train.features();
        let (mut v, mut g, mut g0) = (
            std::vec![0.0f32; d],
            std::vec![0.0f32; d],
            std::vec![0.0f32; d],
        );
        let view = train.view();
        let full = crate::control::autolr::stable_rate_with(
            &view,
            self.objective,
            crate::control::autolr::DEFAULT_SAFETY,
            &mut v,
            &mut g,
            &mut g0,
        )?;
        let rate = full * batch_factor(&view, self.batch_size, self.objective, full);
        Ok(match self.plan().rule {
            Rule::Adam { .. } | Rule::AdamW { .. } => rate.min(0.01),
            Rule::Momentum { .. } => rate * 0.1,
            // AdaGrad's steps do not scale with the gradient (its first moves every weight by
            // η), so the curvature's rate is the wrong unit; and they shrink like η/√t, so
            // Adam's 0.01 (PyTorch's default) stalls: 200 epochs of 16 batches at 0.01 leave
            // R² = 0.81 on the smoke test's regression, 0.1 to 1 reach its noise floor.
            Rule::AdaGrad { .. } => 0.1,
            Rule::Ftrl { .. } => rate * 10.0,
            // NLMS's rate is unit-free (its step is divided by the input energy): stable for
            // any rate below 2 on the squared error; half of it.
            Rule::Nlms { .. } => 0.5,
            _ => rate,
        })
    }

    /// Trains a fresh model on `train` (validating on `validation` if given); `observer` sees
    /// each epoch and controller event (a [`History`](crate::History) keeps them), with
    /// losses in the target's unit. Returns the model, in raw feature space (the solver's
    /// last iterate, or a mini-batch run's best), and the run's summary.
    ///
    /// # Errors
    /// Any configuration or data error of the steps above.
    pub fn fit(
        &self,
        train: &DynDataset,
        validation: Option<&DynDataset>,
        observer: &mut dyn Observer,
    ) -> Result<(DynModel, Summary), Error> {
        match self.fit_inner(train, validation, observer, None, None)? {
            Outcome::Finished(model, summary) => Ok((model, summary)),
            Outcome::Paused { .. } => Err(Error::InvalidParameter {
                name: "recipe",
                reason: "paused without a step budget",
            }),
        }
    }

    /// [`fit`](Self::fit) that pauses after at most `steps` mini-batch steps (`None`: runs to
    /// the end) with the checkpoint to continue from ([`resume`](Self::resume)), whose
    /// continuation gives the same bits as a run never paused. A full-batch solver plan
    /// ([`Plan::solver`]) does not pause: it runs to the end and returns
    /// [`Outcome::Finished`].
    ///
    /// ```
    /// use npoa::data::DynDataset;
    /// use npoa::optim::Rule;
    /// use npoa::recipe::{Outcome, Recipe};
    /// let x: Vec<f32> = (0..40).map(|i| (i % 7) as f32).collect();
    /// let y: Vec<f32> = x.iter().map(|v| 2.0 * v + 1.0).collect();
    /// let data = DynDataset::new(x, y, 1)?;
    /// let recipe = Recipe { optimizer: Some(Rule::ADAM), epochs: Some(30), batch_size: 8, ..Recipe::default() };
    /// let (whole, _) = recipe.fit(&data, None, &mut ())?;
    /// // 7 steps, then a checkpoint (write it to a file, stop the process, ...).
    /// let mut outcome = recipe.fit_until(&data, None, &mut (), Some(7))?;
    /// let model = loop {
    ///     match outcome {
    ///         Outcome::Paused { checkpoint, .. } => {
    ///             outcome = recipe.resume(&checkpoint, &data, None, &mut (), Some(7))?;
    ///         }
    ///         Outcome::Finished(model, _) => break model,
    ///     }
    /// };
    /// assert_eq!(model.to_bytes(), whole.to_bytes()); // the same bits
    /// # Ok::<(), npoa::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`fit`](Self::fit).
    pub fn fit_until(
        &self,
        train: &DynDataset,
        validation: Option<&DynDataset>,
        observer: &mut dyn Observer,
        steps: Option<u64>,
    ) -> Result<Outcome, Error> {
        self.fit_inner(train, validation, observer, None, Some(steps))
    }

    /// Continues a run paused by [`fit_until`](Self::fit_until) (or by an earlier
    /// `resume`) from its `checkpoint` bytes, for at most `steps` more steps (`None`: to the
    /// end). The recipe, the data and the validation data must be the ones the checkpoint was
    /// made with; the observer sees the epochs and events from the pause on.
    ///
    /// # Errors
    /// As [`fit`](Self::fit); [`Error::InvalidBytes`] or [`Error::LengthMismatch`] for
    /// bytes that are not a valid checkpoint, [`Error::InvalidParameter`] named
    /// `"checkpoint"` or `"run state"` for one of another recipe, other data, or a solver
    /// plan (which never pauses).
    pub fn resume(
        &self,
        checkpoint: &[u8],
        train: &DynDataset,
        validation: Option<&DynDataset>,
        observer: &mut dyn Observer,
        steps: Option<u64>,
    ) -> Result<Outcome, Error> {
        self.fit_inner(train, validation, observer, Some(checkpoint), Some(steps))
    }

    /// The one body of [`fit`](Self::fit), [`fit_until`](Self::fit_until) and
    /// [`resume`](Self::resume): `resumable` is `None` for `fit` (the plain loop), else the
    /// step budget.
    fn fit_inner(
        &self,
        train: &DynDataset,
        validation: Option<&DynDataset>,
        observer: &mut dyn Observer,
        from: Option<&[u8]>,
        resumable: Option<Option<u64>>,
    ) -> Result<Outcome, Error> {
        let plan = self.plan();
        if plan.solver && from.is_some() {
            return Err(Error::InvalidParameter {
                name: "checkpoint",
                reason: "the full-batch solver plan never pauses (name an optimizer for a mini-batch plan)",
            });
        }
        let scaler = plan.features_standardized.then(|| Standardizer::fit(train));
        let target = match (plan.target_standardized, self.objective, &scaler) {
            (true, Objective::Single(loss), Some(s)) => Some(TargetScale::of(loss, s)),
            _ => None,
        };
        let apply = |d: &DynDataset| match (&scaler, target) {
            (Some(s), Some(_)) => s.apply_with_target(d),
            (Some(s), None) => s.apply(d),
            (None, _) => Ok(d.clone()),
        };
        let (tr, va) = (apply(train)?, validation.map(apply).transpose()?);
        let (mut objective, mut regularization) = (self.objective, self.regularization);
        if let Some(t) = &target {
            if let Objective::Single(l) = objective {
                objective = Objective::Single(t.loss(l));
            }
            regularization = t.regularization(regularization);
        }
        let factor = target.map_or(1.0, |t| t.factor());
        let mut observer = Rescaled {
            inner: observer,
            factor,
        };
        let (t, v) = (tr.view(), va.as_ref().map(DynDataset::view));
        let d = train.features();
        let mut model = match objective {
            Objective::Single(loss) => DynModel::Linear(DynLinearModel::zeros(d)?.with_loss(loss)?),
            Objective::Softmax => DynModel::Classifier(DynClassifier::zeros(d, self.classes)?),
        };
        let mut summary = if plan.solver {
            let config = SolveConfig {
                max_iter: plan.epochs,
                tol: self.tol,
                regularization,
                target_var: None,
                ..SolveConfig::default()
            };
            solve_with(&mut model, &t, v.as_ref(), &config, &mut observer)?
        } else {
            let recipe = Recipe {
                objective,
                regularization,
                ..*self
            };
            let lr = recipe.rate_for(&tr)?;
            let config = TrainConfig {
                learning_rate: lr,
                epochs: plan.epochs,
                batch_size: self.batch_size,
                shuffle: true,
                seed: self.seed,
                optimizer: plan.rule,
                regularization,
            };
            let mut cc = ControllerConfig::constant(lr)?;
            cc.schedule = LrSchedule::new(lr, self.schedule)?;
            // AdaGrad's per-coordinate steps already shrink like 1/√Σg²: halving the rate on a
            // plateau as well compounds the decay (on the seeded raw regression of
            // `tests/convergence.rs`: 1.0099× the OLS MSE with the rule, 1.0086× without).
            // FTRL's steps shrink too, but it gains from the rule there (1.010× with it,
            // 1.040× without).
            let decays = matches!(plan.rule, Rule::AdaGrad { .. });
            cc.plateau = self
                .plateau_patience
                .filter(|_| !decays)
                .map(|patience| Plateau {
                    factor: 0.5,
                    patience,
                    cooldown: patience,
                    min_lr: lr * 1e-4,
                    ..Plateau::default()
                });
            cc.early_stop = self.early_stop.map(|patience| EarlyStop {
                patience,
                ..EarlyStop::default()
            });
            cc.plateau_follows_certificate = true;
            // The certificate is the full gradient at the weights, not a batch's: a run that
            // stops on it has left the mini-batch noise floor behind.
            cc.tol = Some(self.tol.unwrap_or(crate::control::certificate::default_tol(
                crate::control::certificate::measure(objective, &regularization),
            )));
            match resumable {
                None => {
                    let mut ctl = Controller::new(cc)?;
                    let mut training = Training::new(&config)
                        .controller(&mut ctl)
                        .observer(&mut observer);
                    if let Some(v) = v.as_ref() {
                        training = training.validation(v);
                    }
                    training.fit(&mut model, &t)?
                }
                Some(budget) => {
                    let (mut ctl, mut state, mut cursor) = match from {
                        None => (Controller::new(cc)?, DynState::default(), Cursor::new()),
                        Some(bytes) => {
                            let (m, st, c, cur) = decode_checkpoint(bytes)?;
                            let same_model = match (&m, &model) {
                                (DynModel::Linear(a), DynModel::Linear(b)) => {
                                    a.loss_kind() == b.loss_kind()
                                        && a.weights().len() == b.weights().len()
                                }
                                (DynModel::Classifier(a), DynModel::Classifier(b)) => {
                                    a.features() == b.features() && a.classes() == b.classes()
                                }
                                _ => false,
                            };
                            let buffers = plan.rule.buffers();
                            let bufs_ok = st
                                .bufs
                                .iter()
                                .enumerate()
                                .all(|(k, b)| (k < buffers) != b.0.is_empty());
                            if !same_model || !bufs_ok || c.config() != &cc {
                                return Err(Error::InvalidParameter {
                                    name: "checkpoint",
                                    reason: "belongs to another recipe (model, update rule or controller differ)",
                                });
                            }
                            model = m;
                            (c, st, cur)
                        }
                    };
                    let mut training = Training::new(&config)
                        .controller(&mut ctl)
                        .observer(&mut observer);
                    if let Some(v) = v.as_ref() {
                        training = training.validation(v);
                    }
                    if let Some(steps) = budget {
                        training = training.pause_after(steps);
                    }
                    let s = fit_dyn_resumable(&mut model, training, &t, &mut state, &mut cursor)?;
                    if s.stop == Stop::Paused {
                        let checkpoint = encode_checkpoint(&model, &state, &ctl, &cursor)?;
                        let mut summary = s;
                        summary.final_loss *= factor;
                        summary.best_metric *= factor;
                        return Ok(Outcome::Paused {
                            checkpoint,
                            summary,
                        });
                    }
                    s
                }
            }
        };
        summary.final_loss *= factor;
        summary.best_metric *= factor;
        let (w, b) = model.params();
        match (&scaler, target) {
            (Some(s), Some(_)) => s.fold_target(w, b)?,
            (Some(s), None) => s.fold(w, b)?,
            (None, _) => {}
        }
        if let (Some(_), DynModel::Linear(m), Objective::Single(l)) =
            (&target, &mut model, self.objective)
        {
            // The model's loss in the target's unit again (Huber's δ).
            *m = m.clone().with_loss(l)?;
        }
        Ok(Outcome::Finished(model, summary))
    }
}

/// The factor from the full-batch stable rate to a mini-batch one: `B·λ / (R² + (B − 1)·λ)`
/// with `λ = λ_max(E[x̃ x̃ᵀ])`, `R² = E‖x̃‖² = tr E[x̃ x̃ᵀ]` and `B` the batch (at most the
/// rows). Least squares by mini-batch SGD is stable in the mean square for rates below
/// `B / (R² + (B − 1)·λ)` in these units (Jain, Kakade, Kidambi, Netrapalli, Sidford,
/// *Parallelizing stochastic gradient descent for least squares regression*, JMLR 2018), which
/// is `1/λ` (gradient descent) for a full batch and `1/R²` (LMS) for one row: a batch's
/// curvature exceeds the data's when the batch is not much larger than the features. The
/// factor is half that limit over `1/λ`, at most 1. On 200,000 standardised rows of 32
/// features in batches of 32 it is 0.25: the full-batch rate, 0.89, diverged within the first
/// epoch. `full` is the full-batch rate for
/// `objective` (its `λ` is recovered from it); 1 if anything is not finite.
fn batch_factor(
    data: &crate::dataset::Dataset<'_>,
    batch: usize,
    objective: Objective,
    full: f32,
) -> f32 {
    let rows = data.len();
    let b = batch.clamp(1, rows.max(1)) as f64;
    if rows == 0 {
        return 1.0;
    }
    let r2 = data
        .x()
        .chunks(data.features().max(1))
        .map(|r| 1.0 + r.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>())
        .sum::<f64>()
        / rows as f64;
    // `full = safety·2 / (c·λ)`.
    let lambda = f64::from(crate::control::autolr::DEFAULT_SAFETY) * 2.0
        / (f64::from(objective.curvature_bound()) * f64::from(full));
    // Half the limit: near it the rate's noise is amplified by `1/(1 − η/η_max)` (at the
    // limit's 0.9 the run above sits at 6.9× the least-squares loss, at its half at 1.4×).
    let f = 0.5 * b * lambda / (r2 + (b - 1.0) * lambda);
    if f.is_finite() && f > 0.0 {
        f.min(1.0) as f32
    } else {
        1.0
    }
}
