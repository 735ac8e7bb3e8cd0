//! One step of an update rule over a model's parts: the per-step scalars, the element-wise
//! loops (one per rule and lane type, written once), the all-or-nothing check and write.

use super::lane::Lane;
use super::prox::Regularization;
use super::{Penalty, Rule, StateParts, Update, each_rule};
use crate::Error;
use crate::check::check_len;
use wide::f32x8;

/// Everything a step needs that is the same for every element, computed once per step.
#[derive(Debug, Clone, Copy)]
pub struct StepScalars {
    pub(super) rule: Rule,
    pub(super) lr: f32,
    /// Step number (from 1).
    pub(super) t: u64,
    /// `η·λ1` (0: no soft threshold).
    pub(super) thresh: f32,
    /// `1 + η·λ2` (1: no shrinkage).
    pub(super) shrink: f32,
    /// `λ1`, `λ2` (FTRL's own; AdaGrad's per-coordinate prox).
    pub(super) l1: f32,
    pub(super) l2: f32,
    /// `1 − η·λ2` (AdamW).
    pub(super) decay: f32,
    /// Adam: `η/(1 − β1ᵗ)` and `√(1 − β2ᵗ)`.
    pub(super) step_size: f32,
    pub(super) bc2_sqrt: f32,
    /// Averaged: `t − t0 + 1` (0 before `t0`).
    pub(super) avg_k: f32,
    pub(super) bounds: Option<(f32, f32)>,
    /// The proximal step is the identity (no soft threshold, no shrinkage, no bounds): what
    /// [`prox`](super::prox::prox) tests once instead of three times per element.
    pub(super) plain: bool,
}

impl StepScalars {
    /// The scalars of step `t` (from 1) at rate `lr` for one part of the parameters, with its
    /// penalty (`None`: unpenalised, unbounded).
    pub fn new(rule: Rule, reg: Option<&Regularization>, lr: f32, t: u64) -> Self {
        each_rule!(rule, r => Self::of(r, rule, reg, lr, t))
    }

    fn of<R: Update>(r: R, rule: Rule, reg: Option<&Regularization>, lr: f32, t: u64) -> Self {
        let (mut l1, mut l2, bounds) = match reg {
            Some(r) => (r.l1, r.l2, r.bounds),
            None => (0.0, 0.0, None),
        };
        let penalty = r.penalty();
        if let Penalty::Own { l1: f1, l2: f2 } = penalty {
            // The rule's own penalty, on the weights (and the biases only if the penalty
            // covers them); no proximal step on top.
            (l1, l2) = if reg.is_some() { (f1, f2) } else { (0.0, 0.0) };
        }
        // No scalar prox for a rule with its own penalty or one that applies the prox at its
        // per-coordinate step itself (from `l1`, `l2`).
        let no_prox = matches!(penalty, Penalty::Own { .. } | Penalty::PerCoordinate);
        let decoupled = matches!(penalty, Penalty::Decoupled);
        // The prox's step: the step the rule takes along `g` once settled, so that the prox
        // has the minimisers of F as fixed points.
        let prox_step = r.prox_step(lr);
        let mut s = Self {
            rule,
            lr,
            t,
            thresh: if no_prox { 0.0 } else { prox_step * l1 },
            shrink: if decoupled || no_prox {
                1.0
            } else {
                1.0 + prox_step * l2
            },
            l1,
            l2,
            decay: if decoupled { 1.0 - lr * l2 } else { 1.0 },
            step_size: 0.0,
            bc2_sqrt: 1.0,
            avg_k: 0.0,
            bounds,
            plain: false,
        };
        r.scalars(&mut s);
        s.plain = (s.thresh <= 0.0 || s.thresh.is_nan()) && s.shrink == 1.0 && s.bounds.is_none();
        s
    }

    /// The same step without the penalty and bounds: equal to `new(rule, None, lr, t)`, without
    /// recomputing the rule's scalars (Adam's bias corrections are two `f64` powers).
    pub(super) fn unpenalised(&self) -> Self {
        Self {
            thresh: 0.0,
            shrink: 1.0,
            l1: 0.0,
            l2: 0.0,
            decay: 1.0,
            bounds: None,
            plain: true,
            ..*self
        }
    }
}

/// Element-wise updates of one part (weights or biases) on one lane type.
macro_rules! part_update {
    ($name:ident, $doc:literal, $lane:ty, $chunk:literal, $load:expr, $store:expr, $all_zero:expr) => {
        #[doc = $doc]
        // Not inlined: one copy of each rule's loop serves the check and the write passes of
        // both parts (inlining all four cost about 27 KB of code for no measurable speed).
        #[inline(never)]
        pub(crate) fn $name(
            s: &StepScalars,
            w: &mut [f32],
            g: &[f32],
            a: &mut [f32],
            b: &mut [f32],
            write: bool,
        ) -> bool {
            /// The loop for one rule.
            #[inline(always)]
            fn run<R: Update>(
                r: R,
                s: &StepScalars,
                w: &mut [f32],
                g: &[f32],
                a: &mut [f32],
                b: &mut [f32],
                write: bool,
            ) -> bool {
                let (wa, wb) = (R::BUFFERS >= 1, R::BUFFERS >= 2);
                // `v·0` is 0 for a finite `v` and NaN otherwise; the sum keeps a NaN. Unused state
                // buffers (empty slices) read as zeros, which every rule maps to finite values.
                let zero = <$lane as Lane>::splat(0.0);
                let mut acc = zero;
                let n = w.len();
                // Whole chunks on the lane type; the last `n % chunk` elements one at a time
                // below (the same formula per element, so the same bits, without the cost of
                // gathering a partial vector: a model of 4 weights and 1 bias is all tail).
                #[allow(clippy::modulo_one)] // `$chunk` is 1 on the scalar path: no tail
                let full = n - n % $chunk;
                let mut i = 0;
                while i < full {
                    let m = $chunk;
                    let get = |v: &[f32]| -> $lane { $load(v.get(i..i + m).unwrap_or(&[])) };
                    let (w1, a1, b1) = r.element::<$lane>(s, get(w), get(g), get(a), get(b));
                    if write {
                        $store(w.get_mut(i..i + m).unwrap_or(&mut []), w1);
                        if wa {
                            $store(a.get_mut(i..i + m).unwrap_or(&mut []), a1);
                        }
                        if wb {
                            $store(b.get_mut(i..i + m).unwrap_or(&mut []), b1);
                        }
                    } else {
                        acc += w1 * zero;
                        if wa {
                            acc += a1 * zero;
                        }
                        if wb {
                            acc += b1 * zero;
                        }
                    }
                    i += m;
                }
                let mut tail = 0.0f32;
                for j in full..n {
                    let get = |v: &[f32]| v.get(j).copied().unwrap_or(0.0);
                    let (w1, a1, b1) = r.element::<f32>(s, get(w), get(g), get(a), get(b));
                    if write {
                        let put = |v: &mut [f32], x: f32| {
                            if let Some(d) = v.get_mut(j) {
                                *d = x;
                            }
                        };
                        put(w, w1);
                        if wa {
                            put(a, a1);
                        }
                        if wb {
                            put(b, b1);
                        }
                    } else {
                        tail += w1 * 0.0;
                        if wa {
                            tail += a1 * 0.0;
                        }
                        if wb {
                            tail += b1 * 0.0;
                        }
                    }
                }
                write || ($all_zero(acc) && tail == 0.0)
            }
            if !cfg!(feature = "optimizers") {
                // Only SGD is compiled in (`update_with`/`TrainConfig` refuse the others).
                return run(super::sgd::Sgd, s, w, g, a, b, write);
            }
            each_rule!(s.rule, r => run(r, s, w, g, a, b, write))
        }
    };
}

fn load_scalar(v: &[f32]) -> f32 {
    v.first().copied().unwrap_or(0.0)
}

fn store_scalar(v: &mut [f32], x: f32) {
    if let Some(d) = v.first_mut() {
        *d = x;
    }
}

fn zero_scalar(x: f32) -> bool {
    x == 0.0
}

fn load_vec(v: &[f32]) -> f32x8 {
    match v.first_chunk::<8>() {
        Some(a) => f32x8::new(*a),
        None => {
            let mut a = [0.0f32; 8];
            for (d, s) in a.iter_mut().zip(v) {
                *d = *s;
            }
            f32x8::new(a)
        }
    }
}

fn store_vec(v: &mut [f32], x: f32x8) {
    match v.first_chunk_mut::<8>() {
        Some(a) => *a = x.to_array(),
        None => {
            for (d, s) in v.iter_mut().zip(x.to_array()) {
                *d = s;
            }
        }
    }
}

fn zero_vec(x: f32x8) -> bool {
    x.to_array().iter().all(|v| *v == 0.0)
}

part_update!(
    part_scalar,
    "One part, one element at a time.",
    f32,
    1,
    load_scalar,
    store_scalar,
    zero_scalar
);
part_update!(
    part_simd,
    "One part, eight elements at a time.",
    f32x8,
    8,
    load_vec,
    store_vec,
    zero_vec
);

/// The update loop of the fixed-size models: eight lanes, or one element at a time on small
/// targets (`target_os = "none"`, where `wide` has no vector unit to use and the lane loop is
/// only more code and stack). Both give the same bits: the loops are one macro over the same
/// per-element arithmetic.
pub(crate) const PART_FIXED: PartFn = if crate::kernel::simd::SMALL {
    part_scalar
} else {
    part_simd
};

/// Signature of a path's update of one part: `(scalars, w, g, a, b, write) -> all finite`.
pub(crate) type PartFn = fn(&StepScalars, &mut [f32], &[f32], &mut [f32], &mut [f32], bool) -> bool;

/// Checks a buffer's length: the rule's buffers must match the part, unused ones may be empty.
fn check_state(name: &'static str, len: usize, want: usize, used: bool) -> Result<(), Error> {
    if !used || len == want {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what: name,
            expected: want,
            found: len,
        })
    }
}

/// Steps one part in place: checks the lengths, then that the whole step is finite, then
/// writes. Returns `Ok(false)` (nothing written) if a new value would not be finite.
fn update_with(
    part: PartFn,
    s: &StepScalars,
    w: &mut [f32],
    g: &[f32],
    a: &mut [f32],
    b: &mut [f32],
) -> Result<bool, Error> {
    s.rule.validate()?;
    let n = w.len();
    check_len("grad", g.len(), n)?;
    let used = s.rule.buffers();
    check_state("state a", a.len(), n, used >= 1)?;
    check_state("state b", b.len(), n, used >= 2)?;
    if !part(s, w, g, a, b, false) {
        return Ok(false);
    }
    part(s, w, g, a, b, true);
    Ok(true)
}

/// The scalar reference of the element-wise updates.
pub mod scalar {
    use super::{Error, StepScalars};

    /// Applies one step to `w` (and the state buffers `a`, `b`: as long as `w` when the rule
    /// uses them, else may be empty) from the gradient `g`, element by element.
    /// Returns `Ok(false)` and writes nothing if a new value would not be finite.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a gradient or a used state buffer of the wrong length.
    pub fn update(
        s: &StepScalars,
        w: &mut [f32],
        g: &[f32],
        a: &mut [f32],
        b: &mut [f32],
    ) -> Result<bool, Error> {
        super::update_with(super::part_scalar, s, w, g, a, b)
    }
}

/// The SIMD path of the element-wise updates (`wide::f32x8`), bit-identical to [`scalar`].
pub mod simd {
    use super::{Error, StepScalars};

    /// As [`super::scalar::update`], eight elements at a time; the same bits.
    ///
    /// # Errors
    /// As [`super::scalar::update`].
    pub fn update(
        s: &StepScalars,
        w: &mut [f32],
        g: &[f32],
        a: &mut [f32],
        b: &mut [f32],
    ) -> Result<bool, Error> {
        super::update_with(super::part_simd, s, w, g, a, b)
    }
}

/// One training step over a model's two parts (weights, biases) with the path `part`
/// (`part_simd` or `part_scalar`, which give the same bits): the
/// weights get `reg`, the biases get it only if `reg.bias`. All-or-nothing: returns
/// `Ok(false)`, with nothing written (not even the step count), if any new value would not be
/// finite.
pub(crate) fn step_parts(
    part: PartFn,
    rule: Rule,
    reg: &Regularization,
    lr: f32,
    (w, bias): (&mut [f32], &mut [f32]),
    (gw, gb): (&[f32], &[f32]),
    st: &mut StateParts<'_>,
) -> Result<bool, Error> {
    let t = *st.steps + 1;
    let sw = StepScalars::new(rule, Some(reg), lr, t);
    let sb = if reg.bias { sw } else { sw.unpenalised() };
    let used = rule.buffers();
    let n = w.len();
    let nb = bias.len();
    check_len("grad", gw.len(), n)?;
    check_len("grad_b", gb.len(), nb)?;
    let (a, b) = (&mut st.first, &mut st.second);
    check_state("state a", a.weights.len(), n, used >= 1)?;
    check_state("state a (biases)", a.biases.len(), nb, used >= 1)?;
    check_state("state b", b.weights.len(), n, used >= 2)?;
    check_state("state b (biases)", b.biases.len(), nb, used >= 2)?;
    let ok = part(&sw, w, gw, a.weights, b.weights, false)
        && part(&sb, bias, gb, a.biases, b.biases, false);
    if !ok {
        return Ok(false);
    }
    part(&sw, w, gw, a.weights, b.weights, true);
    part(&sb, bias, gb, a.biases, b.biases, true);
    *st.steps = t;
    Ok(true)
}

/// The parameters and state of a one-output model of `D` weights as arrays, for the
/// single-sample path: the weights and bias, each state buffer's weight and bias parts (a
/// zeroed stand-in when the rule has no such buffer), the step count.
pub(crate) struct One<'a, const D: usize> {
    pub(crate) w: &'a mut [f32; D],
    pub(crate) b: &'a mut f32,
    pub(crate) first: (&'a mut [f32; D], &'a mut f32),
    pub(crate) second: (&'a mut [f32; D], &'a mut f32),
    pub(crate) steps: &'a mut u64,
}

/// Zeroed stand-ins for the state buffers a rule does not use.
pub(crate) struct Spare<const D: usize>([[f32; D]; 2], [f32; 2]);

impl<const D: usize> Spare<D> {
    pub(crate) const fn new() -> Self {
        Self([[0.0; D]; 2], [0.0; 2])
    }
}

impl<'a, const D: usize> One<'a, D> {
    /// The arrays of a model's parts and its state, or `None` if a length is not `D` (or 1 for
    /// the bias) — then the caller takes the general path, which reports it.
    pub(crate) fn new(
        (w, b): (&'a mut [f32], &'a mut [f32]),
        st: &'a mut StateParts<'_>,
        spare: &'a mut Spare<D>,
    ) -> Option<Self> {
        let used = st.first.weights.len() == D;
        let used2 = st.second.weights.len() == D;
        let [s0, s1] = &mut spare.0;
        let [t0, t1] = &mut spare.1;
        let first = match (used, &mut *st.first.biases) {
            (true, [b0]) => (<&mut [f32; D]>::try_from(&mut *st.first.weights).ok()?, b0),
            (false, []) if st.first.weights.is_empty() => (s0, t0),
            _ => return None,
        };
        let second = match (used2, &mut *st.second.biases) {
            (true, [b1]) => (<&mut [f32; D]>::try_from(&mut *st.second.weights).ok()?, b1),
            (false, []) if st.second.weights.is_empty() => (s1, t1),
            _ => return None,
        };
        let [b] = b else { return None };
        Some(Self {
            w: w.try_into().ok()?,
            b,
            first,
            second,
            steps: &mut *st.steps,
        })
    }
}

/// The step scalars of the single-sample path, computed once per pass when they do not
/// change from step to step (the step number aside, which is set per step).
pub(crate) struct OneScalars {
    sw: StepScalars,
    sb: StepScalars,
    /// Recomputed every step: Adam's bias corrections, the average's weight, NLMS's
    /// per-sample rate, a trust radius's per-step factor.
    per_step: bool,
}

impl OneScalars {
    /// The scalars of `rule` with `reg` at rate `lr` (`varying_rate`: the rate changes
    /// between steps).
    pub(crate) fn new(rule: Rule, reg: &Regularization, lr: f32, varying_rate: bool) -> Self {
        let per_step = varying_rate
            || matches!(
                rule,
                Rule::Adam { .. } | Rule::AdamW { .. } | Rule::Averaged { .. } | Rule::Nlms { .. }
            );
        let sw = StepScalars::new(rule, Some(reg), lr, 1);
        let sb = if reg.bias { sw } else { sw.unpenalised() };
        Self { sw, sb, per_step }
    }

    /// For a single step: the scalars are computed once, by [`at`](Self::at).
    pub(crate) fn once(rule: Rule) -> Self {
        let sw = StepScalars::new(Rule::Sgd, None, 0.0, 1);
        Self {
            sw: StepScalars { rule, ..sw },
            sb: sw,
            per_step: true,
        }
    }

    /// The scalars of step `t` at rate `rate`: those of [`step_parts`] for that step.
    #[inline(always)]
    pub(crate) fn at(&mut self, reg: &Regularization, rate: f32, t: u64) {
        if self.per_step {
            self.sw = StepScalars::new(self.sw.rule, Some(reg), rate, t);
            self.sb = if reg.bias {
                self.sw
            } else {
                self.sw.unpenalised()
            };
        } else {
            self.sw.t = t;
            self.sb.t = t;
        }
    }
}

/// One step of a one-output model of `D` weights from the gradient `(gw, gb)`: the bits of
/// [`step_parts`] (the same per-element formula on the same lane types, eight weights to a
/// vector on vector targets, the rest one at a time), all or nothing. Returns `false`, with
/// nothing written (not even the step count), if any new value would not be finite.
#[inline(always)]
pub(crate) fn step_one<const D: usize>(
    s: &OneScalars,
    one: &mut One<'_, D>,
    (gw, gb): (&[f32; D], f32),
    t: u64,
) -> bool {
    if !cfg!(feature = "optimizers") {
        return one_run(super::sgd::Sgd, s, one, (gw, gb), t);
    }
    each_rule!(s.sw.rule, r => one_run(r, s, one, (gw, gb), t))
}

/// How a single-sample step applies its rule: [`AnyRule`] dispatches on the rule at every
/// step, [`Fixed`] is one rule's update (a loop compiled for it).
pub(crate) trait OneRule: Copy {
    /// [`step_one`] for this rule.
    fn apply<const D: usize>(
        self,
        s: &OneScalars,
        one: &mut One<'_, D>,
        g: (&[f32; D], f32),
        t: u64,
    ) -> bool;
}

/// Any rule: [`step_one`], which dispatches on the scalars' rule.
#[derive(Clone, Copy)]
pub(crate) struct AnyRule;

impl OneRule for AnyRule {
    #[inline(always)]
    fn apply<const D: usize>(
        self,
        s: &OneScalars,
        one: &mut One<'_, D>,
        g: (&[f32; D], f32),
        t: u64,
    ) -> bool {
        step_one(s, one, g, t)
    }
}

/// The rule `R` (the scalars' rule, which the caller matched): its update, without a dispatch.
#[derive(Clone, Copy)]
pub(crate) struct Fixed<R>(R);

impl<R: Update> OneRule for Fixed<R> {
    #[inline(always)]
    fn apply<const D: usize>(
        self,
        s: &OneScalars,
        one: &mut One<'_, D>,
        g: (&[f32; D], f32),
        t: u64,
    ) -> bool {
        one_run(self.0, s, one, g, t)
    }
}

/// Code generic over a rule's single-sample update: [`visit_rule`] calls it with the rule's
/// [`Fixed`] update.
pub(crate) trait RuleVisitor {
    /// What the code returns.
    type Out;
    /// The code, for the update `u`.
    fn visit<U: OneRule>(self, u: U) -> Self::Out;
}

/// `v` with `rule`'s update fixed (one copy of `v`'s code per rule).
#[inline(always)]
pub(crate) fn visit_rule<V: RuleVisitor>(rule: Rule, v: V) -> V::Out {
    each_rule!(rule, r => v.visit(Fixed(r)))
}

#[inline(always)]
fn one_run<R: Update, const D: usize>(
    r: R,
    s: &OneScalars,
    one: &mut One<'_, D>,
    (gw, gb): (&[f32; D], f32),
    t: u64,
) -> bool {
    let (wa, wb) = (R::BUFFERS >= 1, R::BUFFERS >= 2);
    let (mut nw, mut na, mut nc) = (*one.w, *one.first.0, *one.second.0);
    let zero = f32x8::ZERO;
    let mut acc = zero;
    // As `PART_FIXED`: whole chunks of eight on a vector target, one element at a time on a
    // small one (and for the last `D mod 8`).
    let full = if crate::kernel::simd::SMALL {
        0
    } else {
        D - D % 8
    };
    {
        let (wc, _) = nw.as_chunks_mut::<8>();
        let (gc, _) = gw.as_chunks::<8>();
        let (ac, _) = na.as_chunks_mut::<8>();
        let (cc, _) = nc.as_chunks_mut::<8>();
        for (((w8, g8), a8), c8) in wc.iter_mut().zip(gc).zip(ac).zip(cc).take(full / 8) {
            let (w1, a1, c1) = r.element::<f32x8>(
                &s.sw,
                f32x8::new(*w8),
                f32x8::new(*g8),
                f32x8::new(*a8),
                f32x8::new(*c8),
            );
            *w8 = w1.to_array();
            acc += w1 * zero;
            if wa {
                *a8 = a1.to_array();
                acc += a1 * zero;
            }
            if wb {
                *c8 = c1.to_array();
                acc += c1 * zero;
            }
        }
    }
    let mut tail = 0.0f32;
    for (((w, g), a), c) in nw
        .iter_mut()
        .zip(gw)
        .zip(na.iter_mut())
        .zip(nc.iter_mut())
        .skip(full)
    {
        let (w1, a1, c1) = r.element::<f32>(&s.sw, *w, *g, *a, *c);
        *w = w1;
        tail += w1 * 0.0;
        if wa {
            *a = a1;
            tail += a1 * 0.0;
        }
        if wb {
            *c = c1;
            tail += c1 * 0.0;
        }
    }
    let (b1, ab, cb) = r.element::<f32>(&s.sb, *one.b, gb, *one.first.1, *one.second.1);
    tail += b1 * 0.0;
    if wa {
        tail += ab * 0.0;
    }
    if wb {
        tail += cb * 0.0;
    }
    if !(acc.simd_eq(zero).all() && tail == 0.0) {
        return false;
    }
    (*one.w, *one.b) = (nw, b1);
    if wa {
        (*one.first.0, *one.first.1) = (na, ab);
    }
    if wb {
        (*one.second.0, *one.second.1) = (nc, cb);
    }
    *one.steps = t;
    true
}
