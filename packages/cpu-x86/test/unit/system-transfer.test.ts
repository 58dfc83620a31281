import { describe, expect, it } from 'vitest';
import { run64, run32, gpr, RAX, RBX, RSI, RDI, RBP, EXIT } from './helpers.js';

describe('SYSENTER / SYSEXIT', () => {
  it('32-bit: SYSEXIT to CPL3 (SYSENTER_CS+16/+24), SYSENTER back to CPL0 on SYSENTER_ESP with IF cleared', () => {
    const m = run32(`
  lgdt [gdtr]
  jmp 0x08:.reload
.reload:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov ecx, 0x174
  xor edx, edx
  mov eax, 0x08
  wrmsr
  mov ecx, 0x175
  mov eax, 0x70000
  wrmsr
  mov ecx, 0x176
  mov eax, kentry
  wrmsr
  mov ecx, 0x60000           ; user ESP
  mov edx, user              ; user EIP
  push 0x202
  popfd                      ; IF=1 across the trip
  sysexit
user:
  mov ebx, cs
  mov esi, ss
  mov ebp, esp
  sysenter
kentry:
  mov edi, cs
  mov eax, ss
  pushfd
  pop ecx
  ${EXIT}
align 8
gdt: dq 0
  dq 0x00cf9a000000ffff      ; 0x08 ring-0 code
  dq 0x00cf92000000ffff      ; 0x10 ring-0 data
  dq 0x00cffa000000ffff      ; 0x18 ring-3 code
  dq 0x00cff2000000ffff      ; 0x20 ring-3 data
gdtr: dw 39
  dd gdt`);
    expect(m.exit).toBe('stopped');
    expect(gpr(m, RBX)).toBe(0x1bn);
    expect(gpr(m, RSI)).toBe(0x23n);
    expect(gpr(m, RBP)).toBe(0x60000n);
    expect(gpr(m, RDI)).toBe(0x08n);
    expect(gpr(m, RAX)).toBe(0x10n);
    expect(gpr(m, 4)).toBe(0x70000n); // PUSHFD/POP balanced
    expect(gpr(m, 1) & 0x200n).toBe(0n);
    expect(m.cpu.cpl).toBe(0);
  });

  it('64-bit: REX.W SYSEXIT uses SYSENTER_CS+32/+40 and RDX/RCX; SYSENTER enters 64-bit code', () => {
    const m = run64(`
  mov ecx, 0x174
  xor edx, edx
  mov eax, 0x08
  wrmsr
  mov ecx, 0x175
  mov eax, 0x70000
  mov edx, 0
  wrmsr
  mov ecx, 0x176
  lea rax, [rel kentry]
  xor edx, edx
  wrmsr
  mov ecx, 0x60000
  lea rdx, [rel user]
  o64 sysexit
user:
  mov rbx, cs
  mov rsi, ss
  mov rbp, rsp
  mov r8, 0x1122334455
  sysenter
kentry:
  mov rdi, cs
  mov rax, ss
  ${EXIT}`, { userPages: true });
    expect(m.exit).toBe('stopped');
    expect(gpr(m, RBX)).toBe(0x2bn);
    expect(gpr(m, RSI)).toBe(0x33n);
    expect(gpr(m, RBP)).toBe(0x60000n);
    expect(gpr(m, 8)).toBe(0x1122334455n); // 64-bit code ran in ring 3
    expect(gpr(m, RDI)).toBe(0x08n);
    expect(gpr(m, RAX)).toBe(0x10n);
    expect(gpr(m, 4)).toBe(0x70000n);
  });

  it('#GP(0): SYSENTER with SYSENTER_CS=0, SYSEXIT to a non-canonical RIP', () => {
    let m = run64('sysenter', { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(m.cpu.lastException).toEqual({ vector: 13, errorCode: 0, address: undefined });
    m = run64(`
  mov ecx, 0x174
  xor edx, edx
  mov eax, 0x08
  wrmsr
  mov rdx, 0x0000800000000000
  mov ecx, 0x1000
  o64 sysexit`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(m.cpu.lastException?.vector).toBe(13);
    expect(m.cpu.cpl).toBe(0);
  });
});

describe('SYSRET', () => {
  const setup = `
  mov ecx, 0xC0000081
  xor eax, eax
  mov edx, 0x00130008         ; SYSRET base 0x13 (RPL bits ignored): CS32=0x13, SS=0x1b, CS64=0x23
  wrmsr`;

  it('SYSRETQ to a non-canonical RCX -> #GP(0) at CPL0, nothing changed', () => {
    const m = run64(`${setup}
  mov rcx, 0x0000800000000000
  o64 sysret`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(m.cpu.lastException?.vector).toBe(13);
    expect(m.cpu.lastException?.errorCode).toBe(0);
    expect(m.cpu.cpl).toBe(0);
    expect(m.cpu.getRip()).toBe(0x1000n + 14n + 10n); // the SYSRET, after the WRMSR setup and MOV RCX, imm64
  });

  it('SYSRETL returns to compatibility mode: CS = STAR[63:48] | 3, EIP = ECX, RFLAGS = R11', () => {
    const m = run64(`${setup}
  lea rcx, [rel compat]
  mov r11, 0x2 | 0x800         ; OF set, IF clear
  sysret
bits 32
compat:
  mov ebx, cs
  mov esi, ss
  pushfd
  pop edi
  ${EXIT}`, { userPages: true });
    expect(m.exit).toBe('stopped');
    expect(gpr(m, RBX)).toBe(0x13n);
    expect(gpr(m, RSI)).toBe(0x1bn);
    expect(gpr(m, RDI) & 0xfffn).toBe(0x802n);
    expect(m.cpu.cpl).toBe(3);
  });
});
