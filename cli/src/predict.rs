//! Predict with a saved model on a CSV file.
//!
//! ```sh
//! npoa predict MODEL DATA.csv [--target COLUMN] [--out FILE] [--delimiter ;] [--no-header]
//! ```
//!
//! `MODEL` is a file written by `train --save` (npoa model bytes); its model card `MODEL.json`
//! ([`crate::meta`]) is read when it is there and belongs to the model (a stale one is
//! ignored, with a warning). The CSV is read as by `train` ([`crate::table`]); if it has one
//! column more than the model has features, that column (the last, or `--target`) is the
//! target and the metrics are printed to stderr. Predictions go to stdout (or `--out`), one
//! per line, as the shortest decimal that reads back to the same `f32`: the model's output
//! for a linear model (a logit for the logistic loss, the mean count for Poisson), the class
//! for a classifier, or its original label when the card has a label map (`--remap-labels`).

use crate::Res;
use crate::meta::{Meta, read_model_bytes};
use crate::metrics as shared;
use crate::table::{self, label_text};

use npoa::DynModel;
use npoa::data::DynDataset;

/// Predict with a saved npoa model.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model file (npoa model bytes).
    model: String,
    /// The CSV file (`-`: stdin).
    data: String,
    /// Target column, by name or index, when the file has one (default: the last).
    #[arg(long)]
    target: Option<String>,
    /// Write the predictions here instead of stdout.
    #[arg(long)]
    out: Option<String>,
    #[command(flatten)]
    csv: table::CsvArgs,
}

/// Runs `npoa predict`.
///
/// # Errors
/// The model or its card cannot be read, the file does not fit the model, a bad cell.
pub fn run(args: &Args) -> Res<()> {
    let bytes = read_model_bytes(&args.model)?;
    let model = DynModel::from_bytes(&bytes).map_err(|e| format!("{}: {e}", args.model))?;
    let d = model.features();
    let classifier = matches!(model, DynModel::Classifier(_));
    let card = Meta::load_for(&args.model, &bytes)?.filter(|c| {
        let ok = c.features.len() == d
            && c.labels
                .as_ref()
                .is_none_or(|l| !classifier || l.len() == model_outputs(&model));
        if !ok {
            eprintln!(
                "warning: {}: the model card does not fit the model: ignored",
                Meta::path_for(&args.model)
            );
        }
        ok
    });
    let mut t = table::read(&args.data, &args.csv, |header| {
        let cols = header.len();
        if cols == d + 1 {
            Ok(Some(match &args.target {
                Some(t) => table::column(header, t)
                    .ok_or_else(|| format!("{}: no column {t:?}", args.data))?,
                None => cols - 1,
            }))
        } else if cols == d {
            Ok(None)
        } else {
            Err(format!(
                "{}: {cols} columns, but the model has {d} features (give {d}, or {} with a target)",
                args.data,
                d + 1
            )
            .into())
        }
    })?;
    if let Some(c) = &card {
        let names = t.feature_names();
        if !args.csv.no_header && names != c.features {
            eprintln!(
                "warning: {}: the columns ({}) are not the model's features ({}), by name or order",
                args.data,
                names.join(", "),
                c.features.join(", ")
            );
        }
    }
    let labels = card.as_ref().and_then(|c| c.labels.clone());
    let has_target = t.target.is_some();
    if has_target && let Some(l) = &labels {
        // The file's labels are the original ones: map them to the classes for the metrics.
        for (i, v) in t.y.iter_mut().enumerate() {
            let text = label_text(*v);
            let k = l.iter().position(|x| *x == text).ok_or_else(|| {
                format!(
                    "{}: row {}: label {text} is not one of the model's ({})",
                    args.data,
                    i + 1,
                    l.join(", ")
                )
            })?;
            *v = k as f32;
        }
    }
    let rows = t.rows;
    let y = if has_target {
        std::mem::take(&mut t.y)
    } else {
        // No target: zero targets (ignored; no metrics).
        vec![0.0; rows]
    };
    let data = DynDataset::new(std::mem::take(&mut t.x), y, d)
        .map_err(|e| format!("{}: {e}", args.data))?;
    let (p, metrics) = shared::predict(&model, &data)?;
    let text = shared::lines(&p, labels.as_deref(), classifier);
    match &args.out {
        Some(path) => crate::atomic::write(path, text)?,
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(format!("stdout: {e}").into());
            }
        }
    }
    if has_target {
        eprintln!("{} rows: {}", data.len(), metrics.line());
    }
    Ok(())
}

/// Outputs of a model (classes of a classifier).
fn model_outputs(m: &DynModel) -> usize {
    match m {
        DynModel::Linear(_) => 1,
        DynModel::Classifier(c) => c.classes(),
    }
}
