//! The strategy controller and what it is made of: layer 3.
//!
//! * [`controller`]: the [`Controller`] that sets each epoch's rate and, after each epoch,
//!   keeps the best copy, rolls back on divergence or a spike, cuts the rate on a plateau,
//!   stops early or on a target, and reports every decision as an [`Event`];
//! * [`schedule`]: learning-rate schedules (constant, step, exponential, cosine, …, warm-up);
//! * [`adapt`]: the metric-driven rules (reduce on plateau, scikit-learn's adaptive rate,
//!   early stopping);
//! * [`clip`]: truncation of gradients and steps ([`Clip`]);
//! * [`autolr`]: the stable rate from the data's curvature (power iteration in fixed memory);
//! * [`certificate`]: how far a model is from optimal (gradient, proximal mapping, duality gap).
//! * [`drift`]: statistical drift detectors (ADWIN, Page-Hinkley, DDM, EDDM) in fixed memory.
//!
//! Everything here works on numbers the training loop hands it; it trains nothing itself
//! (the rate search that trains candidates is [`crate::train::search`]).

pub mod adapt;
pub mod autolr;
pub mod certificate;
pub mod clip;
pub mod controller;
pub mod drift;
pub mod schedule;

pub use adapt::*;
pub use clip::Clip;
pub use controller::*;
pub use schedule::*;
