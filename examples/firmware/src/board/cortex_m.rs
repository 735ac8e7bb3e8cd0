//! Cortex-M under QEMU: semihosting console and exit, SysTick as an instruction counter.
//!
//! With `-icount shift=0` QEMU's virtual clock advances exactly 1 ns per instruction, and
//! SysTick (processor clock) counts that clock at the board's frequency (25 MHz on MPS2, 16 MHz
//! on the micro:bit): one tick is a fixed number of instructions. [`CortexM::take`] measures that
//! number on a loop of a known 2²¹ instructions and prints it; SysTick's wrap interrupt extends
//! the 24-bit counter.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use cortex_m_semihosting::{debug, hio};

const RELOAD: u32 = 0x00ff_ffff;
static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    // The only writer (a single core; a load and a store, which thumbv6m has).
    WRAPS.store(
        WRAPS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// The board: console, counter, stack bounds.
pub struct CortexM {
    out: Console,
    _syst: SYST,
    /// Instructions per tick, in sixteenths (640 on MPS2, 1000 on the micro:bit).
    per_tick16: u64,
    gauge: super::Gauge,
}

/// The semihosting console (the host's stdout).
struct Console(Option<hio::HostStream>);

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match &mut self.0 {
            Some(h) => h.write_all(s.as_bytes()).map_err(|()| fmt::Error),
            None => Err(fmt::Error),
        }
    }
}

unsafe extern "C" {
    /// The low end of the stack (end of `.bss`), from cortex-m-rt's `link.x`.
    static _stack_end: u32;
    /// The top of the stack (the end of RAM), from cortex-m-rt's `link.x`.
    static _stack_start: u32;
}

fn sp() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer into a register; no memory is touched.
    unsafe {
        core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

/// Exactly `2·n` instructions (`subs`, `bne`), plus the call.
#[inline(never)]
fn spin(n: u32) {
    // SAFETY: a register-only loop.
    unsafe {
        core::arch::asm!("1:", "subs {0}, #1", "bne 1b", inout(reg) n => _, options(nomem, nostack));
    }
}

impl CortexM {
    /// Takes the core peripherals (once), starts SysTick and calibrates it.
    pub fn take() -> Self {
        let out = Console(hio::hstdout().ok());
        let Some(p) = cortex_m::Peripherals::take() else {
            exit(false)
        };
        let mut syst = p.SYST;
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        // The counter starts at 0 and loads RELOAD on its first tick (no wrap interrupt then).
        while SYST::get_current() == 0 {}
        // The symbols' addresses only (no read).
        let (low, high) = (
            core::ptr::addr_of!(_stack_end) as usize,
            core::ptr::addr_of!(_stack_start) as usize,
        );
        let mut b = Self {
            out,
            _syst: syst,
            per_tick16: 16,
            gauge: super::Gauge::new(low, high, sp()),
        };
        const N: u32 = 1 << 20;
        let t0 = b.ticks();
        spin(N);
        let ticks = b.ticks() - t0;
        // The ratio is 10⁹ / (clock in Hz): 40 on MPS2 (25 MHz), 62.5 on the micro:bit (16 MHz);
        // rounded to a sixteenth, the loop's call overhead and the reads' 1-tick jitter vanish.
        // Integers only: the counter adds no software `f64` to the image or to what it counts.
        let ticks = ticks.max(1);
        b.per_tick16 = (u64::from(2 * N) * 16 + ticks / 2) / ticks;
        let _ = writeln!(
            b.out,
            "counter: SysTick, {}.{:04} instructions per tick ({ticks} ticks for a 2^21-instruction loop)",
            b.per_tick16 / 16,
            b.per_tick16 % 16 * 625
        );
        b
    }

    /// Ticks since start: SysTick's wrap count (its interrupt, which runs as soon as the
    /// counter wraps) and the current value, read until no wrap came in between.
    fn ticks(&self) -> u64 {
        loop {
            let w0 = WRAPS.load(Ordering::Relaxed);
            let cvr = SYST::get_current();
            if WRAPS.load(Ordering::Relaxed) == w0 {
                return u64::from(w0) * u64::from(RELOAD + 1) + u64::from(RELOAD - cvr);
            }
        }
    }
}

impl npoa_firmware::Board for CortexM {
    fn console(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    fn instructions(&mut self) -> Option<u64> {
        Some((self.ticks() * self.per_tick16 + 8) / 16)
    }

    fn stack_used(&mut self, f: &mut dyn FnMut()) -> Option<usize> {
        Some(self.gauge.used(sp, f))
    }
}

impl super::Device for CortexM {
    fn stack_peak(&mut self) -> usize {
        self.gauge.peak(sp())
    }
}

/// Ends the QEMU run with the status.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = writeln!(Console(hio::hstdout().ok()), "panic: {info}");
    exit(false)
}
