//! Link-time proof that the no_std entry points cannot panic.
//!
//! Every public no_std entry point is called below on opaque (`black_box`) inputs, so the
//! optimiser can assume nothing about them. The panic handler calls a function that exists
//! nowhere: if any panic path survives optimisation (a bounds check, an `unwrap`, a division by
//! zero, a failed `assert!`), the handler is reachable and the link fails with an undefined
//! reference to `npoa_panic_is_reachable`. A successful release build is the proof; `.ci/run`
//! builds it. (Debug builds do not link: without optimisation every bounds check remains.)
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::hint::black_box;

#[path = "ram_flash.rs"]
mod ram_flash;

use npoa::control::drift::{
    Adwin, AdwinConfig, AnyDetector, Ddm, DdmConfig, Detector, DetectorConfig, Eddm, EddmConfig,
    PageHinkley, PageHinkleyConfig, PhMode,
};
use npoa::control::{Controller, ControllerConfig};
use npoa::kernel::{SCALAR, SIMD};
use npoa::loss::Loss;
use npoa::model::bytes;
use npoa::online::{DetectorSlot, Gradient, OnlineConfig, OnlineLearner, Sampling, Solver, Window};
use npoa::optim::{self, OptimState, Regularization, Rls, RlsConfig, Rule, StepScalars};
use npoa::scale::Scaler;
use npoa::state::Checkpoint;
use npoa::state::SlotCodec;
use npoa::store::{Store, WritePolicy};
use npoa::train::{Dataset, RunState, TrainConfig, Training, fit};
use npoa::{LinearClassifier, LinearModel};

static X: [f32; 24] = [0.5; 24];
static Y: [f32; 3] = [1.0, 0.0, 2.0];

fn kernels(x: &[f32], y: &[f32], w: &[f32], b: f32, loss: Loss) {
    let mut g = [0.0f32; 64];
    let d = w.len().min(64);
    let g = &mut g[..d];
    for path in [SCALAR, SIMD] {
        let _ = black_box((path.fused)(x, y, w, b, g));
        let _ = black_box(loss.fused(&path, x, y, w, b, g));
        let _ = black_box(loss.mean(&path, x, y, w, b));
        let _ = black_box((path.loss)(x, y, w, b));
        let _ = black_box((path.gradient)(x, y, w, b, g));
        let mut out = [0.0f32; 16];
        let _ = black_box((path.forward)(x, w, b, &mut out[..y.len().min(16)]));
        let bs = [b, b, b];
        let mut gw = [0.0f32; 192];
        let mut gb = [0.0f32; 3];
        let kd = (3 * d).min(192);
        let wsrc = gw;
        let wk = black_box(&wsrc[..kd]);
        let _ = black_box((path.softmax_fused)(x, y, wk, &bs, &mut gw[..kd], &mut gb));
        let _ = black_box((path.softmax_loss)(x, y, wk, &bs));
    }
    let mut z = [0.0f32; 3];
    let _ = black_box(npoa::loss::softmax_xent(
        black_box(&[b, 1.0, 2.0]),
        y.len(),
        &mut z,
    ));
}

fn updates(rule: Rule, reg: &Regularization, w: &mut [f32], g: &[f32], t: u64) {
    let s = StepScalars::new(rule, Some(reg), black_box(0.1), t);
    let mut a = [0.0f32; 64];
    let mut b = [0.0f32; 64];
    let n = w.len().min(64);
    let _ = black_box(optim::simd::update(&s, w, g, &mut a[..n], &mut b[..n]));
    let _ = black_box(optim::scalar::update(&s, w, g, &mut a[..n], &mut b[..n]));
}

fn controller(lr: f32, metrics: &[f32]) -> f32 {
    let Ok(cfg) = ControllerConfig::constant(lr) else {
        return 0.0;
    };
    let Ok(mut c) = Controller::new(black_box(cfg)) else {
        return 0.0;
    };
    c.start(metrics.first().copied().unwrap_or(1.0), &mut |e| {
        black_box(e);
    });
    let mut r = 0.0;
    for (e, m) in metrics.iter().enumerate() {
        let v = c.on_epoch(e as u32 + 1, *m, &mut |e| {
            black_box(e);
        });
        black_box(v);
        r += c.rate(e as u64);
    }
    black_box(c.on_divergence(99, &mut |_| {}));
    r
}

fn model_bytes(buf: &[u8]) {
    let _ = black_box(bytes::decode_header(buf));
    let mut w = [0.0f32; 8];
    let mut b = [0.0f32; 1];
    let _ = black_box(bytes::decode_into(buf, &mut w, &mut b));
    if let Ok(m) = LinearModel::<8>::from_bytes(buf) {
        let mut out = [0u8; bytes::encoded_len(8, 1)];
        let _ = black_box(m.to_bytes(&mut out));
    }
    if let Ok(c) = LinearClassifier::<4, 3>::from_bytes(buf) {
        let mut out = [0u8; bytes::encoded_len(4, 3)];
        let _ = black_box(c.to_bytes(&mut out));
    }
}

fn training(x: &[f32], y: &[f32], cfg: &TrainConfig) {
    if let Ok(data) = Dataset::new(x, y, 8) {
        let mut m = LinearModel::<8>::zeros();
        let _ = black_box(fit(&mut m, &data, cfg));
        let mut st = OptimState::<LinearModel<8>>::new();
        if let Ok(mut c) = ControllerConfig::constant(cfg.learning_rate).and_then(Controller::new) {
            let _ = black_box(
                Training::new(cfg)
                    .controller(&mut c)
                    .fit_with(&mut m, &mut st, &data),
            );
        }
        let _ = black_box(npoa::control::autolr::stable_rate_for::<8>(&data));
        let _ = black_box(npoa::model::metrics::evaluate(&m, x, y));
        let _ = black_box(npoa::model::metrics::evaluate_logistic(&m, x, y));
    }
    if let Ok(data) = Dataset::new(x, y, 4) {
        let mut c = LinearClassifier::<4, 3>::zeros();
        let _ = black_box(fit(&mut c, &data, cfg));
        let _ = black_box(npoa::model::metrics::evaluate_classifier(&c, x, y));
    }
}

/// The full-batch solvers (conjugate gradients, FISTA for L1, truncated Newton for softmax), the
/// certificate's measures, and a controller that stops on the certificate.
fn solver(x: &[f32], y: &[f32], reg: Regularization) {
    use npoa::control::certificate;
    use npoa::train::solve::{SolveConfig, solve};
    let cfg = SolveConfig {
        max_iter: black_box(7),
        ..SolveConfig::default()
    };
    if let Ok(data) = Dataset::new(x, y, 8) {
        let mut m = LinearModel::<8>::zeros();
        let _ = black_box(solve(&mut m, &data, &cfg));
        let l1 = SolveConfig {
            regularization: reg,
            ..cfg
        };
        let _ = black_box(solve(&mut m, &data, &l1));
    }
    if let Ok(data) = Dataset::new(x, y, 4) {
        let mut c = LinearClassifier::<4, 3>::zeros();
        let _ = black_box(solve(&mut c, &data, &cfg));
    }
    let (w, g) = (black_box(x), black_box(y));
    let b = [black_box(0.5f32)];
    let _ = black_box(certificate::stationarity(&reg, 0.1, (w, &b), (g, &b)));
    let _ = black_box(certificate::duality_gap(
        &reg,
        (w, &b),
        (g, &b),
        black_box(0.3),
        black_box(16),
        black_box(1.0),
        Some(w),
    ));
    if let Ok(mut cc) = ControllerConfig::constant(black_box(0.1)) {
        cc.tol = Some(black_box(1e-4));
        cc.plateau_follows_certificate = true;
        if let Ok(mut c) = Controller::new(cc) {
            c.certify(black_box(1e-3));
            black_box(c.on_epoch(1, black_box(0.5), &mut |_| {}));
        }
    }
}

/// Standardisation: the running moments, a standardised row and buffer, every fold, and the
/// models' folds.
fn scale(x: &[f32], y: &[f32], w: &[f32], b: f32) {
    let mut s = Scaler::<8>::new();
    let row: [f32; 8] = core::array::from_fn(|i| x.get(i).copied().unwrap_or(0.0));
    let _ = black_box(s.push(&row, black_box(1.0)));
    if let Ok(data) = Dataset::new(x, y, 8)
        && let Ok(f) = Scaler::<8>::fit(&data)
    {
        s = f;
    }
    black_box(s.standardize_row(&row));
    black_box(s.standardize_target(black_box(2.0)));
    black_box((
        s.mean(black_box(9)),
        s.std(black_box(3)),
        s.scale(black_box(1)),
    ));
    black_box((s.target_mean(), s.target_std(), s.target_scale(), s.count()));
    let mut buf = [0.0f32; 24];
    for (a, v) in buf.iter_mut().zip(x) {
        *a = *v;
    }
    let n = black_box(20usize).min(24);
    let _ = black_box(s.standardize_in_place(&mut buf[..n]));
    let mut yb = [0.0f32; 3];
    for (a, v) in yb.iter_mut().zip(y) {
        *a = *v;
    }
    let _ = black_box(s.standardize_targets_in_place(&mut yb));
    let mut wb = [0.0f32; 16];
    for (a, v) in wb.iter_mut().zip(w.iter().cycle()) {
        *a = *v;
    }
    let mut bb = [b, b];
    let k = black_box(2usize).min(2);
    let _ = black_box(s.fold(&mut wb, &mut bb[..k]));
    let _ = black_box(s.fold_target(&mut wb, &mut bb[..1]));
    let _ = black_box(s.unfold(&mut wb, &mut bb));
    let mut m = LinearModel::<8>::zeros();
    let _ = black_box(m.unstandardize(&s));
    let _ = black_box(m.unstandardize_target(&s));
    let mut c = LinearClassifier::<8, 3>::zeros();
    let _ = black_box(c.unstandardize(&s));
}

/// The stream API: windows (ring and reservoir) and the learner's push, step and partial_fit.
fn online(x: &[f32], y: &[f32], cfg: OnlineConfig, sampling: Sampling) {
    online_with::<Adwin, Gradient>(x, y, cfg, sampling);
    // Any detector and RLS: the restart from the window, the RLS updates in `push` and
    // `partial_fit`, and the learner's bytes with both slots.
    let rls = OnlineConfig {
        rls: black_box(Some(RlsConfig::default())),
        optimizer: Rule::Sgd,
        detector: black_box(Some(DetectorConfig::Ddm(DdmConfig::default()))),
        ..cfg
    };
    online_with::<AnyDetector, Rls<8>>(x, y, rls, sampling);
}

fn online_with<W: DetectorSlot + SlotCodec, S: Solver<8> + SlotCodec>(
    x: &[f32],
    y: &[f32],
    cfg: OnlineConfig,
    sampling: Sampling,
) {
    let mut win = Window::<4, 8>::new(sampling);
    let row: [f32; 8] = core::array::from_fn(|i| x.get(i).copied().unwrap_or(0.0));
    let _ = black_box(win.push(&row, black_box(1.0)));
    let _ = black_box(win.chronological().count());
    let model = LinearModel::<8>::zeros();
    let Ok(c) = ControllerConfig::constant(black_box(0.1)) else {
        return;
    };
    if let Ok(mut l) = OnlineLearner::<LinearModel<8>, 8, 16, 4, W, S>::new(model, c, cfg, sampling)
    {
        for (i, t) in y.iter().enumerate() {
            let _ = black_box(l.push(&row, *t + i as f32));
            let _ = black_box(l.step(&mut |e| {
                black_box(e);
            }));
        }
        let _ = black_box(l.partial_fit(x, y, &mut |_| {}));
        black_box(l.model());
        black_box(l.best_model());
        let mut big = [0u8; 16384];
        let n = black_box(OnlineLearner::<LinearModel<8>, 8, 16, 4, W, S>::ENCODED_LEN).min(16384);
        if l.encode(&mut big[..n]).is_ok()
            && let Ok(mut d) = OnlineLearner::<LinearModel<8>, 8, 16, 4, W, S>::decode(&big[..n])
        {
            let _ = black_box(d.push(&row, black_box(1.0)));
            let _ = black_box(d.step(&mut |_| {}));
        }
    }
}

/// The flash checkpoint store on hostile flash contents, range and payload (opaque): open,
/// save, load, the figures; and the write policy.
fn flash_store(payload: &[u8], buf: &mut [u8]) {
    let flash = ram_flash::RamFlash(black_box([0x5A; 2048]));
    if let Ok(mut store) = Store::new(flash, black_box(0..2048)) {
        let _ = black_box(store.save(payload));
        let _ = black_box(store.load(buf));
        let _ = black_box(store.save(payload));
        let _ = black_box(store.load(buf));
        black_box((store.erases(), store.bytes_written(), store.newest()));
        black_box(store.saves_per_slot(black_box(payload.len())));
        black_box(store.record_len(black_box(payload.len())));
    }
    let mut policy = black_box(WritePolicy::new(black_box(10), black_box(60), true));
    if policy.should_save(black_box(5), black_box(true)) {
        policy.saved(black_box(5));
    }
    black_box(policy);
}

/// Checkpoints: every decoder on opaque bytes, the encoders, and a resumed run from a decoded
/// state (`npoa::state`).
fn checkpoints(buf: &[u8], x: &[f32], y: &[f32], cfg: &TrainConfig) {
    type Ck = Checkpoint<LinearModel<8>, 2>;
    let mut out = [0u8; Ck::LEN];
    if let Ok(c) = Controller::decode(buf) {
        let _ = black_box(c.encode(&mut out));
    }
    if let Ok(s) = OptimState::<LinearModel<8>, 2>::decode(buf) {
        let _ = black_box(s.encode(&mut out));
    }
    if let Ok(r) = RunState::<LinearModel<8>, 2>::decode(buf) {
        let _ = black_box(r.encode(&mut out));
    }
    if let Ok(s) = Scaler::<8>::decode(buf) {
        let _ = black_box(s.encode(&mut out));
    }
    let Ok(data) = Dataset::new(x, y, 8) else {
        return;
    };
    if let Ok(mut ck) = Ck::decode(buf) {
        let _ = black_box(ck.fit(Training::new(cfg).pause_after(black_box(5)), &data));
        let _ = black_box(ck.encode(&mut out));
    }
    if let Ok(mut l) = OnlineLearner::<LinearModel<8>, 8, 16, 4>::decode(buf) {
        let row: [f32; 8] = core::array::from_fn(|i| x.get(i).copied().unwrap_or(0.0));
        let _ = black_box(l.push(&row, black_box(1.0)));
        let _ = black_box(l.step(&mut |e| {
            black_box(e);
        }));
        let mut big = [0u8; OnlineLearner::<LinearModel<8>, 8, 16, 4>::ENCODED_LEN];
        let _ = black_box(l.encode(&mut big));
    }
}

/// Recursive least squares: every entry point on opaque inputs and configuration, and its
/// bytes.
fn rls(x: &[f32], y: &[f32], buf: &[u8], config: RlsConfig) {
    let row: [f32; 8] = core::array::from_fn(|i| x.get(i).copied().unwrap_or(0.0));
    let _ = black_box(config.validate());
    let _ = black_box(Rls::<8>::with_params(config, &row, black_box(0.5)));
    let Ok(mut r) = Rls::<8>::new(config) else {
        return;
    };
    for t in y {
        let _ = black_box(r.update(&row, *t));
    }
    black_box(r.predict(&row));
    r.set_params(&row, black_box(1.0));
    let _ = black_box(r.try_set_params(&row, black_box(f32::NAN)));
    black_box((r.weights(), r.bias(), r.weights_f64(), r.bias_f64()));
    black_box((
        r.config(),
        r.updates(),
        r.resets(),
        r.windups(),
        r.p_trace(),
    ));
    black_box(r.p(black_box(3), black_box(8)));
    r.reset();
    let mut out = [0u8; Rls::<8>::ENCODED_LEN];
    let _ = black_box(r.encode(&mut out));
    if let Ok(mut d) = Rls::<8>::decode(buf) {
        let _ = black_box(d.update(&row, black_box(1.0)));
        let _ = black_box(d.encode(&mut out));
    }
    if let Ok(mut tiny) = Rls::<1>::new(config) {
        let _ = black_box(tiny.update(&[black_box(1.0)], black_box(2.0)));
    }
}

/// The drift detectors: every constructor on opaque settings, updates on opaque values
/// (NaN, infinities, out-of-range errors included), the accessors, reset, and every encoder
/// and decoder on opaque bytes.
fn drift(values: &[f32], bytes: &[u8]) {
    let adwin = AdwinConfig {
        delta: black_box(0.002),
        clock: black_box(1),
        max_buckets: black_box(5),
        min_window_length: black_box(5),
        grace_period: black_box(10),
        warning_delta: black_box(Some(0.01)),
    };
    let ph = PageHinkleyConfig {
        min_instances: black_box(3),
        threshold: black_box(0.5),
        mode: black_box(PhMode::Up),
        ..PageHinkleyConfig::default()
    };
    let ddm = DdmConfig {
        warm_start: black_box(2),
        ..DdmConfig::default()
    };
    let eddm = EddmConfig {
        warm_start: black_box(2),
        ..EddmConfig::default()
    };
    let mut out = [0u8; AnyDetector::ENCODED_LEN];
    for cfg in [
        DetectorConfig::Adwin(adwin),
        DetectorConfig::PageHinkley(ph),
        DetectorConfig::Ddm(ddm),
        DetectorConfig::Eddm(eddm),
    ] {
        if let Ok(mut d) = AnyDetector::new(black_box(cfg)) {
            for &v in values {
                black_box(d.update(v));
            }
            black_box(d.config());
            let _ = black_box(d.encode(&mut out));
            d.reset();
            black_box(d);
        }
    }
    if let Ok(mut a) = Adwin::new(adwin) {
        for &v in values {
            black_box(a.update(v));
        }
        black_box((a.width(), a.mean(), a.estimation(), a.total(), a.variance()));
        black_box((a.detections(), a.buckets(), a.config()));
        let _ = black_box(a.encode(&mut out));
        a.reset();
    }
    let _ = black_box(Adwin::with_warning(black_box(0.01)));
    if let Ok(mut p) = PageHinkley::new(ph) {
        for &v in values {
            black_box(p.update(v));
        }
        black_box((p.count(), p.mean(), p.statistics(), p.config()));
        let _ = black_box(p.encode(&mut out));
        p.reset();
    }
    if let Ok(mut d) = Ddm::new(ddm) {
        for &v in values {
            black_box(d.update(v));
        }
        black_box((d.count(), d.error_rate(), d.config()));
        let _ = black_box(d.encode(&mut out));
        d.reset();
    }
    if let Ok(mut e) = Eddm::new(eddm) {
        for &v in values {
            black_box(e.update(v));
        }
        black_box((e.count(), e.errors(), e.mean_distance(), e.config()));
        let _ = black_box(e.encode(&mut out));
        e.reset();
    }
    if let Ok(mut d) = AnyDetector::decode(bytes) {
        black_box(d.update(black_box(1.0)));
        let _ = black_box(d.encode(&mut out));
    }
    if let Ok(mut a) = Adwin::decode(bytes) {
        black_box(a.update(black_box(1.0)));
    }
    let n = black_box(91usize).min(bytes.len());
    if let Ok(mut p) = PageHinkley::decode(&bytes[..n]) {
        black_box(p.update(black_box(1.0)));
    }
    if let Ok(mut e) = Eddm::decode(&bytes[..n]) {
        black_box(e.update(black_box(1.0)));
    }
    let n = black_box(75usize).min(bytes.len());
    if let Ok(mut d) = Ddm::decode(&bytes[..n]) {
        black_box(d.update(black_box(1.0)));
    }
}

// SAFETY: `_start` is the process entry point required by `-nostartfiles`; no other symbol in
// this freestanding binary (or in `npoa` and its dependencies) is called `_start`. It never
// returns.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let x: &[f32] = black_box(&X);
    let y: &[f32] = black_box(&Y);
    let w: &[f32] = black_box(&X[..8]);
    let b = black_box(0.25f32);
    let loss = black_box(Loss::Huber { delta: 1.0 });
    kernels(x, y, w, b, loss);
    let mut wm = [0.0f32; 8];
    let reg = black_box(Regularization::l1(0.1));
    updates(black_box(Rule::ADAM), &reg, &mut wm, w, black_box(3));
    black_box(controller(black_box(0.1), black_box(&Y)));
    model_bytes(black_box(&[0u8; 40]));
    let cfg = TrainConfig {
        learning_rate: black_box(0.05),
        epochs: black_box(3),
        batch_size: black_box(2),
        optimizer: black_box(Rule::ADAM),
        regularization: reg,
        ..TrainConfig::default()
    };
    training(x, y, &cfg);
    checkpoints(black_box(&[0u8; 709]), x, y, &cfg);
    solver(x, y, reg);
    scale(x, y, w, b);
    rls(
        x,
        y,
        black_box(&[0u8; 700]),
        black_box(RlsConfig::default()),
    );
    let ocfg = OnlineConfig {
        batch_size: black_box(4),
        steps_per_call: black_box(2),
        round_steps: black_box(3),
        holdout_every: black_box(2),
        optimizer: black_box(Rule::ADAM),
        standardize: black_box(Some(2)),
        ..OnlineConfig::default()
    };
    online(x, y, ocfg, black_box(Sampling::Reservoir { seed: 1 }));
    online(
        x,
        y,
        OnlineConfig {
            standardize: black_box(None),
            ..ocfg
        },
        black_box(Sampling::Sliding),
    );
    let mut flash_buf = [0u8; 300];
    let n = black_box(200usize).min(300);
    let payload = black_box([7u8; 300]);
    flash_store(
        &payload[..n],
        &mut flash_buf[..black_box(250usize).min(300)],
    );
    let values = black_box([
        0.0f32,
        1.0,
        f32::NAN,
        f32::INFINITY,
        -3.0,
        1.0,
        0.5,
        2e38,
        1.0,
        0.0,
    ]);
    let n = black_box(10usize).min(values.len());
    drift(&values[..n], black_box(&[0u8; AnyDetector::ENCODED_LEN]));
    #[allow(clippy::empty_loop)]
    loop {}
}

#[allow(unsafe_code)]
mod proof {
    unsafe extern "C" {
        /// Defined nowhere: referencing it from a reachable panic path fails the link.
        fn npoa_panic_is_reachable() -> !;
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
        // SAFETY: never executed in a binary that links; a binary in which it is reachable
        // does not link (the symbol does not exist).
        unsafe { npoa_panic_is_reachable() }
    }
}
