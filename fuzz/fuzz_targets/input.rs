//! Reading fuzz bytes as numbers: a cursor that yields zeros once the input runs out.

pub struct Input<'a>(pub &'a [u8]);

impl Input<'_> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    /// Any `f32` bit pattern (NaN, infinities, subnormals included).
    pub fn raw_f32(&mut self) -> f32 {
        f32::from_bits(self.u32())
    }

    /// A finite value in `[-4, 4]` on a 2⁻¹³ grid.
    pub fn small(&mut self) -> f32 {
        let v = u16::from_le_bytes([self.byte(), self.byte()]);
        (f32::from(v) - 32768.0) / 8192.0
    }

    /// `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + usize::from(self.byte()) % (hi - lo + 1)
    }
}
