//! The generic code behind the C functions: pointer checks, conversions between the C structs
//! and npoa's types, and the calls. The `extern "C"` wrappers in `lib.rs` (one per feature
//! count, so that cbindgen sees every one) forward here.

use core::mem::{align_of, size_of};

use npoa::LinearModel;
use npoa::control::{ControllerConfig, Stop};
use npoa::loss::Loss;
use npoa::online::{Drift, NoDetector, OnlineConfig, OnlineLearner, Sampling, StepReport};
use npoa::optim::{Regularization, Rule};
use npoa::train::{Dataset, Summary, TrainConfig};

use crate::{
    NPOA_HOLDOUT, NPOA_WINDOW, npoa_fit_config, npoa_fit_summary, npoa_online_config,
    npoa_optimizer, npoa_status, npoa_step_report,
};

/// What every C call returns internally: `Ok` or the status to hand back.
pub(crate) type Res<T> = Result<T, npoa_status>;

/// The status of an npoa error (one per variant; the enum is non-exhaustive).
pub(crate) fn status(e: npoa::Error) -> npoa_status {
    use npoa::Error as E;
    match e {
        E::ZeroFeatures => npoa_status::NPOA_ERR_ZERO_FEATURES,
        E::EmptyBatch => npoa_status::NPOA_ERR_EMPTY_BATCH,
        E::LengthMismatch { .. } => npoa_status::NPOA_ERR_LENGTH_MISMATCH,
        E::NonFinite { .. } => npoa_status::NPOA_ERR_NON_FINITE,
        E::Overflow { .. } => npoa_status::NPOA_ERR_OVERFLOW,
        E::InvalidParameter { .. } => npoa_status::NPOA_ERR_INVALID_PARAMETER,
        E::InvalidData { .. } => npoa_status::NPOA_ERR_INVALID_DATA,
        E::Diverged { .. } => npoa_status::NPOA_ERR_DIVERGED,
        E::FeatureMismatch { .. } => npoa_status::NPOA_ERR_FEATURE_MISMATCH,
        E::InvalidBytes { .. } => npoa_status::NPOA_ERR_INVALID_BYTES,
        E::Io { .. } => npoa_status::NPOA_ERR_IO,
        _ => npoa_status::NPOA_ERR_UNKNOWN,
    }
}

/// Runs `f` and turns its result into a status.
pub(crate) fn run(f: impl FnOnce() -> Res<()>) -> npoa_status {
    match f() {
        Ok(()) => npoa_status::NPOA_OK,
        Err(s) => s,
    }
}

/// Converts an npoa result.
pub(crate) fn np<T>(r: Result<T, npoa::Error>) -> Res<T> {
    r.map_err(status)
}

/// Checks a caller's pointer: not NULL and aligned for `T`.
pub(crate) fn check_ptr<T>(p: *const T) -> Res<()> {
    if p.is_null() {
        Err(npoa_status::NPOA_ERR_NULL)
    } else if !p.is_aligned() {
        Err(npoa_status::NPOA_ERR_MISALIGNED)
    } else {
        Ok(())
    }
}

/// A caller's array of `len` elements as a slice, after the pointer checks and a length
/// check (`len · size_of::<T>()` must fit in `isize`, as `from_raw_parts` requires).
///
/// # Safety
/// If `p` is not NULL it must point to `len` initialised `T`s, readable and not written
/// during the call.
pub(crate) unsafe fn slice<'a, T>(p: *const T, len: usize) -> Res<&'a [T]> {
    check_ptr(p)?;
    if len > isize::MAX as usize / size_of::<T>().max(1) {
        return Err(npoa_status::NPOA_ERR_LENGTH_MISMATCH);
    }
    // SAFETY: `p` is non-NULL and aligned (checked), the size fits in `isize` (checked), and
    // the caller guarantees `len` readable, initialised elements not written meanwhile.
    Ok(unsafe { core::slice::from_raw_parts(p, len) })
}

/// As [`slice`], mutable.
///
/// # Safety
/// If `p` is not NULL it must point to `len` writable `T`s that nothing else accesses during
/// the call.
pub(crate) unsafe fn slice_mut<'a, T>(p: *mut T, len: usize) -> Res<&'a mut [T]> {
    check_ptr(p)?;
    if len > isize::MAX as usize / size_of::<T>().max(1) {
        return Err(npoa_status::NPOA_ERR_LENGTH_MISMATCH);
    }
    // SAFETY: as in `slice`; the caller guarantees exclusive access for the call.
    Ok(unsafe { core::slice::from_raw_parts_mut(p, len) })
}

/// A caller's struct by reference, after the pointer checks.
///
/// # Safety
/// If `p` is not NULL it must point to an initialised `T` not written during the call.
pub(crate) unsafe fn get<'a, T>(p: *const T) -> Res<&'a T> {
    check_ptr(p)?;
    // SAFETY: non-NULL and aligned (checked); initialised and not written meanwhile (caller).
    Ok(unsafe { &*p })
}

/// A caller's struct by mutable reference, after the pointer checks.
///
/// # Safety
/// If `p` is not NULL it must point to a writable `T` (initialised, for a type with invalid
/// bit patterns: every C struct here has none) that nothing else accesses during the call.
pub(crate) unsafe fn get_mut<'a, T>(p: *mut T) -> Res<&'a mut T> {
    check_ptr(p)?;
    // SAFETY: non-NULL and aligned (checked); exclusive for the call (caller). Every type
    // passed here is a `repr(C)` struct of integers and floats, valid for any bits.
    Ok(unsafe { &mut *p })
}

/// Writes `v` to a caller's output after the pointer checks, without reading what was there
/// (the output may be uninitialised memory).
///
/// # Safety
/// If `p` is not NULL it must be valid for a write of a `T` that nothing else accesses during
/// the call.
pub(crate) unsafe fn put<T>(p: *mut T, v: T) -> Res<()> {
    check_ptr(p)?;
    // SAFETY: non-NULL and aligned (checked); writable and exclusive for the call (caller);
    // `write` neither reads nor drops the old contents.
    unsafe { p.write(v) };
    Ok(())
}

/// The C model structs (`npoa_model4` … `npoa_model32`): weights, bias, loss code and
/// parameter, converted to and from `LinearModel<D>`.
pub(crate) trait CModel<const D: usize>: Sized {
    /// The parts: weights, bias, loss code, loss parameter.
    fn parts(&self) -> (&[f32; D], f32, i32, f32);
    /// The C struct of a model.
    fn from_model(m: &LinearModel<D>) -> Self;
    /// Writes a model's parts.
    fn store(&mut self, m: &LinearModel<D>) {
        *self = Self::from_model(m);
    }
}

/// The loss of a C loss code and parameter.
pub(crate) fn loss(code: i32, param: f32) -> Res<Loss> {
    let code = u8::try_from(code).map_err(|_| npoa_status::NPOA_ERR_UNKNOWN_ENUM)?;
    let l = Loss::from_code(code, param).ok_or(npoa_status::NPOA_ERR_UNKNOWN_ENUM)?;
    np(l.validate())?;
    Ok(l)
}

/// A checked `LinearModel<D>` from its C struct.
pub(crate) fn model<const D: usize, C: CModel<D>>(c: &C) -> Res<LinearModel<D>> {
    let (w, b, code, param) = c.parts();
    let l = loss(code, param)?;
    np(np(LinearModel::new(*w, b))?.with_loss(l))
}

/// The update rule of a C optimizer description.
fn rule(o: &npoa_optimizer) -> Res<Rule> {
    let r = match o.kind {
        0 => Rule::Sgd,
        1 => Rule::momentum(o.a),
        2 => Rule::nesterov(o.a),
        3 => Rule::Adam {
            beta1: o.a,
            beta2: o.b,
            eps: o.c,
        },
        4 => Rule::AdamW {
            beta1: o.a,
            beta2: o.b,
            eps: o.c,
        },
        5 => Rule::AdaGrad { eps: o.a },
        6 => Rule::Nlms { eps: o.a },
        _ => return Err(npoa_status::NPOA_ERR_UNKNOWN_ENUM),
    };
    np(r.validate())?;
    Ok(r)
}

fn usize_of(v: u32) -> usize {
    // u32 → usize is lossless on every target npoa supports (16-bit targets are not among them).
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// The training configuration of a C one.
pub(crate) fn train_config(c: &npoa_fit_config) -> Res<TrainConfig> {
    let tc = TrainConfig {
        learning_rate: c.learning_rate,
        epochs: c.epochs,
        batch_size: usize_of(c.batch_size),
        shuffle: c.shuffle != 0,
        seed: c.seed,
        optimizer: rule(&c.optimizer)?,
        regularization: Regularization {
            l1: c.l1,
            l2: c.l2,
            ..Regularization::NONE
        },
    };
    np(tc.validate())?;
    Ok(tc)
}

/// A stop reason as its C code (`NPOA_STOP_*`; 0 is "not stopped").
pub(crate) fn stop_code(s: Option<Stop>) -> i32 {
    match s {
        None => 0,
        Some(Stop::MaxEpochs) => 1,
        Some(Stop::Observer) => 2,
        Some(Stop::EarlyStop) => 3,
        Some(Stop::Target) => 4,
        Some(Stop::Converged) => 5,
        Some(Stop::Stalled) => 6,
        Some(Stop::Diverged) => 7,
        // The C API sets no step budget, so it never pauses; a pause is "not stopped".
        Some(Stop::Paused) => 0,
    }
}

/// The C summary of a run.
pub(crate) fn summary(s: &Summary) -> npoa_fit_summary {
    npoa_fit_summary {
        epochs: s.epochs,
        steps: s.steps,
        final_loss: s.final_loss,
        best_metric: s.best_metric,
        stop: stop_code(Some(s.stop)),
    }
}

/// Trains `model` on `n` rows (`x`: `x_len` floats, row-major; `y`: `n` targets).
///
/// # Safety
/// The pointers follow the crate's pointer rules (see the crate docs).
pub(crate) unsafe fn fit<const D: usize, C: CModel<D>>(
    m: *mut C,
    x: *const f32,
    x_len: usize,
    y: *const f32,
    n: usize,
    cfg: *const npoa_fit_config,
    out: *mut npoa_fit_summary,
) -> npoa_status {
    run(|| {
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let c = unsafe { get_mut(m) }?;
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let x = unsafe { slice(x, x_len) }?;
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let y = unsafe { slice(y, n) }?;
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let cfg = unsafe { get(cfg) }?;
        // Checked before training, so that a bad `out` leaves the model untouched.
        if !out.is_null() {
            check_ptr(out)?;
        }
        let tc = train_config(cfg)?;
        let mut model = model::<D, C>(c)?;
        let data = np(Dataset::new(x, y, D))?;
        let s = np(npoa::train::fit(&mut model, &data, &tc))?;
        c.store(&model);
        if !out.is_null() {
            // SAFETY: non-NULL and aligned (checked above); the caller's pointer rules.
            unsafe { put(out, summary(&s)) }?;
        }
        Ok(())
    })
}

/// Predicts `out_len` rows of `x` (`x_len` floats).
///
/// # Safety
/// The crate's pointer rules.
pub(crate) unsafe fn predict<const D: usize, C: CModel<D>>(
    m: *const C,
    x: *const f32,
    x_len: usize,
    out: *mut f32,
    out_len: usize,
) -> npoa_status {
    run(|| {
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let c = unsafe { get(m) }?;
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let x = unsafe { slice(x, x_len) }?;
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let out = unsafe { slice_mut(out, out_len) }?;
        let model = model::<D, C>(c)?;
        if out_len == 0 {
            return Err(npoa_status::NPOA_ERR_EMPTY_BATCH);
        }
        np(model.predict_batch(x, out))
    })
}

/// Encodes a model into `buf`.
///
/// # Safety
/// The crate's pointer rules.
pub(crate) unsafe fn to_bytes<const D: usize, C: CModel<D>>(
    m: *const C,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> npoa_status {
    run(|| {
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let c = unsafe { get(m) }?;
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let buf = unsafe { slice_mut(buf, len) }?;
        let model = model::<D, C>(c)?;
        let n = np(model.to_bytes(buf))?;
        if !written.is_null() {
            // SAFETY: non-NULL; `put` checks alignment; the caller's pointer rules.
            unsafe { put(written, n) }?;
        }
        Ok(())
    })
}

/// Decodes a model from `len` bytes; `m` is written only on success.
///
/// # Safety
/// The crate's pointer rules.
pub(crate) unsafe fn from_bytes<const D: usize, C: CModel<D>>(
    m: *mut C,
    buf: *const u8,
    len: usize,
) -> npoa_status {
    run(|| {
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        check_ptr(m)?;
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let buf = unsafe { slice(buf, len) }?;
        let model = np(LinearModel::<D>::from_bytes(buf))?;
        // SAFETY: the caller's pointer rules; `put` checks NULL and alignment.
        unsafe { put(m, C::from_model(&model)) }
    })
}

/// The learner behind an `npoa_learnerD` handle.
/// It keeps the held-out drift heuristic of `drift_patience` and no statistical detector (no
/// bytes: the default ADWIN's 3 KB would not fit the handles' reserved sizes).
pub(crate) type Learner<const D: usize> =
    OnlineLearner<LinearModel<D>, D, NPOA_WINDOW, NPOA_HOLDOUT, NoDetector>;

/// What a handle's memory holds: a tag, the configuration and starting model (for `reset`),
/// and the learner. `repr(C)`, so the tag is the first word.
#[repr(C)]
pub(crate) struct Slot<const D: usize> {
    magic: u32,
    config: npoa_online_config,
    initial: LinearModel<D>,
    learner: Learner<D>,
}

/// The tag of an initialised `npoa_learnerD`: "NPO" and `D`.
const fn magic<const D: usize>() -> u32 {
    0x4E50_4F00 | (D as u32 & 0xff)
}

/// Bytes a learner's memory needs.
pub(crate) const fn slot_size<const D: usize>() -> usize {
    size_of::<Slot<D>>()
}

/// The alignment a learner's memory needs.
pub(crate) const fn slot_align<const D: usize>() -> usize {
    align_of::<Slot<D>>()
}

/// The learner of a C configuration, starting from `initial`.
fn learner<const D: usize>(c: &npoa_online_config, initial: LinearModel<D>) -> Res<Learner<D>> {
    let sampling = match c.sampling {
        0 => Sampling::Sliding,
        1 => Sampling::Reservoir { seed: c.seed },
        _ => return Err(npoa_status::NPOA_ERR_UNKNOWN_ENUM),
    };
    let config = OnlineConfig {
        batch_size: usize_of(c.batch_size),
        steps_per_call: c.steps_per_call,
        round_steps: c.round_steps,
        holdout_every: c.holdout_every,
        metric_warmup: None,
        optimizer: rule(&c.optimizer)?,
        regularization: Regularization {
            l1: c.l1,
            l2: c.l2,
            ..Regularization::NONE
        },
        drift: (c.drift_patience > 0).then_some(Drift {
            patience: c.drift_patience,
            ..Drift::default()
        }),
        detector: None,
        rls: None,
        standardize: (c.standardize_warmup > 0).then_some(usize_of(c.standardize_warmup)),
    };
    let rate = np(ControllerConfig::constant(c.learning_rate))?;
    np(Learner::<D>::new(initial, rate, config, sampling))
}

/// Builds a learner in the caller's memory `mem` (`len` bytes) and hands back the handle.
///
/// # Safety
/// The crate's pointer rules; `mem` must stay valid, and untouched by the caller, while the
/// handle is used.
pub(crate) unsafe fn init<const D: usize, C: CModel<D>, H>(
    mem: *mut core::ffi::c_void,
    len: usize,
    cfg: *const npoa_online_config,
    initial: *const C,
    out: *mut *mut H,
) -> npoa_status {
    run(|| {
        check_ptr(out)?;
        // SAFETY: as above.
        let cfg = *unsafe { get(cfg) }?;
        let start = if initial.is_null() {
            LinearModel::<D>::zeros()
        } else {
            // SAFETY: non-NULL; the caller's pointer rules; `get` checks alignment.
            model::<D, C>(unsafe { get(initial) }?)?
        };
        let slot = mem.cast::<Slot<D>>();
        check_ptr(slot)?;
        if len < slot_size::<D>() {
            return Err(npoa_status::NPOA_ERR_BUFFER_TOO_SMALL);
        }
        let learner = learner::<D>(&cfg, start)?;
        // SAFETY: `slot` is non-NULL and aligned for `Slot<D>` (checked), the caller's `len`
        // bytes cover it (checked) and are writable and exclusively ours (pointer rules);
        // `write` does not read or drop the old contents.
        unsafe {
            slot.write(Slot {
                magic: magic::<D>(),
                config: cfg,
                initial: start,
                learner,
            });
        }
        // SAFETY: the caller's pointer rules; `put` checks NULL and alignment (done above).
        unsafe { put(out, slot.cast::<H>()) }
    })
}

/// The slot behind a handle, after the NULL, alignment and tag checks.
///
/// # Safety
/// `h` is NULL or a handle from `init` for the same `D` whose memory is still valid (a
/// pointer to other readable memory of at least 4 bytes is refused by the tag check, as far
/// as its first word differs from the tag).
pub(crate) unsafe fn slot<'a, const D: usize, H>(h: *mut H) -> Res<&'a mut Slot<D>> {
    let s = h.cast::<Slot<D>>();
    check_ptr(s)?;
    // SAFETY: non-NULL and aligned (checked); the caller's contract says it points to readable
    // memory holding at least the first word.
    let tag = unsafe { s.cast::<u32>().read() };
    if tag != magic::<D>() {
        return Err(npoa_status::NPOA_ERR_NOT_INITIALIZED);
    }
    // SAFETY: the tag says `init` wrote a `Slot<D>` there; the memory is still valid and not
    // accessed by anyone else during the call (the caller's contract).
    Ok(unsafe { &mut *s })
}

/// Starts a learner again from its configuration and starting model.
///
/// # Safety
/// As [`slot`].
pub(crate) unsafe fn reset<const D: usize, H>(h: *mut H) -> npoa_status {
    run(|| {
        // SAFETY: the caller's contract, as [`slot`].
        let s = unsafe { slot::<D, H>(h) }?;
        s.learner = learner::<D>(&s.config, s.initial)?;
        Ok(())
    })
}

/// Offers a sample (to the held-out window if `holdout`, else as `push` decides).
///
/// # Safety
/// As [`slot`], and the crate's pointer rules for `x`.
pub(crate) unsafe fn push<const D: usize, H>(
    h: *mut H,
    x: *const f32,
    x_len: usize,
    y: f32,
    holdout: bool,
) -> npoa_status {
    run(|| {
        // SAFETY: the caller's contract, as [`slot`] and [`slice`].
        let s = unsafe { slot::<D, H>(h) }?;
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let x = unsafe { slice(x, x_len) }?;
        let x: &[f32; D] = x
            .try_into()
            .map_err(|_| npoa_status::NPOA_ERR_LENGTH_MISMATCH)?;
        if holdout {
            np(s.learner.push_holdout(x, y))
        } else {
            np(s.learner.push(x, y))
        }
    })
}

/// The C report of a step.
fn report<const D: usize>(r: &StepReport, l: &Learner<D>) -> npoa_step_report {
    npoa_step_report {
        updates: r.updates,
        rounds: r.rounds,
        metric: r.metric.unwrap_or(f32::NAN),
        restarted: u32::from(r.restarted),
        stopped: stop_code(r.stopped),
        total_updates: l.updates(),
        total_rounds: l.rounds(),
        rate: l.rate(),
    }
}

/// Runs one call's updates.
///
/// # Safety
/// As [`slot`]; `out` NULL or the crate's pointer rules.
pub(crate) unsafe fn step<const D: usize, H>(h: *mut H, out: *mut npoa_step_report) -> npoa_status {
    run(|| {
        // SAFETY: the caller's contract, as [`slot`].
        let s = unsafe { slot::<D, H>(h) }?;
        // Checked before the step, so that a bad `out` leaves the learner untouched.
        if !out.is_null() {
            check_ptr(out)?;
        }
        let r = np(s.learner.step(&mut |_| {}))?;
        if !out.is_null() {
            // SAFETY: non-NULL and aligned (checked above); the caller's pointer rules.
            unsafe { put(out, report(&r, &s.learner)) }?;
        }
        Ok(())
    })
}

/// Writes the learner's current (or best) model, in raw features, to `out`.
///
/// # Safety
/// As [`slot`], and the crate's pointer rules for `out`.
pub(crate) unsafe fn learner_model<const D: usize, C: CModel<D>, H>(
    h: *mut H,
    out: *mut C,
    best: bool,
) -> npoa_status {
    run(|| {
        // SAFETY: the caller's contract, as [`slot`].
        let s = unsafe { slot::<D, H>(h) }?;
        let m = if best {
            s.learner.best_model()
        } else {
            s.learner.model()
        };
        // SAFETY: the caller's pointer rules; `put` checks NULL and alignment.
        unsafe { put(out, C::from_model(&m)) }
    })
}

/// Predicts one row with the learner's current model.
///
/// # Safety
/// As [`slot`], and the crate's pointer rules for `x` and `out`.
pub(crate) unsafe fn learner_predict<const D: usize, H>(
    h: *mut H,
    x: *const f32,
    x_len: usize,
    out: *mut f32,
) -> npoa_status {
    run(|| {
        // SAFETY: the caller's contract, as [`slot`] and [`slice`].
        let s = unsafe { slot::<D, H>(h) }?;
        // SAFETY: the caller's pointer rules (forwarded); the helper checks NULL, alignment, length.
        let x = unsafe { slice(x, x_len) }?;
        check_ptr(out)?;
        let p = np(s.learner.model().predict(x))?;
        // SAFETY: the caller's pointer rules; `put` checks NULL and alignment.
        unsafe { put(out, p) }
    })
}
