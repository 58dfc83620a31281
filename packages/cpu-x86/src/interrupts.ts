import { FAULT, type X86Cpu } from './cpu.js';
import { ACC_USER } from './mmu.js';
import { IF, NT, RF, TF, VM, AC } from './flags.js';
import { SEG_CS, SEG_SS } from './insn.js';
import { codeDescriptorDpl, descLimit, loadCodeSegment, loadNullSs64, loadSegment, readDescriptor, DESC } from './segments.js';
import { INNER, TransferState, currentStackFits, enterInnerStack, innerStack, nullInaccessibleSegments, stackFrameFits } from './stack-switch.js';
import { writeFlags } from './exec-stack.js';
import { push, pop } from './stack.js';
import { ACC_READ, ACC_WRITE, checkReturnFrame, checkReturnTarget, checkStackRange } from './segment-check.js';
import { taskSwitch, TASK_CALL, TASK_IRET } from './system-tasks.js';
import { takeTaskTrap } from './debug.js';

const NAMES = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', 'coprocessor overrun', '#TS', '#NP', '#SS', '#GP', '#PF', 'reserved', '#MF', '#AC', '#MC', '#XM', '#VE'];
const CONTRIBUTORY = new Set([0, 10, 11, 12, 13]);
const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17]);
/** Vectors that are always faults: #DE #BR #UD #NM #TS #NP #SS #GP #PF #MF #AC #XM #VE (#DB decides itself). */
const FAULT_CLASS = 0x1b7ce1;

/** Human-readable description of an exception at the current RIP (for death reasons). */
export function describeVector(c: X86Cpu, vec: number, err: number, rip = c.rip): string {
  let s = `${NAMES[vec] ?? 'vector ' + vec} (vector ${vec})`;
  if (err >= 0) s += ` error code 0x${err.toString(16)}`;
  if (vec === 14) s += ` CR2=0x${c.cr2.toString(16)}`;
  s += ` at ${c.codeSize === 64 ? 'RIP' : 'EIP'}=0x${rip.toString(16)}`;
  if (vec === 6) s += ` opcode bytes ${opcodeBytes(c, rip)}`;
  return s;
}

function opcodeBytes(c: X86Cpu, rip: number): string {
  const out: string[] = [];
  const base = c.codeSize === 64 ? 0 : c.segBase[SEG_CS];
  for (let k = 0; k < 15; k++) {
    try {
      const lin = c.codeSize === 64 ? rip + k : (base + rip + k) >>> 0;
      const p = c.paging ? c.translate(lin, 4) : lin;
      out.push(c.physRead(p, 1).toString(16).padStart(2, '0'));
    } catch (e) {
      if (e !== FAULT) throw e;
      break;
    }
  }
  return out.join(' ');
}

/**
 * Deliver an exception or interrupt through the IDT (or IVT in real mode), escalating to #DF and
 * triple fault when delivery itself faults. Returns false when the CPU died.
 */
export function deliverException(c: X86Cpu, vec: number, err: number, soft: boolean, external: boolean): boolean {
  const firstDesc = describeVector(c, vec, err);
  // Fault-class exceptions push EFLAGS with RF set, so the restarted instruction does not hit an
  // instruction breakpoint again (SDM §18.3.1.1); the handler itself runs with RF clear. Only while a
  // breakpoint is armed: otherwise RF has no effect, and QEMU 7.2 pushes it clear (debug.ts).
  if (c.debugMode !== 0 && !soft && !external && vec < 32 && (FAULT_CLASS >> vec) & 1) c.fl.bits |= RF;
  let v = vec, e = err, s = soft, ext = external;
  for (let depth = 0; ; depth++) {
    try {
      deliver(c, v, e, s, ext);
      // A task gate into a TSS with T=1: #DB before the handler task's first instruction.
      if (c.dbg.taskTrap === 0 || !takeTaskTrap(c)) return true;
      v = 1; e = -1; s = false; ext = false;
      continue;
    } catch (x) {
      if (x !== FAULT) throw x;
      const v2 = c.excVec, e2 = c.excErr;
      if (v === 8 || depth > 3) return c.tripleFault(`${firstDesc}; then ${describeVector(c, v2, e2)} while delivering ${NAMES[v] ?? v}`);
      const first = v;
      if (s) c.rip = c.softIntRip; // the INT instruction itself faulted
      if ((CONTRIBUTORY.has(first) && CONTRIBUTORY.has(v2)) || (first === 14 && (v2 === 14 || CONTRIBUTORY.has(v2)))) {
        v = 8; e = 0;
      } else {
        v = v2; e = e2;
      }
      s = false;
      ext = false; // the escalated event is an exception (with its error code), not an external interrupt
    }
  }
}

/** Deliver a pending NMI (vector 2, no error code); further NMIs wait for the next IRET. */
export function deliverNmi(c: X86Cpu): boolean {
  c.nmiPending = false;
  c.nmiBlocked = true;
  return deliverException(c, 2, -1, false, true);
}

function deliver(c: X86Cpu, vec: number, err: number, soft: boolean, external: boolean): void {
  // EXT is set unless the event is a software interrupt (INT n/INT3/INTO).
  const extBit = soft ? 0 : 1;
  const gateErr = vec * 8 + 2 + extBit;
  const hasErr = err >= 0 && HAS_ERROR_CODE.has(vec) && !soft && !external;
  if (!(c.cr0 & 1)) return deliverReal(c, vec);
  const oldFlags = c.fl.get();
  const oldCpl = c.cpl;
  const oldCs = c.segSel[SEG_CS];
  const oldSs = c.segSel[SEG_SS];
  const oldRip = c.rip;
  if (c.efer & 0x400) {
    if (vec * 16 + 15 > c.idtLimit) c.fault(13, gateErr);
    const g = c.idtBase + vec * 16;
    const lo = c.sysRd32(g), hi = c.sysRd32(g + 4), off2 = c.sysRd32(g + 8);
    const type = (hi >> 8) & 0x1f;
    if (type !== 0x0e && type !== 0x0f) c.fault(13, gateErr);
    if (soft && ((hi >> 13) & 3) < c.cpl) c.fault(13, gateErr);
    if (!(hi & 0x8000)) c.fault(11, gateErr);
    const sel = lo >>> 16;
    const target = (off2 | 0) * 4294967296 + (((lo & 0xffff) | (hi & 0xffff0000)) >>> 0);
    const newCpl = codeDescriptorDpl(c, sel & 0xfffc);
    if (newCpl > c.cpl) c.fault(13, (sel & 0xfffc) + (soft ? 0 : extBit));
    if (!(DESC.hi & 0x200000)) c.fault(13, (sel & 0xfffc) + extBit); // must be a 64-bit code segment
    const ist = hi & 7;
    let rsp: number;
    if (ist !== 0) rsp = rdTss64(c, 0x24 + (ist - 1) * 8);
    else if (newCpl < c.cpl) rsp = rdTss64(c, 4 + newCpl * 8);
    else rsp = c.regNum(4);
    rsp -= rsp % 16 === 0 ? 0 : ((rsp % 16) + 16) % 16;
    const acc = newCpl === 3 ? ACC_USER : 0;
    const frame = [oldSs, c.regNum(4), oldFlags, oldCs, oldRip];
    if (hasErr) frame.push(err);
    let p = rsp;
    for (const v of frame) {
      p -= 8;
      c.writeLin(p, 4, v >>> 0, acc | 1);
      c.writeLin(p + 4, 4, Math.floor(v / 4294967296) >>> 0, acc | 1);
    }
    loadCodeSegment(c, sel, newCpl);
    if (newCpl !== oldCpl) {
      loadNullSs64(c, newCpl, newCpl);
      c.updateMode();
    }
    c.setRegNum(4, p);
    c.rip = target;
    finishFlags(c, oldFlags, type === 0x0e);
    return;
  }
  // 32-bit protected mode.
  if (vec * 8 + 7 > c.idtLimit) c.fault(13, gateErr);
  const g = c.idtBase + vec * 8;
  const lo = c.sysRd32(g), hi = c.sysRd32(g + 4);
  const type = (hi >> 8) & 0x1f;
  if (type !== 0x0e && type !== 0x0f && type !== 0x06 && type !== 0x07 && type !== 0x05) c.fault(13, gateErr);
  if (soft && ((hi >> 13) & 3) < c.cpl) c.fault(13, gateErr);
  if (!(hi & 0x8000)) c.fault(11, gateErr);
  const sel = lo >>> 16;
  if (type === 0x05) { // task gate: switch tasks as a CALL would; the error code goes on the new stack
    c.nextRip = c.rip; // the outgoing task resumes at the faulting (or next, for traps) instruction
    taskSwitch(c, sel, TASK_CALL);
    c.rip = c.nextRip;
    if (hasErr) push(c, 4, err, 0); // a 32-bit TSS: a 32-bit error code
    return;
  }
  const gate32 = (type & 8) !== 0;
  const target = gate32 ? ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0 : lo & 0xffff;
  const newCpl = interruptCodeSegment(c, sel, extBit);
  const csLimit = descLimit(DESC.lo, DESC.hi);
  const size = gate32 ? 4 : 2;
  const frame = (hasErr ? 4 : 3) * size;
  // Every check before anything changes (SDM Vol. 2 "INT n", Vol. 3A §6.12.1), so the event restarts.
  if (newCpl < oldCpl) {
    innerStack(c, newCpl, extBit); // #TS(TSS), #TS(EXT), #TS(SS), #SS(SS)
    if (!stackFrameFits(INNER.limit, INNER.attr, INNER.esp, frame + 2 * size)) c.fault(12, (INNER.ss & 0xfffc) | extBit);
  } else if (!currentStackFits(c, frame)) c.fault(12, extBit);
  if (target > csLimit) c.fault(13, extBit);
  SAVED.save(c);
  try {
    if (newCpl < oldCpl) {
      const oldEsp = c.r[8] >>> 0;
      enterInnerStack(c, newCpl);
      push(c, size, oldSs, 0);
      push(c, size, oldEsp, 0);
    }
    push(c, size, oldFlags, 0);
    push(c, size, oldCs, 0);
    push(c, size, oldRip, 0);
    if (hasErr) push(c, size, err, 0);
    loadCodeSegment(c, sel, newCpl);
  } catch (x) {
    SAVED.restore(c); // e.g. a #PF on the new stack: the interrupted context stays as it was
    throw x;
  }
  c.rip = target;
  finishFlags(c, oldFlags, (type & 1) === 0);
}

const SAVED = new TransferState();
const RET_SAVED = new TransferState();

/**
 * The code segment named by a 16/32-bit interrupt or trap gate (SDM Vol. 2 "INT n"): null -> #GP(EXT);
 * outside its table, not code, or DPL > CPL -> #GP(selector + EXT); not present -> #NP(selector + EXT).
 * Returns the handler's CPL (a conforming segment keeps the current one); DESC keeps the descriptor.
 */
function interruptCodeSegment(c: X86Cpu, sel: number, ext: number): number {
  if ((sel & 0xfffc) === 0) c.fault(13, ext);
  const err = (sel & 0xfffc) | ext;
  if (!readDescriptor(c, sel)) c.fault(13, err);
  const hi = DESC.hi;
  const dpl = (hi >> 13) & 3;
  if ((hi & 0x1800) !== 0x1800 || dpl > c.cpl) c.fault(13, err);
  if (!(hi & 0x8000)) c.fault(11, err);
  return hi & 0x400 ? c.cpl : dpl;
}

function finishFlags(c: X86Cpu, old: number, clearIf: boolean): void {
  let f = old & ~(TF | NT | RF | VM);
  if (clearIf) f &= ~IF;
  c.fl.set(f);
}

function rdTss64(c: X86Cpu, off: number): number {
  const lo = c.sysRd32(c.trBase + off);
  const hi = c.sysRd32(c.trBase + off + 4);
  return (hi | 0) * 4294967296 + lo;
}

function deliverReal(c: X86Cpu, vec: number): void {
  if (vec * 4 + 3 > c.idtLimit) c.fault(13, 0);
  const off = c.readLin(c.idtBase + vec * 4, 2, 0);
  const seg = c.readLin(c.idtBase + vec * 4 + 2, 2, 0);
  const flags = c.fl.get();
  checkStackRange(c, -6, 6, ACC_WRITE); // the 3-word frame inside the SS limit, before any push
  push(c, 2, flags & 0xffff, 0);
  push(c, 2, c.segSel[SEG_CS], 0);
  push(c, 2, c.rip & 0xffff, 0);
  c.segSel[SEG_CS] = seg;
  c.segBase[SEG_CS] = seg * 16;
  c.updateMode(); // CS base changed: drop the cached code page (its CS-limit verdict)
  c.rip = off;
  c.fl.set(flags & ~(IF | TF | AC | RF));
}

/** IRET / IRETD / IRETQ. */
export function iret(c: X86Cpu, size: number): void {
  c.nmiBlocked = false; // any IRET ends NMI blocking, even one that then faults
  if (!(c.cr0 & 1)) {
    checkStackRange(c, 0, 3 * size, ACC_READ); // #SS(0) before SP moves
    checkReturnTarget(c, size); // #GP(0) for an IP beyond the CS limit
    const ip = pop(c, size);
    const cs = pop(c, size) & 0xffff;
    const fl = pop(c, size);
    c.segSel[SEG_CS] = cs;
    c.segBase[SEG_CS] = cs * 16;
    c.updateMode(); // CS base changed: drop the cached code page (its CS-limit verdict)
    c.nextRip = size === 2 ? ip & 0xffff : ip;
    writeFlags(c, size === 2 ? (c.fl.get() & 0xffff0000) | fl : fl, size);
    if (size !== 2) c.fl.bits = (c.fl.bits & ~RF) | (fl & RF); // IRET loads RF (POPF does not)
    return;
  }
  if (c.fl.bits & NT && !(c.efer & 0x400)) { // return to the back-linked task
    taskSwitch(c, c.sysRd16(c.trBase), TASK_IRET);
    if (takeTaskTrap(c)) c.trapException(1); // TSS T bit
    return;
  }
  const long = c.codeSize === 64;
  checkReturnFrame(c, size, 3, 0); // #SS(0) before rSP moves (no-op in 64-bit mode)
  checkReturnTarget(c, size); // #GP(0) for an EIP beyond the new CS limit
  // The pops, CS, EFLAGS and the outer SS:ESP all or nothing: a bad outer SS (#GP/#SS(selector), #GP(0)
  // for a null one at CPL 3) leaves the handler's registers as they were (SDM Vol. 2 "IRET").
  RET_SAVED.save(c);
  let ripLo: number, ripHi: number;
  try {
    ripLo = pop(c, size); ripHi = size === 8 ? c.hi : 0;
    const cs = pop(c, size) & 0xffff;
    const fl = pop(c, size);
    const newCpl = cs & 3;
    if (newCpl < c.cpl) c.fault(13, cs & 0xfffc);
    let spLo = 0, spHi = 0, ss = 0;
    const outer = newCpl > c.cpl;
    if (long || outer) {
      spLo = pop(c, size); spHi = size === 8 ? c.hi : 0;
      ss = pop(c, size) & 0xffff;
    }
    const oldCpl = c.cpl;
    loadCodeSegment(c, cs, newCpl);
    // Flags are written with the privilege of the interrupted (old) level.
    const saveCpl = c.cpl;
    c.setCpl(oldCpl);
    writeFlags(c, fl, size);
    if (size !== 2) c.fl.bits = (c.fl.bits & ~RF) | (fl & RF); // IRET loads RF (POPF does not)
    c.setCpl(saveCpl);
    if (long || outer) {
      if ((ss & 0xfffc) === 0 && c.codeSize === 64 && newCpl < 3) loadNullSs64(c, ss, newCpl);
      else loadSegment(c, SEG_SS, ss);
      c.updateMode();
      if (size === 8) { c.r[8] = spLo; c.r[9] = spHi; }
      else { c.r[8] = spLo; c.r[9] = 0; }
    }
    if (outer && !long) nullInaccessibleSegments(c); // legacy mode only (64-bit FS/GS bases untouched)
  } catch (x) {
    RET_SAVED.restore(c);
    throw x;
  }
  if (c.codeSize === 64) c.nextRip = (ripHi | 0) * 4294967296 + (ripLo >>> 0);
  else c.nextRip = size === 2 ? ripLo & 0xffff : ripLo >>> 0;
}
