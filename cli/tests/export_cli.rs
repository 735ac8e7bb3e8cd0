//! `npoa export MODEL --c FILE --rust FILE --name NAME`: the files written, the names taken
//! from the model card beside the model or from `--features`, and clear errors.

use npoa::loss::Loss;
use npoa::{DynLinearModel, DynModel};
use npoa_cli::export::{Args, run};
use std::path::PathBuf;

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn args(model: &str, c: Option<String>, rust: Option<String>, name: &str) -> Args {
    Args {
        model: model.into(),
        c,
        rust,
        name: name.into(),
        features: None,
    }
}

#[test]
fn writes_both_files_with_the_cards_names() {
    let d = dir("export_cli_card");
    let model = d.join("door.npoa");
    let m = DynLinearModel::new(vec![0.5, -2.0], 0.25)
        .unwrap()
        .with_loss(Loss::Logistic)
        .unwrap();
    let bytes = DynModel::Linear(m).to_bytes();
    std::fs::write(&model, &bytes).unwrap();
    let card = npoa_cli::meta::Meta {
        features: vec!["temp */ ??= C".into(), "hum\"id".into()],
        target: "open".into(),
        standardized: (true, false),
        loss: "logistic".into(),
        model_crc32: npoa_cli::meta::stored_crc(&bytes),
        model_bytes: bytes.len() as u64,
        ..npoa_cli::meta::Meta::default()
    };
    card.save(model.to_str().unwrap()).unwrap();
    let (h, r) = (d.join("door.h"), d.join("door.rs"));
    let model_s = model.to_str().unwrap();
    run(&args(
        model_s,
        Some(h.to_str().unwrap().into()),
        Some(r.to_str().unwrap().into()),
        "door",
    ))
    .unwrap();
    let h = std::fs::read_to_string(h).unwrap();
    assert!(h.contains("#ifndef DOOR_NPOA_MODEL_") && h.contains("#define DOOR_LOSS_LOGISTIC 1"));
    assert!(h.contains("door_predict_proba") && h.contains("Target: open"));
    // The comment cannot be closed by a name, nor a trigraph formed; the strings are escaped.
    assert!(h.contains("x[0] = temp * / ? ?= C"), "{h}");
    assert!(h.contains(r#"{ "temp */ \?\?= C", "hum\"id" }"#), "{h}");
    assert!(h.contains("Trained on standardised features, folded into these weights"));
    let r = std::fs::read_to_string(r).unwrap();
    assert!(r.contains(r#"pub const FEATURES: [&str; 2] = ["temp */ ??= C", "hum\"id"];"#));
    assert!(r.contains("pub static DOOR: npoa::LinearModel<2>"));

    // --features overrides the card, and must match the model.
    let mut a = args(
        model_s,
        Some(d.join("x.h").to_str().unwrap().into()),
        None,
        "x",
    );
    a.features = Some(vec!["a".into(), "b".into()]);
    run(&a).unwrap();
    assert!(
        std::fs::read_to_string(d.join("x.h"))
            .unwrap()
            .contains("{ \"a\", \"b\" }")
    );
    a.features = Some(vec!["a".into()]);
    let e = run(&a).unwrap_err().to_string();
    assert!(
        e.contains("1 feature names for a model of 2 features"),
        "{e}"
    );
}

#[test]
fn errors_name_the_problem() {
    let d = dir("export_cli_errors");
    let _ = std::fs::remove_file(d.join("ok.npoa.json")); // from an earlier run
    let out = Some(d.join("m.h").to_str().unwrap().to_string());
    let missing = d.join("missing.npoa");
    let e = run(&args(missing.to_str().unwrap(), out.clone(), None, "m"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.npoa"), "{e}");
    let junk = d.join("junk.npoa");
    std::fs::write(&junk, b"not a model").unwrap();
    assert!(run(&args(junk.to_str().unwrap(), out.clone(), None, "m")).is_err());
    let model = d.join("ok.npoa");
    let m = DynModel::Linear(DynLinearModel::new(vec![1.0], 0.0).unwrap());
    std::fs::write(&model, m.to_bytes()).unwrap();
    let e = run(&args(model.to_str().unwrap(), out, None, "my-model"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a C identifier"), "{e}");
    std::fs::write(d.join("ok.npoa.json"), "{ not json").unwrap();
    let e = run(&args(
        model.to_str().unwrap(),
        Some(d.join("m.h").to_str().unwrap().into()),
        None,
        "m",
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("ok.npoa.json") && e.contains("line 1"), "{e}");
}
