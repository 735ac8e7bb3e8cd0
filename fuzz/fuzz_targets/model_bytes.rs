//! Model bytes: arbitrary bytes decode to an `Err` or to a model that re-encodes to exactly
//! the same bytes (a version-1 string re-encodes as version 2: the same body, another version
//! field and checksum); a fixed-size model decodes exactly when the run-time one does with its
//! size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use npoa::model::bytes::{HEADER_LEN, VERSION};
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

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = DynModel::from_bytes(data) {
        same_encoding(&m.to_bytes(), data);
    }
    if let Ok(m) = LinearModel::<4>::from_bytes(data) {
        let mut buf = [0u8; npoa::model::bytes::encoded_len(4, 1)];
        assert_eq!(m.to_bytes(&mut buf), Ok(data.len()));
        same_encoding(&buf, data);
    }
    if let Ok(m) = LinearClassifier::<2, 3>::from_bytes(data) {
        let mut buf = [0u8; npoa::model::bytes::encoded_len(2, 3)];
        assert_eq!(m.to_bytes(&mut buf), Ok(data.len()));
        same_encoding(&buf, data);
    }
    // A valid string with one byte changed is always an Err (CRC-32 catches every 1-byte error).
    if data.len() > 1 && DynModel::from_bytes(data).is_ok() {
        let mut c = data.to_vec();
        let i = usize::from(data[0]) % c.len();
        c[i] ^= 0x5a;
        assert!(DynModel::from_bytes(&c).is_err());
    }
});
