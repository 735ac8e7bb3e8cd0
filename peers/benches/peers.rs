//! npoa's fused mean-squared-error gradient against the usual Rust alternatives, on the same data.
//!
//! Every function computes, for the linear model `ŷ = w·x + b` on `n` samples of `d` features
//! stored row-major in `x`, the loss `L = mean(r²)` with `r = X·w + b − y`, `∂L/∂w = (2/n)·Xᵀ·r`
//! and `∂L/∂b = (2/n)·Σ r`:
//!
//! * `npoa_simd`, `npoa_scalar`: `npoa::kernel::SIMD.fused` and `SCALAR.fused` (one pass over `x`).
//! * `faer`: two gemv passes over `x` viewed without copying (`MatRef::from_row_major_slice`):
//!   `r = X·w` (`matmul`), `r += b − y`, `L = ‖r‖²/n`, `Σ r`, then `∂L/∂w = (2/n)·Xᵀ·r` (`matmul`).
//!   faer runs single-threaded (`Par::Seq`, and built without its `rayon` feature), since npoa is
//!   single-threaded; it keeps its runtime CPU detection (`std` feature: AVX2/FMA on x86-64).
//! * `ndarray`: the same two passes with `ArrayView2::from_shape((n, d), x)` and
//!   `linalg::general_mat_vec_mul` into preallocated buffers (ndarray's default features, no BLAS).
//! * `ndarray_gemm`: the same with `linalg::general_mat_mul` on `n×1` and `d×1` views
//!   (`matrixmultiply`'s packed GEMM: the faster spelling of a gemv in ndarray without BLAS).
//!
//! Outputs and scratch (`r`, `∂L/∂w`) are allocated outside the timed loop. The data comes
//! from the bench crate's `bench/benches/shared/mod.rs` (`make_x`, `teacher`: the generator, seeds
//! and 64-byte alignment of `benches/kernels.rs`), so the numbers are directly comparable
//! with its `fused/d<d>` groups.
//!
//! Groups are named `peers/d<d>` for d ∈ {4, 32, 128, 1024}, with the functions above and
//! parameter `n` (samples) for two sizes of `x`: 256 KiB (L2) and 64 MiB (beyond the caches,
//! 10 flat samples). The throughput is the bytes of `x` (`n·d·4`), so criterion's `thrpt` is
//! comparable across `d`. 4 d × 2 sizes × 5 functions = 40 benchmarks; with the defaults below
//! (0.2 s warm-up, 0.6 s measurement, 20 samples, plots off) a full `cargo bench --bench peers`
//! takes about 40 s on 2 cores once built (building from scratch takes about 2.5 minutes).
//! Filter with a regex, e.g. `cargo bench --bench peers -- 'peers/d32/'` or
//! `-- 'faer|npoa_simd'`; `--quick` gives rough numbers sooner, `--test` runs every benchmark
//! (and its checks) once.
//!
//! Before a (d, size) case is first timed, every peer's loss, `∂L/∂b` and `∂L/∂w` are checked
//! against `npoa_simd`'s, within 1e-3 relative to the largest magnitude compared.

#[path = "../../bench/benches/shared/mod.rs"]
mod shared;
use shared::{Aligned, assert_close, make_x, teacher};

use std::cell::OnceCell;
use std::hint::black_box;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use faer::linalg::matmul::matmul;
use faer::{Accum, ColMut, ColRef, MatRef, Par, unzip, zip};
use ndarray::linalg::{general_mat_mul, general_mat_vec_mul};
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};
use npoa::LossGrad;
use npoa::kernel::{SCALAR, SIMD};

/// Feature counts: a tiny model and wide ones.
const FEATURES: [usize; 4] = [4, 32, 128, 1024];

/// Bytes of `x`, in increasing order (the last one gets flat sampling).
const SIZES: [usize; 2] = [256 << 10, 64 << 20];

// ---------------------------------------------------------------------------------------------
// Data (the bench crate's `bench/benches/shared/mod.rs`)
// ---------------------------------------------------------------------------------------------

/// One (d, size) case: targets and the model being trained.
struct Case {
    n: usize,
    y: Aligned,
    w: Aligned,
    b: f32,
}

impl Case {
    /// Targets and model from [`teacher`] (the main crate's kernels bench uses the same).
    fn new(x: &[f32], n: usize, d: usize) -> Self {
        let (y, w, b) = teacher(x, n, d);
        Case { n, y, w, b }
    }

    fn y(&self) -> &[f32] {
        self.y.as_slice()
    }

    fn w(&self) -> &[f32] {
        self.w.as_slice()
    }
}

// ---------------------------------------------------------------------------------------------
// The peers
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Peer {
    NpoaSimd,
    NpoaScalar,
    Faer,
    Ndarray,
    NdarrayGemm,
}

impl Peer {
    const ALL: [Peer; 5] = [
        Peer::NpoaSimd,
        Peer::NpoaScalar,
        Peer::Faer,
        Peer::Ndarray,
        Peer::NdarrayGemm,
    ];

    fn name(self) -> &'static str {
        match self {
            Peer::NpoaSimd => "npoa_simd",
            Peer::NpoaScalar => "npoa_scalar",
            Peer::Faer => "faer",
            Peer::Ndarray => "ndarray",
            Peer::NdarrayGemm => "ndarray_gemm",
        }
    }

    /// Loss and gradient of `(x, y, w, b)` into `grad_w`; `r` (`n` floats) is scratch.
    #[inline(always)]
    fn run(
        self,
        (x, y, w, b): (&[f32], &[f32], &[f32], f32),
        r: &mut [f32],
        grad_w: &mut [f32],
    ) -> LossGrad {
        match self {
            Peer::NpoaSimd => (SIMD.fused)(x, y, w, b, grad_w).expect("npoa simd fused"),
            Peer::NpoaScalar => (SCALAR.fused)(x, y, w, b, grad_w).expect("npoa scalar fused"),
            Peer::Faer => faer_fused(x, y, w, b, r, grad_w),
            Peer::Ndarray => ndarray_fused(x, y, w, b, r, grad_w),
            Peer::NdarrayGemm => ndarray_gemm_fused(x, y, w, b, r, grad_w),
        }
    }
}

/// faer, two gemv passes, single-threaded.
fn faer_fused(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    r: &mut [f32],
    grad_w: &mut [f32],
) -> LossGrad {
    let (n, d) = (y.len(), w.len());
    let nf = n as f32;
    let xm = MatRef::from_row_major_slice(x, n, d);
    let mut rc = ColMut::from_slice_mut(r);
    // r = X·w, then r = r + b − y.
    matmul(
        &mut rc,
        Accum::Replace,
        xm,
        ColRef::from_slice(w),
        1.0,
        Par::Seq,
    );
    zip!(&mut rc, ColRef::from_slice(y)).for_each(|unzip!(ri, yi)| *ri = (*ri + b) - *yi);
    let loss = rc.squared_norm_l2() / nf;
    let grad_b = 2.0 * rc.sum() / nf;
    // ∂L/∂w = (2/n)·Xᵀ·r.
    matmul(
        ColMut::from_slice_mut(grad_w),
        Accum::Replace,
        xm.transpose(),
        rc.as_ref(),
        2.0 / nf,
        Par::Seq,
    );
    LossGrad { loss, grad_b }
}

/// ndarray (no BLAS), two gemv passes into preallocated buffers.
///
/// `general_mat_vec_mul` is the kernel behind `x.dot(&w)` and `x.t().dot(&r)` (without BLAS: one
/// `row.dot(x)` per output, so `Xᵀ·r` is `d` strided dots down the columns of `x`); into
/// preallocated buffers it measured the same as the allocating `.dot` forms (within ±3 %), except
/// at d = 4 beyond the caches, where it was about 13 % faster, so it is the one kept.
fn ndarray_fused(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    r: &mut [f32],
    grad_w: &mut [f32],
) -> LossGrad {
    let (n, d) = (y.len(), w.len());
    let nf = n as f32;
    let xv = ArrayView2::from_shape((n, d), x).expect("x is n×d");
    let mut rv = ArrayViewMut1::from(r);
    // r = X·w, then r = r + b − y.
    general_mat_vec_mul(1.0, &xv, &ArrayView1::from(w), 0.0, &mut rv);
    rv.zip_mut_with(&ArrayView1::from(y), |ri, &yi| *ri = (*ri + b) - yi);
    let loss = rv.dot(&rv) / nf;
    let grad_b = 2.0 * rv.sum() / nf;
    // ∂L/∂w = (2/n)·Xᵀ·r.
    general_mat_vec_mul(
        2.0 / nf,
        &xv.t(),
        &rv,
        0.0,
        &mut ArrayViewMut1::from(grad_w),
    );
    LossGrad { loss, grad_b }
}

/// ndarray (no BLAS) through `general_mat_mul` on `n×1` and `d×1` views: the same two products
/// as [`ndarray_fused`], but as matrix-matrix calls, which go through `matrixmultiply`'s packed
/// GEMM instead of one dot product per output (the faster way to spell a gemv in ndarray
/// without BLAS, especially for `Xᵀ·r`).
fn ndarray_gemm_fused(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    r: &mut [f32],
    grad_w: &mut [f32],
) -> LossGrad {
    let (n, d) = (y.len(), w.len());
    let nf = n as f32;
    let xv = ArrayView2::from_shape((n, d), x).expect("x is n×d");
    let wv = ArrayView2::from_shape((d, 1), w).expect("w is d×1");
    let mut rv = ArrayViewMut2::from_shape((n, 1), r).expect("r is n×1");
    general_mat_mul(1.0, &xv, &wv, 0.0, &mut rv);
    rv.zip_mut_with(
        &ArrayView2::from_shape((n, 1), y).expect("y is n×1"),
        |ri, &yi| *ri = (*ri + b) - yi,
    );
    let rc = rv.column(0);
    let loss = rc.dot(&rc) / nf;
    let grad_b = 2.0 * rv.sum() / nf;
    let mut gv = ArrayViewMut2::from_shape((d, 1), grad_w).expect("grad_w is d×1");
    general_mat_mul(2.0 / nf, &xv.t(), &rv, 0.0, &mut gv);
    LossGrad { loss, grad_b }
}

// ---------------------------------------------------------------------------------------------
// Agreement checks
// ---------------------------------------------------------------------------------------------

/// Checks every peer against `npoa_simd` on `case`.
fn verify(x: &[f32], case: &Case) {
    let (y, w, b, d, n) = (case.y(), case.w(), case.b, case.w().len(), case.n);
    let mut r = vec![0.0; n];
    let mut gv = vec![0.0; d];
    let v = Peer::NpoaSimd.run((x, y, w, b), &mut r, &mut gv);
    for peer in Peer::ALL {
        let mut gp = vec![0.0; d];
        let p = peer.run((x, y, w, b), &mut r, &mut gp);
        let ctx = format!("peers/d{d}/n{n}: {} against npoa_simd:", peer.name());
        assert_close(&format!("{ctx} loss"), &[p.loss], &[v.loss]);
        assert_close(&format!("{ctx} grad_b"), &[p.grad_b], &[v.grad_b]);
        assert_close(&format!("{ctx} grad_w"), &gp, &gv);
    }
}

// ---------------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------------

fn peers(c: &mut Criterion) {
    // `x` of each size, made on first use (a filtered run makes only what it times).
    let xs: [OnceCell<Aligned>; SIZES.len()] = Default::default();
    for d in FEATURES {
        let mut group = c.benchmark_group(format!("peers/d{d}"));
        for (s, &bytes) in SIZES.iter().enumerate() {
            let n = bytes / (4 * d);
            if s == SIZES.len() - 1 {
                // Beyond the caches an iteration takes milliseconds: a few of them per sample.
                group.sampling_mode(SamplingMode::Flat).sample_size(10);
            }
            group.throughput(Throughput::Bytes((n * d * 4) as u64));
            let x_cell = &xs[s];
            let x_of = || &x_cell.get_or_init(|| make_x(bytes)).as_slice()[..n * d];
            // The case is made, and the peers checked, before the first of its timings.
            let case_cell: OnceCell<Case> = OnceCell::new();
            let case = || {
                case_cell.get_or_init(|| {
                    let case = Case::new(x_of(), n, d);
                    verify(x_of(), &case);
                    case
                })
            };
            for peer in Peer::ALL {
                group.bench_function(BenchmarkId::new(peer.name(), n), |bench| {
                    let (x, case) = (x_of(), case());
                    let (y, w, b) = (case.y(), case.w(), case.b);
                    let mut r = Aligned::zeroed(n);
                    let r = r.as_mut_slice();
                    let mut g = Aligned::zeroed(d);
                    let g = g.as_mut_slice();
                    bench.iter(|| {
                        peer.run(
                            (black_box(x), black_box(y), black_box(w), black_box(b)),
                            &mut *r,
                            black_box(&mut *g),
                        )
                    });
                });
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = shared::config();
    targets = peers
}
criterion_main!(benches);
