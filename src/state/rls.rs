//! The bytes of an [`Rls`] learner (kind 9): its configuration, parameters, `P` and counters.

use super::codec::{FRAME_LEN, Kind, Reader, Writer, corrupt};
use crate::Error;
use crate::optim::{Rls, RlsConfig};

/// Body bytes of an [`Rls<D>`] (without the frame): `48 + 16·D + 8·D²` — the configuration
/// (16), the weights and bias (`8·D + 8`), `P` in full (`8·D² + 8·D + 8`: the weight block row
/// by row, the weight–bias column, the bias entry), updates (8), resets and wind-ups (4 + 4).
pub const fn rls_len(d: usize) -> usize {
    48 + 16 * d + 8 * d * d
}

impl<const D: usize> Rls<D> {
    /// Bytes of [`encode`](Self::encode)'s output: `12 + 48 + 16·D + 8·D²` (700 for `D = 8`).
    pub const ENCODED_LEN: usize = FRAME_LEN + rls_len(D);

    /// Writes the learner into `out[..ENCODED_LEN]` (state format version 1, kind 9).
    ///
    /// ```
    /// use npoa::optim::{Rls, RlsConfig};
    /// let mut rls = Rls::<2>::new(RlsConfig::default())?;
    /// rls.update(&[1.0, 2.0], 3.0)?;
    /// let mut buf = [0u8; Rls::<2>::ENCODED_LEN];
    /// rls.encode(&mut buf)?;
    /// assert_eq!(Rls::<2>::decode(&buf)?, rls);
    /// buf[20] ^= 1;
    /// assert!(Rls::<2>::decode(&buf).is_err()); // the CRC-32
    /// # Ok::<(), npoa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `out` is shorter.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::frame(out, Self::ENCODED_LEN, Kind::Rls)?;
        put_rls(&mut w, self);
        w.finish()
    }

    /// Reads what [`encode`](Self::encode) wrote.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], or [`Error::InvalidBytes`] naming the problem (frame,
    /// checksum, an invalid configuration, a non-finite value, a `P` that is not symmetric bit
    /// for bit or has a diagonal entry `≤ 0`).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::frame(bytes, Self::ENCODED_LEN, Kind::Rls)?;
        get_rls(&mut r)
    }
}

/// Writes the body of `s` ([`rls_len`]`(D)` bytes).
pub(crate) fn put_rls<const D: usize>(w: &mut Writer<'_>, s: &Rls<D>) {
    w.f64(s.config.forgetting);
    w.f64(s.config.delta);
    for v in s.w.iter().chain(core::iter::once(&s.b)) {
        w.f64(*v);
    }
    for v in s.p_ww.iter().flatten().chain(&s.p_wb) {
        w.f64(*v);
    }
    w.f64(s.p_bb);
    w.u64(s.updates);
    w.u32(s.resets);
    w.u32(s.windups);
}

/// Reads a body written by [`put_rls`], validating every field.
pub(crate) fn get_rls<const D: usize>(r: &mut Reader<'_>) -> Result<Rls<D>, Error> {
    let config = RlsConfig {
        forgetting: r.f64(),
        delta: r.f64(),
    };
    if config.validate().is_err() {
        return Err(corrupt("rls configuration out of range"));
    }
    let mut s = Rls::<D>::new(config).map_err(|_| corrupt("rls configuration out of range"))?;
    let mut finite = true;
    for v in
        s.w.iter_mut()
            .chain(core::iter::once(&mut s.b))
            .chain(s.p_ww.iter_mut().flatten())
            .chain(s.p_wb.iter_mut())
            .chain(core::iter::once(&mut s.p_bb))
    {
        *v = r.f64();
        finite &= v.is_finite();
    }
    if !finite {
        return Err(corrupt("rls value is not finite"));
    }
    for (i, row) in s.p_ww.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            let mirror = s.p_ww.get(j).and_then(|r| r.get(i)).copied();
            if mirror.map(f64::to_bits) != Some(v.to_bits()) {
                return Err(corrupt("rls P is not symmetric"));
            }
            if i == j && *v <= 0.0 {
                return Err(corrupt("rls P has a diagonal entry <= 0"));
            }
        }
    }
    if s.p_bb <= 0.0 {
        return Err(corrupt("rls P has a diagonal entry <= 0"));
    }
    s.updates = r.u64();
    s.resets = r.u32();
    s.windups = r.u32();
    Ok(s)
}
