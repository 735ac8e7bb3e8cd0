//! The divergence guard at work: the seed's data trained with a rate 100× the stable one.
//!
//! Fixed-rate gradient descent would blow up at once; the controller sees the loss spike, rolls
//! back to the best weights, cuts the rate ×0.1, and retries until the rate is stable. The
//! event log says what happened and why.
//!
//! Run: `cargo run --release --example rescue`

use npoa::LinearModel;
use npoa::control::autolr::stable_rate_for;
use npoa::control::{Controller, ControllerConfig};
use npoa::train::{Dataset, TrainConfig, Training, watch};

fn main() -> Result<(), npoa::Error> {
    let x = [1.0f32, 2.0, 3.0, 4.0];
    let y = [2.0f32, 4.0, 6.0, 8.0];
    let data = Dataset::new(&x, &y, 1)?;
    let stable = stable_rate_for::<1>(&data)?;
    let lr = 100.0 * stable;
    println!("stable rate (0.9/λ_max) = {stable:.4}; starting at 100× that: {lr:.3}");

    let mut controller = Controller::new(ControllerConfig::constant(lr)?)?;
    let mut model = LinearModel::<1>::zeros();
    let config = TrainConfig {
        epochs: 1000,
        batch_size: 4,
        shuffle: false,
        ..TrainConfig::default()
    };
    let summary = Training::new(&config)
        .controller(&mut controller)
        .observer(&mut watch(
            |r| {
                if r.epoch <= 6 || r.epoch % 200 == 0 {
                    println!(
                        "epoch {:4}: rate {:.3e}, loss after the epoch {:.3e}",
                        r.epoch, r.learning_rate, r.metric
                    );
                }
            },
            |e| println!("epoch {:4}: {:?}", e.epoch, e.kind),
        ))
        .fit(&mut model, &data)?;
    println!(
        "{} epochs, {} rollbacks, stop: {:?}; w = {:.6}, b = {:.6}, loss = {:.3e}",
        summary.epochs,
        summary.rollbacks,
        summary.stop,
        model.weights()[0],
        model.bias(),
        model.loss(&x, &y)?
    );
    Ok(())
}
