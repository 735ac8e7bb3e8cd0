//! The softmax classifier: `K` linear outputs (logits) over `D` features with const-generic,
//! fixed-size storage, trained by softmax cross-entropy ([`crate::kernel::softmax_fused`]).

use super::bytes;
use crate::check;
use crate::loss::Objective;
use crate::model::linear::uniform_signed;
use crate::optim::Params;
use crate::scale::Scaler;
use crate::train::{Access, ObjectiveKernels, Trainable};
use crate::{Error, kernel};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

/// A linear classifier with `D` features and `K` classes: weights `[[f32; D]; K]` (one row per
/// class) and biases `[f32; K]`, no heap. Labels are class indices stored as floats
/// (`0.0, 1.0, …`), so that the same [`crate::dataset::Dataset`] carries them.
///
/// ```
/// use npoa::LinearClassifier;
/// let m = LinearClassifier::new([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], [0.0; 3])?;
/// assert_eq!(m.predict_class(&[2.0, 0.5])?, 0);
/// let p = m.predict_proba(&[0.0, 3.0])?;
/// assert!(p[1] > 0.9 && (p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearClassifier<const D: usize, const K: usize> {
    w: [[f32; D]; K],
    b: [f32; K],
}

impl<const D: usize, const K: usize> Default for LinearClassifier<D, K> {
    fn default() -> Self {
        Self::zeros()
    }
}

impl<const D: usize, const K: usize> LinearClassifier<D, K> {
    /// All weights and biases zero (every class equally likely).
    pub const fn zeros() -> Self {
        Self {
            w: [[0.0; D]; K],
            b: [0.0; K],
        }
    }

    /// A classifier from its weights and biases, as a `const fn`: the constructor of an
    /// exported classifier (`npoa export MODEL --rust`), which a `static` holds in flash. In a
    /// `const` or `static` initialiser, match the result and `panic!` on `Err`: the check then
    /// runs at compile time, and an invalid classifier does not build.
    ///
    /// ```
    /// use npoa::LinearClassifier;
    /// static MODEL: LinearClassifier<2, 3> =
    ///     match LinearClassifier::new([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], [0.0, 0.5, 0.0]) {
    ///         Ok(m) => m,
    ///         Err(_) => panic!("invalid exported classifier"),
    ///     };
    /// assert_eq!(MODEL.predict_class(&[0.25, 0.5])?, 1);
    /// assert!(LinearClassifier::new([[1.0], [f32::NAN]], [0.0; 2]).is_err());
    /// # Ok::<(), npoa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] if `D == 0`, [`Error::InvalidParameter`] if `K` is not in
    /// `1..=`[`kernel::MAX_CLASSES`], [`Error::NonFinite`] for a non-finite value (`"w"` with
    /// the index in the flattened `[f32; K·D]`, or `"b"`).
    pub const fn new(w: [[f32; D]; K], b: [f32; K]) -> Result<Self, Error> {
        match Self::check_parts(&w, &b) {
            Ok(()) => Ok(Self { w, b }),
            Err(e) => Err(e),
        }
    }

    fn check(&self) -> Result<(), Error> {
        Self::check_parts(&self.w, &self.b)
    }

    /// The checks of [`new`](Self::new), in `const`.
    const fn check_parts(w: &[[f32; D]; K], b: &[f32; K]) -> Result<(), Error> {
        if D == 0 {
            return Err(Error::ZeroFeatures);
        }
        if K == 0 || K > kernel::MAX_CLASSES {
            return Err(Error::InvalidParameter {
                name: "classes",
                reason: "must be in 1..=256",
            });
        }
        let mut c = 0;
        while c < K {
            let mut j = 0;
            while j < D {
                if !w[c][j].is_finite() {
                    return Err(Error::NonFinite {
                        what: "w",
                        index: c * D + j,
                    });
                }
                j += 1;
            }
            c += 1;
        }
        let mut c = 0;
        while c < K {
            if !b[c].is_finite() {
                return Err(Error::NonFinite {
                    what: "b",
                    index: c,
                });
            }
            c += 1;
        }
        Ok(())
    }

    /// Weights drawn uniformly from `[-scale, scale]` by a seeded `Xoshiro256PlusPlus`, row
    /// by row; biases zero.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `scale` is negative or not finite; as [`new`](Self::new).
    pub fn random(seed: u64, scale: f32) -> Result<Self, Error> {
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "scale",
                reason: "must be finite and >= 0",
            });
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut m = Self::zeros();
        for v in m.w.as_flattened_mut() {
            *v = scale * uniform_signed(&mut rng);
        }
        m.check()?;
        Ok(m)
    }

    /// The weights, one row per class.
    pub const fn weights(&self) -> &[[f32; D]; K] {
        &self.w
    }

    /// The biases.
    pub const fn biases(&self) -> &[f32; K] {
        &self.b
    }

    /// Folds a feature standardisation into a classifier trained on standardised features
    /// ([`Scaler::fold`], each class's row), so that it predicts on raw rows.
    ///
    /// # Errors
    /// As [`Scaler::fold`]; the classifier is unchanged then.
    pub fn unstandardize(&mut self, s: &Scaler<D>) -> Result<(), Error> {
        s.fold(self.w.as_flattened_mut(), &mut self.b)
    }

    /// The `K` logits `z_c = w_c·x + b_c` of one sample (`x.len() == D`), by the SIMD
    /// [`kernel::forward`] (the same bits the training kernels use).
    ///
    /// # Errors
    /// As [`kernel::forward`].
    pub fn logits(&self, x: &[f32]) -> Result<[f32; K], Error> {
        let mut z = [0.0f32; K];
        for ((o, wc), &bc) in z.iter_mut().zip(&self.w).zip(&self.b) {
            let mut one = [0.0f32];
            kernel::simd::forward_n::<D>(x, wc, bc, &mut one)?;
            *o = one[0];
        }
        Ok(z)
    }

    /// Class probabilities `softmax(z)` of one sample (in `f64` with the maximum subtracted,
    /// rounded once).
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn predict_proba(&self, x: &[f32]) -> Result<[f32; K], Error> {
        let z = self.logits(x)?;
        Ok(softmax(&z))
    }

    /// The most likely class of one sample (the first of equal logits).
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn predict_class(&self, x: &[f32]) -> Result<usize, Error> {
        Ok(argmax(&self.logits(x)?))
    }

    /// Mean cross-entropy on a data set.
    ///
    /// # Errors
    /// As [`kernel::softmax_loss`].
    pub fn loss(&self, x: &[f32], y: &[f32]) -> Result<f32, Error> {
        kernel::simd::softmax_loss_n::<D>(x, y, self.w.as_flattened(), &self.b)
    }
}

impl<const D: usize, const K: usize> LinearClassifier<D, K> {
    /// Encodes the classifier ([`crate::model::bytes`]): [`crate::model::bytes::encoded_len`]`(D, K)` bytes
    /// into `buf`; returns that length.
    ///
    /// # Errors
    /// As [`crate::model::bytes::encode`].
    pub fn to_bytes(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let h = bytes::Header {
            kind: bytes::Kind::Softmax,
            d: D,
            k: K,
        };
        bytes::encode(h, self.w.as_flattened(), &self.b, buf)
    }

    /// Decodes a classifier of `D` features and `K` classes.
    ///
    /// # Errors
    /// As [`crate::model::bytes::decode_into`]; [`Error::FeatureMismatch`] for another `D`,
    /// [`Error::LengthMismatch`] (`"classes"`) for another `K`, [`Error::InvalidBytes`] for a
    /// linear model's bytes.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, Error> {
        let h = bytes::decode_header(buf)?;
        if h.kind != bytes::Kind::Softmax {
            return Err(Error::InvalidBytes {
                reason: "a linear model, not a classifier",
            });
        }
        if h.d != D {
            return Err(Error::FeatureMismatch {
                model: D,
                data: h.d,
            });
        }
        check::check_len("classes", h.k, K)?;
        let mut m = Self::zeros();
        bytes::values_into(buf, h, m.w.as_flattened_mut(), &mut m.b)?;
        m.check()?;
        Ok(m)
    }
}

impl<const D: usize, const K: usize> Params for LinearClassifier<D, K> {
    type Grad = ([[f32; D]; K], [f32; K]);
    fn zero_grad() -> Self::Grad {
        ([[0.0; D]; K], [0.0; K])
    }
    fn grad_parts(g: &mut Self::Grad) -> (&mut [f32], &mut [f32]) {
        (g.0.as_flattened_mut(), &mut g.1)
    }
    fn grad_parts_ref(g: &Self::Grad) -> (&[f32], &[f32]) {
        (g.0.as_flattened(), &g.1)
    }
}

impl<const D: usize, const K: usize> Access for LinearClassifier<D, K> {
    fn params(&mut self) -> (&mut [f32], &mut [f32]) {
        (self.w.as_flattened_mut(), &mut self.b)
    }
}

impl<const D: usize, const K: usize> Trainable for LinearClassifier<D, K> {
    fn objective(&self) -> Objective {
        Objective::Softmax
    }
    fn kernels() -> ObjectiveKernels {
        ObjectiveKernels::softmax::<D>()
    }
}

/// Index of the largest value (the first of equals; 0 for an empty slice).
pub(crate) fn argmax(z: &[f32]) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &v) in z.iter().enumerate() {
        if v > best.1 || i == 0 {
            best = (i, v);
        }
    }
    best.0
}

/// `softmax(z)` in `f64`, rounded once per class.
fn softmax<const K: usize>(z: &[f32; K]) -> [f32; K] {
    let m = z
        .iter()
        .fold(f64::NEG_INFINITY, |a, &v| a.max(f64::from(v)));
    let mut e = [0.0f64; K];
    let mut s = 0.0f64;
    for (ei, &zi) in e.iter_mut().zip(z) {
        *ei = libm::exp(f64::from(zi) - m);
        s += *ei;
    }
    let mut p = [0.0f32; K];
    for (pi, ei) in p.iter_mut().zip(e) {
        *pi = (ei / s) as f32;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_checks_name_the_first_bad_value() {
        let ok = LinearClassifier::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0.5, -0.5, 0.0]);
        assert_eq!(
            ok.map(|m| *m.weights()),
            Ok([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        );
        let mut w = [[0.0f32; 3]; 4];
        w[2][1] = f32::NEG_INFINITY;
        w[3][0] = f32::NAN;
        assert_eq!(
            LinearClassifier::new(w, [0.0; 4]),
            Err(Error::NonFinite {
                what: "w",
                index: 7
            })
        );
        let mut b = [0.0f32; 4];
        b[3] = f32::NAN;
        assert_eq!(
            LinearClassifier::new([[0.0f32; 3]; 4], b),
            Err(Error::NonFinite {
                what: "b",
                index: 3
            })
        );
        assert_eq!(
            LinearClassifier::<0, 2>::new([[]; 2], [0.0; 2]),
            Err(Error::ZeroFeatures)
        );
        assert!(matches!(
            LinearClassifier::<1, 0>::new([], []),
            Err(Error::InvalidParameter {
                name: "classes",
                ..
            })
        ));
        assert!(matches!(
            LinearClassifier::<1, 257>::new([[0.0]; 257], [0.0; 257]),
            Err(Error::InvalidParameter {
                name: "classes",
                ..
            })
        ));
    }

    #[test]
    fn bytes_round_trip_checks_as_new() {
        let m = LinearClassifier::new([[1.5, -2.0], [0.0, 3.0]], [0.25, 1.0]).unwrap();
        let mut buf = [0u8; 256];
        let n = m.to_bytes(&mut buf).unwrap();
        assert_eq!(LinearClassifier::<2, 2>::from_bytes(&buf[..n]), Ok(m));
    }
}
