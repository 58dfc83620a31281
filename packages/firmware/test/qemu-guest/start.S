/* Multiboot entry of the firmware-dump guest: a stack, then C. */
#include "../../../../guest/common/multiboot-header.h"

	multiboot_header_elf32

	.text
	.globl _start
_start:
	cli
	movl $stack_top, %esp
	pushl %ebx
	pushl %eax
	call dump_main
1:	hlt
	jmp 1b

	.bss
	.align 16
	.space 16384
stack_top:
