/* The tiny 32-bit runtime for guests that must run on a CPU that only knows
 * plain 32-bit integer instructions (hello32, cpu-alu32): multiboot entry, a
 * polled 16550 console and isa-debug-exit. Compiled with -march=i386. */
#ifndef UM32_H
#define UM32_H

#include <stdint.h>

/* Provided by the app; `args` is the multiboot command line without its first
 * word (the kernel path under QEMU's -kernel). Returns the exit code. */
int app32_main(const char *args);

void um32_putc(char c);
void um32_puts(const char *s);
void um32_put_dec(uint32_t v);
void um32_put_hex(uint64_t v, int digits);
/* outw(0x501, code): QEMU exits with (code << 1) | 1. */
__attribute__((noreturn)) void um32_exit(uint16_t code);

#endif
