//! A RAM-backed NOR flash (two 1 KiB sectors, 4-byte words) for the flash store's footprint and
//! no-panic figures: erase sets bytes to 0xFF, programming only clears bits. Every access is
//! checked (`get`), so the flash itself has no panic path.

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};

/// Two 1 KiB sectors of RAM.
pub struct RamFlash(pub [u8; 2048]);

impl ErrorType for RamFlash {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for RamFlash {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let at = offset as usize;
        let src = self
            .0
            .get(at..at.saturating_add(bytes.len()))
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.0.len()
    }
}

impl NorFlash for RamFlash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 1024;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0
            .get_mut(from as usize..to as usize)
            .ok_or(NorFlashErrorKind::OutOfBounds)?
            .fill(0xFF);
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let at = offset as usize;
        let dst = self
            .0
            .get_mut(at..at.saturating_add(bytes.len()))
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        for (cell, b) in dst.iter_mut().zip(bytes) {
            *cell &= *b;
        }
        Ok(())
    }
}
