/**
 * Hooks for a debugger on the host (the gdb stub): breakpoints that stop before an instruction runs,
 * watchpoints on data accesses, and the reason the CPU stopped. Nothing is patched into guest memory
 * and nothing here is visible to the guest (DR6/DR7, RF and #DB are the guest's own, in debug.ts).
 *
 * Cost when nothing is armed: X86Cpu.hostBreak and X86Cpu.hostWatch are false. hostBreak makes
 * runBlock() fall back to step() (as DR7 breakpoints do), which then looks the address up before
 * each instruction; hostWatch folds into alignCheck, so data accesses take the checked path that
 * DR7 data breakpoints use, and a hit asks the CPU to stop at the end of the instruction.
 */
import type { X86Cpu } from './cpu.js';

export type HostWatchType = 'write' | 'read' | 'access';

/** Why run() returned 'stopped' for the debugger. */
export type HostStopReason =
  | { kind: 'breakpoint'; address: number; hardware: boolean }
  /** `address`: the first watched byte the access touched. */
  | { kind: 'watchpoint'; address: number; type: HostWatchType; watch: number };

export interface HostWatchpoint {
  address: number;
  length: number;
  type: HostWatchType;
}

const SOFTWARE = 1;
const HARDWARE = 2;

export class HostDebug {
  /** Linear address -> SOFTWARE | HARDWARE (gdb's Z0 and Z1 both stop before the instruction). */
  private readonly breakpoints = new Map<number, number>();
  private readonly watchpoints: HostWatchpoint[] = [];
  /** Linear address whose breakpoint the next instruction ignores: resuming from a stop there runs it. */
  private skip = -1;
  /** Set by a hit, taken by the debugger after run() returns. */
  private reason: HostStopReason | undefined;
  /** While true, run() takes no maskable interrupt (a debugger's single step lands on the next instruction). */
  maskInterrupts = false;

  constructor(private readonly cpu: X86Cpu) {}

  addBreakpoint(address: number, hardware = false): void {
    this.breakpoints.set(address, (this.breakpoints.get(address) ?? 0) | (hardware ? HARDWARE : SOFTWARE));
    this.cpu.hostBreak = true;
  }

  /** False when no such breakpoint was set. */
  removeBreakpoint(address: number, hardware = false): boolean {
    const kinds = this.breakpoints.get(address);
    const bit = hardware ? HARDWARE : SOFTWARE;
    if (kinds === undefined || !(kinds & bit)) return false;
    if (kinds === bit) this.breakpoints.delete(address);
    else this.breakpoints.set(address, kinds & ~bit);
    this.cpu.hostBreak = this.breakpoints.size > 0;
    return true;
  }

  addWatchpoint(w: HostWatchpoint): void {
    this.watchpoints.push({ ...w });
    this.setWatch(true);
  }

  removeWatchpoint(w: HostWatchpoint): boolean {
    const i = this.watchpoints.findIndex((x) => x.address === w.address && x.length === w.length && x.type === w.type);
    if (i < 0) return false;
    this.watchpoints.splice(i, 1);
    this.setWatch(this.watchpoints.length > 0);
    return true;
  }

  /** Remove every breakpoint and watchpoint (the debugger detached). */
  clear(): void {
    this.breakpoints.clear();
    this.watchpoints.length = 0;
    this.cpu.hostBreak = false;
    this.setWatch(false);
    this.skip = -1;
    this.reason = undefined;
    this.maskInterrupts = false;
  }

  /** Before resuming from a stop: the instruction at the current address runs even if a breakpoint is there. */
  resume(): void {
    this.skip = this.cpu.codeSize === 64 ? this.cpu.rip : (this.cpu.segBase[1] + this.cpu.rip) >>> 0;
    this.reason = undefined;
  }

  /** The reason of the last stop, once (undefined when run() stopped for anything else). */
  takeStop(): HostStopReason | undefined {
    const r = this.reason;
    this.reason = undefined;
    return r;
  }

  /** step(), while hostBreak: true when the instruction at `lin` must not run (the CPU is asked to stop). */
  breakHere(lin: number): boolean {
    if (lin === this.skip) {
      this.skip = -1;
      return false;
    }
    this.skip = -1;
    const kinds = this.breakpoints.get(lin);
    if (kinds === undefined) return false;
    this.reason ??= { kind: 'breakpoint', address: lin, hardware: (kinds & SOFTWARE) === 0 };
    this.cpu.requestStop();
    return true;
  }

  /** step(): an instruction restarted in place (a REP string op between chunks) is not a new arrival. */
  restarted(lin: number): void {
    this.skip = lin;
  }

  /** A data access of `size` bytes at linear `lin` (write nonzero for stores), while hostWatch. */
  noteAccess(lin: number, size: number, write: number): void {
    for (const w of this.watchpoints) {
      if (lin >= w.address + w.length || w.address >= lin + size) continue;
      if (w.type === 'write' ? !write : w.type === 'read' ? write : false) continue;
      if (this.reason === undefined) {
        this.reason = { kind: 'watchpoint', address: Math.max(lin, w.address), type: w.type, watch: w.address };
      }
      this.cpu.requestStop(); // sets events: the block ends after this instruction
    }
  }

  private setWatch(on: boolean): void {
    if (this.cpu.hostWatch === on) return;
    this.cpu.hostWatch = on;
    this.cpu.setCpl(this.cpu.cpl); // recompute alignCheck, which routes accesses through noteAccess
  }
}
