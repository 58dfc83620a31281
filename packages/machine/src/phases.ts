/**
 * Start-up phases of the CLI, for `npm run bench:start`: with UNIMACHINE_PHASES=1 the CLI prints
 * one line to stderr just before it exits,
 *   unimachine-phases {"timeOrigin":..., "marks":{"cli-start":12.3, ...}, "instructions":...}
 * with milliseconds since the process's performance.timeOrigin. Without the variable every mark
 * is one property read. Imports nothing: dist/cli.js and the bundle both load it (the bundle has
 * its own copy), so the marks live on globalThis and both copies write to the same record.
 */

interface PhaseRecord {
  marks: Record<string, number>;
  instructions?: number;
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
  if (instructions !== undefined) r.instructions = instructions;
}

/** Print the record (once, at exit) when UNIMACHINE_PHASES is set. */
export function reportPhases(): void {
  const r = record();
  if (!r) return;
  const t = performance.nodeTiming;
  const line = { timeOrigin: performance.timeOrigin, nodeBootstrapComplete: t.bootstrapComplete, ...r };
  process.stderr.write(`unimachine-phases ${JSON.stringify(line)}\n`);
}
