import type { Clock, Timer } from './clock.js';

/**
 * A saved state that cannot be restored (wrong version, wrong shape, a different machine). The
 * message names the owner (a device kind, later prefixed with its YAML id by the machine) and
 * exactly what is wrong, so a foreign or damaged snapshot fails at restore and never as a
 * TypeError somewhere later.
 */
export class SnapshotError extends Error {
  constructor(readonly owner: string, readonly problem: string) {
    super(`${owner}: ${problem}`);
    this.name = 'SnapshotError';
  }
}

/** A pending clock timer as a snapshot keeps it: its deadline and its ordering number. */
export interface SavedTimer {
  at: number;
  seq: number;
}

/** The timer's saved form (null when none is pending). */
export function saveTimer(timer: Timer | undefined): SavedTimer | null {
  if (!timer) return null;
  return { at: timer.deadline, seq: timer.seq ?? 0 };
}

/**
 * Schedule `callback` as the saved timer was: same deadline and same sequence number, so timers
 * due at the same nanosecond fire in the order they were first scheduled, as in the original run.
 */
export function rearmTimer(clock: Clock, saved: SavedTimer | null, callback: () => void): Timer | undefined {
  return saved ? clock.schedule(saved.at, callback, saved.seq) : undefined;
}

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '...' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
};

/**
 * Reads a saved state field by field, checking each one's type and range. Every restore starts
 * with `StateReader.open(owner, state, VERSION)`; a mismatch throws SnapshotError with the field's
 * path (`channels[1].mode must be an integer 0..5, got the string "x"`).
 */
export class StateReader {
  private constructor(
    readonly owner: string,
    private readonly path: string,
    private readonly obj: Record<string, unknown>,
  ) {}

  /** Check that `state` is an object of exactly `version`. */
  static open(owner: string, state: unknown, version: number): StateReader {
    if (typeof state !== 'object' || state === null || Array.isArray(state) || state instanceof Uint8Array) {
      throw new SnapshotError(owner, `saved state must be an object, got ${describe(state)}`);
    }
    const v = (state as { version?: unknown }).version;
    if (v !== version) {
      const got = v === undefined ? 'no version field' : `version ${typeof v === 'number' ? v : describe(v)}`;
      throw new SnapshotError(owner, `saved state has ${got}; this build restores version ${version}`);
    }
    return new StateReader(owner, '', state as Record<string, unknown>);
  }

  /** Whether the field is present (for fields a later version added). */
  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  fail(key: string, expected: string, got: unknown): never {
    throw new SnapshotError(this.owner, `${this.where(key)} must be ${expected}, got ${got === undefined ? 'nothing' : describe(got)}`);
  }

  int(key: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(key, `an integer ${range(min, max)}`, v);
    return v;
  }

  /** An unsigned integer of `bits` bits. */
  uint(key: string, bits: number): number {
    return this.int(key, 0, 2 ** bits - 1);
  }

  num(key: string): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'a finite number', v);
    return v;
  }

  bool(key: string): boolean {
    const v = this.obj[key];
    if (typeof v !== 'boolean') this.fail(key, 'true or false', v);
    return v;
  }

  str(key: string, allowed?: readonly string[]): string {
    const v = this.obj[key];
    if (typeof v !== 'string' || (allowed && !allowed.includes(v))) this.fail(key, allowed ? `one of ${allowed.join(', ')}` : 'a string', v);
    return v;
  }

  /** A null or an integer in range. */
  intOrNull(key: string, min?: number, max?: number): number | null {
    return this.obj[key] === null ? null : this.int(key, min, max);
  }

  bytes(key: string, length?: number): Uint8Array {
    const v = this.obj[key];
    if (!(v instanceof Uint8Array) || (length !== undefined && v.length !== length)) this.fail(key, length === undefined ? 'bytes' : `${length} bytes`, v);
    return v;
  }

  ints(key: string, length: number | undefined, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number[] {
    const v = this.list(key, length);
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) this.fail(`${key}[${i}]`, `an integer ${range(min, max)}`, x);
    });
    return v as number[];
  }

  nums(key: string, length?: number): number[] {
    const v = this.list(key, length);
    v.forEach((x, i) => {
      if (typeof x !== 'number' || Number.isNaN(x)) this.fail(`${key}[${i}]`, 'a number', x);
    });
    return v as number[];
  }

  bools(key: string, length?: number): boolean[] {
    const v = this.list(key, length);
    v.forEach((x, i) => {
      if (typeof x !== 'boolean') this.fail(`${key}[${i}]`, 'true or false', x);
    });
    return v as boolean[];
  }

  /** A nested object (no version of its own). */
  child(key: string): StateReader {
    const v = this.obj[key];
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) this.fail(key, 'an object', v);
    return new StateReader(this.owner, this.where(key), v as Record<string, unknown>);
  }

  /** An array of nested objects. */
  children(key: string, length?: number): StateReader[] {
    return this.list(key, length).map((v, i) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${key}[${i}]`, 'an object', v);
      return new StateReader(this.owner, this.where(`${key}[${i}]`), v as Record<string, unknown>);
    });
  }

  /** A saved timer ({ at, seq }) or null. */
  timer(key: string): SavedTimer | null {
    if (this.obj[key] === null) return null;
    const t = this.child(key);
    return { at: t.num('at'), seq: t.int('seq', 0) };
  }

  /** The raw value, for states a device validates itself. */
  raw(key: string): unknown {
    return this.obj[key];
  }

  private list(key: string, length: number | undefined): unknown[] {
    const v = this.obj[key];
    if (!Array.isArray(v) || (length !== undefined && v.length !== length)) this.fail(key, length === undefined ? 'an array' : `an array of ${length}`, v);
    return v;
  }

  private where(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }
}

function range(min: number, max: number): string {
  if (min === Number.MIN_SAFE_INTEGER && max === Number.MAX_SAFE_INTEGER) return '';
  if (max === Number.MAX_SAFE_INTEGER) return `>= ${min}`;
  return `${min}..${max}`;
}
