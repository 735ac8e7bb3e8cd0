//! Auto LR: the curvature estimate against an f64 eigenvalue computation, and the rate it gives
//! on the seed's data and on generated problems.

use npoa::control::autolr::{lambda_max, stable_rate, stable_rate_for};
use npoa::train::{Dataset, Stop, TrainConfig, fit};
use npoa::{Error, LinearModel};

/// λ_max of E[x̃ x̃ᵀ] in f64: the matrix written out, then 20 000 power iterations.
fn exact_lambda_max(x: &[f32], d: usize) -> f64 {
    let n = x.len() / d;
    let k = d + 1;
    let mut m = vec![0.0f64; k * k];
    for row in x.chunks_exact(d) {
        let xt: Vec<f64> = row.iter().map(|&v| f64::from(v)).chain([1.0]).collect();
        for i in 0..k {
            for j in 0..k {
                m[i * k + j] += xt[i] * xt[j] / n as f64;
            }
        }
    }
    let mut v = vec![1.0f64; k];
    let mut lambda = 0.0;
    for _ in 0..20_000 {
        let w: Vec<f64> = (0..k)
            .map(|i| (0..k).map(|j| m[i * k + j] * v[j]).sum())
            .collect();
        lambda = w.iter().map(|e| e * e).sum::<f64>().sqrt();
        v = w.iter().map(|e| e / lambda).collect();
    }
    lambda
}

/// Deterministic features: a mix of scales and an offset, so that the problem is not isotropic.
fn features(d: usize, n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n * d)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            u * (1.0 + (i % d) as f32) + 0.3
        })
        .collect()
}

#[test]
fn lambda_max_matches_f64() {
    for (d, n, seed) in [
        (1usize, 50usize, 1u64),
        (3, 200, 2),
        (8, 300, 3),
        (17, 400, 4),
    ] {
        let x = features(d, n, seed);
        let y = vec![0.5f32; n];
        let data = Dataset::new(&x, &y, d).unwrap();
        let (mut v, mut g, mut g0) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        let est = lambda_max(&data, &mut v, &mut g, &mut g0).unwrap();
        let exact = exact_lambda_max(&x, d);
        // From below (power iteration), and close: within 2 %.
        assert!(
            est <= exact * (1.0 + 1e-4) && est >= 0.98 * exact,
            "d={d}: {est} vs {exact}"
        );
    }
}

#[test]
fn seed_data_auto_lr_reaches_1e_8() {
    let (x, y) = ([1.0f32, 2.0, 3.0, 4.0], [2.0f32, 4.0, 6.0, 8.0]);
    let data = Dataset::new(&x, &y, 1).unwrap();
    let lr = stable_rate_for::<1>(&data).unwrap();
    // λ_max(E[x̃x̃ᵀ]) = (8.5 + √67.25)/2 = 8.35029…
    let l = (8.5 + 67.25f64.sqrt()) / 2.0;
    assert!((f64::from(lr) - 0.9 / l).abs() < 1e-5, "{lr}");
    let mut m = LinearModel::<1>::zeros();
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs: 1000,
        batch_size: 4,
        shuffle: false,
        seed: 0,
        ..TrainConfig::default()
    };
    let s = fit(&mut m, &data, &cfg).unwrap();
    assert_eq!(s.stop, Stop::MaxEpochs);
    let loss = m.loss(&x, &y).unwrap();
    assert!(loss < 1e-8, "loss {loss:e} with lr {lr}");
    // The fixed 0.01 of the seed stops at 1.5e-4 on the same budget.
}

#[test]
fn auto_lr_trains_without_diverging() {
    for (d, n, seed) in [(3usize, 200usize, 7u64), (8, 300, 8)] {
        let x = features(d, n, seed);
        let y: Vec<f32> = x
            .chunks_exact(d)
            .map(|r| r.iter().sum::<f32>() * 0.5 - 1.0)
            .collect();
        let data = Dataset::new(&x, &y, d).unwrap();
        let (mut v, mut g, mut g0) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        let lr = stable_rate(&data, 0.9, &mut v, &mut g, &mut g0).unwrap();
        let cfg = TrainConfig {
            learning_rate: lr,
            epochs: 300,
            batch_size: n,
            shuffle: false,
            seed: 0,
            ..TrainConfig::default()
        };
        let mut losses = vec![];
        fn run<const D: usize>(
            data: &Dataset<'_>,
            cfg: &TrainConfig,
            losses: &mut Vec<f32>,
        ) -> npoa::train::Summary {
            let mut model = LinearModel::<D>::zeros();
            npoa::train::Training::new(cfg)
                .observer(&mut npoa::train::observe(|r| losses.push(r.train_loss)))
                .fit(&mut model, data)
                .unwrap()
        }
        let s = match d {
            3 => run::<3>(&data, &cfg, &mut losses),
            _ => run::<8>(&data, &cfg, &mut losses),
        };
        assert_eq!(s.stop, Stop::MaxEpochs);
        // Full-batch gradient descent below the stability limit never increases the loss
        // (down to the f32 rounding floor, ~1e-13 here), and it gets there.
        for p in losses.windows(2) {
            assert!(
                p[1] <= p[0] * (1.0 + 1e-5) + 1e-10,
                "d={d}: {} -> {}",
                p[0],
                p[1]
            );
        }
        let last = losses.last().copied().unwrap_or(f32::NAN);
        assert!(last < 1e-6 * losses[0], "d={d}: {} -> {last}", losses[0]);
    }
}

#[test]
fn bad_arguments() {
    let (x, y) = ([1.0f32, 2.0], [1.0f32, 2.0]);
    let data = Dataset::new(&x, &y, 1).unwrap();
    let (mut v, mut g, mut g0) = ([0.0f32; 1], [0.0f32; 1], [0.0f32; 1]);
    for s in [0.0f32, 1.5, f32::NAN] {
        assert!(matches!(
            stable_rate(&data, s, &mut v, &mut g, &mut g0),
            Err(Error::InvalidParameter { name: "safety", .. })
        ));
    }
    let mut short: [f32; 0] = [];
    assert!(matches!(
        lambda_max(&data, &mut short, &mut g, &mut g0),
        Err(Error::LengthMismatch { what: "v", .. })
    ));
    // All-zero features: only the bias is curved (λ_max = 1).
    let z = [0.0f32; 3];
    let data = Dataset::new(&z, &z, 1).unwrap();
    let l = lambda_max(&data, &mut v, &mut g, &mut g0).unwrap();
    assert!((l - 1.0).abs() < 1e-6, "{l}");
}
