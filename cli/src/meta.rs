//! What `npoa train --save MODEL` writes beside the model bytes: `MODEL.json`, the model card
//! (feature names, target, label map, how the data was standardised). The model file itself
//! stays plain npoa model bytes, which firmware loads with `from_bytes`.
//!
//! (Skeleton: the reader and writer land with the CLI's CSV work.)

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
}
