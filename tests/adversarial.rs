//! Adversarial inputs: subnormal, huge (±3e38), alternating-sign and all-zero data, and
//! hyper-parameters at the edges of their types. Each gives a clear `Err` or a finite, correct
//! result, and never a panic or a corrupted model.

mod common;

use npoa::control::{Controller, ControllerConfig};
use npoa::kernel::{SCALAR, SIMD};
use npoa::loss::Loss;
use npoa::optim::{Regularization, Rule};
use npoa::train::{Dataset, TrainConfig, Training, fit};
use npoa::{Error, LinearClassifier, LinearModel};

/// Every loss of the registry, and parameters at the edges of their types. The targets of
/// `data` are in `[0, 1]`, in every loss's domain.
fn losses() -> Vec<Loss> {
    let mut v = Loss::ALL.to_vec();
    v.extend([
        Loss::Huber { delta: f32::MAX },
        Loss::Quantile {
            tau: f32::from_bits(1),
        },
        Loss::Quantile {
            tau: 1.0 - f32::EPSILON / 2.0,
        },
    ]);
    v
}

/// `(x, y)` of `n` rows of `d` features from a per-index value.
fn data(d: usize, n: usize, f: impl Fn(usize) -> f32) -> (Vec<f32>, Vec<f32>) {
    (
        (0..n * d).map(&f).collect(),
        (0..n).map(|i| f(i + 7).abs().min(1.0)).collect(),
    )
}

/// Every kernel on `(x, y)`: an `Err` of the documented kinds, or finite results (and the
/// two paths agree on which).
fn kernels_err_or_finite(x: &[f32], y: &[f32], w: &[f32], b: f32) {
    let d = w.len();
    for loss in losses() {
        let mut outcomes = Vec::new();
        for k in [SCALAR, SIMD] {
            let mut g = vec![0.0f32; d];
            let r = loss.fused(&k, x, y, w, b, &mut g);
            match r {
                Ok(lg) => {
                    assert!(lg.loss.is_finite() && lg.grad_b.is_finite(), "{loss:?}");
                    assert!(g.iter().all(|v| v.is_finite()), "{loss:?}");
                    outcomes.push(true);
                }
                Err(Error::Overflow { .. } | Error::NonFinite { .. }) => outcomes.push(false),
                Err(e) => panic!("{loss:?}: unexpected {e:?}"),
            }
        }
        assert_eq!(
            outcomes[0], outcomes[1],
            "{loss:?}: the paths disagree on Ok/Err"
        );
    }
    let k = 3;
    let labels: Vec<f32> = (0..y.len()).map(|i| (i % k) as f32).collect();
    let wk: Vec<f32> = w.iter().cycle().take(k * d).copied().collect();
    for kern in [SCALAR, SIMD] {
        let (mut gw, mut gb) = (vec![0.0f32; k * d], vec![0.0f32; k]);
        match (kern.softmax_fused)(x, &labels, &wk, &[b, 0.0, -b], &mut gw, &mut gb) {
            Ok(l) => assert!(l.is_finite() && gw.iter().chain(&gb).all(|v| v.is_finite())),
            Err(Error::Overflow { .. }) => {}
            Err(e) => panic!("softmax: unexpected {e:?}"),
        }
    }
}

#[test]
fn subnormal_data_is_exact_enough_and_finite() {
    // Subnormal features and targets: every product is 0 or subnormal; results are finite and,
    // for the squared error, the loss is the mean of y² (which underflows to 0 here).
    let tiny = f32::from_bits(1); // 1.4e-45
    for d in [1usize, 4, 8, 9, 33] {
        let (x, y) = data(d, 40, |i| tiny * (i % 7) as f32);
        let w: Vec<f32> = (0..d).map(|j| 0.5 + j as f32).collect();
        kernels_err_or_finite(&x, &y, &w, 0.0);
        let mut g = vec![0.0f32; d];
        let lg = npoa::kernel::fused(&x, &y, &w, 0.0, &mut g).unwrap();
        assert_eq!(lg.loss, 0.0);
        let (x, y) = data(d, 40, |i| f32::MIN_POSITIVE * 0.5 * (i % 5) as f32);
        kernels_err_or_finite(&x, &y, &w, 1e-38);
    }
}

#[test]
fn huge_data_is_an_overflow_error_or_finite() {
    for d in [1usize, 3, 8, 17] {
        for v in [3e38f32, -3e38] {
            let (x, y) = data(d, 20, |i| if i % 3 == 0 { v } else { 1.0 });
            let w = vec![1.0f32; d];
            kernels_err_or_finite(&x, &y, &w, 0.0);
            let mut g = vec![0.0f32; d];
            assert!(matches!(
                npoa::kernel::fused(&x, &y, &w, 0.0, &mut g),
                Err(Error::Overflow { .. })
            ));
        }
        // Huge but with tiny weights: finite and correct.
        let (x, y) = data(d, 20, |i| if i % 2 == 0 { 3e38 } else { -3e38 });
        let w = vec![1e-38f32; d];
        kernels_err_or_finite(&x, &y, &w, 0.0);
    }
}

#[test]
fn alternating_signs_cancel_exactly() {
    // x = ±1 alternating by row, y = 0, w = 1: residuals ±d, so the squared error is d², the
    // bias gradient cancels to 0 exactly (pairs in every lane and block) and each weight
    // gradient is (2/n)·Σ(±d)(±1) = 2d exactly.
    for d in [1usize, 2, 7, 8, 16, 31] {
        for n in [2usize, 16, 256, 514] {
            let x: Vec<f32> = (0..n * d)
                .map(|i| if (i / d) % 2 == 0 { 1.0 } else { -1.0 })
                .collect();
            let y = vec![0.0f32; n];
            let w = vec![1.0f32; d];
            for k in [SCALAR, SIMD] {
                let mut g = vec![0.0f32; d];
                let lg = (k.fused)(&x, &y, &w, 0.0, &mut g).unwrap();
                assert_eq!(lg.loss, (d * d) as f32, "{} d={d} n={n}", k.name);
                assert_eq!(lg.grad_b, 0.0);
                assert!(
                    g.iter().all(|v| *v == 2.0 * d as f32),
                    "{} d={d} n={n}: {g:?}",
                    k.name
                );
            }
        }
    }
}

#[test]
fn all_zero_data_gives_the_exact_answer() {
    for d in [1usize, 5, 8, 40] {
        let x = vec![0.0f32; 30 * d];
        let y = vec![0.0f32; 30];
        let w = vec![0.0f32; d];
        for k in [SCALAR, SIMD] {
            let mut g = vec![1.0f32; d];
            let lg = (k.fused)(&x, &y, &w, 0.0, &mut g).unwrap();
            assert_eq!((lg.loss, lg.grad_b), (0.0, 0.0));
            assert!(g.iter().all(|v| *v == 0.0));
            let lg = Loss::Logistic.fused(&k, &x, &y, &w, 0.0, &mut g).unwrap();
            // ln 2 within the 1-ulp accuracy of the SIMD log (the scalar path rounds it once).
            assert!(
                (lg.loss - core::f32::consts::LN_2).abs() <= 6e-8,
                "{}",
                lg.loss
            );
            assert_eq!(lg.grad_b, 0.5);
        }
        // Training on all-zero features: only the bias moves, to the mean target.
        #[cfg(feature = "std")]
        train_on_zeros(&x, d);
    }
}

#[cfg(feature = "std")]
fn train_on_zeros(x: &[f32], d: usize) {
    {
        let yb: Vec<f32> = (0..30).map(|i| (i % 3) as f32).collect();
        let data = Dataset::new(x, &yb, d).unwrap();
        let mut m = npoa::DynLinearModel::zeros(d).unwrap();
        let cfg = TrainConfig {
            learning_rate: 0.4,
            epochs: 200,
            batch_size: 30,
            ..TrainConfig::default()
        };
        fit(&mut m, &data, &cfg).unwrap();
        assert!(m.weights().iter().all(|v| *v == 0.0));
        assert!((m.bias() - 1.0).abs() < 1e-5, "{}", m.bias());
    }
}

/// `fit` with `cfg` on a small well-behaved problem: an `Err` with the model unchanged, or a
/// finite model.
fn err_or_finite(cfg: &TrainConfig, what: &str) {
    let (x, y) = data(3, 12, |i| ((i * 7) % 11) as f32 / 11.0 - 0.5);
    let data = Dataset::new(&x, &y, 3).unwrap();
    let m0 = LinearModel::<3>::new([0.1, -0.2, 0.3], 0.05).unwrap();
    for loss in losses() {
        let mut m = m0.with_loss(loss).unwrap();
        let before = m;
        match fit(&mut m, &data, cfg) {
            Err(_) => assert_eq!(m, before, "{what} {loss:?}: Err must leave the model"),
            Ok(_) => assert!(
                m.weights().iter().all(|v| v.is_finite()) && m.bias().is_finite(),
                "{what} {loss:?}"
            ),
        }
    }
    let mut c = LinearClassifier::<3, 2>::zeros();
    let yl: Vec<f32> = y.iter().map(|v| f32::from(*v > 0.3)).collect();
    let d2 = Dataset::new(&x, &yl, 3).unwrap();
    if fit(&mut c, &d2, cfg).is_ok() {
        assert!(
            c.weights().as_flattened().iter().all(|v| v.is_finite()),
            "{what}"
        );
    }
}

#[test]
fn hyper_parameters_at_the_edges_of_their_types() {
    let base = TrainConfig {
        epochs: 3,
        batch_size: 4,
        ..TrainConfig::default()
    };
    let rates = [f32::MIN_POSITIVE, f32::from_bits(1), 1e30, f32::MAX];
    for lr in rates {
        for rule in [
            Rule::Sgd,
            Rule::momentum(0.999_999),
            Rule::ADAM,
            Rule::Adam {
                beta1: 0.0,
                beta2: 0.999_999_9,
                eps: f32::MIN_POSITIVE,
            },
            Rule::Averaged { start: u64::MAX },
            Rule::Ftrl {
                beta: f32::MAX,
                l1: f32::MAX,
                l2: f32::MAX,
            },
            Rule::ADAGRAD,
            Rule::AdaGrad {
                eps: f32::MIN_POSITIVE,
            },
            Rule::AdaGrad { eps: f32::MAX },
        ] {
            let reg = if matches!(rule, Rule::Ftrl { .. }) {
                Regularization::NONE
            } else {
                Regularization {
                    l1: f32::MAX,
                    l2: f32::MAX,
                    bias: true,
                    bounds: Some((-f32::MAX, f32::MAX)),
                }
            };
            let cfg = TrainConfig {
                learning_rate: lr,
                optimizer: rule,
                regularization: reg,
                ..base
            };
            err_or_finite(&cfg, &format!("lr {lr:e} {rule:?}"));
        }
    }
    for batch_size in [1usize, usize::MAX] {
        err_or_finite(&TrainConfig { batch_size, ..base }, "batch");
    }
    err_or_finite(&TrainConfig { epochs: 0, ..base }, "no epochs");
    err_or_finite(
        &TrainConfig {
            seed: u64::MAX,
            ..base
        },
        "seed",
    );
    // Invalid values are errors before any step.
    for lr in [0.0f32, -1.0, f32::NAN, f32::INFINITY] {
        let cfg = TrainConfig {
            learning_rate: lr,
            ..base
        };
        let (x, y) = data(3, 12, |i| i as f32);
        let data = Dataset::new(&x, &y, 3).unwrap();
        let mut m = LinearModel::<3>::zeros();
        assert!(matches!(
            fit(&mut m, &data, &cfg),
            Err(Error::InvalidParameter { .. })
        ));
    }
    // The controller at the edges: huge and tiny rates, limits at the type's ends.
    for lr in rates {
        let Ok(mut cc) = ControllerConfig::constant(lr) else {
            continue;
        };
        cc.min_lr = 0.0;
        cc.max_lr = f32::MAX;
        let mut ctl = Controller::new(cc).unwrap();
        let (x, y) = data(3, 12, |i| ((i * 5) % 9) as f32 - 4.0);
        let data = Dataset::new(&x, &y, 3).unwrap();
        let mut m = LinearModel::<3>::zeros();
        let r = Training::new(&base).controller(&mut ctl).fit(&mut m, &data);
        assert!(r.is_ok(), "lr {lr:e}: {r:?}");
        assert!(m.weights().iter().all(|v| v.is_finite()) && m.bias().is_finite());
    }
}
