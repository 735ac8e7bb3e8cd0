//! EDDM, the early drift detection method on an error stream (River's
//! `drift.binary.EDDM`).

use super::{Detector, Signal, invalid, mean_update};
use crate::Error;

/// Settings of [`Eddm`]; the defaults are River's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EddmConfig {
    /// Values, and errors, seen before a warning or a drift can be signalled (default 30).
    pub warm_start: u32,
    /// A warning below this ratio, in `(0, 1]` and ≥ `beta` (default 0.95).
    pub alpha: f64,
    /// A drift below this ratio, in `(0, 1]` (default 0.9).
    pub beta: f64,
}

impl Default for EddmConfig {
    fn default() -> Self {
        Self {
            warm_start: 30,
            alpha: 0.95,
            beta: 0.9,
        }
    }
}

/// EDDM (Baena-García et al. 2006) on a stream of errors (`1.0`: an error; any other value
/// in `[0, 1]`: none, as River compares `x == 1`): the mean `p′` and standard deviation `s′`
/// of the distance between two errors; `m = max(p′ + 2s′)`; at each error, a warning when
/// `(p′ + 2s′)/m < alpha`, a drift when it is `< beta`. River's algorithm and order of
/// operations (`s′` by `libm::sqrt`, River's `** 0.5`). Values outside `[0, 1]` and
/// non-finite ones are ignored. The warning holds until the next error decides again.
///
/// ```
/// use npoa::control::drift::{Detector, Eddm, EddmConfig, Signal};
/// let mut eddm = Eddm::new(EddmConfig::default())?;
/// let mut drifts = Vec::new();
/// let mut s = 12345u64; // a small LCG: errors at 5 %, then at 40 % from value 2000 on
/// for i in 0..5000u32 {
///     s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
///     let u = (s >> 40) as f64 / (1u64 << 24) as f64;
///     let error = u < if i < 2000 { 0.05 } else { 0.4 };
///     if eddm.update(if error { 1.0 } else { 0.0 }) == Signal::Drift {
///         drifts.push(i);
///     }
/// }
/// assert_eq!(drifts.first(), Some(&2002)); // River's EDDM: 2002 too
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eddm {
    // `pub(crate)` for the state codec (`crate::state`).
    pub(crate) cfg: EddmConfig,
    /// Values seen.
    pub(crate) n: u64,
    /// The index (in `1..=n`) of the last error, 0 before the first.
    pub(crate) last_error: u64,
    /// Errors seen.
    pub(crate) n_errors: u64,
    /// River's `stats.Var` of the distances: count (an integer in an `f64`), mean, and the
    /// sum of squared deviations.
    pub(crate) dist_n: f64,
    pub(crate) dist_mean: f64,
    pub(crate) dist_m2: f64,
    /// The largest `p′ + 2s′` (−1 before the first).
    pub(crate) p2s_max: f64,
    pub(crate) warning: bool,
    /// The last value was a drift: the next one restarts the detector.
    pub(crate) drift: bool,
}

pub(crate) fn check_config(c: &EddmConfig) -> Result<(), Error> {
    if !(c.beta > 0.0 && c.beta <= 1.0) {
        return Err(invalid("beta", "must be in (0, 1]"));
    }
    if !(c.alpha >= c.beta && c.alpha <= 1.0) {
        return Err(invalid("alpha", "must be in [beta, 1]"));
    }
    Ok(())
}

impl Eddm {
    /// A fresh detector.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first setting out of its documented range.
    pub fn new(config: EddmConfig) -> Result<Self, Error> {
        check_config(&config)?;
        Ok(Self::empty(config))
    }

    pub(crate) fn empty(cfg: EddmConfig) -> Self {
        Self {
            cfg,
            n: 0,
            last_error: 0,
            n_errors: 0,
            dist_n: 0.0,
            dist_mean: 0.0,
            dist_m2: 0.0,
            p2s_max: -1.0,
            warning: false,
            drift: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> EddmConfig {
        self.cfg
    }

    /// Values seen since the start (or the last restart after a drift).
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Errors among them.
    pub fn errors(&self) -> u64 {
        self.n_errors
    }

    /// The mean distance between two errors (0 before the first).
    pub fn mean_distance(&self) -> f64 {
        self.dist_mean
    }
}

impl Detector for Eddm {
    /// `value`: 1 for an error, anything else in `[0, 1]` for none; a value outside
    /// `[0, 1]`, a NaN or an infinity is ignored (state untouched, [`Signal::Stable`]).
    fn update(&mut self, value: f32) -> Signal {
        if !(0.0..=1.0).contains(&value) {
            return Signal::Stable;
        }
        if self.drift {
            *self = Self::empty(self.cfg);
        }
        let c = self.cfg;
        self.n = self.n.saturating_add(1);
        if value == 1.0 {
            self.n_errors = self.n_errors.saturating_add(1);
            // River's `stats.Var.update(n - last_error)` (ddof 1).
            let x = (self.n - self.last_error) as f64;
            let old = self.dist_mean;
            mean_update(&mut self.dist_n, &mut self.dist_mean, x);
            self.dist_m2 += (x - old) * (x - self.dist_mean);
            if self.n > u64::from(c.warm_start) {
                let var = if self.dist_n > 1.0 {
                    self.dist_m2 / (self.dist_n - 1.0)
                } else {
                    0.0
                };
                let p2s = self.dist_mean + 2.0 * libm::sqrt(var);
                if p2s > self.p2s_max {
                    self.p2s_max = p2s;
                } else if self.n_errors > u64::from(c.warm_start) {
                    let level = p2s / self.p2s_max;
                    if level < c.beta {
                        self.drift = true;
                    } else {
                        self.warning = level < c.alpha;
                    }
                }
            }
            self.last_error = self.n;
        }
        if self.drift {
            Signal::Drift
        } else if self.warning {
            Signal::Warning
        } else {
            Signal::Stable
        }
    }

    fn reset(&mut self) {
        *self = Self::empty(self.cfg);
    }
}
