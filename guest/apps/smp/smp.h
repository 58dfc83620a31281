/* What the BSP and the AP trampoline share: where the trampoline runs and
 * the parameter block at its end, which the BSP fills in after the copy. */
#ifndef SMP_H
#define SMP_H

/* The SIPI vector is the page number: the trampoline runs at CS:IP = 0800:0000.
 * 0x8000 is free low RAM on both machines (the multiboot map and info sit at
 * 0x9000 and 0x9500, SeaBIOS's EBDA at 0x9fc00). */
#define TRAMPOLINE_BASE 0x8000
#define SIPI_VECTOR     (TRAMPOLINE_BASE >> 12)

/* Trampoline GDT selectors (the 64-bit ones match the base's GDT, loaded next). */
#define TRAMP_CS64 0x08
#define TRAMP_DS   0x10
#define TRAMP_CS32 0x18

/* Offsets in the parameter block (trampoline_params). */
#define PARAM_CR3        0   /* the BSP's page tables (below 4 GiB) */
#define PARAM_EFER       8   /* EFER bits to set: LME, and NXE when the BSP has it */
#define PARAM_GDTR       16  /* the BSP's GDTR: 2-byte limit, 8-byte base */
#define PARAM_IDTR       32  /* the BSP's IDTR */
#define PARAM_STACKS     48  /* base of the AP stacks */
#define PARAM_STACK_SIZE 56
#define PARAM_ENTRY      64  /* void ap_entry(uint32_t ticket), 64-bit */
#define PARAM_TICKET     72  /* each AP takes the next number with LOCK XADD */
#define PARAM_SIZE       80

#ifndef __ASSEMBLER__
extern char trampoline_start[], trampoline_params[], trampoline_end[];
#endif

#endif
