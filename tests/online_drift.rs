//! The streaming learner with a statistical drift detector and with recursive least squares
//! (issue 19): the sensor swap of `examples/sensor_stream.rs` recovered within 50 samples and
//! no restart in 100 000 stationary samples (three seeds each), the RLS learner equal to the
//! standalone `Rls` bit for bit, a classifier's detector on its errors, resuming from bytes
//! bit for bit, and the configurations that are refused.

#![cfg(feature = "std")]

#[path = "../examples/shared/sensor.rs"]
mod sensor;

use npoa::control::drift::{
    Adwin, AdwinConfig, AnyDetector, DdmConfig, DetectorConfig, EddmConfig, PageHinkley,
    PageHinkleyConfig, PhMode,
};
use npoa::control::{ControllerConfig, EventKind};
use npoa::loss::Loss;
use npoa::online::{Gradient, OnlineConfig, OnlineLearner, Sampling};
use npoa::optim::{Rls, RlsConfig, Rule};
use npoa::{Error, LinearModel};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// The acceptance of the sensor swap: the short rolling error (10 samples) back under 0.01
/// within 50 samples of the swap, and no restart in 100 000 samples of one regime.
#[test]
fn the_sensor_swap_is_recovered_within_50_samples_and_no_false_alarm() {
    for seed in [7, 8, 9] {
        let samples = sensor::stream(4000, seed);
        let trace = sensor::run_config(&samples, sensor::rls_config(sensor::default_detector()));
        let back = sensor::recovery(&trace, 2000, 0.01);
        println!("seed {seed}: back under 0.01 after {back:?} samples");
        assert!(back.is_some_and(|n| n <= 50), "seed {seed}: {back:?}");
        assert!(trace.short[1999] < 0.01, "converged before the swap");
        // And it stays there (the 100-sample mean too, once the swap has left it).
        assert!(
            trace.rolling[2200..].iter().all(|&e| e < 0.01),
            "seed {seed}"
        );
        assert!(trace.learner.restarts() >= 1);

        let long = sensor::stream(200_000, seed);
        let trace = sensor::run_config(
            &long[..100_000],
            sensor::rls_config(sensor::default_detector()),
        );
        assert_eq!(
            trace.learner.restarts(),
            0,
            "seed {seed}: {:?}",
            trace.events
        );
        assert!(trace.rolling[99_999] < 0.01);
    }
}

/// Without a detector (and without the heuristic) the RLS learner stays on the old sensor.
#[test]
fn without_a_detector_the_swap_is_not_recovered() {
    let samples = sensor::stream(4000, 7);
    let trace = sensor::run_config(&samples, sensor::rls_config(None));
    assert_eq!(trace.learner.restarts(), 0);
    assert!(trace.rolling[3999] > 0.1, "{}", trace.rolling[3999]);
}

/// With nothing held out, no standardisation and no detector, the learner's model is the
/// standalone `Rls` fed the same samples, bit for bit (its rounds end on the training loss
/// and change nothing while nothing diverges).
#[test]
fn the_rls_learner_is_rls() {
    const D: usize = 3;
    let cfg = RlsConfig {
        forgetting: 0.995,
        delta: 100.0,
    };
    let config = OnlineConfig {
        holdout_every: 0,
        standardize: None,
        detector: None,
        drift: None,
        rls: Some(cfg),
        ..OnlineConfig::default()
    };
    let mut learner = OnlineLearner::<LinearModel<D>, D, 16, 1, Adwin, Rls<D>>::new(
        LinearModel::zeros(),
        ControllerConfig::constant(0.1).unwrap(),
        config,
        Sampling::Sliding,
    )
    .unwrap();
    let mut rls = Rls::<D>::new(cfg).unwrap();
    let mut g = Xoshiro256PlusPlus::seed_from_u64(3);
    let mut rounds = 0;
    for i in 0..2000 {
        let x: [f32; D] = core::array::from_fn(|_| g.random_range(-1.0f32..1.0));
        let y = 2.0 * x[0] - x[1] + 0.5 * x[2] + 0.1 + g.random_range(-0.05f32..0.05);
        learner.push(&x, y).unwrap();
        rounds += learner.step(&mut |_| {}).unwrap().rounds;
        rls.update(&x, y).unwrap();
        let m = learner.model();
        assert_eq!(
            (m.weights().map(f32::to_bits), m.bias().to_bits()),
            (rls.weights().map(f32::to_bits), rls.bias().to_bits()),
            "sample {i}"
        );
    }
    assert!(rounds > 100, "rounds ended: {rounds}");
    assert_eq!(learner.updates(), 2000);
}

/// A logistic classifier whose labels flip halfway: DDM (and EDDM) watch its errors and
/// restart it; the gradient learner then learns the flipped rule.
#[test]
fn a_classifier_detector_watches_its_errors() {
    const D: usize = 2;
    for det in [
        DetectorConfig::Ddm(DdmConfig::default()),
        DetectorConfig::Eddm(EddmConfig::default()),
        DetectorConfig::Adwin(AdwinConfig::default()),
    ] {
        let mut learner = OnlineLearner::<LinearModel<D>, D, 64, 16, AnyDetector>::new(
            LinearModel::zeros().with_loss(Loss::Logistic).unwrap(),
            ControllerConfig::constant(0.5).unwrap(),
            OnlineConfig {
                detector: Some(det),
                ..OnlineConfig::default()
            },
            Sampling::Sliding,
        )
        .unwrap();
        let mut g = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut restarts = Vec::new();
        let mut correct = 0;
        for i in 0..6000 {
            let x: [f32; D] = core::array::from_fn(|_| g.random_range(-1.0f32..1.0));
            let side = x[0] + 0.5 * x[1] > 0.0;
            let y = if (i < 3000) == side { 1.0 } else { 0.0 };
            if i >= 5000 {
                let p = learner.model().predict_proba(&x).unwrap();
                correct += u32::from((p > 0.5) == (y > 0.5));
            }
            learner.push(&x, y).unwrap();
            learner
                .step(&mut |e| {
                    if matches!(e.kind, EventKind::Restarted { .. }) {
                        restarts.push(i)
                    }
                })
                .unwrap();
        }
        println!("{det:?}: restarts at {restarts:?}, accuracy {correct}/1000 at the end");
        assert!(
            restarts.iter().any(|&i| (3000..3300).contains(&i)),
            "{det:?}: {restarts:?}"
        );
        assert!(correct > 900, "{det:?}: {correct}");
    }
}

/// Bytes at every 97th sample and decoded again: the same run, bit for bit, for every
/// detector, with RLS and with SGD.
#[test]
fn a_learner_with_a_detector_resumes_bit_for_bit() {
    type L = OnlineLearner<LinearModel<4>, 4, 64, 16, AnyDetector, Rls<4>>;
    let dets = [
        DetectorConfig::Adwin(AdwinConfig {
            clock: 4,
            warning_delta: Some(0.01),
            ..AdwinConfig::default()
        }),
        DetectorConfig::PageHinkley(PageHinkleyConfig {
            mode: PhMode::Up,
            threshold: 5.0,
            ..PageHinkleyConfig::default()
        }),
        DetectorConfig::Ddm(DdmConfig::default()),
        DetectorConfig::Eddm(EddmConfig::default()),
    ];
    let samples = sensor::stream(3000, 11);
    for det in dets {
        for rls in [None, Some(RlsConfig::default())] {
            let config = OnlineConfig {
                detector: Some(det),
                rls,
                ..sensor::config(None)
            };
            let new = || {
                L::new(
                    LinearModel::zeros(),
                    sensor::controller(),
                    config,
                    Sampling::Sliding,
                )
            };
            let (mut a, mut b) = (new().unwrap(), new().unwrap());
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            let mut buf = vec![0u8; L::ENCODED_LEN];
            for (i, (x, y)) in samples.iter().enumerate() {
                a.push(x, *y).unwrap();
                a.step(&mut |e| ea.push(*e)).unwrap();
                b.push(x, *y).unwrap();
                b.step(&mut |e| eb.push(*e)).unwrap();
                if i % 97 == 0 {
                    b.encode(&mut buf).unwrap();
                    b = L::decode(&buf).unwrap();
                }
            }
            let (mut fa, mut fb) = (vec![0u8; L::ENCODED_LEN], vec![0u8; L::ENCODED_LEN]);
            a.encode(&mut fa).unwrap();
            b.encode(&mut fb).unwrap();
            assert!(fa == fb, "{det:?} {rls:?}");
            assert_eq!(ea, eb);
            assert!(
                a.restarts() >= 1,
                "{det:?} {rls:?}: the swap at 1500 is seen"
            );
        }
    }
}

/// The learner's bytes with a flipped byte (CRC recomputed) in the detector's or the RLS
/// slot are refused or decode to a valid learner; never a panic.
#[test]
fn hostile_tails_are_refused() {
    type L = OnlineLearner<LinearModel<4>, 4, 16, 4, PageHinkley, Rls<4>>;
    let mut l = L::new(
        LinearModel::zeros(),
        sensor::controller(),
        OnlineConfig {
            detector: Some(DetectorConfig::PageHinkley(PageHinkleyConfig::default())),
            ..sensor::rls_config(None)
        },
        Sampling::Sliding,
    )
    .unwrap();
    for (x, y) in sensor::stream(300, 2) {
        l.push(&x, y).unwrap();
        l.step(&mut |_| {}).unwrap();
    }
    let mut good = vec![0u8; L::ENCODED_LEN];
    l.encode(&mut good).unwrap();
    let tail = PageHinkley::ENCODED_LEN + Rls::<4>::ENCODED_LEN + 17;
    let mut refused = 0;
    for i in good.len() - 4 - tail..good.len() - 4 {
        let mut bad = good.clone();
        bad[i] ^= 0x40;
        let n = bad.len();
        let crc = npoa::model::bytes::crc32(&bad[..n - 4]);
        bad[n - 4..].copy_from_slice(&crc.to_le_bytes());
        if L::decode(&bad).is_err() {
            refused += 1;
        }
    }
    assert!(refused > tail / 4, "{refused} of {tail}");
}

/// What the types cannot hold, or RLS cannot fit, is refused with the field's name.
#[test]
fn configurations_that_do_not_fit_are_refused() {
    let name = |r: Result<(), Error>| match r {
        Err(Error::InvalidParameter { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    let ctl = ControllerConfig::constant(0.1).unwrap();
    let ph = DetectorConfig::PageHinkley(PageHinkleyConfig::default());
    // The default learner stores an ADWIN: a Page-Hinkley configuration needs its type.
    let r = OnlineLearner::<LinearModel<2>, 2, 8, 4>::new(
        LinearModel::zeros(),
        ctl,
        OnlineConfig {
            detector: Some(ph),
            ..OnlineConfig::default()
        },
        Sampling::Sliding,
    );
    assert_eq!(name(r.map(|_| ())), "detector");
    // RLS without its storage.
    let rls = Some(RlsConfig::default());
    let r = OnlineLearner::<LinearModel<2>, 2, 8, 4, Adwin, Gradient>::new(
        LinearModel::zeros(),
        ctl,
        OnlineConfig {
            rls,
            ..OnlineConfig::default()
        },
        Sampling::Sliding,
    );
    assert_eq!(name(r.map(|_| ())), "rls");
    // RLS fits the squared loss only, with no other update rule.
    let r = OnlineLearner::<LinearModel<2>, 2, 8, 4, Adwin, Rls<2>>::new(
        LinearModel::zeros().with_loss(Loss::Logistic).unwrap(),
        ctl,
        OnlineConfig {
            rls,
            ..OnlineConfig::default()
        },
        Sampling::Sliding,
    );
    assert_eq!(name(r.map(|_| ())), "rls");
    let bad = OnlineConfig {
        rls,
        optimizer: Rule::ADAM,
        ..OnlineConfig::default()
    };
    assert_eq!(name(bad.validate()), "rls");
    let bad = OnlineConfig {
        rls: Some(RlsConfig {
            forgetting: 1.5,
            ..RlsConfig::default()
        }),
        ..OnlineConfig::default()
    };
    assert!(bad.validate().is_err());
}

/// Found by the `online` fuzz target: with an absurd forgetting factor (6e-19) and scale (4e15),
/// RLS weights finite in `f64` overflowed `f32` when read into the model. An update that would
/// leave `f32`'s range is now refused (`P` reset, the sample retried, or an overflow error),
/// so the model stays finite.
#[test]
fn rls_weights_stay_within_f32() {
    let cfg = RlsConfig {
        forgetting: 6.030899399868995e-19,
        delta: 3_894_013_040_001_024.0,
    };
    let mut rls = Rls::<3>::new(cfg).unwrap();
    let mut g = Xoshiro256PlusPlus::seed_from_u64(1);
    for _ in 0..2000 {
        let x: [f32; 3] = core::array::from_fn(|_| g.random_range(-1e-3f32..1e-3));
        let y = g.random_range(-1.0f32..1.0) * 3e38;
        let _ = rls.update(&x, y);
        assert!(rls.weights().iter().all(|w| w.is_finite()) && rls.bias().is_finite());
    }
}

/// The bytes of state at D = 8 of the rate-free learners and the detectors (issue 19's size
/// figure), printed and asserted: RLS `8·(D² + 2D + 6)`, NLMS none beyond SGD's 16-byte tag
/// and step count, ADWIN under 3000, Page-Hinkley 88.
#[test]
fn state_bytes_at_d8() {
    use core::mem::size_of;
    let rls = size_of::<Rls<8>>();
    let nlms = Rule::NLMS.state_bytes(9);
    let (adwin, ph) = (size_of::<Adwin>(), size_of::<PageHinkley>());
    println!("D = 8: Rls {rls} B, NLMS {nlms} B, ADWIN {adwin} B, Page-Hinkley {ph} B");
    assert_eq!(rls, 8 * (64 + 16 + 6));
    assert_eq!(nlms, Rule::Sgd.state_bytes(9));
    assert_eq!(nlms, 16);
    assert!(adwin < 3000);
    assert_eq!(ph, 88);
}
