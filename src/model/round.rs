//! Round frames: model bytes on the wire of a federation (a server and its devices), with the
//! round they belong to. No heap: encoding writes into the caller's buffer, decoding borrows
//! the model bytes from the frame.
//!
//! The server sends a **global** frame (the round's global model); a device trains on its own
//! data from that model and answers with an **update** frame of the same round, carrying the
//! number of samples it trained on (its weight in sample-weighted FedAvg). The Python package's
//! Flower client (`npoa.fleet`) and the firmware example exchange exactly these bytes.
//!
//! Format, version 1, every integer little-endian:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 4 | magic `b"NPFR"` |
//! | 4 | 2 | format version (`1`) |
//! | 6 | 2 | role: `0` global model, `1` a device's update |
//! | 8 | 4 | round (`u32`, ≥ 1) |
//! | 12 | 4 | samples (`u32`: an update's sample count, ≥ 1; `0` in a global frame) |
//! | 16 | 4 | length `L` of the model bytes (`u32`) |
//! | 20 | `L` | the model bytes ([`crate::model::bytes`], with their own CRC-32) |
//! | 20 + `L` | 4 | CRC-32 (as [`bytes::crc32`]) of every byte before it |
//!
//! [`frame_len`]`(L) = 24 + L`. Decoding checks the length, the magic, the version, the role,
//! the round and samples (against the role), the exact length, the frame's CRC, then the model
//! bytes' header and their own CRC; [`Device::accept`] adds the round counter: a device takes a
//! global frame only for a round after the last one it took, so a replayed or stale model is
//! refused. Any failure is an `Err`, never a panic.
//!
//! ```
//! use npoa::LinearModel;
//! use npoa::model::bytes::encoded_len;
//! use npoa::model::round::{self, Device, Frame, Role, frame_len};
//!
//! // The server's global model for round 3.
//! let global = LinearModel::<2>::new([0.5, -1.0], 0.25)?;
//! let mut model = [0u8; encoded_len(2, 1)];
//! global.to_bytes(&mut model)?;
//! let mut wire = [0u8; frame_len(encoded_len(2, 1))];
//! let n = round::encode(&Frame { role: Role::Global, round: 3, samples: 0, model: &model }, &mut wire)?;
//!
//! // The device: takes round 3 once, and not again.
//! let mut device = Device::new();
//! let frame = device.accept(&wire[..n])?;
//! assert_eq!(LinearModel::<2>::from_bytes(frame.model)?, global);
//! assert!(device.accept(&wire[..n]).is_err());
//! // A flipped bit anywhere is refused.
//! wire[9] ^= 1;
//! assert!(round::decode(&wire[..n]).is_err());
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::Error;
use crate::model::bytes;

/// The first four bytes.
pub const MAGIC: [u8; 4] = *b"NPFR";
/// The format version.
pub const VERSION: u16 = 1;
/// Bytes before the model bytes.
pub const HEADER_LEN: usize = 20;

/// Bytes of a frame holding `model_len` bytes of model: `24 + model_len` (saturating).
pub const fn frame_len(model_len: usize) -> usize {
    model_len.saturating_add(HEADER_LEN + 4)
}

/// Who sends a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The server's global model of the round.
    Global,
    /// A device's model after its local training in the round.
    Update,
}

/// A decoded (or to be encoded) frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Global model or update.
    pub role: Role,
    /// The round (≥ 1).
    pub round: u32,
    /// An update's sample count (≥ 1); 0 in a global frame.
    pub samples: u32,
    /// The model bytes ([`crate::model::bytes`]).
    pub model: &'a [u8],
}

const fn corrupt(reason: &'static str) -> Error {
    Error::InvalidBytes { reason }
}

fn u32_at(buf: &[u8], at: usize) -> Result<u32, Error> {
    buf.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
        .ok_or(corrupt("frame too short"))
}

/// Checks what both directions check: the round and samples for the role, the model bytes.
fn check(frame: &Frame<'_>) -> Result<(), Error> {
    if frame.round == 0 {
        return Err(corrupt("a frame's round is at least 1"));
    }
    match (frame.role, frame.samples) {
        (Role::Global, 0) => {}
        (Role::Global, _) => return Err(corrupt("a global frame carries no sample count")),
        (Role::Update, 0) => return Err(corrupt("an update frame trained on no sample")),
        (Role::Update, _) => {}
    }
    // The header check covers the model bytes' exact length and their own CRC-32.
    bytes::decode_header(frame.model).map(drop)
}

/// Writes `frame` into `buf`; returns the bytes written, [`frame_len`]`(frame.model.len())`.
///
/// # Errors
/// [`Error::InvalidBytes`] for a round of 0, a sample count that does not fit the role, or
/// model bytes that do not decode ([`Error::LengthMismatch`] for model bytes of the wrong
/// length for their own header); [`Error::LengthMismatch`] if `buf` is too short.
pub fn encode(frame: &Frame<'_>, buf: &mut [u8]) -> Result<usize, Error> {
    check(frame)?;
    let len = frame_len(frame.model.len());
    let model_len = u32::try_from(frame.model.len()).map_err(|_| corrupt("model too large"))?;
    let Some(out) = buf.get_mut(..len) else {
        return Err(Error::LengthMismatch {
            what: "buf",
            expected: len,
            found: buf.len(),
        });
    };
    let role: u16 = match frame.role {
        Role::Global => 0,
        Role::Update => 1,
    };
    let mut at = 0;
    let mut put = |out: &mut [u8], part: &[u8]| {
        if let Some(dst) = out.get_mut(at..at + part.len()) {
            dst.copy_from_slice(part);
        }
        at += part.len();
    };
    put(out, &MAGIC);
    put(out, &VERSION.to_le_bytes());
    put(out, &role.to_le_bytes());
    put(out, &frame.round.to_le_bytes());
    put(out, &frame.samples.to_le_bytes());
    put(out, &model_len.to_le_bytes());
    put(out, frame.model);
    let sum = bytes::crc32(out.get(..len - 4).unwrap_or(&[]));
    put(out, &sum.to_le_bytes());
    Ok(len)
}

/// Reads a frame (the model bytes borrowed from `buf`).
///
/// # Errors
/// [`Error::InvalidBytes`] naming the first check that fails (see the [module docs](self)),
/// including those of the model bytes; [`Error::LengthMismatch`] for model bytes whose length
/// does not match their own header (inside a frame whose own checks passed).
pub fn decode(buf: &[u8]) -> Result<Frame<'_>, Error> {
    if buf.len() < frame_len(0) {
        return Err(corrupt("frame too short"));
    }
    if buf.get(0..4) != Some(&MAGIC[..]) {
        return Err(corrupt("not a round frame (magic)"));
    }
    let word = |at: usize| {
        buf.get(at..at + 2)
            .and_then(|s| <[u8; 2]>::try_from(s).ok())
            .map(u16::from_le_bytes)
    };
    if word(4) != Some(VERSION) {
        return Err(corrupt("unknown round frame version"));
    }
    let role = match word(6) {
        Some(0) => Role::Global,
        Some(1) => Role::Update,
        _ => return Err(corrupt("unknown round frame role")),
    };
    let model_len = u32_at(buf, 16)? as usize;
    if frame_len(model_len) != buf.len() {
        return Err(corrupt("frame length does not match its model's"));
    }
    let end = buf.len() - 4;
    let body = buf.get(..end).ok_or(corrupt("frame too short"))?;
    if u32_at(buf, end)? != bytes::crc32(body) {
        return Err(corrupt("the frame's checksum does not match"));
    }
    let frame = Frame {
        role,
        round: u32_at(buf, 8)?,
        samples: u32_at(buf, 12)?,
        model: buf.get(HEADER_LEN..end).ok_or(corrupt("frame too short"))?,
    };
    check(&frame)?;
    Ok(frame)
}

/// A device's side of the rounds: the last round it took a global model for (kept across
/// resets by storing [`Device::last_round`] with the model).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Device {
    last: u32,
}

impl Device {
    /// A device that has taken no round yet.
    pub const fn new() -> Self {
        Self { last: 0 }
    }

    /// A device that last took round `last` (restored after a reset).
    pub const fn resumed(last: u32) -> Self {
        Self { last }
    }

    /// The last round taken (0: none).
    pub const fn last_round(&self) -> u32 {
        self.last
    }

    /// Decodes a global frame and takes its round if it is after the last one taken.
    ///
    /// # Errors
    /// As [`decode`]; [`Error::InvalidBytes`] for an update frame, or a round not after the
    /// last one taken (then the counter is unchanged).
    pub fn accept<'a>(&mut self, buf: &'a [u8]) -> Result<Frame<'a>, Error> {
        let frame = decode(buf)?;
        if frame.role != Role::Global {
            return Err(corrupt("a device takes global frames, not updates"));
        }
        if frame.round <= self.last {
            return Err(corrupt("a stale or replayed round"));
        }
        self.last = frame.round;
        Ok(frame)
    }

    /// Writes the update of the last round taken: `model` (model bytes) trained on `samples`
    /// samples, into `buf`; returns the bytes written.
    ///
    /// # Errors
    /// [`Error::InvalidBytes`] if no round was taken or `samples` is 0, and as [`encode`].
    pub fn update(&self, model: &[u8], samples: u32, buf: &mut [u8]) -> Result<usize, Error> {
        let frame = Frame {
            role: Role::Update,
            round: self.last,
            samples,
            model,
        };
        encode(&frame, buf)
    }
}
