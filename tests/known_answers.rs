//! Known-answer tests: the exact bits of the SIMD path on fixed, seeded inputs.
//!
//! The inputs come from the local SplitMix64 generator of `tests/common` (no dependence on a
//! crate version or a platform). The constants below were produced once by the SIMD kernels and
//! are **also** reproduced by the canonical-order emulator `common::emu` (a scalar reading of the
//! documented contract), so they are the contract's answers, not just "what the code printed".
//!
//! The same constants must hold with default flags (SSE2 on x86-64) and with
//! `RUSTFLAGS="-C target-cpu=native"` (AVX2 / AVX-512), on NEON and on `wide`'s portable
//! fallback: that is the cross-target bit-identity promise.
//!
//! To regenerate after an intentional change of the contract:
//! `cargo test --test known_answers -- --ignored --nocapture print_known_answers` (and
//! `print_known_loss_answers` for the quantile and Poisson table, whose bits the point-wise
//! order emulator of `tests/loss_kernels.rs` reproduces, and `print_adagrad_known_answers`
//! for the AdaGrad update rule's digests, reproduced by a scalar reading of its formula).

mod common;

use common::{Case, SplitMix64, emu, fnv1a};
use npoa::kernel;
use npoa::loss::Loss;
use npoa::optim::{self, Regularization, Rule, StepScalars};
use npoa::train::{Dataset, TrainConfig, fit};

/// Expected bits for one `(d, n)` case.
struct Known {
    d: usize,
    n: usize,
    /// `L`.
    loss: u32,
    /// `∂L/∂b`.
    grad_b: u32,
    /// FNV-1a of the bits of every `∂L/∂w_j`.
    grad_w_fnv: u64,
    /// Bits of the first (up to) three `∂L/∂w_j`.
    grad_w_head: &'static [u32],
    /// FNV-1a of the bits of every prediction of `forward`.
    forward_fnv: u64,
}

/// Seed of the inputs of case `(d, n)`; odd `d` gets targets close to the predictions (small
/// residuals), even `d` unrelated targets.
fn inputs(d: usize, n: usize) -> Case {
    Case::random(
        d,
        n,
        0x5eed_0000 + (d as u64) * 10_007 + n as u64,
        d % 2 == 1,
    )
}

/// What the SIMD kernels give, as `(loss, grad_b, grad_w, forward)`.
fn simd_bits(c: &Case) -> (f32, f32, Vec<f32>, Vec<f32>) {
    let mut gw = vec![0.0f32; c.d()];
    let lg = kernel::fused(&c.x, &c.y, &c.w, c.b, &mut gw).unwrap();
    // The separate kernels give the same bits as the fused one.
    let l = kernel::loss(&c.x, &c.y, &c.w, c.b).unwrap();
    assert_eq!(l.to_bits(), lg.loss.to_bits(), "loss()");
    let mut gw2 = vec![0.0f32; c.d()];
    let gb = kernel::gradient(&c.x, &c.y, &c.w, c.b, &mut gw2).unwrap();
    assert_eq!(gb.to_bits(), lg.grad_b.to_bits(), "gradient() grad_b");
    assert_eq!(fnv1a(&gw2), fnv1a(&gw), "gradient() grad_w");
    let mut out = vec![0.0f32; c.n()];
    kernel::forward(&c.x, &c.w, c.b, &mut out).unwrap();
    (lg.loss, lg.grad_b, gw, out)
}

fn check(k: &Known, what: &str, loss: f32, grad_b: f32, grad_w: &[f32], pred: &[f32]) {
    let ctx = format!("{what}, d = {}, n = {}", k.d, k.n);
    assert_eq!(loss.to_bits(), k.loss, "loss ({loss:e}), {ctx}");
    assert_eq!(grad_b.to_bits(), k.grad_b, "grad_b ({grad_b:e}), {ctx}");
    assert_eq!(fnv1a(grad_w), k.grad_w_fnv, "grad_w checksum, {ctx}");
    let head: Vec<u32> = grad_w.iter().take(3).map(|g| g.to_bits()).collect();
    assert_eq!(head, k.grad_w_head, "grad_w[..3], {ctx}");
    assert_eq!(fnv1a(pred), k.forward_fnv, "forward checksum, {ctx}");
}

/// Both regimes (`d < 8`, `d ≥ 8`), partial groups of 8, partial feature chunks, one and many
/// blocks (`block_len` is 256 for `d ≤ 32`, 80 for `d = 100`, 8 for `d = 1024`).
#[rustfmt::skip]
const KNOWN: &[Known] = &[
    Known { d: 1, n: 1000, loss: 0x3805d11a, grad_b: 0xb73b26a8, grad_w_fnv: 0x86d62fd94171fdc4, grad_w_head: &[0xb9bbb415], forward_fnv: 0xbbcc815792ac7548 },
    Known { d: 3, n: 77, loss: 0x38186be8, grad_b: 0x3b0ac1b1, grad_w_fnv: 0xbb84115b573d0e8e, grad_w_head: &[0xb9c6602f, 0x3a80e4f8, 0xbb897d38], forward_fnv: 0x14f3eb190d0dad33 },
    Known { d: 4, n: 513, loss: 0x41fc317d, grad_b: 0xc00de1f8, grad_w_fnv: 0xf350fef4b6ef5925, grad_w_head: &[0xbfb29a01, 0x40d31496, 0x40b9a4e6], forward_fnv: 0x8da8ccb6916fd770 },
    Known { d: 7, n: 300, loss: 0x3801b2f0, grad_b: 0x3a0e5cdb, grad_w_fnv: 0xa7ca26560b0d22cd, grad_w_head: &[0xb7949cb2, 0xbae74535, 0xba57acab], forward_fnv: 0x6a081e88b05daa3d },
    Known { d: 8, n: 300, loss: 0x42880960, grad_b: 0xc01ded5c, grad_w_fnv: 0x1719186c43536a84, grad_w_head: &[0xc18244e8, 0x3f1153d9, 0xc0c5afcd], forward_fnv: 0x1a2723c0f5414aef },
    Known { d: 9, n: 257, loss: 0x38106894, grad_b: 0x39ec053c, grad_w_fnv: 0x058b8815b6560216, grad_w_head: &[0xbaceb7c0, 0xba498ec1, 0xbb25b53c], forward_fnv: 0x1e4ebee3c0aaa28f },
    Known { d: 17, n: 129, loss: 0x3801e8b4, grad_b: 0xbaa6ef9b, grad_w_fnv: 0x84494ee6984b29db, grad_w_head: &[0x3b01c9ed, 0xba77e620, 0xb9ce7e13], forward_fnv: 0xc59425301cf47a0d },
    Known { d: 32, n: 1000, loss: 0x43a34282, grad_b: 0x3f63214e, grad_w_fnv: 0x1d8d74ca711eff3f, grad_w_head: &[0x415412c1, 0x4182d139, 0xc01eeb8c], forward_fnv: 0xc338c171b61a2c6b },
    Known { d: 100, n: 200, loss: 0x43d68928, grad_b: 0x3fb8e6a1, grad_w_fnv: 0x33df1e4a72370b55, grad_w_head: &[0xbebb47ae, 0xc00be9c7, 0x406315dc], forward_fnv: 0x3287465d5023a6ce },
    Known { d: 1024, n: 20, loss: 0x45ad999e, grad_b: 0xc24eb29a, grad_w_fnv: 0x0dd816526ef3a5f3, grad_w_head: &[0x3f235833, 0xc231ba88, 0xc30e3ebd], forward_fnv: 0x03993527b0c9ac38 },
];

#[test]
fn cases_cover_both_regimes_and_many_blocks() {
    assert!(
        KNOWN
            .iter()
            .any(|k| k.d < 8 && k.n > kernel::block_len(k.d))
    );
    assert!(
        KNOWN
            .iter()
            .any(|k| k.d >= 8 && k.n > 3 * kernel::block_len(k.d))
    );
    assert!(KNOWN.iter().any(|k| k.d >= 8 && k.d % 8 != 0));
    assert!(KNOWN.iter().any(|k| k.n % 8 != 0));
}

#[test]
fn simd_kernels_give_the_known_bits() {
    for k in KNOWN {
        let c = inputs(k.d, k.n);
        let (loss, grad_b, grad_w, pred) = simd_bits(&c);
        check(k, "simd", loss, grad_b, &grad_w, &pred);
    }
}

#[test]
fn emulator_gives_the_known_bits() {
    for k in KNOWN {
        let c = inputs(k.d, k.n);
        let e = emu::fused(&c.x, &c.y, &c.w, c.b);
        check(
            k,
            "emulator",
            e.loss,
            e.grad_b,
            &e.grad_w,
            &emu::forward(&c.x, &c.w, c.b),
        );
    }
}

/// The known answers are also correct answers: within the documented bounds of the `f64` oracle.
#[test]
fn known_answers_are_within_the_bounds() {
    for k in KNOWN {
        let c = inputs(k.d, k.n);
        let (loss, grad_b, grad_w, pred) = simd_bits(&c);
        common::check_fused_bound(&c.x, &c.y, &c.w, c.b, loss, grad_b, &grad_w).unwrap();
        common::check_forward_bound(&c.x, &c.w, c.b, &pred).unwrap();
    }
}

/// The input generator itself is pinned, so that a change in it cannot masquerade as a kernel
/// change.
#[test]
fn input_generator_is_pinned() {
    let mut g = common::SplitMix64::new(0);
    assert_eq!(g.next_u64(), 0xe220_a839_7b1d_cdaf);
    assert_eq!(g.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    let c = inputs(3, 77);
    assert_eq!(fnv1a(&c.x), INPUT_FNV_3_77.0);
    assert_eq!(fnv1a(&c.y), INPUT_FNV_3_77.1);
    assert_eq!(fnv1a(&c.w), INPUT_FNV_3_77.2);
    assert_eq!(c.b.to_bits(), INPUT_FNV_3_77.3);
}

/// `(fnv(x), fnv(y), fnv(w), b bits)` of `inputs(3, 77)`.
const INPUT_FNV_3_77: (u64, u64, u64, u32) = (
    0x8038e5857e5ab548,
    0x56c7dc3cb8556e78,
    0x07970a0a4f9034c1,
    0xbe5941e8,
);

/// Prints the table above from the SIMD kernels (after checking the emulator agrees).
#[test]
#[ignore = "generator of the constants, run by hand"]
fn print_known_answers() {
    let cases = [
        (1usize, 1000usize),
        (3, 77),
        (4, 513),
        (7, 300),
        (8, 300),
        (9, 257),
        (17, 129),
        (32, 1000),
        (100, 200),
        (1024, 20),
    ];
    for (d, n) in cases {
        let c = inputs(d, n);
        let (loss, grad_b, grad_w, pred) = simd_bits(&c);
        let e = emu::fused(&c.x, &c.y, &c.w, c.b);
        assert_eq!(e.loss.to_bits(), loss.to_bits());
        assert_eq!(e.grad_b.to_bits(), grad_b.to_bits());
        assert_eq!(fnv1a(&e.grad_w), fnv1a(&grad_w));
        assert_eq!(fnv1a(&emu::forward(&c.x, &c.w, c.b)), fnv1a(&pred));
        let head: Vec<String> = grad_w
            .iter()
            .take(3)
            .map(|g| format!("{:#010x}", g.to_bits()))
            .collect();
        println!(
            "    Known {{ d: {d}, n: {n}, loss: {:#010x}, grad_b: {:#010x}, grad_w_fnv: {:#018x}, grad_w_head: &[{}], forward_fnv: {:#018x} }},",
            loss.to_bits(),
            grad_b.to_bits(),
            fnv1a(&grad_w),
            head.join(", "),
            fnv1a(&pred)
        );
    }
    let c = inputs(3, 77);
    println!(
        "const INPUT_FNV_3_77: (u64, u64, u64, u32) = ({:#018x}, {:#018x}, {:#018x}, {:#010x});",
        fnv1a(&c.x),
        fnv1a(&c.y),
        fnv1a(&c.w),
        c.b.to_bits()
    );
}

// ---------------------------------------------------------------------------------------------
// The point-wise losses added through the registry (quantile, Poisson)
// ---------------------------------------------------------------------------------------------

/// Expected bits of `Loss::fused` on the SIMD path for one loss and `(d, n)` case.
struct KnownLoss {
    loss: Loss,
    d: usize,
    n: usize,
    /// `L`.
    loss_bits: u32,
    /// `∂L/∂b`.
    grad_b: u32,
    /// FNV-1a of the bits of every `∂L/∂w_j`.
    grad_w_fnv: u64,
    /// Bits of the first (up to) three `∂L/∂w_j`.
    grad_w_head: &'static [u32],
}

/// The inputs of `(d, n)` as above, made valid for `loss` (Poisson: counts, and weights
/// divided by `d`, see `common::poisson_case`).
fn loss_inputs(loss: Loss, d: usize, n: usize) -> Case {
    let mut c = inputs(d, n);
    if loss == Loss::Poisson {
        common::poisson_case(&mut c, (d * 10_007 + n) as u64);
    }
    c
}

/// `(L, ∂L/∂b, ∂L/∂w)` of the SIMD path; the loss-only kernel gives the same loss bits.
fn loss_bits(loss: Loss, c: &Case) -> (f32, f32, Vec<f32>) {
    let mut gw = vec![0.0f32; c.d()];
    let lg = loss
        .fused(&kernel::SIMD, &c.x, &c.y, &c.w, c.b, &mut gw)
        .unwrap();
    let l = loss.mean(&kernel::SIMD, &c.x, &c.y, &c.w, c.b).unwrap();
    assert_eq!(l.to_bits(), lg.loss.to_bits(), "{loss:?}: mean()");
    (lg.loss, lg.grad_b, gw)
}

/// Both regimes (`d < 8`, `d ≥ 8`), partial groups of 8 and feature chunks, several blocks;
/// `τ = 0.1` (where `1 − τ` is rounded in `f32`) and `τ = 0.9`; odd `d` has targets near the
/// predictions (residuals at the quantile kink).
#[rustfmt::skip]
const KNOWN_LOSSES: &[KnownLoss] = &[
    KnownLoss { loss: Loss::Quantile { tau: 0.9 }, d: 1, n: 1000, loss_bits: 0x3b206770, grad_b: 0xbecbc6a5, grad_w_fnv: 0x421edadfca1f8ea8, grad_w_head: &[0xbc8a95a8] },
    KnownLoss { loss: Loss::Quantile { tau: 0.9 }, d: 7, n: 300, loss_bits: 0x3b153829, grad_b: 0xbec44442, grad_w_fnv: 0xe2f4f8ae80788344, grad_w_head: &[0x3d9eccf8, 0xbd8db9b9, 0xbdcdd3e2] },
    KnownLoss { loss: Loss::Quantile { tau: 0.9 }, d: 9, n: 257, loss_bits: 0x3b21ba3b, grad_b: 0xbebddbbb, grad_w_fnv: 0xfbbc90b4f4068593, grad_w_head: &[0xbd8f2bda, 0xbcadffdf, 0xbe1f3db1] },
    KnownLoss { loss: Loss::Quantile { tau: 0.9 }, d: 100, n: 200, loss_bits: 0x40ff3807, grad_b: 0xbec00000, grad_w_fnv: 0x1342ca2a8ba849fb, grad_w_head: &[0x3cf8afa9, 0xbdb0eba4, 0x3cbcb18f] },
    KnownLoss { loss: Loss::Quantile { tau: 0.1 }, d: 3, n: 77, loss_bits: 0x3b4bf4ba, grad_b: 0x3ef15f17, grad_w_fnv: 0x5435f7a892c7fb7e, grad_w_head: &[0xbdf80528, 0xbd373866, 0xbea09897] },
    KnownLoss { loss: Loss::Quantile { tau: 0.1 }, d: 17, n: 129, loss_bits: 0x3b0a7d21, grad_b: 0x3eb6f877, grad_w_fnv: 0xcc402fc875ec1086, grad_w_head: &[0x3e30369e, 0xbc715c18, 0xbd1c9bd4] },
    KnownLoss { loss: Loss::Poisson, d: 1, n: 1000, loss_bits: 0x42b6edc6, grad_b: 0x42b38db6, grad_w_fnv: 0x2c51cf193076dcca, grad_w_head: &[0xc39c32f4] },
    KnownLoss { loss: Loss::Poisson, d: 4, n: 513, loss_bits: 0x401e4870, grad_b: 0xbfd1a8b5, grad_w_fnv: 0xa4eee29bb7779fc4, grad_w_head: &[0x3ba74c49, 0x3f46e557, 0x3d9ab04e] },
    KnownLoss { loss: Loss::Poisson, d: 8, n: 300, loss_bits: 0x3ff4c8e5, grad_b: 0xbf9c06ec, grad_w_fnv: 0x7bcd3cdfd6137cc4, grad_w_head: &[0xbf0fea6f, 0xbc2f37bf, 0xbf0b62ba] },
    KnownLoss { loss: Loss::Poisson, d: 17, n: 129, loss_bits: 0x3fb607b7, grad_b: 0xbf952b7b, grad_w_fnv: 0x99949399cf38efc2, grad_w_head: &[0xbf177967, 0xbeb99d10, 0xbf225ae5] },
    KnownLoss { loss: Loss::Poisson, d: 32, n: 1000, loss_bits: 0x3f88c308, grad_b: 0xbf70561e, grad_w_fnv: 0x5972b015854c3378, grad_w_head: &[0x3eeab6d6, 0x3ebc5d29, 0x3ddc6fc4] },
    KnownLoss { loss: Loss::Poisson, d: 100, n: 200, loss_bits: 0x3f6eedfe, grad_b: 0xbf2eb944, grad_w_fnv: 0x55647ec3e46fb886, grad_w_head: &[0x3e83b704, 0x3e0b2d1f, 0xbf20f549] },
];

/// The cases of [`KNOWN_LOSSES`].
const LOSS_CASES: [(Loss, usize, usize); 12] = [
    (Loss::Quantile { tau: 0.9 }, 1, 1000),
    (Loss::Quantile { tau: 0.9 }, 7, 300),
    (Loss::Quantile { tau: 0.9 }, 9, 257),
    (Loss::Quantile { tau: 0.9 }, 100, 200),
    (Loss::Quantile { tau: 0.1 }, 3, 77),
    (Loss::Quantile { tau: 0.1 }, 17, 129),
    (Loss::Poisson, 1, 1000),
    (Loss::Poisson, 4, 513),
    (Loss::Poisson, 8, 300),
    (Loss::Poisson, 17, 129),
    (Loss::Poisson, 32, 1000),
    (Loss::Poisson, 100, 200),
];

#[test]
fn simd_losses_give_the_known_bits() {
    assert_eq!(KNOWN_LOSSES.len(), LOSS_CASES.len(), "regenerate the table");
    for (k, &(loss, d, n)) in KNOWN_LOSSES.iter().zip(&LOSS_CASES) {
        assert_eq!((k.loss, k.d, k.n), (loss, d, n));
        let c = loss_inputs(loss, d, n);
        let (l, gb, gw) = loss_bits(loss, &c);
        let ctx = format!("{loss:?}, d = {d}, n = {n}");
        assert_eq!(l.to_bits(), k.loss_bits, "loss ({l:e}), {ctx}");
        assert_eq!(gb.to_bits(), k.grad_b, "grad_b ({gb:e}), {ctx}");
        assert_eq!(fnv1a(&gw), k.grad_w_fnv, "grad_w checksum, {ctx}");
        let head: Vec<u32> = gw.iter().take(3).map(|g| g.to_bits()).collect();
        assert_eq!(head, k.grad_w_head, "grad_w[..3], {ctx}");
    }
}

/// The known answers are close to an `f64` oracle written from the definitions (the tight
/// bounds, and the bit-for-bit agreement with the documented order, are checked on these
/// losses in `tests/loss_kernels.rs`): within `1e-5` relative plus, for the gradient of the
/// quantile loss, one subgradient jump per sample whose residual is within `1e-5` of the kink.
#[test]
fn known_loss_answers_are_close_to_the_oracle() {
    for &(loss, d, n) in &LOSS_CASES {
        let c = loss_inputs(loss, d, n);
        let (l, gb, gw) = loss_bits(loss, &c);
        let (mut el, mut egb, mut kinks) = (0.0f64, 0.0f64, 0usize);
        let mut egw = vec![0.0f64; d];
        let mut scale = 0.0f64;
        for i in 0..n {
            let row = &c.x[i * d..(i + 1) * d];
            let z: f64 = row
                .iter()
                .zip(&c.w)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum::<f64>()
                + f64::from(c.b);
            let y = f64::from(c.y[i]);
            let (li, gi) = match loss {
                Loss::Quantile { tau } => {
                    let (t, u) = (f64::from(tau), y - z);
                    if (z - y).abs() < 1e-5 {
                        kinks += 1;
                    }
                    let g = if z > y {
                        1.0 - t
                    } else if z < y {
                        -t
                    } else {
                        0.0
                    };
                    (if u >= 0.0 { t * u } else { (t - 1.0) * u }, g)
                }
                Loss::Poisson => (z.exp() - y * z, z.exp() - y),
                _ => unreachable!(),
            };
            el += li;
            egb += gi;
            scale += li.abs() + gi.abs() + z.exp().min(1e6);
            for (g, xj) in egw.iter_mut().zip(row) {
                *g += gi * f64::from(*xj);
            }
        }
        let nf = n as f64;
        let tol = 1e-5 * (1.0 + scale / nf);
        let jump = kinks as f64 / nf;
        let ctx = format!("{loss:?}, d = {d}, n = {n}");
        assert!(
            (f64::from(l) - el / nf).abs() <= tol,
            "loss {l} vs {}, {ctx}",
            el / nf
        );
        assert!(
            (f64::from(gb) - egb / nf).abs() <= tol + jump,
            "grad_b, {ctx}"
        );
        for (j, (g, e)) in gw.iter().zip(&egw).enumerate() {
            assert!(
                (f64::from(*g) - e / nf).abs() <= 4.0 * (tol + jump),
                "grad_w[{j}] {g} vs {}, {ctx}",
                e / nf
            );
        }
    }
}

/// Prints [`KNOWN_LOSSES`] from the SIMD kernels.
#[test]
#[ignore = "generator of the constants, run by hand"]
fn print_known_loss_answers() {
    for &(loss, d, n) in &LOSS_CASES {
        let c = loss_inputs(loss, d, n);
        let (l, gb, gw) = loss_bits(loss, &c);
        let head: Vec<String> = gw
            .iter()
            .take(3)
            .map(|g| format!("{:#010x}", g.to_bits()))
            .collect();
        println!(
            "    KnownLoss {{ loss: Loss::{loss:?}, d: {d}, n: {n}, loss_bits: {:#010x}, grad_b: {:#010x}, grad_w_fnv: {:#018x}, grad_w_head: &[{}] }},",
            l.to_bits(),
            gb.to_bits(),
            fnv1a(&gw),
            head.join(", ")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// AdaGrad: the update rule's bits
// ---------------------------------------------------------------------------------------------

/// The penalty of the AdaGrad cases: the elastic net and a box, so that every branch of the
/// per-coordinate prox runs.
const ADAGRAD_REG: Regularization = Regularization {
    l1: 0.5,
    l2: 0.1,
    bias: false,
    bounds: Some((-0.75, 0.625)),
};

/// One AdaGrad step as the contract writes it, one separate IEEE `f32` operation at a time
/// (`sqrt` is correctly rounded): `G ← G + g·g`, `d = √G + ε`, `u = w − η·(g/d)`, `h = η/d`,
/// `w ← clamp(soft(u, h·λ1)/(1 + h·λ2), lo, hi)`.
fn adagrad_emu(w: &mut [f32], sum: &mut [f32], g: &[f32], lr: f32, eps: f32, reg: &Regularization) {
    for ((w, s), g) in w.iter_mut().zip(sum.iter_mut()).zip(g) {
        *s += g * g;
        let d = s.sqrt() + eps;
        let u = *w - lr * (g / d);
        let h = lr / d;
        let mag = u.abs() - h * reg.l1;
        let soft = if mag > 0.0 {
            if u > 0.0 { mag } else { -mag }
        } else {
            0.0
        };
        let mut v = soft / (1.0 + h * reg.l2);
        if let Some((lo, hi)) = reg.bounds {
            v = if v < lo {
                lo
            } else if v > hi {
                hi
            } else {
                v
            };
        }
        *w = v;
    }
}

/// 64 steps on 45 coordinates (five SIMD chunks and a tail) from seeded weights and gradients
/// at `η = 0.5`, `ε = 1e-10`: `(fnv(w), fnv(G))` on the SIMD path, the scalar path, or the
/// emulator.
fn adagrad_case(path: &str) -> (u64, u64) {
    let n = 45;
    let mut g = SplitMix64::new(0xada_6a0d);
    let mut w: Vec<f32> = (0..n).map(|_| g.sym(2.0)).collect();
    let mut sum = vec![0.0f32; n];
    let (lr, eps) = (0.5f32, 1e-10f32);
    for t in 1..=64u64 {
        // A drift on two coordinates in three (towards a bound), noise of several scales.
        let drift = [-1.0f32, 1.0, 0.0];
        let grad: Vec<f32> = (0..n)
            .map(|i| drift[i % 3] + g.sym(0.5 + i as f32 / 8.0))
            .collect();
        let s = StepScalars::new(Rule::ADAGRAD, Some(&ADAGRAD_REG), lr, t);
        match path {
            "simd" => assert_eq!(
                optim::simd::update(&s, &mut w, &grad, &mut sum, &mut []),
                Ok(true)
            ),
            "scalar" => assert_eq!(
                optim::scalar::update(&s, &mut w, &grad, &mut sum, &mut []),
                Ok(true)
            ),
            _ => adagrad_emu(&mut w, &mut sum, &grad, lr, eps, &ADAGRAD_REG),
        }
    }
    assert!(
        w.contains(&0.0) && w.contains(&0.625) && w.contains(&-0.75),
        "{w:?}"
    );
    (fnv1a(&w), fnv1a(&sum))
}

/// A full-batch AdaGrad fit of `LinearModel<9>` on the `(9, 257)` kernel case (small
/// residuals), 30 epochs at `η = 0.1` with the same penalty: `(fnv(w), bias bits)` and the
/// same with the emulators (the kernel's and the rule's, the bias unpenalised and unbounded).
fn adagrad_fit(emulated: bool) -> (u64, u32) {
    const D: usize = 9;
    let c = inputs(D, 257);
    let (lr, eps) = (0.1f32, 1e-10f32);
    if emulated {
        let (mut w, mut b) = (vec![0.0f32; D], 0.0f32);
        let (mut gw, mut gb) = (vec![0.0f32; D], [0.0f32]);
        for _ in 0..30 {
            let e = emu::fused(&c.x, &c.y, &w, b);
            adagrad_emu(&mut w, &mut gw, &e.grad_w, lr, eps, &ADAGRAD_REG);
            let mut bs = [b];
            adagrad_emu(
                &mut bs,
                &mut gb,
                &[e.grad_b],
                lr,
                eps,
                &Regularization::NONE,
            );
            b = bs[0];
        }
        return (fnv1a(&w), b.to_bits());
    }
    let data = Dataset::new(&c.x, &c.y, D).unwrap();
    let cfg = TrainConfig {
        learning_rate: lr,
        epochs: 30,
        batch_size: c.n(),
        shuffle: false,
        optimizer: Rule::ADAGRAD,
        regularization: ADAGRAD_REG,
        ..TrainConfig::default()
    };
    let mut m = npoa::LinearModel::<D>::zeros();
    fit(&mut m, &data, &cfg).unwrap();
    (fnv1a(&m.weights()[..]), m.bias().to_bits())
}

/// `(fnv(w), fnv(G))` of [`adagrad_case`].
const ADAGRAD_UPDATE: (u64, u64) = (0xb34a66d84fb89178, 0xbf3eaeb0909214fd);
/// `(fnv(w), bias bits)` of [`adagrad_fit`].
const ADAGRAD_FIT: (u64, u32) = (0xe6bedd3b3cdb12fb, 0xbf3a38ad);

#[test]
fn adagrad_gives_the_known_bits() {
    for path in ["simd", "scalar", "emulator"] {
        assert_eq!(adagrad_case(path), ADAGRAD_UPDATE, "update, {path}");
    }
    assert_eq!(adagrad_fit(false), ADAGRAD_FIT, "fit");
    assert_eq!(adagrad_fit(true), ADAGRAD_FIT, "fit, emulated");
}

/// Prints the AdaGrad constants above (after checking the paths and the emulator agree).
#[test]
#[ignore = "generator of the constants, run by hand"]
fn print_adagrad_known_answers() {
    let u = adagrad_case("simd");
    assert_eq!(adagrad_case("scalar"), u);
    assert_eq!(adagrad_case("emulator"), u);
    let f = adagrad_fit(false);
    assert_eq!(adagrad_fit(true), f);
    println!(
        "const ADAGRAD_UPDATE: (u64, u64) = ({:#018x}, {:#018x});",
        u.0, u.1
    );
    println!(
        "const ADAGRAD_FIT: (u64, u32) = ({:#018x}, {:#010x});",
        f.0, f.1
    );
}
