//! Whole training runs on arbitrary small data and settings: an `Err`, or a finite model —
//! never a panic, never a non-finite parameter.

use npoa::LinearModel;
use npoa::control::{Clip, Controller, ControllerConfig, Guard};
use npoa::train::{Dataset, TrainConfig, Training, fit};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -10.0f32..10.0,
        1 => Just(0.0f32),
        1 => Just(1e30f32),
        1 => Just(-3e38f32),
        1 => Just(1e-40f32),
    ]
}

fn rate() -> impl Strategy<Value = f32> {
    prop_oneof![
        Just(1e-30f32),
        1e-4f32..1.0,
        Just(1e3f32),
        Just(f32::MAX),
        Just(0.0f32),
        Just(f32::NAN),
        Just(-1.0f32),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn fit_is_err_or_finite(
        x in prop::collection::vec(value(), 0..48),
        y in prop::collection::vec(value(), 0..12),
        lr in rate(),
        epochs in 0u32..20,
        batch in 0usize..8,
        shuffle in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let n = y.len();
        let x = &x[..x.len().min(n * 3)];
        let cfg = TrainConfig { learning_rate: lr, epochs, batch_size: batch, shuffle, seed,
    ..TrainConfig::default()
};
        if let Ok(data) = Dataset::new(x, &y, 3) {
            let mut m = LinearModel::<3>::zeros();
            if fit(&mut m, &data, &cfg).is_ok() {
                prop_assert!(m.weights().iter().all(|w| w.is_finite()) && m.bias().is_finite());
            }
        }
    }

    #[test]
    fn fit_controlled_is_err_or_finite(
        x in prop::collection::vec(value(), 0..48),
        y in prop::collection::vec(value(), 0..12),
        lr in rate(),
        epochs in 0u32..20,
        batch in 1usize..8,
        clip_norm in prop::option::of(1e-3f32..10.0),
        trust in prop::option::of(1e-3f32..10.0),
        retries in 0u32..4,
    ) {
        let n = y.len();
        let x = &x[..x.len().min(n * 3)];
        let Ok(data) = Dataset::new(x, &y, 3) else { return Ok(()) };
        let Ok(base) = ControllerConfig::constant(lr) else { return Ok(()) };
        let cfg = ControllerConfig {
            clip: Clip { norm: clip_norm, trust_radius: trust, value: None },
            guard: Some(Guard { max_retries: retries, ..Guard::default() }),
            ..base
        };
        let mut c = Controller::new(cfg).unwrap();
        let mut m = LinearModel::<3>::zeros();
        let tc = TrainConfig { epochs, batch_size: batch, ..TrainConfig::default() };
        if Training::new(&tc).controller(&mut c).validation(&data).fit(&mut m, &data).is_ok() {
            prop_assert!(m.weights().iter().all(|w| w.is_finite()) && m.bias().is_finite());
            let r = c.rate(0);
            prop_assert!(r.is_finite() && r >= 0.0);
        }
    }
}
