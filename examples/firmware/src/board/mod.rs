//! What the device boards share: the stack gauge and the end-of-run report.

#[cfg(target_arch = "arm")]
pub mod cortex_m;
#[cfg(target_arch = "riscv32")]
pub mod riscv;

/// The value the gauge paints the free stack with.
const PAINT: u32 = 0xcccc_cccc;

/// The stack gauge: the stack's bounds (from the linker script) and the lowest address found
/// written so far.
pub struct Gauge {
    low: usize,
    high: usize,
    low_water: usize,
}

impl Gauge {
    /// A gauge for the stack `[low, high)`; paints the free part of it (below the caller's stack
    /// pointer `sp`), so that [`Gauge::peak`] later finds the whole run's high-water mark.
    pub fn new(low: usize, high: usize, sp: usize) -> Self {
        let g = Self {
            low: (low + 3) & !3,
            high,
            low_water: high,
        };
        g.paint(Self::top(sp));
        g
    }

    /// The highest address painted for a caller whose stack pointer is `sp`: 32 bytes below it
    /// (the painting loop's own frame lives there).
    fn top(sp: usize) -> usize {
        sp.saturating_sub(32) & !3
    }

    fn paint(&self, top: usize) {
        let mut p = self.low;
        while p < top {
            // SAFETY: `[low, top)` is the free stack: below the caller's frame (the stack grows
            // down, and `top` is below the stack pointer the caller read) and above every static
            // (`low` is the linker's end of `.bss`/heap). Nothing else runs: no interrupt uses
            // the stack except SysTick's counter, which pushes its frame below the live stack
            // pointer, and the gauge only writes below that pointer while no call is active.
            unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
            p += 4;
        }
    }

    /// The lowest address in `[low, top)` whose paint was scrubbed off (`top` if none was), and
    /// notes it as the low-water mark if it is the lowest yet.
    fn scrubbed(&mut self, top: usize) -> usize {
        let mut q = self.low;
        // SAFETY: reads of the free-stack words painted before, all aligned and inside RAM.
        while q < top && unsafe { core::ptr::read_volatile(q as *const u32) } == PAINT {
            q += 4;
        }
        if q < top {
            self.low_water = self.low_water.min(q);
        }
        q
    }

    /// Repaints the free stack up to just below the stack pointer, runs `f`, and returns how
    /// many bytes below that stack pointer `f` wrote (the paint it scrubbed off: a lower bound on
    /// its use only if it reserved stack it never wrote, which compiled Rust does not do for the
    /// buffers it zeroes).
    #[inline(never)]
    pub fn used(&mut self, sp: impl Fn() -> usize, f: &mut dyn FnMut()) -> usize {
        let top = Self::top(sp());
        // What ran since the last painting (it is part of the whole run's peak).
        self.scrubbed(top);
        self.paint(top);
        let start = sp();
        f();
        start.saturating_sub(self.scrubbed(top))
    }

    /// The whole run's peak stack so far: bytes from the top of the stack down to the lowest
    /// word written since [`Gauge::new`] (every phase, the measurements and the console's
    /// formatting included). Call it from the outermost frame (`sp` its stack pointer).
    #[inline(never)]
    pub fn peak(&mut self, sp: usize) -> usize {
        self.scrubbed(Self::top(sp));
        self.high.saturating_sub(self.low_water)
    }
}

/// A board under QEMU: what the workload needs, and the whole run's stack peak.
pub trait Device: npoa_firmware::Board {
    /// Bytes of stack used so far, from the top of the stack (see [`Gauge::peak`]).
    fn stack_peak(&mut self) -> usize;
}

/// Prints the whole run's stack peak and the error of a failed run; `true` if the run
/// succeeded.
pub fn report(board: &mut impl Device, result: Result<(), npoa_firmware::RunError>) -> bool {
    let peak = board.stack_peak();
    let out = board.console();
    match result {
        Ok(()) => {
            core::fmt::Write::write_fmt(out, format_args!("stack whole-run {peak}\n")).is_ok()
        }
        Err(e) => {
            let _ = core::fmt::Write::write_fmt(out, format_args!("error: {e}\n"));
            false
        }
    }
}
