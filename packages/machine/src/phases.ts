/**
 * Start-up phases of the CLI, for `npm run bench:start`: with UNIMACHINE_PHASES=1 the CLI prints
 * one line to stderr just before it exits,
 *   unimachine-phases {"timeOrigin":..., "marks":{"cli-start":12.3, ...}, "instructions":...}
 * with milliseconds since the process's performance.timeOrigin, and "cpu":{"cli-start":..., ...}:
 * the main thread's CPU time at each mark (Linux; ms since the thread started), which time spent
 * waiting for a core on a busy host does not inflate. Without the variable every mark is one
 * property read. Imports only node:fs: dist/cli.js and the bundle both load it (the bundle has
 * its own copy), so the marks live on globalThis and both copies write to the same record.
 * dist/cli.js has a copy inlined too (scripts/bundle-cli.mjs): rebuild the package after editing.
 */

import { readFileSync, writeSync } from 'node:fs';

interface PhaseRecord {
  marks: Record<string, number>;
  /** Main-thread CPU ms at each mark, where the system tells it. */
  cpu?: Record<string, number>;
  instructions?: number;
  /** What the WebAssembly tier did in the run: regions compiled and the ms spent compiling them. */
  jit?: { compiled: number; compileMs: number };
}

const KEY = Symbol.for('unimachine.phases');
type WithPhases = typeof globalThis & { [KEY]?: PhaseRecord | null };

function record(): PhaseRecord | null {
  const g = globalThis as WithPhases;
  if (g[KEY] === undefined) g[KEY] = process.env.UNIMACHINE_PHASES ? { marks: {} } : null;
  return g[KEY]!;
}

/** Note that the phase `name` ends now. */
export function markPhase(name: string, instructions?: number): void {
  const r = record();
  if (!r) return;
  r.marks[name] = performance.now();
  const cpu = threadCpuMs();
  if (cpu !== undefined) (r.cpu ??= {})[name] = cpu;
  if (instructions !== undefined) r.instructions = instructions;
}

/** Note what the WebAssembly tier did during the run (the `jit` stats of the CPU, when it has a tier). */
export function markJit(stats: { compiled: number; compileMs: number } | undefined): void {
  const r = record();
  if (r && stats) r.jit = { compiled: stats.compiled, compileMs: Math.round(stats.compileMs * 10) / 10 };
}

/** CPU time of the calling thread: Linux's schedstat gives its run time in ns; undefined elsewhere. */
function threadCpuMs(): number | undefined {
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** Print the record (once, at exit) when UNIMACHINE_PHASES is set. */
export function reportPhases(): void {
  const r = record();
  if (!r) return;
  const t = performance.nodeTiming;
  const line = { timeOrigin: performance.timeOrigin, nodeBootstrapComplete: t.bootstrapComplete, ...r };
  // Straight to fd 2: making process.stderr would load Node's stream modules inside the measured exit.
  writeSync(2, `unimachine-phases ${JSON.stringify(line)}\n`);
}
