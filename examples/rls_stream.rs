//! Recursive least squares (`npoa::optim::Rls`) on a CSV stream, prequentially: each sample is
//! first predicted (its squared error counts: the learner has not seen it), then learned.
//!
//! ```sh
//! cargo run --release --example rls_stream -- stream.csv            # λ = 0.99, δ = 1e6
//! cargo run --release --example rls_stream -- stream.csv 1.0 1e6    # λ, δ
//! cargo run --release --example rls_stream -- stream.csv 0.99 1e6 nlms 0.5   # NLMS, batch 1, μ
//! ```
//!
//! The CSV has 8 feature columns then the target, no header (what `peers/river_rls.py`
//! writes). Prints one line: the learner, the samples, the prequential MSE, the MSE over the
//! last half, and the time per sample (the update and the prediction; the file is parsed
//! beforehand).

use npoa::LinearModel;
use npoa::optim::{Rls, RlsConfig, Rule};
use npoa::train::{Dataset, TrainConfig, Training};
use std::time::Instant;

const D: usize = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: rls_stream FILE.csv [λ δ [nlms μ]]")?;
    let num = |i: usize, d: f64| -> Result<f64, Box<dyn std::error::Error>> {
        Ok(args.get(i).map(|s| s.parse()).transpose()?.unwrap_or(d))
    };
    let config = RlsConfig {
        forgetting: num(1, 0.99)?,
        delta: num(2, 1e6)?,
    };
    let nlms = args.get(3).map(String::as_str) == Some("nlms");
    let mu = num(4, 0.5)? as f32;
    let text = std::fs::read_to_string(path)?;
    let mut rows: Vec<([f32; D], f32)> = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Vec<f32> = line
            .split(',')
            .map(|s| s.trim().parse::<f32>())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("line {}: {e}", n + 1))?;
        if v.len() != D + 1 {
            return Err(format!("line {}: {} columns, expected {}", n + 1, v.len(), D + 1).into());
        }
        rows.push((core::array::from_fn(|j| v[j]), v[D]));
    }
    let n = rows.len();
    let mut sq = vec![0.0f64; n];
    let start = Instant::now();
    let name;
    if nlms {
        name = format!("npoa NLMS (batch 1, mu {mu})");
        let mut m = LinearModel::<D>::zeros();
        let cfg = TrainConfig {
            learning_rate: mu,
            epochs: 1,
            batch_size: 1,
            shuffle: false,
            optimizer: Rule::Nlms { eps: 1e-6 },
            ..TrainConfig::default()
        };
        for ((x, y), s) in rows.iter().zip(sq.iter_mut()) {
            let e = f64::from(*y) - f64::from(m.predict_one(x));
            *s = e * e;
            let (xs, ys) = (&x[..], core::slice::from_ref(y));
            Training::new(&cfg).fit(&mut m, &Dataset::new(xs, ys, D)?)?;
        }
    } else {
        name = format!(
            "npoa Rls (lambda {}, delta {:e})",
            config.forgetting, config.delta
        );
        let mut rls = Rls::<D>::new(config)?;
        for ((x, y), s) in rows.iter().zip(sq.iter_mut()) {
            let e = f64::from(rls.update(x, *y)?);
            *s = e * e;
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / n.max(1) as f64;
    let mse = sq.iter().sum::<f64>() / n.max(1) as f64;
    let late = sq[n / 2..].iter().sum::<f64>() / (n - n / 2).max(1) as f64;
    println!(
        "{name}: {n} samples, prequential MSE {mse:.6}, second half {late:.6}, {ns:.0} ns/sample"
    );
    Ok(())
}
