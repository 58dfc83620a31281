import { describe, expect, it } from 'vitest';
import { run32, run64, gpr, EXIT } from './helpers.js';

/** 32-bit kernel: GDT with ring 0/3 segments, a 32-bit TSS (SS0:ESP0 = 0x10:0x60000) and a call gate. */
function legacy(user: string, gate: string, kernelFn: string) {
  return run32(`
  lgdt [gdtr]
  jmp 0x08:.reload
.reload:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov eax, tss
  mov [gdt+0x28+2], ax
  shr eax, 16
  mov [gdt+0x28+4], al
  mov [gdt+0x28+7], ah
  mov dword [tss+4], 0x60000          ; ESP0
  mov dword [tss+8], 0x10             ; SS0
  mov eax, kfunc
  mov [gdt+0x30], ax
  shr eax, 16
  mov [gdt+0x30+6], ax
  mov ax, 0x28
  ltr ax
  push 0x23
  push 0x70000
  push 0x3002                         ; IOPL 3 so ring 3 can reach the exit port
  push 0x1b
  push user
  iretd
user:
  mov ax, 0x23                        ; the IRETD to ring 3 nulled DS (DPL 0 < CPL 3, SDM "IRET")
  mov ds, ax
  ${user}
  ${EXIT}
kfunc:
  ${kernelFn}
align 8
gdt: dq 0
  dq 0x00cf9a000000ffff   ; 0x08 ring-0 code
  dq 0x00cf92000000ffff   ; 0x10 ring-0 data
  dq 0x00cffa000000ffff   ; 0x18 ring-3 code
  dq 0x00cff2000000ffff   ; 0x20 ring-3 data
  dq 0x0000890000000067   ; 0x28 TSS
  ${gate}                 ; 0x30 call gate (offset filled in)
gdtr: dw 55
  dd gdt
align 16
tss: times 0x68 db 0
`, { setup: (m) => { m.cpu.stopOnException = true; } });
}

describe('call gates', () => {
  it('32-bit: CALL FAR from ring 3 through a DPL3 gate to ring 0 copies parameters, RETF n returns', () => {
    const m = legacy(`
  push 0x22
  push 0x11
  call 0x33:0                ; gate selector, RPL 3; the offset is ignored
  mov ebx, cs
  mov esi, esp`,
    'dq 0x0000ec0200080000   ; present, DPL3, 32-bit call gate, 2 parameters, target 0x08',
    `
  mov eax, cs
  mov ecx, ss
  mov edi, [esp+4]          ; caller CS
  mov ebp, [esp+8]          ; parameter 0
  mov eax, [esp+12]
  mov [0x500c], eax         ; parameter 1
  mov [0x5000], esp
  mov eax, [esp+16]
  mov [0x5004], eax         ; caller ESP
  mov eax, [esp+20]
  mov [0x5008], eax         ; caller SS
  mov eax, cs
  retf 8`);
    expect(m.cpu.lastException).toBeUndefined();
    expect(m.exit).toBe('stopped');
    expect(gpr(m, 1)).toBe(0x10n);                     // SS in the handler (from the TSS)
    expect(gpr(m, 7)).toBe(0x1bn);
    expect(gpr(m, 5)).toBe(0x11n);
    expect(m.mem.readU32(0x500c)).toBe(0x22);
    expect(m.mem.readU32(0x5000)).toBe(0x60000 - 24);  // SS, ESP, 2 params, CS, EIP
    expect(m.mem.readU32(0x5004)).toBe(0x70000 - 8);
    expect(m.mem.readU32(0x5008)).toBe(0x23);
    expect(gpr(m, 3)).toBe(0x1bn);                     // back in ring 3
    expect(gpr(m, 6)).toBe(0x70000n);                  // RETF 8 released the parameters
  });

  it('gate DPL below CPL -> #GP(gate selector); gate not present -> #NP(gate selector)', () => {
    let m = legacy('call 0x33:0', 'dq 0x00008c0000080000   ; DPL0 gate', 'retf');
    expect(m.cpu.lastException).toEqual({ vector: 13, errorCode: 0x30, address: undefined });
    m = legacy('call 0x33:0', 'dq 0x00006c0000080000   ; not present, DPL3', 'retf');
    expect(m.cpu.lastException).toEqual({ vector: 11, errorCode: 0x30, address: undefined });
  });

  it('JMP FAR through a gate to a more privileged non-conforming segment -> #GP(target)', () => {
    const m = legacy('jmp 0x33:0', 'dq 0x0000ec0000080000', 'retf');
    expect(m.cpu.lastException).toEqual({ vector: 13, errorCode: 0x08, address: undefined });
    expect(m.cpu.cpl).toBe(3);
  });

  it('64-bit: CALL FAR through a 16-byte gate to ring 0 on TSS.RSP0, RETFQ back to ring 3', () => {
    const m = run64(`
  lgdt [gdtr]
  lea rax, [rel tss]
  mov [gdt+0x28+2], ax
  shr rax, 16
  mov [gdt+0x28+4], al
  mov [gdt+0x28+7], ah
  lea rax, [rel kfunc]
  mov [gdt+0x38], ax
  shr rax, 16
  mov [gdt+0x38+6], ax
  shr rax, 16
  mov [gdt+0x38+8], eax
  mov qword [tss+4], 0x60000          ; RSP0
  mov ax, 0x28
  ltr ax
  push 0x1b
  push 0x70000
  push 0x3002
  push 0x23
  lea rax, [rel user]
  push rax
  iretq
user:
  call far dword [rel farptr]
  mov rbx, cs
  mov rsi, rsp
  ${EXIT}
kfunc:
  mov rax, cs
  mov rcx, ss
  mov rdi, [rsp+8]          ; caller CS
  mov rbp, [rsp+16]         ; caller RSP
  mov r9, [rsp+24]          ; caller SS
  mov r8, rsp
  o64 retf
farptr: dd 0
  dw 0x3b
align 16
gdt:
  dq 0
  dq 0x00af9a000000ffff   ; 0x08 kernel code
  dq 0x00cf92000000ffff   ; 0x10 kernel data
  dq 0x00cff2000000ffff   ; 0x18 user data
  dq 0x00affa000000ffff   ; 0x20 user code
  dq 0x0000890000000067, 0 ; 0x28 TSS
  dq 0x0000ec0000080000, 0 ; 0x38 64-bit call gate, DPL3, target 0x08
gdtr: dw 0x47
  dq gdt
align 16
tss: times 0x68 db 0
`, { userPages: true, setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(m.cpu.lastException).toBeUndefined();
    expect(gpr(m, 0)).toBe(0x08n);
    expect(gpr(m, 1)).toBe(0n);           // null SS with RPL 0
    expect(gpr(m, 7)).toBe(0x23n);
    expect(gpr(m, 5)).toBe(0x70000n);
    expect(gpr(m, 9)).toBe(0x1bn);
    expect(gpr(m, 8)).toBe(0x60000n - 32n);
    expect(gpr(m, 3)).toBe(0x23n);
    expect(gpr(m, 6)).toBe(0x70000n);
  });
});
