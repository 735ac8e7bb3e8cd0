//! Predict with a saved model on a CSV file.
//!
//! ```sh
//! npoa predict MODEL DATA.csv [--target COLUMN] [--out FILE]
//! ```
//!
//! `MODEL` is a file written by `train --save` (npoa model bytes). The CSV has a header; if it
//! has one column more than the model has features, that column (the last, or `--target`) is
//! the target and the metrics are printed to stderr. Predictions go to stdout (or `--out`),
//! one per line, as the shortest decimal that reads back to the same `f32`: the model's output
//! for a linear model (a logit for the logistic loss), the class for a classifier.

use crate::metrics as shared;

use npoa::DynModel;
use npoa::data::{DynDataset, Table};

/// Predict with a saved npoa model.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model file (npoa model bytes).
    model: String,
    /// The CSV file.
    data: String,
    /// Target column, by name or index, when the file has one (default: the last).
    #[arg(long)]
    target: Option<String>,
    /// Write the predictions here instead of stdout.
    #[arg(long)]
    out: Option<String>,
}

pub fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let model = DynModel::load(&args.model).map_err(|e| format!("{}: {e}", args.model))?;
    let table = Table::read(&args.data)?;
    let d = model.features();
    let cols = table.header.len();
    let data = if cols == d + 1 {
        let target = match &args.target {
            Some(t) => Some(table.column(t).ok_or_else(|| format!("no column {t:?}"))?),
            None => None,
        };
        table.dataset(target)?
    } else if cols == d {
        // No target: predict with zero targets (ignored; no metrics).
        DynDataset::new(table.values.clone(), vec![0.0; table.rows()], d)?
    } else {
        return Err(format!(
            "{}: {cols} columns, but the model has {d} features (give {d}, or {} with a target)",
            args.data,
            d + 1
        )
        .into());
    };
    let (p, metrics) = shared::predict(&model, &data)?;
    let text: String = p.iter().map(|v| format!("{v:?}\n")).collect();
    match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{path}: {e}"))?,
        None => print!("{text}"),
    }
    if cols == d + 1 {
        eprintln!("{} rows: {}", data.len(), metrics.line());
    }
    Ok(())
}
