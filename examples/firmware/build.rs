//! Picks the memory layout for the target's board and passes the runtime's linker script.
//!
//! | target                       | board (QEMU `-M`)       | layout                 |
//! |------------------------------|-------------------------|------------------------|
//! | `thumbv7em-none-eabihf`      | `mps2-an386` (M4F)      | `memory/mps2-an386.x`  |
//! | `thumbv7em-none-eabihf` + M7 | `mps2-an500` (M7, FPU64)| `memory/mps2-an500.x`  |
//! | `thumbv6m-none-eabi`         | `microbit` (M0)         | `memory/microbit.x`    |
//! | `thumbv8m.main-none-eabihf`  | `mps2-an505` (M33)      | `memory/mps2-an505.x`  |
//! | `riscv32imac-unknown-none-elf` | `virt`                | `memory/riscv-virt.x`  |
//!
//! `NPOA_BOARD` (an environment variable) overrides the choice by name. Hosted targets (the
//! reference run) need nothing.
use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=memory");
    println!("cargo:rerun-if-env-changed=NPOA_BOARD");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let target = env::var("TARGET").unwrap_or_default();
    let board = env::var("NPOA_BOARD").unwrap_or_else(|_| {
        match target.as_str() {
            t if t.starts_with("thumbv6m") => "microbit",
            t if t.starts_with("thumbv8m") => "mps2-an505",
            t if t.starts_with("riscv32") => "riscv-virt",
            _ => "mps2-an386",
        }
        .to_string()
    });
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let src = manifest.join("memory").join(format!("{board}.x"));
    let layout = fs::read(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    fs::write(out.join("memory.x"), layout).unwrap_or_else(|e| panic!("memory.x: {e}"));
    println!("cargo:rustc-link-search={}", out.display());
    if target.starts_with("riscv") {
        println!("cargo:rustc-link-arg-bins=-Tmemory.x");
    }
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}
