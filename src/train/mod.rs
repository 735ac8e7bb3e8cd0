//! Training: layer 4. One loop runs every model (fixed-size and run-time sized) with or
//! without a strategy controller; [`Training`] is the way in and [`fit`] its shorthand.
//!
//! Each step runs the fused kernel on one mini-batch (a contiguous range of rows, in an order
//! shuffled each epoch by [`crate::dataset::Epochs`]) and moves the parameters by the update
//! rule of [`TrainConfig::optimizer`] with its proximal step. A step whose loss or gradient
//! overflows, or that would make a parameter non-finite, is not applied: the controller
//! answers it (rollback, a cut rate); without one the run is an
//! [`Error::Diverged`](crate::Error::Diverged) and the model is unchanged (see [`Training`]).
//!
//! * `config.rs`: [`TrainConfig`];
//! * `observe.rs`: the records a run reports ([`Epoch`], [`Summary`]) and the [`Observer`]
//!   that sees them;
//! * `step.rs`: one mini-batch step and one epoch, the [`Trainable`] seam and the kernels a
//!   model type brings ([`ObjectiveKernels`], [`ScalarPath`]);
//! * `fit.rs`: the loop and [`Training`];
//! * [`search`]: the learning-rate search that trains candidates;
//! * [`solve`]: full-batch solvers (conjugate gradients, truncated Newton, FISTA) that stop on
//!   the optimality certificate.

mod config;
mod fit;
mod observe;
pub mod search;
pub mod solve;
mod step;

pub use crate::control::Stop;
pub use crate::dataset::Dataset;
pub use config::TrainConfig;
pub use fit::{Fit, RunState, Training, fit};
pub use observe::{Decision, Epoch, Observer, Summary, Watch, observe, watch};
pub use step::{BlockPath, ObjectiveKernels, ScalarPath, Trainable};

pub(crate) use fit::{Binding, Cursor, Run, Status, TypedRun, end_epoch};
pub(crate) use step::sealed::Access;
pub(crate) use step::{Stepping, batch_step, check_model, finish_average, row_step};
