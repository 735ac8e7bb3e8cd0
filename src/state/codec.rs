//! The frame and the field reader/writer of every encoded state: explicit little-endian
//! fields at fixed offsets, a header (magic, version, kind) and a trailing CRC-32.

use crate::Error;
use crate::check::crc32;

/// Magic of every encoded state (model bytes use `b"NPOA"`).
pub const MAGIC: [u8; 4] = *b"NPST";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Header bytes: magic (4), version (2), kind (1), reserved zero (1).
pub const HEADER_LEN: usize = 8;
/// Header and trailing CRC-32.
pub const FRAME_LEN: usize = HEADER_LEN + 4;

/// What a frame holds (the header's kind byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A [`Controller`](crate::control::Controller).
    Controller = 1,
    /// An [`OptimState`](crate::optim::OptimState).
    OptimState = 2,
    /// A [`RunState`](crate::train::RunState).
    RunState = 3,
    /// A [`Checkpoint`](super::Checkpoint) of a fixed-size model.
    Checkpoint = 4,
    /// An [`OnlineLearner`](crate::online::OnlineLearner).
    Online = 5,
    /// A checkpoint of the `std` layer's recipes (run-time sized models).
    Dynamic = 6,
    /// A [`Scaler`](crate::scale::Scaler) (the standardiser a batch run's data was
    /// standardised with).
    Scaler = 7,
    /// A drift detector ([`crate::control::drift`]): an [`Adwin`], a [`PageHinkley`], a
    /// [`Ddm`], an [`Eddm`] or an [`AnyDetector`].
    ///
    /// [`Adwin`]: crate::control::drift::Adwin
    /// [`PageHinkley`]: crate::control::drift::PageHinkley
    /// [`Ddm`]: crate::control::drift::Ddm
    /// [`Eddm`]: crate::control::drift::Eddm
    /// [`AnyDetector`]: crate::control::drift::AnyDetector
    Detector = 8,
    /// An [`Rls`](crate::optim::Rls) learner (recursive least squares).
    Rls = 9,
}

pub(crate) const fn corrupt(reason: &'static str) -> Error {
    Error::InvalidBytes { reason }
}

/// Writes fields into a buffer whose length the caller checked (writes past its end are
/// dropped, never a panic).
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// A frame of `kind` over `out[..len]`; `Err` if `out` is shorter.
    pub(crate) fn frame(out: &'a mut [u8], len: usize, kind: Kind) -> Result<Self, Error> {
        let found = out.len();
        let Some(buf) = out.get_mut(..len) else {
            return Err(Error::LengthMismatch {
                what: "state buffer",
                expected: len,
                found,
            });
        };
        let mut w = Self { buf, pos: 0 };
        w.bytes(&MAGIC);
        w.u16(VERSION);
        w.u8(kind as u8);
        w.u8(0);
        Ok(w)
    }

    /// Writes the CRC-32 of everything before it; returns the length written. `Err` if the
    /// fields written do not fill the frame exactly (an encoder out of step with its
    /// layout: a bug, reported rather than written).
    pub(crate) fn finish(mut self) -> Result<usize, Error> {
        let n = self.buf.len();
        if self.pos != n.saturating_sub(4) {
            return Err(corrupt("internal: the fields do not fill the layout"));
        }
        let crc = crc32(self.buf.get(..n.saturating_sub(4)).unwrap_or(&[]));
        self.pos = n.saturating_sub(4);
        self.u32(crc);
        Ok(n)
    }

    /// Bytes written so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        // A zip, not `copy_from_slice`: no length check left to panic.
        let dst = self.buf.get_mut(self.pos..).unwrap_or_default();
        for (d, s) in dst.iter_mut().zip(b) {
            *d = *s;
        }
        self.pos = self.pos.saturating_add(b.len());
    }

    /// A sub-slice of `len` bytes to fill in place (empty if it does not fit).
    pub(crate) fn slot(&mut self, len: usize) -> &mut [u8] {
        let start = self.pos;
        self.pos = start.saturating_add(len);
        self.buf.get_mut(start..self.pos).unwrap_or(&mut [])
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    pub(crate) fn f32(&mut self, v: f32) {
        self.u32(v.to_bits());
    }
    pub(crate) fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    /// A presence byte and the value's 4 bytes (zero when absent).
    pub(crate) fn opt_f32(&mut self, v: Option<f32>) {
        self.bool(v.is_some());
        self.f32(v.unwrap_or(0.0));
    }
    pub(crate) fn opt_u32(&mut self, v: Option<u32>) {
        self.bool(v.is_some());
        self.u32(v.unwrap_or(0));
    }
    /// `n` zero bytes (an absent optional block).
    pub(crate) fn zeros(&mut self, n: usize) {
        for _ in 0..n {
            self.u8(0);
        }
    }
}

/// Reads fields from a frame whose length and CRC were checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Checks the length (exactly `len`), the magic, the version, the kind, the reserved byte
    /// and the CRC-32, in that order; the reader starts after the header.
    pub(crate) fn frame(bytes: &'a [u8], len: usize, kind: Kind) -> Result<Self, Error> {
        if bytes.len() != len {
            return Err(Error::LengthMismatch {
                what: "state bytes",
                expected: len,
                found: bytes.len(),
            });
        }
        let mut r = Self { buf: bytes, pos: 0 };
        if r.take::<4>() != MAGIC {
            return Err(corrupt("bad magic (not npoa state bytes)"));
        }
        if r.u16() != VERSION {
            return Err(corrupt("unsupported state format version"));
        }
        if r.u8() != kind as u8 {
            return Err(corrupt("wrong kind of state (another type's bytes)"));
        }
        if r.u8() != 0 {
            return Err(corrupt("reserved header byte is not zero"));
        }
        let (body, tail) = bytes
            .split_at_checked(bytes.len().saturating_sub(4))
            .unwrap_or_default();
        let tail = <[u8; 4]>::try_from(tail).unwrap_or_default();
        if crc32(body) != u32::from_le_bytes(tail) {
            return Err(corrupt("checksum mismatch"));
        }
        r.buf = body;
        Ok(r)
    }

    /// Bytes read so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The next `N` bytes (zeros past the end: lengths are checked before reading).
    pub(crate) fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        let src = self.buf.get(self.pos..).unwrap_or_default();
        for (d, s) in a.iter_mut().zip(src) {
            *d = *s;
        }
        self.pos = self.pos.saturating_add(N);
        a
    }

    /// The next `len` bytes as a slice (empty past the end).
    pub(crate) fn slice(&mut self, len: usize) -> &'a [u8] {
        let start = self.pos;
        self.pos = start.saturating_add(len);
        self.buf.get(start..self.pos).unwrap_or(&[])
    }

    pub(crate) fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    pub(crate) fn bool(&mut self, what: &'static str) -> Result<bool, Error> {
        match self.u8() {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(corrupt(what)),
        }
    }
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }
    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    pub(crate) fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    pub(crate) fn f32(&mut self) -> f32 {
        f32::from_bits(self.u32())
    }
    pub(crate) fn f64(&mut self) -> f64 {
        f64::from_bits(self.u64())
    }
    /// A presence byte and 4 bytes that must be zero when absent.
    pub(crate) fn opt_f32(&mut self, what: &'static str) -> Result<Option<f32>, Error> {
        let some = self.bool(what)?;
        let v = self.u32();
        match (some, v) {
            (true, v) => Ok(Some(f32::from_bits(v))),
            (false, 0) => Ok(None),
            (false, _) => Err(corrupt(what)),
        }
    }
    pub(crate) fn opt_u32(&mut self, what: &'static str) -> Result<Option<u32>, Error> {
        let some = self.bool(what)?;
        let v = self.u32();
        match (some, v) {
            (true, v) => Ok(Some(v)),
            (false, 0) => Ok(None),
            (false, _) => Err(corrupt(what)),
        }
    }
    /// `n` bytes that must be zero (an absent optional block).
    pub(crate) fn zeros(&mut self, n: usize, what: &'static str) -> Result<(), Error> {
        if self.slice(n).iter().any(|&b| b != 0) {
            return Err(corrupt(what));
        }
        Ok(())
    }
}

/// `Ok` if `v` is finite.
pub(crate) fn finite(v: f32, what: &'static str) -> Result<f32, Error> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(corrupt(what))
    }
}
