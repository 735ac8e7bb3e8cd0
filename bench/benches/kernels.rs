//! Throughput of the kernels, scalar against SIMD, from L1-resident data to main memory.
//!
//! Groups are named `<kernel>/d<d>` for kernel ∈ {forward, loss, gradient, fused} and
//! d ∈ {1, 4, 8, 32, 128, 1024}. In each group the functions `scalar` and `simd` are measured
//! with parameter `n` (samples); `fused` at four sizes of `x` (16 KiB: L1, 256 KiB: L2, 4 MiB: L3,
//! 64 MiB: beyond the caches), its parts `forward`, `loss` and `gradient` at 256 KiB and 64 MiB.
//! The throughput is the bytes of `x` (`n·d·4`), so criterion's `thrpt` is directly comparable
//! across `d`. The `fused` groups add two references:
//!
//! * `two_pass`: the non-fused way, `SIMD.forward` into a stored predictions buffer, then a
//!   second pass over `x` for the loss and gradient from the stored residuals (on `f32x8`, with
//!   separate multiplies and adds like the kernels). It reads `x` twice.
//! * `stream`: a plain sum of the same bytes of `x` with eight independent `f32x8`
//!   accumulators: the load-bound ceiling for one pass.
//!
//! 6 d × (4 sizes × 4 functions for `fused` + 3 kernels × 2 sizes × 2 paths) = 168 benchmarks.
//! With the defaults below (0.2 s warm-up, 0.6 s measurement, 20 samples; 10 flat samples for
//! the 64 MiB size) each takes about 1 s including the analysis, so a full
//! `cargo bench --bench kernels` takes about 3 minutes
//! on 2 cores. Filter with a regex, e.g. `cargo bench --bench kernels -- 'fused/d32/'`;
//! `--quick` gives rough numbers sooner, `--test` runs every benchmark (and its checks) once.
//! `NPOA_BENCH_D=4,7,16` measures other feature counts than the six above.
//! `--warm-up-time`, `--measurement-time` and `--sample-size` override the defaults (except the
//! 64 MiB size's sample size). Plots and the HTML report are off (they cost seconds per
//! benchmark); `--plotting-backend plotters` turns them on.
//!
//! Before a benchmark of a (kernel, d, size) is first timed, the paths are checked against each
//! other: scalar against SIMD, and for `fused` the two-pass baseline against the fused kernel.

#[path = "shared/mod.rs"]
mod shared;
use shared::{Aligned, assert_close, make_x, teacher};

use std::cell::{OnceCell, RefCell};
use std::hint::black_box;

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};
use npoa::LossGrad;
use npoa::kernel::{Kernels, SCALAR, SIMD};
use wide::f32x8;

/// Feature counts: tiny models (samples in lanes) and wide ones (features in lanes).
const FEATURES: [usize; 6] = [1, 4, 8, 32, 128, 1024];

/// The feature counts measured: [`FEATURES`], or the comma-separated list in the environment
/// variable `NPOA_BENCH_D` (e.g. `NPOA_BENCH_D=1,4,7,8,16,32` for the tiny kernels' edge sizes).
fn features() -> Vec<usize> {
    match std::env::var("NPOA_BENCH_D") {
        Ok(v) => v
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("NPOA_BENCH_D: comma-separated feature counts")
            })
            .collect(),
        Err(_) => FEATURES.to_vec(),
    }
}

/// Bytes of `x`, in increasing order (the last one gets flat sampling).
const SIZES: [usize; 4] = [16 << 10, 256 << 10, 4 << 20, 64 << 20];

/// The sizes at which `forward`, `loss` and `gradient` are measured (`fused` gets them all).
const PART_SIZES: [usize; 2] = [256 << 10, 64 << 20];

/// Samples per block of the two-pass baseline's second pass.
const BLOCK: usize = 256;

#[derive(Clone, Copy)]
enum Kernel {
    Forward,
    Loss,
    Gradient,
    Fused,
}

impl Kernel {
    const ALL: [Kernel; 4] = [
        Kernel::Forward,
        Kernel::Loss,
        Kernel::Gradient,
        Kernel::Fused,
    ];

    fn name(self) -> &'static str {
        match self {
            Kernel::Forward => "forward",
            Kernel::Loss => "loss",
            Kernel::Gradient => "gradient",
            Kernel::Fused => "fused",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/// One (kernel, d, size) case: targets, the model being trained, and scratch for outputs.
struct Case {
    n: usize,
    y: Aligned,
    w: Aligned,
    b: f32,
    /// Predictions (`forward`, `two_pass`), `n` floats.
    pred: RefCell<Aligned>,
}

impl Case {
    /// Targets and model from [`teacher`].
    fn new(x: &[f32], n: usize, d: usize) -> Self {
        let (y, w, b) = teacher(x, n, d);
        Case {
            n,
            y,
            w,
            b,
            pred: RefCell::new(Aligned::zeroed(n)),
        }
    }

    fn y(&self) -> &[f32] {
        self.y.as_slice()
    }

    fn w(&self) -> &[f32] {
        self.w.as_slice()
    }
}

// ---------------------------------------------------------------------------------------------
// Agreement checks
// ---------------------------------------------------------------------------------------------

fn assert_close_lg(what: &str, a: LossGrad, ga: &[f32], b: LossGrad, gb: &[f32]) {
    assert_close(&format!("{what} loss"), &[a.loss], &[b.loss]);
    assert_close(&format!("{what} grad_b"), &[a.grad_b], &[b.grad_b]);
    assert_close(&format!("{what} grad_w"), ga, gb);
}

/// Checks that the measured paths of `kernel` agree on `case`.
fn verify(kernel: Kernel, x: &[f32], case: &Case) {
    let (y, w, b, d) = (case.y(), case.w(), case.b, case.w().len());
    let ctx = format!("{}/d{d}/n{}", kernel.name(), case.n);
    match kernel {
        Kernel::Forward => {
            let mut ps = vec![0.0; case.n];
            let mut pv = vec![0.0; case.n];
            (SCALAR.forward)(x, w, b, &mut ps).expect("scalar forward");
            (SIMD.forward)(x, w, b, &mut pv).expect("simd forward");
            assert_close(&ctx, &ps, &pv);
        }
        Kernel::Loss => {
            let ls = (SCALAR.loss)(x, y, w, b).expect("scalar loss");
            let lv = (SIMD.loss)(x, y, w, b).expect("simd loss");
            assert_close(&ctx, &[ls], &[lv]);
        }
        Kernel::Gradient => {
            let mut gs = vec![0.0; d];
            let mut gv = vec![0.0; d];
            let bs = (SCALAR.gradient)(x, y, w, b, &mut gs).expect("scalar gradient");
            let bv = (SIMD.gradient)(x, y, w, b, &mut gv).expect("simd gradient");
            assert_close(&format!("{ctx} grad_b"), &[bs], &[bv]);
            assert_close(&format!("{ctx} grad_w"), &gs, &gv);
        }
        Kernel::Fused => {
            let mut gs = vec![0.0; d];
            let mut gv = vec![0.0; d];
            let mut gt = vec![0.0; d];
            let s = (SCALAR.fused)(x, y, w, b, &mut gs).expect("scalar fused");
            let v = (SIMD.fused)(x, y, w, b, &mut gv).expect("simd fused");
            let t = two_pass(x, y, w, b, case.pred.borrow_mut().as_mut_slice(), &mut gt);
            assert_close_lg(&format!("{ctx} scalar/simd"), s, &gs, v, &gv);
            assert_close_lg(&format!("{ctx} two_pass/simd"), t, &gt, v, &gv);
            // The gradient kernel must also agree with the fused one.
            let mut gg = vec![0.0; d];
            let bg = (SIMD.gradient)(x, y, w, b, &mut gg).expect("simd gradient");
            assert_close(&format!("{ctx} gradient/fused"), &gg, &gv);
            assert_close(&format!("{ctx} gradient/fused grad_b"), &[bg], &[v.grad_b]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// References: the two-pass baseline and the streaming ceiling
// ---------------------------------------------------------------------------------------------

#[inline(always)]
fn load(c: &[f32; 8]) -> f32x8 {
    f32x8::new(*c)
}

/// `tree8` of the kernels' contract (any fixed order would do here).
#[inline(always)]
fn hsum(v: f32x8) -> f32 {
    let a = v.to_array();
    ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
}

/// The non-fused baseline: predictions of the whole batch into `pred` with `SIMD.forward`
/// (first pass over `x`), then per block of `BLOCK` samples the residuals `pred − y` with
/// their lane sums, and the gradient from them (second pass over `x`).
fn two_pass(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    pred: &mut [f32],
    grad_w: &mut [f32],
) -> LossGrad {
    let d = w.len();
    let n = y.len();
    (SIMD.forward)(x, w, b, pred).expect("forward");
    grad_w.fill(0.0);
    let mut loss = 0.0f64;
    let mut rsum = 0.0f64;
    let mut rbuf = [0.0f32; BLOCK];
    for ((xb, yb), pb) in x
        .chunks(BLOCK * d)
        .zip(y.chunks(BLOCK))
        .zip(pred.chunks(BLOCK))
    {
        let r = &mut rbuf[..yb.len()];
        let (l, s) = residuals(pb, yb, r);
        loss += f64::from(l);
        rsum += f64::from(s);
        match d {
            1 => grad_flat::<1>(xb, r, grad_w),
            2 => grad_flat::<2>(xb, r, grad_w),
            4 => grad_flat::<4>(xb, r, grad_w),
            8 => grad_flat::<8>(xb, r, grad_w),
            _ => grad_rows(xb, r, d, grad_w),
        }
    }
    let nf = n as f64;
    let scale = (2.0 / nf) as f32;
    for g in grad_w.iter_mut() {
        *g *= scale;
    }
    LossGrad {
        loss: (loss / nf) as f32,
        grad_b: (2.0 * rsum / nf) as f32,
    }
}

/// `r = p − y`; returns `(Σ r², Σ r)` of the block.
#[inline(always)]
fn residuals(p: &[f32], y: &[f32], r: &mut [f32]) -> (f32, f32) {
    let (pc, pt) = p.as_chunks::<8>();
    let (yc, yt) = y.as_chunks::<8>();
    let (rc, rt) = r.as_chunks_mut::<8>();
    let mut l = f32x8::ZERO;
    let mut s = f32x8::ZERO;
    for ((pk, yk), rk) in pc.iter().zip(yc).zip(rc) {
        let v = load(pk) - load(yk);
        l += v * v;
        s += v;
        *rk = v.to_array();
    }
    let (mut l, mut s) = (hsum(l), hsum(s));
    for ((pk, yk), rk) in pt.iter().zip(yt).zip(rt) {
        let v = pk - yk;
        l += v * v;
        s += v;
        *rk = v;
    }
    (l, s)
}

/// Gradient of a block for `D` dividing 8: `x` read as flat vectors of `8/D` rows each, with
/// the residuals broadcast to their rows' lanes; lane `k` accumulates feature `k mod D`.
#[inline(always)]
fn grad_flat<const D: usize>(xb: &[f32], r: &[f32], grad_w: &mut [f32]) {
    const { assert!(D > 0 && 8 % D == 0) };
    let per = 8 / D; // rows per vector
    let (xc, _) = xb.as_chunks::<8>();
    let mut acc = [f32x8::ZERO; 4];
    let mut groups = xc.chunks_exact(4);
    let mut rows = r.chunks_exact(4 * per);
    for (xg, rg) in (&mut groups).zip(&mut rows) {
        for ((a, xk), rk) in acc.iter_mut().zip(xg).zip(rg.chunks_exact(per)) {
            let rv = f32x8::new(core::array::from_fn(|lane| rk[lane / D]));
            *a += rv * load(xk);
        }
    }
    let mut lanes = ((acc[0] + acc[1]) + (acc[2] + acc[3])).to_array();
    // Rows after the last group of four vectors: scalar, into their lanes.
    let done = xc.len() / 4 * 4 * per;
    for (t, &rt) in r.iter().enumerate().skip(done) {
        for j in 0..D {
            lanes[(t % per) * D + j] += rt * xb[t * D + j];
        }
    }
    for (k, v) in lanes.iter().enumerate() {
        grad_w[k % D] += v;
    }
}

/// Gradient of a block for any `d`: four rows at a time, features in lanes, accumulated into
/// `grad_w` (which stays in L1); a partial last chunk of features is summed in scalar.
#[inline(always)]
fn grad_rows(xb: &[f32], r: &[f32], d: usize, grad_w: &mut [f32]) {
    let full = d / 8 * 8;
    let (gc, gt) = grad_w.as_chunks_mut::<8>();
    let mut quads = xb.chunks_exact(4 * d);
    let mut rq = r.chunks_exact(4);
    for (xq, rr) in (&mut quads).zip(&mut rq) {
        let (x0, rest) = xq.split_at(d);
        let (x1, rest) = rest.split_at(d);
        let (x2, x3) = rest.split_at(d);
        let rv = [rr[0], rr[1], rr[2], rr[3]].map(f32x8::splat);
        let c0 = x0[..full].as_chunks::<8>().0;
        let c1 = x1[..full].as_chunks::<8>().0;
        let c2 = x2[..full].as_chunks::<8>().0;
        let c3 = x3[..full].as_chunks::<8>().0;
        for ((((g, a), bb), c), e) in gc.iter_mut().zip(c0).zip(c1).zip(c2).zip(c3) {
            let sum = (rv[0] * load(a) + rv[1] * load(bb)) + (rv[2] * load(c) + rv[3] * load(e));
            *g = (load(g) + sum).to_array();
        }
        for (m, row) in [x0, x1, x2, x3].iter().enumerate() {
            for (g, xj) in gt.iter_mut().zip(&row[full..]) {
                *g += rr[m] * xj;
            }
        }
    }
    for (row, &rt) in quads.remainder().chunks_exact(d).zip(rq.remainder()) {
        for (g, xj) in grad_w.iter_mut().zip(row) {
            *g += rt * xj;
        }
    }
}

/// The memory ceiling: a plain sum of `x` with eight independent `f32x8` accumulators.
fn stream(x: &[f32]) -> f32 {
    let (blocks, tail) = x.as_chunks::<64>();
    let mut acc = [f32x8::ZERO; 8];
    for blk in blocks {
        for (a, c) in acc.iter_mut().zip(blk.as_chunks::<8>().0) {
            *a += load(c);
        }
    }
    let v = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    hsum(v) + tail.iter().sum::<f32>()
}

// ---------------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------------

/// Times one path of `kernel` on `case`.
fn bench_path<'a>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    (kernel, path, n): (Kernel, Kernels, usize),
    x: &dyn Fn() -> &'a [f32],
    case: &dyn Fn() -> &'a Case,
) {
    group.bench_function(BenchmarkId::new(path.name, n), |bench| {
        let (x, case) = (x(), case());
        let (y, w, b) = (case.y(), case.w(), case.b);
        match kernel {
            Kernel::Forward => {
                let mut pred = case.pred.borrow_mut();
                let out = pred.as_mut_slice();
                bench.iter(|| {
                    (path.forward)(
                        black_box(x),
                        black_box(w),
                        black_box(b),
                        black_box(&mut *out),
                    )
                });
            }
            Kernel::Loss => {
                bench.iter(|| (path.loss)(black_box(x), black_box(y), black_box(w), black_box(b)));
            }
            Kernel::Gradient => {
                let mut g = Aligned::zeroed(w.len());
                let g = g.as_mut_slice();
                bench.iter(|| {
                    (path.gradient)(
                        black_box(x),
                        black_box(y),
                        black_box(w),
                        black_box(b),
                        black_box(&mut *g),
                    )
                });
            }
            Kernel::Fused => {
                let mut g = Aligned::zeroed(w.len());
                let g = g.as_mut_slice();
                bench.iter(|| {
                    (path.fused)(
                        black_box(x),
                        black_box(y),
                        black_box(w),
                        black_box(b),
                        black_box(&mut *g),
                    )
                });
            }
        }
    });
}

fn kernels(c: &mut Criterion) {
    // `x` of each size, made on first use (a filtered run makes only what it times).
    let xs: [OnceCell<Aligned>; SIZES.len()] = Default::default();
    for kernel in Kernel::ALL {
        for d in features() {
            let mut group = c.benchmark_group(format!("{}/d{d}", kernel.name()));
            for (s, &bytes) in SIZES.iter().enumerate() {
                // The parts of the fused kernel in L2 and from memory only (the suite's time).
                if !matches!(kernel, Kernel::Fused) && !PART_SIZES.contains(&bytes) {
                    continue;
                }
                let n = bytes / (4 * d);
                if s == SIZES.len() - 1 {
                    // Beyond the caches an iteration takes milliseconds: a few of them per sample.
                    group.sampling_mode(SamplingMode::Flat).sample_size(10);
                }
                group.throughput(Throughput::Bytes((n * d * 4) as u64));
                let x_cell = &xs[s];
                let x_of = || &x_cell.get_or_init(|| make_x(bytes)).as_slice()[..n * d];
                // The case is made, and the paths checked, before the first of its timings.
                let case_cell: OnceCell<Case> = OnceCell::new();
                let case = || {
                    case_cell.get_or_init(|| {
                        let case = Case::new(x_of(), n, d);
                        verify(kernel, x_of(), &case);
                        case
                    })
                };
                for path in [SCALAR, SIMD] {
                    bench_path(&mut group, (kernel, path, n), &x_of, &case);
                }
                if let Kernel::Fused = kernel {
                    group.bench_function(BenchmarkId::new("two_pass", n), |bench| {
                        let case = case();
                        let x = x_of();
                        let (y, w, b) = (case.y(), case.w(), case.b);
                        let mut pred = case.pred.borrow_mut();
                        let pred = pred.as_mut_slice();
                        let mut g = Aligned::zeroed(d);
                        let g = g.as_mut_slice();
                        bench.iter(|| {
                            two_pass(
                                black_box(x),
                                black_box(y),
                                black_box(w),
                                black_box(b),
                                &mut *pred,
                                &mut *g,
                            )
                        });
                    });
                    group.bench_function(BenchmarkId::new("stream", n), |bench| {
                        let x = x_of();
                        bench.iter(|| stream(black_box(x)));
                    });
                }
            }
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = shared::config();
    targets = kernels
}
criterion_main!(benches);
