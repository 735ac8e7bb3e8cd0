//! The hyper-parameters of a training run.

use crate::Error;
use crate::optim::{Regularization, Rule};

/// Hyper-parameters of the training loop.
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
