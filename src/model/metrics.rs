//! Metrics over a validation or test set, streamed with no heap: regression (MSE, RMSE, MAE,
//! R²) in fixed-size chunks of predictions made by the SIMD `forward` kernel, and
//! classification (accuracy, log-loss, per-class precision / recall / F1 from a fixed-size
//! confusion matrix) for logistic models and softmax classifiers.
//!
//! Sums are accumulated in `f64` per chunk, so the result does not depend on how the data are
//! chunked beyond the last bits, and large sets stay accurate.
//!
//! ```
//! use npoa::{LinearModel, model::metrics::evaluate};
//! let m = LinearModel::new([2.0], 0.0)?;
//! let r = evaluate(&m, &[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 9.0])?;
//! assert_eq!(r.mse, 0.25);
//! assert_eq!(r.mae, 0.25);
//! assert!((r.r2 - (1.0 - 1.0 / 26.75)).abs() < 1e-6);
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::check;
use crate::{Error, LinearClassifier, LinearModel};

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
/// As [`crate::kernel::forward`] (shapes, non-finite inputs), and as [`RegressionAcc::finish`].
pub fn evaluate<const D: usize>(
    model: &LinearModel<D>,
    x: &[f32],
    y: &[f32],
) -> Result<Regression, Error> {
    if D == 0 {
        return Err(Error::ZeroFeatures);
    }
    let expected = y.len().saturating_mul(D);
    check::check_len("x", x.len(), expected)?;
    check::check_finite("y", y)?;
    let mut acc = RegressionAcc::default();
    let mut pred = [0.0f32; CHUNK];
    for (xc, yc) in x.chunks(CHUNK * D).zip(y.chunks(CHUNK)) {
        let p = pred.get_mut(..yc.len()).unwrap_or(&mut []);
        model.predict_batch(xc, p)?;
        acc.add(p, yc);
    }
    acc.finish()
}

/// Classification metrics of a model on a data set, for `K` classes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Classification<const K: usize> {
    /// Number of samples.
    pub n: u64,
    /// Fraction of samples whose predicted class is the label.
    pub accuracy: f64,
    /// Mean cross-entropy `−ln p(label)`, from the logits in `f64` (never infinite for finite
    /// logits, unlike a log of rounded probabilities).
    pub log_loss: f64,
    /// Per class: true positives / predicted positives (0 if the class was never predicted).
    pub precision: [f64; K],
    /// Per class: true positives / actual positives (0 if the class never occurs).
    pub recall: [f64; K],
    /// Per class: harmonic mean of precision and recall (0 if both are 0).
    pub f1: [f64; K],
    /// Unweighted mean of the per-class F1 (scikit-learn's `average="macro"`).
    pub macro_f1: f64,
    /// `confusion[actual][predicted]` counts.
    pub confusion: [[u64; K]; K],
}

/// Streaming accumulator of [`Classification`]: feed `(label, predicted class, log-loss)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassificationAcc<const K: usize> {
    confusion: [[u64; K]; K],
    n: u64,
    log_loss: f64,
}

impl<const K: usize> Default for ClassificationAcc<K> {
    fn default() -> Self {
        Self {
            confusion: [[0; K]; K],
            n: 0,
            log_loss: 0.0,
        }
    }
}

impl<const K: usize> ClassificationAcc<K> {
    /// Adds one sample.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `label` or `predicted` is not `< K`, or `log_loss` is
    /// negative or NaN. Nothing is added then.
    pub fn add(&mut self, label: usize, predicted: usize, log_loss: f64) -> Result<(), Error> {
        if log_loss.is_nan() || log_loss < 0.0 {
            return Err(Error::InvalidParameter {
                name: "log_loss",
                reason: "must be >= 0",
            });
        }
        let cell = self
            .confusion
            .get_mut(label)
            .and_then(|row| row.get_mut(predicted))
            .ok_or(Error::InvalidParameter {
                name: "class",
                reason: "must be < K",
            })?;
        *cell += 1;
        self.n += 1;
        self.log_loss += log_loss;
        Ok(())
    }

    /// The metrics so far.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`] if nothing was added; [`Error::Overflow`] if the log-loss sum
    /// overflowed.
    pub fn finish(&self) -> Result<Classification<K>, Error> {
        if self.n == 0 {
            return Err(Error::EmptyBatch);
        }
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let mut out = Classification {
            n: self.n,
            accuracy: 0.0,
            log_loss: self.log_loss / self.n as f64,
            precision: [0.0; K],
            recall: [0.0; K],
            f1: [0.0; K],
            macro_f1: 0.0,
            confusion: self.confusion,
        };
        let mut correct = 0u64;
        for c in 0..K {
            let tp = self.confusion[c][c];
            correct += tp;
            let actual: u64 = self.confusion[c].iter().sum();
            let predicted: u64 = self.confusion.iter().map(|row| row[c]).sum();
            let (p, r) = (ratio(tp, predicted), ratio(tp, actual));
            out.precision[c] = p;
            out.recall[c] = r;
            out.f1[c] = if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            };
        }
        out.accuracy = ratio(correct, self.n);
        out.macro_f1 = out.f1.iter().sum::<f64>() / K.max(1) as f64;
        if out.log_loss.is_finite() {
            Ok(out)
        } else {
            Err(Error::Overflow { what: "log_loss" })
        }
    }
}

/// A binary label stored as a float: exactly `0.0` or `1.0`.
fn binary_label(y: f32) -> Result<usize, Error> {
    if y == 0.0 {
        Ok(0)
    } else if y == 1.0 {
        Ok(1)
    } else {
        Err(Error::InvalidData {
            what: "y",
            reason: "binary labels must be 0 or 1",
        })
    }
}

/// Accuracy, log-loss, precision / recall / F1 of a logistic model (its output read as a logit;
/// class 1 when the logit is `≥ 0`) on `(x, y)` with labels `0.0` / `1.0`.
///
/// ```
/// use npoa::{LinearModel, loss::Loss, model::metrics::evaluate_logistic};
/// let m = LinearModel::new([4.0], -2.0)?.with_loss(Loss::Logistic)?;
/// let c = evaluate_logistic(&m, &[0.0, 1.0, 0.2, 0.9], &[0.0, 1.0, 0.0, 0.0])?;
/// assert_eq!(c.accuracy, 0.75);
/// assert_eq!(c.confusion, [[2, 1], [0, 1]]); // [actual][predicted]
/// assert_eq!(c.recall[1], 1.0);
/// # Ok::<(), npoa::Error>(())
/// ```
///
/// # Errors
/// As [`crate::kernel::forward`]; [`Error::InvalidData`] for a label other than 0 or 1.
pub fn evaluate_logistic<const D: usize>(
    model: &LinearModel<D>,
    x: &[f32],
    y: &[f32],
) -> Result<Classification<2>, Error> {
    if D == 0 {
        return Err(Error::ZeroFeatures);
    }
    check::check_len("x", x.len(), y.len().saturating_mul(D))?;
    check::check_finite("y", y)?;
    let mut acc = ClassificationAcc::<2>::default();
    let mut pred = [0.0f32; CHUNK];
    for (xc, yc) in x.chunks(CHUNK * D).zip(y.chunks(CHUNK)) {
        let p = pred.get_mut(..yc.len()).unwrap_or(&mut []);
        model.predict_batch(xc, p)?;
        for (&z, &t) in p.iter().zip(yc) {
            let label = binary_label(t)?;
            let ll = crate::loss::Loss::Logistic.value64(f64::from(z), f64::from(t));
            acc.add(label, usize::from(z >= 0.0), ll)?;
        }
    }
    acc.finish()
}

/// Accuracy, log-loss, precision / recall / F1 of a softmax classifier on `(x, y)` with class
/// labels `0.0, 1.0, …` (`< K`).
///
/// # Errors
/// As [`LinearClassifier::logits`]; [`Error::InvalidData`] for an invalid label.
pub fn evaluate_classifier<const D: usize, const K: usize>(
    model: &LinearClassifier<D, K>,
    x: &[f32],
    y: &[f32],
) -> Result<Classification<K>, Error> {
    if D == 0 {
        return Err(Error::ZeroFeatures);
    }
    check::check_len("x", x.len(), y.len().saturating_mul(D))?;
    check::check_labels(y, K)?;
    let mut acc = ClassificationAcc::<K>::default();
    for (row, &t) in x.chunks_exact(D).zip(y) {
        let z = model.logits(row)?;
        let label = t as usize;
        let m = z
            .iter()
            .fold(f64::NEG_INFINITY, |a, &v| a.max(f64::from(v)));
        let s: f64 = z.iter().map(|&v| libm::exp(f64::from(v) - m)).sum();
        let zl = z.get(label).map_or(f64::NAN, |&v| f64::from(v));
        let ll = (m + libm::log(s) - zl).max(0.0);
        acc.add(label, crate::model::classifier::argmax(&z), ll)?;
    }
    acc.finish()
}
