//! The Page-Hinkley test (River's `drift.PageHinkley`).

use super::{Detector, Signal, invalid, mean_update};
use crate::Error;

/// Which changes of the mean [`PageHinkley`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhMode {
    /// Increases and decreases (River's `"both"`, the default).
    #[default]
    Both,
    /// Increases only (`"up"`).
    Up,
    /// Decreases only (`"down"`).
    Down,
}

/// Settings of [`PageHinkley`]; the defaults are River's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageHinkleyConfig {
    /// Values seen before a change can be signalled (default 30).
    pub min_instances: u32,
    /// The magnitude of change tolerated, finite and ≥ 0 (default 0.005).
    pub delta: f64,
    /// The detection threshold λ, finite and > 0 (default 50).
    pub threshold: f64,
    /// The forgetting factor of the cumulative sums, in `(0, 1]` (default `1 − 0.0001`).
    pub alpha: f64,
    /// Up, down or both (default both).
    pub mode: PhMode,
}

impl Default for PageHinkleyConfig {
    fn default() -> Self {
        Self {
            min_instances: 30,
            delta: 0.005,
            threshold: 50.0,
            alpha: 1.0 - 0.0001,
            mode: PhMode::Both,
        }
    }
}

/// The Page-Hinkley test (a CUSUM chart) on the deviations of each value from the running
/// mean: `m⁺ = α·m⁺ + (x − x̄) − δ` and `m⁻ = α·m⁻ + (x − x̄) + δ`; a drift when
/// `m⁺ − min m⁺` (up) or `max m⁻ − m⁻` (down) exceeds λ, after `min_instances` values.
/// River's algorithm and order of operations (including its start of `max m⁻` at −1);
/// no warning zone. 88 bytes, its settings included.
///
/// ```
/// use npoa::control::drift::{Detector, PageHinkley, PageHinkleyConfig, Signal};
/// let mut ph = PageHinkley::new(PageHinkleyConfig { threshold: 10.0, ..Default::default() })?;
/// let signals: Vec<Signal> = (0..100).map(|i| ph.update(if i < 50 { 0.0 } else { 2.0 })).collect();
/// assert_eq!(signals.iter().position(|&s| s == Signal::Drift), Some(55));
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageHinkley {
    // `pub(crate)` for the state codec (`crate::state`).
    pub(crate) cfg: PageHinkleyConfig,
    /// Values seen (River's `Mean.n`, an integer in an `f64`).
    pub(crate) n: f64,
    pub(crate) mean: f64,
    pub(crate) sum_increase: f64,
    pub(crate) sum_decrease: f64,
    pub(crate) min_increase: f64,
    pub(crate) max_decrease: f64,
    /// The last value was a drift: the next one restarts the test.
    pub(crate) drift: bool,
}

pub(crate) fn check_config(c: &PageHinkleyConfig) -> Result<(), Error> {
    if !(c.delta.is_finite() && c.delta >= 0.0) {
        return Err(invalid("delta", "must be finite and >= 0"));
    }
    if !(c.threshold.is_finite() && c.threshold > 0.0) {
        return Err(invalid("threshold", "must be finite and > 0"));
    }
    if !(c.alpha > 0.0 && c.alpha <= 1.0) {
        return Err(invalid("alpha", "must be in (0, 1]"));
    }
    Ok(())
}

impl PageHinkley {
    /// A fresh test.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first setting out of its documented range.
    pub fn new(config: PageHinkleyConfig) -> Result<Self, Error> {
        check_config(&config)?;
        Ok(Self::empty(config))
    }

    pub(crate) fn empty(cfg: PageHinkleyConfig) -> Self {
        Self {
            cfg,
            n: 0.0,
            mean: 0.0,
            sum_increase: 0.0,
            sum_decrease: 0.0,
            min_increase: f64::INFINITY,
            max_decrease: -1.0,
            drift: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> PageHinkleyConfig {
        self.cfg
    }

    /// Values seen since the start (or the last restart after a drift).
    pub fn count(&self) -> u64 {
        self.n as u64
    }

    /// The running mean of those values.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The two statistics compared with the threshold: `(m⁺ − min m⁺, max m⁻ − m⁻)`.
    pub fn statistics(&self) -> (f64, f64) {
        (
            self.sum_increase - self.min_increase,
            self.max_decrease - self.sum_decrease,
        )
    }
}

impl Detector for PageHinkley {
    /// A NaN or an infinity is ignored (state untouched, [`Signal::Stable`]).
    fn update(&mut self, value: f32) -> Signal {
        if !value.is_finite() {
            return Signal::Stable;
        }
        if self.drift {
            *self = Self::empty(self.cfg);
        }
        let x = f64::from(value);
        let c = self.cfg;
        mean_update(&mut self.n, &mut self.mean, x);
        let dev = x - self.mean;
        self.sum_increase = c.alpha * self.sum_increase + dev - c.delta;
        self.sum_decrease = c.alpha * self.sum_decrease + dev + c.delta;
        if self.sum_increase < self.min_increase {
            self.min_increase = self.sum_increase;
        }
        if self.sum_decrease > self.max_decrease {
            self.max_decrease = self.sum_decrease;
        }
        if self.n >= f64::from(c.min_instances) {
            let (up, down) = self.statistics();
            self.drift = match c.mode {
                PhMode::Both => up > c.threshold || down > c.threshold,
                PhMode::Up => up > c.threshold,
                PhMode::Down => down > c.threshold,
            };
        }
        if self.drift {
            Signal::Drift
        } else {
            Signal::Stable
        }
    }

    fn reset(&mut self) {
        *self = Self::empty(self.cfg);
    }
}
