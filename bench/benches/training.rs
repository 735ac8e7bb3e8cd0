//! End-to-end costs of training: whole epochs (kernel + update rule + proximal step + batch
//! shuffling), the controller's per-epoch overhead, the evaluation pass and model bytes.
//!
//! The training data are 1 MiB of `x` per feature count `d` (`n = 2¹⁸/d` samples, uniform in
//! [−1, 1), in L2/L3), targets from a linear teacher plus noise; every run starts from the same
//! random model and a fresh optimizer state (both copied in, a few hundred bytes at most). In
//! the training groups `scalar` is the scalar reference path (`ScalarPath<LinearModel<D>>`:
//! scalar kernels and scalar update rules) and `simd` a plain `LinearModel<D>` (the fixed-size
//! SIMD kernels). Throughput is the bytes of the training `x` (`n·d·4`), except for
//! `model_bytes`.
//!
//! * `epoch/d<d>` for d ∈ {4, 32, 256}: one epoch of `fit_with`, SGD (η = 0.05) with the
//!   elastic-net prox (λ1 = λ2 = 1e-4), shuffled, parameter = batch size ∈ {16, 256, n (full
//!   batch: one step)}; `scalar` and `simd`.
//! * `epoch_rule/<rule>` for every rule of `Rule::EXAMPLES` by name (sgd, momentum, nesterov,
//!   adam, adamw, averaged, ftrl, adagrad): the same epoch at d = 32, batch 64 (128 steps),
//!   parameter = batch size; `scalar` and `simd`. The penalty is the same elastic net (AdamW:
//!   its decoupled decay, λ2; AdaGrad: its prox at the per-coordinate step) except for FTRL,
//!   which takes its own λ1 = λ2 = 1e-3. `sgd` is `epoch/d32` at batch 64.
//! * `controlled/d32`, `controlled/d4`: one epoch of `fit_with` (`fit`) against one epoch of
//!   `fit_controlled_with` (`fit_controlled`: plateau, early stop and the divergence guard on,
//!   a validation set of n/4 further samples), SIMD, batch 64. A one-epoch controlled run makes
//!   two validation loss passes (the start metric, then the epoch's), the copies of the model
//!   and state (best, backup) and the controller's step; a long run pays one pass per epoch.
//! * `evaluate/d<d>` for d ∈ {4, 32, 256}: `metrics::evaluate` (`simd`: forward in chunks of 256
//!   predictions, MSE/MAE/R² sums in f64) against the SIMD loss kernel on the same data (`loss`:
//!   `LinearModel::loss`, the fused one-pass reference); parameter = n.
//! * `model_bytes/d<d>` for d ∈ {4, 32, 256}: `encode` (`to_bytes` into a stack buffer) and
//!   `decode` (`from_bytes`, with its checks), parameter and throughput = encoded length.
//!
//! 18 + 16 + 4 + 6 + 6 = 50 benchmarks. With 0.2 s warm-up, 0.6 s measurement and 20 samples
//! a full `cargo bench --bench training` takes about 45 s on 2 cores (plus the build). Filter with a regex, e.g. `cargo bench --bench training -- 'epoch/d32'`; `--test`
//! runs every benchmark (and its checks) once. Plots are off (`--plotting-backend plotters`
//! turns them on).
//!
//! Before a case is first timed it is checked: the scalar and SIMD paths, after one epoch with
//! the same number of steps, agree within 1e-3 of the largest weight magnitude; a few epochs
//! lower the loss from the start (on both paths), so the bench times real training; a one-epoch
//! controlled run returns the same bits as the plain epoch (it improved, so it keeps it);
//! `evaluate`'s MSE equals the loss kernel's within 1e-4 relative; `decode(encode(m)) == m` bit
//! for bit.

#[path = "shared/mod.rs"]
mod shared;
use shared::{Aligned, rng};

use std::cell::OnceCell;
use std::hint::black_box;

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
    measurement::WallTime,
};
use npoa::LinearModel;
use npoa::control::{Controller, ControllerConfig};
use npoa::control::{EarlyStop, Plateau};
use npoa::kernel::SCALAR;
use npoa::model::bytes::encoded_len;
use npoa::model::metrics::evaluate;
use npoa::optim::{OptimState, Regularization, Rule};
use npoa::train::{Dataset, ScalarPath, Stop, Summary, TrainConfig, Trainable, Training, watch};
use rand::RngExt;

/// Feature counts.
const FEATURES: [usize; 3] = [4, 32, 256];

/// Bytes of training `x` for every `d`.
const BYTES: usize = 1 << 20;

/// Relative tolerance of the scalar/SIMD agreement, against the largest weight magnitude.
const TOL: f32 = 1e-3;

/// Relative tolerance of `evaluate`'s MSE against the loss kernel.
const EVAL_TOL: f64 = 1e-4;

/// Epochs of the "training lowers the loss" check.
const CHECK_EPOCHS: u32 = 3;

/// Learning rate of the SGD runs.
const LR: f32 = 0.05;

/// The elastic-net penalty of the epochs (a proximal step after every update).
const REG: Regularization = Regularization {
    l1: 1e-4,
    l2: 1e-4,
    bias: false,
    bounds: None,
};

/// Seed of the batch shuffling.
const SHUFFLE_SEED: u64 = 7;

/// Batch size of `epoch_rule` and `controlled`.
const BATCH: usize = 64;

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/// Training (n samples, 1 MiB of `x`) and validation (n/4 samples) data of `d` features from
/// one linear teacher plus noise.
struct Data {
    d: usize,
    x: Aligned,
    y: Aligned,
    xv: Aligned,
    yv: Aligned,
}

impl Data {
    fn new(d: usize) -> Self {
        let n = BYTES / (4 * d);
        let mut g = rng(0x7472_6169_6e00 ^ d as u64);
        let s = 1.0 / (d as f32).sqrt();
        let w_true: Vec<f32> = (0..d).map(|_| g.random_range(-s..s)).collect();
        let b_true = g.random_range(-0.5f32..0.5);
        let mut make = |rows: usize| {
            let mut x = Aligned::zeroed(rows * d);
            for v in x.as_mut_slice() {
                *v = g.random_range(-1.0f32..1.0);
            }
            let mut y = Aligned::zeroed(rows);
            for (yi, row) in y
                .as_mut_slice()
                .iter_mut()
                .zip(x.as_slice().chunks_exact(d))
            {
                let dot: f32 = row.iter().zip(&w_true).map(|(a, c)| a * c).sum();
                *yi = dot + b_true + 0.1 * g.random_range(-1.0f32..1.0);
            }
            (x, y)
        };
        let (x, y) = make(n);
        let (xv, yv) = make(n / 4);
        Data { d, x, y, xv, yv }
    }

    fn n(&self) -> usize {
        self.y.as_slice().len()
    }

    fn train(&self) -> Dataset<'_> {
        Dataset::new(self.x.as_slice(), self.y.as_slice(), self.d).expect("training set")
    }

    fn validation(&self) -> Dataset<'_> {
        Dataset::new(self.xv.as_slice(), self.yv.as_slice(), self.d).expect("validation set")
    }
}

/// The data of each `d`, made on first use (a filtered run makes only what it times).
#[derive(Default)]
struct Cells([OnceCell<Data>; FEATURES.len()]);

impl Cells {
    fn get(&self, d: usize) -> &Data {
        let i = FEATURES
            .iter()
            .position(|&f| f == d)
            .expect("a benchmarked d");
        self.0[i].get_or_init(|| Data::new(d))
    }
}

/// The fixed start of every run: weights uniform in ±1/√d, bias 0.
fn start<const D: usize>() -> LinearModel<D> {
    LinearModel::random(0x5eed ^ D as u64, 1.0 / (D as f32).sqrt()).expect("start model")
}

fn config(
    batch_size: usize,
    optimizer: Rule,
    regularization: Regularization,
    lr: f32,
) -> TrainConfig {
    TrainConfig {
        learning_rate: lr,
        epochs: 1,
        batch_size,
        shuffle: true,
        seed: SHUFFLE_SEED,
        optimizer,
        regularization,
    }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// Trains a copy of `model` with a fresh state.
fn train<M: Trainable>(model: M, data: &Dataset<'_>, cfg: &TrainConfig) -> (M, Summary) {
    let mut m = model;
    let mut state = OptimState::<M, 2>::new();
    let s = Training::new(cfg)
        .fit_with(&mut m, &mut state, data)
        .expect("training");
    assert_eq!(s.stop, Stop::MaxEpochs, "training diverged");
    (m, s)
}

/// Weights then bias.
fn params<const D: usize>(m: &LinearModel<D>) -> Vec<f32> {
    m.weights().iter().copied().chain([m.bias()]).collect()
}

/// Both paths, one epoch from the start: the same steps, weights within `TOL`; then a few epochs
/// lower the loss on both paths.
fn check_training<const D: usize>(ctx: &str, data: &Dataset<'_>, cfg: &TrainConfig) {
    let m0 = start::<D>();
    let one = TrainConfig { epochs: 1, ..*cfg };
    let (v, sv) = train(m0, data, &one);
    let (s, ss) = train(ScalarPath(m0), data, &one);
    assert_eq!(sv.steps, ss.steps, "{ctx}: step counts");
    let (pv, ps) = (params(&v), params(&s.0));
    let scale = pv
        .iter()
        .chain(&ps)
        .fold(0.0f32, |m, w| m.max(w.abs()))
        .max(f32::MIN_POSITIVE);
    for (i, (a, b)) in pv.iter().zip(&ps).enumerate() {
        assert!(
            (a - b).abs() <= TOL * scale,
            "{ctx}: simd/scalar param {i}: {a} vs {b} (scale {scale})"
        );
    }
    let few = TrainConfig {
        epochs: CHECK_EPOCHS,
        ..*cfg
    };
    let (x, y) = (data.x(), data.y());
    let before = m0.loss(x, y).expect("loss");
    let (v, _) = train(m0, data, &few);
    let after = v.loss(x, y).expect("loss");
    assert!(after < before, "{ctx}: simd loss {before} -> {after}");
    let (s, _) = train(ScalarPath(m0), data, &few);
    let (w, b) = (s.0.weights(), s.0.bias());
    let after = (SCALAR.loss)(x, y, w, b).expect("loss");
    assert!(after < before, "{ctx}: scalar loss {before} -> {after}");
}

// ---------------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------------

/// Times one epoch of `fit_with` from `model` with a fresh state, after `ready` (which makes the
/// data and checks the case on first use).
fn bench_epoch<'a, M: Trainable>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    model: M,
    ready: &dyn Fn() -> &'a Data,
    cfg: &TrainConfig,
) {
    group.bench_function(id, |bench| {
        let data = ready().train();
        bench.iter(|| {
            let mut m = model;
            let mut state = OptimState::<M, 2>::new();
            let s = Training::new(cfg).fit_with(&mut m, &mut state, black_box(&data));
            black_box((m, s))
        });
    });
}

fn epoch<const D: usize>(c: &mut Criterion, cells: &Cells) {
    let mut group = c.benchmark_group(format!("epoch/d{D}"));
    group.throughput(Throughput::Bytes(BYTES as u64));
    let n = BYTES / (4 * D);
    for batch in [16, 256, n] {
        let cfg = config(batch, Rule::Sgd, REG, LR);
        let checked = OnceCell::new();
        let ready = || {
            let data = cells.get(D);
            checked.get_or_init(|| {
                check_training::<D>(&format!("epoch/d{D}/{batch}"), &data.train(), &cfg)
            });
            data
        };
        let id = |path| BenchmarkId::new(path, batch);
        bench_epoch(
            &mut group,
            id("scalar"),
            ScalarPath(start::<D>()),
            &ready,
            &cfg,
        );
        bench_epoch(&mut group, id("simd"), start::<D>(), &ready, &cfg);
    }
    group.finish();
}

/// The rules of `epoch_rule`: every rule of the registry ([`Rule::EXAMPLES`], so a new rule is
/// benchmarked without editing this list), by [`Rule::name`], with its penalty and rate.
fn rules() -> Vec<(&'static str, Rule, Regularization, f32)> {
    Rule::EXAMPLES
        .into_iter()
        .map(|rule| {
            let (rule, reg, lr) = match rule {
                Rule::Momentum { .. } | Rule::Adam { .. } => (rule, REG, 0.01),
                Rule::AdamW { .. } => (rule, Regularization::l2(REG.l2), 0.01),
                Rule::Ftrl { .. } => (
                    Rule::Ftrl {
                        beta: 1.0,
                        l1: 1e-3,
                        l2: 1e-3,
                    },
                    Regularization::NONE,
                    0.5,
                ),
                // SGD, averaged SGD, AdaGrad (its first steps are η per coordinate).
                _ => (rule, REG, LR),
            };
            (rule.name(), rule, reg, lr)
        })
        .collect()
}

fn epoch_rule(c: &mut Criterion, cells: &Cells) {
    const D: usize = 32;
    for (name, rule, reg, lr) in rules() {
        let mut group = c.benchmark_group(format!("epoch_rule/{name}"));
        group.throughput(Throughput::Bytes(BYTES as u64));
        let cfg = config(BATCH, rule, reg, lr);
        let checked = OnceCell::new();
        let ready = || {
            let data = cells.get(D);
            checked.get_or_init(|| {
                check_training::<D>(&format!("epoch_rule/{name}"), &data.train(), &cfg)
            });
            data
        };
        let id = |path| BenchmarkId::new(path, BATCH);
        bench_epoch(
            &mut group,
            id("scalar"),
            ScalarPath(start::<D>()),
            &ready,
            &cfg,
        );
        bench_epoch(&mut group, id("simd"), start::<D>(), &ready, &cfg);
        group.finish();
    }
}

/// Plateau, early stop and the (default) guard on, at the plain runs' rate.
fn controller() -> Controller {
    let cfg = ControllerConfig {
        plateau: Some(Plateau {
            patience: 5,
            ..Plateau::default()
        }),
        early_stop: Some(EarlyStop {
            patience: 10,
            ..EarlyStop::default()
        }),
        ..ControllerConfig::constant(LR).expect("valid rate")
    };
    assert!(cfg.guard.is_some());
    Controller::new(cfg).expect("valid controller")
}

/// One controlled run from the start with a fresh state and controller.
fn run_controlled<const D: usize>(
    data: &Dataset<'_>,
    validation: &Dataset<'_>,
    cfg: &TrainConfig,
    ctl: Controller,
) -> (LinearModel<D>, f32) {
    let mut m = start::<D>();
    let mut state = OptimState::<LinearModel<D>, 2>::new();
    let mut ctl = ctl;
    let s = Training::new(cfg)
        .controller(&mut ctl)
        .validation(validation)
        .observer(&mut watch(
            |r| {
                black_box(r);
            },
            |e| {
                black_box(e);
            },
        ))
        .fit_with(&mut m, &mut state, data)
        .expect("controlled training");
    (m, s.best_metric)
}

/// A one-epoch controlled run keeps the plain epoch's weights bit for bit (it improved); a few
/// epochs lower the validation loss.
fn check_controlled<const D: usize>(data: &Data, cfg: &TrainConfig) {
    let (train_set, valid) = (data.train(), data.validation());
    let (plain, _) = train(start::<D>(), &train_set, cfg);
    let (ctl, _) = run_controlled::<D>(&train_set, &valid, cfg, controller());
    assert_eq!(params(&plain), params(&ctl), "controlled/d{D}: one epoch");
    let few = TrainConfig {
        epochs: CHECK_EPOCHS,
        ..*cfg
    };
    let before = start::<D>().loss(valid.x(), valid.y()).expect("loss");
    let (m, best) = run_controlled::<D>(&train_set, &valid, &few, controller());
    let after = m.loss(valid.x(), valid.y()).expect("loss");
    assert!(
        best < before && after == best,
        "controlled/d{D}: {before} -> {after} (best {best})"
    );
}

fn controlled<const D: usize>(c: &mut Criterion, cells: &Cells) {
    let mut group = c.benchmark_group(format!("controlled/d{D}"));
    group.throughput(Throughput::Bytes(BYTES as u64));
    let cfg = config(BATCH, Rule::Sgd, REG, LR);
    let checked = OnceCell::new();
    let ready = || {
        let data = cells.get(D);
        checked.get_or_init(|| check_controlled::<D>(data, &cfg));
        data
    };
    bench_epoch(
        &mut group,
        BenchmarkId::new("fit", BATCH),
        start::<D>(),
        &ready,
        &cfg,
    );
    group.bench_function(BenchmarkId::new("fit_controlled", BATCH), |bench| {
        let data = ready();
        let (train_set, valid) = (data.train(), data.validation());
        let ctl = controller();
        bench.iter(|| run_controlled::<D>(black_box(&train_set), black_box(&valid), &cfg, ctl));
    });
    group.finish();
}

/// What the optimality certificate costs: an epoch at batch 32 (`epoch`), beside the metric
/// pass a controlled epoch made before the certificate (`loss_pass`, a loss-only pass) and the
/// one it makes now (`certified_pass`: the fused pass and the stationarity measure). The
/// certificate's share of a controlled epoch is `(certified − loss)/(epoch + loss)`. The
/// curvature estimate (`lambda_max`, power iteration: once per run, not per epoch) is timed
/// beside them.
fn certificate_group<const D: usize>(c: &mut Criterion, cells: &Cells) {
    let mut group = c.benchmark_group(format!("certificate/d{D}"));
    group.throughput(Throughput::Bytes(BYTES as u64));
    let cfg = config(32, Rule::Sgd, REG, LR);
    bench_epoch(
        &mut group,
        BenchmarkId::new("epoch", 32),
        start::<D>(),
        &|| cells.get(D),
        &cfg,
    );
    let model = start::<D>();
    group.bench_function(BenchmarkId::new("loss_pass", 32), |bench| {
        let data = cells.get(D);
        let (x, y) = (data.x.as_slice(), data.y.as_slice());
        bench.iter(|| model.loss(black_box(x), black_box(y)).expect("loss"));
    });
    group.bench_function(BenchmarkId::new("certified_pass", 32), |bench| {
        let data = cells.get(D);
        let (x, y) = (data.x.as_slice(), data.y.as_slice());
        let mut g = [0.0f32; D];
        // The two metric passes agree before they are timed: the fused pass's loss is the
        // loss pass's, bit for bit.
        let fused = npoa::kernel::fused(x, y, model.weights(), model.bias(), &mut g)
            .expect("fused")
            .loss;
        let plain = model.loss(x, y).expect("loss");
        assert_eq!(
            fused.to_bits(),
            plain.to_bits(),
            "certificate/d{D}: the passes differ"
        );
        bench.iter(|| {
            let lg = npoa::kernel::fused(
                black_box(x),
                black_box(y),
                model.weights(),
                model.bias(),
                &mut g,
            )
            .expect("fused");
            npoa::control::certificate::stationarity(
                &REG,
                LR,
                (model.weights(), &[model.bias()]),
                (&g, &[lg.grad_b]),
            )
        });
    });
    group.bench_function(BenchmarkId::new("lambda_max", 32), |bench| {
        let data = cells.get(D);
        let set = data.train();
        let (mut v, mut g, mut g0) = ([0.0f32; D], [0.0f32; D], [0.0f32; D]);
        bench.iter(|| {
            npoa::control::autolr::lambda_max(black_box(&set), &mut v, &mut g, &mut g0)
                .expect("lambda_max")
        });
    });
    group.finish();
}

/// The model of `evaluate` and `model_bytes`: the start trained for a few epochs (SIMD).
fn trained<const D: usize>(data: &Data) -> LinearModel<D> {
    let cfg = TrainConfig {
        epochs: CHECK_EPOCHS,
        ..config(BATCH, Rule::Sgd, REG, LR)
    };
    train(start::<D>(), &data.train(), &cfg).0
}

fn evaluate_group<const D: usize>(c: &mut Criterion, cells: &Cells) {
    let mut group = c.benchmark_group(format!("evaluate/d{D}"));
    group.throughput(Throughput::Bytes(BYTES as u64));
    let n = BYTES / (4 * D);
    let case: OnceCell<(&Data, LinearModel<D>)> = OnceCell::new();
    let ready = || {
        *case.get_or_init(|| {
            let data = cells.get(D);
            let m = trained::<D>(data);
            let (x, y) = (data.x.as_slice(), data.y.as_slice());
            let r = evaluate(&m, x, y).expect("evaluate");
            let l = f64::from(m.loss(x, y).expect("loss"));
            assert_eq!(r.n, data.n());
            assert!(
                (r.mse - l).abs() <= EVAL_TOL * l,
                "evaluate/d{D}: mse {} vs loss kernel {l}",
                r.mse
            );
            (data, m)
        })
    };
    group.bench_function(BenchmarkId::new("simd", n), |bench| {
        let (data, m) = ready();
        let (x, y) = (data.x.as_slice(), data.y.as_slice());
        bench.iter(|| evaluate(black_box(&m), black_box(x), black_box(y)));
    });
    group.bench_function(BenchmarkId::new("loss", n), |bench| {
        let (data, m) = ready();
        let (x, y) = (data.x.as_slice(), data.y.as_slice());
        bench.iter(|| black_box(&m).loss(black_box(x), black_box(y)));
    });
    group.finish();
}

/// Room for the largest model's bytes.
const MAX_LEN: usize = encoded_len(256, 1);

fn model_bytes<const D: usize>(c: &mut Criterion, cells: &Cells) {
    let mut group = c.benchmark_group(format!("model_bytes/d{D}"));
    let len = encoded_len(D, 1);
    group.throughput(Throughput::Bytes(len as u64));
    let case: OnceCell<(LinearModel<D>, [u8; MAX_LEN])> = OnceCell::new();
    let ready = || {
        *case.get_or_init(|| {
            let m = trained::<D>(cells.get(D));
            let mut buf = [0u8; MAX_LEN];
            assert_eq!(m.to_bytes(&mut buf[..len]), Ok(len));
            let back = LinearModel::<D>::from_bytes(&buf[..len]).expect("decode");
            let bits =
                |m: &LinearModel<D>| params(m).iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&back), bits(&m), "model_bytes/d{D}: bits");
            assert_eq!(back, m, "model_bytes/d{D}: model");
            (m, buf)
        })
    };
    group.bench_function(BenchmarkId::new("encode", len), |bench| {
        let (m, _) = ready();
        let mut buf = [0u8; MAX_LEN];
        bench.iter(|| black_box(&m).to_bytes(black_box(&mut buf[..len])));
    });
    group.bench_function(BenchmarkId::new("decode", len), |bench| {
        let (_, buf) = ready();
        bench.iter(|| LinearModel::<D>::from_bytes(black_box(&buf[..len])));
    });
    group.finish();
}

fn training(c: &mut Criterion) {
    let cells = Cells::default();
    epoch::<4>(c, &cells);
    epoch::<32>(c, &cells);
    epoch::<256>(c, &cells);
    epoch_rule(c, &cells);
    controlled::<32>(c, &cells);
    controlled::<4>(c, &cells);
    certificate_group::<4>(c, &cells);
    certificate_group::<32>(c, &cells);
    certificate_group::<256>(c, &cells);
    evaluate_group::<4>(c, &cells);
    evaluate_group::<32>(c, &cells);
    evaluate_group::<256>(c, &cells);
    model_bytes::<4>(c, &cells);
    model_bytes::<32>(c, &cells);
    model_bytes::<256>(c, &cells);
}

criterion_group! {
    name = benches;
    config = shared::config();
    targets = training
}
criterion_main!(benches);
