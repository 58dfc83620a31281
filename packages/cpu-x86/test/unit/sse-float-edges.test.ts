// SSE floating-point corner cases found by differential fuzzing against the host CPU. The expected
// values are what an x86-64 host produced for the same instructions (checked with a small C program).
import { describe, expect, it } from 'vitest';
import { run64, gpr } from './helpers.js';

const DATA = `
align 16
mx: dd 0
one_s: dd 1.0
qnan_s: dd 0x7fc00001
snan_s: dd 0x7f800001
den_s: dd 0x00000003
zero_s: dd 0.0
min_d: dq 0x0010000000000000          ; smallest normal double: a float underflow, exact when scaled
tiny_d: dq 1e-40                        ; float underflow, inexact
p200_d: dq 0x4c70000000000000           ; 2^200: a float overflow, exact when scaled
ints: dd 16777217, -3                   ; 2^24 + 1 needs rounding to float
below1_s: dd 0x3f7fffff                 ; 1 - 2^-24
minn_s: dd 0x00800000                   ; smallest normal float
maxm1_s: dd 0x7f7ffffe                  ; largest float minus one ulp
above1_s: dd 0x3f800001                 ; 1 + 2^-23
align 8
tie_q: dq 0x4000004000000001            ; 2^62 + 2^38 + 1: a float tie once rounded to double
`;

/**
 * Run `body` with MXCSR = mx and report RAX (xmm0 low qword), the MXCSR flags stored by STMXCSR, the
 * MXCSR and RFLAGS at the end, and the exception the CPU stopped on, if any.
 */
function mxRun(mx: number, body: string, cr4Clear = 0) {
  const m = run64(`
  mov dword [rel mx], ${mx}
  ldmxcsr [rel mx]
  ${body}
  stmxcsr [rel mx]
  mov ebx, [rel mx]
  movq rax, xmm0
  hlt
${DATA}`, { setup: (mm) => {
    mm.cpu.stopOnException = true;
    if (cr4Clear) mm.cpu.setCr(4, mm.cpu.getCr(4) & ~BigInt(cr4Clear));
  } });
  const x0 = new DataView(m.cpu.getXmm(0).buffer).getBigUint64(0, true);
  return { rax: m.cpu.lastException ? x0 : gpr(m, 0), mxcsr: m.cpu.mxcsr, flags: Number(gpr(m, 3)) & 0x3f, rflags: m.cpu.getRflags(), exc: m.cpu.lastException?.vector };
}

const ZF = 0x40, PF = 0x4, CF = 0x1;

describe('UCOMISS/COMISS and NaNs', () => {
  it('UCOMISS with a quiet NaN source signals nothing; a signalling NaN or COMISS raises IE', () => {
    const u = mxRun(0x1f80, 'movss xmm0, [rel one_s]\n  ucomiss xmm0, [rel qnan_s]');
    expect(u.mxcsr & 0x3f).toBe(0);
    const q = mxRun(0x1f80, 'movss xmm0, [rel one_s]\n  ucomiss xmm0, [rel snan_s]');
    expect(q.mxcsr & 0x3f).toBe(0x01);
    expect(mxRun(0x1f80, 'movss xmm0, [rel one_s]\n  comiss xmm0, [rel qnan_s]').mxcsr & 0x3f).toBe(0x01);
    expect(q.rflags & (ZF | PF | CF)).toBe(ZF | PF | CF); // unordered
  });

  it('UCOMISS with a quiet NaN and IE unmasked completes (no #XM)', () => {
    const r = mxRun(0x1f00, 'movss xmm0, [rel one_s]\n  ucomiss xmm0, [rel qnan_s]');
    expect(r.exc).toBeUndefined();
  });
});

describe('rounding toward -inf', () => {
  it('x - x and +0 + -0 give -0 when rounding down, +0 otherwise', () => {
    const sub = 'movss xmm0, [rel one_s]\n  subss xmm0, [rel one_s]';
    expect(mxRun(0x3f80, sub).rax & 0xffffffffn).toBe(0x80000000n);
    expect(mxRun(0x1f80, sub).rax & 0xffffffffn).toBe(0n);
    const addz = 'xorps xmm0, xmm0\n  mov eax, 0x80000000\n  movd xmm1, eax\n  addss xmm0, xmm1';
    expect(mxRun(0x3f80, addz).rax & 0xffffffffn).toBe(0x80000000n);
    expect(mxRun(0x5f80, addz).rax & 0xffffffffn).toBe(0n);
    expect(mxRun(0x3f80, 'xorpd xmm0, xmm0\n  subsd xmm0, xmm0').rax).toBe(0x8000000000000000n);
  });
});

describe('rounding at the edges of the range', () => {
  it('rounding toward zero keeps a product below 2^128 finite (PE only); nearest overflows', () => {
    const mul = 'movss xmm0, [rel maxm1_s]\n  mulss xmm0, [rel above1_s]'; // exact: (2 - 2^-45) * 2^127
    expect(mxRun(0x7f80, mul)).toMatchObject({ flags: 0x20, rax: 0x7f7fffffn });
    expect(mxRun(0x1f80, mul)).toMatchObject({ flags: 0x28, rax: 0x7f800000n });
  });

  it('CVTSI2SS of a 64-bit integer rounds once (no double rounding through a double)', () => {
    expect(mxRun(0x1f80, 'cvtsi2ss xmm0, qword [rel tie_q]')).toMatchObject({ flags: 0x20, rax: 0x5e800001n });
  });
});

describe('DAZ and denormal operands', () => {
  it('conversions to integer read denormals as zero under DAZ (no PE), and raise PE without it', () => {
    const cvt = 'cvttss2si ecx, [rel den_s]';
    expect(mxRun(0x1fc0, cvt).flags).toBe(0);
    expect(mxRun(0x1f80, cvt).flags).toBe(0x20);
    expect(mxRun(0x1fc0, 'cvtps2dq xmm0, [rel den_s]').flags).toBe(0);
  });

  it('a denormal divided by zero raises ZE only', () => {
    expect(mxRun(0x1f80, 'movss xmm0, [rel den_s]\n  divss xmm0, [rel zero_s]')).toMatchObject({ flags: 0x04, rax: 0x7f800000n });
    // Zero divided by a denormal is an ordinary denormal operand.
    expect(mxRun(0x1f80, 'movss xmm0, [rel zero_s]\n  divss xmm0, [rel den_s]').flags).toBe(0x02);
  });
});

describe('unmasked underflow and overflow (#XM)', () => {
  it('UE without PE when the result is exact at full exponent range, UE|PE when not; nothing written', () => {
    const exact = mxRun(0x1780, 'movss xmm0, [rel one_s]\n  cvtsd2ss xmm0, [rel min_d]');
    expect(exact.exc).toBe(19);
    expect(exact.mxcsr & 0x3f).toBe(0x10);
    expect(exact.rax & 0xffffffffn).toBe(0x3f800000n); // destination untouched
    expect(mxRun(0x1780, 'cvtsd2ss xmm0, [rel tiny_d]').mxcsr & 0x3f).toBe(0x30);
    // Masked: the denormal result is inexact (UE|PE), and an exact one raises nothing.
    expect(mxRun(0x1f80, 'cvtsd2ss xmm0, [rel min_d]').flags).toBe(0x30);
  });

  it('tininess is judged before the exponent is bounded: a product that rounds up to the smallest normal underflows', () => {
    const mul = 'movss xmm0, [rel below1_s]\n  mulss xmm0, [rel minn_s]'; // exact: 2^-126 - 2^-150
    expect(mxRun(0x1f80, mul)).toMatchObject({ flags: 0x30, rax: 0x00800000n });
    expect(mxRun(0x5f80, mul)).toMatchObject({ flags: 0x30, rax: 0x00800000n }); // rounding up
    expect(mxRun(0x9f80, mul)).toMatchObject({ flags: 0x30, rax: 0n }); // and FTZ flushes it
  });

  it('flush-to-zero does not apply while UE is unmasked', () => {
    const r = mxRun(0x9780, 'cvtsd2ss xmm0, [rel tiny_d]');
    expect(r.exc).toBe(19);
    expect(r.mxcsr & 0x3f).toBe(0x30);
    expect(mxRun(0x9f80, 'cvtsd2ss xmm0, [rel tiny_d]')).toMatchObject({ flags: 0x30, rax: 0n });
  });

  it('OE alone for an overflow that is exact at full exponent range', () => {
    const r = mxRun(0x1b80, 'cvtsd2ss xmm0, [rel p200_d]');
    expect(r.exc).toBe(19);
    expect(r.mxcsr & 0x3f).toBe(0x08);
  });

  it('an unmasked exception raises #UD instead of #XM when CR4.OSXMMEXCPT is clear', () => {
    const r = mxRun(0x1b80, 'cvtsd2ss xmm0, [rel p200_d]', 0x400);
    expect(r.exc).toBe(6);
  });
});

describe('CVTPI2PS / CVTPI2PD from memory', () => {
  it('converts two int32 lanes, rounding per MXCSR for floats, exactly for doubles', () => {
    const ps = (mx: number) => mxRun(mx, 'movss xmm0, [rel one_s]\n  cvtpi2ps xmm0, [rel ints]');
    expect(ps(0x1f80)).toMatchObject({ rax: 0xc04000004b800000n, flags: 0x20 }); // 16777216.0, -3.0
    expect(ps(0x5f80).rax).toBe(0xc04000004b800001n); // rounded up: 16777218.0
    const pd = mxRun(0x1f80, 'cvtpi2pd xmm0, [rel ints]');
    expect(pd).toMatchObject({ rax: 0x4170000010000000n, flags: 0 }); // 16777217.0
  });
});
