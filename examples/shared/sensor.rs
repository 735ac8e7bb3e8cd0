//! The simulated sensor of `examples/sensor_stream.rs`, shared with `tests/online.rs` so that
//! the test asserts on exactly what the example shows.
//!
//! A sensor reads 4 channels `x ∈ [-1, 1)⁴` and the quantity to predict is
//! `y = w·x + b + noise` (noise uniform in `[-0.1, 0.1)`, variance 0.0033). Halfway through the
//! stream the sensor is swapped: `w` and `b` change. The learner sees each sample once: it
//! predicts it first (the error is recorded: prequential evaluation), then pushes it and runs
//! one `step`.

#![allow(dead_code)]

use npoa::LinearModel;
use npoa::control::drift::Adwin;
use npoa::control::drift::DetectorConfig;
use npoa::control::{ControllerConfig, Event, EventKind};
use npoa::control::{EarlyStop, Plateau};
use npoa::control::{LrSchedule, Schedule};
use npoa::online::{Drift, Gradient, OnlineConfig, OnlineLearner, Sampling};
use npoa::optim::{Rls, RlsConfig};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Features.
pub const D: usize = 4;
/// Training window (samples).
pub const N: usize = 64;
/// Held-out window (samples).
pub const V: usize = 16;
/// Samples of the prequential rolling error.
pub const ROLLING: usize = 100;
/// Samples of the short rolling error that measures a recovery (a 100-sample mean cannot be
/// back under a bound until the swap's first errors, thousands of times the noise, have left
/// it).
pub const SHORT: usize = 10;

/// The two regimes: before and after the swap.
pub const BEFORE: ([f32; D], f32) = ([1.5, -2.0, 0.5, 1.0], 0.3);
pub const AFTER: ([f32; D], f32) = ([-1.0, 0.5, 2.0, -1.5], -0.7);

/// The learner of the example (and of the test): a Page-Hinkley detector, room for RLS.
pub type Learner = OnlineLearner<LinearModel<D>, D, N, V, Adwin, Rls<D>>;

/// The gradient learner without RLS state (for size comparisons).
pub type GradientLearner = OnlineLearner<LinearModel<D>, D, N, V, Adwin, Gradient>;

/// A seeded sensor: `len` samples, regime `BEFORE` for the first half, `AFTER` for the rest.
pub fn stream(len: usize, seed: u64) -> Vec<([f32; D], f32)> {
    let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..len)
        .map(|i| {
            let (w, b) = if i < len / 2 { BEFORE } else { AFTER };
            let x: [f32; D] = core::array::from_fn(|_| g.random_range(-1.0f32..1.0));
            let dot: f32 = x.iter().zip(&w).map(|(a, c)| a * c).sum();
            (x, dot + b + g.random_range(-0.1f32..0.1))
        })
        .collect()
}

/// The controller: rate 0.1 halved on a plateau of 4 rounds (down to 1e-4), early stop after
/// 12 rounds without improvement, the default divergence guard.
pub fn controller() -> ControllerConfig {
    let schedule = LrSchedule::new(0.1, Schedule::Constant).expect("valid schedule");
    ControllerConfig {
        schedule,
        min_lr: 1e-4,
        plateau: Some(Plateau {
            patience: 4,
            factor: 0.5,
            min_lr: 1e-4,
            ..Plateau::default()
        }),
        early_stop: Some(EarlyStop {
            patience: 12,
            ..EarlyStop::default()
        }),
        ..ControllerConfig::constant(0.1).expect("valid rate")
    }
}

/// The gradient learner's configuration: batches of 8 from the window, one update per
/// sample, rounds of 8 updates, every 5th sample held out, the held-out drift heuristic as
/// given and no statistical detector.
pub fn config(drift: Option<Drift>) -> OnlineConfig {
    OnlineConfig {
        batch_size: 8,
        steps_per_call: 1,
        round_steps: 8,
        holdout_every: 5,
        drift,
        detector: None,
        ..OnlineConfig::default()
    }
}

/// The example's learner: recursive least squares (λ = 1: the sensor is stationary between
/// swaps) and the default Page-Hinkley detector on the prequential loss; the rest as
/// [`config`]. (`detector: None` turns drift handling off.)
pub fn rls_config(detector: Option<DetectorConfig>) -> OnlineConfig {
    OnlineConfig {
        rls: Some(RlsConfig {
            forgetting: 1.0,
            ..RlsConfig::default()
        }),
        detector,
        ..config(None)
    }
}

/// The default detector of [`OnlineConfig`] (Page-Hinkley watching for a rise).
pub fn default_detector() -> Option<DetectorConfig> {
    OnlineConfig::default().detector
}

/// What a run recorded.
pub struct Trace {
    /// The squared error of each sample, predicted before the model saw it.
    pub errors: Vec<f32>,
    /// The rolling mean of `errors` over the last `ROLLING` samples (fewer at the start).
    pub rolling: Vec<f32>,
    /// The rolling mean of `errors` over the last `SHORT` samples.
    pub short: Vec<f32>,
    /// The controller's events other than "improved", with the sample index they happened at.
    pub events: Vec<(usize, Event)>,
    /// The learner at the end.
    pub learner: Learner,
}

/// Runs the learner over `samples`: predict, record, push, step.
pub fn run(samples: &[([f32; D], f32)], drift: Option<Drift>) -> Trace {
    run_config(samples, config(drift))
}

/// [`run`] with another learner configuration.
pub fn run_config(samples: &[([f32; D], f32)], config: OnlineConfig) -> Trace {
    let mut learner = Learner::new(
        LinearModel::zeros(),
        controller(),
        config,
        Sampling::Sliding,
    )
    .expect("valid configuration");
    let mut errors = Vec::with_capacity(samples.len());
    let mut rolling = Vec::with_capacity(samples.len());
    let mut events = Vec::new();
    let mut sum = 0.0f64;
    let mut short = Vec::with_capacity(samples.len());
    let mut short_sum = 0.0f64;
    for (i, (x, y)) in samples.iter().enumerate() {
        let p = learner.model().predict(x).expect("finite model and sample");
        let e = (p - y) * (p - y);
        errors.push(e);
        sum += f64::from(e);
        if i >= ROLLING {
            sum -= f64::from(errors[i - ROLLING]);
        }
        rolling.push((sum / (i + 1).min(ROLLING) as f64) as f32);
        short_sum += f64::from(e);
        if i >= SHORT {
            short_sum -= f64::from(errors[i - SHORT]);
        }
        short.push((short_sum / (i + 1).min(SHORT) as f64) as f32);
        learner.push(x, *y).expect("finite sample");
        learner
            .step(&mut |e| {
                if !matches!(e.kind, EventKind::Improved { .. }) {
                    events.push((i, *e));
                }
            })
            .expect("a step on finite data");
    }
    Trace {
        errors,
        rolling,
        short,
        events,
        learner,
    }
}

/// After `from`: the first sample at which the rolling error, having risen to `bound` or
/// above, is below `bound` again (`Some(from)` if it never rose), or `None` if it stays up.
pub fn recovered(trace: &Trace, from: usize, bound: f32) -> Option<usize> {
    let r = &trace.rolling;
    match (from..r.len()).find(|&i| r[i] >= bound) {
        None => Some(from),
        Some(up) => (up..r.len()).find(|&i| r[i] < bound),
    }
}

/// After `from`: how many samples until the short rolling error ([`SHORT`] samples), having
/// risen to `bound` or above, is below it again (`Some(0)` if it never rose; `None` if it
/// stays up).
pub fn recovery(trace: &Trace, from: usize, bound: f32) -> Option<usize> {
    let r = &trace.short;
    match (from..r.len()).find(|&i| r[i] >= bound) {
        None => Some(0),
        Some(up) => (up..r.len()).find(|&i| r[i] < bound).map(|i| i - from),
    }
}
