/* diffexec-qemu32: the assembly half of the bare-metal differential runner (see diffexec-qemu32.c).
 * Multiboot entry, the CPL 3 entry of a case (IRET from ring 0) and the ring-0 trap stubs, which
 * record the interrupted user state and either resume the case (timer ticks) or end it. */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 3 /* page-aligned modules, memory info */
#define KERNEL_DS 0x10
#define USER_GS 0x3b /* the window segment (user CS/DS come from case_cs/case_ds) */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.globl _start
_start:
	cli
	movl $boot_stack_top, %esp
	pushl %ebx /* multiboot info */
	pushl %eax /* loader magic */
	call runner_main
1:	hlt
	jmp 1b

/* void run_case(void): enter the case at CPL 3 with the registers in case_in; returns when the case
 * ends (trap_c returned 1). Callee-saved registers and ESP are kept in kernel_esp. */
	.globl run_case
run_case:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, kernel_esp
	fxrstor case_fx
	/* The IRET frame goes on a stack below 64 KiB: an IRET to a 16-bit stack segment loads only SP
	 * and keeps the upper half of ESP from here, which must then be 0 as in the case's ESP. */
	movl $0x7000, %esp
	pushl case_ds             /* SS: 0x23, or the window segment for 16-bit cases */
	pushl case_in+16          /* ESP */
	pushl case_in+32          /* EFLAGS */
	pushl case_cs             /* 0x1b, or the 16-bit code segment 0x33 */
	pushl case_eip
	movw case_ds, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw $USER_GS, %ax
	movw %ax, %gs
	/* DS may be the window segment now (16-bit cases): read the registers through SS (kernel data). */
	movl %ss:case_in+0, %eax
	movl %ss:case_in+4, %ecx
	movl %ss:case_in+8, %edx
	movl %ss:case_in+12, %ebx
	movl %ss:case_in+20, %ebp
	movl %ss:case_in+24, %esi
	movl %ss:case_in+28, %edi
	iret

/* Trap stubs: push a zero error code where the CPU pushes none, then the vector. */
.macro stub vec, haserr
	.globl trap_\vec
trap_\vec:
	.if \haserr == 0
	pushl $0
	.endif
	pushl $\vec
	jmp trap_common
.endm

.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	stub \v, 0
.endr
.irp v, 8,10,11,12,13,14,17,21,29,30
	stub \v, 1
.endr
.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	stub \v, 0
.endr

/* Frame for trap_c, low to high: edi esi ebp esp0 ebx edx ecx eax, es ds, vector err, eip cs eflags
 * (user esp ss). */
trap_common:
	cld                       /* the case may have left DF set; C code assumes it clear */
	pushl %ds
	pushl %es
	pushal
	movw $KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	pushl %esp
	call trap_c
	addl $4, %esp
	testl %eax, %eax
	jnz case_done
	/* Resume from a stack below 64 KiB (copy the IRET frame there): an IRET to a 16-bit stack
	 * segment keeps the upper half of ESP from the stack it runs on, which must be 0 as the case's. */
	movl 48(%esp), %eax
	movl %eax, 0x7000-20
	movl 52(%esp), %eax
	movl %eax, 0x7000-16
	movl 56(%esp), %eax
	movl %eax, 0x7000-12
	movl 60(%esp), %eax
	movl %eax, 0x7000-8
	movl 64(%esp), %eax
	movl %eax, 0x7000-4
	popal
	popl %es
	popl %ds
	movl $0x7000-20, %esp
	iret
case_done:
	movl kernel_esp, %esp
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

	.bss
	.align 16
	.space 16384
boot_stack_top:
