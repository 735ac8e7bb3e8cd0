//! Training converges with the quantile and Poisson losses, to answers computed here in `f64`
//! from the data's generating model:
//!
//! * quantile, `τ = 0.9`: `y = 2x + ½ + ε` with `ε ~ Exp(1)`, whose `τ`-quantile is
//!   `−ln(1 − τ) = ln 10`; the conditional 0.9-quantile is the line `2x + ½ + ln 10`, the
//!   minimiser of the expected pinball loss over all functions, so the fitted intercept must
//!   approach `½ + ln 10`, not the mean (`1.5`) or the median (`½ + ln 2`) of `y − 2x`;
//! * Poisson: counts `y ~ Poisson(e^{0.3 + 0.5x₁ − 0.4x₂})`; the fitted coefficients are
//!   compared with the maximum-likelihood estimate of the same sample by Newton's method in
//!   `f64` (IRLS), and, more loosely, with the true ones.
#![cfg(feature = "std")]

mod common;

use common::{SplitMix64, solve_spd};
use npoa::control::autolr::stable_rate_for_objective;
use npoa::data::DynDataset;
use npoa::loss::{Loss, Objective};
use npoa::recipe::Recipe;
use npoa::train::{Dataset, TrainConfig, fit};
use npoa::{DynModel, Error, LinearModel};

/// Uniform in `(0, 1)` in `f64` (53 bits, never 0).
fn uniform(g: &mut SplitMix64) -> f64 {
    ((g.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// A Poisson(`mu`) draw by Knuth's product of uniforms (fine for `mu` of a few units).
fn poisson(g: &mut SplitMix64, mu: f64) -> f64 {
    let limit = (-mu).exp();
    let (mut k, mut p) = (0.0, uniform(g));
    while p > limit {
        k += 1.0;
        p *= uniform(g);
    }
    k
}

fn linear_of(m: &DynModel) -> (Vec<f32>, f32) {
    match m {
        DynModel::Linear(l) => (l.weights().to_vec(), l.bias()),
        DynModel::Classifier(_) => panic!("a linear model was trained"),
    }
}

#[test]
fn quantile_regression_finds_the_conditional_quantile() {
    const N: usize = 10_000;
    let tau = 0.9f64;
    let (a, b) = (2.0f64, 0.5f64);
    let mut g = SplitMix64::new(2024);
    let x: Vec<f32> = (0..N).map(|_| g.unit()).collect();
    let y: Vec<f32> = x
        .iter()
        .map(|&xi| (a * f64::from(xi) + b - (1.0 - uniform(&mut g)).ln()) as f32)
        .collect();
    let q = -(1.0 - tau).ln(); // ln 10 = 2.302585…
    let data = DynDataset::new(x.clone(), y.clone(), 1).unwrap();
    let recipe = Recipe {
        objective: Objective::Single(Loss::Quantile { tau: tau as f32 }),
        epochs: Some(150),
        batch_size: 100,
        ..Recipe::default()
    };
    let (model, _) = recipe.fit(&data, None, &mut ()).unwrap();
    let (w, c) = linear_of(&model);
    // The sample 0.9-quantile of n Exp(1) draws has standard deviation
    // √(τ(1 − τ)/n) / f(q) with the density f(q) = 1 − τ: 0.3 / 0.1 / 100 = 0.03. The fitted
    // intercept carries that error (the slope's is of the same order); allow 4 of them.
    let sd = (tau * (1.0 - tau) / N as f64).sqrt() / (1.0 - tau);
    let (ci, wi) = (f64::from(c), f64::from(w[0]));
    println!(
        "quantile: intercept {ci:.4} (truth {:.4}), slope {wi:.4} (truth {a}), sd {sd:.4}",
        b + q
    );
    assert!(
        (ci - (b + q)).abs() <= 4.0 * sd,
        "intercept {ci} vs {}",
        b + q
    );
    assert!(
        (wi - a).abs() <= 4.0 * sd * 3f64.sqrt(),
        "slope {wi} vs {a}"
    );
    // Far from the mean (1.5) and the median (½ + ln 2) of y − 2x.
    assert!(ci - (b + 1.0) > 1.0 && ci - (b + 2f64.ln()) > 1.0);
    // At a minimiser of the empirical pinball loss, the share of targets below the fit is
    // within 2/n of τ (the subgradient condition, for the two coefficients); allow 1 %.
    let below = x
        .iter()
        .zip(&y)
        .filter(|&(&xi, &yi)| f64::from(yi) < wi * f64::from(xi) + ci)
        .count() as f64
        / N as f64;
    println!("quantile: share of targets below the fit {below:.4}");
    assert!((below - tau).abs() <= 0.01, "coverage {below}");
}

/// Poisson counts of the log-linear model `ln μ = 0.3 + 0.5x₁ − 0.4x₂`, `x ~ U[−1, 1)²`.
fn poisson_data(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut g = SplitMix64::new(seed);
    let x: Vec<f32> = (0..2 * n).map(|_| g.unit()).collect();
    let y = x
        .chunks_exact(2)
        .map(|r| {
            let z = 0.3 + 0.5 * f64::from(r[0]) - 0.4 * f64::from(r[1]);
            poisson(&mut g, z.exp()) as f32
        })
        .collect();
    (x, y)
}

const TRUTH: [f64; 3] = [0.5, -0.4, 0.3];

/// The maximum-likelihood `(w₁, w₂, b)` of the Poisson model on `(x, y)` by Newton's method in
/// `f64`: `H = Σ e^{z_i} x̃_i x̃_iᵀ`, `∇ = Σ (e^{z_i} − y_i) x̃_i`, `θ ← θ − H⁻¹∇` (IRLS), from
/// `θ = 0` until the step is below 1e-14.
fn newton_oracle(x: &[f32], y: &[f32]) -> [f64; 3] {
    let mut th = [0.0f64; 3];
    for _ in 0..100 {
        let mut h = [[0.0f64; 3]; 3];
        let mut gr = [0.0f64; 3];
        for (r, &yi) in x.chunks_exact(2).zip(y) {
            let xt = [f64::from(r[0]), f64::from(r[1]), 1.0];
            let mu = (th[0] * xt[0] + th[1] * xt[1] + th[2]).exp();
            for i in 0..3 {
                gr[i] += (mu - f64::from(yi)) * xt[i];
                for j in 0..3 {
                    h[i][j] += mu * xt[i] * xt[j];
                }
            }
        }
        let step = solve_spd(h, gr);
        for i in 0..3 {
            th[i] -= step[i];
        }
        if step.iter().all(|s| s.abs() < 1e-14) {
            break;
        }
    }
    th
}

#[test]
fn poisson_regression_at_the_auto_rate_matches_newton() {
    const N: usize = 4000;
    let (x, y) = poisson_data(N, 7);
    let oracle = newton_oracle(&x, &y);
    let data = Dataset::new(&x, &y, 2).unwrap();
    let objective = Objective::Single(Loss::Poisson);
    // Full-batch gradient descent at the stable rate for the Poisson bound (4): deterministic,
    // it converges linearly to the sample's maximum-likelihood estimate.
    let lr = stable_rate_for_objective::<2>(&data, objective).unwrap();
    let mut m = LinearModel::<2>::zeros().with_loss(Loss::Poisson).unwrap();
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs: 400,
        batch_size: N,
        shuffle: false,
        ..TrainConfig::default()
    };
    fit(&mut m, &data, &cfg).unwrap();
    let got = [m.weights()[0], m.weights()[1], m.bias()].map(f64::from);
    let err = got
        .iter()
        .zip(&oracle)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("poisson: lr {lr}, fit {got:?}, newton {oracle:?}, truth {TRUTH:?}, max diff {err:e}");
    assert!(err <= 1e-4, "full batch: {got:?} vs {oracle:?}");
    // The sample's estimate is near the truth: standard errors ≈ 1/√(n·E[μ x²]) ≈ 0.02–0.03.
    for (o, t) in oracle.iter().zip(&TRUTH) {
        assert!((o - t).abs() < 0.1, "newton {oracle:?} vs truth {TRUTH:?}");
    }
    // The recipe (standardised features, the full-batch solver) gets there as well.
    let dd = DynDataset::new(x.clone(), y.clone(), 2).unwrap();
    let recipe = Recipe {
        objective,
        ..Recipe::default()
    };
    let (model, _) = recipe.fit(&dd, None, &mut ()).unwrap();
    let (w, b) = linear_of(&model);
    let got = [w[0], w[1], b].map(f64::from);
    let err = got
        .iter()
        .zip(&oracle)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("poisson recipe: fit {got:?}, max diff to newton {err:e}");
    assert!(err <= 1e-2, "recipe: {got:?} vs {oracle:?}");
}

#[test]
fn poisson_divergence_is_an_error_and_leaves_the_model() {
    // A bias of 100 predicts e^100 (beyond f32): the first gradient overflows.
    let (x, y) = poisson_data(64, 3);
    let data = Dataset::new(&x, &y, 2).unwrap();
    let start = LinearModel::<2>::new([0.0, 0.0], 100.0)
        .unwrap()
        .with_loss(Loss::Poisson)
        .unwrap();
    let mut m = start;
    let r = fit(&mut m, &data, &TrainConfig::default());
    assert!(
        matches!(r, Err(Error::Overflow { .. } | Error::Diverged { .. })),
        "{r:?}"
    );
    assert_eq!(m, start);
    // A rate far too large: a step overshoots into overflow; an Err, never a panic.
    let mut m = LinearModel::<2>::zeros().with_loss(Loss::Poisson).unwrap();
    let cfg = TrainConfig {
        learning_rate: 1e3,
        ..TrainConfig::default()
    };
    let r = fit(&mut m, &data, &cfg);
    assert!(
        matches!(r, Err(Error::Overflow { .. } | Error::Diverged { .. })),
        "{r:?}"
    );
    // Negative counts are refused before any step.
    let bad = [1.0f32, -1.0];
    let data = Dataset::new(&[0.0, 0.0, 1.0, 1.0], &bad, 2).unwrap();
    let mut m = LinearModel::<2>::zeros().with_loss(Loss::Poisson).unwrap();
    assert!(matches!(
        fit(&mut m, &data, &TrainConfig::default()),
        Err(Error::InvalidData { what: "y", .. })
    ));
}
