import { SnapshotError, type Cpu, type MachineClock } from '@unimachine/core';
import { MachineConfigError } from './errors.js';
import type { MachineParts } from './machine.js';
import {
  applyRam, captureRam, checkRamImage, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type ConsoleState, type MachineSnapshot,
} from './snapshot.js';

/** A state a device cannot give, or one that does not fit this machine. Bad input: the CLI exits 2. */
export class MachineSnapshotError extends MachineConfigError {}

/** The device and backend states of a machine (the caller adds consoles, the request and the description). */
export function captureParts(parts: MachineParts, cpu: Cpu): Pick<MachineSnapshot, 'memory' | 'cpu' | 'clock' | 'devices' | 'backends'> {
  if (!cpu.snapshot) throw new MachineSnapshotError('this machine\'s CPU cannot be snapshotted');
  const devices = parts.devices.map(({ id, type, instance }) => {
    if (!instance.snapshot) throw new MachineSnapshotError(`device "${id}" (${type}) cannot be snapshotted: it has no snapshot()`);
    return { id, type, state: guarded(`device "${id}" (${type})`, () => instance.snapshot!()) };
  });
  const backends = parts.backends.map(({ owner, property, instance }) => {
    const where = `the ${property} of device "${owner}"`;
    if (instance.snapshot) return { owner, property, state: guarded(where, () => instance.snapshot!()) };
    // A disk must be saved (its contents are machine state); a network backend without snapshot() is outside the machine.
    if (isBlockBackend(instance)) throw new MachineSnapshotError(`${where} is a disk that cannot be snapshotted`);
    return { owner, property, state: null };
  });
  return { memory: captureRam(parts.memory.u8), cpu: cpu.snapshot(), clock: (parts.clock as MachineClock).snapshot(), devices, backends };
}

/**
 * Put a snapshot's parts into `parts`. Order matters: the CPU first (deterministic time counts its
 * instructions), then the clock (which drops every pending timer), then backends, then devices in
 * reverse creation order: a device re-drives its IRQ line and re-arms its timers, and the
 * interrupt controllers (created first, because everyone refers to them) come last and take their
 * own saved view of their inputs.
 */
export function restoreParts(parts: MachineParts, cpu: Cpu, s: MachineSnapshot, ramIsZero: boolean): void {
  checkSameMachine(parts, s);
  const memory = checkRamImage(s.memory, parts.memory.size);
  if (!cpu.restore) throw new MachineSnapshotError('this machine\'s CPU cannot be restored');
  guarded('the CPU', () => cpu.restore!(s.cpu));
  guarded('the clock', () => (parts.clock as MachineClock).restore(checkClock(s.clock)));
  applyRam(memory, parts.memory.u8, ramIsZero);
  cpu.invalidateDecodedCode?.(0, parts.memory.size);
  for (const b of parts.backends) {
    const saved = s.backends.find((x) => x.owner === b.owner && x.property === b.property)!;
    if (saved.state === null) continue;
    if (!b.instance.restore) throw new MachineSnapshotError(`the ${b.property} of device "${b.owner}" cannot be restored`);
    guarded(`the ${b.property} of device "${b.owner}"`, () => b.instance.restore!(saved.state));
  }
  for (const d of [...parts.devices].reverse()) {
    const saved = s.devices.find((x) => x.id === d.id)!;
    if (!d.instance.restore) throw new MachineSnapshotError(`device "${d.id}" (${d.type}) cannot be restored: it has no restore()`);
    guarded(`device "${d.id}" (${d.type})`, () => d.instance.restore!(saved.state));
  }
}

/** Same devices (ids and types), same backends, same consoles: otherwise name the first difference. */
function checkSameMachine(parts: MachineParts, s: MachineSnapshot): void {
  const fail = (problem: string): never => {
    throw new MachineSnapshotError(`the snapshot is of another machine: ${problem}`);
  };
  if (s.format !== SNAPSHOT_FORMAT || s.version !== SNAPSHOT_VERSION) fail(`not a version ${SNAPSHOT_VERSION} machine snapshot`);
  const ids = new Set(parts.devices.map((d) => d.id));
  for (const d of parts.devices) {
    const saved = s.devices.find((x) => x.id === d.id);
    if (!saved) fail(`it has no device "${d.id}"`);
    else if (saved.type !== d.type) fail(`its device "${d.id}" is a ${saved.type}, this one is a ${d.type}`);
  }
  const extra = s.devices.find((x) => !ids.has(x.id));
  if (extra) fail(`it has a device "${extra.id}" (${extra.type}) this machine lacks`);
  for (const b of parts.backends) {
    if (!s.backends.some((x) => x.owner === b.owner && x.property === b.property)) fail(`it has no ${b.property} for device "${b.owner}"`);
  }
  if (s.backends.length !== parts.backends.length) fail(`it has ${s.backends.length} backends, this machine ${parts.backends.length}`);
  for (const c of s.consoles) if (!parts.consoles.has(c.id)) fail(`it has a console on "${c.id}", this machine has none there`);
}

function checkClock(c: unknown): MachineSnapshot['clock'] {
  const s = c as MachineSnapshot['clock'];
  const ok = typeof s === 'object' && s !== null && s.version === 1 && (s.mode === 'deterministic' || s.mode === 'realtime') && Number.isFinite(s.now) && Number.isSafeInteger(s.seq) && s.seq >= 0;
  if (!ok) throw new SnapshotError('clock', 'saved state must be { version: 1, mode, now, seq }');
  return s;
}

/** Check one saved console. */
export function checkConsoleState(c: unknown): ConsoleState {
  const s = c as ConsoleState;
  const fail = (what: string): never => {
    throw new MachineSnapshotError(`snapshot console ${typeof s?.id === 'string' ? `"${s.id}"` : ''}: ${what}`);
  };
  if (typeof s !== 'object' || s === null || typeof s.id !== 'string') fail('malformed');
  if (!(s.output instanceof Uint8Array) || !(s.input instanceof Uint8Array)) fail('output and input must be bytes');
  if (!Number.isSafeInteger(s.watchCursor) || s.watchCursor < 0) fail('watchCursor must be a line count');
  const p = s.pacing;
  if (p !== null && !(typeof p === 'object' && Number.isFinite(p.at) && Number.isSafeInteger(p.seq))) fail('pacing must be null or { at, seq }');
  return s;
}

/** Run a device's snapshot()/restore(); its SnapshotError (or any failure) becomes one message naming it. */
function guarded<T>(who: string, work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof MachineSnapshotError) throw e;
    const err = e as Error;
    const message = err instanceof SnapshotError || err?.name === 'SnapshotError' ? err.message : `${err?.name ?? 'Error'}: ${err?.message ?? e}`;
    throw new MachineSnapshotError(`${who}: ${message}`);
  }
}

function isBlockBackend(x: object): boolean {
  const b = x as { read?: unknown; write?: unknown; size?: unknown };
  return typeof b.read === 'function' && typeof b.write === 'function' && typeof b.size === 'number';
}
