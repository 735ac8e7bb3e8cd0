//! Softmax cross-entropy over `K` outputs: `K` logit rows per block, the cross-entropy per
//! sample on lanes, then `K` gradient accumulations.

use super::*;
use crate::kernel::entry::entry_softmax;
use crate::kernel::{MAX_CLASSES, SOFTMAX_BUF, softmax_block_len, vmath};

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
                mx = vmath::gt(z, mx).select(z, mx);
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

/// [`softmax_fused`] for the compile-time size `D` (`0`: run time); the same bits.
pub(crate) fn softmax_fused_n<const D: usize>(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
    grad_w: &mut [f32],
    grad_b: &mut [f32],
) -> Result<f32, Error> {
    entry_softmax(x, y, w, b, Some((grad_w, grad_b)), |d, k, g| {
        sized!(D, d, with_shape!(softmax_pass(x, y, w, b, k, g)))
    })
}

/// [`softmax_loss`] for the compile-time size `D` (`0`: run time); the same bits.
pub(crate) fn softmax_loss_n<const D: usize>(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: &[f32],
) -> Result<f32, Error> {
    entry_softmax(x, y, w, b, None, |d, k, _| {
        sized!(D, d, with_shape!(softmax_pass(x, y, w, b, k, None)))
    })
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
    softmax_fused_n::<0>(x, y, w, b, grad_w, grad_b)
}

/// Softmax cross-entropy alone; the same bits as the loss of [`softmax_fused`].
///
/// # Errors
/// As [`softmax_fused`].
pub fn softmax_loss(x: &[f32], y: &[f32], w: &[f32], b: &[f32]) -> Result<f32, Error> {
    softmax_loss_n::<0>(x, y, w, b)
}
