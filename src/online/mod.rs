//! Learning from a stream: a fixed sample window, incremental training in bounded steps, and
//! warm restarts when the data drifts. No heap: every buffer is sized by const generics.
//!
//! * [`Window<N, D>`] keeps `N` samples of `D` features: the most recent ones (a ring buffer,
//!   [`Sampling::Sliding`]) or a uniform sample of the whole stream ([`Sampling::Reservoir`],
//!   Vitter's algorithm R with a seeded generator).
//! * [`OnlineLearner<M, D, N, V>`] owns a model, its optimizer state, a best copy, a strategy
//!   [`Controller`](crate::control::Controller), a training window of `N` samples and a held-out window of `V` samples
//!   (every `k`-th pushed sample goes there, [`OnlineConfig::holdout_every`]).
//!   [`push`](OnlineLearner::push) stores a sample; [`step`](OnlineLearner::step) runs a fixed
//!   number of mini-batch updates over the training window;
//!   [`partial_fit`](OnlineLearner::partial_fit) runs one update on a batch the caller holds.
//!
//! ## Rounds: the controller's epochs
//! The controller sees a **round** of [`OnlineConfig::round_steps`] updates as one epoch: the
//! round's rate is `controller.rate(round)`, and after the round the metric (the loss on the
//! held-out window; on the training window if nothing is held out; else the round's mean
//! training loss, each batch's loss taken before its step) goes to the controller, which may
//! keep a best copy, roll back to it, cut the rate on a plateau, or stop. The state carries
//! over between calls, so a round may span many calls, and the updates and rounds are those of
//! [`crate::train::Training`] with a controller: the same code runs each batch step and each
//! epoch's end.
//! Fed the same batches in the same order, with rounds as long as an epoch, the learner's best
//! model equals the controlled training's result bit for bit (tested), as long as no step
//! diverges (a diverged step ends its round early, where training skips the rest of the epoch).
//!
//! The controller starts once the metric's window holds
//! [`OnlineConfig::metric_warmup`] samples (by default: once it is full). Before that the
//! updates run at the schedule's first rate, no round ends, and a step that would make
//! something non-finite is skipped.
//!
//! ## Drift
//! Two mechanisms, either or both:
//!
//! * **A statistical detector** ([`OnlineConfig::detector`], on by default: ADWIN with
//!   `clock` 4, River's other parameters) watches a bounded stream made from every pushed
//!   sample once the controller has started: for a classifier, whether the model (before any
//!   update has seen the sample) misclassifies it; for a regression loss, whether the
//!   sample's loss exceeds 4 times its running level (a winsorised running mean over about the
//!   last 1024 samples, each loss capped at 10 times the level). The detectors' bounds assume
//!   values in `[0, 1]`, and this stream is scale-free and robust to heavy tails: fed the raw
//!   loss, ADWIN and Page-Hinkley restarted a stationary Student-t stream hundreds of times.
//!   The detector is stored by type ([`OnlineLearner`]'s `W`: [`Adwin`](crate::control::drift::Adwin)
//!   by default, about 3 KB; [`PageHinkley`](crate::control::drift::PageHinkley), 88 bytes;
//!   [`Ddm`](crate::control::drift::Ddm), [`Eddm`](crate::control::drift::Eddm),
//!   [`AnyDetector`](crate::control::drift::AnyDetector) to choose at run time, or
//!   [`NoDetector`]). A detector's **warning** (DDM, EDDM, ADWIN with a `warning_delta`) marks
//!   where the change may have begun. On a confirmed drift (for ADWIN: a cut after which the
//!   recent mean is higher; a fall of the error is no drift to restart for), the next
//!   [`step`](OnlineLearner::step) restarts the learner: the controller as below, the windows
//!   keep only the samples pushed since the warning began (none without a warning), the
//!   optimizer state starts afresh, and an RLS learner resets `P` and learns the kept training
//!   samples again, oldest first. That is the background learner a warning would start,
//!   built at the confirmation from the window rather than trained beside the foreground one,
//!   so no second model is kept in memory. Until the held-out window holds its warm-up
//!   again, the updates run at the schedule's first rate and no round ends.
//! * **The held-out heuristic** ([`OnlineConfig::drift`], off by default): when the metric
//!   stays above `factor × level + floor` for `patience` rounds in a row (`level`: the running
//!   mean of the metric over the good rounds since the start or the last restart) while the
//!   learner is frozen (stopped, or at a rate below the highest of its run), the learner makes
//!   a warm restart.
//!
//! A warm restart ([`Controller::restart`](crate::control::Controller::restart)): the schedule
//! starts again at its full rate, the rate cuts of plateaus and rollbacks are undone, the early
//! stop is lifted, the current weights become the best copy and the best metric is forgotten
//! (the old best describes data that is gone), and an averaged SGD starts its average again.
//! [`EventKind::Restarted`](crate::control::controller::EventKind::Restarted) reports it. A
//! stopped learner keeps measuring its metric once per idle round (one loss pass every
//! `round_steps` calls) for the heuristic, and keeps feeding the detector. A
//! [`Sampling::Reservoir`] window remembers the whole stream, old regime included (a
//! detector's restart clears it): prefer [`Sampling::Sliding`] where the data may change.
//!
//! Measured on the sensor of `examples/sensor_stream.rs` (4 channels, noise ±0.1, the sensor
//! swapped at sample 2000; `tests/online_drift.rs`), samples until the error of the last 10
//! predictions is back under 0.01, on seeds 7, 8 and 9, and restarts in 100,000 samples of one
//! regime:
//!
//! | learner | detector | recovery (samples) | false restarts |
//! |---|---|---|---|
//! | RLS | ADWIN, clock 4 (default) | 31, 30, 27 | 0, 0, 0 |
//! | RLS | ADWIN, clock 32 (River's) | 48, 47, 47 | 0, 0, 0 |
//! | RLS | DDM | 17, 20, 16 | 7, 3, 3 |
//! | RLS | EDDM | 47, 48, 45 | 0, 0, 1 |
//! | RLS | Page-Hinkley (up) | 67, 71, 70 | 0, 0, 0 |
//! | SGD | ADWIN, clock 4 | 36, 45, 49 | 0, 0, 0 |
//! | SGD | the held-out heuristic | 93, 86, 95 | 0, 0, 0 |
//!
//! Drift handling is **on by default**: a learner on a device runs unattended, and without it a
//! change of regime leaves the model frozen (early-stopped, or at the minimum rate after the
//! plateau cuts) — the failure nobody sees. Set `detector: None` (and `drift: None`) for a
//! stationary stream.
//!
//! ## Recursive least squares
//! With [`OnlineConfig::rls`] and `S` = [`Rls<D>`](crate::optim::Rls) (a
//! [`crate::LinearModel`] with the squared loss), the learner trains by recursive least
//! squares instead of its update rule: each pushed training sample (and each row of
//! [`partial_fit`](OnlineLearner::partial_fit)) is one RLS update, in the call that offers it;
//! [`step`](OnlineLearner::step) then only ends the rounds (the controller's metric, best
//! copy, guard and stops work as for the gradient rules, and report no updates of their own).
//! A rollback or a stop's return to the best copy sets the RLS weights to the model's and
//! resets `P`, as does a restart. With nothing held out and nothing diverging the learner's
//! model is the standalone [`Rls`](crate::optim::Rls) fed the same samples, bit for bit
//! (tested).

//! ## Standardisation
//! With [`OnlineConfig::standardize`] set (the default: a warm-up of
//! [`STANDARDIZE_WARMUP`] = 64 samples), the learner trains on standardised features,
//! `z_j = (x_j − μ_j)/σ_j` ([`crate::scale::Scaler`]), so that features of very different
//! scales (1e-2 next to 1e3) do not force a rate that leaves the small ones untrained:
//! * **Warm-up.** For the first `k` samples offered (by [`push`](OnlineLearner::push),
//!   [`push_holdout`](OnlineLearner::push_holdout) or the rows of
//!   [`partial_fit`](OnlineLearner::partial_fit)) the learner only accumulates their running
//!   mean and variance (Welford, `f64`) and fills its windows with the raw rows; no update
//!   runs (`step` and `partial_fit` report 0 updates).
//! * **Freeze.** The sample that completes the warm-up freezes the scaler: the stored rows of
//!   both windows are standardised in place, and the model (and its best copy) is mapped to
//!   standardised space ([`Scaler::unfold`](crate::scale::Scaler::unfold): a raw starting model
//!   keeps its predictions). From then on each sample is standardised as it is offered, and
//!   `partial_fit` standardises its batch into a stack buffer of `N` rows (so a batch holds
//!   at most `N` rows).
//! * **Raw out.** Training, the controller, rollbacks, best copies and drift restarts all run in
//!   standardised space with the frozen scaler (a restart does not refit it: the fold stays
//!   exact for any fixed `μ, σ`); the loss, hence the metric, is the same in both spaces.
//!   [`model`](OnlineLearner::model) and [`best_model`](OnlineLearner::best_model) return the
//!   model folded back to raw features ([`Scaler::fold`](crate::scale::Scaler::fold)), so a
//!   caller never sees standardised weights; [`window`](OnlineLearner::window),
//!   [`holdout`](OnlineLearner::holdout) and [`state`](OnlineLearner::state) are in
//!   standardised space, and [`scaler`](OnlineLearner::scaler) gives the frozen standardisation.
//!   The penalty and the box of [`OnlineConfig::regularization`] apply to the standardised
//!   weights.
//! * Targets are not standardised here (a classifier's labels cannot be); a constant feature gets
//!   the scale 1 and keeps a zero weight.
//!
//! `standardize: None` turns it off: the learner then trains on raw rows, bit for bit as
//! before, from the first sample.
//!
//! ## Bounded work
//! With `B` = [`OnlineConfig::batch_size`], `S` = [`OnlineConfig::steps_per_call`], `R` =
//! [`OnlineConfig::round_steps`], and `E` = the rows the metric reads (`V`, or `N` when nothing
//! is held out), in kernel passes:
//!
//! | call | worst case |
//! |---|---|
//! | [`push`](OnlineLearner::push) | one copy of `D + 1` floats, a target check, one generator draw (reservoir); with standardisation, `D` Welford updates (warm-up) or `D` standardised values, and once, at the freeze, one pass over both windows; with a detector, a one-row loss pass and one detector update (ADWIN: a check over its ≤ 20 × 9 buckets every `clock` samples); with RLS, one RLS update (`2D² + 8D + 4` multiplications) |
//! | [`step`](OnlineLearner::step) (after a confirmed drift: the windows compacted once and, with RLS, at most `N` RLS updates) | `S` fused passes over ≤ `B` rows and `S` parameter updates, plus `2⌈S / R⌉ + 1` loss passes over ≤ `E` rows (each round's end: the metric, and the best copy's loss on the same rows for the guard; the first call's starting metric); stopped: one loss pass over ≤ `E` rows once per idle round (drift watch), or nothing |
//! | [`partial_fit`](OnlineLearner::partial_fit) | (with standardisation: the batch standardised into a stack buffer of `N·D` floats) one fused pass over the batch, one update (with RLS: one RLS update per row), plus ≤ 3 loss passes over ≤ `E` rows (the round's end with the guard's; the first call's starting metric); stopped: one loss pass once per idle round (over ≤ `E` rows, or over the batch when no window holds samples), or nothing |
//!
//! Besides the passes, each `step` and `partial_fit` copies the model, its optimizer state,
//! the best copy, the controller and the counters once (the backup that undoes a failed call:
//! of the 7144 bytes of the default learner with `D = 8, N = 64, V = 16` it copies about 800,
//! and about 1,500 with RLS), and each round's
//! end may copy the model and its state once more (a best copy or a rollback). Nothing depends
//! on how many samples the stream has seen.
//!
//! ```
//! use npoa::LinearModel;
//! use npoa::control::ControllerConfig;
//! use npoa::online::{OnlineConfig, OnlineLearner, Sampling};
//!
//! // 64 training samples, 16 held out, 2 features: y = 2·x0 − x1 + 0.5.
//! let mut learner = OnlineLearner::<LinearModel<2>, 2, 64, 16>::new(
//!     LinearModel::zeros(),
//!     ControllerConfig::constant(0.1)?,
//!     OnlineConfig::default(),
//!     Sampling::Sliding,
//! )?;
//! let mut events = 0;
//! for i in 0..2000u32 {
//!     let x = [(i % 7) as f32 / 7.0, (i % 5) as f32 / 5.0];
//!     learner.push(&x, 2.0 * x[0] - x[1] + 0.5)?;
//!     learner.step(&mut |_| events += 1)?;
//! }
//! let m = learner.model();
//! assert!((m.weights()[0] - 2.0).abs() < 1e-2 && (m.bias() - 0.5).abs() < 1e-2);
//! # Ok::<(), npoa::Error>(())
//! ```

mod config;
mod learner;
mod slots;
mod window;

pub use config::{Drift, OnlineConfig, STANDARDIZE_WARMUP, StepReport};
pub use learner::OnlineLearner;
pub use slots::{DetectorSlot, Gradient, NoDetector, Solver};
pub use window::{Sampling, Window};
