//! Standardisation on the device: layer 1.
//!
//! [`Scaler<D>`] keeps the running mean and variance of `D` features and of the target
//! (Welford's algorithm, `f64` accumulators, no heap), standardises rows `z_j = (x_j − μ_j)/σ_j`
//! and folds the standardisation back into a model trained on standardised data, so that the
//! model predicts on raw features. The std layer's `data::Standardizer` runs on the same
//! functions (over slices, with `d` known at run time): one implementation.
//!
//! ## The rules
//! * **Moments.** Welford's update in `f64` on data shifted by the first sample `k`: for the
//!   `n`-th sample `x`, `v = x − k`, `δ = v − μ'`, `μ' += δ/n`, `M2 += δ·(v − μ')`, and the
//!   mean is `k + μ'`. Unlike the naive `Σx² − nμ²` it does not cancel on data with a large
//!   offset (`1e6 +` small noise), and the shift keeps even the rounding of a large running
//!   mean out of the differences (tested to 1e-12 relative against a two-pass `f64` oracle).
//!   The variance is the population one, `M2/n` (ddof 0).
//! * **Constant columns.** A feature whose standard deviation is at most
//!   `1e-12 · max(1, |μ|)` ([`CONSTANT_TOLERANCE`]) gets the scale `σ = 1`: it standardises to
//!   `x − μ ≈ 0`, its gradient is ≈ 0, so its weight stays where it starts (0), and the fold
//!   never divides by a vanishing `σ`. Before any sample every scale is 1 and every mean 0,
//!   so standardising is the identity.
//! * **Rounding.** Every standardised value and every folded parameter is computed in `f64`
//!   from the `f32` inputs and rounded to `f32` once.
//! * **All or nothing.** A function that fails writes nothing.

use crate::Error;
use crate::check::{check_finite, check_len, nz};
use crate::dataset::Dataset;

/// The relative tolerance below which a feature counts as constant: a standard deviation
/// `σ ≤ CONSTANT_TOLERANCE · max(1, |μ|)` gets the scale 1 (see the [module docs](self)).
pub const CONSTANT_TOLERANCE: f64 = 1e-12;

/// Welford's update of running moments with the `n`-th sample `x` (`n` counts `x`; 0 is read
/// as 1), on data shifted by the first sample: `shift` is set to the first sample (`n = 1`),
/// `mean` holds the running mean of `x − shift` and `m2` the running `Σ (x − μ)²`. The shift
/// keeps the update's differences small on data with a large offset (`1e6 +` noise), where
/// even Welford's update loses digits to the rounding of a large mean. The mean is
/// `shift + mean` ([`mean_of`]). The one implementation of the running moments: [`Scaler`]
/// and `data::Standardizer` call it.
pub(crate) fn push_moments(n: u64, shift: &mut [f64], mean: &mut [f64], m2: &mut [f64], x: &[f32]) {
    if n <= 1 {
        for (k, v) in shift.iter_mut().zip(x) {
            *k = f64::from(*v);
        }
    }
    let n = n.max(1) as f64;
    for (((k, m), s), v) in shift.iter().zip(mean.iter_mut()).zip(m2.iter_mut()).zip(x) {
        let v = f64::from(*v) - k;
        let delta = v - *m;
        *m += delta / n;
        *s += delta * (v - *m);
    }
}

/// The mean and the population variance of one column of values ([`push_moments`]);
/// `(NaN, NaN)` for no values. For the training loop's duality-gap scale and the recipe's
/// target scaling.
pub(crate) fn moments_of(v: &[f32]) -> (f64, f64) {
    let (mut k, mut m, mut q) = ([0.0f64], [0.0f64], [0.0f64]);
    let mut n = 0u64;
    for x in v {
        n += 1;
        push_moments(n, &mut k, &mut m, &mut q, core::slice::from_ref(x));
    }
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let sd = std_of(q[0], n);
    (mean_of(k[0], m[0]), sd * sd)
}

/// The mean from [`push_moments`]'s shift and shifted mean.
pub(crate) fn mean_of(shift: f64, mean: f64) -> f64 {
    shift + mean
}

/// The population standard deviation `√(M2/n)` (0 for `n = 0`).
pub(crate) fn std_of(m2: f64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        libm::sqrt((m2 / n as f64).max(0.0))
    }
}

/// The scale a standardisation divides by: the standard deviation, or 1 for a constant
/// column (`σ ≤ CONSTANT_TOLERANCE · max(1, |μ|)`, or not finite).
pub(crate) fn scale_of(mean: f64, std: f64) -> f64 {
    if std.is_finite() && std > CONSTANT_TOLERANCE * mean.abs().max(1.0) {
        std
    } else {
        1.0
    }
}

/// Standardises rows of `d` features in place: `x_j ← (x_j − μ_j)/σ_j` with
/// `(μ_j, σ_j) = stats(j)`, in `f64`, rounded once.
///
/// # Errors
/// [`Error::ZeroFeatures`] for `d = 0`, [`Error::LengthMismatch`] if `x` is not whole rows,
/// [`Error::NonFinite`] for a NaN or infinity in `x`, [`Error::Overflow`] if a standardised
/// value overflows `f32`; then `x` is unchanged.
pub(crate) fn standardize_with(
    d: usize,
    stats: impl Fn(usize) -> (f64, f64),
    x: &mut [f32],
) -> Result<(), Error> {
    check_standardize(d, &stats, x)?;
    let z = |j: usize, v: f32| {
        let (m, s) = stats(j);
        ((f64::from(v) - m) / s) as f32
    };
    for row in x.chunks_exact_mut(nz(d)) {
        for (j, v) in row.iter_mut().enumerate() {
            *v = z(j, *v);
        }
    }
    Ok(())
}

/// [`standardize_with`]'s checks, without writing: `Ok` exactly when it would succeed.
///
/// # Errors
/// As [`standardize_with`].
pub(crate) fn check_standardize(
    d: usize,
    stats: &impl Fn(usize) -> (f64, f64),
    x: &[f32],
) -> Result<(), Error> {
    if d == 0 {
        return Err(Error::ZeroFeatures);
    }
    check_len("x", x.len(), x.len() - x.len() % d)?;
    check_finite("x", x)?;
    let ok = x.chunks_exact(nz(d)).all(|row| {
        row.iter().enumerate().all(|(j, v)| {
            let (m, s) = stats(j);
            (((f64::from(*v) - m) / s) as f32).is_finite()
        })
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Overflow {
            what: "standardised features",
        })
    }
}

/// Which way [`fold_with`] maps the parameters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Standardised space → raw space (the fold).
    Fold,
    /// Raw space → standardised space (its inverse).
    Unfold,
}

/// The one fold of a standardisation into linear parameters: `w` holds rows of `d` weights,
/// one per output, `b` one bias per output; `(μ_j, σ_j) = stats(j)`; `target` is
/// `Some((μ_y, σ_y))` for a model trained on standardised targets (`None`: `(0, 1)`).
///
/// [`Direction::Fold`]: `w'_cj = σ_y·w_cj/σ_j`, `b'_c = μ_y + σ_y·(b_c − Σ_j w_cj·μ_j/σ_j)`;
/// [`Direction::Unfold`] its inverse, `w'_cj = w_cj·σ_j/σ_y`,
/// `b'_c = (b_c + Σ_j w_cj·μ_j − μ_y)/σ_y`. In `f64`, each result rounded once. With
/// `saturate`, a result beyond `f32`'s range is clamped to `±f32::MAX` instead of failing.
///
/// # Errors
/// [`Error::ZeroFeatures`] for `d = 0`, [`Error::LengthMismatch`] unless
/// `w.len() = b.len()·d`; [`Error::Overflow`] if a result is not finite (without `saturate`,
/// or for non-finite inputs); then `w` and `b` are unchanged.
pub(crate) fn fold_with(
    d: usize,
    stats: impl Fn(usize) -> (f64, f64),
    target: Option<(f64, f64)>,
    dir: Direction,
    saturate: bool,
    (w, b): (&mut [f32], &mut [f32]),
) -> Result<(), Error> {
    if d == 0 {
        return Err(Error::ZeroFeatures);
    }
    check_len("w", w.len(), b.len().saturating_mul(d))?;
    let (tm, ts) = target.unwrap_or((0.0, 1.0));
    let round = |v: f64| {
        if saturate && !v.is_nan() {
            v.clamp(-f64::from(f32::MAX), f64::from(f32::MAX)) as f32
        } else {
            v as f32
        }
    };
    // The new weight j of a row, and the row's new bias.
    let weight = |j: usize, wj: f32| {
        let (_, s) = stats(j);
        match dir {
            Direction::Fold => round(ts * (f64::from(wj) / s)),
            Direction::Unfold => round(f64::from(wj) * s / ts),
        }
    };
    let bias = |row: &[f32], bc: f32| {
        let mut shift = 0.0f64;
        for (j, wj) in row.iter().enumerate() {
            let (m, s) = stats(j);
            shift += match dir {
                Direction::Fold => f64::from(*wj) / s * m,
                Direction::Unfold => f64::from(*wj) * m,
            };
        }
        match dir {
            Direction::Fold => round(tm + ts * (f64::from(bc) - shift)),
            Direction::Unfold => round((f64::from(bc) + shift - tm) / ts),
        }
    };
    let ok = w.chunks_exact(nz(d)).zip(b.iter()).all(|(row, bc)| {
        bias(row, *bc).is_finite()
            && row
                .iter()
                .enumerate()
                .all(|(j, wj)| weight(j, *wj).is_finite())
    });
    if !ok {
        return Err(Error::Overflow {
            what: "folded model",
        });
    }
    for (row, bc) in w.chunks_exact_mut(nz(d)).zip(b.iter_mut()) {
        // The bias reads the old weights: compute it first.
        *bc = bias(row, *bc);
        for (j, wj) in row.iter_mut().enumerate() {
            *wj = weight(j, *wj);
        }
    }
    Ok(())
}

/// The running mean and variance of `D` features and of the target, and the standardisation
/// they define (see the [module docs](self) for the rules). `Copy`, no heap:
/// `(3·D + 3)·8 + 8` bytes.
///
/// Fit it on the data (one pre-pass, [`fit`](Self::fit), or sample by sample,
/// [`push`](Self::push)), standardise the rows ([`standardize_row`](Self::standardize_row),
/// [`standardize_in_place`](Self::standardize_in_place)), train on them, then fold the
/// standardisation into the model ([`fold`](Self::fold),
/// [`LinearModel::unstandardize`](crate::LinearModel::unstandardize)), which then predicts on
/// raw rows.
///
/// ```
/// use npoa::LinearModel;
/// use npoa::scale::Scaler;
/// use npoa::train::{fit, Dataset, TrainConfig};
///
/// // y = 0.002·x0 + 3·x1 + 1, with x0 in the thousands and x1 around 1: badly scaled.
/// let mut x = [0.0f32; 16];
/// let mut y = [0.0f32; 8];
/// for i in 0..8 {
///     let (a, c) = (1000.0 + 250.0 * i as f32, 1.0 + 0.1 * ((i * 3) % 8) as f32);
///     x[2 * i..2 * i + 2].copy_from_slice(&[a, c]);
///     y[i] = 0.002 * a + 3.0 * c + 1.0;
/// }
/// let scaler = Scaler::<2>::fit(&Dataset::new(&x, &y, 2)?)?;
/// scaler.standardize_in_place(&mut x)?; // the one pre-pass over the data
/// let mut model = LinearModel::<2>::zeros();
/// let config = TrainConfig { learning_rate: 0.5, epochs: 500, batch_size: 8, ..TrainConfig::default() };
/// fit(&mut model, &Dataset::new(&x, &y, 2)?, &config)?;
/// model.unstandardize(&scaler)?; // now in raw units
/// assert!((model.weights()[0] - 0.002).abs() < 1e-5);
/// assert!((model.weights()[1] - 3.0).abs() < 1e-3);
/// assert!((model.predict_one(&[2000.0, 1.5]) - 9.5).abs() < 1e-3);
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaler<const D: usize> {
    pub(crate) count: u64,
    /// The first sample (the shift of [`push_moments`]), the running mean of `x − shift`, `M2`.
    pub(crate) shift: [f64; D],
    pub(crate) mean: [f64; D],
    pub(crate) m2: [f64; D],
    /// The same for the target.
    pub(crate) y: [f64; 3],
}

impl<const D: usize> Default for Scaler<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const D: usize> Scaler<D> {
    /// No sample yet: every mean 0, every scale 1 (standardising is the identity).
    pub const fn new() -> Self {
        Self {
            count: 0,
            shift: [0.0; D],
            mean: [0.0; D],
            m2: [0.0; D],
            y: [0.0; 3],
        }
    }

    /// Adds one sample (Welford's update, in `f64`).
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a NaN or infinity in `x` (`"x"`) or `y` (`"y"`); the scaler is
    /// then unchanged.
    pub fn push(&mut self, x: &[f32; D], y: f32) -> Result<(), Error> {
        check_finite("x", x)?;
        check_finite("y", &[y])?;
        self.add(x, y);
        Ok(())
    }

    /// [`push`](Self::push) of a finite sample.
    fn add(&mut self, x: &[f32], y: f32) {
        self.count = self.count.saturating_add(1);
        push_moments(self.count, &mut self.shift, &mut self.mean, &mut self.m2, x);
        let [k, m, s] = &mut self.y;
        push_moments(
            self.count,
            core::slice::from_mut(k),
            core::slice::from_mut(m),
            core::slice::from_mut(s),
            &[y],
        );
    }

    /// The scaler of a data set: one pass over its rows ([`push`](Self::push) of each).
    ///
    /// # Errors
    /// [`Error::FeatureMismatch`] if the data do not have `D` features.
    pub fn fit(data: &Dataset<'_>) -> Result<Self, Error> {
        if data.features() != D {
            return Err(Error::FeatureMismatch {
                model: D,
                data: data.features(),
            });
        }
        let mut s = Self::new();
        for (row, y) in data.x().chunks_exact(nz(D)).zip(data.y()) {
            // A checked data set is finite.
            s.add(row, *y);
        }
        Ok(s)
    }

    /// Samples seen.
    pub const fn count(&self) -> u64 {
        self.count
    }

    /// The mean of feature `j` (`None` for `j ≥ D`).
    pub fn mean(&self, j: usize) -> Option<f64> {
        Some(mean_of(*self.shift.get(j)?, *self.mean.get(j)?))
    }

    /// The population standard deviation of feature `j` (ddof 0; 0 before any sample;
    /// `None` for `j ≥ D`).
    pub fn std(&self, j: usize) -> Option<f64> {
        self.m2.get(j).map(|m2| std_of(*m2, self.count))
    }

    /// What standardising divides feature `j` by: its standard deviation, or 1 for a constant
    /// column (see the [module docs](self); `None` for `j ≥ D`).
    pub fn scale(&self, j: usize) -> Option<f64> {
        Some(scale_of(self.mean(j)?, self.std(j)?))
    }

    /// The target's mean.
    pub fn target_mean(&self) -> f64 {
        mean_of(self.y[0], self.y[1])
    }

    /// The target's population standard deviation (ddof 0).
    pub fn target_std(&self) -> f64 {
        std_of(self.y[2], self.count)
    }

    /// What standardising a target divides by: its standard deviation, or 1 for a constant
    /// target.
    pub fn target_scale(&self) -> f64 {
        scale_of(self.target_mean(), self.target_std())
    }

    /// `(μ_j, σ_j)` of feature `j < D`, σ the [`scale`](Self::scale).
    fn stats(&self, j: usize) -> (f64, f64) {
        match (self.mean(j), self.std(j)) {
            (Some(m), Some(s)) => (m, scale_of(m, s)),
            _ => (0.0, 1.0),
        }
    }

    /// `(μ_y, σ_y)` of the target, σ the [`target_scale`](Self::target_scale).
    fn target_stats(&self) -> (f64, f64) {
        (self.target_mean(), self.target_scale())
    }

    /// The standardised row `z_j = (x_j − μ_j)/σ_j` (in `f64`, rounded once). A non-finite
    /// input, or a value that overflows `f32`, gives a non-finite output: use
    /// [`standardize_in_place`](Self::standardize_in_place) to have it refused.
    pub fn standardize_row(&self, x: &[f32; D]) -> [f32; D] {
        let mut z = [0.0f32; D];
        // `stats(j)` for every `j < D` without its per-feature lookups: a learner calls this
        // on every sample (on the Cortex-M7 155 instructions a sample fewer than the lookups).
        let stats = self.shift.iter().zip(&self.mean).zip(&self.m2);
        for ((zj, v), ((shift, mean), m2)) in z.iter_mut().zip(x).zip(stats) {
            let m = mean_of(*shift, *mean);
            let s = scale_of(m, std_of(*m2, self.count));
            *zj = ((f64::from(*v) - m) / s) as f32;
        }
        z
    }

    /// Standardises rows of `D` features in place (as
    /// [`standardize_row`](Self::standardize_row)): for firmware that owns its data in RAM,
    /// batch training uses it as one pre-pass over the data.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] for `D = 0`, [`Error::LengthMismatch`] if `x.len()` is not a
    /// multiple of `D`, [`Error::NonFinite`] for a NaN or infinity, [`Error::Overflow`] if a
    /// standardised value overflows `f32`. Then `x` is unchanged.
    pub fn standardize_in_place(&self, x: &mut [f32]) -> Result<(), Error> {
        standardize_with(D, self.stats_once(), x)
    }

    /// [`stats`](Self::stats) with every feature's value computed once, for a pass over many
    /// rows (`16·D` bytes of stack instead of a mean, a variance and a square root per value).
    fn stats_once(&self) -> impl Fn(usize) -> (f64, f64) {
        let st: [(f64, f64); D] = core::array::from_fn(|j| self.stats(j));
        move |j| st.get(j).copied().unwrap_or((0.0, 1.0))
    }

    /// Whether [`standardize_in_place`](Self::standardize_in_place) would succeed on `x`,
    /// without writing.
    pub(crate) fn check_standardize(&self, x: &[f32]) -> Result<(), Error> {
        check_standardize(D, &self.stats_once(), x)
    }

    /// The standardised target `(y − μ_y)/σ_y` (in `f64`, rounded once).
    pub fn standardize_target(&self, y: f32) -> f32 {
        let (m, s) = self.target_stats();
        ((f64::from(y) - m) / s) as f32
    }

    /// Standardises targets in place (as [`standardize_target`](Self::standardize_target)),
    /// for a regression model trained with [`fold_target`](Self::fold_target).
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a NaN or infinity, [`Error::Overflow`] if a value overflows
    /// `f32`; then `y` is unchanged.
    pub fn standardize_targets_in_place(&self, y: &mut [f32]) -> Result<(), Error> {
        standardize_with(1, |_| self.target_stats(), y)
    }

    /// Folds the feature standardisation into a model trained on standardised features, so
    /// that it predicts on raw ones. `w` holds one row of `D` weights per output, `b` one bias
    /// per output; for each output `c`: `w'_cj = w_cj/σ_j`,
    /// `b'_c = b_c − Σ_j w_cj·μ_j/σ_j` (in `f64`, rounded once).
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] for `D = 0`, [`Error::LengthMismatch`] unless
    /// `w.len() = b.len()·D`, [`Error::Overflow`] if a folded value is not finite; then `w` and
    /// `b` are unchanged.
    pub fn fold(&self, w: &mut [f32], b: &mut [f32]) -> Result<(), Error> {
        fold_with(D, |j| self.stats(j), None, Direction::Fold, false, (w, b))
    }

    /// [`fold`](Self::fold) for a regression model trained on standardised features **and**
    /// standardised targets `y_s = (y − μ_y)/σ_y`: `w'_cj = σ_y·w_cj/σ_j`,
    /// `b'_c = μ_y + σ_y·(b_c − Σ_j w_cj·μ_j/σ_j)`.
    ///
    /// # Errors
    /// As [`fold`](Self::fold).
    pub fn fold_target(&self, w: &mut [f32], b: &mut [f32]) -> Result<(), Error> {
        let t = Some(self.target_stats());
        fold_with(D, |j| self.stats(j), t, Direction::Fold, false, (w, b))
    }

    /// The inverse of [`fold`](Self::fold): a raw-space model's parameters in standardised
    /// space, `w'_cj = w_cj·σ_j`, `b'_c = b_c + Σ_j w_cj·μ_j` (to start training in
    /// standardised space from a model given in raw units).
    ///
    /// # Errors
    /// As [`fold`](Self::fold).
    pub fn unfold(&self, w: &mut [f32], b: &mut [f32]) -> Result<(), Error> {
        fold_with(D, |j| self.stats(j), None, Direction::Unfold, false, (w, b))
    }

    /// [`fold`](Self::fold), with every folded value beyond `f32`'s range clamped to
    /// `±f32::MAX` instead of refused (for accessors that cannot fail).
    pub(crate) fn fold_saturating(&self, w: &mut [f32], b: &mut [f32]) -> Result<(), Error> {
        fold_with(D, |j| self.stats(j), None, Direction::Fold, true, (w, b))
    }
}
