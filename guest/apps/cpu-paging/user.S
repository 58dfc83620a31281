/* Ring-3 snippets for cpu-paging. They sit in their own 4 KiB-aligned pages,
 * which the test opens to user mode; each ends by faulting back to the kernel. */
	.section .text.user, "ax"
	.balign 4096
	.globl user_page_start
user_page_start:

	.globl user_read_supervisor
user_read_supervisor:
	movq 0x40000, %rax
	ud2

	.globl user_write_readonly
user_write_readonly:
	movq $1, 0x47000
	ud2

	.globl user_read_not_present
user_read_not_present:
	movq 0x41000, %rax
	ud2

	.globl user_fetch_supervisor
user_fetch_supervisor:
	movl $0x100000, %eax
	jmp *%rax

	.globl user_privileged
user_privileged:
	hlt
	ud2

	.globl user_write_ok
user_write_ok:
	movq $0x5A5A, 0x46ff8
	movq 0x46ff8, %rax
	ud2

	.balign 4096
	.globl user_page_end
user_page_end:
