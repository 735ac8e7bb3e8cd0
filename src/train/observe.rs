//! What a run tells its caller: one record per epoch, the observer that sees them (and the
//! controller's events), and the summary at the end.

use crate::control::{Event, Stop};

/// One epoch of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epoch {
    /// Epoch, from 1.
    pub epoch: u32,
    /// Mean training loss over the epoch, each batch's loss taken before its step and weighted
    /// by its size (for a full batch: the loss at the start of the epoch, as in the seed).
    pub train_loss: f32,
    /// The metric of the epoch: with a controller or a validation set, the loss measured after
    /// the epoch's steps (on the validation set if there is one, else on the training set;
    /// one extra loss pass); without either, the training loss (no extra pass).
    pub metric: f32,
    /// The rate used in this epoch.
    pub learning_rate: f32,
    /// Parameter updates so far.
    pub steps: u64,
    /// Weights exactly zero after the epoch (biases not counted): the sparsity of an L1
    /// penalty or FTRL.
    pub zeros: usize,
    /// The optimality certificate after the epoch, relative (see
    /// [`crate::control::certificate`]; `NaN` where the run does not measure it).
    pub certificate: f32,
}

/// An observer's answer after an epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Go on.
    Continue,
    /// Go on with a new rate (finite, > 0). Only without a controller (which owns the rate):
    /// with one it is an error.
    SetLearningRate(f32),
    /// Stop now ([`Stop::Observer`]).
    Stop,
}

/// Watches a run: every epoch's record and every controller [`Event`], as they happen. Both
/// methods do nothing by default; [`on_epoch`](Observer::on_epoch) may also steer the run
/// (a hand-written schedule, a stop on a condition).
///
/// ```
/// use npoa::LinearModel;
/// use npoa::train::{Dataset, Decision, Epoch, Observer, TrainConfig, Training};
///
/// /// Stops once the training loss is below a target.
/// struct UntilBelow(f32);
/// impl Observer for UntilBelow {
///     fn on_epoch(&mut self, e: &Epoch) -> Decision {
///         if e.train_loss < self.0 { Decision::Stop } else { Decision::Continue }
///     }
/// }
/// let (x, y) = ([0.0f32, 1.0, 2.0, 3.0], [1.0f32, 3.0, 5.0, 7.0]);
/// let data = Dataset::new(&x, &y, 1)?;
/// let config = TrainConfig { learning_rate: 0.1, epochs: 1000, ..TrainConfig::default() };
/// let mut model = LinearModel::<1>::zeros();
/// let s = Training::new(&config).observer(&mut UntilBelow(1e-4)).fit(&mut model, &data)?;
/// assert_eq!(s.stop, npoa::control::Stop::Observer);
/// assert!(s.epochs < 1000);
/// # Ok::<(), npoa::Error>(())
/// ```
pub trait Observer {
    /// An epoch ended (not called for an epoch in which a step diverged).
    fn on_epoch(&mut self, epoch: &Epoch) -> Decision {
        let _ = epoch;
        Decision::Continue
    }
    /// The controller decided something.
    fn on_event(&mut self, event: &Event) {
        let _ = event;
    }
}

/// Watches nothing.
impl Observer for () {}

impl<O: Observer + ?Sized> Observer for &mut O {
    fn on_epoch(&mut self, epoch: &Epoch) -> Decision {
        (**self).on_epoch(epoch)
    }
    fn on_event(&mut self, event: &Event) {
        (**self).on_event(event);
    }
}

/// An observer made of two closures, one per epoch and one per event; made by [`watch`].
#[derive(Debug, Clone, Copy)]
pub struct Watch<E, V>(E, V);

/// An observer that shows every epoch to `on_epoch` and every event to `on_event` (to print
/// or record them).
pub fn watch<E: FnMut(&Epoch), V: FnMut(&Event)>(on_epoch: E, on_event: V) -> Watch<E, V> {
    Watch(on_epoch, on_event)
}

/// An observer that shows every epoch to a closure and ignores events.
pub fn observe<E: FnMut(&Epoch)>(on_epoch: E) -> Watch<E, fn(&Event)> {
    Watch(on_epoch, |_| {})
}

impl<E: FnMut(&Epoch), V: FnMut(&Event)> Observer for Watch<E, V> {
    fn on_epoch(&mut self, epoch: &Epoch) -> Decision {
        (self.0)(epoch);
        Decision::Continue
    }
    fn on_event(&mut self, event: &Event) {
        (self.1)(event);
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Epochs run (including rolled-back ones).
    pub epochs: u32,
    /// Parameter updates applied (including those later rolled back).
    pub steps: u64,
    /// The last completed epoch's training loss (`NaN` if none completed).
    pub final_loss: f32,
    /// With a controller, the best metric it saw (`+∞` if no epoch gave a finite one); without
    /// one, the lowest epoch training loss.
    pub best_metric: f32,
    /// Why the run ended ([`Stop::MaxEpochs`] when every epoch ran).
    pub stop: Stop,
    /// Rollbacks to the best copy (a controller's).
    pub rollbacks: u32,
    /// The last optimality certificate measured (relative, see
    /// [`crate::control::certificate`]; `NaN` if none was).
    pub certificate: f32,
}
