//! Every fused kernel and loss on arbitrary shapes and values.
//!
//! Properties: no panic; a bad shape (or an absurd loss parameter) is an `Err`; with finite
//! inputs of bounded magnitude (`|v| ≤ 4`) every kernel returns finite results, the squared
//! error's SIMD and scalar paths are each within the documented bound of an `f64` oracle
//! (`src/kernel/mod.rs`, "Accuracy against exact arithmetic"), so within twice it of each
//! other, and `loss` agrees bit for bit with the loss of `fused`. Every loss of `Loss::ALL`
//! is drawn (with its parameter from the input); the Poisson loss may overflow (`Err(Overflow)`)
//! only when a prediction exceeds 80.
#![no_main]

mod input;

use input::Input;
use libfuzzer_sys::fuzz_target;
use npoa::Error;
use npoa::kernel::{self, SCALAR, SIMD};
use npoa::loss::Loss;

const U: f64 = 1.0 / 16_777_216.0;

fn gamma(k: usize) -> f64 {
    let ku = k as f64 * U;
    ku / (1.0 - ku)
}

/// The documented bound on the mean squared error of either path.
fn mse_bound(x: &[f32], y: &[f32], w: &[f32], b: f32) -> (f64, f64) {
    let (d, n) = (w.len(), y.len());
    let (mut loss, mut s1, mut s2) = (0.0f64, 0.0f64, 0.0f64);
    for (row, &yi) in x.chunks_exact(d).zip(y) {
        let (mut p, mut a) = (f64::from(b), f64::from(b).abs() + f64::from(yi).abs());
        for (xj, wj) in row.iter().zip(w) {
            let t = f64::from(*xj) * f64::from(*wj);
            p += t;
            a += t.abs();
        }
        let r = p - f64::from(yi);
        let e = gamma(d + 2) * a;
        loss += r * r;
        s1 += e * (2.0 * r.abs() + e);
        s2 += (r.abs() + e) * (r.abs() + e);
    }
    let nf = n as f64;
    let exact = loss / nf;
    (exact, (s1 + gamma(n + 2) * s2) / nf + U * exact + 1e-30)
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let bounded = inp.byte() % 4 != 0;
    let d = inp.range(1, 40);
    let n = inp.range(1, 70);
    // Sometimes a wrong length.
    let bad = inp.byte() % 16 == 0;
    let xlen = if bad { n * d + 1 } else { n * d };
    let val = |i: &mut Input| if bounded { i.small() } else { i.raw_f32() };
    let x: Vec<f32> = (0..xlen).map(|_| val(&mut inp)).collect();
    let y: Vec<f32> = (0..n).map(|_| val(&mut inp)).collect();
    let w: Vec<f32> = (0..d).map(|_| val(&mut inp)).collect();
    let b = val(&mut inp);
    // A loss of the registry (the squared error twice as likely), its parameter from the input:
    // bounded, in (0.01, 4.01], scaled into (0, 1) if the loss refuses it (a quantile level).
    let pick = usize::from(inp.byte()) % (Loss::ALL.len() + 1);
    let loss = Loss::ALL.get(pick).copied().unwrap_or(Loss::Squared);
    let loss = match loss.param_name() {
        None => loss,
        Some(_) if bounded => {
            let p = inp.small().abs() + 0.01;
            match loss.with_param(p).validate() {
                Ok(()) => loss.with_param(p),
                Err(_) => loss.with_param(p / 4.02),
            }
        }
        Some(_) => loss.with_param(inp.raw_f32()),
    };
    let k = inp.range(1, 12);
    let mut g1 = vec![0.0f32; d];
    let mut g2 = vec![0.0f32; d];
    let r1 = (SCALAR.fused)(&x, &y, &w, b, &mut g1);
    let r2 = (SIMD.fused)(&x, &y, &w, b, &mut g2);
    if bad {
        assert!(r1.is_err() && r2.is_err(), "a bad shape must be an Err");
        return;
    }
    if bounded {
        let (a, s) = (r1.expect("scalar fused"), r2.expect("simd fused"));
        let (exact, bound) = mse_bound(&x, &y, &w, b);
        for (name, l) in [("scalar", a.loss), ("simd", s.loss)] {
            let err = (f64::from(l) - exact).abs();
            assert!(
                err <= bound,
                "{name} loss {l} vs exact {exact}: {err:e} > {bound:e}"
            );
        }
        assert!(g1.iter().chain(&g2).all(|v| v.is_finite()));
        assert_eq!(
            kernel::loss(&x, &y, &w, b).map(f32::to_bits),
            Ok(s.loss.to_bits())
        );
    }
    // Every other loss, both paths. Bounded targets the loss refuses are moved into its domain:
    // |y| (Poisson counts), else |y|/4 clamped to [0, 1] (logistic; in every loss's domain).
    let mut targets = y.clone();
    if bounded {
        for map in [|v: f32| v.abs(), |v: f32| (v.abs() / 4.0).min(1.0)] {
            if matches!(loss.check_targets(&targets), Err(Error::InvalidData { .. })) {
                targets = y.iter().map(|v| map(*v)).collect();
            }
        }
    }
    // e^z of the Poisson loss overflows f32 for large predictions: with n ≤ 70 and |x| ≤ 4,
    // every sum stays finite while every z ≤ 80 (4·70·e^80 < f32::MAX).
    let z_max = x
        .chunks_exact(d)
        .map(|r| {
            r.iter()
                .zip(&w)
                .map(|(a, c)| f64::from(*a) * f64::from(*c))
                .sum::<f64>()
        })
        .fold(f64::NEG_INFINITY, f64::max)
        + f64::from(b);
    for path in [SCALAR, SIMD] {
        let r = loss.fused(&path, &x, &targets, &w, b, &mut g1);
        let l = loss.mean(&path, &x, &targets, &w, b);
        if bounded && loss.validate().is_ok() {
            if z_max > 80.0 && matches!(r, Err(Error::Overflow { .. })) {
                // The gradient (a sum of e^z·x) can overflow where the loss alone does not:
                // the mean is then an overflow too, or finite (fuzzer finding, 2026-12-01).
                assert!(
                    matches!(l, Err(Error::Overflow { .. })) || l.is_ok_and(f32::is_finite),
                    "mean: {l:?}"
                );
                continue;
            }
            let r = r.expect("a finite, bounded input trains");
            assert!(r.loss.is_finite() && r.grad_b.is_finite());
            assert!(g1.iter().all(|v| v.is_finite()));
            assert_eq!(l.map(f32::to_bits), Ok(r.loss.to_bits()));
        }
    }
    // Softmax over k classes with labels drawn from the targets.
    let labels: Vec<f32> = y.iter().map(|v| (v.abs() as usize % k) as f32).collect();
    let wk: Vec<f32> = (0..k * d)
        .map(|i| w[i % d] * (1.0 + i as f32 / 64.0))
        .collect();
    let bk: Vec<f32> = (0..k).map(|c| b - c as f32 / 8.0).collect();
    let (mut gw, mut gb) = (vec![0.0f32; k * d], vec![0.0f32; k]);
    for path in [SCALAR, SIMD] {
        let r = (path.softmax_fused)(&x, &labels, &wk, &bk, &mut gw, &mut gb);
        if bounded {
            let l = r.expect("softmax on finite, bounded input");
            assert!(l.is_finite() && gw.iter().chain(&gb).all(|v| v.is_finite()));
        }
    }
    let mut out = vec![0.0f32; n];
    let f = kernel::forward(&x, &w, b, &mut out);
    if bounded {
        assert!(f.is_ok() && out.iter().all(|v| v.is_finite()));
    }
});
