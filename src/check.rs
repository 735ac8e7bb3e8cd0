//! Input validation shared by every layer: lengths, finiteness, parameters and labels.
//!
//! Layer 0 (with [`crate::Error`]): it imports nothing else from the crate, and everything
//! above calls it instead of writing its own checks.

use crate::Error;

/// `n`, or 1 for 0: a chunk size or divisor the optimiser can see is never zero, so that no
/// panic path for a zero chunk size or a division by zero is compiled (the callers' sizes are
/// never 0 after the entry checks; see `ci/no_std_check/src/no_panic.rs`).
#[inline(always)]
pub(crate) const fn nz(n: usize) -> usize {
    if n == 0 { 1 } else { n }
}

/// Checks model parameters: at least one weight, every weight and the bias finite.
pub(crate) fn check_params(w: &[f32], b: f32) -> Result<(), Error> {
    if w.is_empty() {
        return Err(Error::ZeroFeatures);
    }
    check_finite("w", w)?;
    if !b.is_finite() {
        return Err(Error::NonFinite {
            what: "b",
            index: 0,
        });
    }
    Ok(())
}

/// Checks that `len` equals `expected` for the argument `what`.
pub(crate) fn check_len(what: &'static str, len: usize, expected: usize) -> Result<(), Error> {
    if len == expected {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            expected,
            found: len,
        })
    }
}

/// Whether every element is finite, 32 at a time (then 8, then one): `v·0` is `0` for a finite `v` and NaN
/// otherwise, and a NaN survives the sums. On small targets (`target_os = "none"`, no vector
/// unit) one element at a time: the same answer without four vectors on the stack.
pub(crate) fn all_finite(v: &[f32]) -> bool {
    use wide::f32x8;
    if cfg!(target_os = "none") {
        return v.iter().all(|e| e.is_finite());
    }
    let (c, t) = v.as_chunks::<32>();
    let mut acc = [f32x8::ZERO; 4];
    for k in c {
        let (q, _) = k.as_chunks::<8>();
        for (a, e) in acc.iter_mut().zip(q) {
            *a += f32x8::new(*e) * f32x8::ZERO;
        }
    }
    // The rest: whole vectors of eight, then one at a time (a row of a tiny model is all
    // rest: one vector for eight features instead of eight scalar tests).
    let (t8, t1) = t.as_chunks::<8>();
    for e in t8 {
        acc[0] += f32x8::new(*e) * f32x8::ZERO;
    }
    let s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    s.simd_eq(f32x8::ZERO).all() && t1.iter().all(|e| e.is_finite())
}

/// `Err(NonFinite)` with the index of the first NaN or infinity in `v`.
pub(crate) fn check_finite(what: &'static str, v: &[f32]) -> Result<(), Error> {
    if all_finite(v) {
        return Ok(());
    }
    match v.iter().position(|e| !e.is_finite()) {
        Some(index) => Err(Error::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// Called when a result is not finite: blames the first non-finite input, or reports overflow.
pub(crate) fn diagnose(x: &[f32], y: Option<&[f32]>, what: &'static str) -> Error {
    if let Err(e) = check_finite("x", x) {
        return e;
    }
    if let Some(Err(e)) = y.map(|y| check_finite("y", y)) {
        return e;
    }
    Error::Overflow { what }
}

/// Checks class labels: finite integers in `0..k`.
pub(crate) fn check_labels(y: &[f32], k: usize) -> Result<(), Error> {
    check_finite("y", y)?;
    let kf = k as f32;
    // `v as u16` truncates (and saturates); in `[0, k)` with `k ≤ 256` it round-trips only for
    // integers.
    if y.iter()
        .all(|&v| v >= 0.0 && v < kf && f32::from(v as u16) == v)
    {
        Ok(())
    } else {
        Err(Error::InvalidData {
            what: "y",
            reason: "class labels must be integers in 0..K",
        })
    }
}

/// CRC-32 (IEEE 802.3, zlib's `crc32`) of `data`.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    !crc32_feed(!0, data)
}

/// Feeds `data` into a running CRC-32 register `c` (start with `!0`, finish with `!c`).
pub(crate) fn crc32_feed(mut c: u32, data: &[u8]) -> u32 {
    for &byte in data {
        c ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (c & 1).wrapping_neg();
            c = (c >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::{all_finite, check_finite};
    use crate::Error;

    #[test]
    fn all_finite_finds_every_position() {
        for len in 0..70 {
            let mut v = [0.0f32; 70];
            for (i, e) in v.iter_mut().enumerate() {
                *e = if i % 3 == 0 { f32::MAX } else { -1e-40 };
            }
            let v = &mut v[..len];
            assert!(all_finite(v));
            for pos in 0..len {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let keep = v[pos];
                    v[pos] = bad;
                    assert!(!all_finite(v), "len {len} pos {pos}");
                    assert_eq!(
                        check_finite("v", v),
                        Err(Error::NonFinite {
                            what: "v",
                            index: pos
                        })
                    );
                    v[pos] = keep;
                }
            }
        }
    }
}
