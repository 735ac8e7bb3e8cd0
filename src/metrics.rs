//! Regression metrics over a validation or test set: MSE, RMSE, MAE and R², streamed in
//! fixed-size chunks of predictions made by the SIMD `forward` kernel (no heap).
//!
//! Sums are accumulated in `f64` per chunk, so the result does not depend on how the data are
//! chunked beyond the last bits, and large sets stay accurate.
//!
//! ```
//! use npoa::{LinearModel, metrics::evaluate};
//! let m = LinearModel::new([2.0], 0.0)?;
//! let r = evaluate(&m, &[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 9.0])?;
//! assert_eq!(r.mse, 0.25);
//! assert_eq!(r.mae, 0.25);
//! assert!((r.r2 - (1.0 - 1.0 / 26.75)).abs() < 1e-6);
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::{Error, LinearModel, kernel};

/// Samples predicted per chunk (1 KiB of predictions on the stack).
const CHUNK: usize = 256;

/// Regression metrics of a model on a data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regression {
    /// Number of samples.
    pub n: usize,
    /// Mean squared error.
    pub mse: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination `1 − SS_res/SS_tot` (scikit-learn's `r2_score`: 1 for a
    /// perfect fit of constant targets, 0 for an imperfect one).
    pub r2: f64,
}

/// Streaming accumulator: feed `(prediction, target)` pairs, read the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RegressionAcc {
    n: u64,
    sum_sq: f64,
    sum_abs: f64,
    sum_y: f64,
    sum_y2: f64,
}

impl RegressionAcc {
    /// Adds predictions and their targets (equal lengths; extra elements of either are
    /// ignored).
    pub fn add(&mut self, pred: &[f32], y: &[f32]) {
        for (&p, &t) in pred.iter().zip(y) {
            let r = f64::from(p) - f64::from(t);
            let t = f64::from(t);
            self.n += 1;
            self.sum_sq += r * r;
            self.sum_abs += r.abs();
            self.sum_y += t;
            self.sum_y2 += t * t;
        }
    }

    /// The metrics so far.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`] if nothing was added; [`Error::Overflow`] if a sum overflowed.
    pub fn finish(&self) -> Result<Regression, Error> {
        if self.n == 0 {
            return Err(Error::EmptyBatch);
        }
        let n = self.n as f64;
        let mse = self.sum_sq / n;
        let ss_tot = (self.sum_y2 - self.sum_y * self.sum_y / n).max(0.0);
        let r2 = if ss_tot > 0.0 {
            1.0 - self.sum_sq / ss_tot
        } else if self.sum_sq == 0.0 {
            1.0
        } else {
            0.0
        };
        let out = Regression {
            n: self.n as usize,
            mse,
            rmse: libm::sqrt(mse),
            mae: self.sum_abs / n,
            r2,
        };
        if out.mse.is_finite() && out.mae.is_finite() && out.r2.is_finite() {
            Ok(out)
        } else {
            Err(Error::Overflow { what: "metrics" })
        }
    }
}

/// MSE, RMSE, MAE and R² of `model` on `(x, y)` (`n = y.len()` samples of `D` features).
///
/// # Errors
/// As [`kernel::forward`] (shapes, non-finite inputs), and as [`RegressionAcc::finish`].
pub fn evaluate<const D: usize>(
    model: &LinearModel<D>,
    x: &[f32],
    y: &[f32],
) -> Result<Regression, Error> {
    if D == 0 {
        return Err(Error::ZeroFeatures);
    }
    let expected = y.len().saturating_mul(D);
    kernel::check_len("x", x.len(), expected)?;
    kernel::check_finite("y", y)?;
    let mut acc = RegressionAcc::default();
    let mut pred = [0.0f32; CHUNK];
    for (xc, yc) in x.chunks(CHUNK * D).zip(y.chunks(CHUNK)) {
        let p = pred.get_mut(..yc.len()).unwrap_or(&mut []);
        model.predict_batch(xc, p)?;
        acc.add(p, yc);
    }
    acc.finish()
}
