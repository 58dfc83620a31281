/* 64-bit entry of the CPU benchmark: a minimal multiboot-to-long-mode stub.
 *
 * Multiboot loaders enter in 32-bit protected mode. This stub identity-maps the
 * first 1 GiB with 2 MiB pages, sets CR4.PAE, EFER.LME and CR0.PG, and far-jumps
 * into 64-bit code. The a.out-kludge address fields (flag bit 16) are required
 * for QEMU to accept an ELF64 image. Built with ENABLE_SSE (the bench-cpu64sse
 * variant, whose C code gcc may vectorise) it also turns SSE on: CR0.MP set,
 * CR0.EM clear, CR4.OSFXSR|OSXMMEXCPT set. Otherwise the C code is
 * -mgeneral-regs-only and SSE stays off. */
#include "../../guest/common/multiboot-header.h"

#define CR0_PE   (1 << 0)
#define CR0_MP   (1 << 1)
#define CR0_EM   (1 << 2)
#define CR4_OSFXSR     (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define CR0_PG   (1 << 31)
#define CR4_PAE  (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define PTE_PW   0x003   /* present, writable */
#define PTE_PS   0x080   /* 2 MiB page */

#define CS64 0x08
#define DS   0x10

	multiboot_header_aout

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, %esi                 /* loader magic */
	movl %ebx, %ebp                 /* multiboot info */
	lgdt gdt_desc
	movw $DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $stack_top, %esp

	/* Three page-table pages; cleared here in case a loader skips bss zeroing. */
	movl $pml4, %edi
	movl $(3 * 1024), %ecx
	xorl %eax, %eax
	rep stosl

	movl $pdpt, %eax
	orl $PTE_PW, %eax
	movl %eax, pml4
	movl $pd, %eax
	orl $PTE_PW, %eax
	movl %eax, pdpt
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_PW | PTE_PS), %eax
	movl %eax, pd(, %ecx, 8)
	incl %ecx
	cmpl $512, %ecx
	jne 1b

	movl $pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
#ifdef ENABLE_SSE
	orl $(CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
#endif
	movl %eax, %cr4
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
#ifdef ENABLE_SSE
	orl $CR0_MP, %eax
	andl $~CR0_EM, %eax
#endif
	movl %eax, %cr0
	ljmp $CS64, $long_entry

	.code64
long_entry:
	movw $DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq $stack_top, %rsp
	movl %esi, %edi                 /* arg 1: magic (zero-extended) */
	movl %ebp, %esi                 /* arg 2: multiboot info */
	call bench_kernel_main
2:	hlt
	jmp 2b

	.section .rodata
	.align 8
gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00CF92000000FFFF        /* 0x10: flat data */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.align 4096
pml4:	.space 4096
pdpt:	.space 4096
pd:	.space 4096
	.align 16
	.space 65536
stack_top:
