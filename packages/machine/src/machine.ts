import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { DependencyContainer } from 'tsyringe';
import { CLOCK_CELLS, rearmTimer, saveTimer, type BlockBackend, type Cpu, type Device, type GuestMemory, type MachineClock, type MachineControl, type MmioBus, type PortBus, type Timer } from '@unimachine/core';
import type { BuiltBackend } from './build-devices.js';
import type { RecordingConsole } from './console.js';
import { ConsoleWatch } from './console-watch.js';
import { buildCompiledPortIo } from './port-fast-paths.js';
import type { HostEvents } from './host-events.js';
import { EXIT_INTERRUPTED, EXIT_MACHINE_STOPPED, EXIT_TIMEOUT } from './errors.js';
import { backendToken, deviceToken } from './tokens.js';
import type { X86Cpu } from '@unimachine/cpu-x86';
import type { GdbArch, GdbServer, GdbServerOptions } from '@unimachine/gdbstub';
import { MachineGdbTarget } from './gdb-target.js';
import { SmpRunner, type SmpCpu } from './smp-runner.js';
import { captureParts, checkConsoleState, MachineSnapshotError, restoreParts } from './machine-snapshot.js';
import { checkSnapshotHeader, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type MachineDescription, type MachineSnapshot } from './snapshot.js';

/** Deterministic time: each retired instruction is 1 ns of guest time (a nominal 1 GHz, 1 IPC). */
export const NS_PER_INSTRUCTION = 1;
/** Deterministic time: an I/O port access costs 1 µs, about what an ISA access takes on real hardware. */
export const NS_PER_PORT_ACCESS = 1000;
/**
 * Host input reaches a console device one byte per 87 µs of guest time, the pace of a 115200-baud
 * 8N1 line: a UART without FIFO (or a guest reading slowly) would otherwise lose bytes to overrun
 * when a whole pasted line arrives at once.
 */
export const NS_PER_INPUT_BYTE = 87_000;
/** Most instructions one CPU slice runs before timers, `until` and the event loop get a look. */
const MAX_SLICE = 200_000;
/** Host milliseconds between turns given to Node's event loop (stdin, sockets, timers). */
const YIELD_EVERY_MS = 15;
/** Realtime: the guest's speed (instructions per host ms) assumed before the first slice measures it. */
const INITIAL_INSTRUCTIONS_PER_MS = 10_000;

export type RunEnd =
  | 'exit' // the guest asked to exit (isa-debug-exit)
  | 'reset' // the guest asked for a reset and on-reset is stop
  | 'dead' // the CPU cannot continue (triple fault, HLT with IF=0, ...)
  | 'stopped' // a device called MachineControl.stop()
  | 'idle' // halted with interrupts enabled, but nothing can ever wake it
  | 'interrupted' // Ctrl-C / interrupt()
  | 'until' // the caller's condition became true (the machine can run on)
  | 'timeout'; // timeoutMs ran out (the machine can run on)

export interface RunResult {
  end: RunEnd;
  /** The process exit code this end maps to (guest code for 'exit'). */
  exitCode: number;
  /** Why it stopped, for 'dead', 'stopped', 'idle', 'reset'. */
  message?: string;
}

export interface RunOptions {
  /** 'exit' (default): run until the machine ends; or a condition checked between CPU slices and on console output. */
  until?: 'exit' | ((m: Machine) => boolean);
  /** Host wall-clock limit in milliseconds. */
  timeoutMs?: number;
  /**
   * Deterministic mode: return ('until') once virtual time reaches this many nanoseconds. Slices end
   * exactly there and a halted guest jumps to it without waiting for the host: the quantum of a
   * lockstep run of several machines (runTogether).
   */
  untilTime?: number;
}

type ControlRequest = { kind: 'exit'; code: number } | { kind: 'reset'; reason: string } | { kind: 'stop'; reason: string } | { kind: 'interrupt' };

/** A saved pending request, checked. */
function checkRequest(r: unknown): ControlRequest | undefined {
  if (r === null || r === undefined) return undefined;
  const q = r as { kind?: unknown; code?: unknown; reason?: unknown };
  if (q.kind === 'exit' && Number.isSafeInteger(q.code)) return { kind: 'exit', code: q.code as number };
  if ((q.kind === 'reset' || q.kind === 'stop') && typeof q.reason === 'string') return { kind: q.kind, reason: q.reason };
  if (q.kind === 'interrupt') return { kind: 'interrupt' };
  throw new MachineSnapshotError('snapshot: the pending machine request is malformed');
}

/** A disk's contents for tests: `m.disk('disk0').read(512 * 5, 512)`. */
export interface DiskView {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  /** The whole disk (allocates `size` bytes). */
  bytes(): Uint8Array;
}

export interface MachineParts {
  name: string;
  container: DependencyContainer;
  memory: GuestMemory;
  ports: PortBus;
  mmio: MmioBus;
  clock: MachineClock;
  devices: { id: string; type: string; instance: Device }[];
  /** Backends of the devices, disposed after them. */
  backends: BuiltBackend[];
  /** Host sources (sockets, taps, peers) that can wake a halted guest. */
  host: HostEvents;
  consoles: Map<string, RecordingConsole>;
  onReset: 'stop' | 'reboot';
  /** Load the kernel into RAM and put the CPU at its entry (used at start and on reboot). */
  boot: (cpu: Cpu) => void;
  /** ELF class of the kernel (64 for a non-ELF image): the registers a debugger is shown. */
  kernelBits?: 32 | 64;
  /** What the machine was built from, so a snapshot can rebuild it (createMachine(snapshot)). */
  description?: MachineDescription;
}

export interface MachineGdbOptions extends GdbServerOptions {
  /**
   * Hold the machine before its first (or next) instruction until gdb says continue or step, like
   * QEMU's -S (default true). With false the guest runs on, and stops when gdb attaches.
   */
  wait?: boolean;
  /** Registers gdb is shown: 'x86-64' (default for a 64-bit kernel, in every CPU mode) or 'i386'. */
  arch?: GdbArch;
}

/** A built machine: run it, watch its consoles, poke its devices (the test API). */
export class Machine implements MachineControl {
  readonly name: string;
  readonly memory: GuestMemory;
  readonly ports: PortBus;
  readonly mmio: MmioBus;
  readonly clock: MachineClock;
  readonly container: DependencyContainer;
  /** Set when the machine ends for good (exit, reset with on-reset: stop, dead, stopped, idle, interrupted). */
  exitCode: number | undefined;
  /** The final result once the machine has ended. */
  result: RunResult | undefined;
  /** The CLI sets this when a terminal is attached, so a halted guest may wait for keyboard input. */
  inputPossible = false;

  private cpuInstance: Cpu | undefined;
  private cpuList: Cpu[] = [];
  /** Several CPUs: runs them interleaved (smp-runner.ts); undefined on a one-CPU machine. */
  private smp: SmpRunner | undefined;
  /** The application processors' local APICs (the BSP's is a device): reset and disposed with the machine. */
  private apApics: { reset(): void; dispose(): void } | undefined;
  private readonly parts: MachineParts;
  private request: ControlRequest | undefined;
  private wake: (() => void) | undefined;
  private watchingOutput = false;
  private disposed = false;
  private running = false;
  /** Realtime: instructions per host millisecond, measured over the recent slices. */
  private instructionsPerMs = INITIAL_INSTRUCTIONS_PER_MS;
  /** Run control for an attached gdb (m.gdbServer()), and its server (closed by dispose()). */
  private gdb: MachineGdbTarget | undefined;
  private gdbListener: GdbServer | undefined;

  constructor(parts: MachineParts) {
    this.parts = parts;
    this.name = parts.name;
    this.memory = parts.memory;
    this.ports = parts.ports;
    this.mmio = parts.mmio;
    this.clock = parts.clock;
    this.container = parts.container;
    for (const c of parts.consoles.values()) {
      // While run() watches an `until` condition, output ends the slice so it is checked at once.
      c.onOutput = () => {
        if (this.watchingOutput) this.runningCpu()?.requestStop();
      };
      c.onSend = () => this.paceInput(c);
    }
    parts.host.onWake = () => this.wake?.();
  }

  get cpu(): Cpu {
    if (!this.cpuInstance) throw new Error('the machine has no CPU yet');
    return this.cpuInstance;
  }

  /** Every CPU, CPU 0 (the BSP) first. */
  get cpus(): readonly Cpu[] {
    return this.cpuList;
  }

  /** @internal Called once by the builder when the CPU exists. */
  attachCpu(cpu: Cpu): void {
    this.attachCpus([cpu]);
  }

  /**
   * @internal Called once by the builder with every CPU (CPU 0 boots the kernel) and, with several,
   * what selects the running CPU's local APIC and the APs' APICs.
   */
  attachCpus(cpus: Cpu[], apics?: { select(index: number): void; reset(): void; dispose(): void }): void {
    this.cpuInstance = cpus[0];
    this.cpuList = cpus;
    const deterministic = this.clock.mode === 'deterministic';
    if (cpus.length > 1) {
      this.smp = new SmpRunner(cpus as SmpCpu[], this.clock, deterministic, (i) => apics?.select(i));
      this.apApics = apics;
    }
    if (!deterministic) return; // realtime: the host clock, nothing to charge
    const smp = this.smp;
    const cpu = cpus[0];
    this.clock.countInstructions(smp ? () => smp.virtualInstructions() : () => cpu.instructionsRetired, NS_PER_INSTRUCTION);
    const clock = this.clock;
    this.ports.onAccess = () => {
      // An access may carry time past a deadline: end the slice so the timer fires on time.
      if (clock.advance(NS_PER_PORT_ACCESS)) this.runningCpu()?.requestStop();
    };
    if (!smp && cpu.usePortFastPaths) this.compilePortFastPaths(cpu);
  }

  /**
   * Compiled code reaches the devices' port fast paths directly (a PIT polled in a calibration loop,
   * a PCI bus scan): the clock's cells move into the machine's memory, where they can charge time too.
   */
  private compilePortFastPaths(cpu: Cpu): void {
    const paths = this.ports.fastPaths();
    if (paths.length === 0) return;
    const cellsAt = this.memory.allocateHostArea(CLOCK_CELLS.COUNT * 8, 8);
    this.clock.placeCells(new Float64Array(this.memory.buffer, cellsAt, CLOCK_CELLS.COUNT));
    const compiled = buildCompiledPortIo(this.memory, paths, cellsAt, NS_PER_PORT_ACCESS);
    cpu.usePortFastPaths!(compiled.io, compiled.ports);
  }

  /** The CPU executing now (SMP: the one whose turn it is), else CPU 0: where a stop request goes. */
  private runningCpu(): Cpu | undefined {
    return this.smp?.current ?? this.cpuInstance;
  }

  /** Instructions retired by every CPU. */
  private retired(): number {
    return this.smp ? this.smp.totalRetired() : this.cpu.instructionsRetired;
  }

  /** A device by its YAML id. */
  device<T = unknown>(id: string): T {
    if (!this.container.isRegistered(deviceToken(id))) throw new Error(`no device "${id}" in machine ${this.name}`);
    return this.container.resolve<T>(deviceToken(id));
  }

  /**
   * The disk behind a block device (e.g. `disk0`) as the guest left it: through its backend, so a
   * copy-on-write overlay or a memory disk reads as the guest sees it.
   */
  disk(id: string, property = 'backend'): DiskView {
    const token = backendToken(id, property);
    if (!this.container.isRegistered(token)) throw new Error(`device "${id}" of machine ${this.name} has no block backend "${property}"`);
    const backend = this.container.resolve<BlockBackend>(token);
    if (typeof backend.read !== 'function' || typeof backend.size !== 'number') throw new Error(`the "${property}" of device "${id}" is not a block backend`);
    return {
      size: backend.size,
      read: (offset: number, length: number) => {
        const out = new Uint8Array(length);
        backend.read(offset, out);
        return out;
      },
      bytes: () => {
        const out = new Uint8Array(backend.size);
        backend.read(0, out);
        return out;
      },
    };
  }

  private readonly watches = new Map<string, ConsoleWatch>();

  /**
   * A console as a test talks to it: `await m.uart('com1').waitForLine(/login:/, { timeout: '5s' })`,
   * `sendLine()`, `expect([...])`. One watch per console, so waits continue where the last one matched.
   */
  uart(id: string): ConsoleWatch {
    let w = this.watches.get(id);
    if (!w) this.watches.set(id, (w = new ConsoleWatch(this, id, this.console(id))));
    return w;
  }

  /** The console of a device (e.g. `com1`): text(), bytes(), send(). */
  console(id: string): RecordingConsole {
    const c = this.parts.consoles.get(id);
    if (!c) throw new Error(`device "${id}" has no console in machine ${this.name} (consoles: ${[...this.parts.consoles.keys()].join(', ') || 'none'})`);
    return c;
  }

  consoles(): ReadonlyMap<string, RecordingConsole> {
    return this.parts.consoles;
  }

  // MachineControl: devices ask; the run loop acts at the next instruction boundary.
  exit(code: number): void {
    this.post({ kind: 'exit', code });
  }
  reset(reason: string): void {
    this.post({ kind: 'reset', reason });
  }
  stop(reason: string): void {
    this.post({ kind: 'stop', reason });
  }
  /** Stop from the host side (Ctrl-C). */
  interrupt(): void {
    this.post({ kind: 'interrupt' });
  }

  /**
   * A GDB remote stub for this machine on a TCP port (127.0.0.1 unless `host` says otherwise):
   * `const gdb = await m.gdbServer({ port: 1234 })`, then `target remote 127.0.0.1:1234` in gdb.
   * The machine holds before its next instruction until gdb continues (unless `wait: false`);
   * when the guest ends, gdb is told (W with its exit status). Close it with `gdb.close()`.
   */
  async gdbServer(opts: MachineGdbOptions = {}): Promise<GdbServer> {
    if (this.gdb) throw new Error(`machine ${this.name} already has a gdb server`);
    const cpu = this.cpu as X86Cpu;
    if (!('hostDebug' in cpu)) throw new Error(`the CPU of machine ${this.name} has no debugger hooks`);
    const { GdbServer } = await import('@unimachine/gdbstub');
    const arch = opts.arch ?? (this.parts.kernelBits === 32 ? 'i386' : 'x86-64');
    const target = new MachineGdbTarget(cpu, arch, {
      wake: () => this.wake?.(),
      kill: () => this.stop('killed by gdb'),
      freezeClock: (frozen) => this.clock.freeze(frozen),
    }, opts.wait ?? true);
    this.gdb = target;
    try {
      this.gdbListener = await GdbServer.listen(target, opts);
      return this.gdbListener;
    } catch (e) {
      this.gdb = undefined;
      target.detach();
      throw e;
    }
  }

  /** The pending input delivery of each console being fed (a snapshot saves and re-arms them). */
  private readonly pacing = new Map<RecordingConsole, Timer>();

  /** Host input arrived: feed it to the device byte by byte on the machine clock, and wake a waiting loop. */
  private paceInput(c: RecordingConsole): void {
    if (!this.pacing.has(c)) this.pacing.set(c, this.clock.schedule(this.clock.now(), () => this.deliverPaced(c)));
    this.wake?.();
  }

  private deliverPaced(c: RecordingConsole): void {
    if (c.deliverInput() && c.pendingInput > 0) this.pacing.set(c, this.clock.schedule(this.clock.now() + NS_PER_INPUT_BYTE, () => this.deliverPaced(c)));
    else this.pacing.delete(c);
  }

  /**
   * The whole machine, frozen between runs (after run() or a waitForLine() returned): CPU, the
   * non-zero RAM pages, every device and backend, the clock and its pending timers (as their
   * owners' state), consoles with queued input, and the description to rebuild it. Restore it with
   * m.restore(snapshot) or build a new machine with createMachine(snapshot); any number of
   * machines can restore one snapshot. Throws MachineSnapshotError naming a part that cannot be
   * saved (a writable image file, a device without snapshot()).
   */
  snapshot(): MachineSnapshot {
    if (this.running) throw new MachineSnapshotError(`machine ${this.name} is running; take a snapshot between runs (after run() or waitForLine() returns)`);
    this.refuseSmpSnapshot();
    if (this.result) throw new MachineSnapshotError(`machine ${this.name} has ended (${this.result.end}, status ${this.result.exitCode}); there is nothing to continue`);
    const description = this.parts.description;
    if (!description) throw new MachineSnapshotError(`machine ${this.name} was not built by createMachine(), so a snapshot could not rebuild it`);
    const parts = captureParts(this.parts, this.cpu);
    const consoles = [...this.parts.consoles].map(([id, c]) => ({
      id,
      output: c.bytes(),
      input: c.queuedBytes(),
      pacing: saveTimer(this.pacing.get(c)),
      watchCursor: this.watches.get(id)?.cursor ?? 0,
    }));
    const request = this.request ? { ...this.request } : null;
    return { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, name: this.name, description, ...parts, consoles, request };
  }

  /**
   * Continue from `snapshot` (taken of a machine built from the same description): afterwards this
   * machine runs exactly as the original did from that point (same console bytes, instruction
   * counts and virtual times in deterministic mode). Throws MachineSnapshotError naming what does
   * not fit; after a failed restore the machine is in no defined state (dispose it).
   */
  restore(snapshot: MachineSnapshot): void {
    this.restoreFrom(snapshot, false);
  }

  /** @internal createMachine(snapshot): the RAM is still all zero, so only the saved pages are written. */
  restoreFresh(snapshot: MachineSnapshot): void {
    this.restoreFrom(snapshot, true);
  }

  private restoreFrom(snapshot: MachineSnapshot, ramIsZero: boolean): void {
    if (this.running) throw new MachineSnapshotError(`machine ${this.name} is running; restore between runs`);
    this.refuseSmpSnapshot();
    const s = checkSnapshotHeader(snapshot);
    const consoles = (s.consoles as unknown[]).map(checkConsoleState);
    const request = checkRequest(s.request);
    restoreParts(this.parts, this.cpu, s, ramIsZero);
    this.pacing.clear(); // the clock dropped their timers
    for (const c of this.parts.consoles.values()) c.restoreState(new Uint8Array(0), new Uint8Array(0));
    for (const saved of consoles) {
      const c = this.parts.consoles.get(saved.id)!;
      c.restoreState(saved.output, saved.input);
      const timer = rearmTimer(this.clock, saved.pacing, () => this.deliverPaced(c));
      if (timer) this.pacing.set(c, timer);
      this.uart(saved.id).cursor = saved.watchCursor;
    }
    this.request = request;
    this.result = undefined;
    this.exitCode = undefined;
  }

  /** Snapshots save one CPU; a machine with several refuses rather than lose the others. */
  private refuseSmpSnapshot(): void {
    if (this.cpuList.length > 1) {
      throw new MachineSnapshotError(`machine ${this.name} has ${this.cpuList.length} CPUs; snapshots support cpus: 1 only`);
    }
  }

  private post(r: ControlRequest): void {
    // The first request wins: an exit followed by a reset in the same slice is still an exit.
    this.request ??= r;
    this.runningCpu()?.requestStop();
    this.wake?.();
  }

  async run(opts: RunOptions = {}): Promise<RunResult> {
    if (this.result) return this.result;
    if (this.running) throw new Error(`machine ${this.name} is already running`);
    const cpu = this.cpu;
    this.running = true;
    const until = typeof opts.until === 'function' ? opts.until : undefined;
    const hostDeadline = opts.timeoutMs !== undefined ? performance.now() + opts.timeoutMs : Infinity;
    const deterministic = this.clock.mode === 'deterministic';
    let lastYield = performance.now();
    this.watchingOutput = until !== undefined;
    const quantumEnd = deterministic && opts.untilTime !== undefined ? this.clock.schedule(opts.untilTime, () => {}) : undefined;
    try {
      for (;;) {
        this.clock.runDue();
        if (this.request) {
          const end = this.handleRequest(cpu);
          if (end) return end;
        }
        if (until?.(this)) return { end: 'until', exitCode: 0 };
        if (quantumEnd && this.clock.now() >= quantumEnd.deadline) return { end: 'until', exitCode: 0 };
        if (this.gdb?.mustHold()) {
          if (await this.holdForDebugger(hostDeadline)) return { end: 'timeout', exitCode: EXIT_TIMEOUT, message: `still running after ${opts.timeoutMs} ms` };
          lastYield = performance.now();
          continue;
        }

        const next = this.clock.nextDeadline();
        let budget = MAX_SLICE;
        if (next !== Infinity) {
          // Realtime: the deadline is in host time, so the slice is as many instructions as the
          // guest runs (at its measured speed) before then; otherwise a busy guest's timer fires late.
          const perNs = deterministic ? 1 / NS_PER_INSTRUCTION : this.instructionsPerMs / 1e6;
          budget = Math.max(1, Math.min(MAX_SLICE, Math.ceil((next - this.clock.now()) * perNs)));
        }
        const sliceStart = deterministic ? 0 : performance.now();
        const retiredBefore = cpu.instructionsRetired;
        const allBefore = this.retired();
        if (this.gdb) budget = this.gdb.budget(budget);
        const exit = this.smp ? this.smp.run(budget) : cpu.run(budget);
        if (!deterministic) this.measureSpeed(this.retired() - allBefore, performance.now() - sliceStart);
        // gdb drives CPU 0 only: it counts CPU 0's instructions.
        this.gdb?.afterSlice(exit, cpu.instructionsRetired - retiredBefore);

        if (exit === 'dead') {
          const message = (this.smp ? this.smp.deathReason : cpu.deathReason) ?? 'the CPU stopped';
          return this.finish({ end: 'dead', exitCode: EXIT_MACHINE_STOPPED, message });
        }
        if (this.gdb?.held) continue; // a breakpoint, watchpoint or step: the loop's top waits for gdb
        if (exit === 'halted' && !this.request) {
          const idle = quantumEnd ? (this.clock.advanceTo(this.clock.nextDeadline()), undefined) : await this.waitWhileHalted(deterministic, hostDeadline);
          if (idle) return idle;
        }
        // Also after a halt that only jumped the clock: a guest halting every slice must still
        // let its output out, and Ctrl-C, stdin and sockets in.
        if (performance.now() - lastYield >= YIELD_EVERY_MS) {
          this.flushConsoles();
          await yieldToEventLoop();
          lastYield = performance.now();
        }
        if (lastYield >= hostDeadline) return { end: 'timeout', exitCode: EXIT_TIMEOUT, message: `still running after ${opts.timeoutMs} ms` };
      }
    } finally {
      quantumEnd?.cancel();
      this.running = false;
      this.watchingOutput = false;
      this.flushConsoles();
    }
  }

  /** Realtime: follow the guest's speed from slices long enough to time (a halted slice says nothing). */
  private measureSpeed(retired: number, ms: number): void {
    if (retired < 1000 || ms <= 0.05) return;
    this.instructionsPerMs = 0.5 * this.instructionsPerMs + 0.5 * (retired / ms);
  }

  /** HLT with interrupts enabled: move time to the next deadline (or wait for it, or for input). */
  private async waitWhileHalted(deterministic: boolean, hostDeadline: number): Promise<RunResult | undefined> {
    const next = this.clock.nextDeadline();
    const hostCanWake = this.inputPossible || this.parts.host.held;
    if (deterministic && next !== Infinity && !hostCanWake) {
      this.clock.advanceTo(next);
      return undefined;
    }
    if (next === Infinity && !hostCanWake && !this.gdb?.connected) {
      return this.finish({
        end: 'idle',
        exitCode: EXIT_MACHINE_STOPPED,
        message: 'the guest halted waiting for an interrupt, but no timer is pending and no input can arrive',
      });
    }
    this.flushConsoles();
    // Realtime: the deadline is host time. Deterministic with a host source (socket, tap, keyboard):
    // idle virtual time is paced by host time (QEMU's icount sleep), so the outside world can answer.
    const gapNs = next === Infinity ? Infinity : next - this.clock.now();
    const waitMs = Math.min(gapNs / 1e6, hostDeadline - performance.now());
    const started = performance.now();
    const timedOut = await this.sleepUnlessWoken(waitMs);
    if (deterministic) {
      if (timedOut && next !== Infinity) this.clock.advanceTo(next);
      else this.clock.advance(Math.min(gapNs, Math.round((performance.now() - started) * 1e6)));
    }
    return undefined;
  }


  /** gdb holds the machine: no slices, time stands still, the event loop serves gdb. True on timeout. */
  private async holdForDebugger(hostDeadline: number): Promise<boolean> {
    this.flushConsoles();
    return this.sleepUnlessWoken(hostDeadline - performance.now());
  }

  /** Wait `waitMs` host milliseconds (Infinity: until woken) or until wake() is called; true on timeout. */
  private async sleepUnlessWoken(waitMs: number): Promise<boolean> {
    const timedOut = await new Promise<boolean>((resolve) => {
      const timer = waitMs === Infinity ? undefined : setTimeout(() => resolve(true), Math.max(0, waitMs));
      this.wake = () => {
        if (timer) clearTimeout(timer);
        resolve(false);
      };
    });
    this.wake = undefined;
    return timedOut;
  }

  private handleRequest(cpu: Cpu): RunResult | undefined {
    const r = this.request!;
    this.request = undefined;
    switch (r.kind) {
      case 'exit':
        return this.finish({ end: 'exit', exitCode: r.code });
      case 'stop':
        return this.finish({ end: 'stopped', exitCode: EXIT_MACHINE_STOPPED, message: r.reason });
      case 'interrupt':
        return this.finish({ end: 'interrupted', exitCode: EXIT_INTERRUPTED, message: 'interrupted' });
      case 'reset':
        if (this.parts.onReset === 'stop') return this.finish({ end: 'reset', exitCode: 0, message: `guest reset (${r.reason}); on-reset is stop` });
        this.reboot(cpu);
        return undefined;
    }
  }

  /** Power-cycle: devices back to their reset state, RAM cleared, kernel loaded again (by CPU 0; APs wait for a SIPI). */
  private reboot(cpu: Cpu): void {
    for (const d of this.parts.devices) d.instance.reset?.();
    this.apApics?.reset();
    this.memory.u8.fill(0);
    for (const c of this.cpuList) c.reset?.();
    for (const ap of this.cpuList.slice(1)) (ap as Cpu & { init?(): void }).init?.();
    this.smp?.restart();
    this.parts.boot(cpu);
  }

  private finish(r: RunResult): RunResult {
    this.result = r;
    this.exitCode = r.exitCode;
    this.gdb?.machineEnded(r);
    return r;
  }

  flushConsoles(): void {
    for (const c of this.parts.consoles.values()) c.flush();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.gdbListener?.close();
    this.flushConsoles();
    for (const c of this.parts.consoles.values()) c.close();
    this.apApics?.dispose();
    for (const d of [...this.parts.devices].reverse()) await d.instance.dispose?.();
    for (const b of [...this.parts.backends].reverse()) await b.instance.dispose?.();
    this.container.clearInstances();
  }
}
