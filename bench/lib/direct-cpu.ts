/**
 * Runs a multiboot kernel on the bare interpreter: X86Cpu + GuestMemory + PortBus and
 * two tiny port handlers (a COM1 transmitter that is always ready, isa-debug-exit).
 * No machine, no devices, no clock, no event-loop turns: what is timed is the CPU.
 */
import { readFileSync } from 'node:fs';
import { GuestMemory, PortBus, type AccessSize } from '@unimachine/core';
import { X86Cpu, type JitStats } from '@unimachine/cpu-x86';
import { loadMultiboot } from '@unimachine/machine';

const COM1 = 0x3f8;
const DEBUG_EXIT = 0x501;
const LSR_READY = 0x60; // THRE | TEMT: the transmitter always has room
const SLICE = 1_000_000;

export interface DirectRunOptions {
  /** Kernel arguments (after the kernel name, as QEMU's -append). */
  append: string;
  memoryBytes?: number;
  /** Give up after this many instructions (a guest stuck in a loop). */
  maxInstructions?: number;
  /** Give up after this many host milliseconds (default 120 s). */
  timeoutMs?: number;
  /** The WebAssembly tier (X86CpuOptions.jit); default: as UNIMACHINE_JIT says. */
  jit?: false | { threshold: number };
}

export interface DirectRunResult {
  /** 'exit': the guest wrote isa-debug-exit; otherwise why it did not. */
  end: 'exit' | 'dead' | 'limit' | 'timeout' | 'error';
  /** QEMU-style status (code << 1) | 1 when end is 'exit'. */
  status: number | undefined;
  output: string;
  instructions: number;
  /** Host wall-clock seconds from CPU creation to exit. */
  seconds: number;
  /** Host CPU seconds (user + system) of this process over the same span: less sensitive to other load. */
  cpuSeconds: number;
  reason?: string;
  /** What the WebAssembly tier did, when it was on. */
  jit?: JitStats;
}

/** A COM1 that only transmits: enough for polled output (LSR.THRE) and the divisor latch. */
class TransmitOnlyUart {
  private lcr = 0;
  text = '';
  read(port: number): number {
    const reg = port - COM1;
    if (reg === 5) return LSR_READY;
    if (reg === 3) return this.lcr;
    return 0;
  }
  write(port: number, _size: AccessSize, value: number): void {
    const reg = port - COM1;
    if (reg === 3) this.lcr = value & 0xff;
    else if (reg === 0 && !(this.lcr & 0x80)) this.text += String.fromCharCode(value & 0xff);
  }
}

export function runDirect(elfPath: string, opts: DirectRunOptions): DirectRunResult {
  const image = readFileSync(elfPath);
  const memory = new GuestMemory(opts.memoryBytes ?? 128 * 1024 * 1024);
  const ports = new PortBus();
  const uart = new TransmitOnlyUart();
  let status: number | undefined;
  let cpu: X86Cpu | undefined;
  ports.claim({ start: COM1, length: 8 }, { read: (p) => uart.read(p), write: (p, s, v) => uart.write(p, s, v) }, 'com1');
  ports.claim(
    { start: DEBUG_EXIT, length: 2 },
    {
      read: () => 0xffffffff,
      write: (_p, _s, v) => {
        status = ((v << 1) | 1) & 0xff;
        cpu?.requestStop();
      },
    },
    'isa-debug-exit',
  );

  const limit = opts.maxInstructions ?? 20_000_000_000;
  const started = performance.now();
  const deadline = started + (opts.timeoutMs ?? 120_000);
  const cpuStarted = process.cpuUsage();
  try {
    cpu = new X86Cpu({ memory, ports, ...(opts.jit !== undefined ? { jit: opts.jit } : {}) });
    const loaded = loadMultiboot(image, memory, { kernelName: elfPath, cmdline: opts.append });
    cpu.enterMultiboot(loaded.entry, loaded.infoAddress);
    for (;;) {
      const exit = cpu.run(SLICE);
      if (status !== undefined) return done('exit');
      if (exit === 'dead') return done('dead', firstLine(cpu.deathReason ?? 'the CPU died'));
      if (exit === 'halted') return done('dead', 'HLT with interrupts enabled and no interrupt source');
      if (cpu.instructionsRetired >= limit) return done('limit', `no exit after ${limit} instructions`);
      if (performance.now() > deadline) return done('timeout', `no exit after ${opts.timeoutMs ?? 120_000} ms`);
    }
  } catch (e) {
    return done('error', `host exception: ${(e as Error).message}`);
  }

  function done(end: DirectRunResult['end'], reason?: string): DirectRunResult {
    const used = process.cpuUsage(cpuStarted);
    return {
      cpuSeconds: (used.user + used.system) / 1e6,
      end,
      status,
      output: uart.text,
      instructions: cpu?.instructionsRetired ?? 0,
      seconds: (performance.now() - started) / 1000,
      reason,
      ...(cpu?.jit ? { jit: { ...cpu.jit.stats } } : {}),
    };
  }
}

/** The first line of a death reason (the rest is a register dump). */
export function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}
