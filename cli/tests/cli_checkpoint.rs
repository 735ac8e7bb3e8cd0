//! `npoa train --checkpoint FILE --checkpoint-every N` and `--resume FILE`: a run killed with
//! SIGKILL (`Child::kill` on Unix) and resumed from its last checkpoint ends with the same
//! model bytes, card, predictions, plot and `--json` line (epochs, events, stop reason,
//! metrics) as the same run never interrupted — also when it is killed ten times, on
//! alternate rounds at a seeded random moment and as soon as its next checkpoint's temporary
//! file appears (inside the write, before the rename: the resume must then start from the
//! previous whole checkpoint, never a torn file). A resume with other data or other
//! options, or from a damaged file, is refused with a message that says why.
#![cfg(unix)]

mod common;
use common::{dir, npoa, ok, text};

use npoa_cli::checkpoint::Checkpoint;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A regression with `d` features and a deterministic wobble, `n` rows.
fn data(n: usize, d: usize, shift: f32) -> String {
    let mut s: String = (0..d).map(|j| format!("x{j},")).collect();
    s += "y\n";
    for i in 0..n {
        let t = i as f32;
        let mut y = 0.3 + shift;
        for j in 0..d {
            let x = (t * (0.11 + 0.07 * j as f32)).sin() * (1.0 + j as f32);
            y += x * (0.5 - 0.1 * j as f32);
            s += &format!("{x},");
        }
        s += &format!("{}\n", y + 0.05 * (t * 1.7).sin());
    }
    s
}

/// The run every test trains: a mini-batch run under the controller (Adam, cosine schedule,
/// plateau rule, a validation split), small batches so that it takes a while.
const RUN: [&str; 14] = [
    "--optimizer",
    "adam",
    "--schedule",
    "cosine",
    "--epochs",
    "60",
    "--batch",
    "2",
    "--val-fraction",
    "0.2",
    "--seed",
    "7",
    "--every",
    "1000",
];

/// The outputs compared by bytes.
const OUTPUTS: [&str; 4] = ["m.npoa", "m.npoa.json", "p.txt", "run.svg"];

fn train_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "train",
        "data.csv",
        "--quiet",
        "--json",
        "--save",
        "m.npoa",
        "--predictions",
        "p.txt",
        "--plot",
        "run.svg",
    ];
    v.extend(RUN);
    v.extend(extra);
    v
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_npoa"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// What a finished run left: its JSON line and its output files' bytes.
#[derive(Debug, PartialEq)]
struct Outcome {
    json: String,
    files: Vec<Vec<u8>>,
}

fn outcome(dir: &Path, stdout: &str) -> Outcome {
    Outcome {
        json: stdout.lines().last().unwrap_or("").to_string(),
        files: OUTPUTS
            .iter()
            .map(|f| std::fs::read(dir.join(f)).unwrap())
            .collect(),
    }
}

/// The uninterrupted run (no checkpoint at all) in its own folder.
fn reference(name: &str, csv: &str) -> Outcome {
    let d = dir("ckpt", name);
    std::fs::write(d.join("data.csv"), csv).unwrap();
    let out = ok(&npoa(&d, &train_args(&[])));
    let o = outcome(&d, &out);
    std::fs::remove_dir_all(&d).unwrap();
    o
}

/// Waits until the file at `path` holds bytes other than `old` (a new checkpoint was
/// renamed into place), or the child ended; returns the new bytes (None: ended first).
fn next_checkpoint(child: &mut Child, path: &Path, old: Option<&[u8]>) -> Option<Vec<u8>> {
    loop {
        if let Ok(b) = std::fs::read(path)
            && Some(&b[..]) != old
        {
            return Some(b);
        }
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Kills the child with SIGKILL; returns whether the kill ended it (false: it had finished).
fn kill(child: &mut Child) -> bool {
    use std::os::unix::process::ExitStatusExt as _;
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    let status = child.wait().unwrap();
    !finished && status.signal() == Some(9)
}

/// The temporary files beside the checkpoint (`.ck.XXXXXX.tmp`): one that stays after a kill
/// was being written when the kill came.
fn temporaries(dir: &Path) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            (n.starts_with(".ck.") && n.ends_with(".tmp")).then_some(n)
        })
        .collect()
}

/// Watches the folder (a busy loop over its entries) until this run creates a temporary
/// checkpoint file, and kills the run at once, most often before the rename; gives up after
/// `patience` and kills it anyway. Returns whether the kill ended the run.
fn kill_inside_a_write(child: &mut Child, dir: &Path, patience: Duration) -> bool {
    let known = temporaries(dir);
    let until = Instant::now() + patience;
    while Instant::now() < until {
        if temporaries(dir).difference(&known).next().is_some() {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
    }
    kill(child)
}

/// A checkpoint's sizes, for the test's report.
fn describe(ck: &Checkpoint) -> String {
    format!(
        "{} state bytes, {} history bytes",
        ck.state.len(),
        ck.history.len()
    )
}

#[test]
fn killed_once_then_resumed_equals_the_uninterrupted_run() {
    let csv = data(1500, 6, 0.0);
    let want = reference("once-ref", &csv);
    let d = dir("ckpt", "once");
    std::fs::write(d.join("data.csv"), &csv).unwrap();
    let ck = d.join("ck");
    let mut child = spawn(
        &d,
        &train_args(&["--checkpoint", "ck", "--checkpoint-every", "1"]),
    );
    let first = next_checkpoint(&mut child, &ck, None).expect("no first checkpoint");
    next_checkpoint(&mut child, &ck, Some(&first)).expect("no second checkpoint");
    assert!(
        kill(&mut child),
        "the run ended before the kill: make it longer"
    );
    let before = Checkpoint::read(ck.to_str().unwrap()).unwrap();
    for f in OUTPUTS {
        assert!(!d.join(f).exists(), "{f} written before the end");
    }
    // Not quiet, a line per epoch (both may differ on resume): the epochs this process trains.
    let mut args: Vec<&str> = train_args(&[
        "--resume",
        "ck",
        "--checkpoint",
        "ck",
        "--checkpoint-every",
        "1",
    ]);
    args.retain(|a| *a != "--quiet");
    let at = args.iter().position(|a| *a == "--every").unwrap();
    args[at + 1] = "1";
    let out = ok(&npoa(&d, &args));
    // It continued, not started over: its first epoch is past the checkpoint's (a resume that
    // silently ran from the start would print epoch 1 and still end on the same bytes).
    let first = out
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("epoch ")?;
            let n = rest.split_whitespace().next()?;
            rest.contains("train ").then(|| n.parse::<u32>().ok())?
        })
        .expect("no epoch line in the resumed run's output");
    assert!(first > 2, "the resumed run trained from epoch {first}");
    assert_eq!(outcome(&d, &out), want);
    eprintln!(
        "killed once after {}; resumed at epoch {first} to the same bytes",
        describe(&before)
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// A small seeded generator (SplitMix64) for the kill delays.
fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn killed_again_and_again_every_resume_starts_from_a_whole_checkpoint() {
    let csv = data(1500, 6, 0.0);
    let want = reference("again-ref", &csv);
    let d = dir("ckpt", "again");
    std::fs::write(d.join("data.csv"), &csv).unwrap();
    let ck = d.join("ck");
    let fresh = train_args(&["--checkpoint", "ck", "--checkpoint-every", "1"]);
    let resumed = train_args(&[
        "--resume",
        "ck",
        "--checkpoint",
        "ck",
        "--checkpoint-every",
        "1",
    ]);
    let mut seed = 0x5eed_u64;
    let (mut kills, mut runs, mut torn) = (0, 1, 0);
    let started = Instant::now();
    let mut child = spawn(&d, &fresh);
    let mut last: Option<Vec<u8>> = None;
    let out = loop {
        // Wait for a checkpoint of this run (so that every round makes progress), then kill
        // it: on even rounds at a random moment (within about two epochs), on odd rounds as
        // soon as it starts writing its next checkpoint.
        if next_checkpoint(&mut child, &ck, last.as_deref()).is_none() || kills == 10 {
            break child.wait_with_output().unwrap();
        }
        let before = temporaries(&d).len();
        let killed = if kills % 2 == 0 {
            std::thread::sleep(Duration::from_micros(splitmix(&mut seed) % 50_000));
            kill(&mut child)
        } else {
            kill_inside_a_write(&mut child, &d, Duration::from_secs(2))
        };
        if !killed {
            // It finished first.
            break child.wait_with_output().unwrap();
        }
        kills += 1;
        torn += temporaries(&d).len() - before;
        // Wherever the kill fell, the file is a whole checkpoint (a torn write would fail
        // the CRC here, and the resume below).
        let bytes = std::fs::read(&ck).unwrap();
        Checkpoint::from_bytes(&bytes).unwrap_or_else(|e| panic!("after kill {kills}: {e}"));
        last = Some(bytes);
        child = spawn(&d, &resumed);
        runs += 1;
    };
    let out = ok(&out);
    assert!(
        kills >= 2,
        "only {kills} kills landed before the run ended: make it longer"
    );
    assert_eq!(outcome(&d, &out), want, "after {kills} kills");
    eprintln!(
        "{runs} runs, {kills} killed by SIGKILL, {torn} of them inside a checkpoint's write (its temporary file left behind), {:.1} s; the last run's model, card, predictions, plot and JSON equal the uninterrupted run's by bytes",
        started.elapsed().as_secs_f64()
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_resume_with_other_data_options_or_a_damaged_file_is_refused() {
    let d = dir("ckpt", "refuse");
    std::fs::write(d.join("data.csv"), data(200, 3, 0.0)).unwrap();
    std::fs::write(d.join("other.csv"), data(200, 3, 1.0)).unwrap();
    let small = |extra: &[&str]| {
        let mut v = vec![
            "train",
            "data.csv",
            "--quiet",
            "--optimizer",
            "sgd",
            "--epochs",
            "5",
        ];
        v.extend(extra);
        v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        npoa(&d, &a)
    };
    ok(&run(small(&[
        "--checkpoint",
        "ck",
        "--checkpoint-every",
        "2",
    ])));
    assert!(Checkpoint::read(d.join("ck").to_str().unwrap()).is_ok());
    let refused = |args: Vec<String>, what: &str| {
        let o = run(args);
        assert!(!o.status.success(), "{what}: accepted");
        let e = text(&o.stderr);
        assert!(e.contains(what), "expected {what:?} in: {e}");
    };
    // Other options: named, with both values.
    refused(
        small(&["--resume", "ck", "--lr", "0.01"]),
        "--lr auto (now 0.01)",
    );
    refused(
        small(&["--resume", "ck", "--batch", "8"]),
        "--batch 32 (now 8)",
    );
    // Other data.
    let mut other = small(&["--resume", "ck"]);
    other[1] = "other.csv".into();
    refused(other, "other data");
    // Damaged, truncated, missing, not a checkpoint.
    let bytes = std::fs::read(d.join("ck")).unwrap();
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    std::fs::write(d.join("flipped"), flipped).unwrap();
    refused(small(&["--resume", "flipped"]), "damaged or truncated");
    std::fs::write(d.join("short"), &bytes[..bytes.len() - 1]).unwrap();
    refused(small(&["--resume", "short"]), "damaged or truncated");
    refused(small(&["--resume", "nothing-here"]), "nothing-here");
    refused(small(&["--resume", "data.csv"]), "not an npoa checkpoint");
    // The same options resume (the run had ended: the outcome is the same run's).
    ok(&run(small(&["--resume", "ck"])));
    std::fs::remove_dir_all(&d).unwrap();
}
