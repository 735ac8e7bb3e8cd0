//! Throughput of the fused kernels of the other losses, scalar against SIMD.
//!
//! Groups: `fused_<loss>/d<d>` for every loss of `Loss::ALL` but the squared error (`huber`,
//! `absolute`, `logistic`, `quantile`, `poisson`) and d ∈ {1, 4, 8, 32, 128, 1024}, and
//! `fused_softmax/k<k>_d<d>` for k ∈ {3, 10}, d ∈ {4, 32, 128}. In each group `scalar` and
//! `simd` are measured with parameter `n` (samples) for two sizes of `x`: 256 KiB (in L2) and
//! 64 MiB (beyond the caches). Throughput is the bytes of `x` (`n·d·4`), as in
//! `benches/kernels.rs`, so the `thrpt` column compares directly with `fused/d<d>` there.
//!
//! `subnormal/d32` times the SIMD Huber kernel on normal data against the same data scaled into
//! the subnormal range.
//!
//! 146 benchmarks, about 140 s (0.2 s warm-up, 0.6 s measurement: about 0.95 s each). Filter with a regex (`-- 'fused_softmax/k10'`); `--test`
//! runs each once. Before a case in L2 is first timed, the two paths are checked against each
//! other (relative 1e-3 of the largest magnitude). Not beyond the caches: there the scalar
//! reference sums the weight gradient of millions of samples sequentially in `f32` and drifts
//! by up to a few per cent (within its documented `γ_n` bound), while the SIMD path's block
//! sums stay close to the `f64` result.

#[path = "shared/mod.rs"]
mod shared;
use shared::rng;

use std::cell::OnceCell;
use std::hint::black_box;

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};
use npoa::kernel::{Kernels, SCALAR, SIMD};
use npoa::loss::Loss;
use rand::RngExt;

const FEATURES: [usize; 6] = [1, 4, 8, 32, 128, 1024];
const SOFTMAX: [(usize, usize); 6] = [(3, 4), (3, 32), (3, 128), (10, 4), (10, 32), (10, 128)];
const SIZES: [usize; 2] = [256 << 10, 64 << 20];

/// `bytes` of features uniform in [−1, 1), 64-byte aligned.
fn make_x(bytes: usize) -> shared::Aligned {
    shared::make_x_seeded(0x6c6f_7373, bytes)
}

/// A one-output case: a teacher `w`, targets for the loss (labels 0/1 from the teacher's sign
/// with 10 % flipped for the logistic loss; counts about `e^z` for Poisson; teacher plus noise
/// and 5 % outliers for the others) and a perturbed model.
struct Case {
    y: Vec<f32>,
    w: Vec<f32>,
    b: f32,
}

fn case(loss: Loss, x: &[f32], n: usize, d: usize) -> Case {
    let mut g = rng(((d as u64) << 32) ^ n as u64);
    let s = 1.0 / (d as f32).sqrt();
    let t: Vec<f32> = (0..d).map(|_| g.random_range(-s..s)).collect();
    let y = x
        .chunks_exact(d)
        .map(|row| {
            let z: f32 = row.iter().zip(&t).map(|(a, c)| a * c).sum();
            let u: f32 = g.random_range(0.0..1.0);
            match loss {
                Loss::Logistic => f32::from((z >= 0.0) != (u < 0.1)),
                Loss::Poisson => (z.exp() * (0.5 + u)).round(),
                _ if u < 0.05 => 10.0,
                _ => z + 0.1 * g.random_range(-1.0f32..1.0),
            }
        })
        .collect();
    let w = t.iter().map(|v| v + 0.25 * g.random_range(-s..s)).collect();
    Case { y, w, b: 0.1 }
}

fn check_close(what: &str, a: &[f32], b: &[f32]) {
    let scale = a.iter().chain(b).fold(1e-30f32, |m, v| m.max(v.abs()));
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        assert!(
            (p - q).abs() <= 1e-3 * scale,
            "{what}[{i}]: scalar {p} vs simd {q}"
        );
    }
}

fn bench_glm(
    group: &mut BenchmarkGroup<'_, WallTime>,
    loss: Loss,
    path: Kernels,
    n: usize,
    x: &dyn Fn() -> (&'static [f32], &'static Case),
) {
    group.bench_function(BenchmarkId::new(path.name, n), |bench| {
        let (x, c) = x();
        let mut g = vec![0.0f32; c.w.len()];
        bench.iter(|| {
            loss.fused(
                &path,
                black_box(x),
                black_box(&c.y),
                black_box(&c.w),
                black_box(c.b),
                black_box(&mut g),
            )
        });
    });
}

fn losses(c: &mut Criterion) {
    // Each size of `x` is made once, on first use, and kept for the whole run.
    let xs: [OnceCell<&'static [f32]>; SIZES.len()] = Default::default();
    let x_of = |s: usize| *xs[s].get_or_init(|| Box::leak(Box::new(make_x(SIZES[s]))).as_slice());
    // Every loss of the registry but the squared error (the `kernels` bench's `fused`), as
    // groups `fused_<name>/d<d>`.
    for loss in Loss::ALL.into_iter().filter(|l| *l != Loss::Squared) {
        let name = format!("fused_{}", loss.name());
        let name = name.as_str();
        for d in FEATURES {
            let mut group = c.benchmark_group(format!("{name}/d{d}"));
            for (s, &bytes) in SIZES.iter().enumerate() {
                let n = bytes / (4 * d);
                if s == SIZES.len() - 1 {
                    group.sampling_mode(SamplingMode::Flat).sample_size(10);
                }
                group.throughput(Throughput::Bytes((n * d * 4) as u64));
                let cell: OnceCell<&'static Case> = OnceCell::new();
                let get = || {
                    let x = &x_of(s)[..n * d];
                    let cs = *cell.get_or_init(|| {
                        let cs = case(loss, x, n, d);
                        if s == 0 {
                            let (mut g1, mut g2) = (vec![0.0; d], vec![0.0; d]);
                            let a = loss.fused(&SCALAR, x, &cs.y, &cs.w, cs.b, &mut g1).unwrap();
                            let b = loss.fused(&SIMD, x, &cs.y, &cs.w, cs.b, &mut g2).unwrap();
                            g1.extend([a.loss, a.grad_b]);
                            g2.extend([b.loss, b.grad_b]);
                            check_close(name, &g1, &g2);
                        }
                        Box::leak(Box::new(cs))
                    });
                    (x, cs)
                };
                for path in [SCALAR, SIMD] {
                    bench_glm(&mut group, loss, path, n, &get);
                }
            }
            group.finish();
        }
    }
    for (k, d) in SOFTMAX {
        let mut group = c.benchmark_group(format!("fused_softmax/k{k}_d{d}"));
        for (s, &bytes) in SIZES.iter().enumerate() {
            let n = bytes / (4 * d);
            if s == SIZES.len() - 1 {
                group.sampling_mode(SamplingMode::Flat).sample_size(10);
            }
            group.throughput(Throughput::Bytes((n * d * 4) as u64));
            type Soft = (Vec<f32>, Vec<f32>, Vec<f32>);
            let cell: OnceCell<Soft> = OnceCell::new();
            let get = || {
                let x = &x_of(s)[..n * d];
                let cs = cell.get_or_init(|| {
                    let mut g = rng(((k * d) as u64) << 20 ^ n as u64);
                    let w: Vec<f32> = (0..k * d).map(|_| g.random_range(-0.5f32..0.5)).collect();
                    let b: Vec<f32> = (0..k).map(|_| g.random_range(-0.5f32..0.5)).collect();
                    let y: Vec<f32> = (0..n).map(|_| g.random_range(0..k) as f32).collect();
                    if s == 0 {
                        let (mut w1, mut b1) = (vec![0.0; k * d], vec![0.0; k]);
                        let (mut w2, mut b2) = (vec![0.0; k * d], vec![0.0; k]);
                        let l1 = (SCALAR.softmax_fused)(x, &y, &w, &b, &mut w1, &mut b1).unwrap();
                        let l2 = (SIMD.softmax_fused)(x, &y, &w, &b, &mut w2, &mut b2).unwrap();
                        w1.extend(b1.iter().chain([&l1]));
                        w2.extend(b2.iter().chain([&l2]));
                        check_close("fused_softmax", &w1, &w2);
                    }
                    (y, w, b)
                });
                (x, cs)
            };
            for path in [SCALAR, SIMD] {
                group.bench_function(BenchmarkId::new(path.name, n), |bench| {
                    let (x, (y, w, b)) = get();
                    let (mut gw, mut gb) = (vec![0.0f32; k * d], vec![0.0f32; k]);
                    bench.iter(|| {
                        (path.softmax_fused)(
                            black_box(x),
                            black_box(y),
                            black_box(w),
                            black_box(b),
                            black_box(&mut gw),
                            black_box(&mut gb),
                        )
                    });
                });
            }
        }
        group.finish();
    }
}

/// The SIMD fused kernel on normal data and on the same data scaled into the subnormal range
/// (`x·2⁻¹³⁰`, `w` normal: every product and partial sum is subnormal), d = 32, 64 KiB of `x`.
/// Group `subnormal/d32`, functions `normal` and `subnormal`: the README states the ratio.
fn subnormal(c: &mut Criterion) {
    let (d, n) = (32usize, 512usize);
    let x = make_x(n * d * 4).as_slice().to_vec();
    let case = case(Loss::Squared, &x, n, d);
    let tiny: Vec<f32> = x.iter().map(|v| v * 2f32.powi(-130)).collect();
    let ytiny: Vec<f32> = case.y.iter().map(|v| v * 2f32.powi(-130)).collect();
    let mut group = c.benchmark_group(format!("subnormal/d{d}"));
    group.throughput(Throughput::Bytes((n * d * 4) as u64));
    for (name, xs, ys) in [("normal", &x, &case.y), ("subnormal", &tiny, &ytiny)] {
        let mut g = vec![0.0f32; d];
        group.bench_function(name, |bench| {
            bench.iter(|| {
                (Loss::Huber { delta: 1.0 }).fused(
                    &SIMD,
                    black_box(xs),
                    black_box(ys),
                    black_box(&case.w),
                    black_box(0.0),
                    black_box(&mut g),
                )
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = shared::config();
    targets = losses, subnormal
}
criterion_main!(benches);
