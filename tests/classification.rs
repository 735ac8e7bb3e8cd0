//! Classification and robust regression end to end: training with each loss through the
//! no_std loops and the controller, the classification metrics, and the agreement between a
//! two-class softmax and logistic regression.

mod common;

use common::SplitMix64;
use npoa::control::{Controller, ControllerConfig};
use npoa::loss::{Loss, Objective};
use npoa::model::metrics::{ClassificationAcc, evaluate_classifier, evaluate_logistic};
use npoa::train::{Dataset, TrainConfig, Trainable, Training, fit};
use npoa::{Error, LinearClassifier, LinearModel};

/// `n` points of `D` features in `k` clusters around well-separated centres, labels as floats.
/// With `margin`, points closer than that to the separating hyperplane `x_0 = 0` of a binary
/// problem are redrawn, so the data are linearly separable.
fn clusters<const D: usize>(n: usize, k: usize, seed: u64, spread: f32) -> (Vec<f32>, Vec<f32>) {
    let mut g = SplitMix64::new(seed);
    let mut x = Vec::with_capacity(n * D);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % k;
        // Centres on a circle of radius 4 in the first two features.
        let a = c as f32 * core::f32::consts::TAU / k as f32;
        let centre = [4.0 * a.cos(), 4.0 * a.sin()];
        for j in 0..D {
            let base = centre.get(j).copied().unwrap_or(0.0);
            x.push(base + g.sym(spread));
        }
        y.push(c as f32);
    }
    (x, y)
}

#[test]
fn logistic_training_on_separable_data_reaches_full_accuracy() {
    // Two clusters at (4, 0) and (−4, 0) with spread 3: separable by x_0 = 0 with margin 1.
    let (x, y) = clusters::<5>(400, 2, 1, 3.0);
    // Label 1 for the cluster at x_0 = −4, to make the sign non-trivial.
    let data = Dataset::new(&x, &y, 5).unwrap();
    let mut model = LinearModel::<5>::zeros().with_loss(Loss::Logistic).unwrap();
    let lr =
        npoa::control::autolr::stable_rate_for_objective::<5>(&data, model.objective()).unwrap();
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs: 200,
        batch_size: 32,
        ..TrainConfig::default()
    };
    let s = fit(&mut model, &data, &cfg).unwrap();
    let c = evaluate_logistic(&model, &x, &y).unwrap();
    assert_eq!(c.accuracy, 1.0, "{c:?}");
    assert_eq!(c.confusion, [[200, 0], [0, 200]]);
    assert!(c.log_loss < 0.05, "log-loss {}", c.log_loss);
    assert!(s.final_loss < 0.05);
    for (row, &t) in x.chunks_exact(5).zip(&y) {
        let p = model.predict_proba(row).unwrap();
        assert_eq!(model.predict_class(row).unwrap(), t as usize);
        assert!((t == 1.0 && p > 0.5) || (t == 0.0 && p < 0.5));
    }
}

#[test]
fn softmax_training_separates_three_classes() {
    let (x, y) = clusters::<4>(300, 3, 2, 1.5);
    let data = Dataset::new(&x, &y, 4).unwrap();
    let mut model = LinearClassifier::<4, 3>::zeros();
    let mut ctl =
        Controller::new(ControllerConfig::auto_for::<4>(&data, model.objective()).unwrap())
            .unwrap();
    let cfg = TrainConfig {
        epochs: 100,
        batch_size: 16,
        ..TrainConfig::default()
    };
    let s = Training::new(&cfg)
        .controller(&mut ctl)
        .fit(&mut model, &data)
        .unwrap();
    assert_eq!(s.rollbacks, 0);
    let c = evaluate_classifier(&model, &x, &y).unwrap();
    assert_eq!(c.accuracy, 1.0, "{c:?}");
    assert!(c.macro_f1 == 1.0 && c.log_loss < 0.1, "{c:?}");
    let p = model.predict_proba(&x[..4]).unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
}

#[test]
fn two_class_softmax_matches_logistic_regression() {
    // From zero weights, a two-class softmax at rate η keeps w_1 = −w_0, and its logit
    // difference follows logistic regression at rate 2η exactly (in exact arithmetic).
    let (x, y) = clusters::<3>(256, 2, 3, 5.0);
    let data = Dataset::new(&x, &y, 3).unwrap();
    let cfg = |lr| TrainConfig {
        learning_rate: lr,
        epochs: 50,
        batch_size: 32,
        ..TrainConfig::default()
    };
    let mut soft = LinearClassifier::<3, 2>::zeros();
    fit(&mut soft, &data, &cfg(0.05)).unwrap();
    let mut logi = LinearModel::<3>::zeros().with_loss(Loss::Logistic).unwrap();
    fit(&mut logi, &data, &cfg(0.1)).unwrap();
    let w = soft.weights();
    for (j, l) in logi.weights().iter().enumerate() {
        let v = w[1][j] - w[0][j];
        assert!(
            (v - l).abs() <= 1e-4 * (1.0 + v.abs()),
            "w[{j}]: softmax {v} logistic {l}"
        );
    }
    for row in x.chunks_exact(3) {
        let ps = soft.predict_proba(row).unwrap()[1];
        let pl = logi.predict_proba(row).unwrap();
        assert!((ps - pl).abs() < 1e-4, "{ps} vs {pl}");
    }
}

#[test]
fn huber_resists_outliers_that_pull_squared_error() {
    // y = 2x + 1 with 10 % of the targets replaced by +50.
    let mut g = SplitMix64::new(4);
    let n = 400;
    let x: Vec<f32> = (0..n).map(|_| g.sym(2.0)).collect();
    let y: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| if i % 10 == 0 { 50.0 } else { 2.0 * v + 1.0 })
        .collect();
    let data = Dataset::new(&x, &y, 1).unwrap();
    let train = |loss: Loss| {
        let mut m = LinearModel::<1>::zeros().with_loss(loss).unwrap();
        let mut ctl =
            Controller::new(ControllerConfig::auto_for::<1>(&data, m.objective()).unwrap())
                .unwrap();
        let cfg = TrainConfig {
            epochs: 300,
            batch_size: 50,
            ..TrainConfig::default()
        };
        let s = Training::new(&cfg)
            .controller(&mut ctl)
            .fit(&mut m, &data)
            .unwrap();
        assert_eq!(s.rollbacks, 0, "{loss:?}");
        m
    };
    let sq = train(Loss::Squared);
    let hu = train(Loss::Huber { delta: 1.0 });
    let ab = train(Loss::Absolute);
    // Squared error: the outliers move the bias by about 0.1·(50 − 1) ≈ 4.9.
    assert!((sq.bias() - 1.0).abs() > 3.0, "squared bias {}", sq.bias());
    assert!((hu.bias() - 1.0).abs() < 0.3, "huber bias {}", hu.bias());
    assert!(
        (hu.weights()[0] - 2.0).abs() < 0.2,
        "huber w {}",
        hu.weights()[0]
    );
    assert!((ab.bias() - 1.0).abs() < 0.5, "absolute bias {}", ab.bias());
}

#[test]
fn stable_rates_follow_the_curvature_bound() {
    let (x, y) = clusters::<2>(64, 2, 5, 1.0);
    let data = Dataset::new(&x, &y, 2).unwrap();
    let base = npoa::control::autolr::stable_rate_for::<2>(&data).unwrap();
    let at = |o| npoa::control::autolr::stable_rate_for_objective::<2>(&data, o).unwrap();
    assert_eq!(at(Objective::Single(Loss::Squared)), base);
    assert!((at(Objective::Single(Loss::Logistic)) / base - 8.0).abs() < 1e-5);
    assert!((at(Objective::Softmax) / base - 4.0).abs() < 1e-5);
    assert!((at(Objective::Single(Loss::Huber { delta: 3.0 })) / base - 2.0).abs() < 1e-5);
    assert!((at(Objective::Single(Loss::Absolute)) / base - 2.0).abs() < 1e-5);
    // The quantile loss as the absolute one; Poisson's bound 4 (means up to 4): half the rate.
    let q = at(Objective::Single(Loss::Quantile { tau: 0.9 }));
    assert!((q / base - 2.0).abs() < 1e-5);
    assert!((at(Objective::Single(Loss::Poisson)) / base - 0.5).abs() < 1e-5);
    for l in Loss::ALL {
        assert!(Objective::Single(l).curvature_bound() > 0.0, "{l:?}");
    }
}

#[test]
fn metrics_match_hand_counts() {
    let mut acc = ClassificationAcc::<3>::default();
    // (label, predicted): 0→0 ×3, 0→1, 1→1 ×2, 2→1, 2→2.
    for (l, p) in [
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 1),
        (1, 1),
        (1, 1),
        (2, 1),
        (2, 2),
    ] {
        acc.add(l, p, 0.5).unwrap();
    }
    let c = acc.finish().unwrap();
    assert_eq!(c.n, 8);
    assert_eq!(c.accuracy, 6.0 / 8.0);
    assert_eq!(c.log_loss, 0.5);
    assert_eq!(c.precision, [1.0, 0.5, 1.0]);
    assert_eq!(c.recall, [0.75, 1.0, 0.5]);
    let f1 = |p: f64, r: f64| 2.0 * p * r / (p + r);
    assert_eq!(c.f1, [f1(1.0, 0.75), f1(0.5, 1.0), f1(1.0, 0.5)]);
    assert!((c.macro_f1 - c.f1.iter().sum::<f64>() / 3.0).abs() < 1e-15);
    assert_eq!(c.confusion[2], [0, 1, 1]);
    // Bad input leaves the accumulator unchanged.
    let before = acc;
    assert!(acc.add(3, 0, 0.1).is_err());
    assert!(acc.add(0, 3, 0.1).is_err());
    assert!(acc.add(0, 0, f64::NAN).is_err());
    assert!(acc.add(0, 0, -1.0).is_err());
    assert_eq!(acc, before);
    assert_eq!(
        ClassificationAcc::<2>::default().finish(),
        Err(Error::EmptyBatch)
    );
}

#[test]
fn classification_metrics_reject_bad_labels() {
    let m = LinearModel::<1>::new([1.0], 0.0).unwrap();
    assert!(matches!(
        evaluate_logistic(&m, &[1.0, 2.0], &[0.0, 0.5]),
        Err(Error::InvalidData { what: "y", .. })
    ));
    let c = LinearClassifier::<1, 2>::zeros();
    assert!(matches!(
        evaluate_classifier(&c, &[1.0, 2.0], &[0.0, 2.0]),
        Err(Error::InvalidData { what: "y", .. })
    ));
    assert!(matches!(
        evaluate_classifier(&c, &[1.0], &[0.0, 1.0]),
        Err(Error::LengthMismatch { what: "x", .. })
    ));
}

#[test]
fn bad_labels_stop_training_with_the_model_unchanged() {
    let x = [1.0f32, 2.0, 3.0];
    let data = Dataset::new(&x, &[0.0, 1.0, 2.0], 1).unwrap();
    let mut m = LinearModel::<1>::new([0.5], 0.1)
        .unwrap()
        .with_loss(Loss::Logistic)
        .unwrap();
    let before = m;
    let cfg = TrainConfig::default();
    assert!(fit(&mut m, &data, &cfg).is_err());
    assert_eq!(m, before);
    let mut c = LinearClassifier::<1, 2>::random(1, 0.5).unwrap();
    let before = c;
    assert!(fit(&mut c, &data, &cfg).is_err());
    assert_eq!(c, before);
    let mut ctl = Controller::new(ControllerConfig::constant(0.1).unwrap()).unwrap();
    assert!(
        Training::new(&cfg)
            .controller(&mut ctl)
            .fit(&mut c, &data)
            .is_err()
    );
    assert_eq!(c, before);
}

#[cfg(feature = "std")]
#[test]
fn run_time_sized_models_give_the_same_bits() {
    let (x, y) = clusters::<3>(100, 3, 6, 2.0);
    let data = Dataset::new(&x, &y, 3).unwrap();
    let cfg = TrainConfig {
        learning_rate: 0.1,
        epochs: 20,
        batch_size: 10,
        ..TrainConfig::default()
    };
    let mut a = LinearClassifier::<3, 3>::zeros();
    fit(&mut a, &data, &cfg).unwrap();
    let mut b = npoa::DynClassifier::zeros(3, 3).unwrap();
    fit(&mut b, &data, &cfg).unwrap();
    assert_eq!(a.weights().as_flattened(), b.weights());
    assert_eq!(&a.biases()[..], b.biases());
    assert_eq!(
        a.predict_class(&x[..3]).unwrap(),
        b.predict_class(&x[..3]).unwrap()
    );
    assert_eq!(a.loss(&x, &y).unwrap(), b.loss(&x, &y).unwrap());
    // Logistic, fixed size and run-time size.
    let yb: Vec<f32> = y.iter().map(|&v| f32::from(v == 1.0)).collect();
    let data = Dataset::new(&x, &yb, 3).unwrap();
    let mut m = LinearModel::<3>::zeros().with_loss(Loss::Logistic).unwrap();
    fit(&mut m, &data, &cfg).unwrap();
    let mut d = npoa::DynLinearModel::zeros(3)
        .unwrap()
        .with_loss(Loss::Logistic)
        .unwrap();
    fit(&mut d, &data, &cfg).unwrap();
    assert_eq!(&m.weights()[..], d.weights());
    assert_eq!(m.bias(), d.bias());
}
