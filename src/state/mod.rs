//! Checkpoints: the whole learner state as bytes (layer 5). No heap, sizes known at compile
//! time, every encoding versioned and CRC-checked; decoding validates everything, so that
//! any bytes give an `Err` or a state training can continue from.
//!
//! (The layout table and the sizes are below.)

mod batch;
mod codec;
mod control;

pub use batch::{Checkpoint, Model, RUN_HEAD_LEN, optim_raw_len, run_raw_len};
#[cfg(feature = "std")]
pub(crate) use batch::{MAX_STEPS, get_head, put_head};
pub use codec::{FRAME_LEN, HEADER_LEN, Kind, MAGIC, VERSION};
#[cfg(feature = "std")]
pub(crate) use codec::{Reader, Writer, corrupt, finite};
pub use control::CONTROLLER_RAW_LEN;
#[cfg(feature = "std")]
pub(crate) use control::{get as get_controller, put as put_controller};
