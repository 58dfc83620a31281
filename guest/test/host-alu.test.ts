// cpu-alu's and cpu-alu32's expected output came from QEMU; these tests check
// them against the host CPU running the same cases natively, so a QEMU quirk
// cannot hide in an expected file.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GUEST_BUILD_DIR, GUEST_DIR, matchExpected } from './expected.js';

const onX64 = process.arch === 'x64';

function buildHostTool(name: string): string {
  execFileSync('make', ['-C', GUEST_DIR, '--no-print-directory', `build/host/${name}`], { stdio: 'pipe' });
  return join(GUEST_BUILD_DIR, 'host', name);
}

function expectedOf(app: string): string {
  return readFileSync(join(GUEST_DIR, 'apps', app, 'expected.txt'), 'latin1');
}

describe('ALU cases on the host CPU', () => {
  it.skipIf(!onX64)('cpu-alu: host output equals apps/cpu-alu/expected.txt (x86-64 host)', () => {
    const native = execFileSync(buildHostTool('alu'), { encoding: 'latin1' });
    const match = matchExpected(expectedOf('cpu-alu'), native);
    expect(match.ok, `host CPU output differs from apps/cpu-alu/expected.txt:\n${match.diff}`).toBe(true);
  });

  it.skipIf(!onX64)('cpu-alu32: host output equals apps/cpu-alu32/expected.txt (kernel with 32-bit support)', (ctx) => {
    const run = spawnSync(buildHostTool('alu32'), { encoding: 'latin1' });
    // Where the kernel refuses 32-bit programs (ENOEXEC; some VMs and sandboxes do),
    // execvp hands the file to /bin/sh, which fails to parse it.
    if (run.status !== 0 && /Syntax error|cannot execute binary file|Exec format error/.test(run.stderr)) {
      console.warn(`cpu-alu32 host check skipped: this machine cannot run 32-bit programs (${run.stderr.trim()})`);
      ctx.skip();
    }
    expect(run.status).toBe(0);
    const match = matchExpected(expectedOf('cpu-alu32'), run.stdout);
    expect(match.ok, `host CPU output differs from apps/cpu-alu32/expected.txt:\n${match.diff}`).toBe(true);
  });
});
