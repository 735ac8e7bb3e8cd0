//! The controller's encoding: its whole configuration (so that a decoded controller is
//! self-contained and validated as [`Controller::new`] validates) and its adaptation state.

use super::codec::{FRAME_LEN, Kind, Reader, Writer, corrupt, finite};
use crate::Error;
use crate::control::{
    Anneal, Clip, Controller, ControllerConfig, EarlyStop, EarlyStopping, Guard, LrSchedule,
    MAX_MILESTONES, Milestones, Mode, Plateau, Schedule, Threshold, Warmup,
};

/// Bytes of a schedule's variant slot (the largest, `MultiStep`: count, 16 steps, γ).
const SCHEDULE_SLOT: usize = 1 + 4 * MAX_MILESTONES + 4;
/// The schedule: base (4), variant tag (1), its slot, warm-up (9).
const SCHEDULE_LEN: usize = 4 + 1 + SCHEDULE_SLOT + 9;
/// `Option<Plateau>`: presence, mode, factor, patience, threshold, threshold mode, cooldown,
/// min_lr, eps.
const PLATEAU_LEN: usize = 1 + 1 + 4 + 4 + 4 + 1 + 4 + 4 + 4;
/// `Option<EarlyStop>`: presence, mode, min_delta, patience, baseline (5), start epoch.
const EARLY_LEN: usize = 1 + 1 + 4 + 4 + 5 + 4;
/// The configuration: schedule, min/max rate, plateau, adaptive (9), early stop, target (5),
/// guard (13), clip (3 × 5), tol (5), the certificate flag (1), certify_every (4).
const CONFIG_LEN: usize = SCHEDULE_LEN + 8 + PLATEAU_LEN + 9 + EARLY_LEN + 5 + 13 + 15 + 5 + 1 + 4;
/// The state: plateau (best, bad epochs, cooldown left), adaptive (best, count), early stop
/// (best 5, wait, best epoch 5), scale, best, retries, origin, certificate, its mark.
const STATE_LEN: usize = 12 + 8 + 14 + 24;

/// Bytes of a controller inside a larger state (no frame).
pub const CONTROLLER_RAW_LEN: usize = CONFIG_LEN + STATE_LEN;

impl Controller {
    /// Bytes of [`encode`](Self::encode)'s output: 259 (a 12-byte frame around 247 bytes).
    pub const ENCODED_LEN: usize = FRAME_LEN + CONTROLLER_RAW_LEN;

    /// Writes the controller (configuration and state) into `out[..ENCODED_LEN]`; returns
    /// [`ENCODED_LEN`](Self::ENCODED_LEN). See [`crate::state`] for the layout.
    ///
    /// ```
    /// use npoa::control::{Controller, ControllerConfig};
    /// let c = Controller::new(ControllerConfig::constant(0.1)?)?;
    /// let mut buf = [0u8; Controller::ENCODED_LEN];
    /// c.encode(&mut buf)?;
    /// assert_eq!(Controller::decode(&buf)?, c);
    /// # Ok::<(), npoa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `out` is shorter.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::frame(out, Self::ENCODED_LEN, Kind::Controller)?;
        put(&mut w, self);
        w.finish()
    }

    /// Reads what [`encode`](Self::encode) wrote.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a wrong length, [`Error::InvalidBytes`] naming the
    /// problem (magic, version, kind, checksum, a tag or a state value out of range), or the
    /// [`Error::InvalidParameter`] of [`Controller::new`] for a setting out of range.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::frame(bytes, Self::ENCODED_LEN, Kind::Controller)?;
        get(&mut r)
    }
}

fn mode_code(m: Mode) -> u8 {
    match m {
        Mode::Min => 0,
        Mode::Max => 1,
    }
}

fn mode_of(v: u8) -> Result<Mode, Error> {
    match v {
        0 => Ok(Mode::Min),
        1 => Ok(Mode::Max),
        _ => Err(corrupt("unknown mode")),
    }
}

fn put_schedule(w: &mut Writer<'_>, s: &LrSchedule) {
    w.f32(s.base());
    let start = w.pos() + 1;
    match *s.schedule() {
        Schedule::Constant => w.u8(0),
        Schedule::Step { step_size, gamma } => {
            w.u8(1);
            w.u32(step_size);
            w.f32(gamma);
        }
        Schedule::MultiStep { milestones, gamma } => {
            w.u8(2);
            let m = milestones.as_slice();
            w.u8(m.len() as u8);
            for i in 0..MAX_MILESTONES {
                w.u32(m.get(i).copied().unwrap_or(0));
            }
            w.f32(gamma);
        }
        Schedule::Exponential { gamma } => {
            w.u8(3);
            w.f32(gamma);
        }
        Schedule::InvScaling { power_t } => {
            w.u8(4);
            w.f32(power_t);
        }
        Schedule::Polynomial { total_steps, power } => {
            w.u8(5);
            w.u32(total_steps);
            w.f32(power);
        }
        Schedule::Cosine { t_max, eta_min } => {
            w.u8(6);
            w.u32(t_max);
            w.f32(eta_min);
        }
        Schedule::CosineWarmRestarts {
            t_0,
            t_mult,
            eta_min,
        } => {
            w.u8(7);
            w.u32(t_0);
            w.u32(t_mult);
            w.f32(eta_min);
        }
        Schedule::OneCycle {
            total_steps,
            pct_start,
            div_factor,
            final_div_factor,
            anneal,
        } => {
            w.u8(8);
            w.u32(total_steps);
            w.f32(pct_start);
            w.f32(div_factor);
            w.f32(final_div_factor);
            w.u8(match anneal {
                Anneal::Cos => 0,
                Anneal::Linear => 1,
            });
        }
    }
    let used = w.pos() - start;
    w.zeros(SCHEDULE_SLOT.saturating_sub(used));
    let wu = s.warmup();
    w.bool(wu.is_some());
    w.u32(wu.map_or(0, |u| u.steps));
    w.f32(wu.map_or(0.0, |u| u.start_factor));
}

fn get_schedule(r: &mut Reader<'_>) -> Result<LrSchedule, Error> {
    let base = r.f32();
    let tag = r.u8();
    let start = r.pos();
    let schedule = match tag {
        0 => Schedule::Constant,
        1 => Schedule::Step {
            step_size: r.u32(),
            gamma: r.f32(),
        },
        2 => {
            let len = usize::from(r.u8());
            if len > MAX_MILESTONES {
                return Err(corrupt("too many milestones"));
            }
            let mut at = [0u32; MAX_MILESTONES];
            for a in &mut at {
                *a = r.u32();
            }
            if at
                .get(len..)
                .is_some_and(|rest| rest.iter().any(|&v| v != 0))
            {
                return Err(corrupt("unused milestone slots are not zero"));
            }
            Schedule::MultiStep {
                milestones: Milestones::new(at.get(..len).unwrap_or(&[]))?,
                gamma: r.f32(),
            }
        }
        3 => Schedule::Exponential { gamma: r.f32() },
        4 => Schedule::InvScaling { power_t: r.f32() },
        5 => Schedule::Polynomial {
            total_steps: r.u32(),
            power: r.f32(),
        },
        6 => Schedule::Cosine {
            t_max: r.u32(),
            eta_min: r.f32(),
        },
        7 => Schedule::CosineWarmRestarts {
            t_0: r.u32(),
            t_mult: r.u32(),
            eta_min: r.f32(),
        },
        8 => Schedule::OneCycle {
            total_steps: r.u32(),
            pct_start: r.f32(),
            div_factor: r.f32(),
            final_div_factor: r.f32(),
            anneal: match r.u8() {
                0 => Anneal::Cos,
                1 => Anneal::Linear,
                _ => return Err(corrupt("unknown anneal")),
            },
        },
        _ => return Err(corrupt("unknown schedule")),
    };
    let used = r.pos() - start;
    r.zeros(
        SCHEDULE_SLOT.saturating_sub(used),
        "schedule padding is not zero",
    )?;
    let has_warmup = r.bool("warmup presence is not 0 or 1")?;
    let (steps, start_factor) = (r.u32(), r.f32());
    let s = LrSchedule::new(base, schedule)?;
    if has_warmup {
        s.with_warmup(Warmup {
            steps,
            start_factor,
        })
    } else if steps != 0 || start_factor.to_bits() != 0 {
        Err(corrupt("absent warmup is not zero"))
    } else {
        Ok(s)
    }
}

fn put_config(w: &mut Writer<'_>, c: &ControllerConfig) {
    put_schedule(w, &c.schedule);
    w.f32(c.min_lr);
    w.f32(c.max_lr);
    match c.plateau {
        Some(p) => {
            w.u8(1);
            w.u8(mode_code(p.mode));
            w.f32(p.factor);
            w.u32(p.patience);
            w.f32(p.threshold);
            w.u8(match p.threshold_mode {
                Threshold::Rel => 0,
                Threshold::Abs => 1,
            });
            w.u32(p.cooldown);
            w.f32(p.min_lr);
            w.f32(p.eps);
        }
        None => w.zeros(PLATEAU_LEN),
    }
    w.bool(c.adaptive.is_some());
    let (tol, n) = c.adaptive.unwrap_or((0.0, 0));
    w.f32(tol);
    w.u32(n);
    match c.early_stop {
        Some(e) => {
            w.u8(1);
            w.u8(mode_code(e.mode));
            w.f32(e.min_delta);
            w.u32(e.patience);
            w.opt_f32(e.baseline);
            w.u32(e.start_epoch);
        }
        None => w.zeros(EARLY_LEN),
    }
    w.opt_f32(c.target);
    w.bool(c.guard.is_some());
    let g = c.guard.unwrap_or(Guard {
        spike_factor: 0.0,
        cut: 0.0,
        max_retries: 0,
    });
    w.f32(g.spike_factor);
    w.f32(g.cut);
    w.u32(g.max_retries);
    w.opt_f32(c.clip.value);
    w.opt_f32(c.clip.norm);
    w.opt_f32(c.clip.trust_radius);
    w.opt_f32(c.tol);
    w.bool(c.plateau_follows_certificate);
    w.u32(c.certify_every);
}

fn get_config(r: &mut Reader<'_>) -> Result<ControllerConfig, Error> {
    let schedule = get_schedule(r)?;
    let (min_lr, max_lr) = (r.f32(), r.f32());
    let plateau = if r.bool("plateau presence is not 0 or 1")? {
        Some(Plateau {
            mode: mode_of(r.u8())?,
            factor: r.f32(),
            patience: r.u32(),
            threshold: r.f32(),
            threshold_mode: match r.u8() {
                0 => Threshold::Rel,
                1 => Threshold::Abs,
                _ => return Err(corrupt("unknown threshold mode")),
            },
            cooldown: r.u32(),
            min_lr: r.f32(),
            eps: r.f32(),
        })
    } else {
        r.zeros(PLATEAU_LEN - 1, "absent plateau is not zero")?;
        None
    };
    let adaptive = if r.bool("adaptive presence is not 0 or 1")? {
        Some((r.f32(), r.u32()))
    } else {
        r.zeros(8, "absent adaptive rule is not zero")?;
        None
    };
    let early_stop = if r.bool("early stop presence is not 0 or 1")? {
        Some(EarlyStop {
            mode: mode_of(r.u8())?,
            min_delta: r.f32(),
            patience: r.u32(),
            baseline: r.opt_f32("early stop baseline presence")?,
            start_epoch: r.u32(),
        })
    } else {
        r.zeros(EARLY_LEN - 1, "absent early stop is not zero")?;
        None
    };
    let target = r.opt_f32("target presence")?;
    let guard = if r.bool("guard presence is not 0 or 1")? {
        Some(Guard {
            spike_factor: r.f32(),
            cut: r.f32(),
            max_retries: r.u32(),
        })
    } else {
        r.zeros(12, "absent guard is not zero")?;
        None
    };
    let clip = Clip {
        value: r.opt_f32("clip.value presence")?,
        norm: r.opt_f32("clip.norm presence")?,
        trust_radius: r.opt_f32("clip.trust_radius presence")?,
    };
    Ok(ControllerConfig {
        schedule,
        min_lr,
        max_lr,
        plateau,
        adaptive,
        early_stop,
        target,
        guard,
        clip,
        tol: r.opt_f32("tol presence")?,
        plateau_follows_certificate: r.bool("plateau_follows_certificate is not 0 or 1")?,
        certify_every: r.u32(),
    })
}

/// `Ok` if `v` is finite or `+∞` (a best metric before any, or one seen).
fn finite_or_inf(v: f32, what: &'static str) -> Result<f32, Error> {
    if v.is_finite() || v == f32::INFINITY {
        Ok(v)
    } else {
        Err(corrupt(what))
    }
}

/// Writes a controller (no frame): [`CONTROLLER_RAW_LEN`] bytes.
pub(crate) fn put(w: &mut Writer<'_>, c: &Controller) {
    put_config(w, &c.cfg);
    let p = c
        .plateau
        .map_or((0.0, 0, 0), |p| (p.best, p.bad_epochs, p.cooldown_left));
    w.f32(p.0);
    w.u32(p.1);
    w.u32(p.2);
    let a = c.adaptive.map_or((0.0, 0), |a| (a.best, a.count));
    w.f32(a.0);
    w.u32(a.1);
    match c.early {
        Some(e) => {
            w.opt_f32(e.best);
            w.u32(e.wait);
            w.opt_u32(e.best_epoch);
        }
        None => w.zeros(14),
    }
    w.f32(c.scale);
    w.f32(c.best);
    w.u32(c.retries);
    w.u32(c.origin);
    w.f32(c.cert);
    w.f32(c.cert_mark);
}

/// Reads a controller (no frame) and checks every invariant its methods rely on.
pub(crate) fn get(r: &mut Reader<'_>) -> Result<Controller, Error> {
    let cfg = get_config(r)?;
    let mut c = Controller::new(cfg)?;
    let (pbest, bad, cool) = (r.f32(), r.u32(), r.u32());
    match (c.plateau.as_mut(), cfg.plateau) {
        (Some(p), Some(pc)) => {
            p.best = finite_or_inf(pbest, "plateau best is neither finite nor +inf")?;
            if bad > pc.patience {
                return Err(corrupt("plateau bad epochs above its patience"));
            }
            if cool > pc.cooldown {
                return Err(corrupt("plateau cooldown left above its cooldown"));
            }
            (p.bad_epochs, p.cooldown_left) = (bad, cool);
        }
        _ if pbest.to_bits() != 0 || bad != 0 || cool != 0 => {
            return Err(corrupt("state of an absent plateau rule is not zero"));
        }
        _ => {}
    }
    let (abest, count) = (r.f32(), r.u32());
    match c.adaptive.as_mut() {
        Some(a) => {
            a.best = finite_or_inf(abest, "adaptive best is neither finite nor +inf")?;
            if count >= a.n_iter_no_change {
                return Err(corrupt("adaptive count at or above n_iter_no_change"));
            }
            a.count = count;
        }
        None if abest.to_bits() != 0 || count != 0 => {
            return Err(corrupt("state of an absent adaptive rule is not zero"));
        }
        None => {}
    }
    match c.early.as_mut() {
        Some(e) => {
            let best = r.opt_f32("early stop best presence")?;
            let wait = r.u32();
            let best_epoch = r.opt_u32("early stop best epoch presence")?;
            if best.is_some() != best_epoch.is_some() {
                return Err(corrupt("early stop best and best epoch disagree"));
            }
            if let Some(b) = best {
                finite(b, "early stop best is not finite")?;
            }
            *e = EarlyStopping {
                best,
                wait,
                best_epoch,
                ..*e
            };
        }
        None => r.zeros(14, "state of an absent early stop is not zero")?,
    }
    let scale = r.f32();
    if !(scale.is_finite() && scale >= f32::MIN_POSITIVE) {
        return Err(corrupt("rate scale is not finite and positive"));
    }
    c.scale = scale;
    c.best = finite_or_inf(r.f32(), "best metric is neither finite nor +inf")?;
    c.retries = r.u32();
    let budget = cfg.guard.map_or(0, |g| g.max_retries);
    if c.retries > budget.saturating_add(1) {
        return Err(corrupt("rollbacks beyond the guard's budget"));
    }
    c.origin = r.u32();
    c.cert = r.f32();
    c.cert_mark = finite_or_inf(r.f32(), "certificate mark is neither finite nor +inf")?;
    Ok(c)
}
