//! The strategy controller on arbitrary configurations and metric sequences.
//!
//! Properties: no panic; an invalid configuration is an `Err` from `Controller::new`; every rate
//! is finite and within `[min_lr, max_lr]`; a rollback only ever restores a best copy that is
//! finite (or the initial weights, before any finite metric), and the best metric never rises;
//! a verdict never both saves and restores.
#![no_main]

mod input;

use input::Input;
use libfuzzer_sys::fuzz_target;
use npoa::control::{Anneal, LrSchedule, Milestones, Schedule, Warmup};
use npoa::control::{Controller, ControllerConfig, Guard};
use npoa::control::{EarlyStop, Plateau};

fn f(inp: &mut Input, bounded: bool) -> f32 {
    if bounded {
        inp.small().abs() * 0.25
    } else {
        inp.raw_f32()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let bounded = inp.byte() % 4 != 0;
    let base = f(&mut inp, bounded) + if bounded { 1e-3 } else { 0.0 };
    let steps = inp.range(1, 50) as u32;
    let gamma = f(&mut inp, bounded);
    let schedule = match inp.byte() % 8 {
        0 => Schedule::Constant,
        1 => Schedule::Step {
            step_size: steps,
            gamma,
        },
        2 => match Milestones::new(&[steps, steps * 2, steps * 3]) {
            Ok(milestones) => Schedule::MultiStep { milestones, gamma },
            Err(_) => Schedule::Constant,
        },
        3 => Schedule::Exponential { gamma },
        4 => Schedule::InvScaling { power_t: gamma },
        5 => Schedule::Cosine {
            t_max: steps,
            eta_min: base * 0.1,
        },
        6 => Schedule::CosineWarmRestarts {
            t_0: steps,
            t_mult: inp.range(1, 3) as u32,
            eta_min: 0.0,
        },
        _ => Schedule::OneCycle {
            total_steps: steps + 1,
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: f(&mut inp, bounded) + 1.0,
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
            steps: inp.range(1, 10) as u32,
            start_factor: f(&mut inp, bounded),
        };
        match sched.with_warmup(w) {
            Ok(s) => sched = s,
            Err(_) => return,
        }
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
    let Ok(mut ctl) = Controller::new(cfg) else {
        return;
    };
    let (lo, hi) = (cfg.min_lr, cfg.max_lr);
    // The "weights" are the metric they produced; `best` is the copy a loop would hold.
    let start = inp.small().abs() + 1.0;
    ctl.start(start, &mut |_| {});
    let mut current = start;
    let mut best = start;
    let mut t = 0u64;
    for epoch in 1..=60u32 {
        let r = ctl.rate(t);
        assert!(
            r.is_finite() && r >= lo && r <= hi,
            "rate {r} outside [{lo}, {hi}]"
        );
        t += 1;
        let kind = inp.byte();
        let (v, metric) = if kind % 7 == 0 {
            (ctl.on_divergence(epoch, &mut |_| {}), f32::NAN)
        } else {
            let m = match kind % 5 {
                0 => inp.raw_f32(),
                _ => inp.small().abs() * current,
            };
            (ctl.on_epoch(epoch, m, &mut |_| {}), m)
        };
        assert!(
            !(v.save_best && v.roll_back),
            "a verdict saves or restores, not both"
        );
        if v.roll_back {
            assert!(best.is_finite(), "a rollback restores a finite best copy");
            current = best;
        } else {
            current = metric;
        }
        if v.save_best {
            assert!(
                metric.is_finite(),
                "only finite weights are kept as the best"
            );
            assert!(
                metric <= best,
                "the best never gets worse: {metric} > {best}"
            );
            best = metric;
        }
        assert!(ctl.best() <= start, "the controller's best never rises");
        if v.stop.is_some() {
            break;
        }
    }
});
