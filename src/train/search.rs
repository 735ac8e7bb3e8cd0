//! Strategy search: pick the initial rate and its decay by trying them, within a fixed budget
//! of training runs, scored on a validation set. The seed names random optimisation and
//! simulated annealing; both are here, seeded (`Xoshiro256PlusPlus`), with fixed-size state.
//!
//! A candidate is an initial rate `η₀` (searched on a log scale) and an exponential decay
//! `γ` per epoch (`η_t = η₀·γ^t`); each is trained by [`Training`] with the default
//! divergence guard, and scored by the validation loss of the best model it returned.
//! (Regularisation strength joins the space when the proximal steps exist.)

use crate::Error;
use crate::control::{Controller, ControllerConfig, LrSchedule, Schedule};
use crate::train::{Dataset, TrainConfig, Trainable, Training};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// How candidates are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Independent uniform draws over the space (log scale for the rate).
    Random,
    /// Simulated annealing: a random start, then moves to a neighbour (a step of
    /// `step` × the range on each axis), accepted when better, or with probability
    /// `exp(−Δ/T)` where `Δ` is the increase of `ln(score)`; `T` starts at `t0` and is
    /// multiplied by `cooling` after every move.
    Annealing {
        /// Starting temperature (finite, > 0).
        t0: f32,
        /// Cooling factor per move (in `(0, 1)`).
        cooling: f32,
        /// Neighbourhood size as a fraction of each axis (in `(0, 1]`).
        step: f32,
    },
}

/// The search space and budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchConfig {
    /// Initial rate range `[lo, hi]` (finite, `0 < lo ≤ hi`), searched log-uniformly.
    pub lr: (f32, f32),
    /// Decay range `[lo, hi]` (finite, `0 < lo ≤ hi ≤ 1`).
    pub gamma: (f32, f32),
    /// Random or annealing.
    pub method: Method,
    /// Training runs allowed (≥ 1).
    pub budget: u32,
    /// Seed of the search (the training runs use `train.seed`).
    pub seed: u64,
    /// Epochs, batch size and shuffling of each training run.
    pub train: TrainConfig,
}

/// One evaluated candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Initial rate.
    pub lr: f32,
    /// Decay per epoch.
    pub gamma: f32,
    /// Validation loss of the best model of its run (`+∞` if none was finite).
    pub score: f32,
}

/// A point of the space in unit coordinates: `(log-rate fraction, decay fraction)`.
type Point = (f64, f64);

fn unit(rng: &mut Xoshiro256PlusPlus) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn check(cfg: &SearchConfig) -> Result<(), Error> {
    let inv = |name, reason| Error::InvalidParameter { name, reason };
    let (a, b) = cfg.lr;
    if !(a.is_finite() && b.is_finite() && a > 0.0 && a <= b) {
        return Err(inv("lr", "must be a finite range with 0 < lo <= hi"));
    }
    let (a, b) = cfg.gamma;
    if !(a.is_finite() && b.is_finite() && a > 0.0 && a <= b && b <= 1.0) {
        return Err(inv("gamma", "must be a range with 0 < lo <= hi <= 1"));
    }
    if cfg.budget == 0 {
        return Err(inv("budget", "must be >= 1"));
    }
    if let Method::Annealing { t0, cooling, step } = cfg.method {
        if !(t0.is_finite() && t0 > 0.0) {
            return Err(inv("t0", "must be finite and > 0"));
        }
        if !(cooling.is_finite() && cooling > 0.0 && cooling < 1.0) {
            return Err(inv("cooling", "must be in (0, 1)"));
        }
        if !(step.is_finite() && step > 0.0 && step <= 1.0) {
            return Err(inv("step", "must be in (0, 1]"));
        }
    }
    cfg.train.validate()
}

fn candidate(cfg: &SearchConfig, p: Point) -> (f32, f32) {
    let (lo, hi) = (
        libm::log(f64::from(cfg.lr.0)),
        libm::log(f64::from(cfg.lr.1)),
    );
    let lr = libm::exp(lo + (hi - lo) * p.0) as f32;
    let g = f64::from(cfg.gamma.0) + f64::from(cfg.gamma.1 - cfg.gamma.0) * p.1;
    (
        lr.clamp(cfg.lr.0, cfg.lr.1),
        (g as f32).clamp(cfg.gamma.0, cfg.gamma.1),
    )
}

fn evaluate<M: Trainable + Default>(
    train: &Dataset<'_>,
    val: &Dataset<'_>,
    cfg: &SearchConfig,
    lr: f32,
    gamma: f32,
) -> Result<(f32, M), Error> {
    let schedule = LrSchedule::new(lr, Schedule::Exponential { gamma })?;
    let mut ctl = Controller::new(ControllerConfig {
        schedule,
        ..ControllerConfig::constant(lr)?
    })?;
    let mut m = M::default();
    Training::new(&cfg.train)
        .controller(&mut ctl)
        .validation(val)
        .fit(&mut m, train)?;
    let obj = m.objective();
    let score = (M::kernels().loss)(obj, val.x(), val.y(), {
        let (w, b) = m.params();
        (w, b)
    })
    .unwrap_or(f32::INFINITY);
    Ok((if score.is_nan() { f32::INFINITY } else { score }, m))
}

/// Runs the search; calls `on_trial` after each training run and returns the best candidate
/// and its model.
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad configuration; data errors as [`Training::fit`].
pub fn search<M: Trainable + Default>(
    train: &Dataset<'_>,
    val: &Dataset<'_>,
    cfg: &SearchConfig,
    on_trial: &mut dyn FnMut(&Candidate),
) -> Result<(Candidate, M), Error> {
    let mut best: Option<(f32, M)> = None;
    let cand = search_by(
        cfg,
        &mut |lr, gamma| {
            let (score, model) = evaluate::<M>(train, val, cfg, lr, gamma)?;
            if best.as_ref().is_none_or(|(b, _)| score < *b) {
                best = Some((score, model));
            }
            Ok(score)
        },
        on_trial,
    )?;
    let model = best.map(|(_, m)| m).unwrap_or_default();
    Ok((cand, model))
}

/// The search with the training run supplied by the caller: `evaluate(lr, gamma)` trains a
/// candidate (for any model, of any size) and returns its validation score (lower is better;
/// use `+∞` for a failed run). [`search`] is this with a fixed-size model.
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad configuration; any error of `evaluate`.
pub fn search_by(
    cfg: &SearchConfig,
    evaluate: &mut dyn FnMut(f32, f32) -> Result<f32, Error>,
    on_trial: &mut dyn FnMut(&Candidate),
) -> Result<Candidate, Error> {
    check(cfg)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
    let mut best: Option<Candidate> = None;
    let mut current: Option<(Point, f32)> = None;
    let mut temp = match cfg.method {
        Method::Annealing { t0, .. } => f64::from(t0),
        Method::Random => 0.0,
    };
    for _ in 0..cfg.budget {
        let p: Point = match (cfg.method, current) {
            (Method::Annealing { step, .. }, Some(((a, b), _))) => {
                let s = f64::from(step);
                (
                    (a + s * (2.0 * unit(&mut rng) - 1.0)).clamp(0.0, 1.0),
                    (b + s * (2.0 * unit(&mut rng) - 1.0)).clamp(0.0, 1.0),
                )
            }
            _ => (unit(&mut rng), unit(&mut rng)),
        };
        let (lr, gamma) = candidate(cfg, p);
        let score = evaluate(lr, gamma)?;
        let score = if score.is_nan() { f32::INFINITY } else { score };
        let cand = Candidate { lr, gamma, score };
        on_trial(&cand);
        if best.as_ref().is_none_or(|b| score < b.score) {
            best = Some(cand);
        }
        if let Method::Annealing { cooling, .. } = cfg.method {
            let accept = match current {
                None => true,
                Some((_, cur)) if score <= cur => true,
                Some((_, cur)) => {
                    let delta = libm::log(f64::from(score)) - libm::log(f64::from(cur));
                    let pr = if temp > 0.0 && delta.is_finite() {
                        libm::exp(-delta / temp)
                    } else {
                        0.0
                    };
                    unit(&mut rng) < pr
                }
            };
            if accept {
                current = Some((p, score));
            }
            temp *= f64::from(cooling);
        }
    }
    // `budget ≥ 1`, so a candidate exists; the fallback is for the type only.
    best.ok_or(Error::InvalidParameter {
        name: "budget",
        reason: "must be >= 1",
    })
}
