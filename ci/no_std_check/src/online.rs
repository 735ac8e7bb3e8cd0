//! A freestanding binary that streams samples into an `OnlineLearner<LinearModel<8>, 8, 32, 8>`
//! (`push`, then `step`, for each sample): the footprint figure of the streaming learner.
//! Like `main.rs`, it exists to be linked and measured (`.ci/run`, `scripts/firmware.sh`), not run.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::hint::black_box;
use core::panic::PanicInfo;

use npoa::LinearModel;
use npoa::control::ControllerConfig;
use npoa::online::{OnlineConfig, OnlineLearner, Sampling};

/// Eight features, three samples, row-major.
static X: [[f32; 8]; 3] = [
    [1.0, 0.5, -0.25, 2.0, 0.0, 1.5, 0.75, -1.0],
    [-2.0, 0.25, 1.0, 0.5, 1.0, 0.5, -0.25, 2.0],
    [0.0, 1.5, 0.75, -1.0, -2.0, 0.25, 1.0, 0.5],
];
static Y: [f32; 3] = [1.5, -0.5, 0.25];

/// Streams the samples into the learner over and over, then parks.
// SAFETY: as in `main.rs`: `_start` is the entry point `-nostartfiles` requires, defined once.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let controller = ControllerConfig::constant(black_box(0.05));
    if let Ok(controller) = controller {
        let learner = OnlineLearner::<LinearModel<8>, 8, 32, 8>::new(
            LinearModel::zeros(),
            controller,
            black_box(OnlineConfig::default()),
            Sampling::Sliding,
        );
        if let Ok(mut learner) = learner {
            for k in 0..black_box(300usize) {
                let (x, y) = (black_box(&X[k % 3]), black_box(Y[k % 3]));
                let _ = black_box(learner.push(x, y));
                let _ = black_box(learner.step(&mut |e| {
                    black_box(e);
                }));
            }
            black_box(learner.model());
        }
    }

    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    #[allow(clippy::empty_loop)]
    loop {}
}
