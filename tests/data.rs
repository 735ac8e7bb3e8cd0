//! The std layer: CSV errors with their line, reproducible splits, standardisation folded back
//! into the model, and the default recipe reaching the least-squares answer.
#![cfg(feature = "std")]
#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

mod common;

use common::SplitMix64;
use npoa::DynModel;
use npoa::data::{CsvError, DynDataset, Standardizer, Table};
use npoa::loss::{Loss, Objective};
use npoa::recipe::Recipe;

fn csv_err(text: &str) -> CsvError {
    Table::parse(text, "t.csv").expect_err(text)
}

#[test]
fn csv_errors_name_the_line_and_column() {
    let e = csv_err("");
    assert_eq!(
        (e.line, e.message.as_str()),
        (0, "empty file (no header line)")
    );
    let e = csv_err("a,b\n");
    assert_eq!(e.message, "no data rows");
    let e = csv_err("a,b,y\n1,2,3\n4,5\n");
    assert_eq!((e.line, e.column), (3, 0));
    assert!(e.message.contains("ragged"), "{e}");
    let e = csv_err("a,b,y\n1,2,3\n\n4,x5,6\n");
    assert_eq!((e.line, e.column), (4, 2), "{e}");
    assert_eq!(e.to_string(), "t.csv:4:2: not a number: \"x5\"");
    for bad in ["NaN", "inf", "-inf", "1e39"] {
        let e = csv_err(&format!("a,y\n1,2\n3,{bad}\n"));
        assert_eq!((e.line, e.column), (3, 2), "{bad}: {e}");
        assert!(e.message.contains("not finite"), "{e}");
    }
    let e = csv_err("a,y\n\"1,2\n");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("quote"));
    // Quotes, spaces and CRLF are fine.
    let t = Table::parse("\"a\", b ,y\r\n\"1\", 2 ,3\r\n", "t.csv").unwrap();
    assert_eq!(t.header, ["a", "b", "y"]);
    assert_eq!(t.values, [1.0, 2.0, 3.0]);
    assert_eq!(t.column("b"), Some(1));
    assert_eq!(t.column("2"), Some(2));
    assert_eq!(t.column("z"), None);
    let d = t.dataset(Some(0)).unwrap();
    assert_eq!((d.x(), d.y()), (&[2.0f32, 3.0][..], &[1.0f32][..]));
}

fn generated(n: usize, d: usize, seed: u64, noise: f32) -> (DynDataset, Vec<f64>) {
    let mut g = SplitMix64::new(seed);
    let w: Vec<f64> = (0..d).map(|j| 1.0 + j as f64 * 0.5).collect();
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f32> = (0..d).map(|_| g.sym(1.0)).collect();
        let t: f64 = row
            .iter()
            .zip(&w)
            .map(|(a, b)| f64::from(*a) * b)
            .sum::<f64>()
            + 0.25;
        x.extend_from_slice(&row);
        y.push(t as f32 + g.sym(noise));
    }
    (DynDataset::new(x, y, d).unwrap(), w)
}

#[test]
fn splits_are_reproducible_partitions() {
    let (data, _) = generated(101, 3, 1, 0.1);
    let a = data.split(0.2, 0.1, 7).unwrap();
    let b = data.split(0.2, 0.1, 7).unwrap();
    assert_eq!(a, b);
    let c = data.split(0.2, 0.1, 8).unwrap();
    assert_ne!(a.train, c.train);
    let (v, t) = (a.validation.unwrap(), a.test.unwrap());
    assert_eq!((a.train.len(), v.len(), t.len()), (71, 20, 10));
    // A partition of the rows: every target appears once (targets are distinct here).
    let mut all: Vec<u32> = a
        .train
        .y()
        .iter()
        .chain(v.y())
        .chain(t.y())
        .map(|v| v.to_bits())
        .collect();
    let mut orig: Vec<u32> = data.y().iter().map(|v| v.to_bits()).collect();
    all.sort_unstable();
    orig.sort_unstable();
    assert_eq!(all, orig);
    let none = data.split(0.0, 0.0, 1).unwrap();
    assert!(none.validation.is_none() && none.test.is_none());
    assert_eq!(none.train.len(), 101);
    assert!(data.split(1.0, 0.0, 1).is_err());
    assert!(data.split(0.6, 0.5, 1).is_err());
    assert!(data.split(f32::NAN, 0.0, 1).is_err());
}

#[test]
fn folded_standardisation_predicts_as_the_standardised_model() {
    // Features on very different scales and offsets.
    let mut g = SplitMix64::new(4);
    let (n, d) = (300, 3);
    let scale = [1000.0f32, 0.01, 5.0];
    let offset = [5000.0f32, -3.0, 0.0];
    let x: Vec<f32> = (0..n * d)
        .map(|i| offset[i % d] + scale[i % d] * g.unit())
        .collect();
    let y: Vec<f32> = x
        .chunks(d)
        .map(|r| 0.002 * r[0] + 50.0 * r[1] - 0.3 * r[2] + g.sym(0.01))
        .collect();
    let data = DynDataset::new(x, y, d).unwrap();
    let s = Standardizer::fit(&data);
    let z = s.apply(&data).unwrap();
    let mut std_model = npoa::DynLinearModel::zeros(d).unwrap();
    let cfg = npoa::train::TrainConfig {
        learning_rate: 0.1,
        epochs: 50,
        ..Default::default()
    };
    npoa::train::fit(&mut std_model, &z.view(), &cfg).unwrap();
    let mut raw_model = std_model.clone();
    raw_model.unstandardize(&s).unwrap();
    let (mut p_std, mut p_raw) = (vec![0.0f32; n], vec![0.0f32; n]);
    std_model.predict_batch(z.x(), &mut p_std).unwrap();
    raw_model.predict_batch(data.x(), &mut p_raw).unwrap();
    // Tolerance: the raw-space dot product cancels terms of size |w_j x_j| ≈ 10 (x_0 ≈ 5000
    // against the folded bias), so f32 rounding gives a few 1e-6 of that.
    for (i, (a, b)) in p_std.iter().zip(&p_raw).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * (1.0 + a.abs()),
            "row {i}: {a} vs {b}"
        );
    }
}

/// The least-squares fit (with intercept) of a dataset in f64, and its MSE.
fn ols(data: &DynDataset) -> (Vec<f64>, f64) {
    let d = data.features();
    let p = d + 1;
    let mut a = vec![vec![0.0f64; p]; p];
    let mut r = vec![0.0f64; p];
    for (row, &y) in data.x().chunks(d).zip(data.y()) {
        let mut xr: Vec<f64> = row.iter().map(|v| f64::from(*v)).collect();
        xr.push(1.0);
        for i in 0..p {
            r[i] += xr[i] * f64::from(y);
            for j in 0..p {
                a[i][j] += xr[i] * xr[j];
            }
        }
    }
    // Gaussian elimination with partial pivoting.
    for c in 0..p {
        let piv = (c..p)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, piv);
        r.swap(c, piv);
        for i in c + 1..p {
            let f = a[i][c] / a[c][c];
            for k in c..p {
                a[i][k] -= f * a[c][k];
            }
            r[i] -= f * r[c];
        }
    }
    let mut sol = vec![0.0f64; p];
    for c in (0..p).rev() {
        let s: f64 = (c + 1..p).map(|k| a[c][k] * sol[k]).sum();
        sol[c] = (r[c] - s) / a[c][c];
    }
    let mse = data
        .x()
        .chunks(d)
        .zip(data.y())
        .map(|(row, &y)| {
            let pr: f64 = row
                .iter()
                .zip(&sol)
                .map(|(a, b)| f64::from(*a) * b)
                .sum::<f64>()
                + sol[d];
            (pr - f64::from(y)).powi(2)
        })
        .sum::<f64>()
        / data.len() as f64;
    (sol, mse)
}

#[test]
fn the_default_recipe_reaches_least_squares() {
    // A seeded CSV, read back as a newcomer would, default split and recipe (what `train
    // DATA.csv` does with no options).
    let (data, _) = generated(1000, 5, 9, 0.2);
    let mut csv = String::from("a,b,c,d,e,y\n");
    for (row, y) in data.x().chunks(5).zip(data.y()) {
        let cells: Vec<String> = row.iter().chain([y]).map(|v| format!("{v:?}")).collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    let table = Table::parse(&csv, "gen.csv").unwrap();
    let all = table.dataset(None).unwrap();
    assert!(
        all.x() == data.x() && all.y() == data.y(),
        "the CSV round trip is exact"
    );
    assert_eq!(all.names(), ["a", "b", "c", "d", "e"]);
    // `train`'s default `--val-fraction` is 0: every row trains, the controller watches the
    // training loss (a validation split selects the model that is best on it instead, which
    // is not the least-squares fit of the training rows: 1 % above it on this data).
    let split = all.split(0.0, 0.0, 0).unwrap();
    assert!(split.validation.is_none());
    let (model, _) = Recipe::default().fit(&split.train, None, &mut ()).unwrap();
    let DynModel::Linear(m) = model else {
        panic!("a linear model")
    };
    let (w_ols, ols_mse) = ols(&split.train);
    let train_mse = f64::from(m.loss(split.train.x(), split.train.y()).unwrap());
    for (j, w) in m.weights().iter().enumerate() {
        assert!(
            (f64::from(*w) - w_ols[j]).abs() < 5e-3,
            "w[{j}] {w} vs {}",
            w_ols[j]
        );
    }
    let ratio = train_mse / ols_mse;
    println!("train MSE {train_mse:.6e}, OLS {ols_mse:.6e}, ratio {ratio:.5}");
    assert!((1.0..=1.005).contains(&ratio), "ratio {ratio}");
}

#[test]
fn the_recipe_trains_every_objective() {
    let (data, _) = generated(300, 2, 5, 0.05);
    // Logistic labels from the sign of the first feature; softmax with three classes.
    let yl: Vec<f32> = data.x().chunks(2).map(|r| f32::from(r[0] > 0.0)).collect();
    let ys: Vec<f32> = data
        .x()
        .chunks(2)
        .map(|r| ((r[0] + 1.0) * 1.5).floor().min(2.0))
        .collect();
    for (objective, y, classes) in [
        (Objective::Single(Loss::Logistic), yl, 2),
        (Objective::Softmax, ys, 3),
        (
            Objective::Single(Loss::Huber { delta: 0.5 }),
            data.y().to_vec(),
            1,
        ),
    ] {
        let d = DynDataset::new(data.x().to_vec(), y, 2).unwrap();
        let r = Recipe {
            objective,
            classes,
            standardize: true,
            ..Recipe::default()
        };
        let mut h = npoa::History::default();
        let (model, summary) = r.fit(&d, None, &mut h).unwrap();
        assert!(summary.best_metric.is_finite(), "{objective:?}");
        assert_eq!(h.epochs.len() as u32, summary.epochs);
        let bytes = model.to_bytes();
        assert_eq!(DynModel::from_bytes(&bytes).unwrap(), model);
    }
}
