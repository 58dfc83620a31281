import type { Machine, RunResult } from './machine.js';

/** Virtual time each machine runs before the next one takes its turn. */
export const DEFAULT_QUANTUM_NS = 100_000;

export interface RunTogetherOptions {
  /** Virtual nanoseconds per turn (default 100 µs); frames between machines arrive at the next turn at the latest. */
  quantumNs?: number;
  /** Return once these machines have ended (default: all of them); the others are left where they are. */
  waitFor?: readonly Machine[];
  /** Host wall-clock limit in milliseconds. */
  timeoutMs?: number;
  /** Stop when virtual time reaches this many nanoseconds. */
  maxVirtualNs?: number;
}

export interface RunTogetherResult {
  /** Each machine's result, in the order given; undefined for a machine still running at the end. */
  results: (RunResult | undefined)[];
  end: 'done' | 'timeout' | 'max-virtual-time';
  /** Virtual time of the shared timeline when the run returned. */
  virtualNs: number;
}

/**
 * Runs deterministic machines on one virtual timeline, as Renode does: in a fixed order, each
 * machine runs one quantum up to the same virtual time before any runs the next. Anything that
 * passes between them (frames on a hub) is stamped with the sender's virtual time and delivered
 * by the receiver's clock, so the whole exchange, and every console, is the same on every run.
 */
export async function runTogether(machines: readonly Machine[], opts: RunTogetherOptions = {}): Promise<RunTogetherResult> {
  for (const m of machines) {
    if (m.clock.mode !== 'deterministic') throw new Error(`runTogether needs deterministic machines; ${m.name} uses clock: ${m.clock.mode}`);
  }
  const quantum = opts.quantumNs ?? DEFAULT_QUANTUM_NS;
  if (!(quantum > 0)) throw new RangeError(`quantumNs must be positive, got ${quantum}`);
  const waitFor = opts.waitFor ?? machines;
  const hostDeadline = opts.timeoutMs !== undefined ? performance.now() + opts.timeoutMs : Infinity;
  const results: (RunResult | undefined)[] = machines.map((m) => m.result);
  let t = Math.max(0, ...machines.map((m) => m.clock.now()));
  const snapshot = (end: RunTogetherResult['end']): RunTogetherResult => ({ results: [...results], end, virtualNs: t });

  for (;;) {
    if (waitFor.every((m) => m.result)) return snapshot('done');
    if (opts.maxVirtualNs !== undefined && t >= opts.maxVirtualNs) return snapshot('max-virtual-time');
    t += quantum;
    for (const [i, m] of machines.entries()) {
      if (m.result) continue;
      const r = await m.run({ untilTime: t, timeoutMs: Math.max(0, hostDeadline - performance.now()) });
      if (r.end === 'timeout') return snapshot('timeout');
      if (r.end !== 'until') results[i] = r;
    }
    if (performance.now() >= hostDeadline) return snapshot('timeout');
  }
}
