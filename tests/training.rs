//! The training loop: convergence to ordinary least squares, the seed example against an `f64`
//! gradient descent, determinism, every error case (and the model left unchanged), divergence,
//! and the `Strategy` seam.

// `DynLinearModel` comes with the default `std` feature; the no_std core is covered by the
// other suites, which build without it.
#![cfg(feature = "std")]

mod common;

use common::SplitMix64;
use npoa::train::{Dataset, Decision, Epoch, Observer, Stop, TrainConfig, Training, fit, observe};
use npoa::{DynLinearModel, Error, LinearModel};

fn bits<const D: usize>(m: &LinearModel<D>) -> ([u32; D], u32) {
    (m.weights().map(f32::to_bits), m.bias().to_bits())
}

fn dyn_bits(m: &DynLinearModel) -> (Vec<u32>, u32) {
    (
        m.weights().iter().map(|w| w.to_bits()).collect(),
        m.bias().to_bits(),
    )
}

/// `y = x·w_true + b_true + noise`, `x ∈ [-1, 1)`, `w_true ∈ [-2, 2)`, `b_true = 0.5`,
/// noise uniform in `[-noise, noise)`.
fn regression_data(d: usize, n: usize, seed: u64, noise: f32) -> (Vec<f32>, Vec<f32>) {
    let mut g = SplitMix64::new(seed);
    let w_true: Vec<f32> = (0..d).map(|_| g.sym(2.0)).collect();
    let x: Vec<f32> = (0..n * d).map(|_| g.unit()).collect();
    let y = x
        .chunks_exact(d)
        .map(|row| {
            let p: f64 = row.iter().zip(&w_true).map(|(a, b)| f64::from(a * b)).sum();
            (p + 0.5) as f32 + g.sym(noise)
        })
        .collect();
    (x, y)
}

/// Ordinary least squares with a bias column, in `f64`: the normal equations
/// `[XᵀX Xᵀ1; 1ᵀX n]·[w; b] = [Xᵀy; 1ᵀy]` solved by Cholesky. Returns `(w, b)`.
fn ols(x: &[f32], y: &[f32], d: usize) -> (Vec<f64>, f64) {
    let m = d + 1;
    let mut a = vec![0.0f64; m * m];
    let mut rhs = vec![0.0f64; m];
    for (row, &yi) in x.chunks_exact(d).zip(y) {
        let z: Vec<f64> = row.iter().map(|v| f64::from(*v)).chain([1.0]).collect();
        for p in 0..m {
            rhs[p] += z[p] * f64::from(yi);
            for q in 0..m {
                a[p * m + q] += z[p] * z[q];
            }
        }
    }
    // Cholesky: a = L·Lᵀ, L stored in the lower triangle of `l`.
    let mut l = vec![0.0f64; m * m];
    for i in 0..m {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * m + k] * l[j * m + k]).sum();
            if i == j {
                let v = a[i * m + i] - s;
                assert!(v > 0.0, "normal equations not positive definite");
                l[i * m + i] = v.sqrt();
            } else {
                l[i * m + j] = (a[i * m + j] - s) / l[j * m + j];
            }
        }
    }
    // L·z = rhs, then Lᵀ·sol = z.
    let mut z = vec![0.0f64; m];
    for i in 0..m {
        let s: f64 = (0..i).map(|k| l[i * m + k] * z[k]).sum();
        z[i] = (rhs[i] - s) / l[i * m + i];
    }
    let mut sol = vec![0.0f64; m];
    for i in (0..m).rev() {
        let s: f64 = (i + 1..m).map(|k| l[k * m + i] * sol[k]).sum();
        sol[i] = (z[i] - s) / l[i * m + i];
    }
    let b = sol[d];
    sol.truncate(d);
    (sol, b)
}

/// Halves the learning rate every `every` epochs (a simple schedule through the `Strategy`
/// seam, so that mini-batch noise dies out and the iterates settle on the minimum).
struct StepDecay {
    every: u32,
}

impl Observer for StepDecay {
    fn on_epoch(&mut self, r: &Epoch) -> Decision {
        if r.epoch.is_multiple_of(self.every) {
            Decision::SetLearningRate(r.learning_rate * 0.5)
        } else {
            Decision::Continue
        }
    }
}

const OLS_CONFIG: TrainConfig = TrainConfig {
    learning_rate: 0.2,
    epochs: 120,
    batch_size: 32,
    shuffle: true,
    seed: 7,
    optimizer: npoa::optim::Rule::Sgd,
    regularization: npoa::optim::Regularization::NONE,
};

/// Trains `LinearModel<D>` and `DynLinearModel` on the same data and checks both against OLS:
/// `‖(w, b) − (w_ols, b_ols)‖₂ ≤ 1e-3 · ‖(w_ols, b_ols)‖₂` (measured: 1.7e-4 for `D = 1`,
/// 6e-5..7e-5 for `D = 3, 8, 17`); and the two models are bit-identical.
fn converges_to_ols<const D: usize>(n: usize, seed: u64) {
    let (x, y) = regression_data(D, n, seed, 0.01);
    let data = Dataset::new(&x, &y, D).unwrap();
    let (w_ols, b_ols) = ols(&x, &y, D);

    let mut model = LinearModel::<D>::zeros();
    let summary = Training::new(&OLS_CONFIG)
        .observer(&mut StepDecay { every: 20 })
        .fit(&mut model, &data)
        .unwrap();
    assert_eq!(summary.stop, Stop::MaxEpochs);
    assert_eq!(summary.epochs, OLS_CONFIG.epochs);
    assert_eq!(
        summary.steps,
        u64::from(OLS_CONFIG.epochs) * n.div_ceil(32) as u64
    );

    let mut err2 = (f64::from(model.bias()) - b_ols).powi(2);
    let mut norm2 = b_ols * b_ols;
    for (w, wo) in model.weights().iter().zip(&w_ols) {
        err2 += (f64::from(*w) - wo).powi(2);
        norm2 += wo * wo;
    }
    let rel = (err2 / norm2).sqrt();
    assert!(
        rel <= 1e-3,
        "D = {D}, n = {n}: relative distance to OLS {rel:e}"
    );
    // The training loss is at the OLS loss (about noise² / 3 ≈ 3.3e-5 for uniform noise ±0.01).
    let ols_loss = {
        let w: Vec<f32> = w_ols.iter().map(|v| *v as f32).collect();
        npoa::kernel::loss(&x, &y, &w, b_ols as f32).unwrap()
    };
    let loss = model.loss(&x, &y).unwrap();
    assert!(
        (loss - ols_loss).abs() <= 1e-3 * ols_loss,
        "loss {loss} vs OLS {ols_loss}"
    );

    // The run-time-sized model: same kernels, same loop, same bits.
    let mut dm = DynLinearModel::zeros(D).unwrap();
    let dsum = Training::new(&OLS_CONFIG)
        .observer(&mut StepDecay { every: 20 })
        .fit(&mut dm, &data)
        .unwrap();
    assert_eq!(dsum, summary);
    let (wb, bb) = bits(&model);
    assert_eq!(dyn_bits(&dm), (wb.to_vec(), bb));
}

#[test]
fn converges_to_ols_d1() {
    converges_to_ols::<1>(300, 1);
}

#[test]
fn converges_to_ols_d3() {
    converges_to_ols::<3>(250, 2);
}

#[test]
fn converges_to_ols_d8() {
    converges_to_ols::<8>(400, 3);
}

#[test]
fn converges_to_ols_d17() {
    converges_to_ols::<17>(500, 4);
}

/// The seed: `y = 2x` on four points, full batch, `η = 0.01`, 1000 epochs from zeros.
#[test]
fn seed_example_matches_f64_gradient_descent() {
    let x = [1.0f32, 2.0, 3.0, 4.0];
    let y = [2.0f32, 4.0, 6.0, 8.0];
    let data = Dataset::new(&x, &y, 1).unwrap();
    let mut model = LinearModel::<1>::zeros();
    let config = TrainConfig {
        learning_rate: 0.01,
        epochs: 1000,
        batch_size: 4,
        ..TrainConfig::default()
    };
    let mut reports = Vec::new();
    let summary = Training::new(&config)
        .observer(&mut observe(|r: &Epoch| reports.push(*r)))
        .fit(&mut model, &data)
        .unwrap();
    let (w, b) = (model.weights()[0], model.bias());
    assert!((w - 2.0).abs() < 0.02, "w = {w}");
    assert!(b.abs() < 0.05, "b = {b}");
    assert!(summary.final_loss < 1e-3, "loss = {}", summary.final_loss);
    assert_eq!(summary.epochs, 1000);
    assert_eq!(summary.steps, 1000);
    assert_eq!(summary.stop, Stop::MaxEpochs);

    // The same descent in f64: the loss of an epoch is taken before its step.
    let (mut wf, mut bf) = (0.0f64, 0.0f64);
    let mut losses = Vec::new();
    for _ in 0..1000 {
        let (mut gw, mut gb, mut l) = (0.0, 0.0, 0.0);
        for (xi, yi) in x.iter().zip(&y) {
            let r = wf * f64::from(*xi) + bf - f64::from(*yi);
            l += r * r / 4.0;
            gw += 2.0 * r * f64::from(*xi) / 4.0;
            gb += 2.0 * r / 4.0;
        }
        losses.push(l);
        wf -= 0.01 * gw;
        bf -= 0.01 * gb;
    }
    assert!((f64::from(w) - wf).abs() < 1e-4, "w = {w}, f64: {wf}");
    assert!((f64::from(b) - bf).abs() < 1e-4, "b = {b}, f64: {bf}");
    assert!((f64::from(summary.final_loss) - losses[999]).abs() < 1e-5);
    // The reports: epochs from 1, one step each, the loss before the step.
    assert_eq!(reports.len(), 1000);
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r.epoch, i as u32 + 1);
        assert_eq!(r.steps, i as u64 + 1);
        assert_eq!(r.learning_rate, 0.01);
        let want = losses[i];
        assert!(
            (f64::from(r.train_loss) - want).abs() <= 1e-4 * want.max(1e-2),
            "epoch {}: {} vs {want}",
            r.epoch,
            r.train_loss
        );
    }
    assert_eq!(reports[999].train_loss, summary.final_loss);
}

fn train_bits(seed: u64, shuffle: bool) -> ([u32; 3], u32) {
    let (x, y) = regression_data(3, 200, 99, 0.1);
    let data = Dataset::new(&x, &y, 3).unwrap();
    let mut model = LinearModel::<3>::random(5, 0.5).unwrap();
    let config = TrainConfig {
        learning_rate: 0.05,
        epochs: 5,
        batch_size: 16,
        shuffle,
        seed,
        ..TrainConfig::default()
    };
    fit(&mut model, &data, &config).unwrap();
    bits(&model)
}

#[test]
fn training_is_deterministic() {
    assert_eq!(train_bits(1, true), train_bits(1, true));
    assert_eq!(train_bits(123, true), train_bits(123, true));
    assert_ne!(train_bits(1, true), train_bits(2, true));
    assert_ne!(train_bits(1, true), train_bits(1, false));
    // Without shuffling, the seed is not used.
    assert_eq!(train_bits(1, false), train_bits(2, false));
    // The random initialisation is seeded too.
    assert_eq!(
        bits(&LinearModel::<5>::random(3, 1.0).unwrap()),
        bits(&LinearModel::<5>::random(3, 1.0).unwrap())
    );
    assert_ne!(
        bits(&LinearModel::<5>::random(3, 1.0).unwrap()),
        bits(&LinearModel::<5>::random(4, 1.0).unwrap())
    );
}

#[test]
fn dataset_errors() {
    let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    let y = [1.0f32, 2.0, 3.0];
    assert_eq!(Dataset::new(&x, &y, 0).err(), Some(Error::ZeroFeatures));
    assert_eq!(Dataset::new(&[], &[], 0).err(), Some(Error::ZeroFeatures));
    assert_eq!(Dataset::new(&x, &[], 2).err(), Some(Error::EmptyBatch));
    assert_eq!(Dataset::new(&[], &[], 2).err(), Some(Error::EmptyBatch));
    for (len, d) in [(5usize, 2usize), (7, 2), (0, 2), (6, 3), (6, 1)] {
        let xs = vec![1.0f32; len];
        assert_eq!(
            Dataset::new(&xs, &y, d).err(),
            Some(Error::LengthMismatch {
                what: "x",
                expected: 3 * d,
                found: len
            }),
            "len {len} d {d}"
        );
    }
    // A length mismatch is reported before a NaN.
    assert!(matches!(
        Dataset::new(&[f32::NAN; 5], &y, 2),
        Err(Error::LengthMismatch { .. })
    ));
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        for i in 0..6 {
            let mut xs = x;
            xs[i] = bad;
            xs[5] = bad;
            assert_eq!(
                Dataset::new(&xs, &y, 2).err(),
                Some(Error::NonFinite {
                    what: "x",
                    index: i
                })
            );
            // x is checked before y.
            let mut ys = y;
            ys[0] = bad;
            assert_eq!(
                Dataset::new(&xs, &ys, 2).err(),
                Some(Error::NonFinite {
                    what: "x",
                    index: i
                })
            );
        }
        for i in 0..3 {
            let mut ys = y;
            ys[i] = bad;
            ys[2] = bad;
            assert_eq!(
                Dataset::new(&x, &ys, 2).err(),
                Some(Error::NonFinite {
                    what: "y",
                    index: i
                })
            );
        }
    }
    let data = Dataset::new(&x, &y, 2).unwrap();
    assert_eq!(
        (data.len(), data.features(), data.is_empty()),
        (3, 2, false)
    );
}

fn small_data() -> (Vec<f32>, Vec<f32>) {
    regression_data(2, 50, 5, 0.1)
}

/// The parameter named by an `InvalidParameter` error.
fn invalid_name(e: Option<Error>) -> Option<&'static str> {
    match e {
        Some(Error::InvalidParameter { name, .. }) => Some(name),
        _ => None,
    }
}

#[test]
fn config_errors_leave_the_model_unchanged() {
    let (x, y) = small_data();
    let data = Dataset::new(&x, &y, 2).unwrap();
    let good = TrainConfig::default();
    assert_eq!(good.validate(), Ok(()));
    let mut bad_configs = Vec::new();
    for lr in [
        0.0f32,
        -0.0,
        -0.01,
        -1e30,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        bad_configs.push((
            TrainConfig {
                learning_rate: lr,
                ..good
            },
            "learning_rate",
        ));
    }
    bad_configs.push((
        TrainConfig {
            batch_size: 0,
            ..good
        },
        "batch_size",
    ));
    // The learning rate is checked first.
    bad_configs.push((
        TrainConfig {
            learning_rate: f32::NAN,
            batch_size: 0,
            ..good
        },
        "learning_rate",
    ));
    for (config, name) in bad_configs {
        assert_eq!(
            invalid_name(config.validate().err()),
            Some(name),
            "{config:?}"
        );
        let mut model = LinearModel::new([0.25, -0.5], 0.125).unwrap();
        let before = bits(&model);
        let e = fit(&mut model, &data, &config).err();
        assert_eq!(invalid_name(e), Some(name), "{config:?}");
        assert_eq!(bits(&model), before);

        let mut dm = DynLinearModel::new(vec![0.25, -0.5], 0.125).unwrap();
        let before = dyn_bits(&dm);
        let e = fit(&mut dm, &data, &config).err();
        assert_eq!(invalid_name(e), Some(name), "{config:?}");
        assert_eq!(dyn_bits(&dm), before);
    }
}

#[test]
fn feature_count_mismatch_leaves_the_model_unchanged() {
    let (x, y) = small_data();
    let data = Dataset::new(&x, &y, 2).unwrap();
    let mut model = LinearModel::new([1.0, 2.0, 3.0], 4.0).unwrap();
    let before = bits(&model);
    let e = fit(&mut model, &data, &TrainConfig::default()).err();
    // The data are blamed, not the weights.
    assert_eq!(e, Some(Error::FeatureMismatch { model: 3, data: 2 }));
    assert_eq!(
        e.map(|e| e.to_string()).as_deref(),
        Some("the data have 2 features but the model has 3")
    );
    assert_eq!(bits(&model), before);

    let mut dm = DynLinearModel::new(vec![1.0], 4.0).unwrap();
    let e = fit(&mut dm, &data, &TrainConfig::default()).err();
    assert_eq!(e, Some(Error::FeatureMismatch { model: 1, data: 2 }));
    assert_eq!(dyn_bits(&dm), (vec![1.0f32.to_bits()], 4.0f32.to_bits()));
}

#[test]
fn model_constructor_errors() {
    assert_eq!(
        LinearModel::new([1.0, f32::NAN, f32::NAN], 0.0).err(),
        Some(Error::NonFinite {
            what: "w",
            index: 1
        })
    );
    assert_eq!(
        LinearModel::new([f32::INFINITY], 0.0).err(),
        Some(Error::NonFinite {
            what: "w",
            index: 0
        })
    );
    assert_eq!(
        LinearModel::new([1.0, 2.0], f32::NAN).err(),
        Some(Error::NonFinite {
            what: "b",
            index: 0
        })
    );
    assert_eq!(
        LinearModel::new([1.0], f32::NEG_INFINITY).err(),
        Some(Error::NonFinite {
            what: "b",
            index: 0
        })
    );
    assert_eq!(
        LinearModel::<0>::new([], 0.0).err(),
        Some(Error::ZeroFeatures)
    );
    let m = LinearModel::new([1.5, -2.0], 0.5).unwrap();
    assert_eq!((*m.weights(), m.bias()), ([1.5, -2.0], 0.5));

    for scale in [f32::NAN, -1.0, -0.5e-30, f32::INFINITY, f32::NEG_INFINITY] {
        assert_eq!(
            invalid_name(LinearModel::<4>::random(1, scale).err()),
            Some("scale"),
            "scale {scale}"
        );
    }
    let z = LinearModel::<4>::random(1, 0.0).unwrap();
    assert!(z.weights().iter().all(|w| *w == 0.0) && z.bias() == 0.0);
    let r = LinearModel::<64>::random(9, 0.25).unwrap();
    assert!(r.weights().iter().all(|w| w.abs() <= 0.25) && r.bias() == 0.0);

    assert_eq!(DynLinearModel::zeros(0).err(), Some(Error::ZeroFeatures));
    assert_eq!(
        DynLinearModel::new(vec![], 0.0).err(),
        Some(Error::ZeroFeatures)
    );
    assert_eq!(
        DynLinearModel::new(vec![0.0, 0.0, f32::NAN], 0.0).err(),
        Some(Error::NonFinite {
            what: "w",
            index: 2
        })
    );
    assert_eq!(
        DynLinearModel::new(vec![0.0], f32::INFINITY).err(),
        Some(Error::NonFinite {
            what: "b",
            index: 0
        })
    );
}

#[test]
fn divergence_stops_with_finite_parameters() {
    let mut g = SplitMix64::new(31);
    let x: Vec<f32> = (0..64 * 2).map(|_| g.sym(100.0)).collect();
    let y: Vec<f32> = (0..64).map(|_| g.sym(100.0)).collect();
    let data = Dataset::new(&x, &y, 2).unwrap();
    let config = TrainConfig {
        learning_rate: 1e3,
        epochs: 1000,
        batch_size: 16,
        ..TrainConfig::default()
    };
    let mut model = LinearModel::<2>::zeros();
    let before = bits(&model);
    let e = fit(&mut model, &data, &config).err();
    let Some(Error::Diverged { epoch }) = e else {
        panic!("expected Diverged, got {e:?}")
    };
    assert!((1..=1000).contains(&epoch), "{epoch}");
    // Not the runaway weights of the last epochs: the model as it was.
    assert_eq!(bits(&model), before);
    // Under a controller the same rate is answered by the guard: rollbacks and cuts, and a
    // finite best model.
    let mut ctl = npoa::control::Controller::new(
        npoa::control::ControllerConfig::constant(config.learning_rate).unwrap(),
    )
    .unwrap();
    let mut cm = LinearModel::<2>::zeros();
    let s = Training::new(&config)
        .controller(&mut ctl)
        .fit(&mut cm, &data)
        .unwrap();
    assert!(s.rollbacks > 0, "{s:?}");
    assert!(cm.weights().iter().all(|w| w.is_finite()));

    // The same on the run-time-sized model: the same epoch, the model unchanged.
    let mut dm = DynLinearModel::zeros(2).unwrap();
    let de = fit(&mut dm, &data, &config).err();
    assert_eq!(de, Some(Error::Diverged { epoch }));
    let (wb, bb) = bits(&model);
    assert_eq!(dyn_bits(&dm), (wb.to_vec(), bb));
}

/// Answers `SetLearningRate(rate)` after the first epoch.
struct SetRate(f32);

impl Observer for SetRate {
    fn on_epoch(&mut self, _: &Epoch) -> Decision {
        Decision::SetLearningRate(self.0)
    }
}

#[test]
fn strategy_invalid_rate_is_an_error_and_leaves_the_model_unchanged() {
    let (x, y) = small_data();
    let data = Dataset::new(&x, &y, 2).unwrap();
    let config = TrainConfig {
        epochs: 10,
        ..TrainConfig::default()
    };
    for rate in [f32::NAN, 0.0, -0.1, f32::INFINITY] {
        let mut model = LinearModel::new([0.5, 0.5], 0.0).unwrap();
        let before = bits(&model);
        let e = Training::new(&config)
            .observer(&mut SetRate(rate))
            .fit(&mut model, &data)
            .err();
        assert_eq!(invalid_name(e), Some("learning_rate"), "rate {rate}");
        assert_eq!(bits(&model), before, "rate {rate}");

        let mut dm = DynLinearModel::new(vec![0.5, 0.5], 0.0).unwrap();
        let before = dyn_bits(&dm);
        let e = Training::new(&config)
            .observer(&mut SetRate(rate))
            .fit(&mut dm, &data)
            .err();
        assert_eq!(invalid_name(e), Some("learning_rate"), "rate {rate}");
        assert_eq!(dyn_bits(&dm), before, "rate {rate}");
    }
    // A valid new rate is used from the next epoch on.
    let mut rec = Recorder(Vec::new());
    let mut model = LinearModel::<2>::zeros();
    let summary = Training::new(&config)
        .observer(&mut rec)
        .fit(&mut model, &data)
        .unwrap();
    assert_eq!(summary.epochs, 10);
    let mut want = vec![0.003f32; 10];
    want[0] = config.learning_rate;
    assert_eq!(rec.0, want);
}

/// Records the rate of each epoch and answers `SetLearningRate(0.003)`.
struct Recorder(Vec<f32>);

impl Observer for Recorder {
    fn on_epoch(&mut self, r: &Epoch) -> Decision {
        self.0.push(r.learning_rate);
        Decision::SetLearningRate(0.003)
    }
}

/// Stops after a given epoch.
struct StopAfter(u32);

impl Observer for StopAfter {
    fn on_epoch(&mut self, r: &Epoch) -> Decision {
        if r.epoch >= self.0 {
            Decision::Stop
        } else {
            Decision::Continue
        }
    }
}

#[test]
fn strategy_stop() {
    let (x, y) = small_data();
    let data = Dataset::new(&x, &y, 2).unwrap();
    let config = TrainConfig {
        epochs: 100,
        batch_size: 8,
        ..TrainConfig::default()
    };
    let mut model = LinearModel::<2>::zeros();
    let summary = Training::new(&config)
        .observer(&mut StopAfter(3))
        .fit(&mut model, &data)
        .unwrap();
    assert_eq!(summary.epochs, 3);
    assert_eq!(summary.stop, Stop::Observer);
    assert_eq!(summary.steps, 3 * 7); // 50 samples in batches of 8
    assert!(summary.final_loss.is_finite());

    // Three epochs stopped by the strategy are three epochs of the plain loop.
    let mut plain = LinearModel::<2>::zeros();
    let s = fit(
        &mut plain,
        &data,
        &TrainConfig {
            epochs: 3,
            ..config
        },
    )
    .unwrap();
    assert_eq!(s.stop, Stop::MaxEpochs);
    assert_eq!(
        (s.epochs, s.steps, s.final_loss.to_bits()),
        (3, 21, summary.final_loss.to_bits())
    );
    assert_eq!(bits(&plain), bits(&model));

    // Zero epochs: an error naming the field (not `Ok` with a NaN loss), nothing changed.
    let mut z = LinearModel::<2>::zeros();
    let zero = TrainConfig {
        epochs: 0,
        ..config
    };
    let e = Training::new(&zero)
        .observer(&mut StopAfter(1))
        .fit(&mut z, &data)
        .err();
    assert_eq!(invalid_name(e), Some("epochs"));
    assert_eq!(bits(&z), bits(&LinearModel::<2>::zeros()));
    let mut dz = DynLinearModel::zeros(2).unwrap();
    assert_eq!(
        invalid_name(fit(&mut dz, &data, &zero).err()),
        Some("epochs")
    );
}

/// Without shuffling, training is exactly the documented update, reproduced here with the
/// public kernel: for each batch in order, `fused`, then `w_j ← w_j − η·g_j`, `b ← b − η·g_b`
/// (all `f32`); the epoch's loss is the batch losses weighted by batch size (in `f64`). Bit for
/// bit, including a short last batch. With a single batch, shuffling changes nothing.
#[test]
fn training_is_the_documented_update() {
    const D: usize = 9;
    let (x, y) = regression_data(D, 70, 8, 0.1);
    let data = Dataset::new(&x, &y, D).unwrap();
    let config = TrainConfig {
        learning_rate: 0.05,
        epochs: 4,
        batch_size: 16,
        shuffle: false,
        seed: 0,
        ..TrainConfig::default()
    };
    let mut losses = Vec::new();
    let mut model = LinearModel::<D>::random(11, 0.3).unwrap();
    let init = model;
    let summary = Training::new(&config)
        .observer(&mut observe(|r: &Epoch| losses.push(r.train_loss)))
        .fit(&mut model, &data)
        .unwrap();
    assert_eq!(summary.steps, 4 * 5);

    let mut w = *init.weights();
    let mut b = init.bias();
    let mut g = [0.0f32; D];
    let mut want_losses = Vec::new();
    for _ in 0..4 {
        let mut epoch_loss = 0.0f64;
        for start in (0..70).step_by(16) {
            let end = (start + 16).min(70);
            let lg =
                npoa::kernel::fused(&x[start * D..end * D], &y[start..end], &w, b, &mut g).unwrap();
            for (wj, gj) in w.iter_mut().zip(&g) {
                *wj -= 0.05 * gj;
            }
            b -= 0.05 * lg.grad_b;
            epoch_loss += f64::from(lg.loss) * (end - start) as f64;
        }
        want_losses.push((epoch_loss / 70.0) as f32);
    }
    assert_eq!(bits(&model), (w.map(f32::to_bits), b.to_bits()));
    let lb: Vec<u32> = losses.iter().map(|l| l.to_bits()).collect();
    let wb: Vec<u32> = want_losses.iter().map(|l| l.to_bits()).collect();
    assert_eq!(lb, wb);

    // One batch: the shuffled and the plain loop agree.
    let full = TrainConfig {
        batch_size: 1000,
        ..config
    };
    let mut a = init;
    let mut c = init;
    fit(&mut a, &data, &full).unwrap();
    fit(
        &mut c,
        &data,
        &TrainConfig {
            shuffle: true,
            seed: 9,
            ..full
        },
    )
    .unwrap();
    assert_eq!(bits(&a), bits(&c));
}

/// The model's own helpers go through the SIMD kernels.
#[test]
fn model_predict_and_loss_use_the_kernels() {
    let (x, y) = regression_data(5, 40, 12, 0.1);
    let m = LinearModel::<5>::random(2, 1.0).unwrap();
    let mut out = vec![0.0f32; 40];
    m.predict_batch(&x, &mut out).unwrap();
    let want = common::emu::forward(&x, m.weights(), m.bias());
    common::same_bits_slice("predict_batch", &out, &want).unwrap();
    for (i, row) in x.chunks_exact(5).enumerate() {
        assert_eq!(m.predict(row).unwrap().to_bits(), want[i].to_bits());
    }
    let l = m.loss(&x, &y).unwrap();
    assert_eq!(
        l.to_bits(),
        common::emu::fused(&x, &y, m.weights(), m.bias())
            .loss
            .to_bits()
    );
    assert_eq!(
        m.predict(&x[..4]).err(),
        Some(Error::LengthMismatch {
            what: "x",
            expected: 5,
            found: 4
        })
    );
    let dm = DynLinearModel::new(m.weights().to_vec(), m.bias()).unwrap();
    assert_eq!(dm.loss(&x, &y).unwrap().to_bits(), l.to_bits());
    let mut out2 = vec![0.0f32; 40];
    dm.predict_batch(&x, &mut out2).unwrap();
    common::same_bits_slice("dyn predict_batch", &out2, &want).unwrap();
}

/// `ScalarPath` trains with the scalar reference kernels and updates: for SGD with an L1
/// penalty, momentum and Adam, on a
/// size with a SIMD tail (d = 9) and mini-batches, it ends within 1e-4 (relative to the largest
/// weight) of the SIMD path, after the same number of steps.
#[test]
fn scalar_path_matches_simd_path() {
    use npoa::optim::{Regularization, Rule};
    use npoa::train::ScalarPath;
    let (x, y) = regression_data(9, 300, 77, 0.1);
    let data = Dataset::new(&x, &y, 9).unwrap();
    let rules = [Rule::Sgd, Rule::momentum(0.9), Rule::ADAM];
    for rule in rules {
        let config = TrainConfig {
            learning_rate: if matches!(rule, Rule::Adam { .. }) {
                0.01
            } else {
                0.02
            },
            epochs: 20,
            batch_size: 32,
            optimizer: rule,
            regularization: Regularization {
                l1: 1e-3,
                ..Regularization::NONE
            },
            ..TrainConfig::default()
        };
        let mut simd = LinearModel::<9>::zeros();
        let mut scalar = ScalarPath(LinearModel::<9>::zeros());
        let a = fit(&mut simd, &data, &config).unwrap();
        let b = fit(&mut scalar, &data, &config).unwrap();
        assert_eq!(a.steps, b.steps);
        let scale = simd.weights().iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (p, q) in simd.weights().iter().zip(scalar.0.weights()) {
            assert!((p - q).abs() <= 1e-4 * scale, "{rule:?}: {p} vs {q}");
        }
        assert!((simd.bias() - scalar.0.bias()).abs() <= 1e-4 * scale);
        assert!((a.final_loss - b.final_loss).abs() <= 1e-4 * a.final_loss.max(1e-3));
    }
}

/// `predict_one` (a `[f32; D]`, infallible) gives `predict`'s bits on every kernel shape (tiny
/// `d < 8`, the fixed wide sizes, the run-time wide size), and a non-finite value where
/// `predict` reports an error.
#[test]
fn predict_one_matches_predict_on_every_shape() {
    fn check<const D: usize>() {
        let mut g = SplitMix64::new(D as u64 + 3);
        let w: [f32; D] = core::array::from_fn(|_| g.sym(2.0));
        let m = LinearModel::new(w, g.sym(1.0)).unwrap();
        for _ in 0..20 {
            let x: [f32; D] = core::array::from_fn(|_| g.sym(4.0));
            assert_eq!(
                m.predict_one(&x).to_bits(),
                m.predict(&x).unwrap().to_bits(),
                "D = {D}"
            );
        }
        let mut bad = [1.0f32; D];
        bad[D - 1] = f32::NAN;
        assert!(m.predict(&bad).is_err());
        assert!(!m.predict_one(&bad).is_finite(), "D = {D}");
    }
    check::<1>();
    check::<3>();
    check::<7>();
    check::<8>();
    check::<9>();
    check::<16>();
    check::<33>();
    check::<64>();
    check::<100>();
}
