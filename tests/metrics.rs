//! Regression metrics against an f64 reference (scikit-learn's definitions), across chunk
//! boundaries, and their errors.

use npoa::model::metrics::{RegressionAcc, evaluate};
use npoa::{Error, LinearModel};

fn reference(pred: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let n = y.len() as f64;
    let mse = pred
        .iter()
        .zip(y)
        .map(|(p, t)| (p - t) * (p - t))
        .sum::<f64>()
        / n;
    let mae = pred.iter().zip(y).map(|(p, t)| (p - t).abs()).sum::<f64>() / n;
    let mean = y.iter().sum::<f64>() / n;
    let ss_tot: f64 = y.iter().map(|t| (t - mean) * (t - mean)).sum();
    (mse, mae, 1.0 - mse * n / ss_tot)
}

#[test]
fn matches_f64_reference_across_chunks() {
    for n in [1usize, 7, 255, 256, 257, 1000] {
        let x: Vec<f32> = (0..n * 3)
            .map(|i| ((i * 7919 % 1000) as f32) / 500.0 - 1.0)
            .collect();
        let y: Vec<f32> = (0..n)
            .map(|i| ((i * 31 % 97) as f32) / 20.0 - 2.0)
            .collect();
        let m = LinearModel::new([0.5, -1.0, 2.0], 0.25).unwrap();
        let r = evaluate(&m, &x, &y).unwrap();
        let pred: Vec<f64> = x
            .chunks_exact(3)
            .map(|row| f64::from(m.predict(row).unwrap()))
            .collect();
        let yd: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
        let (mse, mae, r2) = reference(&pred, &yd);
        assert_eq!(r.n, n);
        assert!((r.mse - mse).abs() <= 1e-12 * mse.max(1.0), "n={n}");
        assert!((r.rmse - mse.sqrt()).abs() <= 1e-12 * mse.sqrt().max(1.0));
        assert!((r.mae - mae).abs() <= 1e-12 * mae.max(1.0));
        if n > 1 {
            assert!(
                (r.r2 - r2).abs() <= 1e-9 * r2.abs().max(1.0),
                "n={n}: {} vs {r2}",
                r.r2
            );
        }
    }
}

#[test]
fn r2_of_constant_targets_and_perfect_fits() {
    let m = LinearModel::new([0.0], 3.0).unwrap();
    assert_eq!(evaluate(&m, &[1.0, 2.0], &[3.0, 3.0]).unwrap().r2, 1.0);
    assert_eq!(evaluate(&m, &[1.0, 2.0], &[4.0, 4.0]).unwrap().r2, 0.0);
    let exact = LinearModel::new([2.0], 0.0).unwrap();
    let r = evaluate(&exact, &[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap();
    assert_eq!((r.mse, r.mae, r.r2), (0.0, 0.0, 1.0));
}

#[test]
fn errors() {
    let m = LinearModel::new([1.0], 0.0).unwrap();
    assert_eq!(evaluate(&m, &[], &[]), Err(Error::EmptyBatch));
    assert!(matches!(
        evaluate(&m, &[1.0], &[1.0, 2.0]),
        Err(Error::LengthMismatch { what: "x", .. })
    ));
    assert_eq!(
        evaluate(&m, &[1.0], &[f32::NAN]),
        Err(Error::NonFinite {
            what: "y",
            index: 0
        })
    );
    assert_eq!(
        evaluate(&m, &[f32::INFINITY], &[1.0]),
        Err(Error::NonFinite {
            what: "x",
            index: 0
        })
    );
    assert_eq!(
        evaluate(&LinearModel::<0>::zeros(), &[], &[1.0]),
        Err(Error::ZeroFeatures)
    );
    assert_eq!(RegressionAcc::default().finish(), Err(Error::EmptyBatch));
}
