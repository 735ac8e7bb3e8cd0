//! Model bytes: arbitrary bytes decode to an `Err` or to a model that re-encodes to exactly
//! the same bytes; a fixed-size model decodes exactly when the run-time one does with its size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use npoa::{DynModel, LinearClassifier, LinearModel};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = DynModel::from_bytes(data) {
        assert_eq!(
            m.to_bytes(),
            data,
            "a decoded model re-encodes to the same bytes"
        );
    }
    if let Ok(m) = LinearModel::<4>::from_bytes(data) {
        let mut buf = [0u8; npoa::model::bytes::encoded_len(4, 1)];
        assert_eq!(m.to_bytes(&mut buf), Ok(data.len()));
        assert_eq!(&buf[..], data);
    }
    if let Ok(m) = LinearClassifier::<2, 3>::from_bytes(data) {
        let mut buf = [0u8; npoa::model::bytes::encoded_len(2, 3)];
        assert_eq!(m.to_bytes(&mut buf), Ok(data.len()));
        assert_eq!(&buf[..], data);
    }
    // A valid string with one byte changed is always an Err (CRC-32 catches every 1-byte error).
    if data.len() > 1 && DynModel::from_bytes(data).is_ok() {
        let mut c = data.to_vec();
        let i = usize::from(data[0]) % c.len();
        c[i] ^= 0x5a;
        assert!(DynModel::from_bytes(&c).is_err());
    }
});
