/* Multiboot (v1) entry for the 32-bit guests on base32 (hello32, cpu-alu32).
 * The loader enters in 32-bit protected mode, paging off, with EAX = 0x2BADB002,
 * EBX = the multiboot info address and no stack: set one up and call C. */
#include "../common/multiboot-header.h"

	multiboot_header_elf32

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
