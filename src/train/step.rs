//! One mini-batch step and one epoch of them, and what a model gives the loops.

use crate::Error;
use crate::check::{check_finite, check_len};
use crate::control::{Clip, clip};
use crate::dataset::Pass;
use crate::kernel;
use crate::loss::Objective;
use crate::optim::{self, Params, Regularization, Rule, StateParts};

/// `(x, y, (w, b), grad_w, grad_b) -> L` for one objective.
type FusedParts =
    fn(Objective, &[f32], &[f32], (&[f32], &[f32]), &mut [f32], &mut [f32]) -> Result<f32, Error>;
/// `(x, y, (w, b)) -> L` for one objective.
type LossParts = fn(Objective, &[f32], &[f32], (&[f32], &[f32])) -> Result<f32, Error>;

/// The kernels a training loop calls for a model type. The fixed-size models return kernels
/// compiled for their size only, so that a firmware image links one kernel shape; any other
/// [`Trainable`] gets [`ObjectiveKernels::RUNTIME`] (every shape, chosen at run time).
#[derive(Clone, Copy)]
pub struct ObjectiveKernels {
    pub(crate) fused: FusedParts,
    pub(crate) loss: LossParts,
    /// The element-wise update of one parameter part.
    pub(crate) part: optim::PartFn,
}

impl core::fmt::Debug for ObjectiveKernels {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ObjectiveKernels")
    }
}

impl ObjectiveKernels {
    /// The SIMD kernels, dispatching on the size at run time.
    pub const RUNTIME: Self = Self {
        fused: |o, x, y, p, gw, gb| o.fused_n::<0>(x, y, p, gw, gb),
        loss: |o, x, y, p| o.loss_n::<0>(x, y, p),
        part: optim::part_simd,
    };

    /// The scalar reference path: [`kernel::SCALAR`] and the scalar update rules. Training
    /// with it gives the same updates as the SIMD path within the kernels' documented bound
    /// (the update rules give the same bits on both paths). See [`ScalarPath`].
    pub const SCALAR: Self = Self {
        fused: |o, x, y, p, gw, gb| o.fused_on(&kernel::SCALAR, x, y, p, gw, gb),
        loss: |o, x, y, (w, b)| o.loss_on(&kernel::SCALAR, x, y, w, b),
        part: optim::part_scalar,
    };

    /// One-output models of `D` features: the kernels compiled for `D` only.
    pub(crate) const fn linear<const D: usize>() -> Self {
        Self {
            fused: |o, x, y, p, gw, gb| {
                o.single_fused_n::<D>(x, y, p, gw, gb)
                    .unwrap_or(Err(WRONG_OBJECTIVE))
            },
            loss: |o, x, y, p| {
                o.single_loss_n::<D>(x, y, p)
                    .unwrap_or(Err(WRONG_OBJECTIVE))
            },
            part: optim::PART_FIXED,
        }
    }

    /// Softmax classifiers of `D` features: the kernels compiled for `D` only.
    pub(crate) const fn softmax<const D: usize>() -> Self {
        Self {
            fused: |o, x, y, p, gw, gb| match o {
                Objective::Softmax => o.fused_n::<D>(x, y, p, gw, gb),
                Objective::Single(_) => Err(WRONG_OBJECTIVE),
            },
            loss: |o, x, y, p| match o {
                Objective::Softmax => o.loss_n::<D>(x, y, p),
                Objective::Single(_) => Err(WRONG_OBJECTIVE),
            },
            part: optim::PART_FIXED,
        }
    }
}

const WRONG_OBJECTIVE: Error = Error::InvalidParameter {
    name: "objective",
    reason: "does not match the model",
};

/// A fixed-size model the training loops drive: its parameters as two flat slices (weights,
/// one row of `d` per output; one bias per output) and its [`Objective`]. Implemented by
/// [`LinearModel`](crate::LinearModel), [`LinearClassifier`](crate::LinearClassifier) and
/// [`ScalarPath`]; sealed, so that only the training loops (which keep them finite) write the
/// parameters: safe code cannot reach them.
///
/// ```compile_fail
/// use npoa::{LinearModel, train::Trainable};
/// let mut m = LinearModel::<1>::zeros();
/// let (w, _) = m.params(); // private to the crate
/// w[0] = f32::NAN;
/// ```
pub trait Trainable: Params + sealed::Access {
    /// What training minimises.
    fn objective(&self) -> Objective;
    /// The kernels the loops call for this model type (default: [`ObjectiveKernels::RUNTIME`]).
    fn kernels() -> ObjectiveKernels {
        ObjectiveKernels::RUNTIME
    }
}

pub(crate) mod sealed {
    /// Write access to a model's parameters, for the training loops only.
    pub trait Access {
        /// The weights and biases (kept finite by the loops).
        fn params(&mut self) -> (&mut [f32], &mut [f32]);
    }
}

/// A model trained on the scalar reference path ([`ObjectiveKernels::SCALAR`]): the same
/// training loops, with [`crate::kernel::SCALAR`] and the scalar update rules in place of the
/// SIMD ones. For checking the SIMD path end to end, and for the benchmarks' scalar baseline.
///
/// ```
/// use npoa::LinearModel;
/// use npoa::train::{fit, Dataset, ScalarPath, TrainConfig};
///
/// let x = [0.0f32, 1.0, 2.0, 3.0];
/// let y = [1.0f32, 3.0, 5.0, 7.0];
/// let data = Dataset::new(&x, &y, 1)?;
/// let config = TrainConfig { learning_rate: 0.1, epochs: 200, ..TrainConfig::default() };
/// let (mut simd, mut scalar) = (LinearModel::<1>::zeros(), ScalarPath(LinearModel::<1>::zeros()));
/// fit(&mut simd, &data, &config)?;
/// fit(&mut scalar, &data, &config)?;
/// let (a, b) = (simd.weights()[0], scalar.0.weights()[0]);
/// assert!((a - b).abs() < 1e-5 && (b - 2.0).abs() < 1e-3);
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalarPath<M>(pub M);

impl<M: Params> Params for ScalarPath<M> {
    type Grad = M::Grad;
    fn zero_grad() -> Self::Grad {
        M::zero_grad()
    }
    fn grad_parts(g: &mut Self::Grad) -> (&mut [f32], &mut [f32]) {
        M::grad_parts(g)
    }
    fn grad_parts_ref(g: &Self::Grad) -> (&[f32], &[f32]) {
        M::grad_parts_ref(g)
    }
}

impl<M: Trainable> sealed::Access for ScalarPath<M> {
    fn params(&mut self) -> (&mut [f32], &mut [f32]) {
        self.0.params()
    }
}

impl<M: Trainable> Trainable for ScalarPath<M> {
    fn objective(&self) -> Objective {
        self.0.objective()
    }
    fn kernels() -> ObjectiveKernels {
        ObjectiveKernels::SCALAR
    }
}

/// Shapes and finiteness of a model's parameter slices for `d` features.
pub(crate) fn check_model(
    obj: Objective,
    w: &[f32],
    b: &[f32],
    gw: &[f32],
    gb: &[f32],
    d: usize,
) -> Result<(), Error> {
    if d == 0 || w.is_empty() {
        return Err(Error::ZeroFeatures);
    }
    let outputs = match obj {
        Objective::Single(l) => {
            l.validate()?;
            1
        }
        Objective::Softmax => b.len(),
    };
    check_len("b", b.len(), outputs)?;
    let features = w.len() / outputs.max(1);
    if features.saturating_mul(outputs) != w.len() {
        check_len("w", w.len(), outputs.saturating_mul(features))?;
    }
    if features != d {
        return Err(Error::FeatureMismatch {
            model: features,
            data: d,
        });
    }
    check_len("grad", gw.len(), w.len())?;
    check_len("grad_b", gb.len(), b.len())?;
    check_finite("w", w)?;
    if let Err(Error::NonFinite { index, .. }) = check_finite("b", b) {
        return Err(Error::NonFinite { what: "b", index });
    }
    Ok(())
}

/// One epoch of mini-batch steps over `pass`'s batches, from the `at.batch`-th on (a resumed
/// epoch) with the loss sum so far `at.total`. Returns the mean loss over the epoch (each
/// batch's loss before its step, weighted by its size), or `None` if a step would have made
/// the loss, the gradient or a parameter non-finite — that step is not applied — or
/// [`PassEnd::Paused`] when the step budget `at.budget` ran out before the epoch's end (then
/// `at` says where to continue).
pub(crate) fn run_pass(
    pass: &Pass<'_, '_>,
    (obj, kern): (Objective, ObjectiveKernels),
    (w, b): (&mut [f32], &mut [f32]),
    (gw, gb): (&mut [f32], &mut [f32]),
    mut stepping: Stepping<'_, '_, '_>,
    steps: &mut u64,
    at: &mut PassAt,
) -> Result<PassEnd, Error> {
    for batch in pass.batches_from(at.batch) {
        if let Some(left) = at.budget.as_mut() {
            if *left == 0 {
                return Ok(PassEnd::Paused);
            }
            *left -= 1;
        }
        let Some(loss) = batch_step((obj, kern), batch, (w, b), (gw, gb), &mut stepping)? else {
            return Ok(PassEnd::Done(None));
        };
        *steps += 1;
        at.batch += 1;
        at.total += f64::from(loss) * batch.1.len() as f64;
    }
    Ok(PassEnd::Done(Some(
        (at.total / pass.data().len() as f64) as f32,
    )))
}

/// Where a pass stands: batches done, their loss sum, and the steps left in the budget
/// (`None`: no budget).
pub(crate) struct PassAt {
    pub(crate) batch: u64,
    pub(crate) total: f64,
    pub(crate) budget: Option<u64>,
}

/// How a pass ended.
pub(crate) enum PassEnd {
    /// Every batch ran: the epoch's mean loss, or `None` after a divergent step.
    Done(Option<f32>),
    /// The step budget ran out first.
    Paused,
}

/// With [`Rule::Averaged`], once the average has started, the model becomes the average.
pub(crate) fn finish_average(rule: Rule, (w, b): (&mut [f32], &mut [f32]), st: &StateParts<'_>) {
    if let Rule::Averaged { start } = rule
        && *st.steps >= start
    {
        for (d, s) in w
            .iter_mut()
            .zip(st.first.weights.iter())
            .chain(b.iter_mut().zip(st.first.biases.iter()))
        {
            *d = *s;
        }
    }
}

/// One mini-batch step: the fused loss and gradient pass over `(xb, yb)`, the clipping, the
/// update. Returns the batch's loss before the step, or `None` if the step would have made
/// the loss, the gradient or a parameter non-finite (then nothing was applied).
pub(crate) fn batch_step(
    (obj, kern): (Objective, ObjectiveKernels),
    (xb, yb): (&[f32], &[f32]),
    (w, b): (&mut [f32], &mut [f32]),
    (gw, gb): (&mut [f32], &mut [f32]),
    Stepping {
        rule,
        regularization,
        lr,
        clip,
        state,
    }: &mut Stepping<'_, '_, '_>,
) -> Result<Option<f32>, Error> {
    let loss = match (kern.fused)(obj, xb, yb, (w, b), gw, gb) {
        Ok(l) => l,
        Err(Error::Overflow { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    // NLMS divides the rate by the batch's input energy; every other rule steps at `lr`.
    let base = rule.batch_rate(*lr, xb, yb.len());
    let mut rate = base;
    if let Some(v) = clip.value {
        clip::clip_value_parts(gw, gb, v)?;
    }
    if let Some(n) = clip.norm {
        clip::clip_norm_parts(gw, gb, n)?;
    }
    if let Some(r) = clip.trust_radius {
        rate *= clip::trust_factor_parts(gw, gb, base, r)?;
    }
    let applied = optim::step_parts(
        kern.part,
        *rule,
        regularization,
        rate,
        (w, b),
        (gw, gb),
        state,
    )?;
    Ok(applied.then_some(loss))
}

/// How a pass steps: the rule and its penalty, this epoch's rate, the clipping, the
/// optimizer state.
pub(crate) struct Stepping<'c, 's, 'p> {
    pub(crate) rule: Rule,
    pub(crate) regularization: &'c Regularization,
    pub(crate) lr: f32,
    pub(crate) clip: Clip,
    pub(crate) state: &'s mut StateParts<'p>,
}
