//! Every fused kernel and loss, on shapes that span several accumulation blocks, and on the
//! shapes and values they must refuse.
//!
//! The input is a header (sizes, loss, class count, mistakes to make, a seed) and then values:
//! the first ones come from the input, the rest from a SplitMix64 stream seeded by it, so that a
//! few bytes describe a batch of thousands of rows. Sizes: `d` at the lane boundaries
//! (0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, …) or anywhere up to 400; `n` either small
//! or a multiple of [`block_len`](npoa::kernel::block_len)`(d)` (up to 12 blocks for `d < 8`)
//! plus or minus up to 9 rows, at most 16 384 values of `x` (so the cross-block `f64` sums and
//! the block boundaries are reached); `k` up to 12 classes, or 200–256, or an invalid 0 or > 256.
//!
//! Properties, for both paths (`SCALAR` and `SIMD`) and every kernel entry:
//! * no panic; a bad shape (`d = 0`, `n = 0`, a wrong `x`, `grad_w`, `out`, `grad_b` or `w`
//!   length, `k` outside `1..=256`), a non-finite weight or bias, an invalid softmax label
//!   (negative, non-integer, `≥ K`, NaN, infinite) or a target outside the loss's domain is an
//!   `Err`, the same `Err` on both paths;
//! * a non-finite `x` or `y` is `Err(NonFinite)` naming the same element on both paths;
//! * with finite values of bounded magnitude (`|v| ≤ 4`), every loss of `Loss::ALL` and softmax
//!   is `Ok` and within the documented bound of an `f64` oracle (`src/kernel/mod.rs`,
//!   "Accuracy against exact arithmetic" and "Other losses": the bounds of
//!   `tests/common/mod.rs` and `tests/common/losses.rs`, which this target includes), except a
//!   Poisson loss whose predictions exceed 60, which may overflow (`Err(Overflow)`);
//! * the SIMD path equals, bit for bit, the scalar emulation of its documented summation order
//!   (`tests/common` `emu`, `emu_losses`) whenever it returns `Ok`, for any finite input (the
//!   bit contract; the scalar path sums in another order, so it is held to the oracle bound,
//!   and to the SIMD bits only where the order is the same: predictions with `d < 8`);
//! * `loss`/`mean`/`softmax_loss` give the fused kernel's loss bit for bit, `gradient` its
//!   gradient, `Loss::Squared` the squared-error kernels' bits.
#![no_main]
#![allow(clippy::needless_range_loop)]

#[path = "../../tests/common/mod.rs"]
mod common;
mod input;
#[path = "../../tests/common/losses.rs"]
mod losses;

use common::{Case, SplitMix64, emu};
use input::Input;
use libfuzzer_sys::fuzz_target;
use npoa::Error;
use npoa::kernel::{Kernels, SCALAR, SIMD, block_len};
use npoa::loss::Loss;

/// Feature counts at the lane boundaries of the SIMD path (and `d = 0`, refused).
const DS: [usize; 20] = [
    0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 257, 400,
];
/// Most elements of `x` per input (keeps an input well under a millisecond or two).
const MAX_X: usize = 16_384;
/// Most elements of `x` times classes per softmax input.
const MAX_XK: usize = 16_384;

/// Values that a batch must handle: exact zeros of either sign, subnormals, huge ones
/// (finite: they may overflow), and non-finite ones (always refused).
const SPECIALS: [f32; 10] = [
    -0.0,
    0.0,
    1e-40,
    -1.0e-45,
    1e30,
    -3e38,
    f32::MAX,
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
];

/// Invalid softmax labels (with `K` added for `≥ K`, see `bad_label`).
fn bad_label(sel: u8, k: usize) -> f32 {
    match sel % 7 {
        0 => -1.0,
        1 => 0.5,
        2 => k as f32,
        3 => f32::NAN,
        4 => k as f32 + 0.5,
        5 => 1e9,
        _ => f32::INFINITY,
    }
}

/// The values of a batch: from the input while it lasts, then from a seeded stream.
struct Vals<'a> {
    inp: Input<'a>,
    rng: SplitMix64,
}

impl Vals<'_> {
    fn next(&mut self) -> f32 {
        if self.inp.0.len() >= 2 {
            self.inp.small()
        } else {
            self.rng.sym(4.0)
        }
    }
}

/// A mistake of shape made on purpose.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bad {
    None,
    XLonger,
    XShorter,
    GradW,
    Out,
    GradB,
    WNotMultiple,
}

fn same_err<T: core::fmt::Debug>(what: &str, a: &Result<T, Error>, b: &Result<T, Error>) {
    match (a, b) {
        (Err(x), Err(y)) => assert_eq!(x, y, "{what}: both paths refuse with the same error"),
        _ => panic!("{what}: expected an Err on both paths, got {a:?} / {b:?}"),
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|e| e.to_bits()).collect()
}

/// The squared error's kernels on one path, the input being valid (shapes) and every value
/// finite; `bounded`: `|v| ≤ 4` (then `Ok` is required and the oracle bound checked).
fn squared(p: &Kernels, c: &Case, bounded: bool) -> Option<(f32, f32, Vec<f32>, Vec<f32>)> {
    let (x, y, w, b) = (&c.x[..], &c.y[..], &c.w[..], c.b);
    let (d, n) = (w.len(), y.len());
    let mut g = vec![0.0f32; d];
    let r = (p.fused)(x, y, w, b, &mut g);
    let mut out = vec![0.0f32; n];
    let f = (p.forward)(x, w, b, &mut out);
    let l = (p.loss)(x, y, w, b);
    let mut g2 = vec![f32::NAN; d];
    let gb = (p.gradient)(x, y, w, b, &mut g2);
    let mut g3 = vec![0.0f32; d];
    let viaenum = Loss::Squared.fused(p, x, y, w, b, &mut g3);
    let mean = Loss::Squared.mean(p, x, y, w, b);
    if bounded {
        assert!(r.is_ok() && f.is_ok(), "{}: {r:?} {f:?}", p.name);
        common::check_forward_bound(x, w, b, &out)
            .unwrap_or_else(|e| panic!("{} forward: {e}", p.name));
    }
    match r {
        Ok(lg) => {
            if bounded {
                common::check_fused_bound(x, y, w, b, lg.loss, lg.grad_b, &g)
                    .unwrap_or_else(|e| panic!("{} fused d={d} n={n}: {e}", p.name));
            }
            assert!(
                lg.loss.is_finite() && lg.grad_b.is_finite() && g.iter().all(|v| v.is_finite())
            );
            assert_eq!(
                l.map(f32::to_bits),
                Ok(lg.loss.to_bits()),
                "{}: loss vs fused",
                p.name
            );
            assert_eq!(
                mean.map(f32::to_bits),
                Ok(lg.loss.to_bits()),
                "{}: mean",
                p.name
            );
            assert_eq!(
                gb.map(f32::to_bits),
                Ok(lg.grad_b.to_bits()),
                "{}: gradient",
                p.name
            );
            assert_eq!(
                bits(&g2),
                bits(&g),
                "{}: gradient's grad_w vs fused",
                p.name
            );
            let v = viaenum.expect("Loss::Squared as the kernel");
            assert_eq!(bits(&[v.loss, v.grad_b]), bits(&[lg.loss, lg.grad_b]));
            assert_eq!(bits(&g3), bits(&g));
            Some((lg.loss, lg.grad_b, g, if f.is_ok() { out } else { vec![] }))
        }
        Err(e) => {
            // Finite inputs: only an overflow of the result.
            assert!(matches!(e, Error::Overflow { .. }), "{}: {e:?}", p.name);
            assert!(viaenum.is_err());
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let flags = inp.byte();
    // 0: bounded (|v| ≤ 4), 1: bounded with special values put in, 2: targets near the prediction.
    let specials_on = flags & 1 != 0;
    let near = flags & 2 != 0;
    let d = match inp.byte() % 4 {
        0 | 1 => DS[usize::from(inp.byte()) % DS.len()],
        2 => inp.range(1, 64),
        _ => inp.range(1, 400),
    };
    let blen = block_len(d.max(1));
    let n_sel = inp.byte();
    let n = if n_sel < 224 {
        usize::from(n_sel % 41)
    } else {
        let blocks = usize::from(inp.byte()) % if d < 8 { 13 } else { 5 };
        let delta = i64::from(inp.byte() % 19) - 9;
        (blocks as i64 * blen as i64 + delta).max(0) as usize
    };
    let n = MAX_X.checked_div(d).map_or(n, |cap| n.min(cap));
    let pick = usize::from(inp.byte()) % (Loss::ALL.len() + 1);
    let loss = Loss::ALL.get(pick).copied().unwrap_or(Loss::Squared);
    let pbyte = inp.small();
    let loss = match loss.param_name() {
        None => loss,
        Some(_) => {
            let p = pbyte.abs() + 0.01;
            match loss.with_param(p).validate() {
                Ok(()) => loss.with_param(p),
                Err(_) => loss.with_param(p / 4.02),
            }
        }
    };
    let k = match inp.byte() % 8 {
        0 => inp.range(200, 256),
        1 => [0, 257, 300][inp.range(0, 2)],
        _ => inp.range(1, 12),
    };
    let bad = match inp.byte() % 16 {
        0 => Bad::XLonger,
        1 => Bad::XShorter,
        2 => Bad::GradW,
        3 => Bad::Out,
        4 => Bad::GradB,
        5 => Bad::WNotMultiple,
        _ => Bad::None,
    };
    let nspecial = if specials_on { inp.range(1, 3) } else { 0 };
    let specials: Vec<(u8, u16, f32)> = (0..nspecial)
        .map(|_| {
            let at = inp.byte();
            let pos = u16::from_le_bytes([inp.byte(), inp.byte()]);
            (at, pos, SPECIALS[usize::from(inp.byte()) % SPECIALS.len()])
        })
        .collect();
    let bad_labels = inp.byte() % 4 == 0;
    let label_sel = (inp.byte(), u16::from_le_bytes([inp.byte(), inp.byte()]));
    let poisson_scale = inp.byte() % 4 != 0;
    let seed = u64::from(inp.u32());
    let mut vals = Vals {
        inp: Input(inp.0),
        rng: SplitMix64::new(seed),
    };

    // The batch.
    let mut w: Vec<f32> = (0..d).map(|_| vals.next() * 0.5).collect();
    let mut b = vals.next() * 0.25;
    let mut x: Vec<f32> = (0..n * d).map(|_| vals.next()).collect();
    let mut y: Vec<f32> = if near {
        x.chunks_exact(d.max(1))
            .take(n)
            .map(|row| {
                let p: f64 = row
                    .iter()
                    .zip(&w)
                    .map(|(a, c)| f64::from(*a) * f64::from(*c))
                    .sum();
                (p + f64::from(b)) as f32 + vals.next() * 1e-3
            })
            .collect()
    } else {
        (0..n).map(|_| vals.next() * 2.0).collect()
    };
    if d == 0 {
        y = (0..n).map(|_| vals.next()).collect();
    }
    // Targets in the loss's domain (bounded values): |y| (Poisson counts), |y|/8 clamped to
    // [0, 1] (logistic).
    let mut ty: Vec<f32> = y
        .iter()
        .map(|v| common::target_for(loss, *v / 8.0))
        .collect();
    if loss == Loss::Poisson {
        ty = y.iter().map(|v| v.abs()).collect();
        if poisson_scale && d > 0 {
            let s = 1.0 / d as f32;
            w.iter_mut().for_each(|v| *v *= s);
        }
    }
    for &(at, pos, v) in &specials {
        let pos = usize::from(pos);
        match at % 5 {
            0 if !x.is_empty() => {
                let i = pos % x.len();
                x[i] = v;
            }
            1 if !y.is_empty() => {
                let i = pos % y.len();
                y[i] = v;
                ty[i] = v;
            }
            2 if !w.is_empty() => {
                let i = pos % w.len();
                w[i] = v;
            }
            3 => b = v,
            _ => {}
        }
    }
    let finite_x = x.iter().chain(&y).chain(&ty).all(|v| v.is_finite());
    let finite_p = w.iter().all(|v| v.is_finite()) && b.is_finite();
    let bounded = specials.is_empty();

    // Shapes made wrong on purpose.
    let mut xs = x.clone();
    match bad {
        Bad::XLonger => xs.push(1.0),
        Bad::XShorter if !xs.is_empty() => {
            xs.pop();
        }
        _ => {}
    }
    let glen = if bad == Bad::GradW { d + 1 } else { d };
    let olen = if bad == Bad::Out { n + 1 } else { n };
    let shape_ok = d > 0 && n > 0 && xs.len() == n * d && glen == d;

    // --- The squared error and every point-wise loss -----------------------------------
    if !shape_ok || bad == Bad::Out {
        let mut rs = Vec::new();
        for p in [SCALAR, SIMD] {
            let mut g = vec![0.0f32; glen];
            let mut out = vec![0.0f32; olen];
            rs.push((
                (p.fused)(&xs, &y, &w, b, &mut g).map(|_| ()),
                (p.gradient)(&xs, &y, &w, b, &mut g).map(|_| ()),
                (p.loss)(&xs, &y, &w, b).map(|_| ()),
                (p.forward)(&xs, &w, b, &mut out),
                loss.fused(&p, &xs, &ty, &w, b, &mut g).map(|_| ()),
                loss.mean(&p, &xs, &ty, &w, b).map(|_| ()),
            ));
        }
        let (a, s) = (&rs[0], &rs[1]);
        if d == 0 || olen == 0 || xs.len() != olen * d {
            same_err("forward", &a.3, &s.3);
        }
        if !shape_ok {
            let lossy = xs.len() != n * d || d == 0 || n == 0;
            if lossy {
                same_err("loss", &a.2, &s.2);
                same_err("mean", &a.5, &s.5);
            }
            same_err("fused", &a.0, &s.0);
            same_err("gradient", &a.1, &s.1);
            same_err("loss.fused", &a.4, &s.4);
            let expect = if d == 0 {
                Some(Error::ZeroFeatures)
            } else if n == 0 {
                Some(Error::EmptyBatch)
            } else {
                None
            };
            if let (Some(e), Err(got)) = (expect, &a.0) {
                assert_eq!(*got, e);
            }
        }
    }
    'pointwise: {
        if !shape_ok {
            break 'pointwise;
        }
        let c = Case {
            x: x.clone(),
            y: y.clone(),
            w: w.clone(),
            b,
        };
        if !finite_p {
            for p in [SCALAR, SIMD] {
                let mut g = vec![0.0f32; d];
                let r = (p.fused)(&x, &y, &w, b, &mut g);
                assert!(
                    matches!(r, Err(Error::NonFinite { .. })),
                    "{}: {r:?}",
                    p.name
                );
                let r = loss.fused(&p, &x, &ty, &w, b, &mut g);
                assert!(r.is_err(), "{r:?}");
            }
        } else if !finite_x {
            let mut g = vec![0.0f32; d];
            let a = (SCALAR.fused)(&x, &y, &w, b, &mut g);
            let s = (SIMD.fused)(&x, &y, &w, b, &mut g);
            let yfinite = y.iter().all(|v| v.is_finite());
            if !yfinite || x.iter().any(|v| !v.is_finite()) {
                same_err("fused on non-finite data", &a, &s);
                assert!(matches!(a, Err(Error::NonFinite { .. })), "{a:?}");
            }
            let a = loss.fused(&SCALAR, &x, &ty, &w, b, &mut g);
            let s = loss.fused(&SIMD, &x, &ty, &w, b, &mut g);
            same_err("loss.fused on non-finite data", &a, &s);
        } else {
            // Finite everything: the bit contract of the SIMD path, always; the oracle bound when
            // bounded.
            let sc = squared(&SCALAR, &c, bounded);
            let si = squared(&SIMD, &c, bounded);
            if let Some((l, gb, g, out)) = &si {
                let e = emu::fused(&x, &y, &w, b);
                assert_eq!(
                    bits(&[*l, *gb]),
                    bits(&[e.loss, e.grad_b]),
                    "simd squared error vs the documented order, d={d} n={n}"
                );
                assert_eq!(
                    bits(g),
                    bits(&e.grad_w),
                    "simd grad_w vs the documented order"
                );
                if !out.is_empty() {
                    assert_eq!(bits(out), bits(&emu::forward(&x, &w, b)), "simd forward");
                    if let Some((_, _, _, so)) = &sc
                        && d < 8
                        && !so.is_empty()
                    {
                        assert_eq!(bits(so), bits(out), "d < 8: scalar and simd predictions");
                    }
                }
            }
            if loss != Loss::Squared && loss.check_targets(&ty).is_err() {
                // A special value put into the targets (a negative subnormal or -3e38 for the
                // Poisson or logistic loss) is outside the domain.
                let mut g = vec![0.0f32; d];
                let a = loss.fused(&SCALAR, &x, &ty, &w, b, &mut g);
                let s = loss.fused(&SIMD, &x, &ty, &w, b, &mut g);
                same_err("targets outside the domain", &a, &s);
                assert!(matches!(a, Err(Error::InvalidData { .. })), "{a:?}");
            } else if loss != Loss::Squared {
                let tc = Case {
                    y: ty.clone(),
                    ..c.clone()
                };
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
                for p in [SCALAR, SIMD] {
                    let mut g = vec![0.0f32; d];
                    let r = loss.fused(&p, &x, &ty, &w, b, &mut g);
                    let m = loss.mean(&p, &x, &ty, &w, b);
                    match &r {
                        Ok(lg) => {
                            assert_eq!(
                                m.map(f32::to_bits),
                                Ok(lg.loss.to_bits()),
                                "{}: mean",
                                p.name
                            );
                            if bounded {
                                losses::check_glm(loss, &tc, &p).unwrap_or_else(|e| {
                                    panic!("{} {loss:?} d={d} n={n}: {e}", p.name)
                                });
                            }
                            if p.name == "simd" {
                                losses::check_emulated_glm(loss, &tc)
                                    .unwrap_or_else(|e| panic!("{loss:?} d={d} n={n}: {e}"));
                            }
                        }
                        Err(Error::Overflow { .. }) if loss == Loss::Poisson && z_max > 60.0 => {}
                        Err(Error::Overflow { .. }) if !bounded => {}
                        Err(e) => panic!("{} {loss:?} d={d} n={n}: {e:?}", p.name),
                    }
                }
            }
            // Targets outside the domain are refused, the same way on both paths.
            if matches!(loss, Loss::Poisson | Loss::Logistic) && y.iter().any(|v| *v < 0.0) {
                let mut g = vec![0.0f32; d];
                let a = loss.fused(&SCALAR, &x, &y, &w, b, &mut g);
                let s = loss.fused(&SIMD, &x, &y, &w, b, &mut g);
                same_err("targets outside the domain", &a, &s);
                assert!(matches!(a, Err(Error::InvalidData { .. })), "{a:?}");
            }
        }
    }

    // --- Softmax ---------------------------------------------------------------------------
    // At most 2048/k features (one row's k logits within the kernel's block buffer), and
    // n·d·k ≤ MAX_XK: still two blocks of `softmax_block_len` for small d.
    let ds = if d > 0 {
        d.min((2048 / k.max(1)).max(1))
    } else {
        0
    };
    let n = if ds * k > 0 && n > 0 {
        n.min(MAX_XK / (ds * k)).max(1)
    } else {
        n
    };
    let x: Vec<f32> = if d > 0 {
        x.chunks_exact(d)
            .take(n)
            .flat_map(|r| r[..ds].iter().copied())
            .collect()
    } else {
        Vec::new()
    };
    let (x, d) = (&x[..], ds);
    let mut labels: Vec<f32> = (0..n)
        .map(|i| {
            let v = y.get(i).copied().unwrap_or(0.0);
            if v.is_finite() {
                ((v.abs() * 64.0) as usize % k.max(1)) as f32
            } else {
                v
            }
        })
        .collect();
    if bad_labels && !labels.is_empty() {
        let i = usize::from(label_sel.1) % labels.len();
        labels[i] = if label_sel.0 % 8 == 0 {
            -0.0 // valid: class 0
        } else {
            bad_label(label_sel.0, k)
        };
    }
    let labels_ok = labels
        .iter()
        .all(|&v| v >= 0.0 && v < k as f32 && v.fract() == 0.0);
    let wlen = if bad == Bad::WNotMultiple {
        k * d + 1
    } else {
        k * d
    };
    let wk: Vec<f32> = (0..wlen)
        .map(|i| {
            if d == 0 {
                1.0
            } else {
                w[i % d] * (1.0 + (i / d) as f32 / 8.0)
            }
        })
        .collect();
    let bk: Vec<f32> = (0..k).map(|c| b - c as f32 / 8.0).collect();
    let gwl = if bad == Bad::GradW { k * d + 1 } else { k * d };
    let gbl = if bad == Bad::GradB { k + 1 } else { k };
    let x_ok = x.len() == n * d && !matches!(bad, Bad::XLonger | Bad::XShorter);
    let xs: Vec<f32> = match bad {
        Bad::XLonger => x.iter().copied().chain([1.0]).collect(),
        Bad::XShorter if !x.is_empty() => x[..x.len() - 1].to_vec(),
        _ => x.to_vec(),
    };
    let valid_shape = (1..=256).contains(&k)
        && d > 0
        && n > 0
        && x_ok
        && wlen == k * d
        && gwl == k * d
        && gbl == k;
    let mut rs = Vec::new();
    for p in [SCALAR, SIMD] {
        let (mut gw, mut gb) = (vec![0.0f32; gwl], vec![0.0f32; gbl]);
        let f = (p.softmax_fused)(&xs, &labels, &wk, &bk, &mut gw, &mut gb);
        let l = (p.softmax_loss)(&xs, &labels, &wk, &bk);
        rs.push((f, l, gw, gb));
    }
    let finite_all = xs.iter().chain(&wk).chain(&bk).all(|v| v.is_finite());
    if !valid_shape || !labels_ok || !finite_all {
        // An Err (labels and shapes are checked before the pass); the same one on both paths,
        // except where the pass itself found a non-finite x (both name the same element).
        let loss_only_ok = (1..=256).contains(&k) && d > 0 && n > 0 && x_ok && wlen == k * d;
        if !loss_only_ok || !labels_ok || !finite_all {
            same_err("softmax_loss", &rs[0].1, &rs[1].1);
        }
        same_err("softmax_fused", &rs[0].0, &rs[1].0);
        if (1..=256).contains(&k) && d > 0 && n > 0 && x_ok && wlen == k * d && !labels_ok {
            assert!(
                matches!(
                    rs[0].1,
                    Err(Error::InvalidData { .. }) | Err(Error::NonFinite { .. })
                ),
                "{:?}",
                rs[0].1
            );
        }
        if !(1..=256).contains(&k) {
            assert!(matches!(
                rs[0].0,
                Err(Error::InvalidParameter {
                    name: "classes",
                    ..
                })
            ));
        }
        return;
    }
    let sc = losses::SoftCase {
        x: x.to_vec(),
        y: labels.clone(),
        w: wk.clone(),
        b: bk.clone(),
        d,
    };
    for (i, p) in [SCALAR, SIMD].iter().enumerate() {
        match &rs[i].0 {
            Ok(l) => {
                assert_eq!(
                    rs[i].1.map(f32::to_bits),
                    Ok(l.to_bits()),
                    "{}: softmax_loss",
                    p.name
                );
                if bounded {
                    losses::check_softmax(&sc, p)
                        .unwrap_or_else(|e| panic!("{} softmax k={k} d={d} n={n}: {e}", p.name));
                }
            }
            Err(Error::Overflow { .. }) if !bounded => {}
            Err(e) => panic!("{} softmax k={k} d={d} n={n}: {e:?}", p.name),
        }
    }
    if rs[1].0.is_ok() {
        losses::check_emulated_softmax(&sc)
            .unwrap_or_else(|e| panic!("softmax k={k} d={d} n={n}: {e}"));
    }
});
