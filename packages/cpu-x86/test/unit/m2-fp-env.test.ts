import { describe, expect, it } from 'vitest';
import { run64, gpr } from './helpers.js';

/** Run `op` under MXCSR = mx (flags cleared) and return [result bits of xmm0 low dword/qword, MXCSR flags]. */
function mxRun(mx: number, body: string) {
  const m = run64(`
  mov dword [rel mx], ${mx}
  ldmxcsr [rel mx]
  ${body}
  stmxcsr [rel mx]
  mov ebx, [rel mx]
  movq rax, xmm0
  hlt
align 16
mx: dd 0
one: dd 1.0
three: dd 3.0
d1: dq 1.0
d3: dq 3.0
dz: dq 0.0
dneg2: dq -2.0
big: dq 1e40
fmin: dd 0x00800000
two: dd 2.0
`);
  return { bits: gpr(m, 0), flags: Number(gpr(m, 3)) & 0x3f };
}

const RC = { nearest: 0x1f80, down: 0x3f80, up: 0x5f80, zero: 0x7f80 };

describe('MXCSR rounding and exception flags', () => {
  it('divss 1/3 follows the rounding mode and raises PE', () => {
    const div = 'movss xmm0, [rel one]\n  divss xmm0, [rel three]';
    expect(mxRun(RC.nearest, div)).toEqual({ bits: 0x3eaaaaabn, flags: 0x20 });
    expect(mxRun(RC.down, div)).toEqual({ bits: 0x3eaaaaaan, flags: 0x20 });
    expect(mxRun(RC.up, div)).toEqual({ bits: 0x3eaaaaabn, flags: 0x20 });
    expect(mxRun(RC.zero, div)).toEqual({ bits: 0x3eaaaaaan, flags: 0x20 });
  });

  it('divsd 1/3 rounds up to ...556 under RC=up', () => {
    const div = 'movsd xmm0, [rel d1]\n  divsd xmm0, [rel d3]';
    expect(mxRun(RC.nearest, div).bits).toBe(0x3fd5555555555555n);
    expect(mxRun(RC.up, div).bits).toBe(0x3fd5555555555556n);
  });

  it('IE for 0/0 and sqrt(-2), ZE for 1/0, OE|PE for a float overflow, none for 2/2', () => {
    expect(mxRun(RC.nearest, 'movsd xmm0, [rel dz]\n  divsd xmm0, [rel dz]')).toEqual({ bits: 0xfff8000000000000n, flags: 0x01 });
    expect(mxRun(RC.nearest, 'sqrtsd xmm0, [rel dneg2]').flags).toBe(0x01);
    expect(mxRun(RC.nearest, 'movsd xmm0, [rel d1]\n  divsd xmm0, [rel dz]')).toEqual({ bits: 0x7ff0000000000000n, flags: 0x04 });
    expect(mxRun(RC.nearest, 'cvtsd2ss xmm0, [rel big]')).toEqual({ bits: 0x7f800000n, flags: 0x28 });
    expect(mxRun(RC.nearest, 'movss xmm0, [rel two]\n  divss xmm0, [rel two]')).toEqual({ bits: 0x3f800000n, flags: 0 });
  });

  it('flush-to-zero turns a tiny exact result into zero with UE|PE', () => {
    const half = 'movss xmm0, [rel fmin]\n  divss xmm0, [rel two]';
    expect(mxRun(RC.nearest, half)).toEqual({ bits: 0x00400000n, flags: 0 });
    expect(mxRun(RC.nearest | 0x8000, half)).toEqual({ bits: 0n, flags: 0x30 });
  });
});

describe('x87 subset', () => {
  it('FLD1/FLDZ/FDIVP set ZE; with CR0.NE and ZE unmasked FWAIT raises #MF', () => {
    const m = run64(`
  fninit
  fldcw [rel cw]
  fld1
  fldz
  fdivp                   ; DE F9: st(1) = st(1) / st(0) = 1 / 0
  fnstsw ax
  fwait
  hlt
cw: dw 0x037b            ; ZE unmasked
`, { setup: (mm) => { mm.cpu.stopOnException = true; mm.cpu.setCr(0, mm.cpu.getCr(0) | 0x20n); } });
    expect(Number(gpr(m, 0)) & 0x84).toBe(0x84); // ES | ZE
    expect(m.cpu.lastException?.vector).toBe(16);
  });

  it('FILD/FADD/FSTP m64 compute in double precision', () => {
    const m = run64(`
  fninit
  fild dword [rel a]
  fld qword [rel b]
  faddp
  fstp qword [rel out]
  mov rax, [rel out]
  hlt
a: dd 7
b: dq 0.5
out: dq 0
`);
    expect(gpr(m, 0)).toBe(0x401e000000000000n); // 7.5
  });
});
