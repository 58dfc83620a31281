/**
 * Segment limit and type checks. QEMU TCG does not check data segment limits and the host cannot run
 * 32-bit segments, so the reference here is the Intel SDM, Vol. 3A:
 *   §5.3   limit checking (expand-up / expand-down, G bit, B bit upper bound, the last byte counts),
 *   §5.4.1 null segment selectors (any access through a null DS/ES/FS/GS raises #GP(0)),
 *   §5.5   type checking (no writes to read-only data or code, no reads of execute-only code),
 *   §6.15  #SS(0) for SS-relative and implicit stack accesses, #GP(0) for the others,
 * and the per-instruction exception lists of Vol. 2 (MOV, PUSH/POP, PUSHA/POPA, CALL, RET, JMP, ENTER,
 * LEAVE, MOVS: "#GP(0) If a memory operand effective address is outside the CS, DS, ES, FS, or GS segment
 * limit", "#SS(0) ... outside the SS segment limit", "#GP(0) If the target ... is beyond the code
 * segment limit"). Every fault must leave the instruction restartable: RIP at the faulting instruction,
 * registers and memory unchanged.
 */
import { describe, expect, it } from 'vitest';
import { asm, gpr, machine, run32, run64, EXIT, RAX, RBP, RBX, RCX, RDI, RSI, RSP, type Machine } from './helpers.js';

const FILL = 0xaa;
/** Base of the small data segments (linear) and of the small stack segments. */
const DATA = 0x20000, STACK = 0x30000;

const PROLOGUE = `
%macro AT 0
  mov dword [gs:0x6000], %%here   ; the address of the next instruction (the one expected to fault)
%%here:
%endmacro
  lgdt [gdtr]
  jmp 0x08:.flat
.flat:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov fs, ax
  mov gs, ax
  mov ss, ax
  mov esp, 0x80000
`;

const GDT = `
align 8
gdt: dq 0
  dq 0x00cf9a000000ffff   ; 0x08 flat 32-bit code
  dq 0x00cf92000000ffff   ; 0x10 flat data
  dq 0x0040920200000fff   ; 0x18 data, base 0x20000, limit 0xFFF (byte granular)
  dq 0x0040900200000fff   ; 0x20 read-only data, base 0x20000, limit 0xFFF
  dq 0x0000960200000fff   ; 0x28 expand-down data, B=0: offsets 0x1000..0xFFFF valid
  dq 0x00cf98000000ffff   ; 0x30 execute-only 32-bit code, flat
  dq 0x00409a0000001fff   ; 0x38 readable 32-bit code, base 0, limit 0x1FFF
  dq 0x0040920300000fff   ; 0x40 stack data, base 0x30000, limit 0xFFF, B=1
  dq 0x0040960300000fff   ; 0x48 expand-down stack, base 0x30000, limit 0xFFF, B=1 (up to 4 GiB)
  dq 0x00c0920200000001   ; 0x50 data, base 0x20000, limit 1 x 4 KiB pages = 0x1FFF
  dq 0x00cffa000000ffff   ; 0x58 flat 32-bit code, DPL 3
  dq 0x00cff2000000ffff   ; 0x60 flat data, DPL 3
  dq 0x0000980000001fff   ; 0x68 execute-only 16-bit code, base 0, limit 0x1FFF
gdt_end:
gdtr: dw gdt_end - gdt - 1
  dd gdt
`;

type Run = Machine & { exit: string };

/** Run `body` after the flat prologue; stop at the first exception (not delivered). */
function run(body: string, extra = ''): Run {
  return run32(`${PROLOGUE}${body}\n  ${EXIT}\n${extra}${GDT}`, {
    setup: (m) => {
      m.cpu.stopOnException = true;
      m.mem.bytes(DATA, 0x11000).fill(FILL);
      m.mem.bytes(STACK, 0x2000).fill(FILL);
    },
  });
}

function expectFault(m: Run, vector: number, errorCode = 0, rip = m.mem.readU32(0x6000)): void {
  expect(m.cpu.lastException, 'an exception').toMatchObject({ vector, errorCode });
  expect(Number(m.cpu.getRip())).toBe(rip);
}

function expectNoFault(m: Run): void {
  expect(m.cpu.lastException).toBeUndefined();
  expect(m.exit).toBe('stopped');
}

const reg32 = (m: Run, n: number): number => Number(gpr(m, n) & 0xffffffffn);

describe('data segment limits (SDM Vol. 3A §5.3)', () => {
  it('expand-up, byte granular: the last byte exactly at the limit is fine, one past it is #GP(0)', () => {
    const m = run(`
  mov ax, 0x18
  mov es, ax
  mov eax, 0x11223344
  mov [es:0xffc], eax          ; bytes 0xFFC..0xFFF: inside
  mov [es:0xfff], al           ; a byte at the limit
  mov bx, [es:0xffe]
  AT
  mov [es:0xffd], eax          ; 0xFFD..0x1000 straddles the limit
`);
    expectFault(m, 13, 0);
    expect(m.mem.readU32(DATA + 0xffc)).toBe(0x44223344);
    expect(reg32(m, RBX) & 0xffff).toBe(0x4422);
    expect(m.mem.readU8(DATA + 0x1000)).toBe(FILL); // nothing written past the limit
  });

  it('DS-relative reads past the limit fault too, and so do FS/GS', () => {
    for (const [load, access] of [['mov ds, ax', 'mov eax, [0x1000]'], ['mov fs, ax', 'mov eax, [fs:0xffe]'], ['mov ds, ax', 'movzx eax, word [0xfff]']]) {
      const m = run(`
  mov ax, 0x18
  ${load}
  mov eax, 0x77
  AT
  ${access}
`);
      expectFault(m, 13, 0);
      expect(reg32(m, RAX)).toBe(0x77);
    }
  });

  it('4 KiB granularity scales the limit (limit 1 -> 0x1FFF)', () => {
    const ok = run(`
  mov ax, 0x50
  mov es, ax
  mov dword [es:0x1ffc], 0x5a5a5a5a
`);
    expectNoFault(ok);
    expect(ok.mem.readU32(DATA + 0x1ffc)).toBe(0x5a5a5a5a);
    const bad = run(`
  mov ax, 0x50
  mov es, ax
  AT
  mov dword [es:0x1ffd], 0x5a5a5a5a
`);
    expectFault(bad, 13, 0);
    expect(bad.mem.readU8(DATA + 0x1ffd)).toBe(FILL);
  });

  it('expand-down (B=0): offsets limit+1..0xFFFF are valid, the limit itself and past 0xFFFF are not', () => {
    const ok = run(`
  mov ax, 0x28
  mov es, ax
  mov dword [es:0x1000], 0x01020304    ; the lowest valid offset is limit+1
  mov dword [es:0xfffc], 0x05060708    ; the last dword below the 0xFFFF upper bound
`);
    expectNoFault(ok);
    expect(ok.mem.readU32(DATA + 0x1000)).toBe(0x01020304);
    expect(ok.mem.readU32(DATA + 0xfffc)).toBe(0x05060708);
    for (const access of ['mov [es:0xfff], al', 'mov [es:0xffe], ax', 'mov [es:0xfffd], eax', 'mov eax, [es:0]']) {
      const m = run(`
  mov ax, 0x28
  mov es, ax
  mov eax, 0x99
  AT
  ${access}
`);
      expectFault(m, 13, 0);
      expect(m.mem.readU32(DATA + 0xffc)).toBe(0xaaaaaaaa);
      expect(m.mem.readU32(DATA + 0xfffc)).toBe(0xaaaaaaaa);
    }
  });

  it('16-bit addressing wraps within 64 KiB before the limit check', () => {
    // [bx+si] = 0xFFFF + 3 wraps to offset 2: inside the 0xFFF limit.
    const m = run(`
  mov ax, 0x18
  mov es, ax
  mov dword [es:0], 0x44332211
  mov ebx, 0xffff
  mov esi, 3
  a16 mov al, [es:bx+si]
`);
    expectNoFault(m);
    expect(reg32(m, RAX) & 0xff).toBe(0x33);
  });
});

describe('type checks (SDM Vol. 3A §5.5) and null selectors (§5.4.1)', () => {
  it.each([
    ['mov [es:0], eax'],
    ['add [es:0x10], eax'],
    ['inc byte [es:0]'],
    ['xchg [es:0], eax'],
    ['stosd'],
    ['setc byte [es:0]'],
  ])('a write to a read-only data segment is #GP(0): %s', (insn) => {
    const m = run(`
  mov ax, 0x20
  mov es, ax
  mov eax, [es:0xffc]          ; reads are fine
  mov ebx, eax
  xor edi, edi
  mov eax, 0x12345678
  AT
  ${insn}
`);
    expectFault(m, 13, 0);
    expect(reg32(m, RBX)).toBe(0xaaaaaaaa);
    expect(reg32(m, RDI)).toBe(0);
    expect(reg32(m, RAX)).toBe(0x12345678);
    expect(m.mem.readU32(DATA)).toBe(0xaaaaaaaa);
    expect(m.mem.readU32(DATA + 0x10)).toBe(0xaaaaaaaa);
  });

  it('a write through a CS override is #GP(0); a read of readable code is fine', () => {
    const m = run(`
  mov eax, [cs:0x1000]
  mov ebx, eax
  AT
  mov [cs:0x5000], eax
`);
    expectFault(m, 13, 0);
    expect(reg32(m, RBX)).toBe(m.mem.readU32(0x1000));
    expect(m.mem.readU32(0x5000)).toBe(0);
  });

  it('a read through CS of an execute-only code segment is #GP(0)', () => {
    const m = run(`
  jmp 0x30:.xo
.xo:
  AT
  mov eax, [cs:0x1000]
`);
    expectFault(m, 13, 0);
    expect(m.cpu.segSel[1]).toBe(0x30);
  });

  it('loading an execute-only code selector into DS is #GP(selector)', () => {
    const m = run(`
  mov ax, 0x30
  AT
  mov ds, ax
`);
    expectFault(m, 13, 0x30);
  });

  it.each([
    ['mov ds, ax', 'mov eax, [ebx]'],
    ['mov es, ax', 'stosb'],
    ['mov fs, ax', 'mov [fs:0x100], eax'],
    ['mov ds, ax', 'lodsd'],
    ['mov es, ax', 'push dword [es:0]'],
  ])('loading a null selector is fine, using it is #GP(0): %s; %s', (load, use) => {
    const m = run(`
  xor eax, eax
  ${load}
  mov ebx, 0x1000
  mov edi, 0x2000
  mov esi, 0x3000
  mov ecx, 0x55
  AT
  ${use}
`);
    expectFault(m, 13, 0);
    expect(reg32(m, RDI)).toBe(0x2000);
    expect(reg32(m, RCX)).toBe(0x55);
    expect(reg32(m, RSP)).toBe(0x80000);
  });
});

describe('memory operand sizes', () => {
  // Each pair: an access whose last byte is exactly at the 0xFFF limit, and the same one a byte later.
  it.each([
    ['lds eax, [es:OFF]', 6],              // far pointer m16:32
    ['lgs ax, [es:OFF]', 4],               // far pointer m16:16 (o16)
    ['sgdt [es:OFF]', 6],
    ['cmpxchg8b [es:OFF]', 8],
    ['fld tword [es:OFF]', 10],
    ['fnstenv [es:OFF]', 28],
    ['fnsave [es:OFF]', 108],
    ['fxsave [es:OFF]', 512],
    ['movups [es:OFF], xmm0', 16],
    ['movsd xmm1, [es:OFF]', 8],
    ['movss [es:OFF], xmm1', 4],
    ['movzx eax, word [es:OFF]', 2],
    ['jmp far [es:OFF]', 6],
    ['cvtss2sd xmm0, [es:OFF]', 4],
    ['cvtps2pd xmm0, [es:OFF]', 8],
    ['comisd xmm0, [es:OFF]', 8],
    ['paddd xmm0, [es:OFF]', 16],
    ['movq xmm0, [es:OFF]', 8],
    ['movd [es:OFF], xmm0', 4],
    ['pinsrw xmm0, [es:OFF], 1', 2],
    ['cvtdq2pd xmm0, [es:OFF]', 8],
    ['cvtsi2sd xmm0, dword [es:OFF]', 4],
    ['stmxcsr [es:OFF]', 4],
    ['fild qword [es:OFF]', 8],
    ['fistp word [es:OFF]', 2],
    ['fnstcw [es:OFF]', 2],
    ['fnstsw [es:OFF]', 2],
    ['fbstp tword [es:OFF]', 10],
    ['sldt [es:OFF]', 2],
    ['smsw [es:OFF]', 2],
    ['cmovz eax, [es:OFF]', 4],
    ['bt dword [es:OFF], 3', 4],
    ['shld [es:OFF], eax, 3', 4],
    ['movnti [es:OFF], eax', 4],
    ['movsx eax, byte [es:OFF]', 1],
    ['setnz byte [es:OFF]', 1],
    ['mov [es:OFF], es', 2],
    ['xadd [es:OFF], ax', 2],
  ])('%s covers %i bytes', (insn, size) => {
    const body = (off: number) => `
  mov eax, cr4
  or eax, 0x600                ; OSFXSR, OSXMMEXCPT
  mov cr4, eax
  mov ax, 0x18
  mov es, ax
  mov dword [es:0xf00], 0x20   ; a BOUND range / far pointer that holds (0x20..0x20 and 0x...:0x20)
  mov dword [es:0xf04], 0x20
  mov eax, 0x20
  xor edx, edx
  AT
  ${insn.replace('OFF', `0x${off.toString(16)}`)}
  jmp .done
.done:
`;
    const limitEnd = 0xfff;
    const okOff = (limitEnd + 1 - size) & ~(insn.startsWith('fxsave') ? 15 : 0);
    const ok = run(body(okOff));
    if (/^(jmp far|lds|lgs)/.test(insn)) {
      // A far pointer inside the limit is read; its selector (0xAAAA, from the fill) then faults.
      expect(ok.cpu.lastException?.errorCode).toBe(0xaaa8);
    } else {
      expectNoFault(ok);
    }
    // FXSAVE needs 16-byte alignment (#GP(0) too): only check the misaligned-by-limit case differently.
    const bad = run(body(insn.startsWith('fxsave') ? okOff + 16 : okOff + 1));
    expectFault(bad, 13, 0);
  });
});

describe('stack segment (#SS(0)) limits', () => {
  const stack = (esp: number, body: string, sel = 0x40) => run(`
  mov ax, ${sel}
  mov ss, ax
  mov esp, 0x${esp.toString(16)}
  mov eax, 0x11111111
  mov ebx, 0x22222222
  mov ebp, 0x33333333
  ${body}
`);

  it('PUSH just inside the limit works; one that straddles it is #SS(0) with ESP unchanged', () => {
    const ok = stack(0x1000, 'push eax');
    expectNoFault(ok);
    expect(ok.mem.readU32(STACK + 0xffc)).toBe(0x11111111);
    const bad = stack(0x1002, 'AT\n  push eax');
    expectFault(bad, 12, 0);
    expect(reg32(bad, RSP)).toBe(0x1002);
    expect(bad.mem.readU32(STACK + 0xffc)).toBe(0xaaaaaaaa);
  });

  it.each([
    ['pop', 0xffe, 'pop ecx'],
    ['pop m', 0xffe, 'pop dword [0x5000]'],
    ['call', 0x1002, 'call .target\n.target:'],
    ['ret', 0xffe, 'ret'],
    ['ret imm16', 0xffe, 'ret 8'],
    ['pushad', 0x1010, 'pushad'],
    ['popad', 0xff0, 'popad'],
    ['pushfd', 0x1001, 'pushfd'],
    ['push fs', 0x1002, 'push fs'],
    ['pop ds', 0xffd, 'pop ds'],
    ['call far', 0x1004, 'call 0x08:.far\n.far:'],
    ['retf', 0xffc, 'retf'],
    ['leave', 0x800, 'mov ebp, 0xffe\n  AT\n  leave'],
    ['enter', 0x10, 'enter 0x20, 0'],
    ['enter level 2', 0x800, 'mov ebp, 0x1002\n  AT\n  enter 8, 2'],
    ['SS-relative operand', 0x800, 'mov ebp, 0xffe\n  AT\n  mov eax, [ebp]'],
  ])('%s beyond the SS limit is #SS(0), restartable', (_name, esp, insn) => {
    const m = stack(esp, insn.includes('AT') ? insn : `AT\n  ${insn}`);
    expectFault(m, 12, 0);
    expect(reg32(m, RSP)).toBe(esp);
    expect(reg32(m, RAX)).toBe(0x11111111);
    expect(reg32(m, RBX)).toBe(0x22222222);
    expect(reg32(m, RCX)).toBe(0);
    expect(m.cpu.segSel[3]).toBe(0x10);
    for (let k = 0; k < 0x1000; k += 4) {
      if (m.mem.readU32(STACK + k) !== 0xaaaaaaaa) throw new Error(`stack written at 0x${k.toString(16)}`);
    }
    expect(m.mem.readU32(0x5000)).toBe(0);
  });

  it('RETF to an outer privilege level checks the outer SS:ESP slots before anything is popped', () => {
    // Frame at ESP 0xFF4: EIP, CS (RPL 3), then ESP and SS, the last of which lies beyond the limit.
    const frame = 'mov dword [ss:0xff4], 0x1000\n  mov dword [ss:0xff8], 0x5b\n  mov dword [ss:0xffc], 0x1000';
    const m = stack(0x800, `${frame}\n  mov esp, 0xff4\n  AT\n  retf`);
    expectFault(m, 12, 0);
    expect(reg32(m, RSP)).toBe(0xff4);
    expect(m.cpu.segSel[1]).toBe(0x08);
    expect(m.cpu.cpl).toBe(0);
    // The same frame one slot lower fits: the return to CPL 3 happens (the rerun prologue then faults).
    const ok = stack(0x800, 'mov dword [ss:0xff0], 0x1000\n  mov dword [ss:0xff4], 0x5b\n  mov dword [ss:0xff8], 0x1000\n  mov dword [ss:0xffc], 0x63\n  mov esp, 0xff0\n  retf');
    expect(ok.cpu.cpl).toBe(3);
    expect(ok.cpu.segSel[2]).toBe(0x63);
    expect(reg32(ok, RSP)).toBe(0x1000);
  });

  it('expand-down stack (B=1): pushes above the limit work, the one that reaches it is #SS(0)', () => {
    const m = stack(0x1008, 'push eax\n  push ebx\n  AT\n  push eax', 0x48);
    expectFault(m, 12, 0);
    expect(reg32(m, RSP)).toBe(0x1000);
    expect(m.mem.readU32(STACK + 0x1004)).toBe(0x11111111);
    expect(m.mem.readU32(STACK + 0x1000)).toBe(0x22222222);
    expect(m.mem.readU32(STACK + 0xffc)).toBe(0xaaaaaaaa);
  });

  it('the last push that ends exactly at the limit of an expand-up stack is fine (PUSHAD, ENTER)', () => {
    const m = stack(0x1000, 'pushad\n  mov esp, 0x1000\n  enter 0xffc, 0');
    expectNoFault(m);
    expect(reg32(m, RSP)).toBe(0);
  });
});

describe('instruction fetch and branch targets against the CS limit', () => {
  // CS 0x38 has limit 0x1FFF; the code below sits at 0x1FF8.. (org 0x1000).
  const edge = (entry: string, tail: string) => run(`
  jmp 0x38:${entry}
`, `
times 0xff0 - ($ - $$) db 0xcc
edge:                          ; 0x1FF0
  ${tail}
`);

  it('a near JMP, CALL, indirect JMP or RET to a target beyond the limit is #GP(0) at the branch', () => {
    for (const insn of ['AT\n  jmp 0x2100', 'AT\n  call 0x2100', 'mov eax, 0x2000\n  AT\n  jmp eax', 'push 0x2000\n  AT\n  ret', 'mov eax, 0x2004\n  AT\n  call eax', 'cmp eax, eax\n  AT\n  je 0x2100']) {
      const m = run(`
  jmp 0x38:.in
.in:
  ${insn}
`);
      expectFault(m, 13, 0);
      expect(m.cpu.segSel[1]).toBe(0x38);
      expect(reg32(m, RSP)).toBe(insn.startsWith('push') ? 0x7fffc : 0x80000);
    }
  });

  it('a taken LOOP to a target beyond the limit is #GP(0) with ECX not decremented', () => {
    const m = edge('edge', `
  mov ecx, 2
  AT
  loop $+0x20                  ; 0x1FF0 + 5 + 0x20: beyond 0x1FFF
`);
    expectFault(m, 13, 0);
    expect(reg32(m, RCX)).toBe(2);
  });

  it('RETF and IRETD to an EIP beyond the limit of the CS they return to are #GP(0) before anything is popped', () => {
    for (const insn of ['push dword 0x38\n  push dword 0x2000\n  AT\n  retf', 'pushfd\n  push dword 0x38\n  push dword 0x2000\n  AT\n  iretd']) {
      const m = run(insn);
      expectFault(m, 13, 0);
      expect(m.cpu.segSel[1]).toBe(0x08);
      expect(reg32(m, RSP)).toBe(insn.startsWith('pushfd') ? 0x80000 - 12 : 0x80000 - 8);
    }
    // With EIP at the last byte of the limit the return goes through; the 2-byte 00 00 found there then
    // straddles the limit: #GP(0) at 0x1FFF, in the new CS.
    const ok = run('push dword 0x38\n  push dword 0x1fff\n  retf');
    expect(ok.cpu.segSel[1]).toBe(0x38);
    expectFault(ok, 13, 0, 0x1fff);
  });

  it('a far JMP whose offset is beyond the new CS limit faults before CS changes', () => {
    const m = run(`
  AT
  jmp 0x38:0x2000
`);
    expectFault(m, 13, 0);
    expect(m.cpu.segSel[1]).toBe(0x08);
  });

  it('an instruction whose last byte is exactly at the limit runs; the next fetch is #GP(0)', () => {
    const m = edge('edge', `
  times 8 nop                  ; 0x1FF0..0x1FF7
  mov eax, 0x22222222          ; 0x1FF8..0x1FFC
  mov ebx, eax                 ; 0x1FFD..0x1FFE
  inc ebx                      ; 0x1FFF: the last byte of the segment
  nop                          ; 0x2000: beyond the limit
`);
    expectFault(m, 13, 0, 0x2000);
    expect(reg32(m, RAX)).toBe(0x22222222);
    expect(reg32(m, RBX)).toBe(0x22222223);
  });

  it('an instruction that straddles the limit is #GP(0) at its first byte', () => {
    const m = edge('edge', `
  times 13 nop                 ; 0x1FF0..0x1FFC
  mov eax, 0x33333333          ; 0x1FFD..0x2001 straddles 0x1FFF
`);
    expectFault(m, 13, 0, 0x1ffd);
    expect(reg32(m, RAX)).not.toBe(0x33333333);
  });
});

describe('16-bit protected-mode code', () => {
  it('a 16-bit code segment checks its limit on fetch and on near branches too', () => {
    const jump = run(`
  jmp 0x68:.in16
bits 16
.in16:
  mov dword [gs:0x6000], .here
.here:
  jmp word 0x2100               ; beyond the 0x1FFF limit
bits 32
`);
    expectFault(jump, 13, 0);
    expect(jump.cpu.codeSize).toBe(16);
    const straddle = run(`
  jmp 0x68:0x1ff0
`, `
times 0xff0 - ($ - $$) db 0xcc
bits 16
  times 13 nop                  ; 0x1FF0..0x1FFC
  mov eax, 0x44444444           ; 66 B8 imm32 at 0x1FFD: straddles the limit
bits 32
`);
    expectFault(straddle, 13, 0, 0x1ffd);
    expect(reg32(straddle, RAX)).not.toBe(0x44444444);
  });
});

describe('string instructions', () => {
  it('REP MOVSB stops at the element past the ES limit with ECX/ESI/EDI ready to restart', () => {
    const m = run(`
  mov ax, 0x18
  mov es, ax
  mov esi, 0x7000
  mov edi, 0xffe
  mov ecx, 4
  cld
  AT
  rep movsb
`);
    expectFault(m, 13, 0);
    expect(reg32(m, RCX)).toBe(2);
    expect(reg32(m, RDI)).toBe(0x1000);
    expect(reg32(m, RSI)).toBe(0x7002);
    expect(m.mem.readU16(DATA + 0xffe)).toBe(0); // two bytes copied (RAM at 0x7000 is zero)
    expect(m.mem.readU8(DATA + 0x1000)).toBe(FILL);
  });

  it('REP STOSD within the limit fills exactly up to the limit', () => {
    const m = run(`
  mov ax, 0x18
  mov es, ax
  mov edi, 0xf00
  mov ecx, 0x40
  mov eax, 0x01010101
  cld
  rep stosd
`);
    expectNoFault(m);
    expect(m.mem.readU32(DATA + 0xffc)).toBe(0x01010101);
    expect(m.mem.readU32(DATA + 0x1000)).toBe(0xaaaaaaaa);
  });
});

describe('real mode (cached limit 0xFFFF, "unreal" limits persist)', () => {
  /** Run 16-bit code at 0000:1000 from reset state (real mode). */
  function real(src: string, stopOnException = true): Run {
    const m = machine();
    m.mem.write(0x1000, asm(`
%macro AT 0
  mov word [cs:0x6000], %%here
%%here:
%endmacro
${src}
  ${EXIT}
align 8
gdt: dq 0
  dq 0x00cf92000000ffff   ; 0x08 flat data (4 GiB)
gdt_end:
gdtr: dw gdt_end - gdt - 1
  dd gdt
`, { bits: 16, org: 0x1000 }));
    m.cpu.setRip(0x1000n);
    m.cpu.segBase[1] = 0;
    m.cpu.segSel[1] = 0;
    m.cpu.stopOnException = stopOnException;
    const exit = m.cpu.run(10_000);
    return { ...m, exit };
  }

  it('a word at offset 0xFFFF is #GP(0); a byte there is fine', () => {
    const m = real(`
  mov ax, 0x2000
  mov ds, ax
  mov byte [0xffff], 0x5c
  mov ax, 0x1234
  AT
  mov [0xffff], ax
`);
    expectFault(m, 13, 0, m.mem.readU16(0x6000));
    expect(m.mem.readU8(0x2ffff)).toBe(0x5c);
    expect(m.mem.readU8(0x30000)).toBe(0);
  });

  it('an SS-relative access or a push past 0xFFFF is #SS(0)', () => {
    const m = real(`
  mov ax, 0x2000
  mov ss, ax
  mov sp, 0x100
  mov bp, 0xfffe
  mov ax, [bp]                 ; last word: fine
  AT
  mov eax, [bp]
`);
    expectFault(m, 12, 0, m.mem.readU16(0x6000));
    const p = real(`
  mov ax, 0x2000
  mov ss, ax
  mov sp, 1
  AT
  push ax                      ; SP-2 wraps to 0xFFFF: the word straddles the limit
`);
    expectFault(p, 12, 0, p.mem.readU16(0x6000));
    expect(Number(gpr(p, RSP) & 0xffffn)).toBe(1);
  });

  it('stack slots wrap at 64 KiB (SP 0 -> 0xFFFE): PUSH, PUSHA and an INT frame across the wrap are fine', () => {
    const m = real(`
  mov ax, 0x2000
  mov ss, ax
  xor ax, ax
  mov ds, ax
  mov word [0x20*4], handler   ; IVT entry for INT 0x20
  mov word [0x20*4+2], 0
  mov sp, 0
  mov ax, 0x4321
  push ax                      ; at 0xFFFE
  mov sp, 8
  pusha                        ; 0x0006 down to 0xFFF8
  mov sp, 2
  int 0x20                     ; frame at 0x0000, 0xFFFE, 0xFFFC
  hlt
handler:
  mov bx, sp
`, false);
    expect(m.cpu.lastException).toBeUndefined();
    expect(m.exit).toBe('stopped');
    expect(Number(gpr(m, RBX) & 0xffffn)).toBe(0xfffc);
    expect(m.mem.readU16(0x2fffe)).toBe(0); // CS of the return address
    expect(m.mem.readU16(0x20000) & 0x0002).toBe(2); // FLAGS (bit 1 always set) at offset 0
    expect(m.mem.readU16(0x2fffc)).toBeGreaterThan(0x1000); // IP after INT 0x20
    expect(m.mem.readU16(0x20006)).toBe(0x4321); // PUSHA's first slot (AX) at SP 8 - 2
  });

  it('REP STOSB with 16-bit addressing wraps DI from 0xFFFF to 0 inside the segment, with no fault', () => {
    const m = real(`
  mov ax, 0x2000
  mov es, ax
  mov di, 0xfff0
  mov cx, 0x20
  mov al, 0x7e
  cld
  rep stosb
`);
    expect(m.cpu.lastException).toBeUndefined();
    expect(m.exit).toBe('stopped');
    expect(Number(gpr(m, RDI) & 0xffffn)).toBe(0x10);
    expect(m.mem.readU8(0x2fff0)).toBe(0x7e);
    expect(m.mem.readU8(0x2ffff)).toBe(0x7e);
    expect(m.mem.readU8(0x20000)).toBe(0x7e);
    expect(m.mem.readU8(0x2000f)).toBe(0x7e);
    expect(m.mem.readU8(0x30000)).toBe(0); // never past the segment
  });

  it('32-bit offsets beyond 0xFFFF fault unless the cached limit was raised in protected mode (unreal mode)', () => {
    const m = real(`
  xor ax, ax
  mov ds, ax
  mov es, ax
  lgdt [gdtr]
  cli
  mov eax, cr0
  or al, 1
  mov cr0, eax
  mov bx, 0x08
  mov ds, bx                   ; DS cache: base 0, limit 4 GiB
  and al, 0xfe
  mov cr0, eax
  xor bx, bx
  mov ds, bx                   ; real-mode load: base 0, the 4 GiB limit stays
  mov dword [dword 0x123450], 0xcafef00d
  mov ebp, [dword 0x123450]
  AT
  mov dword [es:dword 0x123454], 0
`);
    expectFault(m, 13, 0, m.mem.readU16(0x6000));
    expect(m.mem.readU32(0x123450)).toBe(0xcafef00d);
    expect(Number(gpr(m, RBP) & 0xffffffffn)).toBe(0xcafef00d);
    expect(m.mem.readU32(0x123454)).toBe(0);
  });
});

describe('compatibility mode (IA-32e, CS.L=0) checks like protected mode', () => {
  function compat(body: string): Run {
    return run64(`
  lgdt [rel gdtr]
  push 0x08                    ; 32-bit code segment: compatibility mode
  lea rax, [rel compat]
  push rax
  retfq
bits 32
compat:
  mov ax, 0x10
  mov ds, ax
  mov gs, ax
  mov eax, 0x12345678
${body}
  ${EXIT}
align 8
gdt: dq 0
  dq 0x00cf9a000000ffff   ; 0x08 32-bit code
  dq 0x00cf92000000ffff   ; 0x10 flat data
  dq 0x0040920200000fff   ; 0x18 data, base 0x20000, limit 0xFFF
gdt_end:
gdtr: dw gdt_end - gdt - 1
  dq gdt
`, { setup: (mm) => { mm.cpu.stopOnException = true; mm.mem.bytes(DATA, 0x2000).fill(FILL); } });
  }
  const AT = `  mov dword [gs:0x6000], .here\n.here:`;

  it('a limit violation is #GP(0) and an inside access works', () => {
    const m = compat(`
  mov bx, 0x18
  mov es, bx
  mov [es:0xffc], eax
${AT}
  mov [es:0xffd], eax
`);
    expectFault(m as Run, 13, 0);
    expect(m.cpu.codeSize).toBe(32);
    expect(m.mem.readU32(DATA + 0xffc)).toBe(0x12345678);
    expect(m.mem.readU8(DATA + 0x1000)).toBe(FILL);
  });

  it('a null ES (usable in 64-bit mode) is #GP(0) on use', () => {
    const m = compat(`
  xor ebx, ebx
  mov es, bx
${AT}
  mov [es:0x100], eax
`);
    expectFault(m as Run, 13, 0);
  });
});

describe('64-bit mode is not limit-checked', () => {
  it('null DS/ES/SS are usable there (SDM Vol. 3A §5.4.1.1), with no limit checks', () => {
    const m = run64(`
  xor eax, eax
  mov ds, eax
  mov es, eax
  mov dword [0x5000], 0x600d
  mov rdi, 0x5004
  mov eax, 0x1234
  stosd
  push rax
  pop rbx
  mov ecx, [0x5000]
  ${EXIT}
`, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(m.cpu.lastException).toBeUndefined();
    expect(m.mem.readU32(0x5004)).toBe(0x1234);
    expect(Number(gpr(m, RBX))).toBe(0x1234);
    expect(Number(gpr(m, RCX))).toBe(0x600d);
    expect(m.cpu.segChecked.every((f) => f === 0)).toBe(true);
  });
});
