// SSE/SSE2 conversions: integer <-> float (scalar, packed, truncating), float <-> double.
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import type { Handler } from './dispatch.js';
import { nextAfter64, clearFlags, lastFlags, roundTo32, roundToInteger, MX_IE, MX_PE } from './fpenv.js';
import { check, copy, daz32, daz64, in32, in64, isNaN32, isNaN64, src, TMP, xreg } from './sse-common.js';

// ---------------------------------------------------------------- conversions

const TWO32 = 4294967296;

function nextDown(x: number): number {
  return nextAfter64(x, -1);
}

/** Convert a float to int32/int64 into a GPR (integer indefinite and IE on NaN/overflow, PE if inexact). */
function toInt(c: X86Cpu, i: Insn, v: number, truncate: boolean): void {
  const q = i.size === 8;
  const r = v !== v ? NaN : roundToInteger(v, truncate, c.mxcsrValue);
  const ok = q ? r >= -9223372036854775808 && r < 9223372036854775808 : r >= -2147483648 && r <= 2147483647;
  if (!ok) {
    c.mxcsrValue |= MX_IE;
    c.setReg(i.reg, q ? 8 : 4, q ? 0 : 0x80000000, q ? 0x80000000 : 0, i.rex);
    return;
  }
  if (r !== v) c.mxcsrValue |= MX_PE;
  if (q) {
    const hi = Math.floor(r / TWO32);
    c.setReg(i.reg, 8, (r - hi * TWO32) >>> 0, hi >>> 0, i.rex);
  } else c.setReg(i.reg, 4, r >>> 0, 0, i.rex);
}

/** CVTSI2SS / CVTSI2SD (F3/F2 0F 2A): a 32/64-bit integer to a float or double, rounded per MXCSR. */
export function cvtsi2s(double: boolean): Handler {
  return (c, i) => {
    check(c);
    const q = i.size === 8;
    const lo = i.isMem ? c.rdSize(ea(c, i), q ? 8 : 4) : c.getReg(i.rm, q ? 8 : 4, i.rex);
    const hiPart = q ? (c.hi | 0) * TWO32 : 0, loPart = q ? lo : lo | 0;
    const v = hiPart + loPart;
    // Sign of the rounding error of hiPart + loPart (TwoSum), for directed modes and PE.
    const t = v - hiPart;
    const e = (hiPart - (v - t)) + (loPart - t);
    const err = e > 0 ? 1 : e < 0 ? -1 : 0;
    const rc = (c.mxcsrValue >> 13) & 3;
    clearFlags();
    if (!double) c.xmmF32[xreg(i) * 4] = roundTo32(v, err, rc, c.mxcsrValue);
    else {
      let r = v;
      if (err !== 0) {
        c.mxcsrValue |= MX_PE;
        if (rc === 1 && err < 0) r = nextDown(r);
        else if (rc === 2 && err > 0) r = -nextDown(-r);
        else if (rc === 3 && ((r > 0 && err < 0) || (r < 0 && err > 0))) r = r > 0 ? nextDown(r) : -nextDown(-r);
      }
      c.xmmF64[xreg(i) * 2] = r;
    }
    c.mxcsrValue |= lastFlags();
  };
}

/**
 * CVTPI2PS / CVTPI2PD xmm, m64 (0F 2A, 66 0F 2A): two int32 from memory to floats (rounded per MXCSR)
 * or doubles (exact). The MMX-register source needs MMX, which is not advertised (the decoder rejects
 * it). With a memory source the x87 state is untouched (no switch to MMX mode), as the host shows.
 */
export function cvtpi2p(double: boolean): Handler {
  return (c, i) => {
    check(c);
    const lin = ea(c, i);
    const lo = c.rd64(lin) | 0, hi = c.hi | 0;
    const d = xreg(i);
    if (double) { c.xmmF64[d * 2] = lo; c.xmmF64[d * 2 + 1] = hi; return; }
    const rc = (c.mxcsrValue >> 13) & 3;
    clearFlags();
    const r0 = roundTo32(lo, 0, rc, c.mxcsrValue);
    const r1 = roundTo32(hi, 0, rc, c.mxcsrValue);
    c.mxcsrValue |= lastFlags();
    c.xmmF32[d * 4] = r0; c.xmmF32[d * 4 + 1] = r1;
  };
}

/** CVT(T)SS2SI / CVT(T)SD2SI (F3/F2 0F 2C truncating, 2D rounding per MXCSR). */
export function cvts2si(double: boolean, truncate: boolean): Handler {
  return (c, i) => {
    check(c);
    if (!double) { const s = src(c, i, 4); toInt(c, i, daz32(c, s * 4), truncate); }
    else { const s = src(c, i, 8); toInt(c, i, daz64(c, s * 2), truncate); }
  };
}

export function cvtps2pd(c: X86Cpu, i: Insn): void { // 0F 5A
  check(c);
  const s = src(c, i, 8);
  copy(c, TMP, s);
  for (let k = 0; k < 2; k++) f32ToF64(c, TMP * 4 + k, i.reg * 2 + k);
}
export function cvtpd2ps(c: X86Cpu, i: Insn): void { // 66 0F 5A
  check(c);
  const d = i.reg;
  const s = src(c, i, 16);
  copy(c, TMP, s);
  for (let k = 0; k < 2; k++) f64ToF32(c, TMP * 2 + k, d * 4 + k);
  c.xmm32[d * 4 + 2] = 0; c.xmm32[d * 4 + 3] = 0;
}
export function cvtss2sd(c: X86Cpu, i: Insn): void { // F3 0F 5A
  check(c);
  const s = src(c, i, 4);
  f32ToF64(c, s * 4, i.reg * 2);
}
export function cvtsd2ss(c: X86Cpu, i: Insn): void { // F2 0F 5A
  check(c);
  const s = src(c, i, 8);
  f64ToF32(c, s * 2, i.reg * 4);
}

/** Double lane `from` (xmmF64 index) to float lane `to` (xmmF32 index) with NaN payloads and flags. */
function f64ToF32(c: X86Cpu, from: number, to: number): void {
  const x = c.xmm32;
  if (isNaN64(c, from)) { // keep the payload's top bits, quieted
    if (!(x[from * 2 + 1] & 0x80000)) c.mxcsrValue |= MX_IE;
    x[to] = (x[from * 2 + 1] & 0x80000000) | 0x7fc00000 | ((x[from * 2 + 1] & 0x7ffff) << 3) | (x[from * 2] >>> 29);
    return;
  }
  clearFlags();
  c.xmmF32[to] = roundTo32(in64(c, from), 0, (c.mxcsrValue >> 13) & 3, c.mxcsrValue);
  c.mxcsrValue |= lastFlags();
}

function f32ToF64(c: X86Cpu, from: number, to: number): void {
  const x = c.xmm32;
  if (isNaN32(c, from)) {
    if (!(x[from] & 0x400000)) c.mxcsrValue |= MX_IE;
    const v = x[from] | 0x400000;
    x[to * 2 + 1] = (v & 0x80000000) | 0x7ff00000 | ((v & 0x7fffff) >>> 3);
    x[to * 2] = v << 29;
    return;
  }
  c.xmmF64[to] = in32(c, from);
}

export function cvtdq2ps(c: X86Cpu, i: Insn): void { // 0F 5B
  check(c);
  const s = src(c, i, 16);
  const d = i.reg;
  copy(c, TMP, s);
  const rc = (c.mxcsrValue >> 13) & 3;
  for (let k = 0; k < 4; k++) {
    clearFlags();
    c.xmmF32[d * 4 + k] = roundTo32(c.xmm32[TMP * 4 + k], 0, rc, c.mxcsrValue);
    c.mxcsrValue |= lastFlags();
  }
}
/** CVTPS2DQ (66 0F 5B, rounding per MXCSR) / CVTTPS2DQ (F3 0F 5B, truncating). */
export function cvtps2dq(truncate: boolean): Handler {
  return (c, i) => {
    check(c);
    const s = src(c, i, 16);
    const d = i.reg;
    copy(c, TMP, s);
    for (let k = 0; k < 4; k++) c.xmm32[d * 4 + k] = toInt32Lane(c, daz32(c, TMP * 4 + k), truncate);
  };
}

/** One lane of a float -> int32 conversion: integer indefinite + IE on NaN/overflow, PE if inexact. */
function toInt32Lane(c: X86Cpu, v: number, truncate: boolean): number {
  const r = v !== v ? NaN : roundToInteger(v, truncate, c.mxcsrValue);
  if (!(r >= -2147483648 && r <= 2147483647)) { c.mxcsrValue |= MX_IE; return 0x80000000 | 0; }
  if (r !== v) c.mxcsrValue |= MX_PE;
  return r;
}

/** CVTTPD2DQ (66 0F E6, truncating) / CVTPD2DQ (F2 0F E6, rounding per MXCSR); the high half is zeroed. */
export function cvtpd2dq(truncate: boolean): Handler {
  return (c, i) => {
    check(c);
    const d = i.reg;
    const x = c.xmm32;
    const s = src(c, i, 16);
    copy(c, TMP, s);
    for (let k = 0; k < 2; k++) x[d * 4 + k] = toInt32Lane(c, daz64(c, TMP * 2 + k), truncate);
    x[d * 4 + 2] = 0; x[d * 4 + 3] = 0;
  };
}

export function cvtdq2pd(c: X86Cpu, i: Insn): void { // F3 0F E6
  check(c);
  const s = src(c, i, 8);
  const a = c.xmm32[s * 4], b = c.xmm32[s * 4 + 1];
  c.xmmF64[i.reg * 2] = a; c.xmmF64[i.reg * 2 + 1] = b;
}
