/* Multiboot entry and the switch to long mode.
 *
 * QEMU's -kernel refuses ELF64 multiboot images unless the header carries the
 * a.out-kludge address fields (flag bit 16): the loader then copies the file
 * bytes [load_addr, load_end_addr) straight to memory, zeroes up to
 * bss_end_addr and jumps to entry_addr in 32-bit protected mode, paging off,
 * with EAX = 0x2BADB002 and EBX = the multiboot info address. */

#include "../common/multiboot-header.h"

#define CR0_PE        (1 << 0)
#define CR0_MP        (1 << 1)
#define CR0_EM        (1 << 2)
#define CR0_TS        (1 << 3)
#define CR0_PG        (1 << 31)
#define CR4_PAE       (1 << 5)
#define CR4_OSFXSR    (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER      0xC0000080
#define EFER_LME      (1 << 8)
#define EFER_NXE      (1 << 11)

#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_U   0x004
#define PTE_PS  0x080

#define BOOT_CS64 0x08
#define BOOT_DS   0x10

	multiboot_header_aout

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, boot_magic          /* .data: survives the 64-bit bss clear */
	movl %ebx, boot_info

	lgdt boot_gdt_desc
	movw $BOOT_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $boot_stack_top, %esp

	/* Page tables live in their own zero-initialised area; clear it anyway so
	 * a loader that skips the bss zeroing still gets a clean map. */
	movl $__pagetables_start, %edi
	movl $__pagetables_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	/* PML4[0] -> PDPT, PDPT[0..3] -> four page directories (4 GiB). */
	/* U is set on the upper levels of the low 2 MiB so single 4 KiB pages
	 * can be opened to ring 3 (cpu-* tests); the leaf entries decide. */
	movl $boot_pdpt, %eax
	orl $(PTE_P | PTE_W | PTE_U), %eax
	movl %eax, boot_pml4

	movl $boot_pd, %eax
	orl $(PTE_P | PTE_W | PTE_U), %eax
	movl $boot_pdpt, %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 1b

	/* Identity map 0..4 GiB with 2 MiB pages: 2048 PD entries. */
	movl $boot_pd, %edi
	movl $(PTE_P | PTE_W | PTE_PS), %eax
	xorl %edx, %edx                 /* high dword of the physical address */
	movl $2048, %ecx
2:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	adcl $0, %edx
	addl $8, %edi
	loop 2b

	/* The first 2 MiB use 4 KiB pages instead, with page 0 left not-present
	 * so a null dereference faults. */
	movl $boot_pt_low, %eax
	orl $(PTE_P | PTE_W | PTE_U), %eax
	movl %eax, boot_pd
	movl $boot_pt_low + 8, %edi
	movl $(0x1000 | PTE_P | PTE_W), %eax
	movl $511, %ecx
3:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 3b

	movl $boot_pml4, %eax
	movl %eax, %cr3

	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4

	/* EFER.LME, plus EFER.NXE when CPUID says the CPU has NX. */
	movl $0x80000000, %eax
	cpuid
	xorl %ebx, %ebx
	cmpl $0x80000001, %eax
	jb 4f
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 20), %edx
	jz 4f
	movl $EFER_NXE, %ebx
4:	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	orl %ebx, %eax
	wrmsr

	/* Paging on (this activates long mode), FPU/SSE usable: EM=0, MP=1, TS=0. */
	movl %cr0, %eax
	andl $~(CR0_EM | CR0_TS), %eax
	orl $(CR0_PE | CR0_MP | CR0_PG), %eax
	movl %eax, %cr0

	ljmp $BOOT_CS64, $start64

	.code64
start64:
	movw $BOOT_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp

	/* Clear bss before any C runs (the stack and page tables are outside it). */
	movq $__bss_start, %rdi
	movq $__bss_end, %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	xorl %eax, %eax
	rep stosq

	/* Defined FPU/SSE state whatever the CPU's reset values: FNINIT gives
	 * FCW 0x037F and an empty stack; MXCSR 0x1F80 masks all SIMD exceptions. */
	fninit
	ldmxcsr mxcsr_default

	xorl %ebp, %ebp
	movl boot_magic, %edi
	movl boot_info, %esi
	call base_main
5:	cli
	hlt
	jmp 5b

	.section .rodata
	.align 16
boot_gdt:
	.quad 0                         /* null */
	.quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00CF92000000FFFF        /* 0x10: data, DPL 0 */
boot_gdt_end:
boot_gdt_desc:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

mxcsr_default:
	.long 0x1F80

	.data
	.align 4
	.globl boot_magic, boot_info
boot_magic: .long 0
boot_info:  .long 0

	/* Page tables and the boot stack: zeroed by the loader (bss_end_addr) and
	 * by the stub above, but kept out of [__bss_start, __bss_end). */
	.section .boot_bss, "aw", @nobits
	.align 4096
	.globl boot_pml4, boot_pdpt, boot_pd, boot_pt_low
boot_pml4:   .space 4096
boot_pdpt:   .space 4096
boot_pd:     .space 4 * 4096
boot_pt_low: .space 4096
	.align 16
	.globl boot_stack_top
boot_stack:  .space 65536
boot_stack_top:
