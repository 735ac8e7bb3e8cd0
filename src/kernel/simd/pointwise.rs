//! Per-sample losses on one output, through the [`PointLoss`] seam: per block the
//! predictions, then the loss's [`Link`] on eight lanes, then `Σ g·x`.

use super::*;
use crate::kernel::entry::entry_pointwise;

/// A per-sample loss on eight lanes: `(ℓ, ∂ℓ/∂z)` for predictions `z` and targets `y`, each
/// lane by separate IEEE operations (no lane depends on another), in the order the loss's
/// documentation states. A loss implements it once; [`apply_link`] runs it over a block.
pub trait Link: Copy {
    /// `(ℓ(z, y), ∂ℓ/∂z)` lane by lane.
    fn eval(self, z: f32x8, y: f32x8) -> (f32x8, f32x8);
}

/// Replaces the block's predictions `zb` by `g_t = ∂ℓ/∂z` and returns the block's
/// `(tree8(Σ_lane ℓ_t), tree8(Σ_lane g_t))`. The lanes past the end of a partial last chunk are
/// set to `+0` before they are added. The usual body of [`PointLoss::block`].
#[inline(always)]
pub fn apply_link<L: Link>(link: L, zb: &mut [f32], yb: &[f32]) -> (f32, f32) {
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

/// A whole pass of a one-output loss: per block, predictions, then `(ℓ, g)` per sample, then
/// (if `grad_w` is given) `Σ g·x`. Returns `(Σ_blocks loss_b, Σ_blocks gsum_b)` in `f64`. The
/// pass is generic in the model's shape only; the loss is called per block through
/// `dyn PointLoss`, so the prediction and gradient code exist once per shape, not per loss.
#[inline(always)]
fn pointwise_pass<S: Shape>(
    shape: S,
    loss: &dyn PointLoss,
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
        let (l, g) = loss.block(zb, y.get(t0..t0 + nb).unwrap_or(&[]));
        lsum += f64::from(l);
        gsum += f64::from(g);
        if let Some(gw) = grad_w.as_deref_mut() {
            shape.grad(xb, zb, gw);
        }
    }
    (lsum, gsum)
}

/// [`pointwise_fused`] for the compile-time size `D` (`0`: run time); the same bits.
pub(crate) fn pointwise_fused_n<const D: usize>(
    loss: &dyn PointLoss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
) -> Result<LossGrad, Error> {
    entry_pointwise(loss, x, y, w, b, Some(grad_w), |g| {
        sized!(D, w.len(), with_shape!(pointwise_pass(loss, x, y, w, b, g)))
    })
}

/// [`pointwise_loss`] for the compile-time size `D` (`0`: run time); the same bits.
pub(crate) fn pointwise_loss_n<const D: usize>(
    loss: &dyn PointLoss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
) -> Result<f32, Error> {
    entry_pointwise(loss, x, y, w, b, None, |_| {
        sized!(
            D,
            w.len(),
            with_shape!(pointwise_pass(loss, x, y, w, b, None))
        )
    })
    .map(|o| o.loss)
}

/// Loss and gradient of a [`PointLoss`] in one pass over `x`: writes `∂L/∂w` into `grad_w`.
/// `L = (1/n) Σ ℓ(z_i, y_i)` with `z_i = w·x_i + b`, `∂L/∂b = (1/n) Σ ℓ'(z_i, y_i)` and
/// `∂L/∂w = (1/n) Σ ℓ'(z_i, y_i)·x_i`, in the order of the [module docs](super).
///
/// # Errors
/// As [`super::fused`], plus what [`PointLoss::check`] refuses (a parameter, a target).
pub fn pointwise_fused(
    loss: &dyn PointLoss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    grad_w: &mut [f32],
) -> Result<LossGrad, Error> {
    pointwise_fused_n::<0>(loss, x, y, w, b, grad_w)
}

/// The mean loss `(1/n) Σ ℓ(w·x_i + b, y_i)` of a [`PointLoss`]; the same bits as the loss of
/// [`pointwise_fused`].
///
/// # Errors
/// As [`pointwise_fused`].
pub fn pointwise_loss(
    loss: &dyn PointLoss,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
) -> Result<f32, Error> {
    pointwise_loss_n::<0>(loss, x, y, w, b)
}
