//! The streaming learner's divergence guard on noisy stationary streams (issue 19, item 0):
//! Gaussian, Laplace and Student-t(3) noise at σ = 0.1, 0.5 and 2 over 10⁶ samples, with a
//! constant rate of 0.01 and the default guard. No rollback, no stop, and the learner's model
//! within 1 % of the stream's least-squares mean squared error (an f64 oracle over the same
//! samples).
//!
//! Before the guard compared the weights with the best copy on the same window, the Gaussian
//! σ = 0.5 stream stopped as `Diverged` after about 34 000 samples: the best metric was the
//! luckiest 16-sample window's, so ordinary windows exceeded ten times it on noise alone.

#![cfg(feature = "std")]
// Index loops read as the textbook elimination.
#![allow(clippy::needless_range_loop)]

use npoa::LinearModel;
use npoa::control::{ControllerConfig, EventKind};
use npoa::online::{OnlineConfig, OnlineLearner, Sampling};
use npoa::optim::Rule;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const D: usize = 4;
const TEACHER: ([f64; D], f64) = ([1.0, -0.5, 0.25, 2.0], 0.3);

/// The noise laws, each scaled to standard deviation `sigma`.
#[derive(Debug, Clone, Copy)]
enum Law {
    Gaussian,
    Laplace,
    /// Student's t with 3 degrees of freedom (heavy tails: no fourth moment).
    StudentT3,
}

fn normal(g: &mut Xoshiro256PlusPlus) -> f64 {
    // Box-Muller on (0, 1] × [0, 1).
    let u = 1.0 - g.random::<f64>();
    let v = g.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (core::f64::consts::TAU * v).cos()
}

fn noise(g: &mut Xoshiro256PlusPlus, law: Law, sigma: f64) -> f64 {
    match law {
        Law::Gaussian => sigma * normal(g),
        Law::Laplace => {
            // Variance of Laplace(b) is 2b².
            let u = g.random::<f64>() - 0.5;
            let b = sigma / 2f64.sqrt();
            -b * u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln()
        }
        Law::StudentT3 => {
            // t₃ = Z / sqrt(χ²₃ / 3), variance 3.
            let z = normal(g);
            let chi: f64 = (0..3).map(|_| normal(g).powi(2)).sum();
            sigma * z / (chi / 3.0).sqrt() / 3f64.sqrt()
        }
    }
}

/// The stream: standard normal features, the teacher, and the noise.
fn stream(n: usize, seed: u64, law: Law, sigma: f64) -> impl Iterator<Item = ([f32; D], f32)> {
    let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n).map(move |_| {
        let x: [f32; D] = core::array::from_fn(|_| normal(&mut g) as f32);
        let t: f64 = x
            .iter()
            .zip(&TEACHER.0)
            .map(|(a, w)| f64::from(*a) * w)
            .sum::<f64>()
            + TEACHER.1;
        (x, (t + noise(&mut g, law, sigma)) as f32)
    })
}

/// Solves the (D+1)² normal equations by Gaussian elimination with partial pivoting.
fn solve(mut a: [[f64; D + 1]; D + 1], mut b: [f64; D + 1]) -> [f64; D + 1] {
    for c in 0..=D {
        let p = (c..=D)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..=D {
            let f = a[r][c] / a[c][c];
            for k in c..=D {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut s = [0.0; D + 1];
    for r in (0..=D).rev() {
        let t: f64 = (r + 1..=D).map(|k| a[r][k] * s[k]).sum();
        s[r] = (b[r] - t) / a[r][r];
    }
    s
}

/// Mean squared error of `(w, b)` on the stream, in f64.
fn mse(n: usize, seed: u64, law: Law, sigma: f64, w: &[f64; D], b: f64) -> f64 {
    stream(n, seed, law, sigma)
        .map(|(x, y)| {
            let p: f64 = x.iter().zip(w).map(|(a, w)| f64::from(*a) * w).sum::<f64>() + b;
            (p - f64::from(y)).powi(2)
        })
        .sum::<f64>()
        / n as f64
}

fn run(n: usize, seed: u64, law: Law, sigma: f64, optimizer: Rule, within: f64) {
    let mut learner = OnlineLearner::<LinearModel<D>, D, 64, 16>::new(
        LinearModel::zeros(),
        ControllerConfig::constant(0.01).unwrap(),
        OnlineConfig {
            optimizer,
            ..OnlineConfig::default()
        },
        Sampling::Sliding,
    )
    .unwrap();
    let (mut rollbacks, mut restarts) = (0u32, 0u32);
    let mut a = [[0.0f64; D + 1]; D + 1];
    let mut r = [0.0f64; D + 1];
    for (x, y) in stream(n, seed, law, sigma) {
        let mut z = [1.0f64; D + 1];
        for (zj, xj) in z.iter_mut().zip(&x) {
            *zj = f64::from(*xj);
        }
        for i in 0..=D {
            for j in 0..=D {
                a[i][j] += z[i] * z[j];
            }
            r[i] += z[i] * f64::from(y);
        }
        learner.push(&x, y).unwrap();
        learner
            .step(&mut |e| match e.kind {
                EventKind::RolledBack { .. } => rollbacks += 1,
                EventKind::Restarted { .. } => restarts += 1,
                _ => {}
            })
            .unwrap();
    }
    let ols = solve(a, r);
    let ols_w: [f64; D] = core::array::from_fn(|j| ols[j]);
    let best = mse(n, seed, law, sigma, &ols_w, ols[D]);
    let m = learner.model();
    let w: [f64; D] = m.weights().map(f64::from);
    let got = mse(n, seed, law, sigma, &w, f64::from(m.bias()));
    let ratio = got / best;
    println!(
        "{optimizer:?} {law:?} sigma {sigma} seed {seed}: {n} samples, {rollbacks} rollbacks, {restarts} restarts, \
         stopped {:?}, MSE {got:.6} = {ratio:.5} x least squares ({best:.6})",
        learner.stopped()
    );
    assert_eq!(rollbacks, 0, "{law:?} sigma {sigma} seed {seed}");
    assert_eq!(learner.stopped(), None, "{law:?} sigma {sigma} seed {seed}");
    assert!(ratio < within, "{law:?} sigma {sigma} seed {seed}: {ratio}");
}

/// 10⁶ samples per stream in an optimised x86-64 build (the acceptance figure; `.ci/run` runs
/// it: `cargo test --release --test online_noise`, about 25 s); 30 000 in a debug build (about
/// 30 times slower) and under emulation (the cross-target runs).
fn samples() -> usize {
    if cfg!(debug_assertions)
        || !cfg!(target_arch = "x86_64")
        || std::env::var_os("NPOA_SHORT").is_some()
    {
        30_000
    } else {
        1_000_000
    }
}

#[test]
fn gaussian_noise_is_not_divergence() {
    for (seed, sigma) in [(1, 0.1), (2, 0.5), (3, 2.0)] {
        run(
            samples(),
            seed,
            Law::Gaussian,
            sigma,
            Rule::Averaged { start: 1000 },
            1.01,
        );
        run(samples(), seed, Law::Gaussian, sigma, Rule::Sgd, 1.10);
    }
}

#[test]
fn laplace_noise_is_not_divergence() {
    for (seed, sigma) in [(4, 0.1), (5, 0.5), (6, 2.0)] {
        run(
            samples(),
            seed,
            Law::Laplace,
            sigma,
            Rule::Averaged { start: 1000 },
            1.01,
        );
        run(samples(), seed, Law::Laplace, sigma, Rule::Sgd, 1.10);
    }
}

#[test]
fn heavy_tailed_noise_is_not_divergence() {
    for (seed, sigma) in [(7, 0.1), (8, 0.5), (9, 2.0)] {
        run(
            samples(),
            seed,
            Law::StudentT3,
            sigma,
            Rule::Averaged { start: 1000 },
            1.01,
        );
        run(samples(), seed, Law::StudentT3, sigma, Rule::Sgd, 1.10);
    }
}
