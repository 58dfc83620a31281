/**
 * The benchmark workload itself: it must compute the same bytes natively, on QEMU and on the
 * bare Unimachine CPU, or the MIPS figures measure a wrong program. (No timing here: speed is
 * measured by bench/cpu/run.ts, never asserted.)
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBenchKernels } from '../lib/build.js';
import { runDirect } from '../lib/direct-cpu.js';
import { nativeOutput } from '../lib/native.js';
import { CPU32_ELF, CPU64_ELF, CPU64SSE_ELF, CPU_NATIVE } from '../lib/paths.js';
import { QEMU, runQemu } from '../lib/qemu.js';

const KERNELS = [
  ['32-bit', CPU32_ELF],
  ['64-bit', CPU64_ELF],
  ['64-bit SSE', CPU64SSE_ELF],
] as const;

const qemuInstalled = spawnSync(QEMU, ['--version']).status === 0;

beforeAll(() => buildBenchKernels());

describe('native reference', () => {
  it('prints one checksum per kernel and a combined one', () => {
    const out = nativeOutput('n=1');
    expect(out).toMatch(/^bench-cpu: rounds 1\ncrc32 [0-9a-f]{8}\nsort [0-9a-f]{8}\nsieve [0-9a-f]{8}\nmemcpy [0-9a-f]{8}\ndiv [0-9a-f]{8}\nchecksum [0-9a-f]{8}\n$/);
    expect(out).not.toContain('deaddead'); // the sort kernel's "not sorted" marker
  });

  it('runs only the kernels named, and the checksum depends on the rounds', () => {
    expect(nativeOutput('n=1 sort')).toMatch(/^bench-cpu: rounds 1\nsort [0-9a-f]{8}\nchecksum [0-9a-f]{8}\n$/);
    expect(nativeOutput('n=2')).not.toBe(nativeOutput('n=1'));
  });

  it('rejects an unknown kernel name with status 1', () => {
    const r = spawnSync(CPU_NATIVE, ['n=1', 'bogus'], { encoding: 'latin1' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('unknown kernel');
  });
});

describe.skipIf(!qemuInstalled)('on QEMU', () => {
  for (const [name, elf] of KERNELS) {
    it(`the ${name} kernel prints the native output and exits with status 1`, async () => {
      const r = await runQemu(elf, 'n=1', 60_000);
      expect(r.stdout).toBe(nativeOutput('n=1'));
      expect(r.status).toBe(1);
    });
  }

  it('an unknown kernel name exits through isa-debug-exit with code 1 (status 3)', async () => {
    const r = await runQemu(CPU32_ELF, 'n=1 bogus', 60_000);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('unknown kernel');
  });
});

describe('on the bare Unimachine CPU (what bench:cpu times)', () => {
  for (const [name, elf] of KERNELS) {
    it(`the ${name} kernel prints the native output for one kernel`, () => {
      const r = runDirect(elf, { append: 'n=1 crc32' });
      expect(r.reason).toBeUndefined();
      expect(r.end).toBe('exit');
      expect(r.status).toBe(1);
      expect(r.output).toBe(nativeOutput('n=1 crc32'));
      expect(r.instructions).toBeGreaterThan(500_000);
    });
  }

  it('reports a guest that never exits instead of hanging', () => {
    const r = runDirect(CPU32_ELF, { append: 'n=1', maxInstructions: 1_000_000 });
    expect(r.end).toBe('limit');
    expect(r.status).toBeUndefined();
    expect(r.output.startsWith('bench-cpu: rounds 1\n')).toBe(true);
    expect(r.output).not.toContain('checksum');
  });
});
