//! Regression tests for what the cargo-fuzz targets (`fuzz/`) found, one test per finding.

use npoa::LinearModel;
use npoa::state::Checkpoint;
use npoa::train::{Dataset, TrainConfig, Training};

/// `fuzz/fuzz_targets/train.rs`, 2026-12-02: a checkpoint whose first `fit` was refused
/// before any step (here an invalid learning rate) encoded a run state that was "fresh" yet
/// bound to the data, which `Checkpoint::decode` rejects ("a fresh run state with fields that
/// are not fresh"): every checkpoint `encode` writes must decode, and the refused call must
/// leave the progress as it was.
#[test]
fn a_refused_first_fit_leaves_the_checkpoint_fresh_and_decodable() {
    let x = [0.0f32, 1.0, 2.0, 3.0];
    let y = [1.0f32, 3.0, 5.0, 7.0];
    let data = Dataset::new(&x, &y, 1).unwrap();
    let bad = TrainConfig {
        learning_rate: 0.0,
        epochs: 3,
        ..TrainConfig::default()
    };
    type Ck = Checkpoint<LinearModel<1>, 2>;
    let mut ck = Ck::new(LinearModel::zeros(), None);
    let mut fresh = vec![0u8; Ck::LEN];
    ck.encode(&mut fresh).unwrap();
    assert!(ck.fit(Training::new(&bad).pause_after(2), &data).is_err());
    let mut buf = vec![0u8; Ck::LEN];
    ck.encode(&mut buf).unwrap();
    assert_eq!(buf, fresh, "a refused call leaves the checkpoint as it was");
    let mut ck = Ck::decode(&buf).expect("every encoded checkpoint decodes");
    // And the fresh checkpoint still trains.
    let good = TrainConfig {
        learning_rate: 0.05,
        ..bad
    };
    assert!(ck.fit(Training::new(&good), &data).is_ok());
}

/// `fuzz/fuzz_targets/train.rs`, 2026-12-02: a run that failed at its first step (a class
/// label the softmax kernels refuse) or ended before its first pause left the run state's
/// shuffling generator all zero, which `Checkpoint::decode` rejects ("shuffling generator
/// state is all zero").
#[test]
fn a_failed_or_ended_run_encodes_a_checkpoint_that_decodes() {
    use npoa::LinearClassifier;
    let x = [0.0f32, 1.0, 2.0, 3.0];
    let config = TrainConfig {
        learning_rate: 0.05,
        epochs: 2,
        batch_size: 2,
        ..TrainConfig::default()
    };
    type Cls = Checkpoint<LinearClassifier<1, 2>, 2>;
    type Lin = Checkpoint<LinearModel<1>, 2>;
    // Fails at the first step: label 2 of 2 classes.
    let bad = [0.0f32, 1.0, 2.0, 1.0];
    let data = Dataset::new(&x, &bad, 1).unwrap();
    let mut ck = Cls::new(LinearClassifier::zeros(), None);
    assert!(
        ck.fit(Training::new(&config).pause_after(100), &data)
            .is_err()
    );
    let mut buf = vec![0u8; Cls::LEN];
    ck.encode(&mut buf).unwrap();
    Cls::decode(&buf).expect("a failed run's checkpoint decodes");
    // Ends (4 steps) before the pause after 100.
    let y = [1.0f32, 3.0, 5.0, 7.0];
    let data = Dataset::new(&x, &y, 1).unwrap();
    let mut ck = Lin::new(LinearModel::zeros(), None);
    let s = ck
        .fit(Training::new(&config).pause_after(100), &data)
        .unwrap();
    assert_ne!(s.stop, npoa::train::Stop::Paused);
    let mut buf = vec![0u8; Lin::LEN];
    ck.encode(&mut buf).unwrap();
    Lin::decode(&buf).expect("an ended run's checkpoint decodes");
}
