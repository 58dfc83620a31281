/**
 * lib/peer-speed.ts, the machinery behind bench:cpu's QEMU and v86 columns: a child's CPU time
 * is read from /proc, pairs of runs at two sizes give a figure, and a run with the wrong output
 * or status makes the column fail with the reason. (No speed is asserted.)
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBenchKernels } from '../lib/build.js';
import { nativeOutput } from '../lib/native.js';
import { CPU64_ELF } from '../lib/paths.js';
import { childCpuSeconds, measurePeer } from '../lib/peer-speed.js';
import { QEMU, qemuArgs } from '../lib/qemu.js';

const qemuInstalled = spawnSync(QEMU, ['--version']).status === 0;

beforeAll(() => buildBenchKernels());

it('childCpuSeconds counts the CPU time of a reaped child', () => {
  const before = childCpuSeconds();
  // A child that spins for about 300 ms of CPU.
  const r = spawnSync(process.execPath, ['-e', 'const end = process.cpuUsage().user + 300000; while (process.cpuUsage().user < end);']);
  expect(r.status).toBe(0);
  const used = childCpuSeconds() - before;
  expect(used).toBeGreaterThanOrEqual(0.25);
  expect(used).toBeLessThan(5);
});

describe.skipIf(!qemuInstalled)('measurePeer on QEMU', () => {
  const cmd = { command: QEMU, args: (a: string) => qemuArgs(CPU64_ELF, a) };

  it('gives one figure per pair from the difference of two sizes, with the instruction count it was given', async () => {
    const s = await measurePeer({ cmd, nSmall: 1, nLarge: 4, pairs: 2, instructionsPerRound: 8_000_000, expected: nativeOutput, timeoutMs: 60_000 });
    expect(s.reason).toBeUndefined();
    expect(s.ok).toBe(true);
    expect(s.instructions).toBe(24_000_000);
    expect(s.pairs).toHaveLength(2);
    for (const p of s.pairs) {
      expect(p.largeWallS).toBeGreaterThan(0);
      expect(p.smallCpuS).toBeGreaterThan(0);
    }
    expect(s.minMips!).toBeLessThanOrEqual(s.medianMips!);
    expect(s.medianMips!).toBeLessThanOrEqual(s.maxMips!);
  });

  it('fails with the reason when the output is not the reference', async () => {
    const s = await measurePeer({ cmd, nSmall: 1, nLarge: 2, pairs: 1, instructionsPerRound: 1, expected: () => 'something else', timeoutMs: 60_000 });
    expect(s.ok).toBe(false);
    expect(s.reason).toBe('n=1: output differs from the native build');
  });

  it('fails with the reason when the emulator cannot start', async () => {
    const s = await measurePeer({ cmd: { command: '/nonexistent/qemu', args: () => [] }, nSmall: 1, nLarge: 2, pairs: 1, instructionsPerRound: 1, expected: nativeOutput, timeoutMs: 10_000 });
    expect(s.ok).toBe(false);
    expect(s.reason).toMatch(/^cannot start: .*ENOENT/);
  });
});
