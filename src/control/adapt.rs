//! Metric-driven adaptation as pure state machines: a metric goes in after each epoch, a
//! decision comes out. No data, no model, no allocation: each can be unit-tested on a scripted
//! sequence of metrics, and the strategy controller composes them.
//!
//! * [`ReduceOnPlateau`] — PyTorch `ReduceLROnPlateau` semantics (mode, factor, patience,
//!   relative/absolute threshold, cooldown, `min_lr`, `eps`).
//! * [`Adaptive`] — scikit-learn's `learning_rate="adaptive"`: the rate is divided by 5 after
//!   `n_iter_no_change` epochs without an improvement of `tol`, and training stops when that
//!   happens with the rate already at or below 1e-6.
//! * [`EarlyStopping`] — Keras `EarlyStopping` semantics (min_delta, patience, baseline, start
//!   epoch); it reports when the metric is the best so far, so that the caller can keep a copy
//!   of the best weights and restore it when it stops.
//!
//! A NaN metric is never an improvement (PyTorch and Keras compare with `<`/`>`, which NaN
//! fails); it counts as a bad epoch.
//!
//! ```
//! use npoa::control::{Mode, Plateau, ReduceOnPlateau};
//! let mut p = ReduceOnPlateau::new(Plateau { patience: 1, ..Plateau::default() })?;
//! let mut lr = 0.1f32;
//! for loss in [1.0, 0.5, 0.5, 0.5] {
//!     if let Some(new) = p.step(loss, lr) {
//!         lr = new;
//!     }
//! }
//! assert!((lr - 0.01).abs() < 1e-9); // the second bad epoch exceeded patience 1: ×0.1
//! # let _ = Mode::Min;
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::Error;

/// Whether a smaller or a larger metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Smaller is better (a loss).
    #[default]
    Min,
    /// Larger is better (an accuracy, R²).
    Max,
}

/// How the improvement threshold is measured (PyTorch `threshold_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Threshold {
    /// Better than `best·(1 − threshold)` (min) or `best·(1 + threshold)` (max).
    #[default]
    Rel,
    /// Better than `best − threshold` (min) or `best + threshold` (max).
    Abs,
}

fn invalid(name: &'static str, reason: &'static str) -> Error {
    Error::InvalidParameter { name, reason }
}

/// Whether `a` improves on `best` by more than `threshold`, PyTorch's `is_better`.
fn is_better(mode: Mode, tmode: Threshold, threshold: f32, a: f32, best: f32) -> bool {
    let (a, best, th) = (f64::from(a), f64::from(best), f64::from(threshold));
    match (mode, tmode) {
        (Mode::Min, Threshold::Rel) => a < best * (1.0 - th),
        (Mode::Min, Threshold::Abs) => a < best - th,
        (Mode::Max, Threshold::Rel) => a > best * (th + 1.0),
        (Mode::Max, Threshold::Abs) => a > best + th,
    }
}

fn worst(mode: Mode) -> f32 {
    match mode {
        Mode::Min => f32::INFINITY,
        Mode::Max => f32::NEG_INFINITY,
    }
}

/// Settings of [`ReduceOnPlateau`]; the defaults are PyTorch's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plateau {
    /// Min or max (default min).
    pub mode: Mode,
    /// Factor applied to the rate on a plateau (in `(0, 1)`, default 0.1).
    pub factor: f32,
    /// Bad epochs tolerated before a reduction (default 10).
    pub patience: u32,
    /// Improvement threshold (finite, ≥ 0, default 1e-4).
    pub threshold: f32,
    /// Relative or absolute threshold (default relative).
    pub threshold_mode: Threshold,
    /// Epochs after a reduction during which bad epochs are not counted (default 0).
    pub cooldown: u32,
    /// Lower bound of the rate (finite, ≥ 0, default 0).
    pub min_lr: f32,
    /// A reduction smaller than this is ignored (finite, ≥ 0, default 1e-8).
    pub eps: f32,
}

impl Default for Plateau {
    fn default() -> Self {
        Self {
            mode: Mode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: Threshold::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

/// PyTorch's `ReduceLROnPlateau` as a state machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReduceOnPlateau {
    // `pub(crate)` for the checkpoint codec (`crate::state`).
    pub(crate) cfg: Plateau,
    pub(crate) best: f32,
    pub(crate) bad_epochs: u32,
    pub(crate) cooldown_left: u32,
}

impl ReduceOnPlateau {
    /// A fresh state.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first setting out of its documented range.
    pub fn new(cfg: Plateau) -> Result<Self, Error> {
        if !(cfg.factor.is_finite() && cfg.factor > 0.0 && cfg.factor < 1.0) {
            return Err(invalid("factor", "must be in (0, 1)"));
        }
        for (name, v) in [
            ("threshold", cfg.threshold),
            ("min_lr", cfg.min_lr),
            ("eps", cfg.eps),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid(name, "must be finite and >= 0"));
            }
        }
        Ok(Self {
            cfg,
            best: worst(cfg.mode),
            bad_epochs: 0,
            cooldown_left: 0,
        })
    }

    /// The best metric seen (±∞ before the first finite one).
    pub fn best(&self) -> f32 {
        self.best
    }

    /// Consecutive bad epochs counted so far.
    pub fn bad_epochs(&self) -> u32 {
        self.bad_epochs
    }

    /// Feeds one epoch's metric; returns the new rate if the rate must be reduced now.
    pub fn step(&mut self, metric: f32, current_lr: f32) -> Option<f32> {
        let c = self.cfg;
        if is_better(c.mode, c.threshold_mode, c.threshold, metric, self.best) {
            self.best = metric;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs = self.bad_epochs.saturating_add(1);
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_epochs = 0;
        }
        if self.bad_epochs > c.patience {
            self.cooldown_left = c.cooldown;
            self.bad_epochs = 0;
            let new = (current_lr * c.factor).max(c.min_lr);
            if current_lr - new > c.eps {
                return Some(new);
            }
        }
        None
    }
}

/// What [`Adaptive::step`] decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AdaptiveStep {
    /// Keep the rate.
    Keep,
    /// Use this new rate (the old one ÷ 5).
    Reduce(f32),
    /// Stop: no improvement with the rate already at or below 1e-6.
    Stop,
}

/// scikit-learn's `learning_rate="adaptive"` rule (`SGDRegressor`, `MLPRegressor`) on a mean
/// loss: an epoch is "no improvement" if `loss > best − tol`; after `n_iter_no_change` such
/// epochs in a row the rate is divided by 5, or training stops if it is already ≤ 1e-6.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adaptive {
    // `pub(crate)` for the checkpoint codec (`crate::state`).
    pub(crate) tol: f32,
    pub(crate) n_iter_no_change: u32,
    pub(crate) best: f32,
    pub(crate) count: u32,
}

impl Adaptive {
    /// scikit-learn's defaults are `tol = 1e-3`, `n_iter_no_change = 5`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `tol` is not finite and ≥ 0 or `n_iter_no_change == 0`.
    pub fn new(tol: f32, n_iter_no_change: u32) -> Result<Self, Error> {
        if !(tol.is_finite() && tol >= 0.0) {
            return Err(invalid("tol", "must be finite and >= 0"));
        }
        if n_iter_no_change == 0 {
            return Err(invalid("n_iter_no_change", "must be >= 1"));
        }
        Ok(Self {
            tol,
            n_iter_no_change,
            best: f32::INFINITY,
            count: 0,
        })
    }

    /// Feeds one epoch's mean training (or validation) loss.
    pub fn step(&mut self, loss: f32, current_lr: f32) -> AdaptiveStep {
        // As in scikit-learn: `loss > best − tol` (false for NaN there, so a NaN loss resets
        // the count; here a NaN is never an improvement).
        if loss.is_nan() || f64::from(loss) > f64::from(self.best) - f64::from(self.tol) {
            self.count = self.count.saturating_add(1);
        } else {
            self.count = 0;
        }
        if loss < self.best {
            self.best = loss;
        }
        if self.count >= self.n_iter_no_change {
            self.count = 0;
            if current_lr > 1e-6 {
                return AdaptiveStep::Reduce(current_lr / 5.0);
            }
            return AdaptiveStep::Stop;
        }
        AdaptiveStep::Keep
    }
}

/// Settings of [`EarlyStopping`]; the defaults are Keras's (with `patience = 10`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlyStop {
    /// Min or max (default min).
    pub mode: Mode,
    /// Smallest change that counts as an improvement (finite, ≥ 0, default 0).
    pub min_delta: f32,
    /// Epochs without improvement before stopping (default 10).
    pub patience: u32,
    /// An improvement resets the patience only if it also beats this (default none).
    pub baseline: Option<f32>,
    /// Epochs (counted from 1) before this one are not watched (default 0: all are).
    pub start_epoch: u32,
}

impl Default for EarlyStop {
    fn default() -> Self {
        Self {
            mode: Mode::Min,
            min_delta: 0.0,
            patience: 10,
            baseline: None,
            start_epoch: 0,
        }
    }
}

/// What [`EarlyStopping::step`] observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyStep {
    /// The metric is the best so far: keep a copy of these weights.
    Improved,
    /// No improvement (or not watching yet); go on.
    Continue,
    /// Patience exhausted: stop, and restore the best copy.
    Stop,
}

/// Keras `EarlyStopping` (Keras 3) as a state machine: `wait` grows every watched epoch; an
/// improvement (`metric + min_delta < best` in min mode, `metric − min_delta > best` in max
/// mode, or the first finite metric) makes it the best and resets `wait` only if it also beats
/// the baseline; `wait ≥ patience` stops. Unlike Keras, a NaN metric never becomes the best.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlyStopping {
    // `pub(crate)` for the checkpoint codec (`crate::state`).
    pub(crate) cfg: EarlyStop,
    pub(crate) best: Option<f32>,
    pub(crate) wait: u32,
    pub(crate) best_epoch: Option<u32>,
}

impl EarlyStopping {
    /// A fresh state.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `min_delta` is not finite and ≥ 0 or the baseline is NaN.
    pub fn new(cfg: EarlyStop) -> Result<Self, Error> {
        if !(cfg.min_delta.is_finite() && cfg.min_delta >= 0.0) {
            return Err(invalid("min_delta", "must be finite and >= 0"));
        }
        if cfg.baseline.is_some_and(f32::is_nan) {
            return Err(invalid("baseline", "must not be NaN"));
        }
        Ok(Self {
            cfg,
            best: None,
            wait: 0,
            best_epoch: None,
        })
    }

    /// The epoch of the best metric so far.
    pub fn best_epoch(&self) -> Option<u32> {
        self.best_epoch
    }

    /// The best metric so far.
    pub fn best(&self) -> Option<f32> {
        self.best
    }

    fn improves(&self, metric: f32, reference: f32) -> bool {
        let (m, r, d) = (
            f64::from(metric),
            f64::from(reference),
            f64::from(self.cfg.min_delta),
        );
        match self.cfg.mode {
            Mode::Min => m + d < r,
            Mode::Max => m - d > r,
        }
    }

    /// Feeds the metric of `epoch` (counted from 1; epochs before `start_epoch` are ignored).
    pub fn step(&mut self, epoch: u32, metric: f32) -> EarlyStep {
        if epoch < self.cfg.start_epoch {
            return EarlyStep::Continue;
        }
        self.wait = self.wait.saturating_add(1);
        let improved = match self.best {
            None => !metric.is_nan(),
            Some(best) => self.improves(metric, best),
        };
        if improved {
            self.best = Some(metric);
            self.best_epoch = Some(epoch);
            if self.cfg.baseline.is_none_or(|b| self.improves(metric, b)) {
                self.wait = 0;
            }
            return EarlyStep::Improved;
        }
        if self.wait >= self.cfg.patience {
            EarlyStep::Stop
        } else {
            EarlyStep::Continue
        }
    }
}
