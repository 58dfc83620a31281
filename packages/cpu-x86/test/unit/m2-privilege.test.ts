import { describe, expect, it } from 'vitest';
import { run64, run32, gpr, USER_MODE_SETUP, USER_MODE_TABLES } from './helpers.js';

describe('privilege transitions in long mode', () => {
  it('IRETQ to CPL3, INT 0x80 back to CPL0 on TSS.RSP0, #GP for CLI at CPL3, SYSCALL/SYSRET', () => {
    const m = run64(`${USER_MODE_SETUP}
  GATE 0x80, int80, 3
  GATE 13, gp, 0
  lidt [idtr]
  ; SYSCALL setup: STAR[47:32] = 0x08 (kernel CS), STAR[63:48] = 0x10 (user base: SS=0x18|3, CS=0x20|3)
  mov ecx, 0xC0000081
  xor eax, eax
  mov edx, 0x00100008
  wrmsr
  mov ecx, 0xC0000082
  lea rax, [rel sys_entry]
  mov rdx, rax
  shr rdx, 32
  wrmsr
  mov ecx, 0xC0000080
  rdmsr
  or eax, 1                          ; SCE
  wrmsr
  ; drop to CPL3
  push 0x1b                          ; SS (user data, RPL3)
  push 0x70000                       ; RSP
  push 0x202                         ; RFLAGS (IF)
  push 0x23                          ; CS (user code, RPL3)
  lea rax, [rel user]
  push rax
  iretq
user:
  mov r8, cs
  int 0x80
  mov r12, rsp
  syscall
  mov r14, cs
  cli                                ; #GP(0) at CPL3
  jmp $
int80:
  mov r9, [rsp+8]                    ; pushed CS
  mov r10, rsp
  iretq
sys_entry:
  mov r13, cs
  o64 sysret
gp:
  pop r11                            ; error code
  mov r15, [rsp+8]
  cli
  hlt
${USER_MODE_TABLES}
`, { userPages: true });
    expect(m.cpu.deathReason).toMatch(/^HLT with interrupts disabled/);
    expect(gpr(m, 8)).toBe(0x23n);               // running at CPL3
    expect(gpr(m, 9)).toBe(0x23n);               // INT frame holds the user CS
    expect(gpr(m, 10)).toBe(0x60000n - 40n);     // handler ran on RSP0
    expect(gpr(m, 12)).toBe(0x70000n);           // user stack restored by IRETQ
    expect(gpr(m, 13)).toBe(0x08n);              // SYSCALL entered CPL0
    expect(gpr(m, 14)).toBe(0x23n);              // SYSRET returned to CPL3
    expect(gpr(m, 11)).toBe(0n);                 // #GP(0)
    expect(gpr(m, 15)).toBe(0x23n);
  });
});

describe('32-bit protected-mode IDT', () => {
  it('delivers INT n and #DE through 32-bit interrupt gates and returns with IRETD', () => {
    const m = run32(`
  lgdt [gdtr]
  jmp 0x08:.reload
.reload:
  mov ax, 0x10
  mov ds, ax
  mov ss, ax
  mov eax, de
  mov [idt + 0*8], ax
  mov word [idt + 0*8 + 2], 0x08
  mov word [idt + 0*8 + 4], 0x8E00
  shr eax, 16
  mov [idt + 0*8 + 6], ax
  mov eax, soft
  mov [idt + 0x30*8], ax
  mov word [idt + 0x30*8 + 2], 0x08
  mov word [idt + 0x30*8 + 4], 0x8F00     ; trap gate: IF unchanged
  shr eax, 16
  mov [idt + 0x30*8 + 6], ax
  lidt [idtr]
  int 0x30
  xor edx, edx
  mov eax, 1
  xor ecx, ecx
  div ecx
  mov edi, 0x600d
  hlt
de:
  mov esi, [esp]          ; faulting EIP
  add dword [esp], 2
  iretd
soft:
  mov ebx, 0x5041
  iretd
align 8
gdt: dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff
gdtr: dw 23
  dd gdt
idt: times 256*8 db 0
idtr: dw 256*8-1
  dd idt
`);
    expect(m.cpu.deathReason).toMatch(/^HLT with interrupts disabled/);
    expect(gpr(m, 3)).toBe(0x5041n);
    expect(gpr(m, 7)).toBe(0x600dn);
    expect(Number(gpr(m, 6))).toBeGreaterThan(0x1000);
  });
});

describe('LAR / LSL', () => {
  it('report access rights and expanded limits of visible descriptors, ZF=0 for the null selector', () => {
    const m = run32(`
  lgdt [gdtr]
  mov ax, 0x10
  lar ebx, ax
  setz cl
  lsl edx, ax
  xor ax, ax
  lsl esi, ax
  setz ch
  cli
  hlt
align 8
gdt: dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff
gdtr: dw 23
  dd gdt
`);
    expect(gpr(m, 3)).toBe(0x00cf9200n);   // descriptor bytes 5-6 as in the table (nothing loaded it yet)
    expect(gpr(m, 1) & 0xffffn).toBe(0x0001n); // CL=1 (ZF set by LAR), CH=0 (LSL of null)
    expect(gpr(m, 2)).toBe(0xffffffffn);
  });
});
