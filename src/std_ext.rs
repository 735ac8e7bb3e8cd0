//! The `std` layer: models whose size is known only at run time, on the same kernels.

use crate::loss::{Loss, Objective};
use crate::optim::StateParts;
use crate::train::{
    Dataset, ObjectiveKernels, Strategy, TrainConfig, TrainSummary, finish_average, fit_parts,
};
use crate::{Error, kernel};
use std::vec;
use std::vec::Vec;

/// A linear model with a run-time number of features (`Vec`-backed). Same kernels and
/// training loop as [`LinearModel`](crate::LinearModel).
#[derive(Debug, Clone, PartialEq)]
pub struct DynLinearModel {
    w: Vec<f32>,
    b: f32,
    loss: Loss,
}

impl DynLinearModel {
    /// All-zero model with `d` features, for the squared error.
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
            loss: Loss::Squared,
        })
    }

    /// A model from its weights and bias, for the squared error.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] for empty weights, [`Error::NonFinite`] for non-finite values.
    pub fn new(w: Vec<f32>, b: f32) -> Result<Self, Error> {
        kernel::check_params(&w, b)?;
        Ok(Self {
            w,
            b,
            loss: Loss::Squared,
        })
    }

    /// The model trained for another loss (see [`LinearModel::with_loss`](crate::LinearModel::with_loss)).
    ///
    /// # Errors
    /// As [`Loss::validate`].
    pub fn with_loss(mut self, loss: Loss) -> Result<Self, Error> {
        loss.validate()?;
        self.loss = loss;
        Ok(self)
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

    /// Mean loss on a data set.
    ///
    /// # Errors
    /// As [`kernel::loss_with`].
    pub fn loss(&self, x: &[f32], y: &[f32]) -> Result<f32, Error> {
        kernel::loss_with(self.loss, x, y, &self.w, self.b)
    }

    /// Trains in place with the same loop as [`crate::train::fit`]; on error the model is
    /// unchanged.
    ///
    /// # Errors
    /// As [`crate::train::fit`].
    pub fn fit<S: Strategy>(
        &mut self,
        data: &Dataset<'_>,
        config: &TrainConfig,
        mut strategy: S,
    ) -> Result<TrainSummary, Error> {
        let backup = (self.w.clone(), self.b);
        let out = fit_dyn(
            Objective::Single(self.loss),
            (&mut self.w, core::slice::from_mut(&mut self.b)),
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

/// A softmax classifier with run-time numbers of features and classes (`Vec`-backed). Same
/// kernels and training loop as [`LinearClassifier`](crate::LinearClassifier).
#[derive(Debug, Clone, PartialEq)]
pub struct DynClassifier {
    w: Vec<f32>,
    b: Vec<f32>,
    d: usize,
}

impl DynClassifier {
    /// All-zero classifier with `d` features and `k` classes.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] if `d == 0`; [`Error::InvalidParameter`] if `k` is not in
    /// `1..=`[`kernel::MAX_CLASSES`].
    pub fn zeros(d: usize, k: usize) -> Result<Self, Error> {
        if d == 0 {
            return Err(Error::ZeroFeatures);
        }
        if k == 0 || k > kernel::MAX_CLASSES {
            return Err(Error::InvalidParameter {
                name: "classes",
                reason: "must be in 1..=256",
            });
        }
        let len = d
            .checked_mul(k)
            .ok_or(Error::Overflow { what: "weights" })?;
        Ok(Self {
            w: vec![0.0; len],
            b: vec![0.0; k],
            d,
        })
    }

    /// The weights, one row of `d` per class.
    pub fn weights(&self) -> &[f32] {
        &self.w
    }

    /// The biases, one per class.
    pub fn biases(&self) -> &[f32] {
        &self.b
    }

    /// The logits of one sample into `out` (length `k`).
    ///
    /// # Errors
    /// As [`kernel::forward`]; [`Error::LengthMismatch`] if `out` is not `k` long.
    pub fn logits(&self, x: &[f32], out: &mut [f32]) -> Result<(), Error> {
        kernel::check_len("out", out.len(), self.b.len())?;
        for ((o, wc), &bc) in out.iter_mut().zip(self.w.chunks_exact(self.d)).zip(&self.b) {
            let mut one = [0.0f32];
            kernel::forward(x, wc, bc, &mut one)?;
            *o = one[0];
        }
        Ok(())
    }

    /// The most likely class of one sample (the first of equal logits).
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn predict_class(&self, x: &[f32]) -> Result<usize, Error> {
        let mut z = vec![0.0f32; self.b.len()];
        self.logits(x, &mut z)?;
        Ok(crate::classifier::argmax(&z))
    }

    /// Mean cross-entropy on a data set (labels as floats `0.0, 1.0, …`).
    ///
    /// # Errors
    /// As [`kernel::softmax_loss`].
    pub fn loss(&self, x: &[f32], y: &[f32]) -> Result<f32, Error> {
        kernel::softmax_loss(x, y, &self.w, &self.b)
    }

    /// Trains in place with the same loop as [`crate::train::fit`]; on error the classifier
    /// is unchanged.
    ///
    /// # Errors
    /// As [`crate::train::fit`].
    pub fn fit<S: Strategy>(
        &mut self,
        data: &Dataset<'_>,
        config: &TrainConfig,
        mut strategy: S,
    ) -> Result<TrainSummary, Error> {
        let backup = (self.w.clone(), self.b.clone());
        let out = fit_dyn(
            Objective::Softmax,
            (&mut self.w, &mut self.b),
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

/// The training loop for run-time sized parameters, with gradient scratch and the optimizer's
/// state in `Vec`s (fresh for each call); the model becomes the average for
/// [`Rule::Averaged`](crate::optim::Rule::Averaged).
fn fit_dyn<S: Strategy + ?Sized>(
    obj: Objective,
    (w, b): (&mut [f32], &mut [f32]),
    data: &Dataset<'_>,
    config: &TrainConfig,
    strategy: &mut S,
) -> Result<TrainSummary, Error> {
    let (n, nb) = (w.len(), b.len());
    let bufs = config.optimizer.buffers();
    let sized = |k: usize| {
        if bufs > k {
            (vec![0.0f32; n], vec![0.0f32; nb])
        } else {
            (vec![], vec![])
        }
    };
    let (mut aw, mut ab) = sized(0);
    let (mut bw, mut bb) = sized(1);
    let (mut gw, mut gb) = (vec![0.0f32; n], vec![0.0f32; nb]);
    let mut t = 0u64;
    let mut st = StateParts {
        a: (&mut aw, &mut ab),
        b: (&mut bw, &mut bb),
        t: &mut t,
    };
    let out = fit_parts(
        (obj, ObjectiveKernels::RUNTIME),
        (&mut *w, &mut *b),
        (&mut gw, &mut gb),
        &mut st,
        data,
        config,
        strategy,
    )?;
    finish_average(config.optimizer, (w, b), &st);
    Ok(out)
}
