//! The borrowed data view and the batch order: layer 1.
//!
//! A [`Dataset`] is checked once (shapes and finiteness, one pass) and then borrowed by every
//! training loop. [`Epochs`] gives each epoch's order of mini-batches: contiguous ranges of
//! rows, shuffled by a seeded permutation that needs no memory (a keyed Feistel network with
//! cycle walking), so an epoch is deterministic for a seed and allocation-free for any number
//! of batches. Rows are not reordered: shuffle them once beforehand if their order carries
//! structure.
//!
//! ```
//! use npoa::dataset::{Dataset, Epochs};
//! let x = [0.0f32, 1.0, 2.0, 3.0, 4.0];
//! let y = [0.0f32, 2.0, 4.0, 6.0, 8.0];
//! let data = Dataset::new(&x, &y, 1)?;
//! let mut epochs = Epochs::new(&data, 2, true, 7);
//! let mut seen = 0;
//! for (xb, yb) in epochs.next_pass().batches() {
//!     assert_eq!(xb.len(), yb.len());
//!     seen += yb.len();
//! }
//! assert_eq!(seen, 5);
//! # Ok::<(), npoa::Error>(())
//! ```

use crate::Error;
use crate::check::{check_finite, check_len};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// A validated, borrowed data set: `n` samples of `d` features, row-major.
///
/// [`Dataset::new`] checks the shapes and the values once; training then reads the rows
/// without further checks or copies.
///
/// ```
/// use npoa::{Dataset, Error};
///
/// // 3 samples of 2 features, one row after the other, and their targets.
/// let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let y = [10.0f32, 20.0, 30.0];
/// let data = Dataset::new(&x, &y, 2)?;
/// assert_eq!((data.len(), data.features()), (3, 2));
/// assert_eq!(data.rows(1, 2), (&x[2..], &y[1..]));
///
/// // Bad shapes and values are errors, found before any training.
/// assert!(matches!(Dataset::new(&x, &y[..2], 2), Err(Error::LengthMismatch { .. })));
/// assert!(matches!(Dataset::new(&x, &y, 0), Err(Error::ZeroFeatures)));
/// let with_nan = [1.0f32, f32::NAN];
/// assert!(matches!(Dataset::new(&with_nan, &y[..1], 2), Err(Error::NonFinite { .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Dataset<'a> {
    x: &'a [f32],
    y: &'a [f32],
    d: usize,
}

impl<'a> Dataset<'a> {
    /// A dataset whose checks the caller already did (an owner that checked at construction).
    #[cfg(feature = "std")]
    pub(crate) const fn prechecked(x: &'a [f32], y: &'a [f32], d: usize) -> Self {
        Self { x, y, d }
    }

    /// Checks shapes and values once (one pass over the data), so that training needs no
    /// further checks.
    ///
    /// # Errors
    /// [`Error::ZeroFeatures`], [`Error::EmptyBatch`], [`Error::LengthMismatch`] if
    /// `x.len() != y.len()·d`, [`Error::NonFinite`] for a NaN or infinity in `x` or `y`.
    pub fn new(x: &'a [f32], y: &'a [f32], d: usize) -> Result<Self, Error> {
        if d == 0 {
            return Err(Error::ZeroFeatures);
        }
        if y.is_empty() {
            return Err(Error::EmptyBatch);
        }
        let expected = y.len().saturating_mul(d);
        check_len("x", x.len(), expected)?;
        check_finite("x", x)?;
        check_finite("y", y)?;
        Ok(Self { x, y, d })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Always `false`: a data set has at least one sample.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.d
    }

    /// The features, row-major.
    pub fn x(&self) -> &'a [f32] {
        self.x
    }

    /// The targets.
    pub fn y(&self) -> &'a [f32] {
        self.y
    }

    /// Rows `start..start + len` (clamped to the data), as `(x, y)`.
    pub fn rows(&self, start: usize, len: usize) -> (&'a [f32], &'a [f32]) {
        let n = self.y.len();
        let s = start.min(n);
        let e = s.saturating_add(len).min(n);
        let x = self.x.get(s * self.d..e * self.d).unwrap_or(&[]);
        let y = self.y.get(s..e).unwrap_or(&[]);
        (x, y)
    }
}

/// The batching of a run: batch size, number of batches, and the seeded generator of each
/// epoch's batch order.
#[derive(Debug, Clone)]
pub struct Epochs<'d, 'a> {
    data: &'d Dataset<'a>,
    batch: usize,
    batches: u64,
    shuffle: bool,
    rng: Xoshiro256PlusPlus,
}

impl<'d, 'a> Epochs<'d, 'a> {
    /// Batches of `batch_size` rows (clamped to `1..=n`; the last one may be shorter), in an
    /// order shuffled every epoch if `shuffle`, from the generator seeded with `seed`.
    pub fn new(data: &'d Dataset<'a>, batch_size: usize, shuffle: bool, seed: u64) -> Self {
        let n = data.len();
        let batch = batch_size.clamp(1, n.max(1));
        Self {
            data,
            batch,
            batches: n.div_ceil(batch) as u64,
            shuffle,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The next epoch, with its own shuffled batch order.
    pub fn next_pass(&mut self) -> Pass<'d, 'a> {
        Pass {
            data: self.data,
            batch: self.batch,
            batches: self.batches,
            key: self.shuffle.then(|| self.rng.next_u64()),
        }
    }

    /// The generator's state (32 bytes, little-endian words), for a checkpoint.
    pub(crate) fn rng_state(&self) -> [u8; 32] {
        self.rng.state()
    }

    /// Continues from a generator state taken by [`rng_state`](Self::rng_state) (all zeros
    /// is not a reachable state; [`SeedableRng::from_seed`] maps it to another).
    pub(crate) fn set_rng_state(&mut self, state: [u8; 32]) {
        self.rng = Xoshiro256PlusPlus::from_seed(state);
    }

    /// The pass of an epoch whose key was already drawn (`key` ignored without shuffling).
    pub(crate) fn pass_with_key(&self, key: u64) -> Pass<'d, 'a> {
        Pass {
            data: self.data,
            batch: self.batch,
            batches: self.batches,
            key: self.shuffle.then_some(key),
        }
    }
}

/// One epoch's batches over a data set, in a given order.
#[derive(Debug, Clone, Copy)]
pub struct Pass<'d, 'a> {
    data: &'d Dataset<'a>,
    batch: usize,
    batches: u64,
    /// Shuffling key of this epoch's batch order (`None`: in order).
    key: Option<u64>,
}

impl<'d, 'a> Pass<'d, 'a> {
    /// The data set the pass covers.
    pub fn data(&self) -> &'d Dataset<'a> {
        self.data
    }

    /// The epoch's batches, `(x, y)` row ranges, in this pass's order.
    pub fn batches(&self) -> impl Iterator<Item = (&'a [f32], &'a [f32])> + '_ {
        self.batches_from(0)
    }

    /// The shuffling key of this pass (`None`: in order).
    pub(crate) fn key(&self) -> Option<u64> {
        self.key
    }

    /// The epoch's batches from the `first`-th on (a run resumed inside an epoch).
    pub(crate) fn batches_from(
        &self,
        first: u64,
    ) -> impl Iterator<Item = (&'a [f32], &'a [f32])> + '_ {
        let order = self.order();
        (first.min(self.batches)..self.batches).map(move |k| {
            let bi = order.as_ref().map_or(k, |p| p.get(k));
            self.data
                .rows((bi as usize).saturating_mul(self.batch), self.batch)
        })
    }

    /// Rows per batch (the last batch may be shorter).
    pub(crate) fn batch_len(&self) -> usize {
        self.batch
    }

    /// Number of batches.
    pub(crate) fn batch_count(&self) -> u64 {
        self.batches
    }

    /// The order of this pass's batches: batch `k` is `order.get(k)` (`None`: in order).
    pub(crate) fn order(&self) -> Option<Permutation> {
        self.key.map(|key| Permutation::new(self.batches, key))
    }
}

/// A seeded permutation of `0..m` without memory: a 4-round Feistel network on the smallest
/// even number of bits covering `m`, with cycle walking back into range. `i` must be below `m`
/// (every caller's is); a larger one is taken as `m − 1`, which keeps the 64-bit division
/// (860 bytes of software on a 32-bit core) out of the firmware.
#[cfg(test)]
pub(crate) fn permute(i: u64, m: u64, key: u64) -> u64 {
    Permutation::new(m, key).get(i)
}

/// [`permute`] for one `(m, key)`, with its per-permutation set-up (the width, the round
/// keys) done once: `get(i)` is `permute(i, m, key)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Permutation {
    m: u64,
    half: u32,
    mask: u64,
    /// `key.rotate_left(16·round) ^ round` for the four rounds.
    keys: [u64; 4],
}

impl Permutation {
    /// The permutation of `0..m` for `key`.
    pub(crate) fn new(m: u64, key: u64) -> Self {
        let bits = (64 - m.saturating_sub(1).leading_zeros()).max(2);
        let bits = bits + (bits & 1);
        let half = bits / 2;
        Self {
            m,
            half,
            mask: (1u64 << half) - 1,
            keys: core::array::from_fn(|r| key.rotate_left(r as u32 * 16) ^ r as u64),
        }
    }

    /// The image of `i` (taken as `m − 1` if larger).
    #[inline]
    pub(crate) fn get(&self, i: u64) -> u64 {
        let m = self.m;
        if m <= 1 {
            return 0;
        }
        let (half, mask) = (self.half, self.mask);
        let mut v = i.min(m - 1);
        loop {
            let (mut l, mut r) = (v >> half, v & mask);
            for k in self.keys {
                let f = mix(r ^ k) & mask;
                (l, r) = (r, l ^ f);
            }
            v = (l << half) | r;
            if v < m {
                return v;
            }
        }
    }
}

/// On small targets the order is never tabulated (1 KiB of stack): an uninhabited stand-in,
/// so that an `Option<Tabled>` takes no stack either.
#[cfg(target_os = "none")]
#[derive(Debug, Clone)]
pub(crate) enum Tabled {}

#[cfg(target_os = "none")]
impl Permutation {
    /// Never tabulated on a small target.
    pub(crate) fn tabled(&self) -> Option<Tabled> {
        None
    }
}

#[cfg(target_os = "none")]
impl Tabled {
    /// Not reachable (no value exists).
    pub(crate) fn get(&self, _i: u64) -> u64 {
        match *self {}
    }
}

/// A [`Permutation`] of at most 2¹⁶ elements with its four round functions tabulated
/// (`4 × 2^half ≤ 1024` bytes): `get(i)` is the permutation's, at a table look-up per round
/// instead of a SplitMix64 finaliser (the per-sample order of batches of one row).
#[cfg(not(target_os = "none"))]
#[derive(Debug, Clone)]
pub(crate) struct Tabled {
    m: u64,
    half: u32,
    mask: u64,
    rounds: [[u8; 256]; 4],
}

#[cfg(not(target_os = "none"))]
impl Permutation {
    /// The tabulated form, for `half ≤ 8` (at most 2¹⁶ elements); `None` otherwise.
    pub(crate) fn tabled(&self) -> Option<Tabled> {
        if self.half > 8 {
            return None;
        }
        let mut rounds = [[0u8; 256]; 4];
        for (t, k) in rounds.iter_mut().zip(self.keys) {
            for (r, f) in t.iter_mut().enumerate().take(1 << self.half) {
                // `mask < 256`: the value fits a byte.
                *f = (mix(r as u64 ^ k) & self.mask) as u8;
            }
        }
        Some(Tabled {
            m: self.m,
            half: self.half,
            mask: self.mask,
            rounds,
        })
    }
}

#[cfg(not(target_os = "none"))]
impl Tabled {
    /// The image of `i` (taken as `m − 1` if larger), as [`Permutation::get`].
    #[inline]
    pub(crate) fn get(&self, i: u64) -> u64 {
        let m = self.m;
        if m <= 1 {
            return 0;
        }
        let (half, mask) = (self.half, self.mask);
        let mut v = i.min(m - 1);
        loop {
            let (mut l, mut r) = (v >> half, v & mask);
            for t in &self.rounds {
                let f = t.get((r & 0xff) as usize).copied().unwrap_or(0);
                (l, r) = (r, l ^ u64::from(f));
            }
            v = (l << half) | r;
            if v < m {
                return v;
            }
        }
    }
}

/// The SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn the_tabled_permutation_is_the_permutation() {
        use super::Permutation;
        for m in [
            0u64, 1, 2, 3, 4, 5, 15, 16, 17, 100, 255, 256, 257, 4096, 4097, 65_535, 65_536,
        ] {
            for key in [0u64, 1, 0xdead_beef, u64::MAX] {
                let p = Permutation::new(m, key);
                let t = p.tabled().expect("at most 2^16 elements");
                for i in (0..m)
                    .step_by(((m / 3000) as usize).max(1))
                    .chain([m, m + 5])
                {
                    assert_eq!(t.get(i), permute(i, m, key), "m={m} key={key} i={i}");
                    assert_eq!(p.get(i), permute(i, m, key), "m={m} key={key} i={i}");
                }
            }
        }
        assert!(Permutation::new(65_537, 7).tabled().is_none());
    }

    #[test]
    fn permute_is_a_bijection() {
        for m in 1..300u64 {
            for key in [0u64, 1, 0xdead_beef, u64::MAX] {
                let mut seen = [false; 300];
                for i in 0..m {
                    let p = permute(i, m, key) as usize;
                    assert!(p < m as usize);
                    assert!(!seen[p], "m={m} key={key} repeats {p}");
                    seen[p] = true;
                }
            }
        }
    }

    #[test]
    fn permute_depends_on_key() {
        let a: [u64; 16] = core::array::from_fn(|i| permute(i as u64, 16, 1));
        let b: [u64; 16] = core::array::from_fn(|i| permute(i as u64, 16, 2));
        assert_ne!(a, b);
    }
}
