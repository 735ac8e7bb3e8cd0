//! The drift detectors' encoding (kind 8): a tag byte naming the detector, then its whole
//! configuration (validated on decoding as its `new` validates it) and its state, every
//! invariant of which is checked.
//!
//! | detector | tag | raw bytes | fields |
//! |---|---:|---:|---|
//! | [`Adwin`] | 1 | 2976 | configuration (33: delta, clock, max_buckets, min_window_length, grace_period, warning delta presence + `f64`); total, sum of squares, width (`f64`), tick, detections (`u64`); rows, drift and warning flags; 20 row lengths; 20 × 9 buckets (sum, sum of squares, `f64`) |
//! | [`PageHinkley`] | 2 | 78 | configuration (29: min_instances, delta, threshold, alpha, mode); count, mean, the two sums, their min and max (`f64`); drift flag |
//! | [`Ddm`] | 3 | 62 | configuration (20: warm_start, warning and drift thresholds); count, error rate, `p_min`, `s_min`, `p_min + s_min` (`f64`); warning and drift flags |
//! | [`Eddm`] | 4 | 78 | configuration (20: warm_start, alpha, beta); values, last error, errors (`u64`); the distances' count, mean and sum of squares, the largest `p′ + 2s′` (`f64`); warning and drift flags |
//!
//! A detector alone is a frame around its tag and raw bytes; an [`AnyDetector`] is a frame
//! around the tag and a slot of [`DETECTOR_SLOT`] bytes (the largest, ADWIN's), zero-padded
//! (checked). Inside a larger state, [`put_detector`]/[`get_detector`] write and read the
//! same tag and slot ([`DETECTOR_RAW_LEN`] bytes) without a frame.

use super::codec::{FRAME_LEN, Kind, Reader, Writer, corrupt};
use crate::Error;
use crate::control::drift::{
    ADWIN_MAX_BUCKETS, ADWIN_ROWS, Adwin, AdwinConfig, AnyDetector, Ddm, DdmConfig, Eddm,
    EddmConfig, PageHinkley, PageHinkleyConfig, PhMode,
};

const CAP: usize = ADWIN_MAX_BUCKETS + 1;
/// Raw bytes of an [`Adwin`] (no tag, no frame).
pub const ADWIN_RAW_LEN: usize = 33 + 40 + 3 + ADWIN_ROWS + ADWIN_ROWS * CAP * 16;
/// Raw bytes of a [`PageHinkley`].
pub const PAGE_HINKLEY_RAW_LEN: usize = 29 + 48 + 1;
/// Raw bytes of a [`Ddm`].
pub const DDM_RAW_LEN: usize = 20 + 40 + 2;
/// Raw bytes of an [`Eddm`].
pub const EDDM_RAW_LEN: usize = 20 + 24 + 32 + 2;
/// The slot of an [`AnyDetector`]: the largest detector's raw bytes.
pub const DETECTOR_SLOT: usize = ADWIN_RAW_LEN;
/// Bytes of an [`AnyDetector`] inside a larger state (tag and slot, no frame).
pub const DETECTOR_RAW_LEN: usize = 1 + DETECTOR_SLOT;

const TAG_ADWIN: u8 = 1;
const TAG_PH: u8 = 2;
const TAG_DDM: u8 = 3;
const TAG_EDDM: u8 = 4;

/// The largest count an `f64` counter can hold exactly.
const MAX_COUNT: f64 = 9_007_199_254_740_992.0; // 2^53

fn count(v: f64, what: &'static str) -> Result<f64, Error> {
    if (0.0..=MAX_COUNT).contains(&v) && v == libm::trunc(v) {
        Ok(v)
    } else {
        Err(corrupt(what))
    }
}

fn fin(v: f64, what: &'static str) -> Result<f64, Error> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(corrupt(what))
    }
}

fn tag_of(r: &mut Reader<'_>, want: u8) -> Result<(), Error> {
    if r.u8() != want {
        return Err(corrupt("wrong detector tag (another detector's bytes)"));
    }
    Ok(())
}

macro_rules! framed {
    ($ty:ty, $raw:expr, $tag:expr, $put:ident, $get:ident, $name:literal, $example:literal) => {
        impl $ty {
            #[doc = concat!("Bytes of [`encode`](Self::encode)'s output: a 12-byte frame around the tag and the ", $name, "'s raw bytes (see [`crate::state`]).")]
            pub const ENCODED_LEN: usize = FRAME_LEN + 1 + $raw;

            /// Writes the detector (configuration and state) into `out[..ENCODED_LEN]`;
            /// returns [`ENCODED_LEN`](Self::ENCODED_LEN).
            ///
            /// ```
            #[doc = $example]
            /// # Ok::<(), npoa::Error>(())
            /// ```
            ///
            /// # Errors
            /// [`Error::LengthMismatch`] if `out` is shorter.
            pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
                let mut w = Writer::frame(out, Self::ENCODED_LEN, Kind::Detector)?;
                w.u8($tag);
                $put(&mut w, self);
                w.finish()
            }

            /// Reads what [`encode`](Self::encode) wrote.
            ///
            /// # Errors
            /// [`Error::LengthMismatch`] for a wrong length, [`Error::InvalidBytes`] naming
            /// the problem (frame, checksum, tag, a count, a flag or a statistic that no
            /// sequence of updates can produce), or the [`Error::InvalidParameter`] of `new`
            /// for a setting out of range.
            pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
                let mut r = Reader::frame(bytes, Self::ENCODED_LEN, Kind::Detector)?;
                tag_of(&mut r, $tag)?;
                $get(&mut r)
            }
        }
    };
}

framed!(
    Adwin,
    ADWIN_RAW_LEN,
    TAG_ADWIN,
    put_adwin,
    get_adwin,
    "ADWIN",
    "use npoa::control::drift::{Adwin, AdwinConfig, Detector};
let mut d = Adwin::new(AdwinConfig::default())?;
for i in 0..100 { d.update(i as f32); }
let mut buf = [0u8; Adwin::ENCODED_LEN];
d.encode(&mut buf)?;
assert_eq!(Adwin::decode(&buf)?, d);"
);
framed!(
    PageHinkley,
    PAGE_HINKLEY_RAW_LEN,
    TAG_PH,
    put_page_hinkley,
    get_page_hinkley,
    "Page-Hinkley test",
    "use npoa::control::drift::{Detector, PageHinkley, PageHinkleyConfig};
let mut d = PageHinkley::new(PageHinkleyConfig::default())?;
for i in 0..100 { d.update(i as f32); }
let mut buf = [0u8; PageHinkley::ENCODED_LEN];
d.encode(&mut buf)?;
assert_eq!(PageHinkley::decode(&buf)?, d);"
);
framed!(
    Ddm,
    DDM_RAW_LEN,
    TAG_DDM,
    put_ddm,
    get_ddm,
    "DDM",
    "use npoa::control::drift::{Ddm, DdmConfig, Detector};
let mut d = Ddm::new(DdmConfig::default())?;
for i in 0..100 { d.update((i % 7 == 0) as u8 as f32); }
let mut buf = [0u8; Ddm::ENCODED_LEN];
d.encode(&mut buf)?;
assert_eq!(Ddm::decode(&buf)?, d);"
);
framed!(
    Eddm,
    EDDM_RAW_LEN,
    TAG_EDDM,
    put_eddm,
    get_eddm,
    "EDDM",
    "use npoa::control::drift::{Detector, Eddm, EddmConfig};
let mut d = Eddm::new(EddmConfig::default())?;
for i in 0..100 { d.update((i % 7 == 0) as u8 as f32); }
let mut buf = [0u8; Eddm::ENCODED_LEN];
d.encode(&mut buf)?;
assert_eq!(Eddm::decode(&buf)?, d);"
);

impl AnyDetector {
    /// Bytes of [`encode`](Self::encode)'s output: a 12-byte frame around the tag and a slot
    /// of the largest detector's size ([`DETECTOR_RAW_LEN`] bytes in all).
    pub const ENCODED_LEN: usize = FRAME_LEN + DETECTOR_RAW_LEN;

    /// Writes the detector into `out[..ENCODED_LEN]`; returns
    /// [`ENCODED_LEN`](Self::ENCODED_LEN).
    ///
    /// ```
    /// use npoa::control::drift::{AnyDetector, DdmConfig, Detector, DetectorConfig};
    /// let mut d = AnyDetector::new(DetectorConfig::Ddm(DdmConfig::default()))?;
    /// d.update(1.0);
    /// let mut buf = [0u8; AnyDetector::ENCODED_LEN];
    /// d.encode(&mut buf)?;
    /// assert_eq!(AnyDetector::decode(&buf)?, d);
    /// # Ok::<(), npoa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `out` is shorter.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::frame(out, Self::ENCODED_LEN, Kind::Detector)?;
        put_detector(&mut w, self);
        w.finish()
    }

    /// Reads what [`encode`](Self::encode) wrote (an [`Adwin`]'s own encoding, of the same
    /// length, reads too).
    ///
    /// # Errors
    /// As the detectors' `decode`, and [`Error::InvalidBytes`] for an unknown tag or a
    /// padding that is not zero.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::frame(bytes, Self::ENCODED_LEN, Kind::Detector)?;
        get_detector(&mut r)
    }
}

/// Writes an [`AnyDetector`] inside a larger state: tag and zero-padded slot,
/// [`DETECTOR_RAW_LEN`] bytes.
pub(crate) fn put_detector(w: &mut Writer<'_>, d: &AnyDetector) {
    let start = w.pos();
    match d {
        AnyDetector::Adwin(a) => {
            w.u8(TAG_ADWIN);
            put_adwin(w, a);
        }
        AnyDetector::PageHinkley(p) => {
            w.u8(TAG_PH);
            put_page_hinkley(w, p);
        }
        AnyDetector::Ddm(p) => {
            w.u8(TAG_DDM);
            put_ddm(w, p);
        }
        AnyDetector::Eddm(p) => {
            w.u8(TAG_EDDM);
            put_eddm(w, p);
        }
    }
    let used = w.pos() - start;
    w.zeros(DETECTOR_RAW_LEN.saturating_sub(used));
}

/// Reads what [`put_detector`] wrote and checks it.
pub(crate) fn get_detector(r: &mut Reader<'_>) -> Result<AnyDetector, Error> {
    let (tag, raw) = (r.u8(), r.pos());
    let d = match tag {
        TAG_ADWIN => AnyDetector::Adwin(get_adwin(r)?),
        TAG_PH => AnyDetector::PageHinkley(get_page_hinkley(r)?),
        TAG_DDM => AnyDetector::Ddm(get_ddm(r)?),
        TAG_EDDM => AnyDetector::Eddm(get_eddm(r)?),
        _ => return Err(corrupt("unknown detector tag")),
    };
    let used = r.pos() - raw;
    r.zeros(
        DETECTOR_SLOT.saturating_sub(used),
        "detector slot padding is not zero",
    )?;
    Ok(d)
}

fn put_opt_f64(w: &mut Writer<'_>, v: Option<f64>) {
    w.bool(v.is_some());
    w.f64(v.unwrap_or(0.0));
}

fn get_opt_f64(r: &mut Reader<'_>, what: &'static str) -> Result<Option<f64>, Error> {
    let some = r.bool(what)?;
    let v = r.f64();
    match (some, v.to_bits()) {
        (true, _) => Ok(Some(v)),
        (false, 0) => Ok(None),
        (false, _) => Err(corrupt(what)),
    }
}

/// Writes an [`Adwin`]'s raw bytes ([`ADWIN_RAW_LEN`]).
pub(crate) fn put_adwin(w: &mut Writer<'_>, a: &Adwin) {
    let c = a.cfg;
    w.f64(c.delta);
    w.u32(c.clock);
    w.u32(c.max_buckets);
    w.u32(c.min_window_length);
    w.u32(c.grace_period);
    put_opt_f64(w, c.warning_delta);
    w.f64(a.total);
    w.f64(a.variance);
    w.f64(a.width);
    w.u64(a.tick);
    w.u64(a.detections);
    w.u8(a.rows);
    w.bool(a.drift);
    w.bool(a.warning);
    w.bytes(&a.len);
    for (t, v) in a.totals.iter().zip(&a.variances) {
        for (t, v) in t.iter().zip(v) {
            w.f64(*t);
            w.f64(*v);
        }
    }
}

/// Reads an [`Adwin`]'s raw bytes and checks every invariant of the histogram.
pub(crate) fn get_adwin(r: &mut Reader<'_>) -> Result<Adwin, Error> {
    let cfg = AdwinConfig {
        delta: r.f64(),
        clock: r.u32(),
        max_buckets: r.u32(),
        min_window_length: r.u32(),
        grace_period: r.u32(),
        warning_delta: get_opt_f64(r, "warning delta presence")?,
    };
    let mut a = Adwin::new(cfg)?;
    a.total = fin(r.f64(), "window total is not finite")?;
    // The window's sum of squares is only required to be finite: River's formula for a
    // deleted bucket can leave it a rounding error below zero.
    a.variance = fin(r.f64(), "window sum of squares is not finite")?;
    a.width = count(r.f64(), "window width is not a count")?;
    a.tick = r.u64();
    a.detections = r.u64();
    a.rows = r.u8();
    a.drift = r.bool("drift flag")?;
    a.warning = r.bool("warning flag")?;
    a.len = r.take::<ADWIN_ROWS>();
    let rows = usize::from(a.rows);
    if !(1..=ADWIN_ROWS).contains(&rows) {
        return Err(corrupt("ADWIN rows out of range"));
    }
    let mut width = 0u64;
    for (i, (&l, (t, v))) in a
        .len
        .iter()
        .zip(a.totals.iter_mut().zip(a.variances.iter_mut()))
        .enumerate()
    {
        let l = usize::from(l);
        if l > cfg.max_buckets as usize || (i >= rows && l != 0) {
            return Err(corrupt("ADWIN row holds more buckets than max_buckets"));
        }
        width += (l as u64) << i;
        for (k, (t, v)) in t.iter_mut().zip(v.iter_mut()).enumerate() {
            let (tb, vb) = (r.f64(), r.f64());
            if k < l {
                *t = fin(tb, "ADWIN bucket total is not finite")?;
                if !(vb.is_finite() && vb >= 0.0) || (i == 0 && vb != 0.0) {
                    return Err(corrupt("ADWIN bucket variance is negative or not finite"));
                }
                *v = vb;
            } else if tb.to_bits() != 0 || vb.to_bits() != 0 {
                return Err(corrupt("unused ADWIN bucket slot is not zero"));
            }
        }
    }
    if width as f64 != a.width {
        return Err(corrupt("ADWIN width differs from its buckets"));
    }
    let last = a.len.get(rows - 1).copied().unwrap_or(0);
    if (width > 0 && last == 0) || (width == 0 && rows != 1) {
        return Err(corrupt("ADWIN oldest row is empty"));
    }
    if width > a.tick {
        return Err(corrupt("ADWIN window wider than the values seen"));
    }
    if width == 0 && (a.total.to_bits() != 0 || a.variance.to_bits() != 0) {
        return Err(corrupt("empty ADWIN window with a total or a variance"));
    }
    if a.warning && cfg.warning_delta.is_none() {
        return Err(corrupt("ADWIN warning without a warning delta"));
    }
    if a.drift && a.detections == 0 {
        return Err(corrupt("ADWIN drift flag without a detection"));
    }
    Ok(a)
}

/// Writes a [`PageHinkley`]'s raw bytes ([`PAGE_HINKLEY_RAW_LEN`]).
pub(crate) fn put_page_hinkley(w: &mut Writer<'_>, p: &PageHinkley) {
    let c = p.cfg;
    w.u32(c.min_instances);
    w.f64(c.delta);
    w.f64(c.threshold);
    w.f64(c.alpha);
    w.u8(match c.mode {
        PhMode::Both => 0,
        PhMode::Up => 1,
        PhMode::Down => 2,
    });
    for v in [
        p.n,
        p.mean,
        p.sum_increase,
        p.sum_decrease,
        p.min_increase,
        p.max_decrease,
    ] {
        w.f64(v);
    }
    w.bool(p.drift);
}

/// Reads a [`PageHinkley`]'s raw bytes and checks them.
pub(crate) fn get_page_hinkley(r: &mut Reader<'_>) -> Result<PageHinkley, Error> {
    let cfg = PageHinkleyConfig {
        min_instances: r.u32(),
        delta: r.f64(),
        threshold: r.f64(),
        alpha: r.f64(),
        mode: match r.u8() {
            0 => PhMode::Both,
            1 => PhMode::Up,
            2 => PhMode::Down,
            _ => return Err(corrupt("unknown Page-Hinkley mode")),
        },
    };
    let mut p = PageHinkley::new(cfg)?;
    let n = count(r.f64(), "Page-Hinkley count is not a count")?;
    let (mean, si, sd, mi, md) = (r.f64(), r.f64(), r.f64(), r.f64(), r.f64());
    let drift = r.bool("drift flag")?;
    if n == 0.0 {
        let fresh = PageHinkley::empty(cfg);
        let same = [mean, si, sd, mi, md]
            .iter()
            .zip([
                fresh.mean,
                fresh.sum_increase,
                fresh.sum_decrease,
                fresh.min_increase,
                fresh.max_decrease,
            ])
            .all(|(a, b)| a.to_bits() == b.to_bits());
        if !same || drift {
            return Err(corrupt(
                "Page-Hinkley state of no values is not the initial one",
            ));
        }
        return Ok(p);
    }
    for v in [mean, si, sd, mi, md] {
        fin(v, "Page-Hinkley statistic is not finite")?;
    }
    if !(mi <= si && md >= sd && md >= -1.0) {
        return Err(corrupt("Page-Hinkley extremes do not bound their sums"));
    }
    if drift && n < f64::from(cfg.min_instances) {
        return Err(corrupt("Page-Hinkley drift before min_instances"));
    }
    (p.n, p.mean, p.sum_increase, p.sum_decrease) = (n, mean, si, sd);
    (p.min_increase, p.max_decrease, p.drift) = (mi, md, drift);
    Ok(p)
}

/// Writes a [`Ddm`]'s raw bytes ([`DDM_RAW_LEN`]).
pub(crate) fn put_ddm(w: &mut Writer<'_>, d: &Ddm) {
    w.u32(d.cfg.warm_start);
    w.f64(d.cfg.warning_threshold);
    w.f64(d.cfg.drift_threshold);
    for v in [d.n, d.p, d.p_min, d.s_min, d.ps_min] {
        w.f64(v);
    }
    w.bool(d.warning);
    w.bool(d.drift);
}

/// Reads a [`Ddm`]'s raw bytes and checks them.
pub(crate) fn get_ddm(r: &mut Reader<'_>) -> Result<Ddm, Error> {
    let cfg = DdmConfig {
        warm_start: r.u32(),
        warning_threshold: r.f64(),
        drift_threshold: r.f64(),
    };
    let mut d = Ddm::new(cfg)?;
    let n = count(r.f64(), "DDM count is not a count")?;
    let (p, p_min, s_min, ps_min) = (r.f64(), r.f64(), r.f64(), r.f64());
    let (warning, drift) = (r.bool("warning flag")?, r.bool("drift flag")?);
    if !(0.0..=1.0).contains(&p) || (n == 0.0 && p.to_bits() != 0) {
        return Err(corrupt("DDM error rate outside [0, 1]"));
    }
    if n <= f64::from(cfg.warm_start) {
        if p_min.to_bits() != 0 || s_min.to_bits() != 0 || ps_min != f64::INFINITY {
            return Err(corrupt("DDM minimum set during the warm start"));
        }
        if warning || drift {
            return Err(corrupt("DDM signal during the warm start"));
        }
    } else {
        if !((0.0..=1.0).contains(&p_min) && s_min.is_finite() && s_min >= 0.0) {
            return Err(corrupt("DDM minimum out of range"));
        }
        if ps_min.to_bits() != (p_min + s_min).to_bits() {
            return Err(corrupt("DDM p_min + s_min differs from its terms"));
        }
    }
    if warning && drift {
        return Err(corrupt("DDM warning and drift at once"));
    }
    (d.n, d.p, d.p_min, d.s_min, d.ps_min) = (n, p, p_min, s_min, ps_min);
    (d.warning, d.drift) = (warning, drift);
    Ok(d)
}

/// Writes an [`Eddm`]'s raw bytes ([`EDDM_RAW_LEN`]).
pub(crate) fn put_eddm(w: &mut Writer<'_>, d: &Eddm) {
    w.u32(d.cfg.warm_start);
    w.f64(d.cfg.alpha);
    w.f64(d.cfg.beta);
    w.u64(d.n);
    w.u64(d.last_error);
    w.u64(d.n_errors);
    for v in [d.dist_n, d.dist_mean, d.dist_m2, d.p2s_max] {
        w.f64(v);
    }
    w.bool(d.warning);
    w.bool(d.drift);
}

/// Reads an [`Eddm`]'s raw bytes and checks them.
pub(crate) fn get_eddm(r: &mut Reader<'_>) -> Result<Eddm, Error> {
    let cfg = EddmConfig {
        warm_start: r.u32(),
        alpha: r.f64(),
        beta: r.f64(),
    };
    let mut d = Eddm::new(cfg)?;
    let (n, last, errors) = (r.u64(), r.u64(), r.u64());
    let (dn, mean, m2, p2s) = (r.f64(), r.f64(), r.f64(), r.f64());
    let (warning, drift) = (r.bool("warning flag")?, r.bool("drift flag")?);
    if errors > n || last > n || dn != errors as f64 {
        return Err(corrupt("EDDM counts inconsistent"));
    }
    if errors == 0 {
        let zero = [mean, m2].iter().all(|v| v.to_bits() == 0);
        if last != 0 || !zero || p2s != -1.0 || warning || drift {
            return Err(corrupt("EDDM state of no errors is not the initial one"));
        }
    } else {
        if last == 0 || !(mean.is_finite() && mean >= 0.0) || !(m2.is_finite() && m2 >= 0.0) {
            return Err(corrupt("EDDM distance statistics out of range"));
        }
        if !(p2s == -1.0 || (p2s.is_finite() && p2s >= 0.0)) {
            return Err(corrupt("EDDM largest p' + 2s' out of range"));
        }
        if (warning || drift) && errors <= u64::from(cfg.warm_start) {
            return Err(corrupt("EDDM signal during the warm start"));
        }
    }
    (d.n, d.last_error, d.n_errors) = (n, last, errors);
    (d.dist_n, d.dist_mean, d.dist_m2, d.p2s_max) = (dn, mean, m2, p2s);
    (d.warning, d.drift) = (warning, drift);
    Ok(d)
}
