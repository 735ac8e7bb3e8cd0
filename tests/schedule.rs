//! Learning-rate schedules against their published formulas (PyTorch `lr_scheduler` closed
//! forms, scikit-learn `invscaling`), written out again here in plain `f64` with `std`'s math,
//! against the examples in PyTorch's documentation, and for robustness on every step.
//!
//! Tolerance: 1e-6 relative (the crate evaluates in `f64` with `libm` and rounds once to `f32`;
//! `f32` rounding alone is 6e-8).

use npoa::Error;
use npoa::control::{Anneal, LrSchedule, MAX_MILESTONES, Milestones, Schedule, Warmup};
use proptest::prelude::*;
use std::f64::consts::PI;

fn sched(base: f32, s: Schedule) -> LrSchedule {
    LrSchedule::new(base, s).unwrap_or_else(|e| panic!("{e}"))
}

fn assert_close(got: f32, want: f64, what: &str) {
    let tol = 1e-6 * want.abs() + 1e-30;
    assert!(
        (f64::from(got) - want).abs() <= tol,
        "{what}: got {got:e}, want {want:e}"
    );
}

const STEPS: [u64; 12] = [0, 1, 2, 9, 10, 29, 30, 31, 79, 80, 99, 1000];

#[test]
fn step_lr_matches_pytorch_docs_example() {
    // PyTorch StepLR docs: lr = 0.05 if epoch < 30, 0.005 if 30 <= epoch < 60, 0.0005 if < 90.
    let s = sched(
        0.05,
        Schedule::Step {
            step_size: 30,
            gamma: 0.1,
        },
    );
    for t in 0..90u64 {
        let want = if t < 30 {
            0.05
        } else if t < 60 {
            0.005
        } else {
            0.0005
        };
        assert_close(s.rate(t), want, &format!("StepLR t={t}"));
    }
}

#[test]
fn multistep_lr_matches_pytorch_docs_example() {
    // PyTorch MultiStepLR docs: milestones [30, 80], gamma 0.1.
    let m = Milestones::new(&[30, 80]).unwrap();
    let s = sched(
        0.05,
        Schedule::MultiStep {
            milestones: m,
            gamma: 0.1,
        },
    );
    for t in 0..120u64 {
        let want = if t < 30 {
            0.05
        } else if t < 80 {
            0.005
        } else {
            0.0005
        };
        assert_close(s.rate(t), want, &format!("MultiStepLR t={t}"));
    }
}

#[test]
fn exponential_polynomial_invscaling_formulas() {
    let e = sched(0.1, Schedule::Exponential { gamma: 0.95 });
    let p = sched(
        0.1,
        Schedule::Polynomial {
            total_steps: 80,
            power: 2.0,
        },
    );
    let i = sched(0.01, Schedule::InvScaling { power_t: 0.25 });
    for t in STEPS {
        let tf = t as f64;
        assert_close(
            e.rate(t),
            0.1f32 as f64 * f64::from(0.95f32).powf(tf),
            "ExponentialLR",
        );
        let left = 1.0 - tf.min(80.0) / 80.0;
        assert_close(p.rate(t), 0.1f32 as f64 * left.powf(2.0), "PolynomialLR");
        // scikit-learn: eta = eta0 / pow(t, power_t), with its counter starting at 1.
        assert_close(
            i.rate(t),
            0.01f32 as f64 / (tf + 1.0).powf(0.25),
            "invscaling",
        );
    }
    // Polynomial decay reaches exactly 0 at T and stays there.
    assert_eq!(p.rate(80), 0.0);
    assert_eq!(p.rate(10_000), 0.0);
}

#[test]
fn cosine_annealing_closed_form() {
    let s = sched(
        0.1,
        Schedule::Cosine {
            t_max: 50,
            eta_min: 0.001,
        },
    );
    let (b, m) = (0.1f32 as f64, 0.001f32 as f64);
    for t in STEPS {
        let want = m + (b - m) * (1.0 + (PI * t as f64 / 50.0).cos()) / 2.0;
        assert_close(s.rate(t), want, &format!("CosineAnnealingLR t={t}"));
    }
    assert_close(s.rate(0), b, "start");
    assert_close(s.rate(50), m, "T_max");
}

/// PyTorch's formula for `CosineAnnealingWarmRestarts`, written as in its `step()`.
fn warm_restarts_reference(t: u64, t0: f64, mult: f64, base: f64, eta_min: f64) -> f64 {
    let epoch = t as f64;
    let (t_cur, t_i) = if epoch >= t0 {
        if mult == 1.0 {
            (epoch % t0, t0)
        } else {
            let n = ((epoch / t0 * (mult - 1.0) + 1.0).ln() / mult.ln()).floor();
            (
                epoch - t0 * (mult.powf(n) - 1.0) / (mult - 1.0),
                t0 * mult.powf(n),
            )
        }
    } else {
        (epoch, t0)
    };
    eta_min + (base - eta_min) * (1.0 + (PI * t_cur / t_i).cos()) / 2.0
}

#[test]
fn cosine_warm_restarts_formula_and_exact_restarts() {
    for (t0, mult) in [(10u32, 1u32), (10, 2), (7, 3)] {
        let s = sched(
            0.1,
            Schedule::CosineWarmRestarts {
                t_0: t0,
                t_mult: mult,
                eta_min: 0.0,
            },
        );
        // Away from the restart steps, where PyTorch's floating-point log may fall on either
        // side, the two agree.
        for t in [1u64, 5, 11, 23, 31, 55, 69, 71, 100, 149, 151, 400] {
            let want =
                warm_restarts_reference(t, f64::from(t0), f64::from(mult), 0.1f32 as f64, 0.0);
            assert_close(
                s.rate(t),
                want,
                &format!("warm restarts T0={t0} Tmult={mult} t={t}"),
            );
        }
        // Every restart gives the base rate back, exactly on its step.
        let (mut start, mut period) = (0u64, u64::from(t0));
        for _ in 0..5 {
            assert_close(s.rate(start), 0.1f32 as f64, "restart");
            start += period;
            period *= u64::from(mult);
        }
    }
}

/// PyTorch `OneCycleLR` (two phases), written out as in its `get_lr()`.
fn one_cycle_reference(
    step: f64,
    total: f64,
    max_lr: f64,
    pct: f64,
    div: f64,
    fdiv: f64,
    cos: bool,
) -> f64 {
    let initial = max_lr / div;
    let min_lr = initial / fdiv;
    let phases = [
        (pct * total - 1.0, initial, max_lr),
        (total - 1.0, max_lr, min_lr),
    ];
    let mut start_step = 0.0;
    for (i, (end_step, start_lr, end_lr)) in phases.iter().enumerate() {
        if step <= *end_step || i == phases.len() - 1 {
            let p = (step - start_step) / (end_step - start_step);
            return if cos {
                end_lr + (start_lr - end_lr) / 2.0 * ((PI * p).cos() + 1.0)
            } else {
                (end_lr - start_lr) * p + start_lr
            };
        }
        start_step = *end_step;
    }
    unreachable!()
}

#[test]
fn one_cycle_matches_pytorch_get_lr() {
    for (anneal, cos) in [(Anneal::Cos, true), (Anneal::Linear, false)] {
        let s = sched(
            0.5,
            Schedule::OneCycle {
                total_steps: 200,
                pct_start: 0.25,
                div_factor: 25.0,
                final_div_factor: 1e4,
                anneal,
            },
        );
        for t in 0..200u64 {
            let want = one_cycle_reference(
                t as f64,
                200.0,
                0.5f32 as f64,
                0.25f32 as f64,
                25.0,
                1e4,
                cos,
            );
            assert_close(s.rate(t), want, &format!("OneCycleLR {anneal:?} t={t}"));
        }
    }
}

#[test]
fn warmup_multiplies_linearly() {
    let s = sched(0.2, Schedule::Exponential { gamma: 0.9 })
        .with_warmup(Warmup {
            steps: 4,
            start_factor: 0.25,
        })
        .unwrap();
    for t in 0..10u64 {
        let f = 0.25 + 0.75 * (t.min(4) as f64) / 4.0;
        let want = 0.2f32 as f64 * f64::from(0.9f32).powf(t as f64) * f;
        assert_close(s.rate(t), want, &format!("warm-up t={t}"));
    }
}

fn invalid(r: Result<LrSchedule, Error>) -> &'static str {
    match r {
        Err(Error::InvalidParameter { name, .. }) => name,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn absurd_parameters_are_errors() {
    let n = f32::NAN;
    assert_eq!(
        invalid(LrSchedule::new(0.0, Schedule::Constant)),
        "learning_rate"
    );
    assert_eq!(
        invalid(LrSchedule::new(n, Schedule::Constant)),
        "learning_rate"
    );
    assert_eq!(
        invalid(LrSchedule::new(f32::INFINITY, Schedule::Constant)),
        "learning_rate"
    );
    let step = |step_size, gamma| LrSchedule::new(0.1, Schedule::Step { step_size, gamma });
    assert_eq!(invalid(step(0, 0.5)), "step_size");
    assert_eq!(invalid(step(1, 0.0)), "gamma");
    assert_eq!(invalid(step(1, n)), "gamma");
    assert_eq!(
        invalid(LrSchedule::new(0.1, Schedule::Exponential { gamma: -1.0 })),
        "gamma"
    );
    assert_eq!(
        invalid(LrSchedule::new(0.1, Schedule::InvScaling { power_t: n })),
        "power_t"
    );
    assert_eq!(
        invalid(LrSchedule::new(
            0.1,
            Schedule::Polynomial {
                total_steps: 0,
                power: 1.0
            }
        )),
        "total_steps"
    );
    assert_eq!(
        invalid(LrSchedule::new(
            0.1,
            Schedule::Cosine {
                t_max: 10,
                eta_min: 0.2
            }
        )),
        "eta_min"
    );
    assert_eq!(
        invalid(LrSchedule::new(
            0.1,
            Schedule::CosineWarmRestarts {
                t_0: 10,
                t_mult: 0,
                eta_min: 0.0
            }
        )),
        "t_mult"
    );
    let oc = |total_steps, pct_start| {
        LrSchedule::new(
            0.1,
            Schedule::OneCycle {
                total_steps,
                pct_start,
                div_factor: 25.0,
                final_div_factor: 1e4,
                anneal: Anneal::Cos,
            },
        )
    };
    assert_eq!(invalid(oc(1, 0.3)), "total_steps");
    assert_eq!(invalid(oc(100, 1.0)), "pct_start");
    assert_eq!(invalid(oc(100, 0.0)), "pct_start");
    let base = LrSchedule::new(0.1, Schedule::Constant).unwrap();
    assert_eq!(
        invalid(base.with_warmup(Warmup {
            steps: 0,
            start_factor: 0.5
        })),
        "warmup.steps"
    );
    assert_eq!(
        invalid(base.with_warmup(Warmup {
            steps: 5,
            start_factor: 0.0
        })),
        "warmup.start_factor"
    );
    assert!(Milestones::new(&[0; MAX_MILESTONES + 1]).is_err());
}

fn any_schedule() -> impl Strategy<Value = Schedule> {
    let g = prop_oneof![Just(1e-30f32), 0.001f32..2.0, Just(1.0f32), Just(3e38f32)];
    prop_oneof![
        Just(Schedule::Constant),
        (1u32..1000, g.clone()).prop_map(|(step_size, gamma)| Schedule::Step { step_size, gamma }),
        g.clone().prop_map(|gamma| Schedule::Exponential { gamma }),
        (0.0f32..4.0).prop_map(|power_t| Schedule::InvScaling { power_t }),
        (1u32..1000, 0.0f32..4.0)
            .prop_map(|(total_steps, power)| Schedule::Polynomial { total_steps, power }),
        (1u32..1000).prop_map(|t_max| Schedule::Cosine {
            t_max,
            eta_min: 0.0
        }),
        (1u32..1000, 1u32..5).prop_map(|(t_0, t_mult)| Schedule::CosineWarmRestarts {
            t_0,
            t_mult,
            eta_min: 0.0
        }),
        (2u32..10_000, 0.01f32..0.99, 1.0f32..100.0, 1.0f32..1e5).prop_map(
            |(total_steps, pct_start, div_factor, final_div_factor)| Schedule::OneCycle {
                total_steps,
                pct_start,
                div_factor,
                final_div_factor,
                anneal: Anneal::Cos,
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any valid schedule, any step (up to `u64::MAX`): a finite rate ≥ 0, and no panic.
    #[test]
    fn rate_is_finite_and_non_negative(
        base in prop_oneof![Just(f32::MIN_POSITIVE), 1e-6f32..10.0, Just(f32::MAX)],
        s in any_schedule(),
        t in prop_oneof![0u64..100_000, Just(u64::MAX), any::<u64>()],
    ) {
        if let Ok(sch) = LrSchedule::new(base, s) {
            let r = sch.rate(t);
            prop_assert!(r.is_finite() && r >= 0.0, "{s:?} t={t}: {r}");
        }
    }
}
