import { describe, expect, it } from 'vitest';
import { run32, EXIT, type Machine, PM32_FLAT_START } from './helpers.js';

/*
 * Inner-privilege stack switches in legacy protected mode and returns to an outer ring, against the
 * Intel SDM (Vol. 2 "INT n" INTER-PRIVILEGE-LEVEL-INTERRUPT, "CALL" MORE-PRIVILEGE, "IRET"/"RET"
 * RETURN-TO-OUTER-PRIVILEGE-LEVEL; Vol. 3A §5.8.5, §6.12.1, §6.13 error codes). The host cannot run
 * 32-bit segments. QEMU 7.2 TCG agrees on #TS for a null / wrong-RPL / wrong-DPL SS0 on a software INT n
 * (guest/apps/cpu-tasks32 prints those on both), but differs elsewhere: it never sets EXT in these error
 * codes, reports a not-present SS0 as #TS instead of #SS, never checks the new stack's limit (ESP wraps),
 * and ignores the TSS T bit (no #DB). Those cases are tested here against the SDM only.
 *
 * Scaffold: ring-3 code runs with DS=0x23; faults while switching stacks go through gates to a
 * *conforming* ring-0 code segment (0x30), so their handlers run at the faulting CPL on the faulting
 * stack (no second stack switch) and record the frame: vector, error code, EIP, CS, EFLAGS, ESP.
 */

const STACK0 = 0x30000; // base of the ring-0 stack segment under test (selector 0x38)
const PATTERN = 0xaaaaaaaa;
const R = { vec: 0x5004, err: 0x5000, eip: 0x5008, cs: 0x500c, fl: 0x5010, esp: 0x5014, ss: 0x5018, here: 0x5030 };

/** A GDT/LDT descriptor as nasm data: flags nibble = G D/B L AVL. */
function desc(base: number, limit: number, access: number, flags = 0x4): string {
  const lo = (((base & 0xffff) << 16) | (limit & 0xffff)) >>> 0;
  const hi = (((base >>> 24) << 24) | (flags << 20) | (((limit >>> 16) & 0xf) << 16) | (access << 8) | ((base >>> 16) & 0xff)) >>> 0;
  return `dd 0x${lo.toString(16)}, 0x${hi.toString(16)}`;
}

interface Opts {
  /** Ring-3 code; must define `here:` on the instruction expected to fault. */
  user?: string;
  /** Ring-0 code run before the IRETD to ring 3 (define `here:` there instead for ring-0 cases). */
  ring0?: string;
  ss0?: number;
  esp0?: number;
  ss0Desc?: string;
  tssLimit?: number;
  /** IDT entry 0x40 / 6 / 13-from-ring-3 target: selector and type/attribute byte. */
  intCs?: number;
  intAttr?: number;
  intTarget?: string;
  /** Call gate at 0x40: attribute byte and parameter count, target selector. */
  gateAttr?: number;
  gateParams?: number;
  gateCs?: number;
  gateTarget?: string;
  /** Ring-0 code run just before LTR. */
  preLtr?: string;
  /** Descriptors appended to the GDT (from 0x58). */
  extraGdt?: string;
}

function kernel(o: Opts): Machine & { exit: string } {
  const tssLimit = o.tssLimit ?? 0x67;
  return run32(`
  lgdt [gdtr]
  jmp 0x08:.reload
.reload:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x80000
  mov eax, tss
  mov [gdt+0x28+2], ax
  shr eax, 16
  mov [gdt+0x28+4], al
  mov [gdt+0x28+7], ah
  mov dword [tss+4], 0x${(o.esp0 ?? 0x1000).toString(16)}     ; ESP0
  mov dword [tss+8], 0x${(o.ss0 ?? 0x38).toString(16)}        ; SS0
  mov eax, ${o.gateTarget ?? 'kfunc'}
  mov [gdt+0x40], ax
  shr eax, 16
  mov [gdt+0x40+6], ax
%macro IGATE 4 ; vector, handler, selector, attr
  mov eax, %2
  mov [idt+%1*8], ax
  mov word [idt+%1*8+2], %3
  mov byte [idt+%1*8+5], %4
  shr eax, 16
  mov [idt+%1*8+6], ax
%endmacro
  IGATE 8, h_df, 0x30, 0x8e
  IGATE 10, h_ts, 0x30, 0x8e
  IGATE 11, h_np, 0x30, 0x8e
  IGATE 12, h_ss, 0x30, 0x8e
  IGATE 13, h_gp, 0x30, 0x8e
  IGATE 14, h_pf, 0x30, 0x8e
  IGATE 6, ${o.intTarget ?? 'kint'}, ${o.intCs ?? 0x08}, 0x8e
  IGATE 0x40, ${o.intTarget ?? 'kint'}, ${o.intCs ?? 0x08}, 0x${(o.intAttr ?? 0xee).toString(16)}
  lidt [idtr]
  ${o.preLtr ?? ''}
  mov ax, 0x28
  ltr ax
  mov dword [${R.here}], here
  ${o.ring0 ?? ''}
  push 0x23
  push 0x70000
  push 0x3002                 ; IOPL 3: the ring-3 handlers reach the exit port
  push 0x1b
  push user
  iretd
user:
  mov ax, 0x23
  mov ds, ax
  mov es, ax
  mov ebx, 0xb0b0b0b0
  mov esi, 0x51515151
  mov edi, 0xd1d1d1d1
  mov ebp, 0xbbbbbbbb
  ${o.user ?? ''}
  mov byte [0x5040], 0xee     ; reached only when nothing faulted
  ${EXIT}
kint:                          ; ring-0 interrupt handler: SS, ESP and the frame it got
kfunc:                         ; ring-0 call gate target
  mov [0x5020], esp
  mov eax, ss
  mov [0x5024], eax
  mov eax, cs
  mov [0x5028], eax
  mov dword [0x5044], 0x600d
  ${EXIT}
h_df: mov dword [${R.vec}], 8
  jmp rec
h_ts: mov dword [${R.vec}], 10
  jmp rec
h_np: mov dword [${R.vec}], 11
  jmp rec
h_ss: mov dword [${R.vec}], 12
  jmp rec
h_pf: mov dword [${R.vec}], 14
  jmp rec
h_gp: mov dword [${R.vec}], 13
rec:                           ; conforming: runs at the faulting CPL, on the faulting stack
  pop dword [${R.err}]
  pop dword [${R.eip}]
  pop dword [${R.cs}]
  pop dword [${R.fl}]
  mov [${R.esp}], esp
  mov eax, ss
  mov [${R.ss}], eax
  ${EXIT}
align 8
gdt: dq 0
  ${desc(0, 0xfffff, 0x9a, 0xc)}    ; 0x08 ring-0 code
  ${desc(0, 0xfffff, 0x92, 0xc)}    ; 0x10 ring-0 data
  ${desc(0, 0xfffff, 0xfa, 0xc)}    ; 0x18 ring-3 code
  ${desc(0, 0xfffff, 0xf2, 0xc)}    ; 0x20 ring-3 data
  ${desc(0, tssLimit, 0x89, 0)}      ; 0x28 TSS (base filled in)
  ${desc(0, 0xfffff, 0x9e, 0xc)}    ; 0x30 conforming ring-0 code: the fault handlers
  ${o.ss0Desc ?? desc(STACK0, 0xfff, 0x92)} ; 0x38 the ring-0 stack under test
  dd ${o.gateCs ?? 0x08} << 16, 0x${((o.gateAttr ?? 0xec) << 8 | (o.gateParams ?? 0)).toString(16)} ; 0x40 call gate
  ${desc(0, 0xfff, 0x9a)}           ; 0x48 ring-0 code, limit 0xFFF (below this code)
  ${desc(0, 0xfffff, 0x1a, 0xc)}    ; 0x50 ring-0 code, not present
  ${o.extraGdt ?? ''}
gdt_end:
gdtr: dw gdt_end - gdt - 1
  dd gdt
idtr: dw 0x7ff
  dd idt
align 16
tss: times 0x68 db 0
tss2: times 0x68 db 0
idt: times 256*8 db 0
`, {
    setup: (m) => {
      for (let k = 0; k < 0x1000; k += 4) m.mem.writeU32(STACK0 + k, PATTERN);
      m.cpu.stopOnException = false;
    },
  });
}

const u32 = (m: Machine, a: number) => m.mem.readU32(a);
const reg32 = (m: Machine, i: number) => Number(m.cpu.getGpr(i) & 0xffffffffn);

/** The event at `here:` in ring 3 was refused with (vector, error code) and nothing changed. */
function expectRing3Fault(m: Machine & { exit: string }, vec: number, err: number, esp = 0x70000): void {
  expect(m.cpu.deathReason).toBeUndefined();
  expect(m.exit).toBe('stopped');
  expect({ vec: u32(m, R.vec), err: u32(m, R.err) }).toEqual({ vec, err });
  expect(u32(m, R.eip)).toBe(u32(m, R.here)); // restartable: the pushed EIP is the faulting instruction
  expect(u32(m, R.cs)).toBe(0x1b);
  expect(u32(m, R.esp)).toBe(esp); // the ring-3 ESP as it was (the frame popped by the recorder)
  expect(u32(m, R.ss) & 0xffff).toBe(0x23);
  expect(u32(m, R.fl) & 0x3000).toBe(0x3000);
  expect([reg32(m, 3), reg32(m, 6), reg32(m, 7), reg32(m, 5)]).toEqual([0xb0b0b0b0, 0x51515151, 0xd1d1d1d1, 0xbbbbbbbb]);
  for (let k = 0; k < 0x1000; k += 4) {
    if (u32(m, STACK0 + k) !== PATTERN) throw new Error(`ring-0 stack written at +0x${k.toString(16)}`);
  }
  expect(u32(m, 0x5044)).toBe(0); // the ring-0 target never ran
  expect(u32(m, 0x5040)).toBe(0);
}

/** The ring-0 handler ran on SS0 with ESP = esp. */
function expectInner(m: Machine & { exit: string }, esp: number, ss = 0x38): void {
  expect(m.cpu.deathReason).toBeUndefined();
  expect(u32(m, R.vec)).toBe(0);
  expect(u32(m, 0x5044)).toBe(0x600d);
  expect(u32(m, 0x5020)).toBe(esp);
  expect(u32(m, 0x5024) & 0xffff).toBe(ss);
  expect(u32(m, 0x5028) & 3).toBe(0);
}

describe('interrupt/trap gate to ring 0 from ring 3: the TSS stack (SDM Vol. 2 "INT n", Vol. 3A §6.12.1)', () => {
  it('a frame that fits exactly: SS, ESP, EFLAGS, CS, EIP at the top of SS0 (5 dwords)', () => {
    const m = kernel({ esp0: 0x1000, user: 'here: int 0x40' });
    expectInner(m, 0x1000 - 20);
    const f = STACK0 + 0x1000 - 20;
    expect(u32(m, f)).toBe(u32(m, R.here) + 2); // INT n: the next instruction
    expect(u32(m, f + 4)).toBe(0x1b);
    expect(u32(m, f + 16)).toBe(0x23);
    expect(u32(m, f + 12)).toBe(0x70000);
  });

  it.each([
    ['INT 0x40 (software: EXT=0)', 'here: int 0x40', 0],
    ['#UD from ring 3 (an exception: EXT=1)', 'here: ud2', 1],
  ])('%s: every check of the new stack', (_n, user, ext) => {
    // TSS too small to hold SS0:ESP0 (bytes 4-9): #TS(TSS selector).
    expectRing3Fault(kernel({ user, tssLimit: 8 }), 10, 0x28 | ext);
    // Null SS0: #TS with only EXT.
    expectRing3Fault(kernel({ user, ss0: 0 }), 10, ext);
    expectRing3Fault(kernel({ user, ss0: 3 }), 10, ext);
    // SS0 beyond the GDT limit, RPL != 0, DPL != 0, read-only, code: #TS(SS0).
    expectRing3Fault(kernel({ user, ss0: 0x100 }), 10, 0x100 | ext);
    expectRing3Fault(kernel({ user, ss0: 0x3b }), 10, 0x38 | ext);
    expectRing3Fault(kernel({ user, ss0Desc: desc(STACK0, 0xfff, 0xf2) }), 10, 0x38 | ext);
    expectRing3Fault(kernel({ user, ss0Desc: desc(STACK0, 0xfff, 0x90) }), 10, 0x38 | ext);
    expectRing3Fault(kernel({ user, ss0Desc: desc(STACK0, 0xfff, 0x9a) }), 10, 0x38 | ext);
    // Not present: #SS(SS0).
    expectRing3Fault(kernel({ user, ss0Desc: desc(STACK0, 0xfff, 0x12) }), 12, 0x38 | ext);
    // Expand-up SS0 with room for 16 of the 20 bytes: #SS(SS0), not #SS(0), nothing pushed.
    expectRing3Fault(kernel({ user, esp0: 16 }), 12, 0x38 | ext);
    expectRing3Fault(kernel({ user, esp0: 0x1004 }), 12, 0x38 | ext); // top beyond the limit
    // Gate target beyond the new CS limit: #GP(EXT); CS not present: #NP(CS + EXT).
    expectRing3Fault(kernel({ user, intCs: 0x48, intTarget: '0x2000' }), 13, ext);
    expectRing3Fault(kernel({ user, intCs: 0x50 }), 11, 0x50 | ext);
  });

  it('an exception with an error code needs 24 bytes: ESP0 = 24 fits; at 20, #GP then #SS is a #DF(0) (SDM Table 6-5)', () => {
    const user = 'mov ax, 0x28\nhere: mov fs, ax             ; a TSS selector in FS: #GP(0x28)';
    // The scaffold sends #GP to the conforming recorder; here it goes through a ring-0 gate instead.
    const viaRing0 = (esp0: number) => kernel({ user, esp0, ring0: 'IGATE 13, kint, 0x08, 0x8e' });
    expectRing3Fault(viaRing0(20), 8, 0); // both contributory: the #SS(0x39) becomes a double fault
    const ok = viaRing0(24);
    expectInner(ok, 0);
    expect(u32(ok, STACK0)).toBe(0x28); // the error code at the bottom of the 24-byte frame
  });

  it('expand-down SS0 (B=1, limit 0xFFF): offsets 0x1000.. are valid, a frame reaching 0xFFF is #SS(SS0)', () => {
    const ss0Desc = desc(STACK0 - 0x1000, 0xfff, 0x96);
    expectRing3Fault(kernel({ user: 'here: int 0x40', ss0Desc, esp0: 0x1010 }), 12, 0x38);
    expectInner(kernel({ user: 'here: int 0x40', ss0Desc, esp0: 0x1014 }), 0x1000);
  });

  it('a 16-bit interrupt gate pushes 5 words: 10 bytes fit, 8 do not', () => {
    expectInner(kernel({ user: 'here: int 0x40', intAttr: 0xe6, esp0: 10 }), 0);
    expectRing3Fault(kernel({ user: 'here: int 0x40', intAttr: 0xe6, esp0: 8 }), 12, 0x38);
  });

  it('a #PF on the new stack (ESP0 in a not-present page) leaves CPL, SS and ESP of ring 3 as they were', () => {
    // 4 MiB pages (CR4.PSE): 0-4 MiB present and user-accessible, 4-8 MiB not present.
    const preLtr = `mov dword [0x200000], 0x87
  mov dword [0x200004], 0
  mov eax, cr4
  or eax, 0x10
  mov cr4, eax
  mov eax, 0x200000
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax`;
    for (const user of ['here: int 0x40', 'here: ud2']) {
      const m = kernel({ user, preLtr, ss0: 0x10, esp0: 0x401000 });
      // A supervisor write to a not-present page (error code 2), reported with CR2 and ring 3's state.
      expectRing3Fault(m, 14, 2);
      expect(m.cpu.cr2).toBe(0x400ffc);
    }
  });

  it('same privilege: a frame beyond the SS limit is #SS(EXT) (SDM "INT n" INTRA-PRIVILEGE-LEVEL-INTERRUPT)', () => {
    // Ring 0 on SS 0x38 with ESP 8: the 12-byte frame does not fit. #SS goes through a task gate to a
    // handler task (0x58), which reads the faulting EIP and ESP from the TSS of the interrupted task.
    const ring0 = (insn: string) => `mov eax, tss2
  mov [gdt+0x58+2], ax
  shr eax, 16
  mov [gdt+0x58+4], al
  mov [gdt+0x58+7], ah
  mov dword [tss2+0x20], ss_task
  mov dword [tss2+0x24], 2
  mov dword [tss2+0x38], 0x60000
  mov dword [tss2+0x4c], 0x08
  mov dword [tss2+0x50], 0x10
  mov dword [tss2+0x54], 0x10
  mov dword [tss2+0x48], 0x10
  mov dword [idt+12*8], 0x00580000
  mov dword [idt+12*8+4], 0x00008500
  mov ax, 0x38
  mov ss, ax
  mov esp, 8
here: ${insn}
ss_task:
  pop dword [${R.err}]
  mov dword [${R.vec}], 12
  mov eax, [tss+0x20]
  mov [${R.eip}], eax
  mov eax, [tss+0x38]
  mov [${R.esp}], eax
  ${EXIT}`;
    for (const [insn, ext] of [['int 0x40', 0], ['ud2', 1]] as const) {
      const m = kernel({ ring0: ring0(insn), extraGdt: desc(0, 0x67, 0x89, 0) });
      expect(m.cpu.deathReason).toBeUndefined();
      expect({ vec: u32(m, R.vec), err: u32(m, R.err) }).toEqual({ vec: 12, err: ext });
      expect(u32(m, R.eip)).toBe(u32(m, R.here));
      expect(u32(m, R.esp)).toBe(8);
      expect(u32(m, STACK0)).toBe(PATTERN);
      expect(u32(m, STACK0 + 4)).toBe(PATTERN);
    }
  });

  it('a 16-bit TSS (type 1): SP0/SS0 at bytes 2/4, and its limit must reach byte 5', () => {
    const preLtr = 'mov byte [gdt+0x28+5], 0x81\n  mov dword [tss], 0x08000000\n  mov dword [tss+4], 0x38';
    expectInner(kernel({ user: 'here: int 0x40', preLtr }), 0x800 - 20);
    expectRing3Fault(kernel({ user: 'here: int 0x40', tssLimit: 4, preLtr }), 10, 0x28);
  });
});

describe('call gate to ring 0 from ring 3: the TSS stack (SDM Vol. 2 "CALL" MORE-PRIVILEGE)', () => {
  const call = 'push 0x22\n  push 0x11\nhere: call 0x43:0';
  const params = { user: call, gateParams: 2 };

  it('parameters plus SS, ESP, CS, EIP: 24 bytes fit exactly, 20 are #SS(SS0) with nothing pushed', () => {
    const ok = kernel({ ...params, esp0: 24 });
    expectInner(ok, 0);
    expect([0, 4, 8, 12, 16, 20].map((k) => u32(ok, STACK0 + k))).toEqual([u32(ok, R.here) + 7, 0x1b, 0x11, 0x22, 0x70000 - 8, 0x23]);
    const m = kernel({ ...params, esp0: 20 });
    expectRing3Fault(m, 12, 0x38, 0x70000 - 8);
  });

  it('the checks of SS0 (error codes without EXT: the CALL is the program itself)', () => {
    expectRing3Fault(kernel({ ...params, tssLimit: 8 }), 10, 0x28, 0x70000 - 8);
    expectRing3Fault(kernel({ ...params, ss0: 0 }), 10, 0, 0x70000 - 8);
    expectRing3Fault(kernel({ ...params, ss0: 0x3b }), 10, 0x38, 0x70000 - 8);
    expectRing3Fault(kernel({ ...params, ss0Desc: desc(STACK0, 0xfff, 0xd2) }), 10, 0x38, 0x70000 - 8); // DPL 2
    expectRing3Fault(kernel({ ...params, ss0Desc: desc(STACK0, 0xfff, 0x90) }), 10, 0x38, 0x70000 - 8);
    expectRing3Fault(kernel({ ...params, ss0Desc: desc(STACK0, 0xfff, 0x12) }), 12, 0x38, 0x70000 - 8);
  });

  it('a gate offset beyond the target CS limit is #GP(0) before the switch', () => {
    expectRing3Fault(kernel({ ...params, gateCs: 0x48 }), 13, 0, 0x70000 - 8);
  });

  it('parameters that lie beyond the caller\'s SS limit: #SS(0) on the old stack', () => {
    // The ring-3 stack is flat, so give the caller a small one (0x20 at 0x60000, limit 0xFFF).
    const m = kernel({
      ...params,
      user: `mov ax, 0x3b\n  mov ss, ax\n  mov esp, 0xffc\nhere: call 0x43:0`,
      ring0: 'mov dword [gdt+0x38], 0x0fff\n  mov dword [gdt+0x38+4], 0x0040f206',
      ss0: 0x10, esp0: 0x60000,
    });
    // SS0 is 0x10 here (flat); the fault is on the caller's stack, at CPL 3.
    expect(u32(m, R.vec)).toBe(12);
    expect(u32(m, R.err)).toBe(0);
    expect(u32(m, R.eip)).toBe(u32(m, R.here));
    expect(u32(m, R.ss) & 0xffff).toBe(0x3b);
  });
});

describe('returns to an outer ring check the outer SS before anything changes (SDM Vol. 2 "IRET", "RET")', () => {
  /** A ring-0 IRETD/RETF at `here:` faulted with (vector, error): the handler ran at CPL 0 on 0x10:ESP. */
  function expectRing0Fault(m: Machine & { exit: string }, vec: number, err: number, esp: number, fl = 0x3002): void {
    expect(m.cpu.deathReason).toBeUndefined();
    expect({ vec: u32(m, R.vec), err: u32(m, R.err) }).toEqual({ vec, err });
    expect(u32(m, R.eip)).toBe(u32(m, R.here));
    expect(u32(m, R.cs)).toBe(0x08);
    expect(u32(m, R.esp)).toBe(esp); // the frame is still on the stack: ESP did not move
    expect(u32(m, R.ss) & 0xffff).toBe(0x10);
    expect(u32(m, R.fl) & 0x3000).toBe(fl & 0x3000); // EFLAGS not loaded from the frame
  }
  const iret = (ss: number) => `push 0x${ss.toString(16)}\n  push 0x70000\n  push 0x3002\n  push 0x1b\n  push user\nhere: iretd`;
  const retf = (ss: number) => `push 0x${ss.toString(16)}\n  push 0x70000\n  push 0x1b\n  push user\nhere: retf`;

  it.each([
    ['null SS at CPL 3', 0, 13, 0],
    ['SS RPL != CS RPL', 0x20, 13, 0x20],
    ['SS DPL != CS RPL', 0x13, 13, 0x10],
    ['SS is code', 0x1b, 13, 0x18],
    ['SS not present', 0x3b, 12, 0x38],
  ])('IRETD, %s', (_n, ss, vec, err) => {
    const m = kernel({ ring0: iret(ss), ss0Desc: desc(STACK0, 0xfff, 0x72) });
    expectRing0Fault(m, vec, err, 0x80000 - 20, 0);
    expect(m.cpu.segSel[3]).toBe(0x10); // DS unchanged by the refused return
  });

  it.each([
    ['null SS at CPL 3', 0, 13, 0],
    ['SS DPL != CS RPL', 0x13, 13, 0x10],
    ['SS not present', 0x3b, 12, 0x38],
  ])('RETF, %s', (_n, ss, vec, err) => {
    expectRing0Fault(kernel({ ring0: retf(ss), ss0Desc: desc(STACK0, 0xfff, 0x72) }), vec, err, 0x80000 - 16, 0);
  });

  it('a good return to ring 3 nulls DS/ES that hold ring-0 data, and keeps ring-3 data', () => {
    // The scaffold's user code reloads DS/ES first, so look at FS (ring-3 data: kept) and GS (ring-0 data).
    const m = kernel({ ring0: 'mov ax, 0x23\n  mov fs, ax\n  mov ax, 0x10\n  mov gs, ax\nhere:', user: 'mov [0x5048], gs' });
    expect(u32(m, 0x5040)).toBe(0xee);
    expect(m.cpu.segSel[4]).toBe(0x23);
    expect(m.cpu.segSel[5]).toBe(0);
    expect(u32(m, 0x5048) & 0xffff).toBe(0);
  });
});

describe('the TSS T bit: #DB with DR6.BT before the new task runs (SDM Vol. 3A §7.2.1, §7.3 step 12, §18.3.1.5)', () => {
  /** Task A (TSS 0x18) switches with `switchCode` to B (TSS 0x20, T bit `tB`); #DB (vector 1) is recorded. */
  function tasks(switchCode: string, tA: number, tB: number, idtExtra = '') {
    return run32(`
${PM32_FLAT_START}
  TSSDESC 0x18, tss_a
  TSSDESC 0x20, tss_b
  mov dword [tss_b+0x20], task_b
  mov dword [tss_b+0x24], 2
  mov dword [tss_b+0x38], 0x60000
  mov dword [tss_b+0x4c], 0x08
  mov dword [tss_b+0x50], 0x10
  mov dword [tss_b+0x54], 0x10
  mov dword [tss_b+0x48], 0x10
  mov word [tss_a+0x64], ${tA}
  mov word [tss_b+0x64], ${tB}
  mov dword [0x5020], task_b
  mov dword [0x5024], back_in_a
  mov eax, hdb
  mov [idt+8], ax
  mov dword [idt+8+2], 0x8e000008 >> 0   ; selector 0x08, 32-bit interrupt gate
  shr eax, 16
  mov [idt+8+6], ax
  ${idtExtra}
  lidt [idtr]
  mov ax, 0x18
  ltr ax
here:
  ${switchCode}
back_in_a:
  mov dword [0x5010], 0xa0a0       ; A resumed
  ${EXIT}
task_b:
  mov dword [0x500c], 0xb0b0       ; B's first instruction
  pushfd
  test dword [esp], 0x4000
  jz .exit                         ; entered by JMP: no back link to return to
  popfd
  iretd
.exit:
  ${EXIT}
hdb:
  mov eax, dr6
  mov [0x5000], eax
  mov eax, [esp]
  mov [0x5004], eax                ; EIP of the #DB frame
  str word [0x5008]
  mov ebx, [0x5018]
  inc ebx
  mov [0x5018], ebx                ; #DB count
  mov eax, dr6
  and eax, ~0x8000                 ; BT is sticky: software clears it
  mov dr6, eax
  cmp ebx, 1
  jne .out
  iretd
.out:
  ${EXIT}
align 8
gdt: dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff
  dq 0x0000890000000067, 0x0000890000000067
  dq 0x0000850000200000            ; 0x28 task gate -> TSS 0x20
gdtr: dw 47
  dd gdt
idtr: dw 0x7ff
  dd idt
align 16
tss_a: times 0x68 db 0
tss_b: times 0x68 db 0
idt: times 256*8 db 0
`, { setup: (m) => { m.cpu.stopOnException = false; } });
  }
  const sym = (m: Machine, off: number) => m.mem.readU32(off);

  it('JMP FAR to a TSS with T=1: #DB at the new task\'s first instruction, in the new task, DR6.BT=1', () => {
    const m = tasks('jmp 0x20:0', 0, 1);
    expect(m.cpu.deathReason).toBeUndefined();
    expect(sym(m, 0x5000) & 0x8000).toBe(0x8000);
    expect(sym(m, 0x5000) & 0x4000).toBe(0); // not a single-step
    expect(sym(m, 0x5008) & 0xffff).toBe(0x20);
    expect(sym(m, 0x5004)).toBe(sym(m, 0x5020));
    expect(sym(m, 0x500c)).toBe(0xb0b0); // B then ran (the handler returned to it)
    expect(m.cpu.dr[6] & 0x8000).toBe(0);
    const m0 = tasks('jmp 0x20:0', 0, 0);
    expect(sym(m0, 0x5018)).toBe(0); // T=0: no #DB
    expect(sym(m0, 0x500c)).toBe(0xb0b0);
  });

  it('the #DB frame points at the new task\'s entry, before its first instruction ran', () => {
    // The handler returns only from the first #DB; pre-count one so it stops right there.
    const m = tasks('mov dword [0x5018], 1\n  jmp 0x20:0', 0, 1);
    expect(sym(m, 0x5004)).toBe(sym(m, 0x5020)); // the pushed EIP: B's entry point
    expect(sym(m, 0x500c)).toBe(0); // B's first instruction did not run before the #DB
    expect(sym(m, 0x5018)).toBe(2);
  });

  it('CALL FAR to B (T=0), B\'s IRETD back to A (T=1): #DB at the instruction after the CALL', () => {
    const m = tasks('call 0x20:0', 1, 0);
    expect(m.cpu.deathReason).toBeUndefined();
    expect(sym(m, 0x5018)).toBe(1);
    expect(sym(m, 0x5000) & 0x8000).toBe(0x8000);
    expect(sym(m, 0x5008) & 0xffff).toBe(0x18);
    expect(sym(m, 0x5004)).toBe(sym(m, 0x5024)); // back_in_a: after the CALL
    expect(sym(m, 0x500c)).toBe(0xb0b0);
    expect(sym(m, 0x5010)).toBe(0xa0a0);
  });

  it('INT n through a task gate into a TSS with T=1: #DB before the handler task\'s first instruction', () => {
    const gate = 'mov dword [idt+0x40*8], 0x00200000\n  mov dword [idt+0x40*8+4], 0x00008500';
    const m = tasks('int 0x40', 0, 1, gate);
    expect(m.cpu.deathReason).toBeUndefined();
    expect(sym(m, 0x5018)).toBe(1);
    expect(sym(m, 0x5000) & 0x8000).toBe(0x8000);
    expect(sym(m, 0x5008) & 0xffff).toBe(0x20);
    expect(sym(m, 0x5004)).toBe(sym(m, 0x5020));
    expect(sym(m, 0x500c)).toBe(0xb0b0);
    expect(sym(m, 0x5010)).toBe(0xa0a0); // B's IRETD went back to A after the INT
  });
});
