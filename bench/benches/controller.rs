//! What the strategy controller costs per epoch: `on_epoch` (plateau + adaptive + early stop +
//! guard all on) and `rate` (a cosine schedule with warm-up, clamped), in ns per call.

use criterion::{Criterion, criterion_group, criterion_main};
use npoa::control::{Controller, ControllerConfig};
use npoa::control::{EarlyStop, Plateau};
use npoa::control::{LrSchedule, Schedule, Warmup};
use std::hint::black_box;
use std::time::Duration;

fn config() -> ControllerConfig {
    let schedule = LrSchedule::new(
        0.1,
        Schedule::Cosine {
            t_max: 1000,
            eta_min: 1e-4,
        },
    )
    .and_then(|s| {
        s.with_warmup(Warmup {
            steps: 10,
            start_factor: 0.1,
        })
    })
    .expect("valid schedule");
    ControllerConfig {
        schedule,
        min_lr: 1e-6,
        max_lr: 1.0,
        plateau: Some(Plateau {
            patience: 5,
            ..Plateau::default()
        }),
        adaptive: Some((1e-4, 5)),
        early_stop: Some(EarlyStop {
            patience: 1_000_000,
            ..EarlyStop::default()
        }),
        target: Some(0.0),
        ..ControllerConfig::constant(0.1).expect("valid rate")
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("controller");
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    // A metric sequence that improves, plateaus and spikes now and then.
    let metrics: Vec<f32> = (0..1024)
        .map(|i| 1.0 / (1.0 + i as f32 * 0.01) + if i % 97 == 0 { 5.0 } else { 0.0 })
        .collect();
    g.bench_function("on_epoch", |b| {
        let mut ctl = Controller::new(config()).expect("valid config");
        let mut i = 0usize;
        b.iter(|| {
            let m = metrics[i % metrics.len()];
            i += 1;
            let v = ctl.on_epoch(black_box(i as u32), black_box(m), &mut |e| {
                black_box(e);
            });
            if v.stop.is_some() {
                ctl = Controller::new(config()).expect("valid config");
            }
            black_box(v)
        });
    });
    g.bench_function("rate", |b| {
        let ctl = Controller::new(config()).expect("valid config");
        let mut t = 0u64;
        b.iter(|| {
            t += 1;
            black_box(ctl.rate(black_box(t % 2000)))
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
