/* cpu-syscall: the SYSCALL entry point and the ring-3 snippets. */

#define USER_DATA 0x46000   /* results the user snippet stores (user page) */

	.text
	/* LSTAR target. SYSCALL does not switch stacks, so record with absolute
	 * stores only: RCX/R11 as the CPU left them, our CS/SS and RFLAGS. */
	.globl syscall_entry
syscall_entry:
	movq %rcx, k_rcx
	movq %r11, k_r11
	movq %rax, k_rax
	movw %cs, k_cs
	movw %ss, k_ss
	pushfq
	popq k_rflags
	incq %rax
	cmpq $2, k_rax
	je 1f
	sysretq                 /* REX.W: back to 64-bit ring 3, CS = STAR[63:48] + 16 */
1:	sysretl                 /* no REX.W: back to compatibility mode, CS = STAR[63:48] */

	.bss
	.align 8
	.globl k_rcx, k_r11, k_rax, k_cs, k_ss, k_rflags
k_rcx:    .quad 0
k_r11:    .quad 0
k_rax:    .quad 0
k_rflags: .quad 0
k_cs:     .word 0
k_ss:     .word 0

	.section .text.user, "ax"
	.balign 4096
	.globl user_page_start
user_page_start:

	/* SYSCALL with RAX=1 and DF set; after SYSRET store what ring 3 sees. */
	.globl user_syscall64
user_syscall64:
	movl $1, %eax
	std
	.globl user_syscall64_insn
user_syscall64_insn:
	syscall
	.globl user_syscall64_return
user_syscall64_return:
	movq %rax, USER_DATA
	movw %cs, USER_DATA + 8
	movw %ss, USER_DATA + 10
	pushfq
	popq USER_DATA + 16
	cld
	ud2

	/* SYSCALL with RAX=2: the handler returns with SYSRETL into 32-bit code. */
	.globl user_syscall32
user_syscall32:
	movl $2, %eax
	syscall
	.code32
	movl %eax, USER_DATA + 24
	movw %cs, USER_DATA + 32
	.globl user_compat_ud2
user_compat_ud2:
	ud2
	.code64

	.balign 4096
	.globl user_page_end
user_page_end:
