//! Other models, `d ≥ 8`: the features in lanes.

use super::*;

/// The last eight features of a row (`d ≥ 8`).
#[inline(always)]
pub(super) fn row_end<L: Lanes>(row: &[f32]) -> L {
    match row.last_chunk::<8>() {
        Some(a) => L::load(a),
        None => L::ZERO,
    }
}

/// The weights for the row's last partial chunk: the last eight weights with the first
/// `8 − d mod 8` lanes zeroed, so that lane `8 − t + k` gets feature `d − t + k` and the lanes
/// that overlap the previous chunk add `±0` (which leaves a lane unchanged: lanes are never −0).
/// `None` when `d` is a multiple of 8.
#[inline(always)]
pub(super) fn tail_weights<L: Lanes>(w: &[f32]) -> Option<L> {
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
    Some(L::load(&a))
}

/// Lane accumulator of one row's products `x_i · w` (before `tree8`).
#[inline(always)]
pub(super) fn row_acc<L: Lanes>(row: &[f32], w: &[f32], wt: Option<L>) -> L {
    let (xc, _) = row.as_chunks::<8>();
    let (wc, _) = w.as_chunks::<8>();
    let mut a = L::ZERO;
    for (xk, wk) in xc.iter().zip(wc) {
        a += L::load(xk) * L::load(wk);
    }
    if let Some(wt) = wt {
        a += row_end::<L>(row) * wt;
    }
    a
}

/// Lane accumulators of four rows at once (four independent add chains; on SSE2 the eight
/// `xmm` accumulators still fit the register file). Each row's order is exactly [`row_acc`]'s.
#[inline(always)]
pub(super) fn row_acc4(rows: [&[f32]; 4], w: &[f32], wt: Option<f32x8>) -> [f32x8; 4] {
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
        a[0] += row_end::<f32x8>(rows[0]) * wv;
        a[1] += row_end::<f32x8>(rows[1]) * wv;
        a[2] += row_end::<f32x8>(rows[2]) * wv;
        a[3] += row_end::<f32x8>(rows[3]) * wv;
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
pub(super) fn wide_residuals<L: Lanes>(
    xb: &[f32],
    yb: Option<&[f32]>,
    w: &[f32],
    b: f32,
    d: usize,
    r: &mut [f32],
    (streaming, rowwise): (bool, bool),
) {
    let wtl = tail_weights::<L>(w);
    // With `rowwise` (small targets, see `SMALL`), one row at a time: each row's `tree8`
    // directly, the same bits as lane `k` of `tree8_rows` (which is `tree8` of row `k`'s
    // accumulator), without the eight accumulators and the transpose on the stack.
    let groups = if rowwise { 0 } else { r.len() / 8 };
    let (rg, rt) = r.split_at_mut(groups * 8);
    if !rowwise {
        let bv = f32x8::splat(b);
        let wt = tail_weights::<f32x8>(w);
        let (rg, _) = rg.as_chunks_mut::<8>();
        for (g, (xg, out)) in xb.chunks_exact(nz(8 * d)).zip(rg.iter_mut()).enumerate() {
            let row = |m: usize| xg.get(m * d..(m + 1) * d).unwrap_or(&[]);
            let acc: [f32x8; 8] = if streaming {
                core::array::from_fn(|m| row_acc::<f32x8>(row(m), w, wt))
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
    }
    let t0 = groups * 8;
    for (k, o) in rt.iter_mut().enumerate() {
        let t = t0 + k;
        let row = xb.get(t * d..t * d + d).unwrap_or(&[]);
        let mut v = tree8(row_acc::<L>(row, w, wtl).lanes()) + b;
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
/// Features go in stripes of at most [`GRAD_STRIPE`] (an accumulator on the stack, in registers
/// when `d` is a compile-time constant); for each quad the inner loop runs along the four rows'
/// stripes with no bounds checks. One add per quad carries over between iterations. The
/// stripe's width changes no bit: each feature's sum runs over the rows in the same order.
#[inline(always)]
pub(super) fn wide_grad_block<L: Lanes>(xb: &[f32], r: &[f32], d: usize, grad_w: &mut [f32]) {
    let full = d / 8 * 8;
    let t = d - full;
    let mut s0 = 0;
    while s0 < full {
        let sw = (full - s0).min(GRAD_STRIPE);
        let mut buf = [L::ZERO; GRAD_STRIPE / 8];
        let acc = buf.get_mut(..sw / 8).unwrap_or(&mut []);
        stripe_rows(xb, r, d, s0, acc);
        add_into(grad_w.get_mut(s0..s0 + sw).unwrap_or(&mut []), acc);
        s0 += sw;
    }
    if t != 0 {
        let mut acc = L::ZERO;
        tail_rows(xb, r, d, &mut acc);
        add_tail(grad_w, full, acc);
    }
}

/// Features per stripe of [`wide_grad_block`]: 256 (a 1 KiB accumulator), 64 on small targets.
pub(super) const GRAD_STRIPE: usize = if SMALL { 64 } else { 256 };

/// Adds the rows' products to the accumulators of features `s0..s0 + 8·acc.len()` (quads of
/// rows, then the rows left over one at a time): the order of [`wide_grad_block`], for any
/// run of rows that starts at a multiple of four in its block.
#[inline(always)]
pub(super) fn stripe_rows<L: Lanes>(xb: &[f32], r: &[f32], d: usize, s0: usize, acc: &mut [L]) {
    let sw = acc.len() * 8;
    let (rq, rrest) = r.as_chunks::<4>();
    let rest_rows = xb.get(rq.len() * 4 * d..).unwrap_or(&[]);
    for (xq, rr) in xb.chunks_exact(nz(4 * d)).zip(rq) {
        let row = |m: usize| xq.get(m * d..(m + 1) * d).unwrap_or(&[]);
        let (x0, x1, x2, x3) = (row(0), row(1), row(2), row(3));
        let rv = rr.map(L::splat);
        for ((((a, c0), c1), c2), c3) in acc
            .iter_mut()
            .zip(stripe(x0, s0, sw))
            .zip(stripe(x1, s0, sw))
            .zip(stripe(x2, s0, sw))
            .zip(stripe(x3, s0, sw))
        {
            *a += (rv[0] * L::load(c0) + rv[1] * L::load(c1))
                + (rv[2] * L::load(c2) + rv[3] * L::load(c3));
        }
    }
    for (row, &rt) in rest_rows.chunks_exact(nz(d)).zip(rrest) {
        let rv = L::splat(rt);
        for (a, c) in acc.iter_mut().zip(stripe(row, s0, sw)) {
            *a += rv * L::load(c);
        }
    }
}

/// The last `t = d mod 8` features through each row's last eight (lanes `8 − t..8` are the
/// wanted sums), in the order of [`stripe_rows`].
#[inline(always)]
pub(super) fn tail_rows<L: Lanes>(xb: &[f32], r: &[f32], d: usize, acc: &mut L) {
    let (rq, rrest) = r.as_chunks::<4>();
    let rest_rows = xb.get(rq.len() * 4 * d..).unwrap_or(&[]);
    for (xq, rr) in xb.chunks_exact(nz(4 * d)).zip(rq) {
        let row = |m: usize| xq.get(m * d..(m + 1) * d).unwrap_or(&[]);
        let (x0, x1, x2, x3) = (row(0), row(1), row(2), row(3));
        let rv = rr.map(L::splat);
        *acc += (rv[0] * row_end::<L>(x0) + rv[1] * row_end::<L>(x1))
            + (rv[2] * row_end::<L>(x2) + rv[3] * row_end::<L>(x3));
    }
    for (row, &rt) in rest_rows.chunks_exact(nz(d)).zip(rrest) {
        *acc += L::splat(rt) * row_end::<L>(row);
    }
}

/// `grad_w[full + k] += lane 8 − t + k` of the tail accumulator, `t = grad_w.len() − full`.
#[inline(always)]
pub(super) fn add_tail<L: Lanes>(grad_w: &mut [f32], full: usize, acc: L) {
    let t = grad_w.len().saturating_sub(full);
    for (g, a) in grad_w
        .iter_mut()
        .skip(full)
        .zip(acc.lanes().iter().skip(8 - t))
    {
        *g += *a;
    }
}

/// Features `s0..s0 + sw` of a row as chunks of eight.
#[inline(always)]
pub(super) fn stripe(row: &[f32], s0: usize, sw: usize) -> &[[f32; 8]] {
    row.get(s0..s0 + sw).unwrap_or(&[]).as_chunks::<8>().0
}

#[inline(always)]
pub(super) fn add_into<L: Lanes>(dst: &mut [f32], acc: &[L]) {
    let (dc, _) = dst.as_chunks_mut::<8>();
    for (dk, a) in dc.iter_mut().zip(acc) {
        *dk = (L::load(dk) + *a).lanes();
    }
}

/// A whole pass for a model with `d ≥ 8`, its size known only at run time.
pub(super) fn wide_pass<const W: Want>(
    x: &[f32],
    y: Option<&[f32]>,
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    pred_out: Option<&mut [f32]>,
) -> (f64, f64) {
    wide_body::<W, RESIDUAL_ROWS, { GRAD_STRIPE / 8 }, SMALL, Lane8>(x, y, w, b, grad_w, pred_out)
}

/// The same pass compiled for one size `DD` (`V = DD / 8` accumulators): with the length
/// known, the loops over a row unroll and their set-up disappears (the results are the same
/// bits as [`wide_pass`]).
pub(super) fn wide_fixed<const W: Want, const DD: usize, const V: usize>(
    x: &[f32],
    y: Option<&[f32]>,
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    pred_out: Option<&mut [f32]>,
) -> (f64, f64) {
    match <&[f32; DD]>::try_from(w) {
        Ok(wa) => {
            wide_body::<W, RESIDUAL_ROWS, V, SMALL, Lane8>(x, y, wa.as_slice(), b, grad_w, pred_out)
        }
        Err(_) => (f64::NAN, f64::NAN),
    }
}

/// From this many floats of `x` (8 MiB) on, `d ≥ 8` kernels read rows one after the other
/// (see [`wide_residuals`]); measured on Zen 5, the in-order reads are up to 2× faster from
/// DRAM and up to 2× slower from L1/L2. The choice changes no bit.
pub(super) const STREAMING_FLOATS: usize = 2 << 20;

/// Rows of residuals a block's pass holds at once: the whole block (≤ 256 rows) normally, 32
/// rows on small targets. A block longer than this is passed over in runs of `RESIDUAL_ROWS`
/// rows whose lane sums and gradient accumulators carry over from run to run, so the bits are
/// those of the whole block (see [`wide_body`]).
pub(super) const RESIDUAL_ROWS: usize = if SMALL { 8 } else { 256 };

/// The body of a pass for `d ≥ 8`, holding `R` rows of residuals (a multiple of 8) and
/// gradient stripes of `8·V` features, computing residuals one row at a time if `ROWWISE`, the
/// sums on the lane type `L` (any gives the same bits: see [`Lanes`]).
///
/// Each block of [`block_len`] rows is taken in runs of `R` rows (one run when the block fits);
/// the lane sums and the stripe's accumulators carry over from run to run, so every sum sees
/// the block's rows in the contract's order whatever `R` and `V`. With more than one stripe
/// and more than one run, the residuals are computed again for each stripe (the same bits
/// again): memory stays at `R + 8·V` floats for any `d`.
#[inline(always)]
pub(super) fn wide_body<
    const W: Want,
    const R: usize,
    const V: usize,
    const ROWWISE: bool,
    L: Lanes,
>(
    x: &[f32],
    y: Option<&[f32]>,
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
    mut pred_out: Option<&mut [f32]>,
) -> (f64, f64) {
    const { assert!(R >= 8 && R.is_multiple_of(8) && V >= 1) };
    let d = w.len();
    let blen = block_len(d);
    let full = d / 8 * 8;
    let tail = d - full;
    // Data this large comes from DRAM on most machines: read rows strictly in order.
    let streaming = x.len() >= STREAMING_FLOATS;
    let mut rbuf = [0.0f32; R];
    let mut loss = 0.0f64;
    let mut rsum = 0.0f64;
    for (k, xb) in x.chunks(nz(blen.saturating_mul(d))).enumerate() {
        let t0 = k * blen;
        let nb = xb.len() / nz(d);
        if let Some(out) = pred_out.as_deref_mut().filter(|_| W == PRED) {
            if let Some(o) = out.get_mut(t0..t0 + nb) {
                wide_residuals::<L>(xb, None, w, b, d, o, (streaming, ROWWISE));
            }
            continue;
        }
        let yb = y.and_then(|y| y.get(t0..t0 + nb));
        let runs = nb.div_ceil(R);
        let stripes = if wants_grad(W) {
            full.div_ceil(8 * V)
        } else {
            1
        };
        let (mut l, mut s) = (L::ZERO, L::ZERO);
        for p in 0..stripes {
            let s0 = p * 8 * V;
            let sw = full.saturating_sub(s0).min(8 * V);
            let mut acc = [L::ZERO; V];
            let mut tacc = L::ZERO;
            let last = p + 1 == stripes;
            for q in 0..runs {
                let (lo, hi) = (q * R, ((q + 1) * R).min(nb));
                let xs = xb.get(lo * d..hi * d).unwrap_or(&[]);
                let r = rbuf.get_mut(..hi - lo).unwrap_or(&mut []);
                if p == 0 || runs > 1 {
                    let ys = yb.and_then(|y| y.get(lo..hi));
                    wide_residuals::<L>(xs, ys, w, b, d, r, (streaming, ROWWISE));
                }
                if p == 0 {
                    lane_acc(r, wants_loss(W), &mut l, &mut s);
                }
                if wants_grad(W) {
                    stripe_rows(xs, r, d, s0, acc.get_mut(..sw / 8).unwrap_or(&mut []));
                    if last && tail != 0 {
                        tail_rows(xs, r, d, &mut tacc);
                    }
                }
            }
            if wants_grad(W) {
                let dst = grad_w.get_mut(s0..s0 + sw).unwrap_or(&mut []);
                add_into(dst, acc.get(..sw / 8).unwrap_or(&[]));
                if last && tail != 0 {
                    add_tail(grad_w, full, tacc);
                }
            }
        }
        loss += f64::from(tree8(l.lanes()));
        rsum += f64::from(tree8(s.lanes()));
    }
    (loss, rsum)
}

/// `d ≥ 8`; `FIXED != 0` compiles the loops for that size.
#[derive(Clone, Copy)]
pub(super) struct Wide<const FIXED: usize>(pub(super) usize);

impl<const FIXED: usize> Shape for Wide<FIXED> {
    #[inline(always)]
    fn predict(self, xb: &[f32], w: &[f32], b: f32, out: &mut [f32], streaming: bool) {
        if FIXED != 0 {
            if let Ok(wa) = <&[f32; FIXED]>::try_from(w) {
                let w = wa.as_slice();
                wide_residuals::<Lane8>(xb, None, w, b, FIXED, out, (streaming, SMALL));
            }
        } else {
            wide_residuals::<Lane8>(xb, None, w, b, self.0, out, (streaming, SMALL));
        }
    }
    #[inline(always)]
    fn grad(self, xb: &[f32], g: &[f32], grad_w: &mut [f32]) {
        wide_grad_block::<Lane8>(xb, g, self.d(), grad_w);
    }
    #[inline(always)]
    fn d(self) -> usize {
        if FIXED != 0 { FIXED } else { self.0 }
    }
}
