// The blk app against real image files on the host, beyond the console comparison of
// unimachine.test.ts: a `snapshot: true` disk never changes its base image, and a write the
// guest flushed is in the file even when the emulator process is killed right after the flush.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMachine } from '@unimachine/machine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkDiskImage, createDiskImage, diskPattern, fnv1a32Hex, GUEST_DIR, loadGuestCases, matchExpected, unimachineHardware, type GuestCase,
} from './expected.js';

const REPO_DIR = join(GUEST_DIR, '..');
const MACHINE_YAML = join(REPO_DIR, 'machines', 'hello.yaml');
/** The CLI from its TypeScript sources (dist may lag behind them while packages are being edited). */
const CLI_SOURCE = join(REPO_DIR, 'packages', 'machine', 'src', 'cli.ts');
const RUN_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 180_000;
/** What the blk app prints once its FLUSH request (after writing the whole pattern) completed. */
const FLUSHED_LINE = 'flush: OK\n';
const PASSED_LINE = 'blk: all checks passed';

const blk: GuestCase = loadGuestCases().find((c) => c.app === 'blk' && c.name === 'blk')!;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The blk case's disk as a Unimachine device entry, with extra backend properties. */
function diskEntry(imagePath: string, backendExtra: Record<string, unknown> = {}): Record<string, unknown> {
  const entry = unimachineHardware(blk, [imagePath]).disk0!;
  return { ...entry, backend: { ...(entry.backend as Record<string, unknown>), ...backendExtra } };
}

describe('blk app and the host image file', () => {
  let scratch = '';
  beforeAll(() => {
    expect(blk, 'apps/blk/cases.json has the "blk" case').toBeDefined();
    expect(blk.disk?.pattern, 'the blk case writes the blk-sectors pattern').toBe('blk-sectors');
    expect(existsSync(blk.elfPath), `${blk.elfPath} is built (make -C guest)`).toBe(true);
    scratch = mkdtempSync(join(tmpdir(), 'unimachine-blk-host-'));
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('snapshot: true keeps the base image byte-identical while the guest passes on its copy-on-write view', async () => {
    const image = join(scratch, 'snapshot-base.img');
    createDiskImage(blk.disk!, image);
    const before = sha256(image);
    const m = await createMachine(MACHINE_YAML, {
      set: { clock: 'deterministic', 'rtc.base': '2026-01-01T00:00:00Z', 'devices.disk0': diskEntry(image, { snapshot: true }) },
      kernel: blk.elfPath,
      append: blk.append,
    });
    let guestView: Uint8Array;
    let text: string;
    try {
      const result = await m.run({ until: 'exit', timeoutMs: RUN_TIMEOUT_MS });
      text = m.console('com1').text();
      expect(result.end, `${result.message ?? ''}\n${text}`).toBe('exit');
      expect(result.exitCode).toBe(blk.status);
      guestView = m.disk('disk0').bytes();
    } finally {
      await m.dispose();
    }
    const match = matchExpected(blk.expectedText, text);
    expect(match.ok, `console output differs from ${blk.expectedPath}:\n${match.diff}`).toBe(true);
    // The guest wrote (and read back) the whole pattern: it lives in the overlay only.
    const pattern = diskPattern('blk-sectors', blk.disk!.sizeBytes);
    expect(Buffer.from(guestView).equals(pattern), 'the disk as the guest left it is the blk-sectors pattern').toBe(true);
    expect(text).toContain(fnv1a32Hex(pattern));
    expect(sha256(image), 'the base image changed').toBe(before);
  }, TEST_TIMEOUT_MS);

  it('a flushed write is in the file after the process is killed with SIGKILL right after the flush completes', async () => {
    const image = join(scratch, 'killed.img');
    createDiskImage(blk.disk!, image);
    // The check below has teeth: before the run the image is not the pattern.
    expect(checkDiskImage(blk.disk!, image)).not.toEqual([]);

    const args = [
      '--conditions=source', '--import', 'tsx', CLI_SOURCE, 'run', MACHINE_YAML, '--kernel', blk.elfPath, '--disk', image,
    ];
    const child = spawn(process.execPath, args, { cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killedAt: string | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stdout.setEncoding('latin1').on('data', (chunk: string) => {
      stdout += chunk;
      if (killedAt === undefined && stdout.includes(FLUSHED_LINE)) {
        child.kill('SIGKILL');
        killedAt = stdout;
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    clearTimeout(guard);

    expect(killedAt, `the guest never printed ${JSON.stringify(FLUSHED_LINE)} (exit ${code}, ${signal})\nstdout:\n${stdout}\nstderr:\n${stderr}`).toBeDefined();
    // Killed mid-run: the guest was still verifying when the process died.
    expect(signal, `the CLI ended on its own (exit ${code}) before the kill\nstderr:\n${stderr}`).toBe('SIGKILL');
    expect(killedAt).not.toContain(PASSED_LINE);
    expect(checkDiskImage(blk.disk!, image), 'what the flushed image lacks').toEqual([]);
  }, TEST_TIMEOUT_MS);
});
