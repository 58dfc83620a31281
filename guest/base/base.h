/* Internal declarations shared by the base's own files. */
#ifndef BASE_H
#define BASE_H

#include <unimachine.h>
#include <um_cpu.h>
#include "../common/io.h"

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

#define trap_frame um_trap_frame

#define IST_DOUBLE_FAULT 1
#define IST_NMI 2

#define IRQ_BASE 0x20

void cpu_tables_init(void);
void idt_set_gate(int vector, void (*handler)(void), int ist, int dpl);
void trap_dispatch(struct trap_frame *f);
/* Adds a handler for a PIC IRQ (lines may be shared) and unmasks the line.
 * Handlers run with interrupts disabled and without SSE (see the Makefile);
 * the EOI follows them. Returns 0, or -1 when the line has no room. */
int irq_add_handler(int irq, void (*fn)(void *arg), void *arg);
void pic_init(void);
void pic_mask(int irq, int masked);
void pic_eoi(int irq);
int pic_in_service(int irq);
void time_init(void);
/* Halts until monotonic time deadline_ns or the first interrupt, whichever
 * comes first (at most one PIT period, ~50 ms); with UM_FOREVER, until the
 * first interrupt. Called with interrupts disabled; returns with them disabled. */
void cpu_block(uint64_t deadline_ns);
void memory_init(uint32_t mb_info);
void pci_init(void);
void blk_init(void);
void net_init(void);
/* Waits (up to 1 s, polled) until the device has taken every queued frame. */
void net_drain(void);
/* Zeroed, 4 KiB-aligned memory that is never freed (device rings). */
void *heap_alloc_pages(size_t bytes);
const char *cmdline_args(uint32_t mb_info);

extern void *isr_stub_table[48];

#endif
