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
