//! The single-sample path (`fit` with batches of one row, the online learner's one-sample
//! updates, `partial_fit` of one row) gives the bits of the block kernels and the general step
//! ([`BlockPath`]): for every model size at the lane boundaries, every one-output loss, every
//! update rule, penalties, bounds, clipping, the controller's rollbacks, refused steps.
//!
//! Built with the `single-sample` feature only: without it the single-sample calls take the
//! block path, and the comparison would hold by construction.
#![cfg(feature = "single-sample")]

use npoa::control::{Clip, Controller, ControllerConfig, Event};
use npoa::loss::Loss;
use npoa::online::{NoDetector, OnlineConfig, OnlineLearner, Sampling};
use npoa::optim::{Regularization, Rule};
use npoa::train::{BlockPath, Dataset, Summary, TrainConfig, Training};
use npoa::{Error, LinearModel};

/// A small deterministic generator (xorshift64*), uniform in `[-1, 1)`.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        ((v >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// `n` rows of `d` features and targets suited to `loss` (a noisy linear teacher; labels for
/// the logistic loss, counts for Poisson), with some exact zeros and negative zeros.
fn data(n: usize, d: usize, loss: Loss, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut g = Gen(seed | 1);
    let teacher: Vec<f32> = (0..d).map(|_| g.next()).collect();
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let row: Vec<f32> = (0..d)
            .map(|j| match (i + j) % 11 {
                0 => 0.0,
                5 => -0.0,
                _ => 3.0 * g.next(),
            })
            .collect();
        let z: f32 = row.iter().zip(&teacher).map(|(a, b)| a * b).sum::<f32>() + 0.3;
        y.push(match loss {
            Loss::Logistic => f32::from(z + 0.5 * g.next() > 0.0),
            Loss::Poisson => (z.clamp(-2.0, 2.0).exp() * (1.0 + g.next()))
                .round()
                .max(0.0),
            _ => z + 0.2 * g.next(),
        });
        x.extend(row);
    }
    (x, y)
}

const LOSSES: [Loss; 6] = [
    Loss::Squared,
    Loss::Huber { delta: 0.5 },
    Loss::Absolute,
    Loss::Logistic,
    Loss::Quantile { tau: 0.3 },
    Loss::Poisson,
];

fn rules() -> [Rule; 9] {
    [
        Rule::Sgd,
        Rule::momentum(0.9),
        Rule::nesterov(0.8),
        Rule::ADAM,
        Rule::ADAMW,
        Rule::Averaged { start: 7 },
        Rule::Ftrl {
            beta: 1.0,
            l1: 0.01,
            l2: 0.1,
        },
        Rule::ADAGRAD,
        Rule::Nlms { eps: 1e-3 },
    ]
}

fn regs() -> [Regularization; 4] {
    [
        Regularization::NONE,
        Regularization::l1(0.02),
        Regularization {
            l1: 0.01,
            l2: 0.05,
            bias: true,
            bounds: None,
        },
        Regularization {
            bounds: Some((-0.25, 0.4)),
            ..Regularization::NONE
        },
    ]
}

type Outcome = Result<(Vec<u32>, u32, u32, u64, u32, u32), String>;

fn outcome<const D: usize>(m: &LinearModel<D>, s: Result<Summary, Error>) -> Outcome {
    let s = s.map_err(|e| e.to_string())?;
    Ok((
        m.weights().iter().map(|v| v.to_bits()).collect(),
        m.bias().to_bits(),
        s.final_loss.to_bits(),
        s.steps,
        s.epochs,
        s.rollbacks,
    ))
}

/// `fit` on both paths, optionally under a controller built by `ctl`.
fn both<const D: usize>(
    loss: Loss,
    cfg: &TrainConfig,
    data: &Dataset<'_>,
    ctl: Option<&dyn Fn() -> Controller>,
) -> (Outcome, Outcome) {
    let start = LinearModel::<D>::zeros().with_loss(loss).unwrap();
    let (mut fast, mut block) = (start, BlockPath(start));
    let (a, b) = match ctl {
        Some(make) => {
            let (mut c1, mut c2) = (make(), make());
            let a = Training::new(cfg).controller(&mut c1).fit(&mut fast, data);
            let b = Training::new(cfg).controller(&mut c2).fit(&mut block, data);
            assert_eq!(c1.retries(), c2.retries());
            (a, b)
        }
        None => (
            Training::new(cfg).fit(&mut fast, data),
            Training::new(cfg).fit(&mut block, data),
        ),
    };
    (outcome(&fast, a), outcome(&block.0, b))
}

fn sizes<const D: usize>(all_rules: bool) {
    let n = 37;
    for (li, loss) in LOSSES.into_iter().enumerate() {
        let (x, y) = data(n, D, loss, 0x51 + D as u64 * 7 + li as u64);
        let ds = Dataset::new(&x, &y, D).unwrap();
        let rules = rules();
        let regs = regs();
        let (rules, regs) = if all_rules {
            (&rules[..], &regs[..])
        } else {
            (&rules[..4], &regs[..2])
        };
        for rule in rules {
            for reg in regs {
                for shuffle in [true, false] {
                    let cfg = TrainConfig {
                        learning_rate: 0.02,
                        epochs: 3,
                        batch_size: 1,
                        shuffle,
                        seed: 3,
                        optimizer: *rule,
                        regularization: *reg,
                    };
                    let (a, b) = both::<D>(loss, &cfg, &ds, None);
                    assert_eq!(a, b, "d={D} {loss:?} {rule:?} {reg:?} shuffle={shuffle}");
                    // FTRL refuses a penalty beside its own (the same error on both paths).
                    let refused =
                        matches!(rule, Rule::Ftrl { .. }) && (reg.l1 > 0.0 || reg.l2 > 0.0);
                    // Otherwise it trains, or (momentum on the Poisson loss's exponential) diverges.
                    match &a {
                        Ok(_) => assert!(!refused),
                        Err(e) => assert!(refused || e.contains("diverged"), "{e}"),
                    }
                }
            }
        }
    }
}

#[test]
fn fit_in_batches_of_one_is_the_block_path_bit_for_bit() {
    sizes::<1>(true);
    sizes::<2>(false);
    sizes::<3>(false);
    sizes::<4>(true);
    sizes::<5>(false);
    sizes::<7>(false);
    sizes::<8>(true);
    sizes::<9>(true);
    sizes::<15>(false);
    sizes::<16>(false);
    sizes::<17>(true);
    sizes::<31>(false);
    sizes::<32>(false);
    sizes::<33>(false);
}

/// Clipping (each kind), a controller that rolls back divergent epochs at a rate far too
/// high, and refused steps: the same decisions and bits on both paths.
#[test]
fn clipping_rollbacks_and_refused_steps_agree() {
    let (x, y) = data(64, 8, Loss::Squared, 99);
    let ds = Dataset::new(&x, &y, 8).unwrap();
    let clips = [
        Clip::NONE,
        Clip {
            value: Some(0.05),
            ..Clip::NONE
        },
        Clip {
            norm: Some(0.1),
            ..Clip::NONE
        },
        Clip {
            trust_radius: Some(0.01),
            ..Clip::NONE
        },
    ];
    let mut rolled_back = 0;
    for rule in [Rule::Sgd, Rule::ADAM, Rule::Nlms { eps: 1e-6 }] {
        for clip in clips {
            for lr in [0.01f32, 0.3, 40.0] {
                let cfg = TrainConfig {
                    learning_rate: lr,
                    epochs: 6,
                    batch_size: 1,
                    optimizer: rule,
                    ..TrainConfig::default()
                };
                let make = || {
                    Controller::new(ControllerConfig {
                        clip,
                        ..ControllerConfig::constant(lr).unwrap()
                    })
                    .unwrap()
                };
                let (a, b) = both::<8>(Loss::Squared, &cfg, &ds, Some(&make));
                assert_eq!(a, b, "{rule:?} {clip:?} lr={lr}");
                if let Ok(o) = &a {
                    rolled_back += o.5;
                }
                // Without a controller a divergent run is an error on both paths.
                let (a, b) = both::<8>(Loss::Squared, &cfg, &ds, None);
                assert_eq!(a, b, "{rule:?} lr={lr} uncontrolled");
            }
        }
    }
    assert!(
        rolled_back > 0,
        "no case rolled back: the test lost its point"
    );
}

/// Values whose squared error overflows `f32` from finite inputs: the step is refused (a
/// divergent run), not an error of the data, and the model is left finite — on both paths.
#[test]
fn an_overflowing_step_is_refused_on_both_paths() {
    let x = [1e19f32, 2e19, -1e19, 3e19];
    let y = [1e20f32, -1e20, 0.0, 1.0];
    let ds = Dataset::new(&x, &y, 1).unwrap();
    let cfg = TrainConfig {
        learning_rate: 1.0,
        epochs: 2,
        batch_size: 1,
        shuffle: false,
        ..TrainConfig::default()
    };
    let (a, b) = both::<1>(Loss::Squared, &cfg, &ds, None);
    assert_eq!(a, b);
    assert!(
        a.unwrap_err().contains("diverged"),
        "the first step overflows"
    );
}

/// A weight gradient that overflows while the loss and the bias gradient stay finite
/// (`r = −1e18`, `x = 3e38`: `r²` and `2r` are finite, `2r·x` is not): the single-sample path
/// tests no weight gradient unless clipping or bounds could make it finite, and refuses the
/// step by its non-finite new weight (or state) instead — the block path's outcome, for every
/// rule and penalty, on batches of one row that come after finite steps and lead to the
/// overflowing one, without a controller and under one's guard, with and without clipping.
#[test]
fn an_overflowing_weight_gradient_is_refused_on_both_paths() {
    fn case<const D: usize>() {
        // Finite steps that leave w_0 at 0 (feature 0 is 0 until row 3), then the overflow at
        // row 3, where feature 0 is 3e38 (the prediction stays finite: 0·3e38 = 0).
        let mut x = vec![0.5f32; 5 * D];
        for r in 0..5 {
            x[r * D] = 0.0;
        }
        x[3 * D] = 3e38;
        let y = [0.25f32, -0.5, 1.0, 1e18, 0.0];
        let ds = Dataset::new(&x, &y, D).unwrap();
        let clipped = Clip {
            value: Some(1.0),
            ..Clip::NONE
        };
        for rule in rules() {
            for regularization in regs() {
                let cfg = TrainConfig {
                    learning_rate: 0.01,
                    epochs: 2,
                    batch_size: 1,
                    shuffle: false,
                    optimizer: rule,
                    regularization,
                    ..TrainConfig::default()
                };
                let (a, b) = both::<D>(Loss::Squared, &cfg, &ds, None);
                assert_eq!(a, b, "d={D} {rule:?} {regularization:?}");
                for clip in [Clip::NONE, clipped] {
                    let guarded = || {
                        Controller::new(ControllerConfig {
                            clip,
                            ..ControllerConfig::constant(0.01).unwrap()
                        })
                        .unwrap()
                    };
                    let (a, b) = both::<D>(Loss::Squared, &cfg, &ds, Some(&guarded));
                    assert_eq!(a, b, "d={D} {rule:?} {regularization:?} {clip:?} guarded");
                }
            }
        }
    }
    case::<1>();
    case::<8>();
    case::<9>();
}

/// An online learner at batch 1 on a stream with a sensor swap half-way, every 50th sample by
/// `partial_fit` of one row: its model's bits (read by `bits`), rounds, events and updates.
fn learner_run<M: npoa::train::Trainable, const D: usize>(
    model: M,
    rule: Rule,
    standardize: bool,
    bits: impl Fn(&M) -> Vec<u32>,
) -> (Vec<u32>, u32, u32, u64) {
    let cfg = OnlineConfig {
        batch_size: 1,
        steps_per_call: 1,
        round_steps: 16,
        holdout_every: 4,
        optimizer: rule,
        detector: None,
        standardize: standardize.then_some(16),
        ..OnlineConfig::default()
    };
    let mut l = OnlineLearner::<M, D, 32, 8, NoDetector>::new(
        model,
        ControllerConfig::constant(0.05).unwrap(),
        cfg,
        Sampling::Sliding,
    )
    .unwrap();
    let (x, y) = data(600, D, Loss::Squared, 7 + D as u64);
    let mut events = 0u32;
    for (i, (row, t)) in x.chunks(D).zip(&y).enumerate() {
        // A sensor swap half-way: the teacher changes sign.
        let t = if i >= 300 { -t } else { *t };
        let row: [f32; D] = row.try_into().unwrap();
        if i % 50 == 49 {
            l.partial_fit(&row, &[t], &mut |_: &Event| events += 1)
                .unwrap();
        } else {
            l.push(&row, t).unwrap();
            l.step(&mut |_: &Event| events += 1).unwrap();
        }
    }
    (bits(&l.model()), l.rounds(), events, l.updates())
}

fn linear_bits<const D: usize>(m: &LinearModel<D>) -> Vec<u32> {
    let mut v: Vec<u32> = m.weights().iter().map(|w| w.to_bits()).collect();
    v.push(m.bias().to_bits());
    v
}

#[test]
fn the_online_learner_is_the_block_path_bit_for_bit() {
    fn case<const D: usize>() {
        for rule in [Rule::Sgd, Rule::ADAM, Rule::momentum(0.9)] {
            for standardize in [false, true] {
                let start = LinearModel::<D>::zeros();
                let a = learner_run::<_, D>(start, rule, standardize, linear_bits::<D>);
                let b = learner_run::<_, D>(BlockPath(start), rule, standardize, |m| {
                    linear_bits::<D>(&m.0)
                });
                assert_eq!(a, b, "d={D} {rule:?} standardize={standardize}");
                assert!(a.3 > 500, "d={D} {rule:?}: only {} updates", a.3);
            }
        }
    }
    case::<1>();
    case::<4>();
    case::<8>();
    case::<9>();
    case::<16>();
}

/// [`learner_run`] with a loss, a penalty and a controller of the caller's: a stream of
/// `loss`'s targets (0/1 labels for the logistic loss), no sensor swap, no `partial_fit`, so
/// that every update is a `step` on the window's next row. The model's bits, rounds, events,
/// updates and rollbacks.
fn learner_with<M: npoa::train::Trainable, const D: usize>(
    model: M,
    (rule, reg, loss): (Rule, Regularization, Loss),
    controller: ControllerConfig,
    bits: impl Fn(&M) -> Vec<u32>,
) -> Option<(Vec<u32>, u32, u32, u64, u32)> {
    let cfg = OnlineConfig {
        batch_size: 1,
        steps_per_call: 1,
        round_steps: 8,
        holdout_every: 5,
        optimizer: rule,
        regularization: reg,
        detector: None,
        standardize: Some(16),
        ..OnlineConfig::default()
    };
    // A combination the learner refuses (FTRL with a penalty beside its own) is skipped.
    let mut l =
        OnlineLearner::<M, D, 32, 8, NoDetector>::new(model, controller, cfg, Sampling::Sliding)
            .ok()?;
    let (x, y) = data(400, D, loss, 11 + D as u64);
    let mut events = 0u32;
    for (row, t) in x.chunks(D).zip(&y) {
        let row: [f32; D] = row.try_into().unwrap();
        l.push(&row, *t).unwrap();
        l.step(&mut |_: &Event| events += 1).unwrap();
    }
    let rollbacks = l.controller().retries();
    Some((bits(&l.model()), l.rounds(), events, l.updates(), rollbacks))
}

/// The learner's single-sample `step` (which makes the step's scalars for the round's rate and
/// the controller's clipping) against the general step: every update
/// rule and penalty, a rate decaying every round, trust-radius and value clipping, and a rate
/// so high that the guard rolls back, on the squared and the logistic loss.
#[test]
fn the_learners_one_row_steps_are_the_block_path_for_every_rule_rate_and_clip() {
    fn case<const D: usize>() -> (u32, u32) {
        let decaying = ControllerConfig {
            schedule: npoa::control::LrSchedule::new(
                0.2,
                npoa::control::Schedule::Exponential { gamma: 0.9 },
            )
            .unwrap(),
            ..ControllerConfig::constant(0.2).unwrap()
        };
        let clipped = ControllerConfig {
            clip: Clip {
                value: Some(0.5),
                norm: None,
                trust_radius: Some(0.05),
            },
            ..ControllerConfig::constant(0.3).unwrap()
        };
        let diverging = ControllerConfig::constant(40.0).unwrap();
        let (mut rollbacks, mut runs) = (0, 0);
        for rule in rules() {
            for reg in regs() {
                for loss in [Loss::Squared, Loss::Logistic] {
                    for ctl in [decaying, clipped, diverging] {
                        let start = LinearModel::<D>::zeros().with_loss(loss).unwrap();
                        let a = learner_with::<_, D>(start, (rule, reg, loss), ctl, linear_bits);
                        let b =
                            learner_with::<_, D>(BlockPath(start), (rule, reg, loss), ctl, |m| {
                                linear_bits::<D>(&m.0)
                            });
                        assert_eq!(a, b, "d={D} {rule:?} {reg:?} {loss:?} {ctl:?}");
                        let Some(a) = a else { continue };
                        runs += 1;
                        // A run that trains (one stopped by its rollbacks may train little).
                        assert!(
                            a.3 >= 64 || a.4 > 0,
                            "d={D} {rule:?} {loss:?}: {} updates",
                            a.3
                        );
                        rollbacks += a.4;
                    }
                }
            }
        }
        (rollbacks, runs)
    }
    for (rollbacks, runs) in [case::<8>(), case::<5>()] {
        // The diverging runs are rolled back (the guard's path is compared too); FTRL with a
        // penalty of its own beside the configured one is the only refused combination.
        assert!(rollbacks > 0);
        assert!(runs >= 9 * 4 * 2 * 3 - 3 * 2 * 3, "{runs} runs");
    }
}
