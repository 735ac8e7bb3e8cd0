//! Tiny models, `d < 8`: eight samples per vector, the samples in lanes.

use super::*;

#[inline(always)]
pub(super) fn halves(v: f32x8) -> (f32x4, f32x4) {
    let a = v.to_array();
    (
        f32x4::new([a[0], a[1], a[2], a[3]]),
        f32x4::new([a[4], a[5], a[6], a[7]]),
    )
}

#[inline(always)]
pub(super) fn join(lo: f32x4, hi: f32x4) -> f32x8 {
    let (l, h) = (lo.to_array(), hi.to_array());
    f32x8::new([l[0], l[1], l[2], l[3], h[0], h[1], h[2], h[3]])
}

/// 8×8 transpose. `wide` accelerates `f32x8::transpose` only with AVX; elsewhere four 4×4
/// transposes of `f32x4` (SSE, NEON) do it. Moving data is exact: the choice changes no bit.
#[inline(always)]
pub(super) fn transpose8(rows: [f32x8; 8]) -> [f32x8; 8] {
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
pub(super) fn row4(r: &[f32]) -> f32x4 {
    let mut a = [0.0f32; 4];
    for (dst, src) in a.iter_mut().zip(r) {
        *dst = *src;
    }
    f32x4::new(a)
}

/// Feature vectors (lane `m` = sample `m`, vector `j` = feature `j < D`) of the eight samples
/// in `xg` (`8·D` floats): one load per sample, then a transpose (two 4×4 for `D ≤ 4`).
#[inline(always)]
pub(super) fn tiny_columns<const D: usize>(xg: &[f32]) -> [f32x8; 8] {
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
pub(super) fn tiny_block<const D: usize, const W: Want>(
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
pub(super) fn tiny_pass<const D: usize, const W: Want>(
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

/// `grad_w[j] += tree8(Σ_lane g_t·x_tj)` for one block of a tiny model (samples in lanes, in
/// the order of [`tiny_block`]'s gradient).
#[inline(always)]
pub(super) fn tiny_grad_block<const D: usize>(xb: &[f32], g: &[f32], grad_w: &mut [f32]) {
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

#[derive(Clone, Copy)]
pub(super) struct Tiny<const D: usize>;

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
