//! The batch run's encodings: the optimizer state, the run state and the whole checkpoint.

use super::codec::{FRAME_LEN, Kind, Reader, Writer, corrupt, finite};
use super::control::CONTROLLER_RAW_LEN;
use crate::control::{Controller, Stop};
use crate::dataset::Dataset;
use crate::model::bytes::encoded_len;
use crate::optim::{OptimState, Rule, owner_code};
use crate::train::{Binding, Cursor, Observer, RunState, Status, Summary, Trainable, Training};
use crate::{Error, LinearClassifier, LinearModel};

mod sealed {
    pub trait Sealed {}
}

/// A fixed-size model a [`Checkpoint`] can carry: [`LinearModel`] and [`LinearClassifier`].
/// Sealed.
pub trait Model: Trainable + sealed::Sealed {
    /// Bytes of the model's own encoding ([`crate::model::bytes`]).
    const LEN: usize;
    /// Parameters: weights and biases.
    const PARAMS: usize;
    #[doc(hidden)]
    fn put_model(&self, out: &mut [u8]) -> Result<usize, Error>;
    #[doc(hidden)]
    fn get_model(bytes: &[u8]) -> Result<Self, Error>;
}

impl<const D: usize> sealed::Sealed for LinearModel<D> {}
impl<const D: usize> Model for LinearModel<D> {
    const LEN: usize = encoded_len(D, 1);
    const PARAMS: usize = D + 1;
    fn put_model(&self, out: &mut [u8]) -> Result<usize, Error> {
        self.to_bytes(out)
    }
    fn get_model(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_bytes(bytes)
    }
}

impl<const D: usize, const K: usize> sealed::Sealed for LinearClassifier<D, K> {}
impl<const D: usize, const K: usize> Model for LinearClassifier<D, K> {
    const LEN: usize = encoded_len(D, K);
    const PARAMS: usize = K * (D + 1);
    fn put_model(&self, out: &mut [u8]) -> Result<usize, Error> {
        self.to_bytes(out)
    }
    fn get_model(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_bytes(bytes)
    }
}

/// Steps (8) and the rule's tag (8), then the buffers.
const OPTIM_HEAD: usize = 16;

/// Bytes of an optimizer state of `params` parameters and `bufs` buffers, inside a larger
/// state (no frame): `16 + 4·bufs·params`.
pub const fn optim_raw_len(params: usize, bufs: usize) -> usize {
    OPTIM_HEAD + 4 * bufs * params
}

pub(crate) fn put_optim<M: Model, const BUFS: usize>(
    w: &mut Writer<'_>,
    s: &OptimState<M, BUFS>,
) -> Result<(), Error> {
    w.u64(s.t);
    w.u64(s.owner);
    for b in &s.bufs {
        let (bw, bb) = M::grad_parts_ref(b);
        if bw.len() + bb.len() != M::PARAMS {
            return Err(corrupt("optimizer buffer of an unexpected size"));
        }
        for v in bw.iter().chain(bb) {
            w.f32(*v);
        }
    }
    Ok(())
}

/// The most steps a decoded state may count (2⁶²: far beyond any run, and room for every
/// counter that adds to it).
pub(crate) const MAX_STEPS: u64 = 1 << 62;

/// The rule tags an optimizer state may carry (0: never stepped).
fn known_owner(owner: u64) -> bool {
    owner == 0 || Rule::EXAMPLES.iter().any(|r| owner_code(*r) == owner)
}

pub(crate) fn get_optim<M: Model, const BUFS: usize>(
    r: &mut Reader<'_>,
) -> Result<OptimState<M, BUFS>, Error> {
    let mut s = OptimState::<M, BUFS>::new();
    s.t = r.u64();
    if s.t > MAX_STEPS {
        return Err(corrupt("optimizer step count out of range"));
    }
    s.owner = r.u64();
    if !known_owner(s.owner) {
        return Err(corrupt("optimizer state of an unknown rule"));
    }
    for b in &mut s.bufs {
        let (bw, bb) = M::grad_parts(b);
        if bw.len() + bb.len() != M::PARAMS {
            return Err(corrupt("optimizer buffer of an unexpected size"));
        }
        for v in bw.iter_mut().chain(bb.iter_mut()) {
            *v = finite(r.f32(), "optimizer state value is not finite")?;
        }
    }
    let owner = s.owner;
    check_accumulators(&mut s, owner)?;
    Ok(s)
}

/// The sums of squares a rule keeps cannot be negative (a square root of them is taken every
/// step): Adam's and AdamW's `v` and FTRL's `n` (the second buffer), AdaGrad's `G` (the first).
/// `owner` is the rule's tag ([`owner_code`]); other rules' buffers may hold any finite value.
pub(crate) fn check_accumulators<M: Model, const BUFS: usize>(
    s: &mut OptimState<M, BUFS>,
    owner: u64,
) -> Result<(), Error> {
    let tag = |r: Rule| owner_code(r);
    let ftrl = Rule::Ftrl {
        beta: 1.0,
        l1: 0.0,
        l2: 0.0,
    };
    let index = if owner == tag(Rule::ADAM) || owner == tag(ftrl) {
        1
    } else if owner == tag(Rule::ADAGRAD) {
        0
    } else {
        return Ok(());
    };
    if let Some(b) = s.bufs.get_mut(index) {
        let (bw, bb) = M::grad_parts(b);
        if bw.iter().chain(bb.iter()).any(|v| *v < 0.0) {
            return Err(corrupt(
                "a sum of squares in the optimizer state is negative",
            ));
        }
    }
    Ok(())
}

impl<M: Model, const BUFS: usize> OptimState<M, BUFS> {
    /// Bytes of [`encode`](Self::encode)'s output: `12 + 16 + 4·BUFS·params` (100 for a
    /// `LinearModel<8>` with 2 buffers, Adam's).
    pub const ENCODED_LEN: usize = FRAME_LEN + optim_raw_len(M::PARAMS, BUFS);

    /// Writes the state (steps, the rule's tag, every buffer) into `out[..ENCODED_LEN]`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `out` is shorter.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::frame(out, Self::ENCODED_LEN, Kind::OptimState)?;
        put_optim(&mut w, self)?;
        w.finish()
    }

    /// Reads what [`encode`](Self::encode) wrote.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], or [`Error::InvalidBytes`] naming the problem (frame,
    /// checksum, an unknown rule tag, a non-finite value).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::frame(bytes, Self::ENCODED_LEN, Kind::OptimState)?;
        get_optim(&mut r)
    }
}

/// The run state's fixed part: status (1), binding (33), epochs (4), open (1), batch (8),
/// partial sum (8), key (8), rate (4), generator (32), summary (29), lowest loss (4),
/// certificate cells (4 + 8 + 4 + 4).
pub const RUN_HEAD_LEN: usize = 1 + 33 + 4 + 1 + 8 + 8 + 8 + 4 + 32 + 29 + 4 + 20;

/// Bytes of a run state inside a larger state (no frame): the fixed part, then the best
/// copy (presence, model, optimizer state).
pub const fn run_raw_len(model_len: usize, optim_len: usize) -> usize {
    RUN_HEAD_LEN + 1 + model_len + optim_len
}

fn stop_of(v: u8) -> Result<Stop, Error> {
    Stop::from_code(v).ok_or_else(|| corrupt("unknown stop reason"))
}

/// The fixed part of a cursor (any snapshot type).
pub(crate) fn put_head<S>(w: &mut Writer<'_>, c: &Cursor<S>) {
    w.u8(match c.status {
        Status::Fresh => 0,
        Status::Running => 1,
        Status::Ended => 2,
        Status::Failed => 3,
    });
    let b = &c.bind;
    w.u64(b.n);
    w.u32(b.d);
    w.u32(b.data_crc);
    w.u64(b.val_n);
    w.u32(b.val_crc);
    w.u32(b.config_crc);
    w.bool(b.controlled);
    w.u32(c.epochs);
    w.bool(c.open);
    w.u64(c.batch);
    w.f64(c.partial);
    w.u64(c.key);
    w.f32(c.lr);
    w.bytes(&c.rng);
    let o = &c.out;
    w.u32(o.epochs);
    w.u64(o.steps);
    w.f32(o.final_loss);
    w.f32(o.best_metric);
    w.u8(o.stop.code());
    w.u32(o.rollbacks);
    w.f32(o.certificate);
    w.f32(c.lowest_loss);
    w.f32(c.h);
    w.f64(c.start);
    w.u32(c.passes);
    w.f32(c.last);
}

/// Reads the fixed part of a cursor and checks it (the best copy is read by the caller).
/// A fresh cursor must be exactly [`Cursor::new`]'s.
pub(crate) fn get_head<S>(r: &mut Reader<'_>) -> Result<Cursor<S>, Error> {
    let mut c = Cursor::new();
    c.status = match r.u8() {
        0 => Status::Fresh,
        1 => Status::Running,
        2 => Status::Ended,
        3 => Status::Failed,
        _ => return Err(corrupt("unknown run status")),
    };
    let fresh = c.status == Status::Fresh;
    c.bind = Binding {
        n: r.u64(),
        d: r.u32(),
        data_crc: r.u32(),
        val_n: r.u64(),
        val_crc: r.u32(),
        config_crc: r.u32(),
        controlled: r.bool("controlled flag is not 0 or 1")?,
    };
    c.epochs = r.u32();
    c.open = r.bool("open flag is not 0 or 1")?;
    c.batch = r.u64();
    c.partial = r.f64();
    c.key = r.u64();
    c.lr = r.f32();
    c.rng = r.take();
    c.out = Summary {
        epochs: r.u32(),
        steps: r.u64(),
        final_loss: r.f32(),
        best_metric: r.f32(),
        stop: stop_of(r.u8())?,
        rollbacks: r.u32(),
        certificate: r.f32(),
    };
    c.lowest_loss = r.f32();
    c.h = r.f32();
    c.start = r.f64();
    c.passes = r.u32();
    c.last = r.f32();
    if fresh {
        // Nothing ran: every field must be a fresh cursor's (NaN sentinels included, by bits).
        let new = Cursor::<S>::new();
        let same = c.bind == new.bind
            && (c.epochs, c.open, c.batch, c.key, c.passes) == (0, false, 0, 0, 0)
            && c.partial.to_bits() == new.partial.to_bits()
            && c.lr.to_bits() == new.lr.to_bits()
            && c.rng == new.rng
            && summary_bits(&c.out) == summary_bits(&new.out)
            && c.lowest_loss.to_bits() == new.lowest_loss.to_bits()
            && c.h.to_bits() == new.h.to_bits()
            && c.start.to_bits() == new.start.to_bits()
            && c.last.to_bits() == new.last.to_bits();
        return if same {
            Ok(c)
        } else {
            Err(corrupt("a fresh run state with fields that are not fresh"))
        };
    }
    let bad = |reason| Err(corrupt(reason));
    if c.bind.n == 0 || c.bind.d == 0 {
        return bad("run bound to empty data");
    }
    if c.out.epochs != c.epochs {
        return bad("summary epochs differ from the epochs done");
    }
    if c.batch > c.bind.n {
        return bad("batches done beyond the data's rows");
    }
    let most = u64::from(c.epochs)
        .saturating_add(1)
        .saturating_mul(c.bind.n);
    if c.out.steps > most.min(MAX_STEPS) {
        return bad("more steps than the epochs done allow");
    }
    if !c.partial.is_finite() {
        return bad("epoch loss sum is not finite");
    }
    if !(c.lr.is_finite() && c.lr >= 0.0 && c.h.is_finite() && c.h >= 0.0) {
        return bad("learning rate is not finite and >= 0");
    }
    if c.rng == [0; 32] {
        return bad("shuffling generator state is all zero");
    }
    if !(c.out.final_loss.is_finite() || c.out.final_loss.is_nan()) {
        return bad("final loss is infinite");
    }
    if c.out.best_metric.is_nan() || c.lowest_loss.is_nan() {
        return bad("best metric is NaN");
    }
    if !(c.start.is_nan() || (c.start.is_finite() && c.start >= 0.0)) {
        return bad("certificate start is neither NaN nor finite and >= 0");
    }
    if c.status == Status::Running && c.out.stop != Stop::MaxEpochs {
        return bad("a running run with a stop reason");
    }
    Ok(c)
}

fn summary_bits(s: &Summary) -> (u32, u64, u32, u32, Stop, u32, u32) {
    (
        s.epochs,
        s.steps,
        s.final_loss.to_bits(),
        s.best_metric.to_bits(),
        s.stop,
        s.rollbacks,
        s.certificate.to_bits(),
    )
}

pub(crate) fn put_run<M: Model, const BUFS: usize>(
    w: &mut Writer<'_>,
    s: &RunState<M, BUFS>,
) -> Result<(), Error> {
    put_head(w, &s.cursor);
    match &s.cursor.best {
        Some((m, st)) => {
            w.u8(1);
            m.put_model(w.slot(M::LEN))?;
            put_optim(w, st)?;
        }
        None => w.zeros(1 + M::LEN + optim_raw_len(M::PARAMS, BUFS)),
    }
    Ok(())
}

pub(crate) fn get_run<M: Model, const BUFS: usize>(
    r: &mut Reader<'_>,
) -> Result<RunState<M, BUFS>, Error> {
    let mut cursor = get_head(r)?;
    let has_best = r.bool("best copy presence is not 0 or 1")?;
    if has_best {
        let m = M::get_model(r.slice(M::LEN))?;
        let st = get_optim::<M, BUFS>(r)?;
        cursor.best = Some((m, st));
    } else {
        r.zeros(
            M::LEN + optim_raw_len(M::PARAMS, BUFS),
            "absent best copy is not zero",
        )?;
    }
    let started = cursor.status != Status::Fresh;
    if started && has_best != cursor.bind.controlled {
        return Err(corrupt(
            "best copy present without a controller, or the reverse",
        ));
    }
    if !started && has_best {
        return Err(corrupt("a fresh run state with a best copy"));
    }
    Ok(RunState { cursor })
}

impl<M: Model, const BUFS: usize> RunState<M, BUFS> {
    /// Bytes of [`encode`](Self::encode)'s output: `12 + RUN_HEAD_LEN + 1 + M::LEN +
    /// 16 + 4·BUFS·params` (see [`crate::state`]).
    pub const ENCODED_LEN: usize = FRAME_LEN + run_raw_len(M::LEN, optim_raw_len(M::PARAMS, BUFS));

    /// Writes the run state into `out[..ENCODED_LEN]`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `out` is shorter.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::frame(out, Self::ENCODED_LEN, Kind::RunState)?;
        put_run(&mut w, self)?;
        w.finish()
    }

    /// Reads what [`encode`](Self::encode) wrote. The data it is bound to is checked (by its
    /// CRC-32) at the first [`Training::fit_resumable`] call.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], or [`Error::InvalidBytes`] naming the problem.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::frame(bytes, Self::ENCODED_LEN, Kind::RunState)?;
        get_run(&mut r)
    }
}

/// A whole batch run as one value: the model, its optimizer state, the controller (if the
/// run has one) and the [`RunState`]. [`encode`](Self::encode) writes it as
/// [`LEN`](Self::LEN) bytes; [`decode`](Self::decode) reads it back, validated, and
/// [`fit`](Self::fit) continues it. See [`crate::state`] for the layout and the sizes.
///
/// ```
/// use npoa::LinearModel;
/// use npoa::control::{Controller, ControllerConfig};
/// use npoa::optim::Rule;
/// use npoa::state::Checkpoint;
/// use npoa::train::{Dataset, Stop, TrainConfig, Training};
///
/// let x = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
/// let y = [1.0f32, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0];
/// let data = Dataset::new(&x, &y, 1)?;
/// let config = TrainConfig { epochs: 200, batch_size: 2, optimizer: Rule::ADAM, ..TrainConfig::default() };
/// let controller = Controller::new(ControllerConfig::constant(0.05)?)?;
/// let mut ck = Checkpoint::<_, 2>::new(LinearModel::<1>::zeros(), Some(controller));
/// let mut flash = [0u8; Checkpoint::<LinearModel<1>, 2>::LEN];
/// loop {
///     // Train 100 steps, save to "flash", power off, read back.
///     let s = ck.fit(Training::new(&config).pause_after(100), &data)?;
///     ck.encode(&mut flash)?;
///     ck = Checkpoint::decode(&flash)?;
///     if s.stop != Stop::Paused { break; }
/// }
/// assert!((ck.model.weights()[0] - 2.0).abs() < 0.1);
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint<M: Model, const BUFS: usize = 2> {
    /// The model (the current weights while the run is paused).
    pub model: M,
    /// Its optimizer state.
    pub optim: OptimState<M, BUFS>,
    /// The strategy controller, if the run has one.
    pub controller: Option<Controller>,
    /// Where the run stands.
    pub run: RunState<M, BUFS>,
}

impl<M: Model, const BUFS: usize> Checkpoint<M, BUFS> {
    /// Bytes of the encoding: `12 + M::LEN + (16 + 4·BUFS·P) + (1 + 247) + (RUN_HEAD_LEN + 1 +
    /// M::LEN + 16 + 4·BUFS·P)` for `P` parameters (see [`crate::state`]).
    pub const LEN: usize = FRAME_LEN
        + M::LEN
        + optim_raw_len(M::PARAMS, BUFS)
        + 1
        + CONTROLLER_RAW_LEN
        + run_raw_len(M::LEN, optim_raw_len(M::PARAMS, BUFS));

    /// A run that has not started: `model`, a fresh optimizer state, `controller`.
    pub fn new(model: M, controller: Option<Controller>) -> Self {
        Self {
            model,
            optim: OptimState::new(),
            controller,
            run: RunState::new(),
        }
    }

    /// Runs (or continues) `training` on `data` under the checkpoint's controller, with
    /// [`Training::fit_resumable`]: set a budget with [`Training::pause_after`].
    ///
    /// # Errors
    /// As [`Training::fit_resumable`]; [`Error::InvalidParameter`] if `training` has a
    /// controller of its own.
    pub fn fit<O: Observer>(
        &mut self,
        training: Training<'_, O>,
        data: &Dataset<'_>,
    ) -> Result<Summary, Error> {
        training
            .with_own_controller(self.controller.as_mut())?
            .fit_resumable(&mut self.model, &mut self.optim, &mut self.run, data)
    }

    /// Writes the checkpoint into `out[..LEN]`; returns [`LEN`](Self::LEN).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `out` is shorter.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::frame(out, Self::LEN, Kind::Checkpoint)?;
        self.model.put_model(w.slot(M::LEN))?;
        put_optim(&mut w, &self.optim)?;
        match &self.controller {
            Some(c) => {
                w.u8(1);
                super::control::put(&mut w, c);
            }
            None => w.zeros(1 + CONTROLLER_RAW_LEN),
        }
        put_run(&mut w, &self.run)?;
        w.finish()
    }

    /// Reads what [`encode`](Self::encode) wrote, validated: every value finite where
    /// training needs it, counters in range, the controller's settings valid (as
    /// [`Controller::new`] checks them), its presence consistent with the run's.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], [`Error::InvalidBytes`] naming the problem, or the
    /// [`Error::InvalidParameter`] of a setting out of range.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::frame(bytes, Self::LEN, Kind::Checkpoint)?;
        let model = M::get_model(r.slice(M::LEN))?;
        let optim = get_optim(&mut r)?;
        let controller = if r.bool("controller presence is not 0 or 1")? {
            Some(super::control::get(&mut r)?)
        } else {
            r.zeros(CONTROLLER_RAW_LEN, "absent controller is not zero")?;
            None
        };
        let run = get_run::<M, BUFS>(&mut r)?;
        if run.cursor.status != Status::Fresh && run.cursor.bind.controlled != controller.is_some()
        {
            return Err(corrupt("controller presence differs from the run's"));
        }
        Ok(Self {
            model,
            optim,
            controller,
            run,
        })
    }
}
