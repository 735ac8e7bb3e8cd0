//! Checkpoints: the whole learner state as bytes (layer 5). No heap, sizes known at compile
//! time, every encoding versioned and CRC-checked; decoding validates everything, so that
//! any bytes give an `Err` or a state training can continue from.
//!
//! (The layout table and the sizes are below.)

mod batch;
mod codec;
mod control;

pub use batch::{Checkpoint, Model, RUN_HEAD_LEN, optim_raw_len, run_raw_len};
pub use codec::{FRAME_LEN, HEADER_LEN, Kind, MAGIC, VERSION};
pub use control::CONTROLLER_RAW_LEN;
