import { describe, expect, it } from 'vitest';
import type { InterruptSource } from '@unimachine/core';
import { run64, gpr, RBX, RCX, RDX } from './helpers.js';

/** 64-bit GDT + TSS + IDT setup, as a kernel's early init does it. */
const SETUP = `
%macro GATE 3 ; vector, handler, ist
  lea rax, [rel %2]
  mov rdi, idt + %1*16
  mov [rdi], ax
  mov word [rdi+2], 0x08
  mov byte [rdi+4], %3
  mov byte [rdi+5], 0x8E
  shr rax, 16
  mov [rdi+6], ax
  shr rax, 16
  mov [rdi+8], eax
  mov dword [rdi+12], 0
%endmacro
  lgdt [gdtr]
  mov ax, 0x10
  mov ss, ax
  ; 64-bit TSS descriptor at 0x18
  lea rax, [rel tss]
  mov word [gdt+0x18], 0x67
  mov [gdt+0x18+2], ax
  shr rax, 16
  mov [gdt+0x18+4], al
  mov byte [gdt+0x18+5], 0x89
  mov byte [gdt+0x18+6], 0
  mov [gdt+0x18+7], ah
  shr rax, 16
  mov [gdt+0x18+8], eax
  mov dword [gdt+0x18+12], 0
  mov ax, 0x18
  ltr ax
  mov qword [tss+0x24], 0x70000   ; IST1
  GATE 0, de_handler, 0
  GATE 14, pf_handler, 0
  GATE 0x20, irq_handler, 1
  lidt [idtr]
  jmp main
`;

const DATA = `
align 16
gdt:
  dq 0
  dq 0x00af9a000000ffff
  dq 0x00cf92000000ffff
  dq 0, 0                 ; TSS (filled at run time)
gdt_end:
gdtr: dw gdt_end - gdt - 1
  dq gdt
align 16
idt: times 256*16 db 0
idtr: dw 256*16 - 1
  dq idt
align 16
tss: times 0x68 db 0
`;

describe('64-bit IDT delivery', () => {
  it('delivers #DE and #PF to handlers that return with IRETQ; #PF error codes and CR2 are exact', () => {
    const m = run64(SETUP + `
main:
  xor r11, r11
  xor edx, edx
  mov eax, 10
  xor ecx, ecx
  div ecx                 ; #DE -> handler skips it
  mov rsi, r8
  mov rax, [0x40000000]   ; not present -> handler maps it, retried
  mov r12, rax
  mov r13, r9
  mov r14, r10
  mov qword [0x40001000], 7 ; read-only page -> protection fault on write
  mov r15, r10
  mov rbp, [0x40001000]
  cli
  hlt

de_handler:
  mov r8, 0xde
  add qword [rsp], 2      ; skip the 2-byte DIV
  iretq

pf_handler:
  inc r11
  mov r9, cr2
  pop r10                 ; error code
  test r10, 1
  jnz .prot
  mov qword [0x201008], 0x203003
  mov qword [0x203000], 0x205003
  mov qword [0x205000], 0x3ff003
  mov qword [0x205008], 0x3fe001  ; present, read-only
  jmp .out
.prot:
  or qword [0x205008], 2
.out:
  invlpg [r9]
  iretq
irq_handler:
  iretq
` + DATA, {
      setup: (mm) => mm.mem.writeU32(0x3ff000, 0xfeedface),
    });
    expect(m.exit).toBe('dead');
    expect(m.cpu.deathReason).toMatch(/^HLT with interrupts disabled/);
    expect(gpr(m, 6)).toBe(0xden);                 // #DE handler ran
    expect(gpr(m, 12)).toBe(0xfeedfacen);          // retried load after the mapping was installed
    expect(gpr(m, 13)).toBe(0x40000000n);          // CR2 of the not-present fault
    expect(gpr(m, 14)).toBe(0n);                   // error code: not present, read, supervisor
    expect(gpr(m, 15)).toBe(3n);                   // error code: present + write
    expect(gpr(m, 11)).toBe(2n);                   // exactly two page faults
    expect(gpr(m, 5)).toBe(7n);
    expect(m.mem.readU32(0x205008) & 0x60).toBe(0x60); // accessed + dirty
    expect(m.mem.readU32(0x205000) & 0x60).toBe(0x20); // accessed, not dirty
  });

  it('takes an external interrupt after the STI shadow, on the IST stack', () => {
    let fire = true;
    let acks = 0;
    const pic: InterruptSource = {
      pending: () => fire,
      acknowledge: () => { fire = false; acks++; return 0x20; },
    };
    const m = run64(SETUP + `
main:
  xor ebx, ebx
  mov rcx, 0x55
  sti
  mov rcx, rbx            ; runs in the STI shadow: still before the interrupt
  nop
  cli
  hlt
irq_handler:
  mov rbx, 0x20
  mov rdx, rsp
  iretq
de_handler:
pf_handler:
  hlt
` + DATA, { interrupts: pic });
    expect(m.cpu.deathReason).toMatch(/^HLT with interrupts disabled/);
    expect(acks).toBe(1);
    expect(gpr(m, RCX)).toBe(0n);
    expect(gpr(m, RBX)).toBe(0x20n);
    expect(gpr(m, RDX)).toBe(0x70000n - 40n);
  });

  it('HLT with IF=1 waits; a later interrupt wakes the CPU', () => {
    let fire = false;
    const pic: InterruptSource = { pending: () => fire, acknowledge: () => { fire = false; return 0x20; } };
    const m = run64(SETUP + `
main:
  xor ebx, ebx
  sti
  hlt
  mov rcx, 0x77
  cli
  hlt
irq_handler:
  mov rbx, 0x20
  iretq
de_handler:
pf_handler:
  hlt
` + DATA, { interrupts: pic });
    expect(m.exit).toBe('halted');
    expect(m.cpu.run(1000)).toBe('halted');
    fire = true;
    expect(m.cpu.run(1000)).toBe('dead');
    expect(gpr(m, RBX)).toBe(0x20n);
    expect(gpr(m, RCX)).toBe(0x77n);
  });

  it('an exception with no usable IDT entry escalates to #DF and then a triple fault', () => {
    const m = run64(`
  lidt [idtr]
  mov rax, [0x40000000]
idtr: dw 0
  dq 0
`);
    expect(m.exit).toBe('dead');
    expect(m.cpu.deathReason).toMatch(/triple fault \(first exception: #PF \(vector 14\) error code 0x0 CR2=0x40000000/);
  });

  it('stopOnException reports the vector, error code and CR2 without delivering', () => {
    const m = run64(`
  nop
  mov rax, [0x40000000]
`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(m.exit).toBe('stopped');
    expect(m.cpu.lastException).toEqual({ vector: 14, errorCode: 0, address: 0x40000000n });
    expect(m.cpu.getRip()).toBe(0x1001n);
  });
});

describe('software interrupts through bad gates', () => {
  it('INT n through an empty gate is #GP(n*8+2) with the return RIP at the INT instruction', () => {
    const m = run64(SETUP.replace('GATE 0, de_handler, 0', 'GATE 13, gp_handler, 0') + `
main:
  mov rbx, 1
int_here:
  int 0x40
  hlt
gp_handler:
  pop r10                 ; error code
  mov r11, [rsp]          ; return RIP
  lea r12, [rel int_here]
  cli
  hlt
de_handler:
pf_handler:
irq_handler:
  hlt
` + DATA);
    expect(m.cpu.deathReason).toMatch(/^HLT with interrupts disabled/);
    expect(gpr(m, 10)).toBe(BigInt(0x40 * 8 + 2));
    expect(gpr(m, 11)).toBe(gpr(m, 12));
  });
});

describe('single-step', () => {
  it('TF raises #DB after each instruction once POPF has set it; the handler sees the next RIP', () => {
    const m = run64(SETUP.replace('GATE 0, de_handler, 0', 'GATE 1, db_handler, 0') + `
main:
  xor r8, r8
  pushfq
  or qword [rsp], 0x100    ; TF
  popfq                    ; no trap after POPF itself
  nop                      ; trap after this one
  nop                      ; and this one
  pushfq
  and qword [rsp], ~0x100
  popfq                    ; trap after this too (TF was set when it started)
  nop
  cli
  hlt
db_handler:
  inc r8
  iretq
de_handler:
pf_handler:
irq_handler:
  hlt
` + DATA);
    expect(m.cpu.deathReason).toMatch(/^HLT with interrupts disabled/);
    expect(gpr(m, 8)).toBe(5n); // nop, nop, pushfq, and, popfq
  });
});
