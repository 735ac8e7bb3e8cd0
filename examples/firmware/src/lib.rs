//! The firmware's work, the same on every target: a simulated sensor, training with `fit` and
//! with the `OnlineLearner`, and the lines the device prints.
//!
//! Two kinds of line:
//! * `bits <run> …`: the trained model's bits (hexadecimal IEEE-754). They must be the same on
//!   every target; `scripts/firmware.sh` compares the device's lines with the host's.
//! * `stack <what> <bytes>` and `insns <what> <count>`: what the board measured (stack
//!   painting, instruction counts). Only a board that can measure prints them.
#![no_std]
#![forbid(unsafe_code)]

use core::fmt::Write;

use npoa::LinearModel;
use npoa::control::ControllerConfig;
use npoa::control::drift::{DetectorConfig, PageHinkley, PageHinkleyConfig, PhMode};
use npoa::model::bytes::encoded_len;
use npoa::model::round::{self, Device, Frame, Role, frame_len};
use npoa::online::{NoDetector, OnlineConfig, OnlineLearner, Sampling};
use npoa::optim::{Rls, RlsConfig, Rule};
use npoa::train::{Dataset, TrainConfig, fit};

/// Features of the sensor (and of the model).
pub const D: usize = 8;
/// Samples the sensor gives (`fit` trains on all of them; the learner sees them as a stream).
pub const SAMPLES: usize = 128;

/// The sensor's true response: `y = W·x + B` plus noise.
pub const W: [f32; D] = [0.8, -1.2, 0.5, 2.0, -0.3, 0.0, 1.1, -0.7];
/// The true offset.
pub const B: f32 = 0.25;

/// What a board gives the workload: a console, and (on a device under QEMU) an instruction
/// counter and a stack gauge.
pub trait Board {
    /// The console the lines go to.
    fn console(&mut self) -> &mut dyn Write;
    /// Instructions retired so far (`None` where they are not counted, as on the host).
    fn instructions(&mut self) -> Option<u64>;
    /// Runs `f` and returns the bytes of stack it used below the caller's stack pointer
    /// (`None` where that is not measured).
    fn stack_used(&mut self, f: &mut dyn FnMut()) -> Option<usize>;
}

/// A deterministic sensor: xorshift32 readings in `[-1, 1)` (exact in `f32`) and a response
/// computed in a fixed order, so that every target sees the same floats.
pub struct Sensor {
    state: u32,
}

impl Sensor {
    /// A sensor started from `seed` (a zero seed is replaced by 1).
    pub const fn new(seed: u32) -> Self {
        Self {
            state: if seed == 0 { 1 } else { seed },
        }
    }

    fn unit(&mut self) -> f32 {
        let mut s = self.state;
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        self.state = s;
        // 24 bits: k/2^23 − 1 is exact in f32.
        ((s >> 8) as f32) * (1.0 / 8_388_608.0) - 1.0
    }

    /// One reading and its response (noise uniform in `[-0.05, 0.05)`).
    pub fn read(&mut self) -> ([f32; D], f32) {
        let mut x = [0.0f32; D];
        for v in &mut x {
            *v = self.unit();
        }
        let mut y = B;
        for (xj, wj) in x.iter().zip(&W) {
            y += xj * wj;
        }
        (x, y + 0.05 * self.unit())
    }
}

/// `SAMPLES` readings, row-major, written into `x` and `y` (in place: returned by value, the
/// 4.5 KiB were copied once more on the stack).
pub fn readings(seed: u32, x: &mut [f32; SAMPLES * D], y: &mut [f32; SAMPLES]) {
    let mut sensor = Sensor::new(seed);
    for (row, t) in x.chunks_exact_mut(D).zip(y.iter_mut()) {
        let (r, v) = sensor.read();
        row.copy_from_slice(&r);
        *t = v;
    }
}

fn bits(
    out: &mut dyn Write,
    run: &str,
    model: &LinearModel<D>,
    (label, v): (&str, f32),
) -> core::fmt::Result {
    write!(
        out,
        "bits {run} {label}={:08x} b={:08x} w=",
        v.to_bits(),
        model.bias().to_bits()
    )?;
    for (j, w) in model.weights().iter().enumerate() {
        let sep = if j == 0 { "" } else { "," };
        write!(out, "{sep}{:08x}", w.to_bits())?;
    }
    writeln!(out)
}

/// The largest `|w_j − W_j|`, `|b − B|`: how close the model is to the sensor's truth.
fn error(model: &LinearModel<D>) -> f32 {
    let mut e = (model.bias() - B).abs();
    for (w, t) in model.weights().iter().zip(&W) {
        e = e.max((w - t).abs());
    }
    e
}

fn fit_config(optimizer: Rule, learning_rate: f32, batch_size: usize, epochs: u32) -> TrainConfig {
    TrainConfig {
        learning_rate,
        epochs,
        batch_size,
        seed: 7,
        optimizer,
        ..TrainConfig::default()
    }
}

fn online_config(optimizer: Rule, batch_size: usize) -> OnlineConfig {
    OnlineConfig {
        // The 88-byte Page-Hinkley detector (the default ADWIN is about 3 KB: too much for the
        // 16 KiB of the Cortex-M0 board beside the readings).
        detector: Some(DetectorConfig::PageHinkley(PageHinkleyConfig {
            mode: PhMode::Up,
            ..PageHinkleyConfig::default()
        })),
        batch_size,
        optimizer,
        ..OnlineConfig::default()
    }
}

/// The streaming learner of the example: a 32-sample window, 8 held out.
pub type Learner = OnlineLearner<LinearModel<D>, D, 32, 8, PageHinkley>;

/// A learner with a constant rate, sliding windows and batches of `batch_size`.
///
/// The callers keep the `Result` and borrow the learner in it: moved out with `?`, its 2.5 KiB
/// took a second stack slot.
#[inline(always)]
fn learner(optimizer: Rule, rate: f32, batch_size: usize) -> Result<Learner, npoa::Error> {
    Learner::new(
        LinearModel::zeros(),
        ControllerConfig::constant(rate)?,
        online_config(optimizer, batch_size),
        Sampling::Sliding,
    )
}

/// The update rules this build has: SGD always, Adam with the `full` feature.
fn rules() -> &'static [(&'static str, Rule, f32)] {
    if cfg!(feature = "full") {
        &[("sgd", Rule::Sgd, 0.1), ("adam", Rule::ADAM, 0.05)]
    } else {
        &[("sgd", Rule::Sgd, 0.1)]
    }
}

/// Everything the firmware does; `Err` if a run fails (which the board reports as a failed exit).
///
/// # Errors
/// A training error, or a console that does not write.
pub fn run(board: &mut impl Board) -> Result<(), RunError> {
    train_and_measure(board)?;
    fleet_round(board)?;
    writeln!(board.console(), "done")?;
    Ok(())
}

/// The readings' seed.
pub const SEED: u32 = 0x5eed_0001;

/// The training runs and the figures, on the readings this frame holds (4.5 KiB, released
/// before [`fleet_round`], which reads the sensor again, a block at a time).
#[inline(never)]
fn train_and_measure(board: &mut impl Board) -> Result<(), RunError> {
    let mut x = [0.0f32; SAMPLES * D];
    let mut y = [0.0f32; SAMPLES];
    readings(SEED, &mut x, &mut y);
    let data = Dataset::new(&x, &y, D)?;
    writeln!(
        board.console(),
        "npoa firmware: LinearModel<{D}>, {SAMPLES} samples, rules: {}",
        if cfg!(feature = "full") {
            "sgd, adam"
        } else {
            "sgd"
        }
    )?;

    for &(name, rule, rate) in rules() {
        train(board, &data, &x, &y, (name, rule, rate))?;
    }

    rls(board, &x, &y)?;
    measure(board, &x, &y)
}

/// One rule's training runs: `fit`, then the streaming learner; prints their bits.
///
/// Not inlined (nor is [`measure`]): each phase's models and learners then live in its own frame,
/// which is released before the next, and `run`'s frame holds only the readings (4.5 KiB). Inlined
/// together, LLVM gave them separate slots: a 15 KiB frame, more than the micro:bit's 16 KiB of RAM
/// leave with the training's own stack.
#[inline(never)]
fn train(
    board: &mut impl Board,
    data: &Dataset<'_>,
    x: &[f32],
    y: &[f32],
    (name, rule, rate): (&str, Rule, f32),
) -> Result<(), RunError> {
    // `fit`: 40 epochs of shuffled batches of 8.
    let mut model = LinearModel::<D>::zeros();
    let summary = fit(&mut model, data, &fit_config(rule, rate, 8, 40))?;
    let out = board.console();
    bits(
        out,
        &alloc_name::<16>("fit-", name),
        &model,
        ("loss", summary.final_loss),
    )?;
    writeln!(
        out,
        "fit-{name}: {} epochs, {} steps, loss {:.6}, max |error| {:.4}",
        summary.epochs,
        summary.steps,
        summary.final_loss,
        error(&model)
    )?;

    // The streaming learner: every sample pushed, then one step, three times over.
    let mut slot = learner(rule, rate, 8);
    let online = slot.as_mut().map_err(|e| *e)?;
    let mut failure = None;
    for _ in 0..3 {
        for (row, &t) in x.chunks_exact(D).zip(y) {
            let r: &[f32; D] = row.try_into().map_err(|_| RunError::Shape)?;
            online.push(r, t)?;
            if let Err(e) = online.step(&mut |_| {}) {
                failure = Some(e);
            }
        }
    }
    if let Some(e) = failure {
        return Err(e.into());
    }
    let model = online.model();
    let out = board.console();
    bits(
        out,
        &alloc_name::<16>("online-", name),
        &model,
        ("rate", online.rate()),
    )?;
    writeln!(
        out,
        "online-{name}: {} updates, {} rounds, max |error| {:.4}",
        online.updates(),
        online.rounds(),
        error(&model)
    )?;
    Ok(())
}

/// Recursive least squares (River's defaults, `λ = 0.99`, `δ = 10⁶`) over the readings: its
/// bits, and the instructions of one `Rls::update` (the mean over the last 64 samples; `f64`
/// throughout, software on a single-precision FPU). Not inlined, like [`train`].
#[inline(never)]
fn rls(board: &mut impl Board, x: &[f32], y: &[f32]) -> Result<(), RunError> {
    let mut r = Rls::<D>::new(RlsConfig::default())?;
    let mut c0 = None;
    for (i, (row, t)) in rows(x, y).enumerate() {
        if i == 64 {
            c0 = board.instructions();
        }
        r.update(row.try_into().map_err(|_| RunError::Shape)?, t)?;
    }
    let c1 = board.instructions();
    let model = LinearModel::<D>::new(r.weights(), r.bias())?;
    bits(board.console(), "rls", &model, ("err", error(&model)))?;
    if let Some(v) = c0.zip(c1).map(|(a, b)| (b.wrapping_sub(a) + 32) / 64) {
        writeln!(board.console(), "insns rls-update {v}")?;
    }
    Ok(())
}

/// Bytes of this example's model.
const MODEL_LEN: usize = encoded_len(D, 1);
/// Bytes of one of its round frames.
const FRAME_LEN: usize = frame_len(MODEL_LEN);
/// Local passes over the readings in a federated round.
pub const FLEET_EPOCHS: usize = 5;
/// Readings per update in a federated round.
pub const FLEET_BLOCK: usize = 8;

/// The learner of a federated round: `partial_fit` only, so its windows stay empty and no
/// detector is fed (the Python package's learner, with larger windows and ADWIN, makes the
/// same updates); windows of one sample keep it to 1.3 KiB (the default detector and
/// windows would take 2.8 KiB of the micro:bit's 16).
type FleetLearner = OnlineLearner<LinearModel<D>, D, 1, 1, NoDetector>;

/// One round of a federation, as a device of `npoa.fleet` takes part in it: the server's
/// global frame of round 1 (built here, as the server sends it: QEMU gives the board no
/// radio) is accepted with its CRCs and round counter, the model trains from it with the
/// learner's `partial_fit` ([`FLEET_BLOCK`] readings a block, [`FLEET_EPOCHS`] passes, rate 0.1, no
/// standardisation: a fleet agrees on its preprocessing), and the update goes back as an
/// update frame of round 1 carrying the 128 samples. Prints the frame's bytes (a `bits` line:
/// the same on every board and on the host) and checks that the device refuses the same global
/// frame a second time (a replay) and a frame with a flipped bit. Not inlined, like [`train`].
#[inline(never)]
fn fleet_round(board: &mut impl Board) -> Result<(), RunError> {
    let mut model = [0u8; MODEL_LEN];
    LinearModel::<D>::zeros().to_bytes(&mut model)?;
    let mut wire = [0u8; FRAME_LEN];
    let global = Frame {
        role: Role::Global,
        round: 1,
        samples: 0,
        model: &model,
    };
    let n = round::encode(&global, &mut wire)?;

    let mut device = Device::new();
    let start = LinearModel::<D>::from_bytes(device.accept(&wire[..n])?.model)?;
    // The same frame again (a replay), then one with a flipped bit: both refused.
    let replay = device.accept(&wire[..n]).is_err();
    wire[12] ^= 0x10;
    let flipped = Device::new().accept(&wire[..n]).is_err();
    let (trained, updates) = fleet_train(board, start)?;
    trained.to_bytes(&mut model)?;
    // The answer goes out in the buffer the global frame came in.
    let samples = u32::try_from(SAMPLES).map_err(|_| RunError::Shape)?;
    let m = device.update(&model, samples, &mut wire)?;
    let out = board.console();
    write!(out, "bits fleet-update ")?;
    for b in wire.get(..m).unwrap_or(&[]) {
        write!(out, "{b:02x}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "fleet: round {} update, {m} bytes, {} updates, max |error| {:.4}; replay refused: {replay}, flipped bit refused: {flipped}",
        device.last_round(),
        updates,
        error(&trained)
    )?;
    if replay && flipped {
        Ok(())
    } else {
        Err(RunError::Fleet)
    }
}

/// The local training of [`fleet_round`], in a frame of its own (released before the round's
/// answer is written): the learner from `start`, [`FLEET_EPOCHS`] passes of `partial_fit` over
/// blocks of [`FLEET_BLOCK`] readings; prints the stack the passes used. Returns the model and its updates.
#[inline(never)]
fn fleet_train(
    board: &mut impl Board,
    start: LinearModel<D>,
) -> Result<(LinearModel<D>, u64), RunError> {
    let config = OnlineConfig {
        standardize: None,
        detector: None,
        ..online_config(Rule::Sgd, 8)
    };
    let mut slot = FleetLearner::new(
        start,
        ControllerConfig::constant(0.1)?,
        config,
        Sampling::Sliding,
    );
    let online = slot.as_mut().map_err(|e| *e)?;
    let mut result = Ok(());
    let used = board.stack_used(&mut || {
        for _ in 0..FLEET_EPOCHS {
            // Each pass reads the sensor again, a block at a time: the readings of `run`
            // ([`readings`] with [`SEED`]), without holding all of them.
            let mut sensor = Sensor::new(SEED);
            for _ in 0..SAMPLES / FLEET_BLOCK {
                let mut xb = [0.0f32; FLEET_BLOCK * D];
                let mut yb = [0.0f32; FLEET_BLOCK];
                for (row, t) in xb.chunks_exact_mut(D).zip(&mut yb) {
                    let (r, v) = sensor.read();
                    row.copy_from_slice(&r);
                    *t = v;
                }
                if let Err(e) = online.partial_fit(&xb, &yb, &mut |_| {}) {
                    result = Err(e);
                }
            }
        }
    });
    result?;
    if let Some(v) = used {
        writeln!(board.console(), "stack fleet-partial-fit {v}")?;
    }
    Ok((online.model(), online.updates()))
}

/// The stack and instruction figures (printed only by boards that measure them).
fn measure(board: &mut impl Board, x: &[f32], y: &[f32]) -> Result<(), RunError> {
    let data = Dataset::new(x, y, D)?;
    for &rule in rules() {
        measure_stack(board, &data, x, y, rule)?;
        measure_instructions(board, &data, x, y, rule)?;
    }
    Ok(())
}

/// The rows of `x` and `y` as the learner takes them.
fn rows<'a>(x: &'a [f32], y: &'a [f32]) -> impl Iterator<Item = (&'a [f32], f32)> + Clone {
    x.chunks_exact(D).zip(y.iter().copied())
}

/// Pushes the first 96 samples into `online`, with a step after each (the warm-up before a
/// measurement).
fn warm_up(online: &mut Learner, x: &[f32], y: &[f32]) -> Result<(), RunError> {
    for (row, t) in rows(x, y).take(96) {
        online.push(row.try_into().map_err(|_| RunError::Shape)?, t)?;
        online.step(&mut |_| {})?;
    }
    Ok(())
}

/// Stack of one whole `fit` (batches of 8), of one update (one batch of 8, one epoch), and of
/// the learner's `push` and `step` (batches of 8, after its warm-up). Not inlined, like
/// [`train`].
#[inline(never)]
fn measure_stack(
    board: &mut impl Board,
    data: &Dataset<'_>,
    x: &[f32],
    y: &[f32],
    (name, rule, rate): (&str, Rule, f32),
) -> Result<(), RunError> {
    let mut result = Ok(());
    let config = fit_config(rule, rate, 8, 40);
    // The model lives in the caller's frame (as a firmware's would), so the figure is the
    // stack of the call alone.
    let mut model = LinearModel::<D>::zeros();
    let fit_stack = board.stack_used(&mut || result = fit(&mut model, data, &config).map(drop));
    result?;
    let one = Dataset::new(x.get(..8 * D).unwrap_or(&[]), y.get(..8).unwrap_or(&[]), D)?;
    let config1 = fit_config(rule, rate, 8, 1);
    let mut model = LinearModel::<D>::zeros();
    let step_stack = board.stack_used(&mut || result = fit(&mut model, &one, &config1).map(drop));
    result?;

    let mut slot = learner(rule, rate, 8);
    let online = slot.as_mut().map_err(|e| *e)?;
    warm_up(online, x, y)?;
    let mut push_stack = None;
    let mut learner_stack = None;
    for (row, t) in rows(x, y).skip(96).take(8) {
        let r: &[f32; D] = row.try_into().map_err(|_| RunError::Shape)?;
        let s = board.stack_used(&mut || result = online.push(r, t));
        result?;
        push_stack = push_stack.max(s);
        let s = board.stack_used(&mut || result = online.step(&mut |_| {}).map(drop));
        result?;
        learner_stack = learner_stack.max(s);
    }

    let out = board.console();
    for (what, v) in [
        ("fit", fit_stack),
        ("fit-one-batch", step_stack),
        ("online-push", push_stack),
        ("online-step", learner_stack),
    ] {
        if let Some(v) = v {
            writeln!(out, "stack {what}-{name} {v}")?;
        }
    }
    Ok(())
}

/// Instructions per single-sample update. `fit` with batches of 1 over 64 and over 128 samples
/// (one shuffled epoch each): the difference over 64 is the cost of one sample, the fixed costs
/// of a call cancelling out (rounded to a whole instruction, in integers: no `f64` in what is
/// counted). The learner with batches of 1: `push` + `step` per sample, after
/// its warm-up. Not inlined, like [`train`].
#[inline(never)]
fn measure_instructions(
    board: &mut impl Board,
    data: &Dataset<'_>,
    x: &[f32],
    y: &[f32],
    (name, rule, rate): (&str, Rule, f32),
) -> Result<(), RunError> {
    let half = Dataset::new(
        x.get(..64 * D).unwrap_or(&[]),
        y.get(..64).unwrap_or(&[]),
        D,
    )?;
    let config = fit_config(rule, rate, 1, 1);
    let mut cost = |d: &Dataset<'_>| -> Result<Option<u64>, RunError> {
        let mut model = LinearModel::<D>::zeros();
        let c0 = board.instructions();
        fit(&mut model, d, &config)?;
        let c1 = board.instructions();
        Ok(c0.zip(c1).map(|(a, b)| b.wrapping_sub(a)))
    };
    let small = cost(&half)?;
    let large = cost(data)?;
    let fit_per = small
        .zip(large)
        .map(|(s, l)| (l.saturating_sub(s) + 32) / 64);

    let mut slot = learner(rule, rate, 1);
    let online = slot.as_mut().map_err(|e| *e)?;
    warm_up(online, x, y)?;
    let c0 = board.instructions();
    for (row, t) in rows(x, y).skip(64).take(64) {
        online.push(row.try_into().map_err(|_| RunError::Shape)?, t)?;
        online.step(&mut |_| {})?;
    }
    let c1 = board.instructions();
    let online_per = c0.zip(c1).map(|(a, b)| (b.wrapping_sub(a) + 32) / 64);

    let out = board.console();
    if let Some(v) = fit_per {
        writeln!(out, "insns fit-batch1-{name} {v}")?;
    }
    if let Some(v) = online_per {
        writeln!(out, "insns online-batch1-{name} {v}")?;
    }
    Ok(())
}

/// `prefix` + `name` in a fixed buffer (no heap).
fn alloc_name<const C: usize>(prefix: &str, name: &str) -> Name<C> {
    let mut n = Name {
        buf: [0; C],
        len: 0,
    };
    for b in prefix.bytes().chain(name.bytes()) {
        if let Some(slot) = n.buf.get_mut(n.len) {
            *slot = b;
            n.len += 1;
        }
    }
    n
}

/// A short name in a fixed buffer.
struct Name<const C: usize> {
    buf: [u8; C],
    len: usize,
}

impl<const C: usize> core::ops::Deref for Name<C> {
    type Target = str;
    fn deref(&self) -> &str {
        core::str::from_utf8(self.buf.get(..self.len).unwrap_or(&[])).unwrap_or("")
    }
}

/// Why [`run`] failed.
#[derive(Debug)]
pub enum RunError {
    /// npoa refused something (its message says what).
    Npoa(npoa::Error),
    /// The console failed.
    Console,
    /// A row was not `D` long (cannot happen with `chunks_exact`).
    Shape,
    /// The device took a replayed or corrupted round frame.
    Fleet,
}

impl From<npoa::Error> for RunError {
    fn from(e: npoa::Error) -> Self {
        Self::Npoa(e)
    }
}

impl From<core::fmt::Error> for RunError {
    fn from(_: core::fmt::Error) -> Self {
        Self::Console
    }
}

impl core::fmt::Display for RunError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Npoa(e) => write!(f, "npoa: {e}"),
            Self::Console => f.write_str("console write failed"),
            Self::Shape => f.write_str("row length"),
            Self::Fleet => f.write_str("a replayed or corrupted round frame was taken"),
        }
    }
}
