import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { EA_FLAT64, EA_SUM32, SEG_CS, SEG_SS } from './insn.js';
import { CHK_FETCH, checkBranchTarget, checkOperand } from './segment-check.js';

const TWO32 = 4294967296;
const CANON = 0x800000000000;

/** Linear address of the memory operand of `i` (segment base added, canonical checked in long mode). */
export function ea(c: X86Cpu, i: Insn): number {
  const r = c.r;
  const kind = i.eaKind;
  if (kind === EA_FLAT64) {
    // Registers below 4 GiB: the sum lies in (-2^31, 2^36), canonical, exact in a double.
    const b = i.base, x = i.index;
    if ((b < 0 || r[2 * b + 1] === 0) && (x < 0 || r[2 * x + 1] === 0)) {
      let lin = i.disp;
      if (b >= 0) lin += r[2 * b] >>> 0;
      if (x >= 0) lin += (r[2 * x] >>> 0) * (1 << i.scale);
      return lin;
    }
  } else if (kind === EA_SUM32 && c.segChecked[i.seg] === 0) {
    // Outside 64-bit mode, a segment with no limit or type checks.
    let off = i.disp;
    if (i.base >= 0) off += r[2 * i.base];
    if (i.index >= 0) off += r[2 * i.index] << i.scale;
    return (c.segBase[i.seg] + (off >>> 0)) >>> 0;
  }
  return eaAny(c, i);
}

/** ea() for any memory operand (kept apart so the short paths above stay small enough to inline). */
function eaAny(c: X86Cpu, i: Insn): number {
  const r = c.r;
  if (i.asize === 8) {
    let lin: number;
    if (i.ripRel) lin = c.nextRip + i.disp;
    else if ((i.base < 0 || r[2 * i.base + 1] === 0) && (i.index < 0 || r[2 * i.index + 1] === 0) && i.dispHi === i.disp >> 31) {
      // Common case: registers below 4 GiB and an ordinary displacement: the exact sum fits a double.
      lin = i.disp;
      if (i.base >= 0) lin += r[2 * i.base] >>> 0;
      if (i.index >= 0) lin += (r[2 * i.index] >>> 0) * (1 << i.scale);
    } else {
      let lo = i.disp >>> 0;
      let hi = i.dispHi;
      if (i.base >= 0) { lo += r[2 * i.base] >>> 0; hi += r[2 * i.base + 1]; }
      if (i.index >= 0) {
        const m = 1 << i.scale;
        lo += (r[2 * i.index] >>> 0) * m;
        hi += r[2 * i.index + 1] * m;
      }
      hi = (hi + Math.floor(lo / TWO32)) | 0;
      lin = hi * TWO32 + (lo >>> 0);
    }
    if (i.seg >= 4) lin += c.segBase[i.seg];
    if (lin < -CANON || lin >= CANON) {
      lin = wrap64(lin);
      if (lin < -CANON || lin >= CANON) c.fault(i.seg === SEG_SS ? 12 : 13, 0);
    }
    return lin;
  }
  let off: number;
  if (i.asize === 4) {
    if (i.ripRel) off = c.nextRip + i.disp;
    else {
      off = i.disp;
      if (i.base >= 0) off += r[2 * i.base];
      if (i.index >= 0) off += r[2 * i.index] << i.scale;
    }
    off >>>= 0;
  } else {
    off = i.disp;
    if (i.base >= 0) off += r[2 * i.base];
    if (i.index >= 0) off += r[2 * i.index];
    off &= 0xffff;
  }
  if (c.codeSize === 64) return i.seg >= 4 ? off + c.segBase[i.seg] : off;
  // Limit/type checks (segment-check.ts): one load and a branch for flat segments.
  if (c.segChecked[i.seg] !== 0) checkOperand(c, i, off);
  return (c.segBase[i.seg] + off) >>> 0;
}

/** Reduce a 64-bit-ish sum to its signed 64-bit value (exact for the canonical range). */
export function wrap64(v: number): number {
  const hi = Math.floor(v / TWO32) | 0;
  const lo = v >>> 0;
  return hi * TWO32 + lo;
}

/** Read the r/m operand (register or memory). 64-bit: high half in c.hi. */
export function readE(c: X86Cpu, i: Insn, size: number): number {
  if (i.isMem) return c.rdSize(ea(c, i), size);
  return c.getReg(i.rm, size, i.rex);
}

export function writeE(c: X86Cpu, i: Insn, size: number, lo: number, hi: number): void {
  if (i.isMem) c.wrSize(ea(c, i), size, lo, hi);
  else c.setReg(i.rm, size, lo, hi, i.rex);
}

export const MASK = [0, 0xff, 0xffff, 0, 0xffffffff, 0, 0, 0, 0xffffffff];

/** Truncate an immediate to operand size (unsigned), and its high half for 64-bit operands. */
export function immLo(i: Insn, size: number): number {
  return size >= 4 ? i.imm >>> 0 : i.imm & MASK[size];
}
export function immHi(i: Insn): number {
  return (i.imm >> 31) >>> 0;
}

/** Mask a branch target to the current mode's instruction pointer width. */
export function branchTarget(c: X86Cpu, target: number, size: number): number {
  if (c.codeSize === 64) {
    if (target < -CANON || target >= CANON) {
      target = wrap64(target);
      if (target < -CANON || target >= CANON) c.fault(13, 0);
    }
    return target;
  }
  const t = size === 2 ? target & 0xffff : target >>> 0;
  // SDM: a near branch whose target lies beyond the CS limit raises #GP(0) at the branch.
  if (c.segChecked[SEG_CS] & CHK_FETCH) checkBranchTarget(c, t);
  return t;
}
