//! Update rules and proximal steps: three-step traces against the published formulas, SIMD
//! against scalar bit for bit, Lasso against coordinate descent, Ridge against its closed
//! form, FTRL's exact zeros, faster convergence of momentum / Nesterov / Adam on an
//! ill-conditioned problem, the optimizer state under the controller's best copy and
//! rollbacks, and the memory formula. AdaGrad: its trace and a long run against PyTorch's
//! formulas in f64, the normal-equations and lasso solutions (exact zeros) on the
//! ill-conditioned problem, bad `ε`, state tags, fixed against run-time sized models.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

mod common;

use common::SplitMix64;
use npoa::control::{Controller, ControllerConfig, EventKind, Guard};
use npoa::optim::{self, OptimState, Regularization, Rule, StepScalars};
use npoa::train::{
    Dataset, Decision, Epoch, Observer, Stop, TrainConfig, Training, fit, observe, watch,
};
use npoa::{Error, LinearModel};
use proptest::prelude::*;
use std::cell::Cell;

// ---------------------------------------------------------------------------------------------
// Three-step traces
// ---------------------------------------------------------------------------------------------

const GS: [[f64; 2]; 3] = [[0.5, -2.0], [-1.5, 0.25], [3.0, 1.0]];
const W0: [f64; 2] = [1.0, -0.5];
const LR: f64 = 0.1;

/// Runs three steps of `rule` on two coordinates from `W0` with gradients `GS`, on both paths,
/// checks that they agree bit for bit and returns the weights after each step.
fn run3(rule: Rule, reg: Regularization) -> [[f64; 2]; 3] {
    let mut out = [[0.0; 2]; 3];
    let mut paths = Vec::new();
    for simd in [false, true] {
        let mut w = W0.map(|v| v as f32);
        let (mut a, mut b) = ([0.0f32; 2], [0.0f32; 2]);
        let mut trace = Vec::new();
        for (t, g) in GS.iter().enumerate() {
            let s = StepScalars::new(rule, Some(&reg), LR as f32, t as u64 + 1);
            let g = g.map(|v| v as f32);
            let ok = if simd {
                optim::simd::update(&s, &mut w, &g, &mut a, &mut b)
            } else {
                optim::scalar::update(&s, &mut w, &g, &mut a, &mut b)
            };
            assert_eq!(ok, Ok(true));
            trace.push(w);
        }
        paths.push(trace);
    }
    for (t, (p, q)) in paths[0].iter().zip(&paths[1]).enumerate() {
        assert_eq!(
            p.map(f32::to_bits),
            q.map(f32::to_bits),
            "{rule:?} step {t}: scalar vs simd"
        );
        out[t] = p.map(f64::from);
    }
    out
}

fn assert_trace(rule: Rule, got: [[f64; 2]; 3], want: [[f64; 2]; 3]) {
    for t in 0..3 {
        for i in 0..2 {
            let (g, w) = (got[t][i], want[t][i]);
            assert!(
                (g - w).abs() <= 2e-6 * (1.0 + w.abs()),
                "{rule:?} step {} coord {i}: got {g}, formula {w}",
                t + 1
            );
        }
    }
}

#[test]
fn sgd_trace() {
    let mut w = W0;
    let mut want = [[0.0; 2]; 3];
    for t in 0..3 {
        for i in 0..2 {
            w[i] -= LR * GS[t][i];
        }
        want[t] = w;
    }
    assert_trace(Rule::Sgd, run3(Rule::Sgd, Regularization::NONE), want);
}

#[test]
fn momentum_and_nesterov_traces() {
    // PyTorch SGD: b_1 = g_1, b_t = μ·b + (1 − τ)·g; d = g + μ·b (Nesterov) or b; w −= η·d.
    for (mu, tau, nesterov) in [(0.9, 0.0, false), (0.5, 0.3, false), (0.9, 0.0, true)] {
        let rule = Rule::Momentum {
            momentum: mu as f32,
            dampening: tau as f32,
            nesterov,
        };
        let (mut w, mut buf) = (W0, [0.0f64; 2]);
        let mut want = [[0.0; 2]; 3];
        for t in 0..3 {
            for i in 0..2 {
                let g = GS[t][i];
                buf[i] = if t == 0 {
                    g
                } else {
                    mu * buf[i] + (1.0 - tau) * g
                };
                let d = if nesterov { g + mu * buf[i] } else { buf[i] };
                w[i] -= LR * d;
            }
            want[t] = w;
        }
        assert_trace(rule, run3(rule, Regularization::NONE), want);
    }
}

#[test]
fn adam_and_adamw_traces() {
    // Kingma & Ba: m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ), w −= η·m̂/(√v̂ + ε); AdamW first
    // w −= η·λ·w.
    let (b1, b2, eps, wd) = (0.9f64, 0.999f64, 1e-8f64, 0.01f64);
    for decoupled in [false, true] {
        let rule = if decoupled { Rule::ADAMW } else { Rule::ADAM };
        let reg = if decoupled {
            Regularization::l2(wd as f32)
        } else {
            Regularization::NONE
        };
        let (mut w, mut m, mut v) = (W0, [0.0f64; 2], [0.0f64; 2]);
        let mut want = [[0.0; 2]; 3];
        for t in 0..3 {
            let tt = (t + 1) as i32;
            for i in 0..2 {
                let g = GS[t][i];
                if decoupled {
                    w[i] -= LR * wd * w[i];
                }
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                let mh = m[i] / (1.0 - b1.powi(tt));
                let vh = v[i] / (1.0 - b2.powi(tt));
                w[i] -= LR * mh / (vh.sqrt() + eps);
            }
            want[t] = w;
        }
        assert_trace(rule, run3(rule, reg), want);
    }
}

#[test]
fn averaged_sgd_trace() {
    // Plain SGD on w; from step t0 = 2 on, w̄ is the running mean of the iterates.
    let rule = Rule::Averaged { start: 2 };
    let mut w = W0;
    let mut want = [[0.0; 2]; 3];
    let mut iterates = Vec::new();
    for t in 0..3 {
        for i in 0..2 {
            w[i] -= LR * GS[t][i];
        }
        want[t] = w;
        iterates.push(w);
    }
    assert_trace(rule, run3(rule, Regularization::NONE), want);
    // The average of iterates 2 and 3, through the slice API's buffer `a`.
    let mut w = W0.map(|v| v as f32);
    let (mut a, mut b) = ([0.0f32; 2], [0.0f32; 0]);
    for (t, g) in GS.iter().enumerate() {
        let s = StepScalars::new(rule, None, LR as f32, t as u64 + 1);
        let g = g.map(|v| v as f32);
        optim::simd::update(&s, &mut w, &g, &mut a, &mut b).unwrap();
    }
    for i in 0..2 {
        let mean = (iterates[1][i] + iterates[2][i]) / 2.0;
        assert!((f64::from(a[i]) - mean).abs() < 1e-6, "{} vs {mean}", a[i]);
    }
}

#[test]
fn ftrl_proximal_trace() {
    // McMahan et al. 2013, Algorithm 1 with α = η.
    let (alpha, beta, l1, l2) = (LR, 1.0f64, 0.3f64, 0.1f64);
    let rule = Rule::Ftrl {
        beta: beta as f32,
        l1: l1 as f32,
        l2: l2 as f32,
    };
    let reg = Regularization::NONE;
    let (mut w, mut z, mut n) = (W0, [0.0f64; 2], [0.0f64; 2]);
    let mut want = [[0.0; 2]; 3];
    for t in 0..3 {
        for i in 0..2 {
            let g = GS[t][i];
            let sigma = ((n[i] + g * g).sqrt() - n[i].sqrt()) / alpha;
            z[i] += g - sigma * w[i];
            n[i] += g * g;
            w[i] = if z[i].abs() <= l1 {
                0.0
            } else {
                -(z[i] - z[i].signum() * l1) / ((beta + n[i].sqrt()) / alpha + l2)
            };
        }
        want[t] = w;
    }
    assert_trace(rule, run3(rule, reg), want);
    // With λ1 above |z| after the first step (|z| = 4.5 and 8), both weights are exactly 0.
    let rule = Rule::Ftrl {
        beta: 1.0,
        l1: 8.5,
        l2: 0.0,
    };
    assert_eq!(run3(rule, reg)[0], [0.0, 0.0]);
}

#[test]
fn proximal_operators_trace() {
    // SGD then the elastic-net prox: soft(u, η·λ1)/(1 + η·λ2), then the box.
    let reg = Regularization {
        l1: 2.0,
        l2: 0.5,
        bias: false,
        bounds: Some((-0.2, 0.9)),
    };
    let mut w = W0;
    let mut want = [[0.0; 2]; 3];
    for t in 0..3 {
        for i in 0..2 {
            let u: f64 = w[i] - LR * GS[t][i];
            let s = u.signum() * (u.abs() - LR * 2.0).max(0.0);
            w[i] = (s / (1.0 + LR * 0.5)).clamp(-0.2, 0.9);
        }
        want[t] = w;
    }
    assert_trace(Rule::Sgd, run3(Rule::Sgd, reg), want);
}

// ---------------------------------------------------------------------------------------------
// SIMD against scalar, bit for bit
// ---------------------------------------------------------------------------------------------

/// Every rule of the registry ([`Rule::EXAMPLES`], so that a new rule is covered without
/// editing this list) and further configurations: dampening, another Nesterov `μ`, averaging
/// from a later step, FTRL with its own penalty, AdaGrad with a large `ε`.
fn rules() -> Vec<Rule> {
    let extra = [
        Rule::Momentum {
            momentum: 0.5,
            dampening: 0.25,
            nesterov: false,
        },
        Rule::nesterov(0.8),
        Rule::Averaged { start: 3 },
        Rule::Ftrl {
            beta: 1.0,
            l1: 0.5,
            l2: 0.1,
        },
        Rule::AdaGrad { eps: 0.5 },
    ];
    Rule::EXAMPLES.into_iter().chain(extra).collect()
}

fn check_paths(rule: Rule, reg: &Regularization, n: usize, seed: u64) -> Result<(), String> {
    let mut g = SplitMix64::new(seed);
    let mut v = |s: f32| (0..n).map(|_| g.sym(s)).collect::<Vec<f32>>();
    let abs = |v: Vec<f32>| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
    // The first buffer is signed (momentum, the average, FTRL's `z`) except AdaGrad's sum of
    // squares; the second is non-negative (Adam's `v`, FTRL's `n`).
    let (w0, a0, b0) = (v(2.0), v(1.0), abs(v(1.0)));
    let a0 = if matches!(rule, Rule::AdaGrad { .. }) {
        abs(a0)
    } else {
        a0
    };
    let grads: Vec<Vec<f32>> = (0..4).map(|_| v(3.0)).collect();
    let mut res = Vec::new();
    for simd in [false, true] {
        let (mut w, mut a, mut b) = (w0.clone(), a0.clone(), b0.clone());
        for (t, gr) in grads.iter().enumerate() {
            let s = StepScalars::new(rule, Some(reg), 0.05, t as u64 + 1);
            let ok = if simd {
                optim::simd::update(&s, &mut w, gr, &mut a, &mut b)
            } else {
                optim::scalar::update(&s, &mut w, gr, &mut a, &mut b)
            };
            if ok != Ok(true) {
                return Err(format!("step {t}: {ok:?}"));
            }
        }
        res.push((w, a, b));
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (p, q, what) in [
        (&res[0].0, &res[1].0, "w"),
        (&res[0].1, &res[1].1, "a"),
        (&res[0].2, &res[1].2, "b"),
    ] {
        if bits(p) != bits(q) {
            return Err(format!("{what}: scalar {p:?} simd {q:?}"));
        }
    }
    Ok(())
}

#[test]
fn simd_matches_scalar_bitwise_at_every_size_to_70() {
    let regs = [
        Regularization::NONE,
        Regularization {
            l1: 0.5,
            l2: 0.25,
            bias: false,
            bounds: Some((-1.0, 1.5)),
        },
    ];
    for rule in rules() {
        for reg in &regs {
            for n in (0usize..70).chain([100]) {
                if let Err(e) = check_paths(rule, reg, n, n as u64 * 31 + 5) {
                    panic!("{rule:?} {reg:?} n={n}: {e}");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn prop_simd_matches_scalar(ri in 0usize..rules().len(), n in 0usize..70, l1 in 0.0f32..1.0, l2 in 0.0f32..1.0, seed: u64) {
        let reg = Regularization { l1, l2, bias: false, bounds: None };
        let r = check_paths(rules()[ri], &reg, n, seed);
        prop_assert!(r.is_ok(), "{:?}", r);
    }
}

#[test]
fn a_non_finite_step_writes_nothing() {
    let s = StepScalars::new(Rule::ADAM, None, 1.0, 1);
    let mut w = [1.0f32; 9];
    let (mut a, mut b) = ([0.0f32; 9], [0.0f32; 9]);
    let mut g = [0.5f32; 9];
    g[8] = f32::INFINITY;
    for simd in [false, true] {
        let r = if simd {
            optim::simd::update(&s, &mut w, &g, &mut a, &mut b)
        } else {
            optim::scalar::update(&s, &mut w, &g, &mut a, &mut b)
        };
        assert_eq!(r, Ok(false));
        assert_eq!(w, [1.0; 9]);
        assert_eq!((a, b), ([0.0; 9], [0.0; 9]));
    }
    // Wrong lengths are errors.
    assert!(matches!(
        optim::simd::update(&s, &mut w, &g[..3], &mut a, &mut b),
        Err(Error::LengthMismatch { what: "grad", .. })
    ));
    assert!(matches!(
        optim::simd::update(&s, &mut w, &g, &mut a[..2], &mut b),
        Err(Error::LengthMismatch {
            what: "state a",
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// Lasso, Ridge, FTRL on seeded data
// ---------------------------------------------------------------------------------------------

/// `n` samples of `D` features (`x ∈ [−1, 1)`), `y = w_true·x + b_true + noise`.
fn regression<const D: usize>(
    n: usize,
    w_true: [f64; D],
    noise: f32,
    seed: u64,
) -> (Vec<f32>, Vec<f32>) {
    let mut g = SplitMix64::new(seed);
    let x: Vec<f32> = (0..n * D).map(|_| g.unit()).collect();
    let y = x
        .chunks_exact(D)
        .map(|r| {
            let s: f64 = r.iter().zip(&w_true).map(|(a, b)| f64::from(*a) * b).sum();
            (s + 0.5) as f32 + g.sym(noise)
        })
        .collect();
    (x, y)
}

/// Centred columns and target (the unpenalised bias absorbs the means).
fn centred<const D: usize>(x: &[f32], y: &[f32]) -> (Vec<[f64; D]>, Vec<f64>, [f64; D], f64) {
    let n = y.len() as f64;
    let mut mx = [0.0f64; D];
    for r in x.chunks_exact(D) {
        for j in 0..D {
            mx[j] += f64::from(r[j]) / n;
        }
    }
    let my = y.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
    let xc = x
        .chunks_exact(D)
        .map(|r| core::array::from_fn(|j| f64::from(r[j]) - mx[j]))
        .collect();
    let yc = y.iter().map(|v| f64::from(*v) - my).collect();
    (xc, yc, mx, my)
}

/// argmin (1/n)‖y − Xw − b‖² + λ1‖w‖₁ by cyclic coordinate descent in f64.
fn lasso_cd<const D: usize>(x: &[f32], y: &[f32], l1: f64) -> ([f64; D], f64) {
    let (xc, yc, mx, my) = centred::<D>(x, y);
    let n = yc.len() as f64;
    let mut w = [0.0f64; D];
    let mut r = yc.clone();
    let zz: [f64; D] =
        core::array::from_fn(|j| 2.0 / n * xc.iter().map(|row| row[j] * row[j]).sum::<f64>());
    for _ in 0..10_000 {
        let mut change = 0.0f64;
        for j in 0..D {
            let rho = 2.0 / n
                * xc.iter()
                    .zip(&r)
                    .map(|(row, ri)| row[j] * (ri + row[j] * w[j]))
                    .sum::<f64>();
            let new = rho.signum() * (rho.abs() - l1).max(0.0) / zz[j];
            let d = new - w[j];
            if d != 0.0 {
                for (ri, row) in r.iter_mut().zip(&xc) {
                    *ri -= row[j] * d;
                }
            }
            change = change.max(d.abs());
            w[j] = new;
        }
        if change < 1e-13 {
            break;
        }
    }
    let b = my - (0..D).map(|j| mx[j] * w[j]).sum::<f64>();
    (w, b)
}

#[test]
fn lasso_by_proximal_steps_matches_coordinate_descent() {
    // Three of eight true weights are zero; λ1 = 0.1 also zeroes a small one (0.03).
    const D: usize = 8;
    let w_true = [1.5, 0.0, -2.0, 0.0, 0.03, 0.8, 0.0, -0.6];
    let (x, y) = regression::<D>(400, w_true, 0.1, 11);
    let l1 = 0.1f32;
    let (w_cd, b_cd) = lasso_cd::<D>(&x, &y, f64::from(l1));
    let data = Dataset::new(&x, &y, D).unwrap();
    let mut m = LinearModel::<D>::zeros();
    let lr = npoa::control::autolr::stable_rate_for::<D>(&data).unwrap();
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs: 3000,
        batch_size: 400, // full batch: proximal gradient descent (ISTA)
        shuffle: false,
        regularization: Regularization::l1(l1),
        ..TrainConfig::default()
    };
    let mut last_zeros = 0;
    Training::new(&cfg)
        .observer(&mut observe(|r| last_zeros = r.zeros))
        .fit(&mut m, &data)
        .unwrap();
    let w = m.weights();
    for j in 0..D {
        assert_eq!(
            w[j] == 0.0,
            w_cd[j] == 0.0,
            "zero pattern at {j}: prox {} vs cd {}",
            w[j],
            w_cd[j]
        );
        assert!(
            (f64::from(w[j]) - w_cd[j]).abs() < 1e-4,
            "w[{j}]: {} vs {}",
            w[j],
            w_cd[j]
        );
    }
    assert!((f64::from(m.bias()) - b_cd).abs() < 1e-4);
    let zeros = w_cd.iter().filter(|v| **v == 0.0).count();
    assert!(zeros >= 4, "the true zeros and the small weight: {w_cd:?}");
    assert_eq!(last_zeros, zeros, "the epoch report counts the exact zeros");
    // Momentum and Nesterov with the prox at their settled step reach the same solution.
    for rule in [Rule::momentum(0.9), Rule::nesterov(0.5)] {
        let mut m = LinearModel::<D>::zeros();
        let cfg = TrainConfig {
            learning_rate: lr * 0.1,
            optimizer: rule,
            ..cfg
        };
        fit(&mut m, &data, &cfg).unwrap();
        for j in 0..D {
            let wj = m.weights()[j];
            assert_eq!(
                wj == 0.0,
                w_cd[j] == 0.0,
                "{rule:?}: zero pattern at {j}: {wj}"
            );
            assert!(
                (f64::from(wj) - w_cd[j]).abs() < 1e-4,
                "{rule:?} w[{j}]: {wj} vs {}",
                w_cd[j]
            );
        }
    }
}

/// Solves `A x = r` by Gaussian elimination with partial pivoting (f64).
fn solve<const D: usize>(mut a: [[f64; D]; D], mut r: [f64; D]) -> [f64; D] {
    for c in 0..D {
        let p = (c..D)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, p);
        r.swap(c, p);
        for i in c + 1..D {
            let f = a[i][c] / a[c][c];
            for k in c..D {
                a[i][k] -= f * a[c][k];
            }
            r[i] -= f * r[c];
        }
    }
    let mut x = [0.0f64; D];
    for c in (0..D).rev() {
        let s: f64 = (c + 1..D).map(|k| a[c][k] * x[k]).sum();
        x[c] = (r[c] - s) / a[c][c];
    }
    x
}

#[test]
fn ridge_by_proximal_steps_matches_the_closed_form() {
    // argmin (1/n)‖y − Xw − b‖² + (λ2/2)‖w‖²: ((2/n)XcᵀXc + λ2·I) w = (2/n) Xcᵀ yc.
    const D: usize = 5;
    let (x, y) = regression::<D>(300, [1.0, -1.0, 0.5, 2.0, 0.0], 0.2, 12);
    let l2 = 0.4f64;
    let (xc, yc, mx, my) = centred::<D>(&x, &y);
    let n = yc.len() as f64;
    let mut a = [[0.0f64; D]; D];
    let mut r = [0.0f64; D];
    for (row, yi) in xc.iter().zip(&yc) {
        for i in 0..D {
            r[i] += 2.0 / n * row[i] * yi;
            for j in 0..D {
                a[i][j] += 2.0 / n * row[i] * row[j];
            }
        }
    }
    for i in 0..D {
        a[i][i] += l2;
    }
    let w_star = solve(a, r);
    let b_star = my - (0..D).map(|j| mx[j] * w_star[j]).sum::<f64>();
    let data = Dataset::new(&x, &y, D).unwrap();
    let mut m = LinearModel::<D>::zeros();
    let cfg = TrainConfig {
        learning_rate: npoa::control::autolr::stable_rate_for::<D>(&data).unwrap(),
        epochs: 3000,
        batch_size: 300,
        shuffle: false,
        regularization: Regularization::l2(l2 as f32),
        ..TrainConfig::default()
    };
    fit(&mut m, &data, &cfg).unwrap();
    for j in 0..D {
        assert!(
            (f64::from(m.weights()[j]) - w_star[j]).abs() < 1e-4,
            "w[{j}]: {} vs {}",
            m.weights()[j],
            w_star[j]
        );
    }
    assert!((f64::from(m.bias()) - b_star).abs() < 1e-4);
}

#[test]
fn ftrl_on_a_sparse_problem_gives_exact_zeros() {
    // Logistic labels from 3 informative features out of 16.
    const D: usize = 16;
    let mut g = SplitMix64::new(13);
    let n = 2000;
    let x: Vec<f32> = (0..n * D).map(|_| g.unit()).collect();
    let y: Vec<f32> = x
        .chunks_exact(D)
        .map(|r| f32::from(3.0 * r[0] - 2.0 * r[5] + 4.0 * r[9] + 0.3 * g.unit() > 0.0))
        .collect();
    let data = Dataset::new(&x, &y, D).unwrap();
    let mut m = LinearModel::<D>::zeros()
        .with_loss(npoa::loss::Loss::Logistic)
        .unwrap();
    let cfg = TrainConfig {
        learning_rate: 0.5,
        epochs: 5,
        batch_size: 1, // online, as FTRL is used
        // λ1 is on the cumulative loss of 10 000 steps: 100 is 0.01 on the mean. An
        // uninformative feature's z is a random walk of 10 000 gradients of size ≈ 0.3, spread
        // ≈ 30: three of those.
        optimizer: Rule::Ftrl {
            beta: 1.0,
            l1: 100.0,
            l2: 1.0,
        },
        ..TrainConfig::default()
    };
    let mut zeros = 0;
    Training::new(&cfg)
        .observer(&mut observe(|r| zeros = r.zeros))
        .fit(&mut m, &data)
        .unwrap();
    let w = m.weights();
    for j in 0..D {
        let informative = [0, 5, 9].contains(&j);
        assert_eq!(w[j] != 0.0, informative, "w[{j}] = {} ({w:?})", w[j]);
    }
    assert_eq!(zeros, D - 3);
    assert!(w[0] > 0.0 && w[5] < 0.0 && w[9] > 0.0);
    let c = npoa::model::metrics::evaluate_logistic(&m, &x, &y).unwrap();
    assert!(c.accuracy > 0.95, "{}", c.accuracy);
}

// ---------------------------------------------------------------------------------------------
// Convergence on an ill-conditioned problem
// ---------------------------------------------------------------------------------------------

/// 64 noiseless samples of 8 features with scales from 1 to 1/32 (condition number of E[x̃x̃ᵀ]
/// about 3·10³), `y = w·x + 0.3` with `w = [1, −2, 3, −1, 2, 1.5, −3, 4]`.
fn ill_conditioned() -> (Vec<f32>, Vec<f32>) {
    const D: usize = 8;
    let mut g = SplitMix64::new(21);
    let n = 64;
    let scales = [1.0f32, 0.6, 0.35, 0.2, 0.12, 0.07, 0.045, 1.0 / 32.0];
    let x: Vec<f32> = (0..n * D).map(|i| scales[i % D] * g.unit()).collect();
    let w_true = [1.0f32, -2.0, 3.0, -1.0, 2.0, 1.5, -3.0, 4.0];
    let y: Vec<f32> = x
        .chunks_exact(D)
        .map(|r| r.iter().zip(&w_true).map(|(a, b)| a * b).sum::<f32>() + 0.3)
        .collect();
    (x, y)
}

/// Stops at the first epoch whose loss is within `target` of `floor` (recording it), or once
/// the loss is 10× the first epoch's (diverging).
struct UntilTarget {
    floor: f32,
    target: f32,
    first: Option<f32>,
    hit: Option<u32>,
}

impl Observer for UntilTarget {
    fn on_epoch(&mut self, r: &Epoch) -> Decision {
        let first = *self.first.get_or_insert(r.train_loss);
        if r.train_loss - self.floor <= self.target {
            self.hit = Some(r.epoch);
            Decision::Stop
        } else if r.train_loss.is_nan() || r.train_loss > 10.0 * first {
            Decision::Stop
        } else {
            Decision::Continue
        }
    }
}

/// Full-batch epochs to bring the loss within `target` of `floor`, or `None`.
fn epochs_to_target(
    rule: Rule,
    lr: f32,
    data: &Dataset<'_>,
    floor: f32,
    target: f32,
) -> Option<u32> {
    let mut m = LinearModel::<8>::zeros();
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs: 5000,
        batch_size: data.len(),
        shuffle: false,
        optimizer: rule,
        ..TrainConfig::default()
    };
    let mut s = UntilTarget {
        floor,
        target,
        first: None,
        hit: None,
    };
    Training::new(&cfg)
        .observer(&mut s)
        .fit(&mut m, data)
        .ok()?;
    s.hit
}

/// The best over a grid of rates (factors of √2 from `lo`, 20 of them).
fn best_epochs(rule: Rule, lo: f32, data: &Dataset<'_>, floor: f32, target: f32) -> (u32, f32) {
    let mut best = (u32::MAX, 0.0);
    for k in 0..20 {
        let lr = lo * 2f32.sqrt().powi(k);
        if let Some(e) = epochs_to_target(rule, lr, data, floor, target)
            && e < best.0
        {
            best = (e, lr);
        }
    }
    best
}

#[test]
fn momentum_nesterov_and_adam_beat_sgd_on_an_ill_conditioned_problem() {
    const D: usize = 8;
    let (x, y) = ill_conditioned();
    let data = Dataset::new(&x, &y, D).unwrap();
    // The noiseless optimum has loss 0 (up to f32 rounding); target 1e-4 of the initial loss.
    let l0 = LinearModel::<D>::zeros().loss(&x, &y).unwrap();
    let target = 1e-4 * l0;
    // Rates from 1/32 of the stable rate up to 32× it (SGD diverges above 2×).
    let lo = npoa::control::autolr::stable_rate_for::<D>(&data).unwrap() / 32.0;
    let (sgd, sgd_lr) = best_epochs(Rule::Sgd, lo, &data, 0.0, target);
    let (mom, mom_lr) = best_epochs(Rule::momentum(0.9), lo, &data, 0.0, target);
    let (nes, nes_lr) = best_epochs(Rule::nesterov(0.9), lo, &data, 0.0, target);
    // Adam's rate is a step length, not a multiple of the curvature: 1e-3…1.
    let (adam, adam_lr) = best_epochs(Rule::ADAM, 1e-3, &data, 0.0, target);
    println!(
        "epochs to 1e-4 of the initial loss (best rate): SGD {sgd} (η {sgd_lr:.4}), momentum {mom} \
         (η {mom_lr:.4}), Nesterov {nes} (η {nes_lr:.4}), Adam {adam} (η {adam_lr:.5})"
    );
    assert!(sgd < u32::MAX, "SGD reaches the target within 5000 epochs");
    assert!(
        mom < sgd && nes < sgd && adam < sgd,
        "{sgd} {mom} {nes} {adam}"
    );
}

// ---------------------------------------------------------------------------------------------
// State under the controller; memory
// ---------------------------------------------------------------------------------------------

#[test]
fn the_best_copy_includes_the_optimizer_state() {
    // A constant rate and early stopping: the run goes on `patience` epochs past its best, then
    // returns the best weights and the state that goes with them, which is exactly the state
    // of a plain run of that many epochs.
    let (x, y) = regression::<3>(64, [1.0, -1.0, 0.5], 0.5, 3);
    let (xv, yv) = regression::<3>(64, [1.0, -1.0, 0.5], 0.5, 4);
    let data = Dataset::new(&x, &y, 3).unwrap();
    let val = Dataset::new(&xv, &yv, 3).unwrap();
    let cfg = TrainConfig {
        epochs: 400,
        batch_size: 8,
        optimizer: Rule::ADAM,
        ..TrainConfig::default()
    };
    let mut cc = ControllerConfig::constant(0.05).unwrap();
    cc.early_stop = Some(npoa::control::EarlyStop {
        patience: 5,
        ..Default::default()
    });
    let mut ctl = Controller::new(cc).unwrap();
    let mut m = LinearModel::<3>::zeros();
    let mut st = OptimState::<LinearModel<3>>::new();
    let mut best_epoch = 0;
    let s = Training::new(&cfg)
        .controller(&mut ctl)
        .validation(&val)
        .observer(&mut watch(
            |_| {},
            |e| {
                if let EventKind::Improved { .. } = e.kind {
                    best_epoch = e.epoch;
                }
            },
        ))
        .fit_with(&mut m, &mut st, &data)
        .unwrap();
    assert!(s.stop != Stop::MaxEpochs && best_epoch > 0 && best_epoch < s.epochs);
    let mut m2 = LinearModel::<3>::zeros();
    let mut st2 = OptimState::<LinearModel<3>>::new();
    let cfg2 = TrainConfig {
        learning_rate: 0.05,
        epochs: best_epoch,
        ..cfg
    };
    Training::new(&cfg2)
        .fit_with(&mut m2, &mut st2, &data)
        .unwrap();
    assert_eq!(m, m2);
    assert_eq!(st.steps(), st2.steps());
    assert_eq!(st.steps(), u64::from(best_epoch) * 8);
    for i in 0..2 {
        let (a, b) = (st.buffer(i).unwrap(), st2.buffer(i).unwrap());
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1);
    }
}

#[test]
fn a_rollback_restores_the_optimizer_state() {
    // Momentum at 30× the stable rate diverges; the guard rolls back and cuts the rate. The
    // state returned holds exactly the steps of the epochs behind the best weights.
    let (x, y) = regression::<2>(32, [2.0, -1.0], 0.1, 5);
    let data = Dataset::new(&x, &y, 2).unwrap();
    let lr = 30.0 * npoa::control::autolr::stable_rate_for::<2>(&data).unwrap();
    let mut cc = ControllerConfig::constant(lr).unwrap();
    cc.guard = Some(Guard {
        max_retries: 10,
        ..Guard::default()
    });
    let mut ctl = Controller::new(cc).unwrap();
    let cfg = TrainConfig {
        epochs: 60,
        batch_size: 4,
        optimizer: Rule::momentum(0.9),
        ..TrainConfig::default()
    };
    let mut m = LinearModel::<2>::zeros();
    let mut st = OptimState::<LinearModel<2>, 1>::new();
    // Epochs behind the current weights (`cur`) and behind the best copy (`best`): an epoch
    // that completes adds one; a rollback goes back to the best copy's count.
    let (cur, best, rollbacks) = (Cell::new(0u64), Cell::new(0u64), Cell::new(0));
    Training::new(&cfg)
        .controller(&mut ctl)
        .observer(&mut watch(
            |_| cur.set(cur.get() + 1),
            |e| match e.kind {
                EventKind::Improved { .. } => best.set(cur.get()),
                EventKind::RolledBack { .. } => {
                    cur.set(best.get());
                    rollbacks.set(rollbacks.get() + 1);
                }
                _ => {}
            },
        ))
        .fit_with(&mut m, &mut st, &data)
        .unwrap();
    let (best, rollbacks) = (best.get(), rollbacks.get());
    assert!(rollbacks > 0);
    assert_eq!(
        st.steps(),
        best * 8,
        "the state's step count is the best copy's"
    );
    assert!(m.loss(&x, &y).unwrap() < 0.1);
}

#[test]
fn state_sizes_follow_the_formula() {
    // 4·buffers·p bytes (rounded up to 8) + 16 for p parameters: the u64 step count and the
    // u64 tag of the rule that stepped the state.
    type M = LinearModel<8>;
    assert_eq!(Rule::Sgd.state_bytes(9), 16);
    // 36 bytes of buffer, padded to 40 for the u64 step count.
    assert_eq!(Rule::momentum(0.9).state_bytes(9), 56);
    assert_eq!(Rule::ADAM.state_bytes(9), 88);
    let ftrl = Rule::Ftrl {
        beta: 1.0,
        l1: 0.0,
        l2: 0.0,
    };
    assert_eq!(ftrl.state_bytes(9), 88);
    assert_eq!(Rule::Averaged { start: 1 }.state_bytes(9), 56);
    assert_eq!(OptimState::<M, 0>::BYTES, Rule::Sgd.state_bytes(9));
    assert_eq!(
        OptimState::<M, 1>::BYTES,
        Rule::momentum(0.9).state_bytes(9)
    );
    assert_eq!(OptimState::<M, 2>::BYTES, Rule::ADAM.state_bytes(9));
    assert_eq!(core::mem::size_of::<OptimState<M, 2>>(), 88);
    type C = npoa::LinearClassifier<4, 3>;
    assert_eq!(OptimState::<C, 2>::BYTES, Rule::ADAM.state_bytes(15));
}

#[test]
fn bad_settings_are_errors_and_change_nothing() {
    let (x, y) = regression::<2>(16, [1.0, 1.0], 0.1, 6);
    let data = Dataset::new(&x, &y, 2).unwrap();
    let m0 = LinearModel::<2>::new([0.5, -0.5], 0.1).unwrap();
    let bad_rules = [
        Rule::momentum(1.0),
        Rule::momentum(f32::NAN),
        Rule::Momentum {
            momentum: 0.9,
            dampening: 0.5,
            nesterov: true,
        },
        Rule::nesterov(0.0),
        Rule::Adam {
            beta1: 1.0,
            beta2: 0.999,
            eps: 1e-8,
        },
        Rule::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 0.0,
        },
        Rule::Averaged { start: 0 },
        Rule::Ftrl {
            beta: -1.0,
            l1: 0.0,
            l2: 0.0,
        },
        Rule::Ftrl {
            beta: 1.0,
            l1: f32::NAN,
            l2: 0.0,
        },
    ];
    for rule in bad_rules {
        let mut m = m0;
        let cfg = TrainConfig {
            optimizer: rule,
            ..TrainConfig::default()
        };
        assert!(
            matches!(
                fit(&mut m, &data, &cfg),
                Err(Error::InvalidParameter { .. })
            ),
            "{rule:?}"
        );
        assert_eq!(m, m0);
    }
    for reg in [
        Regularization::l1(-1.0),
        Regularization::l2(f32::INFINITY),
        Regularization {
            bounds: Some((1.0, 0.0)),
            ..Regularization::NONE
        },
        Regularization {
            bounds: Some((f32::NAN, 0.0)),
            ..Regularization::NONE
        },
    ] {
        let mut m = m0;
        let cfg = TrainConfig {
            regularization: reg,
            ..TrainConfig::default()
        };
        assert!(fit(&mut m, &data, &cfg).is_err(), "{reg:?}");
        assert_eq!(m, m0);
    }
    assert!(Regularization::elastic_net(-1.0, 0.5).is_err());
    assert!(Regularization::elastic_net(1.0, 1.5).is_err());
    let en = Regularization::elastic_net(0.5, 0.25).unwrap();
    assert_eq!((en.l1, en.l2), (0.25, 0.75));
    // Too little state for the rule; fit_slices has none.
    let mut m = m0;
    let mut st = OptimState::<LinearModel<2>, 1>::new();
    let cfg = TrainConfig {
        optimizer: Rule::ADAM,
        ..TrainConfig::default()
    };
    assert!(matches!(
        Training::new(&cfg).fit_with(&mut m, &mut st, &data),
        Err(Error::InvalidParameter {
            name: "optimizer",
            ..
        })
    ));
}

#[test]
fn averaged_sgd_returns_the_average_and_std_models_agree() {
    let (x, y) = regression::<3>(100, [1.0, 2.0, -1.0], 0.3, 8);
    let data = Dataset::new(&x, &y, 3).unwrap();
    let cfg = TrainConfig {
        learning_rate: 0.1,
        epochs: 30,
        batch_size: 5,
        optimizer: Rule::Averaged { start: 100 },
        ..TrainConfig::default()
    };
    let mut m = LinearModel::<3>::zeros();
    let mut st = OptimState::<LinearModel<3>, 1>::new();
    Training::new(&cfg)
        .fit_with(&mut m, &mut st, &data)
        .unwrap();
    // The model is the average buffer.
    let avg = st.buffer(0).unwrap();
    assert_eq!(&m.weights()[..], avg.0);
    assert_eq!(m.bias(), avg.1[0]);
    // The average is smoother than the last iterate: lower loss with noisy small batches.
    let mut last = LinearModel::<3>::zeros();
    fit(
        &mut last,
        &data,
        &TrainConfig {
            optimizer: Rule::Sgd,
            ..cfg
        },
    )
    .unwrap();
    assert!(m.loss(&x, &y).unwrap() <= last.loss(&x, &y).unwrap());
    #[cfg(feature = "std")]
    {
        for rule in rules() {
            let l1 = if matches!(rule, Rule::Ftrl { .. }) {
                0.0
            } else {
                0.01
            };
            let cfg = TrainConfig {
                optimizer: rule,
                regularization: Regularization::l1(l1),
                ..cfg
            };
            let mut a = LinearModel::<3>::zeros();
            fit(&mut a, &data, &cfg).unwrap();
            let mut d = npoa::DynLinearModel::zeros(3).unwrap();
            fit(&mut d, &data, &cfg).unwrap();
            assert_eq!(&a.weights()[..], d.weights(), "{rule:?}");
            assert_eq!(a.bias(), d.bias());
        }
    }
}

#[test]
fn footprint_table_of_the_readme() {
    assert_eq!(core::mem::size_of::<LinearModel<8>>(), 44);
    assert_eq!(OptimState::<LinearModel<8>, 0>::BYTES, 16);
    assert_eq!(OptimState::<LinearModel<8>, 1>::BYTES, 56);
    assert_eq!(OptimState::<LinearModel<8>, 2>::BYTES, 88);
}

// ---------------------------------------------------------------------------------------------
// AdaGrad
// ---------------------------------------------------------------------------------------------

/// One step of PyTorch's `Adagrad` (`lr_decay = 0`, `initial_accumulator_value = 0`) in f64:
/// `G += g²`, `w −= η·g/(√G + ε)`; then the prox of `reg` at the per-coordinate step
/// `h = η/(√G + ε)` (composite mirror descent) and the box.
fn adagrad_f64(w: &mut [f64], sum: &mut [f64], g: &[f64], lr: f64, eps: f64, reg: &Regularization) {
    let (l1, l2) = (f64::from(reg.l1), f64::from(reg.l2));
    for i in 0..w.len() {
        sum[i] += g[i] * g[i];
        let std = sum[i].sqrt() + eps;
        let u = w[i] - lr * g[i] / std;
        let h = lr / std;
        let soft = u.signum() * (u.abs() - h * l1).max(0.0);
        let mut v = soft / (1.0 + h * l2);
        if let Some((lo, hi)) = reg.bounds {
            v = v.clamp(f64::from(lo), f64::from(hi));
        }
        w[i] = v;
    }
}

/// Three steps against PyTorch's formulas in f64, unpenalised and with the elastic net and a
/// box (the prox at the per-coordinate step).
#[test]
fn adagrad_trace() {
    let eps = 1e-10f64;
    let regs = [
        Regularization::NONE,
        Regularization {
            l1: 2.0,
            l2: 0.5,
            bias: false,
            bounds: Some((-0.2, 0.9)),
        },
    ];
    for reg in regs {
        let (mut w, mut sum) = (W0, [0.0f64; 2]);
        let mut want = [[0.0; 2]; 3];
        for t in 0..3 {
            adagrad_f64(&mut w, &mut sum, &GS[t], LR, eps, &reg);
            want[t] = w;
        }
        assert_trace(Rule::ADAGRAD, run3(Rule::ADAGRAD, reg), want);
    }
    // The first step is η·sign(g) per coordinate (up to ε): 1 − 0.1, −0.5 + 0.1.
    let w1 = run3(Rule::ADAGRAD, Regularization::NONE)[0];
    assert_eq!(w1.map(|v| v as f32), [0.9, -0.4]);
}

/// Largest `|got − want| / (1 + |want|)` over a slice.
fn max_rel(got: &[f32], want: &[f64]) -> f64 {
    got.iter()
        .zip(want)
        .map(|(g, w)| (f64::from(*g) - w).abs() / (1.0 + w.abs()))
        .fold(0.0, f64::max)
}

#[test]
fn adagrad_matches_the_f64_oracle_over_many_steps() {
    // 37 coordinates (four SIMD chunks and a tail), 500 steps of seeded gradients of mixed
    // scales (1e-3 to 3), with and without the elastic net and a box. Tolerance: 1e-5 of
    // 1 + |value| for the weights and the sum of squares (f32 rounding accumulated over the
    // steps; measured below 2e-6).
    let n = 37;
    let mut rng = SplitMix64::new(77);
    let scales: Vec<f32> = (0..n).map(|i| 3.0 * 0.75f32.powi(i as i32 % 25)).collect();
    let grads: Vec<Vec<f32>> = (0..500)
        .map(|_| scales.iter().map(|s| rng.sym(*s)).collect())
        .collect();
    let regs = [
        Regularization::NONE,
        Regularization {
            l1: 0.05,
            l2: 0.1,
            bias: false,
            bounds: Some((-1.5, 2.0)),
        },
    ];
    let (lr, eps) = (0.05f32, 1e-10f32);
    let mut worst = 0.0f64;
    for reg in regs {
        let w0: Vec<f32> = (0..n).map(|_| rng.sym(1.0)).collect();
        let (mut w, mut a, mut b) = (w0.clone(), vec![0.0f32; n], Vec::new());
        let mut w64: Vec<f64> = w0.iter().map(|v| f64::from(*v)).collect();
        let mut s64 = vec![0.0f64; n];
        for (t, g) in grads.iter().enumerate() {
            let s = StepScalars::new(Rule::ADAGRAD, Some(&reg), lr, t as u64 + 1);
            assert_eq!(optim::simd::update(&s, &mut w, g, &mut a, &mut b), Ok(true));
            let g64: Vec<f64> = g.iter().map(|v| f64::from(*v)).collect();
            adagrad_f64(&mut w64, &mut s64, &g64, lr.into(), eps.into(), &reg);
            let e = max_rel(&w, &w64).max(max_rel(&a, &s64));
            assert!(e <= 1e-5, "{reg:?} step {}: {e:e}", t + 1);
            worst = worst.max(e);
        }
    }
    println!("AdaGrad against the f64 oracle: max relative difference {worst:.3e}");
}

/// The normal-equations solution `(X̃ᵀX̃)⁻¹X̃ᵀy` with `x̃ = (x, 1)`, in f64.
fn least_squares<const D: usize, const P: usize>(x: &[f32], y: &[f32]) -> [f64; P] {
    let mut a = [[0.0f64; P]; P];
    let mut r = [0.0f64; P];
    for (row, yi) in x.chunks_exact(D).zip(y) {
        let xt: [f64; P] = core::array::from_fn(|j| if j < D { f64::from(row[j]) } else { 1.0 });
        for i in 0..P {
            r[i] += xt[i] * f64::from(*yi);
            for j in 0..P {
                a[i][j] += xt[i] * xt[j];
            }
        }
    }
    solve(a, r)
}

/// Full batch on the ill-conditioned problem: AdaGrad reaches 1e-4 of the initial loss in fewer
/// epochs than SGD (each at its best rate of a grid), and runs on to the normal-equations
/// solution (f64).
#[test]
fn adagrad_solves_the_ill_conditioned_problem() {
    const D: usize = 8;
    let (x, y) = ill_conditioned();
    let data = Dataset::new(&x, &y, D).unwrap();
    let l0 = LinearModel::<D>::zeros().loss(&x, &y).unwrap();
    let target = 1e-4 * l0;
    let lo = npoa::control::autolr::stable_rate_for::<D>(&data).unwrap() / 32.0;
    let (sgd, sgd_lr) = best_epochs(Rule::Sgd, lo, &data, 0.0, target);
    let (adam, adam_lr) = best_epochs(Rule::ADAM, 1e-3, &data, 0.0, target);
    // AdaGrad's rate is a step length too (its first step is η per coordinate): 1e-2…7.
    let (ada, ada_lr) = best_epochs(Rule::ADAGRAD, 1e-2, &data, 0.0, target);
    println!(
        "epochs to 1e-4 of the initial loss (best rate): SGD {sgd} (η {sgd_lr:.4}), \
         Adam {adam} (η {adam_lr:.5}), AdaGrad {ada} (η {ada_lr:.4})"
    );
    assert!(ada < sgd, "{ada} vs SGD {sgd}");
    // Run on: the weights reach the normal-equations solution.
    let theta = least_squares::<D, 9>(&x, &y);
    let mut m = LinearModel::<D>::zeros();
    let cfg = TrainConfig {
        learning_rate: ada_lr,
        epochs: 5000,
        batch_size: data.len(),
        shuffle: false,
        optimizer: Rule::ADAGRAD,
        ..TrainConfig::default()
    };
    fit(&mut m, &data, &cfg).unwrap();
    let err = max_rel(&m.weights()[..], &theta[..D]).max(max_rel(&[m.bias()], &theta[D..]));
    println!("AdaGrad after 5000 epochs: max |w − w*|/(1 + |w*|) = {err:.3e}");
    // Measured below 1e-7.
    assert!(err < 1e-5, "{:?} vs {theta:?}", m.weights());
}

/// The lasso (coordinate descent in f64) with `λ1 = 0.01` zeroes the three smallest-scale
/// features of the ill-conditioned problem; full-batch AdaGrad with the per-coordinate prox
/// reaches it, with exactly those zeros.
#[test]
fn adagrad_with_l1_reaches_the_lasso_solution_with_its_exact_zeros() {
    const D: usize = 8;
    let (x, y) = ill_conditioned();
    let data = Dataset::new(&x, &y, D).unwrap();
    let l1 = 0.01f32;
    let (w_cd, b_cd) = lasso_cd::<D>(&x, &y, f64::from(l1));
    let zeros = w_cd.iter().filter(|v| **v == 0.0).count();
    assert!(
        (1..D).contains(&zeros),
        "some but not all weights are zero: {w_cd:?}"
    );
    let mut m = LinearModel::<D>::zeros();
    let cfg = TrainConfig {
        learning_rate: 1.0,
        epochs: 5000,
        batch_size: data.len(),
        shuffle: false,
        optimizer: Rule::ADAGRAD,
        regularization: Regularization::l1(l1),
        ..TrainConfig::default()
    };
    let mut last_zeros = 0;
    Training::new(&cfg)
        .observer(&mut observe(|r| last_zeros = r.zeros))
        .fit(&mut m, &data)
        .unwrap();
    let w = m.weights();
    for j in 0..D {
        assert_eq!(
            w[j] == 0.0,
            w_cd[j] == 0.0,
            "zero pattern at {j}: {} vs {}",
            w[j],
            w_cd[j]
        );
    }
    let err = max_rel(&w[..], &w_cd).max(max_rel(&[m.bias()], &[b_cd]));
    println!("AdaGrad + L1: {zeros} exact zeros, max difference to the lasso {err:.3e}");
    // Measured below 1e-7: the fixed points are the lasso's (the prox at AdaGrad's own step).
    assert!(err < 1e-5, "{w:?} vs {w_cd:?}");
    assert_eq!(last_zeros, zeros);
}

#[test]
fn adagrad_refuses_a_bad_eps() {
    let (x, y) = regression::<2>(16, [1.0, 1.0], 0.1, 6);
    let data = Dataset::new(&x, &y, 2).unwrap();
    let m0 = LinearModel::<2>::new([0.5, -0.5], 0.1).unwrap();
    for eps in [
        0.0,
        -0.0,
        -1e-10,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        let rule = Rule::AdaGrad { eps };
        let named_eps =
            |r: Result<(), Error>| matches!(r, Err(Error::InvalidParameter { name: "eps", .. }));
        assert!(named_eps(rule.validate()), "{eps}");
        let cfg = TrainConfig {
            optimizer: rule,
            ..TrainConfig::default()
        };
        assert!(named_eps(cfg.validate()), "{eps}");
        let (mut m, mut st) = (m0, OptimState::<LinearModel<2>, 1>::new());
        let r = Training::new(&cfg).fit_with(&mut m, &mut st, &data);
        assert!(named_eps(r.map(|_| ())), "{eps}");
        assert_eq!((m, st.steps()), (m0, 0));
        // The slice API refuses it too, and writes nothing.
        let s = StepScalars::new(rule, None, 0.1, 1);
        let (mut w, mut a) = ([1.0f32; 3], [0.0f32; 3]);
        let r = optim::scalar::update(&s, &mut w, &[1.0; 3], &mut a, &mut []);
        assert!(named_eps(r.map(|_| ())), "{eps}");
        assert_eq!((w, a), ([1.0; 3], [0.0; 3]));
    }
    assert_eq!(Rule::ADAGRAD.validate(), Ok(()));
    assert_eq!(
        (Rule::ADAGRAD.buffers(), Rule::ADAGRAD.name()),
        (1, "adagrad")
    );
    assert_eq!(Rule::ADAGRAD.state_bytes(9), 56);
}

/// AdaGrad's `G` and momentum's `v` are both one buffer: the tag, not the size, keeps one
/// from being read as the other (and Adam's two buffers from being read as AdaGrad's).
#[test]
fn a_state_left_by_adagrad_is_refused_by_other_rules_and_vice_versa() {
    let (x, y) = regression::<2>(32, [2.0, -1.0], 0.1, 9);
    let data = Dataset::new(&x, &y, 2).unwrap();
    let run = |rule: Rule, st: &mut OptimState<LinearModel<2>, 2>| {
        let cfg = TrainConfig {
            epochs: 2,
            optimizer: rule,
            ..TrainConfig::default()
        };
        let mut m = LinearModel::<2>::zeros();
        Training::new(&cfg).fit_with(&mut m, st, &data).map(|_| m)
    };
    let refused = |r: Result<LinearModel<2>, Error>| {
        matches!(r, Err(Error::InvalidParameter { name: "state", .. }))
    };
    for other in Rule::EXAMPLES.into_iter().filter(|r| r.name() != "adagrad") {
        let mut st = OptimState::new();
        run(Rule::ADAGRAD, &mut st).unwrap();
        assert_eq!(st.rule_name(), Some("adagrad"));
        let before = format!("{st:?}");
        assert!(refused(run(other, &mut st)), "{other:?} on AdaGrad's state");
        assert_eq!(format!("{st:?}"), before);
        let mut st = OptimState::new();
        run(other, &mut st).unwrap();
        assert!(
            refused(run(Rule::ADAGRAD, &mut st)),
            "AdaGrad on {other:?}'s state"
        );
    }
    // Another ε is the same rule: the state continues.
    let mut st = OptimState::new();
    run(Rule::ADAGRAD, &mut st).unwrap();
    run(Rule::AdaGrad { eps: 1e-6 }, &mut st).unwrap();
    assert_eq!(st.steps(), 4, "two runs of two epochs of one batch");
}

#[cfg(feature = "std")]
#[test]
fn adagrad_fixed_and_run_time_sized_models_agree_bit_for_bit() {
    // Shuffled mini-batches of 45, the elastic net on the biases too and a box: every branch of
    // the per-coordinate prox (exact zeros, both bounds hit), on 11 weights (one SIMD chunk and
    // a tail).
    const D: usize = 11;
    let w_true = [1.0, -2.0, 0.0, 0.5, 0.0, 3.0, -1.0, 0.0, 0.25, 2.0, -0.5];
    let (x, y) = regression::<D>(90, w_true, 0.2, 10);
    let data = Dataset::new(&x, &y, D).unwrap();
    let cfg = TrainConfig {
        learning_rate: 0.2,
        epochs: 40,
        batch_size: 45,
        optimizer: Rule::ADAGRAD,
        regularization: Regularization {
            l1: 0.1,
            l2: 0.01,
            bias: true,
            bounds: Some((-1.25, 2.0)),
        },
        ..TrainConfig::default()
    };
    let mut a = LinearModel::<D>::zeros();
    fit(&mut a, &data, &cfg).unwrap();
    let mut d = npoa::DynLinearModel::zeros(D).unwrap();
    fit(&mut d, &data, &cfg).unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.weights()[..]), bits(d.weights()));
    assert_eq!(a.bias().to_bits(), d.bias().to_bits());
    assert!(
        a.weights().contains(&0.0) && a.weights().contains(&2.0) && a.weights().contains(&-1.25),
        "{:?}",
        a.weights()
    );
}

/// A state is tied to the kind of rule that stepped it: another rule refuses it (before, an
/// averaged SGD copied another rule's buffer into the model as "the average"), and the state's
/// buffers are read-only to safe code, so they stay finite.
#[test]
fn a_state_left_by_another_rule_is_refused() {
    let (x, y) = ([0.0f32, 1.0, 2.0, 3.0], [1.0f32, 3.0, 5.0, 7.0]);
    let data = Dataset::new(&x, &y, 1).unwrap();
    let momentum = TrainConfig {
        learning_rate: 0.05,
        epochs: 5,
        optimizer: Rule::momentum(0.9),
        ..TrainConfig::default()
    };
    let mut m = LinearModel::<1>::zeros();
    let mut st = OptimState::<LinearModel<1>, 2>::new();
    assert_eq!(st.rule_name(), None);
    Training::new(&momentum)
        .fit_with(&mut m, &mut st, &data)
        .unwrap();
    assert_eq!(st.rule_name(), Some("momentum"));
    let (m_before, steps) = (m, st.steps());
    let averaged = TrainConfig {
        optimizer: Rule::Averaged { start: 1 },
        ..momentum
    };
    let e = Training::new(&averaged)
        .fit_with(&mut m, &mut st, &data)
        .err();
    assert!(
        matches!(e, Some(Error::InvalidParameter { name: "state", .. })),
        "{e:?}"
    );
    assert_eq!((m, st.steps()), (m_before, steps));
    // The same rule (other hyper-parameters) continues it.
    let nesterov = TrainConfig {
        optimizer: Rule::nesterov(0.5),
        ..momentum
    };
    Training::new(&nesterov)
        .fit_with(&mut m, &mut st, &data)
        .unwrap();
    assert_eq!(st.steps(), steps * 2);
    // A fresh state works with any rule; zero epochs are refused, not `Ok` with NaN.
    let mut fresh = OptimState::<LinearModel<1>, 2>::new();
    let before_zero = m;
    let zero = TrainConfig {
        epochs: 0,
        ..averaged
    };
    assert!(matches!(
        Training::new(&zero).fit_with(&mut m, &mut fresh, &data),
        Err(Error::InvalidParameter { name: "epochs", .. })
    ));
    assert_eq!(m, before_zero);
    assert_eq!(fresh.steps(), 0);
}
