//! DDM, the drift detection method on an error stream (River's `drift.binary.DDM`).

use super::{Detector, Signal, invalid, mean_update};
use crate::Error;

/// Settings of [`Ddm`]; the defaults are River's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DdmConfig {
    /// Values seen before a warning or a drift can be signalled (default 30).
    pub warm_start: u32,
    /// Standard deviations above the best for a warning, finite and ≥ 0 (default 2).
    pub warning_threshold: f64,
    /// Standard deviations above the best for a drift, finite and ≥ `warning_threshold`
    /// (default 3).
    pub drift_threshold: f64,
}

impl Default for DdmConfig {
    fn default() -> Self {
        Self {
            warm_start: 30,
            warning_threshold: 2.0,
            drift_threshold: 3.0,
        }
    }
}

/// DDM (Gama et al. 2004) on a stream of errors (`1.0`: an error, `0.0`: a correct answer;
/// values between are accepted as River accepts them, as a mean): the error rate `p` and its
/// standard deviation `s = √(p(1−p)/n)`; `p_min`, `s_min` where `p + s` was lowest; a warning
/// when `p + s > p_min + w·s_min`, a drift when `p + s > p_min + d·s_min`. River's algorithm
/// and order of operations. Values outside `[0, 1]` and non-finite ones are ignored.
///
/// ```
/// use npoa::control::drift::{Ddm, DdmConfig, Detector, Signal};
/// let mut ddm = Ddm::new(DdmConfig::default())?;
/// let mut drift = None;
/// for i in 0..3000u32 {
///     // 10 % errors, then 50 %.
///     let error = if i < 1000 { i % 10 == 0 } else { i % 2 == 0 };
///     if ddm.update(if error { 1.0 } else { 0.0 }) == Signal::Drift {
///         drift.get_or_insert(i);
///     }
/// }
/// assert!(drift.is_some_and(|i| i > 1000 && i < 1200));
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ddm {
    // `pub(crate)` for the state codec (`crate::state`).
    pub(crate) cfg: DdmConfig,
    /// Values seen (an integer in an `f64`, River's `Mean.n`).
    pub(crate) n: f64,
    /// The error rate.
    pub(crate) p: f64,
    pub(crate) p_min: f64,
    pub(crate) s_min: f64,
    /// `p_min + s_min` (+∞ before the warm start ends).
    pub(crate) ps_min: f64,
    pub(crate) warning: bool,
    /// The last value was a drift: the next one restarts the detector.
    pub(crate) drift: bool,
}

pub(crate) fn check_config(c: &DdmConfig) -> Result<(), Error> {
    if !(c.warning_threshold.is_finite() && c.warning_threshold >= 0.0) {
        return Err(invalid("warning_threshold", "must be finite and >= 0"));
    }
    if !(c.drift_threshold.is_finite() && c.drift_threshold >= c.warning_threshold) {
        return Err(invalid(
            "drift_threshold",
            "must be finite and >= warning_threshold",
        ));
    }
    Ok(())
}

impl Ddm {
    /// A fresh detector.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first setting out of its documented range.
    pub fn new(config: DdmConfig) -> Result<Self, Error> {
        check_config(&config)?;
        Ok(Self::empty(config))
    }

    pub(crate) fn empty(cfg: DdmConfig) -> Self {
        Self {
            cfg,
            n: 0.0,
            p: 0.0,
            p_min: 0.0,
            s_min: 0.0,
            ps_min: f64::INFINITY,
            warning: false,
            drift: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> DdmConfig {
        self.cfg
    }

    /// Values seen since the start (or the last restart after a drift).
    pub fn count(&self) -> u64 {
        self.n as u64
    }

    /// The error rate over those values.
    pub fn error_rate(&self) -> f64 {
        self.p
    }
}

impl Detector for Ddm {
    /// `value`: 1 for an error, 0 for none; a value outside `[0, 1]`, a NaN or an infinity
    /// is ignored (state untouched, [`Signal::Stable`]).
    fn update(&mut self, value: f32) -> Signal {
        if !(0.0..=1.0).contains(&value) {
            return Signal::Stable;
        }
        if self.drift {
            *self = Self::empty(self.cfg);
        }
        let c = self.cfg;
        mean_update(&mut self.n, &mut self.p, f64::from(value));
        let p = self.p;
        let s = libm::sqrt(p * (1.0 - p) / self.n);
        if self.n > f64::from(c.warm_start) {
            if p + s <= self.ps_min {
                self.p_min = p;
                self.s_min = s;
                self.ps_min = self.p_min + self.s_min;
            }
            self.warning = p + s > self.p_min + c.warning_threshold * self.s_min;
            if p + s > self.p_min + c.drift_threshold * self.s_min {
                self.drift = true;
                self.warning = false;
            }
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
