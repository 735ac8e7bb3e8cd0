//! The firmware example's entry points: a Cortex-M board (semihosting console, SysTick counter),
//! a RISC-V board (UART console, `minstret` counter), and the host reference run.
//!
//! ```text
//! cargo run --release                                     # host: the reference bits
//! cargo build --release --target thumbv7em-none-eabihf    # Cortex-M4F, QEMU -M mps2-an386
//! qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -semihosting-config enable=on,target=native \
//!     -icount shift=0,align=off,sleep=off -kernel target/thumbv7em-none-eabihf/release/npoa-firmware
//! ```
//! `scripts/firmware.sh` (from the repository root) runs every board and compares the bits.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod board;

#[cfg(all(target_arch = "arm", target_os = "none"))]
#[cortex_m_rt::entry]
fn main() -> ! {
    let mut b = board::cortex_m::CortexM::take();
    let result = npoa_firmware::run(&mut b);
    let ok = board::report(&mut b, result);
    board::cortex_m::exit(ok)
}

#[cfg(all(target_arch = "riscv32", target_os = "none"))]
#[riscv_rt::entry]
fn main() -> ! {
    let mut b = board::riscv::Virt::take();
    let result = npoa_firmware::run(&mut b);
    let ok = board::report(&mut b, result);
    board::riscv::exit(ok)
}

/// The host reference: the same work, printed to stdout; nothing is measured.
#[cfg(not(target_os = "none"))]
fn main() -> std::process::ExitCode {
    struct Host(String);
    impl npoa_firmware::Board for Host {
        fn console(&mut self) -> &mut dyn core::fmt::Write {
            &mut self.0
        }
        fn instructions(&mut self) -> Option<u64> {
            None
        }
        fn stack_used(&mut self, f: &mut dyn FnMut()) -> Option<usize> {
            f();
            None
        }
    }
    let mut host = Host(String::new());
    let result = npoa_firmware::run(&mut host);
    print!("{}", host.0);
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
