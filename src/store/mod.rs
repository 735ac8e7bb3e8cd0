//! A checkpoint store on NOR flash that survives a power cut at any byte (the `flash`
//! feature): layer 5.
//!
//! [`Store`] keeps the newest of a sequence of opaque payloads (a checkpoint's bytes, at most
//! [`Store::capacity`] long) in a flash range, through the blocking
//! [`embedded_storage::nor_flash::NorFlash`] traits that embedded HALs implement. A power cut
//! at any byte of a save, or during an erase, leaves the previous checkpoint loadable; bit
//! flips in a stored record make it invisible (its CRC fails), never wrong data.
//! [`WritePolicy`] decides when to save (on a new best, every k rounds, at most every t
//! clock units).
//!
//! # Layout
//! The range is split into two **slots** of equal size, each a whole number of erase sectors.
//! A slot holds records one after the other, each starting at a multiple of `WRITE_SIZE`:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | magic `NPCK` (`0x4B43_504E`, little-endian) |
//! | 4 | 4 | sequence number (u32, little-endian; the first save is 1) |
//! | 8 | 4 | payload length `n` (u32, little-endian) |
//! | 12 | 4 | header CRC-32 of bytes 0..12 |
//! | 16 | `H − 16` | `0xFF` padding to `H = ⌈16 / WRITE_SIZE⌉ · WRITE_SIZE` |
//! | `H` | `n` | payload |
//! | `H + n` | 4 | record CRC-32 of bytes 0..16 and the payload |
//! | `H + n + 4` | … | `0xFF` padding to a multiple of `WRITE_SIZE` |
//!
//! The CRC is CRC-32/IEEE (zlib's, as [`crate::model::bytes::crc32`]). A record is **valid**
//! when its magic, both CRCs and its length (at most the capacity, inside its slot) check.
//! [`Store::new`] scans both slots (valid records are skipped whole; anything else is stepped
//! over one `WRITE_SIZE` word at a time, so a damaged record does not hide the ones after it)
//! and takes the valid record with the highest sequence number as the newest.
//!
//! # Saving, and why a cut at any byte loses nothing older than the record in flight
//! A save appends its record to the slot holding the newest record (the *active* slot) when
//! the record fits and everything from the end of the slot's last valid record to the slot's
//! end reads erased (`0xFF`). Otherwise it erases the *other* slot and writes the record at
//! its start. The record is programmed in order (header, payload, CRC), then read back and
//! checked.
//!
//! * Nothing is ever programmed over a byte that was not read as erased, and the only erase is
//!   of the slot that does not hold the newest record; so the newest complete record (the
//!   previous checkpoint) is never touched by a save, whatever byte the power is cut at.
//! * The record in flight is valid only once its last CRC byte is in place: a cut before that
//!   leaves a record whose CRC fails (a torn header fails the header CRC; a torn payload or
//!   CRC fails the record CRC, and its intact header lets the scan step over it). A partially
//!   programmed word (any subset of its bits cleared) is just another torn byte.
//! * A cut during the erase leaves the other slot partly erased: it held only records older
//!   than the newest, and the next save erases it again.
//! * After a cut the active slot's tail is no longer erased (the torn record), so the next
//!   save goes to the other slot: nothing is programmed over cells a cut left half-programmed.
//! * Sequence numbers grow by one per save, so the newest valid record wins. CRC-32 detects
//!   every error of up to 3 bits in a record of up to 11 KiB (its Hamming distance is 4 up to
//!   91 607 bits) and all but about 1 in 2³² of the others.
//!
//! `tests/flash_store.rs` proves this on a simulated NOR flash: a cut at every byte of every
//! write (the word in flight left with a random subset of its bits cleared) and in every
//! erase, with 1-, 4- and 8-byte words and 1024- and 4096-byte sectors; and every single bit
//! flip of the newest record.
//!
//! # Erases and wear
//! A slot of `S` bytes holds `r = ⌊S / R⌋` records of `R` bytes ([`Store::record_len`],
//! [`Store::saves_per_slot`]). Every `r` saves the store switches slot and erases that slot's
//! sectors once each, so each sector is erased once every `2r` saves:
//!
//! ```text
//! erases per sector per day = saves per day / (2 · r)
//! lifetime (days)           = endurance · 2 · r / saves per day
//! ```
//!
//! Example: a 1 KiB checkpoint (`R` = 1044 bytes with 4-byte words), two 4 KiB sectors
//! (`r` = 3), one save every 10 minutes (144 a day): 24 erases per sector per day; at a
//! 10 000-cycle endurance (a typical MCU's internal flash) the sectors last 417 days, at
//! 100 000 cycles (typical serial NOR) 11.4 years. Two 16 KiB slots (`r` = 15, 8 sectors)
//! make it 4.8 erases per sector per day: 5.7 years at 10 000 cycles. A save every hour with
//! the 4 KiB slots: 4 erases per sector per day, 6.8 years at 10 000 cycles. Saving less
//! often is what [`WritePolicy`] is for.
//!
//! [`WritePolicy`] bounds the rate of saves while the device runs: with `min_interval` = 10
//! minutes no more than 144 saves a day reach flash. Two things add to the figure: a save
//! after a cut or a failed save always starts the other slot (one extra slot erase), and the
//! policy's clock is not kept across a reset (the first save due after a reboot goes through
//! at once). A device that resets often should count its resets into the rate.
//!
//! A store opened on blank (erased) flash writes its first record without an erase. The
//! counters [`Store::erases`] (sectors erased) and [`Store::bytes_written`] count what this
//! `Store` did.
//!
//! # Limits
//! * Payloads are opaque: a payload that itself contains a valid record of this format could
//!   be taken for one after its own record's header is damaged (checkpoint encodings, with
//!   their own magic and CRC, do not).
//! * A save that fails (a flash error, or a read-back mismatch: [`StoreError::Verify`])
//!   leaves the previous checkpoint loadable; save again to retry in a fresh slot.
//! * `WRITE_SIZE` must be a power of two up to 32 bytes and `READ_SIZE` a power of two up to
//!   `WRITE_SIZE`.
//!
//! # Why not `sequential-storage`
//! The `sequential-storage` crate (8.0) is a general key-value map and FIFO queue with wear
//! levelling over many pages. It is async only (`embedded-storage-async`: a blocking HAL needs
//! an adapter and a `block_on`), promises no MSRV but the latest stable Rust, uses `unwrap`,
//! slice indexing and panicking constructors (`QueueConfig::new`) that the link-time no-panic
//! proof would need optimised away (not tried), and keeps an item inside one page; a
//! checkpoint needs only "the newest of one record". This store is about 2.4 KB of `.text` on
//! thumbv7em-none-eabihf (`scripts/firmware.sh`) and has no panic path
//! (`ci/no_std_check/src/no_panic.rs` calls it).
//!
//! # Example
//! ```
//! use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
//! use npoa::store::Store;
//!
//! /// Two 1 KiB sectors of RAM standing in for flash (4-byte words).
//! struct Ram([u8; 2048]);
//! impl ErrorType for Ram {
//!     type Error = NorFlashErrorKind;
//! }
//! impl ReadNorFlash for Ram {
//!     const READ_SIZE: usize = 1;
//!     fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
//!         let at = offset as usize;
//!         let src = self.0.get(at..at + bytes.len()).ok_or(NorFlashErrorKind::OutOfBounds)?;
//!         bytes.copy_from_slice(src);
//!         Ok(())
//!     }
//!     fn capacity(&self) -> usize {
//!         self.0.len()
//!     }
//! }
//! impl NorFlash for Ram {
//!     const WRITE_SIZE: usize = 4;
//!     const ERASE_SIZE: usize = 1024;
//!     fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
//!         self.0[from as usize..to as usize].fill(0xFF);
//!         Ok(())
//!     }
//!     fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
//!         for (cell, b) in self.0[offset as usize..].iter_mut().zip(bytes) {
//!             *cell &= *b; // programming only clears bits
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let mut store = Store::new(Ram([0xFF; 2048]), 0..2048)?;
//! assert_eq!(store.capacity(), 1024 - 20);
//! let mut buf = [0u8; 64];
//! assert_eq!(store.load(&mut buf)?, None); // blank flash
//! assert_eq!(store.save(b"epoch 1")?, 1);
//! assert_eq!(store.save(b"epoch 2")?, 2);
//!
//! // Reboot: a new store over the same flash finds the newest record.
//! let mut store = Store::new(store.into_inner(), 0..2048)?;
//! assert_eq!(store.load(&mut buf)?, Some((2, 7)));
//! assert_eq!(&buf[..7], b"epoch 2");
//! # Ok::<(), npoa::store::StoreError<NorFlashErrorKind>>(())
//! ```

mod policy;

pub use policy::WritePolicy;

use core::fmt;
use core::ops::Range;

use embedded_storage::nor_flash::NorFlash;

/// `NPCK`, little-endian.
const MAGIC: u32 = 0x4B43_504E;
/// The header fields: magic, sequence, length, header CRC.
const HEADER_FIELDS: usize = 16;
/// The largest `WRITE_SIZE` supported.
const MAX_WORD: usize = 32;
/// Flash is read through a stack buffer of this many bytes (a multiple of every word size).
const CHUNK: usize = 64;

/// What went wrong in a [`Store`] operation; `E` is the flash's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError<E> {
    /// The flash driver returned an error (for a simulated power cut, the cut).
    Flash(E),
    /// The flash range or the flash's geometry cannot hold a store.
    Geometry {
        /// What is wrong.
        reason: &'static str,
    },
    /// The payload is longer than [`Store::capacity`].
    PayloadTooLarge {
        /// The payload's length.
        len: usize,
        /// The largest payload the store holds.
        capacity: usize,
    },
    /// The buffer given to [`Store::load`] is shorter than the newest payload.
    BufferTooSmall {
        /// The newest payload's length.
        needed: usize,
        /// The buffer's length.
        found: usize,
    },
    /// The sequence number reached `u32::MAX` (4 294 967 295 saves): erase the range to
    /// start again.
    SequenceExhausted,
    /// The record just written did not read back valid (the flash did not take it); the
    /// previous checkpoint is still the newest. A further save goes to a fresh slot.
    Verify,
    /// The newest record changed on flash between scanning and reading it, and no valid record
    /// was found again.
    Corrupt,
}

impl<E: fmt::Debug> fmt::Display for StoreError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Flash(e) => write!(f, "flash error: {e:?}"),
            StoreError::Geometry { reason } => write!(f, "invalid flash store geometry: {reason}"),
            StoreError::PayloadTooLarge { len, capacity } => write!(
                f,
                "payload of {len} bytes is larger than the store's capacity of {capacity} bytes"
            ),
            StoreError::BufferTooSmall { needed, found } => write!(
                f,
                "the load buffer has {found} bytes, the newest payload needs {needed}"
            ),
            StoreError::SequenceExhausted => f.write_str("the sequence number is exhausted"),
            StoreError::Verify => f.write_str("the record written did not read back valid"),
            StoreError::Corrupt => f.write_str("the newest record changed while being read"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for StoreError<E> {}

/// Where a valid record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    /// 0 or 1.
    slot: u8,
    /// Offset of the record inside its slot.
    offset: u32,
    seq: u32,
    len: u32,
}

/// A two-slot checkpoint store over a [`NorFlash`] range; see the [module docs](self) for the
/// layout, the recovery argument and the wear figures.
#[derive(Debug)]
pub struct Store<F> {
    flash: F,
    /// Start of slot 0 (flash offset); slot 1 follows it.
    base: u32,
    /// Bytes per slot (a multiple of `ERASE_SIZE`).
    slot_len: u32,
    /// The newest valid record.
    newest: Option<Loc>,
    /// Where the next record may be appended in the newest record's slot (or, with no record,
    /// in slot 0): everything from here to the slot's end read as erased. `None`: the next
    /// save erases a slot first.
    append: Option<u32>,
    /// Sequence number of the next save (0: exhausted).
    next_seq: u32,
    erases: u32,
    bytes_written: u64,
}

/// `x` rounded up to a multiple of `w` (a power of two), or `None` on overflow.
const fn round_up(x: u32, w: u32) -> Option<u32> {
    match x.checked_add(w - 1) {
        Some(v) => Some(v & !(w - 1)),
        None => None,
    }
}

/// CRC-32/IEEE of every 4-bit value: the half-byte steps of [`crc_update`].
const CRC_NIBBLE: [u32; 16] = {
    let mut t = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 4 {
            c = (c >> 1) ^ (0xedb8_8320 & (c & 1).wrapping_neg());
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// CRC-32/IEEE (as [`crate::model::bytes::crc32`]), incremental, four bits a step through a
/// 64-byte table: start with `!0`, finish with `!state`.
fn crc_update(mut c: u32, data: &[u8]) -> u32 {
    for &byte in data {
        c ^= u32::from(byte);
        c = (c >> 4) ^ CRC_NIBBLE[(c & 15) as usize];
        c = (c >> 4) ^ CRC_NIBBLE[(c & 15) as usize];
    }
    c
}

fn le32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

/// The 16 header bytes of a record.
fn header_bytes(seq: u32, len: u32) -> [u8; HEADER_FIELDS] {
    let mut h = [0u8; HEADER_FIELDS];
    h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    h[4..8].copy_from_slice(&seq.to_le_bytes());
    h[8..12].copy_from_slice(&len.to_le_bytes());
    let crc = !crc_update(!0, &h[0..12]);
    h[12..16].copy_from_slice(&crc.to_le_bytes());
    h
}

impl<F: NorFlash> Store<F> {
    const WORD: u32 = F::WRITE_SIZE as u32;
    /// Bytes of the padded header.
    const HEADER: u32 = {
        let w = F::WRITE_SIZE;
        let w = if w == 0 { 1 } else { w };
        (HEADER_FIELDS.div_ceil(w) * w) as u32
    };

    /// Opens the store on `range` (flash offsets, `start..end`) and scans it for the newest
    /// record. The range is split into two slots of `(end − start) / 2` bytes.
    ///
    /// # Errors
    /// [`StoreError::Geometry`] if `WRITE_SIZE` is not a power of two up to 32, `READ_SIZE`
    /// not a power of two up to `WRITE_SIZE`, `ERASE_SIZE` not a multiple of `WRITE_SIZE`, the
    /// range not aligned to sectors, not an even number (≥ 2) of sectors, outside the flash,
    /// or a slot too small for a record; [`StoreError::Flash`] if a read fails.
    pub fn new(flash: F, range: Range<u32>) -> Result<Self, StoreError<F::Error>> {
        let geometry = |reason| Err(StoreError::Geometry { reason });
        let (w, e, r) = (F::WRITE_SIZE, F::ERASE_SIZE, F::READ_SIZE);
        if !w.is_power_of_two() || w > MAX_WORD {
            return geometry("WRITE_SIZE must be a power of two of at most 32 bytes");
        }
        if !r.is_power_of_two() || r > w {
            return geometry("READ_SIZE must be a power of two of at most WRITE_SIZE");
        }
        if e == 0 || !e.is_multiple_of(w) || e > u32::MAX as usize {
            return geometry("ERASE_SIZE must be a non-zero multiple of WRITE_SIZE");
        }
        let e = e as u32;
        if !range.start.is_multiple_of(e) || !range.end.is_multiple_of(e) {
            return geometry("the range must start and end on erase-sector boundaries");
        }
        if range.end <= range.start
            || !u64::from(range.end - range.start).is_multiple_of(2 * u64::from(e))
        {
            return geometry("the range must hold an even, non-zero number of sectors");
        }
        if range.end as usize > flash.capacity() {
            return geometry("the range ends beyond the flash's capacity");
        }
        let slot_len = (range.end - range.start) / 2;
        if slot_len < Self::HEADER + 4 + Self::WORD {
            return geometry("a slot is too small for a record");
        }
        let mut store = Store {
            flash,
            base: range.start,
            slot_len,
            newest: None,
            append: None,
            next_seq: 1,
            erases: 0,
            bytes_written: 0,
        };
        store.scan()?;
        Ok(store)
    }

    /// The largest payload, in bytes: a slot less the header and the CRC.
    pub fn capacity(&self) -> usize {
        (self.slot_len - Self::HEADER - 4) as usize
    }

    /// Bytes a record of a `len`-byte payload takes on flash (header, payload, CRC, padding;
    /// `usize::MAX` if that overflows).
    pub fn record_len(&self, len: usize) -> usize {
        (Self::HEADER as usize + 4)
            .checked_add(len)
            .and_then(|raw| raw.checked_next_multiple_of(F::WRITE_SIZE))
            .unwrap_or(usize::MAX)
    }

    /// Saves of a `len`-byte payload per slot, so one slot erase every this many saves
    /// (0 if the payload does not fit).
    pub fn saves_per_slot(&self, len: usize) -> usize {
        if len > self.capacity() {
            return 0;
        }
        self.slot_len as usize / self.record_len(len)
    }

    /// Bytes per slot.
    pub fn slot_len(&self) -> usize {
        self.slot_len as usize
    }

    /// Erase sectors this store has erased since it was opened.
    pub fn erases(&self) -> u32 {
        self.erases
    }

    /// Bytes this store has programmed since it was opened (records with their padding).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// The newest record's sequence number and payload length, if there is one.
    pub fn newest(&self) -> Option<(u32, usize)> {
        self.newest.map(|l| (l.seq, l.len as usize))
    }

    /// The flash back (for example to open a new store on it).
    pub fn into_inner(self) -> F {
        self.flash
    }

    fn slot_start(&self, slot: u8) -> u32 {
        self.base + u32::from(slot) * self.slot_len
    }

    /// The first byte of `[from, to)` (flash offsets, aligned to the word) that does not read
    /// `0xFF`, or `None` if the whole span reads erased.
    fn first_unerased(&mut self, from: u32, to: u32) -> Result<Option<u32>, StoreError<F::Error>> {
        let mut buf = [0u8; CHUNK];
        let mut at = from;
        while at < to {
            let n = (to - at).min(CHUNK as u32);
            let chunk = buf.get_mut(..n as usize).unwrap_or(&mut []);
            self.flash.read(at, chunk).map_err(StoreError::Flash)?;
            if let Some(i) = chunk.iter().position(|&b| b != 0xFF) {
                return Ok(Some(at + i as u32));
            }
            at += n;
        }
        Ok(None)
    }

    /// The record at `offset` of `slot` if it is valid: its sequence number and length.
    fn check(&mut self, slot: u8, offset: u32) -> Result<Option<(u32, u32)>, StoreError<F::Error>> {
        let room = self.slot_len - offset;
        if room < Self::HEADER + 4 {
            return Ok(None);
        }
        let at = self.slot_start(slot) + offset;
        let mut hbuf = [0u8; MAX_WORD];
        let hread = hbuf.get_mut(..Self::HEADER as usize).unwrap_or(&mut []);
        self.flash.read(at, hread).map_err(StoreError::Flash)?;
        let h = hbuf.get(..HEADER_FIELDS).unwrap_or(&[]);
        if le32(h, 0) != MAGIC || le32(h, 12) != !crc_update(!0, h.get(..12).unwrap_or(&[])) {
            return Ok(None);
        }
        let (seq, len) = (le32(h, 4), le32(h, 8));
        if len as usize > self.capacity() || seq == 0 || room - Self::HEADER - 4 < len {
            return Ok(None);
        }
        // The payload and the CRC after it, read in aligned chunks.
        let mut crc = crc_update(!0, h);
        let mut stored = [0u8; 4];
        let end = round_up(len + 4, Self::WORD).unwrap_or(u32::MAX);
        let mut buf = [0u8; CHUNK];
        let mut pos = 0u32;
        while pos < end {
            let n = (end - pos).min(CHUNK as u32);
            let chunk = buf.get_mut(..n as usize).unwrap_or(&mut []);
            self.flash
                .read(at + Self::HEADER + pos, chunk)
                .map_err(StoreError::Flash)?;
            // Payload bytes of this chunk go into the CRC, the 4 after them are the CRC.
            let data = (len.saturating_sub(pos) as usize).min(chunk.len());
            let (payload, after) = chunk.split_at(data);
            crc = crc_update(crc, payload);
            for (i, &b) in after.iter().enumerate() {
                let k = (pos + (data + i) as u32).wrapping_sub(len);
                if let Some(s) = stored.get_mut(k as usize) {
                    *s = b;
                }
            }
            pos += n;
        }
        Ok((u32::from_le_bytes(stored) == !crc).then_some((seq, len)))
    }

    /// Scans both slots: the newest valid record, where to append, the next sequence number.
    fn scan(&mut self) -> Result<(), StoreError<F::Error>> {
        let mut newest: Option<Loc> = None;
        // Per slot: the end of its last valid record.
        let mut ends = [0u32; 2];
        for slot in 0..2u8 {
            let mut offset = 0u32;
            while offset < self.slot_len {
                match self.check(slot, offset)? {
                    Some((seq, len)) => {
                        if newest.is_none_or(|n| seq > n.seq) {
                            newest = Some(Loc {
                                slot,
                                offset,
                                seq,
                                len,
                            });
                        }
                        offset += self.record_len(len as usize) as u32;
                        if let Some(e) = ends.get_mut(slot as usize) {
                            *e = offset;
                        }
                    }
                    None => {
                        // A record starts with a byte that is not 0xFF: skip erased words (and
                        // stop at a blank rest of the slot).
                        let start = self.slot_start(slot);
                        match self.first_unerased(start + offset, start + self.slot_len)? {
                            None => break,
                            Some(p) => {
                                let word = (p - start) & !(Self::WORD - 1);
                                offset = word.max(offset + Self::WORD);
                            }
                        }
                    }
                }
            }
        }
        let slot = newest.map_or(0, |n| n.slot);
        let end = ends.get(slot as usize).copied().unwrap_or(self.slot_len);
        let start = self.slot_start(slot);
        self.append = match self.first_unerased(start + end, start + self.slot_len)? {
            None => Some(end),
            Some(_) => None,
        };
        if let Some(n) = newest {
            self.next_seq = self.next_seq.max(n.seq.wrapping_add(1));
            if n.seq == u32::MAX {
                self.next_seq = 0;
            }
        }
        self.newest = newest;
        Ok(())
    }

    /// Saves `payload` as the newest checkpoint and returns its sequence number.
    ///
    /// Erases one slot (its sectors) every [`Store::saves_per_slot`] saves, or after a cut.
    ///
    /// # Errors
    /// [`StoreError::PayloadTooLarge`], [`StoreError::SequenceExhausted`],
    /// [`StoreError::Flash`] (an erase, write or read failed), [`StoreError::Verify`] (the
    /// record did not read back valid). On any error the previous checkpoint stays the newest.
    pub fn save(&mut self, payload: &[u8]) -> Result<u32, StoreError<F::Error>> {
        let capacity = self.capacity();
        if payload.len() > capacity {
            return Err(StoreError::PayloadTooLarge {
                len: payload.len(),
                capacity,
            });
        }
        let seq = self.next_seq;
        if seq == 0 {
            return Err(StoreError::SequenceExhausted);
        }
        let len = payload.len() as u32;
        let rec = self.record_len(payload.len()) as u32;
        let active = self.newest.map_or(0, |n| n.slot);
        let (slot, offset) = match self.append {
            Some(at) if self.slot_len - at >= rec => (active, at),
            _ => {
                // With no valid record anywhere, slot 0 is as good as slot 1.
                let slot = if self.newest.is_some() { 1 - active } else { 0 };
                let start = self.slot_start(slot);
                self.append = None;
                self.flash
                    .erase(start, start + self.slot_len)
                    .map_err(StoreError::Flash)?;
                self.erases = self
                    .erases
                    .saturating_add(self.slot_len / F::ERASE_SIZE as u32);
                (slot, 0)
            }
        };
        // From here on the slot is not known erased until the record reads back valid, and
        // the sequence number is spent: a record that reached flash complete although the
        // write or its read-back reported an error must not share its number with the next
        // save's (after a reboot the scan could pick either).
        self.append = None;
        self.next_seq = seq.wrapping_add(1);
        let result = self.program(slot, offset, seq, payload);
        self.bytes_written = self.bytes_written.saturating_add(u64::from(rec));
        result?;
        if self.check(slot, offset)? != Some((seq, len)) {
            return Err(StoreError::Verify);
        }
        self.newest = Some(Loc {
            slot,
            offset,
            seq,
            len,
        });
        self.append = Some(offset + rec);
        Ok(seq)
    }

    /// Programs a record in order: header, whole payload words, then the last bytes and CRC.
    fn program(
        &mut self,
        slot: u8,
        offset: u32,
        seq: u32,
        payload: &[u8],
    ) -> Result<(), StoreError<F::Error>> {
        let at = self.slot_start(slot) + offset;
        let h = header_bytes(seq, payload.len() as u32);
        let mut block = [0xFFu8; 2 * MAX_WORD];
        if let Some(dst) = block.get_mut(..HEADER_FIELDS) {
            dst.copy_from_slice(&h);
        }
        let header = block.get(..Self::HEADER as usize).unwrap_or(&[]);
        self.flash.write(at, header).map_err(StoreError::Flash)?;
        let body = payload.len() / F::WRITE_SIZE * F::WRITE_SIZE;
        let (whole, rest) = payload.split_at(body.min(payload.len()));
        if !whole.is_empty() {
            self.flash
                .write(at + Self::HEADER, whole)
                .map_err(StoreError::Flash)?;
        }
        let crc = !crc_update(crc_update(!0, &h), payload);
        let mut tail = [0xFFu8; 2 * MAX_WORD];
        let n = rest.len();
        if let Some(dst) = tail.get_mut(..n) {
            dst.copy_from_slice(rest);
        }
        if let Some(dst) = tail.get_mut(n..n + 4) {
            dst.copy_from_slice(&crc.to_le_bytes());
        }
        let tail_len = (n + 4).div_ceil(F::WRITE_SIZE) * F::WRITE_SIZE;
        let tail = tail.get(..tail_len).unwrap_or(&[]);
        self.flash
            .write(at + Self::HEADER + body as u32, tail)
            .map_err(StoreError::Flash)
    }

    /// Reads the newest checkpoint into `buf`: its sequence number and length, or `None` if
    /// the range holds no valid record.
    ///
    /// # Errors
    /// [`StoreError::BufferTooSmall`], [`StoreError::Flash`], or [`StoreError::Corrupt`] if
    /// the newest record changed on flash since it was found and a rescan found it invalid
    /// again.
    pub fn load(&mut self, buf: &mut [u8]) -> Result<Option<(u32, usize)>, StoreError<F::Error>> {
        for _ in 0..2 {
            let Some(loc) = self.newest else {
                return Ok(None);
            };
            let len = loc.len as usize;
            let found = buf.len();
            let dst = buf
                .get_mut(..len)
                .ok_or(StoreError::BufferTooSmall { needed: len, found })?;
            let at = self.slot_start(loc.slot) + loc.offset + Self::HEADER;
            let body = len / F::WRITE_SIZE * F::WRITE_SIZE;
            let (whole, rest) = dst.split_at_mut(body.min(len));
            if !whole.is_empty() {
                self.flash.read(at, whole).map_err(StoreError::Flash)?;
            }
            let mut tail = [0u8; 2 * MAX_WORD];
            let tail_len = (rest.len() + 4).div_ceil(F::WRITE_SIZE) * F::WRITE_SIZE;
            let t = tail.get_mut(..tail_len).unwrap_or(&mut []);
            self.flash
                .read(at + body as u32, t)
                .map_err(StoreError::Flash)?;
            let n = rest.len();
            if let Some(src) = t.get(..n) {
                rest.copy_from_slice(src);
            }
            let stored = le32(t, n);
            let h = header_bytes(loc.seq, loc.len);
            if stored == !crc_update(crc_update(!0, &h), dst) {
                return Ok(Some((loc.seq, len)));
            }
            self.scan()?;
        }
        Err(StoreError::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_model_bytes() {
        let data = b"123456789";
        assert_eq!(!crc_update(!0, data), crate::model::bytes::crc32(data));
        assert_eq!(!crc_update(!0, data), 0xCBF4_3926);
        let long: [u8; 300] = core::array::from_fn(|i| (i * 37 + 11) as u8);
        assert_eq!(!crc_update(!0, &long), crate::model::bytes::crc32(&long));
        let (a, b) = long.split_at(123);
        assert_eq!(
            !crc_update(crc_update(!0, a), b),
            crate::model::bytes::crc32(&long)
        );
    }
}
