//! Recursive least squares with a forgetting factor: a rate-free linear learner in `f64`,
//! no heap, `D + 1` parameters (the weights and the bias).
//!
//! # The algorithm
//!
//! With the augmented input `φ = (x, 1)` and the parameters `θ = (w, b)`, one update on a
//! sample `(x, y)` is (Haykin, *Adaptive Filter Theory*, §10; River's `linear_model.RLS`):
//!
//! ```text
//! e  = y − θ·φ                  the prior error (before the update; what `update` returns)
//! π  = P·φ
//! k  = π / (λ + φ·π)            the gain
//! θ ← θ + k·e
//! P ← (P − k·πᵀ) / λ
//! ```
//!
//! `P` starts at `δ·I` (River's `P = np.identity(p + 1) * delta`, so a large `δ` is a weak
//! prior: River's defaults are `λ = 0.99`, `δ = 10⁶`, [`RlsConfig::default`]). With `λ = 1`,
//! after `n` samples `θ` minimises `Σ (y_t − θ·φ_t)² + ‖θ − θ₀‖²/δ` (the least-squares solution
//! up to the prior's pull); with `λ < 1` sample `t` of `n` is weighted by `λⁿ⁻ᵗ`, an
//! effective memory of `1/(1 − λ)` samples.
//!
//! # Numerics and bits
//!
//! Everything is `f64` (an `f32` sample is converted exactly), each operation a separate IEEE
//! operation (Rust never fuses a multiply and an add; no `mul_add`), every sum in a fixed
//! order (index `0, 1, …, D − 1`, the bias term last), so the bits are the same on every target,
//! with or without a double-precision FPU. Only one triangle of `P` is computed
//! (`P_ij ← (P_ij − k_i·π_j)·(1/λ)` for `i ≤ j`) and mirrored, so `P` stays exactly symmetric.
//!
//! # Guards
//!
//! * **Positive definiteness.** If the gain's denominator `λ + φ·π` is not finite and `> 0`,
//!   or the update would make a weight or the bias non-finite or beyond `f32`'s range (the model
//!   they are read into must stay finite), or an entry of `P` non-finite, or a diagonal
//!   entry of the new `P` `≤ 0`, the update is not applied: `P` is reset to `δ·I`
//!   ([`resets`](Rls::resets) counts it) and the sample is applied again from there, with the
//!   weights as they were. If even that step is not finite (an input so large that `δ·‖φ‖²`
//!   overflows `f64`), the weights stay as they were, `P` stays at `δ·I` and the update
//!   returns [`Error::Overflow`].
//! * **Wind-up.** With `λ < 1` and no excitation in some direction, `P` grows by `1/λ` per
//!   sample in that direction, without bound. After each update, if `trace(P)` exceeds
//!   `δ·(D + 1)` (its initial value), `P` is scaled by `δ·(D + 1)/trace(P)`, so the trace
//!   never exceeds it (the constant-trace bound of Goodwin & Sin; [`windups`](Rls::windups)
//!   counts it). With `λ = 1` the trace only falls, so the bound never acts.
//!
//! # Cost
//!
//! One update costs `2·D² + 8·D + 4` multiplications, `1.5·D·(D + 1) + 6·(D + 1) + 2` additions
//! and subtractions and 2 divisions in `f64` (`D = 8`: 196, 164 and 2; counted in the source
//! of `update`), and `O(D²)` comparisons. Measured at `D = 8` (River's defaults): 1,302
//! instructions per update on x86-64 (valgrind callgrind, `examples/rls_stream.rs`), 3,855 on a
//! Cortex-M7 with its double-precision FPU and 40,927 on a Cortex-M4F, whose FPU is single
//! precision, so every `f64` operation is a software routine (QEMU `-icount`, the firmware
//! example's `insns rls-update` line; the bits are the host's on both). For comparison, one
//! SGD step of batch 1 through `fit` is about 4,000 instructions on the M4F.
//! The state is `size_of::<Rls<D>>() = 8·(D² + 2·D + 6)` bytes (688 for `D = 8`); an update
//! works on a copy of it (on the stack) so that a refused update leaves it as it was.
//!
//! ```
//! use npoa::optim::{Rls, RlsConfig};
//!
//! // y = 2·x0 − x1 + 0.5, noise-free: λ = 1 reaches it after a few samples, no rate to tune.
//! let mut rls = Rls::<2>::new(RlsConfig { forgetting: 1.0, ..RlsConfig::default() })?;
//! for t in 0..20 {
//!     let x = [(t as f32 * 0.7).sin(), (t as f32 * 1.3).cos()];
//!     let y = 2.0 * x[0] - x[1] + 0.5;
//!     let prior_error = rls.update(&x, y)?; // the error before this sample's update
//!     assert!(t < 4 || prior_error.abs() < 1e-3);
//! }
//! assert!((rls.weights()[0] - 2.0).abs() < 1e-4 && (rls.bias() - 0.5).abs() < 1e-4);
//! assert!((rls.predict(&[1.0, 1.0]) - 1.5).abs() < 1e-4);
//! assert_eq!(rls.updates(), 20);
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::Error;
use crate::check::check_finite;

/// The hyper-parameters of [`Rls`]: the forgetting factor `λ ∈ (0, 1]` and the initial scale
/// `δ > 0` of `P = δ·I`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RlsConfig {
    /// `λ ∈ (0, 1]`: sample `t` of `n` weighs `λⁿ⁻ᵗ` (an effective memory of `1/(1 − λ)`
    /// samples; `1`: no forgetting, the least-squares solution).
    pub forgetting: f64,
    /// `δ > 0`, finite: the initial `P = δ·I` (a large `δ` is a weak prior on the zero or given
    /// starting parameters).
    pub delta: f64,
}

impl Default for RlsConfig {
    /// River's defaults: `λ = 0.99`, `δ = 10⁶`.
    fn default() -> Self {
        Self {
            forgetting: 0.99,
            delta: 1e6,
        }
    }
}

impl RlsConfig {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `forgetting` outside `(0, 1]` or not finite
    /// (`"forgetting"`), or `delta` not finite and `> 0` (`"delta"`).
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.forgetting > 0.0 && self.forgetting <= 1.0) {
            return Err(Error::InvalidParameter {
                name: "forgetting",
                reason: "must be in (0, 1]",
            });
        }
        if !(self.delta.is_finite() && self.delta > 0.0) {
            return Err(Error::InvalidParameter {
                name: "delta",
                reason: "must be finite and > 0",
            });
        }
        Ok(())
    }
}

/// A recursive-least-squares learner of `D` features and a bias (see the [module
/// docs](self)): fixed size, `Copy`, no heap.
///
/// ```
/// use npoa::optim::{Rls, RlsConfig};
/// let mut rls = Rls::<1>::with_params(RlsConfig::default(), &[1.0], 0.0)?;
/// assert_eq!(rls.update(&[2.0], 5.0)?, 3.0); // prior error: 5 − (1·2 + 0)
/// assert!(rls.update(&[f32::NAN], 1.0).is_err()); // refused, unchanged
/// assert_eq!(rls.updates(), 1);
/// rls.reset(); // P back to δ·I (a drift restart), weights kept
/// assert!(RlsConfig { forgetting: 1.5, delta: 1.0 }.validate().is_err());
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rls<const D: usize> {
    /// `P`'s weight block (symmetric).
    pub(crate) p_ww: [[f64; D]; D],
    /// `P`'s weight–bias column.
    pub(crate) p_wb: [f64; D],
    /// `P`'s bias entry.
    pub(crate) p_bb: f64,
    pub(crate) w: [f64; D],
    pub(crate) b: f64,
    pub(crate) config: RlsConfig,
    /// Updates applied.
    pub(crate) updates: u64,
    /// Resets of `P` by the positive-definiteness guard.
    pub(crate) resets: u32,
    /// Rescales of `P` by the wind-up bound.
    pub(crate) windups: u32,
}

/// Which part of an update failed.
enum Fail {
    /// Not finite, or `P` lost positive definiteness.
    Guard,
}

impl<const D: usize> Rls<D> {
    /// Bytes of the state: `8·(D² + 2·D + 6)`.
    pub const BYTES: usize = core::mem::size_of::<Self>();

    /// Zero weights and bias, `P = δ·I`.
    ///
    /// # Errors
    /// As [`RlsConfig::validate`].
    pub fn new(config: RlsConfig) -> Result<Self, Error> {
        config.validate()?;
        let mut s = Self {
            p_ww: [[0.0; D]; D],
            p_wb: [0.0; D],
            p_bb: 0.0,
            w: [0.0; D],
            b: 0.0,
            config,
            updates: 0,
            resets: 0,
            windups: 0,
        };
        s.init_p();
        Ok(s)
    }

    /// Starts from the given weights and bias, `P = δ·I`.
    ///
    /// # Errors
    /// As [`RlsConfig::validate`]; [`Error::NonFinite`] for a NaN or infinity in `w` (`"w"`) or
    /// `b` (`"b"`).
    pub fn with_params(config: RlsConfig, w: &[f32; D], b: f32) -> Result<Self, Error> {
        let mut s = Self::new(config)?;
        s.try_set_params(w, b)?;
        Ok(s)
    }

    /// `P = δ·I`.
    fn init_p(&mut self) {
        let d = self.config.delta;
        for (i, row) in self.p_ww.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = if i == j { d } else { 0.0 };
            }
        }
        self.p_wb = [0.0; D];
        self.p_bb = d;
    }

    /// One update on the sample `(x, y)` (see the [module docs](self)); returns the prior
    /// error `y − ŷ` with `ŷ` the prediction before the update (in `f64`, rounded to `f32`).
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a NaN or infinity in `x` (`"x"`) or `y` (`"y"`): the learner is
    /// unchanged. [`Error::Overflow`] (`"rls update"`) if the update is not finite even from
    /// `P = δ·I`: the weights are unchanged, `P` is `δ·I` (one reset counted).
    pub fn update(&mut self, x: &[f32; D], y: f32) -> Result<f32, Error> {
        check_finite("x", x)?;
        if !y.is_finite() {
            return Err(Error::NonFinite {
                what: "y",
                index: 0,
            });
        }
        let e = f64::from(y) - self.predict_f64(x);
        if !e.is_finite() {
            return Err(Error::Overflow { what: "rls update" });
        }
        let mut next = *self;
        if next.step(x, e).is_err() {
            next = *self;
            next.init_p();
            next.resets = next.resets.saturating_add(1);
            let base = next;
            if next.step(x, e).is_err() {
                *self = base;
                return Err(Error::Overflow { what: "rls update" });
            }
        }
        next.bound_trace();
        next.updates = next.updates.saturating_add(1);
        *self = next;
        Ok(e as f32)
    }

    /// The update of `θ` and `P` on `φ = (x, 1)` with prior error `e`, in place; `Err` (with
    /// `self` partly written: the caller works on a copy) if the denominator is not `> 0`, a
    /// value is not finite, or a diagonal entry of the new `P` is not `> 0`.
    ///
    /// Operations for `n = D + 1`: `π` `n·D` multiplications and additions, the denominator
    /// `D` multiplications and `n` additions, `1/den` and `1/λ` two divisions, the gain `n`
    /// multiplications, `θ` `n` multiplications and additions, `P`'s triangle `n(n + 1)/2`
    /// entries of two multiplications and a subtraction.
    fn step(&mut self, x: &[f32; D], e: f64) -> Result<(), Fail> {
        // π = P·φ, each row summed in index order, the bias column last.
        let mut pi_w = [0.0f64; D];
        for (p, (row, wb)) in pi_w.iter_mut().zip(self.p_ww.iter().zip(&self.p_wb)) {
            let mut s = 0.0f64;
            for (pij, xj) in row.iter().zip(x) {
                s += *pij * f64::from(*xj);
            }
            *p = s + *wb;
        }
        let mut pi_b = 0.0f64;
        for (pbj, xj) in self.p_wb.iter().zip(x) {
            pi_b += *pbj * f64::from(*xj);
        }
        pi_b += self.p_bb;
        // λ + φ·π.
        let mut q = 0.0f64;
        for (p, xj) in pi_w.iter().zip(x) {
            q += *p * f64::from(*xj);
        }
        q += pi_b;
        let den = self.config.forgetting + q;
        if !(den.is_finite() && den > 0.0) {
            return Err(Fail::Guard);
        }
        let inv = 1.0 / den;
        let inv_lambda = 1.0 / self.config.forgetting;
        let mut k_w = [0.0f64; D];
        for (k, p) in k_w.iter_mut().zip(&pi_w) {
            *k = *p * inv;
        }
        let k_b = pi_b * inv;
        // θ ← θ + k·e.
        let mut ok = true;
        // Finite, and within `f32`'s range: the weights are read as `f32`
        // (`weights`, `bias`), and a model must stay finite.
        for (w, k) in self.w.iter_mut().zip(&k_w) {
            *w += *k * e;
            ok &= (*w as f32).is_finite();
        }
        self.b += k_b * e;
        ok &= (self.b as f32).is_finite();
        // P ← (P − k·πᵀ)/λ on the upper triangle (i ≤ j), mirrored.
        for i in 0..D {
            let ki = k_w.get(i).copied().unwrap_or(0.0);
            for j in i..D {
                let pj = pi_w.get(j).copied().unwrap_or(0.0);
                let old = self.p_ww.get(i).and_then(|r| r.get(j)).copied();
                let v = (old.unwrap_or(0.0) - ki * pj) * inv_lambda;
                ok &= v.is_finite();
                if let Some(c) = self.p_ww.get_mut(i).and_then(|r| r.get_mut(j)) {
                    *c = v;
                }
                if let Some(c) = self.p_ww.get_mut(j).and_then(|r| r.get_mut(i)) {
                    *c = v;
                }
                if i == j {
                    ok &= v > 0.0;
                }
            }
            if let Some(c) = self.p_wb.get_mut(i) {
                *c = (*c - ki * pi_b) * inv_lambda;
                ok &= c.is_finite();
            }
        }
        self.p_bb = (self.p_bb - k_b * pi_b) * inv_lambda;
        ok &= self.p_bb.is_finite() && self.p_bb > 0.0;
        if ok { Ok(()) } else { Err(Fail::Guard) }
    }

    /// `trace(P)`, in index order, the bias entry last.
    fn trace(&self) -> f64 {
        let mut t = 0.0f64;
        for (i, row) in self.p_ww.iter().enumerate() {
            t += row.get(i).copied().unwrap_or(0.0);
        }
        t + self.p_bb
    }

    /// The largest trace allowed: `δ·(D + 1)`, the initial one.
    fn trace_cap(&self) -> f64 {
        self.config.delta * (D as f64 + 1.0)
    }

    /// The wind-up bound: scales `P` by `cap/trace` when its trace exceeds the cap.
    fn bound_trace(&mut self) {
        let (t, cap) = (self.trace(), self.trace_cap());
        if t > cap {
            let s = cap / t;
            for v in self.p_ww.iter_mut().flatten().chain(self.p_wb.iter_mut()) {
                *v *= s;
            }
            self.p_bb *= s;
            self.windups = self.windups.saturating_add(1);
        }
    }

    /// `w·x + b` in `f64`, summed in index order, the bias last.
    fn predict_f64(&self, x: &[f32; D]) -> f64 {
        let mut s = 0.0f64;
        for (w, xj) in self.w.iter().zip(x) {
            s += *w * f64::from(*xj);
        }
        s + self.b
    }

    /// The prediction `w·x + b` (in `f64`, rounded to `f32`; a non-finite `x` gives a
    /// non-finite prediction).
    pub fn predict(&self, x: &[f32; D]) -> f32 {
        self.predict_f64(x) as f32
    }

    /// `P` back to `δ·I`, the weights and counters kept (a restart after a drift; not counted
    /// in [`resets`](Self::resets), which counts the guard's).
    pub fn reset(&mut self) {
        self.init_p();
    }

    /// The weights, each rounded to `f32`.
    pub fn weights(&self) -> [f32; D] {
        let mut out = [0.0f32; D];
        for (o, w) in out.iter_mut().zip(&self.w) {
            *o = *w as f32;
        }
        out
    }

    /// The bias, rounded to `f32`.
    pub fn bias(&self) -> f32 {
        self.b as f32
    }

    /// The weights in `f64`, as the learner holds them.
    pub fn weights_f64(&self) -> [f64; D] {
        self.w
    }

    /// The bias in `f64`.
    pub fn bias_f64(&self) -> f64 {
        self.b
    }

    /// Sets the weights and bias (a rollback to a best copy), `P` untouched. A NaN or
    /// infinity is ignored: the learner is then unchanged (see
    /// [`try_set_params`](Self::try_set_params) for the `Result`).
    pub fn set_params(&mut self, w: &[f32; D], b: f32) {
        let _ = self.try_set_params(w, b);
    }

    /// [`set_params`](Self::set_params), reporting a refusal.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a NaN or infinity in `w` (`"w"`) or `b` (`"b"`); the learner is
    /// then unchanged.
    pub fn try_set_params(&mut self, w: &[f32; D], b: f32) -> Result<(), Error> {
        check_finite("w", w)?;
        if !b.is_finite() {
            return Err(Error::NonFinite {
                what: "b",
                index: 0,
            });
        }
        for (d, s) in self.w.iter_mut().zip(w) {
            *d = f64::from(*s);
        }
        self.b = f64::from(b);
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> RlsConfig {
        self.config
    }

    /// Updates applied (refused samples are not counted).
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Resets of `P` by the positive-definiteness guard (not [`reset`](Self::reset) calls).
    pub fn resets(&self) -> u32 {
        self.resets
    }

    /// Rescales of `P` by the wind-up bound (`trace(P) ≤ δ·(D + 1)`).
    pub fn windups(&self) -> u32 {
        self.windups
    }

    /// `P`'s entry `(i, j)` for `i, j ≤ D` (index `D` is the bias), `None` past it.
    pub fn p(&self, i: usize, j: usize) -> Option<f64> {
        match (i == D, j == D) {
            (true, true) => Some(self.p_bb),
            (true, false) => self.p_wb.get(j).copied(),
            (false, true) => self.p_wb.get(i).copied(),
            (false, false) => self.p_ww.get(i).and_then(|r| r.get(j)).copied(),
        }
    }

    /// `trace(P)` (summed in index order, the bias entry last).
    pub fn p_trace(&self) -> f64 {
        self.trace()
    }
}
