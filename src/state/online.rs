//! The online learner's encoding: model, optimizer state, best copy, controller,
//! configuration, both windows with their reservoir generators, the progress counters and
//! the drift state, the standardiser and its frozen flag.

use super::batch::{MAX_STEPS, Model, check_accumulators, get_optim, optim_raw_len, put_optim};
use super::codec::{FRAME_LEN, Kind, Reader, Writer, corrupt, finite};
use super::control::CONTROLLER_RAW_LEN;
use super::slots::sealed::SlotCodec;
use crate::Error;
use crate::control::Stop;
use crate::online::{DetectorSlot, Drift, OnlineConfig, OnlineLearner, Sampling, Solver, Window};
use crate::optim::RlsConfig;
use crate::optim::{Regularization, Rule};
use crate::scale::Scaler;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

/// The configuration: batch size (8), steps per call (4), round steps (4), holdout_every
/// (4), metric warm-up (9), the rule (17: tag, 8 + 4 + 4), the penalty (18), drift (13),
/// standardize (9).
pub const ONLINE_CONFIG_LEN: usize = 8 + 4 + 4 + 4 + 9 + 17 + 18 + 13 + 9;
/// The progress counters and the drift state.
pub const PROGRESS_LEN: usize =
    4 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 1 + 1 + 4 + 4 + 4 + 4 + 4 + 9 + 9 + 4 + 4 + 4;

/// Bytes of a window of `n` samples of `d` features: the rows and targets (`4·n·(d + 1)`),
/// `len`, `next`, `seen` (24), the reservoir generator (presence and 32 bytes).
pub const fn window_len(n: usize, d: usize) -> usize {
    4 * n * (d + 1) + 24 + 33
}

/// Bytes of a standardiser of `d` features: the count, shift, mean and `M2` per feature,
/// and the target's three.
pub const fn scaler_len(d: usize) -> usize {
    8 + 24 * d + 24
}

fn put_rule(w: &mut Writer<'_>, r: Rule) {
    let (tag, a, b, c): (u8, u64, u32, u32) = match r {
        Rule::Sgd => (0, 0, 0, 0),
        Rule::Momentum {
            momentum,
            dampening,
            nesterov,
        } => (
            1,
            u64::from(momentum.to_bits()),
            dampening.to_bits(),
            u32::from(nesterov),
        ),
        Rule::Adam { beta1, beta2, eps } => (
            2,
            u64::from(beta1.to_bits()),
            beta2.to_bits(),
            eps.to_bits(),
        ),
        Rule::AdamW { beta1, beta2, eps } => (
            3,
            u64::from(beta1.to_bits()),
            beta2.to_bits(),
            eps.to_bits(),
        ),
        Rule::Averaged { start } => (4, start, 0, 0),
        Rule::Ftrl { beta, l1, l2 } => (5, u64::from(beta.to_bits()), l1.to_bits(), l2.to_bits()),
        Rule::AdaGrad { eps } => (6, u64::from(eps.to_bits()), 0, 0),
        Rule::Nlms { eps } => (7, u64::from(eps.to_bits()), 0, 0),
    };
    w.u8(tag);
    w.u64(a);
    w.u32(b);
    w.u32(c);
}

fn get_rule(r: &mut Reader<'_>) -> Result<Rule, Error> {
    let (tag, a, b, c) = (r.u8(), r.u64(), r.u32(), r.u32());
    let f = |v: u32| f32::from_bits(v);
    // A float rule's first field fits 32 bits (the high ones are checked below).
    let a32 = a as u32;
    let rule = match tag {
        0 => Rule::Sgd,
        1 => Rule::Momentum {
            momentum: f(a32),
            dampening: f(b),
            nesterov: match c {
                0 => false,
                1 => true,
                _ => return Err(corrupt("nesterov flag is not 0 or 1")),
            },
        },
        2 => Rule::Adam {
            beta1: f(a32),
            beta2: f(b),
            eps: f(c),
        },
        3 => Rule::AdamW {
            beta1: f(a32),
            beta2: f(b),
            eps: f(c),
        },
        4 => Rule::Averaged { start: a },
        5 => Rule::Ftrl {
            beta: f(a32),
            l1: f(b),
            l2: f(c),
        },
        6 => Rule::AdaGrad { eps: f(a32) },
        7 => Rule::Nlms { eps: f(a32) },
        _ => return Err(corrupt("unknown update rule")),
    };
    let unused = match rule {
        Rule::Sgd => a != 0 || b != 0 || c != 0,
        Rule::Averaged { .. } | Rule::AdaGrad { .. } | Rule::Nlms { .. } => b != 0 || c != 0,
        _ => false,
    };
    if unused || (tag != 4 && a > u64::from(u32::MAX)) {
        return Err(corrupt("unused rule fields are not zero"));
    }
    Ok(rule)
}

fn put_config(w: &mut Writer<'_>, c: &OnlineConfig) {
    w.u64(c.batch_size as u64);
    w.u32(c.steps_per_call);
    w.u32(c.round_steps);
    w.u32(c.holdout_every);
    w.bool(c.metric_warmup.is_some());
    w.u64(c.metric_warmup.unwrap_or(0) as u64);
    put_rule(w, c.optimizer);
    let r = &c.regularization;
    w.f32(r.l1);
    w.f32(r.l2);
    w.bool(r.bias);
    w.bool(r.bounds.is_some());
    let (lo, hi) = r.bounds.unwrap_or((0.0, 0.0));
    w.f32(lo);
    w.f32(hi);
    w.bool(c.drift.is_some());
    let d = c.drift.unwrap_or(Drift {
        factor: 0.0,
        floor: 0.0,
        patience: 0,
    });
    w.f32(d.factor);
    w.f32(d.floor);
    w.u32(d.patience);
    w.bool(c.standardize.is_some());
    w.u64(c.standardize.unwrap_or(0) as u64);
}

fn usize_of(v: u64) -> Result<usize, Error> {
    usize::try_from(v).map_err(|_| corrupt("size out of range for this target"))
}

fn opt_usize(r: &mut Reader<'_>, what: &'static str) -> Result<Option<usize>, Error> {
    let some = r.bool(what)?;
    let v = r.u64();
    match (some, v) {
        (true, v) => Ok(Some(usize_of(v)?)),
        (false, 0) => Ok(None),
        (false, _) => Err(corrupt(what)),
    }
}

fn get_config(r: &mut Reader<'_>) -> Result<OnlineConfig, Error> {
    let batch_size = usize_of(r.u64())?;
    let (steps_per_call, round_steps, holdout_every) = (r.u32(), r.u32(), r.u32());
    let metric_warmup = opt_usize(r, "metric_warmup presence")?;
    let optimizer = get_rule(r)?;
    let (l1, l2) = (r.f32(), r.f32());
    let bias = r.bool("regularization.bias is not 0 or 1")?;
    let has_bounds = r.bool("bounds presence is not 0 or 1")?;
    let (lo, hi) = (r.f32(), r.f32());
    if !has_bounds && (lo.to_bits() != 0 || hi.to_bits() != 0) {
        return Err(corrupt("absent bounds are not zero"));
    }
    let has_drift = r.bool("drift presence is not 0 or 1")?;
    let drift = Drift {
        factor: r.f32(),
        floor: r.f32(),
        patience: r.u32(),
    };
    if !has_drift
        && (
            drift.factor.to_bits(),
            drift.floor.to_bits(),
            drift.patience,
        ) != (0, 0, 0)
    {
        return Err(corrupt("absent drift is not zero"));
    }
    let standardize = opt_usize(r, "standardize presence")?;
    let c = OnlineConfig {
        batch_size,
        steps_per_call,
        round_steps,
        holdout_every,
        metric_warmup,
        optimizer,
        regularization: Regularization {
            l1,
            l2,
            bias,
            bounds: has_bounds.then_some((lo, hi)),
        },
        drift: has_drift.then_some(drift),
        detector: None,
        rls: None,
        standardize,
    };
    c.validate()?;
    Ok(c)
}

fn put_window<const N: usize, const D: usize>(w: &mut Writer<'_>, win: &Window<N, D>) {
    for row in &win.x {
        for v in row {
            w.f32(*v);
        }
    }
    for v in &win.y {
        w.f32(*v);
    }
    w.u64(win.len as u64);
    w.u64(win.next as u64);
    w.u64(win.seen);
    match &win.rng {
        Some(g) => {
            w.u8(1);
            w.bytes(&g.state());
        }
        None => w.zeros(33),
    }
}

fn get_window<const N: usize, const D: usize>(
    r: &mut Reader<'_>,
    win: &mut Window<N, D>,
) -> Result<(), Error> {
    for row in &mut win.x {
        for v in row {
            *v = finite(r.f32(), "window sample is not finite")?;
        }
    }
    for v in &mut win.y {
        *v = finite(r.f32(), "window target is not finite")?;
    }
    let (len, next, seen) = (r.u64(), r.u64(), r.u64());
    let reservoir = r.bool("reservoir presence is not 0 or 1")?;
    let state: [u8; 32] = r.take();
    if len > N as u64 || seen < len || seen > MAX_STEPS {
        return Err(corrupt("window counters out of range"));
    }
    let (len, next) = (usize_of(len)?, usize_of(next)?);
    // Sliding: the next slot follows the filled ones; a reservoir never uses it.
    let next_ok = if reservoir {
        next == 0
    } else if len < N {
        next == len
    } else {
        next < N
    };
    if !next_ok {
        return Err(corrupt("window's next slot is inconsistent"));
    }
    if reservoir && (len < N && seen != len as u64) {
        return Err(corrupt(
            "a reservoir that is not full has seen more than it holds",
        ));
    }
    win.rng = if reservoir {
        if state == [0; 32] {
            return Err(corrupt("reservoir generator state is all zero"));
        }
        Some(Xoshiro256PlusPlus::from_seed(state))
    } else {
        if state != [0; 32] {
            return Err(corrupt("absent reservoir generator is not zero"));
        }
        None
    };
    (win.len, win.next, win.seen) = (len, next, seen);
    Ok(())
}

impl<const D: usize> Scaler<D> {
    /// Bytes of [`encode`](Self::encode)'s output: `12 + 32 + 24·D` (236 for `D = 8`): the
    /// count, then per feature the shift, mean and `M2` (`f64`), and the target's three.
    pub const ENCODED_LEN: usize = FRAME_LEN + scaler_len(D);

    /// Writes the standardiser into `out[..ENCODED_LEN]`: what a batch run on standardised
    /// data keeps beside its [`Checkpoint`](super::Checkpoint), to fold the model back to raw
    /// units after a resume ([`LinearModel::unstandardize`](crate::LinearModel::unstandardize)).
    ///
    /// ```
    /// use npoa::scale::Scaler;
    /// use npoa::train::Dataset;
    /// let (x, y) = ([1.0f32, 10.0, 2.0, 20.0, 4.0, 30.0], [1.0f32, 2.0, 3.0]);
    /// let s = Scaler::<2>::fit(&Dataset::new(&x, &y, 2)?)?;
    /// let mut buf = [0u8; Scaler::<2>::ENCODED_LEN];
    /// s.encode(&mut buf)?;
    /// assert_eq!(Scaler::<2>::decode(&buf)?, s);
    /// # Ok::<(), npoa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `out` is shorter.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::frame(out, Self::ENCODED_LEN, Kind::Scaler)?;
        put_scaler(&mut w, self);
        w.finish()
    }

    /// Reads what [`encode`](Self::encode) wrote.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], or [`Error::InvalidBytes`] naming the problem (frame,
    /// checksum, a count out of range, a non-finite value, a negative `M2`).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::frame(bytes, Self::ENCODED_LEN, Kind::Scaler)?;
        get_scaler(&mut r)
    }
}

fn put_scaler<const D: usize>(w: &mut Writer<'_>, s: &Scaler<D>) {
    w.u64(s.count);
    for v in s.shift.iter().chain(&s.mean).chain(&s.m2).chain(&s.y) {
        w.f64(*v);
    }
}

fn get_scaler<const D: usize>(r: &mut Reader<'_>) -> Result<Scaler<D>, Error> {
    let mut s = Scaler::<D>::new();
    s.count = r.u64();
    if s.count > MAX_STEPS {
        return Err(corrupt("standardiser count out of range"));
    }
    for v in s
        .shift
        .iter_mut()
        .chain(s.mean.iter_mut())
        .chain(s.m2.iter_mut())
        .chain(s.y.iter_mut())
    {
        let x = r.f64();
        if !x.is_finite() {
            return Err(corrupt("standardiser value is not finite"));
        }
        *v = x;
    }
    if s.m2.iter().any(|v| *v < 0.0) || s.y[2] < 0.0 {
        return Err(corrupt("standardiser M2 is negative"));
    }
    Ok(s)
}

/// `0` for none, else the stop's [`code`](Stop::code) + 1.
fn stop_slot(s: Option<Stop>) -> u8 {
    s.map_or(0, |s| s.code() + 1)
}

fn stop_of_slot(v: u8) -> Result<Option<Stop>, Error> {
    Ok(match v {
        0 => None,
        // The controller's stops only: the learner never sees the loop's.
        3 => Some(Stop::EarlyStop),
        4 => Some(Stop::Target),
        5 => Some(Stop::Converged),
        7 => Some(Stop::Diverged),
        _ => return Err(corrupt("unknown or impossible stop of an online learner")),
    })
}

impl<
    M: Model,
    const D: usize,
    const N: usize,
    const V: usize,
    W: DetectorSlot + SlotCodec,
    S: Solver<D> + SlotCodec,
> OnlineLearner<M, D, N, V, W, S>
{
    /// Bytes of [`encode`](Self::encode)'s output: `12 + 2·(M::LEN + 16 + 8·P) + 247 + 86 +
    /// (4·N·(D+1) + 57) + (4·V·(D+1) + 57) + 104 + (32 + 24·D) + 1 + (1 + W + 17 + 1 + S)` for
    /// `P` parameters and slots of `W` and `S` bytes; 6959 for the default
    /// `OnlineLearner<LinearModel<8>, 8, 64, 16>` (ADWIN's slot is 2976 bytes; see
    /// [`crate::state`]).
    pub const ENCODED_LEN: usize = FRAME_LEN
        + 2 * (M::LEN + optim_raw_len(M::PARAMS, 2))
        + CONTROLLER_RAW_LEN
        + ONLINE_CONFIG_LEN
        + window_len(N, D)
        + window_len(V, D)
        + PROGRESS_LEN
        + scaler_len(D)
        + 1
        + 1
        + W::RAW_LEN
        + 17
        + 1
        + S::RAW_LEN;

    /// Writes the whole learner into `out[..ENCODED_LEN]`: a learner decoded from it
    /// continues exactly as this one would.
    ///
    /// ```
    /// use npoa::LinearModel;
    /// use npoa::control::ControllerConfig;
    /// use npoa::online::{OnlineConfig, OnlineLearner, Sampling};
    /// type L = OnlineLearner<LinearModel<1>, 1, 16, 4>;
    /// let mut a = L::new(LinearModel::zeros(), ControllerConfig::constant(0.05)?,
    ///     OnlineConfig { standardize: None, ..OnlineConfig::default() }, Sampling::Reservoir { seed: 3 })?;
    /// for i in 0..40 {
    ///     a.push(&[i as f32 / 10.0], 2.0 * i as f32 / 10.0)?;
    ///     a.step(&mut |_| {})?;
    /// }
    /// let mut buf = [0u8; L::ENCODED_LEN];
    /// a.encode(&mut buf)?;
    /// let mut b = L::decode(&buf)?;
    /// a.step(&mut |_| {})?;
    /// b.step(&mut |_| {})?;
    /// assert_eq!(a.model().weights()[0].to_bits(), b.model().weights()[0].to_bits());
    /// # Ok::<(), npoa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `out` is shorter.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::frame(out, Self::ENCODED_LEN, Kind::Online)?;
        self.model.put_model(w.slot(M::LEN))?;
        put_optim(&mut w, &self.state)?;
        self.best.0.put_model(w.slot(M::LEN))?;
        put_optim(&mut w, &self.best.1)?;
        super::control::put(&mut w, &self.controller);
        put_config(&mut w, &self.config);
        put_window(&mut w, &self.train);
        put_window(&mut w, &self.holdout);
        let p = &self.progress;
        w.u32(p.round);
        w.u32(p.in_round);
        w.f32(p.lr);
        w.f64(p.loss_sum);
        w.u64(p.samples);
        w.u64(p.updates);
        w.u64(p.cursor as u64);
        w.u64(p.pushed);
        w.bool(p.started);
        w.u8(stop_slot(p.stopped));
        w.u32(p.bad);
        w.f32(p.level);
        w.f32(p.peak);
        w.u32(p.restarts);
        w.f32(p.guard_level);
        let watch = &p.watch;
        for v in [watch.since, watch.confirmed] {
            w.bool(v.is_some());
            let [a, b] = v.unwrap_or_default();
            w.u32(a);
            w.u32(b);
        }
        w.f32(watch.last);
        w.f32(watch.level);
        w.u32(watch.seen);
        put_scaler(&mut w, &self.scaler);
        w.bool(self.frozen);
        w.bool(self.detector.is_some());
        match &self.detector {
            Some(d) => d.put(&mut w),
            None => w.zeros(W::RAW_LEN),
        }
        w.bool(self.config.rls.is_some());
        let rls = self.config.rls.unwrap_or(RlsConfig {
            forgetting: 0.0,
            delta: 0.0,
        });
        w.f64(rls.forgetting);
        w.f64(rls.delta);
        w.bool(self.rls.is_some());
        match &self.rls {
            Some(r) => r.put(&mut w),
            None => w.zeros(S::RAW_LEN),
        }
        w.finish()
    }

    /// Reads what [`encode`](Self::encode) wrote, validated: the configuration and the
    /// controller as their constructors check them, every value finite where the learner
    /// needs it, the windows within capacity and their counters consistent, the counters in
    /// range.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], [`Error::InvalidBytes`] naming the problem, or the
    /// [`Error::InvalidParameter`] of a setting out of range.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::frame(bytes, Self::ENCODED_LEN, Kind::Online)?;
        let model = M::get_model(r.slice(M::LEN))?;
        let state = get_optim::<M, 2>(&mut r)?;
        let best = M::get_model(r.slice(M::LEN))?;
        let best_state = get_optim::<M, 2>(&mut r)?;
        if model.objective() != best.objective() {
            return Err(corrupt("the best copy has another loss than the model"));
        }
        let controller = super::control::get(&mut r)?;
        let mut config = get_config(&mut r)?;
        // The detector and the RLS state sit at the end; their configurations complete the
        // learner's, so they are read first, from a second reader over the same frame.
        let (detector, rls_config, rls) = tail::<W, S, D>(bytes, Self::ENCODED_LEN)?;
        config.detector = detector.as_ref().map(W::detector_config);
        config.rls = rls_config;
        // The learner does not tag its state with the rule: its configuration names it.
        let (mut state, mut best_state) = (state, best_state);
        let rule = crate::optim::owner_code(config.optimizer);
        check_accumulators(&mut state, rule)?;
        check_accumulators(&mut best_state, rule)?;
        // Built as `new` builds it (which checks the model against D), then filled in.
        let mut l = Self::new(
            model,
            *controller.config(),
            config,
            Sampling::Reservoir { seed: 1 },
        )?;
        (l.state, l.best, l.controller) = (state, (best, best_state), controller);
        match (l.rls.is_some(), rls) {
            (true, Some(s)) => l.rls = Some(s),
            (false, None) => {}
            _ => {
                return Err(corrupt(
                    "RLS state without its configuration, or the reverse",
                ));
            }
        }
        if let (Some(c), Some(mut s)) = (rls_config, l.rls)
            && s.rls().is_none_or(|r| r.config() != c)
        {
            return Err(corrupt(
                "the RLS state's configuration is not the learner's",
            ));
        }
        l.detector = detector;
        get_window(&mut r, &mut l.train)?;
        get_window(&mut r, &mut l.holdout)?;
        if l.train.rng.is_some() != l.holdout.rng.is_some() {
            return Err(corrupt("one window samples by reservoir, the other slides"));
        }
        let p = &mut l.progress;
        p.round = r.u32();
        p.in_round = r.u32();
        p.lr = r.f32();
        p.loss_sum = r.f64();
        p.samples = r.u64();
        p.updates = r.u64();
        p.cursor = usize_of(r.u64())?;
        p.pushed = r.u64();
        p.started = r.bool("started flag is not 0 or 1")?;
        p.stopped = stop_of_slot(r.u8())?;
        p.bad = r.u32();
        p.level = r.f32();
        p.peak = r.f32();
        p.restarts = r.u32();
        p.guard_level = r.f32();
        let mut pair = |what| -> Result<Option<[u32; 2]>, Error> {
            let some = r.bool(what)?;
            let v = [r.u32(), r.u32()];
            match (some, v) {
                (true, v) => Ok(Some(v)),
                (false, [0, 0]) => Ok(None),
                _ => Err(corrupt(what)),
            }
        };
        p.watch.since = pair("warning zone presence")?;
        p.watch.confirmed = pair("confirmed drift presence")?;
        p.watch.last = r.f32();
        p.watch.level = r.f32();
        p.watch.seen = r.u32();
        if p.watch.last.is_infinite() || p.watch.level.is_infinite() || p.watch.seen > 1024 {
            return Err(corrupt(
                "prequential loss, its level or its count out of range",
            ));
        }
        if p.in_round >= config.round_steps {
            return Err(corrupt("steps in the round at or above round_steps"));
        }
        if !(p.lr.is_finite() && p.lr >= 0.0) {
            return Err(corrupt("round rate is not finite and >= 0"));
        }
        // Finite, of either sign: the Poisson loss `e^z − y·z` is negative where `y·z > e^z`.
        if !p.loss_sum.is_finite() {
            return Err(corrupt("round loss sum is not finite"));
        }
        if p.samples > MAX_STEPS || p.updates > MAX_STEPS || p.pushed > MAX_STEPS {
            return Err(corrupt("counters out of range"));
        }
        if p.cursor > l.train.len {
            return Err(corrupt("window cursor beyond the window"));
        }
        if !(p.level.is_nan() || p.level.is_finite()) || !(p.peak.is_nan() || p.peak >= 0.0) {
            return Err(corrupt("drift level or peak out of range"));
        }
        if !(p.guard_level.is_nan() || p.guard_level.is_finite()) {
            return Err(corrupt("guard level is infinite"));
        }
        l.scaler = get_scaler(&mut r)?;
        l.frozen = r.bool("frozen flag is not 0 or 1")?;
        // The tail (detector, RLS) was read and checked above.
        if l.frozen
            && config
                .standardize
                .is_none_or(|warmup| l.scaler.count < warmup as u64)
        {
            return Err(corrupt("frozen standardiser without its warm-up"));
        }
        Ok(l)
    }
}

/// The tail of an online learner's bytes: the detector (presence and slot), the RLS
/// configuration (presence, forgetting, delta) and the RLS state (presence and slot), read
/// from the end of a frame of `len` bytes whose CRC the caller's reader checked.
#[allow(clippy::type_complexity)]
fn tail<W: DetectorSlot + SlotCodec, S: Solver<D> + SlotCodec, const D: usize>(
    bytes: &[u8],
    len: usize,
) -> Result<(Option<W>, Option<RlsConfig>, Option<S>), Error> {
    let mut r = Reader::frame(bytes, len, Kind::Online)?;
    let tail = 1 + W::RAW_LEN + 17 + 1 + S::RAW_LEN;
    let _ = r.slice(
        len.saturating_sub(4)
            .saturating_sub(tail)
            .saturating_sub(super::codec::HEADER_LEN),
    );
    let detector = if r.bool("detector presence is not 0 or 1")? {
        Some(W::get(&mut r)?)
    } else {
        r.zeros(W::RAW_LEN, "absent detector is not zero")?;
        None
    };
    let some = r.bool("rls presence is not 0 or 1")?;
    let c = RlsConfig {
        forgetting: r.f64(),
        delta: r.f64(),
    };
    let config = if some {
        c.validate()
            .map_err(|_| corrupt("rls configuration out of range"))?;
        Some(c)
    } else if c.forgetting.to_bits() != 0 || c.delta.to_bits() != 0 {
        return Err(corrupt("absent rls configuration is not zero"));
    } else {
        None
    };
    let rls = if r.bool("rls state presence is not 0 or 1")? {
        Some(S::get(&mut r)?)
    } else {
        r.zeros(S::RAW_LEN, "absent rls state is not zero")?;
        None
    };
    Ok((detector, config, rls))
}
