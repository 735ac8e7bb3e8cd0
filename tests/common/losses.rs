//! The `f64` oracles and error bounds of the loss kernels other than the squared error
//! ("Other losses" in `src/kernel/mod.rs`) and a scalar emulation of the SIMD path's documented
//! order for them. Shared by `tests/loss_kernels.rs` and the `kernels` fuzz target (each
//! includes this file with `#[path]` next to `tests/common/mod.rs` as `crate::common`); not a
//! module of `common`, so that the other test binaries do not compile it.
#![allow(dead_code, clippy::needless_range_loop)]

use crate::common::{Case, U, gamma, slack};
use npoa::kernel::Kernels;
use npoa::loss::Loss;

// ---------------------------------------------------------------------------------------------
// f64 oracle and bounds
// ---------------------------------------------------------------------------------------------

pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `(ℓ, ℓ')` in `f64`.
pub fn exact(loss: Loss, z: f64, y: f64) -> (f64, f64) {
    let r = z - y;
    match loss {
        Loss::Huber { delta } => {
            let d = f64::from(delta);
            if r.abs() <= d {
                (0.5 * r * r, r)
            } else {
                (d * (r.abs() - 0.5 * d), d * r.signum())
            }
        }
        Loss::Absolute => (r.abs(), if r == 0.0 { 0.0 } else { r.signum() }),
        Loss::Logistic => (
            z.max(0.0) - z * y + (-z.abs()).exp().ln_1p(),
            sigmoid(z) - y,
        ),
        Loss::Quantile { tau } => {
            // Written from the definition with u = y − z.
            let (t, u) = (f64::from(tau), y - z);
            let l = if u >= 0.0 { t * u } else { (t - 1.0) * u };
            let g = if z < y {
                -t
            } else if z > y {
                1.0 - t
            } else {
                0.0
            };
            (l, g)
        }
        Loss::Poisson => (z.exp() - y * z, z.exp() - y),
        Loss::Squared => (r * r, 2.0 * r),
    }
}

pub struct Glm {
    pub loss: f64,
    pub grad_b: f64,
    pub grad_w: Vec<f64>,
    /// Per sample: exact ℓ, ℓ', bound on the error of the computed ℓ and of ℓ'.
    pub l: Vec<f64>,
    pub g: Vec<f64>,
    pub el: Vec<f64>,
    pub eg: Vec<f64>,
}

/// The oracle and the per-sample error bounds of the documented model:
/// the prediction's error is `e_i = γ_{d+2}·A_i` (`A_i = Σ|x_ij w_j| + |b|`); the loss moves by at
/// most `Lip(ℓ)·(e_i + u|r_i|)` and the derivative by `Lip(ℓ')·(e_i + u|r_i|)` (the absolute
/// loss's sign can flip when `|r_i|` is within that of 0: error 2); the evaluation itself adds
/// a few roundings (`exp`/`log1p` ≤ 1 ulp each, see `kernel::vmath`).
pub fn glm_oracle(loss: Loss, c: &Case) -> Glm {
    let (d, n) = (c.d(), c.n());
    let gd = gamma(d + 2);
    let mut o = Glm {
        loss: 0.0,
        grad_b: 0.0,
        grad_w: vec![0.0; d],
        l: vec![],
        g: vec![],
        el: vec![],
        eg: vec![],
    };
    for i in 0..n {
        let row = &c.x[i * d..(i + 1) * d];
        let (mut z, mut a) = (f64::from(c.b), f64::from(c.b).abs());
        for (xj, wj) in row.iter().zip(&c.w) {
            let t = f64::from(*xj) * f64::from(*wj);
            z += t;
            a += t.abs();
        }
        let y = f64::from(c.y[i]);
        let (l, g) = exact(loss, z, y);
        let r = z - y;
        let ez = gd * a + U * r.abs();
        let (el, eg) = match loss {
            Loss::Huber { delta } => {
                let dl = f64::from(delta);
                (dl * ez + 4.0 * U * l, ez + U * g.abs())
            }
            Loss::Absolute => (ez + U * l, if r.abs() <= 2.0 * ez { 2.0 } else { 0.0 }),
            Loss::Logistic => {
                let sp = (-z.abs()).exp().ln_1p();
                let eval = U * ((z * y).abs() + (z.max(0.0) - z * y).abs() + l) + 8.0 * U * sp;
                (
                    ez + eval + 1e-44,
                    0.25 * ez + 8.0 * U * sigmoid(z) + U * g.abs() + 1e-44,
                )
            }
            Loss::Quantile { tau } => {
                // Lip(ℓ) = max(τ, 1 − τ); the rounding of 1 − τ and of the product: 2u·ℓ; the
                // subgradient jumps by 1 across the kink.
                let t = f64::from(tau);
                (
                    t.max(1.0 - t) * ez + 4.0 * U * l,
                    if r.abs() <= 2.0 * ez {
                        1.0
                    } else {
                        U * g.abs()
                    },
                )
            }
            Loss::Poisson => {
                // The prediction's error δ ≤ ez moves e = e^z by e·(e^δ − 1); exp adds ≤ 1 ulp
                // (≤ 2u·e), a subnormal e up to 2⁻¹⁴⁹; then y·z and the subtraction round once
                // each.
                let e = z.exp();
                let ee = e * (ez * (1.0 + 2.0 * ez) + 2.0 * U) + 1e-44;
                (
                    ee + y.abs() * ez + 2.0 * U * ((y * z).abs() + e + l.abs()),
                    ee + 2.0 * U * g.abs(),
                )
            }
            Loss::Squared => unreachable!(),
        };
        o.loss += l;
        o.grad_b += g;
        for (gw, xj) in o.grad_w.iter_mut().zip(row) {
            *gw += g * f64::from(*xj);
        }
        o.l.push(l);
        o.g.push(g);
        o.el.push(2.0 * el);
        o.eg.push(2.0 * eg);
    }
    let nf = n as f64;
    o.loss /= nf;
    o.grad_b /= nf;
    for g in &mut o.grad_w {
        *g /= nf;
    }
    o
}

pub fn within(what: &str, got: f32, exact: f64, bound: f64) -> Result<(), String> {
    let err = (f64::from(got) - exact).abs();
    if got.is_finite() && err <= bound {
        Ok(())
    } else {
        Err(format!(
            "{what}: got {got:e}, exact {exact:e}, error {err:e} > bound {bound:e}"
        ))
    }
}

/// The stated bound: `|L − L*| ≤ (1/n)(Σ el_i + γ_{n+2} Σ(|ℓ_i| + el_i)) + u|L*|`, the same
/// shape for `∂L/∂b` with `g`, and for `∂L/∂w_j` with `|x_ij|` weights and `2u|exact|`.
pub fn check_glm(loss: Loss, c: &Case, k: &Kernels) -> Result<(), String> {
    let o = glm_oracle(loss, c);
    let (d, n) = (c.d(), c.n());
    let nf = n as f64;
    let gn = gamma(n + 2);
    let mut gw = vec![0.0f32; d];
    let lg = loss
        .fused(k, &c.x, &c.y, &c.w, c.b, &mut gw)
        .map_err(|e| format!("{e}"))?;
    let sum = |v: &[f64], e: &[f64]| -> (f64, f64) {
        let s1: f64 = e.iter().sum();
        let s2: f64 = v.iter().zip(e).map(|(a, b)| a.abs() + b).sum();
        (s1, s2)
    };
    let (s1, s2) = sum(&o.l, &o.el);
    let lb = (s1 + gn * s2) / nf + U * o.loss.abs() + slack(s2 / nf);
    within("loss", lg.loss, o.loss, lb)?;
    let (s1, s2) = sum(&o.g, &o.eg);
    let bb = (s1 + gn * s2) / nf + U * o.grad_b.abs() + slack(s2 / nf);
    within("grad_b", lg.grad_b, o.grad_b, bb)?;
    for j in 0..d {
        let (mut s1, mut s2) = (0.0, 0.0);
        for i in 0..n {
            let xa = f64::from(c.x[i * d + j]).abs();
            s1 += o.eg[i] * xa;
            s2 += (o.g[i].abs() + o.eg[i]) * xa;
        }
        let bw = (s1 + gn * s2) / nf + 2.0 * U * o.grad_w[j].abs() + slack(s2 / nf);
        within(&format!("grad_w[{j}]"), gw[j], o.grad_w[j], bw)?;
    }
    // The loss-only kernel gives the fused kernel's loss, bit for bit.
    let l = loss
        .mean(k, &c.x, &c.y, &c.w, c.b)
        .map_err(|e| format!("{e}"))?;
    if l.to_bits() != lg.loss.to_bits() {
        return Err(format!("loss_with {l:e} != fused loss {:e}", lg.loss));
    }
    Ok(())
}

pub struct SoftCase {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub d: usize,
}

/// Softmax oracle and bound: logit errors `e_ic = γ_{d+2}·A_ic`, `E_i = max_c e_ic`; the loss
/// moves by ≤ `2E_i` plus `γ_{K+8}·(1 + |m_i| + |ℓ_i| + ln K)` of evaluation; `p_ic` by
/// `p_ic·(2E_i + γ_{K+4} + u|z_ic − m_i|)`; then the sums as for the other losses.
pub fn check_softmax(c: &SoftCase, kern: &Kernels) -> Result<(), String> {
    let (d, k, n) = (c.d, c.b.len(), c.y.len());
    let gd = gamma(d + 2);
    let mut loss = 0.0f64;
    let mut gb = vec![0.0f64; k];
    let mut gw = vec![0.0f64; k * d];
    let (mut ls1, mut ls2) = (0.0f64, 0.0f64);
    let mut eg = vec![vec![0.0f64; k]; n];
    let mut ga = vec![vec![0.0f64; k]; n];
    for i in 0..n {
        let row = &c.x[i * d..(i + 1) * d];
        let mut z = vec![0.0f64; k];
        let mut e_max = 0.0f64;
        for cl in 0..k {
            let (mut s, mut a) = (f64::from(c.b[cl]), f64::from(c.b[cl]).abs());
            for j in 0..d {
                let t = f64::from(row[j]) * f64::from(c.w[cl * d + j]);
                s += t;
                a += t.abs();
            }
            z[cl] = s;
            e_max = e_max.max(gd * a);
        }
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
        let lse = m + sum.ln();
        let label = c.y[i] as usize;
        let l = lse - z[label];
        loss += l;
        let el = 2.0 * (2.0 * e_max + gamma(k + 8) * (1.0 + m.abs() + l + (k as f64).ln()));
        ls1 += el;
        ls2 += l.abs() + el;
        for cl in 0..k {
            let p = (z[cl] - m).exp() / sum;
            let g = p - if cl == label { 1.0 } else { 0.0 };
            gb[cl] += g;
            for j in 0..d {
                gw[cl * d + j] += g * f64::from(row[j]);
            }
            ga[i][cl] = g.abs();
            eg[i][cl] = 2.0
                * (p * (2.0 * e_max + gamma(k + 4) + U * (z[cl] - m).abs()) + U * g.abs() + 1e-44);
        }
    }
    let nf = n as f64;
    let gn = gamma(n + 2);
    let (mut ow, mut ob) = (vec![0.0f32; k * d], vec![0.0f32; k]);
    let got = (kern.softmax_fused)(&c.x, &c.y, &c.w, &c.b, &mut ow, &mut ob)
        .map_err(|e| format!("{e}"))?;
    let exact_l = loss / nf;
    within(
        "loss",
        got,
        exact_l,
        (ls1 + gn * ls2) / nf + U * exact_l.abs() + slack(ls2 / nf),
    )?;
    for cl in 0..k {
        let (s1, s2): (f64, f64) = (0..n)
            .map(|i| (eg[i][cl], ga[i][cl] + eg[i][cl]))
            .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        let exact_b = gb[cl] / nf;
        let bb = (s1 + gn * s2) / nf + U * exact_b.abs() + slack(s2 / nf);
        within(&format!("grad_b[{cl}]"), ob[cl], exact_b, bb)?;
        for j in 0..d {
            let (mut s1, mut s2) = (0.0, 0.0);
            for i in 0..n {
                let xa = f64::from(c.x[i * d + j]).abs();
                s1 += eg[i][cl] * xa;
                s2 += (ga[i][cl] + eg[i][cl]) * xa;
            }
            let exact_w = gw[cl * d + j] / nf;
            let bw = (s1 + gn * s2) / nf + 2.0 * U * exact_w.abs() + slack(s2 / nf);
            within(&format!("grad_w[{cl}][{j}]"), ow[cl * d + j], exact_w, bw)?;
        }
    }
    let l = (kern.softmax_loss)(&c.x, &c.y, &c.w, &c.b).map_err(|e| format!("{e}"))?;
    if l.to_bits() != got.to_bits() {
        return Err(format!("softmax_loss {l:e} != fused {got:e}"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The documented order, emulated in plain scalar code
// ---------------------------------------------------------------------------------------------

/// A scalar re-implementation of "Other losses" in `src/kernel/mod.rs`, steps 1–4, from that
/// text: predictions by `common::emu::predict`, the lane formulas of step 2 one sample at a
/// time (with `kernel::vmath`'s `exp`/`ln`/`log1p` as the documented primitives, applied to one
/// lane), the lane/block sums of step 3 and the scaling of step 4. Matching the SIMD path bit for
/// bit shows that the documented order is the order, so the result depends on no target.
#[allow(clippy::assign_op_pattern)]
pub mod emu_losses {
    use crate::common::emu::{block_len, predict, tree8};
    use npoa::kernel::vmath;
    use npoa::loss::Loss;
    use wide::f32x8;

    fn lane(f: fn(f32x8) -> f32x8, v: f32) -> f32 {
        f(f32x8::splat(v)).to_array()[0]
    }

    /// Step 2 for one sample.
    pub fn link(loss: Loss, z: f32, y: f32) -> (f32, f32) {
        match loss {
            Loss::Huber { delta } => {
                let r = z - y;
                let a = r.abs();
                let l = if a <= delta {
                    (r * r) * 0.5
                } else {
                    delta * (a - 0.5 * delta)
                };
                let g = if r > delta {
                    delta
                } else if r < -delta {
                    -delta
                } else {
                    r
                };
                (l, g)
            }
            Loss::Absolute => {
                let r = z - y;
                let g = if r > 0.0 {
                    1.0
                } else if r < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                (r.abs(), g)
            }
            Loss::Logistic => {
                let e = lane(vmath::exp, -z.abs());
                let relu = if z > 0.0 { z } else { 0.0 };
                let l = (relu - z * y) + lane(vmath::log1p_unit, e);
                let q = 1.0 + e;
                let s = if z >= 0.0 { 1.0 / q } else { e / q };
                (l, s - y)
            }
            Loss::Quantile { tau } => {
                let r = z - y;
                let omega = 1.0 - tau;
                let l = if r > 0.0 { omega * r } else { tau * -r };
                let g = if r > 0.0 {
                    omega
                } else if r < 0.0 {
                    -tau
                } else {
                    0.0
                };
                (l, g)
            }
            Loss::Poisson => {
                let e = lane(vmath::exp, z);
                (e - y * z, e - y)
            }
            Loss::Squared => unreachable!(),
        }
    }

    /// Step 3's weight gradient of one block (`g` per row of the block starting at `start`),
    /// added into `grad_w` — the squared error's order with `g_t` for `r_t`.
    pub fn block_grad(x: &[f32], start: usize, g: &[f32], d: usize, grad_w: &mut [f32]) {
        let xr = |t: usize, j: usize| x[(start + t) * d + j];
        if d < 8 {
            for j in 0..d {
                let mut lanes = [0.0f32; 8];
                for (t, gt) in g.iter().enumerate() {
                    lanes[t % 8] = lanes[t % 8] + gt * xr(t, j);
                }
                grad_w[j] = grad_w[j] + tree8(lanes);
            }
        } else {
            let mut gs = vec![0.0f32; d];
            let quads = g.len() / 4;
            for q in 0..quads {
                let t = 4 * q;
                for j in 0..d {
                    gs[j] = gs[j]
                        + ((g[t] * xr(t, j) + g[t + 1] * xr(t + 1, j))
                            + (g[t + 2] * xr(t + 2, j) + g[t + 3] * xr(t + 3, j)));
                }
            }
            for t in 4 * quads..g.len() {
                for j in 0..d {
                    gs[j] = gs[j] + g[t] * xr(t, j);
                }
            }
            for j in 0..d {
                grad_w[j] = grad_w[j] + gs[j];
            }
        }
    }

    /// `(loss, grad_b, grad_w)` of `fused_with`.
    pub fn glm(loss: Loss, x: &[f32], y: &[f32], w: &[f32], b: f32) -> (f32, f32, Vec<f32>) {
        let (d, n) = (w.len(), y.len());
        let blen = block_len(d);
        let (mut lacc, mut gacc) = (0.0f64, 0.0f64);
        let mut grad_w = vec![0.0f32; d];
        let mut start = 0;
        while start < n {
            let end = (start + blen).min(n);
            let (mut ll, mut gl) = ([0.0f32; 8], [0.0f32; 8]);
            let mut g = Vec::new();
            for i in start..end {
                let z = predict(&x[i * d..(i + 1) * d], w, b);
                let (l, gi) = link(loss, z, y[i]);
                let t = i - start;
                ll[t % 8] = ll[t % 8] + l;
                gl[t % 8] = gl[t % 8] + gi;
                g.push(gi);
            }
            lacc += f64::from(tree8(ll));
            gacc += f64::from(tree8(gl));
            block_grad(x, start, &g, d, &mut grad_w);
            start = end;
        }
        let nf = n as f64;
        let s = (1.0 / nf) as f32;
        for g in &mut grad_w {
            *g = *g * s;
        }
        ((lacc / nf) as f32, (gacc / nf) as f32, grad_w)
    }

    /// `(loss, grad_b, grad_w)` of `softmax_fused`.
    pub fn softmax(
        x: &[f32],
        y: &[f32],
        w: &[f32],
        b: &[f32],
        d: usize,
    ) -> (f32, Vec<f32>, Vec<f32>) {
        let (k, n) = (b.len(), y.len());
        let blen = npoa::kernel::softmax_block_len(d, k);
        let mut lacc = 0.0f64;
        let mut gb = vec![0.0f64; k];
        let mut grad_w = vec![0.0f32; k * d];
        let mut start = 0;
        while start < n {
            let end = (start + blen).min(n);
            let mut ll = [0.0f32; 8];
            let mut g = vec![Vec::new(); k];
            for i in start..end {
                let row = &x[i * d..(i + 1) * d];
                let z: Vec<f32> = (0..k)
                    .map(|c| predict(row, &w[c * d..(c + 1) * d], b[c]))
                    .collect();
                let mut m = z[0];
                for &zc in &z[1..] {
                    m = if zc > m { zc } else { m };
                }
                let e: Vec<f32> = z.iter().map(|&zc| lane(vmath::exp, zc - m)).collect();
                let mut s = 0.0f32;
                for &ec in &e {
                    s = s + ec;
                }
                let label = y[i] as usize;
                let l = (m + lane(vmath::ln, s)) - z[label];
                let t = i - start;
                ll[t % 8] = ll[t % 8] + l;
                for c in 0..k {
                    let onehot = if c == label { 1.0 } else { 0.0 };
                    g[c].push(e[c] / s - onehot);
                }
            }
            lacc += f64::from(tree8(ll));
            for c in 0..k {
                let mut gl = [0.0f32; 8];
                for (t, gt) in g[c].iter().enumerate() {
                    gl[t % 8] = gl[t % 8] + gt;
                }
                gb[c] += f64::from(tree8(gl));
                block_grad(x, start, &g[c], d, &mut grad_w[c * d..(c + 1) * d]);
            }
            start = end;
        }
        let nf = n as f64;
        let s = (1.0 / nf) as f32;
        for g in &mut grad_w {
            *g = *g * s;
        }
        (
            (lacc / nf) as f32,
            gb.iter().map(|v| (v / nf) as f32).collect(),
            grad_w,
        )
    }
}

pub fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|e| e.to_bits()).collect()
}

pub fn check_emulated_glm(loss: Loss, c: &Case) -> Result<(), String> {
    let (l, gb, gw) = emu_losses::glm(loss, &c.x, &c.y, &c.w, c.b);
    let mut g = vec![0.0f32; c.d()];
    let lg = loss
        .fused(&npoa::kernel::SIMD, &c.x, &c.y, &c.w, c.b, &mut g)
        .map_err(|e| e.to_string())?;
    if bits(&[lg.loss, lg.grad_b]) != bits(&[l, gb]) || bits(&g) != bits(&gw) {
        return Err(format!(
            "simd ({}, {}) vs emulated ({l}, {gb})",
            lg.loss, lg.grad_b
        ));
    }
    Ok(())
}

pub fn check_emulated_softmax(c: &SoftCase) -> Result<(), String> {
    let (l, gb, gw) = emu_losses::softmax(&c.x, &c.y, &c.w, &c.b, c.d);
    let k = c.b.len();
    let (mut ow, mut ob) = (vec![0.0f32; k * c.d], vec![0.0f32; k]);
    let got = npoa::kernel::softmax_fused(&c.x, &c.y, &c.w, &c.b, &mut ow, &mut ob)
        .map_err(|e| e.to_string())?;
    if got.to_bits() != l.to_bits() || bits(&ob) != bits(&gb) || bits(&ow) != bits(&gw) {
        return Err(format!("simd {got} vs emulated {l}"));
    }
    Ok(())
}
