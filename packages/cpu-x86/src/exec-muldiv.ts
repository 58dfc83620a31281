import type { FormSetter, Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { W, REM, mul32, imul32, mul64, imul64, udiv128, idiv128 } from './muldiv.js';

/** F6/F7 /4-/7: MUL, IMUL, DIV, IDIV of rAX (and rDX) by the operand; one handler per form. */
function mulDiv(divide: boolean, signed: boolean): Handler {
  return (c, i) => {
    const size = i.size;
    const src = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, i.rex);
    if (divide) div(c, size, src, c.hi, signed);
    else mul(c, size, src, c.hi, signed);
  };
}

/** One-operand MUL/IMUL: rDX:rAX = rAX * src. */
function mul(c: X86Cpu, size: number, src: number, srcHi: number, signed: boolean): void {
  const R = c.r;
  let overflow: boolean;
  switch (size) {
    case 1: {
      const a = R[0] & 0xff;
      const p = signed ? ((a << 24) >> 24) * ((src << 24) >> 24) : a * src;
      R[0] = (R[0] & ~0xffff) | (p & 0xffff);
      overflow = signed ? p !== (p << 24) >> 24 : p > 0xff;
      c.fl.setResult(1, p & 0xff, 0, +overflow, +overflow);
      return;
    }
    case 2: {
      const a = R[0] & 0xffff;
      const p = signed ? ((a << 16) >> 16) * ((src << 16) >> 16) : a * src;
      R[0] = (R[0] & ~0xffff) | (p & 0xffff);
      R[4] = (R[4] & ~0xffff) | ((p >>> 16) & 0xffff);
      overflow = signed ? p !== (p << 16) >> 16 : p > 0xffff;
      c.fl.setResult(2, p & 0xffff, 0, +overflow, +overflow);
      return;
    }
    case 4: {
      if (signed) imul32(R[0], src); else mul32(R[0] >>> 0, src);
      const lo = W[0], hi = W[1];
      R[0] = lo; R[1] = 0; R[4] = hi; R[5] = 0;
      overflow = signed ? hi !== ((lo | 0) >> 31) >>> 0 : hi !== 0;
      c.fl.setResult(4, lo, 0, +overflow, +overflow);
      return;
    }
    default: {
      if (signed) imul64(R[0], R[1], src, srcHi); else mul64(R[0] >>> 0, R[1] >>> 0, src, srcHi);
      R[0] = W[0]; R[1] = W[1]; R[4] = W[2]; R[5] = W[3];
      const ext = (W[1] | 0) < 0 ? 0xffffffff : 0;
      overflow = signed ? W[2] !== ext || W[3] !== ext : W[2] !== 0 || W[3] !== 0;
      c.fl.setResult(8, W[0], W[1], +overflow, +overflow);
    }
  }
}

/** DIV/IDIV: quotient to rAX, remainder to rDX; #DE on zero divisor or quotient overflow. */
function div(c: X86Cpu, size: number, src: number, srcHi: number, signed: boolean): void {
  const R = c.r;
  if (src === 0 && (size !== 8 || srcHi === 0)) c.fault(0);
  switch (size) {
    case 1: {
      const n = R[0] & 0xffff;
      let q: number, rem: number;
      if (signed) {
        const sn = (n << 16) >> 16, sd = (src << 24) >> 24;
        q = Math.trunc(sn / sd); rem = sn - q * sd;
        if (q > 127 || q < -128) c.fault(0);
      } else {
        q = Math.floor(n / src); rem = n - q * src;
        if (q > 0xff) c.fault(0);
      }
      R[0] = (R[0] & ~0xffff) | (q & 0xff) | ((rem & 0xff) << 8);
      return;
    }
    case 2: {
      const n = ((R[4] & 0xffff) << 16) | (R[0] & 0xffff);
      let q: number, rem: number;
      if (signed) {
        const sd = (src << 16) >> 16;
        q = Math.trunc(n / sd); rem = n - q * sd;
        if (q > 32767 || q < -32768) c.fault(0);
      } else {
        const un = n >>> 0;
        q = Math.floor(un / src); rem = un - q * src;
        if (q > 0xffff) c.fault(0);
      }
      R[0] = (R[0] & ~0xffff) | (q & 0xffff);
      R[4] = (R[4] & ~0xffff) | (rem & 0xffff);
      return;
    }
    case 4: {
      const lo = R[0] >>> 0, hi = R[4] >>> 0;
      if (signed) {
        const ext = (hi | 0) < 0 ? 0xffffffff : 0;
        const d = src | 0;
        if (!idiv128(lo, hi, ext, ext, d >>> 0, d < 0 ? 0xffffffff : 0)) c.fault(0);
        // The 64-bit quotient must fit in 32 bits signed.
        if (W[1] !== ((W[0] | 0) < 0 ? 0xffffffff : 0)) c.fault(0);
      } else {
        if (!udiv128(lo, hi, 0, 0, src, 0)) c.fault(0);
        if (W[1] !== 0) c.fault(0);
      }
      R[0] = W[0]; R[1] = 0; R[4] = REM[0]; R[5] = 0;
      return;
    }
    default: {
      const ok = signed
        ? idiv128(R[0] >>> 0, R[1] >>> 0, R[4] >>> 0, R[5] >>> 0, src, srcHi)
        : udiv128(R[0] >>> 0, R[1] >>> 0, R[4] >>> 0, R[5] >>> 0, src, srcHi);
      if (!ok) c.fault(0);
      R[0] = W[0]; R[1] = W[1]; R[4] = REM[0]; R[5] = REM[1];
    }
  }
}

/** Two/three-operand IMUL: Gv = Ev * (Gv | imm), truncated. */
function imulTrunc(c: X86Cpu, i: Insn): void {
  const size = i.size;
  const a = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, i.rex);
  const ah = c.hi;
  let b: number, bh: number;
  if (i.op === 0x1af) { b = c.getReg(i.reg, size, i.rex); bh = c.hi; }
  else { b = i.imm; bh = i.imm >> 31; }
  let lo: number, hi = 0, overflow: boolean;
  if (size === 8) {
    imul64(a, ah, b, bh);
    lo = W[0]; hi = W[1];
    const ext = (hi | 0) < 0 ? 0xffffffff : 0;
    overflow = W[2] !== ext || W[3] !== ext;
  } else if (size === 4) {
    imul32(a, b);
    lo = W[0];
    overflow = W[1] !== ((lo | 0) >> 31) >>> 0;
  } else {
    const p = ((a << 16) >> 16) * ((b << 16) >> 16);
    lo = p & 0xffff;
    overflow = p !== (p << 16) >> 16;
  }
  c.fl.setResult(size, lo, hi, +overflow, +overflow);
  c.setReg(i.reg, size, lo, hi, i.rex);
}

export function registerMulDivForms(set: FormSetter): void {
  set([0xf6, 0xf7], 4, mulDiv(false, false));
  set([0xf6, 0xf7], 5, mulDiv(false, true));
  set([0xf6, 0xf7], 6, mulDiv(true, false));
  set([0xf6, 0xf7], 7, mulDiv(true, true));
}

export function registerMulDiv(h: Handler[]): void {
  h[0x69] = h[0x6b] = h[0x1af] = imulTrunc;
}
