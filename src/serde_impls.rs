//! `serde::Serialize` and `serde::Deserialize` (the `serde` feature).
//!
//! The impls live here rather than as `derive`s on the types: plain enums and structs with
//! public fields use serde's remote derive (a mirror type, `…Def`, checked against the real one
//! by the compiler), types with private fields are written by hand through their public
//! accessors and constructors.
//!
//! Deserialization validates like the constructors: a value the library would refuse to build
//! (a non-finite weight, a loss or rule parameter out of range, a bad configuration value) is a
//! serde error carrying the [`Error`](crate::Error) message that names the problem, never a
//! value. The checks are the library's own (`validate`, `new`), not copies.
//!
//! Formats: enums are externally tagged with snake_case names (`"squared"`,
//! `{"huber":{"delta":1.0}}`, the names [`Loss::name`] and [`Rule::name`] print), structs are
//! maps with their field names and refuse unknown fields. A model is
//! `{"weights": [...], "bias": b, "loss": ...}` (a classifier: `{"weights": [[...], ...],
//! "biases": [...]}`), the same for the fixed-size and the `Dyn*` types, so one reads the
//! other's output. Fixed-size arrays are sequences whose length is checked (an error, not a
//! panic). Without `std` everything here is heap-free.

use crate::control::drift::{
    Adwin, AdwinConfig, Ddm, DdmConfig, DetectorConfig, Eddm, EddmConfig, PageHinkley,
    PageHinkleyConfig, PhMode,
};
use crate::control::{
    Anneal, Clip, Controller, ControllerConfig, EarlyStop, EarlyStopping, Event, EventKind, Guard,
    LrSchedule, MAX_MILESTONES, Milestones, Mode, Plateau, RateCause, ReduceOnPlateau,
    RollbackCause, Schedule, Stop, Threshold, Warmup,
};
use crate::loss::Loss;
use crate::model::{LinearClassifier, LinearModel};
use crate::online::{Drift, OnlineConfig};
use crate::optim::RlsConfig;
use crate::optim::{Regularization, Rule};
use crate::train::TrainConfig;
use core::fmt;
use serde::de::{self, Error as _, IgnoredAny, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A library [`Error`](crate::Error) as a serde error (its `Display` names the problem).
fn refused<E: de::Error>(e: crate::Error) -> E {
    E::custom(e)
}

/// `Serialize` and `Deserialize` for `$ty` through the remote-derived `$def`; deserialization
/// then runs `$check` on the value (`|v| -> Result<(), Error>`).
macro_rules! via_def {
    ($ty:ty, $def:ident) => {
        via_def!($ty, $def, |_v| Ok(()));
    };
    ($ty:ty, $def:ident, |$v:ident| $check:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $def::serialize(self, s)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let $v = $def::deserialize(d)?;
                let checked: Result<(), crate::Error> = $check;
                checked.map_err(refused)?;
                Ok($v)
            }
        }
    };
}

// ---- Losses and update rules ----

#[derive(Serialize, Deserialize)]
#[serde(remote = "Loss", rename_all = "snake_case", deny_unknown_fields)]
enum LossDef {
    Squared,
    Huber { delta: f32 },
    Absolute,
    Logistic,
    Quantile { tau: f32 },
    Poisson,
}
via_def!(Loss, LossDef, |v| v.validate());

#[derive(Serialize, Deserialize)]
#[serde(remote = "Rule", rename_all = "snake_case", deny_unknown_fields)]
enum RuleDef {
    Sgd,
    Momentum {
        momentum: f32,
        dampening: f32,
        nesterov: bool,
    },
    Adam {
        beta1: f32,
        beta2: f32,
        eps: f32,
    },
    #[serde(rename = "adamw")]
    AdamW {
        beta1: f32,
        beta2: f32,
        eps: f32,
    },
    Averaged {
        start: u64,
    },
    Ftrl {
        beta: f32,
        l1: f32,
        l2: f32,
    },
    #[serde(rename = "adagrad")]
    AdaGrad {
        eps: f32,
    },
    Nlms {
        eps: f32,
    },
}
via_def!(Rule, RuleDef, |v| v.validate());

#[derive(Serialize, Deserialize)]
#[serde(remote = "Regularization", deny_unknown_fields)]
struct RegularizationDef {
    l1: f32,
    l2: f32,
    bias: bool,
    bounds: Option<(f32, f32)>,
}
via_def!(Regularization, RegularizationDef, |v| v.validate());

// ---- Configurations ----

#[derive(Serialize, Deserialize)]
#[serde(remote = "TrainConfig", deny_unknown_fields)]
struct TrainConfigDef {
    learning_rate: f32,
    epochs: u32,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    optimizer: Rule,
    regularization: Regularization,
}
via_def!(TrainConfig, TrainConfigDef, |v| v.validate());

#[derive(Serialize, Deserialize)]
#[serde(remote = "Drift", deny_unknown_fields)]
struct DriftDef {
    factor: f32,
    floor: f32,
    patience: u32,
}
via_def!(Drift, DriftDef, |v| OnlineConfig {
    drift: Some(v),
    ..OnlineConfig::default()
}
.validate());

#[derive(Serialize, Deserialize)]
#[serde(remote = "OnlineConfig", deny_unknown_fields)]
struct OnlineConfigDef {
    batch_size: usize,
    steps_per_call: u32,
    round_steps: u32,
    holdout_every: u32,
    metric_warmup: Option<usize>,
    optimizer: Rule,
    regularization: Regularization,
    drift: Option<Drift>,
    detector: Option<DetectorConfig>,
    rls: Option<RlsConfig>,
    standardize: Option<usize>,
}
via_def!(OnlineConfig, OnlineConfigDef, |v| v.validate());

#[derive(Serialize, Deserialize)]
#[serde(remote = "RlsConfig", deny_unknown_fields)]
struct RlsConfigDef {
    forgetting: f64,
    delta: f64,
}
via_def!(RlsConfig, RlsConfigDef, |v| v.validate());

// ---- Drift detectors' settings ----

#[derive(Serialize, Deserialize)]
#[serde(remote = "PhMode", rename_all = "snake_case")]
enum PhModeDef {
    Both,
    Up,
    Down,
}
via_def!(PhMode, PhModeDef);

#[derive(Serialize, Deserialize)]
#[serde(remote = "AdwinConfig", deny_unknown_fields)]
struct AdwinConfigDef {
    delta: f64,
    clock: u32,
    max_buckets: u32,
    min_window_length: u32,
    grace_period: u32,
    warning_delta: Option<f64>,
}
via_def!(AdwinConfig, AdwinConfigDef, |v| Adwin::new(v).map(drop));

#[derive(Serialize, Deserialize)]
#[serde(remote = "PageHinkleyConfig", deny_unknown_fields)]
struct PageHinkleyConfigDef {
    min_instances: u32,
    delta: f64,
    threshold: f64,
    alpha: f64,
    mode: PhMode,
}
via_def!(PageHinkleyConfig, PageHinkleyConfigDef, |v| {
    PageHinkley::new(v).map(drop)
});

#[derive(Serialize, Deserialize)]
#[serde(remote = "DdmConfig", deny_unknown_fields)]
struct DdmConfigDef {
    warm_start: u32,
    warning_threshold: f64,
    drift_threshold: f64,
}
via_def!(DdmConfig, DdmConfigDef, |v| Ddm::new(v).map(drop));

#[derive(Serialize, Deserialize)]
#[serde(remote = "EddmConfig", deny_unknown_fields)]
struct EddmConfigDef {
    warm_start: u32,
    alpha: f64,
    beta: f64,
}
via_def!(EddmConfig, EddmConfigDef, |v| Eddm::new(v).map(drop));

#[derive(Serialize, Deserialize)]
#[serde(remote = "DetectorConfig", rename_all = "snake_case")]
enum DetectorConfigDef {
    Adwin(AdwinConfig),
    PageHinkley(PageHinkleyConfig),
    Ddm(DdmConfig),
    Eddm(EddmConfig),
}
via_def!(DetectorConfig, DetectorConfigDef);

#[derive(Serialize, Deserialize)]
#[serde(remote = "Mode", rename_all = "snake_case")]
enum ModeDef {
    Min,
    Max,
}
via_def!(Mode, ModeDef);

#[derive(Serialize, Deserialize)]
#[serde(remote = "Threshold", rename_all = "snake_case")]
enum ThresholdDef {
    Rel,
    Abs,
}
via_def!(Threshold, ThresholdDef);

#[derive(Serialize, Deserialize)]
#[serde(remote = "Anneal", rename_all = "snake_case")]
enum AnnealDef {
    Cos,
    Linear,
}
via_def!(Anneal, AnnealDef);

#[derive(Serialize, Deserialize)]
#[serde(remote = "Plateau", deny_unknown_fields)]
struct PlateauDef {
    mode: Mode,
    factor: f32,
    patience: u32,
    threshold: f32,
    threshold_mode: Threshold,
    cooldown: u32,
    min_lr: f32,
    eps: f32,
}
via_def!(Plateau, PlateauDef, |v| ReduceOnPlateau::new(v).map(drop));

#[derive(Serialize, Deserialize)]
#[serde(remote = "EarlyStop", deny_unknown_fields)]
struct EarlyStopDef {
    mode: Mode,
    min_delta: f32,
    patience: u32,
    baseline: Option<f32>,
    start_epoch: u32,
}
via_def!(EarlyStop, EarlyStopDef, |v| EarlyStopping::new(v).map(drop));

/// The checks [`Controller::new`] makes on a part, run on a constant configuration holding it.
fn check_in_controller(edit: impl FnOnce(&mut ControllerConfig)) -> Result<(), crate::Error> {
    let mut cfg = ControllerConfig::constant(1.0)?;
    edit(&mut cfg);
    Controller::new(cfg).map(drop)
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Guard", deny_unknown_fields)]
struct GuardDef {
    spike_factor: f32,
    cut: f32,
    max_retries: u32,
}
via_def!(Guard, GuardDef, |v| check_in_controller(
    |c| c.guard = Some(v)
));

#[derive(Serialize, Deserialize)]
#[serde(remote = "Clip", deny_unknown_fields)]
struct ClipDef {
    value: Option<f32>,
    norm: Option<f32>,
    trust_radius: Option<f32>,
}
via_def!(Clip, ClipDef, |v| check_in_controller(|c| c.clip = v));

#[derive(Serialize, Deserialize)]
#[serde(remote = "Warmup", deny_unknown_fields)]
struct WarmupDef {
    steps: u32,
    start_factor: f32,
}
via_def!(Warmup, WarmupDef, |v| LrSchedule::new(
    1.0,
    Schedule::Constant
)
.and_then(|s| s.with_warmup(v))
.map(drop));

#[derive(Serialize, Deserialize)]
#[serde(remote = "Schedule", rename_all = "snake_case", deny_unknown_fields)]
enum ScheduleDef {
    Constant,
    Step {
        step_size: u32,
        gamma: f32,
    },
    MultiStep {
        milestones: Milestones,
        gamma: f32,
    },
    Exponential {
        gamma: f32,
    },
    InvScaling {
        power_t: f32,
    },
    Polynomial {
        total_steps: u32,
        power: f32,
    },
    Cosine {
        t_max: u32,
        eta_min: f32,
    },
    CosineWarmRestarts {
        t_0: u32,
        t_mult: u32,
        eta_min: f32,
    },
    OneCycle {
        total_steps: u32,
        pct_start: f32,
        div_factor: f32,
        final_div_factor: f32,
        anneal: Anneal,
    },
}
// A schedule alone has no base rate; the largest one checks everything but `eta_min <= base`,
// which `LrSchedule` checks with its own base.
via_def!(Schedule, ScheduleDef, |v| LrSchedule::new(f32::MAX, v)
    .map(drop));

impl Serialize for Milestones {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.as_slice())
    }
}

impl<'de> Deserialize<'de> for Milestones {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Milestones;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "at most {MAX_MILESTONES} strictly increasing milestones")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Milestones, A::Error> {
                let mut at = [0u32; MAX_MILESTONES];
                let mut len = 0;
                while let Some(m) = seq.next_element::<u32>()? {
                    let slot = at.get_mut(len).ok_or_else(|| {
                        A::Error::invalid_length(len + 1 + count_rest(&mut seq), &self)
                    })?;
                    *slot = m;
                    len += 1;
                }
                Milestones::new(&at[..len]).map_err(refused)
            }
        }
        d.deserialize_seq(V)
    }
}

/// How many elements the sequence still has (for a length error's message).
fn count_rest<'de, A: SeqAccess<'de>>(seq: &mut A) -> usize {
    let mut n = 0;
    while let Ok(Some(IgnoredAny)) = seq.next_element::<IgnoredAny>() {
        n += 1;
    }
    n
}

#[derive(Deserialize)]
#[serde(rename = "LrSchedule", deny_unknown_fields)]
struct LrScheduleRepr {
    base: f32,
    schedule: Schedule,
    warmup: Option<Warmup>,
}

impl Serialize for LrSchedule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("LrSchedule", 3)?;
        st.serialize_field("base", &self.base())?;
        st.serialize_field("schedule", self.schedule())?;
        st.serialize_field("warmup", &self.warmup())?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for LrSchedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = LrScheduleRepr::deserialize(d)?;
        let s = LrSchedule::new(r.base, r.schedule).map_err(refused)?;
        match r.warmup {
            Some(w) => s.with_warmup(w).map_err(refused),
            None => Ok(s),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "ControllerConfig", deny_unknown_fields)]
struct ControllerConfigDef {
    schedule: LrSchedule,
    min_lr: f32,
    max_lr: f32,
    plateau: Option<Plateau>,
    adaptive: Option<(f32, u32)>,
    early_stop: Option<EarlyStop>,
    target: Option<f32>,
    guard: Option<Guard>,
    clip: Clip,
    tol: Option<f32>,
    plateau_follows_certificate: bool,
    certify_every: u32,
}
via_def!(ControllerConfig, ControllerConfigDef, |v| Controller::new(
    v
)
.map(drop));

// ---- The controller's events (outputs: nothing to validate) ----

#[derive(Serialize, Deserialize)]
#[serde(remote = "Stop", rename_all = "snake_case")]
enum StopDef {
    MaxEpochs,
    Observer,
    EarlyStop,
    Target,
    Converged,
    Stalled,
    Diverged,
    Paused,
}
via_def!(Stop, StopDef);

#[derive(Serialize, Deserialize)]
#[serde(remote = "RateCause", rename_all = "snake_case")]
enum RateCauseDef {
    Plateau,
    Adaptive,
    Rollback,
}
via_def!(RateCause, RateCauseDef);

#[derive(Serialize, Deserialize)]
#[serde(remote = "RollbackCause", rename_all = "snake_case")]
enum RollbackCauseDef {
    NonFinite,
    Spike,
}
via_def!(RollbackCause, RollbackCauseDef);

#[derive(Serialize, Deserialize)]
#[serde(remote = "EventKind", rename_all = "snake_case", deny_unknown_fields)]
enum EventKindDef {
    Improved {
        metric: f32,
    },
    RateChanged {
        from: f32,
        to: f32,
        cause: RateCause,
    },
    RolledBack {
        cause: RollbackCause,
        retry: u32,
    },
    Stopped(Stop),
    Restarted {
        metric: f32,
        previous_best: f32,
    },
}
via_def!(EventKind, EventKindDef);

#[derive(Serialize, Deserialize)]
#[serde(remote = "Event", deny_unknown_fields)]
struct EventDef {
    epoch: u32,
    kind: EventKind,
}
via_def!(Event, EventDef);

// ---- Fixed-size arrays ----

/// `[T; N]` read as a sequence of exactly `N` elements (serde derives arrays only up to 32 and
/// not for a const generic length). `init` fills the array before the elements overwrite it.
struct ArrayVisitor<T, const N: usize> {
    init: T,
}

impl<'de, T: Deserialize<'de> + Copy, const N: usize> Visitor<'de> for ArrayVisitor<T, N> {
    type Value = [T; N];
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a sequence of {N} elements")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[T; N], A::Error> {
        let mut out = [self.init; N];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = seq
                .next_element()?
                .ok_or_else(|| A::Error::invalid_length(i, &self))?;
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(A::Error::invalid_length(
                N + 1 + count_rest(&mut seq),
                &self,
            ));
        }
        Ok(out)
    }
}

/// `[f32; N]`, serialized as a sequence.
#[derive(Clone, Copy)]
struct Row<const N: usize>([f32; N]);

impl<'de, const N: usize> Deserialize<'de> for Row<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(ArrayVisitor::<f32, N> { init: 0.0 })
            .map(Row)
    }
}

/// `[[f32; D]; K]`, a sequence of `K` rows of `D`.
struct Rows<const D: usize, const K: usize>([[f32; D]; K]);

impl<'de, const D: usize, const K: usize> Deserialize<'de> for Rows<D, K> {
    fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Self, D2::Error> {
        let rows = d.deserialize_seq(ArrayVisitor::<Row<D>, K> {
            init: Row([0.0; D]),
        })?;
        Ok(Rows(rows.map(|r| r.0)))
    }
}

/// Rows of a row-major weight matrix, each serialized as a sequence.
struct RowsRef<'a> {
    w: &'a [f32],
    d: usize,
}

impl Serialize for RowsRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.w.chunks_exact(self.d.max(1)))
    }
}

// ---- Models ----

impl<const D: usize> Serialize for LinearModel<D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("LinearModel", 3)?;
        st.serialize_field("weights", self.weights().as_slice())?;
        st.serialize_field("bias", &self.bias())?;
        st.serialize_field("loss", &self.loss_kind())?;
        st.end()
    }
}

#[derive(Deserialize)]
#[serde(rename = "LinearModel", deny_unknown_fields)]
struct LinearRepr<W> {
    weights: W,
    bias: f32,
    loss: Loss,
}

impl<'de, const D: usize> Deserialize<'de> for LinearModel<D> {
    fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Self, D2::Error> {
        let r = LinearRepr::<Row<D>>::deserialize(d)?;
        LinearModel::new(r.weights.0, r.bias)
            .and_then(|m| m.with_loss(r.loss))
            .map_err(refused)
    }
}

#[derive(Deserialize)]
#[serde(rename = "LinearClassifier", deny_unknown_fields)]
struct ClassifierRepr<W, B> {
    weights: W,
    biases: B,
}

impl<const D: usize, const K: usize> Serialize for LinearClassifier<D, K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("LinearClassifier", 2)?;
        let w = RowsRef {
            w: self.weights().as_flattened(),
            d: D,
        };
        st.serialize_field("weights", &w)?;
        st.serialize_field("biases", self.biases().as_slice())?;
        st.end()
    }
}

impl<'de, const D: usize, const K: usize> Deserialize<'de> for LinearClassifier<D, K> {
    fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Self, D2::Error> {
        let r = ClassifierRepr::<Rows<D, K>, Row<K>>::deserialize(d)?;
        LinearClassifier::new(r.weights.0, r.biases.0).map_err(refused)
    }
}

#[cfg(feature = "std")]
mod dynamic {
    use super::{ClassifierRepr, LinearRepr, RowsRef, refused};
    use crate::train::Access;
    use crate::{DynClassifier, DynLinearModel, DynModel, Error, check, kernel};
    use serde::ser::SerializeStruct;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::vec::Vec;

    impl Serialize for DynLinearModel {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("LinearModel", 3)?;
            st.serialize_field("weights", self.weights())?;
            st.serialize_field("bias", &self.bias())?;
            st.serialize_field("loss", &self.loss_kind())?;
            st.end()
        }
    }

    impl<'de> Deserialize<'de> for DynLinearModel {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let r = LinearRepr::<Vec<f32>>::deserialize(d)?;
            DynLinearModel::new(r.weights, r.bias)
                .and_then(|m| m.with_loss(r.loss))
                .map_err(refused)
        }
    }

    impl Serialize for DynClassifier {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("LinearClassifier", 2)?;
            let w = RowsRef {
                w: self.weights(),
                d: self.features(),
            };
            st.serialize_field("weights", &w)?;
            st.serialize_field("biases", self.biases())?;
            st.end()
        }
    }

    /// The checks of [`DynClassifier::zeros`] and of a decoded classifier, on rows of weights.
    fn classifier(rows: &[Vec<f32>], biases: &[f32]) -> Result<DynClassifier, Error> {
        let k = rows.len();
        if k == 0 || k > kernel::MAX_CLASSES {
            return Err(Error::InvalidParameter {
                name: "classes",
                reason: "must be in 1..=256",
            });
        }
        check::check_len("biases", biases.len(), k)?;
        let d = rows[0].len();
        let mut m = DynClassifier::zeros(d, k)?;
        let (w, b) = m.params();
        for (dst, row) in w.chunks_exact_mut(d).zip(rows) {
            check::check_len("weights row", row.len(), d)?;
            dst.copy_from_slice(row);
        }
        b.copy_from_slice(biases);
        check::check_finite("w", w)?;
        if let Err(Error::NonFinite { index, .. }) = check::check_finite("b", b) {
            return Err(Error::NonFinite { what: "b", index });
        }
        Ok(m)
    }

    impl<'de> Deserialize<'de> for DynClassifier {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let r = ClassifierRepr::<Vec<Vec<f32>>, Vec<f32>>::deserialize(d)?;
            classifier(&r.weights, &r.biases).map_err(refused)
        }
    }

    #[derive(Serialize, Deserialize)]
    #[serde(remote = "DynModel", rename_all = "snake_case")]
    enum DynModelDef {
        Linear(DynLinearModel),
        Classifier(DynClassifier),
    }
    via_def!(DynModel, DynModelDef);
}
