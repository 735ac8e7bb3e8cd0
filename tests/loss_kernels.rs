//! The fused kernels of the other losses (every one of `Loss::ALL` but the squared error:
//! Huber, absolute, logistic, quantile, Poisson; and softmax cross-entropy):
//! both paths against an `f64` oracle within the bound stated in `src/kernel/mod.rs`
//! ("Other losses"), finite differences of the whole objective, extreme logits, errors, and
//! known-answer bits that pin the SIMD results across builds (`.ci/run` also runs this file with
//! `-C target-cpu=native`).

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

mod common;
#[path = "common/losses.rs"]
mod losses;

use common::{Case, SplitMix64, U, fnv1a, gamma};
use losses::{
    SoftCase, check_emulated_glm, check_emulated_softmax, check_glm, check_softmax, exact,
};
use npoa::Error;
use npoa::kernel::{SCALAR, SIMD};
use npoa::loss::Loss;
use proptest::prelude::*;

/// The losses of the point-wise kernels: first a fixed list (the known-answer names `loss0`,
/// `loss1`, … index it, so its order never changes: append only), then every other loss of
/// `Loss::ALL` but the squared error (which has its own kernels), so that a new loss is covered
/// here without editing this file (the known-answer table then asks to be regenerated).
fn losses() -> Vec<Loss> {
    let mut v = vec![
        Loss::Huber { delta: 1.0 },
        Loss::Huber { delta: 0.25 },
        Loss::Absolute,
        Loss::Logistic,
        // τ < ½: 1 − τ is rounded in f32.
        Loss::Quantile { tau: 0.1 },
    ];
    for l in Loss::ALL {
        if l != Loss::Squared && !v.contains(&l) {
            v.push(l);
        }
    }
    v
}

const DS: [usize; 17] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100];
const NS: [usize; 12] = [1, 2, 7, 8, 9, 15, 16, 17, 64, 255, 257, 600];

/// A case whose targets suit the loss: logistic targets in {0, 1} (or a probability), Poisson
/// targets counts (and non-integers) ≥ 0 with the weights scaled by `1/d` so that `e^z` stays
/// far from overflow, the others as in `Case::random`.
fn case_for(loss: Loss, d: usize, n: usize, seed: u64) -> Case {
    let mut c = Case::random(d, n, seed, seed.is_multiple_of(3));
    if loss == Loss::Poisson {
        common::poisson_case(&mut c, seed);
    }
    if loss == Loss::Logistic {
        let mut g = SplitMix64::new(seed ^ 0x5eed);
        for y in &mut c.y {
            *y = match g.below(4) {
                0 => 0.0,
                1 => 1.0,
                2 => 0.25,
                _ => g.unit().abs(),
            };
        }
    }
    c
}

#[test]
fn both_paths_within_the_bound_at_edge_sizes() {
    for k in [SCALAR, SIMD] {
        for loss in losses() {
            for &d in &DS {
                for &n in &NS {
                    let c = case_for(loss, d, n, (d * 1000 + n) as u64);
                    if let Err(e) = check_glm(loss, &c, &k) {
                        panic!("{} {loss:?} d={d} n={n}: {e}", k.name);
                    }
                }
            }
        }
    }
}

#[test]
fn squared_error_is_the_mse_kernel() {
    let c = Case::random(9, 33, 7, false);
    for k in [SCALAR, SIMD] {
        let (mut g1, mut g2) = (vec![0.0; 9], vec![0.0; 9]);
        let a = Loss::Squared
            .fused(&k, &c.x, &c.y, &c.w, c.b, &mut g1)
            .unwrap();
        let b = (k.fused)(&c.x, &c.y, &c.w, c.b, &mut g2).unwrap();
        assert_eq!(a, b);
        assert_eq!(g1, g2);
    }
}

// ---------------------------------------------------------------------------------------------
// Softmax
// ---------------------------------------------------------------------------------------------

fn soft_case(d: usize, k: usize, n: usize, seed: u64, scale: f32) -> SoftCase {
    let mut g = SplitMix64::new(seed);
    SoftCase {
        x: (0..n * d).map(|_| g.sym(4.0)).collect(),
        y: (0..n).map(|_| g.below(k as u64) as f32).collect(),
        w: (0..k * d).map(|_| g.sym(scale)).collect(),
        b: (0..k).map(|_| g.unit()).collect(),
        d,
    }
}

#[test]
fn softmax_within_the_bound_at_edge_sizes() {
    for kern in [SCALAR, SIMD] {
        for k in [1usize, 2, 3, 7, 10] {
            for &d in &[1usize, 3, 7, 8, 9, 17, 32, 33] {
                for &n in &[1usize, 7, 8, 9, 17, 257, 600] {
                    let c = soft_case(d, k, n, (k * 100_000 + d * 1000 + n) as u64, 1.0);
                    if let Err(e) = check_softmax(&c, &kern) {
                        panic!("{} k={k} d={d} n={n}: {e}", kern.name);
                    }
                }
            }
        }
    }
}

#[test]
fn softmax_many_classes_uses_shorter_blocks() {
    // 300 > MAX_CLASSES is refused; 256 classes give blocks of 8 samples.
    assert_eq!(npoa::kernel::softmax_block_len(16, 256), 8);
    assert_eq!(npoa::kernel::softmax_block_len(16, 3), 256);
    assert_eq!(npoa::kernel::softmax_block_len(1000, 20), 32);
    let c = soft_case(9, 256, 40, 3, 1.0);
    for kern in [SCALAR, SIMD] {
        check_softmax(&c, &kern).unwrap();
    }
    let c = soft_case(2, 300, 4, 3, 1.0);
    let (mut gw, mut gb) = (vec![0.0; 600], vec![0.0; 300]);
    assert!(matches!(
        npoa::kernel::softmax_fused(&c.x, &c.y, &c.w, &c.b, &mut gw, &mut gb),
        Err(Error::InvalidParameter {
            name: "classes",
            ..
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_glm_both_paths(li in 0..losses().len(), d in 1usize..40, n in 1usize..300, seed: u64) {
        let loss = losses()[li];
        let c = case_for(loss, d, n, seed);
        for k in [SCALAR, SIMD] {
            let r = check_glm(loss, &c, &k);
            prop_assert!(r.is_ok(), "{} {:?}: {:?}", k.name, loss, r);
        }
    }

    #[test]
    fn prop_softmax_both_paths(k in 1usize..12, d in 1usize..40, n in 1usize..300, seed: u64) {
        let c = soft_case(d, k, n, seed, 2.0);
        for kern in [SCALAR, SIMD] {
            let r = check_softmax(&c, &kern);
            prop_assert!(r.is_ok(), "{}: {:?}", kern.name, r);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finite differences of the whole objective (f64)
// ---------------------------------------------------------------------------------------------

/// Mean loss in f64 at weights `w`, bias `b` (the oracle's arithmetic).
fn objective(loss: Loss, x: &[f32], y: &[f32], w: &[f64], b: f64) -> f64 {
    let d = w.len();
    let mut s = 0.0;
    for (row, &yi) in x.chunks_exact(d).zip(y) {
        let z: f64 = row
            .iter()
            .zip(w)
            .map(|(a, b)| f64::from(*a) * b)
            .sum::<f64>()
            + b;
        s += exact(loss, z, f64::from(yi)).0;
    }
    s / y.len() as f64
}

#[test]
fn kernel_gradients_match_central_differences() {
    // Huber's, the absolute and quantile losses' kinks: keep every residual away from them by
    // construction (targets far from predictions), so that the loss is smooth within ±h.
    for loss in losses() {
        for d in [1usize, 5, 8, 13] {
            let c = case_for(loss, d, 50, 42 + d as u64);
            let w64: Vec<f64> = c.w.iter().map(|&v| f64::from(v)).collect();
            let b64 = f64::from(c.b);
            for k in [SCALAR, SIMD] {
                let mut gw = vec![0.0f32; d];
                let lg = loss.fused(&k, &c.x, &c.y, &c.w, c.b, &mut gw).unwrap();
                let h = 1e-6;
                for j in 0..d {
                    let mut wp = w64.clone();
                    let mut wm = w64.clone();
                    wp[j] += h;
                    wm[j] -= h;
                    let fd = (objective(loss, &c.x, &c.y, &wp, b64)
                        - objective(loss, &c.x, &c.y, &wm, b64))
                        / (2.0 * h);
                    // A kink crossed within ±h changes the difference quotient by at most
                    // 2·|x_ij|/n per crossing sample for these losses; none is expected here.
                    assert!(
                        (f64::from(gw[j]) - fd).abs() <= 1e-4 * (1.0 + fd.abs()),
                        "{} {loss:?} d={d} j={j}: kernel {} fd {fd}",
                        k.name,
                        gw[j]
                    );
                }
                let fd = (objective(loss, &c.x, &c.y, &w64, b64 + 1e-6)
                    - objective(loss, &c.x, &c.y, &w64, b64 - 1e-6))
                    / 2e-6;
                assert!((f64::from(lg.grad_b) - fd).abs() <= 1e-4 * (1.0 + fd.abs()));
            }
        }
    }
}

#[test]
fn softmax_kernel_gradient_matches_central_differences() {
    let c = soft_case(6, 4, 40, 9, 1.0);
    let (d, k) = (6, 4);
    let f = |w: &[f64], b: &[f64]| -> f64 {
        let mut s = 0.0;
        for (row, &yi) in c.x.chunks_exact(d).zip(&c.y) {
            let z: Vec<f64> = (0..k)
                .map(|cl| {
                    (0..d)
                        .map(|j| f64::from(row[j]) * w[cl * d + j])
                        .sum::<f64>()
                        + b[cl]
                })
                .collect();
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            s += lse - z[yi as usize];
        }
        s / c.y.len() as f64
    };
    let w64: Vec<f64> = c.w.iter().map(|&v| f64::from(v)).collect();
    let b64: Vec<f64> = c.b.iter().map(|&v| f64::from(v)).collect();
    for kern in [SCALAR, SIMD] {
        let (mut gw, mut gb) = (vec![0.0f32; k * d], vec![0.0f32; k]);
        (kern.softmax_fused)(&c.x, &c.y, &c.w, &c.b, &mut gw, &mut gb).unwrap();
        let h = 1e-6;
        for p in 0..k * d {
            let (mut wp, mut wm) = (w64.clone(), w64.clone());
            wp[p] += h;
            wm[p] -= h;
            let fd = (f(&wp, &b64) - f(&wm, &b64)) / (2.0 * h);
            assert!((f64::from(gw[p]) - fd).abs() <= 1e-4 * (1.0 + fd.abs()));
        }
        for cl in 0..k {
            let (mut bp, mut bm) = (b64.clone(), b64.clone());
            bp[cl] += h;
            bm[cl] -= h;
            let fd = (f(&w64, &bp) - f(&w64, &bm)) / (2.0 * h);
            assert!((f64::from(gb[cl]) - fd).abs() <= 1e-4 * (1.0 + fd.abs()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Extreme logits, K = 2 against logistic, errors
// ---------------------------------------------------------------------------------------------

#[test]
fn extreme_logits_give_finite_loss_and_gradient() {
    // d = 1, x = 1, w = 0: the logit is the bias.
    for k in [SCALAR, SIMD] {
        for z in [1e30f32, -1e30, 88.0, -88.0, 89.0, -104.0, 0.0, -0.0, 1e-30] {
            for y in [0.0f32, 1.0, 0.5] {
                let mut g = [0.0f32];
                let lg = Loss::Logistic
                    .fused(&k, &[1.0], &[y], &[0.0], z, &mut g)
                    .unwrap();
                let (l, d) = exact(Loss::Logistic, f64::from(z), f64::from(y));
                assert!(
                    lg.loss.is_finite() && lg.grad_b.is_finite(),
                    "{} z={z}",
                    k.name
                );
                assert!(
                    (f64::from(lg.loss) - l).abs() <= 4.0 * U * l.abs() + 1e-37,
                    "{} z={z} y={y}: loss {} vs {l}",
                    k.name,
                    lg.loss
                );
                assert!((f64::from(lg.grad_b) - d).abs() <= 8.0 * U + 1e-37);
                assert_eq!(g[0], lg.grad_b);
            }
        }
        // Softmax: logits ±1e30 and ±88 in one sample.
        for (z0, z1) in [
            (1e30f32, -1e30f32),
            (-1e30, 1e30),
            (88.0, -88.0),
            (0.0, 0.0),
        ] {
            for label in [0.0f32, 1.0] {
                let (mut gw, mut gb) = ([0.0f32; 2], [0.0f32; 2]);
                let l =
                    (k.softmax_fused)(&[1.0], &[label], &[0.0, 0.0], &[z0, z1], &mut gw, &mut gb)
                        .unwrap();
                assert!(l.is_finite() && gb.iter().all(|g| g.is_finite()));
                let m = f64::from(z0.max(z1));
                let lse = m + ((f64::from(z0) - m).exp() + (f64::from(z1) - m).exp()).ln();
                let exact_l = lse - f64::from(if label == 0.0 { z0 } else { z1 });
                assert!((f64::from(l) - exact_l).abs() <= 4.0 * U * exact_l.abs() + 1e-6);
            }
        }
    }
}

#[test]
fn poisson_overflow_is_an_error_never_a_panic() {
    // d = 1, x = 1, w = 0: z is the bias. e^z overflows f32 above 88.72: Err(Overflow) on both
    // paths; just below, and for very negative z, finite and accurate.
    for k in [SCALAR, SIMD] {
        for z in [89.0f32, 100.0, 1e30, f32::MAX] {
            for y in [0.0f32, 3.0] {
                let mut g = [0.0f32];
                let r = Loss::Poisson.fused(&k, &[1.0], &[y], &[0.0], z, &mut g);
                assert!(
                    matches!(r, Err(Error::Overflow { .. })),
                    "{} z={z}: {r:?}",
                    k.name
                );
                let r = Loss::Poisson.mean(&k, &[1.0], &[y], &[0.0], z);
                assert!(
                    matches!(r, Err(Error::Overflow { .. })),
                    "{} z={z}: {r:?}",
                    k.name
                );
            }
        }
        // −y·z overflows for a huge negative z and y > 0.
        let r = Loss::Poisson.fused(&k, &[1.0], &[3.0], &[0.0], -f32::MAX, &mut [0.0]);
        assert!(
            matches!(r, Err(Error::Overflow { .. })),
            "{}: {r:?}",
            k.name
        );
        for z in [88.0f32, 20.0, 0.0, -0.0, -50.0, -104.0, -1e30] {
            for y in [0.0f32, 1.0, 7.0, 0.5] {
                if y * z.abs() > 1e38 {
                    continue;
                }
                let mut g = [0.0f32];
                let lg = Loss::Poisson
                    .fused(&k, &[1.0], &[y], &[0.0], z, &mut g)
                    .unwrap();
                let (l, d) = exact(Loss::Poisson, f64::from(z), f64::from(y));
                let e = f64::from(z).exp();
                let tl = 4.0 * U * (e + (f64::from(y) * f64::from(z)).abs()) + 1e-44;
                assert!(
                    (f64::from(lg.loss) - l).abs() <= tl,
                    "{} z={z} y={y}: {} vs {l}",
                    k.name,
                    lg.loss
                );
                let tg = 4.0 * U * (e + f64::from(y)) + 1e-44;
                assert!(
                    (f64::from(lg.grad_b) - d).abs() <= tg,
                    "{} z={z} y={y}",
                    k.name
                );
            }
        }
    }
}

#[test]
fn quantile_levels_near_the_ends_are_exact_at_the_kink() {
    // z = y exactly (w = 0, b = y): loss 0 and subgradient 0; either side the slopes 1 − τ, −τ.
    for k in [SCALAR, SIMD] {
        for tau in [
            f32::from_bits(1),
            1e-7,
            0.1,
            0.5,
            0.9,
            1.0 - f32::EPSILON / 2.0,
        ] {
            let q = Loss::Quantile { tau };
            let lg = q
                .fused(&k, &[1.0], &[2.5], &[0.0], 2.5, &mut [0.0])
                .unwrap();
            assert_eq!((lg.loss, lg.grad_b), (0.0, 0.0), "{} {tau}", k.name);
            let lg = q
                .fused(&k, &[1.0], &[2.5], &[0.0], 3.5, &mut [0.0])
                .unwrap();
            assert_eq!(lg.grad_b, 1.0 - tau, "{} {tau}", k.name);
            let lg = q
                .fused(&k, &[1.0], &[2.5], &[0.0], 1.5, &mut [0.0])
                .unwrap();
            assert_eq!(lg.grad_b, -tau, "{} {tau}", k.name);
            assert_eq!(lg.loss, tau, "{} {tau}", k.name);
        }
    }
}

#[test]
fn softmax_with_two_classes_matches_logistic() {
    // W = [0; w], b = [0; b]: p(class 1) = σ(w·x + b), the same loss, and class 1's gradient is
    // the logistic gradient.
    for d in [1usize, 3, 8, 11] {
        let mut c = case_for(Loss::Logistic, d, 101, d as u64);
        for y in &mut c.y {
            *y = if *y >= 0.5 { 1.0 } else { 0.0 };
        }
        for k in [SCALAR, SIMD] {
            let mut g = vec![0.0f32; d];
            let lg = Loss::Logistic
                .fused(&k, &c.x, &c.y, &c.w, c.b, &mut g)
                .unwrap();
            let mut w2 = vec![0.0f32; d];
            w2.extend_from_slice(&c.w);
            let (mut gw, mut gb) = (vec![0.0f32; 2 * d], [0.0f32; 2]);
            let l = (k.softmax_fused)(&c.x, &c.y, &w2, &[0.0, c.b], &mut gw, &mut gb).unwrap();
            let tol = |a: f32| 1e-5 * (1.0 + a.abs());
            assert!(
                (l - lg.loss).abs() <= tol(l),
                "{} d={d}: {l} vs {}",
                k.name,
                lg.loss
            );
            assert!((gb[1] - lg.grad_b).abs() <= tol(gb[1]));
            assert!((gb[0] + lg.grad_b).abs() <= tol(gb[0]));
            for j in 0..d {
                assert!(
                    (gw[d + j] - g[j]).abs() <= tol(g[j]),
                    "{} d={d} j={j}",
                    k.name
                );
                assert!((gw[j] + g[j]).abs() <= tol(g[j]));
            }
        }
    }
}

#[test]
fn bad_input_is_an_error_and_leaves_no_model_change() {
    let x = [1.0f32, 2.0, 3.0, 4.0];
    for k in [SCALAR, SIMD] {
        let mut g = [0.0f32; 2];
        let lf = |l: Loss, x: &[f32], y: &[f32], w: &[f32], b: f32, g: &mut [f32]| {
            l.fused(&k, x, y, w, b, g)
        };
        assert_eq!(
            lf(Loss::Logistic, &x, &[0.0, 2.0], &[0.0; 2], 0.0, &mut g),
            Err(Error::InvalidData {
                what: "y",
                reason: "logistic targets must be in [0, 1]"
            })
        );
        assert_eq!(
            lf(Loss::Logistic, &x, &[0.0, f32::NAN], &[0.0; 2], 0.0, &mut g),
            Err(Error::NonFinite {
                what: "y",
                index: 1
            })
        );
        assert!(matches!(
            lf(
                Loss::Huber { delta: -1.0 },
                &x,
                &[0.0, 1.0],
                &[0.0; 2],
                0.0,
                &mut g
            ),
            Err(Error::InvalidParameter { name: "delta", .. })
        ));
        assert_eq!(
            lf(Loss::Absolute, &x, &[], &[0.0; 2], 0.0, &mut g),
            Err(Error::EmptyBatch)
        );
        assert_eq!(
            lf(Loss::Absolute, &x, &[0.0, 1.0], &[], 0.0, &mut []),
            Err(Error::ZeroFeatures)
        );
        assert!(matches!(
            lf(
                Loss::Absolute,
                &x,
                &[0.0, 1.0],
                &[0.0; 2],
                0.0,
                &mut [0.0; 3]
            ),
            Err(Error::LengthMismatch { what: "grad_w", .. })
        ));
        assert_eq!(
            lf(
                Loss::Absolute,
                &[1.0, f32::INFINITY, 0.0, 0.0],
                &[0.0, 1.0],
                &[0.0; 2],
                0.0,
                &mut g
            ),
            Err(Error::NonFinite {
                what: "x",
                index: 1
            })
        );
        assert!(matches!(
            lf(
                Loss::Huber { delta: 1.0 },
                &[3e38, 3e38],
                &[0.0, 0.0],
                &[3e38],
                0.0,
                &mut [0.0]
            ),
            Err(Error::Overflow { .. })
        ));
        // Quantile levels outside (0, 1), Poisson targets below 0 or non-finite.
        for tau in [0.0f32, 1.0, -0.5, 1.5, f32::NAN, f32::INFINITY] {
            assert!(matches!(
                lf(
                    Loss::Quantile { tau },
                    &x,
                    &[0.0, 1.0],
                    &[0.0; 2],
                    0.0,
                    &mut g
                ),
                Err(Error::InvalidParameter { name: "tau", .. })
            ));
        }
        for bad in [-1.0f32, -f32::MIN_POSITIVE, -f32::MAX] {
            assert_eq!(
                lf(Loss::Poisson, &x, &[0.0, bad], &[0.0; 2], 0.0, &mut g),
                Err(Error::InvalidData {
                    what: "y",
                    reason: "Poisson targets must be >= 0 (counts)"
                })
            );
        }
        assert_eq!(
            lf(
                Loss::Poisson,
                &x,
                &[f32::INFINITY, 1.0],
                &[0.0; 2],
                0.0,
                &mut g
            ),
            Err(Error::NonFinite {
                what: "y",
                index: 0
            })
        );
        // Softmax labels and shapes.
        let (mut gw, mut gb) = ([0.0f32; 4], [0.0f32; 2]);
        let sf = k.softmax_fused;
        for bad in [2.0f32, -1.0, 0.5] {
            assert!(matches!(
                sf(&x, &[0.0, bad], &[0.0; 4], &[0.0; 2], &mut gw, &mut gb),
                Err(Error::InvalidData { what: "y", .. })
            ));
        }
        assert!(matches!(
            sf(&x, &[0.0, 1.0], &[0.0; 3], &[0.0; 2], &mut gw, &mut gb),
            Err(Error::LengthMismatch { what: "w", .. })
        ));
        assert!(matches!(
            sf(
                &x,
                &[0.0, 1.0],
                &[0.0; 4],
                &[0.0; 2],
                &mut gw,
                &mut [0.0; 3]
            ),
            Err(Error::LengthMismatch { what: "grad_b", .. })
        ));
        assert_eq!(
            sf(
                &x,
                &[0.0, 1.0],
                &[0.0; 4],
                &[0.0, f32::NAN],
                &mut gw,
                &mut gb
            ),
            Err(Error::NonFinite {
                what: "b",
                index: 1
            })
        );
        assert!(matches!(
            sf(&x, &[0.0, 1.0], &[0.0; 4], &[], &mut gw, &mut gb),
            Err(Error::InvalidParameter {
                name: "classes",
                ..
            })
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Known-answer bits (SIMD path): the same on every build and target
// ---------------------------------------------------------------------------------------------

/// Hash of the SIMD results of every loss over a grid of sizes.
fn simd_digest() -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for (li, loss) in losses().iter().enumerate() {
        for &d in &[1usize, 3, 7, 8, 9, 17, 32, 100] {
            let c = case_for(*loss, d, 300, 77 + d as u64);
            let mut g = vec![0.0f32; d];
            let lg = (*loss)
                .fused(&npoa::kernel::SIMD, &c.x, &c.y, &c.w, c.b, &mut g)
                .unwrap();
            g.push(lg.loss);
            g.push(lg.grad_b);
            out.push((format!("loss{li}/d{d}"), fnv1a(&g)));
        }
    }
    for k in [2usize, 3, 10] {
        for &d in &[1usize, 7, 8, 33] {
            let c = soft_case(d, k, 300, 5 + d as u64, 1.0);
            let (mut gw, mut gb) = (vec![0.0f32; k * d], vec![0.0f32; k]);
            let l = npoa::kernel::softmax_fused(&c.x, &c.y, &c.w, &c.b, &mut gw, &mut gb).unwrap();
            gw.extend_from_slice(&gb);
            gw.push(l);
            out.push((format!("softmax/k{k}/d{d}"), fnv1a(&gw)));
        }
    }
    out
}

/// Regenerate with `cargo test --test loss_kernels -- --ignored --nocapture print_known_answers`.
/// `loss{i}` is `losses()[i]`: 4 quantile τ = 0.1, 5 quantile τ = 0.9, 6 Poisson.
const KNOWN: &[(&str, u64)] = &[
    ("loss0/d1", 0xb865e4e715e0b92a),
    ("loss0/d3", 0x6e5c608b4d45c936),
    ("loss0/d7", 0x98891131f5765608),
    ("loss0/d8", 0xf25d7debdd74a99b),
    ("loss0/d9", 0xa03d9dc660a97099),
    ("loss0/d17", 0x1d282badf2b02c26),
    ("loss0/d32", 0x6818fc638b7c5079),
    ("loss0/d100", 0x776b0c3043eb69db),
    ("loss1/d1", 0xb865e4e715e0b92a),
    ("loss1/d3", 0x2295c3ab81cf6619),
    ("loss1/d7", 0x98891131f5765608),
    ("loss1/d8", 0x4b13b1b41a97310f),
    ("loss1/d9", 0x5d021bf0c23df4bb),
    ("loss1/d17", 0x11beabaf279ff4c9),
    ("loss1/d32", 0xb54f62f2ed2ddd75),
    ("loss1/d100", 0x776b0c3043eb69db),
    ("loss2/d1", 0x44bc4b28a9a8d3af),
    ("loss2/d3", 0xe850acf667a0250f),
    ("loss2/d7", 0x2be9493d86885911),
    ("loss2/d8", 0x070ddf1c080aaa7b),
    ("loss2/d9", 0xf1890c2b6ce79f67),
    ("loss2/d17", 0x08125579b9d3d404),
    ("loss2/d32", 0x5fc9bf49ae477130),
    ("loss2/d100", 0xd6ff94d21720155b),
    ("loss3/d1", 0xda13ac85080d3e0d),
    ("loss3/d3", 0x46aa1edcaa82fb35),
    ("loss3/d7", 0x0796b3278a5f5eb5),
    ("loss3/d8", 0xa4fd7e9b5d03f0ff),
    ("loss3/d9", 0xc4ce8a69abab4b25),
    ("loss3/d17", 0x9557905611b2f3ea),
    ("loss3/d32", 0xaafd9a6e554b74aa),
    ("loss3/d100", 0x89a729b72853cdce),
    ("loss4/d1", 0xd8bf573ed459ed69),
    ("loss4/d3", 0x325811651aa8185d),
    ("loss4/d7", 0xcad3c96958b43261),
    ("loss4/d8", 0x557e868ae27eb9b2),
    ("loss4/d9", 0x1dded41cbff68074),
    ("loss4/d17", 0x6f97ff5527f098b6),
    ("loss4/d32", 0x3296b0f4b7712fa5),
    ("loss4/d100", 0xd528eb5e4a2e773d),
    ("loss5/d1", 0xc54f842df2e47d7a),
    ("loss5/d3", 0xdffdad9aa52b8266),
    ("loss5/d7", 0x40a8f85d6fbf2505),
    ("loss5/d8", 0xc1797e09cd7eb22e),
    ("loss5/d9", 0x96a8cb11cdef0ef5),
    ("loss5/d17", 0x57a04d773b552f48),
    ("loss5/d32", 0xf7095ef455470429),
    ("loss5/d100", 0x82d21e910fd729f1),
    ("loss6/d1", 0x6d84288dec30bb9f),
    ("loss6/d3", 0x7cf66ffd018b793c),
    ("loss6/d7", 0xbfe756e5b73fb4fa),
    ("loss6/d8", 0x0d7c6cfd48140516),
    ("loss6/d9", 0x450b5ca5c02a5c6b),
    ("loss6/d17", 0xf8bc9eb2f97e2808),
    ("loss6/d32", 0x1b92c86404fbcdaf),
    ("loss6/d100", 0xabf8ac63cf42f265),
    ("softmax/k2/d1", 0xbd32e66000fadf2a),
    ("softmax/k2/d7", 0x0ea16b10a7025f7d),
    ("softmax/k2/d8", 0x7676d43ce42c4be5),
    ("softmax/k2/d33", 0xe3314c8ab28a9069),
    ("softmax/k3/d1", 0xde32204528471645),
    ("softmax/k3/d7", 0xf28f57a0ab231d1b),
    ("softmax/k3/d8", 0x37a945683e9942b6),
    ("softmax/k3/d33", 0xd092935f17700ca4),
    ("softmax/k10/d1", 0x01ac669ecf5e14fc),
    ("softmax/k10/d7", 0xcec4f4dabacfdb27),
    ("softmax/k10/d8", 0xe39dfe7521e6a7da),
    ("softmax/k10/d33", 0x865ef9a4730695d5),
];

#[test]
#[ignore = "prints the known-answer table"]
fn print_known_answers() {
    for (name, h) in simd_digest() {
        println!("    (\"{name}\", {h:#018x}),");
    }
}

#[test]
fn simd_results_match_known_answer_bits() {
    let got = simd_digest();
    assert_eq!(got.len(), KNOWN.len(), "regenerate the table");
    for ((name, h), (kn, kh)) in got.iter().zip(KNOWN) {
        assert_eq!(name, kn);
        assert_eq!(h, kh, "{name}: bits changed");
    }
}

#[test]
fn softmax_evaluation_is_accurate_when_logits_are_exact() {
    // d = 1, x = 1, w = 0: each logit is its bias, exactly. What remains is the evaluation:
    // exp (≤ 1 ulp), the sum over K, ln (≤ 1 ulp), one division per class.
    let mut rng = SplitMix64::new(11);
    for kern in [SCALAR, SIMD] {
        for k in [2usize, 3, 5, 10, 40] {
            for _ in 0..200 {
                let b: Vec<f32> = (0..k).map(|_| rng.sym(20.0)).collect();
                let label = rng.below(k as u64) as usize;
                let (mut gw, mut gb) = (vec![0.0f32; k], vec![0.0f32; k]);
                let l = (kern.softmax_fused)(
                    &[1.0],
                    &[label as f32],
                    &vec![0.0; k],
                    &b,
                    &mut gw,
                    &mut gb,
                )
                .unwrap();
                let z: Vec<f64> = b.iter().map(|&v| f64::from(v)).collect();
                let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let s: f64 = z.iter().map(|v| (v - m).exp()).sum();
                let exact_l = m + s.ln() - z[label];
                let tol_l = gamma(k + 4) * (1.0 + m.abs() + exact_l.abs());
                assert!(
                    (f64::from(l) - exact_l).abs() <= tol_l,
                    "{} k={k}: loss {l} vs {exact_l}",
                    kern.name
                );
                for c in 0..k {
                    let p = (z[c] - m).exp() / s;
                    let g = p - if c == label { 1.0 } else { 0.0 };
                    let tol = p * (gamma(k + 4) + U * (z[c] - m).abs()) + U * g.abs() + 1e-44;
                    assert!(
                        (f64::from(gb[c]) - g).abs() <= tol,
                        "{} k={k} c={c}: {} vs {g} (tol {tol:e})",
                        kern.name,
                        gb[c]
                    );
                }
            }
        }
    }
}

#[test]
fn simd_follows_the_documented_order_bit_for_bit() {
    for loss in losses() {
        for &d in &DS {
            for &n in &NS {
                let c = case_for(loss, d, n, (d * 7919 + n) as u64);
                if let Err(e) = check_emulated_glm(loss, &c) {
                    panic!("{loss:?} d={d} n={n}: {e}");
                }
            }
        }
    }
    for k in [1usize, 2, 3, 10, 40] {
        for &d in &[1usize, 3, 8, 9, 33] {
            for &n in &[1usize, 7, 9, 17, 300] {
                let c = soft_case(d, k, n, (k * 31 + d * 7 + n) as u64, 2.0);
                if let Err(e) = check_emulated_softmax(&c) {
                    panic!("softmax k={k} d={d} n={n}: {e}");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_simd_follows_the_documented_order(
        li in 0..losses().len(), d in 1usize..40, n in 1usize..600, k in 1usize..12, seed: u64
    ) {
        let loss = losses()[li];
        let r = check_emulated_glm(loss, &case_for(loss, d, n, seed));
        prop_assert!(r.is_ok(), "{:?}: {:?}", loss, r);
        let r = check_emulated_softmax(&soft_case(d, k, n, seed, 3.0));
        prop_assert!(r.is_ok(), "softmax: {:?}", r);
    }
}
