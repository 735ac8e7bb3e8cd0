//! `defmt::Format` (the `defmt` feature), for a firmware that logs over defmt: the errors, the
//! controller's events and verdicts, the online learner's step report, a drift detector's
//! signal and the small enums in them. Written here rather than derived on the types; the
//! output follows `Debug`'s shape.

use crate::Error;
use crate::control::{
    AdaptiveStep, EarlyStep, Event, EventKind, RateCause, RollbackCause, Stop, Verdict,
};
use crate::loss::Loss;
use crate::online::StepReport;
use crate::optim::Rule;
use crate::train::Decision;
use defmt::{Format, Formatter, write};

impl Format for Error {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            Error::ZeroFeatures => write!(f, "ZeroFeatures"),
            Error::EmptyBatch => write!(f, "EmptyBatch"),
            Error::LengthMismatch {
                what,
                expected,
                found,
            } => write!(
                f,
                "LengthMismatch {{ what: {=str}, expected: {=usize}, found: {=usize} }}",
                what, expected, found
            ),
            Error::NonFinite { what, index } => write!(
                f,
                "NonFinite {{ what: {=str}, index: {=usize} }}",
                what, index
            ),
            Error::Overflow { what } => write!(f, "Overflow {{ what: {=str} }}", what),
            Error::InvalidParameter { name, reason } => write!(
                f,
                "InvalidParameter {{ name: {=str}, reason: {=str} }}",
                name, reason
            ),
            Error::InvalidData { what, reason } => write!(
                f,
                "InvalidData {{ what: {=str}, reason: {=str} }}",
                what, reason
            ),
            Error::Diverged { epoch } => write!(f, "Diverged {{ epoch: {=u32} }}", epoch),
            Error::FeatureMismatch { model, data } => write!(
                f,
                "FeatureMismatch {{ model: {=usize}, data: {=usize} }}",
                model, data
            ),
            Error::InvalidBytes { reason } => {
                write!(f, "InvalidBytes {{ reason: {=str} }}", reason)
            }
            Error::Io { what } => write!(f, "Io {{ what: {=str} }}", what),
        }
    }
}

impl Format for Stop {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{=str}", self.name());
    }
}

impl Format for RateCause {
    fn format(&self, f: Formatter<'_>) {
        let name = match self {
            RateCause::Plateau => "Plateau",
            RateCause::Adaptive => "Adaptive",
            RateCause::Rollback => "Rollback",
        };
        write!(f, "{=str}", name);
    }
}

impl Format for RollbackCause {
    fn format(&self, f: Formatter<'_>) {
        let name = match self {
            RollbackCause::NonFinite => "NonFinite",
            RollbackCause::Spike => "Spike",
        };
        write!(f, "{=str}", name);
    }
}

impl Format for EventKind {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            EventKind::Improved { metric } => {
                write!(f, "Improved {{ metric: {=f32} }}", metric)
            }
            EventKind::RateChanged { from, to, cause } => write!(
                f,
                "RateChanged {{ from: {=f32}, to: {=f32}, cause: {} }}",
                from, to, cause
            ),
            EventKind::RolledBack { cause, retry } => {
                write!(f, "RolledBack {{ cause: {}, retry: {=u32} }}", cause, retry)
            }
            EventKind::Stopped(stop) => write!(f, "Stopped({})", stop),
            EventKind::Restarted {
                metric,
                previous_best,
            } => write!(
                f,
                "Restarted {{ metric: {=f32}, previous_best: {=f32} }}",
                metric, previous_best
            ),
        }
    }
}

impl Format for Event {
    fn format(&self, f: Formatter<'_>) {
        write!(
            f,
            "Event {{ epoch: {=u32}, kind: {} }}",
            self.epoch, self.kind
        );
    }
}

impl Format for Verdict {
    fn format(&self, f: Formatter<'_>) {
        write!(
            f,
            "Verdict {{ save_best: {=bool}, roll_back: {=bool}, stop: {} }}",
            self.save_best, self.roll_back, self.stop
        );
    }
}

impl Format for StepReport {
    fn format(&self, f: Formatter<'_>) {
        write!(
            f,
            "StepReport {{ updates: {=u32}, rounds: {=u32}, metric: {}, restarted: {=bool}, \
             stopped: {} }}",
            self.updates, self.rounds, self.metric, self.restarted, self.stopped
        );
    }
}

impl Format for Decision {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            Decision::Continue => write!(f, "Continue"),
            Decision::SetLearningRate(lr) => write!(f, "SetLearningRate({=f32})", lr),
            Decision::Stop => write!(f, "Stop"),
        }
    }
}

impl Format for AdaptiveStep {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            AdaptiveStep::Keep => write!(f, "Keep"),
            AdaptiveStep::Reduce(lr) => write!(f, "Reduce({=f32})", lr),
            AdaptiveStep::Stop => write!(f, "Stop"),
        }
    }
}

impl Format for EarlyStep {
    fn format(&self, f: Formatter<'_>) {
        let name = match self {
            EarlyStep::Improved => "Improved",
            EarlyStep::Continue => "Continue",
            EarlyStep::Stop => "Stop",
        };
        write!(f, "{=str}", name);
    }
}

/// The loss's name and, for Huber and quantile, its parameter (`huber(delta=1)`).
impl Format for Loss {
    fn format(&self, f: Formatter<'_>) {
        match self.param_name() {
            Some(p) => write!(f, "{=str}({=str}={=f32})", self.name(), p, self.param()),
            None => write!(f, "{=str}", self.name()),
        }
    }
}

/// The rule's name (`adam`, `nesterov`, …); its parameters are in `Debug`.
impl Format for Rule {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{=str}", self.name());
    }
}

impl Format for crate::control::drift::Signal {
    fn format(&self, f: Formatter<'_>) {
        use crate::control::drift::Signal;
        match self {
            Signal::Stable => write!(f, "Stable"),
            Signal::Warning => write!(f, "Warning"),
            Signal::Drift => write!(f, "Drift"),
        }
    }
}
