//! One kernel or update per run, chosen by the first argument, for `run.sh`'s callgrind
//! counts: `setup` (the data only), `absolute`, `huber`, `quantile`, `logistic` (20 fused SIMD
//! passes over 4096 × 32), `plain`, `l1`, `bounds`, `update` (L1 and bounds: 200 SGD updates of
//! 4096 weights on the SIMD path), `mse` (20 fused squared-error passes over 4096 × 32),
//! `mse300` (20 over 400 × 300: two gradient stripes), `fit8` (`fit` of a
//! `LinearModel<8>` on 4096 × 8, batches of 32, 5 epochs) and `fit8b1` (batches of 1, 1 epoch).

use npoa::kernel::SIMD;
use npoa::loss::Loss;
use npoa::optim::{Regularization, Rule, StepScalars, simd};
use std::hint::black_box;
fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let (n, d) = (4096usize, 32usize);
    let x: Vec<f32> = (0..n * d)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let y: Vec<f32> = (0..n)
        .map(|i| ((i * 31) % 100) as f32 / 50.0 - 1.0)
        .collect();
    let w: Vec<f32> = (0..d).map(|j| (j as f32 - 16.0) / 64.0).collect();
    let mut g = vec![0.0f32; d];
    match which.as_str() {
        "absolute" | "huber" | "quantile" | "logistic" => {
            let l = match which.as_str() {
                "absolute" => Loss::Absolute,
                "huber" => Loss::Huber { delta: 0.5 },
                "quantile" => Loss::Quantile { tau: 0.9 },
                _ => Loss::Logistic,
            };
            let yy: Vec<f32> = if which == "logistic" {
                y.iter().map(|v| f32::from(*v > 0.0)).collect()
            } else {
                y.clone()
            };
            for _ in 0..20 {
                black_box(l.fused(&SIMD, black_box(&x), &yy, &w, 0.1, &mut g).unwrap());
            }
        }
        "mse" => {
            for _ in 0..20 {
                black_box(npoa::kernel::fused(black_box(&x), &y, &w, 0.1, &mut g).unwrap());
            }
        }
        "mse300" => {
            let (x, w) = (&x[..400 * 300], &x[..300]);
            let mut g = vec![0.0f32; 300];
            for _ in 0..20 {
                black_box(npoa::kernel::fused(black_box(x), &y[..400], w, 0.1, &mut g).unwrap());
            }
        }
        "learner8" | "learner8adwin" | "learner8raw" => {
            use npoa::control::ControllerConfig;
            use npoa::online::{NoDetector, OnlineConfig, OnlineLearner, Sampling};
            let cfg = OnlineConfig {
                batch_size: 1,
                detector: None,
                // `learner8raw`: no standardisation, rounds of 64 updates.
                standardize: if which == "learner8raw" {
                    None
                } else {
                    OnlineConfig::default().standardize
                },
                round_steps: if which == "learner8raw" { 64 } else { 8 },
                ..OnlineConfig::default()
            };
            let ctl = ControllerConfig::constant(0.01).unwrap();
            let rows = x[..n * 8].chunks_exact(8).zip(&y);
            if which != "learner8adwin" {
                let mut l = OnlineLearner::<npoa::LinearModel<8>, 8, 64, 16, NoDetector>::new(
                    npoa::LinearModel::zeros(),
                    ctl,
                    cfg,
                    Sampling::Sliding,
                )
                .unwrap();
                for (r, t) in rows {
                    l.push(black_box(r.try_into().unwrap()), *t).unwrap();
                    black_box(l.step(&mut |_| {}).unwrap());
                }
            } else {
                let cfg = OnlineConfig {
                    detector: OnlineConfig::default().detector,
                    ..cfg
                };
                let mut l = OnlineLearner::<npoa::LinearModel<8>, 8, 64, 16>::new(
                    npoa::LinearModel::zeros(),
                    ctl,
                    cfg,
                    Sampling::Sliding,
                )
                .unwrap();
                for (r, t) in rows {
                    l.push(black_box(r.try_into().unwrap()), *t).unwrap();
                    black_box(l.step(&mut |_| {}).unwrap());
                }
            }
        }
        "fit8" | "fit8b1" | "fit8b1ns" => {
            use npoa::train::{Dataset, TrainConfig, fit};
            let data = Dataset::new(&x[..n * 8], &y, 8).unwrap();
            let (batch_size, epochs) = if which == "fit8" { (32, 5) } else { (1, 1) };
            let shuffle = which != "fit8b1ns";
            let config = TrainConfig {
                learning_rate: 0.01,
                epochs,
                batch_size,
                shuffle,
                ..TrainConfig::default()
            };
            let mut model = npoa::LinearModel::<8>::zeros();
            black_box(fit(&mut model, black_box(&data), &config).unwrap());
        }
        "setup" => {}
        _ => {
            let reg = match which.as_str() {
                "l1" => Regularization {
                    l1: 0.01,
                    ..Regularization::NONE
                },
                "bounds" => Regularization {
                    bounds: Some((-0.5, 0.5)),
                    ..Regularization::NONE
                },
                "plain" => Regularization::NONE,
                _ => Regularization {
                    l1: 0.01,
                    bounds: Some((-0.5, 0.5)),
                    ..Regularization::NONE
                },
            };
            let s = StepScalars::new(Rule::Sgd, Some(&reg), 0.1, 1);
            let mut ww = x[..n].to_vec();
            let gg = y.iter().cycle().take(n).copied().collect::<Vec<_>>();
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            for _ in 0..200 {
                black_box(simd::update(&s, &mut ww, &gg, &mut a, &mut b).unwrap());
            }
        }
    }
}
