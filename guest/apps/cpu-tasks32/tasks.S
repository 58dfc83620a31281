/* cpu-tasks32: hardware task switches between two 32-bit TSSs. run_tasks()
 * installs its own GDT, CALLs task B through its TSS descriptor (B IRETs back
 * through the back link), then JMPs to B through a task gate (B JMPs back to
 * A's TSS), then raises INT 0x40 and a #GP through IDT task gates (to B and
 * C), then enters ring 3 and raises INT n through a DPL3 gate with bad SS0
 * values in TSS A (#TS before anything is pushed), recording what each side
 * sees in `results`. */
	.code32
	.text
	.globl run_tasks
run_tasks:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	lgdt gdtr
	ljmp $0x08, $1f
1:	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movw $0x18, %ax
	ltr %ax
	movl $0x55, %ebx
	lcall $0x20, $0                 /* task switch to B (CALL: back link, NT) */
	movl %ebx, results + 16         /* A's registers came back with the IRET */
	smsw results + 20
	movl gdt + 0x18 + 4, %eax
	movl %eax, results + 24         /* A stays busy across the CALL */
	movl gdt + 0x20 + 4, %eax
	movl %eax, results + 28         /* B available again after its IRET */
	ljmp $0x28, $0                  /* through the task gate: B resumes after its IRET */
	movl %ebx, results + 44         /* back in A after B's JMP */
	lidt idtr
	int $0x40                       /* IDT task gate -> B (resumes after its LJMP) */
	movw $0x53, %ax
	movw %ax, %ds                   /* #GP(0x50), beyond the GDT limit: IDT task gate -> C */
	movw $0x10, %ax
	movw %ax, %ds
	/* Ring-3 INT n through a DPL3 gate to ring 0 with a bad SS0 in TSS A:
	 * #TS before anything is pushed (SDM Vol. 2 "INT n"). */
	movl $0, %eax                   /* null SS0: #TS(0) */
	call ring3_int
	movl %eax, results + 68
	movl $0x13, %eax                /* RPL 3 != DPL of the handler's CS: #TS(0x10) */
	call ring3_int
	movl %eax, results + 72
	movl $0x40, %eax                /* DPL 3 data: #TS(0x40) */
	call ring3_int
	movl %eax, results + 76
	movl $0x10, %eax                /* a good SS0: no #TS */
	call ring3_int
	movl %eax, results + 80
	clts
	/* Stay on this GDT (flat 0x08/0x10): the multiboot loader's GDT may be
	 * gone, so the caller continues with these selectors. */
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/* eax = SS0 to try. Enters ring 3, which raises INT 0x41 (gate to ring-0
 * kint); a #TS goes to ts_recorder (conforming, so at CPL 3 with no stack
 * switch), which repairs SS0 and raises INT 0x41 again. kint returns here
 * with the #TS error code in eax, or 0xffffffff when there was none. */
ring3_int:
	movl %eax, tss_a + 8            /* SS0 */
	movl $ring0_stack_top, tss_a + 4
	movl $0xffffffff, ts_error
	movl %esp, saved_esp
	pushl $0x43                     /* ring-3 SS */
	pushl $ring3_stack_top
	pushl $0x2
	pushl $0x3b                     /* ring-3 CS */
	pushl $ring3_code
	iret
ring3_code:
	movw $0x43, %ax                 /* the IRET to ring 3 nulled DS (DPL 0) */
	movw %ax, %ds
	int $0x41
ts_recorder:
	popl ts_error
	movl $0x10, tss_a + 8
	int $0x41
kint:
	movl saved_esp, %esp
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movl ts_error, %eax
	ret

task_b:
	movl %eax, results              /* EAX loaded from TSS B */
	str results + 4
	pushfl
	popl results + 8
	movl tss_b, %eax
	movl %eax, results + 12         /* back link */
	iret
	movl %esp, results + 32         /* second entry, by JMP through the gate */
	pushfl
	popl results + 36
	movl gdt + 0x18 + 4, %eax
	movl %eax, results + 40         /* A not busy after a JMP away from it */
	ljmp $0x18, $0                  /* back to A (available) */
	pushfl                          /* third entry: INT 0x40 through the IDT task gate */
	popl results + 48
	movl tss_b, %eax
	movl %eax, results + 52
	iret

task_c:                                 /* #GP handler task */
	popl results + 60               /* error code */
	movl tss_a + 0x20, %eax
	movl %eax, results + 64         /* where A faulted */
	addl $2, tss_a + 0x20           /* skip the 2-byte MOV to DS */
	iret

	.data
	.align 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x08 code */
	.quad 0x00cf92000000ffff        /* 0x10 data */
	.quad 0                         /* 0x18 TSS A, filled in by tasks_init */
	.quad 0                         /* 0x20 TSS B */
	.quad 0x0000850000200000        /* 0x28 task gate -> 0x20 */
	.quad 0                         /* 0x30 TSS C */
	.quad 0x00cffa000000ffff        /* 0x38 ring-3 code */
	.quad 0x00cff2000000ffff        /* 0x40 ring-3 data */
	.quad 0x00cf9e000000ffff        /* 0x48 conforming ring-0 code (#TS recorder) */
gdt_end:
gdtr:
	.word gdt_end - gdt - 1
	.long gdt
idtr:
	.word 0x7ff
	.long idt
	.globl gdt_tss_a, gdt_tss_b, gdt_tss_c, tss_a, tss_b, tss_c, results, task_b_entry, task_c_entry, idt
	.set gdt_tss_a, gdt + 0x18
	.set gdt_tss_b, gdt + 0x20
	.set gdt_tss_c, gdt + 0x30
	.set task_b_entry, task_b
	.set task_c_entry, task_c
	.align 16
tss_a:	.space 0x68
tss_b:	.space 0x68
tss_c:	.space 0x68
results: .space 84
saved_esp: .long 0
ts_error: .long 0
	.globl ts_recorder_entry, kint_entry
	.set ts_recorder_entry, ts_recorder
	.set kint_entry, kint
	.align 8
idt:	.space 256 * 8
	.bss
	.align 16
	.space 4096
	.globl task_b_stack_top
task_b_stack_top:
	.space 4096
	.globl task_c_stack_top
task_c_stack_top:
	.space 4096
ring0_stack_top:
	.space 4096
ring3_stack_top:
