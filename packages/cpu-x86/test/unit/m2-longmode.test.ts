import { describe, expect, it } from 'vitest';
import { machine, asm, gpr, RAX, RBX, RCX, RDX, RSI, RDI } from './helpers.js';

/** A multiboot-style entry that switches to long mode the way a real kernel does. */
const BOOT = `
bits 32
start:
  mov esp, 0x80000
  ; page tables: PML4 at 0x10000, PDPT at 0x11000, PD at 0x12000 (2 MiB pages, first 1 GiB)
  mov edi, 0x10000
  xor eax, eax
  mov ecx, 3*1024
  rep stosd
  mov dword [0x10000], 0x11003
  mov dword [0x11000], 0x12003
  mov edi, 0x12000
  mov eax, 0x83
  mov ecx, 512
.pd:
  mov [edi], eax
  mov dword [edi+4], 0
  add eax, 0x200000
  add edi, 8
  loop .pd
  lgdt [gdtr]
  mov eax, cr4
  or eax, 1 << 5           ; PAE
  mov cr4, eax
  mov eax, 0x10000
  mov cr3, eax
  mov ecx, 0xC0000080      ; EFER
  rdmsr
  or eax, 1 << 8           ; LME
  wrmsr
  mov eax, cr0
  or eax, 1 << 31          ; PG
  mov cr0, eax
  ; compatibility mode now; far-return into the 64-bit code segment like Solo5 does
  push 0x08
  push long_entry
  retf

align 8
gdt:
  dq 0
  dq 0x00af9a000000ffff    ; 0x08: 64-bit code
  dq 0x00cf92000000ffff    ; 0x10: data
gdt_end:
gdtr:
  dw gdt_end - gdt - 1
  dd gdt

bits 64
long_entry:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov rsp, 0x90000
`;

describe('switch from multiboot 32-bit entry to long mode', () => {
  it('loads a GDT, enables PAE + LME + PG and far-returns into 64-bit code', () => {
    const m = machine();
    const code = asm(BOOT + `
  mov rax, 0x123456789abcdef0
  mov rbx, rax
  shr rbx, 32
  lea rsi, [rel msg]
.p:
  lodsb
  test al, al
  jz .done
  mov dx, 0x3f8
  out dx, al
  jmp .p
.done:
  mov ecx, 0xC0000080
  rdmsr
  mov rdi, rax
  mov rax, 0x123456789abcdef0
  mov dx, 0x501
  mov ax, 41
  out dx, ax
  hlt
msg: db "in long mode", 10, 0
`, { bits: 32, org: 0x100000 });
    m.mem.write(0x100000, code);
    m.cpu.enterMultiboot(0x100000, 0x9000);
    const exit = m.cpu.run(100_000);
    expect(m.cpu.deathReason).toBeUndefined();
    expect(exit).toBe('stopped');
    expect(m.serial()).toBe('in long mode\n');
    expect(gpr(m, RBX)).toBe(0x12345678n);
    expect(gpr(m, RDI) & 0x500n).toBe(0x500n); // EFER.LME | EFER.LMA
    expect(m.cpu.getCr(0) & 0x80000001n).toBe(0x80000001n);
    // Accessed bits were set by the page walk.
    expect(m.mem.readU32(0x10000) & 0x20).toBe(0x20);
  });

  it('far JMP into 64-bit code works as well', () => {
    const m = machine();
    const code = asm(BOOT.replace('push 0x08\n  push long_entry\n  retf', 'jmp 0x08:long_entry') + `
  mov rcx, -1
  mov rdx, rcx
  hlt
`, { bits: 32, org: 0x100000 });
    m.mem.write(0x100000, code);
    m.cpu.enterMultiboot(0x100000, 0x9000);
    expect(m.cpu.run(100_000)).toBe('dead'); // HLT with IF=0
    expect(m.cpu.deathReason).toMatch(/^HLT with interrupts disabled/);
    expect(gpr(m, RCX)).toBe(0xffffffffffffffffn);
    expect(gpr(m, RDX)).toBe(0xffffffffffffffffn);
    void RAX; void RSI;
  });
});

export { BOOT };
