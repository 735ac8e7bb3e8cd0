//! The whole training loop on arbitrary small data and settings.
//!
//! Properties: no panic; the result is an `Err` with the model (and the optimizer state)
//! unchanged, bit for bit, or `Ok` with a finite model and finite state. The full-batch
//! solver runs on the same inputs with the same properties, and a `converged` stop comes
//! with a certificate within the tolerance.
#![no_main]

mod input;

use input::Input;
use libfuzzer_sys::fuzz_target;
use npoa::control::{Controller, ControllerConfig};
use npoa::loss::Loss;
use npoa::optim::{OptimState, Regularization, Rule};
use npoa::train::solve::{Method, Solve, SolveConfig, solve};
use npoa::train::{Dataset, Stop, TrainConfig, Training};
use npoa::{LinearClassifier, LinearModel};

const D: usize = 3;

fn bits<T: core::fmt::Debug>(v: &T) -> String {
    format!("{v:?}")
}

/// The solver on a copy of `model`: an `Err` leaves it unchanged; `Ok` leaves it finite, and
/// `converged` means the certificate is within the tolerance.
fn check_solve<M: Solve + Copy + PartialEq + core::fmt::Debug>(
    model: M,
    data: &Dataset<'_>,
    cfg: &SolveConfig,
    finite: impl Fn(&M) -> bool,
) {
    let mut m = model;
    match solve(&mut m, data, cfg) {
        Err(_) => assert_eq!(m, model, "an Err leaves the model unchanged"),
        Ok(s) => {
            assert!(finite(&m), "finite after the solver: {s:?}");
            assert!(s.certificate.is_nan() || s.certificate >= 0.0, "{s:?}");
            if s.stop == Stop::Converged {
                assert!(s.certificate <= cfg.tol.unwrap_or(1e-4), "{s:?}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let bounded = inp.byte() % 4 != 0;
    let val = |i: &mut Input| if bounded { i.small() } else { i.raw_f32() };
    let n = inp.range(1, 24);
    let x: Vec<f32> = (0..n * D).map(|_| val(&mut inp)).collect();
    let mut y: Vec<f32> = (0..n).map(|_| val(&mut inp)).collect();
    // A loss of the registry (the squared error twice as likely), its parameter from the input
    // (bounded: scaled into (0, 1) if the loss refuses it, as a quantile level must be).
    let pick = usize::from(inp.byte()) % (Loss::ALL.len() + 1);
    let loss = Loss::ALL.get(pick).copied().unwrap_or(Loss::Squared);
    let loss = match loss.param_name() {
        None => loss,
        Some(_) => {
            let p = val(&mut inp).abs();
            match loss.with_param(p).validate() {
                Err(_) if bounded => loss.with_param(p / 4.02),
                _ => loss.with_param(p),
            }
        }
    };
    let softmax = inp.byte() % 4 == 0;
    // Half the time, targets the loss refuses (logistic outside [0, 1], negative Poisson
    // counts) become 0/1, which every loss takes; otherwise they stay (an Err).
    if inp.byte() % 2 == 0 && loss.check_targets(&y).is_err() {
        y = y.iter().map(|v| f32::from(*v > 0.0)).collect();
    }
    if softmax && inp.byte() % 4 != 0 {
        y = y.iter().map(|v| (v.abs() as u32 % 3) as f32).collect();
    }
    let rule = inp.rule(bounded);
    let reg = if matches!(rule, Rule::Ftrl { .. }) || inp.byte() % 2 == 0 {
        Regularization::NONE
    } else {
        Regularization {
            l1: val(&mut inp).abs(),
            l2: val(&mut inp).abs(),
            bias: inp.byte() % 2 == 0,
            bounds: if inp.byte() % 3 == 0 {
                Some((val(&mut inp), val(&mut inp)))
            } else {
                None
            },
        }
    };
    let lr = if bounded {
        val(&mut inp).abs() * 2.0
    } else {
        inp.raw_f32()
    };
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs: inp.range(0, 6) as u32,
        batch_size: inp.range(0, 8),
        shuffle: inp.byte() % 2 == 0,
        seed: u64::from(inp.byte()),
        optimizer: rule,
        regularization: reg,
    };
    let controlled = inp.byte() % 2 == 0;
    let Ok(data) = Dataset::new(&x, &y, D) else {
        return;
    };
    let w0 = [val(&mut inp), val(&mut inp), val(&mut inp)];
    let b0 = val(&mut inp);
    let scfg = SolveConfig {
        max_iter: cfg.epochs * 8,
        tol: if inp.byte() % 2 == 0 {
            None
        } else {
            Some(val(&mut inp))
        },
        regularization: reg,
        method: [Method::Auto, Method::ConjugateGradient, Method::Fista][inp.range(0, 2)],
        target_var: None,
    };
    if softmax {
        let Ok(mut m) = LinearClassifier::<D, 3>::new([w0; 3], [b0; 3]) else {
            return;
        };
        check_solve(m, &data, &scfg, |m| {
            m.weights()
                .as_flattened()
                .iter()
                .chain(m.biases())
                .all(|v| v.is_finite())
        });
        let mut st = OptimState::<LinearClassifier<D, 3>>::new();
        let (before, st_before) = (m, bits(&st));
        let r = if controlled {
            match ControllerConfig::constant(lr).and_then(Controller::new) {
                Ok(mut ctl) => Training::new(&cfg)
                    .controller(&mut ctl)
                    .fit_with(&mut m, &mut st, &data)
                    .map(|_| ()),
                Err(_) => return,
            }
        } else {
            Training::new(&cfg)
                .fit_with(&mut m, &mut st, &data)
                .map(|_| ())
        };
        match r {
            Err(_) => {
                assert_eq!(m, before, "an Err leaves the model unchanged");
                assert_eq!(bits(&st), st_before);
            }
            Ok(()) => {
                assert!(
                    m.weights()
                        .as_flattened()
                        .iter()
                        .chain(m.biases())
                        .all(|v| v.is_finite())
                );
            }
        }
    } else {
        let Ok(m0) = LinearModel::<D>::new(w0, b0) else {
            return;
        };
        let Ok(mut m) = m0.with_loss(loss) else {
            return;
        };
        check_solve(m, &data, &scfg, |m| {
            m.weights().iter().all(|v| v.is_finite()) && m.bias().is_finite()
        });
        let mut st = OptimState::<LinearModel<D>>::new();
        let before = m;
        let r = if controlled {
            match ControllerConfig::constant(lr).and_then(Controller::new) {
                Ok(mut ctl) => Training::new(&cfg)
                    .controller(&mut ctl)
                    .fit_with(&mut m, &mut st, &data)
                    .map(|_| ()),
                Err(_) => return,
            }
        } else {
            Training::new(&cfg)
                .fit_with(&mut m, &mut st, &data)
                .map(|_| ())
        };
        match r {
            Err(_) => assert_eq!(m, before, "an Err leaves the model unchanged"),
            Ok(()) => {
                assert!(m.weights().iter().all(|v| v.is_finite()) && m.bias().is_finite());
                for i in 0..2 {
                    if let Some((a, b)) = st.buffer(i) {
                        assert!(
                            a.iter().chain(b.iter()).all(|v| v.is_finite()),
                            "finite state"
                        );
                    }
                }
            }
        }
    }
});
