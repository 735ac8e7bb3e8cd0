//! Hostile inputs, generated at run time (nothing committed): random bytes, a 20 MB file of
//! two lines, `/dev/urandom`, endless FIFOs, targets beyond 2^64, NaN and infinity, empty and
//! header-only files, ragged rows, `--epochs 4294967295` under a time limit. Each must end
//! with exit code 1 and a message (never a panic, code 101) or succeed, with a small peak
//! RSS (`VmHWM` of the child, sampled from `/proc` while it runs).

use std::io::Write as _;
mod common;
use common::dir;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run did: exit code, stdout, stderr, peak RSS in KiB (0 if it ended before the
/// first sample), wall time.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    peak_kib: u64,
    took: Duration,
}

fn vm_hwm(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `npoa` in `dir`, sampling its peak RSS every millisecond; kills it after 60 s.
fn run(dir: &Path, args: &[&str]) -> Run {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_npoa"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Drain the pipes on threads so that a chatty child cannot block.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let mut peak = 0;
    let status = loop {
        if let Some(h) = vm_hwm(pid) {
            peak = peak.max(h);
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    Run {
        code: status.code(),
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
        peak_kib: peak,
        took: start.elapsed(),
    }
}

/// Peak RSS allowed for the failing reads, in KiB: the binary and the parser's buffers (the
/// old reader took 1.3 GB on the 20 MB file).
const SMALL_KIB: u64 = 64 * 1024;

fn fails_cleanly(r: &Run, needle: &str) {
    assert_eq!(r.code, Some(1), "exit code (101 is a panic): {}", r.stderr);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(
        r.stderr.contains(needle),
        "{needle:?} not in {:?}",
        r.stderr
    );
    assert!(
        r.peak_kib < SMALL_KIB,
        "peak RSS {} KiB: {}",
        r.peak_kib,
        r.stderr
    );
    eprintln!("{needle:?}: peak {} KiB in {:?}", r.peak_kib, r.took);
}

/// Deterministic pseudo-random bytes (xorshift64).
fn noise(n: usize, mut s: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(n);
    while v.len() < n {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v.extend_from_slice(&s.to_le_bytes());
    }
    v.truncate(n);
    v
}

#[test]
fn random_bytes() {
    let d = dir("hostile", "random");
    std::fs::write(d.join("r.csv"), noise(4 << 20, 0x9e37_79b9_7f4a_7c15)).unwrap();
    let r = run(&d, &["train", "r.csv", "--quiet"]);
    // Its first line is invalid UTF-8, or not numbers, or ragged: an error at line 1 or 2.
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("r.csv:1") || r.stderr.contains("r.csv:2"),
        "{}",
        r.stderr
    );
    assert!(r.peak_kib < SMALL_KIB, "{}", r.peak_kib);
    // A printable header then random bytes: invalid UTF-8 at line 2.
    let mut f = b"a,y\n".to_vec();
    f.extend(
        noise(1 << 20, 7)
            .into_iter()
            .map(|b| if b == b'\n' { 0xff } else { b | 0x80 }),
    );
    std::fs::write(d.join("r2.csv"), f).unwrap();
    fails_cleanly(&run(&d, &["train", "r2.csv", "--quiet"]), "r2.csv:2:");
}

#[test]
fn dev_urandom_fails_fast() {
    if !Path::new("/dev/urandom").exists() {
        return;
    }
    let r = run(&std::env::temp_dir(), &["train", "/dev/urandom", "--quiet"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.peak_kib < SMALL_KIB, "{}", r.peak_kib);
    assert!(r.took < Duration::from_secs(30));
}

#[test]
fn twenty_megabytes_in_two_lines() {
    let d = dir("hostile", "wide");
    let cell = "1.5,";
    let line = cell.repeat(10_000_000 / cell.len());
    let body = format!("{line}y\n{line}2\n");
    assert!(body.len() > 20_000_000);
    std::fs::write(d.join("w.csv"), body).unwrap();
    fails_cleanly(
        &run(&d, &["train", "w.csv", "--quiet"]),
        "w.csv:1: a line of more than 1048576 bytes",
    );
    // A smaller cap on a smaller file: the second line.
    std::fs::write(
        d.join("w2.csv"),
        format!("a,y\n1,2\n{},2\n", "1".repeat(5000)),
    )
    .unwrap();
    fails_cleanly(
        &run(
            &d,
            &["train", "w2.csv", "--quiet", "--max-line-bytes", "1000"],
        ),
        "--max-line-bytes",
    );
    // The byte cap on a regular file is checked before reading.
    fails_cleanly(
        &run(&d, &["train", "w.csv", "--quiet", "--max-bytes", "1000000"]),
        "--max-bytes",
    );
}

/// A FIFO fed endlessly with `chunk` by a thread (until the reader goes away).
fn endless_fifo(d: &Path, name: &str, chunk: &'static [u8]) -> Option<PathBuf> {
    let p = d.join(name);
    let made = Command::new("mkfifo").arg(&p).status().ok()?;
    if !made.success() {
        return None;
    }
    let q = p.clone();
    std::thread::spawn(move || {
        let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&q) else {
            return;
        };
        let big: Vec<u8> = chunk
            .iter()
            .copied()
            .cycle()
            .take(chunk.len() * 4096)
            .collect();
        while f.write_all(&big).is_ok() {}
    });
    Some(p)
}

#[test]
fn endless_fifos() {
    let d = dir("hostile", "fifo");
    // Valid rows for ever: the cell cap.
    let Some(rows) = endless_fifo(&d, "rows", b"1,2\n") else {
        eprintln!("no mkfifo: skipped");
        return;
    };
    let rows = rows.to_str().unwrap().to_string();
    fails_cleanly(
        &run(&d, &["train", &rows, "--quiet", "--max-cells", "200000"]),
        "--max-cells",
    );
    // The byte cap, on a stream (no length to check first).
    let rows = endless_fifo(&d, "rows2", b"1,2\n").unwrap();
    fails_cleanly(
        &run(
            &d,
            &[
                "train",
                rows.to_str().unwrap(),
                "--quiet",
                "--max-bytes",
                "300000",
            ],
        ),
        "more than 300000 bytes",
    );
    // One endless line: the line cap (default).
    let line = endless_fifo(&d, "line", b"1,").unwrap();
    fails_cleanly(
        &run(&d, &["train", line.to_str().unwrap(), "--quiet"]),
        "--max-line-bytes",
    );
}

#[test]
fn targets_beyond_u64_and_non_finite_cells() {
    let d = dir("hostile", "big");
    std::fs::write(d.join("t.csv"), "a,y\n1,1e20\n2,0\n3,3e19\n").unwrap();
    for loss in ["softmax", "logistic"] {
        let r = run(&d, &["train", "t.csv", "--loss", loss, "--quiet"]);
        fails_cleanly(&r, "0, 3e19, 1e20");
        assert!(r.stderr.contains("--remap-labels"));
    }
    // As a regression target it is a number like any other: no panic either way.
    let r = run(&d, &["train", "t.csv", "--quiet"]);
    assert!(matches!(r.code, Some(0 | 1)), "{}", r.stderr);
    // Remapped, three classes.
    let r = run(
        &d,
        &[
            "train",
            "t.csv",
            "--loss",
            "softmax",
            "--remap-labels",
            "--quiet",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("labels: 0 -> 0, 3e19 -> 1, 1e20 -> 2"),
        "{}",
        r.stdout
    );
    for (cell, line) in [
        ("nan", "2:1"),
        ("inf", "2:1"),
        ("-inf", "2:1"),
        ("1e39", "2:1"),
    ] {
        std::fs::write(d.join("n.csv"), format!("a,y\n{cell},1\n")).unwrap();
        fails_cleanly(
            &run(&d, &["train", "n.csv", "--quiet"]),
            &format!("n.csv:{line}: not finite"),
        );
    }
}

#[test]
fn empty_header_only_ragged() {
    let d = dir("hostile", "empty");
    let cases = [
        ("e.csv", "", "e.csv: empty file"),
        ("h.csv", "a,b,y\n", "h.csv: no data rows"),
        ("hb.csv", "a,b,y\n\n\n", "hb.csv: no data rows"),
        (
            "r.csv",
            "a,b,y\n1,2,3\n1,2,3,4\n",
            "r.csv:3: 4 fields, but the header has 3",
        ),
        ("one.csv", "y\n1\n2\n", "one column and it is the target"),
    ];
    for (f, body, needle) in cases {
        std::fs::write(d.join(f), body).unwrap();
        fails_cleanly(&run(&d, &["train", f, "--quiet"]), needle);
    }
    fails_cleanly(
        &run(&d, &["train", "missing.csv", "--quiet"]),
        "missing.csv: cannot open",
    );
}

#[test]
fn endless_epochs_stop_on_the_time_limit_with_bounded_memory() {
    let d = dir("hostile", "epochs");
    let mut s = String::from("a,b,y\n");
    for i in 0..64 {
        let t = i as f32;
        // Noise that no line fits: the run cannot converge on it.
        s += &format!("{},{},{}\n", t.sin(), t.cos(), (t * 7.7).sin() * 3.0);
    }
    std::fs::write(d.join("e.csv"), s).unwrap();
    let r = run(
        &d,
        &[
            "train",
            "e.csv",
            "--optimizer",
            "sgd",
            "--epochs",
            "4294967295",
            "--time-limit",
            "3",
            "--tol",
            "0",
            "--quiet",
            "--json",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let j: serde_json::Value = serde_json::from_str(r.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(j["stop_reason"], "observer", "{j}");
    let epochs = j["epochs"].as_u64().unwrap();
    assert!(epochs > 1000, "{epochs} epochs in 3 s");
    assert!(j["events"].as_array().unwrap().len() <= npoa_cli::train::EVENTS_CAP);
    assert!(
        r.peak_kib < SMALL_KIB,
        "peak {} KiB after {epochs} epochs",
        r.peak_kib
    );
    eprintln!("{epochs} epochs: peak {} KiB", r.peak_kib);
}
