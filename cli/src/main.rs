//! The `npoa` command: train, predict, export and inspect npoa models from CSV files.

use clap::{Parser, Subcommand};
use npoa_cli::{export, inspect, predict, train};
use std::process::ExitCode;

/// Train, predict, export and inspect npoa models.
#[derive(Parser, Debug)]
#[command(name = "npoa", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model on a CSV file.
    Train(Box<train::Args>),
    /// Predict with a saved model on a CSV file.
    Predict(predict::Args),
    /// Write a saved model as a C header or a Rust module.
    Export(export::Args),
    /// Describe a saved model file.
    Inspect(inspect::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Train(a) => train::run(a),
        Command::Predict(a) => predict::run(a),
        Command::Export(a) => export::run(a),
        Command::Inspect(a) => inspect::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
