//! Strategies side by side on the seed's data and on a harder problem (d = 8, features on
//! scales from 0.1 to 10: ill-conditioned), each with the same epoch budget:
//! a fixed rate, a cosine schedule with warm-up, auto LR, and auto LR with reduce-on-plateau. Prints the final loss, the epoch the loss first fell below 1e-6, the
//! rollbacks, and the event log of the plateau run.
//!
//! Run: `cargo run --release --example strategies`

use npoa::control::Plateau;
use npoa::control::{Controller, ControllerConfig, Event, EventKind, Guard};
use npoa::control::{LrSchedule, Schedule, Warmup};
use npoa::train::{Dataset, Epoch, TrainConfig, Training, watch};
use npoa::{Error, LinearModel};

struct Outcome {
    loss: f32,
    first_below: Option<u32>,
    rollbacks: u32,
    events: Vec<Event>,
}

fn run<const D: usize>(
    data: &Dataset<'_>,
    cfg: ControllerConfig,
    epochs: u32,
    batch: usize,
) -> Result<Outcome, Error> {
    let mut ctl = Controller::new(cfg)?;
    let mut model = LinearModel::<D>::zeros();
    let mut events = vec![];
    let mut first_below = None;
    let tc = TrainConfig {
        epochs,
        batch_size: batch,
        shuffle: true,
        seed: 7,
        ..TrainConfig::default()
    };
    let s = Training::new(&tc)
        .controller(&mut ctl)
        .observer(&mut watch(
            |r: &Epoch| {
                if first_below.is_none() && r.metric < 1e-6 {
                    first_below = Some(r.epoch);
                }
            },
            |e| events.push(*e),
        ))
        .fit(&mut model, data)?;
    Ok(Outcome {
        loss: model.loss(data.x(), data.y())?,
        first_below,
        rollbacks: s.rollbacks,
        events,
    })
}

fn compare<const D: usize>(
    name: &str,
    data: &Dataset<'_>,
    fixed: f32,
    epochs: u32,
    batch: usize,
) -> Result<(), Error> {
    let auto = npoa::control::autolr::stable_rate_for::<D>(data)?;
    let cosine = LrSchedule::new(
        auto,
        Schedule::Cosine {
            t_max: epochs,
            eta_min: 0.0,
        },
    )?
    .with_warmup(Warmup {
        steps: 10,
        start_factor: 0.1,
    })?;
    let runs = [
        (format!("fixed {fixed}"), ControllerConfig::constant(fixed)?),
        (
            format!("cosine from auto {auto:.4}, warm-up 10"),
            ControllerConfig {
                schedule: cosine,
                ..ControllerConfig::constant(auto)?
            },
        ),
        (
            format!("auto LR {auto:.4}"),
            ControllerConfig::auto::<D>(data)?,
        ),
        (
            format!("plateau (x0.5 after 3) from auto {auto:.4}"),
            ControllerConfig {
                plateau: Some(Plateau {
                    patience: 3,
                    factor: 0.5,
                    ..Plateau::default()
                }),
                guard: Some(Guard::default()),
                ..ControllerConfig::constant(auto)?
            },
        ),
    ];
    println!(
        "== {name}: {} samples, d = {D}, {epochs} epochs, batches of {batch}",
        data.len()
    );
    let mut plateau_events = vec![];
    for (label, cfg) in runs {
        let o = run::<D>(data, cfg, epochs, batch)?;
        let below = o
            .first_below
            .map_or("never".to_string(), |e| format!("epoch {e}"));
        println!(
            "  {label:40} final loss {:9.3e}  < 1e-6 at {below:11}  rollbacks {}",
            o.loss, o.rollbacks
        );
        if label.starts_with("plateau") {
            plateau_events = o.events;
        }
    }
    println!("  event log of the plateau run (improvements omitted):");
    for e in plateau_events
        .iter()
        .filter(|e| !matches!(e.kind, EventKind::Improved { .. }))
    {
        println!("    epoch {:4}: {:?}", e.epoch, e.kind);
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let (x, y) = ([1.0f32, 2.0, 3.0, 4.0], [2.0f32, 4.0, 6.0, 8.0]);
    compare::<1>("the seed's data", &Dataset::new(&x, &y, 1)?, 0.01, 1000, 4)?;

    // d = 8, scales 0.1 … 10, y = w·x + 0.5 with known weights, a little noise.
    let (n, d) = (512usize, 8usize);
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut u = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let scales = [0.1f32, 0.3, 1.0, 3.0, 10.0, 0.5, 2.0, 5.0];
    let w_true = [1.0f32, -2.0, 0.5, 0.25, -0.1, 3.0, -0.75, 0.2];
    let mut xs = vec![0.0f32; n * d];
    let mut ys = vec![0.0f32; n];
    for i in 0..n {
        let mut t = 0.5;
        for j in 0..d {
            let v = u() * scales[j];
            xs[i * d + j] = v;
            t += w_true[j] * v;
        }
        ys[i] = t + 1e-4 * u();
    }
    compare::<8>(
        "ill-conditioned, d = 8",
        &Dataset::new(&xs, &ys, d)?,
        0.01,
        300,
        32,
    )
}
