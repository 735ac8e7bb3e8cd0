//! Linker arguments for the freestanding binary (`src/main.rs`), given here rather than in
//! `RUSTFLAGS` so that they reach this crate's binary only (never a dependency's build script,
//! which is an ordinary `std` program) and survive a `RUSTFLAGS` set in the environment.
//!
//! * `-nostartfiles`: no C runtime start-up objects; the entry point is our own `_start`.
//! * `-lc`: the `memcpy`/`memset`/`memmove`/`memcmp` that `core` calls. On a hosted target
//!   `compiler_builtins` leaves them to the C library, and rustc links `no_std` binaries with
//!   `-nodefaultlibs`; an embedded toolchain gets them from newlib or picolibc the same way.
//!   Only those symbols are taken from it (dynamically), so they do not count in `.text`.
fn main() {
    // Bare-metal targets (`target_os = "none"`) link with rust-lld and need neither flag.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        println!("cargo:rerun-if-changed=build.rs");
        return;
    }
    println!("cargo:rustc-link-arg-bins=-nostartfiles");
    println!("cargo:rustc-link-arg-bins=-lc");
    println!("cargo:rerun-if-changed=build.rs");
}
