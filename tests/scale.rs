//! Standardisation on the device (`npoa::scale`): the running moments against an `f64`
//! two-pass oracle, constant columns, a single row, refused inputs, the fold round trip, and
//! standardise → train → fold against the `f64` least-squares answer.

mod common;

use common::{SplitMix64, mse_f64, ols_f64};
use npoa::scale::Scaler;
use npoa::train::{Dataset, TrainConfig, Training};
use npoa::{Error, LinearClassifier, LinearModel};

/// Two-pass `f64` means and population variances of the columns.
fn two_pass(x: &[f32], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (x.len() / d) as f64;
    let mean: Vec<f64> = (0..d)
        .map(|j| x.chunks_exact(d).map(|r| f64::from(r[j])).sum::<f64>() / n)
        .collect();
    let var = (0..d)
        .map(|j| {
            x.chunks_exact(d)
                .map(|r| (f64::from(r[j]) - mean[j]).powi(2))
                .sum::<f64>()
                / n
        })
        .collect();
    (mean, var)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}

/// `n` rows of 3 features: `1e6 +` noise in `[-0.5, 0.5)`, `1e-3·u`, `−50 + 10·u`, and a target.
fn offset_data(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut g = SplitMix64::new(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let r = [1e6 + g.sym(0.5), 1e-3 * g.unit(), -50.0 + 10.0 * g.unit()];
        x.extend_from_slice(&r);
        y.push(3e5 + g.sym(2.0));
    }
    (x, y)
}

#[test]
fn welford_matches_the_two_pass_oracle_where_naive_sums_fail() {
    let (x, y) = offset_data(1000, 1);
    let s = Scaler::<3>::fit(&Dataset::new(&x, &y, 3).unwrap()).unwrap();
    let mut p = Scaler::<3>::new();
    for (r, t) in x.chunks_exact(3).zip(&y) {
        p.push(r.try_into().unwrap(), *t).unwrap();
    }
    assert_eq!(s, p, "fit is one push per row");
    assert_eq!(s.count(), 1000);
    let (mean, var) = two_pass(&x, 3);
    for j in 0..3 {
        let (m, sd) = (s.mean(j).unwrap(), s.std(j).unwrap());
        assert!(rel(m, mean[j]) < 1e-12, "mean {j}: {m} vs {}", mean[j]);
        assert!(
            rel(sd * sd, var[j]) < 1e-12,
            "var {j}: {} vs {}",
            sd * sd,
            var[j]
        );
        assert_eq!(s.scale(j), s.std(j));
    }
    let (ym, yv) = two_pass(&y, 1);
    assert!(rel(s.target_mean(), ym[0]) < 1e-12);
    assert!(rel(s.target_std().powi(2), yv[0]) < 1e-12);
    // The naive one-pass `Σx²/n − μ²`, even in f64, is far off on the offset column.
    let n = 1000.0;
    let naive = x
        .chunks_exact(3)
        .map(|r| f64::from(r[0]).powi(2))
        .sum::<f64>()
        / n
        - (x.chunks_exact(3).map(|r| f64::from(r[0])).sum::<f64>() / n).powi(2);
    assert!(rel(naive, var[0]) > 1e-6, "naive {naive} vs {}", var[0]);
    assert!(s.mean(3).is_none() && s.std(3).is_none() && s.scale(3).is_none());
}

#[cfg(feature = "std")]
#[test]
fn the_std_layer_standardizer_is_the_same_code() {
    use npoa::data::{DynDataset, Standardizer};
    let (x, y) = offset_data(200, 2);
    let s = Scaler::<3>::fit(&Dataset::new(&x, &y, 3).unwrap()).unwrap();
    let t = Standardizer::fit(&DynDataset::new(x.clone(), y.clone(), 3).unwrap());
    for j in 0..3 {
        assert_eq!(t.mean[j], s.mean(j).unwrap() as f32);
        assert_eq!(t.scale[j], s.scale(j).unwrap() as f32);
    }
    assert_eq!(t.target_mean, s.target_mean() as f32);
    assert_eq!(t.target_scale, s.target_scale() as f32);
}

#[test]
fn constant_columns_standardise_to_zero_and_keep_a_zero_weight() {
    // Column 0 constant at 1e6, column 2 at 1e-13 scale (below the tolerance), column 1 real.
    let mut g = SplitMix64::new(3);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..32 {
        let r = [1e6f32, 5.0 + g.unit(), 1e-13 * g.unit()];
        y.push(2.0 * r[1] - 1.0);
        x.extend_from_slice(&r);
    }
    let s = Scaler::<3>::fit(&Dataset::new(&x, &y, 3).unwrap()).unwrap();
    assert_eq!(s.std(0), Some(0.0));
    assert_eq!(s.scale(0), Some(1.0));
    assert!(s.std(2).unwrap() > 0.0 && s.std(2).unwrap() < 1e-12);
    assert_eq!(s.scale(2), Some(1.0), "near-constant: scale 1");
    let mut z = x.clone();
    s.standardize_in_place(&mut z).unwrap();
    for r in z.chunks_exact(3) {
        assert_eq!(r[0], 0.0);
        assert!(r[2].abs() < 1e-12);
    }
    let mut m = LinearModel::<3>::zeros();
    let config = TrainConfig {
        learning_rate: 0.5,
        epochs: 300,
        batch_size: 32,
        ..TrainConfig::default()
    };
    Training::new(&config)
        .fit(&mut m, &Dataset::new(&z, &y, 3).unwrap())
        .unwrap();
    assert_eq!(m.weights()[0], 0.0);
    m.unstandardize(&s).unwrap();
    assert_eq!(m.weights()[0], 0.0, "the constant column's weight stays 0");
    assert!(m.weights()[2].abs() < 1e-9);
    assert!((m.weights()[1] - 2.0).abs() < 1e-4);
    assert!((m.bias() + 1.0).abs() < 1e-3, "bias {}", m.bias());
    assert!(m.predict_one(&[1e6, 5.0, 0.0]).is_finite());
}

#[test]
fn a_single_row_centres_only() {
    let mut s = Scaler::<2>::new();
    assert_eq!(
        s.standardize_row(&[3.0, -4.0]),
        [3.0, -4.0],
        "identity before any row"
    );
    s.push(&[3.0, -4.0], 7.0).unwrap();
    assert_eq!(s.count(), 1);
    assert_eq!(
        (s.mean(0), s.std(0), s.scale(0)),
        (Some(3.0), Some(0.0), Some(1.0))
    );
    assert_eq!(
        (s.target_mean(), s.target_std(), s.target_scale()),
        (7.0, 0.0, 1.0)
    );
    assert_eq!(s.standardize_row(&[3.0, -4.0]), [0.0, 0.0]);
    assert_eq!(s.standardize_target(7.0), 0.0);
    let (mut w, mut b) = ([1.5f32, -2.0], [0.25f32]);
    s.fold(&mut w, &mut b).unwrap();
    assert_eq!(w, [1.5, -2.0]);
    assert_eq!(b, [0.25 - (1.5 * 3.0 + 2.0 * 4.0)]);
}

#[test]
fn non_finite_and_misshapen_input_is_refused_and_changes_nothing() {
    let (x, y) = offset_data(10, 4);
    let s = Scaler::<3>::fit(&Dataset::new(&x, &y, 3).unwrap()).unwrap();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut t = s;
        assert_eq!(
            t.push(&[0.0, bad, 1.0], 1.0),
            Err(Error::NonFinite {
                what: "x",
                index: 1
            })
        );
        assert_eq!(
            t.push(&[0.0, 0.0, 1.0], bad),
            Err(Error::NonFinite {
                what: "y",
                index: 0
            })
        );
        assert_eq!(t, s);
        let mut buf = x.clone();
        buf[7] = bad;
        let before: Vec<u32> = buf.iter().map(|v| v.to_bits()).collect();
        assert_eq!(
            s.standardize_in_place(&mut buf),
            Err(Error::NonFinite {
                what: "x",
                index: 7
            })
        );
        assert_eq!(buf.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), before);
        let mut yy = [1.0f32, bad];
        assert!(s.standardize_targets_in_place(&mut yy).is_err());
        assert_eq!(yy[0], 1.0);
        let (mut w, mut b) = ([1.0f32, bad, 0.0], [0.0f32]);
        assert!(matches!(
            s.fold(&mut w, &mut b),
            Err(Error::Overflow { .. })
        ));
        assert_eq!((w[0], b[0]), (1.0, 0.0));
    }
    let mut buf = [0.0f32; 4];
    assert!(matches!(
        s.standardize_in_place(&mut buf),
        Err(Error::LengthMismatch { .. })
    ));
    let (mut w, mut b) = ([0.0f32; 3], [0.0f32; 2]);
    assert!(matches!(
        s.fold(&mut w, &mut b),
        Err(Error::LengthMismatch { .. })
    ));
    assert_eq!(
        Scaler::<2>::fit(&Dataset::new(&x, &y, 3).unwrap()),
        Err(Error::FeatureMismatch { model: 2, data: 3 })
    );
    // A fold that overflows f32: a tiny (but real) scale under a huge weight.
    let mut t = Scaler::<1>::new();
    t.push(&[1e-10], 0.0).unwrap();
    t.push(&[-1e-10], 0.0).unwrap();
    assert!((t.scale(0).unwrap() - 1e-10).abs() < 1e-16);
    let (mut w, mut b) = ([1e30f32], [1.0f32]);
    assert_eq!(
        t.fold(&mut w, &mut b),
        Err(Error::Overflow {
            what: "folded model"
        })
    );
    assert_eq!((w, b), ([1e30], [1.0]));
    let mut big = [1e30f32];
    assert!(matches!(
        t.standardize_in_place(&mut big),
        Err(Error::Overflow { .. })
    ));
    assert_eq!(big, [1e30]);
}

/// `|a − b| ≤ tol·mag`.
fn close(a: f32, b: f32, mag: f32, tol: f32) -> bool {
    (a - b).abs() <= tol * mag
}

#[test]
fn the_fold_predicts_on_raw_rows_what_the_standardised_model_predicts_on_standardised_rows() {
    let mut g = SplitMix64::new(5);
    let scales = [1e-2f32, 1.0, 1e2, 1e3];
    let offsets = [0.5f32, -3.0, 400.0, 2e4];
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        for j in 0..4 {
            x.push(offsets[j] + scales[j] * g.unit());
        }
        y.push(50.0 + 20.0 * g.unit());
    }
    let s = Scaler::<4>::fit(&Dataset::new(&x, &y, 4).unwrap()).unwrap();
    let ms = LinearModel::<4>::new([1.0, -2.0, 0.5, 3.0], 0.75).unwrap();
    let mut mr = ms;
    mr.unstandardize(&s).unwrap();
    let mut mt = ms;
    mt.unstandardize_target(&s).unwrap();
    let mut k =
        LinearClassifier::<4, 2>::new([[1.0, -2.0, 0.5, 3.0], [0.0, 1.0, -1.0, 2.0]], [0.5, -0.5])
            .unwrap();
    let ks = k;
    k.unstandardize(&s).unwrap();
    let eps = f32::EPSILON * 8.0;
    for r in x.chunks_exact(4) {
        let r: &[f32; 4] = r.try_into().unwrap();
        let z = s.standardize_row(r);
        let mag = |m: &LinearModel<4>, v: &[f32; 4]| {
            m.bias().abs()
                + m.weights()
                    .iter()
                    .zip(v)
                    .map(|(a, b)| (a * b).abs())
                    .sum::<f32>()
        };
        let m = mag(&ms, &z) + mag(&mr, r);
        let (ps, pr) = (ms.predict_one(&z), mr.predict_one(r));
        assert!(close(ps, pr, m, eps), "{ps} vs {pr}");
        // Trained on standardised targets: the raw prediction is μ_y + σ_y·(standardised one).
        let want = (s.target_mean() + s.target_scale() * f64::from(ps)) as f32;
        let mt_mag = mag(&mt, r) + s.target_scale() as f32 * m;
        assert!(close(want, mt.predict_one(r), mt_mag, eps));
        let (ls, lr) = (ks.logits(&z).unwrap(), k.logits(r).unwrap());
        for c in 0..2 {
            assert!(close(ls[c], lr[c], 10.0 * m, eps), "{ls:?} vs {lr:?}");
        }
    }
    // Unfold is fold's inverse (to rounding).
    let (mut w, mut b) = (*mr.weights(), [mr.bias()]);
    s.unfold(&mut w, &mut b).unwrap();
    for (a, e) in w.iter().zip(ms.weights()) {
        assert!((a - e).abs() <= 1e-6 * e.abs());
    }
    assert!((b[0] - ms.bias()).abs() < 1e-3, "{} vs {}", b[0], ms.bias());
}

#[test]
fn standardise_train_fold_reaches_the_f64_least_squares_answer_in_raw_units() {
    const D: usize = 4;
    let mut g = SplitMix64::new(6);
    let scales = [1e-2f32, 1.0, 1e2, 1e3];
    let offsets = [0.3f32, -2.0, 150.0, 5e3];
    let w_true = [40.0f32, -1.5, 0.02, 0.004];
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..256 {
        let r: [f32; D] = core::array::from_fn(|j| offsets[j] + scales[j] * g.unit());
        let t: f32 = r.iter().zip(&w_true).map(|(a, b)| a * b).sum::<f32>() + 7.0;
        x.extend_from_slice(&r);
        y.push(t + 0.05 * g.unit());
    }
    let (wo, bo) = ols_f64(&x, &y, D);
    let best = mse_f64(&x, &y, D, &wo, bo);
    let s = Scaler::<D>::fit(&Dataset::new(&x, &y, D).unwrap()).unwrap();
    let mut z = x.clone();
    s.standardize_in_place(&mut z).unwrap();
    let config = TrainConfig {
        learning_rate: 0.5,
        epochs: 400,
        batch_size: 256,
        ..TrainConfig::default()
    };
    let mut m = LinearModel::<D>::zeros();
    Training::new(&config)
        .fit(&mut m, &Dataset::new(&z, &y, D).unwrap())
        .unwrap();
    m.unstandardize(&s).unwrap();
    let w: Vec<f64> = m.weights().iter().map(|v| f64::from(*v)).collect();
    let got = mse_f64(&x, &y, D, &w, f64::from(m.bias()));
    assert!(got <= best * 1.001, "mse {got} vs OLS {best}");
    for j in 0..D {
        assert!(rel(w[j], wo[j]) < 1e-3, "w{j} {} vs {}", w[j], wo[j]);
    }
    // The same data without standardisation: the stable rate of the 1e3 column leaves the
    // small ones untrained.
    let mut raw = LinearModel::<D>::zeros();
    let slow = TrainConfig {
        learning_rate: 1e-8,
        ..config
    };
    let _ = Training::new(&slow).fit(&mut raw, &Dataset::new(&x, &y, D).unwrap());
    let w: Vec<f64> = raw.weights().iter().map(|v| f64::from(*v)).collect();
    let far = mse_f64(&x, &y, D, &w, f64::from(raw.bias()));
    assert!(far > 10.0 * best, "raw-unit training: {far} vs {best}");
}
