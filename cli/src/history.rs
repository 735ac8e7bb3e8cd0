//! The bounded history of a training run (the epoch records and controller events kept for
//! `--plot` and the JSON; see [`crate::train`], "History"), and its bytes, which a checkpoint
//! carries so that a resumed run reports the whole run's history.
//!
//! The bytes (little-endian): stride `u32`; the last record (a presence byte, then the
//! record); the kept records (`u32` count, then each); the first events and the last events
//! (each a `u32` count, then each); events dropped `u64`; the stopped flag (1 byte). A record
//! is epoch `u32`, train loss, metric, rate (`f32` bits), steps `u64`, zeros `u64`,
//! certificate (`f32` bits): 36 bytes. An event is its epoch `u32`, a tag byte and the
//! variant's fields (`f32` bits, tag bytes, `u32`). Floats travel as bits: NaN and −0.0 come
//! back as they were.

use crate::Res;
use npoa::control::{Event, EventKind, RateCause, RollbackCause, Stop};
use npoa::train::Epoch;

/// Epoch records kept for the plot and the JSON, at most (see the module docs).
pub const HISTORY_CAP: usize = 4096;
/// Controller events kept, at most: the first and the last half.
pub const EVENTS_CAP: usize = 1024;

/// A bounded history: decimated epoch records and the first and last events.
#[derive(Debug, Default)]
pub(crate) struct Bounded {
    epochs: Vec<Epoch>,
    stride: u32,
    last: Option<Epoch>,
    first_events: Vec<Event>,
    last_events: std::collections::VecDeque<Event>,
    events_dropped: u64,
    /// A `Stopped` event was seen (the controller sends one for every stop but the epoch
    /// budget and an observer's).
    pub(crate) stopped: bool,
}

/// What a [`Bounded`] history gives the plot and the JSON.
pub(crate) struct Kept {
    pub(crate) epochs: Vec<Epoch>,
    pub(crate) events: Vec<Event>,
    pub(crate) events_dropped: u64,
}

impl Bounded {
    pub(crate) fn on_epoch(&mut self, r: &Epoch) {
        let stride = self.stride.max(1);
        if r.epoch.saturating_sub(1).is_multiple_of(stride) {
            self.epochs.push(*r);
            if self.epochs.len() >= HISTORY_CAP {
                // Keep epochs 1, 1 + 2s, 1 + 4s, …: the even positions.
                let mut i = 0;
                self.epochs.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride = stride.saturating_mul(2);
            }
        }
        self.last = Some(*r);
    }

    pub(crate) fn on_event(&mut self, e: &Event) {
        self.stopped |= matches!(e.kind, EventKind::Stopped(_));
        if self.first_events.len() < EVENTS_CAP / 2 {
            self.first_events.push(*e);
            return;
        }
        if self.last_events.len() == EVENTS_CAP / 2 {
            self.last_events.pop_front();
            self.events_dropped += 1;
        }
        self.last_events.push_back(*e);
    }

    pub(crate) fn finish(self) -> Kept {
        let mut epochs = self.epochs;
        if let Some(l) = self.last
            && epochs.last().is_none_or(|e| e.epoch != l.epoch)
        {
            epochs.push(l);
        }
        let mut events = self.first_events;
        events.extend(self.last_events);
        Kept {
            epochs,
            events,
            events_dropped: self.events_dropped,
        }
    }
}

impl Bounded {
    /// The history as bytes (see the module docs).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut w = Vec::with_capacity(64 + 36 * self.epochs.len() + 16 * EVENTS_CAP);
        put_u32(&mut w, self.stride);
        match &self.last {
            Some(r) => {
                w.push(1);
                put_epoch(&mut w, r);
            }
            None => w.push(0),
        }
        put_len(&mut w, self.epochs.len());
        for r in &self.epochs {
            put_epoch(&mut w, r);
        }
        put_len(&mut w, self.first_events.len());
        for e in &self.first_events {
            put_event(&mut w, e);
        }
        put_len(&mut w, self.last_events.len());
        for e in &self.last_events {
            put_event(&mut w, e);
        }
        w.extend_from_slice(&self.events_dropped.to_le_bytes());
        w.push(u8::from(self.stopped));
        w
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote.
    ///
    /// # Errors
    /// Bytes that are not such a history (short, trailing bytes, a count over the caps, an
    /// unknown tag).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Res<Self> {
        let mut r = Reader { bytes, pos: 0 };
        let stride = r.u32()?;
        let last = match r.u8()? {
            0 => None,
            1 => Some(r.epoch()?),
            _ => return Err(BAD.into()),
        };
        let n = r.len(HISTORY_CAP)?;
        let epochs = (0..n).map(|_| r.epoch()).collect::<Res<Vec<_>>>()?;
        let n = r.len(EVENTS_CAP / 2)?;
        let first_events = (0..n).map(|_| r.event()).collect::<Res<Vec<_>>>()?;
        let n = r.len(EVENTS_CAP / 2)?;
        let last_events = (0..n).map(|_| r.event()).collect::<Res<_>>()?;
        let events_dropped = u64::from_le_bytes(r.take()?);
        let stopped = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(BAD.into()),
        };
        if r.pos != bytes.len() {
            return Err(BAD.into());
        }
        Ok(Self {
            epochs,
            stride,
            last,
            first_events,
            last_events,
            events_dropped,
            stopped,
        })
    }
}

const BAD: &str = "the run's history in the checkpoint is malformed";

fn put_u32(w: &mut Vec<u8>, v: u32) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn put_f32(w: &mut Vec<u8>, v: f32) {
    put_u32(w, v.to_bits());
}

fn put_len(w: &mut Vec<u8>, n: usize) {
    // Every count is below its cap (a few thousand).
    put_u32(w, u32::try_from(n).unwrap_or(u32::MAX));
}

fn put_epoch(w: &mut Vec<u8>, r: &Epoch) {
    put_u32(w, r.epoch);
    put_f32(w, r.train_loss);
    put_f32(w, r.metric);
    put_f32(w, r.learning_rate);
    w.extend_from_slice(&r.steps.to_le_bytes());
    w.extend_from_slice(&(r.zeros as u64).to_le_bytes());
    put_f32(w, r.certificate);
}

fn put_event(w: &mut Vec<u8>, e: &Event) {
    put_u32(w, e.epoch);
    match e.kind {
        EventKind::Improved { metric } => {
            w.push(0);
            put_f32(w, metric);
        }
        EventKind::RateChanged { from, to, cause } => {
            w.push(1);
            put_f32(w, from);
            put_f32(w, to);
            w.push(match cause {
                RateCause::Plateau => 0,
                RateCause::Adaptive => 1,
                RateCause::Rollback => 2,
            });
        }
        EventKind::RolledBack { cause, retry } => {
            w.push(2);
            w.push(match cause {
                RollbackCause::NonFinite => 0,
                RollbackCause::Spike => 1,
            });
            put_u32(w, retry);
        }
        EventKind::Stopped(stop) => {
            w.push(3);
            w.push(stop.code());
        }
        EventKind::Restarted {
            metric,
            previous_best,
        } => {
            w.push(4);
            put_f32(w, metric);
            put_f32(w, previous_best);
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Res<[u8; N]> {
        let end = self.pos.checked_add(N).ok_or(BAD)?;
        let s = self.bytes.get(self.pos..end).ok_or(BAD)?;
        self.pos = end;
        Ok(<[u8; N]>::try_from(s)?)
    }
    fn u8(&mut self) -> Res<u8> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self) -> Res<u32> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn f32(&mut self) -> Res<f32> {
        Ok(f32::from_bits(self.u32()?))
    }
    fn u64(&mut self) -> Res<u64> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn len(&mut self, cap: usize) -> Res<usize> {
        let n = self.u32()? as usize;
        if n > cap { Err(BAD.into()) } else { Ok(n) }
    }
    fn epoch(&mut self) -> Res<Epoch> {
        Ok(Epoch {
            epoch: self.u32()?,
            train_loss: self.f32()?,
            metric: self.f32()?,
            learning_rate: self.f32()?,
            steps: self.u64()?,
            zeros: usize::try_from(self.u64()?)?,
            certificate: self.f32()?,
        })
    }
    fn event(&mut self) -> Res<Event> {
        let epoch = self.u32()?;
        let kind = match self.u8()? {
            0 => EventKind::Improved {
                metric: self.f32()?,
            },
            1 => EventKind::RateChanged {
                from: self.f32()?,
                to: self.f32()?,
                cause: match self.u8()? {
                    0 => RateCause::Plateau,
                    1 => RateCause::Adaptive,
                    2 => RateCause::Rollback,
                    _ => return Err(BAD.into()),
                },
            },
            2 => EventKind::RolledBack {
                cause: match self.u8()? {
                    0 => RollbackCause::NonFinite,
                    1 => RollbackCause::Spike,
                    _ => return Err(BAD.into()),
                },
                retry: self.u32()?,
            },
            3 => {
                let t = self.u8()?;
                EventKind::Stopped(Stop::from_code(t).ok_or(BAD)?)
            }
            4 => EventKind::Restarted {
                metric: self.f32()?,
                previous_best: self.f32()?,
            },
            _ => return Err(BAD.into()),
        };
        Ok(Event { epoch, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(e: u32) -> Epoch {
        Epoch {
            epoch: e,
            train_loss: 1.0 / e as f32,
            metric: 1.0,
            learning_rate: 0.1,
            steps: u64::from(e),
            zeros: 0,
            certificate: f32::NAN,
        }
    }

    #[test]
    fn history_stays_bounded_and_evenly_spaced() {
        let mut h = Bounded::default();
        let n = 1_000_003;
        for e in 1..=n {
            h.on_epoch(&epoch(e));
            assert!(h.epochs.len() < HISTORY_CAP);
        }
        for e in 0..5000 {
            h.on_event(&Event {
                epoch: e,
                kind: EventKind::Improved { metric: 1.0 },
            });
        }
        let k = h.finish();
        assert!(k.epochs.len() <= HISTORY_CAP);
        assert_eq!(k.epochs[0].epoch, 1);
        assert_eq!(k.epochs.last().map(|e| e.epoch), Some(n));
        // Evenly spaced up to the last, which is added.
        let stride = k.epochs[1].epoch - k.epochs[0].epoch;
        assert!(stride.is_power_of_two() && stride > 1);
        for w in k.epochs[..k.epochs.len() - 1].windows(2) {
            assert_eq!(w[1].epoch - w[0].epoch, stride);
        }
        assert_eq!(k.events.len(), EVENTS_CAP);
        assert_eq!(k.events_dropped, 5000 - EVENTS_CAP as u64);
        assert_eq!(k.events[0].epoch, 0);
        assert_eq!(k.events.last().map(|e| e.epoch), Some(4999));
    }

    #[test]
    fn bytes_round_trip_by_bits() {
        let mut h = Bounded::default();
        for e in 1..=9000 {
            let mut r = epoch(e);
            if e == 7 {
                r.train_loss = -0.0;
            }
            h.on_epoch(&r);
        }
        let kinds = [
            EventKind::Improved { metric: 0.25 },
            EventKind::RateChanged {
                from: 0.1,
                to: 0.05,
                cause: RateCause::Plateau,
            },
            EventKind::RateChanged {
                from: 0.1,
                to: 0.05,
                cause: RateCause::Rollback,
            },
            EventKind::RolledBack {
                cause: RollbackCause::Spike,
                retry: 3,
            },
            EventKind::Stopped(Stop::Diverged),
            EventKind::Restarted {
                metric: f32::INFINITY,
                previous_best: 1.5,
            },
        ];
        for e in 0..1500u32 {
            h.on_event(&Event {
                epoch: e,
                kind: kinds[e as usize % kinds.len()],
            });
        }
        let bytes = h.to_bytes();
        let back = Bounded::from_bytes(&bytes).unwrap();
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(format!("{back:?}"), format!("{h:?}"));
        let (a, b) = (h.finish(), back.finish());
        assert_eq!(a.epochs.len(), b.epochs.len());
        for (x, y) in a.epochs.iter().zip(&b.epochs) {
            assert_eq!(x.epoch, y.epoch);
            assert_eq!(x.train_loss.to_bits(), y.train_loss.to_bits());
            assert_eq!(x.certificate.to_bits(), y.certificate.to_bits());
        }
        assert_eq!(a.events, b.events);
        assert_eq!(a.events_dropped, b.events_dropped);
        // Prefixes (every 61st, and the last 64) and a trailing byte are refused, never a
        // panic.
        let cuts = (0..bytes.len())
            .step_by(61)
            .chain(bytes.len() - 64..bytes.len());
        for n in cuts {
            assert!(Bounded::from_bytes(&bytes[..n]).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Bounded::from_bytes(&longer).is_err());
    }
}
