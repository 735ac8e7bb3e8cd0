//! The C API called as C calls it: the extern functions with raw pointers, checking the
//! results against npoa's own, the error codes, NULL handling and the bytes' round trip.

use core::ffi::CStr;
use core::mem::{align_of, size_of};
use core::ptr::{null, null_mut};

use npoa::LinearModel;
use npoa::train::{Dataset, TrainConfig, fit};
use npoa_ffi::npoa_status::{self, *};
use npoa_ffi::*;

/// Data of `d` features from a small generator: `y = w·x + 0.5` with `w_j = j − 1`.
fn data(d: usize, n: usize) -> (Vec<f32>, Vec<f32>) {
    let mut s = 7u32;
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let mut t = 0.5f32;
        for j in 0..d {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let v = ((s >> 21) as i32 - 1024) as f32 / 1024.0;
            x.push(v);
            t += (j as f32 - 1.0) * v;
        }
        y.push(t);
    }
    (x, y)
}

fn zero8() -> npoa_model8 {
    npoa_model8 {
        w: [0.0; 8],
        b: 0.0,
        loss: NPOA_LOSS_SQUARED,
        loss_param: 0.0,
    }
}

fn config() -> npoa_fit_config {
    npoa_fit_config {
        learning_rate: 0.1,
        epochs: 50,
        batch_size: 8,
        ..npoa_fit_config_default()
    }
}

#[test]
fn layout_matches_the_c_static_asserts() {
    // The same numbers as the STATIC_ASSERT block of examples/c/train.c.
    assert_eq!(size_of::<npoa_model4>(), 4 * (4 + 3));
    assert_eq!(size_of::<npoa_model8>(), 4 * (8 + 3));
    assert_eq!(size_of::<npoa_model16>(), 4 * (16 + 3));
    assert_eq!(size_of::<npoa_model32>(), 4 * (32 + 3));
    assert_eq!(size_of::<npoa_optimizer>(), 16);
    assert_eq!(size_of::<npoa_fit_config>(), 48);
    assert_eq!(size_of::<npoa_fit_summary>(), 32);
    assert_eq!(size_of::<npoa_online_config>(), 64);
    assert_eq!(size_of::<npoa_step_report>(), 40);
    assert_eq!(size_of::<npoa_status>(), 4);
    assert_eq!(align_of::<npoa_fit_config>(), 8);
    for (size, cap) in [
        (npoa_learner4_size(), NPOA_LEARNER4_SIZE),
        (npoa_learner8_size(), NPOA_LEARNER8_SIZE),
        (npoa_learner16_size(), NPOA_LEARNER16_SIZE),
        (npoa_learner32_size(), NPOA_LEARNER32_SIZE),
    ] {
        assert!(size > 0 && size <= cap, "{size} > {cap}");
    }
    assert!(npoa_learner_align() <= NPOA_LEARNER_ALIGN);
}

#[test]
fn fit_equals_npoa_fit_bit_for_bit() {
    let (x, y) = data(8, 64);
    let mut m = zero8();
    let mut s = npoa_fit_summary {
        epochs: 0,
        steps: 0,
        final_loss: 0.0,
        best_metric: 0.0,
        stop: -1,
    };
    let cfg = config();
    // SAFETY: every pointer is valid for its length.
    let st = unsafe {
        npoa_model8_fit(
            &mut m,
            x.as_ptr(),
            x.len(),
            y.as_ptr(),
            y.len(),
            &cfg,
            &mut s,
        )
    };
    assert_eq!(st, NPOA_OK);
    let mut want = LinearModel::<8>::zeros();
    let tc = TrainConfig {
        learning_rate: 0.1,
        epochs: 50,
        batch_size: 8,
        ..TrainConfig::default()
    };
    let sum = fit(&mut want, &Dataset::new(&x, &y, 8).unwrap(), &tc).unwrap();
    assert_eq!(m.w.map(f32::to_bits), want.weights().map(f32::to_bits));
    assert_eq!(m.b.to_bits(), want.bias().to_bits());
    assert_eq!(
        (s.epochs, s.steps, s.stop),
        (50, sum.steps, NPOA_STOP_MAX_EPOCHS)
    );
    assert_eq!(s.final_loss.to_bits(), sum.final_loss.to_bits());
    // And it learned: w_j = j − 1, b = 0.5.
    for (j, w) in m.w.iter().enumerate() {
        assert!((w - (j as f32 - 1.0)).abs() < 1e-2, "w[{j}] = {w}");
    }

    let mut out = [0.0f32; 3];
    // SAFETY: valid pointers and lengths.
    let st = unsafe { npoa_model8_predict(&m, x.as_ptr(), 24, out.as_mut_ptr(), 3) };
    assert_eq!(st, NPOA_OK);
    for (i, p) in out.iter().enumerate() {
        assert_eq!(
            p.to_bits(),
            want.predict(&x[i * 8..i * 8 + 8]).unwrap().to_bits()
        );
    }
}

#[test]
fn bytes_round_trip_and_equal_npoa_bytes() {
    let m = npoa_model4 {
        w: [0.5, -1.25, 3.0, 1e-7],
        b: 0.125,
        loss: NPOA_LOSS_HUBER,
        loss_param: 2.0,
    };
    let mut buf = [0u8; NPOA_MODEL4_BYTES];
    let mut n = 0usize;
    // SAFETY: valid pointers and lengths.
    assert_eq!(
        unsafe { npoa_model4_to_bytes(&m, buf.as_mut_ptr(), buf.len(), &mut n) },
        NPOA_OK
    );
    assert_eq!(n, NPOA_MODEL4_BYTES);
    let native = LinearModel::new(m.w, m.b)
        .unwrap()
        .with_loss(npoa::loss::Loss::Huber { delta: 2.0 })
        .unwrap();
    let mut want = [0u8; NPOA_MODEL4_BYTES];
    native.to_bytes(&mut want).unwrap();
    assert_eq!(buf, want, "the C API writes npoa's model bytes");
    let mut back = npoa_model4 {
        w: [9.0; 4],
        b: 9.0,
        loss: 0,
        loss_param: 0.0,
    };
    // SAFETY: valid pointers and lengths.
    assert_eq!(
        unsafe { npoa_model4_from_bytes(&mut back, buf.as_ptr(), n) },
        NPOA_OK
    );
    assert_eq!(back, m);
    // Every single-bit flip is refused, and leaves the model as it was.
    for i in 0..n * 8 {
        let mut bad = buf;
        bad[i / 8] ^= 1 << (i % 8);
        let before = back;
        // SAFETY: valid pointers and lengths.
        let st = unsafe { npoa_model4_from_bytes(&mut back, bad.as_ptr(), n) };
        assert_ne!(st, NPOA_OK, "bit {i}");
        assert_eq!(back, before);
    }
    // SAFETY: valid pointers and lengths (a truncated string; a model of another D).
    unsafe {
        assert_eq!(
            npoa_model4_from_bytes(&mut back, buf.as_ptr(), n - 1),
            NPOA_ERR_LENGTH_MISMATCH
        );
        let mut m8 = zero8();
        assert_eq!(
            npoa_model8_from_bytes(&mut m8, buf.as_ptr(), n),
            NPOA_ERR_FEATURE_MISMATCH
        );
        assert_eq!(
            npoa_model4_to_bytes(&m, buf.as_mut_ptr(), n - 1, null_mut()),
            NPOA_ERR_LENGTH_MISMATCH
        );
    }
}

#[test]
fn null_pointers_give_npoa_err_null() {
    let (x, y) = data(8, 16);
    let mut m = zero8();
    let cfg = config();
    let mut out = [0.0f32; 2];
    let mut buf = [0u8; NPOA_MODEL8_BYTES];
    let oc = npoa_online_config_default();
    let mut mem = vec![0u64; NPOA_LEARNER8_SIZE / 8];
    let mut h: *mut npoa_learner8 = null_mut();
    // SAFETY: each call has one NULL pointer (which must be refused) and valid other ones.
    unsafe {
        let (xp, yp, n) = (x.as_ptr(), y.as_ptr(), y.len());
        assert_eq!(
            npoa_model8_fit(null_mut(), xp, x.len(), yp, n, &cfg, null_mut()),
            NPOA_ERR_NULL
        );
        assert_eq!(
            npoa_model8_fit(&mut m, null(), x.len(), yp, n, &cfg, null_mut()),
            NPOA_ERR_NULL
        );
        assert_eq!(
            npoa_model8_fit(&mut m, xp, x.len(), null(), n, &cfg, null_mut()),
            NPOA_ERR_NULL
        );
        assert_eq!(
            npoa_model8_fit(&mut m, xp, x.len(), yp, n, null(), null_mut()),
            NPOA_ERR_NULL
        );
        assert_eq!(
            npoa_model8_predict(null(), xp, 8, out.as_mut_ptr(), 1),
            NPOA_ERR_NULL
        );
        assert_eq!(
            npoa_model8_predict(&m, null(), 8, out.as_mut_ptr(), 1),
            NPOA_ERR_NULL
        );
        assert_eq!(npoa_model8_predict(&m, xp, 8, null_mut(), 1), NPOA_ERR_NULL);
        assert_eq!(
            npoa_model8_to_bytes(null(), buf.as_mut_ptr(), buf.len(), null_mut()),
            NPOA_ERR_NULL
        );
        assert_eq!(
            npoa_model8_to_bytes(&m, null_mut(), buf.len(), null_mut()),
            NPOA_ERR_NULL
        );
        assert_eq!(
            npoa_model8_from_bytes(null_mut(), buf.as_ptr(), buf.len()),
            NPOA_ERR_NULL
        );
        assert_eq!(
            npoa_model8_from_bytes(&mut m, null(), buf.len()),
            NPOA_ERR_NULL
        );
        let mp = mem.as_mut_ptr().cast();
        let len = mem.len() * 8;
        assert_eq!(
            npoa_learner8_init(null_mut(), len, &oc, null(), &mut h),
            NPOA_ERR_NULL
        );
        assert_eq!(
            npoa_learner8_init(mp, len, null(), null(), &mut h),
            NPOA_ERR_NULL
        );
        assert_eq!(
            npoa_learner8_init(mp, len, &oc, null(), null_mut()),
            NPOA_ERR_NULL
        );
        assert!(h.is_null());
        assert_eq!(npoa_learner8_reset(null_mut()), NPOA_ERR_NULL);
        assert_eq!(npoa_learner8_push(null_mut(), xp, 8, 1.0), NPOA_ERR_NULL);
        assert_eq!(
            npoa_learner8_push_holdout(null_mut(), xp, 8, 1.0),
            NPOA_ERR_NULL
        );
        assert_eq!(npoa_learner8_step(null_mut(), null_mut()), NPOA_ERR_NULL);
        assert_eq!(npoa_learner8_model(null_mut(), &mut m), NPOA_ERR_NULL);
        assert_eq!(npoa_learner8_best_model(null_mut(), &mut m), NPOA_ERR_NULL);
        assert_eq!(
            npoa_learner8_predict(null_mut(), xp, 8, out.as_mut_ptr()),
            NPOA_ERR_NULL
        );
        // With a valid handle, NULL arguments.
        assert_eq!(npoa_learner8_init(mp, len, &oc, null(), &mut h), NPOA_OK);
        assert!(!h.is_null());
        assert_eq!(npoa_learner8_push(h, null(), 8, 1.0), NPOA_ERR_NULL);
        assert_eq!(npoa_learner8_model(h, null_mut()), NPOA_ERR_NULL);
        assert_eq!(npoa_learner8_predict(h, xp, 8, null_mut()), NPOA_ERR_NULL);
        assert_eq!(
            npoa_learner8_step(h, null_mut()),
            NPOA_OK,
            "the report may be NULL"
        );
    }
    assert_eq!(m, zero8(), "no failed call wrote the model");
}

#[test]
fn errors_map_one_code_per_cause() {
    let (x, y) = data(8, 16);
    let mut m = zero8();
    let cfg = config();
    // SAFETY: valid pointers; the lengths and values are what is wrong.
    unsafe {
        let fit8 = |m: &mut npoa_model8, xl: usize, n: usize, c: &npoa_fit_config| {
            npoa_model8_fit(m, x.as_ptr(), xl, y.as_ptr(), n, c, null_mut())
        };
        assert_eq!(
            fit8(&mut m, x.len() - 1, 16, &cfg),
            NPOA_ERR_LENGTH_MISMATCH
        );
        assert_eq!(fit8(&mut m, 0, 0, &cfg), NPOA_ERR_EMPTY_BATCH);
        let bad = npoa_fit_config { epochs: 0, ..cfg };
        assert_eq!(fit8(&mut m, x.len(), 16, &bad), NPOA_ERR_INVALID_PARAMETER);
        let bad = npoa_fit_config {
            learning_rate: f32::NAN,
            ..cfg
        };
        assert_eq!(fit8(&mut m, x.len(), 16, &bad), NPOA_ERR_INVALID_PARAMETER);
        let bad = npoa_fit_config {
            learning_rate: 1e6,
            ..cfg
        };
        assert_eq!(fit8(&mut m, x.len(), 16, &bad), NPOA_ERR_DIVERGED);
        let mut bad = cfg;
        bad.optimizer.kind = 77;
        assert_eq!(fit8(&mut m, x.len(), 16, &bad), NPOA_ERR_UNKNOWN_ENUM);
        bad.optimizer = npoa_optimizer {
            kind: NPOA_OPT_ADAM,
            a: 1.5,
            b: 0.999,
            c: 1e-8,
        };
        assert_eq!(fit8(&mut m, x.len(), 16, &bad), NPOA_ERR_INVALID_PARAMETER);
        let mut mm = zero8();
        for code in [-1, 4, 7, 256] {
            mm.loss = code;
            assert_eq!(
                fit8(&mut mm, x.len(), 16, &cfg),
                NPOA_ERR_UNKNOWN_ENUM,
                "loss {code}"
            );
        }
        mm = npoa_model8 {
            loss: NPOA_LOSS_HUBER,
            loss_param: -1.0,
            ..zero8()
        };
        assert_eq!(fit8(&mut mm, x.len(), 16, &cfg), NPOA_ERR_INVALID_PARAMETER);
        mm = npoa_model8 {
            loss: NPOA_LOSS_LOGISTIC,
            ..zero8()
        };
        assert_eq!(
            fit8(&mut mm, x.len(), 16, &cfg),
            NPOA_ERR_INVALID_DATA,
            "targets beyond [0, 1]"
        );
        mm = zero8();
        mm.w[5] = f32::INFINITY;
        assert_eq!(fit8(&mut mm, x.len(), 16, &cfg), NPOA_ERR_NON_FINITE);
        // A misaligned float pointer.
        let raw = x.as_ptr().cast::<u8>().add(1).cast::<f32>();
        assert_eq!(
            npoa_model8_fit(&mut m, raw, 8, y.as_ptr(), 1, &cfg, null_mut()),
            NPOA_ERR_MISALIGNED
        );
        // A length whose byte size overflows is refused before any slice is made.
        assert_eq!(
            npoa_model8_fit(
                &mut m,
                x.as_ptr(),
                usize::MAX,
                y.as_ptr(),
                16,
                &cfg,
                null_mut()
            ),
            NPOA_ERR_LENGTH_MISMATCH
        );
    }
    assert_eq!(m, zero8(), "failed fits leave the model unchanged");
    // Every code has its own message, and unknown codes one too.
    let codes = [
        NPOA_OK,
        NPOA_ERR_NULL,
        NPOA_ERR_BUFFER_TOO_SMALL,
        NPOA_ERR_MISALIGNED,
        NPOA_ERR_NOT_INITIALIZED,
        NPOA_ERR_UNKNOWN_ENUM,
        NPOA_ERR_ZERO_FEATURES,
        NPOA_ERR_EMPTY_BATCH,
        NPOA_ERR_LENGTH_MISMATCH,
        NPOA_ERR_NON_FINITE,
        NPOA_ERR_OVERFLOW,
        NPOA_ERR_INVALID_PARAMETER,
        NPOA_ERR_INVALID_DATA,
        NPOA_ERR_DIVERGED,
        NPOA_ERR_FEATURE_MISMATCH,
        NPOA_ERR_INVALID_BYTES,
        NPOA_ERR_IO,
        NPOA_ERR_UNKNOWN,
    ];
    let text = |c: i32| {
        // SAFETY: npoa_error_message returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(npoa_error_message(c)) }
            .to_str()
            .unwrap()
            .to_owned()
    };
    let mut seen: Vec<String> = codes.iter().map(|&c| text(c as i32)).collect();
    seen.push(text(-5));
    let n = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), n, "messages are distinct");
    assert_eq!(text(1000), "unknown status code");
}

#[test]
fn learner_trains_resets_and_checks_its_handle() {
    let (x, y) = data(4, 64);
    let mut mem = vec![0u64; NPOA_LEARNER4_SIZE / 8];
    let mp = mem.as_mut_ptr().cast::<core::ffi::c_void>();
    let len = mem.len() * 8;
    let cfg = npoa_online_config {
        learning_rate: 0.05,
        ..npoa_online_config_default()
    };
    let mut h: *mut npoa_learner4 = null_mut();
    let zero = npoa_model4 {
        w: [0.0; 4],
        b: 0.0,
        loss: 0,
        loss_param: 0.0,
    };
    let mut m = zero;
    // SAFETY: `mem` outlives every use of `h`, and nothing else touches it meanwhile.
    unsafe {
        assert_eq!(
            npoa_learner4_init(mp, npoa_learner4_size() - 1, &cfg, null(), &mut h),
            NPOA_ERR_BUFFER_TOO_SMALL
        );
        assert_eq!(
            npoa_learner4_init(mp.byte_add(4), len - 8, &cfg, null(), &mut h),
            NPOA_ERR_MISALIGNED
        );
        let bad = npoa_online_config { sampling: 9, ..cfg };
        assert_eq!(
            npoa_learner4_init(mp, len, &bad, null(), &mut h),
            NPOA_ERR_UNKNOWN_ENUM
        );
        let bad = npoa_online_config {
            round_steps: 0,
            ..cfg
        };
        assert_eq!(
            npoa_learner4_init(mp, len, &bad, null(), &mut h),
            NPOA_ERR_INVALID_PARAMETER
        );
        // Zeroed memory, and another D's handle, are not a learner4.
        assert_eq!(
            npoa_learner4_step(mp.cast(), null_mut()),
            NPOA_ERR_NOT_INITIALIZED
        );
        assert!(h.is_null());
        assert_eq!(npoa_learner4_init(mp, len, &cfg, null(), &mut h), NPOA_OK);
        assert_eq!(
            npoa_learner8_step(h.cast(), null_mut()),
            NPOA_ERR_NOT_INITIALIZED
        );

        let mut r = core::mem::zeroed::<npoa_step_report>();
        for t in 0..3000 {
            let i = t % 64;
            assert_eq!(npoa_learner4_push(h, x[i * 4..].as_ptr(), 4, y[i]), NPOA_OK);
            assert_eq!(npoa_learner4_step(h, &mut r), NPOA_OK);
        }
        assert!(r.total_updates > 1000 && r.total_rounds > 100, "{r:?}");
        assert_eq!(npoa_learner4_model(h, &mut m), NPOA_OK);
        for (j, w) in m.w.iter().enumerate() {
            assert!((w - (j as f32 - 1.0)).abs() < 1e-2, "w[{j}] = {w}");
        }
        assert!((m.b - 0.5).abs() < 1e-2);
        let mut best = zero;
        assert_eq!(npoa_learner4_best_model(h, &mut best), NPOA_OK);
        assert!(best.w.iter().all(|w| w.is_finite()));
        let mut p = 0.0f32;
        assert_eq!(npoa_learner4_predict(h, x.as_ptr(), 4, &mut p), NPOA_OK);
        assert!((p - y[0]).abs() < 0.05, "{p} vs {}", y[0]);
        // Bad samples are refused and change nothing.
        assert_eq!(
            npoa_learner4_push(h, x.as_ptr(), 3, 1.0),
            NPOA_ERR_LENGTH_MISMATCH
        );
        assert_eq!(
            npoa_learner4_push(h, x.as_ptr(), 4, f32::NAN),
            NPOA_ERR_NON_FINITE
        );
        assert_eq!(
            npoa_learner4_predict(h, x.as_ptr(), 5, &mut p),
            NPOA_ERR_LENGTH_MISMATCH
        );
        let mut again = zero;
        assert_eq!(npoa_learner4_model(h, &mut again), NPOA_OK);
        assert_eq!(again, m);
        // Reset: back to the starting model, and it trains again the same way.
        assert_eq!(npoa_learner4_reset(h), NPOA_OK);
        assert_eq!(npoa_learner4_model(h, &mut again), NPOA_OK);
        assert_eq!(again, zero);
        for t in 0..3000 {
            let i = t % 64;
            assert_eq!(npoa_learner4_push(h, x[i * 4..].as_ptr(), 4, y[i]), NPOA_OK);
            assert_eq!(npoa_learner4_step(h, null_mut()), NPOA_OK);
        }
        assert_eq!(npoa_learner4_model(h, &mut again), NPOA_OK);
        assert_eq!(again, m, "a reset learner repeats its run bit for bit");
        // A learner from a starting model keeps its loss and starts there.
        let start = npoa_model4 {
            w: [1.0, 2.0, 3.0, 4.0],
            b: -1.0,
            loss: NPOA_LOSS_HUBER,
            loss_param: 1.5,
        };
        assert_eq!(npoa_learner4_init(mp, len, &cfg, &start, &mut h), NPOA_OK);
        assert_eq!(npoa_learner4_model(h, &mut again), NPOA_OK);
        assert_eq!(again, start);
    }
}
