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
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MTRRCAP = 0xfe;
export const MSR_MTRR_DEF_TYPE = 0x2ff;

/** MTRRcap: 8 variable ranges, fixed ranges, write-combining (what QEMU reports). */
const MTRRCAP = 0x508;
/** Fixed-range MTRRs in the order of their slots in cpu.mtrr (two 32-bit words each). */
const MTRR_FIXED = [0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f];
/** cpu.mtrr layout: slot 0 = MTRRdefType, 1..11 fixed ranges, 12..27 variable base/mask pairs 0x200-0x20f. */
export const MTRR_SLOTS = 28;
/** Physical address bits (CPUID 0x80000008): MTRR/APIC base bits above this are reserved. */
const PHYS_HI_MASK = 0xff; // bits 32..39 of the high word

function mtrrSlot(index: number): number {
  if (index === MSR_MTRR_DEF_TYPE) return 0;
  const f = MTRR_FIXED.indexOf(index);
  if (f >= 0) return 1 + f;
  if (index >= 0x200 && index <= 0x20f) return 12 + (index - 0x200);
  return -1;
}
/** Memory types MTRRs accept: UC WC WT WP WB. */
function mtrrType(t: number): boolean {
  return t === 0 || t === 1 || t === 4 || t === 5 || t === 6;
}
/** Memory types PAT entries accept: UC WC WT WP WB UC-. */
function patType(t: number): boolean {
  return t === 0 || t === 1 || (t >= 4 && t <= 7);
}
function eachByte(lo: number, hi: number, ok: (t: number) => boolean): boolean {
  for (let k = 0; k < 32; k += 8) if (!ok((lo >>> k) & 0xff) || !ok((hi >>> k) & 0xff)) return false;
  return true;
}
function mtrrWriteOk(slot: number, lo: number, hi: number): boolean {
  if (slot === 0) return hi === 0 && (lo & ~0xcff) === 0 && mtrrType(lo & 0xff);
  if (slot < 12) return eachByte(lo, hi, mtrrType);
  if (hi & ~PHYS_HI_MASK) return false;
  // PHYSBASE: type in bits 0-7, 8-11 reserved; PHYSMASK: 0-10 reserved, bit 11 = valid.
  return (slot - 12) % 2 === 0 ? (lo & 0xf00) === 0 && mtrrType(lo & 0xff) : (lo & 0x7ff) === 0;
}

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
  if (c.apic !== undefined && c.apic.handlesMsr(index >>> 0)) return c.apic.rdmsr(index >>> 0);
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
    case MSR_SYSENTER_CS: return split(c.sysenterCs);
    case MSR_SYSENTER_ESP: return split(c.sysenterEsp);
    case MSR_SYSENTER_EIP: return split(c.sysenterEip);
    case MSR_MTRRCAP: return split(MTRRCAP);
  }
  const slot = mtrrSlot(index >>> 0);
  if (slot >= 0) { OUT[0] = c.mtrr[2 * slot]; OUT[1] = c.mtrr[2 * slot + 1]; return OUT; }
  return undefined;
}

/** Write MSR `index`; false means #GP (unknown MSR or reserved bits). */
export function writeMsrValue(c: X86Cpu, index: number, lo: number, hi: number): boolean {
  lo >>>= 0; hi >>>= 0;
  if (c.apic !== undefined && c.apic.handlesMsr(index >>> 0)) {
    // The APIC may change what the CPU should take next (TPR, EOI, self IPI): re-check at the boundary.
    c.events = 1;
    return c.apic.wrmsr(index >>> 0, lo, hi);
  }
  switch (index >>> 0) {
    case MSR_TSC: c.tscOffset = 0; c.tscOffset = hi * TWO32 + lo - readTsc(c); return true;
    case MSR_APIC_BASE:
      // Bits 0-7, 9 and 10 (x2APIC, not offered) and those above the physical width are reserved.
      if (lo & 0x6ff || hi & ~PHYS_HI_MASK) return false;
      c.apicBase = hi * TWO32 + lo;
      return true;
    case MSR_BIOS_SIGN_ID: return true;
    case MSR_MISC_ENABLE: c.miscEnable = hi * TWO32 + lo; return true;
    case MSR_PAT:
      if (!eachByte(lo, hi, patType)) return false;
      c.patLo = lo; c.patHi = hi;
      return true;
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
    case MSR_SFMASK: if (hi !== 0) return false; c.sfmask = lo; return true;
    case MSR_FS_BASE: case MSR_GS_BASE: case MSR_KERNEL_GS_BASE: {
      const v = join(lo, hi);
      if (!canonical(v)) return false;
      if (index === MSR_FS_BASE) c.segBase[SEG_FS] = v;
      else if (index === MSR_GS_BASE) c.segBase[SEG_GS] = v;
      else c.kernelGsBase = v;
      return true;
    }
    case MSR_TSC_AUX: if (hi !== 0) return false; c.tscAux = lo; return true;
    case MSR_SYSENTER_CS: c.sysenterCs = hi * TWO32 + lo; return true;
    case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP: {
      const v = join(lo, hi);
      if (!canonical(v)) return false;
      if (index === MSR_SYSENTER_ESP) c.sysenterEsp = v; else c.sysenterEip = v;
      return true;
    }
    case MSR_MTRRCAP: return false; // read-only
  }
  const slot = mtrrSlot(index >>> 0);
  if (slot >= 0 && mtrrWriteOk(slot, lo, hi)) { c.mtrr[2 * slot] = lo; c.mtrr[2 * slot + 1] = hi; return true; }
  return false;
}
