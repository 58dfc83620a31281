/* 32-bit multiboot entry of the CPU benchmark: stack, then C. */
#include "../../guest/common/multiboot-header.h"

	multiboot_header_elf32

	.text
	.globl _start
_start:
	cli
	cld
	movl $stack_top, %esp
	pushl %ebx              /* multiboot info */
	pushl %eax              /* loader magic */
	call bench_kernel_main
1:	hlt
	jmp 1b

	.bss
	.align 16
	.space 65536
stack_top:
