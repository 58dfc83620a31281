import { QEMU_MACHINE_ARGS } from '../../guest/test/expected.js';
import { timedRun, type TimedRun } from './timed-process.js';

export const QEMU = process.env.QEMU ?? 'qemu-system-x86_64';

/** The QEMU command line a Solo5 user runs (DESIGN §10), for one kernel. */
export function qemuArgs(elf: string, append: string): string[] {
  return [...QEMU_MACHINE_ARGS, '-kernel', elf, '-append', append];
}

export function runQemu(elf: string, append: string, timeoutMs: number): Promise<TimedRun> {
  return timedRun(QEMU, qemuArgs(elf, append), { timeoutMs });
}
