//! The kernels against the documented contract:
//!
//! * the SIMD path equals the canonical-order emulator (`common::emu`) **bit for bit**, and its
//!   `loss`/`gradient` give the same bits as `fused`;
//! * both paths are within the documented error bounds of the `f64` oracle;
//! * every error case returns the documented variant (and index);
//! * edge values: signed zeros, subnormals, huge finite values, overflow.

mod common;

use common::{Case, SplitMix64, emu, same_bits, same_bits_slice};
use npoa::Error;
use npoa::kernel::{Kernels, SCALAR, SIMD, block_len};
use proptest::prelude::*;

const PATHS: [Kernels; 2] = [SCALAR, SIMD];

/// Runs all four kernels of `k` on a case with finite results.
struct Run {
    loss: f32,
    grad_b: f32,
    grad_w: Vec<f32>,
    pred: Vec<f32>,
}

fn run(k: &Kernels, x: &[f32], y: &[f32], w: &[f32], b: f32) -> Result<Run, String> {
    let (d, n) = (w.len(), y.len());
    let name = k.name;
    // Garbage in the outputs: the kernels must overwrite it.
    let mut gw = vec![f32::NAN; d];
    let lg = (k.fused)(x, y, w, b, &mut gw).map_err(|e| format!("{name} fused: {e:?}"))?;
    let loss = (k.loss)(x, y, w, b).map_err(|e| format!("{name} loss: {e:?}"))?;
    let mut gw2 = vec![1.0e30f32; d];
    let gb = (k.gradient)(x, y, w, b, &mut gw2).map_err(|e| format!("{name} gradient: {e:?}"))?;
    let mut pred = vec![f32::NAN; n];
    (k.forward)(x, w, b, &mut pred).map_err(|e| format!("{name} forward: {e:?}"))?;
    // `loss` and `gradient` give the same bits as `fused` (on both paths).
    same_bits(&format!("{name} loss() vs fused"), loss, lg.loss)?;
    same_bits(&format!("{name} gradient() grad_b vs fused"), gb, lg.grad_b)?;
    same_bits_slice(&format!("{name} gradient() grad_w vs fused"), &gw2, &gw)?;
    Ok(Run {
        loss: lg.loss,
        grad_b: lg.grad_b,
        grad_w: gw,
        pred,
    })
}

/// The three properties on one case: SIMD == emulator bit for bit (all four kernels), scalar
/// and SIMD within the documented bounds of the oracle, `loss`/`gradient` == `fused` bits.
fn check_case(x: &[f32], y: &[f32], w: &[f32], b: f32) -> Result<(), String> {
    let d = w.len();
    let ctx = |e: String| format!("d={d} n={}: {e}", y.len());
    let simd = run(&SIMD, x, y, w, b).map_err(ctx)?;
    let scalar = run(&SCALAR, x, y, w, b).map_err(ctx)?;

    let want = emu::fused(x, y, w, b);
    same_bits("simd loss vs emulator", simd.loss, want.loss).map_err(ctx)?;
    same_bits("simd grad_b vs emulator", simd.grad_b, want.grad_b).map_err(ctx)?;
    same_bits_slice("simd grad_w vs emulator", &simd.grad_w, &want.grad_w).map_err(ctx)?;
    let want_pred = emu::forward(x, w, b);
    same_bits_slice("simd forward vs emulator", &simd.pred, &want_pred).map_err(ctx)?;
    if d < 8 {
        // Documented: for d < 8 the SIMD prediction is "the same as the scalar path".
        same_bits_slice("simd vs scalar forward (d < 8)", &simd.pred, &scalar.pred).map_err(ctx)?;
    }

    for (name, r) in [("simd", &simd), ("scalar", &scalar)] {
        let c = |e: String| format!("d={d} n={} {name}: {e}", y.len());
        common::check_fused_bound(x, y, w, b, r.loss, r.grad_b, &r.grad_w).map_err(c)?;
        common::check_forward_bound(x, w, b, &r.pred).map_err(c)?;
    }
    Ok(())
}

const EDGE_D: [usize; 17] = [
    1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, 1024,
];
const EDGE_N: [usize; 14] = [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255, 256, 257, 1000];
/// Skip combinations with more elements than this (only `d = 1024, n = 1000`), to stay fast.
const MAX_ELEMS: usize = 300_000;

#[test]
fn block_len_is_the_documented_one() {
    for d in 1..=10_000 {
        assert_eq!(block_len(d), emu::block_len(d), "d = {d}");
    }
    assert_eq!(block_len(7), 256);
    assert_eq!(block_len(8), 256);
    assert_eq!(block_len(33), 248);
    assert_eq!(block_len(100), 80);
    assert_eq!(block_len(256), 32);
    assert_eq!(block_len(1024), 32);
    assert_eq!(block_len(5000), 32);
}

#[test]
fn edge_sizes_bit_exact_and_within_bounds() {
    let mut seed = 1;
    for d in EDGE_D {
        for n in EDGE_N {
            if n * d > MAX_ELEMS {
                continue;
            }
            seed += 1;
            // Alternate large residuals and small ones (cancellation in r = ŷ − y).
            let c = Case::random(d, n, seed, seed % 2 == 0);
            if let Err(e) = check_case(&c.x, &c.y, &c.w, c.b) {
                panic!("seed {seed}: {e}");
            }
        }
    }
}

/// From 2^21 floats of `x` on, the `d ≥ 8` kernels read rows strictly in order (a loop shape
/// chosen for DRAM-resident data): the same contract, so the same bits as the emulator.
#[test]
fn large_inputs_take_the_streaming_loop_and_keep_the_bits() {
    for (d, seed) in [(9usize, 71u64), (64, 72)] {
        let n = (1usize << 21) / d + 3;
        let c = Case::random(d, n, seed, false);
        let simd = run(&SIMD, &c.x, &c.y, &c.w, c.b).unwrap();
        let want = emu::fused(&c.x, &c.y, &c.w, c.b);
        same_bits("loss", simd.loss, want.loss).unwrap();
        same_bits("grad_b", simd.grad_b, want.grad_b).unwrap();
        same_bits_slice("grad_w", &simd.grad_w, &want.grad_w).unwrap();
        same_bits_slice("forward", &simd.pred, &emu::forward(&c.x, &c.w, c.b)).unwrap();
    }
}

#[test]
fn edge_sizes_at_other_scales() {
    // x, w scaled by 2^k and b, y by 2^2k: every operation of the contract scales exactly (no
    // under/overflow here), so the SIMD results are the unscaled ones times a power of two —
    // L by 2^4k, ∂L/∂b and the predictions by 2^2k, ∂L/∂w by 2^3k.
    for (i, &(d, n)) in [(3usize, 257usize), (9, 33), (33, 255)].iter().enumerate() {
        let base = Case::random(d, n, 900 + i as u64, true);
        let r0 = run(&SIMD, &base.x, &base.y, &base.w, base.b).unwrap();
        for k in [-12, -7, 5, 20] {
            let c = base.clone().scaled(k);
            if let Err(e) = check_case(&c.x, &c.y, &c.w, c.b) {
                panic!("scale 2^{k}: {e}");
            }
            let r = run(&SIMD, &c.x, &c.y, &c.w, c.b).unwrap();
            let p = |e: i32| 2f32.powi(e * k);
            same_bits("scaled loss", r.loss, r0.loss * p(4)).unwrap();
            same_bits("scaled grad_b", r.grad_b, r0.grad_b * p(2)).unwrap();
            let gw: Vec<f32> = r0.grad_w.iter().map(|g| g * p(3)).collect();
            same_bits_slice("scaled grad_w", &r.grad_w, &gw).unwrap();
            let pred: Vec<f32> = r0.pred.iter().map(|v| v * p(2)).collect();
            same_bits_slice("scaled forward", &r.pred, &pred).unwrap();
        }
    }
}

fn case_strategy() -> impl Strategy<Value = (Vec<f32>, Vec<f32>, Vec<f32>, f32)> {
    (1usize..=40, 1usize..=300, -20i32..=20).prop_flat_map(|(d, n, e)| {
        let s = 2f32.powi(e);
        let v = move |a: f32| (-a..a).prop_map(move |t| t * s);
        (
            prop::collection::vec(v(4.0), n * d),
            prop::collection::vec(v(8.0), n),
            prop::collection::vec(v(2.0), d),
            v(1.0),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_cases_bit_exact_and_within_bounds((x, y, w, b) in case_strategy()) {
        check_case(&x, &y, &w, b).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn random_near_fit_cases((d, n, seed) in (1usize..=40, 1usize..=300, any::<u64>())) {
        let c = Case::random(d, n, seed, true);
        check_case(&c.x, &c.y, &c.w, c.b).map_err(TestCaseError::fail)?;
    }
}

/// `n = 1_000_000`, `d = 1`: the SIMD loss (f32 lanes within 256-sample blocks, f64 across
/// blocks) must have a relative error below 1e-5 against the `f64` oracle (measured: 4.3e-10,
/// i.e. just the final rounding to `f32`); the scalar path (an `f64` sum) likewise. A naive
/// sequential `f32` sum of the same `f32` squared residuals is much worse: with this data
/// (`L ≈ 21.39`, so the running sum reaches `Σ r² ≈ 2.1e7` where `ulp = 2`, while each addend is
/// `≤ 68`) it is off by 3.7e-4 relative, ~850 000 times the SIMD error.
#[test]
fn large_n_loss_accuracy() {
    const N: usize = 1_000_000;
    let mut g = SplitMix64::new(42);
    let w = [1.5f32];
    let b = 0.25f32;
    let x: Vec<f32> = (0..N).map(|_| g.sym(4.0)).collect();
    let y: Vec<f32> = x.iter().map(|xi| 1.5 * xi + g.sym(8.0)).collect();
    let exact = common::oracle(&x, &y, &w, b).loss;

    let simd = (SIMD.loss)(&x, &y, &w, b).unwrap();
    let scalar = (SCALAR.loss)(&x, &y, &w, b).unwrap();
    let rel = |v: f32| ((f64::from(v) - exact) / exact).abs();
    assert!(rel(simd) < 1e-5, "simd relative error {:e}", rel(simd));
    assert!(
        rel(scalar) < 1e-5,
        "scalar relative error {:e}",
        rel(scalar)
    );
    // The SIMD loss is still the contract's bits.
    same_bits("loss vs emulator", simd, emu::fused(&x, &y, &w, b).loss).unwrap();

    // What a naive sequential f32 sum gives.
    let mut naive = 0.0f32;
    for (xi, yi) in x.iter().zip(&y) {
        let r = (xi * w[0] + b) - yi;
        naive += r * r;
    }
    let naive = naive / N as f32;
    assert!(
        rel(naive) > 100.0 * rel(simd),
        "naive f32 sum: relative error {:e}, simd {:e}",
        rel(naive),
        rel(simd)
    );
    assert!(
        rel(naive) > 1e-4,
        "naive f32 sum: relative error {:e}",
        rel(naive)
    );
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Calls all four kernels of `k` and returns their errors `[fused, loss, gradient, forward]`
/// (`forward` with `out.len() == y.len()`).
fn errors(
    k: &Kernels,
    x: &[f32],
    y: &[f32],
    w: &[f32],
    b: f32,
    gw_len: usize,
) -> [Option<Error>; 4] {
    let mut gw = vec![0.0f32; gw_len];
    let mut out = vec![0.0f32; y.len()];
    [
        (k.fused)(x, y, w, b, &mut gw).err(),
        (k.loss)(x, y, w, b).err(),
        (k.gradient)(x, y, w, b, &mut gw).err(),
        (k.forward)(x, w, b, &mut out).err(),
    ]
}

fn assert_all(k: &Kernels, got: [Option<Error>; 4], want: Error, ctx: &str) {
    for (f, e) in ["fused", "loss", "gradient", "forward"].iter().zip(got) {
        assert_eq!(e, Some(want), "{} {f}: {ctx}", k.name);
    }
}

#[test]
fn error_zero_features() {
    for k in &PATHS {
        assert_all(
            k,
            errors(k, &[], &[1.0], &[], 0.0, 0),
            Error::ZeroFeatures,
            "d = 0",
        );
        assert_all(
            k,
            errors(k, &[1.0, 2.0], &[1.0, 2.0], &[], 0.0, 0),
            Error::ZeroFeatures,
            "d = 0",
        );
        // d is checked before n.
        assert_all(
            k,
            errors(k, &[], &[], &[], 0.0, 0),
            Error::ZeroFeatures,
            "d = n = 0",
        );
        // ... and before the values.
        assert_all(
            k,
            errors(k, &[], &[1.0], &[], f32::NAN, 0),
            Error::ZeroFeatures,
            "d = 0, b NaN",
        );
    }
}

#[test]
fn error_empty_batch() {
    for k in &PATHS {
        assert_all(
            k,
            errors(k, &[], &[], &[1.0], 0.0, 1),
            Error::EmptyBatch,
            "n = 0",
        );
        assert_all(
            k,
            errors(k, &[], &[], &[1.0; 9], 0.0, 9),
            Error::EmptyBatch,
            "n = 0, d = 9",
        );
        // n is checked before x's length and the values.
        assert_all(
            k,
            errors(k, &[1.0; 5], &[], &[f32::NAN; 3], 0.0, 3),
            Error::EmptyBatch,
            "n = 0",
        );
    }
}

#[test]
fn error_x_length() {
    for k in &PATHS {
        for (d, n) in [(1usize, 1usize), (3, 10), (8, 9), (17, 300)] {
            let w = vec![0.5f32; d];
            let y = vec![1.0f32; n];
            for len in [0, n * d - 1, n * d + 1, n * d + d, 2 * n * d + 7] {
                let x = vec![1.0f32; len];
                let want = Error::LengthMismatch {
                    what: "x",
                    expected: n * d,
                    found: len,
                };
                assert_all(
                    k,
                    errors(k, &x, &y, &w, 0.0, d),
                    want,
                    &format!("d={d} n={n} len={len}"),
                );
                // Shapes are checked before values.
                let bad_w = vec![f32::NAN; d];
                assert_all(
                    k,
                    errors(k, &x, &y, &bad_w, f32::INFINITY, d),
                    want,
                    "shape first",
                );
            }
        }
        // A large n (n·d cannot overflow for any slice that exists): still a plain mismatch.
        let n = 1 << 20;
        let y = vec![0.0f32; n];
        let want = Error::LengthMismatch {
            what: "x",
            expected: 3 * n,
            found: 3 * n - 3,
        };
        assert_all(
            k,
            errors(k, &vec![0.0; 3 * n - 3], &y, &[1.0; 3], 0.0, 3),
            want,
            "large n",
        );
    }
}

#[test]
fn error_grad_w_length() {
    for k in &PATHS {
        for d in [1usize, 4, 8, 13] {
            let c = Case::random(d, 20, 7, false);
            for len in [0, d - 1, d + 1, 2 * d] {
                let want = Some(Error::LengthMismatch {
                    what: "grad_w",
                    expected: d,
                    found: len,
                });
                let mut gw = vec![0.0f32; len];
                assert_eq!(
                    (k.fused)(&c.x, &c.y, &c.w, c.b, &mut gw).err(),
                    want,
                    "{} fused",
                    k.name
                );
                assert_eq!(
                    (k.gradient)(&c.x, &c.y, &c.w, c.b, &mut gw).err(),
                    want,
                    "{} gradient",
                    k.name
                );
                // x's length is checked before grad_w's.
                let want_x = Some(Error::LengthMismatch {
                    what: "x",
                    expected: 20 * d,
                    found: 20 * d - 1,
                });
                let short = &c.x[1..];
                assert_eq!(
                    (k.fused)(short, &c.y, &c.w, c.b, &mut gw).err(),
                    want_x,
                    "{}",
                    k.name
                );
                assert_eq!(
                    (k.gradient)(short, &c.y, &c.w, c.b, &mut gw).err(),
                    want_x,
                    "{}",
                    k.name
                );
            }
        }
    }
}

/// The module docs say "Shapes are checked first (`d = w.len() ≥ 1`, `n ≥ 1`,
/// `x.len() == n·d`, output lengths), then `w` and `b` must be finite", but both paths check
/// `w`/`b` (in `check_shapes`) before `grad_w`'s length (`check_len` after it): a wrong-length
/// `grad_w` together with a NaN weight gives `NonFinite { what: "w" }`, not
/// `LengthMismatch { what: "grad_w" }`.
#[test]

fn error_order_output_length_before_values() {
    for k in &PATHS {
        let mut gw = [0.0f32; 2];
        let want = Some(Error::LengthMismatch {
            what: "grad_w",
            expected: 3,
            found: 2,
        });
        let w = [1.0, f32::NAN, 1.0];
        assert_eq!(
            (k.fused)(&[1.0; 3], &[1.0], &w, 0.0, &mut gw).err(),
            want,
            "{}",
            k.name
        );
        assert_eq!(
            (k.gradient)(&[1.0; 3], &[1.0], &w, 0.0, &mut gw).err(),
            want,
            "{}",
            k.name
        );
    }
}

#[test]
fn error_non_finite_w_and_b() {
    for k in &PATHS {
        for d in [1usize, 5, 8, 20] {
            let c = Case::random(d, 33, 11, false);
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                for idx in [0, d / 2, d - 1] {
                    let mut w = c.w.clone();
                    w[idx] = bad;
                    if idx + 1 < d {
                        w[d - 1] = f32::NAN; // a later one is not reported
                    }
                    let want = Error::NonFinite {
                        what: "w",
                        index: idx,
                    };
                    assert_all(
                        k,
                        errors(k, &c.x, &c.y, &w, c.b, d),
                        want,
                        &format!("w[{idx}] = {bad}"),
                    );
                    // w is checked before b.
                    assert_all(
                        k,
                        errors(k, &c.x, &c.y, &w, f32::NAN, d),
                        want,
                        "w before b",
                    );
                }
                let want = Error::NonFinite {
                    what: "b",
                    index: 0,
                };
                assert_all(
                    k,
                    errors(k, &c.x, &c.y, &c.w, bad, d),
                    want,
                    &format!("b = {bad}"),
                );
                // b is checked before x (and y): a NaN in x does not hide a bad b.
                let mut x = c.x.clone();
                x[0] = f32::NAN;
                assert_all(k, errors(k, &x, &c.y, &c.w, bad, d), want, "b before x");
            }
        }
    }
}

#[test]
fn error_non_finite_x_and_y() {
    for k in &PATHS {
        for (d, n) in [
            (1usize, 1usize),
            (1, 600),
            (3, 9),
            (7, 300),
            (8, 8),
            (9, 257),
            (40, 230),
            (1024, 9),
        ] {
            let c = Case::random(d, n, (d * 1000 + n) as u64, false);
            let len = n * d;
            let mut positions = vec![0, len / 2, len - 1];
            if block_len(d) * d + 1 < len {
                positions.push(block_len(d) * d + 1); // in the second block
            }
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                for &p in &positions {
                    let mut x = c.x.clone();
                    x[p] = bad;
                    if p + 1 < len {
                        x[len - 1] = bad; // only the first is reported
                    }
                    let want = Error::NonFinite {
                        what: "x",
                        index: p,
                    };
                    assert_all(
                        k,
                        errors(k, &x, &c.y, &c.w, c.b, d),
                        want,
                        &format!("d={d} n={n} x[{p}]={bad}"),
                    );
                    // x is blamed before y.
                    let mut y = c.y.clone();
                    y[0] = f32::NAN;
                    let got = errors(k, &x, &y, &c.w, c.b, d);
                    assert_all(k, got, want, "x before y");
                }
                for p in [0, n / 2, n - 1] {
                    let mut y = c.y.clone();
                    y[p] = bad;
                    if p + 1 < n {
                        y[n - 1] = f32::NAN;
                    }
                    let want = Error::NonFinite {
                        what: "y",
                        index: p,
                    };
                    let got = errors(k, &c.x, &y, &c.w, c.b, d);
                    // forward does not read y.
                    assert!(
                        got[3].is_none(),
                        "{} forward with bad y: {:?}",
                        k.name,
                        got[3]
                    );
                    for (f, e) in ["fused", "loss", "gradient"].iter().zip(&got[..3]) {
                        assert_eq!(*e, Some(want), "{} {f}: d={d} n={n} y[{p}]={bad}", k.name);
                    }
                }
            }
        }
    }
}

#[test]
fn error_overflow_from_finite_inputs() {
    for k in &PATHS {
        for d in [1usize, 3, 8, 12] {
            // Predictions ~1e30 are finite, their squares are not.
            let n = 10;
            let x = vec![1e30f32; n * d];
            let w = vec![1.0f32; d];
            let y = vec![0.0f32; n];
            let mut gw = vec![0.0f32; d];
            let loss = Some(Error::Overflow { what: "loss" });
            let grad = Some(Error::Overflow { what: "gradient" });
            assert_eq!(
                (k.fused)(&x, &y, &w, 0.0, &mut gw).err(),
                loss,
                "{} d={d}",
                k.name
            );
            assert_eq!((k.loss)(&x, &y, &w, 0.0).err(), loss, "{} d={d}", k.name);
            assert_eq!(
                (k.gradient)(&x, &y, &w, 0.0, &mut gw).err(),
                grad,
                "{} d={d}",
                k.name
            );
            let mut out = vec![0.0f32; n];
            assert_eq!(
                (k.forward)(&x, &w, 0.0, &mut out),
                Ok(()),
                "{} d={d}",
                k.name
            );
            assert!(out.iter().all(|p| p.is_finite()));

            // Predictions that overflow themselves (and inf − inf = NaN across features).
            let x = vec![3e38f32; n * d];
            let w = vec![2.0f32; d];
            let pred = Some(Error::Overflow {
                what: "predictions",
            });
            assert_eq!(
                (k.forward)(&x, &w, 0.0, &mut out).err(),
                pred,
                "{} d={d}",
                k.name
            );
            assert_eq!(
                (k.fused)(&x, &y, &w, 0.0, &mut gw).err(),
                loss,
                "{} d={d}",
                k.name
            );
            let mut wm = w.clone();
            wm[0] = -2.0;
            if d > 1 {
                assert_eq!(
                    (k.forward)(&x, &wm, 0.0, &mut out).err(),
                    pred,
                    "{} d={d}",
                    k.name
                );
            }
            assert_eq!(
                (k.forward)(&[3e38; 1], &[2.0], 0.0, &mut out[..1]).err(),
                pred
            );

            // The loss fits, the gradient does not: r = 1e15, r·x = 1e45.
            let mut x = vec![0.0f32; n * d];
            for row in x.chunks_exact_mut(d) {
                row[0] = 1e30;
            }
            let mut w = vec![0.0f32; d];
            w[0] = 1e-15;
            assert_eq!(
                (k.fused)(&x, &y, &w, 0.0, &mut gw).err(),
                grad,
                "{} d={d}",
                k.name
            );
            assert_eq!(
                (k.gradient)(&x, &y, &w, 0.0, &mut gw).err(),
                grad,
                "{} d={d}",
                k.name
            );
            let l = (k.loss)(&x, &y, &w, 0.0).unwrap();
            assert!((l - 1e30).abs() <= 1e24, "{} d={d}: {l}", k.name);
        }
        // b and y at ±MAX: r = MAX − (−MAX) overflows.
        let mut gw = [0.0f32];
        let got = (k.fused)(&[0.0], &[-f32::MAX], &[1.0], f32::MAX, &mut gw).err();
        assert_eq!(got, Some(Error::Overflow { what: "loss" }), "{}", k.name);
        // ... while r = MAX − MAX = 0 is fine.
        let lg = (k.fused)(&[0.0], &[f32::MAX], &[1.0], f32::MAX, &mut gw).unwrap();
        assert_eq!((lg.loss, lg.grad_b, gw[0]), (0.0, 0.0, 0.0), "{}", k.name);
    }
}

/// The mean of the squared residuals fits in `f32` (`1e38`), but the SIMD path sums them in
/// `f32` lanes and `tree8` before the `f64` accumulation, which overflows (`4e38`): the SIMD
/// path reports `Overflow { what: "loss" }` where the scalar path (an `f64` sum) returns `1e38`.
/// This is what the contract prescribes (the emulator overflows too), a consequence of step 3,
/// not an implementation slip. The same holds for the unscaled `Σ r·x` of the gradient, on
/// both paths.
#[test]
fn loss_near_f32_max_simd_lanes_overflow() {
    let n = 16;
    let x = vec![0.0f32; n];
    let y = vec![1e19f32; n];
    let w = [1.0f32];
    let want = emu::fused(&x, &y, &w, 0.0);
    assert!(want.loss.is_infinite());
    assert_eq!(
        (SIMD.loss)(&x, &y, &w, 0.0),
        Err(Error::Overflow { what: "loss" })
    );
    let scalar = (SCALAR.loss)(&x, &y, &w, 0.0).unwrap();
    assert_eq!(scalar, 1e19f32 * 1e19f32);
}

// ---------------------------------------------------------------------------------------------
// Edge values
// ---------------------------------------------------------------------------------------------

#[test]
fn signed_zeros() {
    for d in [1usize, 3, 7, 8, 9, 17] {
        for n in [1usize, 8, 9, 300] {
            let mut g = SplitMix64::new((d * 7919 + n) as u64);
            let pick = |g: &mut SplitMix64| if g.below(2) == 0 { 0.0f32 } else { -0.0f32 };
            let x: Vec<f32> = (0..n * d).map(|_| pick(&mut g)).collect();
            let y: Vec<f32> = (0..n).map(|_| pick(&mut g)).collect();
            for (w, b) in [
                (vec![-0.0f32; d], -0.0f32),
                (vec![0.0; d], 0.0),
                (vec![-1.5; d], -0.0),
            ] {
                check_case(&x, &y, &w, b).unwrap();
                // Sums start at +0, so every result is +0 on the SIMD path (emulator checked
                // above) and equal to zero on the scalar path.
                let mut gw = vec![f32::NAN; d];
                let lg = (SIMD.fused)(&x, &y, &w, b, &mut gw).unwrap();
                assert_eq!(lg.loss.to_bits(), 0);
                assert_eq!(lg.grad_b.to_bits(), 0);
                assert!(gw.iter().all(|g| g.to_bits() == 0), "{gw:?}");
                let mut out = vec![f32::NAN; n];
                (SIMD.forward)(&x, &w, b, &mut out).unwrap();
                assert!(out.iter().all(|p| p.to_bits() == 0), "{out:?}");
                let lg = (SCALAR.fused)(&x, &y, &w, b, &mut gw).unwrap();
                assert!(lg.loss == 0.0 && lg.grad_b == 0.0 && gw.iter().all(|g| *g == 0.0));
            }
        }
    }
}

#[test]
fn subnormal_inputs() {
    const TINY: f32 = 1e-40; // subnormal (MIN_POSITIVE ≈ 1.18e-38)
    assert!(TINY.is_subnormal());
    for (d, n) in [
        (1usize, 33usize),
        (3, 257),
        (7, 20),
        (8, 17),
        (13, 300),
        (64, 40),
    ] {
        let c = Case::random(d, n, (d + n) as u64, false);
        // Subnormal x with normal w; normal x with subnormal w and b; a mix of both with
        // y at the residual scale.
        let variants = [
            (
                c.x.iter().map(|v| v * TINY).collect::<Vec<_>>(),
                c.w.clone(),
                0.0f32,
                vec![0.0f32; n],
            ),
            (
                c.x.clone(),
                c.w.iter().map(|v| v * TINY).collect(),
                TINY,
                c.y.iter().map(|v| v * TINY).collect(),
            ),
            (
                c.x.iter()
                    .enumerate()
                    .map(|(i, v)| if i % 2 == 0 { v * TINY } else { *v })
                    .collect(),
                c.w.clone(),
                c.b,
                c.y.clone(),
            ),
        ];
        for (x, w, b, y) in &variants {
            // The contract is IEEE arithmetic with gradual underflow: still bit-exact.
            let want = emu::fused(x, y, w, *b);
            let mut gs = vec![0.0f32; d];
            let s = (SIMD.fused)(x, y, w, *b, &mut gs).unwrap();
            same_bits("loss", s.loss, want.loss).unwrap();
            same_bits("grad_b", s.grad_b, want.grad_b).unwrap();
            same_bits_slice("grad_w", &gs, &want.grad_w).unwrap();
            let mut p = vec![0.0f32; n];
            (SIMD.forward)(x, w, *b, &mut p).unwrap();
            same_bits_slice("forward", &p, &emu::forward(x, w, *b)).unwrap();

            // Both paths finite and close to each other: the documented relative bound plus an
            // absolute allowance for underflow (each subnormal operation errs by ≤ 2⁻¹⁵⁰).
            let mut gc = vec![0.0f32; d];
            let sc = (SCALAR.fused)(x, y, w, *b, &mut gc).unwrap();
            let o = common::oracle(x, y, w, *b);
            let abs = 1e-36;
            let near = |a: f32, c: f32, bound: f64| {
                (f64::from(a) - f64::from(c)).abs() <= 2.0 * bound + abs
            };
            assert!(
                near(s.loss, sc.loss, common::loss_bound(&o, d)),
                "{} {}",
                s.loss,
                sc.loss
            );
            assert!(
                near(s.grad_b, sc.grad_b, common::grad_b_bound(&o, d)),
                "{} {}",
                s.grad_b,
                sc.grad_b
            );
            for j in 0..d {
                let bound = common::grad_w_bound(&o, x, d, j);
                assert!(
                    near(gs[j], gc[j], bound),
                    "grad_w[{j}]: {} {}",
                    gs[j],
                    gc[j]
                );
            }
            for v in [s.loss, s.grad_b, sc.loss, sc.grad_b]
                .iter()
                .chain(&gs)
                .chain(&gc)
            {
                assert!(v.is_finite());
            }
        }
    }
}

#[test]
fn huge_finite_values() {
    for (d, n) in [(1usize, 40usize), (5, 9), (8, 64), (19, 33)] {
        let c = Case::random(d, n, 77 + d as u64, false);
        // |x| ≤ 4e16, |w| ≤ 2, |y| ≤ 8e16: |r| ≤ 1.7e18, r² ≤ 2.8e36, lane sums < f32::MAX.
        let x: Vec<f32> = c.x.iter().map(|v| v * 1e16).collect();
        let y: Vec<f32> = c.y.iter().map(|v| v * 1e16).collect();
        check_case(&x, &y, &c.w, c.b * 1e16).unwrap();
        // Huge weights on tiny features: products of order 1.
        let x: Vec<f32> = c.x.iter().map(|v| v * 1e-30).collect();
        let w: Vec<f32> = c.w.iter().map(|v| v * 1e30).collect();
        check_case(&x, &c.y, &w, c.b).unwrap();
        // A huge bias and targets that nearly cancel it (ulp(1e18) ≈ 6.9e10).
        let y: Vec<f32> = c.y.iter().map(|v| 1e18 + v * 1e11).collect();
        check_case(&c.x, &y, &c.w, 1e18).unwrap();
        // A bias near f32::MAX that the targets cancel exactly (w·x is below its half-ulp).
        check_case(&c.x, &vec![3e38; n], &c.w, 3e38).unwrap();
    }
}

/// `gradient` does not compute the loss, so a loss that would overflow (`r² ≈ 1e40`) is no
/// error there, while `fused` and `loss` report it.
#[test]
fn gradient_alone_ignores_an_overflowing_loss() {
    for d in [1usize, 2, 8, 11] {
        let n = 9;
        let mut x = vec![0.0f32; n * d];
        for row in x.chunks_exact_mut(d) {
            row[d - 1] = 1e-20;
        }
        let y = vec![-1e20f32; n];
        let w = vec![1.0f32; d];
        let want = emu::fused(&x, &y, &w, 0.0);
        assert!(want.loss.is_infinite() && want.grad_b.is_finite());
        for k in &PATHS {
            let mut gw = vec![0.0f32; d];
            let loss = Some(Error::Overflow { what: "loss" });
            assert_eq!(
                (k.fused)(&x, &y, &w, 0.0, &mut gw).err(),
                loss,
                "{}",
                k.name
            );
            assert_eq!((k.loss)(&x, &y, &w, 0.0).err(), loss, "{}", k.name);
            let gb = (k.gradient)(&x, &y, &w, 0.0, &mut gw).unwrap();
            assert_eq!(gb, 2e20, "{}", k.name);
            assert!((gw[d - 1] - 2.0).abs() < 1e-6, "{} {gw:?}", k.name);
            if k.name == "simd" {
                same_bits("grad_b", gb, want.grad_b).unwrap();
                same_bits_slice("grad_w", &gw, &want.grad_w).unwrap();
            }
        }
    }
}
