//! What a drift detector costs per value: `update` of each of `npoa::control::drift`'s
//! detectors at River's defaults, cycling over a 4096-value stream with a change in the
//! middle (so that detections, ADWIN's shrinking and the restarts after a drift are in the
//! figure, as they are in a real stream).
//!
//! * `drift/adwin`: ADWIN, `clock = 32` (a check of every cut each 32 values);
//! * `drift/adwin_clock1`: ADWIN checking at every value (River's `clock=1`);
//! * `drift/adwin_warning`: ADWIN with a warning delta (one more bound per cut);
//! * `drift/page_hinkley`, `drift/ddm`, `drift/eddm`.
//!
//! Real values (uniform + a mean shift) for ADWIN and Page-Hinkley, an error stream (10 %,
//! then 40 %) for DDM and EDDM. Before timing, each detector is checked to signal a drift
//! after the change. 6 benchmarks, about 5 s.

#[path = "shared/mod.rs"]
mod shared;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use npoa::control::drift::{
    AdwinConfig, AnyDetector, DdmConfig, Detector, DetectorConfig, EddmConfig, PageHinkleyConfig,
    Signal,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const STREAM: usize = 4096;

fn streams() -> (Vec<f32>, Vec<f32>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
    let real = (0..STREAM)
        .map(|i| rng.random::<f32>() + if i >= STREAM / 2 { 0.5 } else { 0.0 })
        .collect();
    let errors = (0..STREAM)
        .map(|i| {
            let p = if i >= STREAM / 2 { 0.4 } else { 0.1 };
            if rng.random::<f32>() < p { 1.0 } else { 0.0 }
        })
        .collect();
    (real, errors)
}

fn bench(c: &mut Criterion) {
    let (real, errors) = streams();
    let cases = [
        (
            "adwin",
            DetectorConfig::Adwin(AdwinConfig::default()),
            &real,
        ),
        (
            "adwin_clock1",
            DetectorConfig::Adwin(AdwinConfig {
                clock: 1,
                ..AdwinConfig::default()
            }),
            &real,
        ),
        (
            "adwin_warning",
            DetectorConfig::Adwin(AdwinConfig {
                warning_delta: Some(0.01),
                ..AdwinConfig::default()
            }),
            &real,
        ),
        (
            "page_hinkley",
            DetectorConfig::PageHinkley(PageHinkleyConfig::default()),
            &real,
        ),
        ("ddm", DetectorConfig::Ddm(DdmConfig::default()), &errors),
        ("eddm", DetectorConfig::Eddm(EddmConfig::default()), &errors),
    ];
    let mut g = c.benchmark_group("drift");
    g.throughput(Throughput::Elements(1));
    for (name, cfg, xs) in cases {
        let mut check = AnyDetector::new(cfg).expect("valid config");
        let drift_after_change = xs
            .iter()
            .enumerate()
            .any(|(i, &x)| check.update(x) == Signal::Drift && i >= STREAM / 2);
        assert!(drift_after_change, "{name}: no drift after the change");
        g.bench_function(name, |b| {
            let mut d = AnyDetector::new(cfg).expect("valid config");
            let mut i = 0usize;
            b.iter(|| {
                let x = xs[i % STREAM];
                i += 1;
                black_box(d.update(black_box(x)))
            });
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = shared::config();
    targets = bench
}
criterion_main!(benches);
