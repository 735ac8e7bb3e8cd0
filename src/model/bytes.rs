//! Model bytes: how a trained model reaches flash. No heap: encoding writes into the caller's
//! buffer, decoding reads into the caller's arrays.
//!
//! Format, version 2, every integer and float little-endian:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 4 | magic `b"NPOA"` |
//! | 4 | 2 | format version (`2`; `1` is still read) |
//! | 6 | 1 | kind: `0` one-output linear model, `1` softmax classifier |
//! | 7 | 1 | loss: [`Loss::code`] (`0` squared, `1` Huber, `2` absolute, `3` logistic, `5` quantile, `6` Poisson), `4` softmax |
//! | 8 | 4 | the loss's parameter ([`Loss::param`]: Huber `δ`, quantile `τ`; `f32`; `+0` for a loss without one, checked) |
//! | 12 | 4 | features `d` (`u32`, ≥ 1) |
//! | 16 | 4 | outputs `k` (`u32`: 1 for a linear model, classes for a classifier) |
//! | 20 | `4·k·d` | weights, output by output (`f32`) |
//! | … | `4·k` | biases (`f32`) |
//! | … | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it |
//!
//! [`encoded_len`]`(d, k) = 24 + 4·k·(d + 1)`. Decoding checks, in order: the length is at least
//! the header's, the magic, the version, the kind and loss (and their pairing; version 1 knows
//! the losses of codes 0–3 only), the dimensions (against the expected ones for a fixed-size
//! model), the exact length, the checksum, then that every value is finite and the loss's
//! parameter valid. Encoding refuses exactly what decoding would refuse (more than
//! [`MAX_CLASSES`](crate::kernel::MAX_CLASSES) classes, a non-finite value, an invalid loss
//! parameter), so every string `encode` writes decodes. Any failure is an `Err`, never a panic;
//! a valid string round-trips bit for bit. Version 2 differs from version 1 only in the
//! parameter slot, which version 1 reserved for Huber's `δ`, and in the loss codes it knows.
//!
//! ```
//! use npoa::{LinearModel, loss::Loss};
//! let m = LinearModel::new([0.5, -1.25], 0.125)?.with_loss(Loss::Huber { delta: 2.0 })?;
//! let mut buf = [0u8; npoa::model::bytes::encoded_len(2, 1)];
//! let n = m.to_bytes(&mut buf)?;
//! assert_eq!(n, 36);
//! assert_eq!(LinearModel::<2>::from_bytes(&buf)?, m);
//! assert!(LinearModel::<2>::from_bytes(&buf[..35]).is_err());
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::Error;
use crate::loss::Loss;

/// The first four bytes.
pub const MAGIC: [u8; 4] = *b"NPOA";
/// The format version written.
pub const VERSION: u16 = 2;
/// The oldest format version read.
pub const MIN_VERSION: u16 = 1;
/// The byte code of the softmax classifier in the loss field.
const SOFTMAX_CODE: u8 = 4;
/// Bytes before the weights.
pub const HEADER_LEN: usize = 20;

/// Bytes of an encoded model with `d` features and `k` outputs: `24 + 4·k·(d + 1)` (saturating).
pub const fn encoded_len(d: usize, k: usize) -> usize {
    let values = k.saturating_mul(d.saturating_add(1));
    values.saturating_mul(4).saturating_add(HEADER_LEN + 4)
}

/// What a model is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// One output, with its loss.
    Linear(Loss),
    /// `k` outputs, softmax cross-entropy.
    Softmax,
}

/// The header of an encoded model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Header {
    /// Linear model (with its loss) or softmax classifier.
    pub kind: Kind,
    /// Features.
    pub d: usize,
    /// Outputs (1 for a linear model).
    pub k: usize,
}

const fn corrupt(reason: &'static str) -> Error {
    Error::InvalidBytes { reason }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib): bitwise, no table.
pub fn crc32(data: &[u8]) -> u32 {
    crate::check::crc32(data)
}

fn loss_code(kind: Kind) -> (u8, u8, f32) {
    match kind {
        Kind::Linear(l) => (0, l.code(), l.param()),
        Kind::Softmax => (1, SOFTMAX_CODE, 0.0),
    }
}

/// Encodes a model: `w` holds `k` rows of `d` weights, `b` the `k` biases. Returns the bytes
/// written, [`encoded_len`]`(d, k)`.
///
/// # Errors
/// [`Error::LengthMismatch`] if `buf` is shorter than needed or `w`, `b` do not match the
/// header; [`Error::InvalidParameter`] for a header that cannot be encoded (zero or too large
/// dimensions, `k ≠ 1` for a linear model).
pub fn encode(header: Header, w: &[f32], b: &[f32], buf: &mut [u8]) -> Result<usize, Error> {
    let Header { kind, d, k } = header;
    if d == 0 || k == 0 || u32::try_from(d).is_err() || u32::try_from(k).is_err() {
        return Err(corrupt("dimensions must be in 1..=u32::MAX"));
    }
    if matches!(kind, Kind::Linear(_)) && k != 1 {
        return Err(corrupt("a linear model has one output"));
    }
    if k > crate::kernel::MAX_CLASSES {
        return Err(corrupt("too many classes"));
    }
    if let Kind::Linear(l) = kind {
        l.validate()
            .map_err(|_| corrupt("invalid loss parameter"))?;
    }
    crate::check::check_len("w", w.len(), k.saturating_mul(d))?;
    crate::check::check_len("b", b.len(), k)?;
    crate::check::check_finite("w", w)?;
    crate::check::check_finite("b", b)?;
    let n = encoded_len(d, k);
    let Some(out) = buf.get_mut(..n) else {
        return Err(Error::LengthMismatch {
            what: "buffer",
            expected: n,
            found: buf.len(),
        });
    };
    let (kb, lb, delta) = loss_code(kind);
    let mut pos = 0;
    let mut put = |bytes: &[u8]| {
        if let Some(dst) = out.get_mut(pos..pos + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        pos += bytes.len();
    };
    put(&MAGIC);
    put(&VERSION.to_le_bytes());
    put(&[kb, lb]);
    put(&delta.to_le_bytes());
    put(&(d as u32).to_le_bytes());
    put(&(k as u32).to_le_bytes());
    for v in w.iter().chain(b) {
        put(&v.to_le_bytes());
    }
    let crc = crc32(out.get(..n - 4).unwrap_or(&[]));
    if let Some(dst) = out.get_mut(n - 4..n) {
        dst.copy_from_slice(&crc.to_le_bytes());
    }
    Ok(n)
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = buf.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

/// Reads and checks the header (magic, version, kind, loss, dimensions, exact length,
/// checksum); the values are not read.
///
/// # Errors
/// [`Error::InvalidParameter`] (`name: "model bytes"`) naming what is wrong, or
/// [`Error::LengthMismatch`] for a truncated or over-long string.
pub fn decode_header(buf: &[u8]) -> Result<Header, Error> {
    if buf.len() < HEADER_LEN {
        return Err(Error::LengthMismatch {
            what: "model bytes",
            expected: HEADER_LEN + 4,
            found: buf.len(),
        });
    }
    if buf.get(..4) != Some(&MAGIC[..]) {
        return Err(corrupt("bad magic (not npoa model bytes)"));
    }
    let version = u16::from_le_bytes([buf[4], buf[5]]);
    if !(MIN_VERSION..=VERSION).contains(&version) {
        return Err(corrupt("unsupported format version"));
    }
    let param = f32::from_bits(u32_at(buf, 8));
    let kind = match (buf[6], buf[7]) {
        (1, SOFTMAX_CODE) => Kind::Softmax,
        // Version 1 knew the squared, Huber, absolute and logistic losses only.
        (0, code) if version >= 2 || code <= 3 => match Loss::from_code(code, param) {
            Some(l) => Kind::Linear(l),
            None => return Err(corrupt("unknown kind or loss")),
        },
        _ => return Err(corrupt("unknown kind or loss")),
    };
    // The slot is only meaningful for a loss with a parameter; elsewhere it must be +0 (bits),
    // so that every accepted string is exactly what `encode` writes (found by the fuzzer).
    let has_param = matches!(kind, Kind::Linear(l) if l.param_name().is_some());
    if !has_param && u32_at(buf, 8) != 0 {
        return Err(corrupt("reserved field (loss parameter) is not zero"));
    }
    let d = u32_at(buf, 12) as usize;
    let k = u32_at(buf, 16) as usize;
    if d == 0 || k == 0 {
        return Err(corrupt("zero dimension"));
    }
    if matches!(kind, Kind::Linear(_)) && k != 1 {
        return Err(corrupt("a linear model has one output"));
    }
    if k > crate::kernel::MAX_CLASSES {
        return Err(corrupt("too many classes"));
    }
    let n = encoded_len(d, k);
    if buf.len() != n {
        return Err(Error::LengthMismatch {
            what: "model bytes",
            expected: n,
            found: buf.len(),
        });
    }
    if crc32(&buf[..n - 4]) != u32_at(buf, n - 4) {
        return Err(corrupt("checksum mismatch"));
    }
    if let Kind::Linear(l) = kind {
        l.validate()
            .map_err(|_| corrupt("invalid loss parameter"))?;
    }
    Ok(Header { kind, d, k })
}

/// Decodes a model into `w` (`k·d`) and `b` (`k`), after [`decode_header`]'s checks; the
/// slices must have the header's sizes (a fixed-size model passes its own).
///
/// # Errors
/// As [`decode_header`]; [`Error::LengthMismatch`] if `w` or `b` does not match the header;
/// [`Error::NonFinite`] for a non-finite value. On error `w` and `b` are unchanged.
pub fn decode_into(buf: &[u8], w: &mut [f32], b: &mut [f32]) -> Result<Header, Error> {
    let h = decode_header(buf)?;
    values_into(buf, h, w, b)
}

/// [`decode_into`] after [`decode_header`] gave `h` for `buf` (the checksum is not read again).
pub(crate) fn values_into(
    buf: &[u8],
    h: Header,
    w: &mut [f32],
    b: &mut [f32],
) -> Result<Header, Error> {
    crate::check::check_len("w", w.len(), h.k * h.d)?;
    crate::check::check_len("b", b.len(), h.k)?;
    let value = |i: usize| {
        f32::from_le_bytes(
            buf.get(HEADER_LEN + 4 * i..HEADER_LEN + 4 * i + 4)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0xff; 4]),
        )
    };
    let nw = w.len();
    for i in 0..nw + b.len() {
        if !value(i).is_finite() {
            let (what, index) = if i < nw { ("w", i) } else { ("b", i - nw) };
            return Err(Error::NonFinite { what, index });
        }
    }
    for (i, v) in w.iter_mut().chain(b.iter_mut()).enumerate() {
        *v = value(i);
    }
    Ok(h)
}
