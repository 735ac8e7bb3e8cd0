//! `npoa export --rust`: the generated modules compile (they are compiled into this test:
//! `tests/c/rust/*.rs`, which the first test checks are exactly what the exporter writes now;
//! `NPOA_BLESS=1` rewrites them), their `static` models are built by the `const` constructors,
//! and they predict the bits of the model they were exported from.

use npoa::loss::Loss;
use npoa::{DynLinearModel, DynModel, LinearClassifier};
use npoa_cli::export::rust_module;
use npoa_cli::meta::Meta;
use std::path::Path;

// Generated text, compared byte for byte with the exporter's: not reformatted.
#[rustfmt::skip]
#[path = "c/rust/huber3.rs"]
mod huber3;
#[rustfmt::skip]
#[path = "c/rust/logit13.rs"]
mod logit13;
#[rustfmt::skip]
#[path = "c/rust/pois8.rs"]
mod pois8;
#[rustfmt::skip]
#[path = "c/rust/soft4x3.rs"]
mod soft4x3;

/// SplitMix64: deterministic models and rows without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / 16_777_216.0) * 2.0 - 1.0
    }
    /// Odd values: any mantissa, a wide range of exponents, now and then a subnormal.
    fn value(&mut self) -> f32 {
        match self.next() % 8 {
            0 => f32::from_bits(1 + (self.next() % 0x007f_ffff) as u32),
            1 => self.unit() * 1e5,
            2 => self.unit() * 1e-5,
            _ => self.unit() * 3.0,
        }
    }
}

fn linear(d: usize, loss: Loss, seed: u64) -> DynModel {
    let mut rng = Rng(seed);
    let w = (0..d).map(|_| rng.value()).collect();
    let b = rng.value();
    DynModel::Linear(DynLinearModel::new(w, b).unwrap().with_loss(loss).unwrap())
}

fn softmax<const D: usize, const K: usize>(seed: u64) -> DynModel {
    let mut rng = Rng(seed);
    let w: [[f32; D]; K] = std::array::from_fn(|_| std::array::from_fn(|_| rng.value()));
    let b: [f32; K] = std::array::from_fn(|_| rng.value());
    let m = LinearClassifier::new(w, b).unwrap();
    let mut buf = vec![0u8; npoa::model::bytes::encoded_len(D, K)];
    let n = m.to_bytes(&mut buf).unwrap();
    DynModel::from_bytes(&buf[..n]).unwrap()
}

fn meta(d: usize, labels: Option<&[&str]>) -> Meta {
    Meta {
        features: (0..d).map(|j| format!("feature \"{j}\"")).collect(),
        target: "the target".into(),
        labels: labels.map(|l| l.iter().map(|s| s.to_string()).collect()),
        standardized: (true, false),
        ..Meta::default()
    }
}

/// The exported models: (name, model, card).
fn models() -> Vec<(&'static str, DynModel, Meta)> {
    vec![
        (
            "huber3",
            linear(3, Loss::Huber { delta: 0.75 }, 1),
            meta(3, None),
        ),
        ("logit13", linear(13, Loss::Logistic, 2), meta(13, None)),
        ("pois8", linear(8, Loss::Poisson, 3), meta(8, None)),
        (
            "soft4x3",
            softmax::<4, 3>(4),
            meta(4, Some(&["setosa", "versicolor", "virginica"])),
        ),
    ]
}

#[test]
fn compiled_modules_are_what_the_exporter_writes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/rust");
    let bless = std::env::var_os("NPOA_BLESS").is_some_and(|v| v == "1");
    for (name, model, meta) in models() {
        let text = rust_module(&model, &meta, name).unwrap();
        let path = dir.join(format!("{name}.rs"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "{}: not what `rust_module` writes now; rerun with NPOA_BLESS=1",
            path.display()
        );
    }
}

/// `f(x)` of the static model against the exported `DynModel`, on rows with odd values.
fn rows<const D: usize>(seed: u64, n: usize) -> Vec<[f32; D]> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| std::array::from_fn(|_| rng.value() * 0.01))
        .collect()
}

fn dyn_linear(name: &str) -> DynLinearModel {
    match models().into_iter().find(|m| m.0 == name) {
        Some((_, DynModel::Linear(m), _)) => m,
        _ => panic!("{name}: not a linear model"),
    }
}

fn check_linear<const D: usize>(
    name: &str,
    m: &npoa::LinearModel<D>,
    features: &[&str; D],
) -> usize {
    let dm = dyn_linear(name);
    assert_eq!(m.loss_kind(), dm.loss_kind(), "{name}");
    assert_eq!(
        m.weights().map(f32::to_bits).to_vec(),
        dm.weights().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        "{name}: weights"
    );
    assert_eq!(m.bias().to_bits(), dm.bias().to_bits(), "{name}: bias");
    let want: Vec<String> = (0..D).map(|j| format!("feature \"{j}\"")).collect();
    assert_eq!(features.to_vec(), want, "{name}: FEATURES");
    let xs = rows::<D>(D as u64, 2000);
    for x in &xs {
        let mut out = [0.0f32];
        dm.predict_batch(x, &mut out).unwrap();
        assert_eq!(
            m.predict_one(x).to_bits(),
            out[0].to_bits(),
            "{name}: {x:?}"
        );
        assert_eq!(m.predict(x).unwrap().to_bits(), out[0].to_bits(), "{name}");
        if m.loss_kind() == Loss::Logistic {
            let p = npoa::loss::sigmoid(out[0]);
            assert_eq!(m.predict_proba(x).unwrap().to_bits(), p.to_bits(), "{name}");
        }
    }
    xs.len()
}

#[test]
fn static_models_predict_the_exported_bits() {
    let mut n = 0;
    n += check_linear("huber3", &huber3::HUBER3, &huber3::FEATURES);
    n += check_linear("logit13", &logit13::LOGIT13, &logit13::FEATURES);
    n += check_linear("pois8", &pois8::POIS8, &pois8::FEATURES);
    for t in [
        huber3::TARGET,
        logit13::TARGET,
        pois8::TARGET,
        soft4x3::TARGET,
    ] {
        assert_eq!(t, "the target");
    }
    assert_eq!(huber3::HUBER3.loss_kind(), Loss::Huber { delta: 0.75 });

    let Some((_, DynModel::Classifier(dc), _)) = models().into_iter().find(|m| m.0 == "soft4x3")
    else {
        panic!("soft4x3: not a classifier")
    };
    let sc: &LinearClassifier<4, 3> = &soft4x3::SOFT4X3;
    assert_eq!(soft4x3::LABELS, ["setosa", "versicolor", "virginica"]);
    assert_eq!(soft4x3::FEATURES[3], "feature \"3\"");
    assert_eq!(
        sc.weights()
            .as_flattened()
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>(),
        dc.weights().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    for x in rows::<4>(7, 2000) {
        let mut z = [0.0f32; 3];
        dc.logits(&x, &mut z).unwrap();
        assert_eq!(
            sc.logits(&x).unwrap().map(f32::to_bits),
            z.map(f32::to_bits)
        );
        assert_eq!(sc.predict_class(&x).unwrap(), dc.predict_class(&x).unwrap());
        let mut p = [0.0f32; 3];
        dc.predict_proba(&x, &mut p).unwrap();
        assert_eq!(
            sc.predict_proba(&x).unwrap().map(f32::to_bits),
            p.map(f32::to_bits)
        );
        n += 1;
    }
    println!("export_rust: 4 static models, {n} rows bit-equal to the exported models");
}

#[test]
fn names_and_counts_are_checked() {
    let m = linear(3, Loss::Squared, 9);
    for bad in ["", "9lives", "my-model", "_x", "é", &"a".repeat(49)] {
        assert!(rust_module(&m, &Meta::default(), bad).is_err(), "{bad:?}");
        assert!(
            npoa_cli::export::c_header(&m, &Meta::default(), bad).is_err(),
            "{bad:?}"
        );
    }
    let two = Meta {
        features: vec!["a".into(), "b".into()],
        ..Meta::default()
    };
    let e = rust_module(&m, &two, "m").unwrap_err().to_string();
    assert!(
        e.contains("2 feature names") && e.contains("3 features"),
        "{e}"
    );
    let c = softmax::<2, 3>(5);
    let labels = Meta {
        labels: Some(vec!["a".into(), "b".into()]),
        ..Meta::default()
    };
    let e = npoa_cli::export::c_header(&c, &labels, "m")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("2 class labels") && e.contains("3 classes"),
        "{e}"
    );
}
