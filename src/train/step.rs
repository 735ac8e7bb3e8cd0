//! One mini-batch step and one epoch of them, and what a model gives the loops.

use crate::Error;
use crate::check::{self, check_finite, check_len};
use crate::check::{check_params, diagnose};
use crate::control::{Clip, clip};
use crate::dataset::Pass;
use crate::kernel::{self, simd::sample};
use crate::loss::{Loss, Objective};
use crate::optim::{
    self, AnyRule, One, OneRule, OneScalars, Params, Regularization, Rule, RuleVisitor, Spare,
    StateParts,
};

/// `(x, y, (w, b), grad_w, grad_b) -> L` for one objective.
type FusedParts =
    fn(Objective, &[f32], &[f32], (&[f32], &[f32]), &mut [f32], &mut [f32]) -> Result<f32, Error>;
/// `(x, y, (w, b)) -> L` for one objective.
type LossParts = fn(Objective, &[f32], &[f32], (&[f32], &[f32])) -> Result<f32, Error>;
/// [`batch_step`] on a batch of one row, compiled for one model size.
type OneStep = fn(
    Objective,
    (&[f32], &[f32]),
    (&mut [f32], &mut [f32]),
    &mut Stepping<'_, '_, '_>,
) -> Result<Option<f32>, Error>;
/// [`run_pass`] with batches of one row, compiled for one model size.
type OnePass = fn(
    &Pass<'_, '_>,
    Objective,
    (&mut [f32], &mut [f32]),
    (&mut [f32], &mut [f32]),
    Stepping<'_, '_, '_>,
    &mut u64,
    &mut PassAt,
) -> Result<PassEnd, Error>;

/// The kernels a training loop calls for a model type. The fixed-size models return kernels
/// compiled for their size only, so that a firmware image links one kernel shape; any other
/// [`Trainable`] gets [`ObjectiveKernels::RUNTIME`] (every shape, chosen at run time).
#[derive(Clone, Copy)]
pub struct ObjectiveKernels {
    pub(crate) fused: FusedParts,
    pub(crate) loss: LossParts,
    /// The element-wise update of one parameter part.
    pub(crate) part: optim::PartFn,
    /// The single-sample path (one-output models of a fixed size): one step on one row, and
    /// a pass of such steps, with the checks hoisted out of the per-sample loop.
    pub(crate) one: Option<(OneStep, OnePass)>,
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
        one: None,
    };

    /// The scalar reference path: [`kernel::SCALAR`] and the scalar update rules. Training
    /// with it gives the same updates as the SIMD path within the kernels' documented bound
    /// (the update rules give the same bits on both paths). See [`ScalarPath`].
    pub const SCALAR: Self = Self {
        fused: |o, x, y, p, gw, gb| o.fused_on(&kernel::SCALAR, x, y, p, gw, gb),
        loss: |o, x, y, (w, b)| o.loss_on(&kernel::SCALAR, x, y, w, b),
        part: optim::part_scalar,
        one: None,
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
            // A constant: without the feature the single-sample path is never compiled in.
            one: if cfg!(feature = "single-sample") {
                Some((one_step_entry::<D>, one_pass::<D>))
            } else {
                None
            },
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
            one: None,
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

/// A model trained through the block kernels only: the kernels and update rules of `M`
/// without the single-sample path (which `fit` with batches of one row, `partial_fit` on one
/// row and the online learner's updates of one sample take for the fixed-size one-output
/// models). The same bits, at the per-batch cost: for checking the single-sample path bit
/// for bit, and as the benchmarks' baseline.
///
/// ```
/// use npoa::LinearModel;
/// use npoa::train::{fit, BlockPath, Dataset, TrainConfig};
///
/// let x = [0.0f32, 1.0, 2.0, 3.0];
/// let y = [1.0f32, 3.0, 5.0, 7.0];
/// let data = Dataset::new(&x, &y, 1)?;
/// let config = TrainConfig { learning_rate: 0.05, epochs: 100, batch_size: 1, ..TrainConfig::default() };
/// let (mut fast, mut block) = (LinearModel::<1>::zeros(), BlockPath(LinearModel::<1>::zeros()));
/// fit(&mut fast, &data, &config)?;
/// fit(&mut block, &data, &config)?;
/// assert_eq!(fast.weights()[0].to_bits(), block.0.weights()[0].to_bits());
/// assert_eq!(fast.bias().to_bits(), block.0.bias().to_bits());
/// # Ok::<(), npoa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockPath<M>(pub M);

impl<M: Params> Params for BlockPath<M> {
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

impl<M: Trainable> sealed::Access for BlockPath<M> {
    fn params(&mut self) -> (&mut [f32], &mut [f32]) {
        self.0.params()
    }
}

impl<M: Trainable> Trainable for BlockPath<M> {
    fn objective(&self) -> Objective {
        self.0.objective()
    }
    fn kernels() -> ObjectiveKernels {
        ObjectiveKernels {
            one: None,
            ..M::kernels()
        }
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
    stepping: Stepping<'_, '_, '_>,
    steps: &mut u64,
    at: &mut PassAt,
) -> Result<PassEnd, Error> {
    // `cfg!` first: a constant, so that without the feature the branch folds away (with only
    // `one` being `None`, LLVM keeps the clipping and the rules of the block path that a
    // constant configuration would have dropped).
    if let (true, Some((_, one)), 1) = (cfg!(feature = "single-sample"), kern.one, pass.batch_len())
    {
        return one(pass, obj, (w, b), (gw, gb), stepping, steps, at);
    }
    run_batches(pass, (obj, kern), (w, b), (gw, gb), stepping, steps, at)
}

/// [`run_pass`] one batch after the other through [`batch_step`].
fn run_batches(
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
    // `cfg!` first, as in `run_pass`.
    let one = kern.one.filter(|_| cfg!(feature = "single-sample"));
    if let (Some((one, _)), [_], [_], true) = (one, yb, &*b, xb.len() == w.len()) {
        let mut stepping = Stepping {
            rule: *rule,
            regularization,
            lr: *lr,
            clip: *clip,
            state,
        };
        return one(obj, (xb, yb), (w, b), &mut stepping);
    }
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

/// [`batch_step`] on one row for a one-output model of `D` features: the shapes were checked
/// by the caller (`xb` and `w` of `D`, one target, one bias).
fn one_step_entry<const D: usize>(
    obj: Objective,
    (xb, yb): (&[f32], &[f32]),
    (w, b): (&mut [f32], &mut [f32]),
    stepping: &mut Stepping<'_, '_, '_>,
) -> Result<Option<f32>, Error> {
    let (Objective::Single(loss), Ok(x), [y]) = (obj, <&[f32; D]>::try_from(xb), yb) else {
        return Err(ONE_SHAPE);
    };
    let Stepping {
        rule,
        regularization: reg,
        lr,
        clip,
        state,
    } = stepping;
    let mut sc = OneScalars::once(*rule);
    row_step::<D>(
        loss,
        (x, *y),
        (w, b),
        state,
        &mut sc,
        (*rule, reg, *lr, *clip),
    )
    .unwrap_or(Err(ONE_SHAPE))
}

/// [`batch_step`] on one row (`y` not yet checked against the loss) of a one-output model of
/// `D` weights, with the step's scalars `sc` ([`OneScalars::once`] for a single step, or
/// [`OneScalars::new`] for this rate, rule, penalty and clipping): the bits and the errors of
/// `batch_step`, without its set-up. `None`, with nothing done, when the parameters or the
/// state are not of that shape (the caller takes `batch_step`, or reports it).
#[inline(always)]
pub(crate) fn row_step<const D: usize>(
    loss: Loss,
    (x, y): (&[f32; D], f32),
    (w, b): (&mut [f32], &mut [f32]),
    state: &mut StateParts<'_>,
    sc: &mut OneScalars,
    (rule, reg, lr, clip): (Rule, &Regularization, f32, Clip),
) -> Option<Result<Option<f32>, Error>> {
    if cfg!(feature = "losses")
        && loss != Loss::Squared
        && let Err(e) = loss.check_targets(core::slice::from_ref(&y))
    {
        // The target, as the loss's block kernel checks it (the squared error takes any
        // finite target).
        return Some(Err(e));
    }
    let mut spare = Spare::<D>::new();
    let mut one = One::new((w, b), state, &mut spare)?;
    Some(one_step(
        AnyRule,
        loss,
        (x, y),
        &mut one,
        sc,
        (rule, reg, lr, clip),
    ))
}

/// A shape the single-sample path cannot take (its callers check the shapes first: not
/// reachable from the public API).
const ONE_SHAPE: Error = Error::InvalidParameter {
    name: "single-sample step",
    reason: "needs one row, one output and the model's size",
};

/// [`run_pass`] with batches of one row for a one-output model of `D` features: the targets
/// checked once per pass (the data set's values are finite by construction), the step's
/// scalars computed once per pass, the parameters and state as arrays, then per sample
/// only the prediction, the gradient, the finiteness of both, the update and its check.
/// The same bits as [`run_batches`] (`tests/single_sample.rs`).
fn one_pass<const D: usize>(
    pass: &Pass<'_, '_>,
    obj: Objective,
    (w, b): (&mut [f32], &mut [f32]),
    (gw, gb): (&mut [f32], &mut [f32]),
    stepping: Stepping<'_, '_, '_>,
    steps: &mut u64,
    at: &mut PassAt,
) -> Result<PassEnd, Error> {
    let Objective::Single(loss) = obj else {
        let kern = (obj, ObjectiveKernels::linear::<D>());
        return run_batches(pass, kern, (w, b), (gw, gb), stepping, steps, at);
    };
    let data = pass.data();
    let (x, y) = (data.x(), data.y());
    if cfg!(feature = "losses") && loss != Loss::Squared {
        loss.check_targets(y)?;
    }
    let Stepping {
        rule,
        regularization: reg,
        lr,
        clip,
        state,
    } = stepping;
    let mut spare = Spare::<D>::new();
    let mut one = One::new((w, b), state, &mut spare).ok_or(ONE_SHAPE)?;
    let mut sc = OneScalars::new(rule, reg, lr, clip.trust_radius.is_some());
    let run = PassRows {
        pass,
        x,
        y,
        steps: PassSteps {
            loss,
            len: data.len(),
            one: &mut one,
            sc: &mut sc,
            step: (rule, reg, lr, clip),
            steps,
            at,
        },
    };
    // On a host, the loop compiled for the pass's rule (no dispatch on the rule per row);
    // on a small target one loop for every rule, where a loop per rule would cost flash.
    if !cfg!(target_os = "none") && cfg!(feature = "optimizers") {
        return optim::visit_rule(rule, run);
    }
    run.visit(AnyRule)
}

/// [`one_pass`]'s data and its steps, for [`optim::visit_rule`]: the rows in the pass's
/// order, or in the data's without an index per row.
struct PassRows<'a, 'o, 'p, 'd, const D: usize> {
    pass: &'a Pass<'p, 'd>,
    x: &'a [f32],
    y: &'a [f32],
    steps: PassSteps<'a, 'o, D>,
}

impl<const D: usize> RuleVisitor for PassRows<'_, '_, '_, '_, D> {
    type Out = Result<PassEnd, Error>;
    #[inline(always)]
    fn visit<U: OneRule>(self, u: U) -> Self::Out {
        let Self { pass, x, y, steps } = self;
        let order = pass.order();
        // The order tabulated (1 KiB on the stack; not on small targets, where `Tabled` is
        // uninhabited and takes no stack).
        let tabled = order.as_ref().and_then(|p| p.tabled());
        let batches = pass.batch_count();
        let row_at = |i: usize| {
            let row = x
                .get(i.saturating_mul(D)..)
                .and_then(|r| r.first_chunk::<D>());
            row.zip(y.get(i).copied())
        };
        match (&tabled, &order) {
            (Some(t), _) => steps.run(u, batches, |k| row_at(t.get(k) as usize)),
            (None, Some(p)) => steps.run(u, batches, |k| row_at(p.get(k) as usize)),
            (None, None) => {
                let from = steps.at.batch.min(batches);
                let skip = usize::try_from(from).unwrap_or(usize::MAX);
                let mut it = x.chunks_exact(check::nz(D)).zip(y).skip(skip);
                steps.run(u, batches, |_| {
                    let (row, y) = it.next()?;
                    Some((row.first_chunk::<D>()?, *y))
                })
            }
        }
    }
}

/// What steps on [`one_pass`]'s rows: the loss, the data's length (for the mean), the
/// parameters and state as arrays, the step's scalars and settings, the counters.
struct PassSteps<'a, 'o, const D: usize> {
    loss: Loss,
    len: usize,
    one: &'a mut One<'o, D>,
    sc: &'a mut OneScalars,
    step: (Rule, &'a Regularization, f32, Clip),
    steps: &'a mut u64,
    at: &'a mut PassAt,
}

impl<const D: usize> PassSteps<'_, '_, D> {
    /// Row `k` from `row(k)`, one [`one_step`] each with the rule's update `u`, for `k` from
    /// `at.batch` to `batches`.
    #[inline(always)]
    fn run<'x, U: OneRule>(
        self,
        u: U,
        batches: u64,
        mut row: impl FnMut(u64) -> Option<(&'x [f32; D], f32)>,
    ) -> Result<PassEnd, Error> {
        let Self {
            loss,
            len,
            one,
            sc,
            step,
            steps,
            at,
        } = self;
        for k in at.batch.min(batches)..batches {
            if let Some(left) = at.budget.as_mut() {
                if *left == 0 {
                    return Ok(PassEnd::Paused);
                }
                *left -= 1;
            }
            let Some((row, yi)) = row(k) else {
                return Err(Error::EmptyBatch);
            };
            let Some(l) = one_step(u, loss, (row, yi), one, sc, step)? else {
                return Ok(PassEnd::Done(None));
            };
            *steps += 1;
            at.batch += 1;
            at.total += f64::from(l);
        }
        Ok(PassEnd::Done(Some((at.total / len as f64) as f32)))
    }
}

/// One single-sample step: the fused loss and gradient of the row, the clipping, the update;
/// the bits of [`batch_step`] on that row. Returns the row's loss before the step, or `None`
/// if the step would make the loss, the gradient or a parameter non-finite (then nothing was
/// applied).
// Inlined into its two callers where code size is cheap; one copy on small targets, where
// every update rule inlined twice would cost kilobytes of flash.
#[cfg_attr(not(target_os = "none"), inline(always))]
#[cfg_attr(target_os = "none", inline(never))]
fn one_step<U: OneRule, const D: usize>(
    u: U,
    loss: Loss,
    (x, y): (&[f32; D], f32),
    one: &mut One<'_, D>,
    sc: &mut OneScalars,
    (rule, reg, lr, clip): (Rule, &Regularization, f32, Clip),
) -> Result<Option<f32>, Error> {
    let mut gw = [0.0f32; D];
    let (l, mut gb) = match loss {
        Loss::Squared => sample::squared(x, y, one.w, *one.b, &mut gw),
        // A constant: without the feature the point-wise kernels are never compiled in.
        _ if !cfg!(feature = "losses") => return Err(crate::kernel::NEEDS_LOSSES),
        l => sample::pointwise(&l, x, y, one.w, *one.b, &mut gw),
    };
    // A non-finite weight gradient needs no test of its own unless clipping or bounds could
    // make it finite: the step would make a new weight or state value non-finite (`w − η·∞`,
    // `∞/∞`), which `step_one` refuses, the outcome of the block path's refused step (the
    // data and the parameters are finite here, checked where they came in).
    let clipped = clip.value.is_some() || clip.norm.is_some() || clip.trust_radius.is_some();
    let guarded = clipped || reg.bounds.is_some();
    if !(l.is_finite() && gb.is_finite() && (!guarded || sample::all_finite(&gw))) {
        // As the block kernels decide it: non-finite parameters or data are an error; a
        // non-finite result from finite inputs is an overflow, a divergent step, refused.
        check_params(one.w, *one.b)?;
        return match diagnose(x, Some(&[y]), "loss") {
            Error::Overflow { .. } => Ok(None),
            e => Err(e),
        };
    }
    let t = one.steps.wrapping_add(1);
    // NLMS divides the rate by the row's input energy; every other rule steps at `lr`.
    let base = if cfg!(feature = "optimizers") && matches!(rule, Rule::Nlms { .. }) {
        rule.batch_rate(lr, x, 1)
    } else {
        lr
    };
    let mut rate = base;
    if clipped {
        let gbs = core::slice::from_mut(&mut gb);
        if let Some(v) = clip.value {
            clip::clip_value_parts(&mut gw, gbs, v)?;
        }
        if let Some(n) = clip.norm {
            clip::clip_norm_parts(&mut gw, gbs, n)?;
        }
        if let Some(r) = clip.trust_radius {
            rate *= clip::trust_factor_parts(&gw, gbs, base, r)?;
        }
    }
    sc.at(reg, rate, t);
    Ok(u.apply(sc, one, (&gw, gb), t).then_some(l))
}

#[cfg(test)]
mod tests {
    use crate::kernel::{self, simd::sample};
    use crate::loss::Loss;
    use std::vec::Vec;

    /// The single-row kernels give the bits of the block kernels on a batch of that one row,
    /// the gradient's signed zeros included (which no weight update shows), for every loss
    /// and the sizes at the lane boundaries.
    #[test]
    fn single_row_kernels_are_the_block_kernels_on_one_row() {
        fn case<const D: usize>() {
            let vals = [0.0f32, -0.0, 1.5, -2.25, 1e-3, -7.0, 3e-39, 0.5];
            let losses = [
                Loss::Squared,
                Loss::Huber { delta: 0.5 },
                Loss::Absolute,
                Loss::Logistic,
                Loss::Quantile { tau: 0.3 },
                Loss::Poisson,
            ];
            let mut k = 0usize;
            for loss in losses {
                for trial in 0..40 {
                    let mut next = || {
                        k = k.wrapping_mul(31).wrapping_add(7 + trial);
                        vals[k % vals.len()]
                    };
                    let x: [f32; D] = core::array::from_fn(|_| next());
                    let w: [f32; D] = core::array::from_fn(|_| next());
                    let b = next();
                    let y = match loss {
                        Loss::Logistic => f32::from(trial % 2 == 0),
                        Loss::Poisson => (trial % 3) as f32,
                        _ => next(),
                    };
                    let mut g1 = [0.0f32; D];
                    let mut g2 = [0.5f32; D];
                    let (l1, gb1) = match loss {
                        Loss::Squared => sample::squared(&x, y, &w, b, &mut g1),
                        l => sample::pointwise(&l, &x, y, &w, b, &mut g1),
                    };
                    let lg = match loss {
                        Loss::Squared => kernel::fused(&x, &[y], &w, b, &mut g2),
                        l => kernel::pointwise_fused(&l, &x, &[y], &w, b, &mut g2),
                    };
                    let Ok(lg) = lg else {
                        // An overflow there (the Poisson loss's exponential): a non-finite
                        // result here, which the step refuses.
                        assert!(matches!(lg, Err(crate::Error::Overflow { .. })), "{lg:?}");
                        assert!(!(l1.is_finite() && gb1.is_finite() && sample::all_finite(&g1)));
                        continue;
                    };
                    let bits = |v: &[f32]| v.iter().map(|e| e.to_bits()).collect::<Vec<_>>();
                    let ctx = (D, loss, x, w, b, y);
                    assert_eq!(l1.to_bits(), lg.loss.to_bits(), "{ctx:?}");
                    assert_eq!(gb1.to_bits(), lg.grad_b.to_bits(), "{ctx:?}");
                    assert_eq!(bits(&g1), bits(&g2), "{ctx:?}");
                }
            }
        }
        case::<1>();
        case::<2>();
        case::<3>();
        case::<7>();
        case::<8>();
        case::<9>();
        case::<15>();
        case::<16>();
        case::<17>();
        case::<24>();
        case::<33>();
    }
}
