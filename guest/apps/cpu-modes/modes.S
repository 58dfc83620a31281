/* cpu-modes: a far call from 64-bit mode into a 32-bit code segment
 * (compatibility mode); from there out of long mode into legacy protected mode
 * (CR0.PG=0 clears EFER.LMA), through 16-bit protected mode into real mode and
 * back, then into long mode again (CR0.PG=1 sets EFER.LMA). */

#include <um_cpu.h>

#define REALMODE_BLOB 0x8000   /* where main.c copies the 16-bit code */
#define REALMODE_SEG  0x0800   /* REALMODE_BLOB >> 4 */
#define RM_RESULTS    0x9000   /* results stored from real mode */
#define MSR_EFER 0xC0000080
#define CR0_PG 0x80000000

	.text
	.globl mode_trip
mode_trip:
	pushq %rbx
	lcall *compat_target(%rip)      /* m16:32: pushes 4-byte CS and EIP */
	popq %rbx
	ret

	.code32
compat_entry:
	/* 0x48 is DEC EAX here; in 64-bit mode the same bytes are a REX.W NOP. */
	movl $0x12345678, %eax
	.byte 0x48
	nop
	movl %eax, compat_eax
	movw %cs, compat_cs
	movl %esp, %ebx                 /* PUSH moves ESP by 4 in a 32-bit segment */
	pushl $0
	subl %esp, %ebx
	popl %ecx
	movl %ebx, compat_push_bytes
	movl $MSR_EFER, %ecx
	rdmsr
	movl %eax, efer_compat

	movl %cr0, %eax                 /* leave long mode: this page is identity mapped */
	andl $~CR0_PG, %eax
	movl %eax, %cr0
	movl %eax, cr0_protected
	movl $MSR_EFER, %ecx
	rdmsr
	movl %eax, efer_protected
	movl $0x12345678, %eax          /* still 32-bit code: 0x48 is DEC EAX */
	.byte 0x48
	nop
	movl %eax, protected_eax

	/* Real mode and back: the 16-bit code runs from its copy below 1 MiB. */
	movl %esp, saved_esp
	ljmp $UM_KERNEL_CS16, $(REALMODE_BLOB + pm16_entry - realmode_blob)
realmode_return:
	movw $UM_KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl saved_esp, %esp

	movl %cr0, %eax                 /* back into long mode (compatibility mode) */
	orl $CR0_PG, %eax
	movl %eax, %cr0
	movl $MSR_EFER, %ecx
	rdmsr
	movl %eax, efer_back
	lret                            /* 32-bit far return to the 64-bit caller */
	.code64

	/* Copied to REALMODE_BLOB by main.c; addresses are relative to its start. */
	.section .rodata.realmode, "a"
	.globl realmode_blob, realmode_blob_end
realmode_blob:
	.code16
pm16_entry:                             /* 16-bit protected mode, CS base 0 */
	movw $UM_KERNEL_DS16, %ax          /* real-mode compatible 64 KiB limits */
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr0, %eax
	andl $~1, %eax                  /* CR0.PE=0 */
	movl %eax, %cr0
	ljmp $REALMODE_SEG, $(rm_entry - realmode_blob)
rm_entry:
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $0x7000, %sp
	movw %cs, %ax
	movw %ax, RM_RESULTS            /* CS = 0800 */
	movw $0x0900, %ax               /* 0900:0010 is physical 0x9010 */
	movw %ax, %ds
	movw $0xBEEF, 0x10
	xorw %ax, %ax
	movw %ax, %ds
	movw %sp, %bx                   /* PUSH moves SP by 2 */
	pushw $0
	subw %sp, %bx
	popw %cx
	movw %bx, RM_RESULTS + 2
	movl $0x12340000, %eax          /* 0x48 is DEC AX: the borrow stays in the low 16 bits */
	.byte 0x48
	movl %eax, RM_RESULTS + 4
	movl %cr0, %eax
	movl %eax, RM_RESULTS + 8
	movl %cr0, %eax                 /* back to protected mode */
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $UM_KERNEL_CS32, $realmode_return
	.code64
realmode_blob_end:

	.section .rodata
	.align 8
compat_target:
	.long compat_entry
	.word UM_KERNEL_CS32

	.bss
	.align 4
	.globl compat_eax, compat_cs, compat_push_bytes, efer_compat, cr0_protected, efer_protected
	.globl protected_eax, efer_back
compat_eax:        .long 0
compat_cs:         .long 0
compat_push_bytes: .long 0
efer_compat:       .long 0
cr0_protected:     .long 0
efer_protected:    .long 0
protected_eax:     .long 0
efer_back:         .long 0
saved_esp:         .long 0
