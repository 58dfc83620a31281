/* The AP start-up code: a SIPI with vector 0x08 starts an AP in real mode at
 * 0800:0000, where the BSP copied this page. It goes to 32-bit protected mode
 * on its own small GDT, enables PAE, loads the BSP's CR3, sets EFER.LME, turns
 * paging on (long mode), then in 64-bit code loads the BSP's GDT and IDT,
 * takes a ticket, switches to that ticket's stack and calls ap_entry(ticket).
 *
 * The code is linked into the kernel image but only ever runs from the copy,
 * so every address in it is computed for TRAMPOLINE_BASE. */
#include "smp.h"

#define CR0_PE  (1 << 0)
#define CR0_MP  (1 << 1)
#define CR0_EM  (1 << 2)
#define CR0_TS  (1 << 3)
#define CR0_PG  (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xC0000080

/* The run-time address of a trampoline label, and its offset from the start (real mode, DS = CS). */
#define AT(label) (TRAMPOLINE_BASE + (label) - trampoline_start)
#define OFF(label) ((label) - trampoline_start)

	.section .data.trampoline, "aw"
	.balign 4096
	.globl trampoline_start, trampoline_params, trampoline_end
	.code16
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl OFF(tramp_gdt_desc)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $TRAMP_CS32, $AT(protected32)

	.code32
protected32:
	movw $TRAMP_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl AT(trampoline_params) + PARAM_CR3, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl AT(trampoline_params) + PARAM_EFER, %eax
	wrmsr
	movl %cr0, %eax
	andl $~(CR0_EM | CR0_TS), %eax
	orl $(CR0_PG | CR0_MP), %eax
	movl %eax, %cr0
	ljmp $TRAMP_CS64, $AT(long64)

	.code64
long64:
	lgdt AT(trampoline_params) + PARAM_GDTR
	lidt AT(trampoline_params) + PARAM_IDTR
	movw $TRAMP_DS, %ax          /* the base's kernel data selector too */
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	/* Ticket n gets the stack [stacks + n * size, stacks + (n + 1) * size). */
	movl $1, %eax
	lock xaddl %eax, AT(trampoline_params) + PARAM_TICKET
	movl %eax, %edi
	leal 1(%rax), %ecx
	movq AT(trampoline_params) + PARAM_STACK_SIZE, %rax
	imulq %rcx, %rax
	addq AT(trampoline_params) + PARAM_STACKS, %rax
	movq %rax, %rsp
	fninit
	ldmxcsr AT(mxcsr_default)
	xorl %ebp, %ebp
	/* Reload CS from the base's GDT (same selector) and go to ap_entry. */
	movq AT(trampoline_params) + PARAM_ENTRY, %rax
	pushq $0                     /* no return address: ap_entry never returns, but its frame is ABI-aligned */
	pushq $TRAMP_CS64
	pushq %rax
	lretq

	.balign 8
tramp_gdt:
	.quad 0                         /* null */
	.quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF        /* 0x10: flat data */
	.quad 0x00CF9A000000FFFF        /* 0x18: flat 32-bit code */
tramp_gdt_end:
tramp_gdt_desc:
	.word tramp_gdt_end - tramp_gdt - 1
	.long AT(tramp_gdt)
mxcsr_default:
	.long 0x1F80

	.balign 16
trampoline_params:
	.space PARAM_SIZE
trampoline_end:
