//! The linear model `ŷ = w·x + b` with fixed-size, const-generic storage.

use super::bytes;
use crate::loss::{Loss, Objective};
use crate::optim::Params;
use crate::scale::Scaler;
use crate::train::{Access, ObjectiveKernels, Trainable};
use crate::{Error, kernel};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// A linear model with `D` features: weights `[f32; D]` and a bias, no heap.
///
/// Its state is always finite: constructors check, and training never writes a non-finite
/// value (it stops instead, see [`crate::train`]).
///
/// ```
/// use npoa::LinearModel;
/// let m = LinearModel::new([2.0, -1.0], 0.5)?;
/// assert_eq!(m.predict(&[1.0, 1.0])?, 1.5);
/// assert_eq!(m.predict_one(&[1.0, 1.0]), 1.5); // a `[f32; D]` cannot have the wrong length
///
/// // An exported model in flash: `new` is a `const fn`, checked at compile time.
/// static EXPORTED: LinearModel<2> = match LinearModel::new([0.25, -0.5], 1.0) {
///     Ok(m) => m,
///     Err(_) => panic!("non-finite weights"),
/// };
/// assert_eq!(EXPORTED.predict_one(&[4.0, 2.0]), 1.0);
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearModel<const D: usize> {
    w: [f32; D],
    b: f32,
    loss: Loss,
}

impl<const D: usize> Default for LinearModel<D> {
    fn default() -> Self {
        Self::zeros()
    }
}

impl<const D: usize> LinearModel<D> {
    /// Number of features.
    pub const FEATURES: usize = D;

    /// All weights and the bias zero.
    pub const fn zeros() -> Self {
        Self {
            w: [0.0; D],
            b: 0.0,
            loss: Loss::Squared,
        }
    }

    /// A model from its weights and bias.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] if `D == 0`, [`Error::NonFinite`] for a non-finite weight or bias.
    pub const fn new(w: [f32; D], b: f32) -> Result<Self, Error> {
        if D == 0 {
            return Err(Error::ZeroFeatures);
        }
        let mut i = 0;
        while i < D {
            if !w[i].is_finite() {
                return Err(Error::NonFinite {
                    what: "w",
                    index: i,
                });
            }
            i += 1;
        }
        if !b.is_finite() {
            return Err(Error::NonFinite {
                what: "b",
                index: 0,
            });
        }
        Ok(Self {
            w,
            b,
            loss: Loss::Squared,
        })
    }

    /// A model from its weights, bias **and loss**, checked like [`new`](Self::new) followed
    /// by [`with_loss`](Self::with_loss), as a `const fn`: the constructor of an exported model
    /// (`npoa export MODEL --rust`), which a `static` holds in flash. In a `const` or `static`
    /// initialiser, match the result and `panic!` on `Err`: the check then runs at compile
    /// time, and an invalid model does not build (nothing is checked or can fail at run time).
    ///
    /// ```
    /// use npoa::{LinearModel, loss::Loss};
    /// static MODEL: LinearModel<3> =
    ///     match LinearModel::from_parts([0.5, -1.25, 2.0], 0.125, Loss::Logistic) {
    ///         Ok(m) => m,
    ///         Err(_) => panic!("invalid exported model"),
    ///     };
    /// assert_eq!(MODEL.loss_kind(), Loss::Logistic);
    /// assert_eq!(MODEL.predict_one(&[2.0, 0.0, 0.5]), 2.125); // the logit
    ///
    /// // Run-time values are checked the same way.
    /// assert!(LinearModel::from_parts([f32::NAN], 0.0, Loss::Squared).is_err());
    /// assert!(LinearModel::from_parts([1.0], 0.0, Loss::Huber { delta: -1.0 }).is_err());
    /// ```
    ///
    /// # Errors
    /// As [`new`](Self::new) (checked first), then as [`Loss::validate`].
    pub const fn from_parts(w: [f32; D], b: f32, loss: Loss) -> Result<Self, Error> {
        let mut m = match Self::new(w, b) {
            Ok(m) => m,
            Err(e) => return Err(e),
        };
        if let Err(e) = validate_loss(loss) {
            return Err(e);
        }
        m.loss = loss;
        Ok(m)
    }

    /// Weights drawn uniformly from `[-scale, scale]` by a `Xoshiro256PlusPlus` generator
    /// seeded with `seed` (the same seed gives the same model on every target); bias zero.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `scale` is negative or not finite.
    pub fn random(seed: u64, scale: f32) -> Result<Self, Error> {
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "scale",
                reason: "must be finite and >= 0",
            });
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut w = [0.0f32; D];
        for v in &mut w {
            *v = scale * uniform_signed(&mut rng);
        }
        Ok(Self {
            w,
            b: 0.0,
            loss: Loss::Squared,
        })
    }

    /// The weights.
    pub const fn weights(&self) -> &[f32; D] {
        &self.w
    }

    /// The bias.
    pub const fn bias(&self) -> f32 {
        self.b
    }

    /// Folds a feature standardisation into a model trained on standardised features
    /// ([`Scaler::fold`]), so that it predicts on raw rows.
    ///
    /// # Errors
    /// As [`Scaler::fold`]; the model is unchanged then.
    pub fn unstandardize(&mut self, s: &Scaler<D>) -> Result<(), Error> {
        s.fold(&mut self.w, core::slice::from_mut(&mut self.b))
    }

    /// Folds a feature **and target** standardisation into a regression model trained on
    /// standardised features and targets ([`Scaler::fold_target`]), so that it predicts raw
    /// targets on raw rows. Only for losses whose minimiser moves with an affine change of
    /// the target (squared, absolute, quantile; Huber's `δ` is then in standardised units).
    ///
    /// # Errors
    /// As [`Scaler::fold`]; the model is unchanged then.
    pub fn unstandardize_target(&mut self, s: &Scaler<D>) -> Result<(), Error> {
        s.fold_target(&mut self.w, core::slice::from_mut(&mut self.b))
    }

    /// Prediction for one sample (`x.len() == D`), computed by the SIMD kernel (the same bits
    /// as [`predict_batch`](Self::predict_batch)).
    ///
    /// # Errors
    /// As [`kernel::forward`].
    pub fn predict(&self, x: &[f32]) -> Result<f32, Error> {
        let mut out = [0.0f32];
        kernel::simd::forward_n::<D>(x, &self.w, self.b, &mut out)?;
        Ok(out[0])
    }

    /// Prediction for one sample of exactly `D` features: infallible, the same bits as
    /// [`predict`](Self::predict) when that returns `Ok`; `NaN` or `±∞` when `x` holds a
    /// non-finite value or the prediction overflows (which [`predict`](Self::predict) reports
    /// as an error).
    pub fn predict_one(&self, x: &[f32; D]) -> f32 {
        kernel::simd::predict_one_n::<D>(x, &self.w, self.b)
    }

    /// Predictions for `out.len()` samples stored row-major in `x`.
    ///
    /// # Errors
    /// As [`kernel::forward`].
    pub fn predict_batch(&self, x: &[f32], out: &mut [f32]) -> Result<(), Error> {
        kernel::simd::forward_n::<D>(x, &self.w, self.b, out)
    }

    /// The model trained for another loss (the default is [`Loss::Squared`]). With
    /// [`Loss::Logistic`] the output is a logit: see [`predict_proba`](Self::predict_proba);
    /// with [`Loss::Poisson`] it is the log of the mean count, `ln μ` (the mean is `e^z`).
    ///
    /// # Errors
    /// As [`Loss::validate`].
    pub fn with_loss(mut self, loss: Loss) -> Result<Self, Error> {
        loss.validate()?;
        self.loss = loss;
        Ok(self)
    }

    /// The loss this model is trained for.
    pub const fn loss_kind(&self) -> Loss {
        self.loss
    }

    /// Mean loss (of [`loss_kind`](Self::loss_kind)) on a data set.
    ///
    /// # Errors
    /// As [`Loss::mean`].
    pub fn loss(&self, x: &[f32], y: &[f32]) -> Result<f32, Error> {
        self.loss.mean_n::<D>(x, y, &self.w, self.b)
    }

    /// `P(y = 1 | x) = σ(w·x + b)` for one sample, reading the output as a logit (a model
    /// trained with [`Loss::Logistic`]). `σ` is evaluated in `f64` with `libm`, so it saturates
    /// to exactly 0 or 1 only for logits beyond about ±104.
    ///
    /// # Errors
    /// As [`kernel::forward`].
    pub fn predict_proba(&self, x: &[f32]) -> Result<f32, Error> {
        Ok(crate::loss::sigmoid(self.predict(x)?))
    }

    /// The class `1` if the logit is `≥ 0` (`P ≥ ½`), else `0`.
    ///
    /// # Errors
    /// As [`kernel::forward`].
    pub fn predict_class(&self, x: &[f32]) -> Result<usize, Error> {
        Ok(usize::from(self.predict(x)? >= 0.0))
    }
}

impl<const D: usize> LinearModel<D> {
    /// Encodes the model ([`crate::model::bytes`]): [`crate::model::bytes::encoded_len`]`(D, 1)` bytes into
    /// `buf`; returns that length.
    ///
    /// # Errors
    /// As [`crate::model::bytes::encode`] (a buffer too short).
    pub fn to_bytes(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let h = bytes::Header {
            kind: bytes::Kind::Linear(self.loss),
            d: D,
            k: 1,
        };
        bytes::encode(h, &self.w, &[self.b], buf)
    }

    /// Decodes a model encoded by [`to_bytes`](Self::to_bytes) (or any linear model of `D`
    /// features).
    ///
    /// # Errors
    /// As [`crate::model::bytes::decode_into`]; [`Error::FeatureMismatch`] for another `D`,
    /// [`Error::InvalidBytes`] for a classifier's bytes.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, Error> {
        let h = bytes::decode_header(buf)?;
        let bytes::Kind::Linear(loss) = h.kind else {
            return Err(Error::InvalidBytes {
                reason: "a classifier, not a linear model",
            });
        };
        if h.d != D {
            return Err(Error::FeatureMismatch {
                model: D,
                data: h.d,
            });
        }
        let (mut w, mut b) = ([0.0f32; D], [0.0f32]);
        bytes::values_into(buf, h, &mut w, &mut b)?;
        Self::new(w, b[0])?.with_loss(loss)
    }
}

impl<const D: usize> Params for LinearModel<D> {
    type Grad = ([f32; D], [f32; 1]);
    fn zero_grad() -> Self::Grad {
        ([0.0; D], [0.0])
    }
    fn grad_parts(g: &mut Self::Grad) -> (&mut [f32], &mut [f32]) {
        (&mut g.0, &mut g.1)
    }
    fn grad_parts_ref(g: &Self::Grad) -> (&[f32], &[f32]) {
        (&g.0, &g.1)
    }
}

impl<const D: usize> Access for LinearModel<D> {
    fn params(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.w, core::slice::from_mut(&mut self.b))
    }
}

impl<const D: usize> Trainable for LinearModel<D> {
    fn objective(&self) -> Objective {
        Objective::Single(self.loss)
    }
    fn kernels() -> ObjectiveKernels {
        ObjectiveKernels::linear::<D>()
    }
}

/// [`Loss::validate`] as a `const fn` (the per-loss checks are trait methods, which cannot
/// be `const`): the same rules and the same errors, which a test checks on every loss.
const fn validate_loss(loss: Loss) -> Result<(), Error> {
    match loss {
        Loss::Huber { delta } => {
            if delta.is_finite() && delta > 0.0 {
                Ok(())
            } else {
                Err(Error::InvalidParameter {
                    name: "delta",
                    reason: "must be finite and > 0",
                })
            }
        }
        Loss::Quantile { tau } => {
            // NaN fails both comparisons.
            if tau > 0.0 && tau < 1.0 {
                Ok(())
            } else {
                Err(Error::InvalidParameter {
                    name: "tau",
                    reason: "must be in the open interval (0, 1)",
                })
            }
        }
        Loss::Squared | Loss::Absolute | Loss::Logistic | Loss::Poisson => Ok(()),
    }
}

/// A uniform `f32` in `[-1, 1)` from the top 24 bits of the generator's output.
pub(crate) fn uniform_signed(rng: &mut Xoshiro256PlusPlus) -> f32 {
    let u = (rng.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0);
    2.0 * u - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_loss_check_agrees_with_validate() {
        let params = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            f32::from_bits(1),
            f32::MIN_POSITIVE,
            0.5,
            1.0 - f32::EPSILON / 2.0,
            1.0,
            1.5,
            f32::MAX,
        ];
        for base in Loss::ALL {
            for &p in &params {
                let loss = base.with_param(p);
                assert_eq!(validate_loss(loss), loss.validate(), "{loss:?}");
                let m = LinearModel::from_parts([1.0, -2.0], 0.5, loss);
                assert_eq!(m.map(|_| ()), loss.validate(), "{loss:?}");
            }
        }
    }

    #[test]
    fn from_parts_equals_new_then_with_loss() {
        for loss in Loss::ALL {
            let a = LinearModel::from_parts([0.25, -3.0, 1e-30], -7.5, loss);
            let b = LinearModel::new([0.25, -3.0, 1e-30], -7.5).and_then(|m| m.with_loss(loss));
            assert_eq!(a, b);
        }
        assert_eq!(
            LinearModel::<0>::from_parts([], 0.0, Loss::Squared),
            Err(Error::ZeroFeatures)
        );
        assert_eq!(
            LinearModel::from_parts([1.0, f32::INFINITY], 0.0, Loss::Poisson),
            Err(Error::NonFinite {
                what: "w",
                index: 1
            })
        );
        assert_eq!(
            LinearModel::from_parts([1.0], f32::NAN, Loss::Logistic),
            Err(Error::NonFinite {
                what: "b",
                index: 0
            })
        );
        // The weights are checked before the loss, as `new(..)?.with_loss(..)` does.
        assert_eq!(
            LinearModel::from_parts([f32::NAN], 0.0, Loss::Huber { delta: -1.0 }),
            Err(Error::NonFinite {
                what: "w",
                index: 0
            })
        );
    }
}
