//! The seed's example, done right: `y = 2x` on four points, plain gradient descent.
//!
//! The original numpy listing computes `dw = (2/n)·Xᵀ(y − ŷ)` and then `w -= η·dw`: that is the
//! gradient of the loss with the wrong sign, so it *ascends* the loss; and with `y` of shape
//! `(4,)` and `ŷ` of shape `(4, 1)`, `y − ŷ` broadcasts to a 4×4 matrix. Here the residual is
//! `ŷ − y` per sample and the step is `w -= η·∂L/∂w`.
//!
//! With exactly the seed's settings (η = 0.01, 1000 epochs, full batch, w = b = 0) plain
//! gradient descent ends near w = 1.990, b = 0.030: the slow direction of this problem decays
//! as 0.997 per epoch. That is the truth of fixed-rate gradient descent on this data; the
//! strategy controller is what must do better on it; the last line shows the rate npoa derives
//! from the data's curvature (`autolr`) on the same budget.
//!
//! Run: `cargo run --release --example linear_regression`

use npoa::LinearModel;
use npoa::train::{Dataset, TrainConfig, Training, fit, observe};

fn main() -> Result<(), npoa::Error> {
    let x = [1.0f32, 2.0, 3.0, 4.0];
    let y = [2.0f32, 4.0, 6.0, 8.0];
    let data = Dataset::new(&x, &y, 1)?;
    let mut model = LinearModel::<1>::zeros();
    let config = TrainConfig {
        learning_rate: 0.01,
        epochs: 1000,
        batch_size: 4, // full batch, as in the seed
        shuffle: false,
        ..TrainConfig::default() // seed 0, plain SGD, no penalty
    };
    let summary = Training::new(&config)
        .observer(&mut observe(|r| {
            // The loss of epoch e is measured before its step, as in the seed (epoch 0 there).
            let e = r.epoch - 1;
            if e % 100 == 0 {
                println!("Epoch {e:4}, Loss: {:.6e}", r.train_loss);
            }
        }))
        .fit(&mut model, &data)?;
    let final_loss = model.loss(&x, &y)?;
    println!(
        "after {} epochs ({} steps, stop: {:?}):",
        summary.epochs, summary.steps, summary.stop
    );
    println!(
        "w = {:.4}, b = {:.4}, loss = {:.3e}",
        model.weights()[0],
        model.bias(),
        final_loss
    );
    println!("truth: w = 2, b = 0; the remaining error decays as 0.997 per epoch at this rate");

    // The same data and budget with a rate taken from the data's curvature (0.9 / λ_max).
    let lr = npoa::control::autolr::stable_rate_for::<1>(&data)?;
    let mut auto = LinearModel::<1>::zeros();
    fit(
        &mut auto,
        &data,
        &TrainConfig {
            learning_rate: lr,
            ..config
        },
    )?;
    println!(
        "auto LR {lr:.4}: w = {:.6}, b = {:.6}, loss = {:.3e}",
        auto.weights()[0],
        auto.bias(),
        auto.loss(&x, &y)?
    );
    Ok(())
}
