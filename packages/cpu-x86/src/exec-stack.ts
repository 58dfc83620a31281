import type { FormSetter, Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { push, pop, peek, adjustSp, stackAddr, stackRef } from './stack.js';
import { ACC_READ, ACC_WRITE, checkSegAccess, checkStackRange } from './segment-check.js';
import { loadSegment } from './segments.js';
import { AC, ID, IF, IOPL, NT, RF, VM, DF, TF, OF } from './flags.js';
import { SEG_SS } from './insn.js';

function pushReg(c: X86Cpu, i: Insn): void { // 50-57
  const n = (i.op & 7) | ((i.rex & 1) << 3);
  const v = c.getReg(n, i.size, 0);
  push(c, i.size, v, c.hi);
}

function popReg(c: X86Cpu, i: Insn): void { // 58-5F
  const n = (i.op & 7) | ((i.rex & 1) << 3);
  const v = pop(c, i.size);
  c.setReg(n, i.size, v, c.hi, 0);
}

function pushImm(c: X86Cpu, i: Insn): void { // 68/6A
  push(c, i.size, i.size === 2 ? i.imm & 0xffff : i.imm >>> 0, (i.imm >> 31) >>> 0);
}

function popE(c: X86Cpu, i: Insn): void { // 8F /0
  const size = i.size;
  if (!i.isMem) {
    const v = pop(c, size);
    c.setReg(i.rm, size, v, c.hi, i.rex);
    return;
  }
  const v = peek(c, size);
  const vh = c.hi;
  // The address is computed with the already-incremented RSP (as the hardware does); a fault on the
  // destination leaves RSP as it was, so the instruction restarts.
  const sp0 = c.r[8], sp1 = c.r[9];
  adjustSp(c, size);
  try {
    c.wrSize(ea(c, i), size, v, vh);
  } catch (e) {
    c.r[8] = sp0; c.r[9] = sp1;
    throw e;
  }
}

export function pushE(c: X86Cpu, i: Insn): void { // FF /6
  const size = i.size;
  const v = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, i.rex);
  push(c, size, v, c.hi);
}

const PUSHA_ORDER = [0, 1, 2, 3, 4, 5, 6, 7];
function pusha(c: X86Cpu, i: Insn): void {
  const size = i.size;
  const sp = c.getReg(4, size, 0);
  // Check the whole frame (SS limit, then paging) first so a fault leaves ESP unchanged.
  checkStackRange(c, -8 * size, 8 * size, ACC_WRITE);
  c.writeLin(stackAddr(c, -8 * size), 1, c.readLin(stackAddr(c, -8 * size), 1, c.accUser), c.accUser);
  for (const n of PUSHA_ORDER) push(c, size, n === 4 ? sp : c.getReg(n, size, 0), 0);
}

function popa(c: X86Cpu, i: Insn): void {
  const size = i.size;
  checkStackRange(c, 0, 8 * size, ACC_READ); // #SS(0) before any register changes
  for (let n = 7; n >= 0; n--) {
    const v = pop(c, size);
    if (n !== 4) c.setReg(n, size, v, 0, 0);
  }
}

function pushf(c: X86Cpu, i: Insn): void {
  const f = c.fl.get() & ~(VM | RF);
  push(c, i.size, i.size === 2 ? f & 0xffff : f, 0);
}

/** Write EFLAGS from POPF/IRET with the privilege rules for IF and IOPL. */
export function writeFlags(c: X86Cpu, v: number, size: number): void {
  const old = c.fl.get();
  let mask = 0xcd5 | TF | DF | OF | NT | AC | ID; // arithmetic + TF DF NT AC ID
  const iopl = (old & IOPL) >> 12;
  if (c.cpl === 0) mask |= IOPL | IF;
  else if (c.cpl <= iopl) mask |= IF;
  if (size === 2) mask &= 0xffff;
  c.fl.set((old & ~mask) | (v & mask));
}

function popf(c: X86Cpu, i: Insn): void {
  const v = pop(c, i.size);
  writeFlags(c, v, i.size);
}

function enter(c: X86Cpu, i: Insn): void {
  const size = i.size;
  const alloc = i.imm & 0xffff;
  const level = i.imm2 & 31;
  const bp = c.getReg(5, size, 0), bph = c.hi;
  // #SS(0) when the new frame (or the outer frame pointers copied for level > 1) leaves the SS limit,
  // checked before anything is written so ENTER restarts cleanly.
  checkStackRange(c, -(size * (level > 0 ? level + 1 : 1) + alloc), size * (level > 0 ? level + 1 : 1) + alloc, ACC_WRITE);
  if (level > 1 && c.stackSize !== 8 && c.segChecked[SEG_SS] !== 0) {
    const ebp = c.getReg(5, c.stackSize, 0);
    const lowest = c.stackSize === 4 ? (ebp - (level - 1) * size) >>> 0 : (ebp - (level - 1) * size) & 0xffff;
    checkSegAccess(c, SEG_SS, lowest, (level - 1) * size, ACC_READ);
  }
  push(c, size, bp, bph);
  const frame = c.getReg(4, size, 0), frameHi = c.hi;
  if (level > 0) {
    let ptr = c.getReg(5, c.stackSize, 0);
    for (let k = 1; k < level; k++) {
      ptr -= size;
      const lin = c.stackSize === 8 ? c.regNum(5) - k * size : (c.segBase[2] + ((ptr >>> 0) & (c.stackSize === 2 ? 0xffff : 0xffffffff))) >>> 0;
      const v = c.rdSize(lin, size);
      push(c, size, v, c.hi);
    }
    push(c, size, frame, frameHi);
  }
  c.setReg(5, size, frame, frameHi, 0);
  adjustSp(c, -alloc);
}

function leave(c: X86Cpu, i: Insn): void {
  // RSP = RBP (stack width), then pop RBP; a fault on the pop leaves RSP as it was.
  const r = c.r;
  const sp0 = r[8], sp1 = r[9];
  if (c.stackSize === 8) { r[8] = r[10]; r[9] = r[11]; }
  else if (c.stackSize === 4) { r[8] = r[10]; r[9] = 0; }
  else r[8] = (r[8] & ~0xffff) | (r[10] & 0xffff);
  let v: number;
  try {
    v = pop(c, i.size);
  } catch (e) {
    r[8] = sp0; r[9] = sp1;
    throw e;
  }
  c.setReg(5, i.size, v, c.hi, 0);
}

const SEG_OF_OP: Record<number, number> = { 0x06: 0, 0x07: 0, 0x0e: 1, 0x16: 2, 0x17: 2, 0x1e: 3, 0x1f: 3, 0x1a0: 4, 0x1a1: 4, 0x1a8: 5, 0x1a9: 5 };
function pushSeg(c: X86Cpu, i: Insn): void {
  const s = SEG_OF_OP[i.op];
  const size = i.size;
  // A 32-bit push of a segment register writes only 16 bits on modern CPUs.
  if (size === 2) push(c, 2, c.segSel[s], 0);
  else {
    const lin = stackRef(c, -size, size, ACC_WRITE);
    c.wr16(lin, c.segSel[s]);
    adjustSp(c, -size);
  }
}
function popSeg(c: X86Cpu, i: Insn): void {
  const s = SEG_OF_OP[i.op];
  const v = c.rdSize(stackRef(c, 0, i.size, ACC_READ), 2);
  loadSegment(c, s, v);
  adjustSp(c, i.size);
  if (s === SEG_SS) c.shadow = true;
}

/** POP r/m (8F /0: the other digits are #UD, or XOP outside this CPU). */
export function registerStackForms(set: FormSetter): void {
  set([0x8f], 0, popE);
}

export function registerStack(h: Handler[]): void {
  for (let k = 0; k < 8; k++) { h[0x50 + k] = pushReg; h[0x58 + k] = popReg; }
  h[0x68] = h[0x6a] = pushImm;
  h[0x60] = pusha;
  h[0x61] = popa;
  h[0x9c] = pushf;
  h[0x9d] = popf;
  h[0xc8] = enter;
  h[0xc9] = leave;
  h[0x06] = h[0x0e] = h[0x16] = h[0x1e] = h[0x1a0] = h[0x1a8] = pushSeg;
  h[0x07] = h[0x17] = h[0x1f] = h[0x1a1] = h[0x1a9] = popSeg;
}
