import { describe, expect, it } from 'vitest';
import { run32, gpr, EXIT, PM32_FLAT_START } from './helpers.js';

describe('32-bit task switches', () => {
  it('CALL FAR to a TSS (back link, NT, busy), IRET back, JMP FAR through a task gate', () => {
    const m = run32(`
  lgdt [gdtr]
  jmp 0x08:.reload
.reload:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax                          ; the loader left 0x18 here, which is a TSS in this GDT
  mov gs, ax
%macro TSSDESC 2 ; gdt offset, tss label
  mov eax, %2
  mov [gdt+%1+2], ax
  shr eax, 16
  mov [gdt+%1+4], al
  mov [gdt+%1+7], ah
%endmacro
  TSSDESC 0x18, tss_a
  TSSDESC 0x20, tss_b
  mov dword [tss_b+0x20], task_b      ; EIP
  mov dword [tss_b+0x24], 2           ; EFLAGS
  mov dword [tss_b+0x28], 0x1234      ; EAX
  mov dword [tss_b+0x38], 0x60000     ; ESP
  mov dword [tss_b+0x4c], 0x08        ; CS
  mov dword [tss_b+0x50], 0x10        ; SS
  mov dword [tss_b+0x54], 0x10        ; DS
  mov dword [tss_b+0x48], 0x10        ; ES
  mov ax, 0x18
  ltr ax
  mov ebx, 0x55
  call 0x20:0                         ; task switch to B
  mov [0x5010], ebx                   ; A's registers came back
  smsw [0x5014]
  mov eax, [gdt+0x18+4]
  mov [0x5018], eax                   ; A still busy
  mov eax, [gdt+0x20+4]
  mov [0x501c], eax                   ; B available again after its IRET
  jmp 0x28:0                          ; through the task gate: resumes B after its IRET
task_b:
  mov [0x5000], eax
  str word [0x5004]
  pushfd
  pop dword [0x5008]
  mov eax, [tss_b]
  mov [0x500c], eax                   ; back link
  iretd
  mov [0x5020], esp                   ; second entry, by JMP
  pushfd
  pop dword [0x5024]
  mov eax, [gdt+0x18+4]
  mov [0x5028], eax                   ; A no longer busy after the JMP
  ${EXIT}
align 8
gdt: dq 0
  dq 0x00cf9a000000ffff   ; 0x08 code
  dq 0x00cf92000000ffff   ; 0x10 data
  dq 0x0000890000000067   ; 0x18 TSS A
  dq 0x0000890000000067   ; 0x20 TSS B
  dq 0x0000850000200000   ; 0x28 task gate -> 0x20
gdtr: dw 47
  dd gdt
align 16
tss_a: times 0x68 db 0
tss_b: times 0x68 db 0
`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(m.cpu.lastException).toBeUndefined();
    expect(m.exit).toBe('stopped');
    const u32 = (a: number) => m.mem.readU32(a);
    expect(u32(0x5000)).toBe(0x1234);            // EAX from TSS B
    expect(u32(0x5004) & 0xffff).toBe(0x20);     // TR
    expect(u32(0x5008) & 0x4000).toBe(0x4000);   // NT after CALL
    expect(u32(0x500c)).toBe(0x18);              // back link
    expect(u32(0x5010)).toBe(0x55);              // A's EBX restored by the IRET
    expect(u32(0x5014) & 8).toBe(8);             // CR0.TS set by the switch
    expect((u32(0x5018) >> 8) & 0xf).toBe(0xb);
    expect((u32(0x501c) >> 8) & 0xf).toBe(0x9);
    expect(u32(0x5020)).toBe(0x60000);           // B's ESP as saved at its IRET
    expect(u32(0x5024) & 0x4000).toBe(0);        // no NT after JMP
    expect((u32(0x5028) >> 8) & 0xf).toBe(0x9);
    expect(gpr(m, 4)).toBe(0x60000n);
  });

  it('task gates in the IDT: INT n and #GP (error code pushed on the handler task stack)', () => {
    const m = run32(`
${PM32_FLAT_START}
%macro TASK 3 ; tss, entry, stack
  mov dword [%1+0x20], %2
  mov dword [%1+0x24], 2
  mov dword [%1+0x38], %3
  mov dword [%1+0x4c], 0x08
  mov dword [%1+0x50], 0x10
  mov dword [%1+0x54], 0x10
  mov dword [%1+0x48], 0x10
%endmacro
  TSSDESC 0x18, tss_a
  TSSDESC 0x20, tss_b
  TSSDESC 0x28, tss_c
  TASK tss_b, soft_task, 0x60000
  TASK tss_c, gp_task, 0x50000
  mov dword [idt + 0x40*8], 0x00200000      ; task gate -> 0x20
  mov dword [idt + 0x40*8 + 4], 0x00008500
  mov dword [idt + 13*8], 0x00280000        ; task gate -> 0x28
  mov dword [idt + 13*8 + 4], 0x00008500
  lidt [idtr]
  mov ax, 0x18
  ltr ax
  int 0x40
  mov [0x5010], esp
  mov ax, 0x3b
  mov ds, ax                                ; #GP(0x38): beyond the GDT limit
  mov ax, 0x10
  mov ds, ax
  mov dword [0x5014], 0x600d
  ${EXIT}
soft_task:
  pushfd
  pop dword [0x5000]
  mov eax, [tss_b]
  mov [0x5004], eax
  iretd
gp_task:
  pop dword [0x5008]                        ; error code
  mov eax, [tss_a+0x20]
  mov [0x500c], eax                         ; where A faulted
  add dword [tss_a+0x20], 2                 ; skip the faulting MOV DS, AX
  iretd
align 8
gdt: dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff
  dq 0x0000890000000067, 0x0000890000000067, 0x0000890000000067
gdtr: dw 47
  dd gdt
idtr: dw 0x7ff
  dd idt
align 16
tss_a: times 0x68 db 0
tss_b: times 0x68 db 0
tss_c: times 0x68 db 0
idt: times 256*8 db 0
`, { setup: (mm) => { mm.cpu.stopOnException = false; } });
    expect(m.cpu.deathReason).toBeUndefined();
    expect(m.exit).toBe('stopped');
    const u32 = (a: number) => m.mem.readU32(a);
    expect(u32(0x5000) & 0x4000).toBe(0x4000);   // NT in the handler task
    expect(u32(0x5004)).toBe(0x18);              // back link to A
    expect(u32(0x5008)).toBe(0x38);              // #GP error code
    const faultingMov = u32(0x500c);
    expect(m.mem.readU16(faultingMov)).toBe(0xd88e); // 8E D8: MOV DS, AX
    expect(u32(0x5010)).toBe(0x80000);           // A's stack untouched by the INT
    expect(u32(0x5014)).toBe(0x600d);
  });

  it('CALL FAR to a busy TSS -> #GP(selector)', () => {
    const m = run32(`
  lgdt [gdtr]
  mov eax, tss
  mov [gdt+0x18+2], ax
  shr eax, 16
  mov [gdt+0x18+4], al
  mov [gdt+0x18+7], ah
  mov ax, 0x18
  ltr ax
  call 0x18:0
align 8
gdt: dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x0000890000000067
gdtr: dw 31
  dd gdt
tss: times 0x68 db 0`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(m.cpu.lastException).toEqual({ vector: 13, errorCode: 0x18, address: undefined });
  });
});
