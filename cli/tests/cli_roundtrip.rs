//! train → save → predict gives identical predictions; `inspect` describes the model (and a
//! damaged or replaced one); the `--json` keys documented in `npoa_cli::train` are there.

mod common;
use common::{dir, npoa, ok, text};

fn last_json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.lines().last().unwrap()).unwrap()
}

/// y = 2a − 0.1b + 0.5c + 0.3 + a deterministic wobble, b on another scale.
fn regression() -> String {
    let mut s = String::from("a,b,c,y\n");
    for i in 0..300 {
        let t = i as f32;
        let (a, b, c) = ((t * 0.31).sin(), (t * 0.17).cos() * 10.0, (t * 0.07).sin());
        s += &format!(
            "{a},{b},{c},{}\n",
            2.0 * a - 0.1 * b + 0.5 * c + 0.3 + 0.01 * (t * 1.3).sin()
        );
    }
    s
}

const KEYS: [&str; 15] = [
    "loss",
    "epochs",
    "stop_reason",
    "converged",
    "certificate",
    "standardized",
    "strategy",
    "train",
    "validation",
    "model",
    "events",
    "events_dropped",
    "labels",
    "delimiter",
    "card",
];

#[test]
fn train_save_predict_identical_and_json_keys() {
    let d = dir("rt", "reg");
    std::fs::write(d.join("reg.csv"), regression()).unwrap();
    for (extra, name) in [
        (&[][..], "solver"),
        (
            &[
                "--optimizer",
                "adam",
                "--val-fraction",
                "0.2",
                "--epochs",
                "30",
            ][..],
            "adam",
        ),
        (&["--loss", "huber", "--delta", "0.5"][..], "huber"),
    ] {
        let model = format!("{name}.npoa");
        let pt = format!("{name}_train.txt");
        let pp = format!("{name}_pred.txt");
        let mut args = vec![
            "train",
            "reg.csv",
            "--save",
            &model,
            "--predictions",
            &pt,
            "--json",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let out = ok(&npoa(&d, &args));
        let j = last_json(&out);
        for k in KEYS {
            assert!(j.get(k).is_some(), "{name}: key {k} missing in {j}");
        }
        for k in ["mse", "mae", "r2", "accuracy", "log_loss"] {
            assert!(j["train"].get(k).is_some(), "{name}: train.{k}");
        }
        assert_eq!(j["card"], format!("{model}.json"));
        assert_eq!(j["model"]["weights"].as_array().unwrap().len(), 3);
        assert!(j["train"]["r2"].as_f64().unwrap() > 0.99, "{name}: {j}");
        let last = j["events"].as_array().unwrap().last().unwrap().clone();
        assert!(
            last["event"].as_str().unwrap().starts_with("Stopped("),
            "{name}: {j}"
        );
        assert_eq!(last["epoch"], j["epochs"], "{name}: {j}");
        ok(&npoa(&d, &["predict", &model, "reg.csv", "--out", &pp]));
        let (a, b) = (
            std::fs::read_to_string(d.join(&pt)).unwrap(),
            std::fs::read_to_string(d.join(&pp)).unwrap(),
        );
        assert_eq!(a.lines().count(), 300);
        assert_eq!(a, b, "{name}: train and predict differ");
        // Predictions on stdout, from a file without the target column.
        let x: String = regression()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
            .collect();
        std::fs::write(d.join("x.csv"), x).unwrap();
        let stdout = ok(&npoa(&d, &["predict", &model, "x.csv"]));
        assert_eq!(stdout, a, "{name}: without the target column");
    }
}

/// A run that the epoch budget ends still ends its history with its stop (the controller
/// sends no event for it), so the plot and the JSON show where and why it stopped.
#[test]
fn the_epoch_budget_is_a_stop_event() {
    let d = dir("rt", "budget");
    std::fs::write(d.join("reg.csv"), regression()).unwrap();
    let args = [
        "train",
        "reg.csv",
        "--optimizer",
        "sgd",
        "--epochs",
        "3",
        "--json",
        "--quiet",
    ];
    let j = last_json(&ok(&npoa(&d, &args)));
    assert_eq!(j["stop_reason"], "max_epochs", "{j}");
    assert_eq!(j["epochs"], 3, "{j}");
    let events = j["events"].as_array().unwrap();
    let stops: Vec<_> = events
        .iter()
        .filter(|e| e["event"].as_str().unwrap().starts_with("Stopped("))
        .collect();
    assert_eq!(stops.len(), 1, "{j}");
    assert_eq!(stops[0]["event"], "Stopped(MaxEpochs)", "{j}");
    assert_eq!(stops[0]["epoch"], 3, "{j}");
    assert_eq!(events.last(), Some(stops[0]), "{j}");
}

#[test]
fn softmax_roundtrip() {
    let d = dir("rt", "cls");
    let mut s = String::from("u,v,k\n");
    for i in 0..150 {
        let k = i % 3;
        let t = k as f32 * 2.094 + 0.2 * (i as f32).sin();
        s += &format!("{},{},{k}\n", 3.0 * t.cos(), 3.0 * t.sin());
    }
    std::fs::write(d.join("c.csv"), s).unwrap();
    let out = ok(&npoa(
        &d,
        &[
            "train",
            "c.csv",
            "--loss",
            "softmax",
            "--save",
            "m.npoa",
            "--predictions",
            "t.txt",
            "--json",
            "--quiet",
        ],
    ));
    let j = last_json(&out);
    assert_eq!(j["labels"], serde_json::Value::Null);
    assert_eq!(j["model"]["weights"].as_array().unwrap().len(), 3);
    ok(&npoa(&d, &["predict", "m.npoa", "c.csv", "--out", "p.txt"]));
    assert_eq!(
        std::fs::read_to_string(d.join("t.txt")).unwrap(),
        std::fs::read_to_string(d.join("p.txt")).unwrap()
    );
}

#[test]
fn inspect_fields_and_damage() {
    let d = dir("rt", "inspect");
    std::fs::write(d.join("reg.csv"), regression()).unwrap();
    ok(&npoa(
        &d,
        &[
            "train", "reg.csv", "--loss", "huber", "--delta", "2", "--save", "h.npoa", "--quiet",
        ],
    ));
    let out = ok(&npoa(&d, &["inspect", "h.npoa"]));
    let len = std::fs::metadata(d.join("h.npoa")).unwrap().len();
    for needle in [
        format!("file: h.npoa ({len} bytes)"),
        "format: npoa model bytes, version 2".to_string(),
        "kind: linear".to_string(),
        "loss: huber (delta = 2)".to_string(),
        "dimensions: d = 3 features, k = 1 outputs".to_string(),
        "crc32: ok".to_string(),
        "standardization: features and target".to_string(),
        "card: h.npoa.json".to_string(),
        "features: a, b, c".to_string(),
        "target: y".to_string(),
    ] {
        assert!(out.contains(&needle), "{needle:?} not in\n{out}");
    }
    let j: serde_json::Value =
        serde_json::from_str(&ok(&npoa(&d, &["inspect", "h.npoa", "--json"]))).unwrap();
    assert_eq!(j["bytes"], len);
    assert_eq!((j["d"].as_u64(), j["k"].as_u64()), (Some(3), Some(1)));
    assert_eq!(
        (j["kind"].as_str(), j["loss"].as_str()),
        (Some("linear"), Some("huber"))
    );
    assert_eq!(j["loss_param"]["name"], "delta");
    assert_eq!(j["version"], 2);
    assert_eq!(j["valid"], true);
    assert_eq!(j["crc"]["ok"], true);
    assert_eq!(j["crc"]["stored"], j["crc"]["computed"]);
    assert_eq!(j["standardized"]["features"], true);
    assert_eq!(j["card"]["stale"], false);
    // The card's CRC is the model's.
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("h.npoa.json")).unwrap()).unwrap();
    assert_eq!(card["model_crc32"], j["crc"]["stored"]);

    // One weight byte flipped: described, the CRC bad, an error; predict refuses it.
    let mut b = std::fs::read(d.join("h.npoa")).unwrap();
    b[22] ^= 0x40;
    std::fs::write(d.join("bad.npoa"), &b).unwrap();
    let o = npoa(&d, &["inspect", "bad.npoa"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).contains("crc32: bad"),
        "{}",
        text(&o.stdout)
    );
    assert!(text(&o.stdout).contains("dimensions: d = 3"));
    assert!(text(&o.stderr).contains("checksum"), "{}", text(&o.stderr));
    assert_eq!(
        npoa(&d, &["predict", "bad.npoa", "reg.csv"]).status.code(),
        Some(1)
    );

    // Another model saved over h.npoa's bytes without its card: the card is stale.
    ok(&npoa(
        &d,
        &["train", "reg.csv", "--save", "sq.npoa", "--quiet"],
    ));
    std::fs::copy(d.join("sq.npoa"), d.join("h.npoa")).unwrap();
    let out = ok(&npoa(&d, &["inspect", "h.npoa"]));
    assert!(out.contains("STALE"), "{out}");
    let o = npoa(&d, &["predict", "h.npoa", "reg.csv"]);
    assert!(o.status.success());
    assert!(
        text(&o.stderr).contains("stale model card"),
        "{}",
        text(&o.stderr)
    );

    // Not a model at all.
    std::fs::write(d.join("no.npoa"), b"hello").unwrap();
    let o = npoa(&d, &["inspect", "no.npoa"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("5 bytes"));
}
