//! A training recipe for data of run-time size (`std`): the choices a person makes on the
//! command line (the `train` example maps its options onto this), with defaults that give the
//! least-squares answer on well-conditioned data.
//!
//! [`Recipe::fit`] standardises the features if asked (fitted on the training rows and folded
//! back into the model, which therefore predicts on raw features), picks the rate (the stable
//! rate of the data for the loss unless one is given), and trains under the strategy controller
//! (the schedule, a plateau rule that halves the rate when the validation loss stalls, the
//! divergence guard, optional early stopping), returning the best model and the history.
//!
//! ```
//! use npoa::data::DynDataset;
//! use npoa::recipe::Recipe;
//! let x: Vec<f32> = (0..200).map(|i| (i % 17) as f32 / 17.0 - 0.5).collect();
//! let y: Vec<f32> = x.chunks(2).map(|r| 3.0 * r[0] - r[1] + 0.5).collect();
//! let data = DynDataset::new(x, y, 2)?;
//! let (model, summary) = Recipe::default().fit(&data, None, &mut ())?;
//! assert!(summary.best_metric < 1e-6 && model.features() == 2);
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::control::{Controller, ControllerConfig, EarlyStop, LrSchedule, Plateau, Schedule};
use crate::data::{DynDataset, Standardizer};
use crate::loss::{Loss, Objective};
use crate::optim::{Regularization, Rule};
use crate::train::{Observer, Summary, TrainConfig, Training};
use crate::{DynClassifier, DynLinearModel, DynModel, Error};

/// The training choices (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipe {
    /// The loss, or softmax with this many classes.
    pub objective: Objective,
    /// Classes for [`Objective::Softmax`] (ignored otherwise).
    pub classes: usize,
    /// The update rule.
    pub optimizer: Rule,
    /// `None`: the stable rate of the training data for the loss ([`crate::control::autolr`]), ×0.1
    /// for momentum and Nesterov, at most 0.01 for Adam and AdamW (their steps are about the
    /// rate in every coordinate), 0.1 for AdaGrad (its steps are the rate in every coordinate
    /// at first, then shrink like `1/√t`).
    pub learning_rate: Option<f32>,
    /// The rate's shape over the epochs.
    pub schedule: Schedule,
    /// Halve the rate (down to 1e-4 of its start) when the validation loss (the training loss
    /// without validation data) has not improved for this many epochs (`None`: never).
    pub plateau_patience: Option<u32>,
    /// Epochs.
    pub epochs: u32,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Penalty and bounds.
    pub regularization: Regularization,
    /// Standardise the features (and fold the scaling back into the model).
    pub standardize: bool,
    /// Stop after this many epochs without improvement (`None`: run every epoch).
    pub early_stop: Option<u32>,
    /// Seed of the shuffling.
    pub seed: u64,
}

impl Default for Recipe {
    /// Squared error, SGD at the stable rate, constant schedule with the plateau rule
    /// (patience 5), 200 epochs, batches of 32, no penalty, no standardisation, no early stop.
    fn default() -> Self {
        Self {
            objective: Objective::Single(Loss::Squared),
            classes: 2,
            optimizer: Rule::Sgd,
            learning_rate: None,
            schedule: Schedule::Constant,
            plateau_patience: Some(5),
            epochs: 200,
            batch_size: 32,
            regularization: Regularization::NONE,
            standardize: false,
            early_stop: None,
            seed: 0,
        }
    }
}

impl Recipe {
    /// The rate [`fit`](Self::fit) uses on (possibly standardised) training data.
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
        let rate = crate::control::autolr::stable_rate_with(
            &train.view(),
            self.objective,
            crate::control::autolr::DEFAULT_SAFETY,
            &mut v,
            &mut g,
            &mut g0,
        )?;
        Ok(match self.optimizer {
            Rule::Adam { .. } | Rule::AdamW { .. } => rate.min(0.01),
            Rule::Momentum { .. } => rate * 0.1,
            // AdaGrad's steps do not scale with the gradient (its first moves every weight by
            // η), so the curvature's rate is the wrong unit; and they shrink like η/√t, so
            // Adam's 0.01 (PyTorch's default) stalls: 200 epochs of 16 batches at 0.01 leave
            // R² = 0.81 on the smoke test's regression, 0.1 to 1 reach its noise floor.
            Rule::AdaGrad { .. } => 0.1,
            _ => rate,
        })
    }

    /// Trains a fresh model on `train` (validating on `validation` if given); `observer` sees
    /// each epoch and controller event (a [`History`](crate::History) keeps them). Returns the
    /// best model, in raw feature space, and the run's summary.
    ///
    /// # Errors
    /// Any configuration or data error of the steps above.
    pub fn fit(
        &self,
        train: &DynDataset,
        validation: Option<&DynDataset>,
        observer: &mut dyn Observer,
    ) -> Result<(DynModel, Summary), Error> {
        let scaler = self.standardize.then(|| Standardizer::fit(train));
        let (tr, va) = match &scaler {
            Some(s) => (s.apply(train)?, validation.map(|v| s.apply(v)).transpose()?),
            None => (train.clone(), validation.cloned()),
        };
        let lr = self.rate_for(&tr)?;
        let config = TrainConfig {
            learning_rate: lr,
            epochs: self.epochs,
            batch_size: self.batch_size,
            shuffle: true,
            seed: self.seed,
            optimizer: self.optimizer,
            regularization: self.regularization,
        };
        let mut cc = ControllerConfig::constant(lr)?;
        cc.schedule = LrSchedule::new(lr, self.schedule)?;
        cc.plateau = self.plateau_patience.map(|patience| Plateau {
            factor: 0.5,
            patience,
            min_lr: lr * 1e-4,
            ..Plateau::default()
        });
        cc.early_stop = self.early_stop.map(|patience| EarlyStop {
            patience,
            ..EarlyStop::default()
        });
        let mut ctl = Controller::new(cc)?;
        let (t, v) = (tr.view(), va.as_ref().map(DynDataset::view));
        let d = train.features();
        let mut model = match self.objective {
            Objective::Single(loss) => DynModel::Linear(DynLinearModel::zeros(d)?.with_loss(loss)?),
            Objective::Softmax => DynModel::Classifier(DynClassifier::zeros(d, self.classes)?),
        };
        let mut training = Training::new(&config)
            .controller(&mut ctl)
            .observer(observer);
        if let Some(v) = v.as_ref() {
            training = training.validation(v);
        }
        let summary = training.fit(&mut model, &t)?;
        if let Some(s) = &scaler {
            match &mut model {
                DynModel::Linear(m) => m.unstandardize(s)?,
                DynModel::Classifier(m) => m.unstandardize(s)?,
            }
        }
        Ok((model, summary))
    }
}
