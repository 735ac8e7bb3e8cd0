//! Learning-rate schedules as closed forms of the step count.
//!
//! A schedule gives the rate for step (or epoch) `t = 0, 1, 2, …` directly, without state, so
//! that a full `fit` and incremental training that resumes at step `t` agree, and so that the
//! controller can restart or shift a schedule by changing `t`. Each form is the closed form of
//! the PyTorch `lr_scheduler` class or scikit-learn rule named in its docs; they are evaluated
//! in `f64` with `libm` (pure software, so the same rate on every target) and returned as `f32`.
//!
//! Clamping to `[min_lr, max_lr]` is the strategy controller's job, not the schedule's: a
//! schedule may return `0` (cosine annealing to `eta_min = 0`, polynomial decay at its end).
//!
//! ```
//! use npoa::control::{LrSchedule, Schedule, Warmup};
//! // η₀ = 0.1, ×0.5 every 10 steps, after a 5-step linear warm-up from 0.1·η.
//! let s = LrSchedule::new(0.1, Schedule::Step { step_size: 10, gamma: 0.5 })?
//!     .with_warmup(Warmup { steps: 5, start_factor: 0.1 })?;
//! assert!((s.rate(0) - 0.01).abs() < 1e-9);
//! assert!((s.rate(5) - 0.1).abs() < 1e-9);
//! assert!((s.rate(25) - 0.025).abs() < 1e-9);
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::Error;
use core::f64::consts::PI;

/// Capacity of [`Milestones`].
pub const MAX_MILESTONES: usize = 16;

/// Sorted steps at which [`Schedule::MultiStep`] multiplies the rate by `gamma`; fixed
/// capacity [`MAX_MILESTONES`], no heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Milestones {
    at: [u32; MAX_MILESTONES],
    len: usize,
}

impl Milestones {
    /// Milestones from a strictly increasing list of at most [`MAX_MILESTONES`] steps.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if the list is too long or not strictly increasing.
    pub fn new(steps: &[u32]) -> Result<Self, Error> {
        if steps.len() > MAX_MILESTONES {
            return Err(invalid("milestones", "at most MAX_MILESTONES (16) steps"));
        }
        if steps.windows(2).any(|p| p[0] >= p[1]) {
            return Err(invalid("milestones", "must be strictly increasing"));
        }
        let mut at = [0u32; MAX_MILESTONES];
        for (dst, src) in at.iter_mut().zip(steps) {
            *dst = *src;
        }
        Ok(Self {
            at,
            len: steps.len(),
        })
    }

    /// The milestones.
    pub fn as_slice(&self) -> &[u32] {
        self.at.get(..self.len).unwrap_or(&[])
    }

    /// How many milestones are `≤ t` (Python's `bisect_right`).
    fn passed(&self, t: u64) -> usize {
        self.as_slice()
            .iter()
            .take_while(|&&m| u64::from(m) <= t)
            .count()
    }
}

/// How [`Schedule::OneCycle`] moves between its rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anneal {
    /// Half a cosine (PyTorch `anneal_strategy="cos"`).
    Cos,
    /// A straight line (PyTorch `anneal_strategy="linear"`).
    Linear,
}

/// The shape of a schedule; `η₀` is the base rate of the [`LrSchedule`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// `η₀` at every step.
    Constant,
    /// `η₀ · γ^⌊t / step_size⌋` (PyTorch `StepLR`).
    Step {
        /// Steps between decays (≥ 1).
        step_size: u32,
        /// Factor per decay (finite, > 0).
        gamma: f32,
    },
    /// `η₀ · γ^(number of milestones ≤ t)` (PyTorch `MultiStepLR`).
    MultiStep {
        /// The steps at which the rate decays.
        milestones: Milestones,
        /// Factor per milestone (finite, > 0).
        gamma: f32,
    },
    /// `η₀ · γ^t` (PyTorch `ExponentialLR`).
    Exponential {
        /// Factor per step (finite, > 0).
        gamma: f32,
    },
    /// `η₀ / (t + 1)^power_t` (scikit-learn `learning_rate="invscaling"`, whose step counter
    /// starts at 1).
    InvScaling {
        /// Exponent (finite, ≥ 0); scikit-learn's default is 0.25 (`SGDRegressor`).
        power_t: f32,
    },
    /// `η₀ · (1 − min(t, T)/T)^power` (PyTorch `PolynomialLR`): reaches 0 at `t = T`.
    Polynomial {
        /// `T` (≥ 1).
        total_steps: u32,
        /// Exponent (finite, ≥ 0).
        power: f32,
    },
    /// `η_min + (η₀ − η_min)·(1 + cos(π·t/T_max))/2` (the closed form of PyTorch
    /// `CosineAnnealingLR`; past `T_max` it rises again, as the closed form does).
    Cosine {
        /// Half period `T_max` (≥ 1).
        t_max: u32,
        /// Lowest rate (finite, `0 ≤ η_min ≤ η₀`).
        eta_min: f32,
    },
    /// Cosine annealing restarted every `T_i` steps, `T_0, T_0·T_mult, T_0·T_mult², …` (PyTorch
    /// `CosineAnnealingWarmRestarts`); the current period is found with integer arithmetic, so
    /// restarts fall exactly on their steps.
    CosineWarmRestarts {
        /// First period `T_0` (≥ 1).
        t_0: u32,
        /// Growth of the period (≥ 1).
        t_mult: u32,
        /// Lowest rate (finite, `0 ≤ η_min ≤ η₀`).
        eta_min: f32,
    },
    /// The one-cycle policy (PyTorch `OneCycleLR`, two phases): from `η₀/div_factor` up to `η₀`
    /// over the first `pct_start·total_steps − 1` steps, then down to
    /// `η₀/(div_factor·final_div_factor)` at step `total_steps − 1`; `η₀` is the peak
    /// (`max_lr`). Steps past the end keep the last rate.
    OneCycle {
        /// Number of steps of the cycle (≥ 2).
        total_steps: u32,
        /// Fraction of the cycle spent rising (in `(0, 1)`; PyTorch default 0.3).
        pct_start: f32,
        /// `η₀ / initial rate` (finite, > 0; PyTorch default 25).
        div_factor: f32,
        /// `initial rate / final rate` (finite, > 0; PyTorch default 1e4).
        final_div_factor: f32,
        /// Cosine or linear moves.
        anneal: Anneal,
    },
}

/// A linear warm-up: the schedule's rate is multiplied by a factor rising linearly from
/// `start_factor` at `t = 0` to 1 at `t = steps` (PyTorch `LinearLR` chained with the
/// schedule, as `ChainedScheduler` composes them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Warmup {
    /// Length of the warm-up (≥ 1).
    pub steps: u32,
    /// Factor at `t = 0` (in `(0, 1]`).
    pub start_factor: f32,
}

/// A base rate `η₀`, a [`Schedule`] and an optional [`Warmup`], validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrSchedule {
    base: f32,
    schedule: Schedule,
    warmup: Option<Warmup>,
}

fn invalid(name: &'static str, reason: &'static str) -> Error {
    Error::InvalidParameter { name, reason }
}

fn positive(name: &'static str, v: f32) -> Result<(), Error> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(name, "must be finite and > 0"))
    }
}

fn non_negative(name: &'static str, v: f32) -> Result<(), Error> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(invalid(name, "must be finite and >= 0"))
    }
}

fn at_least_one(name: &'static str, v: u32) -> Result<(), Error> {
    if v >= 1 {
        Ok(())
    } else {
        Err(invalid(name, "must be >= 1"))
    }
}

impl LrSchedule {
    /// A schedule with base rate `base` (`η₀`, the peak for [`Schedule::OneCycle`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first parameter out of its documented range.
    pub fn new(base: f32, schedule: Schedule) -> Result<Self, Error> {
        positive("learning_rate", base)?;
        match schedule {
            Schedule::Constant => {}
            Schedule::Step { step_size, gamma } => {
                at_least_one("step_size", step_size)?;
                positive("gamma", gamma)?;
            }
            Schedule::MultiStep { gamma, .. } | Schedule::Exponential { gamma } => {
                positive("gamma", gamma)?;
            }
            Schedule::InvScaling { power_t } => non_negative("power_t", power_t)?,
            Schedule::Polynomial { total_steps, power } => {
                at_least_one("total_steps", total_steps)?;
                non_negative("power", power)?;
            }
            Schedule::Cosine { t_max, eta_min } => {
                at_least_one("t_max", t_max)?;
                check_eta_min(eta_min, base)?;
            }
            Schedule::CosineWarmRestarts {
                t_0,
                t_mult,
                eta_min,
            } => {
                at_least_one("t_0", t_0)?;
                at_least_one("t_mult", t_mult)?;
                check_eta_min(eta_min, base)?;
            }
            Schedule::OneCycle {
                total_steps,
                pct_start,
                div_factor,
                final_div_factor,
                ..
            } => {
                if total_steps < 2 {
                    return Err(invalid("total_steps", "must be >= 2"));
                }
                if !(pct_start.is_finite() && pct_start > 0.0 && pct_start < 1.0) {
                    return Err(invalid("pct_start", "must be in (0, 1)"));
                }
                positive("div_factor", div_factor)?;
                positive("final_div_factor", final_div_factor)?;
            }
        }
        Ok(Self {
            base,
            schedule,
            warmup: None,
        })
    }

    /// The same schedule with a linear warm-up.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `steps == 0` or `start_factor` is not in `(0, 1]`.
    pub fn with_warmup(mut self, warmup: Warmup) -> Result<Self, Error> {
        at_least_one("warmup.steps", warmup.steps)?;
        let f = warmup.start_factor;
        if !(f.is_finite() && f > 0.0 && f <= 1.0) {
            return Err(invalid("warmup.start_factor", "must be in (0, 1]"));
        }
        self.warmup = Some(warmup);
        Ok(self)
    }

    /// The base rate `η₀`.
    pub fn base(&self) -> f32 {
        self.base
    }

    /// The schedule's shape.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The warm-up, if any ([`with_warmup`](Self::with_warmup)).
    pub fn warmup(&self) -> Option<Warmup> {
        self.warmup
    }

    /// The rate at step `t`: finite and ≥ 0 for every `t`. A growing schedule (`γ > 1`) that
    /// leaves the `f32` range saturates at `f32::MAX` (the controller clamps it to `max_lr`).
    pub fn rate(&self, t: u64) -> f32 {
        let r = self.rate_f64(t) * self.warmup_factor(t);
        if r.is_nan() || r <= 0.0 {
            0.0
        } else if r >= f64::from(f32::MAX) {
            f32::MAX
        } else {
            r as f32
        }
    }

    fn warmup_factor(&self, t: u64) -> f64 {
        match self.warmup {
            Some(Warmup {
                steps,
                start_factor,
            }) => {
                let s = f64::from(start_factor);
                let frac = (t.min(u64::from(steps)) as f64) / f64::from(steps);
                s + (1.0 - s) * frac
            }
            None => 1.0,
        }
    }

    fn rate_f64(&self, t: u64) -> f64 {
        let base = f64::from(self.base);
        let tf = t as f64;
        match self.schedule {
            Schedule::Constant => base,
            Schedule::Step { step_size, gamma } => {
                let k = t / u64::from(step_size.max(1));
                base * libm::pow(f64::from(gamma), k as f64)
            }
            Schedule::MultiStep { milestones, gamma } => {
                base * libm::pow(f64::from(gamma), milestones.passed(t) as f64)
            }
            Schedule::Exponential { gamma } => base * libm::pow(f64::from(gamma), tf),
            Schedule::InvScaling { power_t } => base / libm::pow(tf + 1.0, f64::from(power_t)),
            Schedule::Polynomial { total_steps, power } => {
                let big_t = f64::from(total_steps.max(1));
                let left = 1.0 - tf.min(big_t) / big_t;
                base * libm::pow(left, f64::from(power))
            }
            Schedule::Cosine { t_max, eta_min } => {
                cosine(base, f64::from(eta_min), tf / f64::from(t_max.max(1)))
            }
            Schedule::CosineWarmRestarts {
                t_0,
                t_mult,
                eta_min,
            } => {
                let (t_cur, t_i) = restart_position(t, u64::from(t_0.max(1)), u64::from(t_mult));
                cosine(base, f64::from(eta_min), t_cur as f64 / t_i as f64)
            }
            Schedule::OneCycle {
                total_steps,
                pct_start,
                div_factor,
                final_div_factor,
                anneal,
            } => {
                let initial = base / f64::from(div_factor);
                let min_lr = initial / f64::from(final_div_factor);
                let total = f64::from(total_steps);
                let end_up = f64::from(pct_start) * total - 1.0;
                let end_down = total - 1.0;
                let step = tf.min(end_down);
                let (start, end, s0, s1) = if step <= end_up {
                    (initial, base, 0.0, end_up)
                } else {
                    (base, min_lr, end_up, end_down)
                };
                let span = s1 - s0;
                let pct = if span > 0.0 { (step - s0) / span } else { 1.0 };
                match anneal {
                    Anneal::Cos => end + (start - end) / 2.0 * (libm::cos(PI * pct) + 1.0),
                    Anneal::Linear => (end - start) * pct + start,
                }
            }
        }
    }
}

fn check_eta_min(eta_min: f32, base: f32) -> Result<(), Error> {
    if eta_min.is_finite() && eta_min >= 0.0 && eta_min <= base {
        Ok(())
    } else {
        Err(invalid(
            "eta_min",
            "must be finite with 0 <= eta_min <= learning_rate",
        ))
    }
}

/// `η_min + (η₀ − η_min)·(1 + cos(π·frac))/2`.
fn cosine(base: f64, eta_min: f64, frac: f64) -> f64 {
    eta_min + (base - eta_min) * (1.0 + libm::cos(PI * frac)) / 2.0
}

/// `(T_cur, T_i)` of a warm-restart schedule at step `t`: periods `T_0·T_mult^k`, found by
/// walking the periods in integers (saturating: a period that would overflow is the last).
fn restart_position(t: u64, t_0: u64, t_mult: u64) -> (u64, u64) {
    if t_mult <= 1 {
        return (t % t_0, t_0);
    }
    let mut start = 0u64;
    let mut period = t_0;
    loop {
        let end = start.saturating_add(period);
        if t < end || end == u64::MAX {
            return (t - start, period);
        }
        start = end;
        period = period.saturating_mul(t_mult);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f64) -> bool {
        (f64::from(a) - b).abs() <= 1e-6 * b.abs().max(1e-12)
    }

    #[test]
    fn restart_positions_fall_on_exact_steps() {
        // T_0 = 10, T_mult = 2: periods [0,10), [10,30), [30,70), [70,150) …
        assert_eq!(restart_position(0, 10, 2), (0, 10));
        assert_eq!(restart_position(9, 10, 2), (9, 10));
        assert_eq!(restart_position(10, 10, 2), (0, 20));
        assert_eq!(restart_position(29, 10, 2), (19, 20));
        assert_eq!(restart_position(30, 10, 2), (0, 40));
        assert_eq!(restart_position(70, 10, 2), (0, 80));
        assert_eq!(restart_position(25, 10, 1), (5, 10));
        // Never panics, even at the end of the range.
        let (c, p) = restart_position(u64::MAX, 3, 7);
        assert!(c <= p);
    }

    #[test]
    fn milestones_validate() {
        assert!(Milestones::new(&[30, 80]).is_ok());
        assert!(Milestones::new(&[30, 30]).is_err());
        assert!(Milestones::new(&[80, 30]).is_err());
        assert!(Milestones::new(&[1; 17]).is_err());
        let m = Milestones::new(&[30, 80]).unwrap_or_else(|_| unreachable!());
        assert_eq!(
            (m.passed(29), m.passed(30), m.passed(79), m.passed(80)),
            (0, 1, 1, 2)
        );
    }

    #[test]
    fn one_cycle_hits_its_three_rates() {
        let s = LrSchedule::new(
            1.0,
            Schedule::OneCycle {
                total_steps: 100,
                pct_start: 0.3,
                div_factor: 25.0,
                final_div_factor: 1e4,
                anneal: Anneal::Cos,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(close(s.rate(0), 0.04));
        assert!(close(s.rate(29), 1.0));
        assert!(close(s.rate(99), 0.04 / 1e4));
        assert!(close(s.rate(1000), 0.04 / 1e4));
    }
}
