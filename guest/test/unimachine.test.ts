// Boots every guest app on Unimachine, as a test engineer would through the public API
// (machines/hello.yaml, --kernel and --append), and checks it against the same
// apps/<app>/expected*.txt and exit status as test/qemu.test.ts checks QEMU. Each case is
// also booted on QEMU here, and the two consoles must be identical byte for byte except on
// the lines the expected file marks `(value)` (TSC frequency, wall clock, ...): so register
// dumps, which the expected files leave open as {{x}}, must agree with QEMU too.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createMachine, type RunResult } from '@unimachine/machine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUEST_DIR, loadGuestCases, matchExpected, runOnQemu, type GuestCase } from './expected.js';

const MACHINE_YAML = join(GUEST_DIR, '..', 'machines', 'hello.yaml');
const RUN_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 180_000;
const VIRTIO_MISSING = 'virtio devices not implemented in Unimachine yet';

const cases = loadGuestCases();
const qemuInstalled = spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;

interface UnimachineRun {
  result: RunResult;
  text: string;
  bytes: Uint8Array;
  /** Virtual nanoseconds on the machine clock when the run ended. */
  guestNs: number;
  /** Host wall time of createMachine + run, and of run alone. */
  hostMs: number;
  runMs: number;
}

/**
 * Boots a kernel on machines/hello.yaml (the PC of QEMU_MACHINE_ARGS: 128 MiB, PIC, PIT, RTC, COM1,
 * isa-debug-exit, PCI host) in deterministic time. The loader writes `"<kernel> <append>"` as the
 * multiboot command line, as QEMU's `-kernel <kernel> -append <append>` does.
 */
async function bootOnUnimachine(elfPath: string, append: string): Promise<UnimachineRun> {
  const started = performance.now();
  const m = await createMachine(MACHINE_YAML, {
    set: { clock: 'deterministic', memory: '128MiB' },
    kernel: elfPath,
    append,
  });
  try {
    const runStarted = performance.now();
    const result = await m.run({ until: 'exit', timeoutMs: RUN_TIMEOUT_MS });
    const ended = performance.now();
    const com1 = m.console('com1');
    return { result, text: com1.text(), bytes: com1.bytes().slice(), guestNs: m.clock.now(), hostMs: ended - started, runMs: ended - runStarted };
  } finally {
    await m.dispose();
  }
}

/** How a run ended, with the last console lines: what a failing assertion should show. */
function describeEnd(run: UnimachineRun): string {
  const tail = run.text.split('\n').slice(-6).join('\n');
  return `machine ended with ${run.result.end} (status ${run.result.exitCode})` +
    `${run.result.message ? `: ${run.result.message}` : ''}\nlast console lines:\n${tail}`;
}

/**
 * Lines where two machines' consoles differ, ignoring the lines whose expected line is a
 * `(value)` line (machine-dependent by the guest README's convention).
 */
function differingLines(expectedText: string, ours: string, theirs: string): string[] {
  const expected = expectedText.split('\n');
  const a = ours.split('\n');
  const b = theirs.split('\n');
  const problems: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i] || expected[i]?.includes('(value)')) continue;
    problems.push(`line ${i + 1}:\n  unimachine: ${JSON.stringify(a[i] ?? '(end of output)')}\n  qemu:       ${JSON.stringify(b[i] ?? '(end of output)')}`);
  }
  return problems;
}

const needsVirtio = (c: GuestCase) => c.disk !== undefined || c.net === true;
const caseId = (c: GuestCase) => `${c.app} ${c.name}`;

/** Per-case timings, printed as one table at the end for the benchmark notes. */
const timings = new Map<string, { unimachineMs?: number; guestMs?: number; qemuMs?: number }>();
function timing(c: GuestCase) {
  let t = timings.get(caseId(c));
  if (!t) timings.set(caseId(c), (t = {}));
  return t;
}

describe('guest apps on Unimachine', () => {
  beforeAll(() => {
    // qemu.test.ts runs make in parallel with this file: build only when an image is missing,
    // so two makes do not write the same files at once in the usual case (make -C guest first).
    if (!cases.every((c) => existsSync(c.elfPath))) spawnSync('make', ['-C', GUEST_DIR, '-j4', '--no-print-directory'], { stdio: 'pipe' });
  });

  afterAll(() => {
    const rows = [...timings].map(
      ([id, t]) =>
        `${id.padEnd(30)} ${fmt(t.unimachineMs).padStart(9)} ${fmt(t.guestMs).padStart(10)} ${fmt(t.qemuMs).padStart(9)}`,
    );
    console.log(`${'case'.padEnd(30)} ${'unimachine'.padStart(9)} ${'guest time'.padStart(10)} ${'qemu'.padStart(9)}   (ms)\n${rows.join('\n')}`);
  });

  it('found the app cases', () => {
    const apps = new Set(cases.map((c) => c.app));
    for (const app of ['hello32', 'hello', 'time', 'exceptions', 'sse', 'pci', 'memory']) expect(apps).toContain(app);
  });

  for (const c of cases) describe(caseId(c), () => {
    if (needsVirtio(c)) {
      it.skip(`${VIRTIO_MISSING} (${c.disk ? 'virtio-blk' : 'virtio-net'})`, () => {});
      return;
    }

    let ours: UnimachineRun | undefined;

    it(`prints ${c.app}/${basename(c.expectedPath)} and exits with status ${c.status}`, async () => {
      ours = await bootOnUnimachine(c.elfPath, c.append);
      timing(c).unimachineMs = ours.hostMs;
      timing(c).guestMs = ours.guestNs / 1e6;
      const match = matchExpected(c.expectedText, ours.text);
      expect(match.ok, `console output differs from ${c.expectedPath}:\n${match.diff}\n${describeEnd(ours)}`).toBe(true);
      expect(ours.result.end, describeEnd(ours)).toBe('exit');
      expect(ours.result.exitCode).toBe(c.status);
      if (c.app === 'time') {
        console.log(
          `time app on Unimachine: ${ours.hostMs.toFixed(0)} ms host wall time (run ${ours.runMs.toFixed(0)} ms) ` +
            `for ${(ours.guestNs / 1e9).toFixed(3)} s of guest time`,
        );
      }
    }, TEST_TIMEOUT_MS);

    it.skipIf(!qemuInstalled)('prints the same bytes as QEMU, except on (value) lines', async () => {
      if (!ours) throw new Error('the Unimachine boot above did not complete');
      const qemu = await runOnQemu(c.elfPath, { append: c.append, timeoutMs: 30_000 });
      timing(c).qemuMs = qemu.durationMs;
      expect(differingLines(c.expectedText, ours.text, qemu.stdout), `Unimachine and QEMU consoles differ (QEMU stderr: ${qemu.stderr})`).toEqual([]);
      expect(ours.result.exitCode).toBe(qemu.status);
    }, TEST_TIMEOUT_MS);
  });

  it('is deterministic: hello booted twice prints identical console bytes at the same virtual time', async () => {
    const hello = cases.find((c) => c.app === 'hello')!;
    const a = await bootOnUnimachine(hello.elfPath, hello.append);
    const b = await bootOnUnimachine(hello.elfPath, hello.append);
    expect(a.result.end, describeEnd(a)).toBe('exit');
    expect(a.bytes.length).toBeGreaterThan(0);
    expect(b.bytes).toEqual(a.bytes);
    expect(b.guestNs).toBe(a.guestNs);
  }, TEST_TIMEOUT_MS);
});

function fmt(ms: number | undefined): string {
  return ms === undefined ? '-' : ms.toFixed(0);
}
