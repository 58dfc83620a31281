import { SnapshotError, StateReader } from '@unimachine/core';
import type { CpuSnapshot } from './cpu.js';

/** The CPU snapshot version this build writes; version 1 (no x87 pointers, no debug latches) is still read. */
export const CPU_SNAPSHOT_VERSION = 2;

const OWNER = 'x86 CPU';
const U32 = 0xffffffff;

/**
 * Check a saved CPU state field by field and return it typed; throws SnapshotError naming the field
 * (never a TypeError later in the interpreter). Guest memory is not part of it.
 */
export function readCpuSnapshot(state: unknown, stateBytes: number): CpuSnapshot {
  const version = (state as { version?: unknown } | null)?.version;
  const r = StateReader.open(OWNER, state, version === 1 ? 1 : CPU_SNAPSHOT_VERSION);
  const seg = r.child('seg');
  const x87 = r.child('x87');
  const sys = r.has('sys') ? r.child('sys') : undefined;
  const s: CpuSnapshot = {
    version: r.int('version', 1, CPU_SNAPSHOT_VERSION) as CpuSnapshot['version'],
    state: r.bytes('state', stateBytes),
    rip: r.int('rip'),
    rflags: r.uint('rflags', 32),
    seg: { sel: seg.ints('sel', 6, 0, 0xffff), base: seg.nums('base', 6), limit: seg.nums('limit', 6), attr: seg.ints('attr', 6, 0, 0xffff) },
    cr: r.nums('cr', 5),
    efer: r.int('efer', 0),
    tables: r.nums('tables', 11),
    msr: r.nums('msr', 12),
    mxcsr: r.uint('mxcsr', 32),
    xcr0: r.has('xcr0') ? r.int('xcr0', 0) : undefined,
    rng: r.has('rng') ? r.ints('rng', 4, 0, U32) : undefined,
    x87: {
      cw: x87.uint('cw', 16), sw: x87.uint('sw', 16), top: x87.int('top', 0, 7), empty: x87.uint('empty', 8), st: x87.nums('st', 24),
      ptr: x87.has('ptr') ? x87.nums('ptr', 5) : undefined,
    },
    dr: r.nums('dr', 8),
    sys: sys && { mtrr: sys.ints('mtrr', 56, 0, U32), sysenter: sys.nums('sysenter', 3), nmi: sys.bools('nmi', 2) },
    debug: r.has('debug') ? r.ints('debug', 5) : undefined,
    cpl: r.int('cpl', 0, 3),
    halted: r.bool('halted'),
    shadow: r.bool('shadow'),
    instructionsRetired: r.int('instructionsRetired', 0),
  };
  if (s.rip !== Math.trunc(s.rip)) throw new SnapshotError(OWNER, 'rip is not an address');
  return s;
}
