//! What an [`OnlineLearner`](super::OnlineLearner) stores for its drift detector and its
//! solver, chosen by type so that a learner pays in memory only for what it uses: a
//! Page-Hinkley detector is 88 bytes where an ADWIN is about 3,000, and the gradient rules
//! need none of the 688 bytes of an [`Rls<8>`].
//!
//! * `W`: [`DetectorSlot`], the detector [`OnlineConfig::detector`](super::OnlineConfig::detector)
//!   may name: [`Adwin`] (the default), [`PageHinkley`], [`Ddm`], [`Eddm`],
//!   [`AnyDetector`] to choose at run time, or [`NoDetector`] (no bytes).
//! * `S`: [`Solver`], [`Gradient`] (the default, no bytes: the update rule of
//!   [`OnlineConfig::optimizer`](super::OnlineConfig::optimizer)) or [`Rls<D>`] (recursive
//!   least squares, [`OnlineConfig::rls`](super::OnlineConfig::rls)).
//!
//! A configuration that names another detector or asks for RLS without its storage is refused
//! by [`OnlineLearner::new`](super::OnlineLearner::new) with [`Error::InvalidParameter`].

use crate::Error;
use crate::control::drift::{
    Adwin, AnyDetector, Ddm, Detector, DetectorConfig, Eddm, PageHinkley, Signal,
};
use crate::optim::{Rls, RlsConfig};

pub(crate) mod sealed {
    /// The types the crate implements the slots for (no one else can: the learner's bytes
    /// know only these).
    pub trait Sealed {}
}

/// The storage of an online learner's drift detector (its type parameter `W`).
pub trait DetectorSlot: Detector + Clone + core::fmt::Debug + PartialEq + sealed::Sealed {
    /// A detector of this type as `config` sets it.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `config` names another detector, or the detector's own
    /// error for a setting out of range.
    fn from_config(config: DetectorConfig) -> Result<Self, Error>;
    /// ADWIN's window mean (`None` for the others): the learner restarts only when the error
    /// rose.
    fn window_mean(&self) -> Option<f64>;
    /// The configuration it was made with.
    fn detector_config(&self) -> DetectorConfig;
}

fn other(reason: &'static str) -> Error {
    Error::InvalidParameter {
        name: "detector",
        reason,
    }
}

macro_rules! slot {
    ($ty:ty, $variant:ident, |$s:ident| $mean:expr, $reason:literal) => {
        impl sealed::Sealed for $ty {}
        impl DetectorSlot for $ty {
            fn from_config(config: DetectorConfig) -> Result<Self, Error> {
                match config {
                    DetectorConfig::$variant(c) => <$ty>::new(c),
                    _ => Err(other($reason)),
                }
            }
            fn window_mean(&self) -> Option<f64> {
                let $s = self;
                $mean
            }
            fn detector_config(&self) -> DetectorConfig {
                DetectorConfig::$variant(self.config())
            }
        }
    };
}

slot!(
    PageHinkley,
    PageHinkley,
    |_d| None,
    "this learner stores a Page-Hinkley detector (its type parameter W): for another one, \
     make W that detector's type or AnyDetector"
);
slot!(
    Adwin,
    Adwin,
    |d| Some(d.mean()),
    "this learner stores an ADWIN detector (its type parameter W): for another one, make W \
     that detector's type or AnyDetector"
);
slot!(
    Ddm,
    Ddm,
    |_d| None,
    "this learner stores a DDM detector (its type parameter W): for another one, make W that \
     detector's type or AnyDetector"
);
slot!(
    Eddm,
    Eddm,
    |_d| None,
    "this learner stores an EDDM detector (its type parameter W): for another one, make W \
     that detector's type or AnyDetector"
);

/// No detector: zero bytes, for a learner that needs none (a stationary stream, or drift
/// handled by the held-out heuristic [`Drift`](super::Drift) alone). Its
/// [`OnlineConfig::detector`](super::OnlineConfig::detector) must be `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoDetector;

impl Detector for NoDetector {
    fn update(&mut self, _: f32) -> Signal {
        Signal::Stable
    }
    fn reset(&mut self) {}
}

impl sealed::Sealed for NoDetector {}

impl DetectorSlot for NoDetector {
    fn from_config(_: DetectorConfig) -> Result<Self, Error> {
        Err(other(
            "this learner stores no detector (its type parameter W is NoDetector): set detector to None, or make W a detector's type",
        ))
    }
    fn window_mean(&self) -> Option<f64> {
        None
    }
    fn detector_config(&self) -> DetectorConfig {
        // Never called: a `NoDetector` is never made (`from_config` refuses every
        // configuration), so the learner's `Option<NoDetector>` is always `None`.
        DetectorConfig::PageHinkley(crate::control::drift::PageHinkleyConfig::default())
    }
}

impl sealed::Sealed for AnyDetector {}
impl DetectorSlot for AnyDetector {
    fn from_config(config: DetectorConfig) -> Result<Self, Error> {
        AnyDetector::new(config)
    }
    fn window_mean(&self) -> Option<f64> {
        match self {
            AnyDetector::Adwin(a) => Some(a.mean()),
            _ => None,
        }
    }
    fn detector_config(&self) -> DetectorConfig {
        self.config()
    }
}

/// The storage of an online learner's solver (its type parameter `S`).
pub trait Solver<const D: usize>: Copy + core::fmt::Debug + PartialEq + sealed::Sealed {
    /// The solver for [`OnlineConfig::rls`](super::OnlineConfig::rls), starting from the
    /// weights `w` and bias `b`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if this type holds no RLS state, or `config` is out of
    /// range.
    fn from_config(config: RlsConfig, w: &[f32; D], b: f32) -> Result<Self, Error>;
    /// The recursive-least-squares state, if this is one.
    fn rls(&mut self) -> Option<&mut Rls<D>>;
}

/// No solver state: the learner trains with its update rule
/// ([`OnlineConfig::optimizer`](super::OnlineConfig::optimizer)). Zero bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gradient;

impl sealed::Sealed for Gradient {}

impl<const D: usize> Solver<D> for Gradient {
    fn from_config(_: RlsConfig, _: &[f32; D], _: f32) -> Result<Self, Error> {
        Err(Error::InvalidParameter {
            name: "rls",
            reason: "this learner holds no RLS state (its type parameter S is Gradient): make S Rls<D>",
        })
    }
    fn rls(&mut self) -> Option<&mut Rls<D>> {
        None
    }
}

impl<const D: usize> sealed::Sealed for Rls<D> {}

impl<const D: usize> Solver<D> for Rls<D> {
    fn from_config(config: RlsConfig, w: &[f32; D], b: f32) -> Result<Self, Error> {
        Rls::with_params(config, w, b)
    }
    fn rls(&mut self) -> Option<&mut Rls<D>> {
        Some(self)
    }
}
