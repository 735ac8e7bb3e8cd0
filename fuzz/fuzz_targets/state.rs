//! Checkpoint bytes (`npoa::state`): arbitrary bytes, and valid states with bytes changed,
//! decode to an `Err` or to a state that re-encodes to exactly the same bytes and from which
//! training continues without a panic, its model staying finite.
//!
//! The first byte picks the mode: even, the rest is the body of a frame the target completes
//! (header of the kind chosen, the CRC-32 recomputed, so that the field checks are reached);
//! odd, a valid state is made (a short run paused after a few steps) and the rest of the input
//! changes bytes of it (position, mask pairs), the CRC recomputed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use npoa::control::{Controller, ControllerConfig, EarlyStop, Plateau};
use npoa::loss::Loss;
use npoa::model::bytes::crc32;
use npoa::online::{OnlineConfig, OnlineLearner, Sampling};
use npoa::optim::Rule;
use npoa::state::{Checkpoint, Kind, MAGIC, VERSION};
use npoa::train::{Dataset, TrainConfig, Training};
use npoa::{LinearClassifier, LinearModel};

type Lin = Checkpoint<LinearModel<2>, 2>;
type Cls = Checkpoint<LinearClassifier<2, 3>, 2>;
type Onl = OnlineLearner<LinearModel<2>, 2, 8, 4>;

const X: [f32; 12] = [
    0.0, 1.0, 1.0, 0.5, 2.0, -1.0, 3.0, 0.25, -1.0, 2.0, 0.5, 0.5,
];
const Y: [f32; 6] = [1.0, 2.0, 0.0, 1.0, 2.0, 1.0];

fn config(rule: Rule) -> TrainConfig {
    TrainConfig {
        epochs: 6,
        batch_size: 4,
        optimizer: rule,
        ..TrainConfig::default()
    }
}

fn controller() -> Controller {
    let cc = ControllerConfig {
        plateau: Some(Plateau {
            patience: 1,
            ..Plateau::default()
        }),
        early_stop: Some(EarlyStop {
            patience: 3,
            ..EarlyStop::default()
        }),
        ..ControllerConfig::constant(0.1).unwrap()
    };
    Controller::new(cc).unwrap()
}

fn recrc(b: &mut [u8]) {
    let n = b.len();
    let c = crc32(&b[..n - 4]);
    b[n - 4..].copy_from_slice(&c.to_le_bytes());
}

/// A frame of `len` bytes and `kind` around `body` (cut or zero-padded).
fn frame(len: usize, kind: Kind, body: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; len];
    b[..4].copy_from_slice(&MAGIC);
    b[4..6].copy_from_slice(&VERSION.to_le_bytes());
    b[6] = kind as u8;
    let n = body.len().min(len - 12);
    b[8..8 + n].copy_from_slice(&body[..n]);
    recrc(&mut b);
    b
}

/// Applies `(position, mask)` pairs from `edits` to `b` (header included), then the CRC.
fn mutate(mut b: Vec<u8>, edits: &[u8]) -> Vec<u8> {
    for e in edits.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([e[0], e[1]])) % (b.len() - 4);
        b[at] ^= e[2];
    }
    recrc(&mut b);
    b
}

fn finite(w: &[f32]) -> bool {
    w.iter().all(|v| v.is_finite())
}

fn checkpoint(bytes: &[u8], rule: Rule) {
    let data = Dataset::new(&X, &Y, 2).unwrap();
    if let Ok(mut ck) = Lin::decode(bytes) {
        let mut again = vec![0u8; Lin::LEN];
        assert_eq!(ck.encode(&mut again), Ok(Lin::LEN));
        assert_eq!(again, bytes, "decode then encode is the identity");
        let _ = ck.fit(Training::new(&config(rule)).pause_after(2), &data);
        assert!(finite(ck.model.weights()) && ck.model.bias().is_finite());
    }
    if let Ok(mut ck) = Cls::decode(bytes) {
        let mut again = vec![0u8; Cls::LEN];
        assert_eq!(ck.encode(&mut again), Ok(Cls::LEN));
        assert_eq!(again, bytes, "decode then encode is the identity");
        let _ = ck.fit(Training::new(&config(rule)).pause_after(2), &data);
        assert!(ck.model.weights().iter().all(|r| finite(r)) && finite(ck.model.biases()));
    }
}

fn online(bytes: &[u8]) {
    if let Ok(mut l) = Onl::decode(bytes) {
        let mut again = vec![0u8; Onl::ENCODED_LEN];
        assert_eq!(l.encode(&mut again), Ok(Onl::ENCODED_LEN));
        assert_eq!(again, bytes, "decode then encode is the identity");
        // A decoded configuration may ask for up to 2^32 updates per `step` call (a valid
        // budget for a device, not for a fuzzer's input): step only a bounded one.
        let stepping = l.config().steps_per_call <= 64 && l.config().round_steps <= 1 << 16;
        for i in 0..3 {
            let _ = l.push(&[X[2 * i], X[2 * i + 1]], Y[i]);
            if stepping {
                let _ = l.step(&mut |_| {});
            }
        }
        assert!(finite(l.model().weights()) && l.window().len() <= 8);
    }
}

fn controller_bytes(bytes: &[u8]) {
    if let Ok(mut c) = Controller::decode(bytes) {
        let mut again = vec![0u8; Controller::ENCODED_LEN];
        assert_eq!(c.encode(&mut again), Ok(Controller::ENCODED_LEN));
        assert_eq!(again, bytes, "decode then encode is the identity");
        let v = c.on_epoch(1, 0.5, &mut |_| {});
        let _ = (v, c.rate(3));
        assert!(c.rate(7).is_finite());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let rule = Rule::EXAMPLES[usize::from(mode >> 4) % Rule::EXAMPLES.len()];
    let which = (mode >> 1) % 4;
    if mode & 1 == 0 {
        match which {
            0 => checkpoint(&frame(Lin::LEN, Kind::Checkpoint, rest), rule),
            1 => checkpoint(&frame(Cls::LEN, Kind::Checkpoint, rest), rule),
            2 => online(&frame(Onl::ENCODED_LEN, Kind::Online, rest)),
            _ => controller_bytes(&frame(Controller::ENCODED_LEN, Kind::Controller, rest)),
        }
        // And the input as it is.
        checkpoint(rest, rule);
        online(rest);
        controller_bytes(rest);
        return;
    }
    let Some((&k, edits)) = rest.split_first() else {
        return;
    };
    let data = Dataset::new(&X, &Y, 2).unwrap();
    let steps = u64::from(k % 12);
    match which {
        0 | 1 => {
            let loss =
                [Loss::Squared, Loss::Huber { delta: 1.0 }, Loss::Poisson][usize::from(k >> 4) % 3];
            let m = LinearModel::<2>::zeros().with_loss(loss).unwrap();
            let mut ck = Lin::new(m, (which == 0).then(controller));
            let _ = ck.fit(Training::new(&config(rule)).pause_after(steps), &data);
            let mut b = vec![0u8; Lin::LEN];
            ck.encode(&mut b).unwrap();
            checkpoint(&mutate(b, edits), rule);
        }
        2 => {
            let cfg = OnlineConfig {
                batch_size: 3,
                round_steps: 2,
                holdout_every: 3,
                optimizer: rule,
                standardize: Some(2),
                ..OnlineConfig::default()
            };
            let sampling = if k & 1 == 0 {
                Sampling::Sliding
            } else {
                Sampling::Reservoir { seed: u64::from(k) }
            };
            let mut l =
                Onl::new(LinearModel::zeros(), *controller().config(), cfg, sampling).unwrap();
            for i in 0..usize::from(k % 6) {
                let _ = l.push(&[X[2 * i], X[2 * i + 1]], Y[i]);
                let _ = l.step(&mut |_| {});
            }
            let mut b = vec![0u8; Onl::ENCODED_LEN];
            l.encode(&mut b).unwrap();
            online(&mutate(b, edits));
        }
        _ => {
            let mut ck = Cls::new(LinearClassifier::zeros(), Some(controller()));
            let _ = ck.fit(Training::new(&config(rule)).pause_after(steps), &data);
            let mut b = vec![0u8; Cls::LEN];
            ck.encode(&mut b).unwrap();
            checkpoint(&mutate(b, edits), rule);
        }
    }
});
