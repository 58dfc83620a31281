/** The emulators the side-by-side bench compares, each booting one guest once. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchGuest } from './guests.js';
import { ROOT } from './paths.js';
import { QEMU, qemuArgs } from './qemu.js';
import { timedRun } from './timed-process.js';

export interface Outcome {
  /** Host milliseconds the user waits: process start to exit (or createMachine to end, in-process). */
  wallMs: number;
  stdout: string;
  /** Exit status, QEMU-style; -1 when killed or not started. */
  status: number;
  timedOut: boolean;
  /** A one-line diagnostic from the emulator (stderr), if any. */
  diagnostic?: string;
  /** Instructions the guest retired, when the emulator can tell (in-process Unimachine). */
  instructions?: number;
  /** Of wallMs, how long building the machine took (in-process Unimachine: createMachine). */
  buildMs?: number;
}

export interface Emulator {
  id: string;
  /** How it is run, for the README of the results. */
  describe: string;
  /** Why this emulator cannot run the guest (undefined: it can). */
  cannotRun(guest: BenchGuest): string | undefined;
  run(guest: BenchGuest, timeoutMs: number): Promise<Outcome>;
  /** One untimed run before the table, for emulators that live in the bench process. */
  warmUp?(guest: BenchGuest, timeoutMs: number): Promise<void>;
}

function firstMeaningfulLine(stderr: string): string | undefined {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line?.slice(0, 300);
}

/** The Unimachine CLI, as a user runs it: `node packages/machine/dist/cli.cjs run MACHINE --kernel ELF --append ARGS`. */
export function unimachineCli(machineYaml: string, opts: { id?: string; extraArgs?: string[]; cli?: string } = {}): Emulator {
  const cli = opts.cli ?? join(ROOT, 'packages/machine/dist/cli.cjs');
  const extra = opts.extraArgs ?? [];
  return {
    id: opts.id ?? 'unimachine',
    describe: `node ${rel(cli)} run ${rel(machineYaml)} ${extra.length ? extra.join(' ') + ' ' : ''}--kernel ELF --append ARGS`,
    cannotRun: () => (existsSync(cli) ? undefined : `${rel(cli)} is missing: run \`npm run build\` first${cli.endsWith('.mjs') ? ' and `npm run bundle -w @unimachine/machine`' : ''}`),
    async run(g, timeoutMs) {
      const r = await timedRun(process.execPath, [cli, 'run', machineYaml, ...extra, '--kernel', g.elf, '--append', g.append, '--timeout', String(timeoutMs)], {
        cwd: ROOT,
        timeoutMs: timeoutMs + 5000,
      });
      return { wallMs: r.wallMs, stdout: r.stdout, status: r.status, timedOut: r.timedOut || r.status === 124, diagnostic: r.spawnError ?? firstMeaningfulLine(r.stderr) };
    },
  };
}

/**
 * Unimachine through the API in this (already warm) process: createMachine + run, console
 * captured. No Node start-up and no module loading after the first run: the emulation itself.
 */
export function unimachineApi(machineYaml: string): Emulator {
  return {
    id: 'unimachine-api',
    describe: `in-process createMachine('${rel(machineYaml)}', { kernel, append }) + run(), timed from createMachine to the end, after one untimed warm-up run`,
    cannotRun: () => undefined,
    async warmUp(g, timeoutMs) {
      await this.run(g, timeoutMs);
    },
    async run(g, timeoutMs) {
      const started = performance.now();
      try {
        // Loaded on first use, inside the try: a package that does not load yet fails this column only.
        const { createMachine } = await import('@unimachine/machine');
        const m = await createMachine(machineYaml, { kernel: g.elf, append: g.append });
        const buildMs = performance.now() - started;
        try {
          const result = await m.run({ timeoutMs });
          const wallMs = performance.now() - started;
          const diagnostic = result.end === 'exit' ? undefined : `${result.end}: ${firstMeaningfulLine(result.message ?? '') ?? ''}`;
          return {
            wallMs,
            stdout: m.console('com1').text(),
            status: result.exitCode,
            timedOut: result.end === 'timeout',
            diagnostic,
            instructions: m.cpu.instructionsRetired,
            buildMs,
          };
        } finally {
          await m.dispose();
        }
      } catch (e) {
        return { wallMs: performance.now() - started, stdout: '', status: -1, timedOut: false, diagnostic: `host exception: ${firstMeaningfulLine(String((e as Error).message))}` };
      }
    },
  };
}

export function qemu(): Emulator {
  return {
    id: 'qemu',
    describe: `${QEMU} ${qemuArgs('ELF', 'ARGS').join(' ')}`,
    cannotRun: () => undefined,
    async run(g, timeoutMs) {
      const r = await timedRun(QEMU, qemuArgs(g.elf, g.append), { timeoutMs });
      return { wallMs: r.wallMs, stdout: r.stdout, status: r.status, timedOut: r.timedOut, diagnostic: r.spawnError ?? firstMeaningfulLine(r.stderr) };
    },
  };
}

export function v86(): Emulator {
  const script = join(ROOT, 'bench/lib/v86-run.mjs');
  return {
    id: 'v86',
    describe: `node ${rel(script)} ELF ARGS (npm v86, SeaBIOS from /usr/share/seabios/bios.bin, 128 MiB, multiboot option ROM, isa-debug-exit added on port 0x501)`,
    cannotRun: (g) => (g.bits === 32 ? undefined : 'n/a: 64-bit guest (v86 runs 32-bit code only)'),
    async run(g, timeoutMs) {
      const r = await timedRun(process.execPath, [script, g.elf, g.append, String(timeoutMs)], { cwd: ROOT, timeoutMs: timeoutMs + 5000 });
      return { wallMs: r.wallMs, stdout: r.stdout, status: r.status, timedOut: r.timedOut || r.status === 124, diagnostic: r.spawnError ?? firstMeaningfulLine(r.stderr) };
    },
  };
}

function rel(p: string): string {
  return p.startsWith(ROOT + '/') ? p.slice(ROOT.length + 1) : p;
}
