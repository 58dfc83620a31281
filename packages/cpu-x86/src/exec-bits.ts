import type { FormSetter, Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { alu } from './alu.js';
import { CF, ZF } from './flags.js';

/** BT/BTS/BTR/BTC: op 0 test, 1 set, 2 reset, 3 complement. */
function bitOp(c: X86Cpu, i: Insn, op: number, bitIndexLo: number, bitIndexHi: number, fromImm: boolean): void {
  const size = i.size;
  const bits = size * 8;
  if (i.isMem && !fromImm) {
    // Register bit offset addresses memory beyond the operand: signed offset / operand bits.
    let offBytes: number;
    if (size === 8) offBytes = Math.floor(((bitIndexHi | 0) * 4294967296 + (bitIndexLo >>> 0)) / 64) * 8;
    else offBytes = Math.floor(((size === 4 ? bitIndexLo | 0 : (bitIndexLo << 16) >> 16)) / bits) * size;
    const addr = ea(c, i) + offBytes;
    const lin = c.codeSize === 64 ? addr : addr >>> 0;
    const b = (bitIndexLo & (bits - 1));
    applyBit(c, i, op, size, b, lin, true);
    return;
  }
  const b = bitIndexLo & (bits - 1);
  applyBit(c, i, op, size, b, i.isMem ? ea(c, i) : 0, i.isMem);
}

function applyBit(c: X86Cpu, i: Insn, op: number, size: number, b: number, lin: number, mem: boolean): void {
  let lo = mem ? (op === 0 ? c.rdSize(lin, size) : c.rdRmw(lin, size)) : c.getReg(i.rm, size, i.rex);
  let hi = size === 8 ? c.hi : 0;
  const inHi = b >= 32;
  const m = 1 << (b & 31);
  const old = ((inHi ? hi : lo) & m) !== 0;
  c.fl.setBit(CF, old);
  if (op === 0) return;
  let w = inHi ? hi : lo;
  if (op === 1) w |= m;
  else if (op === 2) w &= ~m;
  else w ^= m;
  if (inHi) hi = w >>> 0; else lo = w >>> 0;
  if (mem) c.wrSize(lin, size, lo, hi);
  else c.setReg(i.rm, size, lo, hi, i.rex);
}

const BT_OP: Record<number, number> = { 0x1a3: 0, 0x1ab: 1, 0x1b3: 2, 0x1bb: 3 };
function btReg(c: X86Cpu, i: Insn): void {
  const v = c.getReg(i.reg, i.size, i.rex);
  bitOp(c, i, BT_OP[i.op], v, i.size === 8 ? c.hi : 0, false);
}
/** BT/BTS/BTR/BTC r/m, imm8 (0F BA /4-/7): op as bitOp's. */
function btImm(op: number): Handler {
  return (c, i) => bitOp(c, i, op, i.imm & 0xff, 0, true);
}

function bsfBsr(c: X86Cpu, i: Insn): void { // 0F BC / BD (F3: TZCNT/LZCNT not advertised -> BSF/BSR)
  const size = i.size;
  const lo = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, i.rex);
  const hi = size === 8 ? c.hi : 0;
  c.fl.materialize();
  if (lo === 0 && hi === 0) {
    c.fl.bits |= ZF;
    return; // destination unchanged (as real CPUs do)
  }
  c.fl.bits &= ~ZF;
  let n: number;
  if (i.op === 0x1bc) n = lo !== 0 ? 31 - Math.clz32(lo & -lo) : 32 + 31 - Math.clz32(hi & -hi);
  else n = hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo);
  c.setReg(i.reg, size, n, 0, i.rex);
}

function popcnt(c: X86Cpu, i: Insn): void { // F3 0F B8
  const size = i.size;
  const lo = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, i.rex);
  const hi = size === 8 ? c.hi : 0;
  const n = pc(lo) + pc(hi);
  c.fl.set((c.fl.get() & ~0x8d5) | (n === 0 ? ZF : 0));
  c.setReg(i.reg, size, n, 0, i.rex);
}
function pc(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

function cmpxchg(c: X86Cpu, i: Insn): void { // 0F B0/B1
  const size = i.size;
  const addr = i.isMem ? ea(c, i) : 0;
  const d = i.isMem ? c.rdRmw(addr, size) : c.getReg(i.rm, size, i.rex);
  const dh = c.hi;
  const a = c.getReg(0, size, 0), ah = c.hi;
  alu(c, 7, size, a, ah, d, dh);
  if (c.fl.zf()) {
    const s = c.getReg(i.reg, size, i.rex), sh = c.hi;
    if (i.isMem) c.wrSize(addr, size, s, sh); else c.setReg(i.rm, size, s, sh, i.rex);
  } else {
    if (i.isMem) c.wrSize(addr, size, d, dh); // the destination is always written back
    c.setReg(0, size, d, dh, 0);
  }
}

function xadd(c: X86Cpu, i: Insn): void { // 0F C0/C1
  const size = i.size;
  const addr = i.isMem ? ea(c, i) : 0;
  const d = i.isMem ? c.rdRmw(addr, size) : c.getReg(i.rm, size, i.rex);
  const dh = c.hi;
  const s = c.getReg(i.reg, size, i.rex), sh = c.hi;
  const r = alu(c, 0, size, d, dh, s, sh), rh = c.hi;
  c.setReg(i.reg, size, d, dh, i.rex);
  if (i.isMem) c.wrSize(addr, size, r, rh); else c.setReg(i.rm, size, r, rh, i.rex);
}

function cmpxchg8b(c: X86Cpu, i: Insn): void { // 0F C7 /1 (memory): CMPXCHG8B / CMPXCHG16B
  const addr = ea(c, i);
  const R = c.r;
  if (i.size === 8) {
    if (addr % 16 !== 0) c.fault(13, 0);
    const m0 = c.rdRmw(addr, 8), m1 = c.hi;
    const m2 = c.rdRmw(addr + 8, 8), m3 = c.hi;
    if (m0 === R[0] >>> 0 && m1 === R[1] >>> 0 && m2 === R[4] >>> 0 && m3 === R[5] >>> 0) {
      c.wr64(addr, R[6], R[7]);
      c.wr64(addr + 8, R[2], R[3]);
      c.fl.setBit(ZF, true);
    } else {
      c.wr64(addr, m0, m1);
      c.wr64(addr + 8, m2, m3);
      R[0] = m0; R[1] = m1; R[4] = m2; R[5] = m3;
      c.fl.setBit(ZF, false);
    }
    return;
  }
  const m0 = c.rdRmw(addr, 8), m1 = c.hi;
  if (m0 === R[0] >>> 0 && m1 === R[4] >>> 0) {
    c.wr64(addr, R[6], R[2]);
    c.fl.setBit(ZF, true);
  } else {
    c.wr64(addr, m0, m1);
    R[0] = m0; R[4] = m1;
    if (c.codeSize === 64) { R[1] = 0; R[5] = 0; }
    c.fl.setBit(ZF, false);
  }
}

export function registerBits(h: Handler[]): void {
  h[0x1a3] = h[0x1ab] = h[0x1b3] = h[0x1bb] = btReg;
  h[0x1bc] = h[0x1bd] = bsfBsr;
  h[0x1b8] = popcnt;
  h[0x1b0] = h[0x1b1] = cmpxchg;
  h[0x1c0] = h[0x1c1] = xadd;
}

/** 0F BA by ModRM.reg digit, and 0F C7 /1 (its register digits are RDRAND/RDSEED, OP_RDRAND). */
export function registerBitsForms(set: FormSetter): void {
  for (let op = 0; op < 4; op++) set([0x1ba], 4 + op, btImm(op));
  set([0x1c7], 1, cmpxchg8b);
}
