//! Instruction counts (Callgrind, through `gungraun`) of the per-update paths at D = 8: exact
//! and repeatable on a shared machine, where the criterion timings of the same paths move by
//! ±10-70 %. Each benchmark runs a loop of N updates; its input is made by a setup function that
//! Callgrind does not count (`#[bench::…(setup = …)]`), and its output is returned, so that
//! neither the data's creation nor its drop is in the figure. The id's `_n<N>` suffix is the
//! loop's count: `scripts/bench-counts.sh` prints instructions / N, the cost of one update
//! (the per-call costs of a `fit`, such as its checks and its epoch's end, spread over its N
//! rows).
//!
//! * `fit_sgd_b1_per_row::{shuffle_off,shuffle_on}_n4096`: one `fit` of `LinearModel<8>`,
//!   squared error, SGD, batch 1, 1 epoch over 4096 rows, rate 0.01, without and with the
//!   shuffle;
//! * `fit_logistic_b1_per_row::shuffle_off_n4096`: the same with `Loss::Logistic` (0/1 labels);
//! * `online_push_step_per_sample::no_detector_n1024`: `OnlineLearner::push` then `step`
//!   (batch 1, one update per step, rounds of 8 updates, constant rate 0.01, the default
//!   configuration otherwise) on `OnlineLearner<LinearModel<8>, 8, 64, 16, NoDetector>`
//!   without a detector, after 256 samples (standardisation frozen, windows full);
//! * `online_adwin_push_step_per_sample::default_detector_n1024`: the same on
//!   `OnlineLearner<LinearModel<8>, 8, 64, 16>` with the default detector (ADWIN, clock 4);
//! * `online_partial_fit_per_call_64rows::no_detector_n256`: `OnlineLearner::partial_fit` of
//!   64 rows (one update on a 64-row batch per call) on the `NoDetector` learner;
//! * `rls_update_per_sample::d8_n4096`: `Rls<8>::update` (River's defaults), after 256 updates;
//! * `adwin_update_per_value::default_n4096`, `page_hinkley_update_per_value::default_n4096`:
//!   `Detector::update` of a fresh detector at River's defaults over 4096 values with a mean
//!   shift at the middle (so detections and ADWIN's shrinking are in the figure).
//!
//! Run with `scripts/bench-counts.sh` (needs valgrind and `gungraun-runner` of the library's
//! exact version: see BENCHMARKS.md). Every setup checks what it hands over (the model learns,
//! the learner is not stopped after the benchmark's N samples, the detectors see the shift),
//! so a figure never measures a path that does nothing.

#[cfg(not(target_arch = "wasm32"))]
mod counts {
    use std::hint::black_box;

    use gungraun::{library_benchmark, library_benchmark_group};
    use npoa::LinearModel;
    use npoa::control::ControllerConfig;
    use npoa::control::drift::{
        Adwin, AdwinConfig, Detector, PageHinkley, PageHinkleyConfig, Signal,
    };
    use npoa::loss::Loss;
    use npoa::online::{NoDetector, OnlineConfig, OnlineLearner, Sampling};
    use npoa::optim::{Rls, RlsConfig};
    use npoa::train::{Dataset, TrainConfig, fit};
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};

    const D: usize = 8;
    /// Rows of the `fit` benchmarks.
    const ROWS: usize = 4096;
    /// Samples fed to a learner before it is measured.
    const WARM: usize = 256;
    /// The learners' constant rate.
    const RATE: f32 = 0.01;

    type Bare = OnlineLearner<LinearModel<D>, D, 64, 16, NoDetector>;
    type WithAdwin = OnlineLearner<LinearModel<D>, D, 64, 16>;

    /// `n` rows of `y = w·x + 0.5 + noise` (x uniform in [-1, 1)^8, noise ±0.1), or with
    /// `labels` the 0/1 label of `w·x + 0.5 + noise > 0`; flattened x and y.
    fn rows(n: usize, seed: u64, labels: bool) -> (Vec<f32>, Vec<f32>) {
        let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
        let w: [f32; D] = core::array::from_fn(|_| g.random_range(-0.5f32..0.5));
        let mut x = Vec::with_capacity(n * D);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let r: [f32; D] = core::array::from_fn(|_| g.random_range(-1.0f32..1.0));
            let t = r.iter().zip(&w).map(|(a, b)| a * b).sum::<f32>()
                + 0.5
                + g.random_range(-0.1f32..0.1);
            x.extend_from_slice(&r);
            y.push(if labels {
                f32::from(u8::from(t > 0.0))
            } else {
                t
            });
        }
        (x, y)
    }

    /// What a `fit` benchmark trains: the model, its data and the configuration.
    pub struct FitInput {
        model: LinearModel<D>,
        data: Dataset<'static>,
        config: TrainConfig,
    }

    fn fit_input(loss: Loss, shuffle: bool) -> FitInput {
        let (x, y) = rows(ROWS, 0x6669_7438, loss == Loss::Logistic);
        // Leaked so that the dataset can be made here, outside the count.
        let (x, y): (&'static [f32], &'static [f32]) = (x.leak(), y.leak());
        let data = Dataset::new(x, y, D).expect("finite rows");
        let model = LinearModel::<D>::zeros()
            .with_loss(loss)
            .expect("a loss of a linear model");
        let config = TrainConfig {
            learning_rate: RATE,
            epochs: 1,
            batch_size: 1,
            shuffle,
            ..TrainConfig::default()
        };
        // The epoch learns: the loss falls well below the zero model's.
        let mut check = model;
        fit(&mut check, &data, &config).expect("finite epoch");
        let (before, after) = (
            model.loss(x, y).expect("loss"),
            check.loss(x, y).expect("loss"),
        );
        assert!(
            after < 0.7 * before,
            "{loss:?}: loss {before} -> {after} after one epoch"
        );
        FitInput {
            model,
            data,
            config,
        }
    }

    fn fit_squared(shuffle: bool) -> FitInput {
        fit_input(Loss::Squared, shuffle)
    }

    fn fit_logistic(shuffle: bool) -> FitInput {
        fit_input(Loss::Logistic, shuffle)
    }

    // One `fit`: 4096 updates of one row.
    #[library_benchmark]
    #[bench::shuffle_off_n4096(args = (false), setup = fit_squared)]
    #[bench::shuffle_on_n4096(args = (true), setup = fit_squared)]
    pub fn fit_sgd_b1_per_row(mut input: FitInput) -> FitInput {
        black_box(
            fit(&mut input.model, black_box(&input.data), &input.config).expect("finite epoch"),
        );
        input
    }

    // One logistic `fit`: 4096 updates of one row.
    #[library_benchmark]
    #[bench::shuffle_off_n4096(args = (false), setup = fit_logistic)]
    pub fn fit_logistic_b1_per_row(mut input: FitInput) -> FitInput {
        black_box(
            fit(&mut input.model, black_box(&input.data), &input.config).expect("finite epoch"),
        );
        input
    }

    /// Batch 1, one update per `step`, default otherwise (rounds of 8, every 5th sample held
    /// out, standardisation after 64 samples), with or without the default detector.
    fn online_config(detector: bool) -> OnlineConfig {
        let base = OnlineConfig {
            batch_size: 1,
            ..OnlineConfig::default()
        };
        if detector {
            base
        } else {
            OnlineConfig {
                detector: None,
                ..base
            }
        }
    }

    /// The stream's samples `[from, from + n)`.
    fn samples(from: usize, n: usize) -> Vec<([f32; D], f32)> {
        let (x, y) = rows(from + n, 0x6f6e_6c38, false);
        x.chunks_exact(D)
            .zip(y)
            .skip(from)
            .map(|(r, t)| (r.try_into().expect("D floats"), t))
            .collect()
    }

    /// A learner after `WARM` samples and the next `n`; checked to train through all `n`.
    pub struct Learner<L> {
        learner: L,
        samples: Vec<([f32; D], f32)>,
    }

    macro_rules! learner_setup {
        ($name:ident, $ty:ty, $detector:expr) => {
            fn $name(n: usize) -> Learner<$ty> {
                let mut learner = <$ty>::new(
                    LinearModel::zeros(),
                    ControllerConfig::constant(RATE).expect("valid rate"),
                    online_config($detector),
                    Sampling::Sliding,
                )
                .expect("valid configuration");
                for (x, y) in samples(0, WARM) {
                    learner.push(&x, y).expect("finite sample");
                    learner.step(&mut |_| {}).expect("finite step");
                }
                let samples = samples(WARM, n);
                let mut check = learner.clone();
                let before = check.updates();
                for (x, y) in &samples {
                    check.push(x, *y).expect("finite sample");
                    check.step(&mut |_| {}).expect("finite step");
                }
                assert!(
                    check.stopped().is_none() && check.updates() - before == n as u64,
                    "{}: {} updates of {n}, stopped {:?}",
                    stringify!($name),
                    check.updates() - before,
                    check.stopped()
                );
                Learner { learner, samples }
            }
        };
    }
    learner_setup!(bare_learner, Bare, false);
    learner_setup!(adwin_learner, WithAdwin, true);

    // `push` then `step`, per sample, on the learner without a detector.
    #[library_benchmark]
    #[bench::no_detector_n1024(args = (1024), setup = bare_learner)]
    pub fn online_push_step_per_sample(mut input: Learner<Bare>) -> Learner<Bare> {
        for (x, y) in &input.samples {
            input
                .learner
                .push(black_box(x), black_box(*y))
                .expect("finite sample");
            black_box(input.learner.step(&mut |_| {}).expect("finite step"));
        }
        input
    }

    // `push` then `step`, per sample, on the learner with the default detector (ADWIN).
    #[library_benchmark]
    #[bench::default_detector_n1024(args = (1024), setup = adwin_learner)]
    pub fn online_adwin_push_step_per_sample(mut input: Learner<WithAdwin>) -> Learner<WithAdwin> {
        for (x, y) in &input.samples {
            input
                .learner
                .push(black_box(x), black_box(*y))
                .expect("finite sample");
            black_box(input.learner.step(&mut |_| {}).expect("finite step"));
        }
        input
    }

    /// A learner after `WARM` pushed samples and `n` batches of 64 rows for `partial_fit`.
    pub struct Batches {
        learner: Bare,
        x: Vec<f32>,
        y: Vec<f32>,
    }

    fn partial_fit_setup(n: usize) -> Batches {
        let mut learner = bare_learner(0).learner;
        let (x, y) = rows(n * 64, 0x7066_6974, false);
        let mut check = learner.clone();
        let before = check.updates();
        for (bx, by) in x.chunks_exact(64 * D).zip(y.chunks_exact(64)) {
            check
                .partial_fit(bx, by, &mut |_| {})
                .expect("finite batch");
        }
        assert!(
            check.stopped().is_none() && check.updates() - before == n as u64,
            "partial_fit: {} updates of {n}",
            check.updates() - before
        );
        // The batches reach the learner as they would from a caller: not in its windows.
        learner.step(&mut |_| {}).expect("finite step");
        Batches { learner, x, y }
    }

    // `partial_fit` of 64 rows (one update), per call.
    #[library_benchmark]
    #[bench::no_detector_n256(args = (256), setup = partial_fit_setup)]
    pub fn online_partial_fit_per_call_64rows(mut input: Batches) -> Batches {
        for (bx, by) in input.x.chunks_exact(64 * D).zip(input.y.chunks_exact(64)) {
            black_box(
                input
                    .learner
                    .partial_fit(black_box(bx), black_box(by), &mut |_| {})
                    .expect("finite batch"),
            );
        }
        input
    }

    /// An RLS filter after `WARM` updates and the next `n` samples.
    pub struct RlsInput {
        rls: Rls<D>,
        samples: Vec<([f32; D], f32)>,
    }

    fn rls_setup(n: usize) -> RlsInput {
        let mut rls = Rls::<D>::new(RlsConfig::default()).expect("valid configuration");
        for (x, y) in samples(0, WARM) {
            rls.update(&x, y).expect("finite sample");
        }
        let samples = samples(WARM, n);
        // It has learnt: its prior errors are at the noise's level (±0.1).
        let mut check = rls;
        let worst = samples
            .iter()
            .map(|(x, y)| check.update(x, *y).expect("finite sample").abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 0.2, "rls: a prior error of {worst}");
        RlsInput { rls, samples }
    }

    // `Rls<8>::update`, per sample.
    #[library_benchmark]
    #[bench::d8_n4096(args = (4096), setup = rls_setup)]
    pub fn rls_update_per_sample(mut input: RlsInput) -> RlsInput {
        for (x, y) in &input.samples {
            black_box(
                input
                    .rls
                    .update(black_box(x), black_box(*y))
                    .expect("finite sample"),
            );
        }
        input
    }

    /// A fresh detector and `n` values, uniform in [0, 1), shifted by 0.5 from the middle on;
    /// checked to signal a drift after the shift.
    pub struct DetectorInput<T> {
        detector: T,
        values: Vec<f32>,
    }

    fn values(n: usize) -> Vec<f32> {
        let mut g = Xoshiro256PlusPlus::seed_from_u64(17);
        (0..n)
            .map(|i| g.random::<f32>() + if i >= n / 2 { 0.5 } else { 0.0 })
            .collect()
    }

    fn detector_input<T: Detector + Clone>(detector: T, n: usize) -> DetectorInput<T> {
        let values = values(n);
        let mut check = detector.clone();
        let drift = values
            .iter()
            .enumerate()
            .any(|(i, &v)| check.update(v) == Signal::Drift && i >= n / 2);
        assert!(drift, "no drift after the shift");
        DetectorInput { detector, values }
    }

    fn adwin_setup(n: usize) -> DetectorInput<Adwin> {
        detector_input(
            Adwin::new(AdwinConfig::default()).expect("valid configuration"),
            n,
        )
    }

    fn page_hinkley_setup(n: usize) -> DetectorInput<PageHinkley> {
        detector_input(
            PageHinkley::new(PageHinkleyConfig::default()).expect("valid configuration"),
            n,
        )
    }

    // `Adwin::update`, per value.
    #[library_benchmark]
    #[bench::default_n4096(args = (4096), setup = adwin_setup)]
    pub fn adwin_update_per_value(mut input: DetectorInput<Adwin>) -> DetectorInput<Adwin> {
        for &v in &input.values {
            black_box(input.detector.update(black_box(v)));
        }
        input
    }

    // `PageHinkley::update`, per value.
    #[library_benchmark]
    #[bench::default_n4096(args = (4096), setup = page_hinkley_setup)]
    pub fn page_hinkley_update_per_value(
        mut input: DetectorInput<PageHinkley>,
    ) -> DetectorInput<PageHinkley> {
        for &v in &input.values {
            black_box(input.detector.update(black_box(v)));
        }
        input
    }

    library_benchmark_group!(
        name = per_update,
        benchmarks = [
            fit_sgd_b1_per_row,
            fit_logistic_b1_per_row,
            online_push_step_per_sample,
            online_adwin_push_step_per_sample,
            online_partial_fit_per_call_64rows,
            rls_update_per_sample,
            adwin_update_per_value,
            page_hinkley_update_per_value
        ]
    );
}

#[cfg(not(target_arch = "wasm32"))]
use counts::per_update;

#[cfg(not(target_arch = "wasm32"))]
gungraun::main!(library_benchmark_groups = per_update);

/// Valgrind does not run WebAssembly: nothing to count there.
#[cfg(target_arch = "wasm32")]
fn main() {}
