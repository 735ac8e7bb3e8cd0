//! The streaming learner on arbitrary configurations, samples and call sequences.
//!
//! Properties: no panic; an invalid configuration is an `Err` from `OnlineLearner::new`; a
//! refused sample or batch (`Err`) leaves the model, its update count and its rounds
//! unchanged; the model and the best copy stay finite; the windows never hold more than their
//! capacity nor a non-finite value; the rate stays within the controller's bounds; `seen`
//! counts every accepted sample (until a detector's restart, which keeps only the newest).
//! The learner stores any detector and room for RLS, so every detector (on bounded or raw
//! settings) and the RLS path run: its updates in `push` and `partial_fit`, its rounds, its
//! rollbacks and restarts that reset `P`.
#![no_main]

mod input;

use input::Input;
use libfuzzer_sys::fuzz_target;
use npoa::LinearModel;
use npoa::control::drift::{
    AdwinConfig, AnyDetector, DdmConfig, DetectorConfig, EddmConfig, PageHinkleyConfig, PhMode,
};
use npoa::control::{ControllerConfig, Guard};
use npoa::online::{Drift, OnlineConfig, OnlineLearner, Sampling};
use npoa::optim::{Regularization, Rls, RlsConfig, Rule};

const D: usize = 3;

fn finite(m: &LinearModel<D>) -> bool {
    m.weights().iter().all(|v| v.is_finite()) && m.bias().is_finite()
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let bounded = inp.byte() % 4 != 0;
    let val = |inp: &mut Input, scale: f32| {
        if bounded {
            inp.small() * scale
        } else {
            inp.raw_f32()
        }
    };
    let rate = val(&mut inp, 0.25).abs() + if bounded { 1e-3 } else { 0.0 };
    let Ok(mut cc) = ControllerConfig::constant(rate) else {
        return;
    };
    cc.max_lr = cc.max_lr.min(10.0);
    cc.guard = Some(Guard {
        max_retries: inp.range(0, 4) as u32,
        ..Guard::default()
    });
    let rls = (inp.byte() % 3 == 0).then(|| RlsConfig {
        forgetting: if bounded {
            1.0 - f64::from(inp.small().abs()) * 0.1
        } else {
            f64::from(inp.raw_f32())
        },
        delta: if bounded {
            10f64.powi(inp.range(0, 7) as i32)
        } else {
            f64::from(inp.raw_f32())
        },
    });
    let detector = match inp.byte() % 6 {
        0 => None,
        1 => Some(DetectorConfig::Adwin(AdwinConfig {
            clock: inp.range(0, 8) as u32,
            warning_delta: (inp.byte() % 2 == 0).then_some(0.05),
            ..AdwinConfig::default()
        })),
        2 => Some(DetectorConfig::PageHinkley(PageHinkleyConfig {
            threshold: f64::from(val(&mut inp, 10.0).abs()),
            mode: PhMode::Up,
            min_instances: inp.range(0, 40) as u32,
            ..PageHinkleyConfig::default()
        })),
        3 => Some(DetectorConfig::Ddm(DdmConfig {
            warm_start: inp.range(0, 40) as u32,
            ..DdmConfig::default()
        })),
        _ => Some(DetectorConfig::Eddm(EddmConfig::default())),
    };
    // RLS takes no other rule.
    let rule = if rls.is_some() {
        Rule::Sgd
    } else {
        inp.rule(bounded)
    };
    let config = OnlineConfig {
        batch_size: inp.range(0, 20),
        steps_per_call: inp.range(0, 4) as u32,
        round_steps: inp.range(0, 6) as u32,
        holdout_every: inp.range(0, 6) as u32,
        metric_warmup: match inp.byte() % 3 {
            0 => None,
            n => Some(usize::from(n) * inp.range(0, 10)),
        },
        optimizer: rule,
        regularization: Regularization {
            // FTRL takes its own penalty (a non-zero one here would be refused).
            l1: if matches!(rule, Rule::Ftrl { .. }) {
                0.0
            } else {
                val(&mut inp, 0.01).abs()
            },
            ..Regularization::NONE
        },
        drift: (inp.byte() % 2 == 0).then(|| Drift {
            factor: val(&mut inp, 1.0).abs() + 1.0,
            floor: 0.0,
            patience: inp.range(0, 3) as u32,
        }),
        detector,
        rls,
        standardize: match inp.byte() % 3 {
            0 => None,
            _ => Some(inp.range(0, 40)),
        },
    };
    let sampling = if inp.byte() % 2 == 0 {
        Sampling::Sliding
    } else {
        Sampling::Reservoir {
            seed: u64::from(inp.u32()),
        }
    };
    let Ok(mut l) = OnlineLearner::<LinearModel<D>, D, 8, 4, AnyDetector, Rls<D>>::new(
        LinearModel::zeros(),
        cc,
        config,
        sampling,
    ) else {
        return;
    };
    let mut accepted = 0u64;
    for _ in 0..inp.range(1, 200) {
        let before = (l.model(), l.updates(), l.rounds());
        match inp.byte() % 4 {
            0 | 1 => {
                let x = [val(&mut inp, 1.0), val(&mut inp, 1.0), val(&mut inp, 1.0)];
                let y = val(&mut inp, 2.0);
                match l.push(&x, y) {
                    Ok(()) => accepted += 1,
                    Err(_) => assert_eq!((l.model(), l.updates(), l.rounds()), before),
                }
            }
            2 => {
                if l.step(&mut |_| {}).is_err() {
                    assert_eq!((l.model(), l.updates(), l.rounds()), before);
                }
            }
            _ => {
                let n = inp.range(0, 5);
                let x: Vec<f32> = (0..n * D + inp.range(0, 1))
                    .map(|_| val(&mut inp, 1.0))
                    .collect();
                let y: Vec<f32> = (0..n).map(|_| val(&mut inp, 2.0)).collect();
                if l.partial_fit(&x, &y, &mut |_| {}).is_err() {
                    assert_eq!((l.model(), l.updates(), l.rounds()), before);
                }
            }
        }
        assert!(finite(&l.model()) && finite(&l.best_model()));
        let r = l.rate();
        assert!(r.is_finite() && r >= 0.0 && r <= 10.0, "rate {r}");
        for (len, cap, xs, ys) in [
            (l.window().len(), 8, l.window().x(), l.window().y()),
            (l.holdout().len(), 4, l.holdout().x(), l.holdout().y()),
        ] {
            assert!(len <= cap && xs.len() == len * D && ys.len() == len);
            assert!(xs.iter().chain(ys).all(|v| v.is_finite()));
        }
        if l.restarts() == 0 {
            assert_eq!(l.window().seen() + l.holdout().seen(), accepted);
        } else {
            assert!(l.window().seen() + l.holdout().seen() <= accepted);
        }
    }
});
