//! Checkpoints: the whole learner state as bytes (layer 5). No heap, every size known at
//! compile time, every encoding versioned and CRC-checked; decoding validates everything, so
//! that any bytes give an `Err` naming the problem or a state that satisfies every invariant
//! training relies on (finite values where they are used, counters in range, windows within
//! capacity, tags consistent with the state, the controller's settings valid as
//! [`Controller::new`](crate::control::Controller::new) checks them). A decoded state
//! re-encodes to the same bytes.
//!
//! What is encoded, and how to continue from it:
//! * a controlled (or plain) **batch run**: [`Checkpoint`] = model + [`OptimState`] +
//!   optional [`Controller`] + [`RunState`] (epochs and batches done, the open epoch's rate,
//!   batch-order key and loss so far, the shuffling generator's 256-bit state, the summary so
//!   far, the certificate's bookkeeping, the best copy, and what the run is bound to: the
//!   data's shape and CRC-32, the validation set's, the configuration's CRC-32). Pause with
//!   [`Training::pause_after`](crate::train::Training::pause_after), continue with
//!   [`Checkpoint::fit`] or [`Training::fit_resumable`](crate::train::Training::fit_resumable):
//!   the model, the optimizer state, the controller and the epochs and events reported from
//!   the pause on are bit for bit those of the run never paused. Continuing on other data or
//!   under another configuration is an `Err`, not a silent divergence;
//! * an [`OnlineLearner`]: [`OnlineLearner::encode`] / [`OnlineLearner::decode`] (both
//!   windows and their reservoir generators, the counters, the drift state, the standardiser,
//!   the best copy, the controller, the configuration); interrupt after any `push` or `step`;
//! * a drift detector ([`crate::control::drift`]): `Adwin::encode`, `PageHinkley::encode`,
//!   `Ddm::encode`, `Eddm::encode`, `AnyDetector::encode` (and their `decode`; kind 8:
//!   2,989, 91, 75, 91 and 2,989 bytes);
//! * the pieces alone: [`Controller::encode`](crate::control::Controller::encode),
//!   [`OptimState::encode`], [`RunState::encode`] (and their `decode`);
//! * run-time sized models (the `std` feature's `npoa::recipe`): `Recipe::fit_until` and
//!   `Recipe::resume` (kind 6, a `Vec<u8>`).
//!
//! ```
//! use npoa::LinearModel;
//! use npoa::control::{Controller, ControllerConfig};
//! use npoa::state::Checkpoint;
//! use npoa::train::{Dataset, Stop, TrainConfig, Training};
//!
//! let x = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
//! let y = [1.0f32, 3.0, 5.0, 7.0, 9.0, 11.0];
//! let data = Dataset::new(&x, &y, 1)?;
//! let config = TrainConfig { epochs: 40, batch_size: 2, ..TrainConfig::default() };
//! let controller = Controller::new(ControllerConfig::constant(0.05)?)?;
//! let mut ck = Checkpoint::<_, 2>::new(LinearModel::<1>::zeros(), Some(controller));
//! let s = ck.fit(Training::new(&config).pause_after(25), &data)?;
//! assert_eq!((s.stop, s.steps), (Stop::Paused, 25));
//! let mut flash = [0u8; Checkpoint::<LinearModel<1>, 2>::LEN];
//! ck.encode(&mut flash)?;
//! // ... reset ...
//! let mut ck = Checkpoint::<LinearModel<1>, 2>::decode(&flash)?;
//! let s = ck.fit(Training::new(&config), &data)?; // to the end, as if never paused
//! assert_ne!(s.stop, Stop::Paused);
//! flash[100] ^= 1;
//! assert!(Checkpoint::<LinearModel<1>, 2>::decode(&flash).is_err()); // the CRC-32
//! # Ok::<(), npoa::Error>(())
//! ```
//!
//! ## Format (version 1)
//! Every integer and float little-endian, floats by their bits; booleans are one byte `0` or
//! `1`; an optional value is a presence byte and a slot of fixed size, all zero when absent
//! (checked); a variant is a tag byte and the slot of its largest variant, zero-padded
//! (checked). Every encoding is one frame:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 4 | magic `b"NPST"` |
//! | 4 | 2 | format version ([`VERSION`], `1`) |
//! | 6 | 1 | [`Kind`]: `1` controller, `2` optimizer state, `3` run state, `4` checkpoint, `5` online learner, `6` recipe checkpoint, `7` standardiser, `8` drift detector, `9` recursive least squares |
//! | 7 | 1 | reserved, `0` |
//! | 8 | … | the body (below) |
//! | end − 4 | 4 | CRC-32 (IEEE, as zlib's) of every byte before it |
//!
//! Decoding checks the exact length, the magic, the version, the kind, the reserved byte and
//! the CRC, then every field. The bodies, in order (`P` = the model's parameters, `k·(d + 1)`;
//! `M` = the model's own bytes, [`crate::model::bytes`], `24 + 4·P`):
//!
//! | body | bytes | fields |
//! |---|---:|---|
//! | optimizer state | `16 + 4·BUFS·P` | steps `u64`, the rule's tag `u64` (`0`: never stepped), `BUFS` buffers of `P` `f32` |
//! | controller | 247 | the configuration (189: schedule with its variant slot of 69 and warm-up, min/max rate, plateau, adaptive, early stop, target, guard, clip, tol, the certificate flag, certify_every), the state (58: plateau best/bad epochs/cooldown, adaptive best/count, early-stop best/wait/best epoch, scale, best, retries, origin, certificate and its mark) |
//! | run state | `152 + 1 + M + 16 + 4·BUFS·P` | status, binding (rows, features, data CRC, validation rows and CRC, config CRC, controlled), epochs done, open flag, batches done, loss sum `f64`, key, rate, generator (32), summary (29), lowest loss, certificate cells; the best copy (presence, model, optimizer state) |
//! | checkpoint | `M + (16 + 4·BUFS·P) + 1 + 247 + run` | model, optimizer state, controller (presence + 247), run state |
//! | standardiser ([`Scaler`](crate::scale::Scaler), kept beside a batch checkpoint when the data was standardised) | `32 + 24·D` | count `u64`; shift, mean, `M2` per feature and of the target (`f64`) |
//! | drift detector ([`crate::control::drift`]; a tag byte, `1` ADWIN, `2` Page-Hinkley, `3` DDM, `4` EDDM, then its raw bytes) | `1 +` 2976, 78, 62, 78 | ADWIN: configuration (33), total, sum of squares, width (`f64`), tick, detections (`u64`), rows, drift and warning flags, 20 row lengths, 20 × 9 buckets (sum and sum of squares, `f64`, unused ones zero); Page-Hinkley: configuration (29), count, mean, the two sums, their min and max (`f64`), drift flag; DDM: configuration (20), count, rate, `p_min`, `s_min`, their sum (`f64`), warning and drift flags; EDDM: configuration (20), values, last error, errors (`u64`), the distances' count, mean, sum of squares, the largest `p′ + 2s′` (`f64`), warning and drift flags. An `AnyDetector`: the tag and a slot of 2976 bytes, zero-padded |
//! | recursive least squares ([`Rls`](crate::optim::Rls)) | `48 + 16·D + 8·D²` | forgetting, delta (`f64`); weights (`D`), bias; `P`: the weight block row by row (`D²`), the weight–bias column (`D`), the bias entry (`f64`); updates `u64`, resets `u32`, wind-ups `u32` |
//! | online learner | see below | model, state, best model, best state, controller, configuration (86), training window, held-out window, progress (104), standardiser, frozen flag; then the tail: the detector (presence and its slot `W`: 2976 bytes for ADWIN, 78 Page-Hinkley, 62 DDM, 78 EDDM, 2977 `AnyDetector`, 0 `NoDetector`), the RLS configuration (presence, forgetting and delta `f64`), the RLS state (presence and its slot `S`: `48 + 16·D + 8·D²` for `Rls<D>`, 0 for `Gradient`) |
//!
//! A window of `N` samples is `4·N·(D + 1) + 57` bytes (rows, targets, `len`, `next`, `seen`,
//! the reservoir generator's presence and state); a standardiser of `D` features `32 + 24·D`.
//!
//! ## Sizes
//! With [`FRAME_LEN`] = 12:
//! * [`Checkpoint::<M, BUFS>::LEN`](Checkpoint::LEN) `= 12 + M + (16 + 4·BUFS·P) + 248 +
//!   (153 + M + 16 + 4·BUFS·P)` = `445 + 2·M + 8·BUFS·P`. For `LinearModel<8>` with Adam
//!   (`BUFS = 2`, `P = 9`, `M = 60`) and a controller: **709 bytes**.
//! * [`OnlineLearner::<M, D, N, V, W, S>::ENCODED_LEN`](crate::online::OnlineLearner::ENCODED_LEN) `= 12 +
//!   2·(M + 16 + 8·P) + 247 + 86 + (4·N·(D+1) + 57) + (4·V·(D+1) + 57) + 104 + (32 + 24·D) + 1
//!   + (1 + W + 17 + 1 + S)` with `W`, `S` the slots' bytes. For the default
//!   `OnlineLearner<LinearModel<8>, 8, 64, 16>` (ADWIN, no RLS): **6959 bytes** (2361 and 633
//!   of them the two windows, 2976 the detector); 3983 with `NoDetector`, 4061 with
//!   `PageHinkley`.
//! * [`Controller::ENCODED_LEN`](crate::control::Controller::ENCODED_LEN) = 259,
//!   [`OptimState::ENCODED_LEN`] `= 28 + 4·BUFS·P` (100 for `LinearModel<8>`, `BUFS = 2`),
//!   [`RunState::ENCODED_LEN`] `= 12 + 153 + M + 16 + 4·BUFS·P` (313 for the same).
//!
//! `tests/resume.rs` asserts these figures against the constants.
//!
//! [`Controller`]: crate::control::Controller
//! [`OptimState`]: crate::optim::OptimState
//! [`OptimState::encode`]: crate::optim::OptimState::encode
//! [`OptimState::ENCODED_LEN`]: crate::optim::OptimState::ENCODED_LEN
//! [`RunState`]: crate::train::RunState
//! [`RunState::encode`]: crate::train::RunState::encode
//! [`RunState::ENCODED_LEN`]: crate::train::RunState::ENCODED_LEN
//! [`OnlineLearner`]: crate::online::OnlineLearner
//! [`OnlineLearner::encode`]: crate::online::OnlineLearner::encode
//! [`OnlineLearner::decode`]: crate::online::OnlineLearner::decode
//! [`OnlineLearner::ENCODED_LEN`]: crate::online::OnlineLearner::ENCODED_LEN

mod batch;
mod codec;
mod control;
mod drift;
mod online;
mod rls;
mod slots;

pub use batch::{Checkpoint, Model, RUN_HEAD_LEN, optim_raw_len, run_raw_len};
#[cfg(feature = "std")]
pub(crate) use batch::{MAX_STEPS, get_head, put_head};
pub use codec::{FRAME_LEN, HEADER_LEN, Kind, MAGIC, VERSION};
#[cfg(feature = "std")]
pub(crate) use codec::{Reader, Writer, corrupt, finite};
pub use control::CONTROLLER_RAW_LEN;
#[cfg(feature = "std")]
pub(crate) use control::{get as get_controller, put as put_controller};
pub use drift::{
    ADWIN_RAW_LEN, DDM_RAW_LEN, DETECTOR_RAW_LEN, DETECTOR_SLOT, EDDM_RAW_LEN, PAGE_HINKLEY_RAW_LEN,
};
pub use online::{ONLINE_CONFIG_LEN, PROGRESS_LEN, scaler_len, window_len};
pub use rls::rls_len;
pub use slots::sealed::SlotCodec;
