//! Shared by the benches (and by `peers/benches/peers.rs`, through `#[path]`): 64-byte-aligned
//! data from one seeded generator, the agreement check run before timing, and the criterion
//! configuration, so that every bench times the same way on the same kind of data.

#![allow(dead_code)]

use std::time::Duration;

use criterion::Criterion;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Relative tolerance of the agreement checks, against the largest magnitude compared.
pub const TOL: f32 = 1e-3;

/// The configuration of every bench: 0.2 s warm-up, 0.6 s measurement, 20 samples, no plots
/// (plotting costs seconds per benchmark on 2 cores; `--plotting-backend plotters` turns the
/// HTML report back on). The whole suite then fits in about 7 minutes per flag set.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(600))
        .sample_size(20)
        .without_plots()
}

/// A `Vec<f32>` viewed from a 64-byte-aligned offset (over-allocated by 15 floats): a
/// misaligned `Vec<f32>` costs up to 1.8× with AVX-512 loads.
pub struct Aligned {
    buf: Vec<f32>,
    start: usize,
    len: usize,
}

impl Aligned {
    /// `len` zeros.
    pub fn zeroed(len: usize) -> Self {
        let buf = vec![0.0f32; len + 15];
        // `Vec<f32>` is 4-byte aligned, so the distance to the next 64-byte boundary is whole floats.
        let start = (64 - buf.as_ptr() as usize % 64) % 64 / 4;
        Aligned { buf, start, len }
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.buf[self.start..self.start + self.len]
    }

    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

/// The benches' generator.
pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// `bytes` of features uniform in [−1, 1), from a generator seeded with `seed ^ bytes`.
pub fn make_x_seeded(seed: u64, bytes: usize) -> Aligned {
    let mut x = Aligned::zeroed(bytes / 4);
    let mut g = rng(seed ^ bytes as u64);
    for v in x.as_mut_slice() {
        *v = g.random_range(-1.0f32..1.0);
    }
    x
}

/// The kernels' data (`benches/kernels.rs` and `peers/`: the same bytes for both).
pub fn make_x(bytes: usize) -> Aligned {
    make_x_seeded(0x6e70_6f61, bytes)
}

/// A case of `n` samples of `d` features over `x`: targets from a linear teacher plus noise,
/// and a model that is the teacher perturbed (so the residuals and the gradient have a
/// systematic part, not only noise). Returns `(y, w, b)`.
pub fn teacher(x: &[f32], n: usize, d: usize) -> (Aligned, Aligned, f32) {
    let mut g = rng(((d as u64) << 32) ^ n as u64);
    let s = 1.0 / (d as f32).sqrt();
    let w_true: Vec<f32> = (0..d).map(|_| g.random_range(-s..s)).collect();
    let b_true = g.random_range(-0.5f32..0.5);
    let mut w = Aligned::zeroed(d);
    for (wj, tj) in w.as_mut_slice().iter_mut().zip(&w_true) {
        *wj = tj + 0.25 * g.random_range(-s..s);
    }
    let mut y = Aligned::zeroed(n);
    for (yi, row) in y.as_mut_slice().iter_mut().zip(x.chunks_exact(d)) {
        let dot: f32 = row.iter().zip(&w_true).map(|(a, c)| a * c).sum();
        *yi = dot + b_true + 0.1 * g.random_range(-1.0f32..1.0);
    }
    (y, w, b_true + 0.1)
}

/// `a` and `b` agree within `TOL` relative to the largest magnitude in either.
pub fn assert_close(what: &str, a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = a
        .iter()
        .chain(b)
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(f32::MIN_POSITIVE);
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        assert!(
            p.is_finite() && q.is_finite() && (p - q).abs() <= TOL * scale,
            "{what}[{i}]: {p} vs {q} (tolerance {TOL} × scale {scale})"
        );
    }
}
