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
void irq_set_handler(int irq, void (*handler)(void));
void pic_init(void);
void pic_mask(int irq, int masked);
void pic_eoi(int irq);
void time_init(void);
void memory_init(uint32_t mb_info);
void pci_init(void);
void blk_init(void);
void net_init(void);
/* Zeroed, 4 KiB-aligned memory that is never freed (device rings). */
void *heap_alloc_pages(size_t bytes);
const char *cmdline_args(uint32_t mb_info);

extern void *isr_stub_table[48];

#endif
