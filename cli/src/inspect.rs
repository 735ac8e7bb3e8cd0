//! `npoa inspect MODEL [--json]`: what a model file holds.
//!
//! Prints the file's length, the format version, the kind (linear model or softmax
//! classifier), the loss and its parameter, the dimensions `d` (features) and `k` (outputs),
//! the CRC-32 (stored value, and `ok` or `bad` against the bytes), and, from the model card
//! `MODEL.json` when it is there ([`crate::meta`]), the standardisation, the feature and
//! target names and the label map (a card written for other bytes is reported as stale). The
//! header fields are read even from a damaged file, so that it can be described; the command
//! then ends with an error naming what is wrong.
//!
//! `--json` prints one object instead: `path`, `bytes`, `valid` (bool), `error` (`null` or
//! the message), `version`, `kind` (`linear`, `softmax`, or `null` if unknown), `loss`,
//! `loss_param` (`null` or `{"name", "value"}`), `d`, `k`, `crc` (`{"stored", "computed",
//! "ok"}`, hex strings), `standardized` (`null` without a card, else `{"features",
//! "target"}`), `card` (`null`, or `{"path", "stale", …the card's keys}`).

use crate::Res;
use crate::meta::{Meta, read_model_bytes, stored_crc};
use npoa::loss::Loss;
use npoa::model::bytes::{self, HEADER_LEN};
use serde_json::json;

/// Describe a saved model file.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The model file (npoa model bytes).
    pub model: String,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
}

/// Runs `npoa inspect`.
///
/// # Errors
/// The file cannot be read, or is not valid model bytes (after describing it).
pub fn run(args: &Args) -> Res<()> {
    let b = read_model_bytes(&args.model)?;
    let check = bytes::decode_header(&b);
    let version = b.get(4..6).map(|v| u16::from_le_bytes([v[0], v[1]]));
    let (kind, loss_code) = (b.get(6).copied(), b.get(7).copied());
    let param = u32_at(&b, 8).map(f32::from_bits);
    let (d, k) = (u32_at(&b, 12), u32_at(&b, 16));
    let loss = match (kind, loss_code) {
        (Some(1), Some(4)) => Some(("softmax".to_string(), None)),
        (Some(0), Some(c)) => Loss::from_code(c, param.unwrap_or(0.0))
            .map(|l| (l.name().to_string(), l.param_name().map(|n| (n, l.param())))),
        _ => None,
    };
    let kind_name = match kind {
        Some(0) => Some("linear"),
        Some(1) => Some("softmax"),
        _ => None,
    };
    let stored = stored_crc(&b);
    let computed = bytes::crc32(b.get(..b.len().saturating_sub(4)).unwrap_or(&[]));
    let crc_ok = b.len() >= HEADER_LEN + 4 && stored == computed;
    let card = Meta::load(&args.model);
    let card_path = Meta::path_for(&args.model);
    let hex = |v: u32| format!("{v:#010x}");
    if args.json {
        let card_json = match &card {
            Ok(Some(c)) => {
                let mut v = c.to_json();
                v["path"] = json!(card_path);
                v["stale"] = json!(!c.matches(&b));
                v
            }
            Ok(None) => serde_json::Value::Null,
            Err(e) => json!({"path": card_path, "error": e.to_string()}),
        };
        let out = json!({
            "path": args.model,
            "bytes": b.len(),
            "valid": check.is_ok(),
            "error": check.as_ref().err().map(ToString::to_string),
            "version": version,
            "kind": kind_name,
            "loss": loss.as_ref().map(|l| l.0.clone()),
            "loss_param": loss.as_ref().and_then(|l| l.1).map(|(n, v)| json!({"name": n, "value": v})),
            "d": d,
            "k": k,
            "crc": {"stored": hex(stored), "computed": hex(computed), "ok": crc_ok},
            "standardized": match &card {
                Ok(Some(c)) if c.matches(&b) => json!({"features": c.standardized.0, "target": c.standardized.1}),
                _ => serde_json::Value::Null,
            },
            "card": card_json,
        });
        crate::say!("{out}");
    } else {
        let show = |v: Option<String>| v.unwrap_or_else(|| "?".to_string());
        crate::say!("file: {} ({} bytes)", args.model, b.len());
        crate::say!(
            "format: {}, version {}",
            if b.starts_with(&bytes::MAGIC) {
                "npoa model bytes"
            } else {
                "not npoa model bytes (bad magic)"
            },
            show(version.map(|v| v.to_string()))
        );
        crate::say!("kind: {}", kind_name.unwrap_or("unknown"));
        crate::say!(
            "loss: {}",
            match &loss {
                Some((n, Some((p, v)))) => format!("{n} ({p} = {v})"),
                Some((n, None)) => n.clone(),
                None => "unknown".to_string(),
            }
        );
        crate::say!(
            "dimensions: d = {} features, k = {} outputs",
            show(d.map(|v| v.to_string())),
            show(k.map(|v| v.to_string()))
        );
        crate::say!(
            "crc32: {} (stored {}, computed {})",
            if crc_ok { "ok" } else { "bad" },
            hex(stored),
            hex(computed)
        );
        match &card {
            Ok(Some(c)) => {
                let stale = !c.matches(&b);
                crate::say!(
                    "standardization: {}",
                    if stale {
                        "unknown (stale card)"
                    } else {
                        match c.standardized {
                            (true, true) => "features and target (folded into the weights)",
                            (true, false) => "features (folded into the weights)",
                            (false, true) => "target (folded into the weights)",
                            (false, false) => "none",
                        }
                    }
                );
                crate::say!(
                    "card: {card_path}{}",
                    if stale {
                        format!(
                            " (STALE: written for CRC {}, {} bytes)",
                            hex(c.model_crc32),
                            c.model_bytes
                        )
                    } else {
                        String::new()
                    }
                );
                crate::say!("  features: {}", c.features.join(", "));
                crate::say!("  target: {}", c.target);
                crate::say!("  trained with: --loss {}", c.loss);
                if let Some(l) = &c.labels {
                    let map: Vec<String> = l
                        .iter()
                        .enumerate()
                        .map(|(k, v)| format!("{k} = {v}"))
                        .collect();
                    crate::say!("  labels: {}", map.join(", "));
                }
            }
            Ok(None) => {
                crate::say!("standardization: unknown (no model card {card_path})");
            }
            Err(e) => crate::say!("card: {e}"),
        }
    }
    check
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", args.model).into())
}
