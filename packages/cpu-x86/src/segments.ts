import type { X86Cpu } from './cpu.js';
import { SEG_CS, SEG_SS, SEG_FS, SEG_GS } from './insn.js';
import { refreshSegCheck } from './segment-check.js';

/** Raw descriptor words of the last readDescriptor() call. */
export const DESC = { lo: 0, hi: 0, hi2: 0, addr: 0 };

/** Read the 8-byte descriptor for `sel` from the GDT/LDT; false when it lies outside the table limit. */
export function readDescriptor(c: X86Cpu, sel: number): boolean {
  const ldt = (sel & 4) !== 0;
  const base = ldt ? c.ldtBase : c.gdtBase;
  const limit = ldt ? c.ldtLimit : c.gdtLimit;
  const off = sel & 0xfff8;
  if (off + 7 > limit) return false;
  const addr = base + off;
  DESC.addr = addr;
  DESC.lo = c.sysRd32(addr);
  DESC.hi = c.sysRd32(addr + 4);
  return true;
}

/** Also read the upper 8 bytes of a 16-byte system descriptor (64-bit TSS/LDT). */
export function readDescriptorHigh(c: X86Cpu): void {
  DESC.hi2 = c.sysRd32(DESC.addr + 8);
}

export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}
export function descLimit(lo: number, hi: number): number {
  const l = (lo & 0xffff) | (hi & 0xf0000);
  return hi & 0x800000 ? l * 4096 + 0xfff : l;
}
export function descAttr(hi: number): number {
  return (hi >>> 8) & 0xf0ff;
}

function setAccessed(c: X86Cpu): void {
  if (!(DESC.hi & 0x100)) {
    DESC.hi |= 0x100;
    c.sysWr32(DESC.addr + 4, DESC.hi);
  }
}

/**
 * The null SS a 64-bit privilege change loads (interrupt/call-gate stack switch, IRETQ/RETF to CPL < 3):
 * selector `sel` (RPL = the new CPL), base 0, a present writable data segment at DPL `cpl`. The caller
 * runs updateMode() when the rest of the switch is done.
 */
export function loadNullSs64(c: X86Cpu, sel: number, cpl: number): void {
  c.segSel[SEG_SS] = sel;
  c.segBase[SEG_SS] = 0;
  c.segAttr[SEG_SS] = (cpl << 5) | 0x4093;
}

/** MOV/POP to a data segment register (and LDS/LSS/...), with protected-mode checks. */
export function loadSegment(c: X86Cpu, s: number, sel: number): void {
  sel &= 0xffff;
  if (!(c.cr0 & 1) || c.fl.bits & 0x20000) {
    c.segSel[s] = sel;
    c.segBase[s] = sel * 16;
    if (s === SEG_SS) c.updateMode();
    else refreshSegCheck(c, s);
    return;
  }
  if (s === SEG_CS) c.fault(6);
  if ((sel & 0xfffc) === 0) {
    if (s === SEG_SS && !(c.codeSize === 64 && c.cpl < 3 && (sel & 3) === c.cpl)) c.fault(13, 0);
    c.segSel[s] = sel;
    c.segBase[s] = 0;
    c.segLimit[s] = 0;
    c.segAttr[s] = s === SEG_SS ? (c.cpl << 5) | 0x4000 : 0;
    refreshSegCheck(c, s); // a null DS/ES/FS/GS faults on use outside 64-bit mode (SDM Vol. 3A §5.4.1)
    return;
  }
  if (!readDescriptor(c, sel)) c.fault(13, sel & 0xfffc);
  const hi = DESC.hi;
  const type = (hi >> 8) & 0x1f; // S + type
  const dpl = (hi >> 13) & 3;
  const rpl = sel & 3;
  if (s === SEG_SS) {
    // Writable data segment, RPL = DPL = CPL.
    if ((type & 0x1a) !== 0x12 || rpl !== c.cpl || dpl !== c.cpl) c.fault(13, sel & 0xfffc);
    if (!(hi & 0x8000)) c.fault(12, sel & 0xfffc);
  } else {
    // Data, or readable code.
    if (!(type & 0x10) || (type & 0x0a) === 0x08) c.fault(13, sel & 0xfffc);
    const conformingCode = (type & 0x0c) === 0x0c;
    if (!conformingCode && (rpl > dpl || c.cpl > dpl)) c.fault(13, sel & 0xfffc);
    if (!(hi & 0x8000)) c.fault(11, sel & 0xfffc);
  }
  setAccessed(c);
  c.segSel[s] = sel;
  c.segBase[s] = descBase(DESC.lo, DESC.hi);
  c.segLimit[s] = descLimit(DESC.lo, DESC.hi);
  c.segAttr[s] = descAttr(DESC.hi);
  if (s === SEG_SS) c.updateMode();
  else refreshSegCheck(c, s);
  void SEG_FS; void SEG_GS;
}

/**
 * Load CS for a far transfer to `sel` at privilege `newCpl` (protected mode). Checks that the
 * descriptor is a present code segment; call gates and task switches are not supported (#GP).
 */
export function loadCodeSegment(c: X86Cpu, sel: number, newCpl: number): void {
  sel &= 0xffff;
  if (!(c.cr0 & 1) || c.fl.bits & 0x20000) {
    c.segSel[SEG_CS] = sel;
    c.segBase[SEG_CS] = sel * 16;
    c.updateMode();
    return;
  }
  if ((sel & 0xfffc) === 0) c.fault(13, 0);
  if (!readDescriptor(c, sel)) c.fault(13, sel & 0xfffc);
  const hi = DESC.hi;
  if ((hi & 0x1800) !== 0x1800) c.fault(13, sel & 0xfffc); // not a code segment (gates unsupported)
  if (!(hi & 0x8000)) c.fault(11, sel & 0xfffc);
  if ((hi & 0x200000) && (hi & 0x400000) && c.efer & 0x400) c.fault(13, sel & 0xfffc); // L and D both set
  setAccessed(c);
  c.segSel[SEG_CS] = (sel & 0xfffc) | newCpl;
  c.segBase[SEG_CS] = descBase(DESC.lo, DESC.hi);
  c.segLimit[SEG_CS] = descLimit(DESC.lo, DESC.hi);
  c.segAttr[SEG_CS] = descAttr(DESC.hi);
  c.setCpl(newCpl);
  c.updateMode();
}

/** DPL of the code segment descriptor for `sel` (for privilege decisions before loading). */
export function codeDescriptorDpl(c: X86Cpu, sel: number): number {
  if (!(c.cr0 & 1)) return 0;
  if ((sel & 0xfffc) === 0) c.fault(13, 0);
  if (!readDescriptor(c, sel)) c.fault(13, sel & 0xfffc);
  if ((DESC.hi & 0x1800) !== 0x1800) c.fault(13, sel & 0xfffc);
  const conforming = (DESC.hi & 0x400) !== 0;
  const dpl = (DESC.hi >> 13) & 3;
  return conforming ? Math.max(dpl, c.cpl) : dpl;
}
