/* Start-up of the export test's C programs on QEMU's MPS2 AN386 (Cortex-M4F), linked with
   newlib's semihosting library (--specs=rdimon.specs -nostartfiles): the vector table, the
   FPU on, .data copied and .bss zeroed, stdio over semihosting, main, exit(status). */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start__[], __bss_end__[];
extern uint32_t __stack_top[];
extern void initialise_monitor_handles(void);
extern int main(void);

void reset_handler(void);
static void fault_handler(void) {
    exit(99);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top, reset_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0,
    fault_handler, fault_handler,
};

void reset_handler(void) {
    uint32_t *src = __data_load, *dst = __data_start;
    /* CPACR: full access to CP10 and CP11 (the FPU), then wait for it to take effect. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    while (dst < __data_end) {
        *dst++ = *src++;
    }
    for (dst = __bss_start__; dst < __bss_end__; dst++) {
        *dst = 0;
    }
    initialise_monitor_handles();
    exit(main());
}

/* Without the C runtime's crti/crtn (-nostartfiles): newlib's init and fini hooks, empty. */
void _init(void);
void _fini(void);
void _init(void) {
}
void _fini(void) {
}
