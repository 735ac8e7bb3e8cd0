//! The `npoa` command's library: each subcommand is a module with its `Args` (clap) and `run`;
//! `main.rs` only dispatches. Integration tests (`cli/tests/`) run the binary.
//!
//! - [`train`]: `npoa train DATA.csv [options]` (its `--json` keys are listed there);
//! - [`predict`]: `npoa predict MODEL DATA.csv`;
//! - [`inspect`]: `npoa inspect MODEL [--json]`;
//! - [`export`]: `npoa export MODEL …`;
//! - [`table`]: the CSV reader (delimiters, header, caps); [`meta`]: the model card;
//!   [`atomic`]: every file written whole or not at all (temporary file, sync, rename);
//!   [`checkpoint`]: the file of `train --checkpoint` / `--resume`.

pub mod atomic;
pub mod checkpoint;
pub mod export;
pub mod history;
pub mod inspect;
pub mod meta;
pub mod metrics;
pub mod plot;
pub mod predict;
pub mod table;
pub mod train;

/// The error type of every subcommand: a message for the user.
pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// `println!` that does not panic when stdout is closed (`npoa train … | head -1`): the
/// command's report lines are best-effort, a reader that went away stops nothing.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
