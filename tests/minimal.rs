//! The smallest build (`--no-default-features`: no `losses`, no `optimizers`): the squared
//! error and SGD train as usual; every other loss and rule is a clear `Err`, never a panic.
//! Run by `.ci/run` as `cargo test --no-default-features --test minimal`.
#![cfg(not(any(feature = "losses", feature = "optimizers")))]

use npoa::loss::Loss;
use npoa::optim::Rule;
use npoa::train::{Dataset, TrainConfig, fit};
use npoa::{Error, LinearClassifier, LinearModel};

#[test]
fn squared_error_and_sgd_train() {
    let (x, y) = ([1.0f32, 2.0, 3.0, 4.0], [2.0f32, 4.0, 6.0, 8.0]);
    let data = Dataset::new(&x, &y, 1).unwrap();
    let mut m = LinearModel::<1>::zeros();
    let cfg = TrainConfig {
        learning_rate: 0.05,
        epochs: 2000,
        batch_size: 4,
        ..TrainConfig::default()
    };
    fit(&mut m, &data, &cfg).unwrap();
    assert!((m.weights()[0] - 2.0).abs() < 1e-3);
}

#[test]
fn the_rest_is_refused() {
    let (x, y) = ([1.0f32, 2.0], [0.0f32, 1.0]);
    let mut g = [0.0f32];
    // Every loss but the squared error needs the `losses` feature (targets 0 and 1 suit all).
    for loss in Loss::ALL.into_iter().filter(|l| *l != Loss::Squared) {
        assert!(matches!(
            loss.fused(&npoa::kernel::SIMD, &x, &y, &[0.5], 0.0, &mut g),
            Err(Error::InvalidParameter { name: "loss", .. })
        ));
        let data = Dataset::new(&x, &y, 1).unwrap();
        let mut m = LinearModel::<1>::zeros().with_loss(loss).unwrap();
        assert!(fit(&mut m, &data, &TrainConfig::default()).is_err());
        assert_eq!(m, LinearModel::<1>::zeros().with_loss(loss).unwrap());
    }
    let data = Dataset::new(&x, &y, 1).unwrap();
    let mut c = LinearClassifier::<1, 2>::zeros();
    assert!(fit(&mut c, &data, &TrainConfig::default()).is_err());
    // Every rule of the registry but SGD is refused (AdaGrad included, and any new one).
    for rule in Rule::EXAMPLES.into_iter().filter(|r| *r != Rule::Sgd) {
        let cfg = TrainConfig {
            optimizer: rule,
            ..TrainConfig::default()
        };
        let mut m = LinearModel::<1>::zeros();
        assert!(
            matches!(
                fit(&mut m, &data, &cfg),
                Err(Error::InvalidParameter {
                    name: "optimizer",
                    ..
                })
            ),
            "{rule:?}"
        );
        assert_eq!(m, LinearModel::<1>::zeros());
    }
}
