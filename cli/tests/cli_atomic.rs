//! Every file output of `npoa` is written whole or not at all (`npoa_cli::atomic`): a run that
//! cannot write its outputs (here: a file-size limit, as a full disk would) fails and leaves
//! the previous files byte for byte, with no temporary file beside them.

mod common;
use common::{dir, npoa, ok, text};

use std::path::Path;
use std::process::{Command, Output};

/// y = 1.5a − 0.2b + 0.1 + a deterministic wobble, 300 rows; `shift` changes the data.
fn data(shift: f32) -> String {
    let mut s = String::from("a,b,y\n");
    for i in 0..300 {
        let t = i as f32;
        let (a, b) = ((t * 0.31).sin(), (t * 0.17).cos() * 4.0);
        s += &format!(
            "{a},{b},{}\n",
            1.5 * a - 0.2 * b + 0.1 + shift + 0.01 * (t * 1.3).sin()
        );
    }
    s
}

/// Runs `npoa` with `args` in `dir` under a file-size limit of 1 KiB (`ulimit -f 1`; SIGXFSZ
/// ignored, so a write past the limit fails with EFBIG as on a full disk instead of killing).
fn npoa_limited(dir: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 1; exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_npoa"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// The names in `d`, sorted.
fn names(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_failed_write_keeps_the_old_files_and_leaves_no_temporary_file() {
    let d = dir("atomic", "limit");
    std::fs::write(d.join("a.csv"), data(0.0)).unwrap();
    std::fs::write(d.join("b.csv"), data(5.0)).unwrap();
    let outputs = [
        "m.npoa",
        "m.npoa.json",
        "p.txt",
        "run.png",
        "run.svg",
        "m.h",
        "m.rs",
        "q.txt",
    ];
    let train = |csv: &'static str, plot: &'static str| {
        vec![
            "train",
            csv,
            "--quiet",
            "--save",
            "m.npoa",
            "--predictions",
            "p.txt",
            "--plot",
            plot,
        ]
    };
    ok(&npoa(&d, &train("a.csv", "run.png")));
    ok(&npoa(&d, &train("a.csv", "run.svg")));
    ok(&npoa(
        &d,
        &["export", "m.npoa", "--c", "m.h", "--rust", "m.rs"],
    ));
    ok(&npoa(&d, &["predict", "m.npoa", "a.csv", "--out", "q.txt"]));
    let before: Vec<Vec<u8>> = outputs
        .iter()
        .map(|f| std::fs::read(d.join(f)).unwrap())
        .collect();
    // Every output but the model and its card is over 1 KiB, so each of these runs fails at
    // its first large file; what it wrote before that is whole.
    for f in ["p.txt", "run.png", "run.svg", "m.h", "q.txt"] {
        let len = std::fs::metadata(d.join(f)).unwrap().len();
        assert!(
            len > 1024,
            "{f}: {len} bytes, the test needs more than the limit"
        );
    }
    let runs: [Vec<&str>; 5] = [
        train("b.csv", "run.png"),
        vec!["train", "b.csv", "--quiet", "--plot", "run.png"],
        vec!["train", "b.csv", "--quiet", "--plot", "run.svg"],
        vec!["export", "m.npoa", "--c", "m.h"],
        vec!["predict", "m.npoa", "b.csv", "--out", "q.txt"],
    ];
    for args in &runs {
        let o = npoa_limited(&d, args);
        assert!(!o.status.success(), "{args:?} succeeded under the limit");
        let err = text(&o.stderr);
        assert!(err.contains("error: "), "{args:?}: {err}");
        // No temporary file left, nothing new.
        assert_eq!(
            names(&d),
            {
                let mut v: Vec<String> = ["a.csv", "b.csv"]
                    .iter()
                    .chain(outputs.iter())
                    .map(|s| (*s).to_string())
                    .collect();
                v.sort();
                v
            },
            "{args:?}"
        );
    }
    // The first run replaced the model and its card (small, under the limit) and then failed
    // on the predictions: those, and every other large output, are the old ones.
    for (f, old) in outputs.iter().zip(&before) {
        let now = std::fs::read(d.join(f)).unwrap();
        if matches!(*f, "m.npoa" | "m.npoa.json") {
            assert_ne!(&now, old, "{f}: the run on b.csv should have replaced it");
        } else {
            assert_eq!(&now, old, "{f} changed");
        }
    }
    // And the limit is what failed them: without it, the same runs succeed.
    for args in &runs {
        ok(&npoa(&d, args));
    }
    assert_ne!(std::fs::read(d.join("q.txt")).unwrap(), before[7]);
    std::fs::remove_dir_all(&d).unwrap();
}
