//! The linear model `ŷ = w·x + b` with fixed-size, const-generic storage.

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
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearModel<const D: usize> {
    w: [f32; D],
    b: f32,
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
        }
    }

    /// A model from its weights and bias.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] if `D == 0`, [`Error::NonFinite`] for a non-finite weight or bias.
    pub fn new(w: [f32; D], b: f32) -> Result<Self, Error> {
        kernel::check_params(&w, b)?;
        Ok(Self { w, b })
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
        Ok(Self { w, b: 0.0 })
    }

    /// The weights.
    pub const fn weights(&self) -> &[f32; D] {
        &self.w
    }

    /// The bias.
    pub const fn bias(&self) -> f32 {
        self.b
    }

    /// Prediction for one sample (`x.len() == D`), computed by the SIMD kernel (the same bits
    /// as [`predict_batch`](Self::predict_batch)).
    ///
    /// # Errors
    /// As [`kernel::forward`].
    pub fn predict(&self, x: &[f32]) -> Result<f32, Error> {
        let mut out = [0.0f32];
        kernel::forward(x, &self.w, self.b, &mut out)?;
        Ok(out[0])
    }

    /// Predictions for `out.len()` samples stored row-major in `x`.
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

    /// Mutable parameters for the training loop (which keeps them finite).
    pub(crate) fn params_mut(&mut self) -> (&mut [f32], &mut f32) {
        (&mut self.w, &mut self.b)
    }
}

/// A uniform `f32` in `[-1, 1)` from the top 24 bits of the generator's output.
pub(crate) fn uniform_signed(rng: &mut Xoshiro256PlusPlus) -> f32 {
    let u = (rng.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0);
    2.0 * u - 1.0
}
