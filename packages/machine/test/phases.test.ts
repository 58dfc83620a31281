import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ensureGuests, guestBuild, root } from './support/paths.js';

// UNIMACHINE_PHASES=1: the CLI's start-up phases on stderr, for bench/start.ts (src/phases.ts).
const CLI = ['--conditions=source', '--import', 'tsx', path.join(root, 'packages/machine/src/cli.ts')];

beforeAll(() => ensureGuests('hello32.elf'));

it('UNIMACHINE_PHASES=1 prints one line of phase marks, in order, with the instructions retired', () => {
  const r = spawnSync(process.execPath, [...CLI, 'run', 'machines/hello.yaml', '--kernel', path.join(guestBuild, 'hello32.elf')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, UNIMACHINE_PHASES: '1' },
  });
  expect(r.stdout).toBe('Hello from Unimachine!\ncmdline: \n');
  expect(r.status).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^unimachine-phases \{/);
  const record = JSON.parse(lines[0]!.slice('unimachine-phases '.length)) as {
    timeOrigin: number;
    nodeBootstrapComplete: number;
    marks: Record<string, number>;
    cpu?: Record<string, number>;
    instructions: number;
  };
  const order = ['cli-start', 'cli-loaded', 'machine-built', 'guest-run', 'disposed', 'main-done', 'exit'];
  expect(Object.keys(record.marks).sort()).toEqual([...order].sort());
  const times = order.map((k) => record.marks[k]!);
  expect(times).toEqual([...times].sort((a, b) => a - b));
  expect(record.nodeBootstrapComplete).toBeLessThan(times[0]!);
  expect(record.timeOrigin).toBeGreaterThan(Date.UTC(2020, 0, 1));
  expect(record.instructions).toBeGreaterThan(100); // hello32 has no timer calibration: about 900
  // The main thread's CPU time at each mark (Linux): it only grows, and never outruns the wall clock.
  if (process.platform === 'linux') {
    const cpu = order.map((k) => record.cpu?.[k]);
    expect(cpu.every((c) => typeof c === 'number' && c > 0)).toBe(true);
    expect(cpu).toEqual([...cpu].sort((a, b) => a! - b!));
    expect(cpu[6]! - cpu[0]!).toBeLessThanOrEqual(times[6]! - times[0]! + 1);
  }
});

it('the record says what the WebAssembly tier compiled during the run (none when it is off)', () => {
  const run = (jit: string) => {
    const r = spawnSync(process.execPath, [...CLI, 'run', 'machines/hello.yaml', '--kernel', path.join(guestBuild, 'hello32.elf')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, UNIMACHINE_PHASES: '1', UNIMACHINE_JIT: jit },
    });
    expect(r.stdout).toBe('Hello from Unimachine!\ncmdline: \n');
    const line = r.stderr.split('\n').find((l) => l.startsWith('unimachine-phases '))!;
    return (JSON.parse(line.slice('unimachine-phases '.length)) as { jit?: { compiled: number; compileMs: number } }).jit;
  };
  const compiled = run('0'); // every block compiled at its first run
  expect(compiled?.compiled).toBeGreaterThan(0);
  expect(compiled?.compileMs).toBeGreaterThan(0);
  expect(run('off')).toBeUndefined();
});
