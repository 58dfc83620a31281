import type { FormSetter, Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea, immLo, immHi } from './operands.js';
import { loadSegment } from './segments.js';
import { SEG_SS } from './insn.js';
import { ACC_READ, checkSegAccess } from './segment-check.js';

/** 32/64-bit register-to-register move on the int32 halves (the common case, nothing boxed). */
function movRR(c: X86Cpu, size: number, d: number, s: number): void {
  const r = c.r;
  r[2 * d] = r[2 * s];
  r[2 * d + 1] = size === 8 ? r[2 * s + 1] : 0;
}

function movEG(c: X86Cpu, i: Insn): void { // 88/89
  const size = i.size;
  if (size >= 4 && !i.isMem) { movRR(c, size, i.rm, i.reg); return; }
  const v = c.getReg(i.reg, size, i.rex);
  if (i.isMem) c.wrSize(ea(c, i), size, v, c.hi);
  else c.setReg(i.rm, size, v, c.hi, i.rex);
}

function movGE(c: X86Cpu, i: Insn): void { // 8A/8B
  const size = i.size;
  if (size >= 4) {
    if (!i.isMem) { movRR(c, size, i.reg, i.rm); return; }
    // Loads go straight into the register halves as int32 bit patterns (nothing boxed).
    const addr = ea(c, i);
    const r = c.r;
    if (size === 4) { r[2 * i.reg] = c.rdI32(addr); r[2 * i.reg + 1] = 0; }
    else { const lo = c.rdI64(addr); r[2 * i.reg] = lo; r[2 * i.reg + 1] = c.hi; }
    return;
  }
  const v = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, i.rex);
  c.setReg(i.reg, size, v, c.hi, i.rex);
}

function movEI(c: X86Cpu, i: Insn): void { // C6/C7
  const size = i.size;
  const v = immLo(i, size);
  if (i.isMem) c.wrSize(ea(c, i), size, v, immHi(i));
  else c.setReg(i.rm, size, v, immHi(i), i.rex);
}

function movRI8(c: X86Cpu, i: Insn): void { // B0-B7
  c.setReg((i.op & 7) | ((i.rex & 1) << 3), 1, i.imm, 0, i.rex);
}

function movRI(c: X86Cpu, i: Insn): void { // B8-BF
  const n = (i.op & 7) | ((i.rex & 1) << 3);
  c.setReg(n, i.size, i.imm, i.size === 8 ? i.imm2 : 0, i.rex);
}

function movMoffs(c: X86Cpu, i: Insn): void { // A0-A3
  const size = i.size;
  const addr = ea(c, i);
  if (i.op <= 0xa1) {
    const v = c.rdSize(addr, size);
    c.setReg(0, size, v, c.hi, 0);
  } else {
    const v = c.getReg(0, size, 0);
    c.wrSize(addr, size, v, c.hi);
  }
}

function lea(c: X86Cpu, i: Insn): void {
  // The effective address without segment base, truncated to operand size.
  const seg = i.seg;
  const saveBase = c.segBase[seg];
  c.segBase[seg] = 0;
  const codeSize = c.codeSize;
  let addr: number;
  try {
    if (i.asize === 8) {
      // No canonical check for LEA: compute the raw 64-bit sum.
      addr = rawEa64(c, i);
    } else addr = ea(c, i);
  } finally {
    c.segBase[seg] = saveBase;
  }
  void codeSize;
  if (i.size === 8) c.setReg(i.reg, 8, addr >>> 0, i.asize === 8 ? c.hi : 0, i.rex);
  else c.setReg(i.reg, i.size, addr >>> 0, 0, i.rex);
}

const TWO32 = 4294967296;
/** 64-bit effective address as lo (returned) / hi (c.hi), without canonical checks. */
function rawEa64(c: X86Cpu, i: Insn): number {
  const r = c.r;
  let lo: number, hi: number;
  if (i.ripRel) {
    const v = c.nextRip + i.disp;
    lo = v >>> 0; hi = Math.floor(v / TWO32);
  } else {
    lo = i.disp >>> 0; hi = i.dispHi;
    if (i.base >= 0) { lo += r[2 * i.base] >>> 0; hi += r[2 * i.base + 1]; }
    if (i.index >= 0) { const m = 1 << i.scale; lo += (r[2 * i.index] >>> 0) * m; hi += r[2 * i.index + 1] * m; }
    hi += Math.floor(lo / TWO32);
  }
  c.hi = hi >>> 0;
  return lo >>> 0;
}

function movzx(c: X86Cpu, i: Insn): void { // 0F B6/B7
  const srcSize = i.op === 0x1b6 ? 1 : 2;
  const v = i.isMem ? c.rdSize(ea(c, i), srcSize) : c.getReg(i.rm, srcSize, i.rex);
  c.setReg(i.reg, i.size, v, 0, i.rex);
}

function movsx(c: X86Cpu, i: Insn): void { // 0F BE/BF
  const srcSize = i.op === 0x1be ? 1 : 2;
  const v = i.isMem ? c.rdSize(ea(c, i), srcSize) : c.getReg(i.rm, srcSize, i.rex);
  const s = srcSize === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
  c.setReg(i.reg, i.size, i.size === 2 ? s & 0xffff : s >>> 0, (s >> 31) >>> 0, i.rex);
}

function movsxd(c: X86Cpu, i: Insn): void { // 63 in long mode
  if (c.codeSize !== 64) { arpl(c, i); return; }
  const v = i.isMem ? c.rdSize(ea(c, i), 4) : c.getReg(i.rm, 4, i.rex);
  if (i.size === 8) c.setReg(i.reg, 8, v, ((v | 0) >> 31) >>> 0, i.rex);
  else c.setReg(i.reg, i.size, v, 0, i.rex);
}

/**
 * ARPL r/m16, r16 (63 outside 64-bit mode; #UD in real and virtual-8086 mode): raise the destination
 * selector's RPL to the source's, ZF=1 when it was raised. A memory destination is always written back
 * (a read-modify-write, as QEMU does and segment-check.ts classifies it).
 */
function arpl(c: X86Cpu, i: Insn): void {
  if (!(c.cr0 & 1) || c.fl.get() & 0x20000) { c.fault(6); return; }
  const rpl = c.getReg(i.reg, 2, i.rex) & 3;
  const addr = i.isMem ? ea(c, i) : 0;
  const dst = i.isMem ? c.rdSize(addr, 2) : c.getReg(i.rm, 2, i.rex);
  const raise = (dst & 3) < rpl;
  const v = raise ? (dst & ~3) | rpl : dst;
  if (i.isMem) c.wrSize(addr, 2, v, 0);
  else c.setReg(i.rm, 2, v, 0, i.rex);
  c.fl.setBit(0x40, raise);
}

function xchgEG(c: X86Cpu, i: Insn): void { // 86/87
  const size = i.size;
  const a = c.getReg(i.reg, size, i.rex);
  const ah = c.hi;
  if (i.isMem) {
    const addr = ea(c, i);
    const b = c.rdRmw(addr, size);
    const bh = c.hi;
    c.wrSize(addr, size, a, ah);
    c.setReg(i.reg, size, b, bh, i.rex);
  } else {
    const b = c.getReg(i.rm, size, i.rex);
    const bh = c.hi;
    c.setReg(i.rm, size, a, ah, i.rex);
    c.setReg(i.reg, size, b, bh, i.rex);
  }
}

function xchgAx(c: X86Cpu, i: Insn): void { // 90-97
  const n = (i.op & 7) | ((i.rex & 1) << 3);
  if (n === 0) return; // 90 is NOP (and F3 90 is PAUSE), even with a 32-bit operand in long mode
  const size = i.size;
  const a = c.getReg(0, size, 0), ah = c.hi;
  const b = c.getReg(n, size, i.rex), bh = c.hi;
  c.setReg(0, size, b, bh, 0);
  c.setReg(n, size, a, ah, i.rex);
}

function bswap(c: X86Cpu, i: Insn): void { // 0F C8-CF
  const n = (i.op & 7) | ((i.rex & 1) << 3);
  const r = c.r;
  const sw = (v: number) => ((v >>> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)) >>> 0;
  if (i.size === 8) {
    const lo = r[2 * n], hi = r[2 * n + 1];
    r[2 * n] = sw(hi); r[2 * n + 1] = sw(lo);
  } else if (i.size === 4) {
    r[2 * n] = sw(r[2 * n]); r[2 * n + 1] = 0;
  } else {
    r[2 * n] = r[2 * n] & ~0xffff; // BSWAP r16 is undefined; real CPUs produce zero
  }
}

function cbw(c: X86Cpu, i: Insn): void { // 98: CBW/CWDE/CDQE
  const r = c.r;
  switch (i.size) {
    case 2: r[0] = (r[0] & ~0xffff) | (((r[0] << 24) >> 24) & 0xffff); break;
    case 4: r[0] = (r[0] << 16) >> 16; r[1] = 0; break;
    default: r[1] = r[0] >> 31; break;
  }
}

function cwd(c: X86Cpu, i: Insn): void { // 99: CWD/CDQ/CQO
  const r = c.r;
  switch (i.size) {
    case 2: r[4] = (r[4] & ~0xffff) | (((r[0] << 16) >> 31) & 0xffff); break;
    case 4: r[4] = r[0] >> 31; r[5] = 0; break;
    default: r[4] = r[5] = r[1] >> 31; break;
  }
}

function lahf(c: X86Cpu): void {
  const f = c.fl.get();
  c.r[0] = (c.r[0] & ~0xff00) | ((f & 0xd5 | 2) << 8);
}
function sahf(c: X86Cpu): void {
  const f = c.fl.get();
  c.fl.set((f & ~0xd5) | ((c.r[0] >> 8) & 0xd5));
}

function cmov(c: X86Cpu, i: Insn): void { // 0F 40-4F
  const size = i.size;
  const v = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, i.rex);
  const vh = c.hi;
  if (c.fl.cond(i.op & 15)) c.setReg(i.reg, size, v, vh, i.rex);
  else if (size === 4) c.r[2 * i.reg + 1] = 0; // 32-bit CMOV always zero-extends
}

function setcc(c: X86Cpu, i: Insn): void { // 0F 90-9F
  const v = c.fl.cond(i.op & 15) ? 1 : 0;
  if (i.isMem) c.wr8(ea(c, i), v);
  else c.setReg(i.rm, 1, v, 0, i.rex);
}

function xlat(c: X86Cpu, i: Insn): void { // D7
  const r = c.r;
  let off: number;
  if (i.asize === 8) off = c.regNum(3) + (r[0] & 0xff);
  else if (i.asize === 4) off = ((r[6] >>> 0) + (r[0] & 0xff)) >>> 0;
  else off = ((r[6] & 0xffff) + (r[0] & 0xff)) & 0xffff;
  if (c.codeSize !== 64 && c.segChecked[i.seg] !== 0) checkSegAccess(c, i.seg, off, 1, ACC_READ);
  const lin = c.codeSize === 64 ? off + (i.seg >= 4 ? c.segBase[i.seg] : 0) : (c.segBase[i.seg] + off) >>> 0;
  const v = c.rd8(lin);
  r[0] = (r[0] & ~0xff) | v;
}

function movSregToE(c: X86Cpu, i: Insn): void { // 8C
  const v = c.segSel[i.reg & 7];
  if (i.isMem) c.wr16(ea(c, i), v);
  else c.setReg(i.rm, i.size === 8 ? 8 : i.size === 2 ? 2 : 4, v, 0, i.rex);
}

function movEToSreg(c: X86Cpu, i: Insn): void { // 8E
  const s = i.reg & 7;
  const v = i.isMem ? c.rd16(ea(c, i)) : c.getReg(i.rm, 2, i.rex);
  loadSegment(c, s, v);
  if (s === SEG_SS) c.shadow = true;
}

/** MOV r/m, imm (C6/C7 /0: the other digits are #UD). */
export function registerMoveForms(set: FormSetter): void {
  set([0xc6, 0xc7], 0, movEI);
}

export function registerMove(h: Handler[]): void {
  h[0x88] = h[0x89] = movEG;
  h[0x8a] = h[0x8b] = movGE;
  for (let k = 0; k < 8; k++) { h[0xb0 + k] = movRI8; h[0xb8 + k] = movRI; h[0x90 + k] = xchgAx; h[0x1c8 + k] = bswap; }
  h[0xa0] = h[0xa1] = h[0xa2] = h[0xa3] = movMoffs;
  h[0x8d] = lea;
  h[0x1b6] = h[0x1b7] = movzx;
  h[0x1be] = h[0x1bf] = movsx;
  h[0x63] = movsxd;
  h[0x86] = h[0x87] = xchgEG;
  h[0x98] = cbw;
  h[0x99] = cwd;
  h[0x9e] = sahf;
  h[0x9f] = lahf;
  for (let k = 0; k < 16; k++) { h[0x140 + k] = cmov; h[0x190 + k] = setcc; }
  h[0xd7] = xlat;
  h[0x8c] = movSregToE;
  h[0x8e] = movEToSreg;
}
