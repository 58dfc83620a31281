/* 32-bit multiboot entry of the CPU benchmark: stack, then C. */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

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
