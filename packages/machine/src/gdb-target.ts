/**
 * The machine as a gdb target: run control over Machine.run()'s loop. While gdb holds the machine
 * the loop runs no CPU slice and virtual time stands still (the realtime clock is frozen too), but
 * it awaits, so Node's event loop keeps serving gdb's socket.
 */
import type { X86Cpu } from '@unimachine/cpu-x86';
import type { GdbArch, GdbStopReason, GdbTarget, GdbTargetEvent } from '@unimachine/gdbstub';
import type { CpuExit } from '@unimachine/core';
import type { RunResult } from './machine.js';

/** gdb's signal for a guest that ended without an exit status (stopped, dead, interrupted). */
const SIGNAL_FOR_END: Partial<Record<RunResult['end'], number>> = { dead: 11, interrupted: 2, stopped: 9, idle: 9 };

export interface MachineHooks {
  /** Wake the run loop if it is waiting (held or halted). */
  wake(): void;
  /** End the machine (gdb's kill). */
  kill(): void;
  /** The realtime clock stops while gdb holds the machine. */
  freezeClock(frozen: boolean): void;
}

export class MachineGdbTarget implements GdbTarget {
  readonly cpus: readonly X86Cpu[];
  /** No CPU slice runs while true. */
  held: boolean;
  /** The CPU to single-step in the next slice (budget 1, interrupts masked unless it is halted). */
  stepping: number | undefined;
  private interruptRequested = false;
  private listener: ((e: GdbTargetEvent) => void) | undefined;
  private ended = false;
  /** A gdb is connected: it can always wake a halted guest (Ctrl-C), so the machine is never idle. */
  connected = false;

  constructor(cpu: X86Cpu, readonly arch: GdbArch, private readonly hooks: MachineHooks, hold: boolean) {
    this.cpus = [cpu];
    this.held = hold;
    if (hold) hooks.freezeClock(true);
  }

  get stopped(): boolean {
    return this.held || this.ended;
  }

  connection(open: boolean): void {
    this.connected = open;
  }

  listen(l: ((e: GdbTargetEvent) => void) | undefined): void {
    this.listener = l;
  }

  resume(step?: number): void {
    if (this.ended) return;
    for (const cpu of this.cpus) cpu.hostDebug.resume();
    this.stepping = step;
    this.held = false;
    this.hooks.freezeClock(false);
    this.hooks.wake();
  }

  interrupt(): void {
    if (this.held || this.ended) return;
    this.interruptRequested = true;
    for (const cpu of this.cpus) cpu.requestStop();
    this.hooks.wake();
  }

  kill(): void {
    this.hooks.kill();
    this.resume(); // let the loop reach the kill request
  }

  detach(): void {
    this.stepping = undefined;
    this.interruptRequested = false;
    if (this.held) this.resume();
  }

  /** Run loop, before a slice: true when the machine must wait for gdb. */
  mustHold(): boolean {
    if (this.interruptRequested && !this.held) {
      this.interruptRequested = false;
      this.stop(0, { kind: 'interrupt' });
    }
    return this.held;
  }

  /** Run loop: the budget of the next slice. */
  budget(normal: number): number {
    const step = this.stepping;
    for (const [i, cpu] of this.cpus.entries()) cpu.hostDebug.maskInterrupts = step === i && !cpu.halted;
    return step === undefined ? normal : 1;
  }

  /** Run loop, after a slice: a breakpoint, a watchpoint or a finished step holds the machine. */
  afterSlice(exit: CpuExit, retired: number): void {
    for (const [i, cpu] of this.cpus.entries()) {
      cpu.hostDebug.maskInterrupts = false;
      const hit = cpu.hostDebug.takeStop();
      if (hit) return this.stop(i, hit.kind === 'watchpoint' ? { kind: 'watchpoint', address: hit.address, type: hit.type } : hit);
    }
    if (this.stepping !== undefined && retired > 0 && exit !== 'dead') this.stop(this.stepping, { kind: 'step' });
  }

  /** The machine ended: gdb hears W (an exit status) or X (a signal). */
  machineEnded(r: RunResult): void {
    if (this.ended) return;
    this.ended = true;
    this.held = false;
    this.hooks.freezeClock(false);
    const signal = SIGNAL_FOR_END[r.end];
    this.listener?.(signal === undefined ? { kind: 'exit', code: r.exitCode } : { kind: 'terminated', signal });
  }

  private stop(cpu: number, reason: GdbStopReason): void {
    this.held = true;
    this.stepping = undefined;
    this.hooks.freezeClock(true);
    this.listener?.({ kind: 'stop', cpu, reason });
  }
}
