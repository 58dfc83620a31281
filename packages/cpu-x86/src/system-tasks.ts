import type { X86Cpu } from './cpu.js';
import { SEG_CS, SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS } from './insn.js';
import { DESC, readDescriptor, descBase, descLimit, loadCodeSegment, loadSegment } from './segments.js';
import { DR7_LOCAL, clearLocalBreakpoints } from './debug.js';

const NT = 0x4000;
const BUSY = 0x200;
/** TSS offsets of ES, CS, SS, DS, FS, GS: in segment-register order (0=ES ... 5=GS). */
const SEG_OFFSETS = [0x48, 0x4c, 0x50, 0x54, 0x58, 0x5c];

/** What started a task switch (busy bits, NT and the back link depend on it). */
export const TASK_JMP = 0, TASK_CALL = 1, TASK_IRET = 2;

/**
 * Hardware task switch to the 32-bit TSS named by `sel` (legacy protected mode only): the outgoing
 * state is saved in the current TSS, the incoming one loaded (CR3, EIP, EFLAGS, general registers,
 * LDTR, segment registers), busy bits, NT and the back link follow the JMP/CALL/IRET rules, and CR0.TS
 * is set. 16-bit TSSs are not supported (#GP). Descriptor checks give #GP/#NP/#TS(selector). A new TSS
 * with the T bit leaves c.dbg.taskTrap set: the caller raises the #DB (debug.ts takeTaskTrap).
 */
export function taskSwitch(c: X86Cpu, sel: number, kind: number): void {
  if (c.efer & 0x400) c.fault(13, sel & 0xfffc); // no task switches in long mode
  const idx = sel & 0xfffc;
  if (sel & 4 || !readDescriptor(c, sel)) c.fault(kind === TASK_IRET ? 10 : 13, idx);
  const hi = DESC.hi;
  const type = (hi >> 8) & 0x1f;
  const wantBusy = kind === TASK_IRET;
  if (type !== (wantBusy ? 0x0b : 0x09)) c.fault(kind === TASK_IRET ? 10 : 13, idx);
  if (!(hi & 0x8000)) c.fault(11, idx);
  const newBase = descBase(DESC.lo, hi);
  const newLimit = descLimit(DESC.lo, hi);
  const newDescAddr = DESC.addr;
  if (newLimit < 0x67) c.fault(10, idx);

  // Save the outgoing task.
  const old = c.trBase;
  let flags = c.fl.get();
  if (kind === TASK_IRET) flags &= ~NT;
  c.sysWr32(old + 0x20, c.nextRip >>> 0);
  c.sysWr32(old + 0x24, flags);
  for (let k = 0; k < 8; k++) c.sysWr32(old + 0x28 + k * 4, c.r[2 * k]);
  for (let s = 0; s < 6; s++) c.sysWr32(old + SEG_OFFSETS[s], c.segSel[s]);
  if (kind !== TASK_CALL) setBusy(c, c.trSel, false);

  // Read the incoming task.
  const rd = (off: number): number => c.sysRd32(newBase + off);
  const cr3 = rd(0x1c), eip = rd(0x20);
  let newFlags = rd(0x24);
  const gpr = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => rd(0x28 + k * 4));
  const segs = SEG_OFFSETS.map((o) => rd(o) & 0xffff);
  const ldt = rd(0x60) & 0xffff;
  const debugTrap = rd(0x64) & 1; // T: #DB once the switch completes (SDM Vol. 3A §7.2.1)
  if (kind === TASK_CALL) {
    c.sysWr32(newBase, c.trSel); // back link
    newFlags |= NT;
  }
  if (kind !== TASK_IRET) {
    const d = c.sysRd32(newDescAddr + 4);
    c.sysWr32(newDescAddr + 4, d | BUSY);
  }
  c.trSel = sel & 0xffff;
  c.trBase = newBase;
  c.trLimit = newLimit;
  c.trAttr = 0x8b;
  c.cr0 |= 8; // TS
  if (c.dr[7] & DR7_LOCAL) clearLocalBreakpoints(c); // local breakpoint enables end with the task (SDM §18.2.4)
  if (c.paging && cr3 !== c.cr3) { c.cr3 = cr3; c.tlb.flush(); }
  for (let k = 0; k < 8; k++) { c.r[2 * k] = gpr[k]; c.r[2 * k + 1] = 0; }
  c.fl.set(newFlags | 2);
  c.nextRip = eip;

  // LDTR, then the segment registers at the new task's privilege (CS RPL).
  loadLdt(c, ldt);
  const cpl = segs[SEG_CS] & 3;
  c.setCpl(cpl);
  loadCodeSegment(c, segs[SEG_CS], cpl);
  loadSegment(c, SEG_SS, segs[SEG_SS]);
  for (const s of [SEG_ES, SEG_DS, SEG_FS, SEG_GS]) loadSegment(c, s, segs[s]);
  c.dbg.taskTrap = debugTrap; // raised by the caller through takeTaskTrap once its work is done
}

function setBusy(c: X86Cpu, sel: number, busy: boolean): void {
  if ((sel & 0xfffc) === 0 || !readDescriptor(c, sel)) return;
  c.sysWr32(DESC.addr + 4, busy ? DESC.hi | BUSY : DESC.hi & ~BUSY);
}

function loadLdt(c: X86Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) { c.ldtSel = sel; c.ldtBase = 0; c.ldtLimit = 0; return; }
  if (sel & 4 || !readDescriptor(c, sel) || ((DESC.hi >> 8) & 0x1f) !== 0x02) c.fault(10, sel & 0xfffc);
  if (!(DESC.hi & 0x8000)) c.fault(10, sel & 0xfffc);
  c.ldtSel = sel; c.ldtBase = descBase(DESC.lo, DESC.hi); c.ldtLimit = descLimit(DESC.lo, DESC.hi);
}
