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
//!
//! **Two paths, one result.** After a first line that is one plain record, a fast path takes
//! every line without a quote or an inner carriage return whose cells are all numbers: it finds
//! the line breaks with `memchr`, parses each cell where it starts (Clinger's exact fast path
//! for decimals of up to 2^24 in their digits and |exponent| ≤ 10, `str::parse` for the rest)
//! and checks that it ends at the delimiter. The first line it does not take whole, and
//! everything after it, goes through the `csv` crate, which parses and reports it by the rules
//! above: the table, or the error message and its line, are those of the `csv` path alone
//! (the test `fast_path_equals_the_csv_path`, on 8,000 generated files with every awkward cell,
//! line end and cap). On 20 MB of `%.7g` numbers (60,000 rows of 33), `npoa train --epochs 1`
//! runs 496 M instructions instead of 1,294 M through the `csv` crate alone (callgrind).
//!
//! **Two threads.** On a machine with two, the fast path parses the second half of each
//! buffer's complete lines (1 MiB buffers) on a second thread while it takes the first half
//! itself. The second thread's rows are kept only when this thread took its whole half, the
//! line before the middle was not blank (the line cap counts the same) and the cell cap holds
//! for both halves together; otherwise this thread parses the second half again by itself, to
//! the same rows or the same error at the same line. The test `fast_path_equals_the_csv_path`
//! runs every file through one and two threads (split points from one byte on).

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
    /// The cap already hit: every later read fails the same way.
    failed: Option<Over>,
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
        if let Some(o) = self.failed {
            return Err(std::io::Error::other(o));
        }
        let done = self.delivered.get();
        if done >= self.limits.max_bytes {
            // One byte more than the cap tells a stream that ends exactly there from a longer one.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.failed = Some(Over::Bytes);
            return Err(std::io::Error::other(Over::Bytes));
        }
        if done.saturating_sub(self.record_start.get()) > self.limits.max_line + CSV_BUFFER {
            self.failed = Some(Over::Line);
            return Err(std::io::Error::other(Over::Line));
        }
        let room = (self.limits.max_bytes - done).min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..room])?;
        let mut lines = self.lines.borrow_mut();
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            lines.breaks.push_back(done + i as u64);
        }
        self.delivered.set(done + n as u64);
        Ok(n)
    }
}

/// Which cap a read hit.
#[derive(Debug, Clone, Copy)]
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
    read_with(
        input,
        source,
        limits,
        (delimiter, has_header),
        choose_target,
        (true, two_threads().then_some(SPLIT_BYTES)),
    )
}

/// Whether the machine runs two threads at once (the fast path then parses on two).
fn two_threads() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// What one read needs to know to parse and to report: the source's name, the caps, the
/// shape, and the shared counters of the [`Capped`] reader.
struct Ctx<'a> {
    source: &'a str,
    limits: &'a Limits,
    delim: u8,
    has_header: bool,
    cols: usize,
    target: Option<usize>,
    record_start: &'a Cell<u64>,
    lines: &'a RefCell<LineIndex>,
    /// The fast path shares a buffer's complete lines with a second thread once they are this
    /// many bytes (`None`: one thread).
    split: Option<usize>,
}

/// Where the fast path is in the file: the next line's first byte, its number, and the end of
/// the last record taken as the `csv` crate puts it (where the line cap counts from): after
/// its line break, or after the `\r` of a `\r\n` (the crate ends the record at the `\r` and
/// skips the `\n` with the next one).
#[derive(Clone, Copy)]
struct At {
    start: u64,
    line: u64,
    from: u64,
}

/// How a run of the fast path's lines ended: every line taken, up to this index of the buffer
/// (the start of an unfinished line, or the end), or at a line it does not take (its start).
enum Ended {
    Taken(usize),
    Left(usize),
}

/// What a second thread made of the second half of a buffer's complete lines, all taken: the
/// rows, and how far the position went (relative to the half's start).
struct Half {
    rows: Rows,
    at: At,
}

/// The size of the complete lines in a buffer from which the fast path parses them on two
/// threads (when the machine has two): a thread costs tens of microseconds, these bytes about
/// 150.
const SPLIT_BYTES: usize = 64 * 1024;

/// Where the rows go.
#[derive(Default)]
struct Rows {
    x: Vec<f32>,
    y: Vec<f32>,
    n: usize,
}

/// `" (it holds ';': is the file ';'-separated? …)"` when a cell read with `delim` holds
/// another common delimiter, else empty.
fn hint(delim: u8, cell: &[u8]) -> String {
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
}

impl Ctx<'_> {
    /// The message of a line over the cap, at `line`.
    fn long_line(&self, line: u64) -> String {
        format!(
            "{}:{line}: a line of more than {} bytes (--max-line-bytes)",
            self.source, self.limits.max_line
        )
    }

    /// The message of an I/O error at `line` (a cap hit, or the reader's own error).
    fn over(&self, e: &std::io::Error, line: u64) -> String {
        let (source, limits) = (self.source, self.limits);
        match e.get_ref().and_then(|i| i.downcast_ref::<Over>()) {
            Some(Over::Bytes) => format!(
                "{source}: more than {} bytes (--max-bytes)",
                limits.max_bytes
            ),
            Some(Over::Line) => self.long_line(line),
            None => format!("{source}: cannot read: {e}"),
        }
    }

    /// The next record of `rdr` (whose byte 0 is the file's byte `offset`) into `rec`, and the
    /// line of its last byte; `None` at the end. `line` is for an I/O error's message.
    fn next<R: Read>(
        &self,
        rdr: &mut csv::Reader<R>,
        offset: u64,
        rec: &mut csv::ByteRecord,
        line: u64,
    ) -> Res<Option<u64>> {
        // The line of the record just read: that of its last byte (the `csv` crate's record
        // positions point before the blank lines it skips; its end is exact).
        match rdr.read_byte_record(rec) {
            Ok(more) => {
                let end = offset + rdr.position().byte();
                let long = end - self.record_start.get() > self.limits.max_line;
                self.record_start.set(end);
                let at = more.then(|| self.lines.borrow_mut().line_at(end.saturating_sub(1)));
                if long && let Some(l) = at {
                    return Err(self.long_line(l).into());
                }
                Ok(at)
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(io) => Err(self.over(io, line).into()),
                _ => Err(format!("{}:{line}: {e}", self.source).into()),
            },
        }
    }

    /// The checks before a row's cells are stored: the cell cap, then room for the row.
    fn admit(&self, rows: &mut Rows, line: u64) -> Res<()> {
        let cells = (rows.n as u64 + 1).saturating_mul(self.cols as u64);
        if cells > self.limits.max_cells {
            return Err(format!(
                "{}:{line}: more than {} cells (rows × columns; --max-cells)",
                self.source, self.limits.max_cells
            )
            .into());
        }
        let d = self.cols - usize::from(self.target.is_some());
        rows.x
            .try_reserve(d)
            .map_err(|_| format!("{}:{line}: out of memory", self.source))?;
        rows.y
            .try_reserve(1)
            .map_err(|_| format!("{}:{line}: out of memory", self.source))?;
        Ok(())
    }

    /// The rows of `rdr` through the `csv` crate (every rule of the module docs), from the
    /// record in `rec` if `pending`, else from the next; `line` is that of the last record
    /// read.
    fn csv_rows<R: Read>(
        &self,
        rdr: &mut csv::Reader<R>,
        offset: u64,
        (mut line, mut pending): (u64, bool),
        rec: &mut csv::ByteRecord,
        rows: &mut Rows,
    ) -> Res<()> {
        let (source, cols, delim) = (self.source, self.cols, self.delim);
        loop {
            if pending {
                pending = false;
            } else {
                match self.next(rdr, offset, rec, line + 1)? {
                    Some(l) => line = l,
                    None => return Ok(()),
                }
            }
            if rec.len() != cols {
                let whole: Vec<u8> = rec.iter().flatten().copied().collect();
                return Err(format!(
                    "{source}:{line}: {} fields, but the {} has {cols} (ragged row){}",
                    rec.len(),
                    if self.has_header {
                        "header"
                    } else {
                        "first line"
                    },
                    if rec.len() == 1 {
                        hint(delim, &whole)
                    } else {
                        String::new()
                    }
                )
                .into());
            }
            self.admit(rows, line)?;
            for (j, cell) in rec.iter().enumerate() {
                let v = cell_value(source, delim, cell, line, j)?;
                if Some(j) == self.target {
                    rows.y.push(v);
                } else {
                    rows.x.push(v);
                }
            }
            rows.n += 1;
        }
    }

    /// The fast path: lines without quotes and without a carriage return inside, every cell a
    /// number, parsed straight from the bytes. It reads `input` (whose byte 0 is the file's
    /// byte `start`, at the start of line `line`) to its end and returns `None`, or stops at
    /// the first line it does not take whole (a quote, a lone `\r`, a ragged row, a cell that
    /// is not a finite number) and returns that line's bytes and what follows them in the
    /// buffer, for [`Ctx::csv_rows`] to parse and report by the rules of the module docs.
    /// The rows it took are the same values as the `csv` path's (the test
    /// `fast_path_equals_the_csv_path`).
    fn fast_rows(
        &self,
        mut input: impl Read,
        (start, line): (u64, u64),
        rows: &mut Rows,
    ) -> Res<Option<Rest>> {
        const CHUNK: usize = 1 << 20;
        let max_line = self.limits.max_line;
        let mut chunk = 1 << 12;
        let mut buf: Vec<u8> = Vec::new();
        let mut eof = false;
        // `from`: the end of the last record taken (blank lines count, as they do for the
        // `csv` path).
        let mut at = At {
            start,
            line,
            from: self.record_start.get(),
        };
        loop {
            // Refill: keep the unfinished line, read up to a chunk more (4 KiB at first,
            // doubling to 1 MiB, so a small file costs little).
            let have = buf.len();
            buf.resize(have + chunk, 0);
            chunk = (chunk * 2).min(CHUNK);
            let n = loop {
                match input.read(&mut buf[have..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        // The `csv` path takes the unfinished line (it may end at a lone
                        // `\r`, a record end for it) and meets the error again (the caps'
                        // errors are sticky): its message and line are then the same.
                        buf.truncate(have);
                        return Ok(Some(Rest::split(&mut buf, 0, at)));
                    }
                }
            };
            buf.truncate(have + n);
            eof |= n == 0;
            let mut pos = 0;
            if let Some(end) = self.split_end(&buf) {
                match self.two_halves(&buf, end, &mut at, rows)? {
                    Ended::Taken(p) => pos = p,
                    Ended::Left(p) => return Ok(Some(Rest::split(&mut buf, p, at))),
                }
            }
            match self.lines(&buf, pos, eof, &mut at, rows)? {
                Ended::Taken(p) => pos = p,
                Ended::Left(p) => return Ok(Some(Rest::split(&mut buf, p, at))),
            }
            if pos == buf.len() && eof {
                return Ok(None);
            }
            if at.start + (buf.len() - pos) as u64 - at.from > max_line {
                if memchr::memchr2(b'"', b'\r', &buf[pos..]).is_some() {
                    return Ok(Some(Rest::split(&mut buf, pos, at)));
                }
                return Err(self.long_line(at.line).into());
            }
            buf.drain(..pos);
            // The reader's own caps count from the current record; the line index drops the
            // breaks already passed (it stays bounded by the bytes in flight).
            self.record_start.set(at.from);
            self.lines.borrow_mut().line_at(at.start);
        }
    }

    /// The end of `buf`'s complete lines (after its last line break) if they are enough to
    /// share with a second thread.
    fn split_end(&self, buf: &[u8]) -> Option<usize> {
        let split = self.split?;
        let end = memchr::memrchr(b'\n', buf)? + 1;
        (end >= split.max(2)).then_some(end)
    }

    /// The fast path's lines of `buf[..end]` (`end` after a line break) on two threads: this
    /// one takes the lines up to the first break after the middle while a second one parses
    /// the rest into rows of its own. The second half's rows count only if this one took every
    /// line of its half and the joined table is what one thread would have made: the half's
    /// first line counted for the line cap from its own start (the line before it not
    /// blank), and the cell cap not passed by the two together. Otherwise (or without a
    /// thread) this thread goes on from the middle by itself, to the same rows or the same
    /// error at the same line: the second thread's rows are a guess that is only ever kept
    /// when it is exactly what this thread would have made.
    fn two_halves(&self, buf: &[u8], end: usize, at: &mut At, rows: &mut Rows) -> Res<Ended> {
        let half = end / 2;
        let mid = memchr::memchr(b'\n', &buf[half..end]).map_or(end, |i| half + i + 1);
        if mid >= end {
            return Ok(Ended::Taken(0));
        }
        let (source, limits, delim, has_header, cols, target) = (
            self.source,
            self.limits,
            self.delim,
            self.has_header,
            self.cols,
            self.target,
        );
        let second = &buf[mid..end];
        // The gap between the start of the half's first line and the end of the record before
        // it, as one thread would have it if that line was not blank: the `\n` of a `\r\n`.
        let gap = u64::from(buf[..mid].ends_with(b"\r\n"));
        let (first, guess) = std::thread::scope(|s| {
            let worker = std::thread::Builder::new().spawn_scoped(s, move || {
                let (record_start, lines) = (Cell::new(0), RefCell::new(LineIndex::default()));
                let ctx = Ctx {
                    source,
                    limits,
                    delim,
                    has_header,
                    cols,
                    target,
                    record_start: &record_start,
                    lines: &lines,
                    split: None,
                };
                let mut rows = Rows::default();
                let mut at = At {
                    start: 1,
                    line: 0,
                    from: 1 - gap,
                };
                match ctx.lines(second, 0, false, &mut at, &mut rows) {
                    Ok(Ended::Taken(p)) if p == second.len() => Some(Half { rows, at }),
                    _ => None,
                }
            });
            let first = self.lines(&buf[..mid], 0, false, at, rows);
            (first, worker.ok().and_then(|w| w.join().ok()).flatten())
        });
        match first? {
            Ended::Taken(p) if p == mid => {}
            other => return Ok(other),
        }
        let Some(Half {
            rows: part,
            at: moved,
        }) = guess
        else {
            return Ok(Ended::Taken(mid));
        };
        let cells = (rows.n as u64 + part.n as u64).saturating_mul(self.cols as u64);
        if at.start - at.from != gap
            || cells > self.limits.max_cells
            || rows.x.try_reserve(part.x.len()).is_err()
            || rows.y.try_reserve(part.y.len()).is_err()
        {
            return Ok(Ended::Taken(mid));
        }
        #[cfg(test)]
        tests::KEPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        rows.x.extend_from_slice(&part.x);
        rows.y.extend_from_slice(&part.y);
        rows.n += part.n;
        // The half's offsets count from 1 at `mid` (a half of blank lines leaves `from` where
        // it was: `base + 1 - gap`).
        let base = at.start - 1;
        *at = At {
            start: base + moved.start,
            line: at.line + moved.line,
            from: base + moved.from,
        };
        Ok(Ended::Taken(end))
    }

    /// The fast path over the lines of `buf[pos..]`, `at` the position of `buf[pos]`: each
    /// line taken whole, or the first one it does not take (see [`Ctx::fast_rows`]). A last
    /// line without a line break is taken only at `eof`.
    fn lines(
        &self,
        buf: &[u8],
        mut pos: usize,
        eof: bool,
        at: &mut At,
        rows: &mut Rows,
    ) -> Res<Ended> {
        let max_line = self.limits.max_line;
        while pos < buf.len() {
            let (end, next) = match memchr::memchr(b'\n', &buf[pos..]) {
                Some(i) => (pos + i, pos + i + 1),
                None if eof => (buf.len(), buf.len()),
                None => break,
            };
            let raw = &buf[pos..end];
            let text = raw.strip_suffix(b"\r").unwrap_or(raw);
            let plain = memchr::memchr2(b'"', b'\r', text).is_none();
            // Where the `csv` crate ends this record (see [`At`]): the cap measures from the
            // last record's end to this one's, on both paths.
            let crlf = next > end && text.len() < raw.len();
            let csv_end = at.start + (if crlf { end } else { next } - pos) as u64;
            if plain && csv_end - at.from > max_line {
                return Err(self.long_line(at.line).into());
            }
            let taken = text.is_empty() || (plain && self.fast_row(text, rows, at.line)?);
            if !taken {
                return Ok(Ended::Left(pos));
            }
            at.start += (next - pos) as u64;
            at.line += 1;
            pos = next;
            if !text.is_empty() {
                at.from = csv_end;
            }
        }
        Ok(Ended::Taken(pos))
    }

    /// One line of the fast path: `Ok(true)` if it was taken whole (its row stored), `Ok(false)`
    /// if it is left to the `csv` path (nothing stored).
    fn fast_row(&self, text: &[u8], rows: &mut Rows, line: u64) -> Res<bool> {
        let delim = self.delim;
        // The `csv` path's order: the shape, the cell cap, then the cells.
        if memchr::memchr_iter(delim, text).count() + 1 != self.cols {
            return Ok(false);
        }
        self.admit(rows, line)?;
        let (x0, y0) = (rows.x.len(), rows.y.len());
        // Each cell is parsed where it starts and must end at the delimiter (or the line's
        // end), so splitting and parsing are one pass; a delimiter that can be part of a
        // number, or a cell the fast parse does not take, goes by the delimiter's position.
        let fused = !matches!(delim, b'0'..=b'9' | b'+' | b'-' | b'.' | b'e' | b'E');
        let blank = |b: u8| (b == b' ' || b == b'\t') && b != delim;
        let n = text.len();
        let mut i = 0;
        for j in 0..self.cols {
            let last = j + 1 == self.cols;
            let mut got = None;
            if fused {
                let mut k = i;
                while k < n && blank(text[k]) {
                    k += 1;
                }
                if let Some((v, mut e)) = decimal_prefix(text, k) {
                    while e < n && blank(text[e]) {
                        e += 1;
                    }
                    if (last && e == n) || (!last && text.get(e) == Some(&delim)) {
                        got = Some((v, e + 1));
                    }
                }
            }
            let (v, next) = match got {
                Some(g) => g,
                None => {
                    let end = if last {
                        n
                    } else {
                        memchr::memchr(delim, &text[i..]).map_or(n, |e| i + e)
                    };
                    match number(&text[i..end]) {
                        Some(v) => (v, end + 1),
                        None => {
                            rows.x.truncate(x0);
                            rows.y.truncate(y0);
                            return Ok(false);
                        }
                    }
                }
            };
            if Some(j) == self.target {
                rows.y.push(v);
            } else {
                rows.x.push(v);
            }
            i = next;
        }
        rows.n += 1;
        Ok(true)
    }
}

/// What the fast path left: the bytes from the start of the line it did not take (the rest of
/// its buffer; the input goes on after them), that line's first byte in the file, the end of
/// the last record taken (where the line cap counts from), the line's number.
struct Rest {
    bytes: Vec<u8>,
    start: u64,
    from: u64,
    line: u64,
}

impl Rest {
    /// The rest from `buf[pos..]` (split off `buf`), `at` the position of `buf[pos]`.
    fn split(buf: &mut Vec<u8>, pos: usize, at: At) -> Self {
        Self {
            bytes: buf.split_off(pos),
            start: at.start,
            from: at.from,
            line: at.line,
        }
    }
}

/// One cell as a finite `f32`, or the located error of the module docs.
fn cell_value(source: &str, delim: u8, cell: &[u8], line: u64, j: usize) -> Res<f32> {
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
            hint(delim, cell)
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
    Ok(v)
}

/// A cell (spaces and tabs around it trimmed) as a finite `f32`, the value `str::parse` gives;
/// `None` for anything else (left to the located errors of [`cell_value`]).
///
/// Decimals whose digits make an integer `m < 2^24` and whose value is `m·10^e` with
/// `|e| ≤ 10` take Clinger's fast path: `m` and `10^|e|` are exact in `f32`, so one IEEE
/// multiplication or division rounds the exact decimal value once, correctly — the bits of
/// `str::parse`, which rounds correctly too. Every other cell goes to `str::parse`.
fn number(cell: &[u8]) -> Option<f32> {
    let s = trim(cell);
    fast_decimal(s).or_else(|| {
        let v: f32 = std::str::from_utf8(s).ok()?.parse().ok()?;
        v.is_finite().then_some(v)
    })
}

/// `cell` without the spaces and tabs around it (those `cell_value` trims).
fn trim(cell: &[u8]) -> &[u8] {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let from = cell.iter().position(|b| !blank(b)).unwrap_or(cell.len());
    let to = cell.iter().rposition(|b| !blank(b)).map_or(from, |i| i + 1);
    &cell[from..to]
}

/// Powers of ten up to `10^8`, as integers.
const POW10_INT: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// Exact powers of ten in `f32`.
const POW10: [f32; 11] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/// Clinger's fast path of [`number`]: `[+-]digits[.digits][(e|E)[+-]digits]` with at least one
/// mantissa digit, `None` if the text is anything else or outside the exact range.
fn fast_decimal(s: &[u8]) -> Option<f32> {
    decimal_prefix(s, 0).and_then(|(v, end)| (end == s.len()).then_some(v))
}

/// [`fast_decimal`] of the number that starts at `s[i]`: its value and the index after it.
fn decimal_prefix(s: &[u8], i: usize) -> Option<(f32, usize)> {
    /// Appends the digits from `s[i]` to `m`: the index after them and their count, `None`
    /// once `m` reaches `2^24` (it never decreases, so it could not end below).
    fn digits(s: &[u8], mut i: usize, m: &mut u32) -> Option<(usize, i32)> {
        let from = i;
        // Eight bytes at a time where there are eight (SWAR, as fast_float's
        // `parse_eight_digits_unrolled`): the digits before the first other byte, combined
        // in three multiplications.
        while let Some(chunk) = s.get(i..i + 8) {
            let v = u64::from_le_bytes(chunk.try_into().ok()?);
            // A byte's high bit is set where it is not an ASCII digit (carries and borrows
            // only run upwards, so the lowest flagged byte is the first non-digit).
            let other = (v.wrapping_add(0x4646_4646_4646_4646)
                | v.wrapping_sub(0x3030_3030_3030_3030))
                & 0x8080_8080_8080_8080;
            let k = (other.trailing_zeros() / 8) as usize;
            if k == 0 {
                return Some((i, (i - from) as i32));
            }
            // The k digits to the top bytes (zeros below them are leading zeros).
            let d = v.wrapping_sub(0x3030_3030_3030_3030) << (8 * (8 - k));
            // Pairs, then quadruples, then all eight: each step combines neighbouring lanes,
            // the lower address the more significant.
            let d = d.wrapping_mul(10).wrapping_add(d >> 8) & 0x00FF_00FF_00FF_00FF;
            let d = (d.wrapping_mul(1 + (100 << 16)) >> 16) & 0x0000_FFFF_0000_FFFF;
            let d = d.wrapping_mul(1 + (10_000 << 32)) >> 32;
            let next = u64::from(*m) * POW10_INT[k] + d;
            if next >= 1 << 24 {
                return None;
            }
            *m = next as u32;
            i += k;
            if k < 8 {
                return Some((i, (i - from) as i32));
            }
        }
        while let Some(&c) = s.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            *m = *m * 10 + u32::from(d);
            if *m >= 1 << 24 {
                return None;
            }
            i += 1;
        }
        Some((i, (i - from) as i32))
    }
    let (neg, i) = match s.get(i)? {
        b'-' => (true, i + 1),
        b'+' => (false, i + 1),
        _ => (false, i),
    };
    let mut m = 0u32;
    let (mut i, whole) = digits(s, i, &mut m)?;
    let mut scale = 0i32;
    let mut any = whole > 0;
    if s.get(i) == Some(&b'.') {
        let (j, frac) = digits(s, i + 1, &mut m)?;
        i = j;
        scale = -frac;
        any |= frac > 0;
    }
    if !any {
        return None;
    }
    if let Some(b'e' | b'E') = s.get(i) {
        i += 1;
        let eneg = match s.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let from = i;
        let mut e: i32 = 0;
        while let Some(&c) = s.get(i) {
            if !c.is_ascii_digit() || i - from >= 4 {
                break;
            }
            e = e * 10 + i32::from(c - b'0');
            i += 1;
        }
        if i == from {
            return None;
        }
        scale += if eneg { -e } else { e };
    }
    let v = m as f32;
    let v = match scale {
        0 => v,
        1..=10 => v * POW10[scale as usize],
        -10..=-1 => v / POW10[(-scale) as usize],
        _ if m == 0 => 0.0,
        _ => return None,
    };
    Some((if neg { -v } else { v }, i))
}

/// [`read_from`], with the fast path on or off (off: every row through the `csv` crate), and
/// the size of a buffer's complete lines from which it parses them on two threads (`None`:
/// one thread).
fn read_with(
    input: impl Read,
    source: &str,
    limits: &Limits,
    (delimiter, has_header): (Option<u8>, bool),
    choose_target: impl FnOnce(&[String]) -> Res<Option<usize>>,
    (fast, split): (bool, Option<usize>),
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
        failed: None,
    };
    let mut buffered = BufReader::with_capacity(CSV_BUFFER as usize, capped);
    let mut ctx = Ctx {
        source,
        limits,
        delim: b',',
        has_header,
        cols: 0,
        target: None,
        record_start: &record_start,
        lines: &lines,
        split,
    };
    // The first line, bounded, for the BOM and the sniffing; then fed back to the parser.
    let mut first = Vec::new();
    (&mut buffered)
        .take(limits.max_line + 1)
        .read_until(b'\n', &mut first)
        .map_err(|e| ctx.over(&e, 1))?;
    if first.len() as u64 > limits.max_line {
        return Err(ctx.long_line(1).into());
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
    ctx.delim = delim;
    if sniffed && delim != b',' {
        eprintln!(
            "note: {source}: delimiter {} (sniffed on the first line; --delimiter sets it)",
            delimiter_name(delim)
        );
    }
    // The fast path takes over after a first line that is one plain record (no quote, no
    // carriage return but its line end, not blank); anything else is the `csv` crate's
    // throughout.
    let plain = {
        let t = first.strip_suffix(b"\n").unwrap_or(&first);
        let t = t.strip_suffix(b"\r").unwrap_or(t);
        fast && !t.is_empty() && memchr::memchr2(b'"', b'\r', t).is_none()
    };
    let first_len = first.len() as u64;
    let head: Box<dyn Read + '_> = if plain {
        Box::new(std::io::Cursor::new(first.clone()))
    } else {
        Box::new(std::io::Cursor::new(first.clone()).chain(&mut buffered))
    };
    let builder = || {
        let mut b = csv::ReaderBuilder::new();
        b.delimiter(delim)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(CSV_BUFFER as usize);
        b
    };
    let mut rdr = builder().from_reader(head);
    let mut rec = csv::ByteRecord::new();
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
    let Some(line) = ctx.next(&mut rdr, offset, &mut rec, 1)? else {
        return Err(format!("{source}: empty file (no header line)").into());
    };
    let cols = rec.len();
    let header: Vec<String> = if has_header {
        let names = (0..cols)
            .map(|j| text(&rec, j, line))
            .collect::<Res<Vec<_>>>()?;
        if cols == 1 && delimiter.is_none() {
            // One column: say so if the name looks like a line of another delimiter.
            let h = hint(delim, names[0].as_bytes());
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
            hint(delim, header.first().map_or(&b""[..], |h| h.as_bytes()))
        )
        .into());
    }
    ctx.cols = cols;
    ctx.target = target;
    let mut rows = Rows::default();
    if plain {
        drop(rdr);
        // The data from the second line (the first too without a header), in file offsets.
        let (from, skip) = if has_header {
            (offset + first_len, first.len())
        } else {
            (offset, 0)
        };
        // The header's record ends at the `\r` of a `\r\n` (see `At`).
        let crlf = has_header && first.ends_with(b"\r\n");
        ctx.record_start.set(from - u64::from(crlf));
        let input = std::io::Cursor::new(&first[skip..]).chain(&mut buffered);
        let first_line = if has_header { 2 } else { 1 };
        if let Some(rest) = ctx.fast_rows(input, (from, first_line), &mut rows)? {
            ctx.record_start.set(rest.from);
            // The `csv` crate drops a byte-order mark at the start of what it reads: past the
            // file's start, a blank line before the rest keeps one in the cell, as the `csv`
            // path reading on would.
            let mut bytes = rest.bytes;
            let mut at = rest.start;
            if at > offset {
                bytes.insert(0, b'\n');
                at -= 1;
            }
            let mut rdr = builder().from_reader(std::io::Cursor::new(bytes).chain(&mut buffered));
            ctx.csv_rows(&mut rdr, at, (rest.line - 1, false), &mut rec, &mut rows)?;
        }
    } else {
        ctx.csv_rows(&mut rdr, offset, (line, !has_header), &mut rec, &mut rows)?;
    }
    if rows.n == 0 {
        return Err(format!("{source}: no data rows").into());
    }
    Ok(Table {
        header,
        target,
        x: rows.x,
        y: rows.y,
        rows: rows.n,
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

    /// How often a second thread's rows were kept (`Ctx::two_halves`).
    pub(super) static KEPT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

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

    /// A small deterministic generator (xorshift64*), for the equivalence tests.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A cell: mostly numbers in the formats files hold, sometimes one of every awkward kind.
    fn cell(g: &mut Gen) -> Vec<u8> {
        let v = f32::from_bits(g.next() as u32);
        let small = (g.below(2_000_001) as f32 - 1_000_000.0) / 1000.0;
        let s = match g.below(24) {
            0..=5 => format!("{small}"),
            6 => format!("{:.7}", small / 1e3),
            7 => format!("{:e}", small),
            8 => format!("{v}"),
            9 => format!("{v:e}"),
            10 => format!("{}", g.below(1 << 26)),
            11 => format!("{:.12}", small),
            12 => format!("{}E+{}", g.below(100), g.below(12)),
            13 => format!("-{}.{}e-{}", g.below(10), g.below(100_000), g.below(14)),
            14 => format!(" {small}\t"),
            15 => ["-0", "+.5", "5.", "0.000", "-0.0e0", "007", "1e39", "1e-50"]
                [g.below(8) as usize]
                .to_string(),
            16 => [
                "", ".", "e5", "1e", "--1", "1.2.3", "nan", "inf", "0x10", "1_0",
            ][g.below(10) as usize]
                .to_string(),
            17 => ["\"3\"", "\"a,b\"", "\"1\n2\"", "é", "1\r2", "\u{feff}1"][g.below(6) as usize]
                .to_string(),
            18 => "9".repeat(g.below(30) as usize + 1),
            19 => format!("0.{}", "3".repeat(g.below(30) as usize + 1)),
            _ => format!("{}", g.below(1000)),
        };
        let mut b = s.into_bytes();
        if g.below(200) == 0 {
            b.push(0xFF);
        }
        b
    }

    /// A file: a header or not, rows of mostly the header's width, blank lines, `\r\n`.
    fn file(g: &mut Gen, delim: u8) -> Vec<u8> {
        let cols = g.below(4) as usize + 1;
        let mut out = Vec::new();
        if g.below(10) == 0 {
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        // LF, CRLF, or either at random on each line (files edited on two systems).
        let endings = g.below(4);
        let end = |out: &mut Vec<u8>, g: &mut Gen| {
            if endings == 1 || (endings == 2 && g.below(2) == 0) {
                out.push(b'\r');
            }
            out.push(b'\n');
        };
        if g.below(2) == 0 {
            let names: Vec<String> = (0..cols).map(|j| format!("c{j}")).collect();
            out.extend_from_slice(names.join(&char::from(delim).to_string()).as_bytes());
            end(&mut out, g);
        }
        let clean = g.below(3) == 0;
        for _ in 0..g.below(40) {
            if g.below(15) == 0 {
                end(&mut out, g);
                continue;
            }
            let n = if g.below(30) == 0 {
                g.below(6) as usize
            } else {
                cols
            };
            for j in 0..n {
                if j > 0 {
                    out.push(delim);
                }
                let c = if clean {
                    format!("{}", (g.below(2_000_001) as f32 - 1e6) / 1e3).into_bytes()
                } else {
                    cell(g)
                };
                out.extend_from_slice(&c);
            }
            end(&mut out, g);
        }
        if g.below(4) == 0 {
            out.pop();
        }
        out
    }

    fn outcome(t: Res<Table>) -> Result<(Table, Vec<u32>, Vec<u32>), String> {
        t.map(|t| {
            let xb = t.x.iter().map(|v| v.to_bits()).collect();
            let yb = t.y.iter().map(|v| v.to_bits()).collect();
            (t, xb, yb)
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn fast_path_equals_the_csv_path() {
        let mut g = Gen(0x9E37_79B9_7F4A_7C15);
        let (mut ok, mut err, mut fallbacks) = (0, 0, 0);
        for i in 0..8_000 {
            let delim = [b',', b';', b'\t'][g.below(3) as usize];
            let data = file(&mut g, delim);
            let header = g.below(2) == 0;
            let given = (g.below(2) == 0).then_some(delim);
            let limits = match i % 7 {
                0 => Limits {
                    max_line: g.below(40) + 1,
                    ..Limits::default()
                },
                1 => Limits {
                    max_cells: g.below(60) + 1,
                    ..Limits::default()
                },
                2 => Limits {
                    max_bytes: g.below(400) + 1,
                    ..Limits::default()
                },
                _ => Limits::default(),
            };
            let run = |path| {
                outcome(read_with(
                    &data[..],
                    "t.csv",
                    &limits,
                    (given, header),
                    |h| Ok(Some(h.len() - 1)),
                    path,
                ))
            };
            let b = run((false, None));
            // The fast path on one thread, and on two from a few bytes of complete lines on
            // (every split point, guess kept or thrown away, is met on these small files).
            for split in [None, Some(1 + g.below(48) as usize)] {
                assert_eq!(
                    run((true, split)),
                    b,
                    "file {:?}, header {header}, split {split:?}",
                    String::from_utf8_lossy(&data)
                );
            }
            let a = b;
            match a {
                Ok(_) => ok += 1,
                Err(_) => err += 1,
            }
            fallbacks += usize::from(data.contains(&b'"'));
        }
        // Both outcomes are exercised, and so is the hand-over to the csv path, and the second
        // thread's rows are kept often (and thrown away often: the files with errors).
        let kept = KEPT.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            ok > 500 && err > 2_000 && fallbacks > 1_000 && kept > 500,
            "{ok} {err} {fallbacks} {kept}"
        );
    }

    /// Lines are measured against the line cap with the `csv` crate's bytes on every path: a
    /// record ends at the `\r` of a `\r\n` (its `\n` counts with the next), so files with
    /// CRLF, mixed endings, a last line without a break, or a line handed over to the `csv`
    /// path after a CRLF line are refused at the same caps and lines. (The fast path once
    /// counted from after the `\n`: one byte short at a hand-over after a CRLF line, one byte
    /// off on a line whose ending differed from the one before.)
    #[test]
    fn line_cap_counts_the_csv_crates_bytes() {
        let files: [&[u8]; 6] = [
            b"a,b\r\n\"1\",234567\r\n",
            b"a,b\r\n1,2\r\n\"1\",234567\r\n",
            b"a,b\r\n1,2345",
            b"a,b\r\n1,2345\r",
            b"a,b\n1,234\r\n5,6\n7,8\r\n\r\n9,10\n",
            b"1,2\r\n\r\n3,45\n6,7\r\n\"8\",9\r\n",
        ];
        let mut refused = 0;
        for data in files {
            for cap in 1..16 {
                let limits = Limits {
                    max_line: cap,
                    ..Limits::default()
                };
                let header = data.starts_with(b"a");
                let run = |path| {
                    outcome(read_with(
                        data,
                        "t.csv",
                        &limits,
                        (Some(b','), header),
                        |h| Ok(Some(h.len() - 1)),
                        path,
                    ))
                };
                let csv = run((false, None));
                refused += usize::from(csv.is_err());
                for path in [(true, None), (true, Some(1)), (true, Some(8))] {
                    assert_eq!(
                        run(path),
                        csv,
                        "{:?} cap {cap} {path:?}",
                        String::from_utf8_lossy(data)
                    );
                }
            }
        }
        assert!(refused > 20 && refused < 80, "{refused}");
    }

    #[test]
    fn fast_decimal_is_str_parse() {
        let mut g = Gen(7);
        let mut fast = 0;
        for _ in 0..500_000 {
            let digits = g.below(12) as usize + 1;
            let m: String = (0..digits)
                .map(|_| char::from(b'0' + g.below(10) as u8))
                .collect();
            let dot = g.below(digits as u64 + 2) as usize;
            let mut s = if dot <= digits {
                format!("{}.{}", &m[..dot], &m[dot..])
            } else {
                m
            };
            if g.below(3) == 0 {
                s = format!("{s}e{}{}", ["", "+", "-"][g.below(3) as usize], g.below(16));
            }
            if g.below(2) == 0 {
                s.insert(0, '-');
            }
            let want: Option<f32> = s.parse().ok();
            let got = fast_decimal(s.as_bytes());
            if let Some(v) = got {
                fast += 1;
                assert_eq!(Some(v.to_bits()), want.map(f32::to_bits), "{s}");
            }
            assert_eq!(
                number(s.as_bytes()).map(f32::to_bits),
                want.filter(|v| v.is_finite()).map(f32::to_bits),
                "{s}"
            );
        }
        // The boundaries of the exact range.
        for (s, v) in [("16777215", 16_777_215.0f32), ("1677721.5e1", 16_777_215.0)] {
            assert_eq!(fast_decimal(s.as_bytes()), Some(v));
        }
        assert_eq!(fast_decimal(b"16777216"), None);
        assert_eq!(fast_decimal(b"1e11"), None);
        assert!(fast > 100_000, "{fast}");
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
