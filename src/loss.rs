//! Losses as data: the value and the derivative of each per-sample loss, in numerically stable
//! forms. This is the scalar reference (evaluated in `f64` with `libm`, rounded once to `f32`)
//! that the fused kernels for each loss are checked against.
//!
//! For a prediction (or logit) `z` and a target `y`, with `r = z − y`:
//!
//! | loss | `ℓ(z, y)` | `∂ℓ/∂z` | `sup ∂²ℓ/∂z²` |
//! |---|---|---|---|
//! | [`Loss::Squared`] | `r²` (the kernels' MSE) | `2r` | 2 |
//! | [`Loss::Huber`] | `r²/2` if `|r| ≤ δ`, else `δ(|r| − δ/2)` | `clamp(r, −δ, δ)` | 1 |
//! | [`Loss::Absolute`] | `|r|` | `sign(r)` (0 at 0: a subgradient) | 0 (not smooth) |
//! | [`Loss::Logistic`] | `max(z, 0) − z·y + log1p(e^{−|z|})` | `σ(z) − y` | 1/4 |
//!
//! The logistic loss is binary cross-entropy on a logit, for `y ∈ [0, 1]`; the form above never
//! overflows (`|z|` up to `f32::MAX` gives a finite loss and gradient). [`softmax_xent`] is the
//! K-class cross-entropy on logits, with the maximum subtracted before the exponentials.
//!
//! ```
//! use npoa::loss::Loss;
//! assert_eq!(Loss::Squared.value(3.0, 1.0), 4.0);
//! assert_eq!(Loss::Huber { delta: 1.0 }.derivative(3.0, 1.0), 1.0);
//! let l = Loss::Logistic;
//! assert!((l.value(0.0, 1.0) - core::f32::consts::LN_2).abs() < 1e-7);
//! assert!(l.value(1e30, 0.0).is_finite() && l.derivative(-1e30, 1.0) == -1.0);
//! ```

use crate::Error;

/// A per-sample loss on a scalar prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Squared error `(z − y)²`.
    Squared,
    /// Huber loss with threshold `δ` (PyTorch `HuberLoss`, scikit-learn's `epsilon`).
    Huber {
        /// Threshold between the quadratic and the linear part (finite, > 0).
        delta: f32,
    },
    /// Absolute error `|z − y|`.
    Absolute,
    /// Binary cross-entropy on a logit `z`, for a target `y ∈ [0, 1]`.
    Logistic,
}

/// Logistic sigmoid `1/(1 + e^{−z})` in `f64`, rounded once to `f32`.
pub fn sigmoid(z: f32) -> f32 {
    sigmoid64(f64::from(z)) as f32
}

/// Logistic sigmoid, stable for every finite `z`.
fn sigmoid64(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + libm::exp(-z))
    } else {
        let e = libm::exp(z);
        e / (1.0 + e)
    }
}

fn round(v: f64) -> f32 {
    v as f32
}

impl Loss {
    /// Checks the loss's parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a Huber `delta` that is not finite and > 0.
    pub fn validate(&self) -> Result<(), Error> {
        match *self {
            Loss::Huber { delta } if !(delta.is_finite() && delta > 0.0) => {
                Err(Error::InvalidParameter {
                    name: "delta",
                    reason: "must be finite and > 0",
                })
            }
            _ => Ok(()),
        }
    }

    /// `ℓ(z, y)`.
    pub fn value(&self, z: f32, y: f32) -> f32 {
        round(self.value64(f64::from(z), f64::from(y)))
    }

    /// `ℓ(z, y)` in `f64` (not rounded to `f32`).
    pub fn value64(&self, z: f64, y: f64) -> f64 {
        let r = z - y;
        match *self {
            Loss::Squared => r * r,
            Loss::Huber { delta } => {
                let d = f64::from(delta);
                if r.abs() <= d {
                    0.5 * r * r
                } else {
                    d * (r.abs() - 0.5 * d)
                }
            }
            Loss::Absolute => r.abs(),
            Loss::Logistic => z.max(0.0) - z * y + libm::log1p(libm::exp(-z.abs())),
        }
    }

    /// `∂ℓ/∂z` (a subgradient where `ℓ` has a kink).
    pub fn derivative(&self, z: f32, y: f32) -> f32 {
        let (z, y) = (f64::from(z), f64::from(y));
        let r = z - y;
        round(match *self {
            Loss::Squared => 2.0 * r,
            Loss::Huber { delta } => r.max(-f64::from(delta)).min(f64::from(delta)),
            Loss::Absolute => {
                if r > 0.0 {
                    1.0
                } else if r < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            Loss::Logistic => sigmoid64(z) - y,
        })
    }

    /// `sup ∂²ℓ/∂z²`, the curvature bound that makes a rate stable (auto LR): 2, 1, 0, 1/4.
    pub fn curvature_bound(&self) -> f32 {
        match self {
            Loss::Squared => 2.0,
            Loss::Huber { .. } => 1.0,
            Loss::Absolute => 0.0,
            Loss::Logistic => 0.25,
        }
    }
}

/// Cross-entropy of K logits `z` for the class `label`, `log Σ e^{z_k} − z_label`, with the
/// maximum subtracted first; writes the gradient `softmax(z) − onehot(label)` into `grad`.
///
/// # Errors
/// [`Error::EmptyBatch`] for no logits, [`Error::LengthMismatch`] if `grad` is not as long as
/// `z`, [`Error::InvalidParameter`] if `label ≥ K`, [`Error::NonFinite`] for a non-finite logit.
/// On error `grad` is unchanged.
pub fn softmax_xent(z: &[f32], label: usize, grad: &mut [f32]) -> Result<f32, Error> {
    if z.is_empty() {
        return Err(Error::EmptyBatch);
    }
    crate::kernel::check_len("grad", grad.len(), z.len())?;
    if label >= z.len() {
        return Err(Error::InvalidParameter {
            name: "label",
            reason: "must be < the number of classes",
        });
    }
    crate::kernel::check_finite("z", z)?;
    let m = z
        .iter()
        .fold(f64::NEG_INFINITY, |a, &v| a.max(f64::from(v)));
    let sum: f64 = z.iter().map(|&v| libm::exp(f64::from(v) - m)).sum();
    let lse = m + libm::log(sum);
    for (k, (g, &v)) in grad.iter_mut().zip(z).enumerate() {
        let p = libm::exp(f64::from(v) - lse);
        *g = round(p - if k == label { 1.0 } else { 0.0 });
    }
    let zl = z.get(label).copied().map_or(0.0, f64::from);
    Ok(round(lse - zl))
}

/// What a model is trained to minimise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// A per-sample loss on the one output of a [`crate::LinearModel`].
    Single(Loss),
    /// Softmax cross-entropy over the `K` outputs of a [`crate::LinearClassifier`].
    Softmax,
}

impl Objective {
    /// The bound on the loss's second derivative with respect to the model's outputs that
    /// [`crate::autolr`] turns into a stable rate, `η < 2/(c·λ_max(E[x̃x̃ᵀ]))`:
    /// squared error 2, Huber 1, logistic ¼, softmax ½ (the largest eigenvalue of
    /// `diag(p) − ppᵀ`). The absolute loss has no curvature; it gets Huber's 1, the rate of the
    /// Huber loss it approaches (a subgradient method then needs a decaying schedule).
    pub fn curvature_bound(&self) -> f32 {
        match self {
            Objective::Single(Loss::Absolute) => 1.0,
            Objective::Single(l) => l.curvature_bound(),
            Objective::Softmax => 0.5,
        }
    }

    /// The mean loss of a model with weights `w` (one row per output) and biases `b` (one per
    /// output) on `(x, y)`, by the kernels of path `k` ([`crate::kernel::SIMD`] or
    /// [`crate::kernel::SCALAR`]).
    pub(crate) fn loss_on(
        &self,
        k: &crate::kernel::Kernels,
        x: &[f32],
        y: &[f32],
        w: &[f32],
        b: &[f32],
    ) -> Result<f32, Error> {
        match self {
            Objective::Single(l) => {
                (k.loss_with)(*l, x, y, w, b.first().copied().unwrap_or(f32::NAN))
            }
            Objective::Softmax => (k.softmax_loss)(x, y, w, b),
        }
    }

    /// Loss and gradient (`gw` like `w`, `gb` like `b`) by the fused kernels of path `k`.
    pub(crate) fn fused_on(
        &self,
        k: &crate::kernel::Kernels,
        x: &[f32],
        y: &[f32],
        (w, b): (&[f32], &[f32]),
        gw: &mut [f32],
        gb: &mut [f32],
    ) -> Result<f32, Error> {
        match self {
            Objective::Single(l) => {
                let b0 = b.first().copied().unwrap_or(f32::NAN);
                let lg = (k.fused_with)(*l, x, y, w, b0, gw)?;
                if let Some(g) = gb.first_mut() {
                    *g = lg.grad_b;
                }
                Ok(lg.loss)
            }
            Objective::Softmax => (k.softmax_fused)(x, y, w, b, gw, gb),
        }
    }
}
