//! The checkpoint file of `npoa train --checkpoint FILE` / `--resume FILE`: the library's
//! state of the run (its bytes, checked by the library), and around it what the command
//! needs to continue the run as if it had never stopped and to refuse a resume that could
//! not: the options that shape the run, a digest of the data, and the run's bounded history
//! (so that the plot and the JSON `events` of a resumed run are the whole run's).
//!
//! Layout (little-endian), written atomically ([`crate::atomic`]) as one file:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `NPOACKPT` |
//! | 2 | version (1) |
//! | 4 + n | the options, a JSON object (UTF-8), length first |
//! | 4 + 8 + 4 | the data digest: CRC-32 of the table, rows, features |
//! | 4 + n | the history ([`crate::history`]), length first |
//! | 4 + n | the library's state, length first |
//! | 4 | CRC-32 of everything before |
//!
//! A torn or damaged file fails the CRC; a file of another version is refused by name.

use crate::Res;
use serde_json::{Map, Value};

/// The magic bytes at the start of a checkpoint file.
pub const MAGIC: [u8; 8] = *b"NPOACKPT";
/// The version of the layout this command writes and reads.
pub const VERSION: u16 = 1;
/// Checkpoint files larger than this are refused before they are read whole.
pub const MAX_BYTES: u64 = 1 << 30;

/// What identifies the data a run trains on: a CRC-32 over the parsed table (every feature
/// and target value's bits, the column names, the labels' map), its rows and its features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataDigest {
    /// CRC-32 of the table.
    pub crc: u32,
    /// Rows.
    pub rows: u64,
    /// Features.
    pub features: u32,
}

impl DataDigest {
    /// The digest of a table: `x` (rows × `d`), `y`, the column names and the labels' map.
    pub fn of(x: &[f32], y: &[f32], d: usize, names: &[String], labels: Option<&[String]>) -> Self {
        let mut h = crc32fast::Hasher::new();
        // The values' little-endian bytes, a block at a time (the same bytes as one value at a
        // time, so the same digest, but the CRC's SIMD path instead of 4-byte updates).
        let mut block = [0u8; 4096];
        for part in [x, y] {
            for c in part.chunks(block.len() / 4) {
                for (b, v) in block.chunks_exact_mut(4).zip(c) {
                    b.copy_from_slice(&v.to_bits().to_le_bytes());
                }
                h.update(&block[..4 * c.len()]);
            }
        }
        let mut strings = |s: &[String]| {
            h.update(&(s.len() as u64).to_le_bytes());
            for n in s {
                h.update(&(n.len() as u64).to_le_bytes());
                h.update(n.as_bytes());
            }
        };
        strings(names);
        match labels {
            Some(l) => strings(l),
            None => h.update(&u64::MAX.to_le_bytes()),
        }
        Self {
            crc: h.finalize(),
            rows: y.len() as u64,
            features: u32::try_from(d).unwrap_or(u32::MAX),
        }
    }
}

/// A checkpoint file's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The options that shape the run (name → value), as the command line gave them.
    pub options: Map<String, Value>,
    /// The data the run trains on.
    pub data: DataDigest,
    /// The run's bounded history ([`crate::history`]'s bytes).
    pub history: Vec<u8>,
    /// The library's state of the run.
    pub state: Vec<u8>,
}

impl Checkpoint {
    /// The file's bytes (see the module docs).
    ///
    /// # Errors
    /// A section longer than 4 GiB.
    pub fn to_bytes(&self) -> Res<Vec<u8>> {
        let options = serde_json::to_vec(&self.options)?;
        let mut w = Vec::with_capacity(64 + options.len() + self.history.len() + self.state.len());
        w.extend_from_slice(&MAGIC);
        w.extend_from_slice(&VERSION.to_le_bytes());
        section(&mut w, &options)?;
        w.extend_from_slice(&self.data.crc.to_le_bytes());
        w.extend_from_slice(&self.data.rows.to_le_bytes());
        w.extend_from_slice(&self.data.features.to_le_bytes());
        section(&mut w, &self.history)?;
        section(&mut w, &self.state)?;
        let crc = crc32fast::hash(&w);
        w.extend_from_slice(&crc.to_le_bytes());
        Ok(w)
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote.
    ///
    /// # Errors
    /// Not a checkpoint (magic), another version, a damaged or truncated file (CRC, lengths).
    pub fn from_bytes(bytes: &[u8]) -> Res<Self> {
        if bytes.get(..8) != Some(&MAGIC[..]) {
            return Err("not an npoa checkpoint (no NPOACKPT magic)".into());
        }
        let version = bytes
            .get(8..10)
            .map(|v| u16::from_le_bytes([v[0], v[1]]))
            .ok_or(TORN)?;
        if version != VERSION {
            return Err(format!(
                "a checkpoint of version {version}; this npoa reads version {VERSION}"
            )
            .into());
        }
        let (body, crc) = bytes
            .split_at_checked(bytes.len().saturating_sub(4))
            .ok_or(TORN)?;
        let crc = <[u8; 4]>::try_from(crc).map_err(|_| TORN)?;
        if body.len() < 10 || crc32fast::hash(body) != u32::from_le_bytes(crc) {
            return Err(TORN.into());
        }
        let mut r = Reader {
            bytes: body,
            pos: 10,
        };
        let options: Value = serde_json::from_slice(r.section()?)?;
        let Value::Object(options) = options else {
            return Err("the checkpoint's options are not a JSON object".into());
        };
        let data = DataDigest {
            crc: u32::from_le_bytes(r.take()?),
            rows: u64::from_le_bytes(r.take()?),
            features: u32::from_le_bytes(r.take()?),
        };
        let history = r.section()?.to_vec();
        let state = r.section()?.to_vec();
        if r.pos != body.len() {
            return Err(TORN.into());
        }
        Ok(Self {
            options,
            data,
            history,
            state,
        })
    }

    /// Reads a checkpoint file.
    ///
    /// # Errors
    /// The file cannot be read, or is not a checkpoint ([`from_bytes`](Self::from_bytes));
    /// the message starts with `path`.
    pub fn read(path: &str) -> Res<Self> {
        let fail = |e: &dyn std::fmt::Display| format!("{path}: {e}");
        let f = std::fs::File::open(path).map_err(|e| fail(&e))?;
        let mut bytes = Vec::new();
        use std::io::Read as _;
        f.take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(&e))?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(fail(&format!("more than {MAX_BYTES} bytes: not a checkpoint")).into());
        }
        Self::from_bytes(&bytes).map_err(|e| fail(&e).into())
    }

    /// Writes the file atomically: a reader (or a resume after a crash) sees the previous
    /// checkpoint or this one, whole.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&self, path: &str) -> Res<()> {
        crate::atomic::write(path, self.to_bytes()?)
    }

    /// `Ok` if this checkpoint was made by a run with these options on this data; else the
    /// differences, by option name.
    ///
    /// # Errors
    /// The options or the data differ.
    pub fn check(&self, options: &Map<String, Value>, data: &DataDigest) -> Res<()> {
        let mut diff = Vec::new();
        for (k, v) in options {
            let then = self.options.get(k).unwrap_or(&Value::Null);
            if then != v {
                diff.push(format!("--{k} {} (now {})", show(then), show(v)));
            }
        }
        for (k, v) in &self.options {
            if !options.contains_key(k) {
                diff.push(format!("--{k} {} (unknown to this npoa)", show(v)));
            }
        }
        if !diff.is_empty() {
            return Err(format!(
                "the checkpoint was made with other options: {}; resume with the same ones",
                diff.join(", ")
            )
            .into());
        }
        if self.data != *data {
            return Err(format!(
                "the checkpoint was made on other data ({} rows × {} features, CRC-32 {:08x}; this file: {} × {}, {:08x})",
                self.data.rows,
                self.data.features,
                self.data.crc,
                data.rows,
                data.features,
                data.crc
            )
            .into());
        }
        Ok(())
    }
}

const TORN: &str = "a damaged or truncated checkpoint (its CRC-32 or a length does not match)";

/// An option's value as the command line would spell it (`null`: not given).
fn show(v: &Value) -> String {
    match v {
        Value::Null => "unset".to_string(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

fn section(w: &mut Vec<u8>, s: &[u8]) -> Res<()> {
    let n = u32::try_from(s.len()).map_err(|_| "a checkpoint section over 4 GiB")?;
    w.extend_from_slice(&n.to_le_bytes());
    w.extend_from_slice(s);
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn slice(&mut self, n: usize) -> Res<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(TORN)?;
        let s = self.bytes.get(self.pos..end).ok_or(TORN)?;
        self.pos = end;
        Ok(s)
    }
    fn take<const N: usize>(&mut self) -> Res<[u8; N]> {
        Ok(<[u8; N]>::try_from(self.slice(N)?)?)
    }
    fn section(&mut self) -> Res<&'a [u8]> {
        let n = u32::from_le_bytes(self.take()?) as usize;
        self.slice(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_the_crc_of_the_values_bytes() {
        // Across block boundaries: the digest is that of every value's bytes in turn.
        let x: Vec<f32> = (0..5_003).map(|i| i as f32 * 0.37 - 11.0).collect();
        let y: Vec<f32> = (0..1_207).map(|i| -(i as f32)).collect();
        let mut h = crc32fast::Hasher::new();
        for v in x.iter().chain(&y) {
            h.update(&v.to_bits().to_le_bytes());
        }
        h.update(&1u64.to_le_bytes());
        h.update(&1u64.to_le_bytes());
        h.update(b"a");
        h.update(&u64::MAX.to_le_bytes());
        let d = DataDigest::of(&x, &y, 1, &["a".into()], None);
        assert_eq!(d.crc, h.finalize());
    }

    fn sample() -> Checkpoint {
        let mut options = Map::new();
        options.insert("lr".into(), Value::from("0.1"));
        options.insert("batch".into(), Value::from(8));
        options.insert("early-stop".into(), Value::Null);
        Checkpoint {
            options,
            data: DataDigest::of(&[1.0, 2.0], &[3.0, -0.0], 1, &["a".into()], None),
            history: vec![1, 2, 3],
            state: (0..200u8).collect(),
        }
    }

    #[test]
    fn round_trip_and_every_damage_refused() {
        let c = sample();
        let bytes = c.to_bytes().unwrap();
        assert_eq!(Checkpoint::from_bytes(&bytes).unwrap(), c);
        for n in 0..bytes.len() {
            assert!(Checkpoint::from_bytes(&bytes[..n]).is_err(), "prefix {n}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(Checkpoint::from_bytes(&b).is_err(), "flip at {i}");
        }
    }

    #[test]
    fn check_names_the_differences() {
        let c = sample();
        assert!(c.check(&c.options, &c.data).is_ok());
        let mut o = c.options.clone();
        o.insert("lr".into(), Value::from("0.2"));
        o.insert("early-stop".into(), Value::from(5));
        let e = c.check(&o, &c.data).unwrap_err().to_string();
        assert!(e.contains("--lr 0.1 (now 0.2)"), "{e}");
        assert!(e.contains("--early-stop unset (now 5)"), "{e}");
        let other = DataDigest::of(&[1.0, 2.0], &[3.0, 0.0], 1, &["a".into()], None);
        assert_ne!(other, c.data, "−0.0 and 0.0 differ by bits");
        let e = c.check(&c.options, &other).unwrap_err().to_string();
        assert!(e.contains("other data"), "{e}");
    }
}
