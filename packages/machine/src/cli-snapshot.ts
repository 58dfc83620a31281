import type { CliOutput } from './cli-main.js';
import { createMachine, type CreateMachineOptions } from './create.js';
import { MachineConfigError } from './errors.js';
import type { Machine, RunResult } from './machine.js';
import { readSnapshotFile, writeSnapshotFile } from './snapshot.js';

/** The `run` options that shape a machine: a snapshot brings its own, so they cannot go with --restore. */
const SHAPING = [
  ['kernel', '--kernel'], ['append', '--append'], ['memory', '-m'], ['rtcBase', '--rtc-base'],
] as const;

export interface SnapshotCliOptions {
  snapshotTo?: string;
  snapshotOn?: string;
  restore?: string;
}

/** --snapshot-on belongs to --snapshot-to. */
export function checkSnapshotFlags(o: SnapshotCliOptions): void {
  if (o.snapshotOn !== undefined && o.snapshotTo === undefined) throw new MachineConfigError('--snapshot-on needs --snapshot-to FILE (where to save the machine)');
}

/** `run --restore FILE`: the machine the snapshot was taken of, continuing where it stopped. */
export async function machineFromSnapshotFile(
  target: string | undefined,
  o: SnapshotCliOptions & { set: string[]; disk: string[]; net: string[] } & Record<string, unknown>,
  opts: CreateMachineOptions,
): Promise<Machine> {
  const file = o.restore!;
  const given = [
    ...(target !== undefined ? [target] : []),
    ...SHAPING.filter(([k]) => o[k] !== undefined).map(([, flag]) => flag),
    ...(o.set.length ? ['--set'] : []),
    ...(o.disk.length ? ['--disk'] : []),
    ...(o.net.length ? ['--net'] : []),
  ];
  if (given.length) {
    throw new MachineConfigError(`a snapshot brings its own machine, kernel and settings; drop ${given.join(', ')}`, undefined, `--restore ${file}`);
  }
  const snapshot = readSnapshotFile(file);
  try {
    return await createMachine(snapshot, opts);
  } catch (e) {
    if (e instanceof MachineConfigError && !e.position) throw new MachineConfigError(e.problem, undefined, e.origin ?? `--restore ${file}`);
    throw e;
  }
}

/**
 * `run --snapshot-to FILE [--snapshot-on TEXT]`: run until a console line contains TEXT, save the
 * machine to FILE and stop (exit 0). Without --snapshot-on the machine is saved when the run is
 * cut short (--timeout, Ctrl-C). Returns the run's result, or undefined when the snapshot ended it.
 */
export async function runToSnapshot(machine: Machine, o: SnapshotCliOptions & { timeout?: number }, out: CliOutput): Promise<RunResult | undefined> {
  const file = o.snapshotTo!;
  const seen = o.snapshotOn === undefined ? undefined : lineWatcher(machine, o.snapshotOn);
  const result = await machine.run({ timeoutMs: o.timeout, until: seen });
  if (result.end !== 'until' && result.end !== 'timeout' && result.end !== 'interrupted') {
    const why = seen ? `no console line contained ${JSON.stringify(o.snapshotOn)} before` : 'the run was not cut short:';
    out.stderr(`\nunimachine: no snapshot written to ${file}: ${why} the machine ended (${result.end})\n`);
    return result;
  }
  if (result.end === 'interrupted') machine.result = machine.exitCode = undefined; // Ctrl-C stops the run, not the machine
  writeSnapshotFile(file, machine.snapshot());
  out.stderr(`\nunimachine: snapshot written to ${file} at ${machine.clock.now()} ns\n`);
  return result.end === 'until' ? undefined : result;
}

/** True once a complete line on any console contains `text` (scans only what is new each time). */
function lineWatcher(machine: Machine, text: string): () => boolean {
  const scanned = new Map<string, number>();
  const newline = 10;
  return () => {
    for (const [id, c] of machine.consoles()) {
      const bytes = c.bytes();
      let from = scanned.get(id) ?? 0;
      for (let i = from; i < bytes.length; i++) {
        if (bytes[i] !== newline) continue;
        if (Buffer.from(bytes.subarray(from, i)).toString('utf8').includes(text)) return true;
        from = i + 1;
      }
      scanned.set(id, from);
    }
    return false;
  };
}
