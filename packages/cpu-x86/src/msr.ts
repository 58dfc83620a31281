import type { X86Cpu } from './cpu.js';
import { SEG_FS, SEG_GS } from './insn.js';

const TWO32 = 4294967296;
const OUT: [number, number] = [0, 0];

export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_BIOS_SIGN_ID = 0x8b;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_PAT = 0x277;
export const MSR_EFER = 0xc0000080;
export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_SFMASK = 0xc0000084;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
export const MSR_KERNEL_GS_BASE = 0xc0000102;
export const MSR_TSC_AUX = 0xc0000103;

/** The current time-stamp counter as a number (exact below 2^53). */
export function readTsc(c: X86Cpu): number {
  const ns = c.clock ? c.clock.now() : c.instructionsRetired;
  return Math.floor((ns * c.tscHz) / 1e9) + c.tscOffset;
}

function split(v: number): [number, number] {
  OUT[0] = v >>> 0;
  OUT[1] = Math.floor(v / TWO32) >>> 0;
  return OUT;
}
function join(lo: number, hi: number): number {
  return (hi | 0) * TWO32 + (lo >>> 0);
}
function canonical(v: number): boolean {
  return v >= -0x800000000000 && v < 0x800000000000;
}

/** [lo, hi] of MSR `index`, or undefined when the MSR does not exist (#GP). The array is reused. */
export function readMsrValue(c: X86Cpu, index: number): [number, number] | undefined {
  switch (index >>> 0) {
    case MSR_TSC: return split(readTsc(c));
    case MSR_APIC_BASE: return split(c.apicBase);
    case MSR_BIOS_SIGN_ID: return split(0);
    case MSR_MISC_ENABLE: return split(c.miscEnable);
    case MSR_PAT: OUT[0] = c.patLo; OUT[1] = c.patHi; return OUT;
    case MSR_EFER: return split(c.efer);
    case MSR_STAR: OUT[0] = c.star[0]; OUT[1] = c.star[1]; return OUT;
    case MSR_LSTAR: return split(c.lstar);
    case MSR_CSTAR: return split(c.cstar);
    case MSR_SFMASK: return split(c.sfmask);
    case MSR_FS_BASE: return split(c.segBase[SEG_FS]);
    case MSR_GS_BASE: return split(c.segBase[SEG_GS]);
    case MSR_KERNEL_GS_BASE: return split(c.kernelGsBase);
    case MSR_TSC_AUX: return split(c.tscAux);
  }
  return undefined;
}

/** Write MSR `index`; false means #GP (unknown MSR or reserved bits). */
export function writeMsrValue(c: X86Cpu, index: number, lo: number, hi: number): boolean {
  lo >>>= 0; hi >>>= 0;
  switch (index >>> 0) {
    case MSR_TSC: c.tscOffset = 0; c.tscOffset = hi * TWO32 + lo - readTsc(c); return true;
    case MSR_APIC_BASE: c.apicBase = hi * TWO32 + lo; return true;
    case MSR_BIOS_SIGN_ID: return true;
    case MSR_MISC_ENABLE: c.miscEnable = hi * TWO32 + lo; return true;
    case MSR_PAT: c.patLo = lo; c.patHi = hi; return true;
    case MSR_EFER: {
      if (hi !== 0 || lo & ~0xd01) return false;
      const lme = lo & 0x100;
      // LME may not change while paging is on.
      if (c.cr0 & 0x80000000 && (c.efer & 0x100) !== lme) return false;
      c.efer = (lo & 0x901) | (c.efer & 0x400);
      c.tlb.flush();
      c.updateMode();
      return true;
    }
    case MSR_STAR: c.star = [lo, hi]; return true;
    case MSR_LSTAR: { const v = join(lo, hi); if (!canonical(v)) return false; c.lstar = v; return true; }
    case MSR_CSTAR: { const v = join(lo, hi); if (!canonical(v)) return false; c.cstar = v; return true; }
    case MSR_SFMASK: c.sfmask = lo; return true;
    case MSR_FS_BASE: case MSR_GS_BASE: case MSR_KERNEL_GS_BASE: {
      const v = join(lo, hi);
      if (!canonical(v)) return false;
      if (index === MSR_FS_BASE) c.segBase[SEG_FS] = v;
      else if (index === MSR_GS_BASE) c.segBase[SEG_GS] = v;
      else c.kernelGsBase = v;
      return true;
    }
    case MSR_TSC_AUX: c.tscAux = lo; return true;
  }
  return false;
}
