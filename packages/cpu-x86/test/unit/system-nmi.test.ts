import { describe, expect, it } from 'vitest';
import { asm, identityMap, machine, gpr } from './helpers.js';

/**
 * 64-bit kernel with an NMI handler (vector 2, interrupt gate) that tracks its nesting depth in R15
 * (maximum seen) and counts entries in R12; it records RBX at entry in R13. `main` runs after the IDT is
 * loaded. The handler spins a few instructions so a second NMI can arrive while it runs.
 */
function nmiKernel(main: string) {
  const m = machine();
  m.mem.write(0x1000, asm(`
  lea rax, [rel nmi]
  mov rdi, idt + 2*16
  mov [rdi], ax
  mov word [rdi+2], 0x08
  mov word [rdi+4], 0x8e00
  shr rax, 16
  mov [rdi+6], ax
  shr rax, 16
  mov [rdi+8], eax
  lgdt [gdtr]
  lidt [idtr]
  ${main}
nmi:
  inc qword [depth]
  mov rax, [depth]
  cmp rax, r15
  cmova r15, rax
  inc r12
  mov r13, rbx
  mov ecx, 20
.spin:
  loop .spin
  dec qword [depth]
  iretq
align 8
depth: dq 0
gdt: dq 0, 0x00af9a000000ffff, 0x00cf92000000ffff
gdtr: dw 23
  dq gdt
align 16
idt: times 256*16 db 0
idtr: dw 256*16-1
  dq idt
`, { bits: 64, org: 0x1000 }));
  const cr3 = identityMap(m.mem, 0x200000);
  m.cpu.enterLongMode({ cr3, cpl: 0, rip: 0x1000n, rsp: 0x80000n });
  return m;
}

describe('NMI', () => {
  it('is delivered through vector 2 with IF=0, and a second NMI waits for the IRET', () => {
    const m = nmiKernel(`
  cli
.wait:
  cmp r12, 2
  jne .wait
  mov dx, 0x501
  out dx, al
  jmp $`);
    m.cpu.run(30);                 // IDT loaded, spinning with IF=0
    expect(gpr(m, 12)).toBe(0n);
    m.cpu.nmi();
    m.cpu.run(10);                 // inside the handler now
    expect(gpr(m, 12)).toBe(1n);
    m.cpu.nmi();                   // latched while the first one is being handled
    expect(m.cpu.run(100_000)).toBe('stopped');
    expect(gpr(m, 12)).toBe(2n);
    expect(gpr(m, 15)).toBe(1n);   // never nested
  });

  it('wakes the CPU from HLT', () => {
    const m = nmiKernel(`
  sti
  hlt
  mov r14, 0x600d
  mov dx, 0x501
  out dx, al
  jmp $`);
    expect(m.cpu.run(1000)).toBe('halted');
    m.cpu.nmi();
    expect(m.cpu.run(1000)).toBe('stopped');
    expect(gpr(m, 12)).toBe(1n);
    expect(gpr(m, 14)).toBe(0x600dn);
  });

  it('waits one instruction after MOV SS (interrupt shadow)', () => {
    const m = nmiKernel(`
  mov eax, 0x10
  mov ss, ax
  mov ebx, 1
  mov ebx, 2
  mov dx, 0x501
  out dx, al
  jmp $`);
    // Step up to the MOV SS (8E D0), execute it, then raise the NMI.
    while (m.mem.bytes(m.cpu.rip, 1)[0] !== 0x8e) expect(m.cpu.run(1)).toBe('budget');
    m.cpu.run(1);
    expect(m.mem.bytes(m.cpu.rip, 1)[0]).toBe(0xbb); // next: MOV EBX, 1
    m.cpu.nmi();
    expect(m.cpu.run(100_000)).toBe('stopped');
    expect(gpr(m, 13)).toBe(1n);   // the NMI arrived after MOV EBX, 1, not before it
    expect(gpr(m, 12)).toBe(1n);
  });
});
