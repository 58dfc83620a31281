// Every guest app without a network peer, booted twice on Unimachine: the interpreter alone, and with
// the WebAssembly tier compiling every block at once (UNIMACHINE_JIT=0, packages/cpu-x86/src/jit).
// The two runs must print the same bytes, retire the same number of instructions and end at the
// same virtual time: the tier is exact, not approximately right. Disk cases get a fresh copy of
// their image per run, and the two images must end identical.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMachine } from '@unimachine/machine';
import { afterAll, describe, expect, it } from 'vitest';
import { createDiskImage, loadGuestCases, unimachineHardware, unimachineMachineFile, type GuestCase } from './expected.js';

const RUN_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 300_000;

const dir = mkdtempSync(join(tmpdir(), 'unimachine-jit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface TierRun { bytes: number[]; instructions: number[]; guestNs: number; end: string }

/** One deterministic boot of `c` with the tier set by UNIMACHINE_JIT (`off` or a threshold; read when the CPUs are made). */
async function boot(c: GuestCase, jit: string, label: string): Promise<TierRun> {
  const diskPaths = c.disks.map((d, i) => {
    const path = join(dir, `${c.name}-${label}-${i}.img`);
    createDiskImage(d, path);
    return path;
  });
  const set: Record<string, unknown> = { clock: 'deterministic', memory: '128MiB', 'rtc.base': '2026-01-01T00:00:00Z' };
  if (c.cpus !== undefined) set.cpus = c.cpus;
  for (const [id, entry] of Object.entries(unimachineHardware(c, diskPaths))) set[`devices.${id}`] = entry;
  const saved = process.env.UNIMACHINE_JIT;
  process.env.UNIMACHINE_JIT = jit;
  let m;
  try {
    m = await createMachine(unimachineMachineFile(c), { set, kernel: c.elfPath, append: c.append });
  } finally {
    if (saved === undefined) delete process.env.UNIMACHINE_JIT;
    else process.env.UNIMACHINE_JIT = saved;
  }
  try {
    const result = await m.run({ until: 'exit', timeoutMs: RUN_TIMEOUT_MS });
    const cpus = (m as unknown as { cpus?: { instructionsRetired: number }[] }).cpus ?? [m.cpu];
    return {
      bytes: Array.from(m.console('com1').bytes()),
      instructions: cpus.map((cpu) => cpu.instructionsRetired),
      guestNs: m.clock.now(),
      end: result.end,
    };
  } finally {
    await m.dispose();
  }
}

const cases = loadGuestCases().filter((c) => !c.net);

describe('the WebAssembly tier retires exactly what the interpreter retires', () => {
  for (const c of cases) {
    it(`${c.name}: same console bytes, instruction counts and virtual time with the tier on`, async () => {
      const off = await boot(c, 'off', 'off');
      const on = await boot(c, '0', 'on');
      expect(on.end).toBe(off.end);
      expect(Buffer.from(on.bytes).toString('latin1')).toBe(Buffer.from(off.bytes).toString('latin1'));
      expect(on.instructions).toEqual(off.instructions);
      expect(on.guestNs).toBe(off.guestNs);
      c.disks.forEach((_, i) => {
        expect(readFileSync(join(dir, `${c.name}-on-${i}.img`)).equals(readFileSync(join(dir, `${c.name}-off-${i}.img`)))).toBe(true);
      });
    }, TEST_TIMEOUT_MS);
  }
});
