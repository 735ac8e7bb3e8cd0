//! The CSV cases of `npoa train` / `npoa predict`: `;` and tab (sniffed and given), a BOM, no
//! header, quoted fields, the class-label rule and `--remap-labels`, and errors at
//! `file:line:col`. Each test writes its files into its own temporary folder and runs the
//! built `npoa`.

mod common;
use common::{dir, npoa, ok, text};

use std::process::Output;

/// The JSON object on the last line of stdout.
fn json(o: &Output) -> serde_json::Value {
    let out = text(&o.stdout);
    let last = out.lines().last().unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {out}\n{}", text(&o.stderr)))
}

/// `n` rows of y = 2a − b + 1 with the fields joined by `sep`.
fn linear_rows(n: usize, sep: &str) -> String {
    let mut s = String::new();
    for i in 0..n {
        let a = (i as f32 * 0.37).sin();
        let b = (i as f32 * 0.11).cos() * 3.0;
        s += &format!("{a}{sep}{b}{sep}{}\n", 2.0 * a - b + 1.0);
    }
    s
}

fn fails_with(o: &Output, needle: &str) -> String {
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let e = text(&o.stderr);
    assert!(e.contains(needle), "{needle:?} not in {e:?}");
    e
}

#[test]
fn semicolon_and_tab_are_sniffed_and_named() {
    let d = dir("csv", "sniff");
    for (file, sep, name) in [("s.csv", ";", "';'"), ("t.tsv", "\t", "tab")] {
        std::fs::write(
            d.join(file),
            format!("a{sep}b{sep}y\n{}", linear_rows(60, sep)),
        )
        .unwrap();
        let o = npoa(&d, &["train", file, "--quiet", "--json"]);
        ok(&o);
        assert!(text(&o.stderr).contains(&format!("delimiter {name}")));
        let j = json(&o);
        assert_eq!(j["delimiter"], sep);
        assert!(j["train"]["r2"].as_f64().unwrap() > 0.999, "{j}");
        let w = j["model"]["weights"].as_array().unwrap();
        assert_eq!(w.len(), 2);
        assert!((w[0].as_f64().unwrap() - 2.0).abs() < 1e-3, "{j}");
    }
    // Given explicitly, the same result and no note.
    let o = npoa(
        &d,
        &["train", "t.tsv", "--delimiter", "tab", "--quiet", "--json"],
    );
    ok(&o);
    assert!(!text(&o.stderr).contains("delimiter"));
    // A `;` file read with a comma: the error says which delimiter to try.
    let o = npoa(&d, &["train", "s.csv", "--delimiter", ",", "--quiet"]);
    fails_with(&o, "--delimiter ';'");
}

#[test]
fn a_byte_order_mark_is_dropped() {
    let d = dir("csv", "bom");
    std::fs::write(
        d.join("b.csv"),
        format!("\u{feff}a,b,y\n{}", linear_rows(40, ",")),
    )
    .unwrap();
    // The first column is found by its name (a BOM kept would make it "\u{feff}a").
    let o = npoa(
        &d,
        &[
            "train", "b.csv", "--target", "a", "--save", "m.npoa", "--quiet",
        ],
    );
    ok(&o);
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("m.npoa.json")).unwrap()).unwrap();
    assert_eq!(card["target"], "a");
    assert_eq!(card["features"], serde_json::json!(["b", "y"]));
}

#[test]
fn no_header_keeps_every_row_and_takes_an_index() {
    let d = dir("csv", "nohead");
    std::fs::write(d.join("n.csv"), linear_rows(50, ",")).unwrap();
    let o = npoa(
        &d,
        &[
            "train",
            "n.csv",
            "--no-header",
            "--quiet",
            "--save",
            "m.npoa",
        ],
    );
    ok(&o);
    assert!(
        text(&o.stdout).contains("n.csv: 50 rows, 2 features"),
        "{}",
        text(&o.stdout)
    );
    let card = std::fs::read_to_string(d.join("m.npoa.json")).unwrap();
    assert!(card.contains("\"x0\"") && card.contains("\"x2\""), "{card}");
    // The target by index: column 0 (a = (y − 1 + b)/2).
    let o = npoa(
        &d,
        &[
            "train",
            "n.csv",
            "--no-header",
            "--target",
            "0",
            "--quiet",
            "--json",
        ],
    );
    ok(&o);
    let w = json(&o)["model"]["weights"].clone();
    assert!((w[0].as_f64().unwrap() - 0.5).abs() < 1e-3, "{w}");
    assert!((w[1].as_f64().unwrap() - 0.5).abs() < 1e-3, "{w}");
    // Read with a header, the first row is the header: one row less.
    let o = npoa(&d, &["train", "n.csv", "--quiet"]);
    ok(&o);
    assert!(text(&o.stdout).contains("n.csv: 49 rows"));
    // Predict on the header-less file, without the target column.
    let no_target: String = linear_rows(50, ",")
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    std::fs::write(d.join("x.csv"), no_target).unwrap();
    let o = npoa(&d, &["predict", "m.npoa", "x.csv", "--no-header"]);
    ok(&o);
    assert_eq!(text(&o.stdout).lines().count(), 50);
}

#[test]
fn quoted_fields() {
    let d = dir("csv", "quoted");
    let mut s = String::from("\"a\",\"b, the second\",\"y\"\n");
    for l in linear_rows(30, ",").lines() {
        let f: Vec<&str> = l.split(',').collect();
        s += &format!("\"{}\", {} ,\"{}\"\n", f[0], f[1], f[2]);
    }
    std::fs::write(d.join("q.csv"), s).unwrap();
    let o = npoa(
        &d,
        &["train", "q.csv", "--quiet", "--json", "--save", "m.npoa"],
    );
    ok(&o);
    assert!(json(&o)["train"]["r2"].as_f64().unwrap() > 0.999);
    let card = std::fs::read_to_string(d.join("m.npoa.json")).unwrap();
    assert!(card.contains("\"b, the second\""), "{card}");
}

/// Three separable clusters labelled 1, 2, 3 (or `labels`).
fn clusters(labels: [&str; 3]) -> (String, Vec<String>) {
    let mut s = String::from("u,v,label\n");
    let mut truth = Vec::new();
    for i in 0..90 {
        let k = i % 3;
        let t = k as f32 * 2.094;
        let (u, v) = (
            4.0 * t.cos() + 0.3 * (i as f32).sin(),
            4.0 * t.sin() + 0.3 * (i as f32 * 1.7).cos(),
        );
        s += &format!("{u},{v},{}\n", labels[k]);
        truth.push(labels[k].to_string());
    }
    (s, truth)
}

#[test]
fn labels_one_to_three_need_remap_and_come_back() {
    let d = dir("csv", "labels");
    let (s, truth) = clusters(["1", "2", "3"]);
    std::fs::write(d.join("c.csv"), s).unwrap();
    // Without --remap-labels: an error listing the labels, never a silent class 0.
    let o = npoa(&d, &["train", "c.csv", "--loss", "softmax", "--quiet"]);
    let e = fails_with(&o, "--remap-labels");
    assert!(
        e.contains("1, 2, 3") && e.contains("no row of class 0"),
        "{e}"
    );
    // With it: the map printed, saved, and predict gives the original labels back.
    let o = npoa(
        &d,
        &[
            "train",
            "c.csv",
            "--loss",
            "softmax",
            "--remap-labels",
            "--quiet",
            "--save",
            "m.npoa",
            "--predictions",
            "train.txt",
            "--json",
        ],
    );
    ok(&o);
    assert!(text(&o.stdout).contains("labels: 1 -> 0, 2 -> 1, 3 -> 2"));
    let j = json(&o);
    assert_eq!(j["labels"], serde_json::json!(["1", "2", "3"]));
    assert_eq!(j["model"]["bias"].as_array().unwrap().len(), 3);
    assert!(j["train"]["accuracy"].as_f64().unwrap() > 0.95, "{j}");
    let o = npoa(&d, &["predict", "m.npoa", "c.csv"]);
    ok(&o);
    let pred: Vec<String> = text(&o.stdout).lines().map(str::to_string).collect();
    assert_eq!(
        pred,
        std::fs::read_to_string(d.join("train.txt"))
            .unwrap()
            .lines()
            .collect::<Vec<_>>()
    );
    let right = pred.iter().zip(&truth).filter(|(p, t)| p == t).count();
    assert!(right as f64 > 0.95 * truth.len() as f64, "{pred:?}");
    // The metrics on the original labels (mapped through the card).
    assert!(text(&o.stderr).contains("accuracy"), "{}", text(&o.stderr));
    let inspect = npoa(&d, &["inspect", "m.npoa"]);
    ok(&inspect);
    assert!(text(&inspect.stdout).contains("labels: 0 = 1, 1 = 2, 2 = 3"));
}

#[test]
fn label_rule_errors() {
    let d = dir("csv", "rule");
    // A gap: labels 0 and 2.
    std::fs::write(d.join("g.csv"), "a,y\n1,0\n2,2\n3,0\n").unwrap();
    let o = npoa(&d, &["train", "g.csv", "--loss", "softmax", "--quiet"]);
    fails_with(&o, "no row of class 1");
    // Logistic with −1/1: an error; remapped it trains, with two labels.
    std::fs::write(
        d.join("l.csv"),
        "a,y\n-2,-1\n-1,-1\n1,1\n2,1\n0.5,-1\n-0.5,1\n",
    )
    .unwrap();
    let o = npoa(&d, &["train", "l.csv", "--loss", "logistic", "--quiet"]);
    fails_with(&o, "the labels 0 and 1");
    let o = npoa(
        &d,
        &[
            "train",
            "l.csv",
            "--loss",
            "logistic",
            "--remap-labels",
            "--quiet",
            "--json",
        ],
    );
    ok(&o);
    assert_eq!(json(&o)["labels"], serde_json::json!(["-1", "1"]));
    // Three labels cannot be remapped for logistic; fractional labels are not classes.
    std::fs::write(d.join("t.csv"), "a,y\n1,0\n2,1\n3,2\n").unwrap();
    let o = npoa(
        &d,
        &[
            "train",
            "t.csv",
            "--loss",
            "logistic",
            "--remap-labels",
            "--quiet",
        ],
    );
    fails_with(&o, "exactly 2");
    std::fs::write(d.join("f.csv"), "a,y\n1,0\n2,0.5\n3,1\n").unwrap();
    let o = npoa(&d, &["train", "f.csv", "--loss", "softmax", "--quiet"]);
    fails_with(&o, "0, 0.5, 1");
    // --remap-labels is for classification only.
    let o = npoa(&d, &["train", "f.csv", "--remap-labels", "--quiet"]);
    fails_with(&o, "softmax and logistic only");
}

#[test]
fn errors_name_file_line_and_column() {
    let d = dir("csv", "errors");
    let cases: [(&str, &str, &[&str], &str); 6] = [
        (
            "a.csv",
            "a,y\n1,2\n3,oops\n",
            &[],
            "a.csv:3:2: not a number: \"oops\"",
        ),
        // The BOM and a blank line do not shift the count: lines from 1 with the header.
        (
            "b.csv",
            "\u{feff}a,b,y\n1,2,3\n\n4,5,x\n",
            &[],
            "b.csv:4:3: not a number",
        ),
        (
            "c.csv",
            "1,2\n3,4\n5,z\n",
            &["--no-header"],
            "c.csv:3:2: not a number",
        ),
        (
            "d.csv",
            "a,b,y\n1,2,3\n4,5\n",
            &[],
            "d.csv:3: 2 fields, but the header has 3",
        ),
        ("e.csv", "a,y\n1,2\n3,\"4\n", &[], "e.csv:3:2: not a number"),
        ("f.csv", "a,y\n1,nan\n", &[], "f.csv:2:2: not finite"),
    ];
    for (file, body, extra, needle) in cases {
        std::fs::write(d.join(file), body).unwrap();
        let mut args = vec!["train", file, "--quiet"];
        args.extend_from_slice(extra);
        let o = npoa(&d, &args);
        fails_with(&o, needle);
    }
    // The same reader in predict.
    std::fs::write(d.join("ok.csv"), "a,y\n1,2\n2,4\n3,6.5\n").unwrap();
    ok(&npoa(
        &d,
        &["train", "ok.csv", "--quiet", "--save", "m.npoa"],
    ));
    let o = npoa(&d, &["predict", "m.npoa", "a.csv"]);
    fails_with(&o, "a.csv:3:2: not a number");
    // Bad --delimiter values.
    let o = npoa(&d, &["train", "ok.csv", "--delimiter", "ab"]);
    fails_with(&o, "not one ASCII character");
}
