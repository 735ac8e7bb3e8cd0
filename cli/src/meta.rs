//! The model card: what `npoa train --save MODEL` writes beside the model bytes, as
//! `MODEL.json` (`model.npoa` → `model.npoa.json`). The model file itself stays plain npoa
//! model bytes, which firmware loads with `from_bytes`; the card says what the numbers mean.
//! `predict`, `inspect` and `export` read it when it is there.
//!
//! ```json
//! {
//!   "format": "npoa-model-card",
//!   "version": 1,
//!   "npoa": "0.1.0",
//!   "model_crc32": "0x1c291ca3",
//!   "model_bytes": 36,
//!   "loss": "squared",
//!   "features": ["a", "b"],
//!   "target": "y",
//!   "labels": null,
//!   "standardized": {"features": true, "target": true},
//!   "delimiter": ","
//! }
//! ```
//!
//! | key | meaning |
//! |---|---|
//! | `format`, `version` | always `"npoa-model-card"`, `1` |
//! | `npoa` | the version of the `npoa` command that wrote it |
//! | `model_crc32` | the CRC-32 stored in the last 4 bytes of the model file it belongs to (hex) |
//! | `model_bytes` | that file's length |
//! | `loss` | the `--loss` it was trained with |
//! | `features` | the feature names, in the model's order |
//! | `target` | the target column's name |
//! | `labels` | `null`, or for `--remap-labels` the original label of class `k` at index `k` |
//! | `standardized` | whether the features and the target were standardised for training (folded back into the weights either way: the model works on raw values) |
//! | `delimiter` | the training file's delimiter |
//!
//! A card whose `model_crc32` or `model_bytes` does not match the model file is **stale** (the
//! model was replaced): the commands say so and do not use it.

use crate::Res;
use serde_json::{Value, json};

/// The model card of a saved model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    /// The feature names, in the model's order.
    pub features: Vec<String>,
    /// The target column's name.
    pub target: String,
    /// For a classifier trained with remapped labels: the original label of class `k` at `k`.
    pub labels: Option<Vec<String>>,
    /// Whether the features and the target were standardised for training (folded back into
    /// the saved weights either way: the model works on raw values).
    pub standardized: (bool, bool),
    /// The loss's name (`--loss`).
    pub loss: String,
    /// The CRC-32 stored at the end of the model bytes this card belongs to.
    pub model_crc32: u32,
    /// The length of those bytes.
    pub model_bytes: u64,
    /// The training file's delimiter.
    pub delimiter: u8,
}

/// The largest card read (a card lists one name per feature).
const MAX_CARD: u64 = 64 << 20;

/// The CRC-32 stored in the last 4 bytes of model bytes (0 if shorter).
pub fn stored_crc(bytes: &[u8]) -> u32 {
    bytes
        .len()
        .checked_sub(4)
        .and_then(|at| bytes.get(at..))
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_le_bytes)
}

impl Meta {
    /// The card's path for a model path: the model's with `.json` appended.
    pub fn path_for(model: &str) -> String {
        format!("{model}.json")
    }

    /// Whether this card belongs to these model bytes (CRC and length).
    pub fn matches(&self, model_bytes: &[u8]) -> bool {
        self.model_crc32 == stored_crc(model_bytes) && self.model_bytes == model_bytes.len() as u64
    }

    /// The card as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "format": "npoa-model-card",
            "version": 1,
            "npoa": env!("CARGO_PKG_VERSION"),
            "model_crc32": format!("{:#010x}", self.model_crc32),
            "model_bytes": self.model_bytes,
            "loss": self.loss,
            "features": self.features,
            "target": self.target,
            "labels": self.labels,
            "standardized": {"features": self.standardized.0, "target": self.standardized.1},
            "delimiter": char::from(self.delimiter).to_string(),
        })
    }

    /// Reads a card from its JSON.
    ///
    /// # Errors
    /// A key missing or of the wrong type, another format or version.
    pub fn from_json(v: &Value, source: &str) -> Res<Self> {
        let bad = |what: &str| format!("{source}: not an npoa model card ({what})");
        if v.get("format").and_then(Value::as_str) != Some("npoa-model-card") {
            return Err(bad("no \"format\": \"npoa-model-card\"").into());
        }
        if v.get("version").and_then(Value::as_u64) != Some(1) {
            return Err(bad("version is not 1").into());
        }
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("\"{k}\" is not a string")))
        };
        let strings = |x: &Value, k: &str| -> Res<Vec<String>> {
            x.as_array()
                .ok_or_else(|| bad(&format!("\"{k}\" is not a list")))?
                .iter()
                .map(|e| {
                    e.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad(&format!("\"{k}\" holds a non-string")).into())
                })
                .collect()
        };
        let crc = s("model_crc32")?;
        let crc = u32::from_str_radix(crc.trim_start_matches("0x"), 16)
            .map_err(|_| bad("model_crc32 is not hex"))?;
        let labels = match v.get("labels") {
            None | Some(Value::Null) => None,
            Some(l) => Some(strings(l, "labels")?),
        };
        let st = v
            .get("standardized")
            .ok_or_else(|| bad("no \"standardized\""))?;
        let flag = |k: &str| {
            st.get(k)
                .and_then(Value::as_bool)
                .ok_or_else(|| bad(&format!("standardized.{k} is not a boolean")))
        };
        let delimiter = s("delimiter")?;
        Ok(Self {
            features: strings(v.get("features").unwrap_or(&Value::Null), "features")?,
            target: s("target")?,
            labels,
            standardized: (flag("features")?, flag("target")?),
            loss: s("loss")?,
            model_crc32: crc,
            model_bytes: v
                .get("model_bytes")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("model_bytes is not a number"))?,
            delimiter: delimiter
                .bytes()
                .next()
                .filter(u8::is_ascii)
                .unwrap_or(b','),
        })
    }

    /// Writes the card of the model saved at `model_path` (to [`Meta::path_for`]).
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(&self, model_path: &str) -> Res<String> {
        let path = Self::path_for(model_path);
        let text = serde_json::to_string_pretty(&self.to_json())? + "\n";
        crate::atomic::write(&path, text)?;
        Ok(path)
    }

    /// Reads the card of the model at `model_path`, if there is one.
    ///
    /// # Errors
    /// A card that cannot be read or is not a card (a missing card is `Ok(None)`).
    pub fn load(model_path: &str) -> Res<Option<Self>> {
        let path = Self::path_for(model_path);
        let f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{path}: {e}").into()),
        };
        let mut text = String::new();
        use std::io::Read as _;
        f.take(MAX_CARD + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("{path}: {e}"))?;
        if text.len() as u64 > MAX_CARD {
            return Err(format!("{path}: more than {MAX_CARD} bytes: not a model card").into());
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        Self::from_json(&v, &path).map(Some)
    }

    /// [`load`](Self::load), keeping the card only if it belongs to `model_bytes` (a stale
    /// card is reported on stderr and ignored).
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_for(model_path: &str, model_bytes: &[u8]) -> Res<Option<Self>> {
        Ok(Self::load(model_path)?.and_then(|m| {
            if m.matches(model_bytes) {
                Some(m)
            } else {
                eprintln!(
                    "warning: {}: stale model card (written for a model with CRC {:#010x}, {} bytes; \
                     this one has {:#010x}, {} bytes): ignored",
                    Self::path_for(model_path),
                    m.model_crc32,
                    m.model_bytes,
                    stored_crc(model_bytes),
                    model_bytes.len()
                );
                None
            }
        }))
    }
}

/// The largest model file read.
pub const MAX_MODEL: u64 = 1 << 30;

/// Reads a model file's bytes, refusing more than [`MAX_MODEL`].
///
/// # Errors
/// The file cannot be read or is too large.
pub fn read_model_bytes(path: &str) -> Res<Vec<u8>> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut bytes = Vec::new();
    f.take(MAX_MODEL + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{path}: {e}"))?;
    if bytes.len() as u64 > MAX_MODEL {
        return Err(format!("{path}: more than {MAX_MODEL} bytes: not a model file").into());
    }
    Ok(bytes)
}
