//! # npoa — on-device training under a fixed budget
//!
//! npoa trains small models by gradient descent where there is no heap, no OS and no GPU:
//! microcontrollers and edge boxes. The core is `#![no_std]`, allocation-free and panic-free
//! on any input; the `std` feature adds owners of memory on top of the same kernels.
//!
//! The reference model is linear regression `ŷ = w·x + b` with mean squared error, trained by
//! mini-batch gradient descent with **fused kernels**: one pass over the data computes the
//! predictions, the loss and the gradient ([`kernel`]). One way in: [`train::Training`] (a
//! configuration with an optional controller, validation set and observer), and its shorthand
//! [`train::fit`].
//!
//! *The seed*, in these docs, is the short Chinese-language article npoa grew out of (on an
//! "NPOA", 近端策略优化算法: training under a limited budget with learning-rate strategies); its
//! one concrete part is a NumPy listing of linear regression, `y = 2x` on `x = 1, 2, 3, 4`,
//! full-batch gradient descent with `η = 0.01` for 1000 epochs. "The seed's data", "the seed's
//! loss" and "as in the seed" refer to that listing (the README says more). The word's other
//! sense, a random generator's seed ([`TrainConfig::seed`](train::TrainConfig::seed),
//! "seeded"), is unrelated.
//!
//! ```
//! use npoa::{LinearModel, train::{Dataset, TrainConfig, fit}};
//!
//! // The seed's data: y = 2x.
//! let x = [1.0f32, 2.0, 3.0, 4.0];
//! let y = [2.0f32, 4.0, 6.0, 8.0];
//! let data = Dataset::new(&x, &y, 1)?;
//! let mut model = LinearModel::<1>::zeros();
//! let config = TrainConfig { learning_rate: 0.01, epochs: 1000, batch_size: 4, ..TrainConfig::default() };
//! let summary = fit(&mut model, &data, &config)?;
//! assert!((model.weights()[0] - 2.0).abs() < 0.02);
//! assert!(summary.final_loss < 1e-3);
//! # Ok::<(), npoa::Error>(())
//! ```
//!
//! ## Layers
//! The modules follow the data path; each imports only from its own layer or below (a test
//! checks it, see `ARCHITECTURE.md`):
//!
//! | layer | modules |
//! |---|---|
//! | 0 | [`Error`], `check` (validation helpers) |
//! | 1 | [`dataset`] (the borrowed data view, the batch order), [`kernel`] (the fused passes), [`scale`] (running mean/variance, standardisation and its fold) |
//! | 2 | [`loss`] (one file per loss), [`optim`] (one file per update rule, the prox) |
//! | 3 | [`control`] (controller, schedules, adaptation, clipping, auto LR) |
//! | 4 | [`train`] (the one loop, [`train::Training`], the rate search) |
//! | 5 | [`model`] (linear model, classifier, bytes, metrics), [`online`] (streams), [`state`] (checkpoints) |
//! | 6 | `std` only: `data` (CSV tables, owned data sets), `dynamic` (models of run-time size), `recipe` |
//!
//! ## Features
//! * `std` (default): models of run-time size (`DynLinearModel`, `DynClassifier`), CSV and
//!   datasets (`npoa::data`), training recipes (`npoa::recipe`) and model files, on the same
//!   kernels and training loop. Without it the crate is `no_std` and allocation-free.
//! * `losses` (default): every loss but the squared error, and softmax. Without it only the
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
// docs.rs (`--cfg docsrs`, see `[package.metadata.docs.rs]`) marks what needs a feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(feature = "std", test))]
extern crate std;

// Layer 0.
mod check;
mod error;
// Layer 1.
pub mod dataset;
pub mod kernel;
pub mod scale;
// Layer 2.
pub mod loss;
pub mod optim;
// Layer 3.
pub mod control;
// Layer 4.
pub mod train;
// Layer 5.
pub mod model;
pub mod online;
pub mod state;
// Layer 6 (std).
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub mod data;
#[cfg(feature = "std")]
mod dynamic;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub mod recipe;

#[cfg(feature = "defmt")]
mod defmt_impls;
#[cfg(feature = "serde")]
mod serde_impls;

pub use dataset::Dataset;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use dynamic::{DynClassifier, DynLinearModel, DynModel, History};
pub use error::Error;
pub use kernel::LossGrad;
pub use model::{LinearClassifier, LinearModel};

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
