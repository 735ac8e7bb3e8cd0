//! Model bytes: arbitrary bytes decode to an `Err` or to a model that re-encodes to exactly
//! the same bytes (a version-1 string re-encodes as version 2: the same body, another version
//! field and checksum); a fixed-size model decodes exactly when the run-time one does with its
//! size; a valid string with one byte changed is an `Err`.
//!
//! A mutated string almost never carries a valid CRC-32, so the checks after the checksum (the
//! values' finiteness, the loss parameter) would run on the seeds only. Each input is therefore
//! decoded three times: as it is; with its checksum recomputed (`crc32` of every byte before
//! it, written into the last four); and resized to the length its header's `d` and `k` ask for
//! (zero-padded or cut, at most 4 KiB) with its checksum recomputed. On each, decoding is `Ok`
//! exactly when `decode_header` is `Ok` and every value is finite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use npoa::model::bytes::{HEADER_LEN, Kind, VERSION, crc32, decode_header, encoded_len};
use npoa::{DynModel, LinearClassifier, LinearModel};

/// `encoded` is what `encode` wrote for the model decoded from `data`: equal bytes for a
/// current-version string; for an older one, the same bytes outside the version field and
/// the checksum, and a current-version string that decodes to the same model.
fn same_encoding(encoded: &[u8], data: &[u8]) {
    assert_eq!(encoded.len(), data.len(), "same length");
    let version = data.get(4..6).map(|v| u16::from_le_bytes([v[0], v[1]]));
    if version == Some(VERSION) {
        assert_eq!(
            encoded, data,
            "a decoded model re-encodes to the same bytes"
        );
    } else {
        let n = data.len();
        assert!(n >= HEADER_LEN + 4);
        assert_eq!(&encoded[..4], &data[..4]);
        assert_eq!(&encoded[6..n - 4], &data[6..n - 4], "the same body");
        assert_eq!(&encoded[4..6], &VERSION.to_le_bytes());
        assert_eq!(
            DynModel::from_bytes(encoded)
                .map(|m| m.to_bytes())
                .as_deref(),
            Ok(encoded)
        );
    }
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// A fixed-size model of `D` features decodes exactly when the run-time one does with `d = D`,
/// and re-encodes to the same bytes.
fn fixed_linear<const D: usize>(data: &[u8], dyn_ok: bool, h: Option<(Kind, usize, usize)>) {
    let want = dyn_ok && matches!(h, Some((Kind::Linear(_), d, 1)) if d == D);
    match LinearModel::<D>::from_bytes(data) {
        Ok(m) => {
            assert!(
                want,
                "LinearModel<{D}> decoded what DynModel refused: {h:?}"
            );
            let mut buf = vec![0u8; encoded_len(D, 1)];
            assert_eq!(m.to_bytes(&mut buf), Ok(data.len()));
            same_encoding(&buf, data);
        }
        Err(e) => assert!(!want, "LinearModel<{D}>: {e:?}"),
    }
}

fn fixed_classifier<const D: usize, const K: usize>(
    data: &[u8],
    dyn_ok: bool,
    h: Option<(Kind, usize, usize)>,
) {
    let want = dyn_ok && h == Some((Kind::Softmax, D, K));
    match LinearClassifier::<D, K>::from_bytes(data) {
        Ok(m) => {
            assert!(
                want,
                "LinearClassifier<{D}, {K}> decoded what DynModel refused"
            );
            let mut buf = vec![0u8; encoded_len(D, K)];
            assert_eq!(m.to_bytes(&mut buf), Ok(data.len()));
            same_encoding(&buf, data);
        }
        Err(e) => assert!(!want, "LinearClassifier<{D}, {K}>: {e:?}"),
    }
}

fn check(data: &[u8]) {
    let h = decode_header(data).ok();
    let dynm = DynModel::from_bytes(data);
    if let Some(h) = h {
        let n = data.len();
        let finite = data[HEADER_LEN..n - 4]
            .chunks_exact(4)
            .all(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite());
        assert_eq!(dynm.is_ok(), finite, "{h:?}: {dynm:?}");
        assert!((1..=256).contains(&h.k) && h.d >= 1);
        assert_eq!(n, encoded_len(h.d, h.k));
    } else {
        assert!(dynm.is_err(), "DynModel decoded what decode_header refused");
    }
    if let Ok(m) = &dynm {
        same_encoding(&m.to_bytes(), data);
    }
    let hk = h.map(|h| (h.kind, h.d, h.k));
    let ok = dynm.is_ok();
    fixed_linear::<1>(data, ok, hk);
    fixed_linear::<3>(data, ok, hk);
    fixed_linear::<4>(data, ok, hk);
    fixed_linear::<5>(data, ok, hk);
    fixed_classifier::<2, 3>(data, ok, hk);
    fixed_classifier::<4, 2>(data, ok, hk);
    // A valid string with one byte changed is always an Err (CRC-32 catches every 1-byte error).
    if ok && data.len() > 1 {
        let mut c = data.to_vec();
        let i = usize::from(data[0] ^ data[data.len() - 1]) % c.len();
        c[i] ^= 0x5a;
        assert!(DynModel::from_bytes(&c).is_err());
    }
}

/// Writes the CRC-32 of every byte before the last four into them.
fn fix_crc(c: &mut [u8]) {
    let n = c.len();
    let crc = crc32(&c[..n - 4]);
    c[n - 4..].copy_from_slice(&crc.to_le_bytes());
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() < HEADER_LEN + 4 {
        return;
    }
    let mut c = data.to_vec();
    fix_crc(&mut c);
    check(&c);
    // The length the header asks for (bounded), then the checksum.
    let (d, k) = (u32_at(data, 12) as usize, u32_at(data, 16) as usize);
    let len = encoded_len(d, k);
    if len != data.len() && len <= 4096 {
        c.resize(len, 0);
        fix_crc(&mut c);
        check(&c);
    }
});
