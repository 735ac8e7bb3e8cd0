//! Bit-exact resume (issue 18, item 2): a run paused after any step k, encoded, decoded into
//! fresh values and continued ends with the same model, optimizer state and controller, and
//! reports the same epochs and events from k on, as the run never paused; for every loss
//! and update rule. And the checkpoint bytes refuse hostile input.

use npoa::control::{
    Controller, ControllerConfig, EarlyStop, Event, LrSchedule, Plateau, Schedule, Warmup,
};
use npoa::loss::Loss;
use npoa::optim::{OptimState, Rule};
use npoa::state::{Checkpoint, Model};
use npoa::train::{Dataset, Decision, Epoch, Observer, Stop, Summary, TrainConfig, Training};
use npoa::{Error, LinearClassifier, LinearModel};
use proptest::prelude::*;

const D: usize = 3;
const N: usize = 23;

/// Every epoch and event, by bits.
#[derive(Default, Debug, PartialEq)]
struct Record(Vec<String>);

impl Observer for Record {
    fn on_epoch(&mut self, e: &Epoch) -> Decision {
        self.0.push(format!(
            "epoch {} {:08x} {:08x} {:08x} {} {} {:08x}",
            e.epoch,
            e.train_loss.to_bits(),
            e.metric.to_bits(),
            e.learning_rate.to_bits(),
            e.steps,
            e.zeros,
            e.certificate.to_bits()
        ));
        Decision::Continue
    }
    fn on_event(&mut self, e: &Event) {
        // Debug prints every f32 in its shortest round-trip form: distinct bits, distinct text.
        self.0.push(format!("event {e:?}"));
    }
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// `(x, y)` of `n` rows for `objective` (`None`: softmax over 3 classes).
fn data(n: usize, seed: u64, loss: Option<Loss>) -> (Vec<f32>, Vec<f32>) {
    let mut g = Lcg(seed);
    let x: Vec<f32> = (0..n * D).map(|_| g.next()).collect();
    let y = x
        .chunks(D)
        .map(|r| {
            let z = 0.8 * r[0] - 0.5 * r[1] + 0.3 * r[2] + 0.1 * g.next();
            match loss {
                None => f32::from(u8::from(z > -0.2) + u8::from(z > 0.3)),
                Some(Loss::Logistic) => f32::from(u8::from(z > 0.0)),
                Some(Loss::Poisson) => (2.0 * (z + 1.0)).max(0.0).floor(),
                Some(_) => 2.0 * z + 0.5,
            }
        })
        .collect();
    (x, y)
}

fn controller() -> Controller {
    controller_at(0.2)
}

/// The test's controller with its schedule starting at `rate` (a high one makes the guard
/// roll back).
fn controller_at(rate: f32) -> Controller {
    let schedule = LrSchedule::new(
        rate,
        Schedule::Cosine {
            t_max: 14,
            eta_min: 0.0,
        },
    )
    .unwrap()
    .with_warmup(Warmup {
        steps: 3,
        start_factor: 0.2,
    })
    .unwrap();
    Controller::new(ControllerConfig {
        schedule,
        plateau: Some(Plateau {
            patience: 1,
            factor: 0.5,
            ..Plateau::default()
        }),
        early_stop: Some(EarlyStop {
            patience: 5,
            ..EarlyStop::default()
        }),
        certify_every: 2,
        ..ControllerConfig::constant(0.2).unwrap()
    })
    .unwrap()
}

fn config(rule: Rule, seed: u64) -> TrainConfig {
    TrainConfig {
        learning_rate: 0.05,
        epochs: 9,
        // Every third case in batches of one row: the single-sample pass, paused anywhere;
        // every sixth in the data's order (the pass without a permutation).
        batch_size: if seed.is_multiple_of(3) { 1 } else { 5 },
        shuffle: !seed.is_multiple_of(6),
        seed,
        optimizer: rule,
        ..TrainConfig::default()
    }
}

fn bytes_of<M: Model>(ck: &Checkpoint<M, 2>) -> Vec<u8> {
    let mut v = vec![0u8; Checkpoint::<M, 2>::LEN];
    assert_eq!(ck.encode(&mut v).unwrap(), v.len());
    v
}

fn summary_bits(s: &Summary) -> (u32, u64, u32, u32, Stop, u32, u32) {
    (
        s.epochs,
        s.steps,
        s.final_loss.to_bits(),
        s.best_metric.to_bits(),
        s.stop,
        s.rollbacks,
        s.certificate.to_bits(),
    )
}

/// The run never paused, then the same run paused first after `first` steps and then every
/// `every` steps, each time encoded and decoded into a fresh checkpoint; compares them.
/// Runs the case uninterrupted and paused (first after `first` steps, then every `every`),
/// with the controller at `rate` if `controlled`; returns the run's rollbacks.
fn check<M: Model>(
    model: M,
    rule: Rule,
    (controlled, rate): (bool, f32),
    seed: u64,
    (first, every): (u64, u64),
    loss: Option<Loss>,
) -> Result<u32, TestCaseError> {
    let (x, y) = data(N, seed, loss);
    let (vx, vy) = data(7, seed ^ 0x5eed, loss);
    let (train, val) = (
        Dataset::new(&x, &y, D).unwrap(),
        Dataset::new(&vx, &vy, D).unwrap(),
    );
    let cfg = config(rule, seed);
    let ctl = controlled.then(|| controller_at(rate));

    let (mut m, mut st) = (model, OptimState::<M, 2>::new());
    let mut c = ctl;
    let mut whole = Record::default();
    let t = Training::new(&cfg).validation(&val).observer(&mut whole);
    let plain = match c.as_mut() {
        Some(c) => t.controller(c).fit_with(&mut m, &mut st, &train),
        None => t.fit_with(&mut m, &mut st, &train),
    };
    let plain = match plain {
        Ok(s) => s,
        // A run without a controller may diverge; so must the paused one.
        Err(Error::Diverged { .. }) if !controlled => return Ok(0),
        Err(e) => panic!("{e}"),
    };
    let reference = Checkpoint {
        model: m,
        optim: st,
        controller: c,
        run: npoa::train::RunState::new(),
    };

    let mut ck = Checkpoint::<M, 2>::new(model, ctl);
    let mut parts = Record::default();
    let mut budget = first;
    let mut pauses = 0;
    let end = loop {
        let s = ck
            .fit(
                Training::new(&cfg)
                    .validation(&val)
                    .observer(&mut parts)
                    .pause_after(budget),
                &train,
            )
            .unwrap();
        if s.stop != Stop::Paused {
            break s;
        }
        pauses += 1;
        prop_assert!(pauses < 1000);
        let bytes = bytes_of(&ck);
        ck = Checkpoint::decode(&bytes).unwrap();
        // Decoding then encoding is the identity.
        prop_assert_eq!(&bytes_of(&ck), &bytes);
        budget = every;
    };
    prop_assert_eq!(summary_bits(&end), summary_bits(&plain));
    let mut a = reference;
    a.run = ck.run; // the run states differ only by where they were made
    prop_assert_eq!(
        bytes_of(&a),
        bytes_of(&ck),
        "model, optimizer state or controller differ"
    );
    prop_assert_eq!(parts, whole);
    Ok(plain.rollbacks)
}

const LOSSES: [Loss; 6] = [
    Loss::Squared,
    Loss::Huber { delta: 0.5 },
    Loss::Absolute,
    Loss::Quantile { tau: 0.3 },
    Loss::Logistic,
    Loss::Poisson,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn resume_is_bit_exact_for_every_loss_and_rule(
        seed in any::<u64>(),
        first in 0u64..50,
        every in 1u64..13,
        controlled in any::<bool>(),
        hot in any::<bool>(),
    ) {
        let ctl = (controlled, if hot { HOT } else { 0.2 });
        for rule in Rule::EXAMPLES {
            for loss in LOSSES {
                let m = LinearModel::<D>::zeros().with_loss(loss).unwrap();
                check(m, rule, ctl, seed, (first, every), Some(loss))?;
            }
            check(LinearClassifier::<D, 3>::zeros(), rule, ctl, seed, (first, every), None)?;
        }
    }
}

/// The single-sample pass in the data's order (seeds that are multiples of 6: batches of one
/// row, no shuffle), paused anywhere, with and without a controller (and its rollbacks),
/// resumes bit-exactly.
#[test]
fn the_single_sample_pass_in_data_order_resumes_bit_exactly() {
    let mut rollbacks = 0;
    for seed in [6u64, 600, 6006] {
        for (first, every) in [(0, 1), (3, 2), (7, 5)] {
            for rule in Rule::EXAMPLES {
                for ctl in [(false, 0.2), (true, 0.2), (true, HOT)] {
                    let m = LinearModel::<D>::zeros();
                    rollbacks +=
                        check(m, rule, ctl, seed, (first, every), Some(Loss::Squared)).unwrap();
                }
            }
        }
    }
    assert!(rollbacks > 0);
}

/// A starting rate at which the guard rolls back in most runs.
const HOT: f32 = 40.0;

/// Resuming through the guard's rollbacks (the best copy restored, the rate cut) is bit-exact
/// too: at a rate that makes the runs spike, every rule and loss resumed from pauses every 3
/// steps, and rollbacks did happen.
#[test]
fn resume_through_rollbacks() {
    let mut rollbacks = 0;
    for rule in Rule::EXAMPLES {
        for loss in LOSSES {
            let m = LinearModel::<D>::zeros().with_loss(loss).unwrap();
            rollbacks += check(m, rule, (true, HOT), 11, (2, 3), Some(loss)).unwrap();
        }
        rollbacks += check(
            LinearClassifier::<D, 3>::zeros(),
            rule,
            (true, HOT),
            11,
            (2, 3),
            None,
        )
        .unwrap();
    }
    assert!(rollbacks > 0, "no rollback happened: raise HOT");
    println!("resume_through_rollbacks: {rollbacks} rollbacks, all resumed bit-exactly");
}

/// A checkpoint of a run paused mid-epoch (Adam, a controller).
fn paused() -> (Vec<u8>, Vec<f32>, Vec<f32>) {
    let (x, y) = data(N, 7, Some(Loss::Squared));
    let train = Dataset::new(&x, &y, D).unwrap();
    let mut ck = Checkpoint::<LinearModel<D>, 2>::new(LinearModel::zeros(), Some(controller()));
    let s = ck
        .fit(
            Training::new(&config(Rule::ADAM, 7)).pause_after(13),
            &train,
        )
        .unwrap();
    assert_eq!(s.stop, Stop::Paused);
    (bytes_of(&ck), x, y)
}

fn recrc(b: &mut [u8]) {
    let n = b.len();
    let crc = npoa::model::bytes::crc32(&b[..n - 4]);
    b[n - 4..].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn every_truncation_and_extension_is_an_error() {
    let (b, _, _) = paused();
    for len in 0..b.len() {
        assert!(
            Checkpoint::<LinearModel<D>, 2>::decode(&b[..len]).is_err(),
            "{len}"
        );
    }
    let mut longer = b.clone();
    longer.push(0);
    assert!(Checkpoint::<LinearModel<D>, 2>::decode(&longer).is_err());
}

#[test]
fn wrong_magic_version_kind_or_checksum_are_errors() {
    let (b, _, _) = paused();
    type C = Checkpoint<LinearModel<D>, 2>;
    for (at, v, what) in [
        (0, b'X', "magic"),
        (4, 2, "version"),
        (6, 3, "kind"),
        (7, 1, "reserved"),
    ] {
        let mut c = b.clone();
        c[at] = v;
        recrc(&mut c);
        let e = C::decode(&c).unwrap_err();
        assert!(matches!(e, Error::InvalidBytes { .. }), "{what}: {e}");
    }
    let mut c = b.clone();
    c[40] ^= 1;
    assert_eq!(
        C::decode(&c).unwrap_err(),
        Error::InvalidBytes {
            reason: "checksum mismatch"
        }
    );
    // Another type's bytes, and another model size.
    assert!(Checkpoint::<LinearModel<4>, 2>::decode(&b).is_err());
}

#[test]
fn every_flipped_byte_is_refused_or_a_valid_state() {
    let (b, x, y) = paused();
    let train = Dataset::new(&x, &y, D).unwrap();
    let mut accepted = 0;
    for at in 8..b.len() - 4 {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut c = b.clone();
            c[at] ^= mask;
            recrc(&mut c);
            let Ok(mut ck) = Checkpoint::<LinearModel<D>, 2>::decode(&c) else {
                continue;
            };
            accepted += 1;
            assert_eq!(
                bytes_of(&ck),
                c,
                "decode then encode is the identity (byte {at})"
            );
            // Training continues from it without a panic (an error is fine: another run).
            let _ = ck.fit(Training::new(&config(Rule::ADAM, 7)).pause_after(3), &train);
            assert!(ck.model.weights().iter().all(|w| w.is_finite()));
        }
    }
    assert!(accepted > 0);
}

/// A sum of squares (Adam's `v`, FTRL's `n`, AdaGrad's `G`) decoded negative would be
/// square-rooted at the next step: refused, while the same bytes with the sign of a first
/// moment flipped (any finite value is a valid `m`) still decode.
#[test]
fn a_negative_sum_of_squares_is_refused() {
    let x = [0.0f32, 1.0, 2.0, 3.0];
    let y = [1.0f32, 3.0, 5.0, 7.0];
    let data = Dataset::new(&x, &y, 1).unwrap();
    for (rule, squares) in [
        (Rule::ADAM, 1usize),
        (Rule::ADAMW, 1),
        (Rule::ADAGRAD, 0),
        (
            Rule::Ftrl {
                beta: 1.0,
                l1: 0.0,
                l2: 0.0,
            },
            1,
        ),
    ] {
        let cfg = TrainConfig {
            learning_rate: 0.05,
            epochs: 3,
            batch_size: 2,
            optimizer: rule,
            ..TrainConfig::default()
        };
        let mut model = LinearModel::<1>::zeros();
        let mut state = OptimState::<LinearModel<1>, 2>::new();
        Training::new(&cfg)
            .fit_with(&mut model, &mut state, &data)
            .unwrap();
        let mut b = vec![0u8; OptimState::<LinearModel<1>, 2>::ENCODED_LEN];
        state.encode(&mut b).unwrap();
        // Frame (12), steps (8), rule tag (8), then 2 buffers of 2 floats (weight, bias).
        for buffer in 0..rule.buffers() {
            let mut flipped = b.clone();
            let at = 28 + 8 * buffer;
            assert!(f32::from_le_bytes(flipped[at..at + 4].try_into().unwrap()) != 0.0);
            flipped[at + 3] ^= 0x80;
            recrc(&mut flipped);
            let r = OptimState::<LinearModel<1>, 2>::decode(&flipped);
            if buffer == squares {
                assert!(
                    matches!(&r, Err(Error::InvalidBytes { .. })),
                    "{rule:?}: negative sum of squares accepted: {r:?}"
                );
            } else {
                assert!(r.is_ok(), "{rule:?}: buffer {buffer} refused: {r:?}");
            }
        }
    }
}

/// The standardiser of a batch run on standardised data: round trip by bits, and refused when
/// truncated, flipped (with the CRC recomputed where the field check must catch it) or of
/// another kind.
#[test]
fn the_standardiser_round_trips_and_refuses_hostile_bytes() {
    use npoa::scale::Scaler;
    let (x, y) = data(N, 3, Some(Loss::Squared));
    let s = Scaler::<D>::fit(&Dataset::new(&x, &y, D).unwrap()).unwrap();
    let mut b = vec![0u8; Scaler::<D>::ENCODED_LEN];
    assert_eq!(s.encode(&mut b).unwrap(), 12 + 32 + 24 * D);
    let back = Scaler::<D>::decode(&b).unwrap();
    let mut again = vec![0u8; b.len()];
    back.encode(&mut again).unwrap();
    assert_eq!(again, b);
    for len in 0..b.len() {
        assert!(Scaler::<D>::decode(&b[..len]).is_err());
    }
    // A non-finite value or a negative M2 (the first M2 is after the count, D shifts and D
    // means), with a valid CRC.
    let m2 = 8 + 8 + 16 * D;
    for (at, v) in [(16, f64::NAN), (m2, -1.0)] {
        let mut bad = b.clone();
        bad[at..at + 8].copy_from_slice(&v.to_le_bytes());
        recrc(&mut bad);
        assert!(matches!(
            Scaler::<D>::decode(&bad),
            Err(Error::InvalidBytes { .. })
        ));
    }
    // A controller's bytes are another kind.
    let mut c = vec![0u8; Controller::ENCODED_LEN];
    controller().encode(&mut c).unwrap();
    assert!(Scaler::<D>::decode(&c).is_err());
}

#[test]
fn resuming_on_other_data_or_another_configuration_is_an_error() {
    let (b, x, mut y) = paused();
    type C = Checkpoint<LinearModel<D>, 2>;
    let cfg = config(Rule::ADAM, 7);
    // Same shape, one target changed: caught by the CRC-32.
    y[3] += 1.0;
    let other = Dataset::new(&x, &y, D).unwrap();
    let mut ck = C::decode(&b).unwrap();
    let e = ck.fit(Training::new(&cfg), &other).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "run state",
                ..
            }
        ),
        "{e}"
    );
    y[3] -= 1.0;
    let data = Dataset::new(&x, &y, D).unwrap();
    let mut ck = C::decode(&b).unwrap();
    let e = ck
        .fit(Training::new(&config(Rule::ADAM, 8)), &data)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "run state",
                ..
            }
        ),
        "{e}"
    );
    let mut ck = C::decode(&b).unwrap();
    let e = ck
        .fit(Training::new(&cfg).validation(&data), &data)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "run state",
                ..
            }
        ),
        "{e}"
    );
    // And the right data continues.
    let mut ck = C::decode(&b).unwrap();
    assert!(ck.fit(Training::new(&cfg), &data).is_ok());
    // A run that ended cannot continue.
    let e = ck.fit(Training::new(&cfg), &data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidParameter {
                name: "run state",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn a_budget_needs_the_resumable_call() {
    let (x, y) = data(N, 1, Some(Loss::Squared));
    let data = Dataset::new(&x, &y, D).unwrap();
    let mut m = LinearModel::<D>::zeros();
    let e = Training::new(&config(Rule::Sgd, 1))
        .pause_after(3)
        .fit(&mut m, &data)
        .unwrap_err();
    assert!(matches!(
        e,
        Error::InvalidParameter {
            name: "pause_after",
            ..
        }
    ));
}

#[test]
fn encoded_sizes_are_the_documented_formula() {
    use npoa::state::{CONTROLLER_RAW_LEN, FRAME_LEN, RUN_HEAD_LEN};
    assert_eq!(FRAME_LEN, 12);
    assert_eq!(CONTROLLER_RAW_LEN, 247);
    assert_eq!(Controller::ENCODED_LEN, 259);
    assert_eq!(RUN_HEAD_LEN, 152);
    let p = 9; // LinearModel<8>: 8 weights and a bias
    let model = 24 + 4 * p;
    let optim = 16 + 4 * 2 * p;
    assert_eq!(<LinearModel<8> as Model>::LEN, model);
    assert_eq!(OptimState::<LinearModel<8>, 2>::ENCODED_LEN, 12 + optim);
    let run = 152 + 1 + model + optim;
    assert_eq!(
        npoa::train::RunState::<LinearModel<8>, 2>::ENCODED_LEN,
        12 + run
    );
    let len = 12 + model + optim + 1 + 247 + run;
    assert_eq!(Checkpoint::<LinearModel<8>, 2>::LEN, len);
    assert_eq!(len, 709);
    assert_eq!(len, 445 + 2 * model + 8 * 2 * p);
    assert_eq!(OptimState::<LinearModel<8>, 2>::ENCODED_LEN, 100);
    assert_eq!(npoa::train::RunState::<LinearModel<8>, 2>::ENCODED_LEN, 313);
}

#[cfg(feature = "std")]
mod recipe {
    use super::*;
    use npoa::data::DynDataset;
    use npoa::recipe::{Outcome, Recipe};

    fn sets(seed: u64, loss: Option<Loss>) -> (DynDataset, DynDataset) {
        let (x, y) = data(40, seed, loss);
        let (vx, vy) = data(9, seed ^ 1, loss);
        (
            DynDataset::new(x, y, D).unwrap(),
            DynDataset::new(vx, vy, D).unwrap(),
        )
    }

    fn recipe(rule: Rule, objective: npoa::loss::Objective) -> Recipe {
        Recipe {
            objective,
            classes: 3,
            optimizer: Some(rule),
            epochs: Some(12),
            batch_size: 6,
            plateau_patience: Some(1),
            early_stop: Some(6),
            seed: 11,
            ..Recipe::default()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]

        #[test]
        fn recipe_resume_is_bit_exact(seed in any::<u64>(), first in 0u64..60, every in 1u64..20) {
            use npoa::loss::Objective;
            for rule in Rule::EXAMPLES {
                for objective in [Objective::Single(Loss::Huber { delta: 1.0 }), Objective::Single(Loss::Logistic), Objective::Softmax] {
                    let loss = match objective { Objective::Single(l) => Some(l), Objective::Softmax => None };
                    let (train, val) = sets(seed, loss);
                    let r = recipe(rule, objective);
                    let mut whole = Record::default();
                    let (model, summary) = r.fit(&train, Some(&val), &mut whole).unwrap();
                    let mut parts = Record::default();
                    let mut out = r.fit_until(&train, Some(&val), &mut parts, Some(first)).unwrap();
                    let (m, s) = loop {
                        match out {
                            Outcome::Paused { checkpoint, summary } => {
                                prop_assert_eq!(summary.stop, Stop::Paused);
                                out = r.resume(&checkpoint, &train, Some(&val), &mut parts, Some(every)).unwrap();
                            }
                            Outcome::Finished(m, s) => break (m, s),
                        }
                    };
                    prop_assert_eq!(m.to_bytes(), model.to_bytes());
                    prop_assert_eq!(summary_bits(&s), summary_bits(&summary));
                    prop_assert_eq!(&parts, &whole);
                }
            }
        }
    }

    #[test]
    fn recipe_checkpoints_refuse_hostile_bytes_and_other_data() {
        let (train, val) = sets(3, Some(Loss::Squared));
        let r = recipe(Rule::ADAM, npoa::loss::Objective::Single(Loss::Squared));
        let Outcome::Paused { checkpoint: b, .. } =
            r.fit_until(&train, Some(&val), &mut (), Some(9)).unwrap()
        else {
            panic!("not paused");
        };
        for len in 0..b.len() {
            assert!(
                r.resume(&b[..len], &train, Some(&val), &mut (), Some(1))
                    .is_err(),
                "{len}"
            );
        }
        for at in 8..b.len() - 4 {
            let mut c = b.clone();
            c[at] ^= 0x41;
            super::recrc(&mut c);
            // An error, or a run that continues: never a panic.
            let _ = r.resume(&c, &train, Some(&val), &mut (), Some(2));
        }
        let (other, _) = sets(4, Some(Loss::Squared));
        let e = r.resume(&b, &other, Some(&val), &mut (), None).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidParameter {
                    name: "run state",
                    ..
                }
            ),
            "{e}"
        );
        let e = r.resume(&b, &train, None, &mut (), None).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidParameter {
                    name: "run state",
                    ..
                }
            ),
            "{e}"
        );
        let other_rule = recipe(Rule::Sgd, npoa::loss::Objective::Single(Loss::Squared));
        assert!(
            other_rule
                .resume(&b, &train, Some(&val), &mut (), None)
                .is_err()
        );
        assert!(r.resume(&b, &train, Some(&val), &mut (), None).is_ok());
        // A solver plan never pauses and refuses a checkpoint.
        let solver = Recipe::default();
        assert!(matches!(
            solver.fit_until(&train, None, &mut (), Some(1)).unwrap(),
            Outcome::Finished(..)
        ));
        assert!(solver.resume(&b, &train, None, &mut (), None).is_err());
    }
}

mod online {
    use super::*;
    use npoa::online::{Drift, OnlineConfig, OnlineLearner, Sampling};

    type Lin = OnlineLearner<LinearModel<D>, D, 12, 5>;
    type Cls = OnlineLearner<LinearClassifier<D, 3>, D, 12, 5>;

    /// `one`: one update of one row per `step` (the learner's single-sample path).
    fn cfg(rule: Rule, one: bool) -> OnlineConfig {
        OnlineConfig {
            batch_size: if one { 1 } else { 4 },
            steps_per_call: if one { 1 } else { 2 },
            round_steps: 3,
            holdout_every: 3,
            optimizer: rule,
            drift: Some(Drift {
                patience: 2,
                ..Drift::default()
            }),
            standardize: Some(6),
            ..OnlineConfig::default()
        }
    }

    /// Runs `ops` pushes-and-steps on `l` from op `from`, recording events and reports.
    macro_rules! drive {
        ($l:expr, $x:expr, $y:expr, $range:expr, $rec:expr) => {
            for op in $range {
                let i = op / 2;
                let row: [f32; D] = $x[i * D..i * D + D].try_into().unwrap();
                if op % 2 == 0 {
                    $l.push(&row, $y[i]).unwrap();
                } else {
                    let r = $l
                        .step(&mut |e| $rec.0.push(format!("event {e:?}")))
                        .unwrap();
                    $rec.0.push(format!("report {r:?}"));
                }
            }
        };
    }

    macro_rules! check_online {
        ($ty:ty, $model:expr, $rule:expr, $seed:expr, $k:expr, $loss:expr, $sampling:expr, $one:expr) => {{
            let (x, y) = data(40, $seed, $loss);
            let ops = 2 * y.len();
            let k = ($k as usize) % (ops + 1);
            let ctl = *controller().config();
            let mut whole = <$ty>::new($model, ctl, cfg($rule, $one), $sampling).unwrap();
            let mut rw = Record::default();
            drive!(whole, x, y, 0..ops, rw);
            let mut a = <$ty>::new($model, ctl, cfg($rule, $one), $sampling).unwrap();
            let mut rp = Record::default();
            drive!(a, x, y, 0..k, rp);
            let mut buf = vec![0u8; <$ty>::ENCODED_LEN];
            a.encode(&mut buf).unwrap();
            let mut b = <$ty>::decode(&buf).unwrap();
            let mut again = vec![0u8; <$ty>::ENCODED_LEN];
            b.encode(&mut again).unwrap();
            prop_assert_eq!(&again, &buf);
            drive!(b, x, y, k..ops, rp);
            let mut end_a = vec![0u8; <$ty>::ENCODED_LEN];
            let mut end_b = vec![0u8; <$ty>::ENCODED_LEN];
            whole.encode(&mut end_a).unwrap();
            b.encode(&mut end_b).unwrap();
            prop_assert!(end_a == end_b, "learner state differs");
            prop_assert_eq!(&rp, &rw);
        }};
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

        #[test]
        fn online_resume_is_bit_exact(seed in any::<u64>(), k in any::<u16>(), reservoir in any::<bool>(), one in any::<bool>()) {
            let sampling = if reservoir { Sampling::Reservoir { seed } } else { Sampling::Sliding };
            for rule in Rule::EXAMPLES {
                for loss in LOSSES {
                    let m = LinearModel::<D>::zeros().with_loss(loss).unwrap();
                    check_online!(Lin, m, rule, seed, k, Some(loss), sampling, one);
                }
                check_online!(Cls, LinearClassifier::<D, 3>::zeros(), rule, seed, k, None, sampling, one);
            }
        }
    }

    /// The case proptest found: with the Poisson loss a round's loss sum is negative
    /// (`e^z − y·z < 0`), which the decoder took for corruption, so the learner's own bytes
    /// did not decode.
    #[test]
    fn a_negative_poisson_round_loss_resumes() {
        let run = || -> Result<(), TestCaseError> {
            for rule in Rule::EXAMPLES {
                let m = LinearModel::<D>::zeros().with_loss(Loss::Poisson).unwrap();
                let seed = 12_192_206_022_974_139_630u64;
                check_online!(
                    Lin,
                    m,
                    rule,
                    seed,
                    58_145u16,
                    Some(Loss::Poisson),
                    Sampling::Sliding,
                    false
                );
            }
            Ok(())
        };
        run().unwrap();
    }

    #[test]
    fn online_bytes_refuse_hostile_input() {
        let (x, y) = data(40, 5, Some(Loss::Squared));
        let mut l = Lin::new(
            LinearModel::zeros(),
            *controller().config(),
            cfg(Rule::ADAM, false),
            Sampling::Reservoir { seed: 9 },
        )
        .unwrap();
        let mut rec = Record::default();
        drive!(l, x, y, 0..50, rec);
        let mut b = vec![0u8; Lin::ENCODED_LEN];
        l.encode(&mut b).unwrap();
        for len in 0..b.len() {
            assert!(Lin::decode(&b[..len]).is_err());
        }
        let mut accepted = 0;
        for at in 8..b.len() - 4 {
            let mut c = b.clone();
            c[at] ^= 0x80;
            super::recrc(&mut c);
            if let Ok(mut d) = Lin::decode(&c) {
                accepted += 1;
                let mut e = vec![0u8; Lin::ENCODED_LEN];
                d.encode(&mut e).unwrap();
                assert_eq!(e, c, "identity at byte {at}");
                let row: [f32; D] = x[..D].try_into().unwrap();
                let _ = d.push(&row, y[0]);
                let _ = d.step(&mut |_| {});
            }
        }
        assert!(accepted > 0);
        let mut c = b.clone();
        c[6] = 4; // a batch checkpoint's kind
        super::recrc(&mut c);
        assert!(Lin::decode(&c).is_err());
    }

    /// A learner decoded from bytes whose training window holds a target its loss does not
    /// take (a logistic label of 5, with a valid checksum: the decoder checks that targets are
    /// finite, not the loss's range) refuses the step that reaches it, on the one-row path as
    /// on the general one, and the refused step changes nothing.
    #[test]
    fn a_stored_target_the_loss_refuses_is_an_error_on_the_one_row_path() {
        let (x, y) = data(40, 5, Some(Loss::Logistic));
        let model = LinearModel::<D>::zeros().with_loss(Loss::Logistic).unwrap();
        let mut l = Lin::new(
            model,
            *controller().config(),
            cfg(Rule::Sgd, true),
            Sampling::Sliding,
        )
        .unwrap();
        let mut rec = Record::default();
        drive!(l, x, y, 0..60, rec);
        let mut b = vec![0u8; Lin::ENCODED_LEN];
        l.encode(&mut b).unwrap();
        let (one, five) = (1.0f32.to_le_bytes(), 5.0f32.to_le_bytes());
        let mut refused = 0;
        for at in 8..b.len() - 8 {
            if b[at..at + 4] != one {
                continue;
            }
            let mut c = b.clone();
            c[at..at + 4].copy_from_slice(&five);
            super::recrc(&mut c);
            let Ok(mut d) = Lin::decode(&c) else { continue };
            for _ in 0..16 {
                let mut before = vec![0u8; Lin::ENCODED_LEN];
                d.encode(&mut before).unwrap();
                if d.step(&mut |_| {}).is_err() {
                    let mut after = vec![0u8; Lin::ENCODED_LEN];
                    d.encode(&mut after).unwrap();
                    assert_eq!(
                        before, after,
                        "a refused step changed the learner (byte {at})"
                    );
                    refused += 1;
                    break;
                }
            }
        }
        assert!(refused > 0, "no decoded window target reached a step");
    }

    #[test]
    fn online_size_is_the_documented_formula() {
        type L8 = OnlineLearner<LinearModel<8>, 8, 64, 16>;
        let (model, optim) = (24 + 4 * 9, 16 + 8 * 9);
        let window = |n: usize| 4 * n * 9 + 57;
        // The default detector slot is ADWIN's (2976 bytes), the default solver none.
        let tail = |det: usize, solver: usize| 1 + det + 17 + 1 + solver;
        let len = 12
            + 2 * (model + optim)
            + 247
            + 86
            + window(64)
            + window(16)
            + 104
            + (32 + 24 * 8)
            + 1
            + tail(2976, 0);
        assert_eq!(L8::ENCODED_LEN, len);
        assert_eq!(len, 6959);
        use npoa::control::drift::PageHinkley;
        use npoa::online::{Gradient, NoDetector};
        use npoa::optim::Rls;
        type Small = OnlineLearner<LinearModel<8>, 8, 64, 16, PageHinkley, Gradient>;
        type Bare = OnlineLearner<LinearModel<8>, 8, 64, 16, NoDetector, Gradient>;
        type WithRls = OnlineLearner<LinearModel<8>, 8, 64, 16, PageHinkley, Rls<8>>;
        assert_eq!(Small::ENCODED_LEN, len - tail(2976, 0) + tail(78, 0));
        assert_eq!(Bare::ENCODED_LEN, len - tail(2976, 0) + tail(0, 0));
        assert_eq!(
            WithRls::ENCODED_LEN,
            len - tail(2976, 0) + tail(78, 48 + 16 * 8 + 8 * 64)
        );
        assert_eq!(Bare::ENCODED_LEN, 3983);
    }
}
