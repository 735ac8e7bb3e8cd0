//! The flash checkpoint store (`npoa::store`, feature `flash`) on a simulated NOR flash that
//! cuts power at every byte of a write (the word in flight left partially programmed: a random
//! subset of its bits cleared, deterministic by seed) and in every erase (the sector left part
//! erased), and under single bit flips of the newest record.
//!
//! After every cut a new `Store` ("reboot") over the same flash must load the record in flight
//! if all of its bytes reached flash, else the previous one, bytes equal; a save after the
//! cut must succeed and load back. The simulated flash refuses what real NOR refuses:
//! unaligned writes, and programming a word that is not erased.

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
use npoa::store::{Store, StoreError, WritePolicy};

/// SplitMix64: the deterministic generator of the payloads, partial words and partial erases.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// A simulated NOR flash: `W`-byte words, `E`-byte erase sectors. Erase sets bytes to 0xFF,
/// programming only clears bits, each word is programmed at most once between erases.
#[derive(Clone)]
struct Sim<const W: usize, const E: usize> {
    mem: Vec<u8>,
    /// Erases per sector (a cut erase counts: it wore the sector).
    erase_counts: Vec<u32>,
    /// Bytes that can still be programmed before the power is cut.
    write_budget: Option<usize>,
    /// Erase calls that can still complete before the power is cut (the next one is cut).
    erase_budget: Option<usize>,
    /// The power is off: every call fails until `reboot`.
    dead: bool,
    rng: Rng,
    /// Bytes programmed and erase calls, in total.
    programmed: usize,
    erase_calls: usize,
}

impl<const W: usize, const E: usize> Sim<W, E> {
    fn new(sectors: usize, seed: u64) -> Self {
        Sim {
            mem: vec![0xFF; sectors * E],
            erase_counts: vec![0; sectors],
            write_budget: None,
            erase_budget: None,
            dead: false,
            rng: Rng(seed),
            programmed: 0,
            erase_calls: 0,
        }
    }
    fn reboot(&mut self) {
        self.write_budget = None;
        self.erase_budget = None;
        self.dead = false;
    }
    fn cut(&mut self) -> Result<(), NorFlashErrorKind> {
        self.dead = true;
        Err(NorFlashErrorKind::Other)
    }
}

impl<const W: usize, const E: usize> ErrorType for Sim<W, E> {
    type Error = NorFlashErrorKind;
}

impl<const W: usize, const E: usize> ReadNorFlash for Sim<W, E> {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        if self.dead {
            return Err(NorFlashErrorKind::Other);
        }
        let at = offset as usize;
        let src = self
            .mem
            .get(at..at + bytes.len())
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

impl<const W: usize, const E: usize> NorFlash for Sim<W, E> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        if self.dead {
            return Err(NorFlashErrorKind::Other);
        }
        let (from, to) = (from as usize, to as usize);
        assert!(
            from.is_multiple_of(E) && to.is_multiple_of(E) && from < to && to <= self.mem.len(),
            "bad erase {from}..{to}"
        );
        for s in from / E..to / E {
            self.erase_counts[s] += 1;
        }
        self.erase_calls += 1;
        match &mut self.erase_budget {
            Some(0) => {
                // Cut mid-erase: each byte erased, untouched, or with random bits set.
                for i in from..to {
                    match self.rng.next() % 3 {
                        0 => self.mem[i] = 0xFF,
                        1 => {}
                        _ => self.mem[i] |= self.rng.byte(),
                    }
                }
                return self.cut();
            }
            Some(n) => *n -= 1,
            None => {}
        }
        self.mem[from..to].fill(0xFF);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        if self.dead {
            return Err(NorFlashErrorKind::Other);
        }
        let at = offset as usize;
        if !at.is_multiple_of(W) || !bytes.len().is_multiple_of(W) {
            return Err(NorFlashErrorKind::NotAligned);
        }
        if at + bytes.len() > self.mem.len() {
            return Err(NorFlashErrorKind::OutOfBounds);
        }
        for (k, word) in bytes.chunks(W).enumerate() {
            let base = at + k * W;
            let cell = &mut self.mem[base..base + W];
            assert!(
                cell.iter().all(|&b| b == 0xFF),
                "programming a word that is not erased at {base}"
            );
            for (j, &b) in word.iter().enumerate() {
                if let Some(budget) = &mut self.write_budget {
                    if *budget == 0 {
                        // The word in flight: a random subset of its bits cleared.
                        for (c, &n) in cell.iter_mut().zip(word).skip(j) {
                            *c &= !(!n & self.rng.byte());
                        }
                        return self.cut();
                    }
                    *budget -= 1;
                }
                cell[j] &= b;
                self.programmed += 1;
            }
        }
        Ok(())
    }
}

/// The payload of save `i`: its length cycles through `sizes`, its bytes depend on `i`.
fn payload(i: usize, sizes: &[usize]) -> Vec<u8> {
    let n = sizes[i % sizes.len()];
    let mut rng = Rng(i as u64 * 7919 + 1);
    (0..n).map(|_| rng.byte()).collect()
}

fn open<const W: usize, const E: usize>(flash: Sim<W, E>) -> Store<Sim<W, E>> {
    let range = 0..flash.mem.len() as u32;
    match Store::new(flash, range) {
        Ok(s) => s,
        Err(e) => panic!("open failed: {e}"),
    }
}

/// Loads the newest record and checks it is one of `accept` (sequence number, payload), bytes
/// equal; returns its sequence number.
fn load_checked<const W: usize, const E: usize>(
    store: &mut Store<Sim<W, E>>,
    accept: &[(u32, &[u8])],
    what: &str,
) -> Option<u32> {
    let mut buf = vec![0u8; store.capacity()];
    let got = store
        .load(&mut buf)
        .unwrap_or_else(|e| panic!("{what}: load: {e}"));
    match got {
        None => {
            assert!(
                accept.iter().any(|&(s, _)| s == 0),
                "{what}: nothing loaded, expected one of {:?}",
                accept.iter().map(|a| a.0).collect::<Vec<_>>()
            );
            None
        }
        Some((seq, len)) => {
            let want = accept
                .iter()
                .find(|&&(s, _)| s == seq)
                .unwrap_or_else(|| panic!("{what}: loaded seq {seq}, not acceptable"));
            assert_eq!(&buf[..len], want.1, "{what}: seq {seq} loaded wrong bytes");
            Some(seq)
        }
    }
}

#[derive(Debug, Default)]
struct CutFigures {
    write_cuts: usize,
    erase_cuts: usize,
    /// Cuts after which the record in flight loaded (all its bytes had reached flash).
    in_flight_loaded: usize,
    erases: u32,
    saves: usize,
}

/// Saves `saves` payloads one after the other; before each save `i ≥ cut_from`, from the flash
/// as saves `1..i` left it, cuts the power at every byte that save programs and in every erase
/// it does, reboots, checks what loads, and saves again.
fn power_cut_every_byte<const W: usize, const E: usize>(
    sectors: usize,
    sizes: &[usize],
    saves: usize,
    cut_from: usize,
) -> CutFigures {
    let mut fig = CutFigures::default();
    let mut flash = Sim::<W, E>::new(sectors, 42);
    let mut prev: Option<Vec<u8>> = None;
    for i in 1..=saves {
        let p = payload(i, sizes);
        // A dry run: how many bytes and erases this save takes.
        let mut probe = flash.clone();
        probe.programmed = 0;
        probe.erase_calls = 0;
        let mut store = open(probe);
        assert_eq!(store.save(&p).expect("dry run"), i as u32);
        let probe = store.into_inner();
        let (bytes, erases) = (probe.programmed, probe.erase_calls);
        fig.erases +=
            probe.erase_counts.iter().sum::<u32>() - flash.erase_counts.iter().sum::<u32>();

        let accept_prev: (u32, &[u8]) = match &prev {
            Some(v) => ((i - 1) as u32, v.as_slice()),
            None => (0, &[]),
        };
        let (bytes, erases) = if i < cut_from {
            (0, 0)
        } else {
            (bytes, erases)
        };
        let cuts = (0..bytes)
            .map(|b| (Some(b), None))
            // Each erase cut 8 times, each with its own pattern of erased, untouched and
            // half-erased bytes.
            .chain((0..erases * 8).map(|e| (None, Some(e / 8))));
        for (k, (wb, eb)) in cuts.enumerate() {
            let mut f = flash.clone();
            f.rng = Rng(1000 * i as u64 + k as u64);
            // A write cut also lets every erase of the save complete, and vice versa.
            f.write_budget = wb;
            f.erase_budget = eb;
            if eb.is_some() {
                fig.erase_cuts += 1;
            } else {
                fig.write_cuts += 1;
            }
            let mut store = open(f);
            match store.save(&p) {
                Err(StoreError::Flash(NorFlashErrorKind::Other)) => {}
                other => panic!("save {i}, cut {wb:?}/{eb:?}: expected the cut, got {other:?}"),
            }
            let mut f = store.into_inner();
            assert!(f.dead);
            f.reboot();
            let mut store = open(f);
            let what = format!(
                "save {i} ({} bytes), cut at write byte {wb:?} / erase {eb:?}",
                p.len()
            );
            let got = load_checked(&mut store, &[accept_prev, (i as u32, &p)], &what);
            if got == Some(i as u32) {
                fig.in_flight_loaded += 1;
            }
            // The next save works and loads back (checked after every erase cut, every 5th
            // write cut and the last 40, to keep the test fast).
            if eb.is_none() && k % 5 != 0 && k + 40 < bytes {
                continue;
            }
            let q = payload(i + 1000, sizes);
            let seq = store
                .save(&q)
                .unwrap_or_else(|e| panic!("{what}: save after: {e}"));
            let mut store = open(store.into_inner());
            load_checked(&mut store, &[(seq, &q)], &what);
        }
        // The uncut save, on the real chain.
        let mut store = open(flash);
        assert_eq!(store.save(&p).expect("save"), i as u32);
        flash = store.into_inner();
        prev = Some(p);
        fig.saves += 1;
    }
    fig
}

#[test]
fn power_cut_every_byte_w1_e1024() {
    let fig = power_cut_every_byte::<1, 1024>(2, &[100, 37, 250, 1, 0, 180, 333, 64], 14, 1);
    eprintln!("W=1, E=1024: {fig:?}");
    assert!(fig.write_cuts > 2000 && fig.erase_cuts >= 16, "{fig:?}");
}

#[test]
fn power_cut_every_byte_w4_e1024() {
    let fig = power_cut_every_byte::<4, 1024>(4, &[300, 5, 611, 127, 2, 900], 12, 1);
    eprintln!("W=4, E=1024: {fig:?}");
    assert!(fig.write_cuts > 4000 && fig.erase_cuts >= 16, "{fig:?}");
}

#[test]
fn power_cut_every_byte_w8_e4096() {
    let fig = power_cut_every_byte::<8, 4096>(2, &[1500, 3, 1201, 999, 1, 2000], 9, 5);
    eprintln!("W=8, E=4096: {fig:?}");
    assert!(fig.write_cuts > 4500 && fig.erase_cuts >= 16, "{fig:?}");
}

/// A long chain where every save is first cut at a random point (a byte of its writes or one
/// of its erases), then retried after the reboot: damage accumulates, nothing is lost.
#[test]
fn power_cut_chain_random() {
    let sizes = [40, 1, 200, 77, 0, 333, 500];
    let mut flash = Sim::<4, 1024>::new(2, 7);
    let mut rng = Rng(99);
    let mut newest: Option<(u32, Vec<u8>)> = None;
    for i in 0..300 {
        let p = payload(i, &sizes);
        // Attempt 1: cut somewhere (possibly after the save completed).
        if rng.next().is_multiple_of(4) {
            flash.erase_budget = Some(0);
        } else {
            flash.write_budget = Some((rng.next() % 600) as usize);
        }
        let mut store = open(flash);
        let attempted = newest.as_ref().map_or(1, |n| n.0 + 1);
        let r = store.save(&p);
        flash = store.into_inner();
        flash.reboot();
        let mut store = open(flash);
        let prev: (u32, &[u8]) = newest.as_ref().map_or((0, &[][..]), |n| (n.0, &n.1));
        let what = format!("chain {i}");
        let got = load_checked(&mut store, &[prev, (attempted, &p)], &what);
        if r.is_ok() {
            assert_eq!(got, Some(attempted), "{what}: a completed save must load");
        }
        if got == Some(attempted) {
            newest = Some((attempted, p.clone()));
        } else {
            // Attempt 2: no cut.
            let seq = store.save(&p).expect("retry");
            assert_eq!(seq, attempted);
            newest = Some((seq, p.clone()));
        }
        flash = store.into_inner();
    }
    let mut store = open(flash);
    let n = newest.unwrap();
    load_checked(&mut store, &[(n.0, &n.1)], "end of chain");
}

/// Every single bit flip of the newest record (header, payload, CRC and padding) makes the
/// previous record load, bytes equal, or nothing: never wrong data. Both cases: the previous
/// record in the same slot, and in the other slot.
#[test]
fn bit_flips_in_newest_record() {
    fn check(saves: usize, size: usize) -> usize {
        let mut store = open(Sim::<4, 1024>::new(2, 3));
        let p: Vec<Vec<u8>> = (1..=saves).map(|i| payload(i, &[size])).collect();
        let mut used = 0usize;
        for (i, q) in p.iter().enumerate() {
            let before = store.into_inner();
            let snapshot = before.clone();
            let mut s = open(before);
            assert_eq!(s.save(q).unwrap(), i as u32 + 1);
            // Where did the record go? The bytes that changed.
            let after = s.into_inner();
            let changed: Vec<usize> = (0..after.mem.len())
                .filter(|&k| after.mem[k] != snapshot.mem[k])
                .collect();
            let first = changed[0];
            used = first;
            store = open(after);
        }
        let flash = store.into_inner();
        let rec = open(flash.clone()).record_len(size);
        let mut flips = 0;
        for byte in used..used + rec {
            for bit in 0..8 {
                let mut f = flash.clone();
                f.mem[byte] ^= 1 << bit;
                let mut s = open(f);
                let what = format!("flip byte {} bit {bit}", byte - used);
                let prev = (saves as u32 - 1, p[saves - 2].as_slice());
                let got = load_checked(&mut s, &[prev, (0, &[])], &what);
                assert_eq!(got, Some(saves as u32 - 1), "{what}");
                // And the store goes on.
                let seq = s.save(b"after").unwrap();
                let mut s = open(s.into_inner());
                load_checked(&mut s, &[(seq, b"after")], &what);
                flips += 1;
            }
        }
        flips
    }
    // 200-byte payloads: 4 records a 1 KiB slot; the 3rd follows the 2nd in slot 0, the 5th is
    // the first of slot 1.
    let a = check(3, 200);
    let b = check(5, 200);
    eprintln!("bit flips tested: {a} + {b}");
    assert_eq!(a, 8 * 220);
}

/// Blank, all-zero and random flash: no panic, nothing (or a CRC-valid record) loaded, and a
/// save works and loads back.
#[test]
fn hostile_flash_contents() {
    let mut rng = Rng(5);
    for (name, fill) in [
        ("blank", Some(0xFF)),
        ("zeros", Some(0x00)),
        ("random", None),
    ] {
        for seed in 0..4 {
            let mut f = Sim::<4, 1024>::new(2, seed);
            for b in f.mem.iter_mut() {
                *b = fill.unwrap_or_else(|| rng.byte());
            }
            // Programming requires erased words: a random word that is not 0xFF is never
            // programmed by the store, which erases first.
            let mut s = open(f);
            let mut buf = vec![0u8; s.capacity()];
            assert_eq!(s.load(&mut buf).unwrap(), None, "{name}");
            let erases_before = s.erases();
            assert_eq!(s.save(b"hello").unwrap(), 1, "{name}");
            assert_eq!(
                s.erases() - erases_before,
                if name == "blank" { 0 } else { 1 }
            );
            let mut s = open(s.into_inner());
            load_checked(&mut s, &[(1, b"hello")], name);
        }
    }
    // A forged record with the highest sequence number and valid CRCs is just data: it loads.
    // (CRCs protect against faults, not against an attacker with write access.)
}

#[test]
fn geometry_is_validated() {
    fn err<const W: usize, const E: usize>(sectors: usize, range: std::ops::Range<u32>) -> String {
        match Store::new(Sim::<W, E>::new(sectors, 0), range) {
            Err(StoreError::Geometry { reason }) => reason.to_string(),
            Err(e) => panic!("unexpected {e}"),
            Ok(_) => "ok".to_string(),
        }
    }
    assert_eq!(err::<4, 1024>(2, 0..2048), "ok");
    assert_eq!(err::<4, 1024>(4, 1024..3072), "ok");
    assert!(err::<4, 1024>(4, 100..2148).contains("boundaries"));
    assert!(err::<4, 1024>(4, 0..3072).contains("even"));
    assert!(err::<4, 1024>(4, 0..0).contains("even"));
    assert!(err::<4, 1024>(2, 0..4096).contains("capacity"));
    assert!(err::<3, 1023>(2, 0..2046).contains("WRITE_SIZE"));
    assert!(err::<64, 1024>(2, 0..2048).contains("WRITE_SIZE"));
    assert!(err::<16, 32>(2, 0..64).contains("too small"));
    assert!(err::<16, 8>(4, 0..32).contains("ERASE_SIZE"));
    // The store's figures.
    let s = open(Sim::<8, 4096>::new(2, 0));
    assert_eq!(s.capacity(), 4096 - 16 - 4);
    assert_eq!(s.record_len(1024), 1048);
    assert_eq!(s.saves_per_slot(1024), 3);
    assert_eq!(s.saves_per_slot(s.capacity()), 1);
    assert_eq!(s.saves_per_slot(s.capacity() + 1), 0);
    assert_eq!(s.record_len(usize::MAX), usize::MAX);
    let s = open(Sim::<32, 1024>::new(2, 0));
    assert_eq!(s.capacity(), 1024 - 32 - 4);
}

/// A store on part of a flash touches nothing outside its range.
#[test]
fn range_inside_a_larger_flash() {
    let mut f = Sim::<4, 1024>::new(6, 0);
    for (i, b) in f.mem.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let outside = |f: &Sim<4, 1024>| [f.mem[..2048].to_vec(), f.mem[4096..].to_vec()].concat();
    let before = outside(&f);
    let mut s = Store::new(f, 2048..4096).unwrap();
    for i in 0..20 {
        s.save(&payload(i, &[10, 300, 77])).unwrap();
    }
    let mut s = Store::new(s.into_inner(), 2048..4096).unwrap();
    load_checked(
        &mut s,
        &[(20, &payload(19, &[10, 300, 77]))],
        "offset range",
    );
    assert_eq!(outside(&s.into_inner()), before);
}

#[test]
fn errors_for_bad_calls() {
    let mut s = open(Sim::<4, 1024>::new(2, 0));
    let cap = s.capacity();
    assert_eq!(
        s.save(&vec![0; cap + 1]),
        Err(StoreError::PayloadTooLarge {
            len: cap + 1,
            capacity: cap
        })
    );
    assert_eq!(s.save(&vec![7; cap]), Ok(1));
    let mut small = [0u8; 10];
    assert_eq!(
        s.load(&mut small),
        Err(StoreError::BufferTooSmall {
            needed: cap,
            found: 10
        })
    );
    let mut buf = vec![0; cap];
    assert_eq!(s.load(&mut buf), Ok(Some((1, cap))));
    assert!(buf.iter().all(|&b| b == 7));
}

/// Erases follow the formula of the module docs: with `r` records a slot, one slot erase every
/// `r` saves, the same count on every sector.
#[test]
fn erase_counts_and_wear() {
    // 1 KiB checkpoints, 4 KiB sectors, 4-byte words, one sector a slot: r = 3.
    let mut s = open(Sim::<4, 4096>::new(2, 0));
    let r = s.saves_per_slot(1024);
    assert_eq!((s.record_len(1024), r), (1044, 3));
    let n = 600;
    for i in 0..n {
        s.save(&payload(i, &[1024])).unwrap();
    }
    // The first save goes to blank flash without an erase; then one erase per r saves.
    let expected = ((n - 1) / r) as u32;
    assert_eq!(s.erases(), expected);
    let f = s.into_inner();
    assert_eq!(f.erase_counts.iter().sum::<u32>(), expected);
    assert!(
        f.erase_counts
            .iter()
            .all(|&c| c.abs_diff(expected / 2) <= 1)
    );
    eprintln!(
        "600 saves of 1 KiB on two 4 KiB sectors: {expected} erases ({:?} per sector), {:.3} per save",
        f.erase_counts,
        f64::from(expected) / n as f64
    );
    // Two 16 KiB slots (4 sectors each): r = 15, each sector erased once per 30 saves.
    let mut s = open(Sim::<4, 4096>::new(8, 0));
    assert_eq!(s.saves_per_slot(1024), 15);
    for i in 0..601 {
        s.save(&payload(i, &[1024])).unwrap();
    }
    let f = s.into_inner();
    assert_eq!(f.erase_counts, vec![20; 8]);
}

#[test]
fn write_policy() {
    // Every 3 rounds, no interval, no best.
    let mut p = WritePolicy::new(3, 0, false);
    let saves: Vec<bool> = (0..9)
        .map(|t| {
            let s = p.should_save(t, true);
            if s {
                p.saved(t);
            }
            s
        })
        .collect();
    assert_eq!(
        saves,
        [false, false, true, false, false, true, false, false, true]
    );
    // Only on a new best, at most every 10 units; a throttled best is saved later.
    let mut p = WritePolicy::new(0, 10, true);
    assert!(!p.should_save(0, false));
    assert!(p.should_save(1, true));
    p.saved(1);
    assert!(!p.should_save(2, true));
    assert!(!p.should_save(10, false));
    assert!(p.should_save(11, false));
    // Not saved yet (the save failed): still due.
    assert!(p.should_save(12, false));
    p.saved(12);
    assert!(!p.should_save(30, false));
    // A clock that went backwards allows a due save.
    assert!(p.should_save(5, true));
}

/// A flash whose HAL reports a read error once, on the first read after the armed number of
/// program calls (the read-back of a record that reached flash complete).
struct FlakyRead {
    mem: Vec<u8>,
    arm: Option<usize>,
    fail_read: bool,
}

impl ErrorType for FlakyRead {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for FlakyRead {
    const READ_SIZE: usize = 1;
    fn read(&mut self, off: u32, b: &mut [u8]) -> Result<(), Self::Error> {
        if self.fail_read {
            self.fail_read = false;
            return Err(NorFlashErrorKind::Other);
        }
        let src = self
            .mem
            .get(off as usize..off as usize + b.len())
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        b.copy_from_slice(src);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

impl NorFlash for FlakyRead {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 1024;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.mem[from as usize..to as usize].fill(0xFF);
        Ok(())
    }
    fn write(&mut self, off: u32, b: &[u8]) -> Result<(), Self::Error> {
        for (i, &v) in b.iter().enumerate() {
            let c = &mut self.mem[off as usize + i];
            assert_eq!(*c, 0xFF, "programmed over a byte that is not erased");
            *c = v;
        }
        if let Some(n) = self.arm.as_mut() {
            *n -= 1;
            if *n == 0 {
                self.arm = None;
                self.fail_read = true;
            }
        }
        Ok(())
    }
}

/// A save whose record reached flash complete but whose read-back failed spends its sequence
/// number: the next save gets a new one, and after a reboot the newest successful save loads
/// (with a shared number the scan could pick the save that reported the failure).
#[test]
fn a_failed_save_spends_its_sequence_number() {
    let flash = FlakyRead {
        mem: vec![0xFF; 2048],
        arm: None,
        fail_read: false,
    };
    let mut s = Store::new(flash, 0..2048).unwrap();
    assert_eq!(s.save(&[1u8; 100]).unwrap(), 1);
    assert_eq!(s.save(&[2u8; 100]).unwrap(), 2);
    let mut flash = s.into_inner();
    // Save 3 programs its header, payload and tail (3 program calls); its read-back fails.
    flash.arm = Some(3);
    let mut s = Store::new(flash, 0..2048).unwrap();
    assert!(matches!(s.save(&[3u8; 100]), Err(StoreError::Flash(_))));
    assert_eq!(s.save(&[4u8; 100]).unwrap(), 4);
    let mut buf = [0u8; 200];
    assert_eq!(s.load(&mut buf).unwrap(), Some((4, 100)));
    assert_eq!(buf[..100], [4u8; 100]);
    let mut s = Store::new(s.into_inner(), 0..2048).unwrap();
    assert_eq!(s.load(&mut buf).unwrap(), Some((4, 100)));
    assert_eq!(
        buf[..100],
        [4u8; 100],
        "after a reboot the newest successful save loads"
    );
}
