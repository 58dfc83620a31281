/* cpu-system: the SYSENTER entry point and the ring-3 snippets. */
#include <um_cpu.h>

#define USER_DATA 0x47000   /* what compatibility-mode user code records (user page) */

	.text
	/* SYSENTER target (ring 0, on SYSENTER_ESP): record the state the CPU
	 * set up, then UD2 so um_catch unwinds back to the C caller. */
	.globl sysenter_entry
sysenter_entry:
	movw %cs, k_cs
	movw %ss, k_ss
	movq %rsp, k_rsp
	pushfq
	popq k_rflags
	ud2

	/* Called through um_catch: SYSEXIT (no REX.W) to compatibility mode at
	 * user_compat (EDX) on USER_DATA + 0xff0 (ECX). */
	.globl do_sysexit32
do_sysexit32:
	leaq user_compat(%rip), %rdx
	movl $(USER_DATA + 0xff0), %ecx
	sysexitl

	/* 64-bit call gate target (ring 0, on TSS.RSP0): record the frame, RETFQ. */
	.globl gate_entry
gate_entry:
	movw %cs, k_cs
	movw %ss, k_ss
	movq %rsp, k_rsp
	movq 0(%rsp), %rax
	movq %rax, k_frame
	movq 8(%rsp), %rax
	movq %rax, k_frame + 8
	movq 16(%rsp), %rax
	movq %rax, k_frame + 16
	movq 24(%rsp), %rax
	movq %rax, k_frame + 24
	lretq

	.bss
	.align 8
	.globl k_rsp, k_rflags, k_cs, k_ss, k_frame
k_frame:  .quad 0, 0, 0, 0
k_rsp:    .quad 0
k_rflags: .quad 0
k_cs:     .word 0
k_ss:     .word 0

	.section .text.user, "ax"
	.balign 4096
	.globl user_page_start
user_page_start:

	.code32
user_compat:
	movw %cs, USER_DATA
	movw %ss, USER_DATA + 2
	movl %esp, USER_DATA + 4
	sysenter
	.code64

/* One ring-3 snippet per probe: the instruction, then UD2 (#UD = it ran). */
#define SNIP(name, ...) .globl name; name: __VA_ARGS__; ud2
SNIP(u_rdmsr, rdmsr)
SNIP(u_wrmsr, wrmsr)
SNIP(u_wbinvd, wbinvd)
SNIP(u_invd, invd)
SNIP(u_hlt, hlt)
SNIP(u_movcr0, movq %cr0, %rax)
SNIP(u_movdr7, movq %dr7, %rax)
SNIP(u_clts, clts)
SNIP(u_swapgs, swapgs)
SNIP(u_invlpg, invlpg 0x47000)
SNIP(u_sysexit, sysexitl)
SNIP(u_cli, cli)
SNIP(u_rdtsc, rdtsc)
SNIP(u_smsw, smsw %eax)
SNIP(u_str, str %eax)
SNIP(u_in80, inb $0x80, %al)
SNIP(u_in81, inb $0x81, %al)
SNIP(u_inw80, inw $0x80, %ax)
SNIP(u_out3ff, movw $0x3ff, %dx; outb %al, %dx)
SNIP(u_in3fe_dword, movw $0x3fe, %dx; inl %dx, %eax)
SNIP(u_outsb3ff, movw $0x3ff, %dx; movl $0x47000, %esi; outsb)
SNIP(u_ins60, movw $0x60, %dx; movl $0x47000, %edi; insb)
	.globl u_gate_call, u_gate_return
u_gate_call:
	lcall *gate_ptr(%rip)
u_gate_return:
	ud2
gate_ptr:
	.long 0
	.word 0x58 | 3
	.globl user_page_end
user_page_end:
