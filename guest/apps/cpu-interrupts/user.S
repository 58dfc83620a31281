/* Ring-3 snippets for cpu-interrupts. */
	.section .text.user, "ax"
	.balign 4096
	.globl user_page_start
user_page_start:
	.globl user_int_0x23
user_int_0x23:
	int $0x23
	ud2
	.globl user_int_0x24
user_int_0x24:
	int $0x24
	ud2
	.globl user_int3
user_int3:
	int3
	ud2
	.globl user_ud2
user_ud2:
	ud2
	.globl user_int_0x30
user_int_0x30:
	int $0x30
	ud2
	.balign 4096
	.globl user_page_end
user_page_end:
