import type { FormSetter, Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { readMsrValue, writeMsrValue, readTsc } from './msr.js';
import { cpuid, CPUID_OUT, CR4_OSXSAVE } from './cpuid.js';
import { ISA_XSAVE } from './isa.js';
import { DESC, readDescriptor, readDescriptorHigh, descBase, descLimit, loadSegment } from './segments.js';
import { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from './insn.js';
import { DR6_BD, DR6_FIXED, DR7_FIXED, DR7_GD, updateDebugState } from './debug.js';
import { RF } from './flags.js';

const TWO32 = 4294967296;

function requireCpl0(c: X86Cpu): void {
  if (c.cr0 & 1 && c.cpl !== 0) c.fault(13, 0);
}

function movFromCr(c: X86Cpu, i: Insn): void { // 0F 20
  requireCpl0(c);
  let n = i.reg;
  if (i.lock && n === 0) n = 8; // AMD alternate encoding of CR8
  let v: number;
  switch (n) {
    case 0: v = c.cr0; break;
    case 2: v = c.cr2; break;
    case 3: v = c.cr3; break;
    case 4: v = c.cr4; break;
    case 8: v = c.apic ? c.apic.cr8 : c.cr8; break;
    default: c.fault(6);
  }
  if (c.codeSize === 64) c.setReg(i.rm, 8, v >>> 0, Math.floor(v / TWO32) >>> 0, 0);
  else c.setReg(i.rm, 4, v >>> 0, 0, 0);
}

function movToCr(c: X86Cpu, i: Insn): void { // 0F 22
  requireCpl0(c);
  let n = i.reg;
  if (i.lock && n === 0) n = 8;
  const lo = c.getReg(i.rm, c.codeSize === 64 ? 8 : 4, 0);
  const hi = c.codeSize === 64 ? c.hi : 0;
  switch (n) {
    case 0: writeCr0(c, lo, hi); break;
    case 2: c.cr2 = c.codeSize === 64 ? (hi | 0) * TWO32 + lo : lo; break;
    case 3:
      if (hi & 0xfff00000) c.fault(13, 0);
      c.cr3 = hi * TWO32 + lo;
      c.tlb.flush();
      break;
    case 4: writeCr4(c, lo, hi); break;
    case 8:
      if (hi !== 0 || lo & ~15) c.fault(13, 0);
      if (c.apic) {
        c.apic.cr8 = lo;
        c.events = 1; // a lower TPR may let a held interrupt in at the next boundary
      } else c.cr8 = lo;
      break;
    default: c.fault(6);
  }
}

function writeCr0(c: X86Cpu, lo: number, hi: number): void {
  if (hi !== 0) c.fault(13, 0);
  lo = (lo | 0x10) >>> 0; // ET is hardwired
  const pg = (lo & 0x80000000) !== 0;
  if (pg && !(lo & 1)) c.fault(13, 0);
  if ((lo & 0x20000000) && !(lo & 0x40000000)) c.fault(13, 0); // NW without CD
  const wasPg = (c.cr0 & 0x80000000) !== 0;
  if (pg && !wasPg && c.efer & 0x100) {
    if (!(c.cr4 & 0x20)) c.fault(13, 0); // long mode needs PAE
    c.efer |= 0x400; // LMA
  }
  if (!pg && wasPg) {
    if (c.codeSize === 64) c.fault(13, 0);
    c.efer &= ~0x400;
  }
  c.cr0 = lo;
  c.tlb.flush();
  c.updateMode();
}

const CR4_ALLOWED = 0x7ff; // VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT
function writeCr4(c: X86Cpu, lo: number, hi: number): void {
  if (hi !== 0 || lo & ~(CR4_ALLOWED | (c.decodeCache.isa & ISA_XSAVE ? CR4_OSXSAVE : 0))) c.fault(13, 0);
  if (c.efer & 0x400 && !(lo & 0x20)) c.fault(13, 0);
  c.cr4 = lo >>> 0;
  c.tlb.flush();
}

/**
 * MOV from/to DR0-DR7. DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD). DR6 reads its fixed bits
 * 0xffff0ff0 as ones, DR7 its bit 10 (other reserved bits read back as written, as on QEMU); a write
 * with bits 63:32 set is #GP(0). Writes to DR0-3/DR7 re-arm the breakpoints (debug.ts).
 */
function movDr(c: X86Cpu, i: Insn): void { // 0F 21 / 0F 23
  requireCpl0(c);
  let n = i.reg;
  if (n > 7) c.fault(6);
  if (n === 4 || n === 5) {
    if (c.cr4 & 8) c.fault(6);
    n += 2;
  }
  if (c.dr[7] & DR7_GD) { // DR7.GD: the access itself faults (#DB) with DR6.BD, GD cleared (SDM §18.2.4)
    c.dr[7] = (c.dr[7] & ~DR7_GD) >>> 0;
    c.dr[6] = (c.dr[6] | DR6_BD) >>> 0;
    updateDebugState(c);
    c.fl.bits |= RF; // a fault-class #DB: the pushed EFLAGS has RF set (SDM §18.3.1.1)
    c.fault(1);
  }
  const wide = c.codeSize === 64;
  if (i.op === 0x121) {
    const v = n === 6 ? (c.dr[6] | 0xffff0ff0) >>> 0 : n === 7 ? (c.dr[7] | 0x400) >>> 0 : c.dr[n];
    c.setReg(i.rm, wide ? 8 : 4, v >>> 0, Math.floor(v / TWO32) >>> 0, 0);
    return;
  }
  const lo = c.getReg(i.rm, wide ? 8 : 4, 0);
  const hi = wide ? c.hi : 0;
  if (n === 6 || n === 7) {
    if (hi !== 0) c.fault(13, 0);
    c.dr[n] = n === 6 ? (lo | DR6_FIXED) >>> 0 : (lo | DR7_FIXED) >>> 0;
  } else c.dr[n] = (hi | 0) * TWO32 + lo;
  if (n !== 6) updateDebugState(c);
}

function rdmsr(c: X86Cpu): void {
  requireCpl0(c);
  const v = readMsrValue(c, c.r[2] >>> 0);
  if (v === undefined) c.fault(13, 0);
  c.r[0] = v[0]; c.r[1] = 0; c.r[4] = v[1]; c.r[5] = 0;
}

function wrmsr(c: X86Cpu): void {
  requireCpl0(c);
  if (!writeMsrValue(c, c.r[2] >>> 0, c.r[0], c.r[4])) c.fault(13, 0);
}

function rdtsc(c: X86Cpu): void {
  if (c.cr4 & 4 && c.cpl !== 0) c.fault(13, 0);
  const t = readTsc(c);
  c.r[0] = t >>> 0; c.r[1] = 0;
  c.r[4] = Math.floor(t / TWO32) >>> 0; c.r[5] = 0;
}

function cpuidH(c: X86Cpu): void {
  cpuid(c, c.r[0] >>> 0, c.r[2] >>> 0);
  const o = CPUID_OUT;
  c.r[0] = o[0]; c.r[1] = 0;
  c.r[6] = o[1]; c.r[7] = 0;
  c.r[2] = o[2]; c.r[3] = 0;
  c.r[4] = o[3]; c.r[5] = 0;
}

// ---- 0F 00 (group 6): protected mode only

function requireProtected(c: X86Cpu): void {
  if (!(c.cr0 & 1)) c.fault(6);
}

/** SLDT / STR (0F 00 /0, /1): the selector to r/m16 (a register destination takes the operand size). */
function storeSystemSelector(ldt: boolean): Handler {
  return (c, i) => {
    requireProtected(c);
    const v = ldt ? c.ldtSel : c.trSel;
    if (i.isMem) c.wr16(ea(c, i), v);
    else c.setReg(i.rm, i.size === 2 ? 2 : i.size, v, 0, i.rex);
  };
}

/** LLDT / LTR (0F 00 /2, /3): load LDTR or TR from a GDT descriptor (a null LDT selector empties LDTR). */
function loadSystemSegment(ldt: boolean): Handler {
  return (c, i) => {
    requireProtected(c);
    requireCpl0(c);
    const sel = i.isMem ? c.rd16(ea(c, i)) : c.getReg(i.rm, 2, i.rex);
    if (ldt && (sel & 0xfffc) === 0) { c.ldtSel = sel; c.ldtBase = 0; c.ldtLimit = 0; return; }
    if ((sel & 0xfffc) === 0 || sel & 4) c.fault(13, sel & 0xfffc);
    if (!readDescriptor(c, sel)) c.fault(13, sel & 0xfffc);
    const type = (DESC.hi >> 8) & 0x1f;
    if (ldt ? type !== 0x02 : type !== 0x09 && type !== 0x01) c.fault(13, sel & 0xfffc);
    if (!(DESC.hi & 0x8000)) c.fault(11, sel & 0xfffc);
    let base = descBase(DESC.lo, DESC.hi);
    if (c.efer & 0x400) {
      readDescriptorHigh(c);
      base = (DESC.hi2 | 0) * TWO32 + base;
    }
    const limit = descLimit(DESC.lo, DESC.hi);
    if (ldt) { c.ldtSel = sel; c.ldtBase = base; c.ldtLimit = limit; return; }
    DESC.hi |= 0x200; // busy
    c.sysWr32(DESC.addr + 4, DESC.hi);
    c.trSel = sel; c.trBase = base; c.trLimit = limit; c.trAttr = (DESC.hi >> 8) & 0xff;
  };
}

/** VERR / VERW (0F 00 /4, /5): ZF says whether the segment is readable / writable; "not accessible" unless the descriptor qualifies. */
function verify(write: boolean): Handler {
  return (c, i) => {
    requireProtected(c);
    const sel = i.isMem ? c.rd16(ea(c, i)) : c.getReg(i.rm, 2, i.rex);
    let ok = false;
    if ((sel & 0xfffc) !== 0 && readDescriptor(c, sel) && DESC.hi & 0x1000) {
      const t = (DESC.hi >> 8) & 0xf;
      ok = write ? !(t & 8) && (t & 2) !== 0 : !(t & 8) || (t & 2) !== 0;
    }
    c.fl.materialize();
    c.fl.bits = ok ? c.fl.bits | 0x40 : c.fl.bits & ~0x40;
  };
}

// ---- 0F 01 (group 7)

/** SGDT / SIDT (0F 01 /0, /1, memory): limit, then a 32-bit (64-bit in long mode) base. */
function storeTable(gdt: boolean): Handler {
  return (c, i) => {
    const addr = ea(c, i);
    const base = gdt ? c.gdtBase : c.idtBase;
    const limit = gdt ? c.gdtLimit : c.idtLimit;
    c.wr16(addr, limit);
    if (c.codeSize === 64) c.wr64(addr + 2, base >>> 0, Math.floor(base / TWO32) >>> 0);
    else c.wr32(addr + 2, base >>> 0);
  };
}

/** LGDT / LIDT (0F 01 /2, /3, memory): a 16-bit operand size keeps 24 bits of the base outside long mode. */
function loadTable(gdt: boolean): Handler {
  return (c, i) => {
    const addr = ea(c, i);
    requireCpl0(c);
    const limit = c.rd16(addr);
    let base: number;
    if (c.codeSize === 64) {
      const lo = c.rd64(addr + 2);
      base = (c.hi | 0) * TWO32 + lo;
    } else {
      base = c.rd32(addr + 2);
      if (i.size === 2) base &= 0xffffff;
    }
    if (gdt) { c.gdtBase = base; c.gdtLimit = limit; }
    else { c.idtBase = base; c.idtLimit = limit; }
  };
}

function invlpg(c: X86Cpu, i: Insn): void { // 0F 01 /7, memory
  const addr = ea(c, i);
  requireCpl0(c);
  c.tlb.flushPage(addr);
}

/** 0F 01 F8: 64-bit mode only (the table's DEC_ONLY64; checked again here against the code size it runs in). */
function swapgs(c: X86Cpu): void {
  if (c.codeSize !== 64) c.fault(6);
  requireCpl0(c);
  const t = c.segBase[SEG_GS];
  c.segBase[SEG_GS] = c.kernelGsBase;
  c.kernelGsBase = t;
}

/** 0F 01 F9. */
function rdtscp(c: X86Cpu): void {
  rdtsc(c);
  c.r[2] = c.tscAux; c.r[3] = 0;
}

function smsw(c: X86Cpu, i: Insn): void {
  if (i.isMem) c.wr16(ea(c, i), c.cr0 & 0xffff);
  else c.setReg(i.rm, i.size, c.cr0 >>> 0, 0, i.rex);
}
function lmsw(c: X86Cpu, i: Insn): void {
  requireCpl0(c);
  const v = i.isMem ? c.rd16(ea(c, i)) : c.getReg(i.rm, 2, i.rex);
  // LMSW can set PE but never clear it.
  c.cr0 = ((c.cr0 & ~0xe) | (v & 0xf) | (c.cr0 & 1)) >>> 0;
  c.updateMode();
}

function clts(c: X86Cpu): void {
  requireCpl0(c);
  c.cr0 &= ~8;
}

function privNop(c: X86Cpu): void { // INVD / WBINVD
  requireCpl0(c);
}

function nop(): void {}

function ud(c: X86Cpu): void {
  c.fault(6);
}

/** LSS/LFS/LGS/LES/LDS: load far pointer m16:16/32/64. */
function loadFarPointer(c: X86Cpu, i: Insn): void {
  const seg = i.op === 0x1b2 ? SEG_SS : i.op === 0x1b4 ? SEG_FS : i.op === 0x1b5 ? SEG_GS : i.op === 0xc4 ? SEG_ES : SEG_DS;
  const size = i.size;
  const addr = ea(c, i);
  const off = c.rdSize(addr, size), offHi = c.hi;
  const sel = c.rd16(addr + size);
  loadSegment(c, seg, sel);
  c.setReg(i.reg, size, off, offHi, i.rex);
}

/**
 * LAR / LSL: access rights or limit of the descriptor for a selector, with ZF=1 when it is visible at
 * the current privilege (system types per the 64-bit rules: LDT and TSS; LAR also call gates).
 */
function larLsl(c: X86Cpu, i: Insn): void {
  if (!(c.cr0 & 1)) c.fault(6);
  const sel = i.isMem ? c.rd16(ea(c, i)) : c.getReg(i.rm, 2, i.rex);
  const lsl = i.op === 0x103;
  let ok = false;
  if ((sel & 0xfffc) !== 0 && readDescriptor(c, sel)) {
    const hi = DESC.hi;
    const type = (hi >> 8) & 0x1f;
    const dpl = (hi >> 13) & 3;
    let typeOk: boolean;
    if (type & 0x10) typeOk = true; // code or data
    else if (c.efer & 0x400) typeOk = type === 0x02 || type === 0x09 || type === 0x0b || (!lsl && type === 0x0c);
    else typeOk = [1, 2, 3, 9, 0xb].includes(type) || (!lsl && [4, 5, 0xc].includes(type));
    const conforming = (type & 0x1c) === 0x1c;
    ok = typeOk && (conforming || (dpl >= c.cpl && dpl >= (sel & 3)));
  }
  c.fl.materialize();
  if (!ok) { c.fl.bits &= ~0x40; return; }
  c.fl.bits |= 0x40;
  const v = lsl ? descLimit(DESC.lo, DESC.hi) >>> 0 : DESC.hi & 0x00ffff00;
  c.setReg(i.reg, i.size === 8 ? 8 : i.size, v, 0, i.rex);
}

/** SYSCALL (64-bit mode): flat CPL0 code/stack selectors from STAR, RIP from LSTAR. */
function syscall(c: X86Cpu): void {
  if (c.codeSize !== 64 || !(c.efer & 1)) c.fault(6);
  const rip = c.nextRip;
  c.setRegNum(1, rip);
  const fl = c.fl.get();
  c.r[22] = fl; c.r[23] = 0; // R11
  const sel = c.star[1] & 0xffff;
  c.segSel[SEG_CS] = sel & 0xfffc; c.segBase[SEG_CS] = 0; c.segLimit[SEG_CS] = 0xffffffff; c.segAttr[SEG_CS] = 0xa09b;
  c.segSel[SEG_SS] = (sel + 8) & 0xfffc; c.segBase[SEG_SS] = 0; c.segLimit[SEG_SS] = 0xffffffff; c.segAttr[SEG_SS] = 0xc093;
  c.setCpl(0);
  c.fl.set(fl & ~c.sfmask & ~0x10000);
  c.updateMode();
  c.nextRip = c.lstar;
}

/** SYSRET: back to CPL3, 64-bit (REX.W) or compatibility mode. */
function sysret(c: X86Cpu, i: Insn): void {
  if (c.codeSize !== 64 || !(c.efer & 1)) c.fault(6);
  requireCpl0(c);
  const sel = (c.star[1] >>> 16) & 0xffff;
  const to64 = i.size === 8;
  const rip = to64 ? c.regNum(1) : c.r[2] >>> 0;
  if (to64 && !(rip >= -0x800000000000 && rip < 0x800000000000)) c.fault(13, 0);
  c.segSel[SEG_CS] = ((to64 ? sel + 16 : sel) & 0xfffc) | 3;
  c.segBase[SEG_CS] = 0; c.segLimit[SEG_CS] = 0xffffffff; c.segAttr[SEG_CS] = to64 ? 0xa0fb : 0xc0fb;
  c.segSel[SEG_SS] = ((sel + 8) & 0xfffc) | 3; c.segBase[SEG_SS] = 0; c.segLimit[SEG_SS] = 0xffffffff; c.segAttr[SEG_SS] = 0xc0f3;
  c.setCpl(3);
  c.fl.set((c.r[22] & 0x3c7fd7) | 2);
  c.updateMode();
  c.nextRip = rip;
}

function flatSegment(c: X86Cpu, s: number, sel: number, attr: number): void {
  c.segSel[s] = sel; c.segBase[s] = 0; c.segLimit[s] = 0xffffffff; c.segAttr[s] = attr;
}

/** SYSENTER: to CPL0 at SYSENTER_CS:SYSENTER_EIP on SYSENTER_ESP, flat segments, IF/VM/RF cleared. */
function sysenter(c: X86Cpu): void {
  const cs = c.sysenterCs & 0xfffc;
  if (!(c.cr0 & 1) || cs === 0) c.fault(13, 0);
  const long = (c.efer & 0x400) !== 0;
  c.fl.set(c.fl.get() & ~(0x20000 | 0x200 | 0x10000));
  flatSegment(c, SEG_CS, cs, long ? 0xa09b : 0xc09b);
  flatSegment(c, SEG_SS, (cs + 8) & 0xfffc, 0xc093);
  c.setCpl(0);
  c.updateMode();
  if (long) { c.setRegNum(4, c.sysenterEsp); c.nextRip = c.sysenterEip; }
  else { c.r[8] = c.sysenterEsp; c.r[9] = 0; c.nextRip = c.sysenterEip >>> 0; }
}

/** SYSEXIT: to CPL3 at RDX/EDX on RCX/ECX; REX.W selects a 64-bit code segment (SYSENTER_CS+32). */
function sysexit(c: X86Cpu, i: Insn): void {
  const base = c.sysenterCs & 0xfffc;
  if (!(c.cr0 & 1) || base === 0 || c.cpl !== 0) c.fault(13, 0);
  const to64 = i.size === 8;
  let rip: number, rsp: number;
  if (to64) {
    rip = c.regNum(2); rsp = c.regNum(1);
    if (!(rip >= -0x800000000000 && rip < 0x800000000000) || !(rsp >= -0x800000000000 && rsp < 0x800000000000)) c.fault(13, 0);
  } else {
    rip = c.r[4] >>> 0; rsp = c.r[2] >>> 0;
  }
  flatSegment(c, SEG_CS, ((base + (to64 ? 32 : 16)) & 0xfffc) | 3, to64 ? 0xa0fb : 0xc0fb);
  flatSegment(c, SEG_SS, ((base + (to64 ? 40 : 24)) & 0xfffc) | 3, 0xc0f3);
  c.setCpl(3);
  c.updateMode();
  if (to64) c.setRegNum(4, rsp); else { c.r[8] = rsp; c.r[9] = 0; }
  c.nextRip = rip;
}

/** The system groups per form: 0F 00 and 0F 01 by ModRM.reg digit (and, for 0F 01, operand kind). */
export function registerSystemForms(set: FormSetter): void {
  set([0x100], 0, storeSystemSelector(true));
  set([0x100], 1, storeSystemSelector(false));
  set([0x100], 2, loadSystemSegment(true));
  set([0x100], 3, loadSystemSegment(false));
  set([0x100], 4, verify(false));
  set([0x100], 5, verify(true));
  set([0x101], 0, storeTable(true), true);
  set([0x101], 1, storeTable(false), true);
  set([0x101], 2, loadTable(true), true);
  set([0x101], 3, loadTable(false), true);
  set([0x101], 4, smsw);
  set([0x101], 6, lmsw, false);
  set([0x101], 6, (c, i) => { ea(c, i); lmsw(c, i); }, true); // a non-canonical address faults before the CPL check
  set([0x101], 7, invlpg, true);
  set([0x101], 7, swapgs, false, 0);
  set([0x101], 7, rdtscp, false, 1);
}

export function registerSystem(h: Handler[]): void {
  h[0x134] = sysenter;
  h[0x135] = sysexit;
  h[0x120] = movFromCr;
  h[0x122] = movToCr;
  h[0x121] = h[0x123] = movDr;
  h[0x130] = wrmsr;
  h[0x105] = syscall;
  h[0x102] = h[0x103] = larLsl;
  h[0x107] = sysret;
  h[0x131] = rdtsc;
  h[0x132] = rdmsr;
  h[0x1a2] = cpuidH;
  h[0x106] = clts;
  h[0x108] = h[0x109] = privNop;
  h[0x10b] = h[0x1b9] = h[0x1ff] = ud;
  h[0x10d] = nop; // prefetch hints
  for (let k = 0x118; k <= 0x11f; k++) h[k] = nop; // hint NOPs (NOP Ev, prefetchh)
  h[0x1b2] = h[0x1b4] = h[0x1b5] = h[0xc4] = h[0xc5] = loadFarPointer;
}
