//! The `std` layer: models whose size is known only at run time, on the same kernels.

use crate::bytes::{self, Header, Kind};
use crate::controller::{Controller, Event};
use crate::loss::{Loss, Objective};
use crate::optim::StateParts;
use crate::train::{
    ControlledSummary, Dataset, EpochRecord, Hooks, ObjectiveKernels, Run, Strategy, TrainConfig,
    TrainSummary, controlled_loop, finish_average, fit_parts,
};
use crate::{Error, kernel};
use std::path::Path;
use std::vec;
use std::vec::Vec;

/// A linear model with a run-time number of features (`Vec`-backed). Same kernels and
/// training loop as [`LinearModel`](crate::LinearModel).
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
        kernel::check_params(&w, b)?;
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
    /// As [`kernel::loss_with`].
    pub fn loss(&self, x: &[f32], y: &[f32]) -> Result<f32, Error> {
        kernel::loss_with(self.loss, x, y, &self.w, self.b)
    }

    /// Trains in place with the same loop as [`crate::train::fit`]; on error the model is
    /// unchanged.
    ///
    /// # Errors
    /// As [`crate::train::fit`].
    pub fn fit<S: Strategy>(
        &mut self,
        data: &Dataset<'_>,
        config: &TrainConfig,
        mut strategy: S,
    ) -> Result<TrainSummary, Error> {
        let backup = (self.w.clone(), self.b);
        let out = fit_dyn(
            Objective::Single(self.loss),
            (&mut self.w, core::slice::from_mut(&mut self.b)),
            data,
            config,
            &mut strategy,
        );
        if out.is_err() {
            (self.w, self.b) = backup;
        }
        out
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
        kernel::check_len("out", out.len(), self.b.len())?;
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
        Ok(crate::classifier::argmax(&z))
    }

    /// Mean cross-entropy on a data set (labels as floats `0.0, 1.0, …`).
    ///
    /// # Errors
    /// As [`kernel::softmax_loss`].
    pub fn loss(&self, x: &[f32], y: &[f32]) -> Result<f32, Error> {
        kernel::softmax_loss(x, y, &self.w, &self.b)
    }

    /// Trains in place with the same loop as [`crate::train::fit`]; on error the classifier
    /// is unchanged.
    ///
    /// # Errors
    /// As [`crate::train::fit`].
    pub fn fit<S: Strategy>(
        &mut self,
        data: &Dataset<'_>,
        config: &TrainConfig,
        mut strategy: S,
    ) -> Result<TrainSummary, Error> {
        let backup = (self.w.clone(), self.b.clone());
        let out = fit_dyn(
            Objective::Softmax,
            (&mut self.w, &mut self.b),
            data,
            config,
            &mut strategy,
        );
        if out.is_err() {
            (self.w, self.b) = backup;
        }
        out
    }
}

/// The training loop for run-time sized parameters, with gradient scratch and the optimizer's
/// state in `Vec`s (fresh for each call); the model becomes the average for
/// [`Rule::Averaged`](crate::optim::Rule::Averaged).
fn fit_dyn<S: Strategy + ?Sized>(
    obj: Objective,
    (w, b): (&mut [f32], &mut [f32]),
    data: &Dataset<'_>,
    config: &TrainConfig,
    strategy: &mut S,
) -> Result<TrainSummary, Error> {
    let (n, nb) = (w.len(), b.len());
    let bufs = config.optimizer.buffers();
    let sized = |k: usize| {
        if bufs > k {
            (vec![0.0f32; n], vec![0.0f32; nb])
        } else {
            (vec![], vec![])
        }
    };
    let (mut aw, mut ab) = sized(0);
    let (mut bw, mut bb) = sized(1);
    let (mut gw, mut gb) = (vec![0.0f32; n], vec![0.0f32; nb]);
    let mut t = 0u64;
    let mut st = StateParts {
        a: (&mut aw, &mut ab),
        b: (&mut bw, &mut bb),
        t: &mut t,
    };
    let out = fit_parts(
        (obj, ObjectiveKernels::RUNTIME),
        (&mut *w, &mut *b),
        (&mut gw, &mut gb),
        &mut st,
        data,
        config,
        strategy,
    )?;
    finish_average(config.optimizer, (w, b), &st);
    Ok(out)
}

/// A controlled run's record: the summary, one [`EpochRecord`] per epoch, every [`Event`].
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// How the run ended.
    pub summary: ControlledSummary,
    /// Per epoch.
    pub records: Vec<EpochRecord>,
    /// The controller's decisions, in order.
    pub events: Vec<Event>,
}

/// Run-time sized parameters with gradient scratch and optimizer state in `Vec`s.
struct DynRun<'a> {
    w: &'a mut Vec<f32>,
    b: &'a mut Vec<f32>,
    gw: Vec<f32>,
    gb: Vec<f32>,
    bufs: [(Vec<f32>, Vec<f32>); 2],
    t: u64,
}

impl<'a> DynRun<'a> {
    fn new(w: &'a mut Vec<f32>, b: &'a mut Vec<f32>, buffers: usize) -> Self {
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
        (self.w.clone(), self.b.clone(), self.bufs.clone(), self.t)
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
            (self.w, self.b),
            (&mut self.gw, &mut self.gb),
            StateParts {
                a: (&mut a.0, &mut a.1),
                b: (&mut b.0, &mut b.1),
                t: &mut self.t,
            },
        )
    }
}

/// What a watcher of a run-time sized training run sees, as it happens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress<'a> {
    /// An epoch completed.
    Epoch(&'a EpochRecord),
    /// The controller decided something.
    Event(&'a Event),
}

/// The controlled loop on run-time sized parameters, collecting the history.
fn controlled_dyn(
    obj: Objective,
    (w, b): (&mut Vec<f32>, &mut Vec<f32>),
    (data, validation): (&Dataset<'_>, Option<&Dataset<'_>>),
    config: &TrainConfig,
    controller: &mut Controller,
    watch: &mut dyn FnMut(Progress<'_>),
) -> Result<History, Error> {
    let mut run = DynRun::new(w, b, config.optimizer.buffers());
    let (mut records, mut events) = (Vec::new(), Vec::new());
    let watch = core::cell::RefCell::new(watch);
    let hooks = Hooks {
        on_event: &mut |e: &Event| {
            events.push(*e);
            (watch.borrow_mut())(Progress::Event(e));
        },
        on_epoch: &mut |r: &EpochRecord| {
            records.push(*r);
            (watch.borrow_mut())(Progress::Epoch(r));
        },
    };
    let summary = controlled_loop(
        &mut run,
        (obj, ObjectiveKernels::RUNTIME),
        (data, validation),
        config,
        controller,
        hooks,
    )?;
    Ok(History {
        summary,
        records,
        events,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|_| Error::InvalidParameter {
        name: "path",
        reason: "could not write the file",
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|_| Error::InvalidParameter {
        name: "path",
        reason: "could not read the file",
    })
}

impl DynLinearModel {
    /// Trains in place under a strategy [`Controller`] (as [`crate::train::fit_controlled`]:
    /// the model returned is the best seen), and returns the history; `watch` sees each epoch
    /// and event as it happens.
    ///
    /// # Errors
    /// As [`crate::train::fit_controlled`]; on error the model is unchanged.
    pub fn fit_controlled(
        &mut self,
        data: &Dataset<'_>,
        validation: Option<&Dataset<'_>>,
        config: &TrainConfig,
        controller: &mut Controller,
        watch: &mut dyn FnMut(Progress<'_>),
    ) -> Result<History, Error> {
        let mut b = vec![self.b];
        let out = controlled_dyn(
            Objective::Single(self.loss),
            (&mut self.w, &mut b),
            (data, validation),
            config,
            controller,
            watch,
        );
        self.b = b[0];
        out
    }

    /// The loss this model is trained for.
    pub fn loss_kind(&self) -> Loss {
        self.loss
    }

    /// The model's bytes ([`crate::bytes`]).
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
    /// As [`crate::bytes::decode_into`]; [`Error::InvalidParameter`] for a classifier.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, Error> {
        match DynModel::from_bytes(buf)? {
            DynModel::Linear(m) => Ok(m),
            DynModel::Classifier(_) => Err(Error::InvalidParameter {
                name: "model bytes",
                reason: "a classifier, not a linear model",
            }),
        }
    }

    /// Writes [`to_bytes`](Self::to_bytes) to a file.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"path"`) if the file cannot be written.
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
    /// Trains in place under a strategy [`Controller`] and returns the history; `watch` sees
    /// each epoch and event as it happens.
    ///
    /// # Errors
    /// As [`crate::train::fit_controlled`]; on error the classifier is unchanged.
    pub fn fit_controlled(
        &mut self,
        data: &Dataset<'_>,
        validation: Option<&Dataset<'_>>,
        config: &TrainConfig,
        controller: &mut Controller,
        watch: &mut dyn FnMut(Progress<'_>),
    ) -> Result<History, Error> {
        controlled_dyn(
            Objective::Softmax,
            (&mut self.w, &mut self.b),
            (data, validation),
            config,
            controller,
            watch,
        )
    }

    /// Features.
    pub fn features(&self) -> usize {
        self.d
    }

    /// The classifier's bytes ([`crate::bytes`]).
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
    /// As [`crate::bytes::decode_into`]; [`Error::InvalidParameter`] for a linear model.
    pub fn from_bytes(buf: &[u8]) -> Result<Self, Error> {
        match DynModel::from_bytes(buf)? {
            DynModel::Classifier(m) => Ok(m),
            DynModel::Linear(_) => Err(Error::InvalidParameter {
                name: "model bytes",
                reason: "a linear model, not a classifier",
            }),
        }
    }

    /// Writes [`to_bytes`](Self::to_bytes) to a file.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"path"`) if the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        write_file(path.as_ref(), &self.to_bytes())
    }
}

/// Either model of run-time size, as read from bytes.
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
    /// As [`crate::bytes::decode_into`].
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
