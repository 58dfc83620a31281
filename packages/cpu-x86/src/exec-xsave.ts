// XSAVE/XRSTOR/XSAVEOPT (standard form) and XGETBV/XSETBV for the two components this CPU has: x87
// (XCR0 bit 0) and SSE (bit 1), both in the 512-byte legacy region (the FXSAVE layout), followed by
// the 64-byte XSAVE header. SDM Vol. 1 ch. 13 and Vol. 2 XSAVE/XRSTOR/XSETBV.
// Deliberate simplifications, both allowed by the SDM: XINUSE is always 1 for a requested component
// (XSTATE_BV gets RFBM, never 0 for "in its initial configuration"), and XSAVEOPT uses neither the init
// nor the modified optimization (it saves like XSAVE).
import type { FormSetter, Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { fxrstorX87, fxsaveX87, setCw } from './x87.js';
import { load128, store128 } from './sse-common.js';
import { CR4_OSXSAVE, XCR0_SUPPORTED, XSAVE_AREA_SIZE } from './cpuid.js';
import { OP_XGETBV, OP_XSAVE } from './isa.js';

/** MXCSR bits that may be set (as FXSAVE reports in MXCSR_MASK). */
const MXCSR_MASK = 0xffff;
const HEADER = 512;

function requireOsxsave(c: X86Cpu): void {
  if (!(c.cr4 & CR4_OSXSAVE)) c.fault(6);
}

/** Probe every page of the area for the access before anything changes (no half-done XSAVE/XRSTOR). */
function probeArea(c: X86Cpu, lin: number, write: boolean): void {
  if (!c.paging) return;
  const acc = (write ? 1 : 0) | c.accUser;
  c.translate(lin, acc);
  if ((lin & 0xfff) + XSAVE_AREA_SIZE > 4096) c.translate(c.nextPage(lin), acc);
}

function xsave(c: X86Cpu, i: Insn, lin: number): void {
  const rfbm = c.xcr0 & c.r[0];
  probeArea(c, lin, true);
  const rexW = i.size === 8;
  if (rfbm & 1) fxsaveX87(c, lin, rexW); // FCW FSW FTW FOP FIP FDP, ST0-7
  if (rfbm & 2) {
    c.wr32(lin + 24, c.mxcsrValue);
    c.wr32(lin + 28, MXCSR_MASK);
    const n = c.codeSize === 64 ? 16 : 8;
    for (let k = 0; k < n; k++) store128(c, lin + 160 + k * 16, k, false);
  }
  // XSTATE_BV: requested components are reported in use; the others keep their bits. XCOMP_BV and
  // the rest of the header are not written.
  const bv = c.rd64(lin + HEADER);
  c.wr64(lin + HEADER, ((bv & ~rfbm) | rfbm) >>> 0, c.hi);
}

function xrstor(c: X86Cpu, i: Insn, lin: number): void {
  const rfbm = c.xcr0 & c.r[0];
  probeArea(c, lin, false);
  // Header checks (#GP(0)): XSTATE_BV within XCR0, bytes 8-23 (XCOMP_BV: no compacted form here) zero.
  const bv = c.rd64(lin + HEADER), bvHi = c.hi;
  if (bvHi !== 0 || bv & ~c.xcr0) c.fault(13, 0);
  const h1 = c.rd64(lin + HEADER + 8), h2 = c.hi, h3 = c.rd64(lin + HEADER + 16), h4 = c.hi;
  if ((h1 | h2 | h3 | h4) !== 0) c.fault(13, 0);
  // MXCSR comes from memory whenever SSE is requested, even when XSTATE_BV[1] = 0 (as the host does).
  let mx = c.mxcsrValue;
  if (rfbm & 2) {
    mx = c.rd32(lin + 24);
    if (mx & ~MXCSR_MASK) c.fault(13, 0);
  }
  if (rfbm & 1) {
    if (bv & 1) fxrstorX87(c, lin, i.size === 8);
    else {
      // Initial configuration: FCW 037F, FSW 0, all tags empty, pointers and registers 0.
      c.x87.reset();
      setCw(c, 0x37f);
    }
  }
  if (rfbm & 2) {
    const n = c.codeSize === 64 ? 16 : 8;
    if (bv & 2) for (let k = 0; k < n; k++) load128(c, lin + 160 + k * 16, k, false);
    else c.xmm32.fill(0, 0, n * 4);
    c.mxcsrValue = mx;
  }
}

/** 0F AE /4 XSAVE, /5 XRSTOR, /6 XSAVEOPT (memory; XSAVEOPT uses no optimizations: the same result as XSAVE). */
function xsaveForm(restore: boolean): Handler {
  return (c, i) => {
    requireOsxsave(c);
    if (c.cr0 & 8) c.fault(7); // CR0.TS
    const lin = ea(c, i);
    if (lin % 64 !== 0) c.fault(13, 0);
    if (restore) xrstor(c, i, lin); else xsave(c, i, lin);
  };
}

function xgetbv(c: X86Cpu): void { // 0F 01 D0
  requireOsxsave(c);
  if (c.r[2] !== 0) c.fault(13, 0); // only XCR0 (XGETBV with ECX=1 needs CPUID.(0DH,1):EAX[2])
  c.setReg(0, 4, c.xcr0, 0, 0);
  c.setReg(2, 4, 0, 0, 0);
}

function xsetbv(c: X86Cpu): void { // 0F 01 D1
  requireOsxsave(c);
  const R = c.r;
  if (c.cpl !== 0 || R[2] !== 0) c.fault(13, 0);
  const lo = R[0], hi = R[4];
  // x87 must stay enabled; nothing beyond x87/SSE exists (AVX would need SSE too).
  if (hi !== 0 || (lo & ~XCR0_SUPPORTED) !== 0 || (lo & 1) === 0) c.fault(13, 0);
  c.xcr0 = lo;
}

export function registerXsaveForms(set: FormSetter): void {
  set([OP_XGETBV], 2, xgetbv, false, 0);
  set([OP_XGETBV], 2, xsetbv, false, 1);
  set([OP_XSAVE], 4, xsaveForm(false), true);
  set([OP_XSAVE], 5, xsaveForm(true), true);
  set([OP_XSAVE], 6, xsaveForm(false), true);
}
