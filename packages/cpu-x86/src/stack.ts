import type { X86Cpu } from './cpu.js';

const CANON = 0x800000000000;

/** Push a value of `size` bytes (64-bit: hi is the high half). Memory is written before RSP changes. */
export function push(c: X86Cpu, size: number, lo: number, hi: number): void {
  const r = c.r;
  if (c.stackSize === 8) {
    const rsp = c.regNum(4) - size;
    if (rsp < -CANON || rsp >= CANON) c.fault(12, 0);
    c.wrSize(rsp, size, lo, hi);
    c.setRegNum(4, rsp);
  } else if (c.stackSize === 4) {
    const esp = (r[8] - size) >>> 0;
    c.wrSize((c.segBase[2] + esp) >>> 0, size, lo, hi);
    r[8] = esp;
  } else {
    const sp = (r[8] - size) & 0xffff;
    c.wrSize((c.segBase[2] + sp) >>> 0, size, lo, hi);
    r[8] = (r[8] & ~0xffff) | sp;
  }
}

/** Linear address of the stack top plus `offset` bytes. */
export function stackAddr(c: X86Cpu, offset: number): number {
  if (c.stackSize === 8) return c.regNum(4) + offset;
  if (c.stackSize === 4) return (c.segBase[2] + ((c.r[8] + offset) >>> 0)) >>> 0;
  return (c.segBase[2] + ((c.r[8] + offset) & 0xffff)) >>> 0;
}

/** Pop `size` bytes (64-bit: high half in c.hi). */
export function pop(c: X86Cpu, size: number): number {
  const v = c.rdSize(stackAddr(c, 0), size);
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
