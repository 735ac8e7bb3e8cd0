//! Round frames (`npoa::model::round`): round trips, every single-bit flip and every
//! truncation refused, the device's round counter.

use npoa::model::bytes::encoded_len;
use npoa::model::round::{self, Device, Frame, Role, frame_len};
use npoa::{Error, LinearModel};

fn model_bytes() -> [u8; encoded_len(3, 1)] {
    let m = LinearModel::<3>::new([0.5, -1.25, 2.0], 0.125).unwrap();
    let mut buf = [0u8; encoded_len(3, 1)];
    m.to_bytes(&mut buf).unwrap();
    buf
}

fn frame(role: Role, round: u32, samples: u32) -> Vec<u8> {
    let model = model_bytes();
    let mut buf = vec![0u8; frame_len(model.len())];
    let n = round::encode(
        &Frame {
            role,
            round,
            samples,
            model: &model,
        },
        &mut buf,
    )
    .unwrap();
    assert_eq!(n, buf.len());
    buf
}

#[test]
fn frames_round_trip_with_the_documented_layout() {
    let wire = frame(Role::Update, 7, 128);
    assert_eq!(&wire[..4], b"NPFR");
    assert_eq!(u16::from_le_bytes([wire[4], wire[5]]), 1);
    assert_eq!(u16::from_le_bytes([wire[6], wire[7]]), 1);
    assert_eq!(u32::from_le_bytes(wire[8..12].try_into().unwrap()), 7);
    assert_eq!(u32::from_le_bytes(wire[12..16].try_into().unwrap()), 128);
    let model = model_bytes();
    assert_eq!(&wire[20..20 + model.len()], &model);
    let n = wire.len();
    let crc = u32::from_le_bytes(wire[n - 4..].try_into().unwrap());
    assert_eq!(crc, npoa::model::bytes::crc32(&wire[..n - 4]));
    let f = round::decode(&wire).unwrap();
    assert_eq!(
        (f.role, f.round, f.samples, f.model),
        (Role::Update, 7, 128, &model[..])
    );
}

#[test]
fn every_bit_flip_and_truncation_is_refused() {
    for wire in [frame(Role::Global, 1, 0), frame(Role::Update, 3, 9)] {
        for bit in 0..wire.len() * 8 {
            let mut bad = wire.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                matches!(round::decode(&bad), Err(Error::InvalidBytes { .. })),
                "bit {bit}"
            );
        }
        for len in 0..wire.len() {
            assert!(round::decode(&wire[..len]).is_err(), "length {len}");
        }
        let mut longer = wire.clone();
        longer.push(0);
        assert!(round::decode(&longer).is_err());
    }
}

#[test]
fn encoding_refuses_what_decoding_would() {
    let model = model_bytes();
    let mut buf = vec![0u8; frame_len(model.len())];
    let bad = [
        Frame {
            role: Role::Global,
            round: 0,
            samples: 0,
            model: &model,
        },
        Frame {
            role: Role::Global,
            round: 1,
            samples: 5,
            model: &model,
        },
        Frame {
            role: Role::Update,
            round: 1,
            samples: 0,
            model: &model,
        },
        Frame {
            role: Role::Update,
            round: 1,
            samples: 1,
            model: &model[..model.len() - 1],
        },
    ];
    for f in &bad {
        assert!(round::encode(f, &mut buf).is_err(), "{f:?}");
    }
    let mut broken = model;
    broken[21] ^= 4; // a weight: the model's own CRC no longer matches
    let f = Frame {
        role: Role::Update,
        round: 1,
        samples: 1,
        model: &broken,
    };
    assert!(round::encode(&f, &mut buf).is_err());
    let ok = Frame {
        role: Role::Update,
        round: 1,
        samples: 1,
        model: &model,
    };
    assert!(matches!(
        round::encode(&ok, &mut buf[..10]),
        Err(Error::LengthMismatch { .. })
    ));
}

#[test]
fn a_device_takes_each_round_once_and_answers_it() {
    let mut device = Device::new();
    let model = model_bytes();
    let mut out = vec![0u8; frame_len(model.len())];
    assert!(device.update(&model, 4, &mut out).is_err()); // no round taken yet
    assert!(device.accept(&frame(Role::Update, 1, 4)).is_err()); // not a global frame
    device.accept(&frame(Role::Global, 2, 0)).unwrap();
    assert_eq!(device.last_round(), 2);
    for stale in [1, 2] {
        assert!(device.accept(&frame(Role::Global, stale, 0)).is_err());
        assert_eq!(device.last_round(), 2);
    }
    let n = device.update(&model, 4, &mut out).unwrap();
    let f = round::decode(&out[..n]).unwrap();
    assert_eq!((f.role, f.round, f.samples), (Role::Update, 2, 4));
    let mut resumed = Device::resumed(device.last_round());
    assert!(resumed.accept(&frame(Role::Global, 2, 0)).is_err());
    resumed.accept(&frame(Role::Global, 5, 0)).unwrap();
}

/// A frame whose own fields and CRC are valid around the given model bytes.
fn wrap(model: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"NPFR");
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&5u32.to_le_bytes());
    out.extend_from_slice(&(model.len() as u32).to_le_bytes());
    out.extend_from_slice(model);
    let crc = npoa::model::bytes::crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

#[test]
fn broken_model_bytes_inside_a_valid_frame_are_refused() {
    let model = model_bytes();
    assert!(round::decode(&wrap(&model)).is_ok()); // the wrapper itself is right
    let mut bad_crc = model;
    bad_crc[24] ^= 1; // a weight: the model's own CRC-32 no longer matches
    assert!(matches!(
        round::decode(&wrap(&bad_crc)),
        Err(Error::InvalidBytes { reason }) if reason.contains("checksum")
    ));
    let mut bad_magic = model;
    bad_magic[0] = b'X';
    assert!(matches!(
        round::decode(&wrap(&bad_magic)),
        Err(Error::InvalidBytes { .. })
    ));
    // Model bytes one byte short of their header's length (the frame's length agrees).
    assert!(matches!(
        round::decode(&wrap(&model[..model.len() - 1])),
        Err(Error::LengthMismatch { .. })
    ));
}
