//! The `npoa` command's library: each subcommand is a module with its `Args` (clap) and `run`;
//! `main.rs` only dispatches. Integration tests (`cli/tests/`) call these modules directly.

pub mod export;
pub mod inspect;
pub mod meta;
pub mod metrics;
pub mod plot;
pub mod predict;
pub mod train;

/// The error type of every subcommand: a message for the user.
pub type Res<T> = Result<T, Box<dyn std::error::Error>>;
