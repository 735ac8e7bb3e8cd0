//! `npoa export`: a saved model as a self-contained C header or a Rust module.
//!
//! (Skeleton.)

use crate::Res;

/// Write a saved model as a C header or a Rust module.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model file (npoa model bytes).
    pub model: String,
}

/// Runs `npoa export`.
pub fn run(_args: &Args) -> Res<()> {
    Err("npoa export: not implemented yet".into())
}
