//! A freestanding binary that uses `npoa` with `default-features = false`.
//!
//! It exists to be linked, not run: if `npoa` or any of its dependencies pulled in `std`, the
//! link would fail (a second `panic_impl` lang item next to the one below, or `std`'s
//! start-up symbols missing). `.ci/run` builds it in release and reports its `.text` size as
//! the crate's code-size figure.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::hint::black_box;
use core::panic::PanicInfo;

use npoa::LinearModel;
use npoa::train::{Dataset, FixedRate, TrainConfig, fit};

/// Four features, three samples, row-major.
static X: [f32; 12] = [
    1.0, 0.5, -0.25, 2.0, //
    0.0, 1.5, 0.75, -1.0, //
    -2.0, 0.25, 1.0, 0.5,
];
static Y: [f32; 3] = [1.5, -0.5, 0.25];
static W: [f32; 4] = [0.1, -0.2, 0.3, -0.4];

/// Runs both fused kernels and a short training run, then parks.
// SAFETY: `_start` is the process entry point required by `-nostartfiles`; no other symbol in
// this freestanding binary (or in `npoa` and its dependencies, which define no C symbols of
// that name) is called `_start`, so exporting it unmangled cannot collide. It never returns.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let x: &[f32] = black_box(&X);
    let y: &[f32] = black_box(&Y);
    let w: &[f32] = black_box(&W);
    let b = black_box(0.125f32);

    // The SIMD path and the scalar reference, each into its own gradient buffer.
    let mut grad = [0.0f32; 4];
    let simd = npoa::kernel::fused(x, y, w, b, black_box(&mut grad));
    let _ = black_box((simd, &grad));

    let mut grad_ref = [0.0f32; 4];
    let scalar = npoa::kernel::scalar::fused(x, y, w, b, black_box(&mut grad_ref));
    let _ = black_box((scalar, &grad_ref));

    let mut model = LinearModel::<4>::zeros();
    if let Ok(data) = Dataset::new(x, y, 4) {
        let config = TrainConfig {
            learning_rate: black_box(0.05),
            epochs: black_box(20),
            batch_size: black_box(2),
            ..TrainConfig::default()
        };
        let summary = fit(black_box(&mut model), &data, &config, FixedRate);
        let _ = black_box(summary);
    }
    black_box(&model);

    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    #[allow(clippy::empty_loop)]
    loop {}
}
