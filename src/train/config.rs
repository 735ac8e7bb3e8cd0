//! The hyper-parameters of a training run.

use crate::Error;
use crate::optim::{Regularization, Rule};

/// Hyper-parameters of the training loop.
///
/// Start from [`TrainConfig::default`] and set what differs; [`Training`](crate::train::Training)
/// and [`fit`](crate::train::fit) check every field before any work.
///
/// ```
/// use npoa::{Error, LinearModel};
/// use npoa::optim::{Regularization, Rule};
/// use npoa::train::{Dataset, TrainConfig, fit};
///
/// // y = 3x − 1 on 8 points, Adam with a small ridge penalty, full batches.
/// let x: [f32; 8] = core::array::from_fn(|i| i as f32 / 4.0);
/// let y = x.map(|v| 3.0 * v - 1.0);
/// let data = Dataset::new(&x, &y, 1)?;
/// let config = TrainConfig {
///     learning_rate: 0.05,
///     epochs: 1500,
///     batch_size: 8,
///     optimizer: Rule::ADAM,
///     regularization: Regularization::l2(1e-4),
///     ..TrainConfig::default()
/// };
/// assert!(config.validate().is_ok());
/// let mut model = LinearModel::<1>::zeros();
/// fit(&mut model, &data, &config)?;
/// assert!((model.weights()[0] - 3.0).abs() < 0.01 && (model.bias() + 1.0).abs() < 0.01);
///
/// // A field out of range is an error that names it, and nothing is trained.
/// let zero_epochs = TrainConfig { epochs: 0, ..config };
/// assert!(matches!(zero_epochs.validate(), Err(Error::InvalidParameter { name: "epochs", .. })));
/// let before = model;
/// assert!(fit(&mut model, &data, &zero_epochs).is_err());
/// assert_eq!(model, before);
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Learning rate `η` (finite, > 0).
    pub learning_rate: f32,
    /// Number of epochs (passes over the data, ≥ 1).
    pub epochs: u32,
    /// Samples per mini-batch (≥ 1; larger than the data means full batch).
    pub batch_size: usize,
    /// Shuffle the order of the mini-batches every epoch.
    pub shuffle: bool,
    /// Seed of the shuffling generator.
    pub seed: u64,
    /// The update rule ([`crate::optim`]); its state lives in an
    /// [`OptimState`](crate::optim::OptimState).
    pub optimizer: Rule,
    /// The penalty and bounds applied by proximal steps ([`crate::optim`]).
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
        if self.epochs == 0 {
            return Err(Error::InvalidParameter {
                name: "epochs",
                reason: "must be >= 1",
            });
        }
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

pub(crate) fn check_rate(lr: f32) -> Result<(), Error> {
    if lr.is_finite() && lr > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "learning_rate",
            reason: "must be finite and > 0",
        })
    }
}
