//! Known answers with subnormal values, where a float compare that flushes subnormals to zero
//! (ARMv7 NEON, which LLVM may use for `wide`'s portable compares under `+neon`) would give
//! another answer than IEEE: the signs of the absolute loss, Huber's region with a subnormal
//! δ, a bound at 0, FTRL's threshold at λ1 = 0, on the tiny (`d < 8`) and wide kernel shapes.
//! Each case asserts the exact value and that the SIMD path gives the scalar path's bits. CI
//! runs this file under `qemu-arm` with `+neon` (see `.ci/run`).

use npoa::kernel::{SCALAR, SIMD};
use npoa::loss::Loss;
use npoa::optim::{Regularization, Rule, StepScalars, scalar, simd};

/// The smallest normal `f32` is 1.18e-38: these are subnormal.
const S1: f32 = 1e-40;
const S3: f32 = 3e-39;

fn assert_subnormal(v: f32) {
    assert!(v != 0.0 && !v.is_normal(), "{v:e} is not subnormal");
}

/// `n` rows of `d` zeros and targets from `y`.
fn rows(d: usize, y: &[f32]) -> Vec<f32> {
    vec![0.0; d * y.len()]
}

#[test]
fn absolute_loss_signs_of_subnormal_residuals() {
    assert_subnormal(S1);
    // Residuals r = 0 − y: −1e-40 on 12 rows, +1e-40 on 4: ∂L/∂b = mean(sign r) = −0.5.
    let y: Vec<f32> = (0..16).map(|i| if i % 4 == 3 { -S1 } else { S1 }).collect();
    for d in [1usize, 4, 7, 8, 9, 16] {
        let x = rows(d, &y);
        let w = vec![0.0f32; d];
        let (mut gs, mut gv) = (vec![0.0f32; d], vec![0.0f32; d]);
        let s = Loss::Absolute
            .fused(&SCALAR, &x, &y, &w, 0.0, &mut gs)
            .unwrap();
        let v = Loss::Absolute
            .fused(&SIMD, &x, &y, &w, 0.0, &mut gv)
            .unwrap();
        assert_eq!(s.grad_b, -0.5, "scalar, d = {d}");
        assert_eq!(v.grad_b.to_bits(), s.grad_b.to_bits(), "SIMD, d = {d}");
        assert_eq!(v.loss.to_bits(), s.loss.to_bits(), "SIMD loss, d = {d}");
    }
}

#[test]
fn huber_with_a_subnormal_delta() {
    let delta = S1;
    // |r| = 3e-39 > δ = 1e-40: the linear region, ∂ℓ/∂z = δ·sign(r).
    let y: Vec<f32> = (0..16).map(|i| if i % 2 == 0 { S3 } else { -S3 }).collect();
    for d in [1usize, 4, 8, 16] {
        let x = rows(d, &y);
        let w = vec![0.0f32; d];
        let (mut gs, mut gv) = (vec![0.0f32; d], vec![0.0f32; d]);
        let h = Loss::Huber { delta };
        let s = h.fused(&SCALAR, &x, &y, &w, 0.0, &mut gs).unwrap();
        let v = h.fused(&SIMD, &x, &y, &w, 0.0, &mut gv).unwrap();
        // Half the rows at +δ, half at −δ: the mean gradient is 0, but the loss is linear:
        // δ·(|r| − δ/2) per row, which rounds to 0 in f32 (its size is 1e-79); what a flushed
        // compare changes is the gradient on an unbalanced set, below.
        assert_eq!(v.grad_b.to_bits(), s.grad_b.to_bits(), "SIMD, d = {d}");
        let yu: Vec<f32> = (0..16).map(|i| if i < 12 { S3 } else { -S3 }).collect();
        let xu = rows(d, &yu);
        let s = h.fused(&SCALAR, &xu, &yu, &w, 0.0, &mut gs).unwrap();
        let v = h.fused(&SIMD, &xu, &yu, &w, 0.0, &mut gv).unwrap();
        // r = −y: 12 rows at −3e-39 → −δ each, 4 at +3e-39 → +δ: mean = −δ/2 (exact: 5e-41
        // is a subnormal multiple of the smallest step, and the sum is exact in f32).
        assert_eq!(s.grad_b, -0.5 * delta, "scalar, d = {d}");
        assert_eq!(
            v.grad_b.to_bits(),
            s.grad_b.to_bits(),
            "SIMD unbalanced, d = {d}"
        );
    }
}

/// Applies one step on both paths and returns the SIMD weights after checking that they equal
/// the scalar ones bit for bit.
fn step_both(rule: Rule, reg: Option<&Regularization>, w: &[f32], g: &[f32]) -> Vec<f32> {
    let s = StepScalars::new(rule, reg, 1.0, 1);
    let n = w.len();
    let (mut ws, mut wv) = (w.to_vec(), w.to_vec());
    let (mut a1, mut b1, mut a2, mut b2) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    assert!(scalar::update(&s, &mut ws, g, &mut a1, &mut b1).unwrap());
    assert!(simd::update(&s, &mut wv, g, &mut a2, &mut b2).unwrap());
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&wv), bits(&ws), "{rule:?}: SIMD vs scalar");
    wv
}

#[test]
fn a_bound_at_zero_catches_a_subnormal_step() {
    // SGD at rate 1 from w = 0 with g = 3e-39: u = −3e-39 < 0, clamped to the bound 0.
    let reg = Regularization {
        bounds: Some((0.0, 1.0)),
        ..Regularization::NONE
    };
    for n in [1usize, 7, 8, 9, 16] {
        let w = vec![0.0f32; n];
        let g = vec![S3; n];
        let out = step_both(Rule::Sgd, Some(&reg), &w, &g);
        assert!(out.iter().all(|v| v.to_bits() == 0), "{out:?}");
    }
}

#[test]
fn soft_threshold_at_a_subnormal_penalty() {
    // L1 with λ1 = 1e-40 at rate 1: u = −3e-39, |u| − 1e-40 > 0, so w = u + 1e-40 = −2.9e-39
    // (exact: both are multiples of the smallest subnormal).
    for n in [1usize, 8, 9] {
        let w = vec![0.0f32; n];
        let g = vec![S3; n];
        let out = step_both(Rule::Sgd, Some(&Regularization::l1(S1)), &w, &g);
        assert!(out.iter().all(|v| *v == -S3 + S1), "{out:?}");
    }
}

#[test]
fn ftrl_at_zero_l1_keeps_a_subnormal_weight() {
    // FTRL (β = 1, λ1 = λ2 = 0), one step at rate 1 from 0 with g = 1e-40: z = g, n = g² = 0
    // (underflow), |z| > λ1 = 0, so w = −z/(β/η) = −1e-40.
    let rule = Rule::Ftrl {
        beta: 1.0,
        l1: 0.0,
        l2: 0.0,
    };
    for n in [1usize, 8, 9] {
        let w = vec![0.0f32; n];
        let g = vec![S1; n];
        let out = step_both(rule, None, &w, &g);
        assert!(out.iter().all(|v| *v == -S1), "{out:?}");
    }
}
