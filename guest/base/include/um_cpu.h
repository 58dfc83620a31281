/* Lower-level hooks for CPU self-test apps (guest/apps/cpu-*): catching
 * exceptions, running code in ring 3, editing the 4 KiB page tables that map
 * the first 2 MiB, and IDT gate attributes. */
#ifndef UM_CPU_H
#define UM_CPU_H

/* GDT selectors (see base/cpu.c); usable from assembly too. */
#define UM_KERNEL_CS   0x08
#define UM_KERNEL_DS   0x10
#define UM_USER_CS32   0x18
#define UM_USER_DS     0x20
#define UM_USER_CS     0x28
#define UM_TSS         0x30
#define UM_KERNEL_CS32 0x40
#define UM_KERNEL_CS16 0x48
#define UM_KERNEL_DS16 0x50

#ifndef __ASSEMBLER__
#include <unimachine.h>

/* Page table entry bits. */
#define UM_PTE_P   (1ul << 0)
#define UM_PTE_W   (1ul << 1)
#define UM_PTE_U   (1ul << 2)
#define UM_PTE_A   (1ul << 5)
#define UM_PTE_D   (1ul << 6)
#define UM_PTE_NX  (1ul << 63)

/* What a caught exception or interrupt looked like. */
struct um_fault {
	uint64_t vector, error, cr2;
	uint64_t rip, cs, rflags, rsp, ss; /* the interrupted context, as pushed */
	uint64_t handler_rsp;              /* where the CPU put the frame (stack switch checks) */
};

/* Runs fn(arg) in ring 0. Returns 0 if it returned, or 1 if it raised an
 * exception (or any interrupt) first, which is then described in *fault and
 * abandoned (the caller's callee-saved registers and stack are restored). */
int um_catch(void (*fn)(void *), void *arg, struct um_fault *fault);

/* Enters ring 3 at rip with the given stack, interrupts off. User code comes
 * back only by raising an exception or interrupt: returns 1 with *fault. The
 * code and stack pages must be user-accessible (um_set_page_flags). */
int um_run_user(uint64_t rip, uint64_t rsp, struct um_fault *fault);

/* The 4 KiB page table entry mapping vaddr, for vaddr below 2 MiB (page 0 is
 * left not present by the base; the image lives at 1 MiB). NULL otherwise. */
uint64_t *um_low_pte(uint64_t vaddr);
/* Set and clear PTE bits for the page holding vaddr, then INVLPG it. */
int um_set_page_flags(uint64_t vaddr, uint64_t set, uint64_t clear);

/* IDT: point vector (32-47 or any unused) at the base's stub with this IST
 * index (0 = none) and DPL. */
void um_idt_set_attributes(int vector, int ist, int dpl);
/* Top of the IST stack with this index (1 = #DF, 2 = NMI), and of TSS.RSP0. */
uint64_t um_ist_stack_top(int ist);
uint64_t um_rsp0_stack_top(void);

static inline uint64_t um_read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline void um_write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline uint64_t um_read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void um_write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline uint64_t um_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void um_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

#endif /* __ASSEMBLER__ */
#endif
