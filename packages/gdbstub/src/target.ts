/**
 * What the server needs from the thing it debugs: the processors (one gdb thread each) and run
 * control. @unimachine/machine implements it over its run loop (`m.gdbServer()`); a test or an
 * embedder can implement it over a bare X86Cpu.
 */
import type { X86Cpu } from '@unimachine/cpu-x86';
import type { GdbArch } from './registers.js';

/** Why the guest stopped. */
export type GdbStopReason =
  | { kind: 'breakpoint'; address: number; hardware: boolean }
  | { kind: 'watchpoint'; address: number; type: 'write' | 'read' | 'access' }
  | { kind: 'step' }
  /** Ctrl-C from gdb (or the target was stopped for a newly attached gdb). */
  | { kind: 'interrupt' }
  /** Held before the first instruction (the machine waits for gdb, like QEMU's -S). */
  | { kind: 'initial' };

export type GdbTargetEvent =
  | { kind: 'stop'; cpu: number; reason: GdbStopReason }
  /** The guest ended with an exit status (isa-debug-exit): gdb gets W. */
  | { kind: 'exit'; code: number }
  /** The guest ended otherwise (triple fault, stopped): gdb gets X with this signal number. */
  | { kind: 'terminated'; signal: number };

export interface GdbTarget {
  readonly cpus: readonly X86Cpu[];
  /** Registers gdb is told about: always 64-bit for a 64-bit kernel, 32-bit for a 32-bit one. */
  readonly arch: GdbArch;
  /** Stopped (for gdb) right now: registers and memory are stable. */
  readonly stopped: boolean;
  /** Run again: single-step CPU `step` (one instruction), or continue every CPU. Ends with a 'stop' event. */
  resume(step?: number): void;
  /** Stop a running guest at the next instruction boundary (gdb's Ctrl-C): a 'stop' event follows. */
  interrupt(): void;
  /** End the guest (gdb's `k`). */
  kill(): void;
  /** gdb went away: breakpoints are gone, the guest runs freely. */
  detach(): void;
  /** A gdb connected (true) or went away (false): a halted guest with nothing else to wake it waits for gdb. */
  connection?(open: boolean): void;
  /** The target reports stops and its end here (one listener, the server). */
  listen(listener: ((e: GdbTargetEvent) => void) | undefined): void;
}

/** Signal numbers of stop replies (gdb's own numbering, which matches Linux's for these). */
export const GDB_SIGNALS = { SIGINT: 2, SIGTRAP: 5, SIGKILL: 9, SIGSEGV: 11 } as const;
