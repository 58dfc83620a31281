import type { FormSetter, Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { CF, OF } from './flags.js';

let outHi = 0;

/** Bit `n` (0..63) of the 64-bit value hi:lo. */
function bit64(lo: number, hi: number, n: number): number {
  return n >= 32 ? (hi >>> (n - 32)) & 1 : (lo >>> n) & 1;
}
function shl64(lo: number, hi: number, n: number): number {
  if (n === 0) { outHi = hi >>> 0; return lo >>> 0; }
  if (n >= 32) { outHi = (lo << (n - 32)) >>> 0; return 0; }
  outHi = ((hi << n) | (lo >>> (32 - n))) >>> 0;
  return (lo << n) >>> 0;
}
function shr64(lo: number, hi: number, n: number, arith: boolean): number {
  if (n === 0) { outHi = hi >>> 0; return lo >>> 0; }
  if (n >= 32) { const r = arith ? hi >> (n - 32) : hi >>> (n - 32); outHi = arith ? (hi >> 31) >>> 0 : 0; return r >>> 0; }
  const r = ((lo >>> n) | (hi << (32 - n))) >>> 0;
  outHi = (arith ? hi >> n : hi >>> n) >>> 0;
  return r;
}

/**
 * Shift/rotate `a` (size bytes; 64-bit: ah) by `count` (already masked) with operation op
 * (0 ROL 1 ROR 2 RCL 3 RCR 4 SHL 5 SHR 6 SAL 7 SAR). `a` may be an int32 or uint32 bit pattern. Returns
 * the low result as an int32 bit pattern (no boxed double across the call), high half in c.hi.
 */
export function shift(c: X86Cpu, op: number, size: number, a: number, ah: number, count: number): number {
  const f = c.fl;
  const bits = size * 8;
  if (count === 0) { c.hi = ah; return a; }
  let r = 0, rh = 0, cf = 0, of = 0;
  if (size === 8) {
    switch (op) {
      case 4: case 6:
        r = shl64(a, ah, count); rh = outHi;
        cf = bit64(a, ah, 64 - count);
        of = (rh >>> 31) ^ cf;
        f.setResult(8, r, rh, cf, of);
        break;
      case 5: case 7:
        r = shr64(a, ah, count, op === 7); rh = outHi;
        cf = bit64(a, ah, count - 1);
        of = op === 5 ? ah >>> 31 : 0;
        f.setResult(8, r, rh, cf, of);
        break;
      case 0: case 1: {
        const n = op === 0 ? count : 64 - count;
        const l1 = shl64(a, ah, n), h1 = outHi;
        const l2 = shr64(a, ah, 64 - n, false), h2 = outHi;
        r = (l1 | l2) >>> 0; rh = (h1 | h2) >>> 0;
        if (op === 0) { cf = r & 1; of = (rh >>> 31) ^ cf; }
        else { cf = rh >>> 31; of = cf ^ ((rh >>> 30) & 1); }
        setCfOf(c, cf, of);
        break;
      }
      default: { // RCL/RCR 64: rotate through carry one bit at a time
        cf = f.cf(); r = a >>> 0; rh = ah >>> 0;
        for (let k = 0; k < count; k++) {
          if (op === 2) {
            const out = rh >>> 31;
            rh = ((rh << 1) | (r >>> 31)) >>> 0; r = ((r << 1) | cf) >>> 0; cf = out;
          } else {
            const out = r & 1;
            r = ((r >>> 1) | (rh << 31)) >>> 0; rh = ((rh >>> 1) | (cf << 31)) >>> 0; cf = out;
          }
        }
        of = op === 2 ? (rh >>> 31) ^ cf : (rh >>> 31) ^ ((rh >>> 30) & 1);
        setCfOf(c, cf, of);
      }
    }
    c.hi = rh;
    return r | 0;
  }
  const mask = size === 4 ? 0xffffffff : (1 << bits) - 1;
  const msb = bits - 1;
  switch (op) {
    case 4: case 6:
      r = count < 32 ? (a << count) & mask : 0;
      cf = count <= bits ? (a >>> (bits - count)) & 1 : 0;
      of = ((r >>> msb) & 1) ^ cf;
      f.setResult(size, r >>> 0, 0, cf, of);
      break;
    case 5:
      r = count < 32 ? a >>> count : 0;
      cf = count <= bits ? (a >>> (count - 1)) & 1 : 0;
      of = (a >>> msb) & 1;
      f.setResult(size, r >>> 0, 0, cf, of);
      break;
    case 7: {
      const s = size === 1 ? (a << 24) >> 24 : size === 2 ? (a << 16) >> 16 : a | 0;
      r = (s >> (count < 32 ? count : 31)) & mask;
      cf = (s >> (count - 1 < 32 ? count - 1 : 31)) & 1;
      f.setResult(size, r >>> 0, 0, cf, 0);
      break;
    }
    case 0: case 1: {
      const n = count % bits;
      const rot = op === 0 ? n : (bits - n) % bits;
      r = rot === 0 ? a : ((a << rot) | (a >>> (bits - rot))) & mask;
      r >>>= 0;
      if (op === 0) { cf = r & 1; of = ((r >>> msb) & 1) ^ cf; }
      else { cf = (r >>> msb) & 1; of = cf ^ ((r >>> (msb - 1)) & 1); }
      setCfOf(c, cf, of);
      break;
    }
    default: { // RCL/RCR: (bits+1)-bit rotate
      const n = count % (bits + 1);
      cf = f.cf(); r = a;
      for (let k = 0; k < n; k++) {
        if (op === 2) { const out = (r >>> msb) & 1; r = ((r << 1) | cf) & mask; cf = out; }
        else { const out = r & 1; r = ((r >>> 1) | (cf << msb)) & mask; cf = out; }
      }
      r >>>= 0;
      of = op === 2 ? ((r >>> msb) & 1) ^ cf : ((r >>> msb) & 1) ^ ((r >>> (msb - 1)) & 1);
      if (n !== 0) setCfOf(c, cf, of);
    }
  }
  c.hi = 0;
  return r | 0; // int32 bit pattern: stays a Smi across the call
}

function setCfOf(c: X86Cpu, cf: number, of: number): void {
  const f = c.fl;
  f.materialize();
  f.bits = (f.bits & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
}

/** Where a group 2 shift takes its count: D0/D1 one, D2/D3 CL, C0/C1 imm8. */
const COUNT_ONE = 0, COUNT_CL = 1, COUNT_IMM = 2;

/** Group 2 (C0/C1/D0-D3): the handler of shift/rotate `op` (ModRM.reg) with its count source, per form. */
function grp2(op: number, countFrom: number): Handler {
  return (c, i) => shiftRm(c, i, op, countFrom === COUNT_ONE ? 1 : countFrom === COUNT_CL ? c.r[2] & 0xff : i.imm & 0xff);
}

function shiftRm(c: X86Cpu, i: Insn, op: number, count: number): void {
  const size = i.size;
  count &= size === 8 ? 0x3f : 0x1f;
  if (i.isMem) {
    const addr = ea(c, i);
    const a = c.rdRmw(addr, size);
    const r = shift(c, op, size, a, c.hi, count);
    if (count !== 0) c.wrSize(addr, size, r, c.hi);
  } else if (size === 4) {
    // Register fast path on the int32 half (nothing boxed); writing a 32-bit register clears the high half.
    const rr = c.r;
    rr[2 * i.rm] = shift(c, op, 4, rr[2 * i.rm], 0, count);
    rr[2 * i.rm + 1] = 0;
  } else {
    const a = c.getReg(i.rm, size, i.rex);
    const r = shift(c, op, size, a, c.hi, count);
    c.setReg(i.rm, size, r, c.hi, i.rex);
  }
}

/** SHLD/SHRD (0F A4/A5/AC/AD). */
function shiftDouble(c: X86Cpu, i: Insn): void {
  const size = i.size;
  const left = i.op === 0x1a4 || i.op === 0x1a5;
  let count = (i.op & 1 ? c.r[2] : i.imm) & (size === 8 ? 0x3f : 0x1f);
  const addr = i.isMem ? ea(c, i) : 0;
  const a = i.isMem ? c.rdRmw(addr, size) : c.getReg(i.rm, size, i.rex);
  const ah = c.hi;
  const b = c.getReg(i.reg, size, i.rex);
  const bh = c.hi;
  if (count === 0) { if (!i.isMem) c.setReg(i.rm, size, a, ah, i.rex); return; }
  let r: number, rh = 0, cf: number;
  const bits = size * 8;
  if (size === 8) {
    if (left) {
      const l1 = shl64(a, ah, count), h1 = outHi;
      const l2 = shr64(b, bh, 64 - count, false), h2 = outHi;
      r = (l1 | l2) >>> 0; rh = (h1 | h2) >>> 0;
      cf = bit64(a, ah, 64 - count);
    } else {
      const l1 = shr64(a, ah, count, false), h1 = outHi;
      const l2 = shl64(b, bh, 64 - count), h2 = outHi;
      r = (l1 | l2) >>> 0; rh = (h1 | h2) >>> 0;
      cf = bit64(a, ah, count - 1);
    }
    const of = ((rh ^ ah) >>> 31) & 1;
    c.fl.setResult(8, r, rh, cf, of);
  } else {
    if (size === 2 && count > 16) {
      // Undefined result; model a 32-bit concatenation like hardware commonly does.
      count &= 0x1f;
    }
    let wide: number; // operate on a:b as a 2*bits value with doubles (max 64 bits, keep exact via halves)
    if (left) {
      // result = (a << count) | (b >>> (bits - count)), within `bits`
      const hiPart = count < 32 ? a << count : 0;
      const loPart = bits - count >= 0 && bits - count < 32 ? b >>> (bits - count) : 0;
      wide = (hiPart | loPart) >>> 0;
      cf = (a >>> (bits - count)) & 1;
    } else {
      const loPart = a >>> count;
      const hiPart = bits - count < 32 ? b << (bits - count) : 0;
      wide = (loPart | hiPart) >>> 0;
      cf = (a >>> (count - 1)) & 1;
    }
    const mask = size === 4 ? 0xffffffff : 0xffff;
    r = (wide & mask) >>> 0;
    const of = ((r ^ a) >>> (bits - 1)) & 1;
    c.fl.setResult(size, r, 0, cf, of);
  }
  if (i.isMem) c.wrSize(addr, size, r, rh);
  else c.setReg(i.rm, size, r, rh, i.rex);
}

export function registerShiftForms(set: FormSetter): void {
  for (let op = 0; op < 8; op++) {
    set([0xd0, 0xd1], op, grp2(op, COUNT_ONE));
    set([0xd2, 0xd3], op, grp2(op, COUNT_CL));
    set([0xc0, 0xc1], op, grp2(op, COUNT_IMM));
  }
}

export function registerShift(h: Handler[]): void {
  h[0x1a4] = h[0x1a5] = h[0x1ac] = h[0x1ad] = shiftDouble;
}
