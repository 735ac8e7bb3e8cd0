//! The sample window of a stream: a ring buffer or a reservoir, on the stack.

use crate::Error;
use crate::check;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// Which samples a [`Window`] keeps once it is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// The most recent `N` samples: each new one overwrites the oldest (a ring buffer).
    Sliding,
    /// A uniform sample of every sample offered so far (Vitter's algorithm R): the `i`-th
    /// sample (from 0) replaces a random slot with probability `N / (i + 1)`. The generator
    /// is xoshiro256++ seeded with `seed`; a slot is drawn by a 64×64 → 128-bit multiply
    /// without rejection (bounded work), whose bias is below `(i + 1) / 2⁶⁴`.
    Reservoir {
        /// The generator's seed.
        seed: u64,
    },
}

/// A fixed-capacity window of `N` samples with `D` features each, on the stack (no heap).
///
/// Rows live in slots `0..len()`, contiguous, so [`x`](Self::x) and [`y`](Self::y) feed the
/// kernels directly. With [`Sampling::Sliding`] the slots fill in arrival order and then wrap:
/// slot [`next`](Self::next) holds the oldest sample, and [`chronological`](Self::chronological)
/// walks them oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Window<const N: usize, const D: usize> {
    pub(crate) x: [[f32; D]; N],
    pub(crate) y: [f32; N],
    pub(crate) len: usize,
    pub(crate) next: usize,
    pub(crate) seen: u64,
    pub(crate) rng: Option<Xoshiro256PlusPlus>,
}

impl<const N: usize, const D: usize> Default for Window<N, D> {
    fn default() -> Self {
        Self::new(Sampling::Sliding)
    }
}

impl<const N: usize, const D: usize> Window<N, D> {
    /// An empty window. `N` and `D` must be at least 1 (a compile-time error otherwise).
    pub fn new(sampling: Sampling) -> Self {
        const {
            assert!(
                N > 0 && D > 0,
                "a window needs N >= 1 samples of D >= 1 features"
            )
        };
        Self {
            x: [[0.0; D]; N],
            y: [0.0; N],
            len: 0,
            next: 0,
            seen: 0,
            rng: match sampling {
                Sampling::Sliding => None,
                Sampling::Reservoir { seed } => Some(Xoshiro256PlusPlus::seed_from_u64(seed)),
            },
        }
    }

    /// Offers a sample. Returns the slot it was written to, or `None` if the reservoir kept
    /// its current samples instead.
    ///
    /// # Errors
    /// [`Error::NonFinite`] if `x` or `y` holds a NaN or an infinity; the window is unchanged.
    pub fn push(&mut self, x: &[f32; D], y: f32) -> Result<Option<usize>, Error> {
        check::check_finite("x", x)?;
        check::check_finite("y", &[y])?;
        Ok(self.put(x, y))
    }

    /// [`push`](Self::push) without the checks.
    pub(super) fn put(&mut self, x: &[f32; D], y: f32) -> Option<usize> {
        let i = self.seen;
        self.seen = self.seen.saturating_add(1);
        let slot = if self.len < N {
            self.len += 1;
            Some(self.len - 1)
        } else if let Some(rng) = self.rng.as_mut() {
            // Algorithm R: keep the new sample with probability N / (i + 1), in a uniform slot.
            let j = ((u128::from(rng.next_u64()) * u128::from(i.saturating_add(1))) >> 64) as u64;
            usize::try_from(j).ok().filter(|&j| j < N)
        } else {
            Some(self.next)
        };
        if let Some(s) = slot {
            if let (Some(row), Some(t)) = (self.x.get_mut(s), self.y.get_mut(s)) {
                *row = *x;
                *t = y;
            }
            if self.rng.is_none() {
                self.next = (s + 1) % N;
            }
        }
        slot
    }

    /// Samples held (at most `N`).
    pub const fn len(&self) -> usize {
        self.len
    }

    /// No samples yet.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Samples offered so far (kept or not).
    pub const fn seen(&self) -> u64 {
        self.seen
    }

    /// The slot the next sample goes to in a sliding window (the oldest sample's, once full).
    pub const fn next(&self) -> usize {
        self.next
    }

    /// The features of the samples held, row after row (`len() · D` floats, slot order).
    pub fn x(&self) -> &[f32] {
        let rows = self.x.get(..self.len).unwrap_or_default();
        rows.as_flattened()
    }

    /// The targets of the samples held (`len()` floats, slot order).
    pub fn y(&self) -> &[f32] {
        self.y.get(..self.len).unwrap_or_default()
    }

    /// Slot `i`'s sample.
    pub fn get(&self, i: usize) -> Option<(&[f32; D], f32)> {
        if i < self.len {
            Some((self.x.get(i)?, *self.y.get(i)?))
        } else {
            None
        }
    }

    /// The samples held, oldest first for a sliding window (slot order for a reservoir).
    pub fn chronological(&self) -> impl Iterator<Item = (&[f32; D], f32)> + '_ {
        let start = if self.rng.is_none() && self.len == N {
            self.next
        } else {
            0
        };
        (0..self.len).filter_map(move |k| self.get((start + k) % N))
    }

    /// Rows `start .. start + len` (clamped to the samples held), as `(x, y)`.
    pub(super) fn rows(&self, start: usize, len: usize) -> (&[f32], &[f32]) {
        let end = start.saturating_add(len).min(self.len);
        let start = start.min(end);
        let xs = self.x.get(start..end).unwrap_or_default();
        let ys = self.y.get(start..end).unwrap_or_default();
        (xs.as_flattened(), ys)
    }

    /// The held rows' features, for standardising them in place.
    pub(super) fn x_mut(&mut self) -> &mut [f32] {
        let len = self.len.min(N);
        self.x.get_mut(..len).unwrap_or_default().as_flattened_mut()
    }

    /// Keeps only the newest `k` samples of a sliding window (laid out again from slot 0,
    /// oldest first) and forgets the rest; a reservoir window, whose slots have no age, is
    /// cleared. For a restart on drift: the samples before the change describe data that
    /// is gone.
    pub(crate) fn keep_newest(&mut self, k: usize) {
        if self.rng.is_some() || k == 0 {
            self.clear();
            return;
        }
        let k = k.min(self.len);
        // In place, with no second buffer: rotate the ring so that slot 0 is the oldest
        // (three reversals), then move the newest `k` to the front.
        let start = if self.len == N { self.next } else { 0 };
        rotate(&mut self.x, start);
        rotate(&mut self.y, start);
        let skip = self.len - k;
        for i in 0..k {
            if let (Some(&r), Some(&t)) = (self.x.get(skip + i), self.y.get(skip + i))
                && let (Some(xr), Some(yt)) = (self.x.get_mut(i), self.y.get_mut(i))
            {
                *xr = r;
                *yt = t;
            }
        }
        self.len = k;
        self.next = if k == N { 0 } else { k };
        self.seen = k as u64;
    }

    /// Forgets every sample (the reservoir's generator keeps its position).
    pub fn clear(&mut self) {
        self.len = 0;
        self.next = 0;
        self.seen = 0;
    }
}

/// Rotates `v` left by `mid` (`mid` beyond the length: no change), by three reversals.
fn rotate<T>(v: &mut [T], mid: usize) {
    if mid == 0 || mid >= v.len() {
        return;
    }
    if let Some(a) = v.get_mut(..mid) {
        a.reverse();
    }
    if let Some(b) = v.get_mut(mid..) {
        b.reverse();
    }
    v.reverse();
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::{Sampling, Window};
    use std::vec::Vec;

    /// `keep_newest` against the chronological order, at every fill and wrap position and
    /// every `k`.
    #[test]
    fn keep_newest_keeps_the_newest_in_order() {
        for pushed in 0..20u16 {
            for k in 0..8 {
                let mut w = Window::<5, 2>::new(Sampling::Sliding);
                for i in 0..pushed {
                    w.put(&[f32::from(i), -f32::from(i)], f32::from(i));
                }
                let before: Vec<f32> = w.chronological().map(|(_, y)| y).collect();
                w.keep_newest(k);
                let after: Vec<f32> = w.chronological().map(|(_, y)| y).collect();
                let keep = k.min(before.len());
                assert_eq!(
                    after,
                    before[before.len() - keep..],
                    "pushed {pushed}, k {k}"
                );
                assert!(w.chronological().all(|(x, y)| x[0] == y && x[1] == -y));
                // The ring continues where it left off: the next sample is the newest.
                w.put(&[99.0, -99.0], 99.0);
                assert_eq!(w.chronological().last().map(|(_, y)| y), Some(99.0));
            }
        }
        let mut r = Window::<5, 2>::new(Sampling::Reservoir { seed: 1 });
        r.put(&[1.0, 1.0], 1.0);
        r.keep_newest(3);
        assert!(r.is_empty());
    }
}
