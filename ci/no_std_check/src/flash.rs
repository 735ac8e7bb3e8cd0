//! A freestanding binary that opens the flash checkpoint store (`npoa::store`, feature
//! `flash`) on a RAM-backed NOR flash, saves a payload and loads the newest one back: the
//! store's footprint figure (`scripts/firmware.sh`, thumbv7em-none-eabihf). Built with the
//! `flash-baseline` feature it does the same flash accesses without the store, so that the
//! difference of the two `.text` sizes is what the store adds. Linked and measured, not run.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::hint::black_box;
use core::panic::PanicInfo;

#[path = "ram_flash.rs"]
mod ram_flash;

use ram_flash::RamFlash;

static PAYLOAD: [u8; 100] = [0x5A; 100];

// SAFETY: `_start` is the process entry point required by `-nostartfiles`; no other symbol in
// this freestanding binary (or in `npoa` and its dependencies) is called `_start`. It never
// returns.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let flash = black_box(RamFlash([0xFF; 2048]));
    let payload: &[u8] = black_box(&PAYLOAD);
    let mut buf = [0u8; 128];
    #[cfg(not(feature = "flash-baseline"))]
    {
        if let Ok(mut store) = npoa::store::Store::new(flash, black_box(0..2048)) {
            let _ = black_box(store.save(payload));
            let _ = black_box(store.load(&mut buf));
            black_box(store.erases());
        }
    }
    #[cfg(feature = "flash-baseline")]
    {
        use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
        let mut flash = flash;
        let _ = black_box(flash.erase(black_box(0), black_box(1024)));
        let _ = black_box(flash.write(black_box(0), payload));
        let _ = black_box(flash.read(black_box(0), &mut buf));
    }
    black_box(&buf);
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    #[allow(clippy::empty_loop)]
    loop {}
}
