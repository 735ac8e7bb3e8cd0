//! What the device boards share: the stack gauge and the end-of-run report.

#[cfg(target_arch = "arm")]
pub mod cortex_m;
#[cfg(target_arch = "riscv32")]
pub mod riscv;

/// The value the gauge paints the free stack with.
const PAINT: u32 = 0xcccc_cccc;

/// Paints the free stack from `low` up to just below the current stack pointer, runs `f`, and
/// returns how many bytes below that stack pointer `f` wrote (the paint it scrubbed off: a
/// lower bound on its use only if it reserved stack it never wrote, which compiled Rust does
/// not do for the buffers it zeroes).
#[inline(never)]
pub fn stack_used(low: usize, sp: impl Fn() -> usize, f: &mut dyn FnMut()) -> usize {
    let top = sp().saturating_sub(32) & !3;
    let mut p = (low + 3) & !3;
    while p < top {
        // SAFETY: `[low, top)` is the free stack: below this function's frame (the stack grows
        // down, and `top` is below the stack pointer read above) and above every static (`low`
        // is the linker's end of `.bss`/heap). Nothing else runs: no interrupt uses the stack
        // except SysTick's counter, which pushes its frame below the live stack pointer, and
        // the gauge only writes below that pointer while no call is active.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
    let start = sp();
    f();
    let mut q = (low + 3) & !3;
    // SAFETY: reads of the same free-stack words, all aligned and inside RAM.
    while q < top && unsafe { core::ptr::read_volatile(q as *const u32) } == PAINT {
        q += 4;
    }
    start.saturating_sub(q)
}

/// Prints the error of a failed run; `true` if the run succeeded.
pub fn report(
    board: &mut impl npoa_firmware::Board,
    result: Result<(), npoa_firmware::RunError>,
) -> bool {
    match result {
        Ok(()) => true,
        Err(e) => {
            let _ = core::fmt::Write::write_fmt(board.console(), format_args!("error: {e}\n"));
            false
        }
    }
}
