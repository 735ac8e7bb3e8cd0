//! `npoa._core`: the Rust half of the Python package `npoa` (PyO3).
//!
//! Four things cross the boundary, and nothing else:
//! * [`Model`]: a trained model (npoa's `DynModel`), its predictions and its model bytes;
//! * [`fit`]: the crate's [`Recipe`] (the `train` command's pipeline: standardisation, the
//!   full-batch solver or a controlled mini-batch run) on numpy arrays;
//! * [`frame`]/[`unframe`]: round frames, the model bytes of a federation's rounds;
//! * [`Learner`]: npoa's streaming [`OnlineLearner`] for a one-output linear model, sized at
//!   run time (see [`SIZES`]).
//!
//! The estimator classes with scikit-learn's and River's interfaces are Python
//! (`npoa/_estimators.py`), on top of these. Every npoa error becomes a `npoa.NpoaError`
//! (a `ValueError`) carrying npoa's message. The GIL is released while `fit` trains and while
//! a model predicts (the streaming learner's calls, a few updates each, keep it).

use npoa::control::ControllerConfig;
use npoa::data::DynDataset;
use npoa::loss::{Loss, Objective};
use npoa::model::round::{self, Frame, Role};
use npoa::online::{OnlineConfig, OnlineLearner, Sampling};
use npoa::optim::{Regularization, Rule};
use npoa::recipe::Recipe;
use npoa::train::Summary;
use npoa::{DynClassifier, DynLinearModel, DynModel, Error, LinearModel};
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

pyo3::create_exception!(
    _core,
    NpoaError,
    PyValueError,
    "An error reported by npoa (bad data, a bad parameter, invalid model bytes, a diverged run): its message is npoa's."
);

/// npoa's error as a Python exception.
fn err(e: Error) -> PyErr {
    NpoaError::new_err(e.to_string())
}

/// A `NpoaError` with a message of the bindings' own.
fn bad(msg: impl Into<String>) -> PyErr {
    NpoaError::new_err(msg.into())
}

/// The rows of a C-contiguous `float32` matrix as one slice (no copy), and its shape.
fn rows<'a>(x: &'a PyReadonlyArray2<'_, f32>) -> PyResult<(&'a [f32], usize, usize)> {
    let [n, d] = [x.shape()[0], x.shape()[1]];
    let s = x
        .as_slice()
        .map_err(|_| bad("X must be a C-contiguous float32 array"))?;
    Ok((s, n, d))
}

/// A contiguous vector (no copy).
fn vector<'a>(y: &'a PyReadonlyArray1<'_, f32>, what: &str) -> PyResult<&'a [f32]> {
    y.as_slice()
        .map_err(|_| bad(format!("{what} must be a contiguous float32 array")))
}

/// The loss named `name` with its parameter, or softmax.
fn objective(name: &str, param: f32) -> PyResult<Objective> {
    if name == "softmax" {
        return Ok(Objective::Softmax);
    }
    let loss = Loss::from_name(name, param).ok_or_else(|| {
        let names: Vec<&str> = Loss::ALL.iter().map(Loss::name).collect();
        bad(format!(
            "unknown loss {name:?}: one of {} or \"softmax\"",
            names.join(", ")
        ))
    })?;
    loss.validate().map_err(err)?;
    Ok(Objective::Single(loss))
}

/// The update rule named `name` (`None`: the recipe's choice).
fn rule(name: Option<&str>) -> PyResult<Option<Rule>> {
    let Some(name) = name else { return Ok(None) };
    if name == "auto" {
        return Ok(None);
    }
    Rule::EXAMPLES
        .into_iter()
        .find(|r| r.name() == name)
        .map(Some)
        .ok_or_else(|| {
            let names: Vec<&str> = Rule::EXAMPLES.iter().map(|r| r.name()).collect();
            bad(format!(
                "unknown optimizer {name:?}: \"auto\" or one of {}",
                names.join(", ")
            ))
        })
}

/// A trained model: a linear model (one output, any loss) or a softmax classifier.
#[pyclass(module = "npoa._core", frozen)]
#[derive(Clone)]
pub struct Model {
    inner: DynModel,
}

#[pymethods]
impl Model {
    /// The model stored in `data` (npoa's model bytes, as `to_bytes` writes them and the
    /// crate and the firmware read them).
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        DynModel::from_bytes(data)
            .map(|inner| Self { inner })
            .map_err(err)
    }

    /// A linear model from its weights, bias and loss (name and parameter).
    #[staticmethod]
    #[pyo3(signature = (weights, bias, loss = "squared", param = 0.0))]
    fn linear(weights: Vec<f32>, bias: f32, loss: &str, param: f32) -> PyResult<Self> {
        let Objective::Single(loss) = objective(loss, param)? else {
            return Err(bad("a linear model has one output: use Model.softmax"));
        };
        let m = DynLinearModel::new(weights, bias)
            .and_then(|m| m.with_loss(loss))
            .map_err(err)?;
        Ok(Self {
            inner: DynModel::Linear(m),
        })
    }

    /// The model bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Number of features.
    #[getter]
    fn features(&self) -> usize {
        self.inner.features()
    }

    /// Number of outputs: 1 for a linear model, the classes of a softmax classifier.
    #[getter]
    fn outputs(&self) -> usize {
        match &self.inner {
            DynModel::Linear(_) => 1,
            DynModel::Classifier(c) => c.classes(),
        }
    }

    /// The loss's name (`"softmax"` for a classifier).
    #[getter]
    fn loss(&self) -> &'static str {
        match &self.inner {
            DynModel::Linear(m) => m.loss_kind().name(),
            DynModel::Classifier(_) => "softmax",
        }
    }

    /// The loss's parameter (Huber's δ, the quantile's τ; 0 if none).
    #[getter]
    fn param(&self) -> f32 {
        match &self.inner {
            DynModel::Linear(m) => m.loss_kind().param(),
            DynModel::Classifier(_) => 0.0,
        }
    }

    /// The weights, one row of `features` per output (a copy).
    #[getter]
    fn coef<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (w, k) = match &self.inner {
            DynModel::Linear(m) => (m.weights(), 1),
            DynModel::Classifier(c) => (c.weights(), c.classes()),
        };
        PyArray1::from_slice(py, w).reshape([k, self.inner.features()])
    }

    /// The biases, one per output (a copy).
    #[getter]
    fn intercept<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        match &self.inner {
            DynModel::Linear(m) => PyArray1::from_slice(py, &[m.bias()]),
            DynModel::Classifier(c) => PyArray1::from_slice(py, c.biases()),
        }
    }

    /// The model's outputs on the rows of `x` (C-contiguous `float32`, read in place): an
    /// `n × outputs` array of the linear predictions (the logit for the logistic loss, `ln μ`
    /// for Poisson) or the class logits.
    fn decision<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        self.per_row(py, &x, |s, n| self.outputs_of(s, n))
    }

    /// Probabilities on the rows of `x`: the sigmoid of the logit for a logistic model
    /// (`n × 1`), the softmax over the classes for a classifier (`n × classes`).
    fn proba<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        self.per_row(py, &x, |s, n| match &self.inner {
            DynModel::Linear(m) if m.loss_kind() == Loss::Logistic => {
                let mut z = self.outputs_of(s, n)?;
                z.iter_mut().for_each(|v| *v = npoa::loss::sigmoid(*v));
                Ok(z)
            }
            DynModel::Linear(_) => Err(Error::InvalidParameter {
                name: "model",
                reason: "probabilities need the logistic loss or a softmax classifier",
            }),
            DynModel::Classifier(c) => per_class(c, s, n, DynClassifier::predict_proba),
        })
    }

    /// Mean loss on `(x, y)` (the model's own loss; softmax: `y` holds class indices).
    fn mean_loss(
        &self,
        x: PyReadonlyArray2<'_, f32>,
        y: PyReadonlyArray1<'_, f32>,
    ) -> PyResult<f32> {
        let (s, _, d) = rows(&x)?;
        check_features(d, self.inner.features())?;
        let y = vector(&y, "y")?;
        match &self.inner {
            DynModel::Linear(m) => m.loss(s, y),
            DynModel::Classifier(c) => c.loss(s, y),
        }
        .map_err(err)
    }

    /// Pickling and copying go through the model bytes.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let from_bytes = py.get_type::<Model>().getattr("from_bytes")?;
        Ok((from_bytes, (self.to_bytes(py),)))
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __repr__(&self) -> String {
        format!(
            "Model(loss={:?}, features={}, outputs={})",
            self.loss(),
            self.features(),
            self.outputs()
        )
    }
}

impl Model {
    /// `f(rows, n)` on the rows of `x` (checked against the model's features; the GIL
    /// released), as an `n × outputs` array.
    fn per_row<'py>(
        &self,
        py: Python<'py>,
        x: &PyReadonlyArray2<'py, f32>,
        f: impl FnOnce(&[f32], usize) -> Result<Vec<f32>, Error> + Send,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (s, n, d) = rows(x)?;
        check_features(d, self.inner.features())?;
        let out = py.detach(|| f(s, n)).map_err(err)?;
        PyArray1::from_vec(py, out).reshape([n, self.outputs()])
    }

    /// The raw outputs of `n` rows, row after row.
    fn outputs_of(&self, x: &[f32], n: usize) -> Result<Vec<f32>, Error> {
        match &self.inner {
            DynModel::Linear(m) => {
                let mut out = vec![0.0f32; n];
                m.predict_batch(x, &mut out)?;
                Ok(out)
            }
            DynModel::Classifier(c) => per_class(c, x, n, DynClassifier::logits),
        }
    }
}

/// What a classifier computes for one row into its `k` outputs (logits, probabilities).
type PerRow = fn(&DynClassifier, &[f32], &mut [f32]) -> Result<(), Error>;

/// `f(row, out)` for each of the `n` rows of `x`: `n × classes` values.
fn per_class(c: &DynClassifier, x: &[f32], n: usize, f: PerRow) -> Result<Vec<f32>, Error> {
    let (k, d) = (c.classes(), c.features());
    let mut out = vec![0.0f32; n * k];
    for (row, o) in x.chunks_exact(d).zip(out.chunks_exact_mut(k)) {
        f(c, row, o)?;
    }
    Ok(out)
}

fn check_features(got: usize, want: usize) -> PyResult<()> {
    if got == want {
        Ok(())
    } else {
        Err(bad(format!(
            "X has {got} features, but the model was trained with {want}"
        )))
    }
}

/// The run's summary as a dict (`stop`, `epochs`, `steps`, `final_loss`, `best_metric`,
/// `rollbacks`, `certificate`, `solver`).
fn summary<'py>(py: Python<'py>, s: &Summary, solver: bool) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("stop", s.stop.name())?;
    d.set_item("epochs", s.epochs)?;
    d.set_item("steps", s.steps)?;
    d.set_item("final_loss", s.final_loss)?;
    d.set_item("best_metric", s.best_metric)?;
    d.set_item("rollbacks", s.rollbacks)?;
    d.set_item("certificate", s.certificate)?;
    d.set_item("solver", solver)?;
    Ok(d)
}

/// Trains a fresh model on `(x, y)` with npoa's recipe (the `train` command's pipeline) and
/// returns it with the run's summary.
///
/// `objective`: a loss name (`squared`, `huber`, `absolute`, `logistic`, `quantile`,
/// `poisson`) or `softmax` (then `y` holds class indices `0..classes`); `param`: Huber's δ or
/// the quantile's τ. `optimizer=None` (or `"auto"`): the full-batch solver for the smooth
/// losses, which stops on the optimality certificate; a rule's name: mini-batches under the
/// strategy controller. `x_val`/`y_val`: a validation set (its loss is the controller's
/// metric). The GIL is released during training.
#[pyfunction]
#[pyo3(signature = (
    x, y, objective, param = 0.0, classes = 2, l1 = 0.0, l2 = 0.0, standardize = true,
    tol = None, max_iter = None, optimizer = None, learning_rate = None, batch_size = 32,
    seed = 0, early_stop = None, x_val = None, y_val = None
))]
#[allow(clippy::too_many_arguments)]
fn fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    y: PyReadonlyArray1<'py, f32>,
    objective: &str,
    param: f32,
    classes: usize,
    l1: f32,
    l2: f32,
    standardize: bool,
    tol: Option<f32>,
    max_iter: Option<u32>,
    optimizer: Option<&str>,
    learning_rate: Option<f32>,
    batch_size: usize,
    seed: u64,
    early_stop: Option<u32>,
    x_val: Option<PyReadonlyArray2<'py, f32>>,
    y_val: Option<PyReadonlyArray1<'py, f32>>,
) -> PyResult<(Model, Bound<'py, PyDict>)> {
    let recipe = Recipe {
        objective: self::objective(objective, param)?,
        classes,
        optimizer: rule(optimizer)?,
        learning_rate,
        epochs: max_iter,
        batch_size,
        regularization: Regularization {
            l1,
            l2,
            ..Regularization::NONE
        },
        standardize,
        early_stop,
        seed,
        tol,
        ..Recipe::default()
    };
    let dataset = |x: &PyReadonlyArray2<'_, f32>, y: &PyReadonlyArray1<'_, f32>| {
        let (s, _, d) = rows(x)?;
        let y = vector(y, "y")?;
        DynDataset::new(s.to_vec(), y.to_vec(), d).map_err(err)
    };
    let train = dataset(&x, &y)?;
    let validation = match (&x_val, &y_val) {
        (Some(xv), Some(yv)) => Some(dataset(xv, yv)?),
        (None, None) => None,
        _ => return Err(bad("x_val and y_val go together")),
    };
    let solver = recipe.plan().solver;
    let (model, s) = py
        .detach(|| recipe.fit(&train, validation.as_ref(), &mut ()))
        .map_err(err)?;
    Ok((Model { inner: model }, summary(py, &s, solver)?))
}

/// The training window of a [`Learner`] (samples).
pub const WINDOW: usize = 64;
/// The held-out window of a [`Learner`] (samples).
pub const HOLDOUT: usize = 16;

/// A streaming learner of `D` features (npoa's default detector, ADWIN).
type Fixed<const D: usize> = OnlineLearner<LinearModel<D>, D, WINDOW, HOLDOUT>;

/// What a [`Learner`] needs of an [`OnlineLearner`], whatever its size.
trait Stream: Send + Sync {
    fn push(&mut self, x: &[f32], y: f32) -> Result<(), Error>;
    fn step(&mut self) -> Result<npoa::online::StepReport, Error>;
    fn partial_fit(&mut self, x: &[f32], y: &[f32]) -> Result<npoa::online::StepReport, Error>;
    /// The current model in raw feature space, cut to `d` features.
    fn model(&self, d: usize) -> Result<DynLinearModel, Error>;
    fn counts(&self) -> (u64, u32, u32, f32);
}

/// `x` padded with zeros to `D` features.
fn padded<const D: usize>(x: &[f32]) -> Result<[f32; D], Error> {
    let mut out = [0.0f32; D];
    if x.len() > D {
        return Err(Error::LengthMismatch {
            what: "x",
            expected: D,
            found: x.len(),
        });
    }
    out[..x.len()].copy_from_slice(x);
    Ok(out)
}

impl<const D: usize> Stream for Fixed<D> {
    fn push(&mut self, x: &[f32], y: f32) -> Result<(), Error> {
        OnlineLearner::push(self, &padded::<D>(x)?, y)
    }

    fn step(&mut self) -> Result<npoa::online::StepReport, Error> {
        OnlineLearner::step(self, &mut |_| {})
    }

    fn partial_fit(&mut self, x: &[f32], y: &[f32]) -> Result<npoa::online::StepReport, Error> {
        // The caller checked `x.len() == y.len() · d` with `1 ≤ d ≤ D`.
        let d = x.len().checked_div(y.len()).unwrap_or(0);
        if d == D || d == 0 {
            return OnlineLearner::partial_fit(self, x, y, &mut |_| {});
        }
        let mut wide = vec![0.0f32; y.len() * D];
        for (src, dst) in x.chunks_exact(d).zip(wide.chunks_exact_mut(D)) {
            dst[..d].copy_from_slice(src);
        }
        OnlineLearner::partial_fit(self, &wide, y, &mut |_| {})
    }

    fn model(&self, d: usize) -> Result<DynLinearModel, Error> {
        let m = OnlineLearner::model(self);
        let w = m.weights();
        // Padded features are zero in every sample (and standardise to zero): no update rule,
        // penalty or fold moves their weights off zero. Checked, not assumed.
        if w.get(d..).is_none_or(|pad| pad.iter().any(|v| *v != 0.0)) {
            return Err(Error::InvalidParameter {
                name: "features",
                reason: "a padded feature's weight left zero",
            });
        }
        DynLinearModel::new(w[..d].to_vec(), m.bias())?.with_loss(m.loss_kind())
    }

    fn counts(&self) -> (u64, u32, u32, f32) {
        (self.updates(), self.rounds(), self.restarts(), self.rate())
    }
}

/// A learner of `D` features starting from `start` (padded with zero weights).
fn make<const D: usize>(
    start: &DynLinearModel,
    controller: ControllerConfig,
    config: OnlineConfig,
    sampling: Sampling,
) -> Result<Fixed<D>, Error> {
    let w = padded::<D>(start.weights())?;
    let m = LinearModel::<D>::new(w, start.bias())?.with_loss(start.loss_kind())?;
    Fixed::<D>::new(m, controller, config, sampling)
}

macro_rules! sizes {
    ($($d:literal)*) => {
        /// The sizes a [`Learner`] is compiled for: a model of `d` features runs in the first
        /// size `≥ d`, its samples padded with zeros (whose weights stay exactly zero).
        pub const SIZES: &[usize] = &[$($d),*];

        /// A learner for `start`'s features, in the first of [`SIZES`] that holds them.
        fn build(
            start: &DynLinearModel,
            controller: ControllerConfig,
            config: OnlineConfig,
            sampling: Sampling,
        ) -> Result<Box<dyn Stream>, Error> {
            let d = start.weights().len();
            let size = SIZES.iter().copied().find(|&s| s >= d).unwrap_or(0);
            match size {
                $($d => Ok(Box::new(make::<$d>(start, controller, config, sampling)?)),)*
                _ => Err(Error::InvalidParameter {
                    name: "features",
                    reason: "the streaming learner takes 1 to 64 features",
                }),
            }
        }
    };
}

sizes!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 20 24 32 40 48 64);

/// npoa's streaming learner ([`OnlineLearner`]) for a linear model of one output (any loss):
/// a training window of [`WINDOW`] samples, a held-out window of [`HOLDOUT`], the strategy
/// controller over rounds, the divergence guard, ADWIN drift restarts and the running
/// standardisation.
#[pyclass(module = "npoa._core")]
pub struct Learner {
    inner: Box<dyn Stream>,
    d: usize,
}

/// A step report as a dict.
fn report<'py>(py: Python<'py>, r: &npoa::online::StepReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("updates", r.updates)?;
    d.set_item("rounds", r.rounds)?;
    d.set_item("metric", r.metric)?;
    d.set_item("restarted", r.restarted)?;
    d.set_item("stopped", r.stopped.map(|s| s.name()))?;
    Ok(d)
}

#[pymethods]
impl Learner {
    /// A learner starting from `start` (a linear `Model`). `learning_rate`: the constant
    /// rate of the update rule `optimizer`; `batch_size`, `round_steps`, `holdout_every`:
    /// npoa's `OnlineConfig`; `standardize`: the warm-up in samples (`None`: off);
    /// `detector`: ADWIN drift restarts; `seed`: a reservoir window with this seed (`None`:
    /// sliding windows).
    #[new]
    #[pyo3(signature = (
        start, learning_rate, optimizer = "sgd", l1 = 0.0, l2 = 0.0, batch_size = 8,
        round_steps = 8, holdout_every = 5, standardize = Some(64), detector = true, seed = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        start: &Model,
        learning_rate: f32,
        optimizer: &str,
        l1: f32,
        l2: f32,
        batch_size: usize,
        round_steps: u32,
        holdout_every: u32,
        standardize: Option<usize>,
        detector: bool,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        let DynModel::Linear(m) = &start.inner else {
            return Err(bad(
                "the streaming learner trains a linear model of one output",
            ));
        };
        let defaults = OnlineConfig::default();
        let config = OnlineConfig {
            batch_size,
            round_steps,
            holdout_every,
            optimizer: rule(Some(optimizer))?.unwrap_or(Rule::Sgd),
            regularization: Regularization {
                l1,
                l2,
                ..Regularization::NONE
            },
            detector: if detector { defaults.detector } else { None },
            standardize,
            ..defaults
        };
        let sampling = seed.map_or(Sampling::Sliding, |seed| Sampling::Reservoir { seed });
        let controller = ControllerConfig::constant(learning_rate).map_err(err)?;
        let inner = build(m, controller, config, sampling).map_err(err)?;
        Ok(Self {
            inner,
            d: m.weights().len(),
        })
    }

    /// Offers one sample (npoa's `push`: no training).
    fn push(&mut self, x: PyReadonlyArray1<'_, f32>, y: f32) -> PyResult<()> {
        let x = vector(&x, "x")?;
        check_features(x.len(), self.d)?;
        self.inner.push(x, y).map_err(err)
    }

    /// Runs the configured updates over the window (npoa's `step`).
    fn step<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = self.inner.step().map_err(err)?;
        report(py, &r)
    }

    /// One update on the rows of `x` (at most [`WINDOW`] rows; npoa's `partial_fit`).
    fn partial_fit<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        y: PyReadonlyArray1<'py, f32>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (s, n, d) = rows(&x)?;
        check_features(d, self.d)?;
        let y = vector(&y, "y")?;
        if y.len() != n {
            return Err(bad(format!("X has {n} rows but y has {} values", y.len())));
        }
        let r = self.inner.partial_fit(s, y).map_err(err)?;
        report(py, &r)
    }

    /// The current model, in raw feature space.
    fn model(&self) -> PyResult<Model> {
        let m = self.inner.model(self.d).map_err(err)?;
        Ok(Model {
            inner: DynModel::Linear(m),
        })
    }

    /// Updates applied, rounds ended, drift restarts, and the current rate.
    #[getter]
    fn counts(&self) -> (u64, u32, u32, f32) {
        self.inner.counts()
    }

    /// Number of features.
    #[getter]
    fn features(&self) -> usize {
        self.d
    }
}

/// A round frame (npoa's `model::round`): `model` (model bytes) as the global model of
/// `round` (`role="global"`, `samples=0`) or a device's update trained on `samples` samples
/// (`role="update"`), with the frame's CRC-32.
#[pyfunction]
#[pyo3(signature = (role, round, samples, model))]
fn frame<'py>(
    py: Python<'py>,
    role: &str,
    round: u32,
    samples: u32,
    model: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let role = match role {
        "global" => Role::Global,
        "update" => Role::Update,
        _ => {
            return Err(bad(format!(
                "unknown role {role:?}: \"global\" or \"update\""
            )));
        }
    };
    let mut buf = vec![0u8; round::frame_len(model.len())];
    let f = Frame {
        role,
        round,
        samples,
        model,
    };
    let n = round::encode(&f, &mut buf).map_err(err)?;
    Ok(PyBytes::new(py, &buf[..n]))
}

/// Reads a round frame: `(role, round, samples, model bytes)`, every check of npoa's
/// `model::round::decode` made (magic, version, role, length, both CRCs).
#[pyfunction]
fn unframe<'py>(
    py: Python<'py>,
    data: &[u8],
) -> PyResult<(&'static str, u32, u32, Bound<'py, PyBytes>)> {
    let f = round::decode(data).map_err(err)?;
    let role = match f.role {
        Role::Global => "global",
        Role::Update => "update",
    };
    Ok((role, f.round, f.samples, PyBytes::new(py, f.model)))
}

/// The `npoa._core` module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_class::<Learner>()?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(frame, m)?)?;
    m.add_function(wrap_pyfunction!(unframe, m)?)?;
    m.add("NpoaError", m.py().get_type::<NpoaError>())?;
    m.add("WINDOW", WINDOW)?;
    m.add("HOLDOUT", HOLDOUT)?;
    m.add("SIZES", SIZES.to_vec())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
