/* Ring-3 snippets for cpu-debug. */
	.section .text.user, "ax"
	.balign 4096
	.globl user_page_start
user_page_start:
	.globl user_read_dr7
user_read_dr7:
	movq %dr7, %rax
	ud2
	.globl user_write_dr0
user_write_dr0:
	movq %rax, %dr0
	ud2
	.balign 4096
	.globl user_page_end
user_page_end:
