/* Interrupt entry stubs for vectors 0-47 (CPU exceptions and the 16 PIC IRQs).
 * Each stub makes the stack look the same (error code, vector), then the common
 * path saves the general registers as a struct trap_frame and calls C. */

.macro STUB vector
	.align 16
isr_\vector:
	.if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
	/* the CPU pushed an error code */
	.else
	pushq $0
	.endif
	pushq $\vector
	jmp isr_common
.endm

	.text
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	STUB \v
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	movq %rsp, %rbx           /* callee-saved: the frame, to restore after aligning */
	andq $-16, %rsp           /* SysV ABI: 16-byte aligned at the call */
	call trap_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp            /* vector and error code */
	iretq

	.section .rodata
	.align 8
	.globl isr_stub_table
isr_stub_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.quad isr_\v
	.endr
