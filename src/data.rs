//! Data of run-time size (`std`): a small in-memory CSV reader with precise errors (for tests,
//! doc examples and small files; it reads comma-separated text only: the `npoa` command reads
//! files with the `csv` crate, streaming, with delimiters, caps and options), datasets that own
//! their rows, seeded train / validation / test splits, and z-score standardisation that is
//! folded back into the trained model so that it predicts on raw features.
//!
//! ```
//! use npoa::data::{Table, Standardizer};
//! let t = Table::parse("x1,x2,y\n1,10,3\n2,20,5\n3,30,7\n", "inline.csv")?;
//! let data = t.dataset(None)?; // the target is the last column
//! assert_eq!((data.len(), data.features()), (3, 2));
//! let s = Standardizer::fit(&data);
//! let z = s.apply(&data)?;
//! assert!((z.x()[0] + 1.224_744_9).abs() < 1e-6); // (1 − 2)/σ, σ = √(2/3)
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Error;
use crate::dataset::Dataset;
use crate::scale;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};
use std::fmt;
use std::string::{String, ToString};
use std::vec::Vec;

/// A CSV problem, located: the source (file name), line and column (both from 1).
#[derive(Debug, Clone, PartialEq)]
pub struct CsvError {
    /// The file (or other source) name.
    pub source: String,
    /// Line, from 1 (0 for the file as a whole).
    pub line: usize,
    /// Column, from 1 (0 for the line as a whole).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.source, self.message),
            (l, 0) => write!(f, "{}:{l}: {}", self.source, self.message),
            (l, c) => write!(f, "{}:{l}:{c}: {}", self.source, self.message),
        }
    }
}

impl std::error::Error for CsvError {}

/// A numeric table read from CSV: a header and rows of finite numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names, from the header line.
    pub header: Vec<String>,
    /// Values, row-major (`rows × header.len()`).
    pub values: Vec<f32>,
}

/// Splits one CSV line into fields: `,`-separated, optionally `"`-quoted (with `""` for a quote
/// inside), surrounding spaces trimmed. Returns `(column start, field)` pairs.
fn fields(line: &str) -> Result<Vec<(usize, String)>, (usize, &'static str)> {
    let mut out = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    loop {
        let start = i;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        let mut field = String::new();
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err((start + 1, "unterminated quote")),
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        field.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        field.push(*c);
                        i += 1;
                    }
                }
            }
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            if i < chars.len() && chars[i] != ',' {
                return Err((i + 1, "text after a closing quote"));
            }
        } else {
            while i < chars.len() && chars[i] != ',' {
                field.push(chars[i]);
                i += 1;
            }
            field = field.trim().to_string();
        }
        out.push((start + 1, field));
        if i >= chars.len() {
            return Ok(out);
        }
        i += 1; // the comma
    }
}

impl Table {
    /// Parses comma-separated text: a header line, then rows of numbers (blank lines are
    /// skipped; `\r\n` works; a leading UTF-8 byte-order mark is dropped). `source` names the
    /// text in errors.
    ///
    /// # Errors
    /// A [`CsvError`] with line and column for: an empty input or no data rows, a row with
    /// another number of fields than the header (ragged), a cell that is not a number, a NaN
    /// or infinite cell (including numbers beyond `f32`), an unterminated quote.
    pub fn parse(text: &str, source: &str) -> Result<Self, CsvError> {
        let err = |line: usize, column: usize, message: String| CsvError {
            source: source.to_string(),
            line,
            column,
            message,
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((hl, head)) = lines.next() else {
            return Err(err(0, 0, "empty file (no header line)".to_string()));
        };
        let header: Vec<String> = fields(head)
            .map_err(|(c, m)| err(hl, c, m.to_string()))?
            .into_iter()
            .map(|(_, f)| f)
            .collect();
        let mut values = Vec::new();
        for (ln, line) in lines {
            let row = fields(line).map_err(|(c, m)| err(ln, c, m.to_string()))?;
            if row.len() != header.len() {
                return Err(err(
                    ln,
                    0,
                    std::format!(
                        "{} fields, but the header has {} (ragged row)",
                        row.len(),
                        header.len()
                    ),
                ));
            }
            for (col, (_, cell)) in row.iter().enumerate() {
                let v: f32 = cell.parse().map_err(|_| {
                    let hint = if cell.contains([';', '\t']) {
                        " (this reader takes commas only: try a comma-separated file)"
                    } else {
                        ""
                    };
                    err(ln, col + 1, std::format!("not a number: {cell:?}{hint}"))
                })?;
                if !v.is_finite() {
                    return Err(err(
                        ln,
                        col + 1,
                        std::format!("not finite: {cell:?} (NaN, infinity or beyond f32)"),
                    ));
                }
                values.push(v);
            }
        }
        if values.is_empty() {
            return Err(err(0, 0, "no data rows".to_string()));
        }
        Ok(Self { header, values })
    }

    /// Reads and parses a CSV file.
    ///
    /// # Errors
    /// As [`parse`](Self::parse), or the file cannot be read (line 0).
    pub fn read(path: impl AsRef<std::path::Path>) -> Result<Self, CsvError> {
        let p = path.as_ref();
        let name = p.display().to_string();
        let text = std::fs::read_to_string(p).map_err(|e| CsvError {
            source: name.clone(),
            line: 0,
            column: 0,
            message: std::format!("cannot read: {e}"),
        })?;
        Self::parse(&text, &name)
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.values.len() / self.header.len().max(1)
    }

    /// The index of a column given by name or by index (from 0), as typed on a command line.
    pub fn column(&self, name_or_index: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h == name_or_index)
            .or_else(|| {
                name_or_index
                    .parse()
                    .ok()
                    .filter(|i| *i < self.header.len())
            })
    }

    /// The table as a dataset: every other column is a feature; `target` is the target column
    /// (default: the last).
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`] for a table of one column, [`Error::InvalidParameter`] for a
    /// target out of range.
    pub fn dataset(&self, target: Option<usize>) -> Result<DynDataset, Error> {
        let cols = self.header.len();
        let t = target.unwrap_or(cols.saturating_sub(1));
        if t >= cols {
            return Err(Error::InvalidParameter {
                name: "target",
                reason: "no such column",
            });
        }
        if cols < 2 {
            return Err(Error::ZeroFeatures);
        }
        let mut x = Vec::with_capacity(self.rows() * (cols - 1));
        let mut y = Vec::with_capacity(self.rows());
        for row in self.values.chunks_exact(cols) {
            for (j, v) in row.iter().enumerate() {
                if j == t {
                    y.push(*v);
                } else {
                    x.push(*v);
                }
            }
        }
        let names = self
            .header
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != t)
            .map(|(_, h)| h.clone())
            .collect();
        DynDataset::new(x, y, cols - 1).map(|d| d.with_names(names))
    }
}

/// A dataset that owns its rows: `n` samples of `d` features, row-major, and `n` targets.
#[derive(Debug, Clone, PartialEq)]
pub struct DynDataset {
    x: Vec<f32>,
    y: Vec<f32>,
    d: usize,
    names: Vec<String>,
}

impl DynDataset {
    /// A dataset from its parts (checked as [`Dataset::new`]).
    ///
    /// # Errors
    /// As [`Dataset::new`].
    pub fn new(x: Vec<f32>, y: Vec<f32>, d: usize) -> Result<Self, Error> {
        Dataset::new(&x, &y, d)?;
        Ok(Self {
            x,
            y,
            d,
            names: Vec::new(),
        })
    }

    pub(crate) fn with_names(mut self, names: Vec<String>) -> Self {
        self.names = names;
        self
    }

    /// Feature names (from a CSV header; empty otherwise).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The borrowed view the training loops take.
    pub fn view(&self) -> Dataset<'_> {
        // Checked at construction, and immutable since.
        Dataset::prechecked(&self.x, &self.y, self.d)
    }

    /// Samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no samples (never, for a checked dataset).
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Features.
    pub fn features(&self) -> usize {
        self.d
    }

    /// Features, row-major.
    pub fn x(&self) -> &[f32] {
        &self.x
    }

    /// Targets.
    pub fn y(&self) -> &[f32] {
        &self.y
    }

    /// The rows at `idx`, in that order.
    fn take(&self, idx: &[usize]) -> Option<Self> {
        if idx.is_empty() {
            return None;
        }
        let mut x = Vec::with_capacity(idx.len() * self.d);
        let mut y = Vec::with_capacity(idx.len());
        for &i in idx {
            x.extend_from_slice(self.x.get(i * self.d..(i + 1) * self.d)?);
            y.push(*self.y.get(i)?);
        }
        Some(Self {
            x,
            y,
            d: self.d,
            names: self.names.clone(),
        })
    }

    /// A seeded random split: the rows are shuffled (Fisher–Yates with `Xoshiro256PlusPlus`
    /// seeded by `seed`: the same seed gives the same split everywhere), then the first
    /// `round(val_fraction·n)` rows go to validation, the next `round(test_fraction·n)` to test
    /// and the rest to training. A fraction of 0 gives `None` for that part.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if a fraction is outside `[0, 1)` or the two leave no
    /// training row.
    pub fn split(&self, val_fraction: f32, test_fraction: f32, seed: u64) -> Result<Split, Error> {
        let bad = |name| Error::InvalidParameter {
            name,
            reason: "must be in [0, 1) and leave training rows",
        };
        let n = self.len();
        let ok = |f: f32| (0.0..1.0).contains(&f);
        if !ok(val_fraction) {
            return Err(bad("val_fraction"));
        }
        if !ok(test_fraction) {
            return Err(bad("test_fraction"));
        }
        let nv = (f64::from(val_fraction) * n as f64).round() as usize;
        let nt = (f64::from(test_fraction) * n as f64).round() as usize;
        if nv + nt >= n {
            return Err(bad("val_fraction"));
        }
        let mut idx: Vec<usize> = (0..n).collect();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        for i in (1..n).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            idx.swap(i, j);
        }
        let (v, rest) = idx.split_at(nv);
        let (t, tr) = rest.split_at(nt);
        Ok(Split {
            train: self.take(tr).ok_or(Error::EmptyBatch)?,
            validation: self.take(v),
            test: self.take(t),
        })
    }
}

/// The parts of a [`DynDataset::split`].
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Training rows.
    pub train: DynDataset,
    /// Validation rows (`None` for a fraction of 0).
    pub validation: Option<DynDataset>,
    /// Test rows (`None` for a fraction of 0).
    pub test: Option<DynDataset>,
}

/// Z-score standardisation `z_j = (x_j − μ_j)/σ_j`, fitted on a training set: the owned,
/// run-time-size face of [`crate::scale`] (the same Welford moments in `f64`, the same
/// constant-column rule, the same fold). Population standard deviation; a constant feature
/// (`σ ≤ 1e-12·max(1, |μ|)`, [`crate::scale::CONSTANT_TOLERANCE`]) gets `σ = 1`. The target's
/// mean and scale are kept too, for regression models trained on standardised targets
/// ([`apply_with_target`](Self::apply_with_target), [`fold_target`](Self::fold_target)).
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    /// Per-feature means.
    pub mean: Vec<f32>,
    /// Per-feature standard deviations (1 for a constant feature).
    pub scale: Vec<f32>,
    /// The target's mean.
    pub target_mean: f32,
    /// The target's standard deviation (1 for a constant target).
    pub target_scale: f32,
}

impl Standardizer {
    /// Means and standard deviations of the features and of the target (Welford, in `f64`,
    /// each rounded to `f32` once).
    pub fn fit(data: &DynDataset) -> Self {
        let d = data.d;
        let (mut k, mut mean, mut m2) = (
            std::vec![0.0f64; d],
            std::vec![0.0f64; d],
            std::vec![0.0f64; d],
        );
        let (mut yk, mut ym, mut y2) = ([0.0f64], [0.0f64], [0.0f64]);
        let mut n = 0u64;
        for (row, y) in data.x.chunks_exact(crate::check::nz(d)).zip(&data.y) {
            n += 1;
            scale::push_moments(n, &mut k, &mut mean, &mut m2, row);
            scale::push_moments(n, &mut yk, &mut ym, &mut y2, &[*y]);
        }
        let scale_f32 = |m: f64, q: f64| scale::scale_of(m, scale::std_of(q, n)) as f32;
        let mean: Vec<f64> = k
            .iter()
            .zip(&mean)
            .map(|(k, m)| scale::mean_of(*k, *m))
            .collect();
        let ym = scale::mean_of(yk[0], ym[0]);
        Self {
            mean: mean.iter().map(|m| *m as f32).collect(),
            scale: mean
                .iter()
                .zip(&m2)
                .map(|(m, q)| scale_f32(*m, *q))
                .collect(),
            target_mean: ym as f32,
            target_scale: scale_f32(ym, y2[0]),
        }
    }

    /// `(μ_j, σ_j)` in `f64` (`(0, 1)` beyond the fitted features).
    fn stats(&self, j: usize) -> (f64, f64) {
        match (self.mean.get(j), self.scale.get(j)) {
            (Some(m), Some(s)) => (f64::from(*m), f64::from(*s)),
            _ => (0.0, 1.0),
        }
    }

    /// The standardised copy of a dataset (same targets).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for another number of features; [`Error::Overflow`] if a
    /// standardised value is not finite.
    pub fn apply(&self, data: &DynDataset) -> Result<DynDataset, Error> {
        self.standardized(data, false)
    }

    /// The standardised copy of a dataset, targets standardised too: `(y − μ_y)/σ_y`. For a
    /// regression loss whose minimiser moves with an affine change of the target (squared,
    /// absolute, quantile); fold the trained model back with [`fold_target`](Self::fold_target).
    ///
    /// # Errors
    /// As [`apply`](Self::apply).
    pub fn apply_with_target(&self, data: &DynDataset) -> Result<DynDataset, Error> {
        self.standardized(data, true)
    }

    fn standardized(&self, data: &DynDataset, target: bool) -> Result<DynDataset, Error> {
        crate::check::check_len("features", data.d, self.mean.len())?;
        let mut x = data.x.clone();
        scale::standardize_with(data.d, |j| self.stats(j), &mut x)?;
        let mut y = data.y.clone();
        if target {
            let t = (f64::from(self.target_mean), f64::from(self.target_scale));
            scale::standardize_with(1, |_| t, &mut y)?;
        }
        DynDataset::new(x, y, data.d)
            .map(|d| d.with_names(data.names.clone()))
            .map_err(|_| Error::Overflow {
                what: "standardised features",
            })
    }

    /// Folds the standardisation into a model trained on standardised features, so that it
    /// predicts on raw ones: for each output `c`, `w'_cj = w_cj/σ_j` and
    /// `b'_c = b_c − Σ_j w_cj·μ_j/σ_j` (in `f64`, rounded once). `w` holds the outputs' rows
    /// of `d` weights, `b` their biases. [`crate::scale::Scaler::fold`]'s code.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `w` is not a multiple of `d` rows or `b` not one per row;
    /// [`Error::Overflow`] if a folded value is not finite (the model is then unchanged).
    pub fn fold(&self, w: &mut [f32], b: &mut [f32]) -> Result<(), Error> {
        self.fold_inner(w, b, None)
    }

    /// [`fold`](Self::fold) for a regression model trained on standardised features and
    /// targets ([`apply_with_target`](Self::apply_with_target)): `w'_cj = σ_y·w_cj/σ_j`,
    /// `b'_c = μ_y + σ_y·(b_c − Σ_j w_cj·μ_j/σ_j)`, so that it predicts raw targets on raw
    /// features.
    ///
    /// # Errors
    /// As [`fold`](Self::fold).
    pub fn fold_target(&self, w: &mut [f32], b: &mut [f32]) -> Result<(), Error> {
        let t = (f64::from(self.target_mean), f64::from(self.target_scale));
        self.fold_inner(w, b, Some(t))
    }

    fn fold_inner(
        &self,
        w: &mut [f32],
        b: &mut [f32],
        target: Option<(f64, f64)>,
    ) -> Result<(), Error> {
        let d = self.mean.len();
        crate::check::check_len("w", w.len(), b.len().saturating_mul(d))?;
        scale::fold_with(
            d,
            |j| self.stats(j),
            target,
            scale::Direction::Fold,
            false,
            (w, b),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_dropped_and_other_delimiters_named() {
        let t = Table::parse("\u{feff}a,y\n1,2\n", "b.csv").unwrap();
        assert_eq!(t.header, ["a", "y"]);
        assert_eq!(t.column("a"), Some(0));
        for text in ["a;y\n1;2\n", "a\ty\n1\t2\n"] {
            let e = Table::parse(text, "s.csv").unwrap_err();
            assert_eq!((e.line, e.column), (2, 1));
            assert!(e.message.contains("try a comma-separated file"), "{e}");
        }
        let e = Table::parse("a,y\n1,x\n", "c.csv").unwrap_err();
        assert!(!e.message.contains("comma-separated"), "{e}");
    }
}
