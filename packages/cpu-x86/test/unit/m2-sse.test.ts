import { describe, expect, it } from 'vitest';
import { run64, gpr, RAX, RBX, RCX, RDX } from './helpers.js';

const f64bits = (x: number) => { const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, x, true); return b.getBigUint64(0, true); };
const xmmF64 = (bytes: Uint8Array, lane = 0) => new DataView(bytes.buffer, bytes.byteOffset).getFloat64(lane * 8, true);
const xmmU32 = (bytes: Uint8Array, lane: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(lane * 4, true);

const DATA = `
align 16
d1: dq 1.5, 2.25
d2: dq -0.75, 1e300
d3: dd 1.0, 2.0, 3.0, 4.0
i4: dd 1, 2, 3, 4
q2: dq 0xffffffffffffffff, 5
`;

describe('SSE/SSE2', () => {
  it('scalar double arithmetic, conversions and compares', () => {
    const m = run64(`
  movsd xmm0, [rel d1]        ; 1.5
  movsd xmm1, [rel d2]        ; -0.75
  movapd xmm2, xmm0
  addsd xmm2, xmm1            ; 0.75
  movapd xmm3, xmm0
  mulsd xmm3, xmm1            ; -1.125
  movapd xmm4, xmm0
  divsd xmm4, xmm1            ; -2
  mov rax, 2
  cvtsi2sd xmm5, rax
  sqrtsd xmm5, xmm5           ; sqrt(2)
  mov rax, -7
  cvtsi2sd xmm6, rax
  cvttsd2si rbx, xmm3         ; -1
  minsd xmm0, xmm1            ; -0.75
  ucomisd xmm1, xmm2          ; -0.75 < 0.75: CF=1
  setb cl
  pxor xmm7, xmm7
  divsd xmm7, xmm7            ; 0/0 = default NaN
  ucomisd xmm7, xmm7          ; unordered: ZF=PF=CF=1
  setp dl
  cvttsd2si rsi, xmm7         ; integer indefinite
  movq rdi, xmm4
  cvtsd2ss xmm8, xmm5
  cvtss2sd xmm9, xmm8
  hlt
` + DATA);
    const x = (n: number) => m.cpu.getXmm(n);
    expect(xmmF64(x(2))).toBe(0.75);
    expect(xmmF64(x(3))).toBe(-1.125);
    expect(xmmF64(x(4))).toBe(-2);
    expect(xmmF64(x(5))).toBe(Math.SQRT2);
    expect(xmmF64(x(6))).toBe(-7);
    expect(gpr(m, RBX)).toBe(0xffffffffffffffffn);
    expect(xmmF64(x(0))).toBe(-0.75);
    expect(xmmF64(x(0), 1)).toBe(0); // MOVSD from memory zeroes the upper lane
    expect(xmmF64(x(2), 1)).toBe(0); // and MOVAPD copied it; ADDSD kept it
    expect(gpr(m, RCX) & 0xffn).toBe(1n);
    expect(gpr(m, RDX) & 0xffn).toBe(1n);
    expect(xmmU32(x(7), 1)).toBe(0xfff80000); // real indefinite QNaN
    expect(gpr(m, 6)).toBe(0x8000000000000000n);
    expect(gpr(m, 7)).toBe(f64bits(-2));
    expect(xmmF64(x(9))).toBe(Math.fround(Math.SQRT2));
  });

  it('packed float and integer ops, shuffles and unpacks', () => {
    const m = run64(`
  movaps xmm0, [rel d3]
  addps xmm0, xmm0            ; 2 4 6 8
  movdqa xmm1, [rel i4]
  pshufd xmm2, xmm1, 0x1b     ; 4 3 2 1
  movdqa xmm3, xmm1
  punpckldq xmm3, xmm2        ; 1 4 2 3
  movdqa xmm4, [rel q2]
  paddq xmm4, [rel q2]        ; 0xfffffffffffffffe, 10
  movdqa xmm5, xmm1
  pslldq xmm5, 4              ; 0 1 2 3
  movdqa xmm6, xmm1
  pcmpeqd xmm6, xmm2          ; all zero
  pmovmskb eax, xmm6
  movdqa xmm7, xmm1
  psubd xmm7, xmm2            ; -3 -1 1 3
  hlt
` + DATA);
    const lanes = (n: number) => [0, 1, 2, 3].map((k) => xmmU32(m.cpu.getXmm(n), k));
    const f = new Float32Array(m.cpu.getXmm(0).buffer);
    expect([...f]).toEqual([2, 4, 6, 8]);
    expect(lanes(2)).toEqual([4, 3, 2, 1]);
    expect(lanes(3)).toEqual([1, 4, 2, 3]);
    expect(lanes(4)).toEqual([0xfffffffe, 0xffffffff, 10, 0]);
    expect(lanes(5)).toEqual([0, 1, 2, 3]);
    expect(gpr(m, RAX)).toBe(0n);
    expect(lanes(7)).toEqual([(-3) >>> 0, 0xffffffff, 1, 3]);
  });

  it('MOVAPS on a misaligned address is #GP(0); CR0.TS gives #NM; CR4.OSFXSR=0 gives #UD', () => {
    const mis = run64(`movaps xmm0, [rel d1 + 8]\n` + DATA, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(mis.cpu.lastException).toMatchObject({ vector: 13, errorCode: 0 });
    const ts = run64(`addsd xmm0, xmm1\n`, { setup: (mm) => { mm.cpu.stopOnException = true; mm.cpu.setCr(0, mm.cpu.getCr(0) | 8n); } });
    expect(ts.cpu.lastException?.vector).toBe(7);
    const ud = run64(`pxor xmm0, xmm0\n`, { setup: (mm) => { mm.cpu.stopOnException = true; mm.cpu.setCr(4, mm.cpu.getCr(4) & ~0x200n); } });
    expect(ud.cpu.lastException?.vector).toBe(6);
  });

  it('LDMXCSR/STMXCSR, reserved MXCSR bits #GP, FXSAVE/FXRSTOR round trip', () => {
    const m = run64(`
  mov dword [rel scratch], 0x3f80    ; round toward zero... RC=01 (down) plus masks
  ldmxcsr [rel scratch]
  stmxcsr [rel scratch2]
  mov eax, [rel scratch2]
  mov rbx, 0x4004000000000000        ; 2.5
  movq xmm1, rbx
  cvtsd2si rcx, xmm1                 ; RC=down: 2
  movdqa xmm3, [rel i4]
  fxsave [rel area]
  pxor xmm3, xmm3
  fxrstor [rel area]
  mov edx, [rel area + 24]
  mov dword [rel scratch], 0x10000
  ldmxcsr [rel scratch]              ; reserved bit: #GP(0)
  hlt
align 16
area: times 512 db 0
scratch: dd 0
scratch2: dd 0
` + DATA, { setup: (mm) => { mm.cpu.stopOnException = true; } });
    expect(gpr(m, RAX)).toBe(0x3f80n);
    expect(gpr(m, RCX)).toBe(2n);
    expect(gpr(m, RDX)).toBe(0x3fa0n); // FXSAVE saw PE from the inexact CVTSD2SI
    expect([0, 1, 2, 3].map((k) => xmmU32(m.cpu.getXmm(3), k))).toEqual([1, 2, 3, 4]);
    expect(m.cpu.lastException).toMatchObject({ vector: 13, errorCode: 0 });
    expect(m.cpu.mxcsr).toBe(0x3fa0);
  });
});
