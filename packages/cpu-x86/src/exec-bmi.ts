// The integer extensions a CPU model may advertise (isa.ts): MOVBE, TZCNT/LZCNT, the VEX-encoded BMI1
// (ANDN BEXTR BLSI BLSMSK BLSR) and BMI2 (BZHI MULX PDEP PEXT RORX SARX SHLX SHRX) groups, RDRAND and
// RDSEED. 64-bit values travel as two uint32 halves; the helpers leave a result's high half in H.
import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { AF, ARITH, CF, PF, SF, ZF } from './flags.js';
import { mul32, mul64, W } from './muldiv.js';
import { OP_LZCNT, OP_RDRAND, OP_TZCNT, OP_VEX_0F38, OP_VEX_0F3A } from './isa.js';

/** High half of the last 64-bit helper result. */
let H = 0;

function shr64(lo: number, hi: number, n: number): number {
  if (n === 0) { H = hi >>> 0; return lo >>> 0; }
  if (n < 32) { H = hi >>> n; return ((lo >>> n) | (hi << (32 - n))) >>> 0; }
  H = 0;
  return hi >>> (n - 32);
}
function shl64(lo: number, hi: number, n: number): number {
  if (n === 0) { H = hi >>> 0; return lo >>> 0; }
  if (n < 32) { H = ((hi << n) | (lo >>> (32 - n))) >>> 0; return (lo << n) >>> 0; }
  H = (lo << (n - 32)) >>> 0;
  return 0;
}
function sar64(lo: number, hi: number, n: number): number {
  if (n === 0) { H = hi >>> 0; return lo >>> 0; }
  if (n < 32) { H = (hi >> n) >>> 0; return ((lo >>> n) | (hi << (32 - n))) >>> 0; }
  H = (hi >> 31) >>> 0;
  return (hi >> (n - 32)) >>> 0;
}

/** The r/m source (low half returned, high half in c.hi; 0 for 32-bit operands). */
function rmSource(c: X86Cpu, i: Insn, size: number): number {
  const lo = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, 0);
  if (size !== 8) c.hi = 0;
  return lo;
}
function regSource(c: X86Cpu, n: number, size: number): number {
  const lo = c.getReg(n, size, 0);
  if (size !== 8) c.hi = 0;
  return lo;
}

/** VEX-encoded instructions are not recognised in real-address mode (SDM: "#UD in real-address mode"). */
function vexMode(c: X86Cpu): void {
  if ((c.cr0 & 1) === 0) c.fault(6);
}

function andn(c: X86Cpu, i: Insn): void { // VEX.0F38 F2: reg = ~vvvv & r/m
  vexMode(c);
  const size = i.size;
  const a = regSource(c, i.vvvv, size), ah = c.hi;
  const b = rmSource(c, i, size), bh = c.hi;
  const r = (~a & b) >>> 0, rh = (~ah & bh) >>> 0;
  c.setReg(i.reg, size, r, rh, 0);
  c.fl.setResult(size, r, rh, 0, 0); // SF ZF (and PF, as AMD hardware) per result; CF OF AF cleared
}

function blsGroup(c: X86Cpu, i: Insn): void { // VEX.0F38 F3 /1 BLSR, /2 BLSMSK, /3 BLSI: vvvv = f(r/m)
  vexMode(c);
  const size = i.size;
  const s = rmSource(c, i, size), sh = c.hi;
  const zero = s === 0 && sh === 0;
  // s - 1 and -s over 64 bits (a 32-bit operand has sh = 0: the high halves are dropped by setReg).
  const mlo = (s - 1) >>> 0, mhi = s === 0 ? (sh - 1) >>> 0 : sh;
  let r: number, rh: number, cf: number;
  switch (i.reg & 7) {
    case 1: r = s & mlo; rh = sh & mhi; cf = zero ? 1 : 0; break;
    case 2: r = s ^ mlo; rh = sh ^ mhi; cf = zero ? 1 : 0; break;
    default: r = s & -s; rh = sh & (s === 0 ? -sh : ~sh); cf = zero ? 0 : 1; break;
  }
  if (size !== 8) rh = 0;
  c.setReg(i.vvvv, size, r >>> 0, rh >>> 0, 0);
  c.fl.setResult(size, r >>> 0, rh >>> 0, cf, 0);
}

function bzhiPextPdep(c: X86Cpu, i: Insn): void { // VEX.0F38 F5: BZHI (np), PEXT (F3), PDEP (F2)
  vexMode(c);
  const size = i.size;
  if (i.rep === 0) {
    const n = c.getReg(i.vvvv, 4, 0) & 0xff;
    let r = rmSource(c, i, size), rh = c.hi;
    const bits = size * 8;
    if (n < bits) {
      if (n < 32) { r = n === 0 ? 0 : r & (0xffffffff >>> (32 - n)); rh = 0; }
      else rh = n === 32 ? 0 : rh & (0xffffffff >>> (64 - n));
    }
    c.setReg(i.reg, size, r >>> 0, rh >>> 0, 0);
    c.fl.setResult(size, r >>> 0, rh >>> 0, n > bits - 1 ? 1 : 0, 0);
    return;
  }
  const s = regSource(c, i.vvvv, size), sh = c.hi;
  const m = rmSource(c, i, size), mh = c.hi;
  let r = 0, rh = 0, k = 0;
  if (i.rep === 2) {
    // PDEP: the low source bits, in order, to the positions of the mask's set bits.
    for (let w = 0; w < 2; w++) {
      let mw = w === 0 ? m : mh;
      while (mw !== 0) {
        const low = mw & -mw;
        if (((k < 32 ? s >>> k : sh >>> (k - 32)) & 1) !== 0) { if (w === 0) r |= low; else rh |= low; }
        k++;
        mw ^= low;
      }
    }
  } else {
    // PEXT: the source bits at the mask's set bits, packed into the low bits.
    for (let w = 0; w < 2; w++) {
      let mw = w === 0 ? m : mh;
      const sw = w === 0 ? s : sh;
      while (mw !== 0) {
        const low = mw & -mw;
        if ((sw & low) !== 0) { if (k < 32) r |= 1 << k; else rh |= 1 << (k - 32); }
        k++;
        mw ^= low;
      }
    }
  }
  c.setReg(i.reg, size, r >>> 0, rh >>> 0, 0); // flags unaffected
}

function mulx(c: X86Cpu, i: Insn): void { // VEX.F2.0F38 F6: reg:vvvv = EDX/RDX * r/m, flags unaffected
  vexMode(c);
  const size = i.size;
  const b = rmSource(c, i, size), bh = c.hi;
  const a = regSource(c, 2, size), ah = c.hi;
  if (size === 8) {
    mul64(a, ah, b, bh);
    const lo = W[0], lh = W[1], hi = W[2], hh = W[3];
    c.setReg(i.vvvv, 8, lo, lh, 0);
    c.setReg(i.reg, 8, hi, hh, 0); // same register twice: it gets the high half
  } else {
    mul32(a, b);
    const lo = W[0], hi = W[1];
    c.setReg(i.vvvv, 4, lo, 0, 0);
    c.setReg(i.reg, 4, hi, 0, 0);
  }
}

function bextrShifts(c: X86Cpu, i: Insn): void { // VEX.0F38 F7: BEXTR (np), SHLX (66), SARX (F3), SHRX (F2)
  vexMode(c);
  const size = i.size;
  const bits = size * 8;
  const s = rmSource(c, i, size), sh = c.hi;
  const ctl = c.getReg(i.vvvv, 4, 0);
  let r: number;
  if (!i.opsizePrefix && i.rep === 0) {
    const start = ctl & 0xff, len = (ctl >>> 8) & 0xff;
    r = 0; H = 0;
    if (start < bits) {
      r = shr64(s, sh, start);
      if (len < 32) { r = len === 0 ? 0 : r & (0xffffffff >>> (32 - len)); H = 0; }
      else if (len < 64) H = len === 32 ? 0 : H & (0xffffffff >>> (64 - len));
    }
    if (size !== 8) H = 0;
    c.setReg(i.reg, size, r >>> 0, H, 0);
    c.fl.setResult(size, r >>> 0, H, 0, 0); // ZF per result; CF OF cleared; SF PF AF undefined
    return;
  }
  const n = ctl & (bits - 1);
  if (size === 8) {
    r = i.opsizePrefix ? shl64(s, sh, n) : i.rep === 1 ? sar64(s, sh, n) : shr64(s, sh, n);
    c.setReg(i.reg, 8, r, H, 0);
  } else {
    r = i.opsizePrefix ? s << n : i.rep === 1 ? (s | 0) >> n : s >>> n;
    c.setReg(i.reg, 4, r >>> 0, 0, 0);
  }
}

function rorx(c: X86Cpu, i: Insn): void { // VEX.F2.0F3A F0: reg = r/m rotated right by imm8, flags unaffected
  vexMode(c);
  const size = i.size;
  const s = rmSource(c, i, size), sh = c.hi;
  if (size === 8) {
    const n = i.imm & 63;
    if (n === 0) { c.setReg(i.reg, 8, s, sh, 0); return; }
    const a = shr64(s, sh, n), ah = H;
    const b = shl64(s, sh, 64 - n), bh = H;
    c.setReg(i.reg, 8, (a | b) >>> 0, (ah | bh) >>> 0, 0);
  } else {
    const n = i.imm & 31;
    c.setReg(i.reg, 4, ((s >>> n) | (s << ((32 - n) & 31))) >>> 0, 0, 0);
  }
}

function bswap32(v: number): number {
  return ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)) >>> 0;
}

function movbe(c: X86Cpu, i: Insn): void { // 0F 38 F0 (load) / F1 (store): MOV with bytes reversed
  const size = i.size;
  const addr = ea(c, i);
  let lo: number, hi: number;
  if (i.op === 0x2f0) { lo = c.rdSize(addr, size); hi = size === 8 ? c.hi : 0; }
  else { lo = c.getReg(i.reg, size, 0); hi = size === 8 ? c.hi : 0; }
  let r: number, rh = 0;
  if (size === 8) { r = bswap32(hi); rh = bswap32(lo); }
  else if (size === 4) r = bswap32(lo);
  else r = ((lo >>> 8) & 0xff) | ((lo & 0xff) << 8);
  if (i.op === 0x2f0) c.setReg(i.reg, size, r, rh, 0);
  else c.wrSize(addr, size, r, rh);
}

/** TZCNT/LZCNT: CF = source was zero, ZF = result is zero; OF kept, SF/AF/PF cleared (as the host does). */
function countFlags(c: X86Cpu, cf: boolean, zf: boolean): void {
  c.fl.set((c.fl.get() & ~(CF | PF | AF | ZF | SF)) | (cf ? CF : 0) | (zf ? ZF : 0));
}

function tzcnt(c: X86Cpu, i: Insn): void { // F3 0F BC (BMI1)
  const size = i.size;
  const lo = rmSource(c, i, size), hi = c.hi;
  let n: number;
  if (lo !== 0) n = 31 - Math.clz32(lo & -lo);
  else if (hi !== 0) n = 63 - Math.clz32(hi & -hi);
  else n = size * 8;
  countFlags(c, n === size * 8, n === 0);
  c.setReg(i.reg, size, n, 0, 0);
}

function lzcnt(c: X86Cpu, i: Insn): void { // F3 0F BD (LZCNT / ABM)
  const size = i.size;
  const lo = rmSource(c, i, size), hi = c.hi;
  let n: number;
  if (size === 8) n = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
  else n = Math.clz32(lo) - (32 - size * 8);
  countFlags(c, n === size * 8, n === 0);
  c.setReg(i.reg, size, n, 0, 0);
}

/**
 * RDRAND/RDSEED values: xoshiro128** per CPU, from a fixed seed, so a machine run twice reads the
 * same "random" numbers (deterministic replays and tests); snapshots carry the state.
 */
const rngStates = new WeakMap<X86Cpu, Uint32Array>();

/** The CPU's RDRAND/RDSEED generator state (4 words; snapshots save it). */
export function rdrandState(c: X86Cpu): Uint32Array {
  let s = rngStates.get(c);
  if (s === undefined) {
    s = Uint32Array.of(0x9e3779b9, 0x243f6a88, 0xb7e15162, 0x5eed1234);
    rngStates.set(c, s);
  }
  return s;
}

function nextRandom(c: X86Cpu): number {
  const s = rdrandState(c);
  const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
  const t = s[1] << 9;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function rdrand(c: X86Cpu, i: Insn): void { // 0F C7 /6 RDRAND, /7 RDSEED (register forms)
  const size = i.size;
  const lo = nextRandom(c);
  const hi = size === 8 ? nextRandom(c) : 0;
  c.setReg(i.rm, size, lo, hi, 0);
  // A value is always available: CF=1; OF SF ZF AF PF cleared (SDM RDRAND/RDSEED "Flags Affected").
  c.fl.set((c.fl.get() & ~ARITH) | CF);
}

export function registerBmi(h: Handler[]): void {
  h[0x2f0] = h[0x2f1] = movbe;
  h[OP_TZCNT] = tzcnt;
  h[OP_LZCNT] = lzcnt;
  h[OP_RDRAND] = rdrand;
  h[OP_VEX_0F38 | 0xf2] = andn;
  h[OP_VEX_0F38 | 0xf3] = blsGroup;
  h[OP_VEX_0F38 | 0xf5] = bzhiPextPdep;
  h[OP_VEX_0F38 | 0xf6] = mulx;
  h[OP_VEX_0F38 | 0xf7] = bextrShifts;
  h[OP_VEX_0F3A | 0xf0] = rorx;
}
