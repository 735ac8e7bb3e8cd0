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
use npoa::train::{Dataset, TrainConfig, fit};

/// Eight features, three samples, row-major.
static X: [f32; 24] = [
    1.0, 0.5, -0.25, 2.0, 0.0, 1.5, 0.75, -1.0, //
    -2.0, 0.25, 1.0, 0.5, 1.0, 0.5, -0.25, 2.0, //
    0.0, 1.5, 0.75, -1.0, -2.0, 0.25, 1.0, 0.5,
];
static Y: [f32; 3] = [1.5, -0.5, 0.25];

/// Trains a `LinearModel<8>` (the footprint figure: `fit` with every loss and update rule
/// selectable at run time), then parks.
// SAFETY: `_start` is the process entry point required by `-nostartfiles`; no other symbol in
// this freestanding binary (or in `npoa` and its dependencies, which define no C symbols of
// that name) is called `_start`, so exporting it unmangled cannot collide. It never returns.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let x: &[f32] = black_box(&X);
    let y: &[f32] = black_box(&Y);
    let mut model = LinearModel::<8>::zeros();
    if let Ok(data) = Dataset::new(x, y, 8) {
        let config = TrainConfig {
            learning_rate: black_box(0.05),
            epochs: black_box(20),
            batch_size: black_box(2),
            ..TrainConfig::default()
        };
        let summary = fit(black_box(&mut model), &data, &config);
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
