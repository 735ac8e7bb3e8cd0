//! Time per sample of `fit` in batches of one row (one epoch of plain SGD on the squared
//! error), on the single-sample path and on the block path ([`BlockPath`]), for
//! `peers/sgd_per_sample.py`, which times scikit-learn's per-sample SGD loop on the same data.
//!
//! `cargo run --release -p npoa-bench --example per_sample -- FILE D` reads `FILE`: `n·D`
//! little-endian `f32` features, row after row, then `n` targets. Prints one line per path and
//! order: `path shuffle ns_per_sample` (the median of 9 epochs from zero weights).

use npoa::LinearModel;
use npoa::train::{BlockPath, Dataset, Fit, TrainConfig, Training};
use std::time::Instant;

fn median_ns<M: Fit + Clone>(start: M, data: &Dataset<'_>, shuffle: bool) -> f64 {
    let cfg = TrainConfig {
        learning_rate: 0.01,
        epochs: 1,
        batch_size: 1,
        shuffle,
        ..TrainConfig::default()
    };
    let mut t: Vec<f64> = (0..9)
        .map(|_| {
            let mut m = start.clone();
            let s = Instant::now();
            Training::new(&cfg)
                .fit(&mut m, data)
                .expect("a finite epoch");
            s.elapsed().as_nanos() as f64 / data.len() as f64
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn run<const D: usize>(x: &[f32], y: &[f32]) {
    let data = Dataset::new(x, y, D).expect("finite data");
    for shuffle in [false, true] {
        let fast = median_ns(LinearModel::<D>::zeros(), &data, shuffle);
        let block = median_ns(BlockPath(LinearModel::<D>::zeros()), &data, shuffle);
        println!("single {shuffle} {fast:.2}");
        println!("block {shuffle} {block:.2}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(file), Some(d)) = (
        args.get(1),
        args.get(2).and_then(|d| d.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: per_sample FILE D (D in 4, 8, 32)");
        std::process::exit(2);
    };
    let bytes = std::fs::read(file).expect("readable file");
    let v: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let n = v.len() / (d + 1);
    let (x, y) = v.split_at(n * d);
    match d {
        4 => run::<4>(x, y),
        8 => run::<8>(x, y),
        32 => run::<32>(x, y),
        _ => {
            eprintln!("D must be 4, 8 or 32");
            std::process::exit(2);
        }
    }
}
