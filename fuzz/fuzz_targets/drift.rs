//! Drift detectors (`npoa::control::drift`): arbitrary settings and values never panic; a
//! value a detector ignores (NaN, ±∞, outside `[0, 1]` for DDM and EDDM) answers `Stable` and
//! leaves the state equal; ADWIN's window stays within its documented bound and every
//! statistic finite; the state bytes of a detector met along the way decode to an equal
//! detector that re-encodes to the same bytes and then makes the same decisions.
//!
//! Input: byte 0 the mode, bytes 1..8 the settings, then `f32` values (4 bytes each; for DDM
//! and EDDM with mode bit 1 set, one bit per value: an error stream). Mode bit 0 set: after
//! the values, the detector's bytes are changed by the `(position, mask)` triples that
//! follow a `0xFF 0xFF` marker (CRC recomputed) and decoded: `Err`, or a detector that
//! re-encodes to exactly those bytes and keeps updating. The input after byte 0 is also
//! decoded as it is, framed (kind 8, CRC recomputed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use npoa::control::drift::{
    ADWIN_ROWS, AdwinConfig, AnyDetector, DdmConfig, Detector, DetectorConfig, EddmConfig,
    PageHinkleyConfig, PhMode, Signal,
};
use npoa::model::bytes::crc32;
use npoa::state::{Kind, MAGIC, VERSION};

fn recrc(b: &mut [u8]) {
    let n = b.len();
    let c = crc32(&b[..n - 4]);
    b[n - 4..].copy_from_slice(&c.to_le_bytes());
}

fn config(s: &[u8; 8]) -> DetectorConfig {
    let pick = |v: u8, xs: &[f64]| xs[usize::from(v) % xs.len()];
    match s[0] % 4 {
        0 => DetectorConfig::Adwin(AdwinConfig {
            delta: pick(s[1], &[0.002, 0.01, 0.2, 0.9, 1e-12, 0.0, 1.0]),
            clock: u32::from(s[2] % 40),
            max_buckets: u32::from(s[3] % 10),
            min_window_length: u32::from(s[4] % 12),
            grace_period: u32::from(s[5]),
            warning_delta: (s[6] & 1 == 1).then(|| pick(s[6] >> 1, &[0.05, 0.5, 0.001, 2.0])),
        }),
        1 => DetectorConfig::PageHinkley(PageHinkleyConfig {
            min_instances: u32::from(s[1] % 40),
            delta: pick(s[2], &[0.005, 0.0, 1.0, -1.0, f64::NAN]),
            threshold: pick(s[3], &[50.0, 1.0, 0.01, 0.0, f64::INFINITY]),
            alpha: pick(s[4], &[1.0 - 1e-4, 1.0, 0.5, 0.0, 1.5]),
            mode: [PhMode::Both, PhMode::Up, PhMode::Down][usize::from(s[5]) % 3],
        }),
        2 => DetectorConfig::Ddm(DdmConfig {
            warm_start: u32::from(s[1] % 60),
            warning_threshold: pick(s[2], &[2.0, 0.0, 1.0, -1.0]),
            drift_threshold: pick(s[3], &[3.0, 2.0, 0.5, f64::NAN]),
        }),
        _ => DetectorConfig::Eddm(EddmConfig {
            warm_start: u32::from(s[1] % 60),
            alpha: pick(s[2], &[0.95, 0.9, 1.0, 0.5]),
            beta: pick(s[3], &[0.9, 0.8, 0.0, 1.0]),
        }),
    }
}

fn encode(d: &AnyDetector) -> Vec<u8> {
    let mut b = vec![0u8; AnyDetector::ENCODED_LEN];
    assert_eq!(d.encode(&mut b), Ok(AnyDetector::ENCODED_LEN));
    b
}

fn decoded(bytes: &[u8]) {
    if let Ok(mut d) = AnyDetector::decode(bytes) {
        assert_eq!(encode(&d), bytes, "decode then encode is the identity");
        for v in [0.0f32, 1.0, 1.0, 0.5, f32::NAN, 3e38, -3e38, 1.0] {
            d.update(v);
        }
        if let AnyDetector::Adwin(a) = &d {
            assert!(a.total().is_finite() && a.width() > 0);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // The input itself as a detector's body.
    let mut framed = vec![0u8; AnyDetector::ENCODED_LEN];
    framed[..4].copy_from_slice(&MAGIC);
    framed[4..6].copy_from_slice(&VERSION.to_le_bytes());
    framed[6] = Kind::Detector as u8;
    let n = rest.len().min(AnyDetector::ENCODED_LEN - 12);
    framed[8..8 + n].copy_from_slice(&rest[..n]);
    recrc(&mut framed);
    decoded(&framed);

    if rest.len() < 8 {
        return;
    }
    let (settings, tail) = rest.split_at(8);
    let cfg = config(settings.try_into().unwrap());
    let Ok(mut d) = AnyDetector::new(cfg) else {
        return;
    };
    let (values, edits) = match tail.windows(2).position(|w| w == [0xFF, 0xFF]) {
        Some(i) => (&tail[..i], &tail[i + 2..]),
        None => (tail, &[][..]),
    };
    let binary = matches!(cfg, DetectorConfig::Ddm(_) | DetectorConfig::Eddm(_));
    let xs: Vec<f32> = if binary && mode & 2 != 0 {
        values
            .iter()
            .flat_map(|b| (0..8).map(move |i| f32::from((b >> i) & 1)))
            .collect()
    } else {
        values
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    for (i, &x) in xs.iter().enumerate() {
        let before = d.clone();
        let s = d.update(x);
        let ignored = !x.is_finite() || (binary && !(0.0..=1.0).contains(&x));
        if ignored {
            assert_eq!(s, Signal::Stable);
            assert_eq!(d, before, "an ignored value changed the state");
        }
        if let AnyDetector::Adwin(a) = &d {
            let mb = u64::from(a.config().max_buckets);
            assert!(a.width() <= mb * ((1 << ADWIN_ROWS) - 1));
            assert!(a.buckets() as u64 <= mb * ADWIN_ROWS as u64);
            assert!(a.total().is_finite() && a.variance().is_finite());
        }
        if i % 64 == 63 {
            let b = encode(&d);
            let back = AnyDetector::decode(&b).expect("a detector's own bytes decode");
            assert_eq!(back, d);
            let (mut x1, mut x2) = (d.clone(), back);
            for &y in xs.iter().skip(i + 1).take(32) {
                assert_eq!(x1.update(y), x2.update(y));
            }
        }
    }
    if mode & 1 == 1 {
        let mut b = encode(&d);
        for e in edits.chunks_exact(3) {
            let at = usize::from(u16::from_le_bytes([e[0], e[1]])) % (b.len() - 4);
            b[at] ^= e[2];
        }
        recrc(&mut b);
        decoded(&b);
    }
});
