/* The vector table for running the C example under QEMU's mps2-an386 (Cortex-M4F): the
 * initial stack pointer and a reset handler that enables the FPU (off at reset) and jumps to
 * newlib's `_start` (rdimon's crt0: semihosting start-up, .bss cleared, then main, then exit
 * through semihosting). Used with mps2-an386.ld only by
 * scripts/ci-ffi.sh's QEMU run; the plain link (nosys.specs) needs neither. */
#include <stdint.h>

extern void _start(void);
extern uint32_t __stack_top;

/* Full access to the coprocessors CP10 and CP11 (the FPU) in CPACR, then newlib's start-up. */
static void reset(void) {
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    _start();
}

static void hang(void) {
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static const uintptr_t vectors[16] = {
    (uintptr_t)&__stack_top, (uintptr_t)&reset,  (uintptr_t)&hang, (uintptr_t)&hang,
    (uintptr_t)&hang,        (uintptr_t)&hang,   (uintptr_t)&hang, 0,
    0,                       0,                  0,                (uintptr_t)&hang,
    (uintptr_t)&hang,        0,                  (uintptr_t)&hang, (uintptr_t)&hang,
};
