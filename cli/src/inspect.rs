//! `npoa inspect`: what a model file holds.
//!
//! (Skeleton.)

use crate::Res;

/// Describe a saved model file.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model file (npoa model bytes).
    pub model: String,
}

/// Runs `npoa inspect`.
pub fn run(_args: &Args) -> Res<()> {
    Err("npoa inspect: not implemented yet".into())
}
