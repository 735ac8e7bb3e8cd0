//! ADWIN over an exponential histogram in fixed memory (River's `ADWIN`, its Rust helper
//! `AdaptiveWindowing`, operation for operation).

use super::{Detector, Signal, invalid};
use crate::Error;

/// Rows of the exponential histogram (row `i` holds buckets of `2^i` samples). River lets the
/// list of rows grow without bound; here it is fixed, which bounds the window at
/// `max_buckets·(2^20 − 1)` samples (5,242,875 with the default 5 buckets).
pub const ADWIN_ROWS: usize = 20;
/// The largest `max_buckets` accepted (each row has room for `max_buckets + 1` buckets, the
/// last one briefly, before a merge).
pub const ADWIN_MAX_BUCKETS: usize = 8;
const CAP: usize = ADWIN_MAX_BUCKETS + 1;

/// Settings of [`Adwin`]; the defaults are River's (`drift.ADWIN()`), without a warning zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdwinConfig {
    /// Significance of a cut, in `(0, 1)` (default 0.002): smaller finds fewer changes.
    pub delta: f64,
    /// Check for a change every `clock` values (≥ 1, default 32).
    pub clock: u32,
    /// Buckets of each size kept before two are merged, `1..=`[`ADWIN_MAX_BUCKETS`]
    /// (default 5).
    pub max_buckets: u32,
    /// The least samples on each side of a cut (≥ 1, default 5).
    pub min_window_length: u32,
    /// No check until the window holds more than this many samples (default 10).
    pub grace_period: u32,
    /// A warning zone (an npoa addition, `None` by default, which is River's ADWIN): at each
    /// check that finds no drift, [`Signal::Warning`] if some cut is significant at this
    /// larger delta, in `(delta, 1)`. The answer holds until the next check. The decisions on
    /// drift do not depend on it.
    pub warning_delta: Option<f64>,
}

impl Default for AdwinConfig {
    fn default() -> Self {
        Self {
            delta: 0.002,
            clock: 32,
            max_buckets: 5,
            min_window_length: 5,
            grace_period: 10,
            warning_delta: None,
        }
    }
}

/// ADWIN (Bifet & Gavaldà 2007): a window of recent values, summarised by an exponential
/// histogram (ADWIN2), that drops its oldest buckets while the means of an older and a newer
/// part of it differ by more than a Hoeffding-type bound at significance `delta`. A drop is a
/// [`Signal::Drift`].
///
/// This is River's algorithm (River 0.26's Rust helper: the same cuts, the same merge and
/// variance formulas in the same order, `f64`), with two differences, both outside what
/// River's defaults reach in practice:
/// * **fixed memory**: at most [`ADWIN_ROWS`] rows. When the last row would overflow (a
///   window of `max_buckets·(2^20 − 1)` samples, 5,242,875 with the defaults, with no change
///   in it), its oldest bucket is dropped instead of merged into a new row: the window
///   forgets its oldest `2^19` samples, without a signal. River would keep growing. Streams
///   without such a stationary stretch give identical decisions.
/// * with `max_buckets = 1` a row can be empty between two full ones; after deleting the
///   oldest bucket, every empty row at the old end is let go. River lets go of one only, and
///   its next deletion then reads the empty row: it raises a `PanicException` (River 0.26,
///   `ADWIN(max_buckets=1, clock=…, min_window_length=1, grace_period=0)` on a shifted
///   Gaussian stream). With `max_buckets ≥ 2` no inner row is ever empty and the two agree.
///
/// After a drift the shrunk window remains visible ([`width`](Self::width),
/// [`mean`](Self::mean)) until the next value, which, as in River, starts a new, empty window.
///
/// Memory: `size_of::<Adwin>()` is under 3,000 bytes (two `f64` per bucket, 20 rows of 9);
/// an update costs `O(1)` amortised, a check (every `clock` values) `O(rows·buckets)` per cut
/// tried.
///
/// ```
/// use npoa::control::drift::{Adwin, AdwinConfig, Detector, Signal};
/// let mut adwin = Adwin::new(AdwinConfig::default())?;
/// let mut at = None;
/// for i in 0..2000u32 {
///     let x = if i < 1000 { (i % 2) as f32 } else { 4.0 + (i % 4) as f32 };
///     if adwin.update(x) == Signal::Drift && at.is_none() {
///         at = Some(i);
///     }
/// }
/// assert_eq!(at, Some(1023)); // the first check (every 32 values) after the change
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Adwin {
    // `pub(crate)` for the state codec (`crate::state`).
    pub(crate) cfg: AdwinConfig,
    /// Sum of the window's values.
    pub(crate) total: f64,
    /// Sum of squared deviations from the window's mean (River's `variance`).
    pub(crate) variance: f64,
    /// Samples in the window (an integer, as River keeps it).
    pub(crate) width: f64,
    /// Values since the window (re)started.
    pub(crate) tick: u64,
    /// Drifts since `new` or `reset`.
    pub(crate) detections: u64,
    /// Rows in use (`1..=ADWIN_ROWS`).
    pub(crate) rows: u8,
    /// Buckets in each row.
    pub(crate) len: [u8; ADWIN_ROWS],
    /// Each bucket's sum, oldest first in a row; unused slots are zero.
    pub(crate) totals: [[f64; CAP]; ADWIN_ROWS],
    /// Each bucket's sum of squared deviations; unused slots are zero.
    pub(crate) variances: [[f64; CAP]; ADWIN_ROWS],
    /// The last value was a drift: the next one restarts the window.
    pub(crate) drift: bool,
    /// The last check found a warning.
    pub(crate) warning: bool,
}

/// `2^i` as `f64` (River's `_calculate_bucket_size`).
#[inline]
fn size(i: usize) -> f64 {
    (1u64 << (i & 63)) as f64
}

pub(crate) fn check_config(c: &AdwinConfig) -> Result<(), Error> {
    if !(c.delta.is_finite() && c.delta > 0.0 && c.delta < 1.0) {
        return Err(invalid("delta", "must be in (0, 1)"));
    }
    if c.clock == 0 {
        return Err(invalid("clock", "must be >= 1"));
    }
    if c.max_buckets == 0 || c.max_buckets as usize > ADWIN_MAX_BUCKETS {
        return Err(invalid(
            "max_buckets",
            "must be in 1..=8 (ADWIN_MAX_BUCKETS)",
        ));
    }
    if c.min_window_length == 0 {
        return Err(invalid("min_window_length", "must be >= 1"));
    }
    if let Some(w) = c.warning_delta
        && !(w.is_finite() && w > c.delta && w < 1.0)
    {
        return Err(invalid("warning_delta", "must be in (delta, 1)"));
    }
    Ok(())
}

impl Adwin {
    /// An empty window.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first setting out of its documented range.
    pub fn new(config: AdwinConfig) -> Result<Self, Error> {
        check_config(&config)?;
        Ok(Self::empty(config))
    }

    /// River's defaults with a warning zone at `warning_delta` (in `(0.002, 1)`, e.g. 0.01):
    /// see [`AdwinConfig::warning_delta`].
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `warning_delta` is out of range.
    pub fn with_warning(warning_delta: f64) -> Result<Self, Error> {
        Self::new(AdwinConfig {
            warning_delta: Some(warning_delta),
            ..AdwinConfig::default()
        })
    }

    /// The configuration.
    pub fn config(&self) -> AdwinConfig {
        self.cfg
    }

    /// Samples in the window.
    pub fn width(&self) -> u64 {
        self.width as u64
    }

    /// The window's mean (0 when it is empty).
    pub fn mean(&self) -> f64 {
        if self.width > 0.0 {
            self.total / self.width
        } else {
            0.0
        }
    }

    /// River's name for [`mean`](Self::mean).
    pub fn estimation(&self) -> f64 {
        self.mean()
    }

    /// Sum of the window's values.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// The window's variance (divided by its width; 0 when empty). River's
    /// `ADWIN.variance` is this times [`width`](Self::width).
    pub fn variance(&self) -> f64 {
        if self.width > 0.0 {
            self.variance / self.width
        } else {
            0.0
        }
    }

    /// Drifts signalled since [`new`](Self::new) or [`reset`](Detector::reset).
    pub fn detections(&self) -> u64 {
        self.detections
    }

    /// Buckets in use (all rows).
    pub fn buckets(&self) -> usize {
        self.len.iter().map(|&l| usize::from(l)).sum()
    }

    fn row_len(&self, row: usize) -> usize {
        usize::from(self.len.get(row).copied().unwrap_or(0))
    }

    fn at(&self, row: usize, k: usize) -> (f64, f64) {
        let t = self.totals.get(row).and_then(|r| r.get(k)).copied();
        let v = self.variances.get(row).and_then(|r| r.get(k)).copied();
        (t.unwrap_or(0.0), v.unwrap_or(0.0))
    }

    fn insert_data(&mut self, row: usize, total: f64, variance: f64) {
        let k = self.row_len(row);
        if let (Some(l), Some(t), Some(v)) = (
            self.len.get_mut(row),
            self.totals.get_mut(row).and_then(|r| r.get_mut(k)),
            self.variances.get_mut(row).and_then(|r| r.get_mut(k)),
        ) {
            *t = total;
            *v = variance;
            *l += 1;
        }
    }

    /// Drops the `n` oldest buckets of `row`, clearing the freed slots.
    fn compress(&mut self, row: usize, n: usize) {
        let len = self.row_len(row);
        if let (Some(l), Some(t), Some(v)) = (
            self.len.get_mut(row),
            self.totals.get_mut(row),
            self.variances.get_mut(row),
        ) {
            for j in 0..CAP {
                let src = j + n;
                let (ts, vs) = if src < len {
                    (t.get(src).copied(), v.get(src).copied())
                } else {
                    (None, None)
                };
                if let (Some(tj), Some(vj)) = (t.get_mut(j), v.get_mut(j)) {
                    *tj = ts.unwrap_or(0.0);
                    *vj = vs.unwrap_or(0.0);
                }
            }
            *l = l.saturating_sub(n as u8);
        }
    }

    fn insert_element(&mut self, value: f64) {
        self.insert_data(0, value, 0.0);
        self.width += 1.0;
        let mut incremental = 0.0;
        if self.width > 1.0 {
            let d = value - self.total / (self.width - 1.0);
            incremental = (self.width - 1.0) * d * d / self.width;
        }
        self.variance += incremental;
        self.total += value;
        self.compress_buckets();
    }

    fn compress_buckets(&mut self) {
        let full = self.cfg.max_buckets as usize + 1;
        let mut idx = 0usize;
        while self.row_len(idx) == full {
            if idx + 1 >= ADWIN_ROWS {
                // Fixed memory: no row for the merge; forget the oldest bucket instead.
                self.delete_element();
                break;
            }
            let n1 = size(idx);
            let (t0, v0) = self.at(idx, 0);
            let (t1, v1) = self.at(idx, 1);
            let mu1 = t0 / n1;
            let mu2 = t1 / n1;
            let total12 = t0 + t1;
            let temp = n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2);
            let v12 = v0 + v1 + temp;
            if idx + 1 >= usize::from(self.rows) {
                self.rows = (idx + 2) as u8;
            }
            self.insert_data(idx + 1, total12, v12);
            self.compress(idx, 2);
            if self.row_len(idx + 1) < full {
                break;
            }
            idx += 1;
        }
    }

    /// Removes the oldest bucket (the first of the last row); returns its size.
    fn delete_element(&mut self) -> f64 {
        let last = usize::from(self.rows).saturating_sub(1);
        let n = size(last);
        let (u, v) = self.at(last, 0);
        let mu = u / n;
        self.width -= n;
        self.total -= u;
        let mu_window = self.total / self.width;
        let incremental =
            v + n * self.width * (mu - mu_window) * (mu - mu_window) / (n + self.width);
        self.variance -= incremental;
        self.compress(last, 1);
        while self.rows > 1 && self.row_len(usize::from(self.rows) - 1) == 0 {
            self.rows -= 1;
        }
        n
    }

    /// River's `_detect_change`; also sets the warning flag when configured.
    fn detect_change(&mut self) -> bool {
        let mut change = false;
        self.tick = self.tick.wrapping_add(1);
        let c = self.cfg;
        if self.tick.checked_rem(u64::from(c.clock)) == Some(0)
            && self.width > f64::from(c.grace_period)
        {
            let mwl = f64::from(c.min_window_length);
            let mut warn = false;
            let mut reduce = true;
            // Each pass deletes one bucket or ends the loop: at most `buckets()` passes.
            while reduce {
                reduce = false;
                warn = false;
                let mut exit = false;
                let (mut n0, mut n1, mut u0, mut u1) = (0.0f64, self.width, 0.0f64, self.total);
                // River recomputes these at each cut; they only change with the width, which
                // is fixed within a pass.
                let ln_w = libm::log(self.width);
                let dp = libm::log(2.0 * ln_w / c.delta);
                let dp_warn = c.warning_delta.map(|d| libm::log(2.0 * ln_w / d));
                let vw = self.variance / self.width;
                'rows: for idx in (0..usize::from(self.rows)).rev() {
                    if exit {
                        break;
                    }
                    let bs = size(idx);
                    let len = self.row_len(idx);
                    for k in 0..len {
                        n0 += bs;
                        n1 -= bs;
                        let (t, _) = self.at(idx, k);
                        u0 += t;
                        u1 -= t;
                        if idx == 0 && k + 1 == len {
                            exit = true;
                            break;
                        }
                        let delta_mean = (u0 / n0) - (u1 / n1);
                        if n1 >= mwl && n0 >= mwl {
                            let m_recip = 1.0 / (n0 - mwl + 1.0) + 1.0 / (n1 - mwl + 1.0);
                            if cut(delta_mean, m_recip, vw, dp) {
                                reduce = true;
                                change = true;
                                if self.width > 0.0 {
                                    self.delete_element();
                                    break 'rows;
                                }
                            } else if let Some(dpw) = dp_warn
                                && cut(delta_mean, m_recip, vw, dpw)
                            {
                                warn = true;
                            }
                        }
                    }
                }
            }
            if c.warning_delta.is_some() {
                self.warning = warn;
            }
        }
        change
    }

    /// Empties the window (River's reset after a drift); keeps the detection count.
    fn restart(&mut self) {
        let detections = self.detections;
        *self = Self::empty(self.cfg);
        self.detections = detections;
    }

    fn empty(cfg: AdwinConfig) -> Self {
        Self {
            cfg,
            total: 0.0,
            variance: 0.0,
            width: 0.0,
            tick: 0,
            detections: 0,
            rows: 1,
            len: [0; ADWIN_ROWS],
            totals: [[0.0; CAP]; ADWIN_ROWS],
            variances: [[0.0; CAP]; ADWIN_ROWS],
            drift: false,
            warning: false,
        }
    }
}

/// River's `_evaluate_cut` with `delta_prime` and the window's variance precomputed.
#[inline]
fn cut(delta_mean: f64, m_recip: f64, var_in_window: f64, delta_prime: f64) -> bool {
    let epsilon =
        libm::sqrt(2.0 * m_recip * var_in_window * delta_prime) + 2.0 / 3.0 * delta_prime * m_recip;
    libm::fabs(delta_mean) > epsilon
}

impl Detector for Adwin {
    /// Adds `value` to the window and, every `clock` values, looks for a change; a NaN or
    /// an infinity is ignored (state untouched, [`Signal::Stable`]).
    fn update(&mut self, value: f32) -> Signal {
        if !value.is_finite() {
            return Signal::Stable;
        }
        if self.drift {
            self.restart();
        }
        self.insert_element(f64::from(value));
        if self.detect_change() {
            self.drift = true;
            self.detections = self.detections.saturating_add(1);
            Signal::Drift
        } else if self.warning {
            Signal::Warning
        } else {
            Signal::Stable
        }
    }

    fn reset(&mut self) {
        self.restart();
        self.detections = 0;
    }
}
