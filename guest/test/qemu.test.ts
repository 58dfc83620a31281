// Boots every guest app on QEMU and checks its console output against
// apps/<app>/expected*.txt and its isa-debug-exit status against cases.json.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkDiskImage, createDiskImage, GUEST_DIR, loadGuestCases, matchExpected, runOnQemu, startNetPeer, type NetPeer,
} from './expected.js';

const QEMU = 'qemu-system-x86_64';
const cases = loadGuestCases();

function qemuInstalled(): boolean {
  return spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('guest apps on QEMU', () => {
  let scratch = '';
  beforeAll(() => {
    execFileSync('make', ['-C', GUEST_DIR, '-j4', '--no-print-directory'], { stdio: 'pipe' });
    scratch = mkdtempSync(join(tmpdir(), 'unimachine-guest-'));
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('has QEMU installed', () => {
    expect(qemuInstalled(), `${QEMU} not found: install it with \`apt-get install qemu-system-x86\` (CI installs it)`).toBe(
      true,
    );
  });

  it('found the app cases', () => {
    const apps = new Set(cases.map((c) => c.app));
    for (const app of ['hello32', 'hello', 'time', 'exceptions', 'sse', 'pci', 'memory', 'blk', 'net']) expect(apps).toContain(app);
  });

  // One boot at a time: `time` checks its sleeps against host time, and QEMU's
  // TCG is CPU-bound, so parallel boots on a small CI machine gain little.
  describe.each(cases)('$app $name', (c) => {
    it(`prints ${c.app}/${basename(c.expectedPath)} and exits with status ${c.status}`, async () => {
      const disk = c.disk ? join(scratch, `${c.app}-${c.name}.img`) : undefined;
      if (c.disk && disk) createDiskImage(c.disk, disk);
      const peer: NetPeer | undefined = c.net ? await startNetPeer() : undefined;
      try {
        const run = await runOnQemu(c.elfPath, {
          append: c.append, timeoutMs: 30_000, ...(disk ? { disk } : {}), ...(peer ? { netPeerPort: peer.port } : {}),
        });
        const match = matchExpected(c.expectedText, run.stdout);
        expect(match.ok, `console output differs from ${c.expectedPath}:\n${match.diff}\nstderr: ${run.stderr}`).toBe(true);
        expect(run.timedOut).toBe(false);
        expect(run.status).toBe(c.status);
        if (c.disk && disk) expect(checkDiskImage(c.disk, disk)).toEqual([]);
        if (peer) {
          // QEMU has exited: the echo is on its way or was never sent.
          const noEcho = new Promise<string>((resolve) => setTimeout(() => resolve('(no echo frame)'), 2000).unref());
          expect(await Promise.race([peer.echo, noEcho])).toBe('echo: hello from the peer');
        }
      } finally {
        peer?.close();
      }
    });
  });
});
