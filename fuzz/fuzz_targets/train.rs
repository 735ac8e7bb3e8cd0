//! The whole training loop on arbitrary small data and settings: `D ∈ {1, 3, 8, 33}` features
//! (one output with any loss of the registry, or a softmax classifier of 2, 3 or 5 classes),
//! up to 24 rows, a validation set or none, any update rule and regularization, and a strategy
//! controller or none (schedules, plateau, adaptive step, early stop, target, guard, clip,
//! certificate tolerance).
//!
//! Properties: no panic; the result is an `Err` with the model and the optimizer state
//! unchanged, bit for bit (compared by bits, not `==`: `−0.0 == 0.0`), or `Ok` with a finite
//! model and a finite state; the same run twice gives the same bits (model, state, controller,
//! summary); training continued from the state a first run left (carried over) keeps these
//! properties; the same run paused every few steps, its `Checkpoint` encoded and decoded
//! (`npoa::state`) at each pause and continued from the decoded one, ends with the bits of the
//! run never paused (or fails when it fails). The full-batch solver runs on the same inputs
//! with the same properties, and a `converged` stop comes with a certificate within the
//! tolerance.
#![no_main]

mod input;

use input::Input;
use libfuzzer_sys::fuzz_target;
use npoa::Error;
use npoa::control::{Clip, ControllerConfig, EarlyStop, Guard, LrSchedule, Plateau, Schedule};
use npoa::control::{Controller, Warmup};
use npoa::loss::Loss;
use npoa::optim::{OptimState, Regularization, Rule};
use npoa::state::{Checkpoint, Model};
use npoa::train::solve::{Method, Solve, SolveConfig, solve};
use npoa::train::{Dataset, Stop, Summary, TrainConfig, Training};
use npoa::{LinearClassifier, LinearModel};

/// A model's parameters, flat.
trait Flat: Model + Copy + core::fmt::Debug {
    fn flat(&self) -> Vec<f32>;
}

impl<const D: usize> Flat for LinearModel<D> {
    fn flat(&self) -> Vec<f32> {
        self.weights()
            .iter()
            .copied()
            .chain([self.bias()])
            .collect()
    }
}

impl<const D: usize, const K: usize> Flat for LinearClassifier<D, K> {
    fn flat(&self) -> Vec<f32> {
        self.weights()
            .as_flattened()
            .iter()
            .chain(self.biases())
            .copied()
            .collect()
    }
}

fn bits<M: Flat>(m: &M) -> Vec<u32> {
    m.flat().iter().map(|v| v.to_bits()).collect()
}

fn finite<M: Flat>(m: &M) -> bool {
    m.flat().iter().all(|v| v.is_finite())
}

/// The state's bytes (every value's bits); `decode` refuses a non-finite value.
fn state_bytes<M: Model>(s: &OptimState<M, 2>) -> Vec<u8> {
    let mut v = vec![0u8; OptimState::<M, 2>::ENCODED_LEN];
    s.encode(&mut v).expect("an optimizer state encodes");
    v
}

fn ctl_bytes(c: &Option<Controller>) -> Option<Vec<u8>> {
    c.as_ref().map(|c| {
        let mut v = vec![0u8; Controller::ENCODED_LEN];
        c.encode(&mut v).expect("a controller encodes");
        v
    })
}

fn summary_bits(s: &Summary) -> (String, [u32; 3]) {
    (
        format!("{s:?}"),
        [
            s.final_loss.to_bits(),
            s.best_metric.to_bits(),
            s.certificate.to_bits(),
        ],
    )
}

struct Plan<'a> {
    cfg: TrainConfig,
    ctl: Option<ControllerConfig>,
    data: Dataset<'a>,
    val: Option<Dataset<'a>>,
    pause: u64,
    carry: bool,
    scfg: SolveConfig,
}

type Run<M> = (
    Result<Summary, Error>,
    M,
    OptimState<M, 2>,
    Option<Controller>,
);

/// One run from `model`, a fresh state and a fresh controller; `from` continues a state.
fn one_run<M: Flat>(p: &Plan<'_>, from: (M, OptimState<M, 2>, Option<Controller>)) -> Run<M> {
    let (mut m, mut st, mut ctl) = from;
    let t = Training::new(&p.cfg).validation(p.val.as_ref());
    let r = match ctl.as_mut() {
        Some(c) => t.controller(c).fit_with(&mut m, &mut st, &p.data),
        None => t.fit_with(&mut m, &mut st, &p.data),
    };
    (r, m, st, ctl)
}

fn fresh_ctl(p: &Plan<'_>) -> Option<Controller> {
    p.ctl.map(|c| Controller::new(c).expect("checked valid"))
}

/// `Err` leaves model and state unchanged (bits); `Ok` leaves them finite.
fn check_outcome<M: Flat>(before: &M, st_before: &[u8], run: &Run<M>) {
    let (r, m, st, _) = run;
    match r {
        Err(_) => {
            assert_eq!(bits(m), bits(before), "an Err leaves the model unchanged");
            assert_eq!(
                state_bytes(st),
                st_before,
                "an Err leaves the state unchanged"
            );
        }
        Ok(s) => {
            assert!(finite(m), "finite model after {s:?}");
            let b = state_bytes(st);
            assert!(
                OptimState::<M, 2>::decode(&b).is_ok(),
                "finite optimizer state after {s:?}"
            );
        }
    }
}

fn same_run<M: Flat>(a: &Run<M>, b: &Run<M>, what: &str) {
    assert_eq!(bits(&a.1), bits(&b.1), "{what}: model bits");
    assert_eq!(state_bytes(&a.2), state_bytes(&b.2), "{what}: state bits");
    match (&a.0, &b.0) {
        (Ok(x), Ok(y)) => {
            assert_eq!(summary_bits(x), summary_bits(y), "{what}: summary");
            assert_eq!(ctl_bytes(&a.3), ctl_bytes(&b.3), "{what}: controller");
        }
        (Err(x), Err(y)) => assert_eq!(x, y, "{what}: the same error"),
        (x, y) => panic!("{what}: {x:?} vs {y:?}"),
    }
}

fn check_model<M: Flat + Solve + PartialEq>(m0: M, p: &Plan<'_>) {
    // The solver on a copy: an Err leaves it unchanged; Ok leaves it finite, and `converged`
    // means the certificate is within the tolerance.
    let mut m = m0;
    match solve(&mut m, &p.data, &p.scfg) {
        Err(_) => assert_eq!(bits(&m), bits(&m0), "an Err leaves the model unchanged"),
        Ok(s) => {
            assert!(finite(&m), "finite after the solver: {s:?}");
            assert!(s.certificate.is_nan() || s.certificate >= 0.0, "{s:?}");
            if s.stop == Stop::Converged {
                assert!(s.certificate <= p.scfg.tol.unwrap_or(1e-4), "{s:?}");
            }
        }
    }
    let fresh = OptimState::<M, 2>::new();
    let st0 = state_bytes(&fresh);
    let a = one_run(p, (m0, fresh, fresh_ctl(p)));
    check_outcome(&m0, &st0, &a);
    // Determinism: the same run again.
    let b = one_run(p, (m0, OptimState::new(), fresh_ctl(p)));
    same_run(&a, &b, "run twice");
    // Carried over: training continues from the state the first run left.
    if p.carry && a.0.is_ok() {
        let st1 = state_bytes(&a.2);
        let c = one_run(p, (a.1, a.2, a.3));
        check_outcome(&a.1, &st1, &c);
    }
    // Paused every `pause` steps, through the checkpoint's bytes.
    let mut ck = Checkpoint::<M, 2>::new(m0, fresh_ctl(p));
    let mut buf = vec![0u8; Checkpoint::<M, 2>::LEN];
    let mut last = None;
    for _ in 0..400 {
        let t = Training::new(&p.cfg)
            .validation(p.val.as_ref())
            .pause_after(p.pause);
        let r = ck.fit(t, &p.data);
        assert_eq!(ck.encode(&mut buf), Ok(Checkpoint::<M, 2>::LEN));
        let mut dec = Checkpoint::<M, 2>::decode(&buf)
            .unwrap_or_else(|e| panic!("a checkpoint decodes: {e:?} (after {r:?})"));
        let mut again = vec![0u8; buf.len()];
        assert_eq!(dec.encode(&mut again), Ok(buf.len()));
        assert_eq!(
            again, buf,
            "a decoded checkpoint re-encodes to the same bytes"
        );
        core::mem::swap(&mut ck, &mut dec);
        let go_on = matches!(&r, Ok(s) if s.stop == Stop::Paused);
        last = Some(r);
        if !go_on {
            break;
        }
    }
    let r = last.expect("at least one segment");
    assert!(
        !matches!(&r, Ok(s) if s.stop == Stop::Paused),
        "the run ends within 400 pauses"
    );
    match (&a.0, &r) {
        (Ok(_), Ok(_)) => {
            let resumed = (r, ck.model, ck.optim, ck.controller);
            same_run(&a, &resumed, "paused and resumed");
        }
        (Err(_), Err(_)) => {}
        (x, y) => panic!("never paused: {x:?}, paused every {} steps: {y:?}", p.pause),
    }
}

fn controller_cfg(inp: &mut Input, lr: f32, bounded: bool) -> Option<ControllerConfig> {
    let sel = inp.byte();
    if sel % 2 == 0 {
        return None;
    }
    let mut c = ControllerConfig::constant(lr).ok()?;
    let steps = inp.range(1, 40) as u32;
    let g = if bounded {
        inp.small().abs() * 0.25
    } else {
        inp.raw_f32()
    };
    let schedule = match inp.byte() % 7 {
        0 => Schedule::Constant,
        1 => Schedule::Step {
            step_size: steps,
            gamma: g,
        },
        2 => Schedule::Exponential { gamma: 0.5 + g },
        3 => Schedule::Polynomial {
            total_steps: steps,
            power: g * 4.0,
        },
        4 => Schedule::Cosine {
            t_max: steps,
            eta_min: lr * g.min(1.0),
        },
        5 => Schedule::CosineWarmRestarts {
            t_0: steps,
            t_mult: inp.range(1, 2) as u32,
            eta_min: 0.0,
        },
        _ => Schedule::InvScaling { power_t: g },
    };
    let mut s = LrSchedule::new(lr, schedule).ok()?;
    if inp.byte() % 4 == 0 {
        s = s
            .with_warmup(Warmup {
                steps: inp.range(1, 8) as u32,
                start_factor: g.min(1.0),
            })
            .ok()?;
    }
    c.schedule = s;
    if inp.byte() % 2 == 0 {
        c.plateau = Some(Plateau {
            factor: 0.5,
            patience: inp.range(0, 3) as u32,
            ..Plateau::default()
        });
    }
    if inp.byte() % 4 == 0 {
        c.adaptive = Some((g, inp.range(1, 4) as u32));
    }
    if inp.byte() % 2 == 0 {
        c.early_stop = Some(EarlyStop {
            patience: inp.range(0, 4) as u32,
            ..EarlyStop::default()
        });
    }
    if inp.byte() % 4 == 0 {
        c.target = Some(g);
    }
    match inp.byte() % 4 {
        0 => c.guard = None,
        1 => {
            c.guard = Some(Guard {
                spike_factor: 1.0 + g * 8.0 + 0.5,
                cut: 0.5,
                max_retries: inp.range(0, 4) as u32,
            })
        }
        _ => {}
    }
    let lim = |i: &mut Input| {
        if i.byte() % 3 == 0 {
            Some(if bounded {
                i.small().abs() + 0.01
            } else {
                i.raw_f32()
            })
        } else {
            None
        }
    };
    c.clip = Clip {
        value: lim(inp),
        norm: lim(inp),
        trust_radius: lim(inp),
    };
    if inp.byte() % 4 == 0 {
        c.tol = Some(g * 1e-2);
        c.certify_every = inp.range(0, 3) as u32;
        c.plateau_follows_certificate = inp.byte() % 2 == 0;
    }
    Controller::new(c).ok().map(|_| c)
}

fn with_data<const D: usize>(inp: &mut Input, bounded: bool) {
    let val = |i: &mut Input| if bounded { i.small() } else { i.raw_f32() };
    let n = inp.range(1, 24);
    let nv = inp.range(0, 8);
    let x: Vec<f32> = (0..n * D).map(|_| val(inp)).collect();
    let mut y: Vec<f32> = (0..n).map(|_| val(inp)).collect();
    let xv: Vec<f32> = (0..nv * D).map(|_| val(inp)).collect();
    let mut yv: Vec<f32> = (0..nv).map(|_| val(inp)).collect();
    // A loss of the registry (the squared error twice as likely), its parameter from the input
    // (bounded: scaled into (0, 1) if the loss refuses it, as a quantile level must be).
    let pick = usize::from(inp.byte()) % (Loss::ALL.len() + 1);
    let loss = Loss::ALL.get(pick).copied().unwrap_or(Loss::Squared);
    let loss = match loss.param_name() {
        None => loss,
        Some(_) => {
            let p = val(inp).abs();
            match loss.with_param(p).validate() {
                Err(_) if bounded => loss.with_param(p / 4.02),
                _ => loss.with_param(p),
            }
        }
    };
    let classes = match inp.byte() % 8 {
        0 | 1 => 3,
        2 => 2,
        3 => 5,
        _ => 0,
    };
    // Half the time, targets the loss refuses (logistic outside [0, 1], negative Poisson
    // counts) become 0/1, which every loss takes; otherwise they stay (an Err).
    if inp.byte() % 2 == 0 {
        for t in [&mut y, &mut yv] {
            if loss.check_targets(t).is_err() {
                *t = t.iter().map(|v| f32::from(*v > 0.0)).collect();
            }
        }
    }
    if classes > 0 && inp.byte() % 4 != 0 {
        for t in [&mut y, &mut yv] {
            *t = t
                .iter()
                .map(|v| (v.abs() as u32 % classes) as f32)
                .collect();
        }
    }
    let rule = inp.rule(bounded);
    let reg = if matches!(rule, Rule::Ftrl { .. }) || inp.byte() % 2 == 0 {
        Regularization::NONE
    } else {
        Regularization {
            l1: val(inp).abs(),
            l2: val(inp).abs(),
            bias: inp.byte() % 2 == 0,
            bounds: if inp.byte() % 3 == 0 {
                Some((val(inp), val(inp)))
            } else {
                None
            },
        }
    };
    let lr = if bounded {
        val(inp).abs() * 2.0
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
    let ctl = controller_cfg(inp, lr, bounded);
    let pause = inp.range(1, 9) as u64;
    let carry = inp.byte() % 2 == 0;
    let Ok(data) = Dataset::new(&x, &y, D) else {
        return;
    };
    let val_set = if nv > 0 {
        Dataset::new(&xv, &yv, D).ok()
    } else {
        None
    };
    let w0: Vec<f32> = (0..D).map(|_| val(inp)).collect();
    let b0 = val(inp);
    let scfg = SolveConfig {
        max_iter: cfg.epochs * 8,
        tol: if inp.byte() % 2 == 0 {
            None
        } else {
            Some(val(inp))
        },
        regularization: reg,
        method: [
            Method::Auto,
            Method::ConjugateGradient,
            Method::Fista,
            Method::Newton,
        ][inp.range(0, 3)],
        target_var: None,
    };
    let p = Plan {
        cfg,
        ctl,
        data,
        val: val_set,
        pause,
        carry,
        scfg,
    };
    let w: [f32; D] = core::array::from_fn(|j| w0[j]);
    match classes {
        0 => {
            let Ok(m) = LinearModel::<D>::new(w, b0).and_then(|m| m.with_loss(loss)) else {
                return;
            };
            check_model(m, &p);
        }
        2 => classifier::<D, 2>(w, b0, &p),
        3 => classifier::<D, 3>(w, b0, &p),
        _ => classifier::<D, 5>(w, b0, &p),
    }
}

fn classifier<const D: usize, const K: usize>(w: [f32; D], b: f32, p: &Plan<'_>) {
    let wk: [[f32; D]; K] =
        core::array::from_fn(|c| core::array::from_fn(|j| w[j] * (1.0 - c as f32 / 4.0)));
    let bk: [f32; K] = core::array::from_fn(|c| b + c as f32 / 8.0);
    if let Ok(m) = LinearClassifier::<D, K>::new(wk, bk) {
        check_model(m, p);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let head = inp.byte();
    let bounded = head % 4 != 0;
    match (head >> 2) % 4 {
        0 => with_data::<1>(&mut inp, bounded),
        1 => with_data::<3>(&mut inp, bounded),
        2 => with_data::<8>(&mut inp, bounded),
        _ => with_data::<33>(&mut inp, bounded),
    }
});
