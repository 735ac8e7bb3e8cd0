//! Statistical drift detectors as pure, fixed-memory state machines: a value goes in, a
//! [`Signal`] comes out. No allocation, no data kept beyond a fixed-size summary; each is a
//! port of River's detector of the same name (River 0.26, `river.drift`), so that with the
//! same parameters npoa and River make the same decisions at the same indices on the same
//! stream (`peers/river_drift.py` runs both side by side).
//!
//! * [`Adwin`] — ADWIN (Bifet & Gavaldà 2007) over an exponential histogram of buckets, with
//!   River's `delta`, `clock`, `max_buckets`, `min_window_length` and `grace_period`, in at
//!   most [`ADWIN_ROWS`] rows (the only difference from River, see [`Adwin`]), and an optional
//!   warning zone;
//! * [`PageHinkley`] — the Page-Hinkley test on a fading mean (up, down or both);
//! * [`Ddm`] — DDM on a binary error stream (error rate and its standard deviation);
//! * [`Eddm`] — EDDM on a binary error stream (distances between errors).
//!
//! [`DetectorConfig`] and [`AnyDetector`] choose one at run time.
//!
//! ## Conventions shared by all four (River's)
//! * After a [`Signal::Drift`] the detector still shows the state that made the decision
//!   (for [`Adwin`] the shrunk window); the **next** accepted value starts it afresh, as
//!   River's `update` does (`if self.drift_detected: self._reset()`).
//! * A value the detector cannot use is **ignored**: the state is left exactly as it was and
//!   the answer is [`Signal::Stable`]. That is a NaN or an infinity for every detector, and a
//!   value outside `[0, 1]` for the binary ones ([`Ddm`], [`Eddm`]). Never a panic.
//! * Sums, means and variances are `f64`, in River's order of operations (IEEE arithmetic,
//!   no fused multiply-add; `sqrt` and `ln` from the `libm` crate), so the decisions are the
//!   same on every target.
//!
//! ```
//! use npoa::control::drift::{Detector, PageHinkley, PageHinkleyConfig, Signal};
//! let mut ph = PageHinkley::new(PageHinkleyConfig::default())?;
//! let mut first = None;
//! for i in 0..2000u32 {
//!     let x = if i < 1000 { (i % 2) as f32 } else { 5.0 + (i % 4) as f32 };
//!     if ph.update(x) == Signal::Drift && first.is_none() {
//!         first = Some(i);
//!     }
//! }
//! assert!(first.is_some_and(|i| (1000..1020).contains(&i)));
//! # Ok::<(), npoa::Error>(())
//! ```

mod adwin;
mod ddm;
mod eddm;
mod page_hinkley;

pub use adwin::{ADWIN_MAX_BUCKETS, ADWIN_ROWS, Adwin, AdwinConfig};
pub use ddm::{Ddm, DdmConfig};
pub use eddm::{Eddm, EddmConfig};
pub use page_hinkley::{PageHinkley, PageHinkleyConfig, PhMode};

use crate::Error;

/// What a detector says after a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// No change seen.
    Stable,
    /// The warning zone: a change may be coming ([`Ddm`], [`Eddm`], [`Adwin`] with a warning
    /// delta).
    Warning,
    /// A change was detected at this value.
    Drift,
}

/// The common interface of the detectors.
pub trait Detector {
    /// Feeds one value; says whether it shows a change (see the [module docs](self) for the
    /// values that are ignored).
    fn update(&mut self, value: f32) -> Signal;
    /// Forgets everything seen (the configuration stays).
    fn reset(&mut self);
}

pub(crate) fn invalid(name: &'static str, reason: &'static str) -> Error {
    Error::InvalidParameter { name, reason }
}

/// The settings of one of the detectors (to choose one at run time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DetectorConfig {
    /// [`Adwin`].
    Adwin(AdwinConfig),
    /// [`PageHinkley`].
    PageHinkley(PageHinkleyConfig),
    /// [`Ddm`].
    Ddm(DdmConfig),
    /// [`Eddm`].
    Eddm(EddmConfig),
}

/// One of the detectors, chosen at run time.
///
/// ```
/// use npoa::control::drift::{AnyDetector, Detector, DetectorConfig, DdmConfig, Signal};
/// let mut d = AnyDetector::new(DetectorConfig::Ddm(DdmConfig::default()))?;
/// assert_eq!(d.update(0.0), Signal::Stable);
/// assert_eq!(d.update(f32::NAN), Signal::Stable); // ignored
/// # Ok::<(), npoa::Error>(())
/// ```
// No heap, so no `Box<Adwin>`: the enum is as large as an `Adwin` (about 3 KB); a caller that
// only needs a small detector uses its type directly.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum AnyDetector {
    /// [`Adwin`].
    Adwin(Adwin),
    /// [`PageHinkley`].
    PageHinkley(PageHinkley),
    /// [`Ddm`].
    Ddm(Ddm),
    /// [`Eddm`].
    Eddm(Eddm),
}

impl DetectorConfig {
    /// Checks the configuration as the detector's `new` would, without building the detector
    /// (an ADWIN is about 3 KB: a check that built one took that much stack on a device).
    ///
    /// # Errors
    /// The [`Error::InvalidParameter`] of that detector's `new`.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Self::Adwin(c) => adwin::check_config(c),
            Self::PageHinkley(c) => page_hinkley::check_config(c),
            Self::Ddm(c) => ddm::check_config(c),
            Self::Eddm(c) => eddm::check_config(c),
        }
    }
}

impl AnyDetector {
    /// A fresh detector of the configured kind.
    ///
    /// # Errors
    /// The [`Error::InvalidParameter`] of that detector's `new`.
    pub fn new(config: DetectorConfig) -> Result<Self, Error> {
        Ok(match config {
            DetectorConfig::Adwin(c) => Self::Adwin(Adwin::new(c)?),
            DetectorConfig::PageHinkley(c) => Self::PageHinkley(PageHinkley::new(c)?),
            DetectorConfig::Ddm(c) => Self::Ddm(Ddm::new(c)?),
            DetectorConfig::Eddm(c) => Self::Eddm(Eddm::new(c)?),
        })
    }

    /// The configuration it was made with.
    pub fn config(&self) -> DetectorConfig {
        match self {
            Self::Adwin(d) => DetectorConfig::Adwin(d.config()),
            Self::PageHinkley(d) => DetectorConfig::PageHinkley(d.config()),
            Self::Ddm(d) => DetectorConfig::Ddm(d.config()),
            Self::Eddm(d) => DetectorConfig::Eddm(d.config()),
        }
    }
}

impl Detector for AnyDetector {
    fn update(&mut self, value: f32) -> Signal {
        match self {
            Self::Adwin(d) => d.update(value),
            Self::PageHinkley(d) => d.update(value),
            Self::Ddm(d) => d.update(value),
            Self::Eddm(d) => d.update(value),
        }
    }

    fn reset(&mut self) {
        match self {
            Self::Adwin(d) => d.reset(),
            Self::PageHinkley(d) => d.reset(),
            Self::Ddm(d) => d.reset(),
            Self::Eddm(d) => d.reset(),
        }
    }
}

/// River's `stats.Mean` with unit weights: `n += 1; mean += (1 / n)·(x − mean)`.
#[inline]
pub(crate) fn mean_update(n: &mut f64, mean: &mut f64, x: f64) {
    *n += 1.0;
    *mean += (1.0 / *n) * (x - *mean);
}
