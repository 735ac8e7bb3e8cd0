//! Model bytes: exact round trips, and every truncation and random corruption is an `Err`.

mod common;

use common::SplitMix64;
use npoa::loss::Loss;
use npoa::model::bytes::{self, Header, Kind, crc32, decode_header, encoded_len};
use npoa::{Error, LinearClassifier, LinearModel};

#[test]
fn crc32_is_zlibs() {
    assert_eq!(crc32(b""), 0);
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(
        crc32(b"The quick brown fox jumps over the lazy dog"),
        0x414f_a339
    );
}

fn linear() -> LinearModel<5> {
    LinearModel::new([0.1, -2.5e-3, 3.0e30, -0.0, f32::MIN_POSITIVE / 4.0], -7.75)
        .unwrap()
        .with_loss(Loss::Huber { delta: 0.3 })
        .unwrap()
}

fn classifier() -> LinearClassifier<3, 4> {
    LinearClassifier::random(9, 2.0).unwrap()
}

#[test]
fn round_trips_are_exact() {
    let m = linear();
    let mut buf = [0u8; encoded_len(5, 1)];
    assert_eq!(m.to_bytes(&mut buf).unwrap(), 48);
    let back = LinearModel::<5>::from_bytes(&buf).unwrap();
    assert_eq!(back, m);
    // Bit for bit, −0.0 and the subnormal included.
    let bits = |m: &LinearModel<5>| m.weights().map(f32::to_bits);
    assert_eq!(bits(&back), bits(&m));
    for loss in Loss::ALL {
        let m = LinearModel::<5>::random(1, 1.0)
            .unwrap()
            .with_loss(loss)
            .unwrap();
        m.to_bytes(&mut buf).unwrap();
        assert_eq!(LinearModel::<5>::from_bytes(&buf).unwrap(), m);
    }
    let c = classifier();
    let mut cb = [0u8; encoded_len(3, 4)];
    assert_eq!(c.to_bytes(&mut cb).unwrap(), 24 + 4 * 16);
    assert_eq!(LinearClassifier::<3, 4>::from_bytes(&cb).unwrap(), c);
    let h = decode_header(&cb).unwrap();
    assert_eq!(
        h,
        Header {
            kind: Kind::Softmax,
            d: 3,
            k: 4
        }
    );
    #[cfg(feature = "std")]
    {
        let d = npoa::DynLinearModel::from_bytes(&buf).unwrap();
        let v = d.to_bytes();
        assert_eq!(v, buf);
        let dc = npoa::DynClassifier::from_bytes(&cb).unwrap();
        assert_eq!(dc.to_bytes(), cb);
    }
}

#[test]
fn every_truncation_is_an_error() {
    let mut buf = [0u8; encoded_len(5, 1)];
    linear().to_bytes(&mut buf).unwrap();
    for n in 0..buf.len() {
        assert!(
            LinearModel::<5>::from_bytes(&buf[..n]).is_err(),
            "length {n}"
        );
        assert!(decode_header(&buf[..n]).is_err());
    }
    let mut cb = [0u8; encoded_len(3, 4)];
    classifier().to_bytes(&mut cb).unwrap();
    for n in 0..cb.len() {
        assert!(
            LinearClassifier::<3, 4>::from_bytes(&cb[..n]).is_err(),
            "length {n}"
        );
    }
    // One byte too many is an error too.
    let mut long = [0u8; encoded_len(5, 1) + 1];
    long[..buf.len()].copy_from_slice(&buf);
    assert!(LinearModel::<5>::from_bytes(&long).is_err());
}

#[test]
fn corruptions_are_errors() {
    let mut buf = [0u8; encoded_len(5, 1)];
    linear().to_bytes(&mut buf).unwrap();
    // Every single-bit flip (CRC-32 detects them all).
    for i in 0..buf.len() {
        for bit in 0..8 {
            let mut c = buf;
            c[i] ^= 1 << bit;
            assert!(
                LinearModel::<5>::from_bytes(&c).is_err(),
                "byte {i} bit {bit}"
            );
        }
    }
    // Random multi-byte corruptions.
    let mut g = SplitMix64::new(3);
    for _ in 0..5000 {
        let mut c = buf;
        let k = 1 + g.below(6) as usize;
        for _ in 0..k {
            let i = g.below(c.len() as u64) as usize;
            c[i] = g.next_u64() as u8;
        }
        if c != buf {
            assert!(LinearModel::<5>::from_bytes(&c).is_err());
        }
    }
    // Random strings.
    for len in 0..80 {
        let s: Vec<u8> = (0..len).map(|_| g.next_u64() as u8).collect();
        assert!(decode_header(&s).is_err());
    }
}

#[test]
fn valid_checksum_but_bad_content_is_an_error() {
    // Re-sign a corrupted body so that only the content checks can catch it.
    let resign = |b: &mut [u8]| {
        let n = b.len();
        let crc = crc32(&b[..n - 4]);
        b[n - 4..].copy_from_slice(&crc.to_le_bytes());
    };
    let mut buf = [0u8; encoded_len(5, 1)];
    linear().to_bytes(&mut buf).unwrap();
    let mut nan = buf;
    nan[20..24].copy_from_slice(&f32::NAN.to_le_bytes());
    resign(&mut nan);
    assert_eq!(
        LinearModel::<5>::from_bytes(&nan),
        Err(Error::NonFinite {
            what: "w",
            index: 0
        })
    );
    let mut delta = buf;
    delta[8..12].copy_from_slice(&(-1.0f32).to_le_bytes());
    resign(&mut delta);
    assert!(LinearModel::<5>::from_bytes(&delta).is_err());
    for v in [0u8, 3, 255] {
        let mut version = buf;
        version[4] = v;
        resign(&mut version);
        assert_eq!(
            LinearModel::<5>::from_bytes(&version),
            Err(Error::InvalidBytes {
                reason: "unsupported format version",
            })
        );
    }
    // Other dimensions or kinds.
    assert_eq!(
        LinearModel::<4>::from_bytes(&buf),
        Err(Error::FeatureMismatch { model: 4, data: 5 })
    );
    assert!(LinearClassifier::<5, 1>::from_bytes(&buf).is_err());
    let mut cb = [0u8; encoded_len(3, 4)];
    classifier().to_bytes(&mut cb).unwrap();
    assert!(LinearModel::<3>::from_bytes(&cb).is_err());
    assert!(LinearClassifier::<3, 3>::from_bytes(&cb).is_err());
}

#[test]
fn encoding_errors() {
    let mut small = [0u8; 10];
    assert!(matches!(
        linear().to_bytes(&mut small),
        Err(Error::LengthMismatch { what: "buffer", .. })
    ));
    let h = Header {
        kind: Kind::Linear(Loss::Squared),
        d: 2,
        k: 2,
    };
    let mut buf = [0u8; 64];
    assert!(bytes::encode(h, &[0.0; 4], &[0.0; 2], &mut buf).is_err());
    let h = Header {
        kind: Kind::Softmax,
        d: 0,
        k: 2,
    };
    assert!(bytes::encode(h, &[], &[0.0; 2], &mut buf).is_err());
}

/// Writes valid model strings as fuzz seeds (`cargo test --test bytes -- --ignored write_fuzz_seeds`).
#[test]
#[ignore = "writes fuzz/seeds/model_bytes"]
fn write_fuzz_seeds() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/model_bytes");
    let mut buf = [0u8; encoded_len(5, 1)];
    linear().to_bytes(&mut buf).unwrap();
    std::fs::write(format!("{dir}/linear5_huber"), buf).unwrap();
    let mut b4 = [0u8; encoded_len(4, 1)];
    LinearModel::<4>::random(2, 1.0)
        .unwrap()
        .to_bytes(&mut b4)
        .unwrap();
    std::fs::write(format!("{dir}/linear4"), b4).unwrap();
    let mut cb = [0u8; encoded_len(2, 3)];
    LinearClassifier::<2, 3>::random(3, 1.0)
        .unwrap()
        .to_bytes(&mut cb)
        .unwrap();
    std::fs::write(format!("{dir}/softmax2x3"), cb).unwrap();
    for (loss, name) in [
        (Loss::Quantile { tau: 0.9 }, "linear3_quantile"),
        (Loss::Poisson, "linear3_poisson"),
    ] {
        let mut b3 = [0u8; encoded_len(3, 1)];
        LinearModel::<3>::random(4, 1.0)
            .unwrap()
            .with_loss(loss)
            .unwrap()
            .to_bytes(&mut b3)
            .unwrap();
        std::fs::write(format!("{dir}/{name}"), b3).unwrap();
    }
}

/// Fuzzer finding (`model_bytes`, 2026-11-29): a squared-error model whose unused δ field was
/// not zero decoded, and re-encoded to other bytes. The field must now be +0 unless the loss is
/// Huber.
#[test]
fn the_unused_delta_field_must_be_zero() {
    let crash: [u8; 44] = [
        78, 80, 79, 65, 1, 0, 0, 0, 0, 0, 0, 44, 4, 0, 0, 0, 1, 0, 0, 0, 234, 204, 7, 63, 224, 55,
        152, 61, 44, 236, 154, 62, 108, 56, 211, 190, 0, 0, 16, 0, 153, 136, 181, 89,
    ];
    assert_eq!(
        LinearModel::<4>::from_bytes(&crash),
        Err(Error::InvalidBytes {
            reason: "reserved field (loss parameter) is not zero",
        })
    );
    // −0.0 is not +0 either; a Huber model keeps its δ.
    let m = LinearModel::<4>::random(5, 1.0).unwrap();
    let mut buf = [0u8; encoded_len(4, 1)];
    m.to_bytes(&mut buf).unwrap();
    buf[8..12].copy_from_slice(&(-0.0f32).to_le_bytes());
    let n = buf.len();
    let crc = crc32(&buf[..n - 4]);
    buf[n - 4..].copy_from_slice(&crc.to_le_bytes());
    assert!(LinearModel::<4>::from_bytes(&buf).is_err());
}

/// `encode` refuses exactly what `decode` would refuse: more than 256 classes, non-finite
/// values, an invalid loss parameter (before, it wrote strings that could not be read back).
#[test]
fn encode_refuses_what_decode_refuses() {
    let mut buf = vec![0u8; encoded_len(1, 257)];
    let h = Header {
        kind: Kind::Softmax,
        d: 1,
        k: 257,
    };
    assert_eq!(
        bytes::encode(h, &[0.0; 257], &[0.0; 257], &mut buf),
        Err(Error::InvalidBytes {
            reason: "too many classes"
        })
    );
    let h = Header {
        kind: Kind::Linear(Loss::Squared),
        d: 2,
        k: 1,
    };
    let mut buf = [0u8; encoded_len(2, 1)];
    assert_eq!(
        bytes::encode(h, &[1.0, f32::NAN], &[0.0], &mut buf),
        Err(Error::NonFinite {
            what: "w",
            index: 1
        })
    );
    assert_eq!(
        bytes::encode(h, &[1.0, 2.0], &[f32::INFINITY], &mut buf),
        Err(Error::NonFinite {
            what: "b",
            index: 0
        })
    );
    let huber = Header {
        kind: Kind::Linear(Loss::Huber { delta: -1.0 }),
        ..h
    };
    assert_eq!(
        bytes::encode(huber, &[1.0, 2.0], &[0.0], &mut buf),
        Err(Error::InvalidBytes {
            reason: "invalid loss parameter"
        })
    );
    // Every loss of the registry round-trips through the bytes, parameter included.
    for loss in Loss::ALL {
        let h = Header {
            kind: Kind::Linear(loss),
            ..h
        };
        let n = bytes::encode(h, &[0.5, -0.25], &[0.125], &mut buf).unwrap();
        assert_eq!(n, buf.len());
        assert_eq!(decode_header(&buf), Ok(h), "{loss:?}");
    }
}

/// Files of format version 1 (before the general parameter slot) still load, bit for bit.
#[test]
fn version_1_files_still_load() {
    let mut v2 = [0u8; encoded_len(5, 1)];
    linear().to_bytes(&mut v2).unwrap();
    assert_eq!(u16::from_le_bytes([v2[4], v2[5]]), bytes::VERSION);
    let mut v1 = v2;
    v1[4..6].copy_from_slice(&1u16.to_le_bytes());
    let n = v1.len();
    let crc = crc32(&v1[..n - 4]);
    v1[n - 4..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(LinearModel::<5>::from_bytes(&v1), Ok(linear()));
    // A version-1 string written by the previous release (a Huber model, d = 1): magic,
    // version 1, kind 0, loss 1, δ = 2.0, d = 1, k = 1, w = 0.5, b = −0.25, CRC.
    let mut old = [0u8; encoded_len(1, 1)];
    old[..4].copy_from_slice(b"NPOA");
    old[4..6].copy_from_slice(&1u16.to_le_bytes());
    old[6] = 0;
    old[7] = 1;
    old[8..12].copy_from_slice(&2.0f32.to_le_bytes());
    old[12..16].copy_from_slice(&1u32.to_le_bytes());
    old[16..20].copy_from_slice(&1u32.to_le_bytes());
    old[20..24].copy_from_slice(&0.5f32.to_le_bytes());
    old[24..28].copy_from_slice(&(-0.25f32).to_le_bytes());
    let crc = crc32(&old[..28]);
    old[28..].copy_from_slice(&crc.to_le_bytes());
    let m = LinearModel::<1>::from_bytes(&old).unwrap();
    assert_eq!(m.loss_kind(), Loss::Huber { delta: 2.0 });
    assert_eq!((m.weights()[0], m.bias()), (0.5, -0.25));
    // Re-encoded, it is a version-2 string with the same body.
    let mut new = [0u8; encoded_len(1, 1)];
    m.to_bytes(&mut new).unwrap();
    assert_eq!(&new[6..28], &old[6..28]);
    assert_eq!(u16::from_le_bytes([new[4], new[5]]), 2);
}

/// The losses added after version 1 (quantile, code 5, with `τ` in the parameter slot;
/// Poisson, code 6, with the slot `+0`) round-trip in version 2; a version-1 string with
/// either code is refused (version 1 knew codes 0–3 only); a quantile string with `τ` out of
/// `(0, 1)` is refused, and so is a Poisson string whose unused slot is not `+0`.
#[test]
fn quantile_and_poisson_models_round_trip_in_version_2_only() {
    let resign = |b: &mut [u8]| {
        let n = b.len();
        let crc = crc32(&b[..n - 4]);
        b[n - 4..].copy_from_slice(&crc.to_le_bytes());
    };
    for (loss, code) in [(Loss::Quantile { tau: 0.9 }, 5u8), (Loss::Poisson, 6)] {
        let m = LinearModel::<3>::new([0.5, -1.25, 3.0], 0.125)
            .unwrap()
            .with_loss(loss)
            .unwrap();
        let mut buf = [0u8; encoded_len(3, 1)];
        assert_eq!(m.to_bytes(&mut buf).unwrap(), 40);
        assert_eq!(&buf[4..8], &[2, 0, 0, code], "{loss:?}");
        assert_eq!(buf[8..12], loss.param().to_le_bytes());
        let back = LinearModel::<3>::from_bytes(&buf).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.loss_kind(), loss);
        assert_eq!(
            decode_header(&buf).unwrap(),
            Header {
                kind: Kind::Linear(loss),
                d: 3,
                k: 1
            }
        );
        #[cfg(feature = "std")]
        assert_eq!(
            npoa::DynLinearModel::from_bytes(&buf).unwrap().to_bytes(),
            buf
        );
        let mut v1 = buf;
        v1[4] = 1;
        resign(&mut v1);
        assert_eq!(
            LinearModel::<3>::from_bytes(&v1),
            Err(Error::InvalidBytes {
                reason: "unknown kind or loss"
            }),
            "{loss:?}"
        );
    }
    let mut buf = [0u8; encoded_len(3, 1)];
    let q = LinearModel::<3>::zeros()
        .with_loss(Loss::Quantile { tau: 0.25 })
        .unwrap();
    q.to_bytes(&mut buf).unwrap();
    for tau in [0.0f32, 1.0, -0.5, f32::NAN] {
        let mut bad = buf;
        bad[8..12].copy_from_slice(&tau.to_le_bytes());
        resign(&mut bad);
        assert_eq!(
            LinearModel::<3>::from_bytes(&bad),
            Err(Error::InvalidBytes {
                reason: "invalid loss parameter"
            }),
            "{tau}"
        );
    }
    let p = LinearModel::<3>::zeros().with_loss(Loss::Poisson).unwrap();
    p.to_bytes(&mut buf).unwrap();
    buf[8..12].copy_from_slice(&0.5f32.to_le_bytes());
    resign(&mut buf);
    assert_eq!(
        LinearModel::<3>::from_bytes(&buf),
        Err(Error::InvalidBytes {
            reason: "reserved field (loss parameter) is not zero"
        })
    );
    // Encoding refuses what decoding would refuse.
    let h = Header {
        kind: Kind::Linear(Loss::Quantile { tau: 1.0 }),
        d: 1,
        k: 1,
    };
    assert!(bytes::encode(h, &[0.0], &[0.0], &mut [0u8; 64]).is_err());
}
