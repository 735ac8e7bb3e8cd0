//! # npoa-ffi: a C API for training on the device
//!
//! Train, predict and store [`npoa`]'s linear models from C, for `D` = 4, 8, 16 and 32
//! features and every loss of `npoa::loss::Loss` (squared, Huber, absolute, logistic,
//! quantile, Poisson; the default features `losses` and `optimizers` compile them and every
//! update rule in): batch training over a caller's buffer ([`npoa::train::fit`]), a
//! streaming learner ([`npoa::online::OnlineLearner`] with a window of [`NPOA_WINDOW`] samples
//! and [`NPOA_HOLDOUT`] held out), predictions, and the model bytes of `npoa::model::bytes`.
//! The header is `include/npoa.h`, generated from this file by cbindgen (a test checks it);
//! `README.md` next to it says how to build and link.
//!
//! ## Memory
//! No heap. A model is a plain C struct (`npoa_model8`: weights, bias, loss), a value the
//! caller owns. A learner lives in memory the caller provides: at least
//! `npoa_learnerD_size()` bytes (≤ the constant `NPOA_LEARNERD_SIZE`, the same on every
//! target), aligned to `npoa_learner_align()` (≤ [`NPOA_LEARNER_ALIGN`]), for example a
//! `static uint64_t mem[NPOA_LEARNER8_SIZE / 8]`. `npoa_learnerD_init` builds the learner
//! there and hands back a typed handle, which is that memory.
//!
//! ## Pointer rules
//! Every function checks its pointers: NULL gives [`npoa_status::NPOA_ERR_NULL`], a pointer
//! not aligned for its type [`npoa_status::NPOA_ERR_MISALIGNED`], an array of the wrong length
//! [`npoa_status::NPOA_ERR_LENGTH_MISMATCH`] (lengths are counts of elements: floats, bytes),
//! a learner handle whose memory does not start with the tag `init` writes
//! [`npoa_status::NPOA_ERR_NOT_INITIALIZED`]. What cannot be checked is the caller's part: a
//! non-NULL pointer points to at least as many valid elements as its length says, an input is
//! not written while a call runs (no other thread, no interrupt handler on the same object),
//! outputs do not overlap inputs, and a handle's memory stays valid and untouched between
//! `init` and its last use. A call that fails leaves its outputs (the model struct, the
//! learner) as they were, except where its documentation says otherwise.
//!
//! ## Panics
//! None: the library is proven panic-free on its no_std entry points (`ci/no_std_check`), and
//! this crate checks every input before it calls it. On bare metal (`target_os = "none"`) the
//! crate is `no_std` and brings a `#[panic_handler]` that parks the core, so that the
//! staticlib links without a runtime; on a host it links `std`.
#![cfg_attr(target_os = "none", no_std)]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_void};

use npoa::LinearModel;
use npoa::model::bytes::encoded_len;

mod imp;
use imp::CModel;

/// The training window of every learner: the most recent (or a uniform sample of) 32 samples.
pub const NPOA_WINDOW: usize = 32;
/// The held-out window of every learner: 8 samples (the metric the controller reads).
pub const NPOA_HOLDOUT: usize = 8;

/// Bytes to reserve for an `npoa_learner4`: at least `npoa_learner4_size()` on every target.
pub const NPOA_LEARNER4_SIZE: usize = 2048;
/// Bytes to reserve for an `npoa_learner8`.
pub const NPOA_LEARNER8_SIZE: usize = 3072;
/// Bytes to reserve for an `npoa_learner16`.
pub const NPOA_LEARNER16_SIZE: usize = 4608;
/// Bytes to reserve for an `npoa_learner32`.
pub const NPOA_LEARNER32_SIZE: usize = 8192;
/// The alignment a learner's memory needs at most (`npoa_learner_align()` is the exact one).
pub const NPOA_LEARNER_ALIGN: usize = 8;

/// Bytes of an encoded `npoa_model4` (`npoa::model::bytes`: 24 + 4·(D + 1)).
pub const NPOA_MODEL4_BYTES: usize = 44;
/// Bytes of an encoded `npoa_model8`.
pub const NPOA_MODEL8_BYTES: usize = 60;
/// Bytes of an encoded `npoa_model16`.
pub const NPOA_MODEL16_BYTES: usize = 92;
/// Bytes of an encoded `npoa_model32`.
pub const NPOA_MODEL32_BYTES: usize = 156;

// The constants above are what the header promises: checked at compile time on every target.
const _: () = {
    assert!(imp::slot_size::<4>() <= NPOA_LEARNER4_SIZE);
    assert!(imp::slot_size::<8>() <= NPOA_LEARNER8_SIZE);
    assert!(imp::slot_size::<16>() <= NPOA_LEARNER16_SIZE);
    assert!(imp::slot_size::<32>() <= NPOA_LEARNER32_SIZE);
    assert!(imp::slot_align::<4>() <= NPOA_LEARNER_ALIGN);
    assert!(imp::slot_align::<8>() <= NPOA_LEARNER_ALIGN);
    assert!(imp::slot_align::<16>() <= NPOA_LEARNER_ALIGN);
    assert!(imp::slot_align::<32>() <= NPOA_LEARNER_ALIGN);
    assert!(encoded_len(4, 1) == NPOA_MODEL4_BYTES);
    assert!(encoded_len(8, 1) == NPOA_MODEL8_BYTES);
    assert!(encoded_len(16, 1) == NPOA_MODEL16_BYTES);
    assert!(encoded_len(32, 1) == NPOA_MODEL32_BYTES);
};

/// Loss codes (`npoa_modelD.loss`), the codes of the model bytes.
pub const NPOA_LOSS_SQUARED: i32 = 0;
/// Huber loss; `loss_param` is its threshold `δ` (finite, > 0).
pub const NPOA_LOSS_HUBER: i32 = 1;
/// Absolute error.
pub const NPOA_LOSS_ABSOLUTE: i32 = 2;
/// Binary cross-entropy on a logit, targets in `[0, 1]`; predictions are logits
/// ([`npoa_sigmoid`] makes them probabilities).
pub const NPOA_LOSS_LOGISTIC: i32 = 3;
/// Quantile (pinball) loss; `loss_param` is its level `τ ∈ (0, 1)`.
pub const NPOA_LOSS_QUANTILE: i32 = 5;
/// Poisson loss with the log link, counts `y ≥ 0`; predictions are `ln μ`.
pub const NPOA_LOSS_POISSON: i32 = 6;

/// Update rules (`npoa_optimizer.kind`): plain SGD (`a`, `b`, `c` unused).
pub const NPOA_OPT_SGD: i32 = 0;
/// Heavy-ball momentum, `a` = `μ ∈ [0, 1)`.
pub const NPOA_OPT_MOMENTUM: i32 = 1;
/// Nesterov momentum, `a` = `μ ∈ (0, 1)`.
pub const NPOA_OPT_NESTEROV: i32 = 2;
/// Adam, `a` = `β1`, `b` = `β2` (both in `[0, 1)`), `c` = `ε > 0` (PyTorch: 0.9, 0.999, 1e-8).
pub const NPOA_OPT_ADAM: i32 = 3;
/// AdamW (decoupled weight decay `l2`), parameters as Adam's.
pub const NPOA_OPT_ADAMW: i32 = 4;
/// AdaGrad, `a` = `ε > 0` (PyTorch: 1e-10).
pub const NPOA_OPT_ADAGRAD: i32 = 5;
/// NLMS (normalised least mean squares: the rate divided by the batch's input energy),
/// `a` = `ε > 0` (CMSIS-DSP: 1.2e-7).
pub const NPOA_OPT_NLMS: i32 = 6;

/// Window sampling (`npoa_online_config.sampling`): the most recent samples (a ring buffer).
pub const NPOA_SAMPLING_SLIDING: i32 = 0;
/// A uniform sample of the whole stream (reservoir sampling seeded with `seed`).
pub const NPOA_SAMPLING_RESERVOIR: i32 = 1;

/// Stop reasons (`npoa_fit_summary.stop`, `npoa_step_report.stopped`): not stopped.
pub const NPOA_STOP_NONE: i32 = 0;
/// Every epoch ran.
pub const NPOA_STOP_MAX_EPOCHS: i32 = 1;
/// Stopped by an observer (not used by this API).
pub const NPOA_STOP_OBSERVER: i32 = 2;
/// Early stopping.
pub const NPOA_STOP_EARLY_STOP: i32 = 3;
/// The target metric was reached.
pub const NPOA_STOP_TARGET: i32 = 4;
/// Converged.
pub const NPOA_STOP_CONVERGED: i32 = 5;
/// Stalled at the rounding floor.
pub const NPOA_STOP_STALLED: i32 = 6;
/// Divergence beyond the controller's retry budget (the model is its best copy).
pub const NPOA_STOP_DIVERGED: i32 = 7;

/// What a call returns: [`npoa_status::NPOA_OK`] or what was wrong. One code per
/// `npoa::Error` variant (10–20), and the codes of the C boundary (1–5).
/// [`npoa_error_message`] gives each one's text.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum npoa_status {
    /// Success.
    NPOA_OK = 0,
    /// A required pointer is NULL.
    NPOA_ERR_NULL = 1,
    /// The memory given to `npoa_learnerD_init` is smaller than `npoa_learnerD_size()`.
    NPOA_ERR_BUFFER_TOO_SMALL = 2,
    /// A pointer is not aligned for its type (a learner's memory: `npoa_learner_align()`).
    NPOA_ERR_MISALIGNED = 3,
    /// A learner handle whose memory was not initialised by `npoa_learnerD_init` (of the same
    /// `D`), or was overwritten since.
    NPOA_ERR_NOT_INITIALIZED = 4,
    /// An unknown loss, update rule or sampling code.
    NPOA_ERR_UNKNOWN_ENUM = 5,
    /// `npoa::Error::ZeroFeatures`: the model has no features.
    NPOA_ERR_ZERO_FEATURES = 10,
    /// `npoa::Error::EmptyBatch`: no samples (`n == 0`).
    NPOA_ERR_EMPTY_BATCH = 11,
    /// `npoa::Error::LengthMismatch`: an array has the wrong length (`x_len != n·D`, a row
    /// that is not `D` floats, a byte buffer too short, model bytes of the wrong length).
    NPOA_ERR_LENGTH_MISMATCH = 12,
    /// `npoa::Error::NonFinite`: an input holds a NaN or an infinity.
    NPOA_ERR_NON_FINITE = 13,
    /// `npoa::Error::Overflow`: a result overflowed `float` although the inputs were finite.
    NPOA_ERR_OVERFLOW = 14,
    /// `npoa::Error::InvalidParameter`: a hyper-parameter out of range (rate, epochs, batch
    /// size, a loss or optimizer parameter, window settings).
    NPOA_ERR_INVALID_PARAMETER = 15,
    /// `npoa::Error::InvalidData`: targets the loss does not accept (logistic outside
    /// `[0, 1]`, negative Poisson counts).
    NPOA_ERR_INVALID_DATA = 16,
    /// `npoa::Error::Diverged`: training at a fixed rate diverged; the model is unchanged
    /// (lower the rate).
    NPOA_ERR_DIVERGED = 17,
    /// `npoa::Error::FeatureMismatch`: model bytes of another feature count.
    NPOA_ERR_FEATURE_MISMATCH = 18,
    /// `npoa::Error::InvalidBytes`: model bytes that do not decode (magic, version, loss,
    /// checksum) or a model that cannot be encoded.
    NPOA_ERR_INVALID_BYTES = 19,
    /// `npoa::Error::Io` (not produced by this API: it does no I/O).
    NPOA_ERR_IO = 20,
    /// An npoa error this version does not know.
    NPOA_ERR_UNKNOWN = 99,
}

/// The text of a status code (a static, NUL-terminated string; `"unknown status code"` for a
/// code that is none of [`npoa_status`]).
#[unsafe(no_mangle)]
pub extern "C" fn npoa_error_message(code: i32) -> *const c_char {
    use npoa_status as S;
    let m: &'static core::ffi::CStr = match code {
        c if c == S::NPOA_OK as i32 => c"success",
        c if c == S::NPOA_ERR_NULL as i32 => c"a required pointer is NULL",
        c if c == S::NPOA_ERR_BUFFER_TOO_SMALL as i32 => {
            c"the learner's memory is smaller than npoa_learnerD_size()"
        }
        c if c == S::NPOA_ERR_MISALIGNED as i32 => c"a pointer is not aligned for its type",
        c if c == S::NPOA_ERR_NOT_INITIALIZED as i32 => {
            c"the learner handle was not initialised by npoa_learnerD_init (or was overwritten)"
        }
        c if c == S::NPOA_ERR_UNKNOWN_ENUM as i32 => c"unknown loss, update rule or sampling code",
        c if c == S::NPOA_ERR_ZERO_FEATURES as i32 => c"the model has zero features",
        c if c == S::NPOA_ERR_EMPTY_BATCH as i32 => c"the batch is empty (n == 0)",
        c if c == S::NPOA_ERR_LENGTH_MISMATCH as i32 => c"an array has the wrong length",
        c if c == S::NPOA_ERR_NON_FINITE as i32 => c"an input is NaN or infinite",
        c if c == S::NPOA_ERR_OVERFLOW as i32 => {
            c"a result overflowed float although every input was finite"
        }
        c if c == S::NPOA_ERR_INVALID_PARAMETER as i32 => c"a hyper-parameter is out of range",
        c if c == S::NPOA_ERR_INVALID_DATA as i32 => {
            c"the targets are not valid for the loss (logistic: in [0, 1]; Poisson: >= 0)"
        }
        c if c == S::NPOA_ERR_DIVERGED as i32 => {
            c"training diverged at a fixed rate; the model is unchanged (lower the rate)"
        }
        c if c == S::NPOA_ERR_FEATURE_MISMATCH as i32 => {
            c"the model bytes have another feature count"
        }
        c if c == S::NPOA_ERR_INVALID_BYTES as i32 => {
            c"invalid model bytes (magic, version, loss or checksum)"
        }
        c if c == S::NPOA_ERR_IO as i32 => c"an I/O error",
        c if c == S::NPOA_ERR_UNKNOWN as i32 => c"an npoa error this version does not know",
        _ => c"unknown status code",
    };
    m.as_ptr()
}

/// `1/(1 + e^{−z})`: a logistic model's probability from its prediction (a logit).
#[unsafe(no_mangle)]
pub extern "C" fn npoa_sigmoid(z: f32) -> f32 {
    npoa::loss::sigmoid(z)
}

/// An update rule: `kind` is an `NPOA_OPT_*` code, `a`, `b`, `c` its parameters (see each
/// code). Zero-initialised: SGD.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct npoa_optimizer {
    /// `NPOA_OPT_*`.
    pub kind: i32,
    /// First parameter.
    pub a: f32,
    /// Second parameter.
    pub b: f32,
    /// Third parameter.
    pub c: f32,
}

/// How `npoa_modelD_fit` trains (`npoa::train::TrainConfig`, without a controller: a
/// diverging run returns `NPOA_ERR_DIVERGED` and leaves the model as it was).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct npoa_fit_config {
    /// The learning rate (finite, > 0).
    pub learning_rate: f32,
    /// Passes over the data (≥ 1).
    pub epochs: u32,
    /// Samples per mini-batch (≥ 1; more than the data: full batch).
    pub batch_size: u32,
    /// Non-zero: shuffle the batches every epoch (seeded by `seed`).
    pub shuffle: u32,
    /// The shuffling generator's seed.
    pub seed: u64,
    /// The update rule.
    pub optimizer: npoa_optimizer,
    /// L1 penalty `λ1 ≥ 0`.
    pub l1: f32,
    /// L2 penalty `λ2 ≥ 0`.
    pub l2: f32,
}

/// What a `fit` did.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct npoa_fit_summary {
    /// Epochs run.
    pub epochs: u32,
    /// Parameter updates applied.
    pub steps: u64,
    /// The last epoch's mean training loss.
    pub final_loss: f32,
    /// The lowest epoch training loss.
    pub best_metric: f32,
    /// Why the run ended (`NPOA_STOP_*`).
    pub stop: i32,
}

/// How a learner trains (`npoa::online::OnlineConfig` and a constant-rate controller with
/// the default divergence guard).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct npoa_online_config {
    /// The learning rate (finite, > 0).
    pub learning_rate: f32,
    /// Samples per update (≥ 1).
    pub batch_size: u32,
    /// Updates per `step` call (≥ 1).
    pub steps_per_call: u32,
    /// Updates per round, the controller's epoch (≥ 1).
    pub round_steps: u32,
    /// Every `k`-th pushed sample goes to the held-out window (0: none; 1 is refused).
    pub holdout_every: u32,
    /// Feature standardisation: samples of warm-up before it freezes (0: off). Models read
    /// from the learner are always in raw features.
    pub standardize_warmup: u32,
    /// Warm restarts on drift: bad rounds in a row that make a drift (0: off), with npoa's
    /// default factor 3.
    pub drift_patience: u32,
    /// `NPOA_SAMPLING_*`.
    pub sampling: i32,
    /// The reservoir's seed.
    pub seed: u64,
    /// The update rule.
    pub optimizer: npoa_optimizer,
    /// L1 penalty `λ1 ≥ 0` (on the standardised weights when standardising).
    pub l1: f32,
    /// L2 penalty `λ2 ≥ 0`.
    pub l2: f32,
}

/// What a `step` did, and the learner's totals.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct npoa_step_report {
    /// Updates applied by this call.
    pub updates: u32,
    /// Rounds that ended in this call.
    pub rounds: u32,
    /// The metric of the last round that ended in this call (NaN if none).
    pub metric: f32,
    /// Non-zero if a warm restart happened in this call.
    pub restarted: u32,
    /// `NPOA_STOP_*` (`NPOA_STOP_NONE` while the learner trains).
    pub stopped: i32,
    /// The learner's rate now.
    pub rate: f32,
    /// Updates since `init` or `reset`.
    pub total_updates: u64,
    /// Rounds since `init` or `reset`.
    pub total_rounds: u32,
}

/// `npoa_fit_config` with npoa's defaults: rate 0.01, 100 epochs, batches of 32, shuffled,
/// seed 0, SGD, no penalty.
#[unsafe(no_mangle)]
pub extern "C" fn npoa_fit_config_default() -> npoa_fit_config {
    npoa_fit_config {
        learning_rate: 0.01,
        epochs: 100,
        batch_size: 32,
        shuffle: 1,
        seed: 0,
        optimizer: npoa_optimizer {
            kind: NPOA_OPT_SGD,
            a: 0.0,
            b: 0.0,
            c: 0.0,
        },
        l1: 0.0,
        l2: 0.0,
    }
}

/// `npoa_online_config` with npoa's defaults (`OnlineConfig::default()`): batches of 8, one
/// update per call, rounds of 8, every 5th sample held out, standardisation after 64 samples,
/// drift restarts after 3 bad rounds, a sliding window, SGD at rate 0.05.
#[unsafe(no_mangle)]
pub extern "C" fn npoa_online_config_default() -> npoa_online_config {
    npoa_online_config {
        learning_rate: 0.05,
        batch_size: 8,
        steps_per_call: 1,
        round_steps: 8,
        holdout_every: 5,
        standardize_warmup: 64,
        drift_patience: 3,
        sampling: NPOA_SAMPLING_SLIDING,
        seed: 0,
        optimizer: npoa_optimizer {
            kind: NPOA_OPT_SGD,
            a: 0.0,
            b: 0.0,
            c: 0.0,
        },
        l1: 0.0,
        l2: 0.0,
    }
}

/// The alignment a learner's memory needs (the same for every `D`; at most
/// [`NPOA_LEARNER_ALIGN`]).
#[unsafe(no_mangle)]
pub extern "C" fn npoa_learner_align() -> usize {
    imp::slot_align::<32>()
        .max(imp::slot_align::<16>())
        .max(imp::slot_align::<8>())
        .max(imp::slot_align::<4>())
}

/// The panic handler of bare-metal builds. The library is proven not to panic
/// (`ci/no_std_check`) and this crate checks every input first, so this is unreachable; if it
/// were reached it parks the core.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

// ---- D = 4 ------------------------------------------------------------------------------

/// A linear model of 4 features, `ŷ = w·x + b`, a value the caller owns. Zero-initialised:
/// a squared-error model with zero weights.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct npoa_model4 {
    /// The weights.
    pub w: [f32; 4],
    /// The bias.
    pub b: f32,
    /// The loss it is trained for (`NPOA_LOSS_*`).
    pub loss: i32,
    /// The loss's parameter (Huber `δ`, quantile `τ`; ignored by the others).
    pub loss_param: f32,
}

impl CModel<4> for npoa_model4 {
    fn parts(&self) -> (&[f32; 4], f32, i32, f32) {
        (&self.w, self.b, self.loss, self.loss_param)
    }
    fn from_model(m: &LinearModel<4>) -> Self {
        let l = m.loss_kind();
        Self {
            w: *m.weights(),
            b: m.bias(),
            loss: i32::from(l.code()),
            loss_param: l.param(),
        }
    }
}

/// A streaming learner of 4 features, in the caller's memory (opaque: only by pointer).
pub struct npoa_learner4 {
    _private: [u8; 0],
}

/// Trains `model` on `n` samples: `x` holds `x_len` = `n`·4 floats, row after row, `y` the `n`
/// targets. On success `model` holds the trained model and `summary` (may be NULL) what the
/// run did; on failure `model` is unchanged.
///
/// # Safety
/// The crate's pointer rules (README: every pointer NULL or valid for its length).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model4_fit(
    model: *mut npoa_model4,
    x: *const f32,
    x_len: usize,
    y: *const f32,
    n: usize,
    config: *const npoa_fit_config,
    summary: *mut npoa_fit_summary,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::fit::<4, _>(model, x, x_len, y, n, config, summary) }
}

/// Predicts `out_len` samples: `x` holds `x_len` = `out_len`·4 floats; writes `out_len`
/// predictions (for a logistic model, logits) to `out`.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model4_predict(
    model: *const npoa_model4,
    x: *const f32,
    x_len: usize,
    out: *mut f32,
    out_len: usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::predict::<4, _>(model, x, x_len, out, out_len) }
}

/// Encodes `model` into `buf` (`len` ≥ `NPOA_MODEL4_BYTES`); `written` (may be NULL) gets the
/// byte count.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model4_to_bytes(
    model: *const npoa_model4,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::to_bytes::<4, _>(model, buf, len, written) }
}

/// Decodes model bytes (exactly `NPOA_MODEL4_BYTES` of them) into `model`, which is written
/// only on success.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model4_from_bytes(
    model: *mut npoa_model4,
    buf: *const u8,
    len: usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::from_bytes::<4, _>(model, buf, len) }
}

/// Bytes an `npoa_learner4` needs (≤ `NPOA_LEARNER4_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn npoa_learner4_size() -> usize {
    imp::slot_size::<4>()
}

/// Builds a learner in `mem` (`len` bytes, aligned to `npoa_learner_align()`), starting from
/// `initial` (NULL: zero weights, squared error; its loss is the learner's) and sets `*out` to
/// the handle. On failure `*out` is unchanged.
///
/// # Safety
/// The crate's pointer rules; `mem` stays valid and untouched while the handle is used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner4_init(
    mem: *mut c_void,
    len: usize,
    config: *const npoa_online_config,
    initial: *const npoa_model4,
    out: *mut *mut npoa_learner4,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::init::<4, _, _>(mem, len, config, initial, out) }
}

/// Starts the learner again: empty windows, the starting model, the same configuration.
///
/// # Safety
/// `learner` is NULL or a handle from `npoa_learner4_init` whose memory is still valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner4_reset(learner: *mut npoa_learner4) -> npoa_status {
    // SAFETY: the caller's handle contract, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::reset::<4, _>(learner) }
}

/// Offers a sample (`x`: `x_len` = 4 floats, `y` its target): every `holdout_every`-th goes
/// to the held-out window. No training happens here.
///
/// # Safety
/// As `npoa_learner4_reset`, and the pointer rules for `x`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner4_push(
    learner: *mut npoa_learner4,
    x: *const f32,
    x_len: usize,
    y: f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::push::<4, _>(learner, x, x_len, y, false) }
}

/// Offers a sample to the held-out window directly (a separate validation stream).
///
/// # Safety
/// As `npoa_learner4_push`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner4_push_holdout(
    learner: *mut npoa_learner4,
    x: *const f32,
    x_len: usize,
    y: f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::push::<4, _>(learner, x, x_len, y, true) }
}

/// Runs `steps_per_call` updates on the training window (none while it is empty or during
/// the standardisation warm-up); `report` (may be NULL) gets what happened.
///
/// # Safety
/// As `npoa_learner4_reset`, and the pointer rules for `report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner4_step(
    learner: *mut npoa_learner4,
    report: *mut npoa_step_report,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::step::<4, _>(learner, report) }
}

/// Writes the learner's current model (in raw features) to `out`.
///
/// # Safety
/// As `npoa_learner4_reset`, and the pointer rules for `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner4_model(
    learner: *mut npoa_learner4,
    out: *mut npoa_model4,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::learner_model::<4, _, _>(learner, out, false) }
}

/// Writes the best model the controller kept (in raw features) to `out`.
///
/// # Safety
/// As `npoa_learner4_reset`, and the pointer rules for `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner4_best_model(
    learner: *mut npoa_learner4,
    out: *mut npoa_model4,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::learner_model::<4, _, _>(learner, out, true) }
}

/// Predicts one sample (`x`: `x_len` = 4 floats) with the learner's current model.
///
/// # Safety
/// As `npoa_learner4_reset`, and the pointer rules for `x` and `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner4_predict(
    learner: *mut npoa_learner4,
    x: *const f32,
    x_len: usize,
    out: *mut f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::learner_predict::<4, _>(learner, x, x_len, out) }
}

// ---- D = 8 ------------------------------------------------------------------------------

/// A linear model of 8 features, `ŷ = w·x + b`, a value the caller owns. Zero-initialised:
/// a squared-error model with zero weights.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct npoa_model8 {
    /// The weights.
    pub w: [f32; 8],
    /// The bias.
    pub b: f32,
    /// The loss it is trained for (`NPOA_LOSS_*`).
    pub loss: i32,
    /// The loss's parameter (Huber `δ`, quantile `τ`; ignored by the others).
    pub loss_param: f32,
}

impl CModel<8> for npoa_model8 {
    fn parts(&self) -> (&[f32; 8], f32, i32, f32) {
        (&self.w, self.b, self.loss, self.loss_param)
    }
    fn from_model(m: &LinearModel<8>) -> Self {
        let l = m.loss_kind();
        Self {
            w: *m.weights(),
            b: m.bias(),
            loss: i32::from(l.code()),
            loss_param: l.param(),
        }
    }
}

/// A streaming learner of 8 features, in the caller's memory (opaque: only by pointer).
pub struct npoa_learner8 {
    _private: [u8; 0],
}

/// Trains `model` on `n` samples: `x` holds `x_len` = `n`·8 floats, row after row, `y` the `n`
/// targets. On success `model` holds the trained model and `summary` (may be NULL) what the
/// run did; on failure `model` is unchanged.
///
/// # Safety
/// The crate's pointer rules (README: every pointer NULL or valid for its length).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model8_fit(
    model: *mut npoa_model8,
    x: *const f32,
    x_len: usize,
    y: *const f32,
    n: usize,
    config: *const npoa_fit_config,
    summary: *mut npoa_fit_summary,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::fit::<8, _>(model, x, x_len, y, n, config, summary) }
}

/// Predicts `out_len` samples: `x` holds `x_len` = `out_len`·8 floats; writes `out_len`
/// predictions (for a logistic model, logits) to `out`.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model8_predict(
    model: *const npoa_model8,
    x: *const f32,
    x_len: usize,
    out: *mut f32,
    out_len: usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::predict::<8, _>(model, x, x_len, out, out_len) }
}

/// Encodes `model` into `buf` (`len` ≥ `NPOA_MODEL8_BYTES`); `written` (may be NULL) gets the
/// byte count.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model8_to_bytes(
    model: *const npoa_model8,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::to_bytes::<8, _>(model, buf, len, written) }
}

/// Decodes model bytes (exactly `NPOA_MODEL8_BYTES` of them) into `model`, which is written
/// only on success.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model8_from_bytes(
    model: *mut npoa_model8,
    buf: *const u8,
    len: usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::from_bytes::<8, _>(model, buf, len) }
}

/// Bytes an `npoa_learner8` needs (≤ `NPOA_LEARNER8_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn npoa_learner8_size() -> usize {
    imp::slot_size::<8>()
}

/// Builds a learner in `mem` (`len` bytes, aligned to `npoa_learner_align()`), starting from
/// `initial` (NULL: zero weights, squared error; its loss is the learner's) and sets `*out` to
/// the handle. On failure `*out` is unchanged.
///
/// # Safety
/// The crate's pointer rules; `mem` stays valid and untouched while the handle is used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner8_init(
    mem: *mut c_void,
    len: usize,
    config: *const npoa_online_config,
    initial: *const npoa_model8,
    out: *mut *mut npoa_learner8,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::init::<8, _, _>(mem, len, config, initial, out) }
}

/// Starts the learner again: empty windows, the starting model, the same configuration.
///
/// # Safety
/// `learner` is NULL or a handle from `npoa_learner8_init` whose memory is still valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner8_reset(learner: *mut npoa_learner8) -> npoa_status {
    // SAFETY: the caller's handle contract, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::reset::<8, _>(learner) }
}

/// Offers a sample (`x`: `x_len` = 8 floats, `y` its target): every `holdout_every`-th goes
/// to the held-out window. No training happens here.
///
/// # Safety
/// As `npoa_learner8_reset`, and the pointer rules for `x`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner8_push(
    learner: *mut npoa_learner8,
    x: *const f32,
    x_len: usize,
    y: f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::push::<8, _>(learner, x, x_len, y, false) }
}

/// Offers a sample to the held-out window directly (a separate validation stream).
///
/// # Safety
/// As `npoa_learner8_push`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner8_push_holdout(
    learner: *mut npoa_learner8,
    x: *const f32,
    x_len: usize,
    y: f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::push::<8, _>(learner, x, x_len, y, true) }
}

/// Runs `steps_per_call` updates on the training window (none while it is empty or during
/// the standardisation warm-up); `report` (may be NULL) gets what happened.
///
/// # Safety
/// As `npoa_learner8_reset`, and the pointer rules for `report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner8_step(
    learner: *mut npoa_learner8,
    report: *mut npoa_step_report,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::step::<8, _>(learner, report) }
}

/// Writes the learner's current model (in raw features) to `out`.
///
/// # Safety
/// As `npoa_learner8_reset`, and the pointer rules for `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner8_model(
    learner: *mut npoa_learner8,
    out: *mut npoa_model8,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::learner_model::<8, _, _>(learner, out, false) }
}

/// Writes the best model the controller kept (in raw features) to `out`.
///
/// # Safety
/// As `npoa_learner8_reset`, and the pointer rules for `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner8_best_model(
    learner: *mut npoa_learner8,
    out: *mut npoa_model8,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::learner_model::<8, _, _>(learner, out, true) }
}

/// Predicts one sample (`x`: `x_len` = 8 floats) with the learner's current model.
///
/// # Safety
/// As `npoa_learner8_reset`, and the pointer rules for `x` and `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner8_predict(
    learner: *mut npoa_learner8,
    x: *const f32,
    x_len: usize,
    out: *mut f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::learner_predict::<8, _>(learner, x, x_len, out) }
}

// ---- D = 16 ------------------------------------------------------------------------------

/// A linear model of 16 features, `ŷ = w·x + b`, a value the caller owns. Zero-initialised:
/// a squared-error model with zero weights.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct npoa_model16 {
    /// The weights.
    pub w: [f32; 16],
    /// The bias.
    pub b: f32,
    /// The loss it is trained for (`NPOA_LOSS_*`).
    pub loss: i32,
    /// The loss's parameter (Huber `δ`, quantile `τ`; ignored by the others).
    pub loss_param: f32,
}

impl CModel<16> for npoa_model16 {
    fn parts(&self) -> (&[f32; 16], f32, i32, f32) {
        (&self.w, self.b, self.loss, self.loss_param)
    }
    fn from_model(m: &LinearModel<16>) -> Self {
        let l = m.loss_kind();
        Self {
            w: *m.weights(),
            b: m.bias(),
            loss: i32::from(l.code()),
            loss_param: l.param(),
        }
    }
}

/// A streaming learner of 16 features, in the caller's memory (opaque: only by pointer).
pub struct npoa_learner16 {
    _private: [u8; 0],
}

/// Trains `model` on `n` samples: `x` holds `x_len` = `n`·16 floats, row after row, `y` the `n`
/// targets. On success `model` holds the trained model and `summary` (may be NULL) what the
/// run did; on failure `model` is unchanged.
///
/// # Safety
/// The crate's pointer rules (README: every pointer NULL or valid for its length).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model16_fit(
    model: *mut npoa_model16,
    x: *const f32,
    x_len: usize,
    y: *const f32,
    n: usize,
    config: *const npoa_fit_config,
    summary: *mut npoa_fit_summary,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::fit::<16, _>(model, x, x_len, y, n, config, summary) }
}

/// Predicts `out_len` samples: `x` holds `x_len` = `out_len`·16 floats; writes `out_len`
/// predictions (for a logistic model, logits) to `out`.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model16_predict(
    model: *const npoa_model16,
    x: *const f32,
    x_len: usize,
    out: *mut f32,
    out_len: usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::predict::<16, _>(model, x, x_len, out, out_len) }
}

/// Encodes `model` into `buf` (`len` ≥ `NPOA_MODEL16_BYTES`); `written` (may be NULL) gets the
/// byte count.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model16_to_bytes(
    model: *const npoa_model16,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::to_bytes::<16, _>(model, buf, len, written) }
}

/// Decodes model bytes (exactly `NPOA_MODEL16_BYTES` of them) into `model`, which is written
/// only on success.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model16_from_bytes(
    model: *mut npoa_model16,
    buf: *const u8,
    len: usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::from_bytes::<16, _>(model, buf, len) }
}

/// Bytes an `npoa_learner16` needs (≤ `NPOA_LEARNER16_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn npoa_learner16_size() -> usize {
    imp::slot_size::<16>()
}

/// Builds a learner in `mem` (`len` bytes, aligned to `npoa_learner_align()`), starting from
/// `initial` (NULL: zero weights, squared error; its loss is the learner's) and sets `*out` to
/// the handle. On failure `*out` is unchanged.
///
/// # Safety
/// The crate's pointer rules; `mem` stays valid and untouched while the handle is used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner16_init(
    mem: *mut c_void,
    len: usize,
    config: *const npoa_online_config,
    initial: *const npoa_model16,
    out: *mut *mut npoa_learner16,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::init::<16, _, _>(mem, len, config, initial, out) }
}

/// Starts the learner again: empty windows, the starting model, the same configuration.
///
/// # Safety
/// `learner` is NULL or a handle from `npoa_learner16_init` whose memory is still valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner16_reset(learner: *mut npoa_learner16) -> npoa_status {
    // SAFETY: the caller's handle contract, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::reset::<16, _>(learner) }
}

/// Offers a sample (`x`: `x_len` = 16 floats, `y` its target): every `holdout_every`-th goes
/// to the held-out window. No training happens here.
///
/// # Safety
/// As `npoa_learner16_reset`, and the pointer rules for `x`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner16_push(
    learner: *mut npoa_learner16,
    x: *const f32,
    x_len: usize,
    y: f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::push::<16, _>(learner, x, x_len, y, false) }
}

/// Offers a sample to the held-out window directly (a separate validation stream).
///
/// # Safety
/// As `npoa_learner16_push`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner16_push_holdout(
    learner: *mut npoa_learner16,
    x: *const f32,
    x_len: usize,
    y: f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::push::<16, _>(learner, x, x_len, y, true) }
}

/// Runs `steps_per_call` updates on the training window (none while it is empty or during
/// the standardisation warm-up); `report` (may be NULL) gets what happened.
///
/// # Safety
/// As `npoa_learner16_reset`, and the pointer rules for `report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner16_step(
    learner: *mut npoa_learner16,
    report: *mut npoa_step_report,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::step::<16, _>(learner, report) }
}

/// Writes the learner's current model (in raw features) to `out`.
///
/// # Safety
/// As `npoa_learner16_reset`, and the pointer rules for `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner16_model(
    learner: *mut npoa_learner16,
    out: *mut npoa_model16,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::learner_model::<16, _, _>(learner, out, false) }
}

/// Writes the best model the controller kept (in raw features) to `out`.
///
/// # Safety
/// As `npoa_learner16_reset`, and the pointer rules for `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner16_best_model(
    learner: *mut npoa_learner16,
    out: *mut npoa_model16,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::learner_model::<16, _, _>(learner, out, true) }
}

/// Predicts one sample (`x`: `x_len` = 16 floats) with the learner's current model.
///
/// # Safety
/// As `npoa_learner16_reset`, and the pointer rules for `x` and `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner16_predict(
    learner: *mut npoa_learner16,
    x: *const f32,
    x_len: usize,
    out: *mut f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::learner_predict::<16, _>(learner, x, x_len, out) }
}

// ---- D = 32 ------------------------------------------------------------------------------

/// A linear model of 32 features, `ŷ = w·x + b`, a value the caller owns. Zero-initialised:
/// a squared-error model with zero weights.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct npoa_model32 {
    /// The weights.
    pub w: [f32; 32],
    /// The bias.
    pub b: f32,
    /// The loss it is trained for (`NPOA_LOSS_*`).
    pub loss: i32,
    /// The loss's parameter (Huber `δ`, quantile `τ`; ignored by the others).
    pub loss_param: f32,
}

impl CModel<32> for npoa_model32 {
    fn parts(&self) -> (&[f32; 32], f32, i32, f32) {
        (&self.w, self.b, self.loss, self.loss_param)
    }
    fn from_model(m: &LinearModel<32>) -> Self {
        let l = m.loss_kind();
        Self {
            w: *m.weights(),
            b: m.bias(),
            loss: i32::from(l.code()),
            loss_param: l.param(),
        }
    }
}

/// A streaming learner of 32 features, in the caller's memory (opaque: only by pointer).
pub struct npoa_learner32 {
    _private: [u8; 0],
}

/// Trains `model` on `n` samples: `x` holds `x_len` = `n`·32 floats, row after row, `y` the `n`
/// targets. On success `model` holds the trained model and `summary` (may be NULL) what the
/// run did; on failure `model` is unchanged.
///
/// # Safety
/// The crate's pointer rules (README: every pointer NULL or valid for its length).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model32_fit(
    model: *mut npoa_model32,
    x: *const f32,
    x_len: usize,
    y: *const f32,
    n: usize,
    config: *const npoa_fit_config,
    summary: *mut npoa_fit_summary,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::fit::<32, _>(model, x, x_len, y, n, config, summary) }
}

/// Predicts `out_len` samples: `x` holds `x_len` = `out_len`·32 floats; writes `out_len`
/// predictions (for a logistic model, logits) to `out`.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model32_predict(
    model: *const npoa_model32,
    x: *const f32,
    x_len: usize,
    out: *mut f32,
    out_len: usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::predict::<32, _>(model, x, x_len, out, out_len) }
}

/// Encodes `model` into `buf` (`len` ≥ `NPOA_MODEL32_BYTES`); `written` (may be NULL) gets the
/// byte count.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model32_to_bytes(
    model: *const npoa_model32,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::to_bytes::<32, _>(model, buf, len, written) }
}

/// Decodes model bytes (exactly `NPOA_MODEL32_BYTES` of them) into `model`, which is written
/// only on success.
///
/// # Safety
/// The crate's pointer rules.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_model32_from_bytes(
    model: *mut npoa_model32,
    buf: *const u8,
    len: usize,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::from_bytes::<32, _>(model, buf, len) }
}

/// Bytes an `npoa_learner32` needs (≤ `NPOA_LEARNER32_SIZE`).
#[unsafe(no_mangle)]
pub extern "C" fn npoa_learner32_size() -> usize {
    imp::slot_size::<32>()
}

/// Builds a learner in `mem` (`len` bytes, aligned to `npoa_learner_align()`), starting from
/// `initial` (NULL: zero weights, squared error; its loss is the learner's) and sets `*out` to
/// the handle. On failure `*out` is unchanged.
///
/// # Safety
/// The crate's pointer rules; `mem` stays valid and untouched while the handle is used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner32_init(
    mem: *mut c_void,
    len: usize,
    config: *const npoa_online_config,
    initial: *const npoa_model32,
    out: *mut *mut npoa_learner32,
) -> npoa_status {
    // SAFETY: the caller's pointer rules, forwarded; `imp` checks NULL, alignment and lengths.
    unsafe { imp::init::<32, _, _>(mem, len, config, initial, out) }
}

/// Starts the learner again: empty windows, the starting model, the same configuration.
///
/// # Safety
/// `learner` is NULL or a handle from `npoa_learner32_init` whose memory is still valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner32_reset(learner: *mut npoa_learner32) -> npoa_status {
    // SAFETY: the caller's handle contract, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::reset::<32, _>(learner) }
}

/// Offers a sample (`x`: `x_len` = 32 floats, `y` its target): every `holdout_every`-th goes
/// to the held-out window. No training happens here.
///
/// # Safety
/// As `npoa_learner32_reset`, and the pointer rules for `x`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner32_push(
    learner: *mut npoa_learner32,
    x: *const f32,
    x_len: usize,
    y: f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::push::<32, _>(learner, x, x_len, y, false) }
}

/// Offers a sample to the held-out window directly (a separate validation stream).
///
/// # Safety
/// As `npoa_learner32_push`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner32_push_holdout(
    learner: *mut npoa_learner32,
    x: *const f32,
    x_len: usize,
    y: f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::push::<32, _>(learner, x, x_len, y, true) }
}

/// Runs `steps_per_call` updates on the training window (none while it is empty or during
/// the standardisation warm-up); `report` (may be NULL) gets what happened.
///
/// # Safety
/// As `npoa_learner32_reset`, and the pointer rules for `report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner32_step(
    learner: *mut npoa_learner32,
    report: *mut npoa_step_report,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::step::<32, _>(learner, report) }
}

/// Writes the learner's current model (in raw features) to `out`.
///
/// # Safety
/// As `npoa_learner32_reset`, and the pointer rules for `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner32_model(
    learner: *mut npoa_learner32,
    out: *mut npoa_model32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::learner_model::<32, _, _>(learner, out, false) }
}

/// Writes the best model the controller kept (in raw features) to `out`.
///
/// # Safety
/// As `npoa_learner32_reset`, and the pointer rules for `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner32_best_model(
    learner: *mut npoa_learner32,
    out: *mut npoa_model32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment and tag.
    unsafe { imp::learner_model::<32, _, _>(learner, out, true) }
}

/// Predicts one sample (`x`: `x_len` = 32 floats) with the learner's current model.
///
/// # Safety
/// As `npoa_learner32_reset`, and the pointer rules for `x` and `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn npoa_learner32_predict(
    learner: *mut npoa_learner32,
    x: *const f32,
    x_len: usize,
    out: *mut f32,
) -> npoa_status {
    // SAFETY: the caller's contracts, forwarded; `imp` checks NULL, alignment, tag, length.
    unsafe { imp::learner_predict::<32, _>(learner, x, x_len, out) }
}
