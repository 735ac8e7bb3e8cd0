//! The strategy controller, its schedules and the gradient truncation, on arbitrary
//! configurations and metric sequences.
//!
//! Properties: no panic; an invalid configuration is an `Err` from `LrSchedule::new`,
//! `with_warmup` or `Controller::new`; every schedule's rate is finite and `≥ 0` at any step
//! (small ones, its own boundaries, and `t` up to `u64::MAX`); every controller rate, and every
//! `RateChanged` event's, is finite and within `[min_lr, max_lr]`, before and after
//! `restart()`; a rollback only ever restores a best copy that is finite (or the initial
//! weights); a saved best is finite and no worse than the controller's best before it, and the
//! best never rises except at a restart (which forgets it); a verdict never both saves and
//! restores; the truncation by value, by norm and by trust region of `ControllerConfig::clip`
//! gives finite gradients within the limits (or an `Err` leaving them unchanged, bit for bit).
#![no_main]

mod input;

use input::Input;
use libfuzzer_sys::fuzz_target;
use npoa::control::clip::{clip_grad_norm, clip_grad_value, global_norm, trust_region_factor};
use npoa::control::{Anneal, Clip, LrSchedule, Milestones, Schedule, Warmup};
use npoa::control::{Controller, ControllerConfig, Event, EventKind, Guard};
use npoa::control::{EarlyStop, Plateau};

fn f(inp: &mut Input, bounded: bool) -> f32 {
    if bounded {
        inp.small().abs() * 0.25
    } else {
        inp.raw_f32()
    }
}

fn opt(inp: &mut Input, bounded: bool, scale: f32) -> Option<f32> {
    if inp.byte() % 2 == 0 {
        None
    } else {
        Some(f(inp, bounded) * scale)
    }
}

/// Steps at which to read a schedule: early ones, around its own period `p`, and huge ones.
fn steps(p: u32, extra: u64) -> [u64; 12] {
    let p = u64::from(p);
    [
        0,
        1,
        p.saturating_sub(1),
        p,
        p + 1,
        2 * p + 1,
        7 * p + 3,
        u64::from(u32::MAX),
        1 << 40,
        u64::MAX - 1,
        u64::MAX,
        extra,
    ]
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|e| e.to_bits()).collect()
}

/// The truncations of `clip` on a gradient from the input.
fn check_clip(clip: Clip, inp: &mut Input, lr: f32) {
    let len = inp.range(0, 9);
    let raw = inp.byte() % 4 == 0;
    let mut g: Vec<f32> = (0..len)
        .map(|_| {
            if raw {
                inp.raw_f32()
            } else {
                inp.small() * 1e3
            }
        })
        .collect();
    let mut gb = if raw { inp.raw_f32() } else { inp.small() };
    let finite = g.iter().all(|v| v.is_finite()) && gb.is_finite();
    if let Some(v) = clip.value {
        let (g0, b0) = (g.clone(), gb);
        match clip_grad_value(&mut g, &mut gb, v) {
            Ok(_) => {
                assert!(finite);
                assert!(g.iter().chain([&gb]).all(|e| e.is_finite() && e.abs() <= v));
            }
            Err(_) => {
                assert_eq!((bits(&g), gb.to_bits()), (bits(&g0), b0.to_bits()));
                assert!(!finite || !(v.is_finite() && v > 0.0));
            }
        }
    }
    if let Some(m) = clip.norm {
        let (g0, b0) = (g.clone(), gb);
        let finite = g.iter().all(|v| v.is_finite()) && gb.is_finite();
        match clip_grad_norm(&mut g, &mut gb, m) {
            Ok(before) => {
                assert_eq!(Some(before), global_norm(&g0, b0), "the norm before");
                let after = global_norm(&g, gb).expect("finite after clipping");
                // The factor m/(norm + 1e-6) is rounded to f32 and applied in f32.
                assert!(
                    after <= f64::from(m) * (1.0 + 1e-6) + 1e-30 || after <= before,
                    "norm {before} clipped to {after} > {m}"
                );
                assert!(after <= before * (1.0 + 1e-6) + 1e-30);
            }
            Err(_) => {
                assert_eq!((bits(&g), gb.to_bits()), (bits(&g0), b0.to_bits()));
                assert!(!finite || global_norm(&g0, b0).is_none() || !(m.is_finite() && m > 0.0));
            }
        }
    }
    if let Some(r) = clip.trust_radius {
        match trust_region_factor(&g, gb, lr, r) {
            Ok(c) => {
                assert!(c.is_finite() && (0.0..=1.0).contains(&c), "factor {c}");
                let n = global_norm(&g, gb).expect("finite gradient");
                // The factor is rounded to f32: relatively (2⁻²⁴), and absolutely (2⁻¹⁵⁰)
                // where it is subnormal.
                let step = f64::from(lr) * n;
                assert!(
                    step * f64::from(c) <= f64::from(r) * (1.0 + 1e-6) + step * 2f64.powi(-149),
                    "step {} > radius {r}",
                    f64::from(lr) * n * f64::from(c)
                );
            }
            Err(_) => assert!(
                !(lr.is_finite() && lr > 0.0)
                    || !(r.is_finite() && r > 0.0)
                    || global_norm(&g, gb).is_none()
            ),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let bounded = inp.byte() % 4 != 0;
    let base = f(&mut inp, bounded) + if bounded { 1e-3 } else { 0.0 };
    let period = match inp.byte() % 4 {
        0 => inp.u32(),
        _ => inp.range(1, 50) as u32,
    };
    let gamma = f(&mut inp, bounded);
    let schedule = match inp.byte() % 10 {
        0 => Schedule::Constant,
        1 => Schedule::Step {
            step_size: period,
            gamma,
        },
        2 => match Milestones::new(&[period, period.saturating_mul(2), period.saturating_mul(3)]) {
            Ok(milestones) => Schedule::MultiStep { milestones, gamma },
            Err(_) => Schedule::Constant,
        },
        3 => Schedule::Exponential {
            gamma: if bounded { 0.5 + gamma } else { gamma },
        },
        4 => Schedule::InvScaling { power_t: gamma },
        5 => Schedule::Cosine {
            t_max: period,
            eta_min: base * f(&mut inp, bounded),
        },
        6 => Schedule::CosineWarmRestarts {
            t_0: period,
            t_mult: inp.range(0, 3) as u32,
            eta_min: base * f(&mut inp, bounded),
        },
        7 | 8 => Schedule::Polynomial {
            total_steps: period,
            power: gamma * 4.0,
        },
        _ => Schedule::OneCycle {
            total_steps: period.saturating_add(1),
            pct_start: f(&mut inp, bounded),
            div_factor: f(&mut inp, bounded) * 100.0,
            final_div_factor: f(&mut inp, bounded) * 1e4 + 1.0,
            anneal: if inp.byte() % 2 == 0 {
                Anneal::Cos
            } else {
                Anneal::Linear
            },
        },
    };
    let Ok(mut sched) = LrSchedule::new(base, schedule) else {
        return;
    };
    if inp.byte() % 3 == 0 {
        let w = Warmup {
            steps: inp.range(0, 10) as u32,
            start_factor: f(&mut inp, bounded),
        };
        match sched.with_warmup(w) {
            Ok(s) => sched = s,
            Err(_) => return,
        }
    }
    let extra = u64::from(inp.u32()) << (inp.byte() % 33);
    for t in steps(period, extra) {
        let r = sched.rate(t);
        assert!(
            r.is_finite() && r >= 0.0,
            "schedule {schedule:?} at {t}: {r}"
        );
    }
    let Ok(mut cfg) = ControllerConfig::constant(base) else {
        return;
    };
    cfg.schedule = sched;
    cfg.min_lr = if inp.byte() % 2 == 0 {
        0.0
    } else {
        f(&mut inp, bounded) * 1e-3
    };
    cfg.max_lr = if inp.byte() % 2 == 0 {
        f32::MAX
    } else {
        f(&mut inp, bounded) * 10.0
    };
    if inp.byte() % 2 == 0 {
        cfg.plateau = Some(Plateau {
            factor: f(&mut inp, bounded).min(0.99),
            patience: inp.range(0, 5) as u32,
            ..Plateau::default()
        });
    }
    if inp.byte() % 3 == 0 {
        cfg.adaptive = Some((f(&mut inp, bounded), inp.range(1, 5) as u32));
    }
    if inp.byte() % 2 == 0 {
        cfg.early_stop = Some(EarlyStop {
            patience: inp.range(0, 8) as u32,
            ..EarlyStop::default()
        });
    }
    if inp.byte() % 4 == 0 {
        cfg.target = Some(f(&mut inp, bounded));
    }
    if inp.byte() % 4 == 0 {
        cfg.guard = None;
    } else if inp.byte() % 2 == 0 {
        cfg.guard = Some(Guard {
            spike_factor: f(&mut inp, bounded) * 10.0 + 1.0,
            cut: f(&mut inp, bounded).min(0.99),
            max_retries: inp.range(0, 6) as u32,
        });
    }
    cfg.clip = Clip {
        value: opt(&mut inp, bounded, 4.0),
        norm: opt(&mut inp, bounded, 4.0),
        trust_radius: opt(&mut inp, bounded, 1.0),
    };
    if inp.byte() % 3 == 0 {
        cfg.tol = Some(f(&mut inp, bounded) * 1e-2);
        cfg.plateau_follows_certificate = inp.byte() % 2 == 0;
        cfg.certify_every = inp.range(0, 4) as u32;
    }
    let ctl = Controller::new(cfg);
    let clip_ok = [cfg.clip.value, cfg.clip.norm, cfg.clip.trust_radius]
        .iter()
        .all(|v| v.is_none_or(|v| v.is_finite() && v > 0.0));
    if !clip_ok {
        assert!(ctl.is_err(), "an invalid clip is refused");
    }
    let Ok(mut ctl) = ctl else {
        return;
    };
    let (lo, hi) = (cfg.min_lr, cfg.max_lr);
    let mut events: Vec<Event> = Vec::new();
    // The "weights" are the metric they produced; `copy` is the best copy a loop would hold.
    let start = inp.small().abs() + 1.0;
    ctl.start(start, &mut |e| events.push(*e));
    let mut current = start;
    let mut copy = start;
    // Epochs counted from 0 or from far away (a long-running online learner).
    let mut t: u64 = match inp.byte() % 4 {
        0 => u64::from(u32::MAX) - 30,
        1 => u64::MAX - 30,
        _ => 0,
    };
    let first_epoch = u32::try_from(t).unwrap_or(u32::MAX - 200).saturating_add(1);
    for epoch in first_epoch..first_epoch.saturating_add(200) {
        let r = ctl.rate(t);
        assert!(
            r.is_finite() && r >= lo && r <= hi,
            "rate {r} outside [{lo}, {hi}] at {t}"
        );
        check_clip(ctl.clip(), &mut inp, r.max(f32::MIN_POSITIVE));
        t = t.saturating_add(1);
        let kind = inp.byte();
        let best_before = ctl.best();
        let (v, metric) = match kind % 11 {
            0 => (ctl.on_divergence(epoch, &mut |e| events.push(*e)), f32::NAN),
            1 => {
                let m = inp.small().abs() * current;
                ctl.restart(epoch, m, &mut |e| events.push(*e));
                assert!(ctl.best() == f32::INFINITY, "a restart forgets the best");
                continue;
            }
            k => {
                if k == 2 {
                    ctl.certify(if inp.byte() % 4 == 0 {
                        inp.raw_f32()
                    } else {
                        inp.small().abs() * 1e-3
                    });
                }
                let m = match kind % 5 {
                    0 => inp.raw_f32(),
                    _ => inp.small().abs() * current,
                };
                (ctl.on_epoch(epoch, m, &mut |e| events.push(*e)), m)
            }
        };
        assert!(
            !(v.save_best && v.roll_back),
            "a verdict saves or restores, not both"
        );
        if v.roll_back {
            assert!(copy.is_finite(), "a rollback restores a finite best copy");
            current = copy;
        } else {
            current = metric;
        }
        if v.save_best {
            assert!(
                metric.is_finite(),
                "only finite weights are kept as the best"
            );
            assert!(
                metric <= best_before,
                "the best never gets worse: {metric} > {best_before}"
            );
            copy = metric;
        }
        assert!(
            ctl.best() <= best_before || best_before.is_nan(),
            "the controller's best never rises"
        );
        for e in events.drain(..) {
            match e.kind {
                EventKind::RateChanged { from, to, .. } => {
                    for r in [from, to] {
                        assert!(r.is_finite() && r >= lo && r <= hi, "{e:?}");
                    }
                }
                EventKind::Improved { metric } => assert!(metric.is_finite(), "{e:?}"),
                _ => {}
            }
        }
        if v.stop.is_some() {
            break;
        }
    }
});
