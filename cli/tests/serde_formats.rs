//! The library's `serde` feature, through JSON (serde_json is already this crate's dependency;
//! the library's own dev-dependencies stay small). Round trips are bit-exact, and every value
//! the library would refuse to build is refused with an error naming the problem.

use npoa::control::{
    Anneal, Clip, Controller, ControllerConfig, EarlyStop, Event, EventKind, Guard, LrSchedule,
    Milestones, Plateau, RateCause, RollbackCause, Schedule, Stop, Warmup,
};
use npoa::loss::Loss;
use npoa::online::{Drift, OnlineConfig};
use npoa::optim::{Regularization, Rule};
use npoa::train::{Dataset, TrainConfig, Training};
use npoa::{DynClassifier, DynLinearModel, DynModel, History, LinearClassifier, LinearModel};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A xorshift64* stream of arbitrary finite `f32`s (every exponent, subnormals, ±0).
struct Bits(u64);

impl Bits {
    fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
    fn finite(&mut self) -> f32 {
        loop {
            let v = f32::from_bits(self.next_u32());
            if v.is_finite() {
                return v;
            }
        }
    }
    fn array<const N: usize>(&mut self) -> [f32; N] {
        core::array::from_fn(|_| self.finite())
    }
}

fn round_trip<T: Serialize + DeserializeOwned>(v: &T) -> (String, T) {
    let json = serde_json::to_string(v).expect("serializes");
    let back = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
    (json, back)
}

/// The deserialization error for `json`, which must be refused.
fn refusal<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
    match serde_json::from_str::<T>(json) {
        Ok(v) => panic!("{json} was accepted as {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|e| e.to_bits()).collect()
}

#[test]
fn linear_model_round_trips_bit_exactly_for_arbitrary_weights() {
    let mut r = Bits(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let loss = Loss::ALL[(r.next_u32() % 6) as usize];
        let m = LinearModel::<5>::new(r.array(), r.finite())
            .and_then(|m| m.with_loss(loss))
            .unwrap();
        let (json, back) = round_trip(&m);
        assert_eq!(bits(back.weights()), bits(m.weights()), "{json}");
        assert_eq!(back.bias().to_bits(), m.bias().to_bits(), "{json}");
        assert_eq!(back.loss_kind(), m.loss_kind(), "{json}");
        // The same text reads as the heap-backed model, bit for bit.
        let dynamic: DynLinearModel = serde_json::from_str(&json).unwrap();
        assert_eq!(bits(dynamic.weights()), bits(m.weights()), "{json}");
        assert_eq!(serde_json::to_string(&dynamic).unwrap(), json);
    }
}

#[test]
fn the_formats_are_the_documented_ones() {
    let m = LinearModel::<2>::new([1.5, -0.25], 0.5)
        .unwrap()
        .with_loss(Loss::Huber { delta: 2.0 })
        .unwrap();
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"weights":[1.5,-0.25],"bias":0.5,"loss":{"huber":{"delta":2.0}}}"#
    );
    let c = LinearClassifier::<2, 3>::new([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0.5, 0.0, -0.5])
        .unwrap();
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"weights":[[1.0,2.0],[3.0,4.0],[5.0,6.0]],"biases":[0.5,0.0,-0.5]}"#
    );
    // Enum names are the ones `name()` prints.
    for loss in Loss::ALL {
        let json = serde_json::to_string(&loss).unwrap();
        assert!(json.contains(&format!("\"{}\"", loss.name())), "{json}");
    }
    for rule in Rule::EXAMPLES {
        let json = serde_json::to_string(&rule).unwrap();
        let tag = if rule.name() == "nesterov" {
            "momentum"
        } else {
            rule.name()
        };
        assert!(json.contains(&format!("\"{tag}\"")), "{json}");
        assert_eq!(round_trip(&rule).1, rule);
    }
    assert_eq!(
        serde_json::to_string(&Stop::EarlyStop).unwrap(),
        r#""early_stop""#
    );
}

#[test]
fn classifiers_round_trip_bit_exactly_and_read_each_other() {
    let mut r = Bits(7);
    for _ in 0..500 {
        let w = [r.array::<4>(), r.array(), r.array()];
        let c = LinearClassifier::<4, 3>::new(w, r.array()).unwrap();
        let (json, back) = round_trip(&c);
        assert_eq!(
            bits(back.weights().as_flattened()),
            bits(c.weights().as_flattened())
        );
        assert_eq!(bits(back.biases()), bits(c.biases()));
        let d: DynClassifier = serde_json::from_str(&json).unwrap();
        assert_eq!((d.features(), d.classes()), (4, 3));
        assert_eq!(bits(d.weights()), bits(c.weights().as_flattened()));
        assert_eq!(bits(d.biases()), bits(c.biases()));
        assert_eq!(round_trip(&d).1, d);
        assert_eq!(serde_json::to_string(&d).unwrap(), json);
        let any = DynModel::Classifier(d.clone());
        let (tagged, back) = round_trip(&any);
        assert!(tagged.starts_with(r#"{"classifier":"#), "{tagged}");
        assert_eq!(back, any);
    }
    let lin = DynModel::Linear(DynLinearModel::new(vec![1.0, 2.0], 3.0).unwrap());
    assert_eq!(round_trip(&lin).1, lin);
    // The same bytes as the binary format's decoder would give.
    assert_eq!(
        DynModel::from_bytes(&lin.to_bytes()).unwrap(),
        round_trip(&lin).1
    );
}

#[test]
fn models_the_library_would_refuse_are_refused() {
    // 1e39 is beyond f32: serde reads it as +inf, the constructor's check names the weight.
    let e = refusal::<LinearModel<3>>(r#"{"weights":[1,1e39,2],"bias":0,"loss":"squared"}"#);
    assert!(e.contains("`w[1]` is NaN or infinite"), "{e}");
    let e = refusal::<DynLinearModel>(r#"{"weights":[1,1e39,2],"bias":0,"loss":"squared"}"#);
    assert!(e.contains("`w[1]` is NaN or infinite"), "{e}");
    let e = refusal::<LinearModel<3>>(r#"{"weights":[1,2,3],"bias":-1e39,"loss":"squared"}"#);
    assert!(e.contains("`b[0]`"), "{e}");
    let e = refusal::<LinearModel<3>>(r#"{"weights":[1,2],"bias":0,"loss":"squared"}"#);
    assert!(
        e.contains("invalid length 2, expected a sequence of 3 elements"),
        "{e}"
    );
    let e = refusal::<LinearModel<3>>(r#"{"weights":[1,2,3,4,5],"bias":0,"loss":"squared"}"#);
    assert!(e.contains("invalid length 5"), "{e}");
    let e = refusal::<DynLinearModel>(r#"{"weights":[],"bias":0,"loss":"squared"}"#);
    assert!(e.contains("zero features"), "{e}");
    let e = refusal::<LinearModel<1>>(r#"{"weights":[1],"bias":0,"loss":{"huber":{"delta":-1}}}"#);
    assert!(e.contains("`delta`"), "{e}");
    let e = refusal::<LinearModel<1>>(r#"{"weights":[1],"bias":0,"loss":{"quantile":{"tau":1}}}"#);
    assert!(e.contains("`tau`"), "{e}");
    let e = refusal::<LinearModel<1>>(r#"{"weights":[1],"bias":0,"loss":"cubic"}"#);
    assert!(e.contains("unknown variant `cubic`"), "{e}");
    let e = refusal::<LinearModel<1>>(r#"{"weights":[1],"bias":0,"loss":"squared","x":1}"#);
    assert!(e.contains("unknown field `x`"), "{e}");
    let e = refusal::<LinearModel<1>>(r#"{"weights":[1],"loss":"squared"}"#);
    assert!(e.contains("missing field `bias`"), "{e}");

    // The parts alone, not only inside a model or a configuration.
    assert!(refusal::<Loss>(r#"{"huber":{"delta":0}}"#).contains("`delta`"));
    assert!(refusal::<Loss>(r#"{"quantile":{"tau":-0.5}}"#).contains("`tau`"));
    assert!(refusal::<Rule>(r#"{"adam":{"beta1":0.9,"beta2":1,"eps":1e-8}}"#).contains("`beta2`"));
    assert!(
        refusal::<Rule>(r#"{"momentum":{"momentum":-1,"dampening":0,"nesterov":false}}"#)
            .contains("momentum")
    );
    let e = refusal::<Regularization>(r#"{"l1":-1,"l2":0,"bias":false,"bounds":null}"#);
    assert!(e.contains("`l1`"), "{e}");
    assert_eq!(
        round_trip(&Loss::Quantile { tau: 0.25 }).1,
        Loss::Quantile { tau: 0.25 }
    );

    let e = refusal::<LinearClassifier<2, 2>>(r#"{"weights":[[1,2],[3]],"biases":[0,0]}"#);
    assert!(
        e.contains("invalid length 1, expected a sequence of 2"),
        "{e}"
    );
    let e = refusal::<LinearClassifier<2, 2>>(r#"{"weights":[[1,2],[3,1e40]],"biases":[0,0]}"#);
    assert!(e.contains("`w[3]`"), "{e}");
    let e = refusal::<DynClassifier>(r#"{"weights":[[1,2],[3]],"biases":[0,0]}"#);
    assert!(e.contains("`weights row` has length 1, expected 2"), "{e}");
    let e = refusal::<DynClassifier>(r#"{"weights":[[1,2],[3,4]],"biases":[0]}"#);
    assert!(e.contains("`biases` has length 1, expected 2"), "{e}");
    let e = refusal::<DynClassifier>(r#"{"weights":[[1,2],[3,4]],"biases":[0,1e39]}"#);
    assert!(e.contains("`b[1]`"), "{e}");
    let e = refusal::<DynClassifier>(r#"{"weights":[],"biases":[]}"#);
    assert!(e.contains("`classes`"), "{e}");
    let e = refusal::<DynClassifier>(r#"{"weights":[[],[]],"biases":[0,0]}"#);
    assert!(e.contains("zero features"), "{e}");
}

#[test]
fn train_and_online_configurations_round_trip_and_are_validated() {
    let mut r = Bits(11);
    for rule in Rule::EXAMPLES {
        let cfg = TrainConfig {
            learning_rate: r.finite().abs().max(f32::MIN_POSITIVE),
            epochs: r.next_u32().max(1),
            batch_size: 1 + r.next_u32() as usize,
            shuffle: r.next_u32() & 1 == 0,
            seed: u64::from(r.next_u32()) << 32 | u64::from(r.next_u32()),
            optimizer: rule,
            regularization: if matches!(rule, Rule::Ftrl { .. }) {
                Regularization::NONE
            } else {
                Regularization {
                    l1: 0.125,
                    l2: 1e-7,
                    bias: true,
                    bounds: Some((-1.0, 2.5)),
                }
            },
        };
        cfg.validate().unwrap();
        let (json, back) = round_trip(&cfg);
        assert_eq!(back, cfg, "{json}");
        assert_eq!(back.learning_rate.to_bits(), cfg.learning_rate.to_bits());
    }
    let ok = serde_json::to_value(TrainConfig::default()).unwrap();
    let with = |path: &[&str], v: serde_json::Value| {
        let mut j = ok.clone();
        let (last, init) = path.split_last().unwrap();
        let mut at = &mut j;
        for k in init {
            at = &mut at[*k];
        }
        at[*last] = v;
        j.to_string()
    };
    for (path, v, named) in [
        (&["epochs"][..], serde_json::json!(0), "`epochs`"),
        (&["batch_size"][..], serde_json::json!(0), "`batch_size`"),
        (
            &["learning_rate"][..],
            serde_json::json!(0.0),
            "`learning_rate`",
        ),
        (
            &["learning_rate"][..],
            serde_json::json!(-1e39),
            "`learning_rate`",
        ),
        (
            &["regularization", "l2"][..],
            serde_json::json!(-1.0),
            "`l2`",
        ),
        (
            &["regularization", "bounds"][..],
            serde_json::json!([2.0, 1.0]),
            "`bounds`",
        ),
        (
            &["optimizer"][..],
            serde_json::json!({"adam": {"beta1": 1.0, "beta2": 0.9, "eps": 1e-8}}),
            "`beta1`",
        ),
        (
            &["optimizer"][..],
            serde_json::json!({"adagrad": {"eps": 0.0}}),
            "`eps`",
        ),
        (
            &["optimizer"][..],
            serde_json::json!({"ftrl": {"beta": 1.0, "l1": 0.0, "l2": 0.0}}),
            "",
        ),
    ] {
        let json = with(path, v);
        if named.is_empty() {
            // Valid on its own: accepted.
            serde_json::from_str::<TrainConfig>(&json).unwrap();
        } else {
            let e = refusal::<TrainConfig>(&json);
            assert!(e.contains(named), "{json}: {e}");
        }
    }
    // FTRL with a penalty: each part is valid, the whole is not.
    let json = with(&["regularization", "l1"], serde_json::json!(0.5)).replace(
        r#""optimizer":"sgd""#,
        r#""optimizer":{"ftrl":{"beta":1.0,"l1":0.0,"l2":0.0}}"#,
    );
    assert!(refusal::<TrainConfig>(&json).contains("`regularization`"));

    let online = OnlineConfig {
        optimizer: Rule::ADAMW,
        drift: Some(Drift {
            factor: 2.5,
            floor: 0.01,
            patience: 4,
        }),
        metric_warmup: Some(12),
        standardize: None,
        ..OnlineConfig::default()
    };
    assert_eq!(round_trip(&online).1, online);
    assert_eq!(
        round_trip(&OnlineConfig::default()).1,
        OnlineConfig::default()
    );
    let j = serde_json::to_value(OnlineConfig::default()).unwrap();
    let mut bad = j.clone();
    bad["holdout_every"] = 1.into();
    assert!(refusal::<OnlineConfig>(&bad.to_string()).contains("`holdout_every`"));
    let mut bad = j.clone();
    bad["drift"] = serde_json::json!({"factor": 0.5, "floor": 0.0, "patience": 3});
    assert!(refusal::<OnlineConfig>(&bad.to_string()).contains("`drift.factor`"));
    // The detector (ADWIN by default) and RLS are part of the format, validated.
    assert!(j["detector"]["adwin"]["clock"] == 4, "{j}");
    let rls = OnlineConfig {
        rls: Some(npoa::optim::RlsConfig::default()),
        ..OnlineConfig::default()
    };
    assert_eq!(round_trip(&rls).1, rls);
    let mut bad = j.clone();
    bad["rls"] = serde_json::json!({"forgetting": 1.5, "delta": 1.0});
    assert!(refusal::<OnlineConfig>(&bad.to_string()).contains("forgetting"));
    assert!(
        refusal::<Drift>(r#"{"factor":3,"floor":0,"patience":0}"#).contains("`drift.patience`")
    );
}

fn full_controller() -> ControllerConfig {
    let schedule = LrSchedule::new(
        0.05,
        Schedule::MultiStep {
            milestones: Milestones::new(&[3, 10, 40]).unwrap(),
            gamma: 0.5,
        },
    )
    .unwrap()
    .with_warmup(Warmup {
        steps: 5,
        start_factor: 0.1,
    })
    .unwrap();
    ControllerConfig {
        schedule,
        min_lr: 1e-6,
        max_lr: 1.0,
        plateau: Some(Plateau::default()),
        adaptive: Some((1e-4, 5)),
        early_stop: Some(EarlyStop {
            baseline: Some(2.0),
            ..EarlyStop::default()
        }),
        target: Some(1e-3),
        guard: Some(Guard::default()),
        clip: Clip {
            value: Some(5.0),
            norm: None,
            trust_radius: Some(0.5),
        },
        tol: Some(1e-5),
        plateau_follows_certificate: true,
        certify_every: 2,
    }
}

#[test]
fn controller_configurations_round_trip_and_are_validated() {
    let cfg = full_controller();
    Controller::new(cfg).unwrap();
    let (json, back) = round_trip(&cfg);
    assert_eq!(back, cfg, "{json}");
    assert_eq!(back.schedule.warmup(), cfg.schedule.warmup());
    for schedule in [
        Schedule::Constant,
        Schedule::Step {
            step_size: 3,
            gamma: 0.5,
        },
        Schedule::Exponential { gamma: 0.99 },
        Schedule::InvScaling { power_t: 0.25 },
        Schedule::Polynomial {
            total_steps: 100,
            power: 2.0,
        },
        Schedule::Cosine {
            t_max: 50,
            eta_min: 0.001,
        },
        Schedule::CosineWarmRestarts {
            t_0: 10,
            t_mult: 2,
            eta_min: 0.0,
        },
        Schedule::OneCycle {
            total_steps: 100,
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
            anneal: Anneal::Linear,
        },
    ] {
        let c = ControllerConfig {
            schedule: LrSchedule::new(0.1, schedule).unwrap(),
            ..cfg
        };
        assert_eq!(round_trip(&c).1, c);
        assert_eq!(round_trip(&schedule).1, schedule);
    }
    let j = serde_json::to_value(cfg).unwrap();
    let refused = |edit: &dyn Fn(&mut serde_json::Value), named: &str| {
        let mut bad = j.clone();
        edit(&mut bad);
        let e = refusal::<ControllerConfig>(&bad.to_string());
        assert!(e.contains(named), "{bad}: {e}");
    };
    refused(&|v| v["max_lr"] = serde_json::json!(1e-7), "`max_lr`");
    refused(&|v| v["tol"] = serde_json::json!(-1.0), "`tol`");
    refused(
        &|v| v["plateau"]["mode"] = serde_json::json!("max"),
        "`plateau.mode`",
    );
    refused(
        &|v| v["plateau"]["factor"] = serde_json::json!(1.0),
        "`factor`",
    );
    refused(
        &|v| v["early_stop"]["min_delta"] = serde_json::json!(-1.0),
        "`min_delta`",
    );
    refused(
        &|v| v["adaptive"] = serde_json::json!([1e-4, 0]),
        "`n_iter_no_change`",
    );
    refused(
        &|v| v["guard"]["cut"] = serde_json::json!(1.5),
        "`guard.cut`",
    );
    refused(
        &|v| v["clip"]["norm"] = serde_json::json!(0.0),
        "`clip.norm`",
    );
    refused(
        &|v| v["schedule"]["base"] = serde_json::json!(0.0),
        "`learning_rate`",
    );
    refused(
        &|v| v["schedule"]["warmup"]["start_factor"] = serde_json::json!(0.0),
        "`warmup.start_factor`",
    );
    refused(
        &|v| v["schedule"]["schedule"]["multi_step"]["milestones"] = serde_json::json!([3, 3]),
        "strictly increasing",
    );
    refused(
        &|v| {
            v["schedule"]["schedule"]["multi_step"]["milestones"] =
                serde_json::json!((1..=17).collect::<Vec<u32>>())
        },
        "invalid length 17, expected at most 16",
    );
    // eta_min above the base rate: only the schedule with its base can tell.
    refused(
        &|v| {
            v["schedule"]["schedule"] = serde_json::json!({"cosine": {"t_max": 10, "eta_min": 0.5}})
        },
        "`eta_min`",
    );
    assert!(refusal::<Schedule>(r#"{"cosine":{"t_max":10,"eta_min":-1}}"#).contains("`eta_min`"));
    assert!(refusal::<Schedule>(r#"{"step":{"step_size":0,"gamma":0.5}}"#).contains("`step_size`"));
    assert!(
        refusal::<Guard>(r#"{"spike_factor":1,"cut":0.5,"max_retries":1}"#)
            .contains("`guard.spike_factor`")
    );
}

#[test]
fn events_of_a_real_run_round_trip() {
    // A rate far too high: the guard rolls back and the plateau rule cuts the rate.
    let x: Vec<f32> = (0..64).map(|i| (i as f32) / 8.0).collect();
    let y: Vec<f32> = x.iter().map(|v| 3.0 * v - 1.0).collect();
    let data = Dataset::new(&x, &y, 1).unwrap();
    let mut cfg = ControllerConfig::constant(5.0).unwrap();
    cfg.plateau = Some(Plateau {
        patience: 1,
        ..Plateau::default()
    });
    let mut controller = Controller::new(cfg).unwrap();
    let train = TrainConfig {
        learning_rate: 5.0,
        epochs: 30,
        ..TrainConfig::default()
    };
    let mut model = DynLinearModel::zeros(1).unwrap();
    let mut history = History::default();
    let _ = Training::new(&train)
        .controller(&mut controller)
        .observer(&mut history)
        .fit(&mut model, &data);
    let mut events = history.events.clone();
    assert!(!events.is_empty(), "the run logged no event");
    events.extend([
        Event {
            epoch: 1,
            kind: EventKind::Improved { metric: 0.5 },
        },
        Event {
            epoch: 2,
            kind: EventKind::RateChanged {
                from: 0.1,
                to: 0.01,
                cause: RateCause::Adaptive,
            },
        },
        Event {
            epoch: 3,
            kind: EventKind::RolledBack {
                cause: RollbackCause::Spike,
                retry: 2,
            },
        },
        Event {
            epoch: 4,
            kind: EventKind::Stopped(Stop::Target),
        },
        Event {
            epoch: 5,
            kind: EventKind::Restarted {
                metric: 9.0,
                previous_best: 1.0,
            },
        },
    ]);
    let (json, back) = round_trip(&events);
    assert_eq!(back, events, "{json}");
    assert!(
        json.contains(r#"{"epoch":4,"kind":{"stopped":"target"}}"#),
        "{json}"
    );
}

#[test]
fn drift_detector_configurations_round_trip_and_are_validated() {
    use npoa::control::drift::{
        AdwinConfig, DdmConfig, DetectorConfig, EddmConfig, PageHinkleyConfig, PhMode,
    };
    let configs = [
        DetectorConfig::Adwin(AdwinConfig::default()),
        DetectorConfig::Adwin(AdwinConfig {
            clock: 1,
            warning_delta: Some(0.01),
            ..AdwinConfig::default()
        }),
        DetectorConfig::PageHinkley(PageHinkleyConfig {
            mode: PhMode::Down,
            ..PageHinkleyConfig::default()
        }),
        DetectorConfig::Ddm(DdmConfig::default()),
        DetectorConfig::Eddm(EddmConfig::default()),
    ];
    for c in configs {
        let (_, back) = round_trip(&c);
        assert_eq!(back, c);
    }
    let (json, _) = round_trip(&DetectorConfig::Ddm(DdmConfig::default()));
    assert_eq!(
        json,
        r#"{"ddm":{"warm_start":30,"warning_threshold":2.0,"drift_threshold":3.0}}"#
    );
    let (json, _) = round_trip(&PhMode::Both);
    assert_eq!(json, r#""both""#);
    let e = refusal::<DetectorConfig>(
        r#"{"adwin":{"delta":2.0,"clock":32,"max_buckets":5,"min_window_length":5,"grace_period":10,"warning_delta":null}}"#,
    );
    assert!(e.contains("delta"), "{e}");
    let e = refusal::<EddmConfig>(r#"{"warm_start":30,"alpha":0.5,"beta":0.9}"#);
    assert!(e.contains("alpha"), "{e}");
    let e = refusal::<DdmConfig>(r#"{"warm_start":30,"warning_threshold":2.0}"#);
    assert!(e.contains("drift_threshold"), "{e}");
}
