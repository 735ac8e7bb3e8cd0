//! The full-batch solvers on fixed-size models (no_std): bad settings are errors that leave
//! the model unchanged, the methods agree with an f64 answer, and the certificate's measures
//! are exact on small cases.

mod common;

use common::solve_spd;
use npoa::control::certificate::{self, Measure};
use npoa::loss::Loss;
use npoa::optim::Regularization;
use npoa::train::solve::{Method, SolveConfig, solve};
use npoa::train::{Dataset, Stop};
use npoa::{LinearClassifier, LinearModel};

const X: [f32; 12] = [
    1.0, 0.5, 2.0, -1.0, 3.0, 0.25, 4.0, 1.5, 5.0, -0.5, 6.0, 2.0,
];
const Y: [f32; 6] = [2.1, 3.9, 6.2, 8.1, 9.8, 12.2];

#[test]
fn bad_settings_are_errors_and_change_nothing() {
    let data = Dataset::new(&X, &Y, 2).unwrap();
    let start = LinearModel::<2>::new([0.5, -0.25], 1.0).unwrap();
    let bad = [
        SolveConfig {
            max_iter: 0,
            ..SolveConfig::default()
        },
        SolveConfig {
            tol: Some(f32::NAN),
            ..SolveConfig::default()
        },
        SolveConfig {
            tol: Some(-1.0),
            ..SolveConfig::default()
        },
        SolveConfig {
            regularization: Regularization::l1(-1.0),
            ..SolveConfig::default()
        },
        SolveConfig {
            regularization: Regularization::l1(0.1),
            method: Method::ConjugateGradient,
            ..SolveConfig::default()
        },
    ];
    for cfg in bad {
        let mut m = start;
        assert!(solve(&mut m, &data, &cfg).is_err(), "{cfg:?}");
        assert_eq!(m, start);
    }
    // A loss that is not smooth, a model of other features, targets the loss refuses.
    let mut m = start.with_loss(Loss::Absolute).unwrap();
    let before = m;
    assert!(solve(&mut m, &data, &SolveConfig::default()).is_err());
    assert_eq!(m, before);
    let mut m3 = LinearModel::<3>::zeros();
    assert!(solve(&mut m3, &data, &SolveConfig::default()).is_err());
    let mut lg = start.with_loss(Loss::Logistic).unwrap();
    let before = lg;
    assert!(solve(&mut lg, &data, &SolveConfig::default()).is_err());
    assert_eq!(lg, before);
}

/// Least squares with an intercept for two features, in f64 (normal equations, Cramer).
fn ols() -> ([f64; 2], f64) {
    let n = Y.len() as f64;
    let (mut s, mut sy) = ([[0.0f64; 3]; 3], [0.0f64; 3]);
    for (r, y) in X.chunks(2).zip(Y) {
        let v = [f64::from(r[0]), f64::from(r[1]), 1.0];
        for i in 0..3 {
            for j in 0..3 {
                s[i][j] += v[i] * v[j] / n;
            }
            sy[i] += v[i] * f64::from(y) / n;
        }
    }
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(s);
    let col = |k: usize| {
        let mut m = s;
        for i in 0..3 {
            m[i][k] = sy[i];
        }
        det(m) / d
    };
    ([col(0), col(1)], col(2))
}

#[test]
fn both_methods_reach_least_squares() {
    let data = Dataset::new(&X, &Y, 2).unwrap();
    let (w, b) = ols();
    for method in [Method::Auto, Method::ConjugateGradient, Method::Fista] {
        let mut m = LinearModel::<2>::zeros();
        let cfg = SolveConfig {
            method,
            ..SolveConfig::default()
        };
        let s = solve(&mut m, &data, &cfg).unwrap();
        assert_eq!(s.stop, Stop::Converged, "{method:?}: {s:?}");
        assert!(s.certificate <= 1e-4);
        for (got, want) in m.weights().iter().zip(w) {
            assert!(
                (f64::from(*got) - want).abs() < 1e-3,
                "{method:?}: {got} vs {want}"
            );
        }
        assert!((f64::from(m.bias()) - b).abs() < 1e-3, "{method:?}");
    }
}

#[test]
fn lasso_certificate_is_the_duality_gap_and_falls_below_tol() {
    let data = Dataset::new(&X, &Y, 2).unwrap();
    let mut m = LinearModel::<2>::zeros();
    let reg = Regularization::l1(0.5);
    let cfg = SolveConfig {
        regularization: reg,
        ..SolveConfig::default()
    };
    assert_eq!(
        certificate::measure(npoa::loss::Objective::Single(Loss::Squared), &reg),
        Measure::DualityGap
    );
    let s = solve(&mut m, &data, &cfg).unwrap();
    assert_eq!(s.stop, Stop::Converged, "{s:?}");
    assert!(s.certificate <= 1e-4, "{s:?}");
}

/// The gap of an exact lasso solution is 0, and of the zero model (when the penalty is small)
/// positive: computed by hand for one centred feature.
#[test]
fn duality_gap_by_hand() {
    // x = [-1, 1], y = [-1, 1]: ȳ = 0, x̄ = 0, ‖y − ȳ‖²/n = 1. scikit-learn's lasso with α:
    // w* = max(1 − α, 0) (x·y/n = 1, x·x/n = 1). Here λ1 = 2α.
    let alpha = 0.25f64;
    let reg = Regularization::l1((2.0 * alpha) as f32);
    let at = |w: f32| {
        // r = y − w·x = (1 − w)·[-1, 1]; mse = (1 − w)²; gw = −(2/n)·Σ r x = −2(1 − w); gb = 0.
        let r = 1.0 - w;
        certificate::duality_gap(
            &reg,
            (&[w], &[0.0]),
            (&[-2.0 * r], &[0.0]),
            r * r,
            2,
            1.0,
            None,
        )
    };
    assert!(at(0.75).abs() < 1e-12, "{}", at(0.75));
    // At w = 0: P = ½·1 = 0.5; the dual point scaled by α/|Xᵀr/n| = 0.25 gives D = 0.21875;
    // the gap 0.28125 (relative to ‖y − ȳ‖² = 2 and in units of n: 0.28125·2/2).
    assert!((at(0.0) - 0.28125).abs() < 1e-12, "{}", at(0.0));
}

#[test]
fn softmax_and_logistic_converge() {
    let data = Dataset::new(&X, &[0.0, 1.0, 0.0, 1.0, 1.0, 0.0], 2).unwrap();
    let mut m = LinearModel::<2>::zeros().with_loss(Loss::Logistic).unwrap();
    let cfg = SolveConfig {
        regularization: Regularization::l2(0.1),
        ..SolveConfig::default()
    };
    let s = solve(&mut m, &data, &cfg).unwrap();
    assert_eq!(s.stop, Stop::Converged, "{s:?}");
    let data = Dataset::new(&X, &[0.0, 1.0, 2.0, 1.0, 2.0, 0.0], 2).unwrap();
    let mut c = LinearClassifier::<2, 3>::zeros();
    let s = solve(&mut c, &data, &cfg).unwrap();
    assert_eq!(s.stop, Stop::Converged, "{s:?}");
}

/// The solver on the scalar reference path reaches the same answer as on the SIMD path (the
/// kernels agree within their documented bound, so the iterates differ in the last bits).
#[test]
fn scalar_path_agrees() {
    use npoa::train::ScalarPath;
    let data = Dataset::new(&X, &Y, 2).unwrap();
    for reg in [Regularization::NONE, Regularization::l1(0.3)] {
        let cfg = SolveConfig {
            regularization: reg,
            ..SolveConfig::default()
        };
        let mut simd = LinearModel::<2>::zeros();
        let mut scalar = ScalarPath(LinearModel::<2>::zeros());
        let a = solve(&mut simd, &data, &cfg).unwrap();
        let b = solve(&mut scalar, &data, &cfg).unwrap();
        assert_eq!((a.stop, b.stop), (Stop::Converged, Stop::Converged));
        for (p, q) in simd.weights().iter().zip(scalar.0.weights()) {
            assert!(
                (p - q).abs() <= 1e-4 * p.abs().max(1.0),
                "{reg:?}: {p} vs {q}"
            );
        }
        assert!((simd.bias() - scalar.0.bias()).abs() <= 1e-4);
    }
}

/// `n` rows of three features at different scales (a xorshift generator) and a linear
/// predictor `z = x·w + b` for the targets.
fn glm_data(n: usize, seed: u64) -> (Vec<f32>, Vec<f64>) {
    let mut s = seed | 1;
    let mut u = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut x, mut z) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let r = [2.0 * u() - 1.0, 4.0 * u() - 2.0, 0.5 * u()];
        x.extend(r.iter().map(|&v| v as f32));
        z.push(0.8 * r[0] - 0.5 * r[1] + 1.5 * r[2] + 0.3 + 0.2 * (u() - 0.5));
    }
    (x, z)
}

/// The f64 minimiser of `mean(loss) + (λ2/2)‖w‖²` for three features and a bias by Newton's
/// method with the exact Hessian; `d1(z, y)` and `d2(z)` are the loss's first two derivatives.
fn glm_oracle(
    x: &[f32],
    y: &[f32],
    l2: f64,
    d1: impl Fn(f64, f64) -> f64,
    d2: impl Fn(f64) -> f64,
) -> [f64; 4] {
    let n = y.len() as f64;
    let mut th = [0.0f64; 4];
    for _ in 0..100 {
        let (mut g, mut h) = ([0.0f64; 4], [[0.0f64; 4]; 4]);
        for (r, &t) in x.chunks(3).zip(y) {
            let v = [f64::from(r[0]), f64::from(r[1]), f64::from(r[2]), 1.0];
            let z: f64 = v.iter().zip(th).map(|(a, b)| a * b).sum();
            let (a, c) = (d1(z, f64::from(t)), d2(z));
            for i in 0..4 {
                g[i] += a * v[i] / n;
                for j in 0..4 {
                    h[i][j] += c * v[i] * v[j] / n;
                }
            }
        }
        for i in 0..3 {
            g[i] += l2 * th[i];
            h[i][i] += l2;
        }
        let s = solve_spd(h, g);
        for i in 0..4 {
            th[i] -= s[i];
        }
        if s.iter().map(|v| v.abs()).fold(0.0, f64::max) < 1e-14 {
            break;
        }
    }
    th
}

/// Truncated Newton (the default method for a smooth loss without L1 or a box) reaches the
/// f64 minimiser of the logistic and Poisson objectives, with and without L2, and FISTA
/// agrees with it.
#[test]
fn newton_reaches_the_f64_answer() {
    let (x, z) = glm_data(400, 7);
    // Labels from a deterministic threshold of the noisy predictor's probability, counts
    // rounded from its mean: both fixed by the data.
    let labels: Vec<f32> = z
        .iter()
        .enumerate()
        .map(|(i, &z)| {
            let p = 1.0 / (1.0 + (-2.0 * z).exp());
            f32::from(u8::from(((i * 7919) % 1000) as f64 / 1000.0 < p))
        })
        .collect();
    let counts: Vec<f32> = z.iter().map(|&z| z.exp().round() as f32).collect();
    for l2 in [0.0f32, 0.05] {
        let cases: [(Loss, &[f32], [f64; 4]); 2] = [
            (
                Loss::Logistic,
                &labels,
                glm_oracle(
                    &x,
                    &labels,
                    f64::from(l2),
                    |z, y| 1.0 / (1.0 + (-z).exp()) - y,
                    |z| {
                        let p = 1.0 / (1.0 + (-z).exp());
                        p * (1.0 - p)
                    },
                ),
            ),
            (
                Loss::Poisson,
                &counts,
                glm_oracle(&x, &counts, f64::from(l2), |z, y| z.exp() - y, f64::exp),
            ),
        ];
        for (loss, y, want) in cases {
            let data = Dataset::new(&x, y, 3).unwrap();
            for method in [Method::Auto, Method::Newton, Method::Fista] {
                let mut m = LinearModel::<3>::zeros().with_loss(loss).unwrap();
                let cfg = SolveConfig {
                    method,
                    regularization: Regularization::l2(l2),
                    ..SolveConfig::default()
                };
                let s = solve(&mut m, &data, &cfg).unwrap();
                assert_eq!(s.stop, Stop::Converged, "{loss:?} {l2} {method:?}: {s:?}");
                assert!(s.certificate <= 1e-4, "{s:?}");
                if method != Method::Fista {
                    // A Newton iteration gains digits fast: a few, not hundreds.
                    assert!(s.epochs <= 20, "{loss:?} {l2} {method:?}: {s:?}");
                }
                let got = [m.weights()[0], m.weights()[1], m.weights()[2], m.bias()];
                for (g, w) in got.iter().zip(want) {
                    assert!(
                        (f64::from(*g) - w).abs() <= 2e-4 * w.abs().max(1.0),
                        "{loss:?} {l2} {method:?}: {got:?} vs {want:?}"
                    );
                }
            }
        }
    }
}

/// Newton refuses what it cannot solve, and leaves the model unchanged.
#[test]
fn newton_refuses_l1_boxes_and_rough_losses() {
    let data = Dataset::new(&X, &[0.0, 1.0, 0.0, 1.0, 1.0, 0.0], 2).unwrap();
    let start = LinearModel::<2>::zeros().with_loss(Loss::Logistic).unwrap();
    let boxed = Regularization {
        bounds: Some((-1.0, 1.0)),
        ..Regularization::NONE
    };
    for reg in [Regularization::l1(0.1), boxed] {
        let mut m = start;
        let cfg = SolveConfig {
            method: Method::Newton,
            regularization: reg,
            ..SolveConfig::default()
        };
        assert!(solve(&mut m, &data, &cfg).is_err(), "{reg:?}");
        assert_eq!(m, start);
    }
    let mut m = start.with_loss(Loss::Absolute).unwrap();
    let cfg = SolveConfig {
        method: Method::Newton,
        ..SolveConfig::default()
    };
    assert!(solve(&mut m, &data, &cfg).is_err());
}
