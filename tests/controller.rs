//! The strategy controller, by hand (scripted metrics) and inside the training loop: the guard
//! rescues a rate 100× too large, a divergence leaves the best finite weights, early stopping
//! and target stops, plateau reductions composed with a schedule, rates always in bounds.

use npoa::control::{
    Clip, Controller, ControllerConfig, Event, EventKind, Guard, RateCause, RollbackCause,
};
use npoa::control::{EarlyStop, Mode, Plateau};
use npoa::control::{LrSchedule, Schedule};
use npoa::train::{Dataset, Stop, TrainConfig, Training, observe, watch};
use npoa::{Error, LinearModel};
use proptest::prelude::*;

/// `(epoch, save_best, roll_back, stop)` of each epoch.
type Step = (u32, bool, bool, Option<Stop>);

fn drive(c: &mut Controller, metrics: &[f32]) -> (Vec<Step>, Vec<Event>) {
    let mut events = vec![];
    let mut out = vec![];
    for (i, &m) in metrics.iter().enumerate() {
        let e = i as u32 + 1;
        let v = c.on_epoch(e, m, &mut |ev| events.push(*ev));
        out.push((e, v.save_best, v.roll_back, v.stop));
        if v.stop.is_some() {
            break;
        }
    }
    (out, events)
}

#[test]
fn spikes_and_nan_roll_back_and_cut_the_rate() {
    let mut c = Controller::new(ControllerConfig::constant(1.0).unwrap()).unwrap();
    let (v, ev) = drive(&mut c, &[1.0, 0.5, 6.0, f32::NAN, 0.4]);
    assert_eq!(
        v,
        vec![
            (1, true, false, None),
            (2, true, false, None),
            (3, false, true, None), // 6.0 > 10 × 0.5? no: 6 > 5 → spike
            (4, false, true, None), // NaN
            (5, true, false, None),
        ]
    );
    assert!(ev.contains(&Event {
        epoch: 3,
        kind: EventKind::RolledBack {
            cause: RollbackCause::Spike,
            retry: 1
        }
    }));
    assert!(ev.contains(&Event {
        epoch: 4,
        kind: EventKind::RolledBack {
            cause: RollbackCause::NonFinite,
            retry: 2
        }
    }));
    // Two cuts of 0.1.
    assert!((c.rate(5) - 0.01).abs() < 1e-9, "{}", c.rate(5));
}

#[test]
fn retry_budget_then_diverged() {
    let cfg = ControllerConfig {
        guard: Some(Guard {
            max_retries: 2,
            ..Guard::default()
        }),
        ..ControllerConfig::constant(1.0).unwrap()
    };
    let mut c = Controller::new(cfg).unwrap();
    let (v, ev) = drive(&mut c, &[f32::NAN; 5]);
    assert_eq!(v.last(), Some(&(3, false, true, Some(Stop::Diverged))));
    assert!(ev.contains(&Event {
        epoch: 3,
        kind: EventKind::Stopped(Stop::Diverged)
    }));
    // Without a guard the first divergence stops.
    let mut c = Controller::new(ControllerConfig { guard: None, ..cfg }).unwrap();
    let (v, _) = drive(&mut c, &[f32::NAN]);
    assert_eq!(v, vec![(1, false, true, Some(Stop::Diverged))]);
}

#[test]
fn early_stop_target_and_plateau() {
    let base = ControllerConfig::constant(0.1).unwrap();
    let mut c = Controller::new(ControllerConfig {
        early_stop: Some(EarlyStop {
            patience: 2,
            ..EarlyStop::default()
        }),
        ..base
    })
    .unwrap();
    let (v, _) = drive(&mut c, &[1.0, 0.5, 0.6, 0.7, 0.8]);
    assert_eq!(v.last(), Some(&(4, false, false, Some(Stop::EarlyStop))));
    let mut c = Controller::new(ControllerConfig {
        target: Some(0.3),
        ..base
    })
    .unwrap();
    let (v, _) = drive(&mut c, &[1.0, 0.5, 0.25, 0.1]);
    assert_eq!(v.last(), Some(&(3, true, false, Some(Stop::Target))));
    // Plateau (patience 1) composed with a cosine schedule: the schedule's shape, scaled.
    let cos = LrSchedule::new(
        0.1,
        Schedule::Cosine {
            t_max: 100,
            eta_min: 0.0,
        },
    )
    .unwrap();
    let mut c = Controller::new(ControllerConfig {
        schedule: cos,
        plateau: Some(Plateau {
            patience: 1,
            factor: 0.5,
            ..Plateau::default()
        }),
        ..base
    })
    .unwrap();
    let (_, ev) = drive(&mut c, &[1.0, 1.0, 1.0]);
    assert!(ev.iter().any(|e| matches!(
        e.kind,
        EventKind::RateChanged {
            cause: RateCause::Plateau,
            ..
        }
    )));
    for t in [3u64, 10, 50] {
        assert!((f64::from(c.rate(t)) - 0.5 * f64::from(cos.rate(t))).abs() < 1e-7);
    }
}

#[test]
fn rates_stay_within_bounds_and_settings_are_checked() {
    let base = ControllerConfig::constant(0.1).unwrap();
    let c = Controller::new(ControllerConfig {
        min_lr: 0.2,
        max_lr: 0.3,
        ..base
    })
    .unwrap();
    assert_eq!(c.rate(0), 0.2);
    for (cfg, name) in [
        (
            ControllerConfig {
                min_lr: -1.0,
                ..base
            },
            "min_lr",
        ),
        (
            ControllerConfig {
                max_lr: 0.0,
                ..base
            },
            "max_lr",
        ),
        (
            ControllerConfig {
                min_lr: 1.0,
                max_lr: 0.5,
                ..base
            },
            "max_lr",
        ),
        (
            ControllerConfig {
                target: Some(f32::NAN),
                ..base
            },
            "target",
        ),
        (
            ControllerConfig {
                guard: Some(Guard {
                    cut: 1.0,
                    ..Guard::default()
                }),
                ..base
            },
            "guard.cut",
        ),
        (
            ControllerConfig {
                guard: Some(Guard {
                    spike_factor: 1.0,
                    ..Guard::default()
                }),
                ..base
            },
            "guard.spike_factor",
        ),
        (
            ControllerConfig {
                plateau: Some(Plateau {
                    factor: 2.0,
                    ..Plateau::default()
                }),
                ..base
            },
            "factor",
        ),
        (
            ControllerConfig {
                plateau: Some(Plateau {
                    mode: Mode::Max,
                    ..Plateau::default()
                }),
                ..base
            },
            "plateau.mode",
        ),
        (
            ControllerConfig {
                early_stop: Some(EarlyStop {
                    mode: Mode::Max,
                    ..EarlyStop::default()
                }),
                ..base
            },
            "early_stop.mode",
        ),
    ] {
        assert!(
            matches!(Controller::new(cfg), Err(Error::InvalidParameter { name: n, .. }) if n == name),
            "{name}"
        );
    }
}

fn seed_data() -> ([f32; 4], [f32; 4]) {
    ([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0])
}

fn run(
    lr: f32,
    guard: Option<Guard>,
    epochs: u32,
) -> (LinearModel<1>, npoa::train::Summary, Vec<Event>) {
    let (x, y) = seed_data();
    let data = Dataset::new(&x, &y, 1).unwrap();
    let cfg = ControllerConfig {
        guard,
        ..ControllerConfig::constant(lr).unwrap()
    };
    let mut c = Controller::new(cfg).unwrap();
    let mut m = LinearModel::<1>::zeros();
    let mut events = vec![];
    let tc = TrainConfig {
        epochs,
        batch_size: 4,
        shuffle: false,
        ..TrainConfig::default()
    };
    let s = Training::new(&tc)
        .controller(&mut c)
        .observer(&mut watch(|_| {}, |e| events.push(*e)))
        .fit(&mut m, &data)
        .unwrap();
    (m, s, events)
}

#[test]
fn the_guard_rescues_a_rate_100x_too_large() {
    let (x, y) = seed_data();
    let data = Dataset::new(&x, &y, 1).unwrap();
    let auto = npoa::control::autolr::stable_rate_for::<1>(&data).unwrap();
    let (m, s, events) = run(100.0 * auto, Some(Guard::default()), 1000);
    let loss = m.loss(&x, &y).unwrap();
    assert!(loss < 1e-8, "loss {loss:e}, {s:?}, {events:?}");
    assert!(s.rollbacks >= 2 && s.stop == Stop::MaxEpochs, "{s:?}");
    assert!(events.iter().any(|e| matches!(
        e.kind,
        EventKind::RateChanged {
            cause: RateCause::Rollback,
            ..
        }
    )));
    // Without the guard the same run stops at once, with the initial (best, finite) model.
    let (m, s, _) = run(100.0 * auto, None, 1000);
    assert_eq!(s.stop, Stop::Diverged);
    assert!(m.weights()[0].is_finite() && m.bias().is_finite());
}

#[test]
fn injected_overflow_leaves_finite_best_weights() {
    // Values near f32::MAX make the first gradient overflow: the step is never applied.
    let x = [3e38f32, -3e38, 3e38, 1.0];
    let y = [3e38f32, 3e38, -3e38, 0.0];
    let data = Dataset::new(&x, &y, 1).unwrap();
    let mut c = Controller::new(ControllerConfig::constant(0.1).unwrap()).unwrap();
    let mut m = LinearModel::<1>::new([0.5], 0.25).unwrap();
    let tc = TrainConfig {
        epochs: 50,
        batch_size: 4,
        ..TrainConfig::default()
    };
    let s = Training::new(&tc)
        .controller(&mut c)
        .fit(&mut m, &data)
        .unwrap();
    assert_eq!(s.stop, Stop::Diverged);
    assert_eq!((m.weights()[0], m.bias()), (0.5, 0.25));
}

#[test]
fn controlled_runs_are_deterministic_and_use_validation() {
    let xs: Vec<f32> = (0..200)
        .map(|i| ((i * 37 % 101) as f32) / 50.0 - 1.0)
        .collect();
    let ys: Vec<f32> = xs
        .chunks_exact(2)
        .map(|r| 1.5 * r[0] - 0.5 * r[1] + 0.25)
        .collect();
    let (tx, vx) = xs.split_at(160);
    let (ty, vy) = ys.split_at(80);
    let train = Dataset::new(tx, ty, 2).unwrap();
    let val = Dataset::new(vx, vy, 2).unwrap();
    let go = || {
        let mut c = Controller::new(ControllerConfig::constant(0.1).unwrap()).unwrap();
        let mut m = LinearModel::<2>::zeros();
        let mut recs = vec![];
        let tc = TrainConfig {
            epochs: 200,
            batch_size: 8,
            seed: 5,
            ..TrainConfig::default()
        };
        Training::new(&tc)
            .controller(&mut c)
            .validation(&val)
            .observer(&mut observe(|r| recs.push(*r)))
            .fit(&mut m, &train)
            .unwrap();
        (m, recs)
    };
    let (a, ra) = go();
    let (b, _) = go();
    assert_eq!(a.weights().map(f32::to_bits), b.weights().map(f32::to_bits));
    assert_eq!(a.bias().to_bits(), b.bias().to_bits());
    // The metric is the validation loss, and the returned model is the best one seen.
    let best = ra.iter().map(|r| r.metric).fold(f32::INFINITY, f32::min);
    assert_eq!(a.loss(vx, vy).unwrap(), best);
    assert!((a.weights()[0] - 1.5).abs() < 1e-3 && (a.bias() - 0.25).abs() < 1e-3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever the metrics (NaN, ±∞, huge) and settings, the rate stays within
    /// `[min_lr, max_lr]` and nothing panics.
    #[test]
    fn rate_always_within_bounds(
        metrics in prop::collection::vec(prop_oneof![
            6 => 0.0f32..10.0,
            1 => Just(f32::NAN), 1 => Just(f32::INFINITY), 1 => Just(f32::NEG_INFINITY), 1 => Just(3e38f32),
        ], 0..80),
        lr in 1e-6f32..10.0,
        min_lr in 0.0f32..1e-3,
        span in 1e-3f32..5.0,
        plateau in any::<bool>(),
        adaptive in any::<bool>(),
        retries in 0u32..20,
    ) {
        let cfg = ControllerConfig {
            min_lr,
            max_lr: min_lr + span,
            plateau: plateau.then(|| Plateau { patience: 1, ..Plateau::default() }),
            adaptive: adaptive.then_some((1e-3, 2)),
            guard: Some(Guard { max_retries: retries, ..Guard::default() }),
            ..ControllerConfig::constant(lr).unwrap()
        };
        let mut c = Controller::new(cfg).unwrap();
        for (i, &m) in metrics.iter().enumerate() {
            let r = c.rate(i as u64);
            prop_assert!(r >= min_lr && r <= min_lr + span && r.is_finite());
            let v = c.on_epoch(i as u32 + 1, m, &mut |_| {});
            if v.stop.is_some() { break; }
        }
    }
}

#[test]
fn truncation_in_the_loop() {
    let (x, y) = seed_data();
    let data = Dataset::new(&x, &y, 1).unwrap();
    let tc = TrainConfig {
        epochs: 200,
        batch_size: 4,
        shuffle: false,
        ..TrainConfig::default()
    };
    // A trust region of 0.05 per step keeps even a rate of 10 from diverging: no rollback.
    let cfg = ControllerConfig {
        clip: Clip {
            trust_radius: Some(0.05),
            ..Clip::NONE
        },
        ..ControllerConfig::constant(10.0).unwrap()
    };
    let mut c = Controller::new(cfg).unwrap();
    let mut m = LinearModel::<1>::zeros();
    let s = Training::new(&tc)
        .controller(&mut c)
        .fit(&mut m, &data)
        .unwrap();
    assert_eq!(s.rollbacks, 0);
    assert!(m.loss(&x, &y).unwrap() < 0.1, "{}", m.loss(&x, &y).unwrap());
    // Clipping by norm at the stable rate changes nothing once gradients are small, and the
    // run still converges.
    let cfg = ControllerConfig {
        clip: Clip {
            norm: Some(1.0),
            value: Some(10.0),
            ..Clip::NONE
        },
        ..ControllerConfig::auto::<1>(&data).unwrap()
    };
    let mut c = Controller::new(cfg).unwrap();
    let mut m = LinearModel::<1>::zeros();
    let tc = TrainConfig { epochs: 2000, ..tc };
    Training::new(&tc)
        .controller(&mut c)
        .fit(&mut m, &data)
        .unwrap();
    assert!(m.loss(&x, &y).unwrap() < 1e-8);
    for bad in [0.0f32, -1.0, f32::NAN, f32::INFINITY] {
        let cfg = ControllerConfig {
            clip: Clip {
                norm: Some(bad),
                ..Clip::NONE
            },
            ..ControllerConfig::constant(0.1).unwrap()
        };
        assert!(matches!(
            Controller::new(cfg),
            Err(Error::InvalidParameter {
                name: "clip.norm",
                ..
            })
        ));
    }
}

/// A warm restart: the schedule starts again from the restart's epoch at the full rate (the
/// plateau cut undone), the best is forgotten so the next metric is a new best, the early stop
/// counts its patience from the restart, and the event reports the trigger and the old best.
#[test]
fn restart_resets_the_schedule_the_cuts_and_the_best() {
    let schedule = LrSchedule::new(0.1, Schedule::Exponential { gamma: 0.5 }).unwrap();
    let mut c = Controller::new(ControllerConfig {
        schedule,
        plateau: Some(Plateau {
            patience: 1,
            factor: 0.1,
            ..Plateau::default()
        }),
        early_stop: Some(EarlyStop {
            patience: 3,
            start_epoch: 2,
            ..EarlyStop::default()
        }),
        ..ControllerConfig::constant(0.1).unwrap()
    })
    .unwrap();
    let (_, ev) = drive(&mut c, &[1.0, 0.5, 0.5, 0.5]);
    assert!(
        ev.iter()
            .any(|e| matches!(e.kind, EventKind::RateChanged { .. }))
    );
    assert!(c.rate(4) < 0.1 * 0.5f32.powi(4));
    let mut events = vec![];
    c.restart(4, 7.0, &mut |e| events.push(*e));
    assert_eq!(
        events,
        vec![Event {
            epoch: 4,
            kind: EventKind::Restarted {
                metric: 7.0,
                previous_best: 0.5
            }
        }]
    );
    assert_eq!(c.best(), f32::INFINITY);
    // Epoch 5 (t = 4) gets the schedule's first rate, epoch 6 its second.
    assert_eq!(c.rate(4), 0.1);
    assert_eq!(c.rate(5), 0.05);
    // Any finite metric is a new best after the restart.
    let v = c.on_epoch(5, 3.0, &mut |_| {});
    assert!(v.save_best && !v.roll_back && v.stop.is_none());
    // Early stopping counts from the restart: start_epoch 2 means epochs 5 and 6 do not count.
    let mut stops = vec![];
    for (e, m) in [(6, 3.0), (7, 3.0), (8, 3.0), (9, 3.0), (10, 3.0)] {
        let v = c.on_epoch(e, m, &mut |_| {});
        stops.push(v.stop.is_some());
        if v.stop.is_some() {
            break;
        }
    }
    assert_eq!(stops.last(), Some(&true));
    assert!(stops.len() >= 3, "{stops:?}");
}

/// The certificate: a `converged` stop at `tol`, a bad `tol` refused, and a plateau rule held
/// back while the certificate still halves (only when asked).
#[test]
fn certificate_stops_and_holds_the_plateau() {
    use npoa::control::{Controller, ControllerConfig, EventKind, Plateau, Stop};
    for bad in [f32::NAN, -1.0, f32::INFINITY] {
        let mut cfg = ControllerConfig::constant(0.1).unwrap();
        cfg.tol = Some(bad);
        assert!(Controller::new(cfg).is_err(), "tol {bad}");
    }
    let mut cfg = ControllerConfig::constant(0.1).unwrap();
    cfg.tol = Some(1e-4);
    let mut c = Controller::new(cfg).unwrap();
    c.start(1.0, &mut |_| {});
    c.certify(1e-3);
    assert_eq!(c.on_epoch(1, 0.5, &mut |_| {}).stop, None);
    let mut events = Vec::new();
    c.certify(5e-5);
    assert_eq!(
        c.on_epoch(2, 0.4, &mut |e| events.push(e.kind)).stop,
        Some(Stop::Converged)
    );
    assert!(events.contains(&EventKind::Stopped(Stop::Converged)));
    // A flat metric: the plateau rule cuts after its patience, unless the certificate halves.
    let cuts = |follow: bool, halving: bool| {
        let mut cfg = ControllerConfig::constant(0.1).unwrap();
        cfg.plateau = Some(Plateau {
            factor: 0.5,
            patience: 2,
            ..Plateau::default()
        });
        cfg.plateau_follows_certificate = follow;
        let mut c = Controller::new(cfg).unwrap();
        c.start(1.0, &mut |_| {});
        let mut n = 0;
        let mut cert = 1.0f32;
        for epoch in 1..=30 {
            if halving {
                cert *= 0.7;
            }
            c.certify(cert);
            c.on_epoch(epoch, 1.0, &mut |e| {
                if matches!(e.kind, EventKind::RateChanged { .. }) {
                    n += 1;
                }
            });
        }
        n
    };
    assert!(cuts(false, true) >= 5, "{}", cuts(false, true));
    assert!(cuts(true, false) >= 5, "{}", cuts(true, false));
    assert_eq!(cuts(true, true), 0, "no cut while the certificate halves");
}
