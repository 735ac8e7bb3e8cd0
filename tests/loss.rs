//! Losses: derivatives against central finite differences in f64, extreme logits, the Huber
//! and absolute kinks, softmax against logistic for K = 2, and errors.

use npoa::Error;
use npoa::loss::{Loss, softmax_xent};

/// The loss formulas again, in plain f64 with std (the naive forms, fine away from extremes).
fn naive(loss: Loss, z: f64, y: f64) -> f64 {
    let r = z - y;
    match loss {
        Loss::Squared => r * r,
        Loss::Huber { delta } => {
            let d = f64::from(delta);
            if r.abs() <= d {
                0.5 * r * r
            } else {
                d * (r.abs() - 0.5 * d)
            }
        }
        Loss::Absolute => r.abs(),
        Loss::Logistic => {
            let p = 1.0 / (1.0 + (-z).exp());
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        }
        Loss::Quantile { tau } => {
            // max(τ·u, (τ − 1)·u) with u = y − z.
            let (t, u) = (f64::from(tau), y - z);
            (t * u).max((t - 1.0) * u)
        }
        // The Poisson negative log-likelihood of the mean μ = e^z, without ln Γ(y + 1).
        Loss::Poisson => {
            let mu = z.exp();
            mu - y * mu.ln()
        }
    }
}

/// Every loss of the registry, plus other parameters.
fn losses() -> Vec<Loss> {
    let mut v = Loss::ALL.to_vec();
    v.extend([
        Loss::Huber { delta: 0.7 },
        Loss::Quantile { tau: 0.5 },
        Loss::Quantile { tau: 0.05 },
    ]);
    v
}

#[test]
fn derivatives_match_central_differences() {
    for loss in losses() {
        for &z in &[-6.0f64, -2.5, -0.9, -0.3, 0.2, 0.8, 1.7, 4.0, 7.5] {
            for &y in &[0.0f64, 0.25, 1.0, -1.5, 2.0, 5.0] {
                if matches!(loss, Loss::Logistic) && !(0.0..=1.0).contains(&y) {
                    continue;
                }
                if matches!(loss, Loss::Poisson) && y < 0.0 {
                    continue;
                }
                let r = z - y;
                // Stay away from the kinks, where there is no derivative to compare.
                if matches!(loss, Loss::Absolute | Loss::Quantile { .. }) && r.abs() < 1e-3 {
                    continue;
                }
                if let Loss::Huber { delta } = loss
                    && (r.abs() - f64::from(delta)).abs() < 1e-3
                {
                    continue;
                }
                let h = 1e-6;
                let fd = (naive(loss, z + h, y) - naive(loss, z - h, y)) / (2.0 * h);
                let got = f64::from(loss.derivative(z as f32, y as f32));
                // e^7.5 ≈ 1808: the difference quotient's own error is relative.
                assert!(
                    (got - fd).abs() <= 1e-6 * fd.abs().max(1.0) * (1.0 + z.exp() / 100.0),
                    "{loss:?} z={z} y={y}: {got} vs {fd}"
                );
                let v = f64::from(loss.value(z as f32, y as f32));
                let want = naive(loss, f64::from(z as f32), f64::from(y as f32));
                assert!(
                    (v - want).abs() <= 1e-6 * want.abs().max(1e-6),
                    "{loss:?} value z={z} y={y}: {v} vs {want}"
                );
            }
        }
    }
}

#[test]
fn extreme_logits_are_finite() {
    for z in [1e30f32, -1e30, 88.0, -88.0, 0.0, f32::MAX, -f32::MAX, 1e-40] {
        for y in [0.0f32, 1.0, 0.5] {
            let v = Loss::Logistic.value(z, y);
            let g = Loss::Logistic.derivative(z, y);
            assert!(
                v.is_finite() && v >= 0.0 && g.is_finite() && (-1.0..=1.0).contains(&g),
                "z={z} y={y}: {v} {g}"
            );
        }
    }
    assert_eq!(Loss::Logistic.value(1e30, 1.0), 0.0);
    assert_eq!(Loss::Logistic.value(-1e30, 1.0), 1e30);
    assert_eq!(Loss::Logistic.derivative(1e30, 0.0), 1.0);
    let mut g = [0.0f32; 3];
    let l = softmax_xent(&[1e30, -1e30, 0.0], 1, &mut g).unwrap();
    assert!(l.is_finite() && g.iter().all(|v| v.is_finite()));
    assert_eq!(l, 2e30);
}

#[test]
fn kinks_use_subgradients() {
    assert_eq!(Loss::Absolute.derivative(1.0, 1.0), 0.0);
    assert_eq!(Loss::Absolute.derivative(2.0, 1.0), 1.0);
    let h = Loss::Huber { delta: 1.0 };
    assert_eq!((h.value(2.0, 1.0), h.derivative(2.0, 1.0)), (0.5, 1.0));
    assert_eq!((h.value(-5.0, 0.0), h.derivative(-5.0, 0.0)), (4.5, -1.0));
    assert_eq!(Loss::Logistic.curvature_bound(), 0.25);
}

#[test]
fn softmax_with_two_classes_is_logistic() {
    for (z0, z1) in [
        (0.0f32, 0.0f32),
        (1.0, -2.0),
        (-3.5, 4.25),
        (10.0, 9.0),
        (-60.0, 60.0),
    ] {
        let mut g = [0.0f32; 2];
        for label in [0usize, 1] {
            let l = softmax_xent(&[z0, z1], label, &mut g).unwrap();
            let logit = z1 - z0;
            let y = label as f32;
            let want = Loss::Logistic.value(logit, y);
            let dwant = Loss::Logistic.derivative(logit, y);
            assert!(
                (l - want).abs() <= 1e-6 * want.max(1.0),
                "{z0} {z1} {label}: {l} vs {want}"
            );
            // ∂/∂z1 of the softmax loss is the logistic derivative; ∂/∂z0 is its negative.
            assert!((g[1] - dwant).abs() <= 1e-6 && (g[0] + dwant).abs() <= 1e-6);
        }
    }
}

#[test]
fn softmax_gradient_matches_finite_differences() {
    let z = [0.3f32, -1.2, 2.0, 0.7];
    let mut g = [0.0f32; 4];
    softmax_xent(&z, 2, &mut g).unwrap();
    let f = |zz: &[f64]| {
        let m = zz.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        m + zz.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - zz[2]
    };
    for k in 0..4 {
        let mut a: Vec<f64> = z.iter().map(|&v| f64::from(v)).collect();
        let mut b = a.clone();
        a[k] += 1e-6;
        b[k] -= 1e-6;
        let fd = (f(&a) - f(&b)) / 2e-6;
        assert!(
            (f64::from(g[k]) - fd).abs() < 1e-6,
            "k={k}: {} vs {fd}",
            g[k]
        );
    }
    assert!((g.iter().map(|&v| f64::from(v)).sum::<f64>()).abs() < 1e-6);
}

#[test]
fn errors() {
    let mut g = [0.0f32; 2];
    assert_eq!(softmax_xent(&[], 0, &mut []), Err(Error::EmptyBatch));
    assert!(matches!(
        softmax_xent(&[1.0, 2.0], 2, &mut g),
        Err(Error::InvalidData { what: "label", .. })
    ));
    // Logits more than f32::MAX apart: the loss overflows f32 (an error, not `Ok(inf)`), and
    // the gradient is left as it was.
    assert_eq!(
        softmax_xent(&[-f32::MAX, 0.5, 3e38], 0, &mut [0.0; 3]),
        Err(Error::Overflow { what: "loss" })
    );
    let mut g3 = [7.0f32; 3];
    assert!(softmax_xent(&[f32::MAX, -f32::MAX, 0.0], 1, &mut g3).is_err());
    assert_eq!(g3, [7.0; 3]);
    // Far apart but representable: finite.
    assert!(
        softmax_xent(&[-1e38, 0.5, 1e38], 0, &mut [0.0; 3])
            .unwrap()
            .is_finite()
    );
    assert!(matches!(
        softmax_xent(&[1.0, 2.0], 0, &mut [0.0; 3]),
        Err(Error::LengthMismatch { .. })
    ));
    assert_eq!(
        softmax_xent(&[1.0, f32::NAN], 0, &mut g),
        Err(Error::NonFinite {
            what: "z",
            index: 1
        })
    );
    assert_eq!(g, [0.0, 0.0]);
    for d in [0.0f32, -1.0, f32::NAN] {
        assert!(Loss::Huber { delta: d }.validate().is_err());
    }
    assert!(Loss::Huber { delta: 1.0 }.validate().is_ok());
    for tau in [
        0.0f32,
        1.0,
        -0.1,
        1.1,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        assert_eq!(
            Loss::Quantile { tau }.validate(),
            Err(Error::InvalidParameter {
                name: "tau",
                reason: "must be in the open interval (0, 1)"
            }),
            "{tau}"
        );
    }
    for tau in [f32::from_bits(1), 0.5, 1.0 - f32::EPSILON / 2.0] {
        assert!(Loss::Quantile { tau }.validate().is_ok());
    }
    let p = Loss::Poisson;
    assert!(p.check_targets(&[0.0, 1.0, 2.5, -0.0]).is_ok());
    assert!(matches!(
        p.check_targets(&[0.0, -1.0]),
        Err(Error::InvalidData { what: "y", .. })
    ));
    assert_eq!(
        p.check_targets(&[f32::NAN]),
        Err(Error::NonFinite {
            what: "y",
            index: 0
        })
    );
    // A quantile target may be anything finite.
    assert!(
        Loss::Quantile { tau: 0.9 }
            .check_targets(&[-1e30, 1e30])
            .is_ok()
    );
}

#[test]
fn quantile_and_poisson_values() {
    let q = Loss::Quantile { tau: 0.9 };
    // u = y − z = 2: τ·u; u = −2: (τ − 1)·u = 0.2.
    let t = f64::from(0.9f32);
    assert_eq!(q.value(1.0, 3.0), (t * 2.0) as f32);
    assert_eq!(q.value(3.0, 1.0), ((1.0 - t) * 2.0) as f32);
    assert_eq!(q.derivative(1.0, 3.0), -0.9);
    assert_eq!(q.derivative(3.0, 1.0), (1.0 - t) as f32);
    assert_eq!(q.derivative(2.0, 2.0), 0.0);
    assert_eq!(q.curvature_bound(), 0.0);
    // τ = ½ is half the absolute error.
    let h = Loss::Quantile { tau: 0.5 };
    for (z, y) in [(0.3f32, -2.0f32), (4.0, 4.5), (1.0, 1.0)] {
        assert_eq!(h.value(z, y), 0.5 * Loss::Absolute.value(z, y));
        assert_eq!(h.derivative(z, y), 0.5 * Loss::Absolute.derivative(z, y));
    }
    let p = Loss::Poisson;
    assert_eq!(p.value(0.0, 3.0), 1.0);
    assert_eq!(p.derivative(0.0, 3.0), -2.0);
    // Minimum at z = ln y, value y − y·ln y (negative for y > e).
    let y = 5.0f64;
    assert!((f64::from(p.value(y.ln() as f32, 5.0)) - (y - y * y.ln())).abs() < 1e-6);
    assert!(p.derivative(y.ln() as f32, 5.0).abs() < 1e-6);
    assert_eq!(p.value(-1e30, 0.0), 0.0);
    assert_eq!(p.value(100.0, 0.0), f32::INFINITY);
    assert_eq!(p.curvature_bound(), 4.0);
    assert_eq!(
        Loss::from_name("quantile", 0.25),
        Some(Loss::Quantile { tau: 0.25 })
    );
    assert_eq!(Loss::from_name("poisson", 0.0), Some(Loss::Poisson));
    assert_eq!(
        (Loss::from_code(5, 0.75), Loss::from_code(6, 0.0)),
        (Some(Loss::Quantile { tau: 0.75 }), Some(p))
    );
    assert_eq!(Loss::from_code(4, 0.0), None);
    assert_eq!(q.param_name(), Some("tau"));
    assert_eq!(q.param(), 0.9);
    assert_eq!(q.with_param(0.3), Loss::Quantile { tau: 0.3 });
    assert_eq!(p.param_name(), None);
}
