import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { alu } from './alu.js';
import { DF, IOPL } from './flags.js';
import { SEG_ES } from './insn.js';

/** Iterations per step() for REP-prefixed strings, so interrupts and stop requests get a turn. */
const REP_CHUNK = 4096;
const TWO32 = 4294967296;

function getIdx(c: X86Cpu, n: number, asize: number): number {
  const r = c.r;
  if (asize === 8) return r[2 * n + 1] * TWO32 + (r[2 * n] >>> 0);
  return asize === 4 ? r[2 * n] >>> 0 : r[2 * n] & 0xffff;
}
function setIdx(c: X86Cpu, n: number, asize: number, v: number): void {
  const r = c.r;
  if (asize === 8) { r[2 * n] = v >>> 0; r[2 * n + 1] = Math.floor(v / TWO32) | 0; }
  else if (asize === 4) { r[2 * n] = v >>> 0; r[2 * n + 1] = 0; }
  else r[2 * n] = (r[2 * n] & ~0xffff) | (v & 0xffff);
}
function getCount(c: X86Cpu, asize: number): number {
  const r = c.r;
  if (asize === 8) return (r[3] >>> 0) * TWO32 + (r[2] >>> 0);
  return asize === 4 ? r[2] >>> 0 : r[2] & 0xffff;
}
function lin(c: X86Cpu, seg: number, off: number): number {
  if (c.codeSize === 64) return seg >= 4 ? off + c.segBase[seg] : off;
  return (c.segBase[seg] + off) >>> 0;
}
function step(c: X86Cpu, v: number, delta: number, asize: number): number {
  const n = v + delta;
  return asize === 8 ? n : asize === 4 ? n >>> 0 : n & 0xffff;
}

/**
 * Run a string operation `body` once, or under REP up to a chunk of iterations. body returns false
 * to stop a REPE/REPNE loop. Registers are written back every iteration so faults restart exactly.
 */
function repeat(c: X86Cpu, i: Insn, body: (c: X86Cpu, i: Insn, delta: number) => boolean, conditional: boolean): void {
  const size = i.size;
  const delta = c.fl.bits & DF ? -size : size;
  if (i.rep === 0) { body(c, i, delta); return; }
  const asize = i.asize;
  let count = getCount(c, asize);
  let n = 0;
  while (count !== 0) {
    const go = body(c, i, delta);
    count--;
    setIdx(c, 1, asize, count);
    if (conditional && !go) return;
    if (++n >= REP_CHUNK && count !== 0) { c.nextRip = c.rip; return; }
  }
}

function movsBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const si = getIdx(c, 6, a), di = getIdx(c, 7, a);
  const v = c.rdSize(lin(c, i.seg, si), i.size);
  c.wrSize(lin(c, SEG_ES, di), i.size, v, c.hi);
  setIdx(c, 6, a, step(c, si, delta, a));
  setIdx(c, 7, a, step(c, di, delta, a));
  return true;
}
function stosBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const di = getIdx(c, 7, a);
  const v = c.getReg(0, i.size, 0);
  c.wrSize(lin(c, SEG_ES, di), i.size, v, c.hi);
  setIdx(c, 7, a, step(c, di, delta, a));
  return true;
}
function lodsBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const si = getIdx(c, 6, a);
  const v = c.rdSize(lin(c, i.seg, si), i.size);
  c.setReg(0, i.size, v, c.hi, 0);
  setIdx(c, 6, a, step(c, si, delta, a));
  return true;
}
function cmpsBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const si = getIdx(c, 6, a), di = getIdx(c, 7, a);
  const x = c.rdSize(lin(c, i.seg, si), i.size), xh = c.hi;
  const y = c.rdSize(lin(c, SEG_ES, di), i.size), yh = c.hi;
  alu(c, 7, i.size, x, xh, y, yh);
  setIdx(c, 6, a, step(c, si, delta, a));
  setIdx(c, 7, a, step(c, di, delta, a));
  return (c.fl.zf() !== 0) === (i.rep === 1);
}
function scasBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const di = getIdx(c, 7, a);
  const x = c.getReg(0, i.size, 0), xh = c.hi;
  const y = c.rdSize(lin(c, SEG_ES, di), i.size), yh = c.hi;
  alu(c, 7, i.size, x, xh, y, yh);
  setIdx(c, 7, a, step(c, di, delta, a));
  return (c.fl.zf() !== 0) === (i.rep === 1);
}

function ioAllowed(c: X86Cpu): void {
  if (c.cr0 & 1 && c.cpl > (c.fl.bits & IOPL) >> 12) c.fault(13, 0);
}
function ioSize(i: Insn): 1 | 2 | 4 {
  return i.size === 1 ? 1 : i.size === 2 ? 2 : 4;
}
function insBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const di = getIdx(c, 7, a);
  const addr = lin(c, SEG_ES, di);
  // Probe the destination before the port read, which may have side effects.
  c.wrSize(addr, i.size, c.rdSize(addr, i.size), c.hi);
  const v = c.ports.read(c.r[4] & 0xffff, ioSize(i));
  c.wrSize(addr, i.size, v, 0);
  setIdx(c, 7, a, step(c, di, delta, a));
  return true;
}
function outsBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const si = getIdx(c, 6, a);
  const v = c.rdSize(lin(c, i.seg, si), i.size);
  c.ports.write(c.r[4] & 0xffff, ioSize(i), v);
  setIdx(c, 6, a, step(c, si, delta, a));
  return true;
}

function movs(c: X86Cpu, i: Insn): void { repeat(c, i, movsBody, false); }
function stos(c: X86Cpu, i: Insn): void { repeat(c, i, stosBody, false); }
function lods(c: X86Cpu, i: Insn): void { repeat(c, i, lodsBody, false); }
function cmps(c: X86Cpu, i: Insn): void { repeat(c, i, cmpsBody, true); }
function scas(c: X86Cpu, i: Insn): void { repeat(c, i, scasBody, true); }
function ins(c: X86Cpu, i: Insn): void { ioAllowed(c); repeat(c, i, insBody, false); }
function outs(c: X86Cpu, i: Insn): void { ioAllowed(c); repeat(c, i, outsBody, false); }

function inOut(c: X86Cpu, i: Insn): void { // E4-E7, EC-EF
  ioAllowed(c);
  const port = i.op < 0xe8 ? i.imm & 0xff : c.r[4] & 0xffff;
  const size = ioSize(i);
  if ((i.op & 2) === 0) {
    const v = c.ports.read(port, size);
    c.setReg(0, size, v, 0, 0);
  } else {
    c.ports.write(port, size, c.getReg(0, size, 0));
  }
}

export function registerString(h: Handler[]): void {
  h[0xa4] = h[0xa5] = movs;
  h[0xa6] = h[0xa7] = cmps;
  h[0xaa] = h[0xab] = stos;
  h[0xac] = h[0xad] = lods;
  h[0xae] = h[0xaf] = scas;
  h[0x6c] = h[0x6d] = ins;
  h[0x6e] = h[0x6f] = outs;
  h[0xe4] = h[0xe5] = h[0xe6] = h[0xe7] = inOut;
  h[0xec] = h[0xed] = h[0xee] = h[0xef] = inOut;
}
