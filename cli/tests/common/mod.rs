//! Helpers shared by the integration tests that run the built `npoa` binary: a fresh
//! temporary folder per test, a run of `npoa` in it, and lossy UTF-8 text of its output.
//! Each test file uses some of them, so the unused ones are allowed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An empty folder `npoa-cli-{suite}-{name}-{pid}` under the system temporary directory
/// (removed first if an earlier run left it).
pub fn dir(suite: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("npoa-cli-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the built `npoa` with `args` in `dir` and returns what it did.
pub fn npoa(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_npoa"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Bytes as text (invalid UTF-8 replaced).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts that the run succeeded (showing its output if not) and returns its stdout.
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "status {:?}\nstdout {}\nstderr {}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}
