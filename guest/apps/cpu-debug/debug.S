/* cpu-debug: the #DB handler that logs and resumes, and the code the cases run. */
#include <um_cpu.h>

#define DB_MAX 32
#define RF 0x10000
#define TF 0x100

	.text
/* #DB through an interrupt gate: log (RIP, RFLAGS as pushed, DR6, RCX) in db_log,
 * reset DR6 unless db_keep_dr6, set RF in the frame if db_set_rf, and once
 * db_count reaches db_limit disarm DR7 and clear TF in the frame. */
	.globl db_stub
db_stub:
	pushq %rax
	pushq %rcx
	pushq %rdx
	movq db_count(%rip), %rax
	cmpq $DB_MAX, %rax
	jae 2f
	leaq db_log(%rip), %rcx
	shlq $5, %rax
	addq %rax, %rcx
	movq 24(%rsp), %rdx             /* RIP */
	movq %rdx, 0(%rcx)
	movq 40(%rsp), %rdx             /* RFLAGS */
	movq %rdx, 8(%rcx)
	movq %dr6, %rdx
	movq %rdx, 16(%rcx)
	movq 8(%rsp), %rdx              /* interrupted RCX */
	movq %rdx, 24(%rcx)
2:	incq db_count(%rip)
	cmpq $0, db_keep_dr6(%rip)
	jne 3f
	movl $0xffff0ff0, %edx
	movq %rdx, %dr6
3:	cmpq $0, db_set_rf(%rip)
	je 4f
	orq $RF, 40(%rsp)
4:	movq db_count(%rip), %rax
	cmpq db_limit(%rip), %rax
	jb 5f
	movl $0x400, %edx
	movq %rdx, %dr7
	andq $~TF, 40(%rsp)
5:	popq %rdx
	popq %rcx
	popq %rax
	iretq

/* Instruction breakpoint target. */
	.globl ibp_run, ibp_target
ibp_run:
	nop
ibp_target:
	incq ibp_counter(%rip)
	ret

/* One data access each: rdi = address, rsi = value. */
	.globl wr8, wr16, wr32, wr64, rd32, rmw32
wr8:	movb %sil, (%rdi)
	ret
wr16:	movw %si, (%rdi)
	ret
wr32:	movl %esi, (%rdi)
	ret
wr64:	movq %rsi, (%rdi)
	ret
rd32:	movl (%rdi), %eax
	ret
rmw32:	addl %esi, (%rdi)
	ret

/* REP MOVSB / REP MOVSQ: rdi = destination, rsi = source, rdx = count. */
	.globl rep_movsb, rep_movsb_insn, rep_movsq, rep_movsq_insn
rep_movsb:
	movq %rdx, %rcx
rep_movsb_insn:
	rep movsb
	ret
rep_movsq:
	movq %rdx, %rcx
rep_movsq_insn:
	rep movsq
	ret

/* Single step through PUSHF/POPF and MOV SS (the #DB after MOV SS waits one instruction). */
	.globl ss_run, ss_pushed_flags
ss_run:
	pushq %rbx
	pushfq
	orq $TF, (%rsp)
	popfq                   /* TF was clear when POPF started: no #DB after it */
	nop
	movl $1, %eax
	pushfq                  /* the image has TF set */
	popq %rbx
	movw %ss, %ax
	movw %ax, %ss           /* #DB held back past the next instruction */
	nop
	movq %rbx, ss_pushed_flags(%rip)
	andq $~TF, %rbx
	pushq %rbx
	popfq                   /* TF was set when POPF started: #DB after it */
	nop
	popq %rbx
	ret

/* INT n under single step: vector 0x40 goes to db_stub too (it logs the entry). */
	.globl ss_int
ss_int:
	pushfq
	orq $TF, (%rsp)
	popfq
	int $0x40
	nop
	pushfq
	andq $~TF, (%rsp)
	popfq
	ret

/* REP MOVSB under single step: rdi = destination, rsi = source, rdx = count. */
	.globl ss_rep, ss_rep_insn
ss_rep:
	movq %rdx, %rcx
	pushfq
	orq $TF, (%rsp)
	popfq
ss_rep_insn:
	rep movsb
	pushfq
	andq $~TF, (%rsp)
	popfq
	ret

/* A short single-stepped sequence (DR6 stickiness). */
	.globl ss_short
ss_short:
	pushfq
	orq $TF, (%rsp)
	popfq
	nop
	pushfq
	andq $~TF, (%rsp)
	popfq
	ret

/* Port accesses: edi = port. */
	.globl io_out8, io_out16, io_in8
io_out8:
	movl %edi, %edx
	xorl %eax, %eax
	outb %al, %dx
	ret
io_out16:
	movl %edi, %edx
	xorl %eax, %eax
	outw %ax, %dx
	ret
io_in8:
	movl %edi, %edx
	inb %dx, %al
	ret
