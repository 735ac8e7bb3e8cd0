//! Gradient clipping by norm and by value, and the trust-region factor, against PyTorch's
//! `clip_grad_norm_` / `clip_grad_value_` semantics written out in `f64`.

use npoa::Error;
use npoa::control::clip::{clip_grad_norm, clip_grad_value, global_norm, trust_region_factor};
use proptest::prelude::*;

/// PyTorch: `total_norm = ‖g‖₂; coef = max_norm / (total_norm + 1e-6); if coef < 1: g *= coef`.
fn reference(g: &[f32], gb: f32, max_norm: f32) -> (Vec<f64>, f64, f64) {
    let norm =
        (g.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() + f64::from(gb).powi(2)).sqrt();
    let coef = f64::from(max_norm) / (norm + 1e-6);
    let c = if coef < 1.0 { coef } else { 1.0 };
    (
        g.iter().map(|&v| f64::from(v) * c).collect(),
        f64::from(gb) * c,
        norm,
    )
}

fn bits(g: &[f32], gb: f32) -> (Vec<u32>, u32) {
    (g.iter().map(|v| v.to_bits()).collect(), gb.to_bits())
}

#[test]
fn norm_clipping_matches_pytorch() {
    let cases: [(&[f32], f32, f32); 5] = [
        (&[3.0, 0.0], 4.0, 1.0),           // norm 5 → scaled to 1
        (&[0.3, -0.4], 0.0, 1.0),          // norm 0.5 → unchanged
        (&[1e20, -1e20, 1e20], 1e20, 2.0), // huge, no overflow in f64
        (&[0.0; 7], 0.0, 1.0),             // zero gradient → unchanged
        (&[1e-30, 2e-30], -3e-30, 1e-31),  // tiny
    ];
    for (g0, gb0, max_norm) in cases {
        let (want, want_b, want_norm) = reference(g0, gb0, max_norm);
        let mut g = g0.to_vec();
        let mut gb = gb0;
        let norm = clip_grad_norm(&mut g, &mut gb, max_norm).unwrap();
        assert!(
            (norm - want_norm).abs() <= 1e-12 * want_norm,
            "{norm} vs {want_norm}"
        );
        for (a, b) in g.iter().zip(&want) {
            assert!(
                (f64::from(*a) - b).abs() <= 2e-7 * b.abs() + 1e-45,
                "{a} vs {b}"
            );
        }
        assert!((f64::from(gb) - want_b).abs() <= 2e-7 * want_b.abs() + 1e-45);
        let after = global_norm(&g, gb).unwrap();
        assert!(
            after <= f64::from(max_norm) * (1.0 + 1e-6),
            "{after} > {max_norm}"
        );
    }
}

#[test]
fn huge_gradient_norm_is_reported_in_f64() {
    let mut g = [3e38f32; 4];
    let mut gb = 3e38f32;
    let norm = clip_grad_norm(&mut g, &mut gb, 1.0).unwrap();
    assert!(norm > f64::from(f32::MAX) && norm.is_finite());
    assert!(global_norm(&g, gb).unwrap() <= 1.0 + 1e-6);
}

#[test]
fn non_finite_gradients_are_errors_and_leave_it_unchanged() {
    for (i, bad) in [
        (0usize, f32::NAN),
        (2, f32::INFINITY),
        (1, f32::NEG_INFINITY),
    ] {
        let mut g = [1.0f32, 2.0, 3.0];
        g[i] = bad;
        let mut gb = 0.5f32;
        let before = bits(&g, gb);
        assert_eq!(
            clip_grad_norm(&mut g, &mut gb, 1.0),
            Err(Error::NonFinite {
                what: "grad_w",
                index: i
            })
        );
        assert_eq!(
            clip_grad_value(&mut g, &mut gb, 1.0),
            Err(Error::NonFinite {
                what: "grad_w",
                index: i
            })
        );
        assert_eq!(bits(&g, gb), before);
    }
    let mut g = [1.0f32];
    let mut gb = f32::NAN;
    assert_eq!(
        clip_grad_norm(&mut g, &mut gb, 1.0),
        Err(Error::NonFinite {
            what: "grad_b",
            index: 0
        })
    );
}

#[test]
fn absurd_limits_are_errors() {
    let mut g = [1.0f32];
    let mut gb = 1.0f32;
    for v in [0.0f32, -1.0, f32::NAN, f32::INFINITY] {
        assert!(matches!(
            clip_grad_norm(&mut g, &mut gb, v),
            Err(Error::InvalidParameter {
                name: "max_norm",
                ..
            })
        ));
        assert!(matches!(
            clip_grad_value(&mut g, &mut gb, v),
            Err(Error::InvalidParameter {
                name: "clip_value",
                ..
            })
        ));
        assert!(matches!(
            trust_region_factor(&g, gb, v, 1.0),
            Err(Error::InvalidParameter {
                name: "learning_rate",
                ..
            })
        ));
        assert!(matches!(
            trust_region_factor(&g, gb, 1.0, v),
            Err(Error::InvalidParameter { name: "radius", .. })
        ));
    }
    assert_eq!(bits(&g, gb), bits(&[1.0], 1.0));
}

#[test]
fn value_clipping_clamps_and_counts() {
    let mut g = [0.5f32, -3.0, 2.0, -0.25];
    let mut gb = 7.0f32;
    assert_eq!(clip_grad_value(&mut g, &mut gb, 1.0), Ok(3));
    assert_eq!(g, [0.5, -1.0, 1.0, -0.25]);
    assert_eq!(gb, 1.0);
    assert_eq!(clip_grad_value(&mut g, &mut gb, 1.0), Ok(0));
}

#[test]
fn trust_region_caps_the_step_length() {
    // ‖g‖ = 5, η = 0.1: the step is 0.5 long.
    let g = [3.0f32];
    assert_eq!(trust_region_factor(&g, 4.0, 0.1, 1.0), Ok(1.0));
    let f = trust_region_factor(&g, 4.0, 0.1, 0.25).unwrap();
    assert!((f - 0.5).abs() < 1e-7);
    assert_eq!(trust_region_factor(&[0.0; 3], 0.0, 1e30, 1e-30), Ok(1.0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// For any finite gradient and limit, clipping never increases the norm, ends within the
    /// limit (to rounding), and keeps the direction (every component scaled by one factor).
    #[test]
    fn clipping_bounds_the_norm(
        g in prop::collection::vec(-1e30f32..1e30, 0..40),
        gb in -1e30f32..1e30,
        max_norm in 1e-20f32..1e20,
    ) {
        let mut c = g.clone();
        let mut cb = gb;
        let before = clip_grad_norm(&mut c, &mut cb, max_norm).unwrap();
        let after = global_norm(&c, cb).unwrap();
        prop_assert!(after <= before * (1.0 + 1e-6) + 1e-37);
        if before + 1e-6 > f64::from(max_norm) {
            // Clipped: within the limit, to f32 rounding.
            prop_assert!(after <= f64::from(max_norm) * (1.0 + 1e-6), "{after} > {max_norm}");
        } else {
            // Not clipped: untouched, bit for bit.
            prop_assert_eq!(bits(&c, cb), bits(&g, gb));
        }
        let f = if before > 0.0 { after / before } else { 1.0 };
        for (a, b) in c.iter().zip(&g) {
            prop_assert!((f64::from(*a) - f64::from(*b) * f).abs() <= 1e-6 * f64::from(*b).abs() + 1e-37);
        }
    }
}
