/* Multiboot (v1) entry for the 32-bit guests on base32 (hello32, cpu-alu32).
 * The loader enters in 32-bit protected mode, paging off, with EAX = 0x2BADB002,
 * EBX = the multiboot info address and no stack: set one up and call C. */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0: page-align modules, bit 1: give memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.globl _start
_start:
	cli
	movl $stack_top, %esp
	pushl %ebx              /* multiboot info */
	pushl %eax              /* loader magic */
	call base32_main
1:	hlt                     /* base32_main exits through isa-debug-exit; stop if it returns */
	jmp 1b

	.bss
	.align 16
	.space 16384
stack_top:
