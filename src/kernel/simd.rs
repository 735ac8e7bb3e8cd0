//! The SIMD path, on `wide::f32x8`, bit-identical across targets.
//!
//! The exact order of operations is the contract stated in the [module docs](super); this file
//! is organised around it:
//!
//! * **tiny models** (`d < 8`): eight samples per vector. Eight overlapping loads of eight
//!   floats starting at `x_i` (`i = 0..8`) and an 8×8 transpose give one vector per feature with
//!   the samples in lanes, so each prediction is a sequential sum, like the scalar path, and the
//!   sums over samples live in lanes.
//! * **other models** (`d ≥ 8`): features in lanes. Eight rows are reduced together: eight
//!   accumulators, one transpose, one `tree8` of vectors gives eight dot products at once, in
//!   exactly the order of a single row's `tree8`. The gradient is then accumulated per feature
//!   over the block's rows, which are still in L1.

use super::{
    LossGrad, MAX_CLASSES, SOFTMAX_BUF, block_len, entry_forward, entry_glm, entry_grad,
    entry_loss, entry_softmax, softmax_block_len, vmath,
};
use crate::Error;
use crate::loss::Loss;
use wide::{f32x4, f32x8};

const ZERO: f32x8 = f32x8::ZERO;

/// The fixed reduction tree of the contract.
#[inline(always)]
fn tree8(a: [f32; 8]) -> f32 {
    ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
}

/// `tree8` applied lane-wise to the transpose of eight accumulators: lane `k` is `tree8` of `t[k]`.
#[inline(always)]
fn tree8_rows(t: [f32x8; 8]) -> f32x8 {
    let t = f32x8::transpose(t);
    ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]))
}

#[inline(always)]
fn load(c: &[f32; 8]) -> f32x8 {
    f32x8::new(*c)
}

/// A partial chunk padded with zeros.
#[inline(always)]
fn load_padded(c: &[f32]) -> f32x8 {
    let mut a = [0.0f32; 8];
    for (dst, src) in a.iter_mut().zip(c) {
        *dst = *src;
    }
    f32x8::new(a)
}

/// `n`, or 1 for 0: a chunk size or divisor the optimiser can see is never zero, so that no
/// panic path for a zero chunk size or a division by zero is compiled (the callers' sizes are
/// never 0 after the entry checks; see `ci/no_std_check/src/no_panic.rs`).
#[inline(always)]
pub(crate) const fn nz(n: usize) -> usize {
    if n == 0 { 1 } else { n }
}

/// Sequential dot product from `+0.0`, as in the scalar path (used for `d < 8`).
#[inline(always)]
fn dot_seq(row: &[f32], w: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for (xj, wj) in row.iter().zip(w) {
        s += xj * wj;
    }
    s
}

/// Which sums a pass computes, as a const parameter so that each kernel gets its own loop.
type Want = u8;
/// Predictions only (`forward`).
const PRED: Want = 0;
/// Loss only.
const LOSS: Want = 1;
/// Gradient only.
const GRAD: Want = 2;
/// Loss and gradient.
const BOTH: Want = 3;

#[inline(always)]
const fn wants_loss(w: Want) -> bool {
    w == LOSS || w == BOTH
}

#[inline(always)]
const fn wants_grad(w: Want) -> bool {
    w == GRAD || w == BOTH
}

// ---------------------------------------------------------------------------------------------
// Tiny models: d < 8, samples in lanes.
// ---------------------------------------------------------------------------------------------

#[inline(always)]
fn halves(v: f32x8) -> (f32x4, f32x4) {
    let a = v.to_array();
    (
        f32x4::new([a[0], a[1], a[2], a[3]]),
        f32x4::new([a[4], a[5], a[6], a[7]]),
    )
}

#[inline(always)]
fn join(lo: f32x4, hi: f32x4) -> f32x8 {
    let (l, h) = (lo.to_array(), hi.to_array());
    f32x8::new([l[0], l[1], l[2], l[3], h[0], h[1], h[2], h[3]])
}

/// 8×8 transpose. `wide` accelerates `f32x8::transpose` only with AVX; elsewhere four 4×4
/// transposes of `f32x4` (SSE, NEON) do it. Moving data is exact: the choice changes no bit.
#[inline(always)]
fn transpose8(rows: [f32x8; 8]) -> [f32x8; 8] {
    if cfg!(target_feature = "avx") {
        return f32x8::transpose(rows);
    }
    let h = rows.map(halves);
    let a = f32x4::transpose([h[0].0, h[1].0, h[2].0, h[3].0]);
    let b = f32x4::transpose([h[0].1, h[1].1, h[2].1, h[3].1]);
    let c = f32x4::transpose([h[4].0, h[5].0, h[6].0, h[7].0]);
    let e = f32x4::transpose([h[4].1, h[5].1, h[6].1, h[7].1]);
    [
        join(a[0], c[0]),
        join(a[1], c[1]),
        join(a[2], c[2]),
        join(a[3], c[3]),
        join(b[0], e[0]),
        join(b[1], e[1]),
        join(b[2], e[2]),
        join(b[3], e[3]),
    ]
}

/// One sample's `D ≤ 4` features in the low lanes of an `f32x4` (exact-length load).
#[inline(always)]
fn row4(r: &[f32]) -> f32x4 {
    let mut a = [0.0f32; 4];
    for (dst, src) in a.iter_mut().zip(r) {
        *dst = *src;
    }
    f32x4::new(a)
}

/// Feature vectors (lane `m` = sample `m`, vector `j` = feature `j < D`) of the eight samples
/// in `xg` (`8·D` floats): one load per sample, then a transpose (two 4×4 for `D ≤ 4`).
#[inline(always)]
fn tiny_columns<const D: usize>(xg: &[f32]) -> [f32x8; 8] {
    let mut c = [ZERO; 8];
    if D == 1 {
        if let Some(a) = xg.first_chunk::<8>() {
            c[0] = load(a);
        }
    } else if D <= 4 {
        let row = |m: usize| row4(xg.get(m * D..m * D + D).unwrap_or(&[]));
        let a = f32x4::transpose([row(0), row(1), row(2), row(3)]);
        let b = f32x4::transpose([row(4), row(5), row(6), row(7)]);
        for (k, v) in c.iter_mut().take(4).enumerate() {
            *v = join(a[k], b[k]);
        }
    } else {
        let row = |m: usize| load_padded(xg.get(m * D..m * D + D).unwrap_or(&[]));
        c = transpose8([
            row(0),
            row(1),
            row(2),
            row(3),
            row(4),
            row(5),
            row(6),
            row(7),
        ]);
    }
    c
}

/// One block of a tiny model. Returns the block's `(loss_b, rsum_b)` and adds `g_j` to `grad_w`.
#[inline(always)]
fn tiny_block<const D: usize, const W: Want>(
    xb: &[f32],
    yb: Option<&[f32]>,
    w: &[f32; D],
    b: f32,
    grad_w: &mut [f32],
    mut pred_out: Option<&mut [f32]>,
) -> (f32, f32) {
    let nb = xb.len() / D;
    let bv = f32x8::splat(b);
    let mut wv = [ZERO; D];
    for (v, &wj) in wv.iter_mut().zip(w) {
        *v = f32x8::splat(wj);
    }
    let mut lacc = ZERO;
    let mut racc = ZERO;
    let mut gacc = [ZERO; D];
    let groups = nb / 8;
    let (yg_all, _) = match yb {
        Some(y) => y.as_chunks::<8>(),
        None => (&[][..], &[][..]),
    };
    let outs: &mut [[f32; 8]] = match pred_out.as_deref_mut() {
        Some(o) if W == PRED => o.as_chunks_mut::<8>().0,
        _ => &mut [],
    };
    for (g, xg) in xb.chunks_exact(8 * D).enumerate() {
        let cols = tiny_columns::<D>(xg);
        let mut s = ZERO;
        for j in 0..D {
            s += cols[j] * wv[j];
        }
        let pred = s + bv;
        if W == PRED {
            if let Some(o) = outs.get_mut(g) {
                *o = pred.to_array();
            }
            continue;
        }
        let yv = match yg_all.get(g) {
            Some(a) => load(a),
            None => ZERO,
        };
        let r = pred - yv;
        if wants_loss(W) {
            lacc += r * r;
        }
        racc += r;
        if wants_grad(W) {
            for j in 0..D {
                gacc[j] += r * cols[j];
            }
        }
    }
    // Samples after the last full group: scalar, into lane t mod 8.
    let mut la = lacc.to_array();
    let mut ra = racc.to_array();
    let mut ga = [[0.0f32; 8]; D];
    for (j, v) in gacc.iter().enumerate() {
        ga[j] = v.to_array();
    }
    for t in groups * 8..nb {
        let row = xb.get(t * D..t * D + D).unwrap_or(&[]);
        let pred = dot_seq(row, w) + b;
        if let Some(out) = pred_out.as_deref_mut().filter(|_| W == PRED) {
            if let Some(o) = out.get_mut(t) {
                *o = pred;
            }
            continue;
        }
        let r = pred - yb.and_then(|y| y.get(t)).copied().unwrap_or(0.0);
        let lane = t % 8;
        la[lane] += r * r;
        ra[lane] += r;
        for (gj, xj) in ga.iter_mut().zip(row) {
            gj[lane] += r * xj;
        }
    }
    if wants_grad(W) {
        for (g, gj) in grad_w.iter_mut().zip(&ga) {
            *g += tree8(*gj);
        }
    }
    (tree8(la), tree8(ra))
}

/// A whole pass for a tiny model.
fn tiny_pass<const D: usize, const W: Want>(
    x: &[f32],
    y: Option<&[f32]>,
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    pred_out: Option<&mut [f32]>,
) -> (f64, f64) {
    let Ok(w) = <&[f32; D]>::try_from(w) else {
        return (f64::NAN, f64::NAN);
    };
    let blen = block_len(D);
    let mut loss = 0.0f64;
    let mut rsum = 0.0f64;
    let mut pred_out = pred_out;
    for (k, xb) in x.chunks(nz(blen.saturating_mul(D))).enumerate() {
        let t0 = k * blen;
        let nb = xb.len() / D;
        let yb = y.and_then(|y| y.get(t0..t0 + nb));
        let pb = pred_out.as_deref_mut().and_then(|p| p.get_mut(t0..t0 + nb));
        let (l, r) = tiny_block::<D, W>(xb, yb, w, b, grad_w, pb);
        loss += f64::from(l);
        rsum += f64::from(r);
    }
    (loss, rsum)
}

// ---------------------------------------------------------------------------------------------
// Other models: d >= 8, features in lanes.
// ---------------------------------------------------------------------------------------------

/// The last eight features of a row (`d ≥ 8`).
#[inline(always)]
fn row_end(row: &[f32]) -> f32x8 {
    match row.last_chunk::<8>() {
        Some(a) => load(a),
        None => ZERO,
    }
}

/// The weights for the row's last partial chunk: the last eight weights with the first
/// `8 − d mod 8` lanes zeroed, so that lane `8 − t + k` gets feature `d − t + k` and the lanes
/// that overlap the previous chunk add `±0` (which leaves a lane unchanged: lanes are never −0).
/// `None` when `d` is a multiple of 8.
#[inline(always)]
fn tail_weights(w: &[f32]) -> Option<f32x8> {
    let t = w.len() % 8;
    if t == 0 {
        return None;
    }
    let mut a = [0.0f32; 8];
    if let Some(last) = w.last_chunk::<8>() {
        for (k, (dst, src)) in a.iter_mut().zip(last).enumerate() {
            if k >= 8 - t {
                *dst = *src;
            }
        }
    }
    Some(f32x8::new(a))
}

/// Lane accumulator of one row's products `x_i · w` (before `tree8`).
#[inline(always)]
fn row_acc(row: &[f32], w: &[f32], wt: Option<f32x8>) -> f32x8 {
    let (xc, _) = row.as_chunks::<8>();
    let (wc, _) = w.as_chunks::<8>();
    let mut a = ZERO;
    for (xk, wk) in xc.iter().zip(wc) {
        a += load(xk) * load(wk);
    }
    if let Some(wt) = wt {
        a += row_end(row) * wt;
    }
    a
}

/// Lane accumulators of four rows at once (four independent add chains; on SSE2 the eight
/// `xmm` accumulators still fit the register file). Each row's order is exactly [`row_acc`]'s.
#[inline(always)]
fn row_acc4(rows: [&[f32]; 4], w: &[f32], wt: Option<f32x8>) -> [f32x8; 4] {
    let (c0, _) = rows[0].as_chunks::<8>();
    let (c1, _) = rows[1].as_chunks::<8>();
    let (c2, _) = rows[2].as_chunks::<8>();
    let (c3, _) = rows[3].as_chunks::<8>();
    let (wc, _) = w.as_chunks::<8>();
    let mut a = [ZERO; 4];
    for ((((x0, x1), x2), x3), wk) in c0.iter().zip(c1).zip(c2).zip(c3).zip(wc) {
        let wv = load(wk);
        a[0] += load(x0) * wv;
        a[1] += load(x1) * wv;
        a[2] += load(x2) * wv;
        a[3] += load(x3) * wv;
    }
    if let Some(wv) = wt {
        a[0] += row_end(rows[0]) * wv;
        a[1] += row_end(rows[1]) * wv;
        a[2] += row_end(rows[2]) * wv;
        a[3] += row_end(rows[3]) * wv;
    }
    a
}

/// Predictions (or residuals, if `y` is given) of the rows of one block into `r`.
#[inline(always)]
///
/// Two loop shapes give the same bits (each row's lanes are summed in the same order): with
/// `streaming == false`, four rows advance together (four independent add chains: fastest when
/// `x` is in cache); with `streaming == true`, one row after the other, so that memory is read
/// strictly in order — four interleaved streams inside one page defeat the hardware prefetcher
/// and halve the speed from DRAM for `d` = 64…1024.
fn wide_residuals(
    xb: &[f32],
    yb: Option<&[f32]>,
    w: &[f32],
    b: f32,
    d: usize,
    r: &mut [f32],
    streaming: bool,
) {
    let bv = f32x8::splat(b);
    let wt = tail_weights(w);
    let (rg, rt) = r.as_chunks_mut::<8>();
    let groups = rg.len();
    for (g, (xg, out)) in xb.chunks_exact(nz(8 * d)).zip(rg.iter_mut()).enumerate() {
        let row = |m: usize| xg.get(m * d..(m + 1) * d).unwrap_or(&[]);
        let acc: [f32x8; 8] = if streaming {
            core::array::from_fn(|m| row_acc(row(m), w, wt))
        } else {
            let lo = row_acc4([row(0), row(1), row(2), row(3)], w, wt);
            let hi = row_acc4([row(4), row(5), row(6), row(7)], w, wt);
            [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]]
        };
        let mut v = tree8_rows(acc) + bv;
        if let Some(yg) = yb
            .and_then(|y| y.get(g * 8..))
            .and_then(|y| y.first_chunk::<8>())
        {
            v -= load(yg);
        }
        *out = v.to_array();
    }
    let t0 = groups * 8;
    for (k, o) in rt.iter_mut().enumerate() {
        let t = t0 + k;
        let row = xb.get(t * d..t * d + d).unwrap_or(&[]);
        let mut v = tree8(row_acc(row, w, wt).to_array()) + b;
        if let Some(yt) = yb.and_then(|y| y.get(t)) {
            v -= *yt;
        }
        *o = v;
    }
}

/// `grad_w[j] += g_j` for the block's rows, with `g_j` summed over quads of rows as the
/// contract says: `g_j = g_j + ((r_a x_aj + r_b x_bj) + (r_c x_cj + r_d x_dj))` per quad, then any
/// rows left over one at a time.
///
/// Features go in stripes of at most 256 (a 1 KiB accumulator on the stack, in registers when
/// `d` is a compile-time constant); for each quad the inner loop runs along the four rows'
/// stripes with no bounds checks. One add per quad carries over between iterations.
#[inline(always)]
fn wide_grad_block(xb: &[f32], r: &[f32], d: usize, grad_w: &mut [f32]) {
    const STRIPE: usize = 256;
    let full = d / 8 * 8;
    let t = d - full;
    let (rq, rrest) = r.as_chunks::<4>();
    let rest_rows = xb.get(rq.len() * 4 * d..).unwrap_or(&[]);
    let mut s0 = 0;
    while s0 < full {
        let sw = (full - s0).min(STRIPE);
        let mut buf = [ZERO; STRIPE / 8];
        let acc = buf.get_mut(..sw / 8).unwrap_or(&mut []);
        for (xq, rr) in xb.chunks_exact(nz(4 * d)).zip(rq) {
            let row = |m: usize| xq.get(m * d..(m + 1) * d).unwrap_or(&[]);
            let (x0, x1, x2, x3) = (row(0), row(1), row(2), row(3));
            let rv = rr.map(f32x8::splat);
            for ((((a, c0), c1), c2), c3) in acc
                .iter_mut()
                .zip(stripe(x0, s0, sw))
                .zip(stripe(x1, s0, sw))
                .zip(stripe(x2, s0, sw))
                .zip(stripe(x3, s0, sw))
            {
                *a += (rv[0] * load(c0) + rv[1] * load(c1)) + (rv[2] * load(c2) + rv[3] * load(c3));
            }
        }
        for (row, &rt) in rest_rows.chunks_exact(nz(d)).zip(rrest) {
            let rv = f32x8::splat(rt);
            for (a, c) in acc.iter_mut().zip(stripe(row, s0, sw)) {
                *a += rv * load(c);
            }
        }
        add_into(grad_w.get_mut(s0..s0 + sw).unwrap_or(&mut []), acc);
        s0 += sw;
    }
    if t != 0 {
        // The last `t` features through each row's last eight: lanes `8 − t..8` are the wanted
        // sums, in the same order.
        let mut acc = ZERO;
        for (xq, rr) in xb.chunks_exact(nz(4 * d)).zip(rq) {
            let row = |m: usize| xq.get(m * d..(m + 1) * d).unwrap_or(&[]);
            let (x0, x1, x2, x3) = (row(0), row(1), row(2), row(3));
            let rv = rr.map(f32x8::splat);
            acc += (rv[0] * row_end(x0) + rv[1] * row_end(x1))
                + (rv[2] * row_end(x2) + rv[3] * row_end(x3));
        }
        for (row, &rt) in rest_rows.chunks_exact(nz(d)).zip(rrest) {
            acc += f32x8::splat(rt) * row_end(row);
        }
        for (g, a) in grad_w
            .iter_mut()
            .skip(full)
            .zip(acc.to_array().iter().skip(8 - t))
        {
            *g += *a;
        }
    }
}

/// Features `s0..s0 + sw` of a row as chunks of eight.
#[inline(always)]
fn stripe(row: &[f32], s0: usize, sw: usize) -> &[[f32; 8]] {
    row.get(s0..s0 + sw).unwrap_or(&[]).as_chunks::<8>().0
}

#[inline(always)]
fn add_into(dst: &mut [f32], acc: &[f32x8]) {
    let (dc, _) = dst.as_chunks_mut::<8>();
    for (dk, a) in dc.iter_mut().zip(acc) {
        *dk = (load(dk) + *a).to_array();
    }
}

/// Lane sums of `v²` (if `squares`) and of `v` over one block's residuals, then `tree8`.
#[inline(always)]
fn lane_sums(r: &[f32], squares: bool) -> (f32, f32) {
    let (rc, rt) = r.as_chunks::<8>();
    let mut l = ZERO;
    let mut s = ZERO;
    for c in rc {
        let v = load(c);
        if squares {
            l += v * v;
        }
        s += v;
    }
    if !rt.is_empty() {
        // Padding with +0 adds +0 to lanes that are never −0: the same bits as not adding.
        let v = load_padded(rt);
        if squares {
            l += v * v;
        }
        s += v;
    }
    (tree8(l.to_array()), tree8(s.to_array()))
}

/// A whole pass for a model with `d ≥ 8`, its size known only at run time.
fn wide_pass<const W: Want>(
    x: &[f32],
    y: Option<&[f32]>,
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    pred_out: Option<&mut [f32]>,
) -> (f64, f64) {
    wide_body::<W>(x, y, w, b, grad_w, pred_out)
}

/// The same pass compiled for one size `DD`: with the length known, the loops over a row unroll
/// and their set-up disappears (the results are the same bits as [`wide_pass`]).
fn wide_fixed<const W: Want, const DD: usize>(
    x: &[f32],
    y: Option<&[f32]>,
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    pred_out: Option<&mut [f32]>,
) -> (f64, f64) {
    match <&[f32; DD]>::try_from(w) {
        Ok(wa) => wide_body::<W>(x, y, wa.as_slice(), b, grad_w, pred_out),
        Err(_) => (f64::NAN, f64::NAN),
    }
}

/// From this many floats of `x` (8 MiB) on, `d ≥ 8` kernels read rows one after the other
/// (see [`wide_residuals`]); measured on Zen 5, the in-order reads are up to 2× faster from
/// DRAM and up to 2× slower from L1/L2. The choice changes no bit.
const STREAMING_FLOATS: usize = 2 << 20;

/// The body of a pass for `d ≥ 8`.
#[inline(always)]
fn wide_body<const W: Want>(
    x: &[f32],
    y: Option<&[f32]>,
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    mut pred_out: Option<&mut [f32]>,
) -> (f64, f64) {
    let d = w.len();
    let blen = block_len(d);
    // Data this large comes from DRAM on most machines: read rows strictly in order.
    let streaming = x.len() >= STREAMING_FLOATS;
    let mut rbuf = [0.0f32; 256];
    let mut loss = 0.0f64;
    let mut rsum = 0.0f64;
    for (k, xb) in x.chunks(nz(blen.saturating_mul(d))).enumerate() {
        let t0 = k * blen;
        let nb = xb.len() / nz(d);
        if let Some(out) = pred_out.as_deref_mut().filter(|_| W == PRED) {
            if let Some(o) = out.get_mut(t0..t0 + nb) {
                wide_residuals(xb, None, w, b, d, o, streaming);
            }
            continue;
        }
        let r = rbuf.get_mut(..nb).unwrap_or(&mut []);
        let yb = y.and_then(|y| y.get(t0..t0 + nb));
        wide_residuals(xb, yb, w, b, d, r, streaming);
        let (l, s) = lane_sums(r, wants_loss(W));
        loss += f64::from(l);
        rsum += f64::from(s);
        if wants_grad(W) {
            wide_grad_block(xb, r, d, grad_w);
        }
    }
    (loss, rsum)
}

/// Dispatch on `d`: the tiny kernels are monomorphised for `d = 1..=7`.
fn pass<const W: Want>(
    x: &[f32],
    y: Option<&[f32]>,
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    pred_out: Option<&mut [f32]>,
) -> (f64, f64) {
    mse_pass!(w.len(), W, (x, y, w, b, grad_w, pred_out))
}

/// The squared error's pass for `$d` features: the tiny kernels for `d = 1..=7`, fixed sizes
/// for `d ∈ {8, 16, 32, 64}`, the run-time size otherwise.
macro_rules! mse_pass {
    ($d:expr, $w:ident, ($($arg:expr),*)) => {
        match $d {
            1 => tiny_pass::<1, $w>($($arg),*),
            2 => tiny_pass::<2, $w>($($arg),*),
            3 => tiny_pass::<3, $w>($($arg),*),
            4 => tiny_pass::<4, $w>($($arg),*),
            5 => tiny_pass::<5, $w>($($arg),*),
            6 => tiny_pass::<6, $w>($($arg),*),
            7 => tiny_pass::<7, $w>($($arg),*),
            8 => wide_fixed::<$w, 8>($($arg),*),
            16 => wide_fixed::<$w, 16>($($arg),*),
            32 => wide_fixed::<$w, 32>($($arg),*),
            64 => wide_fixed::<$w, 64>($($arg),*),
            _ => wide_pass::<$w>($($arg),*),
        }
    };
}
use mse_pass;

/// [`pass`] for a size known at compile time: in a caller monomorphised for one `D`, only that
/// arm is compiled (rustc drops `match` arms on a constant before code generation), so a
/// firmware image that trains one model size links one kernel shape, not twelve.
fn pass_fixed<const W: Want, const D: usize>(
    x: &[f32],
    y: Option<&[f32]>,
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    pred_out: Option<&mut [f32]>,
) -> (f64, f64) {
    mse_pass!(D, W, (x, y, w, b, grad_w, pred_out))
}

/// Predictions `out[i] = w·x_i + b` for `n = out.len()` samples.
///
/// # Errors
/// Shape errors, non-finite `w`/`b`; [`Error::NonFinite`] for a non-finite `x`,
/// [`Error::Overflow`] if a prediction overflows.
pub fn forward(x: &[f32], w: &[f32], b: f32, out: &mut [f32]) -> Result<(), Error> {
    entry_forward(x, w, b, out, |out| {
        pass::<PRED>(x, None, w, b, &mut [], Some(out));
    })
}

/// Mean squared error `(1/n) Σ (w·x_i + b − y_i)²`, `n = y.len()`.
///
/// # Errors
/// As [`fused`].
pub fn loss(x: &[f32], y: &[f32], w: &[f32], b: f32) -> Result<f32, Error> {
    entry_loss(x, y, w, b, || {
        pass::<LOSS>(x, Some(y), w, b, &mut [], None).0
    })
}

/// Gradient of the mean squared error: writes `∂L/∂w` into `grad_w` (length `d`) and returns
/// `∂L/∂b`. Same bits as the gradient of [`fused`].
///
/// # Errors
/// As [`fused`].
pub fn gradient(x: &[f32], y: &[f32], w: &[f32], b: f32, grad_w: &mut [f32]) -> Result<f32, Error> {
    entry_grad(x, y, w, b, grad_w, |g| {
        (0.0, pass::<GRAD>(x, Some(y), w, b, g, None).1)
    })
    .map(|o| o.grad_b)
}

/// Loss and gradient in one pass over `x`: writes `∂L/∂w` into `grad_w` (length `d`).
///
/// # Errors
/// [`Error::ZeroFeatures`], [`Error::EmptyBatch`], [`Error::LengthMismatch`] for `x` or
/// `grad_w`, [`Error::NonFinite`] for non-finite `w`, `b`, `x` or `y`, [`Error::Overflow`] if the
/// loss or gradient overflows `f32` from finite inputs.
pub fn fused(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
) -> Result<LossGrad, Error> {
    entry_grad(x, y, w, b, grad_w, |g| {
        pass::<BOTH>(x, Some(y), w, b, g, None)
    })
}

// ---------------------------------------------------------------------------------------------
// Other losses: Huber, absolute, logistic (one output) and softmax cross-entropy (K outputs).
// ---------------------------------------------------------------------------------------------

/// A per-sample loss on eight lanes: `(ℓ, ∂ℓ/∂z)` for predictions `z` and targets `y`, in the
/// operation order the [module docs](super) state.
trait Link: Copy {
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8);
}

#[derive(Clone, Copy)]
struct HuberLink {
    delta: f32x8,
    half_delta: f32x8,
}

impl Link for HuberLink {
    #[inline(always)]
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8) {
        let r = z - y;
        let a = r.abs();
        let quad = (r * r) * f32x8::splat(0.5);
        let lin = self.delta * (a - self.half_delta);
        let l = a.simd_le(self.delta).select(quad, lin);
        let g = r
            .simd_gt(self.delta)
            .select(self.delta, r.simd_lt(-self.delta).select(-self.delta, r));
        (l, g)
    }
}

#[derive(Clone, Copy)]
struct AbsoluteLink;

impl Link for AbsoluteLink {
    #[inline(always)]
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8) {
        let r = z - y;
        let one = f32x8::splat(1.0);
        let g = r
            .simd_gt(ZERO)
            .select(one, r.simd_lt(ZERO).select(-one, ZERO));
        (r.abs(), g)
    }
}

#[derive(Clone, Copy)]
struct LogisticLink;

impl Link for LogisticLink {
    #[inline(always)]
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8) {
        let one = f32x8::splat(1.0);
        let e = vmath::exp(-z.abs());
        let relu = z.simd_gt(ZERO).select(z, ZERO);
        let l = (relu - z * y) + vmath::log1p_unit(e);
        let q = one + e;
        let sigma = z.simd_ge(ZERO).select(one / q, e / q);
        (l, sigma - y)
    }
}

/// Lane index mask `lane < m`.
#[inline(always)]
fn first_lanes(m: usize) -> f32x8 {
    let idx = f32x8::new([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    idx.simd_lt(f32x8::splat(m as f32))
}

/// Stores the first `dst.len() ≤ 8` lanes of `v`.
#[inline(always)]
fn store_partial(dst: &mut [f32], v: f32x8) {
    for (d, s) in dst.iter_mut().zip(v.to_array()) {
        *d = s;
    }
}

/// Replaces the block's predictions `zb` by `g_t = ∂ℓ/∂z` and returns the block's
/// `(tree8(Σ_lane ℓ_t), tree8(Σ_lane g_t))`. The lanes past the end of a partial last chunk are
/// set to `+0` before they are added.
#[inline(always)]
fn apply_link<L: Link>(link: L, zb: &mut [f32], yb: &[f32]) -> (f32, f32) {
    let mut lacc = ZERO;
    let mut gacc = ZERO;
    let (zc, zt) = zb.as_chunks_mut::<8>();
    let (yc, yt) = yb.as_chunks::<8>();
    for (z, y) in zc.iter_mut().zip(yc) {
        let (l, g) = link.eval(load(z), load(y));
        lacc += l;
        gacc += g;
        *z = g.to_array();
    }
    if !zt.is_empty() {
        let valid = first_lanes(zt.len());
        let (l, g) = link.eval(load_padded(zt), load_padded(yt));
        let (l, g) = (valid.select(l, ZERO), valid.select(g, ZERO));
        lacc += l;
        gacc += g;
        store_partial(zt, g);
    }
    (tree8(lacc.to_array()), tree8(gacc.to_array()))
}

/// `grad_w[j] += tree8(Σ_lane g_t·x_tj)` for one block of a tiny model (samples in lanes, in
/// the order of [`tiny_block`]'s gradient).
#[inline(always)]
fn tiny_grad_block<const D: usize>(xb: &[f32], g: &[f32], grad_w: &mut [f32]) {
    let mut gacc = [ZERO; D];
    let (gc, _) = g.as_chunks::<8>();
    for (xg, gk) in xb.chunks_exact(8 * D).zip(gc) {
        let cols = tiny_columns::<D>(xg);
        let gv = load(gk);
        for j in 0..D {
            gacc[j] += gv * cols[j];
        }
    }
    let mut ga = [[0.0f32; 8]; D];
    for (j, v) in gacc.iter().enumerate() {
        ga[j] = v.to_array();
    }
    for (t, gt) in g.iter().enumerate().skip(gc.len() * 8) {
        let row = xb.get(t * D..t * D + D).unwrap_or(&[]);
        let lane = t % 8;
        for (gj, xj) in ga.iter_mut().zip(row) {
            gj[lane] += gt * xj;
        }
    }
    for (gw, gj) in grad_w.iter_mut().zip(&ga) {
        *gw += tree8(*gj);
    }
}

/// Predictions of one block (the same bits as [`forward`]) and the gradient accumulation of one
/// block, for one model size.
trait Shape: Copy {
    fn predict(self, xb: &[f32], w: &[f32], b: f32, out: &mut [f32], streaming: bool);
    fn grad(self, xb: &[f32], g: &[f32], grad_w: &mut [f32]);
    fn d(self) -> usize;
}

#[derive(Clone, Copy)]
struct Tiny<const D: usize>;

impl<const D: usize> Shape for Tiny<D> {
    #[inline(always)]
    fn predict(self, xb: &[f32], w: &[f32], b: f32, out: &mut [f32], _: bool) {
        if let Ok(w) = <&[f32; D]>::try_from(w) {
            tiny_block::<D, PRED>(xb, None, w, b, &mut [], Some(out));
        }
    }
    #[inline(always)]
    fn grad(self, xb: &[f32], g: &[f32], grad_w: &mut [f32]) {
        tiny_grad_block::<D>(xb, g, grad_w);
    }
    #[inline(always)]
    fn d(self) -> usize {
        D
    }
}

/// `d ≥ 8`; `FIXED != 0` compiles the loops for that size.
#[derive(Clone, Copy)]
struct Wide<const FIXED: usize>(usize);

impl<const FIXED: usize> Shape for Wide<FIXED> {
    #[inline(always)]
    fn predict(self, xb: &[f32], w: &[f32], b: f32, out: &mut [f32], streaming: bool) {
        if FIXED != 0 {
            if let Ok(wa) = <&[f32; FIXED]>::try_from(w) {
                wide_residuals(xb, None, wa.as_slice(), b, FIXED, out, streaming);
            }
        } else {
            wide_residuals(xb, None, w, b, self.0, out, streaming);
        }
    }
    #[inline(always)]
    fn grad(self, xb: &[f32], g: &[f32], grad_w: &mut [f32]) {
        wide_grad_block(xb, g, self.d(), grad_w);
    }
    #[inline(always)]
    fn d(self) -> usize {
        if FIXED != 0 { FIXED } else { self.0 }
    }
}

/// Calls `$f` with the [`Shape`] for `$d` (monomorphised for `d < 8` and `d ∈ {8, 16, 32, 64}`).
/// With a const generic `D` for `$d`, only the matching arm is compiled (rustc drops `match`
/// arms on a constant before code generation).
macro_rules! with_shape {
    ($d:expr, $f:ident ( $($arg:expr),* )) => {
        match $d {
            1 => $f(Tiny::<1>, $($arg),*),
            2 => $f(Tiny::<2>, $($arg),*),
            3 => $f(Tiny::<3>, $($arg),*),
            4 => $f(Tiny::<4>, $($arg),*),
            5 => $f(Tiny::<5>, $($arg),*),
            6 => $f(Tiny::<6>, $($arg),*),
            7 => $f(Tiny::<7>, $($arg),*),
            8 => $f(Wide::<8>(8), $($arg),*),
            16 => $f(Wide::<16>(16), $($arg),*),
            32 => $f(Wide::<32>(32), $($arg),*),
            64 => $f(Wide::<64>(64), $($arg),*),
            d => $f(Wide::<0>(d), $($arg),*),
        }
    };
}

/// A whole pass of a one-output loss: per block, predictions, then `(ℓ, g)` per sample, then
/// (if `grad_w` is given) `Σ g·x`. Returns `(Σ_blocks loss_b, Σ_blocks gsum_b)` in `f64`. The
/// pass is generic in the model's shape only; the loss is chosen per block by
/// [`apply_loss`], so the prediction and gradient code exist once per shape, not per loss.
#[inline(always)]
fn glm_dispatch<S: Shape>(
    shape: S,
    loss: Loss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    mut grad_w: Option<&mut [f32]>,
) -> (f64, f64) {
    let d = shape.d();
    let blen = block_len(d);
    let streaming = x.len() >= STREAMING_FLOATS;
    let mut zbuf = [0.0f32; 256];
    let mut lsum = 0.0f64;
    let mut gsum = 0.0f64;
    for (k, xb) in x.chunks(nz(blen.saturating_mul(d))).enumerate() {
        let t0 = k * blen;
        let nb = xb.len() / nz(d);
        let zb = zbuf.get_mut(..nb).unwrap_or(&mut []);
        shape.predict(xb, w, b, zb, streaming);
        let (l, g) = apply_loss(loss, zb, y.get(t0..t0 + nb).unwrap_or(&[]));
        lsum += f64::from(l);
        gsum += f64::from(g);
        if let Some(gw) = grad_w.as_deref_mut() {
            shape.grad(xb, zb, gw);
        }
    }
    (lsum, gsum)
}

/// [`apply_link`] for the loss's link (not inlined: one copy per loss, shared by every shape).
#[inline(never)]
fn apply_loss(loss: Loss, zb: &mut [f32], yb: &[f32]) -> (f32, f32) {
    match loss {
        Loss::Huber { delta } => {
            let link = HuberLink {
                delta: f32x8::splat(delta),
                half_delta: f32x8::splat(0.5 * delta),
            };
            apply_link(link, zb, yb)
        }
        Loss::Absolute => apply_link(AbsoluteLink, zb, yb),
        Loss::Logistic => apply_link(LogisticLink, zb, yb),
        // Not reached: the squared error has its own kernels.
        Loss::Squared => (f32::NAN, f32::NAN),
    }
}

fn glm(
    loss: Loss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: Option<&mut [f32]>,
) -> (f64, f64) {
    with_shape!(w.len(), glm_dispatch(loss, x, y, w, b, grad_w))
}

/// Loss and gradient of any [`Loss`] in one pass over `x`: writes `∂L/∂w` into `grad_w`. For
/// [`Loss::Squared`] this is [`fused`] (the same bits); for the others `L = (1/n) Σ ℓ(z_i, y_i)`
/// with `z_i = w·x_i + b`, `∂L/∂b = (1/n) Σ ℓ'(z_i, y_i)` and `∂L/∂w = (1/n) Σ ℓ'(z_i, y_i)·x_i`.
///
/// # Errors
/// As [`fused`], plus [`Error::InvalidParameter`] for an invalid loss parameter or a logistic
/// target outside `[0, 1]`.
pub fn fused_with(
    loss: Loss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
) -> Result<LossGrad, Error> {
    if loss == Loss::Squared {
        return fused(x, y, w, b, grad_w);
    }
    entry_glm(loss, x, y, w, b, Some(grad_w), |g| glm(loss, x, y, w, b, g))
}

/// The mean loss `(1/n) Σ ℓ(w·x_i + b, y_i)` of any [`Loss`]; the same bits as the loss of
/// [`fused_with`].
///
/// # Errors
/// As [`fused_with`].
pub fn loss_with(loss: Loss, x: &[f32], y: &[f32], w: &[f32], b: f32) -> Result<f32, Error> {
    if loss == Loss::Squared {
        return self::loss(x, y, w, b);
    }
    entry_glm(loss, x, y, w, b, None, |_| glm(loss, x, y, w, b, None)).map(|o| o.loss)
}

/// [`forward`] compiled for `D` features only (the same bits).
pub(crate) fn forward_fixed<const D: usize>(
    x: &[f32],
    w: &[f32],
    b: f32,
    out: &mut [f32],
) -> Result<(), Error> {
    entry_forward(x, w, b, out, |out| {
        pass_fixed::<PRED, D>(x, None, w, b, &mut [], Some(out));
    })
}

/// [`fused_with`] compiled for `D` features only (the same bits); used by the fixed-size
/// models so that training links one kernel shape.
pub(crate) fn fused_with_fixed<const D: usize>(
    loss: Loss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
) -> Result<LossGrad, Error> {
    if loss == Loss::Squared {
        return entry_grad(x, y, w, b, grad_w, |g| {
            pass_fixed::<BOTH, D>(x, Some(y), w, b, g, None)
        });
    }
    entry_glm(loss, x, y, w, b, Some(grad_w), |g| {
        with_shape!(D, glm_dispatch(loss, x, y, w, b, g))
    })
}

/// [`loss_with`] compiled for `D` features only (the same bits).
pub(crate) fn loss_with_fixed<const D: usize>(
    loss: Loss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
) -> Result<f32, Error> {
    if loss == Loss::Squared {
        return entry_loss(x, y, w, b, || {
            pass_fixed::<LOSS, D>(x, Some(y), w, b, &mut [], None).0
        });
    }
    entry_glm(loss, x, y, w, b, None, |_| {
        with_shape!(D, glm_dispatch(loss, x, y, w, b, None))
    })
    .map(|o| o.loss)
}

/// [`softmax_fused`] compiled for `D` features only (the same bits).
pub(crate) fn softmax_fused_fixed<const D: usize>(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
    grad_w: &mut [f32],
    grad_b: &mut [f32],
) -> Result<f32, Error> {
    entry_softmax(x, y, w, b, Some((grad_w, grad_b)), |_, k, g| {
        with_shape!(D, softmax_pass(x, y, w, b, k, g))
    })
}

/// [`softmax_loss`] compiled for `D` features only (the same bits).
pub(crate) fn softmax_loss_fixed<const D: usize>(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
) -> Result<f32, Error> {
    entry_softmax(x, y, w, b, None, |_, k, _| {
        with_shape!(D, softmax_pass(x, y, w, b, k, None))
    })
}

/// One softmax pass over `x`: `K` logit rows per block, the cross-entropy per sample on
/// lanes, then (if `grads`) `K` gradient accumulations over the block.
#[inline(always)]
fn softmax_pass<S: Shape>(
    shape: S,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
    k: usize,
    mut grads: Option<(&mut [f32], &mut [f32])>,
) -> f64 {
    let d = shape.d();
    let n = y.len();
    let blen = softmax_block_len(d, k);
    let streaming = x.len() >= STREAMING_FLOATS;
    let mut buf = [0.0f32; SOFTMAX_BUF];
    let mut gb_acc = [0.0f64; MAX_CLASSES];
    let mut loss = 0.0f64;
    let one = f32x8::splat(1.0);
    for (blk, xb) in x.chunks(nz(blen.saturating_mul(d))).enumerate() {
        let t0 = blk * blen;
        let nb = xb.len() / nz(d);
        let yb = y.get(t0..t0 + nb).unwrap_or(&[]);
        for (c, (wc, &bc)) in w.chunks_exact(nz(d)).zip(b).enumerate() {
            let zb = buf.get_mut(c * blen..c * blen + nb).unwrap_or(&mut []);
            shape.predict(xb, wc, bc, zb, streaming);
        }
        let mut lacc = ZERO;
        let mut t = 0;
        while t < nb {
            let m = (nb - t).min(8);
            let valid = first_lanes(m);
            let yv = load_padded(yb.get(t..t + m).unwrap_or(&[]));
            let at = |c: usize| c * blen + t..c * blen + t + m;
            // Full chunks (all but a block's last) load and store whole vectors.
            let get = |buf: &[f32], c: usize| {
                let s = buf.get(at(c)).unwrap_or(&[]);
                match s.first_chunk::<8>() {
                    Some(a) => load(a),
                    None => load_padded(s),
                }
            };
            let put = |buf: &mut [f32], c: usize, v: f32x8| {
                let s = buf.get_mut(at(c)).unwrap_or(&mut []);
                match s.first_chunk_mut::<8>() {
                    Some(a) => *a = v.to_array(),
                    None => store_partial(s, v),
                }
            };
            let mut mx = get(&buf, 0);
            for c in 1..k {
                let z = get(&buf, c);
                mx = z.simd_gt(mx).select(z, mx);
            }
            let mut sum = ZERO;
            let mut zy = ZERO;
            for c in 0..k {
                let z = get(&buf, c);
                zy = yv.simd_eq(f32x8::splat(c as f32)).select(z, zy);
                let e = vmath::exp(z - mx);
                sum += e;
                put(&mut buf, c, e);
            }
            let l = (mx + vmath::ln(sum)) - zy;
            lacc += valid.select(l, ZERO);
            for c in 0..k {
                let p = get(&buf, c) / sum;
                let onehot = yv.simd_eq(f32x8::splat(c as f32)).select(one, ZERO);
                let g = valid.select(p - onehot, ZERO);
                put(&mut buf, c, g);
            }
            t += m;
        }
        loss += f64::from(tree8(lacc.to_array()));
        if let Some((gw, _)) = grads.as_mut() {
            for (c, gwc) in gw.chunks_exact_mut(nz(d)).enumerate().take(k) {
                let gb = buf.get(c * blen..c * blen + nb).unwrap_or(&[]);
                let (_, s) = lane_sums(gb, false);
                if let Some(a) = gb_acc.get_mut(c) {
                    *a += f64::from(s);
                }
                shape.grad(xb, gb, gwc);
            }
        }
    }
    if let Some((_, gb)) = grads {
        for (g, a) in gb.iter_mut().zip(gb_acc) {
            *g = (a / n as f64) as f32;
        }
    }
    loss
}

fn softmax(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
    d: usize,
    k: usize,
    grads: Option<(&mut [f32], &mut [f32])>,
) -> f64 {
    with_shape!(d, softmax_pass(x, y, w, b, k, grads))
}

/// Softmax cross-entropy and its gradient in one pass over `x`, for `K = b.len()` classes.
///
/// `w` holds the `K` weight rows one after the other (`w[c·d..(c+1)·d]` for class `c`), `y` the
/// class of each sample as a float (`0.0, 1.0, …`). Returns `L = (1/n) Σ (log Σ_c e^{z_ic} −
/// z_{i,y_i})`; writes `∂L/∂w` into `grad_w` (`K·d`) and `∂L/∂b` into `grad_b` (`K`).
///
/// # Errors
/// [`Error::InvalidParameter`] for `K` outside `1..=`[`MAX_CLASSES`] or a label that is not an
/// integer in `0..K`; otherwise as [`fused`].
pub fn softmax_fused(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
    grad_w: &mut [f32],
    grad_b: &mut [f32],
) -> Result<f32, Error> {
    entry_softmax(x, y, w, b, Some((grad_w, grad_b)), |d, k, g| {
        softmax(x, y, w, b, d, k, g)
    })
}

/// Softmax cross-entropy alone; the same bits as the loss of [`softmax_fused`].
///
/// # Errors
/// As [`softmax_fused`].
pub fn softmax_loss(x: &[f32], y: &[f32], w: &[f32], b: &[f32]) -> Result<f32, Error> {
    entry_softmax(x, y, w, b, None, |d, k, _| softmax(x, y, w, b, d, k, None))
}

#[cfg(test)]
mod tests {
    use super::wide_residuals;

    /// The size-specialised entries give the runtime-dispatched kernels' bits.
    #[test]
    fn fixed_size_kernels_match_runtime_dispatch() {
        use super::{
            forward, forward_fixed, fused_with, fused_with_fixed, loss_with, loss_with_fixed,
            softmax_fused, softmax_fused_fixed,
        };
        use crate::loss::Loss;
        fn check<const D: usize>() {
            let n = 37;
            let v = |i: usize| ((i * 2_654_435_761) % 1000) as f32 / 500.0 - 1.0;
            let x: std::vec::Vec<f32> = (0..n * D).map(v).collect();
            let y: std::vec::Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
            let w: std::vec::Vec<f32> = (0..2 * D).map(|i| v(i + 7)).collect();
            let w1 = &w[..D];
            for loss in [
                Loss::Squared,
                Loss::Huber { delta: 0.5 },
                Loss::Absolute,
                Loss::Logistic,
            ] {
                let (mut g1, mut g2) = (std::vec![0.0f32; D], std::vec![0.0f32; D]);
                let a = fused_with(loss, &x, &y, w1, 0.25, &mut g1);
                let b = fused_with_fixed::<D>(loss, &x, &y, w1, 0.25, &mut g2);
                assert_eq!(a, b, "D={D} {loss:?}");
                assert_eq!(g1, g2);
                assert_eq!(
                    loss_with(loss, &x, &y, w1, 0.25),
                    loss_with_fixed::<D>(loss, &x, &y, w1, 0.25)
                );
            }
            let (mut p1, mut p2) = (std::vec![0.0f32; n], std::vec![0.0f32; n]);
            forward(&x, w1, 0.5, &mut p1).unwrap();
            forward_fixed::<D>(&x, w1, 0.5, &mut p2).unwrap();
            assert_eq!(p1, p2);
            let (mut a1, mut b1) = (std::vec![0.0f32; 2 * D], [0.0f32; 2]);
            let (mut a2, mut b2) = (std::vec![0.0f32; 2 * D], [0.0f32; 2]);
            let l1 = softmax_fused(&x, &y, &w, &[0.1, -0.1], &mut a1, &mut b1);
            let l2 = softmax_fused_fixed::<D>(&x, &y, &w, &[0.1, -0.1], &mut a2, &mut b2);
            assert_eq!(l1, l2);
            assert_eq!((a1, b1), (a2, b2));
        }
        check::<1>();
        check::<3>();
        check::<4>();
        check::<7>();
        check::<8>();
        check::<9>();
        check::<16>();
        check::<32>();
        check::<33>();
        check::<64>();
    }

    /// The two loop shapes of `wide_residuals` give the same bits (the kernels switch between
    /// them on the size of `x`, which the integration tests cannot reach cheaply).
    #[test]
    fn streaming_and_interleaved_rows_agree_bitwise() {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 8.0 - 4.0
        };
        for d in [8usize, 9, 15, 16, 17, 31, 32, 33, 64, 100, 257] {
            for n in [1usize, 7, 8, 9, 16, 17, 40] {
                let x: std::vec::Vec<f32> = (0..n * d).map(|_| rnd()).collect();
                let y: std::vec::Vec<f32> = (0..n).map(|_| rnd()).collect();
                let w: std::vec::Vec<f32> = (0..d).map(|_| rnd()).collect();
                let b = rnd();
                let mut r1 = std::vec![0.0f32; n];
                let mut r2 = std::vec![0.0f32; n];
                wide_residuals(&x, Some(&y), &w, b, d, &mut r1, false);
                wide_residuals(&x, Some(&y), &w, b, d, &mut r2, true);
                let b1: std::vec::Vec<u32> = r1.iter().map(|v| v.to_bits()).collect();
                let b2: std::vec::Vec<u32> = r2.iter().map(|v| v.to_bits()).collect();
                assert_eq!(b1, b2, "d={d} n={n}");
            }
        }
    }
}
