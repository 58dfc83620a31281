/* um_catch / um_run_user: run code until it returns or raises an exception.
 * trap_dispatch sees catch_rsp != 0, records the fault and "returns" from the
 * interrupt to catch_landing, which unwinds to the caller of um_catch. */

#include <um_cpu.h>

	.text
	.globl um_catch
um_catch:                       /* rdi = fn, rsi = arg, rdx = fault */
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp           /* 16-byte alignment for the call */
	movq %rdx, catch_fault(%rip)
	movq %rsp, catch_rsp(%rip)
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	xorl %eax, %eax
	jmp catch_done

	.globl um_run_user
um_run_user:                    /* rdi = user rip, rsi = user rsp, rdx = fault */
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp
	movq %rdx, catch_fault(%rip)
	movq %rsp, catch_rsp(%rip)
	pushq $(UM_USER_DS | 3)
	pushq %rsi
	pushq $0x2              /* RFLAGS: IF=0, reserved bit 1 */
	pushq $(UM_USER_CS | 3)
	pushq %rdi
	/* Clear the registers user code could otherwise read kernel values from. */
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %edi, %edi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	iretq

	.globl catch_landing
catch_landing:
	movq catch_rsp(%rip), %rsp
	movl $1, %eax
catch_done:
	movq $0, catch_rsp(%rip)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.bss
	.align 8
	.globl catch_rsp, catch_fault
catch_rsp:   .quad 0
catch_fault: .quad 0
