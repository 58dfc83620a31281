import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { alu } from './alu.js';
import { DF, IOPL, RF, TF } from './flags.js';
import { DBG_IO, noteIoAccess } from './debug.js';
import { checkIoPermission } from './system-io.js';
import { SEG_ES } from './insn.js';
import { ACC_READ, ACC_WRITE, checkSegAccess, segAccessOk } from './segment-check.js';

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
/** Linear address of element `off` of `size` bytes; outside 64-bit mode with the segment check (ACC_*). */
function lin(c: X86Cpu, seg: number, off: number, size: number, kind: number): number {
  if (c.codeSize === 64) return seg >= 4 ? off + c.segBase[seg] : off;
  if (c.segChecked[seg] !== 0) checkSegAccess(c, seg, off, size, kind);
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
    // A breakpoint hit or single step traps after this iteration (SDM §18.3.1.2-4); so does the chunk end.
    if ((++n >= REP_CHUNK || c.dbg.trigger !== 0 || c.fl.bits & TF) && count !== 0) { resumeLater(c); return; }
  }
}

/**
 * Stop a REP string between iterations: it restarts at the same RIP. While breakpoints are armed RF
 * is set, so an event taken here pushes RF=1 and the restart skips instruction breakpoints (SDM
 * §18.3.1.1); otherwise RF has no effect and is left clear, as QEMU 7.2 does (debug.ts).
 */
function resumeLater(c: X86Cpu): void {
  c.nextRip = c.rip;
  if (c.debugMode !== 0) c.fl.bits |= RF;
}

function movsBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const si = getIdx(c, 6, a), di = getIdx(c, 7, a);
  const src = lin(c, i.seg, si, i.size, ACC_READ), dst = lin(c, SEG_ES, di, i.size, ACC_WRITE);
  const v = c.rdSize(src, i.size);
  c.wrSize(dst, i.size, v, c.hi);
  setIdx(c, 6, a, step(c, si, delta, a));
  setIdx(c, 7, a, step(c, di, delta, a));
  return true;
}
function stosBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const di = getIdx(c, 7, a);
  const v = c.getReg(0, i.size, 0);
  c.wrSize(lin(c, SEG_ES, di, i.size, ACC_WRITE), i.size, v, c.hi);
  setIdx(c, 7, a, step(c, di, delta, a));
  return true;
}
function lodsBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const si = getIdx(c, 6, a);
  const v = c.rdSize(lin(c, i.seg, si, i.size, ACC_READ), i.size);
  c.setReg(0, i.size, v, c.hi, 0);
  setIdx(c, 6, a, step(c, si, delta, a));
  return true;
}
function cmpsBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const si = getIdx(c, 6, a), di = getIdx(c, 7, a);
  const x = c.rdSize(lin(c, i.seg, si, i.size, ACC_READ), i.size), xh = c.hi;
  const y = c.rdSize(lin(c, SEG_ES, di, i.size, ACC_READ), i.size), yh = c.hi;
  alu(c, 7, i.size, x, xh, y, yh);
  setIdx(c, 6, a, step(c, si, delta, a));
  setIdx(c, 7, a, step(c, di, delta, a));
  return (c.fl.zf() !== 0) === (i.rep === 1);
}
function scasBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const di = getIdx(c, 7, a);
  const x = c.getReg(0, i.size, 0), xh = c.hi;
  const y = c.rdSize(lin(c, SEG_ES, di, i.size, ACC_READ), i.size), yh = c.hi;
  alu(c, 7, i.size, x, xh, y, yh);
  setIdx(c, 7, a, step(c, di, delta, a));
  return (c.fl.zf() !== 0) === (i.rep === 1);
}

function ioAllowed(c: X86Cpu, port: number, size: number): void {
  if (c.cr0 & 1 && c.cpl > (c.fl.bits & IOPL) >> 12) checkIoPermission(c, port, size);
}
/** The access size of IN/OUT/INS/OUTS: byte, word or dword (no 64-bit port access). */
export function ioSize(i: Insn): 1 | 2 | 4 {
  return i.size === 1 ? 1 : i.size === 2 ? 2 : 4;
}
function insBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const di = getIdx(c, 7, a);
  const addr = lin(c, SEG_ES, di, i.size, ACC_WRITE);
  // Probe the destination before the port read, which may have side effects.
  c.wrSize(addr, i.size, c.rdSize(addr, i.size), c.hi);
  const v = c.ports.read(c.r[4] & 0xffff, ioSize(i));
  if (c.debugMode & DBG_IO) noteIoAccess(c, c.r[4] & 0xffff, ioSize(i));
  c.wrSize(addr, i.size, v, 0);
  setIdx(c, 7, a, step(c, di, delta, a));
  return true;
}
function outsBody(c: X86Cpu, i: Insn, delta: number): boolean {
  const a = i.asize;
  const si = getIdx(c, 6, a);
  const v = c.rdSize(lin(c, i.seg, si, i.size, ACC_READ), i.size);
  c.ports.write(c.r[4] & 0xffff, ioSize(i), v);
  if (c.debugMode & DBG_IO) noteIoAccess(c, c.r[4] & 0xffff, ioSize(i));
  setIdx(c, 6, a, step(c, si, delta, a));
  return true;
}

function movs(c: X86Cpu, i: Insn): void { if (!(i.rep !== 0 && bulkMovs(c, i))) repeat(c, i, movsBody, false); }
function stos(c: X86Cpu, i: Insn): void { if (!(i.rep !== 0 && bulkStos(c, i))) repeat(c, i, stosBody, false); }

/**
 * Fast path for REP STOS with DF=0: fill up to the end of the destination page with typed-array
 * writes instead of one dispatch per element. Returns false (nothing done) when the slow path must
 * run: crossing elements, MMIO, address wrap-around.
 */
function bulkStos(c: X86Cpu, i: Insn): boolean {
  if (c.fl.bits & (DF | TF) || c.alignCheck) return false; // #AC, breakpoints and single step: per element
  const size = i.size, a = i.asize;
  const count = getCount(c, a);
  if (count === 0) return true;
  const di = getIdx(c, 7, a);
  const l = lin(c, SEG_ES, di, size, ACC_WRITE);
  const room = 4096 - (l & 0xfff);
  let n = Math.min(count, Math.floor(room / size), REP_CHUNK);
  if (a !== 8) n = Math.min(n, Math.floor(((a === 4 ? TWO32 : 0x10000) - di) / size));
  if (n <= 0) return false;
  // A limited ES: the whole run must fit, else the element loop faults at the exact element.
  if (c.segChecked[SEG_ES] !== 0 && !segAccessOk(c, SEG_ES, di, n * size, ACC_WRITE)) return false;
  const pa = c.paging ? c.translate(l, 1 | c.accUser) : l;
  const bytes = n * size;
  if (pa + bytes > c.ramSize) return false;
  const v = c.getReg(0, size, 0), vh = c.hi;
  if (size === 1) c.u8.fill(v, pa, pa + bytes);
  else {
    const view = c.view;
    for (let k = 0; k < bytes; k += size) {
      if (size === 2) view.setUint16(pa + k, v, true);
      else { view.setUint32(pa + k, v, true); if (size === 8) view.setUint32(pa + k + 4, vh, true); }
    }
  }
  c.notePhysWrite(pa);
  setIdx(c, 7, a, di + bytes);
  setIdx(c, 1, a, count - n);
  if (count - n !== 0) resumeLater(c); // continue on the next page in the next step
  return true;
}

/** Fast path for REP MOVS with DF=0 within one source page and one destination page. */
function bulkMovs(c: X86Cpu, i: Insn): boolean {
  if (c.fl.bits & (DF | TF) || c.alignCheck) return false; // #AC, breakpoints and single step: per element
  const size = i.size, a = i.asize;
  const count = getCount(c, a);
  if (count === 0) return true;
  const si = getIdx(c, 6, a), di = getIdx(c, 7, a);
  const ls = lin(c, i.seg, si, size, ACC_READ), ld = lin(c, SEG_ES, di, size, ACC_WRITE);
  let n = Math.min(count, Math.floor((4096 - (ls & 0xfff)) / size), Math.floor((4096 - (ld & 0xfff)) / size), REP_CHUNK);
  if (a !== 8) {
    const lim = a === 4 ? TWO32 : 0x10000;
    n = Math.min(n, Math.floor((lim - si) / size), Math.floor((lim - di) / size));
  }
  if (n <= 0) return false;
  if ((c.segChecked[SEG_ES] | c.segChecked[i.seg]) !== 0 &&
    !(segAccessOk(c, i.seg, si, n * size, ACC_READ) && segAccessOk(c, SEG_ES, di, n * size, ACC_WRITE))) return false;
  const ps = c.paging ? c.translate(ls, c.accUser) : ls;
  const pd = c.paging ? c.translate(ld, 1 | c.accUser) : ld;
  const bytes = n * size;
  if (ps + bytes > c.ramSize || pd + bytes > c.ramSize) return false;
  const u8 = c.u8;
  if (pd <= ps || pd >= ps + bytes) u8.copyWithin(pd, ps, ps + bytes);
  else if (pd - ps < size) return false; // element-overlapping copy: keep exact element semantics
  else for (let k = 0; k < bytes; k++) u8[pd + k] = u8[ps + k]; // forward copy replicates like hardware
  c.notePhysWrite(pd);
  setIdx(c, 6, a, si + bytes);
  setIdx(c, 7, a, di + bytes);
  setIdx(c, 1, a, count - n);
  if (count - n !== 0) resumeLater(c);
  return true;
}
function lods(c: X86Cpu, i: Insn): void { repeat(c, i, lodsBody, false); }
function cmps(c: X86Cpu, i: Insn): void { repeat(c, i, cmpsBody, true); }
function scas(c: X86Cpu, i: Insn): void { repeat(c, i, scasBody, true); }
function ins(c: X86Cpu, i: Insn): void { ioAllowed(c, c.r[4] & 0xffff, ioSize(i)); repeat(c, i, insBody, false); }
function outs(c: X86Cpu, i: Insn): void { ioAllowed(c, c.r[4] & 0xffff, ioSize(i)); repeat(c, i, outsBody, false); }

function inOut(c: X86Cpu, i: Insn): void { // E4-E7, EC-EF
  const port = i.op < 0xe8 ? i.imm & 0xff : c.r[4] & 0xffff;
  const size = ioSize(i);
  ioAllowed(c, port, size);
  if ((i.op & 2) === 0) {
    const v = c.ports.read(port, size);
    c.setReg(0, size, v, 0, 0);
  } else {
    c.ports.write(port, size, c.getReg(0, size, 0));
  }
  if (c.debugMode & DBG_IO) noteIoAccess(c, port, size);
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
