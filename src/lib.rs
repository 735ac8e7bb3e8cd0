//! # npoa — on-device training under a fixed budget
//!
//! npoa trains small models by gradient descent where there is no heap, no OS and no GPU:
//! microcontrollers and edge boxes. The core is `#![no_std]`, allocation-free and panic-free
//! on any input; the `std` feature adds owners of memory on top of the same kernels.
//!
//! The reference model is linear regression `ŷ = w·x + b` with mean squared error, trained by
//! mini-batch gradient descent with **fused kernels**: one pass over the data computes the
//! predictions, the loss and the gradient ([`kernel`]).
//!
//! ```
//! use npoa::{LinearModel, train::{Dataset, FixedRate, TrainConfig, fit}};
//!
//! // The seed's data: y = 2x.
//! let x = [1.0f32, 2.0, 3.0, 4.0];
//! let y = [2.0f32, 4.0, 6.0, 8.0];
//! let data = Dataset::new(&x, &y, 1)?;
//! let mut model = LinearModel::<1>::zeros();
//! let config = TrainConfig { learning_rate: 0.01, epochs: 1000, batch_size: 4, ..TrainConfig::default() };
//! let summary = fit(&mut model, &data, &config, FixedRate)?;
//! assert!((model.weights()[0] - 2.0).abs() < 0.02);
//! assert!(summary.final_loss < 1e-3);
//! # Ok::<(), npoa::Error>(())
//! ```
//!
//! ## Features
//! * `std` (default): models of run-time size (`DynLinearModel`, `DynClassifier`), CSV and
//!   datasets (`npoa::data`), training recipes (`npoa::recipe`) and model files, on the same kernels
//!   and training loop. Without it the crate is `no_std` and allocation-free.
//! * `losses` (default): the Huber, absolute, logistic and softmax kernels. Without it only the
//!   squared error is compiled in; the others return `Err`.
//! * `optimizers` (default): the update rules other than SGD ([`optim`]). Without it only SGD
//!   is compiled in; the others are refused.
//!
//! ## SIMD and determinism
//! The SIMD path ([`kernel::simd`]) returns the same bits on every target and with any
//! `target-cpu`, by a fixed lane structure and reduction order documented in [`kernel`]. The
//! scalar path ([`kernel::scalar`]) is the readable reference, within a stated error bound.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod adapt;
pub mod autolr;
pub mod bytes;
pub mod classifier;
pub mod clip;
pub mod controller;
#[cfg(feature = "std")]
pub mod data;
mod error;
pub mod kernel;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod online;
pub mod optim;
#[cfg(feature = "std")]
pub mod recipe;
pub mod schedule;
pub mod search;
pub mod train;

#[cfg(feature = "std")]
mod std_ext;

pub use classifier::LinearClassifier;
pub use error::Error;
pub use kernel::LossGrad;
pub use model::LinearModel;
#[cfg(feature = "std")]
pub use std_ext::{DynClassifier, DynLinearModel, DynModel, History, Progress};

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
