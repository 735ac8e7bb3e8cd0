//! The `std` layer: models whose size is known only at run time, on the same kernels.

use crate::train::{Dataset, Strategy, TrainConfig, TrainSummary, fit_slices};
use crate::{Error, kernel};
use std::vec;
use std::vec::Vec;

/// A linear model with a run-time number of features (`Vec`-backed). Same kernels and
/// training loop as [`LinearModel`](crate::LinearModel).
#[derive(Debug, Clone, PartialEq)]
pub struct DynLinearModel {
    w: Vec<f32>,
    b: f32,
}

impl DynLinearModel {
    /// All-zero model with `d` features.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] if `d == 0`.
    pub fn zeros(d: usize) -> Result<Self, Error> {
        if d == 0 {
            return Err(Error::ZeroFeatures);
        }
        Ok(Self {
            w: vec![0.0; d],
            b: 0.0,
        })
    }

    /// A model from its weights and bias.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] for empty weights, [`Error::NonFinite`] for non-finite values.
    pub fn new(w: Vec<f32>, b: f32) -> Result<Self, Error> {
        kernel::check_params(&w, b)?;
        Ok(Self { w, b })
    }

    /// The weights.
    pub fn weights(&self) -> &[f32] {
        &self.w
    }

    /// The bias.
    pub fn bias(&self) -> f32 {
        self.b
    }

    /// Predictions for `out.len()` samples.
    ///
    /// # Errors
    /// As [`kernel::forward`].
    pub fn predict_batch(&self, x: &[f32], out: &mut [f32]) -> Result<(), Error> {
        kernel::forward(x, &self.w, self.b, out)
    }

    /// Mean squared error on a data set.
    ///
    /// # Errors
    /// As [`kernel::loss`].
    pub fn loss(&self, x: &[f32], y: &[f32]) -> Result<f32, Error> {
        kernel::loss(x, y, &self.w, self.b)
    }

    /// Trains in place with [`fit_slices`]; on error the model is unchanged.
    ///
    /// # Errors
    /// As [`fit_slices`].
    pub fn fit<S: Strategy>(
        &mut self,
        data: &Dataset<'_>,
        config: &TrainConfig,
        mut strategy: S,
    ) -> Result<TrainSummary, Error> {
        let backup = (self.w.clone(), self.b);
        let mut grad = vec![0.0f32; self.w.len()];
        let out = fit_slices(
            &mut self.w,
            &mut self.b,
            &mut grad,
            data,
            config,
            &mut strategy,
        );
        if out.is_err() {
            (self.w, self.b) = backup;
        }
        out
    }
}
