//! The command's CSV reader: a streaming reader on the [`csv`] crate with bounded memory.
//!
//! - **Delimiter**: `--delimiter` (`,` `;` `tab` `|` or any one ASCII byte); without it the first
//!   line is sniffed among `,` `;` and tab (the one that occurs most often outside quotes; a
//!   comma on a tie or when none occurs), and a choice other than the comma is said on stderr.
//! - **Header**: the first line names the columns, unless `--no-header`: then the columns are
//!   named `x0`, `x1`, … and every line is data. A leading UTF-8 byte-order mark is dropped.
//! - **Fields**: RFC 4180 quoting (`"…"`, `""` for a quote inside), spaces around a field
//!   trimmed, blank lines skipped. Every cell must be a finite number (`f32`).
//! - **Errors** name `file:line:col`: the line from 1 counting the header, the column the field
//!   from 1 (`data.csv:3:2: not a number: "oops"`); a `;` or tab file read with `,` gets a hint
//!   about `--delimiter`.
//! - **Caps** ([`Limits`]), checked while streaming, so that a hostile file (random bytes, a
//!   huge line, an endless FIFO) fails early with bounded memory: at most [`Limits::max_bytes`]
//!   bytes read (default 1 GiB; a regular file larger than that is refused before reading), at
//!   most [`Limits::max_line`] bytes in one record (default 1 MiB), at most
//!   [`Limits::max_cells`] cells (rows × columns, default 2^26: 256 MiB of `f32`). Invalid UTF-8
//!   is reported at its line as soon as that line is read. Nothing is read before it is checked.
//!
//! The rows go straight into the feature matrix and the target vector (no second copy).

use crate::Res;
use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

/// The caps of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes read from the file or stream, at most.
    pub max_bytes: u64,
    /// Bytes of one record (a line, or the lines of one quoted record), at most.
    pub max_line: u64,
    /// Cells (rows × columns, the header not counted), at most.
    pub max_cells: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 1 << 30,
            max_line: 1 << 20,
            max_cells: 1 << 26,
        }
    }
}

/// The CSV options shared by `train` and `predict`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CsvArgs {
    /// The field delimiter: `,` `;` `tab` (or `\t`) `|` or any one ASCII character (default:
    /// sniffed on the first line among `,` `;` and tab).
    #[arg(long)]
    pub delimiter: Option<String>,
    /// The file has no header line: the columns are named x0, x1, … and `--target` takes an
    /// index.
    #[arg(long)]
    pub no_header: bool,
    /// Read at most this many bytes of the file or stream (default 1 GiB).
    #[arg(long, default_value_t = Limits::default().max_bytes)]
    pub max_bytes: u64,
    /// At most this many bytes in one line (record) (default 1 MiB).
    #[arg(long, default_value_t = Limits::default().max_line)]
    pub max_line_bytes: u64,
    /// At most this many cells, rows × columns (default 2^26).
    #[arg(long, default_value_t = Limits::default().max_cells)]
    pub max_cells: u64,
}

impl CsvArgs {
    /// The caps these options set.
    pub fn limits(&self) -> Limits {
        Limits {
            max_bytes: self.max_bytes,
            max_line: self.max_line_bytes,
            max_cells: self.max_cells,
        }
    }

    /// The delimiter these options name (`None`: sniff).
    ///
    /// # Errors
    /// A name that is not one ASCII character (or `tab`).
    pub fn delimiter(&self) -> Res<Option<u8>> {
        parse_delimiter(self.delimiter.as_deref())
    }
}

/// `--delimiter`'s value as a byte.
///
/// # Errors
/// Anything but one ASCII character, `tab` or `\t`; a quote or a line break.
pub fn parse_delimiter(s: Option<&str>) -> Res<Option<u8>> {
    let Some(s) = s else { return Ok(None) };
    let b = match s {
        "tab" | "\\t" | "\t" => b'\t',
        _ if s.len() == 1 && s.is_ascii() => s.as_bytes()[0],
        _ => {
            return Err(format!(
                "--delimiter: {s:?} is not one ASCII character (use `,` `;` `tab` `|` …)"
            )
            .into());
        }
    };
    if matches!(b, b'"' | b'\n' | b'\r') {
        return Err(format!("--delimiter: {s:?} cannot be a delimiter").into());
    }
    Ok(Some(b))
}

/// How a delimiter is named in messages.
pub fn delimiter_name(b: u8) -> String {
    match b {
        b'\t' => "tab".to_string(),
        b' ' => "space".to_string(),
        _ => format!("{:?}", char::from(b)),
    }
}

/// What a read returns: the feature matrix, the target and the names.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The column names (from the header, or `x0`, `x1`, … without one).
    pub header: Vec<String>,
    /// The target's column, if the caller chose one.
    pub target: Option<usize>,
    /// The features, row-major (every column but the target).
    pub x: Vec<f32>,
    /// The targets (empty without a target column).
    pub y: Vec<f32>,
    /// Data rows.
    pub rows: usize,
    /// The delimiter used.
    pub delimiter: u8,
    /// Whether the delimiter was sniffed (not given).
    pub sniffed: bool,
}

impl Table {
    /// The feature names, in order.
    pub fn feature_names(&self) -> Vec<String> {
        self.header
            .iter()
            .enumerate()
            .filter(|(j, _)| Some(*j) != self.target)
            .map(|(_, h)| h.clone())
            .collect()
    }

    /// Features per row.
    pub fn features(&self) -> usize {
        self.header.len() - usize::from(self.target.is_some())
    }
}

/// The index of a column given by name, else by index from 0.
pub fn column(header: &[String], name_or_index: &str) -> Option<usize> {
    header.iter().position(|h| h == name_or_index).or_else(|| {
        name_or_index
            .parse::<usize>()
            .ok()
            .filter(|i| *i < header.len())
    })
}

/// A reader that counts what it delivers and refuses to deliver past the caps: the total, and
/// the bytes since the start of the current record (set by the parsing loop).
struct Capped<R> {
    inner: R,
    delivered: Rc<Cell<u64>>,
    record_start: Rc<Cell<u64>>,
    lines: Rc<RefCell<LineIndex>>,
    limits: Limits,
}

/// The offsets of the line breaks not yet passed by the parser, to tell the line of a byte
/// offset (the `csv` crate does not count blank lines): bounded by the bytes in flight.
#[derive(Debug, Default)]
struct LineIndex {
    /// Line breaks before the first offset still held.
    passed: u64,
    /// Offsets of the later ones.
    breaks: std::collections::VecDeque<u64>,
}

impl LineIndex {
    /// The line (from 1) of the byte at `offset`; offsets asked must not decrease.
    fn line_at(&mut self, offset: u64) -> u64 {
        while self.breaks.front().is_some_and(|&b| b < offset) {
            self.breaks.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

/// The parser's own buffer (bytes it may read ahead of the record it parses).
const CSV_BUFFER: u64 = 64 * 1024;

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let done = self.delivered.get();
        if done >= self.limits.max_bytes {
            // One byte more than the cap tells a stream that ends exactly there from a longer one.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            return Err(std::io::Error::other(Over::Bytes));
        }
        if done.saturating_sub(self.record_start.get()) > self.limits.max_line + CSV_BUFFER {
            return Err(std::io::Error::other(Over::Line));
        }
        let room = (self.limits.max_bytes - done).min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..room])?;
        let mut lines = self.lines.borrow_mut();
        for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
            lines.breaks.push_back(done + i as u64);
        }
        self.delivered.set(done + n as u64);
        Ok(n)
    }
}

/// Which cap a read hit.
#[derive(Debug)]
enum Over {
    Bytes,
    Line,
}

impl std::fmt::Display for Over {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Over::Bytes => "byte cap",
            Over::Line => "line cap",
        })
    }
}

impl std::error::Error for Over {}

/// The delimiter among `,` `;` tab that occurs most often outside quotes in `line` (a comma on
/// a tie or when none occurs).
pub fn sniff(line: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let cands = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    cands[best]
}

/// Reads `path` (`-` for stdin). `choose_target` sees the header (or the `x0…` names) and
/// returns the target column, or `None` for a file without one.
///
/// # Errors
/// `file:line:col: problem` for every problem of the file; a cap exceeded; an I/O error.
pub fn read(
    path: &str,
    args: &CsvArgs,
    choose_target: impl FnOnce(&[String]) -> Res<Option<usize>>,
) -> Res<Table> {
    let limits = args.limits();
    let delimiter = args.delimiter()?;
    let input: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(path).map_err(|e| format!("{path}: cannot open: {e}"))?;
        if let Ok(m) = f.metadata()
            && m.is_file()
            && m.len() > limits.max_bytes
        {
            return Err(format!(
                "{path}: {} bytes, more than the cap of {} (--max-bytes)",
                m.len(),
                limits.max_bytes
            )
            .into());
        }
        Box::new(f)
    };
    read_from(
        input,
        path,
        &limits,
        delimiter,
        !args.no_header,
        choose_target,
    )
}

/// [`read`] on any reader; `source` names it in errors.
///
/// # Errors
/// As [`read`].
pub fn read_from(
    input: impl Read,
    source: &str,
    limits: &Limits,
    delimiter: Option<u8>,
    has_header: bool,
    choose_target: impl FnOnce(&[String]) -> Res<Option<usize>>,
) -> Res<Table> {
    let delivered = Rc::new(Cell::new(0u64));
    let record_start = Rc::new(Cell::new(0u64));
    let lines = Rc::new(RefCell::new(LineIndex::default()));
    let capped = Capped {
        inner: input,
        delivered: Rc::clone(&delivered),
        record_start: Rc::clone(&record_start),
        lines: Rc::clone(&lines),
        limits: *limits,
    };
    let mut buffered = BufReader::with_capacity(CSV_BUFFER as usize, capped);
    let over = |e: &std::io::Error, line: u64| -> String {
        match e.get_ref().and_then(|i| i.downcast_ref::<Over>()) {
            Some(Over::Bytes) => format!(
                "{source}: more than {} bytes (--max-bytes)",
                limits.max_bytes
            ),
            Some(Over::Line) => format!(
                "{source}:{line}: a line of more than {} bytes (--max-line-bytes)",
                limits.max_line
            ),
            None => format!("{source}: cannot read: {e}"),
        }
    };
    // The first line, bounded, for the BOM and the sniffing; then fed back to the parser.
    let mut first = Vec::new();
    (&mut buffered)
        .take(limits.max_line + 1)
        .read_until(b'\n', &mut first)
        .map_err(|e| over(&e, 1))?;
    if first.len() as u64 > limits.max_line {
        return Err(format!(
            "{source}:1: a line of more than {} bytes (--max-line-bytes)",
            limits.max_line
        )
        .into());
    }
    // Offsets in what the parser sees (the BOM dropped) are this much below the file's.
    let mut offset = 0u64;
    if first.starts_with(b"\xEF\xBB\xBF") {
        first.drain(..3);
        offset = 3;
    }
    let (delim, sniffed) = match delimiter {
        Some(d) => (d, false),
        None => (sniff(&first), true),
    };
    if sniffed && delim != b',' {
        eprintln!(
            "note: {source}: delimiter {} (sniffed on the first line; --delimiter sets it)",
            delimiter_name(delim)
        );
    }
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(CSV_BUFFER as usize)
        .from_reader(std::io::Cursor::new(first).chain(buffered));
    let hint = |cell: &[u8]| -> String {
        let other: Vec<u8> = [b',', b';', b'\t', b'|']
            .into_iter()
            .filter(|&c| c != delim && cell.contains(&c))
            .collect();
        match other.first() {
            Some(&c) => format!(
                " (it holds {}: is the file {}-separated? try --delimiter {})",
                delimiter_name(c),
                delimiter_name(c),
                if c == b'\t' {
                    "tab".to_string()
                } else {
                    format!("'{}'", char::from(c))
                }
            ),
            None => String::new(),
        }
    };
    let mut rec = csv::ByteRecord::new();
    // The line of the record just read: that of its last byte (the `csv` crate's record
    // positions point before the blank lines it skips; its end is exact).
    let mut next = |rec: &mut csv::ByteRecord, line: u64| -> Res<Option<u64>> {
        match rdr.read_byte_record(rec) {
            Ok(more) => {
                let end = offset + rdr.position().byte();
                let long = end - record_start.get() > limits.max_line;
                record_start.set(end);
                let at = more.then(|| lines.borrow_mut().line_at(end.saturating_sub(1)));
                if long && let Some(l) = at {
                    return Err(format!(
                        "{source}:{l}: a line of more than {} bytes (--max-line-bytes)",
                        limits.max_line
                    )
                    .into());
                }
                Ok(at)
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(io) => Err(over(io, line).into()),
                _ => Err(format!("{source}:{line}: {e}").into()),
            },
        }
    };
    let text = |rec: &csv::ByteRecord, j: usize, line: u64| -> Res<String> {
        std::str::from_utf8(&rec[j])
            .map(str::to_string)
            .map_err(|_| {
                format!(
                    "{source}:{line}:{}: invalid UTF-8 (not a text file?)",
                    j + 1
                )
                .into()
            })
    };
    let Some(mut line) = next(&mut rec, 1)? else {
        return Err(format!("{source}: empty file (no header line)").into());
    };
    let cols = rec.len();
    let header: Vec<String> = if has_header {
        let names = (0..cols)
            .map(|j| text(&rec, j, line))
            .collect::<Res<Vec<_>>>()?;
        if cols == 1 && delimiter.is_none() {
            // One column: say so if the name looks like a line of another delimiter.
            let h = hint(names[0].as_bytes());
            if !h.is_empty() {
                eprintln!("note: {source}:{line}: the header is one column{h}");
            }
        }
        names
    } else {
        (0..cols).map(|j| format!("x{j}")).collect()
    };
    let target = choose_target(&header)?;
    if let Some(t) = target
        && t >= cols
    {
        return Err(format!("{source}: no column {t} (the file has {cols})").into());
    }
    let d = cols - usize::from(target.is_some());
    if d == 0 {
        return Err(format!(
            "{source}: one column and it is the target: no feature{}",
            hint(header.first().map_or(&b""[..], |h| h.as_bytes()))
        )
        .into());
    }
    let mut x: Vec<f32> = Vec::new();
    let mut y: Vec<f32> = Vec::new();
    let mut rows = 0usize;
    let mut have = !has_header;
    loop {
        if have {
            have = false;
        } else {
            match next(&mut rec, line + 1)? {
                Some(l) => line = l,
                None => break,
            }
        }
        if rec.len() != cols {
            let whole: Vec<u8> = rec.iter().flatten().copied().collect();
            return Err(format!(
                "{source}:{line}: {} fields, but the {} has {cols} (ragged row){}",
                rec.len(),
                if has_header { "header" } else { "first line" },
                if rec.len() == 1 {
                    hint(&whole)
                } else {
                    String::new()
                }
            )
            .into());
        }
        let cells = (rows as u64 + 1).saturating_mul(cols as u64);
        if cells > limits.max_cells {
            return Err(format!(
                "{source}:{line}: more than {} cells (rows × columns; --max-cells)",
                limits.max_cells
            )
            .into());
        }
        x.try_reserve(d)
            .map_err(|_| format!("{source}:{line}: out of memory"))?;
        y.try_reserve(1)
            .map_err(|_| format!("{source}:{line}: out of memory"))?;
        for (j, cell) in rec.iter().enumerate() {
            let s = std::str::from_utf8(cell).map_err(|_| {
                format!(
                    "{source}:{line}:{}: invalid UTF-8 (not a text file?)",
                    j + 1
                )
            })?;
            let s = s.trim_matches([' ', '\t']);
            let v: f32 = s.parse().map_err(|_| {
                let shown: String = s
                    .chars()
                    .take(40)
                    .collect::<String>()
                    .escape_debug()
                    .to_string();
                let more = if s.chars().count() > 40 { "…" } else { "" };
                let quote = if s.contains('\n') {
                    " (a line break inside quotes: an unterminated quote?)"
                } else {
                    ""
                };
                format!(
                    "{source}:{line}:{}: not a number: \"{shown}{more}\"{quote}{}",
                    j + 1,
                    hint(cell)
                )
            })?;
            if !v.is_finite() {
                let shown: String = s.chars().take(40).collect();
                let more = if s.chars().count() > 40 { "…" } else { "" };
                return Err(format!(
                    "{source}:{line}:{}: not finite: \"{shown}{more}\" (NaN, infinity or beyond f32)",
                    j + 1
                )
                .into());
            }
            if Some(j) == target {
                y.push(v);
            } else {
                x.push(v);
            }
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(format!("{source}: no data rows").into());
    }
    Ok(Table {
        header,
        target,
        x,
        y,
        rows,
        delimiter: delim,
        sniffed,
    })
}

/// A class label as printed and saved: an integer without a fraction, else the shortest
/// decimal that reads back to the same `f32`.
pub fn label_text(v: f32) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:?}")
    }
}

/// A key that orders `f32` as `total_cmp` (and puts −0 with +0).
fn key(v: f32) -> u32 {
    let b = (v + 0.0).to_bits();
    if b >> 31 == 1 { !b } else { b | 1 << 31 }
}

/// The classes of a classification target, after the label rule:
///
/// - softmax: every label an integer in `0..K` with every class of `0..K` present (K ≥ 2,
///   at most [`npoa::kernel::MAX_CLASSES`]); logistic: the labels 0 and 1, both present;
/// - with `remap`, any labels: their sorted distinct values become `0..K` (logistic: exactly
///   two), `y` is rewritten in place and the original labels are returned (label of class `k`
///   at `k`).
///
/// Returns `(K, labels)`; never a silent empty class.
///
/// # Errors
/// Labels that break the rule, listed with a hint about `--remap-labels`.
pub fn classes(
    y: &mut [f32],
    logistic: bool,
    remap: bool,
    source: &str,
) -> Res<(usize, Option<Vec<String>>)> {
    let max = npoa::kernel::MAX_CLASSES;
    let mut seen = std::collections::BTreeMap::new();
    for &v in y.iter() {
        seen.insert(key(v), v + 0.0);
        if seen.len() > max {
            return Err(format!(
                "{source}: more than {max} distinct target labels: not a classification target?"
            )
            .into());
        }
    }
    let found: Vec<f32> = seen.values().copied().collect();
    let list = |v: &[f32]| {
        let mut s: Vec<String> = v.iter().take(20).map(|&l| label_text(l)).collect();
        if v.len() > 20 {
            s.push(format!("… ({} in all)", v.len()));
        }
        s.join(", ")
    };
    let what = if logistic { "logistic" } else { "softmax" };
    if remap {
        if found.len() < 2 || (logistic && found.len() != 2) {
            return Err(format!(
                "{source}: --loss {what} needs {} distinct labels; found {}: {}",
                if logistic { "exactly 2" } else { "at least 2" },
                found.len(),
                list(&found)
            )
            .into());
        }
        let keys: Vec<u32> = seen.keys().copied().collect();
        for v in y.iter_mut() {
            // Every value was inserted above.
            let k = keys.binary_search(&key(*v)).unwrap_or(0);
            *v = k as f32;
        }
        return Ok((
            found.len(),
            Some(found.iter().map(|&l| label_text(l)).collect()),
        ));
    }
    let hint = "; --remap-labels maps the sorted distinct labels to 0..K−1 (and predict gives \
                the original labels back)";
    let integral = found
        .iter()
        .all(|&v| v.fract() == 0.0 && (0.0..max as f32).contains(&v));
    let k = found.last().map_or(0.0, |&v| v + 1.0);
    let ok =
        integral && found.len() as f32 == k && found.len() >= 2 && (!logistic || found.len() == 2);
    if !ok {
        let rule = if logistic {
            "the labels 0 and 1, both present".to_string()
        } else {
            format!("integers 0..K−1 (K ≤ {max}) with every class present")
        };
        let missing = if integral && !logistic {
            let have: Vec<usize> = found.iter().map(|&v| v as usize).collect();
            let gaps: Vec<String> = (0..k as usize)
                .filter(|c| have.binary_search(c).is_err())
                .take(20)
                .map(|c| c.to_string())
                .collect();
            if gaps.is_empty() {
                String::new()
            } else {
                format!(" (no row of class {})", gaps.join(", "))
            }
        } else {
            String::new()
        };
        return Err(format!(
            "{source}: --loss {what} needs {rule}; the labels found are {}{missing}{hint}",
            list(&found)
        )
        .into());
    }
    Ok((found.len(), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, delim: Option<u8>, header: bool) -> Res<Table> {
        read_from(
            text.as_bytes(),
            "t.csv",
            &Limits::default(),
            delim,
            header,
            |h| Ok(Some(h.len() - 1)),
        )
    }

    #[test]
    fn sniffs_and_reads() {
        let t = parse("a;b;y\n1;2;3\n4;5;6\n", None, true).unwrap();
        assert_eq!((t.delimiter, t.rows, t.features()), (b';', 2, 2));
        assert_eq!(t.x, [1.0, 2.0, 4.0, 5.0]);
        assert_eq!(t.y, [3.0, 6.0]);
        assert_eq!(sniff(b"\"a,b\";c;d"), b';');
        assert_eq!(sniff(b"abc"), b',');
    }

    #[test]
    fn errors_are_located() {
        let e = parse("a,y\n1,2\n3,oops\n", None, true).unwrap_err();
        assert_eq!(e.to_string(), "t.csv:3:2: not a number: \"oops\"");
        let e = parse("a,y\n1,2\n3\n", None, true).unwrap_err();
        assert!(e.to_string().starts_with("t.csv:3: 1 fields"), "{e}");
    }

    #[test]
    fn line_cap_holds_inside_quotes() {
        let long = format!("a,y\n\"{}\",1\n", "1".repeat(300_000));
        let limits = Limits {
            max_line: 1000,
            ..Limits::default()
        };
        let e = read_from(long.as_bytes(), "t", &limits, None, true, |_| Ok(Some(1)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--max-line-bytes"), "{e}");
    }
}
