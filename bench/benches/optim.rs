//! Element-wise update rules, scalar against SIMD.
//!
//! Groups `update/<rule>/d<d>` for every rule of `Rule::EXAMPLES` by name and `sgd_l1` (SGD
//! then the elastic-net prox and a box): sgd, sgd_l1, momentum, nesterov, adam, adamw, averaged,
//! ftrl, adagrad; and d ∈ {16, 256, 4096} parameters,
//! each with `scalar` and `simd`. Throughput is in parameters per second (criterion's
//! `elem/s`); at d = 4096 the parameters and state (16–48 KiB) stay in L1/L2. An update checks
//! that every new value is finite before it writes (two passes over the parameters), as the
//! training loop does. About 50 s; `--test` runs each once.
//! The two paths give the same bits (checked before timing).

#[path = "shared/mod.rs"]
mod shared;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use npoa::optim::{self, Regularization, Rule, StepScalars};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const DS: [usize; 3] = [16, 256, 4096];

/// Every rule of the registry ([`Rule::EXAMPLES`], so a new rule is benchmarked without
/// editing this list), by [`Rule::name`], with its penalty; and `sgd_l1`.
fn rules() -> Vec<(&'static str, Rule, Regularization)> {
    let none = Regularization::NONE;
    let en = Regularization {
        l1: 0.01,
        l2: 0.01,
        bias: false,
        bounds: Some((-10.0, 10.0)),
    };
    let mut out = Vec::new();
    for rule in Rule::EXAMPLES {
        let (rule, reg) = match rule {
            Rule::AdamW { .. } => (rule, Regularization::l2(0.01)),
            Rule::Ftrl { .. } => (
                Rule::Ftrl {
                    beta: 1.0,
                    l1: 0.1,
                    l2: 0.1,
                },
                none,
            ),
            _ => (rule, none),
        };
        out.push((rule.name(), rule, reg));
        if rule == Rule::Sgd {
            out.push(("sgd_l1", Rule::Sgd, en));
        }
    }
    out
}

type UpdateFn =
    fn(&StepScalars, &mut [f32], &[f32], &mut [f32], &mut [f32]) -> Result<bool, npoa::Error>;

fn update(c: &mut Criterion) {
    let paths: [(&str, UpdateFn); 2] = [
        ("scalar", optim::scalar::update),
        ("simd", optim::simd::update),
    ];
    for (name, rule, reg) in rules() {
        for d in DS {
            let mut group = c.benchmark_group(format!("update/{name}/d{d}"));
            group.throughput(Throughput::Elements(d as u64));
            let mut g = Xoshiro256PlusPlus::seed_from_u64(d as u64);
            let w0: Vec<f32> = (0..d).map(|_| g.random_range(-1.0f32..1.0)).collect();
            let grad: Vec<f32> = (0..d).map(|_| g.random_range(-1.0f32..1.0)).collect();
            let a0: Vec<f32> = (0..d).map(|_| g.random_range(-0.1f32..0.1)).collect();
            // AdaGrad's first buffer is a sum of squares: a negative one is not a state it
            // can reach (its step would be NaN, and refused).
            let a0: Vec<f32> = if matches!(rule, Rule::AdaGrad { .. }) {
                a0.iter().map(|v| v.abs()).collect()
            } else {
                a0
            };
            let b0: Vec<f32> = (0..d).map(|_| g.random_range(0.0f32..0.1)).collect();
            // Step 5: past the first step's special cases (momentum, averaging).
            let s = StepScalars::new(rule, Some(&reg), 1e-3, 5);
            let mut results = Vec::new();
            for (_, f) in paths {
                let (mut w, mut a, mut b) = (w0.clone(), a0.clone(), b0.clone());
                assert_eq!(f(&s, &mut w, &grad, &mut a, &mut b), Ok(true));
                results.push((w, a, b));
            }
            assert_eq!(results[0], results[1], "{name}: scalar and simd differ");
            for (path, f) in paths {
                group.bench_function(BenchmarkId::new(path, d), |bench| {
                    let (mut w, mut a, mut b) = (w0.clone(), a0.clone(), b0.clone());
                    // The step is repeated on the evolving state (with η = 1e-3 it stays
                    // finite for far more iterations than a measurement takes).
                    bench.iter(|| {
                        f(
                            black_box(&s),
                            black_box(&mut w),
                            black_box(&grad),
                            black_box(&mut a),
                            black_box(&mut b),
                        )
                    });
                });
            }
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = shared::config();
    targets = update
}
criterion_main!(benches);
