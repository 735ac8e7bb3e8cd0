//! Models and what is done with a trained one: layer 5.
//!
//! * [`linear`]: [`LinearModel<D>`](linear::LinearModel), `ŷ = w·x + b` with one of the losses;
//! * [`classifier`]: [`LinearClassifier<D, K>`](classifier::LinearClassifier), softmax over `K`
//!   classes;
//! * [`bytes`]: the model bytes (how a trained model reaches flash);
//! * [`round`]: round frames, the model bytes of a federation's rounds (global model and
//!   device updates, with the round counter and a CRC);
//! * [`metrics`]: evaluation on a validation or test set.
//!
//! Both models own fixed-size storage (no heap) and are always finite: constructors check,
//! and only the training loops write their parameters.

pub mod bytes;
pub mod classifier;
pub mod linear;
pub mod metrics;
pub mod round;

pub use classifier::LinearClassifier;
pub use linear::LinearModel;
