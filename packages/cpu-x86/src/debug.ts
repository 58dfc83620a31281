/**
 * Debug registers and #DB (Intel SDM Vol. 3B ch. 18): instruction breakpoints (fault class, before
 * the instruction; EFLAGS.RF suppresses them for one instruction), data breakpoints on writes or
 * reads/writes and I/O breakpoints (trap class, after the instruction or after the REP iteration
 * that hit), single step (each REP iteration too), and the MOV SS / POP SS deferral of trap-class #DB.
 *
 * RF in pushed EFLAGS images: per the SDM (1 for fault-class exceptions and for events between REP
 * iterations) while any breakpoint is armed (debugMode != 0); 0 otherwise, as QEMU 7.2 always pushes
 * it. With no breakpoint armed RF has no effect, so only a handler that prints the image can tell.
 * DR7.GD's #DB always pushes RF=1.
 *
 * Cost when DR7 enables nothing: X86Cpu.debugMode is 0, so step() runs no hook unless TF or RF is
 * set, and data accesses stay on the fast path (X86Cpu.dataWatch folds into alignCheck, the one
 * field test every access already pays).
 */
import { FAULT, type X86Cpu } from './cpu.js';
import { RF, TF } from './flags.js';

/** X86Cpu.debugMode bits. */
export const DBG_EXEC = 1; // an enabled instruction breakpoint
export const DBG_DATA = 2; // an enabled data breakpoint
export const DBG_IO = 4; // an enabled I/O breakpoint (R/W=10)
export const DBG_CARRY = 8; // a #DB deferred by MOV SS / POP SS waits for the next instruction

/** DR6 bits. */
export const DR6_BD = 0x2000;
export const DR6_BS = 0x4000;
/** DR6.BT: the #DB was raised by a task switch into a task whose TSS has T=1 (SDM §18.2.3). */
export const DR6_BT = 0x8000;
export const DR6_FIXED = 0xffff0ff0;
/** DR7: the global-detect bit, the local enables (cleared by a task switch) and the fixed bit. */
export const DR7_GD = 0x2000;
export const DR7_LOCAL = 0x155;
export const DR7_FIXED = 0x400;

/** Breakpoint length in bytes by the DR7 LEN field (10 = 8 bytes, SDM §18.2.5). */
const LEN_BYTES = [1, 2, 8, 4];
/** Opcodes whose interrupt shadow also holds back trap-class #DB: MOV Sreg (8E, when SS) and POP SS. */
const OP_MOV_SREG = 0x8e;
const OP_POP_SS = 0x17;

/** Per-instruction bookkeeping (only touched while a debug facility is active). */
export class DebugState {
  /** DR6 B0-B3 of every breakpoint whose condition matched during this instruction. */
  hit = 0;
  /** Nonzero when one of the matches was an enabled breakpoint: a #DB is due. */
  trigger = 0;
  /** DR6 bits (B0-3, BS) of a #DB held back by MOV SS / POP SS... */
  deferred = 0;
  /** ...and taken over by the instruction after it. */
  carried = 0;
  /** 1 after a completed task switch into a TSS with the T bit (byte 0x64 bit 0) set. */
  taskTrap = 0;
}

function rwOf(dr7: number, n: number): number {
  return (dr7 >>> (16 + 4 * n)) & 3;
}
function lenOf(dr7: number, n: number): number {
  return LEN_BYTES[(dr7 >>> (18 + 4 * n)) & 3];
}
function enabled(dr7: number, n: number): boolean {
  return ((dr7 >>> (2 * n)) & 3) !== 0;
}

/**
 * Recompute what the CPU must watch from DR7: after MOV DR, task switches, reset and restore.
 * R/W=10 is an I/O breakpoint with CR4.DE=1 and undefined with DE=0 (SDM §18.2.4); QEMU 7.2 makes it
 * an I/O breakpoint either way (measured by guest/apps/cpu-debug), and so does this CPU.
 */
export function updateDebugState(c: X86Cpu): void {
  const dr7 = c.dr[7];
  let mode = c.debugMode & DBG_CARRY;
  for (let n = 0; n < 4; n++) {
    if (!enabled(dr7, n)) continue;
    const rw = rwOf(dr7, n);
    if (rw === 0) mode |= DBG_EXEC;
    else if (rw === 2) mode |= DBG_IO;
    else mode |= DBG_DATA;
  }
  c.debugMode = mode;
  // Compiled code checks no breakpoints (nor do the port fast paths it calls): it hands over now.
  if (mode !== 0) c.events = 1;
  c.dbg.trigger = 0; // matches recorded under the old DR7 (e.g. by an exception frame push) are void
  const watch = (mode & DBG_DATA) !== 0;
  if (watch !== c.dataWatch) {
    c.dataWatch = watch;
    c.setCpl(c.cpl); // recompute alignCheck, which routes accesses through noteDataAccess
  }
}

/** Task switches clear the local enables L0-L3 and LE (SDM §18.2.4). */
export function clearLocalBreakpoints(c: X86Cpu): void {
  c.dr[7] = (c.dr[7] & ~DR7_LOCAL) >>> 0;
  updateDebugState(c);
}

/** Reset values: DR0-3 = 0, DR6 = FFFF0FF0H, DR7 = 400H (SDM Vol. 3A Table 10-1). */
export function resetDebugRegisters(c: X86Cpu): void {
  c.dr.fill(0);
  c.dr[6] = DR6_FIXED;
  c.dr[7] = DR7_FIXED;
  c.debugMode = 0;
  const d = c.dbg;
  d.hit = d.trigger = d.deferred = d.carried = d.taskTrap = 0;
  updateDebugState(c);
}

/**
 * A data access of `size` bytes at linear `lin` (write: nonzero for stores and read-modify-write):
 * record every data breakpoint whose aligned range it overlaps (SDM §18.2.5: the address is aligned
 * down to LEN; any byte of the access in the range matches). Called only while dataWatch is set.
 */
export function noteDataAccess(c: X86Cpu, lin: number, size: number, write: number): void {
  const dr7 = c.dr[7];
  for (let n = 0; n < 4; n++) {
    const rw = rwOf(dr7, n);
    if (rw === 0 || rw === 2 || (rw === 1 && !write)) continue;
    const len = lenOf(dr7, n);
    let a = c.dr[n];
    a -= a & (len - 1); // & works on the low 32 bits, which hold the alignment
    if (lin < a + len && a < lin + size) {
      c.dbg.hit |= 1 << n;
      if (enabled(dr7, n)) c.dbg.trigger = 1;
    }
  }
}

/** IN/OUT/INS/OUTS touching ports [port, port+size): I/O breakpoints (R/W=10). */
export function noteIoAccess(c: X86Cpu, port: number, size: number): void {
  const dr7 = c.dr[7];
  for (let n = 0; n < 4; n++) {
    if (rwOf(dr7, n) !== 2) continue;
    const len = lenOf(dr7, n);
    let a = c.dr[n] & 0xffff;
    a -= a & (len - 1);
    if (port < a + len && a < port + size) {
      c.dbg.hit |= 1 << n;
      if (enabled(dr7, n)) c.dbg.trigger = 1;
    }
  }
}

/**
 * Before an instruction at linear `lin` runs (step() calls this while debugMode, TF or RF is set):
 * the instruction-breakpoint check unless RF is set (SDM §18.3.1.1: a fault, taken ahead of fetch
 * faults, §6.9 priority 7), then RF is cleared ("at the start of the instruction after the check
 * for code breakpoints", SDM §18.3.1.1).
 */
export function debugBefore(c: X86Cpu, lin: number): void {
  const d = c.dbg;
  d.hit = 0;
  d.trigger = 0;
  d.carried = 0; // a #DB held back for an instruction that then faulted is dropped
  if (c.debugMode & DBG_CARRY) {
    d.carried = d.deferred;
    d.deferred = 0;
    c.debugMode &= ~DBG_CARRY;
  }
  const bits = c.fl.bits;
  if (bits & RF) {
    c.fl.bits = bits & ~RF;
    return;
  }
  if (!(c.debugMode & DBG_EXEC)) return;
  const dr7 = c.dr[7];
  let matched = 0, fire = false;
  for (let n = 0; n < 4; n++) {
    if (rwOf(dr7, n) !== 0 || c.dr[n] !== lin) continue;
    matched |= 1 << n;
    if (enabled(dr7, n)) fire = true;
  }
  if (!fire) return;
  // The pushed RF stays 0 for this one fault: the handler sets it to resume (SDM §18.3.1.1).
  c.dr[6] = ((c.dr[6] & ~0xf) | matched) >>> 0;
  d.carried = 0;
  c.fault(1);
}

/**
 * After an instruction completed (`watch` as computed before it; `op` its opcode id): raise the
 * trap-class #DB for single step (TF at the start) and for data/I-O breakpoints that hit, with DR6
 * BS and B0-B3 (the matches of disabled breakpoints too, as hardware reports them). After MOV SS /
 * POP SS the #DB waits for the next instruction (SDM §6.8.3).
 */
export function debugAfter(c: X86Cpu, watch: number, op: number): void {
  const d = c.dbg;
  let pend = d.carried;
  d.carried = 0;
  if (watch & TF) pend |= DR6_BS;
  if (d.trigger) pend |= d.hit;
  if (pend === 0) return;
  if (c.shadow && (op === OP_POP_SS || op === OP_MOV_SREG)) {
    d.deferred |= pend;
    c.debugMode |= DBG_CARRY;
    return;
  }
  raiseDebugTrap(c, pend);
}

/**
 * A task switch that loaded a TSS with T=1 owes a #DB: a trap taken after the switch completes and
 * before the first instruction of the new task, with DR6.BT set (SDM Vol. 3A §7.3 step 12,
 * §18.3.1.5). Returns true (and sets BT) when one is due; the caller raises it.
 */
export function takeTaskTrap(c: X86Cpu): boolean {
  if (c.dbg.taskTrap === 0) return false;
  c.dbg.taskTrap = 0;
  c.dr[6] = (c.dr[6] | DR6_BT) >>> 0;
  return true;
}

/** Deliver a trap-class #DB with DR6 bits `pend` (B0-3 replaced when breakpoints hit; BS added). */
function raiseDebugTrap(c: X86Cpu, pend: number): never {
  let dr6 = c.dr[6];
  if (pend & 0xf) dr6 = (dr6 & ~0xf) | (pend & 0xf);
  c.dr[6] = (dr6 | (pend & DR6_BS)) >>> 0;
  c.excVec = 1;
  c.excErr = -1;
  c.excSoft = false;
  throw FAULT;
}
