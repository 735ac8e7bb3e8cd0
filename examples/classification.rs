//! Classification on the device: a binary problem (two seeded Gaussian-like clusters, logistic
//! regression) and a 3-class problem (softmax), each trained under the strategy controller at
//! the auto rate for its loss, then measured on a held-out split.
//!
//! Everything here runs without a heap: the data live in fixed arrays, the models are
//! `LinearModel<4>` (with `Loss::Logistic`) and `LinearClassifier<4, 3>`.
//!
//! Run: `cargo run --release --example classification`

use npoa::control::{Controller, ControllerConfig};
use npoa::loss::Loss;
use npoa::model::metrics::{Classification, evaluate_classifier, evaluate_logistic};
use npoa::train::{Dataset, TrainConfig, Trainable, Training};
use npoa::{Error, LinearClassifier, LinearModel};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

const D: usize = 4;
const N: usize = 600;
const TRAIN: usize = 450;

/// Approximately normal noise (sum of four uniforms, variance 1).
fn noise(g: &mut Xoshiro256PlusPlus) -> f32 {
    let mut s = 0.0f32;
    for _ in 0..4 {
        s += (g.next_u32() >> 8) as f32 / 16_777_216.0 - 0.5;
    }
    s * 3.0f32.sqrt()
}

/// `N` samples in `k` clusters (centres on a circle of radius `r` in the first two features,
/// unit noise on every feature), in random order; labels as floats.
fn clusters(k: usize, r: f32, seed: u64) -> ([f32; N * D], [f32; N]) {
    let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut x, mut y) = ([0.0f32; N * D], [0.0f32; N]);
    for (i, (row, t)) in x.chunks_exact_mut(D).zip(y.iter_mut()).enumerate() {
        let c = i % k;
        let a = c as f32 * core::f32::consts::TAU / k as f32;
        let centre = [r * a.cos(), r * a.sin(), 0.0, 0.0];
        for (v, m) in row.iter_mut().zip(centre) {
            *v = m + noise(&mut g);
        }
        *t = c as f32;
    }
    // Shuffle rows (Fisher–Yates) so that the split is not by class.
    for i in (1..N).rev() {
        let j = (g.next_u64() % (i as u64 + 1)) as usize;
        y.swap(i, j);
        for f in 0..D {
            x.swap(i * D + f, j * D + f);
        }
    }
    (x, y)
}

fn report<const K: usize>(name: &str, c: &Classification<K>) {
    println!(
        "{name}: held-out accuracy {:.3}, log-loss {:.4}, macro F1 {:.3}",
        c.accuracy, c.log_loss, c.macro_f1
    );
    for k in 0..K {
        println!(
            "  class {k}: precision {:.3} recall {:.3} F1 {:.3}",
            c.precision[k], c.recall[k], c.f1[k]
        );
    }
}

fn train<M: Trainable>(
    model: &mut M,
    train: &Dataset<'_>,
    valid: &Dataset<'_>,
) -> Result<(), Error> {
    let cfg = ControllerConfig::auto_for::<D>(train, model.objective())?;
    println!(
        "  auto rate for {:?}: {:.4}",
        model.objective(),
        cfg.schedule.base()
    );
    let mut ctl = Controller::new(cfg)?;
    let config = TrainConfig {
        epochs: 60,
        batch_size: 32,
        ..TrainConfig::default()
    };
    let s = Training::new(&config)
        .controller(&mut ctl)
        .validation(valid)
        .fit(model, train)?;
    println!(
        "  {} epochs, {} steps, best validation loss {:.4}",
        s.epochs, s.steps, s.best_metric
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    // Binary: two clusters 3 apart (centres at ±1.5), unit noise: overlapping, Bayes accuracy ≈ 93 %.
    let (x, y) = clusters(2, 1.5, 7);
    let (xt, xv) = x.split_at(TRAIN * D);
    let (yt, yv) = y.split_at(TRAIN);
    let (dt, dv) = (Dataset::new(xt, yt, D)?, Dataset::new(xv, yv, D)?);
    println!("binary (logistic), {TRAIN} train / {} held out:", N - TRAIN);
    let mut logistic = LinearModel::<D>::zeros().with_loss(Loss::Logistic)?;
    train(&mut logistic, &dt, &dv)?;
    report("binary", &evaluate_logistic(&logistic, xv, yv)?);

    // Three classes on a circle of radius 3.
    let (x, y) = clusters(3, 3.0, 8);
    let (xt, xv) = x.split_at(TRAIN * D);
    let (yt, yv) = y.split_at(TRAIN);
    let (dt, dv) = (Dataset::new(xt, yt, D)?, Dataset::new(xv, yv, D)?);
    println!("3-class (softmax), {TRAIN} train / {} held out:", N - TRAIN);
    let mut softmax = LinearClassifier::<D, 3>::zeros();
    train(&mut softmax, &dt, &dv)?;
    report("3-class", &evaluate_classifier(&softmax, xv, yv)?);
    let p = softmax.predict_proba(&xv[..D])?;
    println!(
        "  first held-out sample: label {}, probabilities [{:.3}, {:.3}, {:.3}]",
        yv[0], p[0], p[1], p[2]
    );
    Ok(())
}
