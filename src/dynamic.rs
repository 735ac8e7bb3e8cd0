//! The `std` layer: models whose size is known only at run time, on the same kernels.

use crate::check;
use crate::control::Event;
use crate::loss::{Loss, Objective};
use crate::model::bytes::{self, Header, Kind};
use crate::optim::StateParts;
use crate::train::solve::{Solve, SolveConfig, solve_parts};
use crate::train::{
    Access, Dataset, Decision, Epoch, Fit, ObjectiveKernels, Observer, Run, Summary, Training,
};
use crate::{Error, kernel};
use std::path::Path;
use std::vec;
use std::vec::Vec;

/// A linear model with a run-time number of features (`Vec`-backed). Same kernels and
/// training loop as [`LinearModel`](crate::LinearModel).
///
/// ```
/// use npoa::{Dataset, DynLinearModel, DynModel};
/// use npoa::train::{TrainConfig, fit};
///
/// // The feature count is a run-time value (here 3, as if read from a file's header).
/// let d = 3;
/// let x: Vec<f32> = (0..40 * d).map(|i| ((i * 7) % 13) as f32 / 13.0).collect();
/// let y: Vec<f32> = x.chunks(d).map(|r| r[0] - 2.0 * r[1] + 0.5 * r[2] + 1.0).collect();
/// let data = Dataset::new(&x, &y, d)?;
/// let mut model = DynLinearModel::zeros(d)?;
/// let config = TrainConfig { learning_rate: 0.2, epochs: 3000, batch_size: 40, ..TrainConfig::default() };
/// fit(&mut model, &data, &config)?;
/// assert!(model.loss(&x, &y)? < 1e-6);
/// let mut predictions = vec![0.0f32; y.len()];
/// model.predict_batch(&x, &mut predictions)?;
/// assert!(predictions.iter().zip(&y).all(|(p, t)| (p - t).abs() < 1e-2));
///
/// // Model bytes round-trip exactly, and say which kind of model they hold.
/// let bytes = model.to_bytes();
/// assert_eq!(DynLinearModel::from_bytes(&bytes)?, model);
/// assert!(matches!(DynModel::from_bytes(&bytes)?, DynModel::Linear(m) if m == model));
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DynLinearModel {
    w: Vec<f32>,
    b: f32,
    loss: Loss,
}

impl DynLinearModel {
    /// All-zero model with `d` features, for the squared error.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] if `d == 0`.
    pub fn zeros(d: usize) -> Result<Self, Error> {
        if d == 0 {
            return Err(Error::ZeroFeatures);
        }
        Ok(Self {
            w: vec![0.0; d],
            b: 0.0,
            loss: Loss::Squared,
        })
    }

    /// A model from its weights and bias, for the squared error.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] for empty weights, [`Error::NonFinite`] for non-finite values.
    pub fn new(w: Vec<f32>, b: f32) -> Result<Self, Error> {
        check::check_params(&w, b)?;
        Ok(Self {
            w,
            b,
            loss: Loss::Squared,
        })
    }

    /// The model trained for another loss (see [`LinearModel::with_loss`](crate::LinearModel::with_loss)).
    ///
    /// # Errors
    /// As [`Loss::validate`].
    pub fn with_loss(mut self, loss: Loss) -> Result<Self, Error> {
        loss.validate()?;
        self.loss = loss;
        Ok(self)
    }

    /// The weights.
    pub fn weights(&self) -> &[f32] {
        &self.w
    }

    /// The bias.
    pub fn bias(&self) -> f32 {
        self.b
    }

    /// Predictions for `out.len()` samples.
    ///
    /// # Errors
    /// As [`kernel::forward`].
    pub fn predict_batch(&self, x: &[f32], out: &mut [f32]) -> Result<(), Error> {
        kernel::forward(x, &self.w, self.b, out)
    }

    /// Mean loss on a data set.
    ///
    /// # Errors
    /// As [`Loss::mean`].
    pub fn loss(&self, x: &[f32], y: &[f32]) -> Result<f32, Error> {
        self.loss.mean(&kernel::SIMD, x, y, &self.w, self.b)
    }
}

/// A softmax classifier with run-time numbers of features and classes (`Vec`-backed). Same
/// kernels and training loop as [`LinearClassifier`](crate::LinearClassifier).
#[derive(Debug, Clone, PartialEq)]
pub struct DynClassifier {
    w: Vec<f32>,
    b: Vec<f32>,
    d: usize,
}

impl DynClassifier {
    /// All-zero classifier with `d` features and `k` classes.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] if `d == 0`; [`Error::InvalidParameter`] if `k` is not in
    /// `1..=`[`kernel::MAX_CLASSES`].
    pub fn zeros(d: usize, k: usize) -> Result<Self, Error> {
        if d == 0 {
            return Err(Error::ZeroFeatures);
        }
        if k == 0 || k > kernel::MAX_CLASSES {
            return Err(Error::InvalidParameter {
                name: "classes",
                reason: "must be in 1..=256",
            });
        }
        let len = d
            .checked_mul(k)
            .ok_or(Error::Overflow { what: "weights" })?;
        Ok(Self {
            w: vec![0.0; len],
            b: vec![0.0; k],
            d,
        })
    }

    /// The weights, one row of `d` per class.
    pub fn weights(&self) -> &[f32] {
        &self.w
    }

    /// The biases, one per class.
    pub fn biases(&self) -> &[f32] {
        &self.b
    }

    /// The logits of one sample into `out` (length `k`).
    ///
    /// # Errors
    /// As [`kernel::forward`]; [`Error::LengthMismatch`] if `out` is not `k` long.
    pub fn logits(&self, x: &[f32], out: &mut [f32]) -> Result<(), Error> {
        check::check_len("out", out.len(), self.b.len())?;
        for ((o, wc), &bc) in out.iter_mut().zip(self.w.chunks_exact(self.d)).zip(&self.b) {
            let mut one = [0.0f32];
            kernel::forward(x, wc, bc, &mut one)?;
            *o = one[0];
        }
        Ok(())
    }

    /// The most likely class of one sample (the first of equal logits).
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn predict_class(&self, x: &[f32]) -> Result<usize, Error> {
        let mut z = vec![0.0f32; self.b.len()];
        self.logits(x, &mut z)?;
        Ok(crate::model::classifier::argmax(&z))
    }

    /// Mean cross-entropy on a data set (labels as floats `0.0, 1.0, …`).
    ///
    /// # Errors
    /// As [`kernel::softmax_loss`].
    pub fn loss(&self, x: &[f32], y: &[f32]) -> Result<f32, Error> {
        kernel::softmax_loss(x, y, &self.w, &self.b)
    }
}

/// An [`Observer`] that keeps a run's record: one [`Epoch`] per epoch and every [`Event`].
///
/// ```
/// use npoa::{DynLinearModel, History};
/// use npoa::train::{Dataset, TrainConfig, Training};
/// let (x, y) = ([0.0f32, 1.0, 2.0], [1.0f32, 3.0, 5.0]);
/// let data = Dataset::new(&x, &y, 1)?;
/// let config = TrainConfig { learning_rate: 0.1, epochs: 50, ..TrainConfig::default() };
/// let mut model = DynLinearModel::zeros(1)?;
/// let mut history = History::default();
/// Training::new(&config).observer(&mut history).fit(&mut model, &data)?;
/// assert_eq!(history.epochs.len(), 50);
/// assert!(history.epochs[49].train_loss < history.epochs[0].train_loss);
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// Per epoch.
    pub epochs: Vec<Epoch>,
    /// The controller's decisions, in order.
    pub events: Vec<Event>,
}

impl Observer for History {
    fn on_epoch(&mut self, epoch: &Epoch) -> Decision {
        self.epochs.push(*epoch);
        Decision::Continue
    }
    fn on_event(&mut self, event: &Event) {
        self.events.push(*event);
    }
}

/// Run-time sized parameters with gradient scratch and optimizer state in `Vec`s.
struct DynRun<'a> {
    w: &'a mut [f32],
    b: &'a mut [f32],
    gw: Vec<f32>,
    gb: Vec<f32>,
    bufs: [(Vec<f32>, Vec<f32>); 2],
    t: u64,
}

impl<'a> DynRun<'a> {
    fn new(w: &'a mut [f32], b: &'a mut [f32], buffers: usize) -> Self {
        let (n, nb) = (w.len(), b.len());
        let sized = |k: usize| {
            if buffers > k {
                (vec![0.0f32; n], vec![0.0f32; nb])
            } else {
                (vec![], vec![])
            }
        };
        Self {
            gw: vec![0.0; n],
            gb: vec![0.0; nb],
            bufs: [sized(0), sized(1)],
            t: 0,
            w,
            b,
        }
    }
}

impl Run for DynRun<'_> {
    type Snap = (Vec<f32>, Vec<f32>, [(Vec<f32>, Vec<f32>); 2], u64);
    fn snapshot(&mut self) -> Self::Snap {
        (self.w.to_vec(), self.b.to_vec(), self.bufs.clone(), self.t)
    }
    fn restore(&mut self, snap: &Self::Snap) {
        self.w.copy_from_slice(&snap.0);
        self.b.copy_from_slice(&snap.1);
        for (d, s) in self.bufs.iter_mut().zip(&snap.2) {
            d.0.copy_from_slice(&s.0);
            d.1.copy_from_slice(&s.1);
        }
        self.t = snap.3;
    }
    fn split(
        &mut self,
    ) -> (
        (&mut [f32], &mut [f32]),
        (&mut [f32], &mut [f32]),
        StateParts<'_>,
    ) {
        let [a, b] = &mut self.bufs;
        (
            (&mut *self.w, &mut *self.b),
            (&mut self.gw, &mut self.gb),
            StateParts {
                first: (&mut a.0[..], &mut a.1[..]).into(),
                second: (&mut b.0[..], &mut b.1[..]).into(),
                steps: &mut self.t,
            },
        )
    }
}

/// Writes `bytes` to `path` atomically: to a new temporary file in the same directory
/// (`.NAME.PID.N.tmp`, created exclusively), flushed and synced, then renamed over `path`, and
/// the directory synced (Unix). A crash or a full disk leaves the old file or the new one,
/// whole; on error the temporary file is removed and `path` is untouched. A replaced file
/// keeps its permission bits; a device or FIFO is written in place. Hand-written
/// rather than with the `tempfile` crate (which the command-line tool uses) to keep the
/// library's dependencies to its numerics.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const FAIL: Error = Error::Io { what: "write" };
    let existing = std::fs::metadata(path).ok();
    // A device or a FIFO (`/dev/stdout`) is written in place: no old content to keep, and a
    // rename would replace the node.
    if existing
        .as_ref()
        .is_some_and(|m| !m.is_file() && !m.is_dir())
    {
        return std::fs::write(path, bytes).map_err(|_| FAIL);
    }
    let name = path.file_name().ok_or(FAIL)?.to_string_lossy();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let (tmp, mut file) = (0..64)
        .find_map(|_| {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(std::format!(".{name}.{}.{n}.tmp", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(f) => Some(Ok((tmp, f))),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
                Err(_) => Some(Err(FAIL)),
            }
        })
        .ok_or(FAIL)??;
    // A file that is replaced keeps its permission bits.
    let kept = match &existing {
        Some(m) => file.set_permissions(m.permissions()),
        None => Ok(()),
    };
    let synced = kept
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all());
    drop(file);
    if synced.and_then(|()| std::fs::rename(&tmp, path)).is_err() {
        let _ = std::fs::remove_file(&tmp);
        return Err(FAIL);
    }
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|_| FAIL)?;
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|_| Error::Io { what: "read" })
}

impl DynLinearModel {
    /// The loss this model is trained for.
    pub fn loss_kind(&self) -> Loss {
        self.loss
    }

    /// The model's bytes ([`crate::model::bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let h = Header {
            kind: Kind::Linear(self.loss),
            d: self.w.len(),
            k: 1,
        };
        let mut v = vec![0u8; bytes::encoded_len(h.d, 1)];
        // The buffer has the encoded length and the model is valid: this cannot fail.
        let _ = bytes::encode(h, &self.w, &[self.b], &mut v);
        v
    }

    /// Decodes a linear model of any size.
    ///
    /// # Errors
    /// As [`crate::model::bytes::decode_into`]; [`Error::InvalidBytes`] for a classifier.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, Error> {
        match DynModel::from_bytes(buf)? {
            DynModel::Linear(m) => Ok(m),
            DynModel::Classifier(_) => Err(Error::InvalidBytes {
                reason: "a classifier, not a linear model",
            }),
        }
    }

    /// Writes [`to_bytes`](Self::to_bytes) to a file, atomically (a temporary file in the same
    /// directory, synced, then renamed over the target: a crash leaves the old file or the
    /// new one, whole).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written (the old file, if any, is then untouched).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        write_file(path.as_ref(), &self.to_bytes())
    }

    /// Reads a model saved by [`save`](Self::save).
    ///
    /// # Errors
    /// As [`from_bytes`](Self::from_bytes), or if the file cannot be read.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::from_bytes(&read_file(path.as_ref())?)
    }
}

impl DynClassifier {
    /// Features.
    pub fn features(&self) -> usize {
        self.d
    }

    /// The classifier's bytes ([`crate::model::bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let h = Header {
            kind: Kind::Softmax,
            d: self.d,
            k: self.b.len(),
        };
        let mut v = vec![0u8; bytes::encoded_len(h.d, h.k)];
        // The buffer has the encoded length and the model is valid: this cannot fail.
        let _ = bytes::encode(h, &self.w, &self.b, &mut v);
        v
    }

    /// Decodes a classifier of any size.
    ///
    /// # Errors
    /// As [`crate::model::bytes::decode_into`]; [`Error::InvalidBytes`] for a linear model.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, Error> {
        match DynModel::from_bytes(buf)? {
            DynModel::Classifier(m) => Ok(m),
            DynModel::Linear(_) => Err(Error::InvalidBytes {
                reason: "a linear model, not a classifier",
            }),
        }
    }

    /// Writes [`to_bytes`](Self::to_bytes) to a file, atomically (a temporary file in the same
    /// directory, synced, then renamed over the target: a crash leaves the old file or the
    /// new one, whole).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written (the old file, if any, is then untouched).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        write_file(path.as_ref(), &self.to_bytes())
    }
}

/// Either model of run-time size, as read from bytes.
///
/// ```
/// use npoa::{DynClassifier, DynModel, LinearModel, model::bytes::encoded_len};
///
/// // Bytes written by a fixed-size model on a device, read on the host without knowing its kind.
/// let on_device = LinearModel::<4>::new([1.0, -2.0, 0.5, 0.0], 0.25)?;
/// let mut buf = [0u8; encoded_len(4, 1)];
/// let n = on_device.to_bytes(&mut buf)?;
/// let DynModel::Linear(model) = DynModel::from_bytes(&buf[..n])? else {
///     unreachable!("a linear model was written")
/// };
/// assert_eq!((model.weights(), model.bias()), (&[1.0, -2.0, 0.5, 0.0][..], 0.25));
/// let classifier = DynModel::from_bytes(&DynClassifier::zeros(4, 3)?.to_bytes())?;
/// assert!(matches!(classifier, DynModel::Classifier(ref c) if c.classes() == 3));
/// assert_eq!(classifier.features(), 4);
/// // Bytes that are not a model are an error, never a panic.
/// assert!(DynModel::from_bytes(&buf[..n - 1]).is_err());
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum DynModel {
    /// One output.
    Linear(DynLinearModel),
    /// Softmax over classes.
    Classifier(DynClassifier),
}

impl DynModel {
    /// Decodes either kind.
    ///
    /// # Errors
    /// As [`crate::model::bytes::decode_into`].
    pub fn from_bytes(buf: &[u8]) -> Result<Self, Error> {
        let h = bytes::decode_header(buf)?;
        let mut w = vec![0.0f32; h.k * h.d];
        let mut b = vec![0.0f32; h.k];
        bytes::values_into(buf, h, &mut w, &mut b)?;
        Ok(match h.kind {
            Kind::Linear(loss) => DynModel::Linear(DynLinearModel { w, b: b[0], loss }),
            Kind::Softmax => DynModel::Classifier(DynClassifier { w, b, d: h.d }),
        })
    }

    /// Reads a model file.
    ///
    /// # Errors
    /// As [`from_bytes`](Self::from_bytes), or if the file cannot be read.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::from_bytes(&read_file(path.as_ref())?)
    }

    /// The model's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            DynModel::Linear(m) => m.to_bytes(),
            DynModel::Classifier(m) => m.to_bytes(),
        }
    }

    /// Features.
    pub fn features(&self) -> usize {
        match self {
            DynModel::Linear(m) => m.w.len(),
            DynModel::Classifier(m) => m.d,
        }
    }
}

impl DynLinearModel {
    /// Folds a standardisation into a model trained on standardised features, so that it
    /// predicts on raw ones ([`crate::data::Standardizer::fold`]).
    ///
    /// # Errors
    /// As [`crate::data::Standardizer::fold`]; the model is unchanged then.
    pub fn unstandardize(&mut self, s: &crate::data::Standardizer) -> Result<(), Error> {
        let mut b = [self.b];
        s.fold(&mut self.w, &mut b)?;
        self.b = b[0];
        Ok(())
    }

    /// Folds a feature and target standardisation into a regression model trained on
    /// standardised features and targets ([`crate::data::Standardizer::fold_target`]), so that
    /// it predicts raw targets on raw features.
    ///
    /// # Errors
    /// As [`crate::data::Standardizer::fold`]; the model is unchanged then.
    pub fn unstandardize_target(&mut self, s: &crate::data::Standardizer) -> Result<(), Error> {
        let mut b = [self.b];
        s.fold_target(&mut self.w, &mut b)?;
        self.b = b[0];
        Ok(())
    }
}

impl DynClassifier {
    /// Folds a standardisation into the classifier ([`crate::data::Standardizer::fold`]).
    ///
    /// # Errors
    /// As [`crate::data::Standardizer::fold`]; the classifier is unchanged then.
    pub fn unstandardize(&mut self, s: &crate::data::Standardizer) -> Result<(), Error> {
        s.fold(&mut self.w, &mut self.b)
    }

    /// Class probabilities of one sample into `out` (length `k`), softmax in `f64`.
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn predict_proba(&self, x: &[f32], out: &mut [f32]) -> Result<(), Error> {
        self.logits(x, out)?;
        let m = out
            .iter()
            .fold(f64::NEG_INFINITY, |a, &v| a.max(f64::from(v)));
        let e: Vec<f64> = out.iter().map(|&v| libm::exp(f64::from(v) - m)).collect();
        let s: f64 = e.iter().sum();
        for (o, ei) in out.iter_mut().zip(e) {
            *o = (ei / s) as f32;
        }
        Ok(())
    }

    /// Classes.
    pub fn classes(&self) -> usize {
        self.b.len()
    }
}

impl Access for DynLinearModel {
    fn params(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.w, core::slice::from_mut(&mut self.b))
    }
}

impl Access for DynClassifier {
    fn params(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.w, &mut self.b)
    }
}

/// Trains run-time sized parameters with the one loop: gradient scratch and optimizer state in
/// `Vec`s, fresh for each call.
fn fit_dyn<M: Access, O: Observer>(
    model: &mut M,
    obj: Objective,
    training: Training<'_, O>,
    data: &Dataset<'_>,
) -> Result<Summary, Error> {
    let buffers = training.config().optimizer.buffers();
    let (w, b) = model.params();
    let mut run = DynRun::new(w, b, buffers);
    training.run(&mut run, (obj, ObjectiveKernels::RUNTIME), data)
}

impl Fit for DynLinearModel {
    fn fit_in<O: Observer>(
        &mut self,
        training: Training<'_, O>,
        data: &Dataset<'_>,
    ) -> Result<Summary, Error> {
        let obj = Objective::Single(self.loss);
        fit_dyn(self, obj, training, data)
    }
}

impl Fit for DynClassifier {
    fn fit_in<O: Observer>(
        &mut self,
        training: Training<'_, O>,
        data: &Dataset<'_>,
    ) -> Result<Summary, Error> {
        fit_dyn(self, Objective::Softmax, training, data)
    }
}

impl Access for DynModel {
    fn params(&mut self) -> (&mut [f32], &mut [f32]) {
        match self {
            DynModel::Linear(m) => m.params(),
            DynModel::Classifier(m) => m.params(),
        }
    }
}

impl Fit for DynModel {
    fn fit_in<O: Observer>(
        &mut self,
        training: Training<'_, O>,
        data: &Dataset<'_>,
    ) -> Result<Summary, Error> {
        match self {
            DynModel::Linear(m) => m.fit_in(training, data),
            DynModel::Classifier(m) => m.fit_in(training, data),
        }
    }
}

/// The snapshot of a run-time sized run: weights, biases, the two state buffers, the steps.
pub(crate) type DynSnap = (Vec<f32>, Vec<f32>, [(Vec<f32>, Vec<f32>); 2], u64);

/// A run-time sized model's optimizer state kept between resumable calls: the two buffers
/// (empty if the rule does not use them) and the steps.
#[derive(Debug, Clone, Default)]
pub(crate) struct DynState {
    pub(crate) bufs: [(Vec<f32>, Vec<f32>); 2],
    pub(crate) t: u64,
}

/// [`fit_dyn`] from, and back into, `state` and `cursor` (a resumable run, see
/// [`Training::fit_resumable`]): buffers of the wrong size are made fresh.
pub(crate) fn fit_dyn_resumable<O: Observer>(
    model: &mut DynModel,
    training: Training<'_, O>,
    data: &Dataset<'_>,
    state: &mut DynState,
    cursor: &mut crate::train::Cursor<DynSnap>,
) -> Result<Summary, Error> {
    let obj = match model {
        DynModel::Linear(m) => Objective::Single(m.loss),
        DynModel::Classifier(_) => Objective::Softmax,
    };
    let buffers = training.config().optimizer.buffers();
    let (w, b) = model.params();
    let mut run = DynRun::new(w, b, buffers);
    let sized = |(bw, bb): &(Vec<f32>, Vec<f32>), want: bool| {
        want && bw.len() == run.w.len() && bb.len() == run.b.len()
    };
    for (k, (dst, src)) in run.bufs.iter_mut().zip(&mut state.bufs).enumerate() {
        if sized(src, buffers > k) {
            core::mem::swap(dst, src);
        }
    }
    run.t = state.t;
    let out = training.run_bound(&mut run, (obj, ObjectiveKernels::RUNTIME), data, cursor);
    state.bufs = core::mem::take(&mut run.bufs);
    state.t = run.t;
    out
}

/// Runs the full-batch solver on run-time sized parameters (scratch in `Vec`s).
fn solve_dyn<M: Access + Clone>(
    model: &mut M,
    obj: Objective,
    config: &SolveConfig,
    (data, validation): (&Dataset<'_>, Option<&Dataset<'_>>),
    observer: &mut dyn Observer,
) -> Result<Summary, Error> {
    let backup = model.clone();
    let out = {
        let (w, b) = model.params();
        let (n, nb) = (w.len(), b.len());
        let mut s: [(Vec<f32>, Vec<f32>); 6] =
            core::array::from_fn(|_| (vec![0.0f32; n], vec![0.0f32; nb]));
        let [a, c, d, e, f, g] = &mut s;
        solve_parts(
            (obj, ObjectiveKernels::RUNTIME),
            (w, b),
            [
                (&mut a.0[..], &mut a.1[..]),
                (&mut c.0[..], &mut c.1[..]),
                (&mut d.0[..], &mut d.1[..]),
                (&mut e.0[..], &mut e.1[..]),
                (&mut f.0[..], &mut f.1[..]),
                (&mut g.0[..], &mut g.1[..]),
            ],
            (data, validation),
            config,
            observer,
        )
    };
    if out.is_err() {
        *model = backup;
    }
    out
}

impl Solve for DynLinearModel {
    fn solve_in(
        &mut self,
        config: &SolveConfig,
        data: &Dataset<'_>,
        validation: Option<&Dataset<'_>>,
        observer: &mut dyn Observer,
    ) -> Result<Summary, Error> {
        let obj = Objective::Single(self.loss);
        solve_dyn(self, obj, config, (data, validation), observer)
    }
}

impl Solve for DynClassifier {
    fn solve_in(
        &mut self,
        config: &SolveConfig,
        data: &Dataset<'_>,
        validation: Option<&Dataset<'_>>,
        observer: &mut dyn Observer,
    ) -> Result<Summary, Error> {
        solve_dyn(
            self,
            Objective::Softmax,
            config,
            (data, validation),
            observer,
        )
    }
}

impl Solve for DynModel {
    fn solve_in(
        &mut self,
        config: &SolveConfig,
        data: &Dataset<'_>,
        validation: Option<&Dataset<'_>>,
        observer: &mut dyn Observer,
    ) -> Result<Summary, Error> {
        match self {
            DynModel::Linear(m) => m.solve_in(config, data, validation, observer),
            DynModel::Classifier(m) => m.solve_in(config, data, validation, observer),
        }
    }
}
