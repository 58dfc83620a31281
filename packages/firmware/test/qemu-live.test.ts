import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixturePath } from './qemu-dump.js';

const qemuVersion = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout ?? '';
const haveTools = /version 7\.2\./.test(qemuVersion) && spawnSync('gcc', ['--version']).status === 0;

/**
 * The fixtures the other tests compare against are QEMU's real output: rebuild the dump guest,
 * boot it on QEMU 7.2 and check the console is the committed fixture, byte for byte.
 */
describe.skipIf(!haveTools)('the QEMU 7.2 fixtures', () => {
  it('are what the dump guest prints on qemu-system-x86_64 -machine pc -m 256 -smp 2 today', () => {
    const dir = mkdtempSync(join(tmpdir(), 'um-fwdump-'));
    const elf = join(dir, 'fwdump.elf');
    execFileSync(fileURLToPath(new URL('./qemu-guest/build.sh', import.meta.url)), [elf], { stdio: 'pipe' });
    const run = spawnSync(
      'qemu-system-x86_64',
      ['-machine', 'pc', '-accel', 'tcg', '-cpu', 'Westmere', '-m', '256', '-smp', '2', '-nodefaults', '-display', 'none', '-serial', 'stdio', '-device', 'isa-debug-exit', '-kernel', elf],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.status).toBe(1); // outw(0x501, 0) -> (0 << 1) | 1
    expect(run.stdout).toBe(readFileSync(fixturePath('qemu-7.2-pc-m256-smp2.txt'), 'utf8'));
  });
});
