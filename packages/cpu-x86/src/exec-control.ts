import type { FormSetter, Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { branchTarget, ea } from './operands.js';
import { push, pop, peek } from './stack.js';
import { ACC_WRITE, CHK_FETCH, checkBranchTarget, checkFarTarget, checkReturnFrame, checkReturnTarget, checkStackRange } from './segment-check.js';
import { pushE } from './exec-stack.js';
import { iret } from './interrupts.js';
import { loadCodeSegment, loadSegment, codeDescriptorDpl } from './segments.js';
import { CF, DF, IF, IOPL } from './flags.js';
import { SEG_CS, SEG_SS } from './insn.js';
import { isSystemSelector, farTransferThroughGate } from './system-gates.js';
import { TransferState, nullInaccessibleSegments } from './stack-switch.js';

function jcc(c: X86Cpu, i: Insn): void { // 70-7F, 0F 80-8F
  if (c.fl.cond(i.op & 15)) c.nextRip = branchTarget(c, c.nextRip + i.imm, i.size);
}

function jmpRel(c: X86Cpu, i: Insn): void { // E9/EB
  c.nextRip = branchTarget(c, c.nextRip + i.imm, i.size);
}

function callRel(c: X86Cpu, i: Insn): void { // E8
  const target = branchTarget(c, c.nextRip + i.imm, i.size);
  pushRip(c, i.size, c.nextRip);
  c.nextRip = target;
}

function pushRip(c: X86Cpu, size: number, rip: number): void {
  if (size === 8) push(c, 8, rip >>> 0, Math.floor(rip / 4294967296) >>> 0);
  else push(c, size, size === 2 ? rip & 0xffff : rip >>> 0, 0);
}

function popRip(c: X86Cpu, size: number): number {
  const lo = pop(c, size);
  if (size === 8) return branchTarget(c, (c.hi | 0) * 4294967296 + lo, 8);
  return size === 2 ? lo & 0xffff : lo;
}

function retNear(c: X86Cpu, i: Insn): void { // C3/C2
  // Outside 64-bit mode the return address is checked against the CS limit before rSP moves.
  if (c.segChecked[SEG_CS] & CHK_FETCH) checkBranchTarget(c, i.size === 2 ? peek(c, 2) & 0xffff : peek(c, i.size));
  const target = popRip(c, i.size);
  if (i.op === 0xc2) {
    const n = i.imm & 0xffff;
    const r = c.r;
    if (c.stackSize === 8) c.setRegNum(4, c.regNum(4) + n);
    else if (c.stackSize === 4) r[8] = (r[8] + n) >>> 0;
    else r[8] = (r[8] & ~0xffff) | ((r[8] + n) & 0xffff);
  }
  c.nextRip = target;
}

/** rCX for LOOP/JrCXZ by address size. */
function counter(c: X86Cpu, asize: number): number {
  const r = c.r;
  if (asize === 8) return (r[2] | r[3]) === 0 ? 0 : 1;
  return asize === 4 ? r[2] : r[2] & 0xffff;
}
function decCounter(c: X86Cpu, asize: number): boolean {
  const r = c.r;
  if (asize === 8) {
    const lo = (r[2] >>> 0) - 1;
    if (lo < 0) r[3] = r[3] - 1;
    r[2] = lo >>> 0;
    return (r[2] | r[3]) !== 0;
  }
  if (asize === 4) { r[2] = r[2] - 1; r[3] = 0; return r[2] !== 0; }
  r[2] = (r[2] & ~0xffff) | ((r[2] - 1) & 0xffff);
  return (r[2] & 0xffff) !== 0;
}

function loop(c: X86Cpu, i: Insn): void { // E0 LOOPNE, E1 LOOPE, E2 LOOP
  const ecx = c.r[2], rcxHi = c.r[3];
  const nz = decCounter(c, i.asize);
  let take = nz;
  if (i.op === 0xe0) take = nz && !c.fl.zf();
  else if (i.op === 0xe1) take = nz && c.fl.zf() !== 0;
  if (!take) return;
  // A target beyond the CS limit faults with rCX as it was (the fault must be restartable).
  if (c.segChecked[SEG_CS] & CHK_FETCH) { c.r[2] = ecx; c.r[3] = rcxHi; branchTarget(c, c.nextRip + i.imm, i.size); decCounter(c, i.asize); }
  c.nextRip = branchTarget(c, c.nextRip + i.imm, i.size);
}

function jcxz(c: X86Cpu, i: Insn): void { // E3
  if (counter(c, i.asize) === 0) c.nextRip = branchTarget(c, c.nextRip + i.imm, i.size);
}

/** Far JMP/CALL to sel:offset (protected mode: code segments only, no call gates). */
function farTransfer(c: X86Cpu, sel: number, offLo: number, offHi: number, size: number, call: boolean): void {
  if (c.cr0 & 1 && isSystemSelector(c, sel)) { farTransferThroughGate(c, sel, call); return; }
  const oldCs = c.segSel[SEG_CS];
  const oldRip = c.nextRip;
  const newCpl = c.cr0 & 1 ? codeDescriptorDpl(c, sel) : 0;
  if (c.cr0 & 1 && newCpl !== c.cpl) c.fault(13, sel & 0xfffc); // only same-privilege far transfers
  // The target offset against the new CS limit (DESC holds its descriptor), before anything changes.
  checkFarTarget(c, size === 2 ? offLo & 0xffff : offLo >>> 0);
  if (call) {
    // Push first (in the old mode) so a stack fault leaves CS unchanged: SS limit check for both slots.
    checkStackRange(c, -2 * size, 2 * size, ACC_WRITE);
    pushRip(c, size === 8 ? 8 : size, 0); // reserve check
    pop(c, size === 8 ? 8 : size);
    push(c, size, oldCs, 0);
    pushRip(c, size, oldRip);
  }
  loadCodeSegment(c, sel, c.cr0 & 1 ? c.cpl : 0);
  if (c.codeSize === 64) c.nextRip = (offHi | 0) * 4294967296 + (offLo >>> 0);
  else c.nextRip = size === 2 ? offLo & 0xffff : offLo >>> 0;
}

function jmpFarPtr(c: X86Cpu, i: Insn): void { // EA
  farTransfer(c, i.imm2, i.imm, 0, i.size, false);
}
function callFarPtr(c: X86Cpu, i: Insn): void { // 9A
  farTransfer(c, i.imm2, i.imm, 0, i.size, true);
}

/** RETF [imm16]: same privilege or return to outer privilege (pops SS:rSP). */
function retFar(c: X86Cpu, i: Insn): void { // CA/CB
  const size = i.size;
  checkReturnFrame(c, size, 2, i.op === 0xca ? i.imm & 0xffff : 0); // #SS(0) before rSP moves
  checkReturnTarget(c, size); // #GP(0) for an EIP beyond the new CS limit, before anything changes
  // Pops, CS and the outer SS:rSP all or nothing: a bad outer SS leaves everything as it was.
  RETF_SAVED.save(c);
  let ipLo: number, ipHi: number;
  try {
    ipLo = pop(c, size); ipHi = size === 8 ? c.hi : 0;
    const cs = pop(c, size) & 0xffff;
    const n = i.op === 0xca ? i.imm & 0xffff : 0;
    const newCpl = c.cr0 & 1 ? cs & 3 : 0;
    if (newCpl < c.cpl) c.fault(13, cs & 0xfffc);
    const outer = newCpl > c.cpl;
    if (n) adjust(c, n);
    // The caller's SS:rSP come off the current stack at the current privilege, before CS changes.
    let sp = 0, spHi = 0, ss = 0;
    if (outer) {
      sp = pop(c, size); spHi = size === 8 ? c.hi : 0;
      ss = pop(c, size) & 0xffff;
    }
    loadCodeSegment(c, cs, newCpl);
    if (outer) {
      loadSegment(c, SEG_SS, ss); // null at CPL 3 -> #GP(0); bad type/RPL/DPL -> #GP(SS); absent -> #SS(SS)
      c.r[8] = sp; c.r[9] = spHi;
      if (n) adjust(c, n);
      if (c.codeSize !== 64) nullInaccessibleSegments(c); // SDM Vol. 2 "RET": ES/DS/FS/GS the caller may not use
    }
  } catch (x) {
    RETF_SAVED.restore(c);
    throw x;
  }
  if (c.codeSize === 64) c.nextRip = (ipHi | 0) * 4294967296 + (ipLo >>> 0);
  else c.nextRip = size === 2 ? ipLo & 0xffff : ipLo >>> 0;
}

const RETF_SAVED = new TransferState();

function adjust(c: X86Cpu, n: number): void {
  const r = c.r;
  if (c.stackSize === 8) c.setRegNum(4, c.regNum(4) + n);
  else if (c.stackSize === 4) r[8] = (r[8] + n) >>> 0;
  else r[8] = (r[8] & ~0xffff) | ((r[8] + n) & 0xffff);
}

/** The target of a near indirect branch (FF /2, /4): the operand, checked as a branch target. */
function indirectTarget(c: X86Cpu, i: Insn): number {
  const size = i.size;
  const lo = i.isMem ? c.rdSize(ea(c, i), size) : c.getReg(i.rm, size, i.rex);
  return size === 8 ? branchTarget(c, (c.hi | 0) * 4294967296 + lo, 8) : branchTarget(c, lo, size);
}

function callIndirect(c: X86Cpu, i: Insn): void { // FF /2
  const target = indirectTarget(c, i);
  pushRip(c, i.size, c.nextRip);
  c.nextRip = target;
}

function jmpIndirect(c: X86Cpu, i: Insn): void { // FF /4
  c.nextRip = indirectTarget(c, i);
}

/** FF /3 and /5: CALL/JMP far m16:16/32/64. */
function farIndirect(call: boolean): Handler {
  return (c, i) => {
    const size = i.size;
    const addr = ea(c, i);
    const off = c.rdSize(addr, size), offHi = size === 8 ? c.hi : 0;
    const sel = c.rd16(addr + size);
    farTransfer(c, sel, off, offHi, size, call);
  };
}

/** Group 5 (FF) /2-/6 (INC/DEC /0 /1 are exec-alu's): one handler per form. */
export function registerControlForms(set: FormSetter): void {
  set([0xff], 2, callIndirect);
  set([0xff], 3, farIndirect(true));
  set([0xff], 4, jmpIndirect);
  set([0xff], 5, farIndirect(false));
  set([0xff], 6, pushE);
}

function int3(c: X86Cpu): void { c.softInterrupt(3); }
function intN(c: X86Cpu, i: Insn): void { c.softInterrupt(i.imm & 0xff); }
function into(c: X86Cpu): void { if (c.fl.of()) c.softInterrupt(4); }
// INT1 (ICEBP) is a "privileged software exception": a trap-class #DB delivered like a hardware
// exception, so the gate's DPL is not checked (on this host Linux's DPL-0 #DB gate gives a user F1 SIGTRAP).
function int1(c: X86Cpu): void { c.trapException(1); }
function iretH(c: X86Cpu, i: Insn): void { iret(c, i.size); }

function hlt(c: X86Cpu): void {
  if (c.cpl !== 0) c.fault(13, 0);
  c.halted = true;
}

function ioplOk(c: X86Cpu): boolean {
  return !(c.cr0 & 1) || c.cpl <= (c.fl.bits & IOPL) >> 12;
}

function cli(c: X86Cpu): void {
  if (!ioplOk(c)) c.fault(13, 0);
  c.fl.bits &= ~IF;
}
function sti(c: X86Cpu): void {
  if (!ioplOk(c)) c.fault(13, 0);
  if (!(c.fl.bits & IF)) c.shadow = true; // interrupts stay blocked for one more instruction
  c.fl.bits |= IF;
}
function clc(c: X86Cpu): void { c.fl.setBit(CF, false); }
function stc(c: X86Cpu): void { c.fl.setBit(CF, true); }
function cmc(c: X86Cpu): void { c.fl.setBit(CF, !c.fl.cf()); }
function cld(c: X86Cpu): void { c.fl.bits &= ~DF; }
function std(c: X86Cpu): void { c.fl.bits |= DF; }

export function registerControl(h: Handler[]): void {
  for (let k = 0; k < 16; k++) { h[0x70 + k] = jcc; h[0x180 + k] = jcc; }
  h[0xe9] = h[0xeb] = jmpRel;
  h[0xe8] = callRel;
  h[0xc2] = h[0xc3] = retNear;
  h[0xe0] = h[0xe1] = h[0xe2] = loop;
  h[0xe3] = jcxz;
  h[0xea] = jmpFarPtr;
  h[0x9a] = callFarPtr;
  h[0xca] = h[0xcb] = retFar;
  h[0xcc] = int3;
  h[0xcd] = intN;
  h[0xce] = into;
  h[0xf1] = int1;
  h[0xcf] = iretH;
  h[0xf4] = hlt;
  h[0xfa] = cli;
  h[0xfb] = sti;
  h[0xf8] = clc;
  h[0xf9] = stc;
  h[0xf5] = cmc;
  h[0xfc] = cld;
  h[0xfd] = std;
  void SEG_SS;
}
