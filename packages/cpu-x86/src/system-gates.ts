import type { X86Cpu } from './cpu.js';
import { SEG_CS, SEG_SS } from './insn.js';
import { DESC, descLimit, readDescriptor, readDescriptorHigh, loadCodeSegment, loadNullSs64 } from './segments.js';
import { ACC_READ, ACC_WRITE, checkStackRange } from './segment-check.js';
import { INNER, TransferState, enterInnerStack, innerStack, stackFrameFits } from './stack-switch.js';
import { push } from './stack.js';
import { taskSwitch, TASK_CALL, TASK_JMP } from './system-tasks.js';
import { takeTaskTrap } from './debug.js';

const TWO32 = 4294967296;

/** True when `sel` names a system descriptor (gate, TSS, LDT): far JMP/CALL then go through here. */
export function isSystemSelector(c: X86Cpu, sel: number): boolean {
  if ((sel & 0xfffc) === 0 || !readDescriptor(c, sel)) return false;
  return (DESC.hi & 0x1000) === 0;
}

/**
 * Far JMP/CALL through a call gate (16/32-bit gates in legacy mode, 16-byte 64-bit gates in long
 * mode), including a CALL to a more privileged non-conforming segment: new stack from the TSS,
 * old SS:rSP pushed, then (legacy gates) the gate's parameter count copied from the old stack.
 * A TSS selector or task gate (legacy mode) switches tasks (system-tasks.ts).
 * Expects DESC to hold the descriptor of `sel` (isSystemSelector just read it).
 */
export function farTransferThroughGate(c: X86Cpu, sel: number, call: boolean): void {
  const long = (c.efer & 0x400) !== 0;
  const gateSel = sel & 0xfffc;
  const lo = DESC.lo, hi = DESC.hi;
  const type = (hi >> 8) & 0xf;
  const task = !long && (type === 0x9 || type === 0x5); // available 32-bit TSS, or task gate
  if (!(task || type === 0xc || (!long && type === 0x4))) c.fault(13, gateSel);
  const dpl = (hi >> 13) & 3;
  if (dpl < c.cpl || dpl < (sel & 3)) c.fault(13, gateSel);
  if (!(hi & 0x8000)) c.fault(11, gateSel);
  const target = lo >>> 16;
  if (task) {
    taskSwitch(c, type === 0x9 ? sel : target, call ? TASK_CALL : TASK_JMP);
    if (takeTaskTrap(c)) c.trapException(1); // TSS T bit: #DB before the new task's first instruction
    return;
  }
  let offset = type === 0xc ? ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0 : lo & 0xffff;
  const size = long ? 8 : type === 0xc ? 4 : 2;
  const params = long ? 0 : hi & 0x1f;
  if (long) {
    readDescriptorHigh(c);
    if (c.sysRd32(DESC.addr + 12) & 0x1f00) c.fault(13, gateSel); // upper half must have type 0
    offset = (DESC.hi2 | 0) * TWO32 + offset;
  }
  // The target code segment.
  if ((target & 0xfffc) === 0) c.fault(13, 0);
  if (!readDescriptor(c, target)) c.fault(13, target & 0xfffc);
  const thi = DESC.hi;
  if ((thi & 0x1800) !== 0x1800) c.fault(13, target & 0xfffc);
  const tdpl = (thi >> 13) & 3;
  const conforming = (thi & 0x400) !== 0;
  if (tdpl > c.cpl || (!call && !conforming && tdpl !== c.cpl)) c.fault(13, target & 0xfffc);
  if (long && (!(thi & 0x200000) || thi & 0x400000)) c.fault(13, target & 0xfffc); // must be 64-bit code
  if (!(thi & 0x8000)) c.fault(11, target & 0xfffc);
  const newCpl = conforming ? c.cpl : tdpl;
  const targetLimit = descLimit(DESC.lo, thi);
  const oldCs = c.segSel[SEG_CS];
  const oldRip = c.nextRip;
  if (long) {
    if (call) {
      if (newCpl < c.cpl) callInner64(c, newCpl);
      push(c, size, oldCs, 0);
      push(c, size, oldRip >>> 0, Math.floor(oldRip / TWO32) >>> 0);
    }
    loadCodeSegment(c, target, newCpl);
    c.nextRip = offset;
    return;
  }
  // Legacy gates (SDM Vol. 2 "CALL"/"JMP"): every stack and limit check before anything changes.
  const inner = call && newCpl < c.cpl;
  if (inner) {
    checkStackRange(c, 0, params * size, ACC_READ); // the parameters on the caller's stack: #SS(0)
    innerStack(c, newCpl, 0); // #TS(TSS), #TS(0), #TS(SS), #SS(SS)
    if (!stackFrameFits(INNER.limit, INNER.attr, INNER.esp, (params + 4) * size)) c.fault(12, INNER.ss & 0xfffc);
  } else if (call) checkStackRange(c, -2 * size, 2 * size, ACC_WRITE); // CS:EIP on the same stack: #SS(0)
  const eip = size === 2 ? offset & 0xffff : offset;
  if (eip > targetLimit) c.fault(13, 0);
  SAVED.save(c);
  try {
    if (inner) callInner(c, newCpl, size, params);
    if (call) {
      push(c, size, oldCs, 0);
      push(c, size, oldRip >>> 0, 0);
    }
    loadCodeSegment(c, target, newCpl);
  } catch (e) {
    SAVED.restore(c); // e.g. a #PF on the new stack: the caller's state stays as it was
    throw e;
  }
  c.nextRip = eip;
}

const SAVED = new TransferState();

/** Legacy call gate to an inner ring: the checked TSS stack, then the caller's SS, ESP and parameters. */
function callInner(c: X86Cpu, newCpl: number, size: number, params: number): void {
  const oldSs = c.segSel[SEG_SS];
  const oldSsBase = c.segBase[SEG_SS];
  const oldSp = c.stackSize === 4 ? c.r[8] >>> 0 : c.r[8] & 0xffff;
  // Parameters are read from the old stack at the old privilege, before the switch.
  const copied: number[] = [];
  for (let k = params - 1; k >= 0; k--) {
    const sp = c.stackSize === 4 ? (oldSp + k * size) >>> 0 : (oldSp + k * size) & 0xffff;
    copied.push(c.readLin((oldSsBase + sp) >>> 0, size, c.accUser));
  }
  enterInnerStack(c, newCpl);
  push(c, size, oldSs, 0);
  push(c, size, oldSp, 0);
  for (const v of copied) push(c, size, v, 0);
}

/** 64-bit call gate to an inner ring: RSP from the TSS, a null SS at the new CPL, old SS and RSP pushed. */
function callInner64(c: X86Cpu, newCpl: number): void {
  const oldCpl = c.cpl;
  const oldSs = c.segSel[SEG_SS];
  const oldSsBase = c.segBase[SEG_SS], oldSsLimit = c.segLimit[SEG_SS], oldSsAttr = c.segAttr[SEG_SS];
  const oldR8 = c.r[8], oldR9 = c.r[9];
  const oldSp = c.regNum(4);
  try {
    c.setCpl(newCpl);
    const off = c.trBase + 4 + newCpl * 8;
    const rsp = (c.sysRd32(off + 4) | 0) * TWO32 + c.sysRd32(off);
    loadNullSs64(c, newCpl, newCpl);
    c.updateMode();
    c.setRegNum(4, rsp);
    push(c, 8, oldSs, 0);
    push(c, 8, oldSp >>> 0, Math.floor(oldSp / TWO32) >>> 0);
  } catch (e) {
    // A fault while switching stacks leaves the caller's state as it was.
    c.segSel[SEG_SS] = oldSs; c.segBase[SEG_SS] = oldSsBase; c.segLimit[SEG_SS] = oldSsLimit; c.segAttr[SEG_SS] = oldSsAttr;
    c.r[8] = oldR8; c.r[9] = oldR9;
    c.setCpl(oldCpl);
    c.updateMode();
    throw e;
  }
}
