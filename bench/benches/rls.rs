//! Rate-free linear learners per sample: recursive least squares (`npoa::optim::Rls`) and NLMS
//! (`Rule::Nlms`, one `fit` of one epoch on a one-row data set).
//!
//! * `rls/update/d<d>`: one `Rls::update` (prior error, gain, weights, `P`'s triangle, the
//!   wind-up bound) at d ∈ {1, 4, 8, 32}, `Throughput::Elements(1)`;
//! * `nlms/fit_batch1/d<d>`: one NLMS step through the training loop (`Training::fit` on one
//!   row), at the same sizes.
//!
//! 8 benchmarks, about 8 s. Before timing, each learner is checked against the stream's
//! teacher: RLS's weights within 1e-2 after 2000 samples, NLMS's within 5e-2.

#[path = "shared/mod.rs"]
mod shared;

use std::hint::black_box;

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
    measurement::WallTime,
};
use npoa::LinearModel;
use npoa::optim::{Rls, RlsConfig, Rule};
use npoa::train::{Dataset, TrainConfig, Training};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const STREAM: usize = 4096;

/// `STREAM` samples of `y = w·x + 0.5 + noise` (noise ±0.01) and the teacher's `w`.
fn stream<const D: usize>() -> (Vec<([f32; D], f32)>, [f32; D]) {
    let mut g = Xoshiro256PlusPlus::seed_from_u64(0x726c_7300 ^ D as u64);
    let w: [f32; D] = core::array::from_fn(|_| g.random_range(-1.0f32..1.0));
    let s = (0..STREAM)
        .map(|_| {
            let x: [f32; D] = core::array::from_fn(|_| g.random_range(-1.0f32..1.0));
            let dot: f32 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            (x, dot + 0.5 + g.random_range(-0.01f32..0.01))
        })
        .collect();
    (s, w)
}

fn nlms_config() -> TrainConfig {
    TrainConfig {
        learning_rate: 0.5,
        epochs: 1,
        batch_size: 1,
        shuffle: false,
        optimizer: Rule::Nlms { eps: 1e-6 },
        ..TrainConfig::default()
    }
}

fn nlms_step<const D: usize>(m: &mut LinearModel<D>, cfg: &TrainConfig, x: &[f32; D], y: &f32) {
    let data = Dataset::new(x, core::slice::from_ref(y), D).expect("one row");
    Training::new(cfg).fit(m, &data).expect("finite step");
}

/// The learners after 2000 samples, checked against the teacher.
fn trained<const D: usize>(samples: &[([f32; D], f32)], w: &[f32; D]) -> (Rls<D>, LinearModel<D>) {
    let mut r = Rls::<D>::new(RlsConfig::default()).expect("valid configuration");
    let cfg = nlms_config();
    let mut m = LinearModel::<D>::zeros();
    for (x, y) in &samples[..2000] {
        r.update(x, *y).expect("finite sample");
        nlms_step(&mut m, &cfg, x, y);
    }
    for (j, ((a, b), t)) in r.weights().iter().zip(m.weights()).zip(w).enumerate() {
        assert!((a - t).abs() < 1e-2, "rls d{D}: w[{j}] = {a}, teacher {t}");
        assert!((b - t).abs() < 5e-2, "nlms d{D}: w[{j}] = {b}, teacher {t}");
    }
    (r, m)
}

fn rls_group<const D: usize>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let (samples, w) = stream::<D>();
    let (mut r, _) = trained::<D>(&samples, &w);
    let mut i = 0usize;
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("update", format!("d{D}")), |b| {
        b.iter(|| {
            let (x, y) = &samples[i % STREAM];
            i += 1;
            black_box(
                r.update(black_box(x), black_box(*y))
                    .expect("finite sample"),
            )
        });
    });
}

fn nlms_group<const D: usize>(g: &mut BenchmarkGroup<'_, WallTime>) {
    let (samples, w) = stream::<D>();
    let (_, mut m) = trained::<D>(&samples, &w);
    let cfg = nlms_config();
    let mut i = 0usize;
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("fit_batch1", format!("d{D}")), |b| {
        b.iter(|| {
            let (x, y) = &samples[i % STREAM];
            i += 1;
            nlms_step(&mut m, &cfg, black_box(x), black_box(y));
        });
    });
}

fn learners(c: &mut Criterion) {
    let mut g = c.benchmark_group("rls");
    rls_group::<1>(&mut g);
    rls_group::<4>(&mut g);
    rls_group::<8>(&mut g);
    rls_group::<32>(&mut g);
    g.finish();
    let mut g = c.benchmark_group("nlms");
    nlms_group::<1>(&mut g);
    nlms_group::<4>(&mut g);
    nlms_group::<8>(&mut g);
    nlms_group::<32>(&mut g);
    g.finish();
}

criterion_group! {
    name = benches;
    config = shared::config();
    targets = learners
}
criterion_main!(benches);
