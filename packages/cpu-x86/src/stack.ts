import type { X86Cpu } from './cpu.js';
import { SEG_SS } from './insn.js';
import { ACC_READ, ACC_WRITE, checkSegAccess } from './segment-check.js';

const CANON = 0x800000000000;

/**
 * Push a value of `size` bytes (64-bit: hi is the high half). Memory is written before RSP changes, and
 * the SS limit/type check (#SS(0), SDM Vol. 3A §5.3) comes before both.
 */
export function push(c: X86Cpu, size: number, lo: number, hi: number): void {
  const r = c.r;
  if (c.stackSize === 8) {
    const rsp = c.regNum(4) - size;
    if (rsp < -CANON || rsp >= CANON) c.fault(12, 0);
    c.wrSize(rsp, size, lo, hi);
    c.setRegNum(4, rsp);
  } else if (c.stackSize === 4) {
    const esp = (r[8] - size) >>> 0;
    if (c.segChecked[SEG_SS] !== 0) checkSegAccess(c, SEG_SS, esp, size, ACC_WRITE);
    c.wrSize((c.segBase[2] + esp) >>> 0, size, lo, hi);
    r[8] = esp;
  } else {
    const sp = (r[8] - size) & 0xffff;
    if (c.segChecked[SEG_SS] !== 0) checkSegAccess(c, SEG_SS, sp, size, ACC_WRITE);
    c.wrSize((c.segBase[2] + sp) >>> 0, size, lo, hi);
    r[8] = (r[8] & ~0xffff) | sp;
  }
}

/** Linear address of the stack top plus `offset` bytes (no segment check: see stackRef). */
export function stackAddr(c: X86Cpu, offset: number): number {
  if (c.stackSize === 8) return c.regNum(4) + offset;
  if (c.stackSize === 4) return (c.segBase[2] + ((c.r[8] + offset) >>> 0)) >>> 0;
  return (c.segBase[2] + ((c.r[8] + offset) & 0xffff)) >>> 0;
}

/** Linear address of `size` bytes at rSP+offset, after the SS limit/type check for `kind` (ACC_*). */
export function stackRef(c: X86Cpu, offset: number, size: number, kind: number): number {
  if (c.stackSize !== 8 && c.segChecked[SEG_SS] !== 0) {
    const off = c.stackSize === 4 ? (c.r[8] + offset) >>> 0 : (c.r[8] + offset) & 0xffff;
    checkSegAccess(c, SEG_SS, off, size, kind);
  }
  return stackAddr(c, offset);
}

/** Read `size` bytes at the stack top without popping (64-bit: high half in c.hi). */
export function peek(c: X86Cpu, size: number): number {
  return c.rdSize(stackRef(c, 0, size, ACC_READ), size);
}

/** Pop `size` bytes (64-bit: high half in c.hi). */
export function pop(c: X86Cpu, size: number): number {
  const r = c.r;
  const ss = c.stackSize;
  let lin: number;
  if (ss === 8) lin = c.regNum(4);
  else {
    const off = ss === 4 ? r[8] >>> 0 : r[8] & 0xffff;
    if (c.segChecked[SEG_SS] !== 0) checkSegAccess(c, SEG_SS, off, size, ACC_READ);
    lin = (c.segBase[2] + off) >>> 0;
  }
  const v = c.rdSize(lin, size);
  const hi = c.hi;
  adjustSp(c, size);
  c.hi = hi;
  return v;
}

export function adjustSp(c: X86Cpu, delta: number): void {
  const r = c.r;
  if (c.stackSize === 8) c.setRegNum(4, c.regNum(4) + delta);
  else if (c.stackSize === 4) { r[8] = (r[8] + delta) >>> 0; r[9] = 0; }
  else r[8] = (r[8] & ~0xffff) | ((r[8] + delta) & 0xffff);
}
