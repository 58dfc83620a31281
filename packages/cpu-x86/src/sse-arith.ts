// SSE/SSE2 float arithmetic (ADD SUB MUL DIV SQRT MIN MAX), compares (CMPccPS/PD/SS/SD, (U)COMIS),
// reciprocal approximations, and the wrapper that turns unmasked MXCSR exceptions into #XM.
import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ARITH, CF, PF, ZF } from './flags.js';
import { arith32, arith64, lastFlags, MX_IE } from './fpenv.js';
import { check, copy, daz32, daz64, in32, in64, isDen32, isDen64, isNaN32, isNaN64, src, TMP } from './sse-common.js';

/** Binary double op on lanes: dst lane d <- op(dst lane d, src lane s), with x86 NaN rules and MXCSR. */
function binF64(c: X86Cpu, op: number, d: number, s: number): void {
  const f = c.xmmF64;
  const x = c.xmm32;
  const dNaN = op !== 8 && isNaN64(c, d), sNaN = isNaN64(c, s);
  if (op === 5 || op === 7) { // MIN/MAX: the second operand unless strictly less/greater; any NaN is invalid
    if (dNaN || sNaN) c.mxcsrValue |= MX_IE;
    const a = dNaN || sNaN ? f[d] : in64(c, d), b = dNaN || sNaN ? f[s] : in64(c, s);
    const takeA = op === 5 ? a < b : a > b;
    if (!takeA) { x[d * 2] = x[s * 2]; x[d * 2 + 1] = x[s * 2 + 1]; }
    if (c.mxcsrValue & 0x40 && isDen64(c, d)) f[d] = f[d] < 0 ? -0 : 0; // DAZ: the operand was read as zero
    return;
  }
  if (dNaN || sNaN) {
    if ((dNaN && !(x[d * 2 + 1] & 0x80000)) || (sNaN && !(x[s * 2 + 1] & 0x80000))) c.mxcsrValue |= MX_IE; // SNaN
    if (dNaN) x[d * 2 + 1] |= 0x80000;
    else { x[d * 2] = x[s * 2]; x[d * 2 + 1] = x[s * 2 + 1] | 0x80000; }
    return;
  }
  const b = op === 8 && f[s] < 0 && !(c.mxcsrValue & 0x40 && isDen64(c, s)) ? f[s] : in64(c, s);
  // A denormal dividend over zero raises only ZE (no DE), as the hardware does.
  const a = op === 8 ? 0 : op === 6 && b === 0 ? daz64(c, d) : in64(c, d);
  const r = arith64(op, a, b, c.mxcsrValue);
  c.mxcsrValue |= lastFlags();
  if (r !== r) { x[d * 2] = 0; x[d * 2 + 1] = 0xfff80000 | 0; return; } // real indefinite
  f[d] = r;
}

function binF32(c: X86Cpu, op: number, d: number, s: number): void {
  const f = c.xmmF32;
  const x = c.xmm32;
  const dNaN = op !== 8 && isNaN32(c, d), sNaN = isNaN32(c, s);
  if (op === 5 || op === 7) {
    if (dNaN || sNaN) c.mxcsrValue |= MX_IE;
    const a = dNaN || sNaN ? f[d] : in32(c, d), b = dNaN || sNaN ? f[s] : in32(c, s);
    const takeA = op === 5 ? a < b : a > b;
    if (!takeA) x[d] = x[s];
    if (c.mxcsrValue & 0x40 && isDen32(c, d)) f[d] = f[d] < 0 ? -0 : 0;
    return;
  }
  if (dNaN || sNaN) {
    if ((dNaN && !(x[d] & 0x400000)) || (sNaN && !(x[s] & 0x400000))) c.mxcsrValue |= MX_IE;
    if (dNaN) x[d] |= 0x400000;
    else x[d] = x[s] | 0x400000;
    return;
  }
  const b = op === 8 && f[s] < 0 && !(c.mxcsrValue & 0x40 && isDen32(c, s)) ? f[s] : in32(c, s);
  // A denormal dividend over zero raises only ZE (no DE), as the hardware does.
  const a = op === 8 ? 0 : op === 6 && b === 0 ? daz32(c, d) : in32(c, d);
  const r = arith32(op, a, b, c.mxcsrValue);
  c.mxcsrValue |= lastFlags();
  if (r !== r) { x[d] = 0xffc00000 | 0; return; }
  f[d] = r;
}

// 0F 51 SQRT, 58 ADD, 59 MUL, 5C SUB, 5D MIN, 5E DIV, 5F MAX -> op codes used above
export const ARITH_OP: Record<number, number> = { 0x51: 8, 0x58: 0, 0x59: 1, 0x5c: 4, 0x5d: 5, 0x5e: 6, 0x5f: 7 };

/** The four forms of a float arithmetic opcode: [none: ..PS, 66: ..PD, F3: ..SS, F2: ..SD] (op: ARITH_OP). */
export function arithForms(op: number): Handler[] {
  return [
    (c, i) => { check(c); const d = i.reg, s = src(c, i, 16); for (let k = 0; k < 4; k++) binF32(c, op, d * 4 + k, s * 4 + k); },
    (c, i) => { check(c); const d = i.reg, s = src(c, i, 16); for (let k = 0; k < 2; k++) binF64(c, op, d * 2 + k, s * 2 + k); },
    (c, i) => { check(c); const d = i.reg, s = src(c, i, 4); binF32(c, op, d * 4, s * 4); },
    (c, i) => { check(c); const d = i.reg, s = src(c, i, 8); binF64(c, op, d * 2, s * 2); },
  ];
}

// ---------------------------------------------------------------- compares

/** (U)COMISS (0F 2E/2F): ZF PF CF from an unordered/less/equal compare; COMISS signals on any NaN. */
export function comiss(signalQuiet: boolean): Handler {
  return (c, i) => {
    check(c);
    const d = i.reg;
    const s = src(c, i, 4);
    const unordered = isNaN32(c, d * 4) || isNaN32(c, s * 4);
    const a = unordered ? 0 : in32(c, d * 4), b = unordered ? 0 : in32(c, s * 4);
    if (unordered) {
      const snan = (isNaN32(c, d * 4) && (c.xmm32[d * 4] & 0x400000) === 0) || (isNaN32(c, s * 4) && (c.xmm32[s * 4] & 0x400000) === 0);
      if (signalQuiet || snan) c.mxcsrValue |= MX_IE;
    }
    compareFlags(c, unordered, a < b, a === b);
  };
}
/** (U)COMISD (66 0F 2E/2F). */
export function comisd(signalQuiet: boolean): Handler {
  return (c, i) => {
    check(c);
    const d = i.reg;
    const s = src(c, i, 8);
    const unordered = isNaN64(c, d * 2) || isNaN64(c, s * 2);
    const a = unordered ? 0 : in64(c, d * 2), b = unordered ? 0 : in64(c, s * 2);
    if (unordered) {
      const snan = (isNaN64(c, d * 2) && (c.xmm32[d * 4 + 1] & 0x80000) === 0) || (isNaN64(c, s * 2) && (c.xmm32[s * 4 + 1] & 0x80000) === 0);
      if (signalQuiet || snan) c.mxcsrValue |= MX_IE;
    }
    compareFlags(c, unordered, a < b, a === b);
  };
}

function compareFlags(c: X86Cpu, unordered: boolean, lt: boolean, eq: boolean): void {
  const f = c.fl;
  f.materialize();
  let bits = f.bits & ~ARITH;
  if (unordered) bits |= ZF | PF | CF;
  else if (lt) bits |= CF;
  else if (eq) bits |= ZF;
  f.bits = bits;
}

function cmpPred(a: number, b: number, pred: number): boolean {
  const un = a !== a || b !== b;
  switch (pred & 7) {
    case 0: return a === b;
    case 1: return a < b;
    case 2: return a <= b;
    case 3: return un;
    case 4: return !(a === b);
    case 5: return !(a < b);
    case 6: return !(a <= b);
    default: return !un;
  }
}

/** Compare predicates LT/LE/NLT/NLE signal invalid on any NaN; the others only on signalling NaNs. */
function cmpFlags32(c: X86Cpu, pred: number, d: number, s: number): void {
  const dn = isNaN32(c, d), sn = isNaN32(c, s);
  if (dn || sn) {
    const snan = (dn && !(c.xmm32[d] & 0x400000)) || (sn && !(c.xmm32[s] & 0x400000));
    if (snan || (pred & 3) === 1 || (pred & 3) === 2) c.mxcsrValue |= MX_IE;
  } else { in32(c, d); in32(c, s); }
}
function cmpFlags64(c: X86Cpu, pred: number, d: number, s: number): void {
  const dn = isNaN64(c, d), sn = isNaN64(c, s);
  if (dn || sn) {
    const snan = (dn && !(c.xmm32[d * 2 + 1] & 0x80000)) || (sn && !(c.xmm32[s * 2 + 1] & 0x80000));
    if (snan || (pred & 3) === 1 || (pred & 3) === 2) c.mxcsrValue |= MX_IE;
  } else { in64(c, d); in64(c, s); }
}

/** Lane value for a compare: denormals read as zero under MXCSR.DAZ. */
const cmp32 = (c: X86Cpu, k: number): number => (c.mxcsrValue & 0x40 && isDen32(c, k) ? 0 : c.xmmF32[k]);
const cmp64 = (c: X86Cpu, k: number): number => (c.mxcsrValue & 0x40 && isDen64(c, k) ? 0 : c.xmmF64[k]);

/** CMPccPS/PD/SS/SD (0F C2 ib; legacy SSE encodings use only imm8[2:0]): all-ones lanes where true. */
function cmpLanes32(c: X86Cpu, i: Insn, bytes: number, lanes: number): void {
  check(c);
  const s = src(c, i, bytes);
  const d = i.reg;
  const pred = i.imm & 7;
  for (let k = 0; k < lanes; k++) {
    cmpFlags32(c, pred, d * 4 + k, s * 4 + k);
    c.xmm32[d * 4 + k] = cmpPred(cmp32(c, d * 4 + k), cmp32(c, s * 4 + k), pred) ? -1 : 0;
  }
}
function cmpLanes64(c: X86Cpu, i: Insn, bytes: number, lanes: number): void {
  check(c);
  const s = src(c, i, bytes);
  const d = i.reg;
  const pred = i.imm & 7;
  for (let k = 0; k < lanes; k++) {
    cmpFlags64(c, pred, d * 2 + k, s * 2 + k);
    const r = cmpPred(cmp64(c, d * 2 + k), cmp64(c, s * 2 + k), pred) ? -1 : 0;
    c.xmm32[d * 4 + k * 2] = r; c.xmm32[d * 4 + k * 2 + 1] = r;
  }
}
export const cmpps: Handler = (c, i) => cmpLanes32(c, i, 16, 4);
export const cmppd: Handler = (c, i) => cmpLanes64(c, i, 16, 2);
export const cmpss: Handler = (c, i) => cmpLanes32(c, i, 4, 1);
export const cmpsd: Handler = (c, i) => cmpLanes64(c, i, 8, 1);

/**
 * RCPPS/RCPSS/RSQRTPS/RSQRTSS (0F 53/52): the architecture only bounds the relative error (1.5 * 2^-12);
 * we return the correctly rounded value, which is within that bound but not bit-identical to hardware.
 * Denormal inputs count as zero and tiny results flush to zero, as on Intel CPUs.
 */
export function approx(rsqrt: boolean, scalar: boolean): Handler {
  const n = scalar ? 1 : 4;
  return (c, i) => {
    check(c);
    const s = src(c, i, scalar ? 4 : 16);
    const d = i.reg;
    const f = c.xmmF32;
    copy(c, TMP, s);
    for (let k = 0; k < n; k++) {
      let v = f[TMP * 4 + k];
      if (isDen32(c, TMP * 4 + k)) v = v < 0 ? -0 : 0;
      let r = rsqrt ? 1 / Math.sqrt(v) : 1 / v;
      if (r !== r && !(v !== v)) r = NaN;
      if (Math.abs(r) < 1.1754943508222875e-38) r = r < 0 ? -0 : 0;
      if (v !== v) c.xmm32[d * 4 + k] = c.xmm32[TMP * 4 + k] | 0x400000;
      else if (r !== r) c.xmm32[d * 4 + k] = 0xffc00000 | 0;
      else f[d * 4 + k] = r;
    }
  };
}

// ---------------------------------------------------------------- unmasked exceptions (#XM)

const SAVE = 18;

/**
 * Run a float instruction so that an unmasked MXCSR exception leaves its destination untouched and
 * raises #XM (or #UD when CR4.OSXMMEXCPT is clear), with the exception's flag set in MXCSR.
 */
export function guarded(fn: Handler): Handler {
  return (c, i) => {
    const old = c.mxcsrValue & 0x3f;
    c.mxcsrValue &= ~0x3f;
    const d = i.reg;
    copy(c, SAVE, d);
    const gLo = c.r[2 * d], gHi = c.r[2 * d + 1];
    const fl = c.fl.bits, fop = c.fl.op;
    try {
      fn(c, i);
    } catch (e) {
      c.mxcsrValue |= old;
      throw e;
    }
    let raised = c.mxcsrValue & 0x3f;
    const unmasked = raised & ~(c.mxcsrValue >> 7) & 0x3f;
    // An unmasked invalid/denormal/divide exception stops the instruction before any rounding flags.
    if (unmasked & 7) raised &= 7;
    c.mxcsrValue = (c.mxcsrValue & ~0x3f) | raised | old;
    if (unmasked) {
      copy(c, d, SAVE);
      c.r[2 * d] = gLo; c.r[2 * d + 1] = gHi;
      c.fl.bits = fl; c.fl.op = fop;
      c.fault(c.cr4 & 0x400 ? 19 : 6);
    }
  };
}
