//! The crate's one error type.

use core::fmt;

/// Everything that can go wrong in npoa, as data: no allocation, `Copy`, with a message via
/// [`Display`](fmt::Display) that says what was wrong.
///
/// No public function of the crate panics on bad input; it returns one of these instead, and a
/// function that fails leaves its `&mut` model arguments exactly as they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The model has no features (`d == 0`).
    ZeroFeatures,
    /// The batch or data set has no samples (`n == 0`).
    EmptyBatch,
    /// A slice has the wrong length.
    LengthMismatch {
        /// Which argument (`"x"`, `"y"`, `"out"`, `"grad_w"`, …).
        what: &'static str,
        /// The length that was needed (saturated at `usize::MAX` if it overflows).
        expected: usize,
        /// The length that was given.
        found: usize,
    },
    /// An input holds a NaN or an infinity.
    NonFinite {
        /// Which argument (`"x"`, `"y"`, `"w"`, `"b"`).
        what: &'static str,
        /// The index of the first non-finite element.
        index: usize,
    },
    /// All inputs were finite but the result overflowed `f32` (for example a squared residual
    /// above 3.4e38). During training this is divergence, not bad input.
    Overflow {
        /// Which output overflowed (`"loss"`, `"gradient"`, `"predictions"`).
        what: &'static str,
    },
    /// A hyper-parameter is out of its valid range.
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What the valid range is.
        reason: &'static str,
    },
    /// The data are finite but not valid for the model (a class label that is not an integer
    /// in `0..K`, a logistic target outside `[0, 1]`, a negative count for the Poisson loss).
    InvalidData {
        /// Which argument (`"y"`, `"x"`).
        what: &'static str,
        /// What the valid values are.
        reason: &'static str,
    },
    /// Training at a fixed rate (no controller) diverged: a step would have made the loss, the
    /// gradient or a parameter non-finite. The model is left as it was before training; lower
    /// the learning rate, or train under a controller, whose guard rolls back and cuts the rate.
    Diverged {
        /// The epoch (from 1) in which it happened.
        epoch: u32,
    },
    /// A data set's feature count differs from the model's.
    FeatureMismatch {
        /// Features of the model.
        model: usize,
        /// Features of the data (or of the validation set, or of the encoded model).
        data: usize,
    },
    /// Model bytes that cannot be decoded or a model that cannot be encoded (bad magic, an
    /// unknown version or loss, a checksum mismatch, a parameter out of range).
    InvalidBytes {
        /// What is wrong.
        reason: &'static str,
    },
    /// A file could not be read or written (std only; the OS error is not kept, so that the
    /// error stays `Copy` and allocation-free).
    Io {
        /// What was being done (`"read"`, `"write"`).
        what: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::ZeroFeatures => f.write_str("the model has zero features (d == 0)"),
            Error::EmptyBatch => f.write_str("the batch is empty (n == 0)"),
            Error::LengthMismatch {
                what,
                expected,
                found,
            } => write!(f, "`{what}` has length {found}, expected {expected}"),
            Error::NonFinite { what, index } => {
                write!(f, "`{what}[{index}]` is NaN or infinite")
            }
            Error::Overflow { what } => write!(
                f,
                "the {what} overflowed f32 although every input was finite"
            ),
            Error::InvalidParameter { name, reason } => {
                write!(f, "invalid hyper-parameter `{name}`: {reason}")
            }
            Error::InvalidData { what, reason } => write!(f, "invalid data `{what}`: {reason}"),
            Error::Diverged { epoch } => write!(
                f,
                "training diverged in epoch {epoch} (a step would have made the model \
                 non-finite): lower the learning rate or train under a controller"
            ),
            Error::FeatureMismatch { model, data } => {
                write!(f, "the data have {data} features but the model has {model}")
            }
            Error::InvalidBytes { reason } => write!(f, "invalid model bytes: {reason}"),
            Error::Io { what } => write!(f, "could not {what} the file"),
        }
    }
}

impl core::error::Error for Error {}
