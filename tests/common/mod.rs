//! Shared helpers of the integration tests:
//!
//! * [`SplitMix64`], a tiny seeded generator whose bits never depend on a crate version or a
//!   platform, and [`Case`], a generated mini-batch;
//! * [`oracle`], the exact-ish `f64` reference (plain loops; products of two `f32` are exact in
//!   `f64`);
//! * [`check_fused_bound`] / [`check_loss_bound`] / [`check_forward_bound`]: the error bounds of
//!   the "Accuracy against exact arithmetic" section of `src/kernel/mod.rs`, verbatim;
//! * [`emu`], a scalar re-implementation of the SIMD path's summation-order contract, written
//!   from the documentation of `src/kernel/mod.rs` (no `wide`, no code shared with `simd.rs`);
//! * [`solve_spd`], the Gaussian elimination of the `f64` Newton oracles.
//!
//! Each integration test binary uses a different subset of these helpers.
#![allow(dead_code)]

// ---------------------------------------------------------------------------------------------
// Deterministic data
// ---------------------------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood 2014): 64 bits of state, the same stream on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)` on the grid `k·2⁻²³` (exactly representable, never subnormal).
    pub fn unit(&mut self) -> f32 {
        let k = (self.next_u64() >> 40) as i32 - (1 << 23);
        k as f32 * (1.0 / 8_388_608.0)
    }

    /// Uniform in `[-a, a)`.
    pub fn sym(&mut self, a: f32) -> f32 {
        a * self.unit()
    }

    /// Uniform integer in `0..m` (`m ≥ 1`; the tiny modulo bias is irrelevant here).
    pub fn below(&mut self, m: u64) -> u64 {
        self.next_u64() % m
    }
}

/// One mini-batch: `n` samples of `d` features, row-major.
#[derive(Debug, Clone)]
pub struct Case {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub w: Vec<f32>,
    pub b: f32,
}

impl Case {
    pub fn d(&self) -> usize {
        self.w.len()
    }

    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// Random case: `x ∈ [-4, 4)`, `w ∈ [-2, 2)`, `b ∈ [-1, 1)`. `y` is either unrelated
    /// (`y ∈ [-8, 8)`, large residuals) or, when `near` is set, the exact prediction rounded to
    /// `f32` plus a little noise (small residuals: heavy cancellation in `r = ŷ − y`).
    pub fn random(d: usize, n: usize, seed: u64, near: bool) -> Self {
        let mut g = SplitMix64::new(seed);
        let w: Vec<f32> = (0..d).map(|_| g.sym(2.0)).collect();
        let b = g.unit();
        let x: Vec<f32> = (0..n * d).map(|_| g.sym(4.0)).collect();
        let y = (0..n)
            .map(|i| {
                if near {
                    let row = &x[i * d..(i + 1) * d];
                    let p: f64 = row
                        .iter()
                        .zip(&w)
                        .map(|(a, c)| f64::from(*a) * f64::from(*c))
                        .sum();
                    (p + f64::from(b)) as f32 + g.sym(0.01)
                } else {
                    g.sym(8.0)
                }
            })
            .collect();
        Self { x, y, w, b }
    }

    /// The same case with `x` and `w` multiplied by `2^k`, `b` and `y` by `2^(2k)`: every
    /// product, prediction and residual scales by `2^(2k)` exactly (away from over/underflow).
    pub fn scaled(mut self, k: i32) -> Self {
        let half = 2f32.powi(k);
        let full = half * half;
        self.x.iter_mut().for_each(|v| *v *= half);
        self.w.iter_mut().for_each(|v| *v *= half);
        self.b *= full;
        self.y.iter_mut().for_each(|v| *v *= full);
        self
    }
}

/// Makes `c` a Poisson case: the weights divided by `d` (so that `z = w·x + b` stays within
/// about ±9 and `e^z` far from overflow) and targets that are counts: `0`, small integers and
/// some non-integers, all `≥ 0`.
pub fn poisson_case(c: &mut Case, seed: u64) {
    let d = c.d() as f32;
    c.w.iter_mut().for_each(|v| *v /= d);
    let mut g = SplitMix64::new(seed ^ 0x9015_5011);
    for y in &mut c.y {
        *y = match g.below(4) {
            0 => 0.0,
            1 => 3.0 * g.unit().abs(),
            _ => g.below(8) as f32,
        };
    }
}

/// `y` mapped into the domain of `loss`, for tests that iterate `Loss::ALL`: logistic targets
/// `|y|` clamped to `[0, 1]`, Poisson targets `|y|` (a count-like value `≥ 0`); the other
/// losses take any finite target unchanged.
pub fn target_for(loss: npoa::loss::Loss, y: f32) -> f32 {
    use npoa::loss::Loss;
    match loss {
        Loss::Logistic => y.abs().min(1.0),
        Loss::Poisson => y.abs(),
        _ => y,
    }
}

// ---------------------------------------------------------------------------------------------
// f64 oracle
// ---------------------------------------------------------------------------------------------

/// Exact-ish results in `f64`, plain loops.
#[derive(Debug, Clone)]
pub struct Oracle {
    /// `w·x_i + b`.
    pub pred: Vec<f64>,
    /// `r_i = pred_i − y_i`.
    pub r: Vec<f64>,
    /// `A_i = Σ_j |x_ij w_j| + |b| + |y_i|`.
    pub a: Vec<f64>,
    pub loss: f64,
    pub grad_b: f64,
    pub grad_w: Vec<f64>,
}

/// The `f64` oracle. Each product `x_ij·w_j` of two `f32` is exact in `f64`; the remaining
/// error is that of `f64` sums, relative `≲ (d + n)·2⁻⁵³`, far below the `f32` bounds.
pub fn oracle(x: &[f32], y: &[f32], w: &[f32], b: f32) -> Oracle {
    let d = w.len();
    let n = y.len();
    let b = f64::from(b);
    let mut pred = Vec::with_capacity(n);
    let mut r = Vec::with_capacity(n);
    let mut a = Vec::with_capacity(n);
    let mut loss = 0.0f64;
    let mut rsum = 0.0f64;
    let mut gw = vec![0.0f64; d];
    for i in 0..n {
        let row = &x[i * d..(i + 1) * d];
        let mut p = 0.0f64;
        let mut abs = 0.0f64;
        for j in 0..d {
            let t = f64::from(row[j]) * f64::from(w[j]);
            p += t;
            abs += t.abs();
        }
        p += b;
        let yi = f64::from(y[i]);
        let ri = p - yi;
        pred.push(p);
        r.push(ri);
        a.push(abs + b.abs() + yi.abs());
        loss += ri * ri;
        rsum += ri;
        for j in 0..d {
            gw[j] += ri * f64::from(row[j]);
        }
    }
    let nf = n as f64;
    Oracle {
        pred,
        r,
        a,
        loss: loss / nf,
        grad_b: 2.0 * rsum / nf,
        grad_w: gw.iter().map(|g| 2.0 * g / nf).collect(),
    }
}

/// Predictions only, in `f64`: `(w·x_i + b, Σ_j |x_ij w_j| + |b|)`.
pub fn oracle_forward(x: &[f32], w: &[f32], b: f32) -> Vec<(f64, f64)> {
    let d = w.len();
    x.chunks_exact(d)
        .map(|row| {
            let mut p = 0.0f64;
            let mut abs = 0.0f64;
            for (xj, wj) in row.iter().zip(w) {
                let t = f64::from(*xj) * f64::from(*wj);
                p += t;
                abs += t.abs();
            }
            (p + f64::from(b), abs + f64::from(b).abs())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The documented error bounds
// ---------------------------------------------------------------------------------------------

/// Unit roundoff of `f32`, `u = 2⁻²⁴`.
pub const U: f64 = 1.0 / 16_777_216.0;

/// `γ_k = k·u / (1 − k·u)` (infinite once `k·u ≥ 1`).
pub fn gamma(k: usize) -> f64 {
    let ku = k as f64 * U;
    if ku >= 1.0 {
        f64::INFINITY
    } else {
        ku / (1.0 - ku)
    }
}

/// Slack for the oracle's own `f64` error: `1e-30 + 1e-12·scale`, where `scale` bounds the
/// magnitude of the quantity's terms (the oracle's relative error is `≲ (n + d)·1.1e-16`,
/// below `1e-12` for every `n + d ≤ 9000` used with these checks).
pub fn slack(scale: f64) -> f64 {
    1e-30 + 1e-12 * scale
}

fn within(what: &str, got: f32, exact: f64, bound: f64) -> Result<(), String> {
    let err = (f64::from(got) - exact).abs();
    if got.is_finite() && err <= bound {
        Ok(())
    } else {
        Err(format!(
            "{what}: got {got:e} ({:#010x}), exact {exact:e}, error {err:e} > bound {bound:e}",
            got.to_bits()
        ))
    }
}

/// `|L − exact| ≤ (1/n)·(Σ e_i(2|r_i| + e_i) + γ_{n+2}·Σ (|r_i| + e_i)²) + u·|exact|`,
/// with `e_i = γ_{d+2}·A_i`.
pub fn loss_bound(o: &Oracle, d: usize) -> f64 {
    let n = o.r.len();
    let nf = n as f64;
    let gd = gamma(d + 2);
    let gn = gamma(n + 2);
    let (mut s1, mut s2, mut scale) = (0.0f64, 0.0f64, 0.0f64);
    for (r, a) in o.r.iter().zip(&o.a) {
        let e = gd * a;
        s1 += e * (2.0 * r.abs() + e);
        s2 += (r.abs() + e) * (r.abs() + e);
        scale += a * a;
    }
    (s1 + gn * s2) / nf + U * o.loss.abs() + slack(scale / nf)
}

/// `|∂L/∂b − exact| ≤ (2/n)·(Σ e_i + γ_{n+1}·Σ (|r_i| + e_i)) + u·|exact|`.
pub fn grad_b_bound(o: &Oracle, d: usize) -> f64 {
    let n = o.r.len();
    let nf = n as f64;
    let gd = gamma(d + 2);
    let gn = gamma(n + 1);
    let (mut s1, mut s2, mut scale) = (0.0f64, 0.0f64, 0.0f64);
    for (r, a) in o.r.iter().zip(&o.a) {
        let e = gd * a;
        s1 += e;
        s2 += r.abs() + e;
        scale += a;
    }
    2.0 / nf * (s1 + gn * s2) + U * o.grad_b.abs() + slack(2.0 * scale / nf)
}

/// `|∂L/∂w_j − exact| ≤ (2/n)·(Σ e_i|x_ij| + γ_{n+1}·Σ (|r_i| + e_i)|x_ij|) + 2u·|exact|`.
pub fn grad_w_bound(o: &Oracle, x: &[f32], d: usize, j: usize) -> f64 {
    let n = o.r.len();
    let nf = n as f64;
    let gd = gamma(d + 2);
    let gn = gamma(n + 1);
    let (mut s1, mut s2, mut scale) = (0.0f64, 0.0f64, 0.0f64);
    for (i, (r, a)) in o.r.iter().zip(&o.a).enumerate() {
        let e = gd * a;
        let xa = f64::from(x[i * d + j]).abs();
        s1 += e * xa;
        s2 += (r.abs() + e) * xa;
        scale += a * xa;
    }
    2.0 / nf * (s1 + gn * s2) + 2.0 * U * o.grad_w[j].abs() + slack(2.0 * scale / nf)
}

/// Checks a fused result (`loss`, `grad_b`, `grad_w`) against the oracle and the documented
/// bounds.
pub fn check_fused_bound(
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    loss: f32,
    grad_b: f32,
    grad_w: &[f32],
) -> Result<(), String> {
    let d = w.len();
    let o = oracle(x, y, w, b);
    within("loss", loss, o.loss, loss_bound(&o, d))?;
    within("grad_b", grad_b, o.grad_b, grad_b_bound(&o, d))?;
    if grad_w.len() != d {
        return Err(format!("grad_w has length {}, expected {d}", grad_w.len()));
    }
    for (j, g) in grad_w.iter().enumerate() {
        within(
            &format!("grad_w[{j}]"),
            *g,
            o.grad_w[j],
            grad_w_bound(&o, x, d, j),
        )?;
    }
    Ok(())
}

/// Checks a loss against the oracle and the documented bound.
pub fn check_loss_bound(x: &[f32], y: &[f32], w: &[f32], b: f32, loss: f32) -> Result<(), String> {
    let o = oracle(x, y, w, b);
    within("loss", loss, o.loss, loss_bound(&o, w.len()))
}

/// `|ŷ_i − exact| ≤ γ_{d+1}·(Σ_j |x_ij w_j| + |b|)` for every prediction.
pub fn check_forward_bound(x: &[f32], w: &[f32], b: f32, pred: &[f32]) -> Result<(), String> {
    let d = w.len();
    let o = oracle_forward(x, w, b);
    if o.len() != pred.len() {
        return Err(format!("{} predictions, expected {}", pred.len(), o.len()));
    }
    for (i, (&(exact, abs), &p)) in o.iter().zip(pred).enumerate() {
        within(
            &format!("pred[{i}]"),
            p,
            exact,
            gamma(d + 1) * abs + slack(abs),
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Bits
// ---------------------------------------------------------------------------------------------

/// `Err` naming `what` unless `a` and `b` have the same bits.
pub fn same_bits(what: &str, a: f32, b: f32) -> Result<(), String> {
    if a.to_bits() == b.to_bits() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {a:e} ({:#010x}) != {b:e} ({:#010x})",
            a.to_bits(),
            b.to_bits()
        ))
    }
}

/// As [`same_bits`] for slices of equal length.
pub fn same_bits_slice(what: &str, a: &[f32], b: &[f32]) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("{what}: lengths {} != {}", a.len(), b.len()));
    }
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        same_bits(&format!("{what}[{i}]"), *p, *q)?;
    }
    Ok(())
}

/// FNV-1a (64-bit) over the little-endian bytes of the bits of every element.
pub fn fnv1a(v: &[f32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for e in v {
        for byte in e.to_bits().to_le_bytes() {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

// ---------------------------------------------------------------------------------------------
// Canonical-order emulator of the SIMD path
// ---------------------------------------------------------------------------------------------

/// A scalar re-implementation of "The SIMD path's summation order (the bit-exactness contract)"
/// in `src/kernel/mod.rs`, written from that text alone (the last `d mod 8` features of a row go to
/// the *last* lanes; the gradient for `d ≥ 8` sums quads of rows as a tree). Every `+` and `*` below is one
/// IEEE-754 single-precision operation rounded to nearest; Rust never contracts them into an FMA.
// `x = x + y` is spelled as in the documentation on purpose.
#[allow(clippy::assign_op_pattern, clippy::needless_range_loop)]
pub mod emu {
    /// `tree8(a) = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))`.
    pub fn tree8(a: [f32; 8]) -> f32 {
        ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
    }

    /// Step 2: 256 for `d < 8`; else `⌊8192/d⌋` rounded down to a multiple of 8, clamped to
    /// `32..=256`.
    pub fn block_len(d: usize) -> usize {
        if d < 8 {
            256
        } else {
            ((8192 / d) / 8 * 8).clamp(32, 256)
        }
    }

    /// Step 1: the prediction `ŷ_i` of one sample.
    pub fn predict(row: &[f32], w: &[f32], b: f32) -> f32 {
        let d = w.len();
        if d < 8 {
            // Tiny models: sequential from +0.
            let mut s = 0.0f32;
            for j in 0..d {
                s = s + row[j] * w[j];
            }
            s + b
        } else {
            // Features in lanes: full chunks of 8 into lanes 0..8 ...
            let mut a = [0.0f32; 8];
            for c in 0..d / 8 {
                for (k, lane) in a.iter_mut().enumerate() {
                    let j = 8 * c + k;
                    *lane = *lane + row[j] * w[j];
                }
            }
            // ... then the last t = d mod 8 features into the *last* t lanes.
            let t = d % 8;
            for k in 0..t {
                let j = d - t + k;
                a[8 - t + k] = a[8 - t + k] + row[j] * w[j];
            }
            tree8(a) + b
        }
    }

    /// Predictions of `forward` (`n = x.len() / d`).
    pub fn forward(x: &[f32], w: &[f32], b: f32) -> Vec<f32> {
        x.chunks_exact(w.len())
            .map(|row| predict(row, w, b))
            .collect()
    }

    /// The loss and gradient of the contract (no error handling: may be non-finite).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Out {
        pub loss: f32,
        pub grad_b: f32,
        pub grad_w: Vec<f32>,
    }

    /// Steps 1–5.
    pub fn fused(x: &[f32], y: &[f32], w: &[f32], b: f32) -> Out {
        let d = w.len();
        let n = y.len();
        let blen = block_len(d);
        let mut loss_acc = 0.0f64;
        let mut rsum_acc = 0.0f64;
        let mut grad_w = vec![0.0f32; d];
        let mut start = 0;
        while start < n {
            let end = (start + blen).min(n);
            // Step 3: lane sums within the block, lane = t mod 8, increasing t.
            let mut l = [0.0f32; 8];
            let mut s = [0.0f32; 8];
            let mut gl = vec![[0.0f32; 8]; if d < 8 { d } else { 0 }];
            let mut gs = vec![0.0f32; if d < 8 { 0 } else { d }];
            let mut rows_r: Vec<f32> = Vec::new();
            for t in 0..end - start {
                let i = start + t;
                let row = &x[i * d..(i + 1) * d];
                let r = predict(row, w, b) - y[i];
                let lane = t % 8;
                l[lane] = l[lane] + r * r;
                s[lane] = s[lane] + r;
                if d < 8 {
                    for j in 0..d {
                        gl[j][lane] = gl[j][lane] + r * row[j];
                    }
                } else {
                    rows_r.push(r);
                }
            }
            if d >= 8 {
                // Step 3, d ≥ 8: quads of rows, each summed as a tree, then the rest one by one.
                let xr = |t: usize, j: usize| x[(start + t) * d + j];
                let quads = rows_r.len() / 4;
                for q in 0..quads {
                    let t = 4 * q;
                    let rr = &rows_r[t..t + 4];
                    for j in 0..d {
                        gs[j] = gs[j]
                            + ((rr[0] * xr(t, j) + rr[1] * xr(t + 1, j))
                                + (rr[2] * xr(t + 2, j) + rr[3] * xr(t + 3, j)));
                    }
                }
                for t in 4 * quads..rows_r.len() {
                    for j in 0..d {
                        gs[j] = gs[j] + rows_r[t] * xr(t, j);
                    }
                }
            }
            // Step 4: across blocks.
            loss_acc += f64::from(tree8(l));
            rsum_acc += f64::from(tree8(s));
            for j in 0..d {
                let g = if d < 8 { tree8(gl[j]) } else { gs[j] };
                grad_w[j] = grad_w[j] + g;
            }
            start = end;
        }
        // Step 5: scaling.
        let nf = n as f64;
        let sc = (2.0 / nf) as f32;
        for g in &mut grad_w {
            *g = *g * sc;
        }
        Out {
            loss: (loss_acc / nf) as f32,
            grad_b: (2.0 * rsum_acc / nf) as f32,
            grad_w,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Least squares in f64
// ---------------------------------------------------------------------------------------------

/// Ordinary least squares with an intercept, in `f64`, from the normal equations: the columns
/// are centred and scaled by their two-pass `f64` mean and standard deviation first (so that
/// features of scales 1e-2 … 1e3 with large offsets stay well conditioned), the normal equations
/// `ZᵀZ·v = Zᵀ(y − ȳ)` are solved by Gaussian elimination with partial pivoting, and the
/// solution is mapped back to raw units. Returns `(w, b)`.
#[allow(clippy::needless_range_loop)] // index-heavy linear algebra reads better with indices
pub fn ols_f64(x: &[f32], y: &[f32], d: usize) -> (Vec<f64>, f64) {
    let n = y.len() as f64;
    let col = |j: usize| x.chunks_exact(d).map(move |r| f64::from(r[j]));
    let mean: Vec<f64> = (0..d).map(|j| col(j).sum::<f64>() / n).collect();
    let sd: Vec<f64> = (0..d)
        .map(|j| {
            let v = col(j).map(|v| (v - mean[j]).powi(2)).sum::<f64>() / n;
            if v > 0.0 { v.sqrt() } else { 1.0 }
        })
        .collect();
    let ym = y.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let mut a = vec![vec![0.0f64; d]; d];
    let mut r = vec![0.0f64; d];
    for (row, &yi) in x.chunks_exact(d).zip(y) {
        let z: Vec<f64> = (0..d)
            .map(|j| (f64::from(row[j]) - mean[j]) / sd[j])
            .collect();
        for p in 0..d {
            r[p] += z[p] * (f64::from(yi) - ym);
            for q in 0..d {
                a[p][q] += z[p] * z[q];
            }
        }
    }
    for c in 0..d {
        let piv = (c..d)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, piv);
        r.swap(c, piv);
        for i in c + 1..d {
            let f = a[i][c] / a[c][c];
            for k in c..d {
                a[i][k] -= f * a[c][k];
            }
            r[i] -= f * r[c];
        }
    }
    let mut v = vec![0.0f64; d];
    for c in (0..d).rev() {
        let s: f64 = (c + 1..d).map(|k| a[c][k] * v[k]).sum();
        v[c] = (r[c] - s) / a[c][c];
    }
    let w: Vec<f64> = (0..d).map(|j| v[j] / sd[j]).collect();
    let b = ym - (0..d).map(|j| w[j] * mean[j]).sum::<f64>();
    (w, b)
}

/// `A⁻¹b` for a small symmetric positive definite `A` by Gaussian elimination (no pivoting
/// needed), as the textbook's index loops (rows `i` and `k` of `a` at once).
#[allow(clippy::needless_range_loop)]
pub fn solve_spd<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> [f64; N] {
    for k in 0..N {
        for i in k + 1..N {
            let f = a[i][k] / a[k][k];
            for j in k..N {
                a[i][j] -= f * a[k][j];
            }
            b[i] -= f * b[k];
        }
    }
    let mut s = [0.0f64; N];
    for i in (0..N).rev() {
        let t: f64 = (i + 1..N).map(|j| a[i][j] * s[j]).sum();
        s[i] = (b[i] - t) / a[i][i];
    }
    s
}

/// The mean squared error of `(w, b)` on raw rows, in `f64`.
pub fn mse_f64(x: &[f32], y: &[f32], d: usize, w: &[f64], b: f64) -> f64 {
    let s: f64 = x
        .chunks_exact(d)
        .zip(y)
        .map(|(row, &yi)| {
            let p = b + row
                .iter()
                .zip(w)
                .map(|(v, wj)| f64::from(*v) * wj)
                .sum::<f64>();
            (p - f64::from(yi)).powi(2)
        })
        .sum();
    s / y.len() as f64
}
