//! What learning from a stream costs per sample: `OnlineLearner::step`, `push`, and both.
//!
//! The learner is the one of `examples/sensor_stream.rs` at d ∈ {4, 8, 32} features: a
//! 64-sample training window, a 16-sample held-out window (every 5th sample), batches of 8,
//! one update per `step`, rounds of 8 updates (so every 8th `step` also measures the held-out
//! loss and copies the best model: the time is the average over a round). The controller has
//! a constant rate and the divergence guard, no early stop, so that it never stops (a stopped
//! learner's `step` is nearly free and would flatter the figure).
//!
//! * `online/step/d<d>`: one `step` on a full window (SIMD kernels);
//! * `online/step_scalar/d<d>`: the same with the scalar reference path
//!   (`ScalarPath<LinearModel<D>>`);
//! * `online/push/d<d>`: one `push` (a copy into the ring buffer, the target check);
//! * `online/push_step/d<d>`: a `push` then a `step`: the per-sample cost of the example.
//!
//! 12 benchmarks, about 12 s (`--test` runs each once). Before timing, the learner is checked:
//! after 2000 samples its held-out loss is within 4× of the noise's, and the scalar and SIMD
//! learners fed the same samples agree within 1e-3 of the largest weight.

#[path = "shared/mod.rs"]
mod shared;

use std::hint::black_box;

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use npoa::LinearModel;
use npoa::control::ControllerConfig;
use npoa::online::{OnlineConfig, OnlineLearner, Sampling};
use npoa::train::{ScalarPath, Trainable};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const N: usize = 64;
const V: usize = 16;
/// Samples in the generated stream (cycled while timing).
const STREAM: usize = 4096;

/// `STREAM` samples of `y = w·x + 0.5 + noise`, noise uniform in ±0.1 (variance 0.0033).
fn stream<const D: usize>() -> Vec<([f32; D], f32)> {
    let mut g = Xoshiro256PlusPlus::seed_from_u64(0x6f6e_6c69 ^ D as u64);
    let s = 1.0 / (D as f32).sqrt();
    let w: [f32; D] = core::array::from_fn(|_| g.random_range(-s..s));
    (0..STREAM)
        .map(|_| {
            let x: [f32; D] = core::array::from_fn(|_| g.random_range(-1.0f32..1.0));
            let dot: f32 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            (x, dot + 0.5 + g.random_range(-0.1f32..0.1))
        })
        .collect()
}

fn learner<M: Trainable, const D: usize>(model: M) -> OnlineLearner<M, D, N, V> {
    // The stable rate of x ∈ [-1, 1)^D with a bias is about 3/(D + 3); a third of it.
    let rate = 1.0 / (D as f32 + 3.0);
    OnlineLearner::new(
        model,
        ControllerConfig::constant(rate).expect("valid rate"),
        OnlineConfig {
            drift: None,
            ..OnlineConfig::default()
        },
        Sampling::Sliding,
    )
    .expect("valid configuration")
}

/// Feeds `samples` (push, step) and returns the learner.
fn trained<M: Trainable, const D: usize>(
    model: M,
    samples: &[([f32; D], f32)],
) -> OnlineLearner<M, D, N, V> {
    let mut l = learner::<M, D>(model);
    for (x, y) in samples {
        l.push(x, *y).expect("finite sample");
        l.step(&mut |_| {}).expect("finite step");
    }
    l
}

/// The learner learns, and the two paths agree.
fn check<const D: usize>(samples: &[([f32; D], f32)]) {
    let simd = trained::<_, D>(LinearModel::<D>::zeros(), &samples[..2000]);
    let scalar = trained::<_, D>(ScalarPath(LinearModel::<D>::zeros()), &samples[..2000]);
    let m = simd.model();
    let loss = m
        .loss(simd.holdout().x(), simd.holdout().y())
        .expect("finite held-out loss");
    assert!(
        loss < 4.0 * 0.0034,
        "d{D}: held-out loss {loss} after 2000 samples"
    );
    let (a, b) = (m, scalar.model().0);
    let scale = a.weights().iter().fold(1.0f32, |s, v| s.max(v.abs()));
    for (p, q) in a.weights().iter().zip(b.weights()) {
        assert!(
            (p - q).abs() <= 1e-3 * scale,
            "d{D}: simd {p} vs scalar {q}"
        );
    }
    assert_eq!(simd.updates(), scalar.updates());
}

fn group<const D: usize>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let samples = stream::<D>();
    check::<D>(&samples);
    let id = format!("d{D}");
    let mut simd = trained::<_, D>(LinearModel::<D>::zeros(), &samples[..256]);
    g.bench_function(BenchmarkId::new("step", &id), |b| {
        b.iter(|| black_box(simd.step(&mut |_| {}).expect("finite step")));
    });
    // A stopped learner's `step` would be nearly free: the timing above measured training.
    assert!(
        simd.stopped().is_none() && simd.updates() > 256,
        "d{D}: still training"
    );
    let mut scalar = trained::<_, D>(ScalarPath(LinearModel::<D>::zeros()), &samples[..256]);
    g.bench_function(BenchmarkId::new("step_scalar", &id), |b| {
        b.iter(|| black_box(scalar.step(&mut |_| {}).expect("finite step")));
    });
    assert!(
        scalar.stopped().is_none() && scalar.updates() > 256,
        "d{D}: still training"
    );
    let mut l = trained::<_, D>(LinearModel::<D>::zeros(), &samples[..256]);
    let mut i = 0usize;
    g.bench_function(BenchmarkId::new("push", &id), |b| {
        b.iter(|| {
            let (x, y) = &samples[i % STREAM];
            i += 1;
            l.push(black_box(x), black_box(*y)).expect("finite sample");
        });
    });
    let mut l = trained::<_, D>(LinearModel::<D>::zeros(), &samples[..256]);
    g.bench_function(BenchmarkId::new("push_step", &id), |b| {
        b.iter(|| {
            let (x, y) = &samples[i % STREAM];
            i += 1;
            l.push(black_box(x), black_box(*y)).expect("finite sample");
            black_box(l.step(&mut |_| {}).expect("finite step"))
        });
    });
}

fn online(c: &mut Criterion) {
    let mut g = c.benchmark_group("online");
    group::<4>(&mut g);
    group::<8>(&mut g);
    group::<32>(&mut g);
    g.finish();
}

criterion_group! {
    name = benches;
    config = shared::config();
    targets = online
}
criterion_main!(benches);
