//! Reading fuzz bytes as numbers: a cursor that yields zeros once the input runs out.

use npoa::optim::Rule;

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

    /// One of `Rule::EXAMPLES` (so that a new rule is fuzzed without editing the targets): as
    /// it is, or with its hyper-parameters drawn from the input (`small` values if `bounded`,
    /// else any bit pattern: out-of-range ones must be refused). A rule without a line below
    /// keeps its example's parameters.
    #[allow(dead_code)] // not every target trains
    pub fn rule(&mut self, bounded: bool) -> Rule {
        let rule = Rule::EXAMPLES[usize::from(self.byte()) % Rule::EXAMPLES.len()];
        if self.byte() % 2 == 0 {
            return rule;
        }
        let mut val = || {
            if bounded {
                self.small()
            } else {
                self.raw_f32()
            }
        };
        match rule {
            Rule::Momentum { nesterov, .. } => Rule::Momentum {
                momentum: val(),
                dampening: val(),
                nesterov,
            },
            Rule::Adam { .. } => Rule::Adam {
                beta1: val(),
                beta2: val(),
                eps: val(),
            },
            Rule::AdamW { .. } => Rule::AdamW {
                beta1: val(),
                beta2: val(),
                eps: val(),
            },
            Rule::Ftrl { .. } => Rule::Ftrl {
                beta: val(),
                l1: val(),
                l2: val(),
            },
            Rule::AdaGrad { .. } => Rule::AdaGrad { eps: val() },
            Rule::Nlms { .. } => Rule::Nlms { eps: val() },
            Rule::Averaged { .. } => Rule::Averaged {
                start: self.range(0, 20) as u64,
            },
            r => r,
        }
    }
}
