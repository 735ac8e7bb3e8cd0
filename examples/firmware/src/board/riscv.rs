//! QEMU's RISC-V `virt` board: the NS16550 UART at `0x1000_0000` as console, the SiFive test
//! device at `0x10_0000` to exit, `minstret` as the instruction counter (exact under
//! `-icount`: QEMU then derives the retired-instruction count from the instruction counter).

use core::fmt::{self, Write};

const UART: usize = 0x1000_0000;
const TEST: usize = 0x0010_0000;

/// The board.
pub struct Virt {
    out: Uart,
    gauge: super::Gauge,
}

struct Uart;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            // SAFETY: the transmit register of the board's UART (QEMU sends at once; there is
            // no FIFO to wait for).
            unsafe { core::ptr::write_volatile(UART as *mut u8, b) };
        }
        Ok(())
    }
}

unsafe extern "C" {
    /// The low end of the stack (above `.bss` and the empty heap), from riscv-rt's `link.x`
    /// (0.18: `.stack` runs from `__estack` up to `__sstack`, the stack grows down from the
    /// latter).
    static __estack: u32;
    /// The top of the stack (`_stack_start`, the end of RAM), from riscv-rt's `link.x`.
    static __sstack: u32;
}

fn sp() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer into a register.
    unsafe { core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

fn instret() -> u64 {
    loop {
        let (hi, lo, hi2): (u32, u32, u32);
        // SAFETY: reads of the machine-mode counters (M mode: always accessible).
        unsafe {
            core::arch::asm!(
                "csrr {0}, minstreth",
                "csrr {1}, minstret",
                "csrr {2}, minstreth",
                out(reg) hi, out(reg) lo, out(reg) hi2,
                options(nomem, nostack)
            );
        }
        if hi == hi2 {
            return (u64::from(hi) << 32) | u64::from(lo);
        }
    }
}

impl Virt {
    /// The board (nothing to set up).
    pub fn take() -> Self {
        // The symbols' addresses only (no read).
        let (low, high) = (
            core::ptr::addr_of!(__estack) as usize,
            core::ptr::addr_of!(__sstack) as usize,
        );
        let mut b = Self {
            out: Uart,
            gauge: super::Gauge::new(low, high, sp()),
        };
        let _ = writeln!(b.out, "counter: minstret (exact under -icount)");
        b
    }
}

impl npoa_firmware::Board for Virt {
    fn console(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    fn instructions(&mut self) -> Option<u64> {
        Some(instret())
    }

    fn stack_used(&mut self, f: &mut dyn FnMut()) -> Option<usize> {
        Some(self.gauge.used(sp, f))
    }
}

impl super::Device for Virt {
    fn stack_peak(&mut self) -> usize {
        self.gauge.peak(sp())
    }
}

/// Ends the QEMU run through the test device: `0x5555` passes, `0x1_3333` fails (exit code 1).
pub fn exit(ok: bool) -> ! {
    let code: u32 = if ok { 0x5555 } else { 0x0001_3333 };
    // SAFETY: the test device's register; the write powers the machine off.
    unsafe { core::ptr::write_volatile(TEST as *mut u32, code) };
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = writeln!(Uart, "panic: {info}");
    exit(false)
}
