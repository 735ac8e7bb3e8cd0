//! The full-batch solvers on fixed-size models (no_std): bad settings are errors that leave
//! the model unchanged, the methods agree with an f64 answer, and the certificate's measures
//! are exact on small cases.

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
