// "Nothing crashes the tool": random and mutated machine files and command lines thrown at
// validate, run, devices and schema must end with exit 0, 2 or a guest status, never 70, a
// throw, a stack trace, a hang or an unbounded heap. Plus the inputs the fuzzer found, kept as
// regressions (each run in a child process with a time limit, since some used to block forever).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeCase, generateCase, judge, rerunCommand, seedMachineFiles, superviseConfigFuzz, workspaceNames, type CaseOutcome,
} from './support/config-fuzz/index.js';
import { ensureGuests, guestBuild, machines, root } from './support/paths.js';

beforeAll(() => ensureGuests('hello.elf', 'hello32.elf'));

const SEED = 20261206;
const CASES = 10_000;

describe('the config fuzzer', () => {
  it('makes the same case from the same seed and index, and different ones otherwise', () => {
    const src = { seeds: seedMachineFiles(machines), workspace: workspaceNames() };
    const a = generateCase(SEED, 1234, src);
    expect(generateCase(SEED, 1234, src)).toEqual(a);
    const others = [generateCase(SEED, 1235, src), generateCase(SEED + 1, 1234, src)];
    for (const o of others) expect(JSON.stringify(o)).not.toBe(JSON.stringify(a));
    expect(describeCase(root, SEED, 1234)).toContain(`case 1234 (seed ${SEED}`);
  });

  it('judges exit 70, a throw, a stack trace, a multi-line message and a stray status as failures', () => {
    const base: CaseOutcome = { index: 0, mode: 'validate', status: 2, stdout: '', stderr: 'f.yaml:1:1: bad\n', ms: 1, heapGrowthMiB: 0 };
    expect(judge(base)).toBeUndefined();
    expect(judge({ ...base, status: 70, stderr: 'unimachine: internal error: TypeError: x\n    at f (a.ts:1:2)\n' })).toMatch(/internal error/);
    expect(judge({ ...base, status: undefined, thrown: 'TypeError: x' })).toMatch(/threw/);
    expect(judge({ ...base, stderr: 'oops\n    at thing (file.ts:3:4)\n' })).toMatch(/stack trace/);
    expect(judge({ ...base, stderr: 'f.yaml:1:1: line one\nline two\n' })).toMatch(/one message line/);
    expect(judge({ ...base, status: 1 })).toMatch(/not 0, 2/);
    expect(judge({ ...base, mode: 'run', status: 83, stderr: '' })).toBeUndefined();
  });

  it(`${CASES} random and mutated machine files and command lines: exit 0, 2 or a guest status, each within its time and heap bound`, async () => {
    const report = await superviseConfigFuzz({ seed: SEED, first: 0, cases: CASES, root, jobs: 2, maxFailures: 5 });
    const shown = report.failures.map((f) => `${f.problem}\n${f.outcome ? `stderr: ${JSON.stringify(f.outcome.stderr.slice(0, 800))}\n` : ''}${describeCase(root, SEED, f.index)}\nrerun: ${rerunCommand(SEED, f.index)}`);
    console.log(
      `config fuzz: ${report.ran} cases ran, ${report.skipped} skipped, in ${(report.wallMs / 1000).toFixed(1)} s; ` +
        `statuses ${JSON.stringify(report.statuses)}; slowest ${report.slowest[0]?.ms} ms; largest heap growth ${report.maxHeapGrowthMiB.toFixed(1)} MiB`,
    );
    expect(shown, shown.join('\n\n')).toEqual([]);
    expect(report.ran + report.skipped).toBe(CASES);
    expect(report.ran).toBeGreaterThan(CASES * 0.98);
    // The cases reach every outcome: accepted, refused, and booted guests.
    expect(report.statuses['validate 0']).toBeGreaterThan(100);
    expect(report.statuses['validate 2']).toBeGreaterThan(5000);
    expect(Object.keys(report.statuses).some((k) => /^run (1|41)$/.test(k))).toBe(true);
  }, 900_000);
});

describe('inputs the fuzzer found', () => {
  let tmp = '';
  let fifo = '';
  const hello32 = path.join(guestBuild, 'hello32.elf');
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'unimachine-fuzz-found-'));
    fifo = path.join(tmp, 'fifo');
    spawnSync('mkfifo', [fifo]);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** The CLI from source in a child process, killed after 20 s (some of these used to block forever). */
  function cli(...args: string[]): { status: number | null; stderr: string } {
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/machine/src/cli.ts', ...args], {
      cwd: root,
      env: { ...process.env, UNIMACHINE_NO_BUNDLE: '1' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: r.status, stderr: r.stderr };
  }

  function expectOneLine(r: { status: number | null; stderr: string }, message: RegExp): void {
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
  }

  function write(name: string, text: string): string {
    const f = path.join(tmp, name);
    writeFileSync(f, text);
    return f;
  }

  it('plugins: a FIFO is refused by type instead of import() blocking forever', () => {
    expectOneLine(cli('validate', '--kernel', hello32, '--set', `plugins=[${fifo}]`), /is not a regular file; give a JavaScript module or a package folder$/);
  });

  it('console: file:FIFO with no reader fails at once; file:/dev/full is one line, not exit 70', () => {
    expectOneLine(cli('run', '--kernel', hello32, '--set', `devices.com1.console=file:${fifo}`, '--timeout', '5000'), /nothing is reading that FIFO/);
    expectOneLine(cli('run', '--kernel', hello32, '--set', 'devices.com1.console=file:/dev/full', '--timeout', '5000'), /^console file:\/dev\/full: cannot write the console's file: ENOSPC$/);
  });

  it('--net ...,pcap=FIFO fails at once', () => {
    expectOneLine(cli('run', '--kernel', hello32, '--net', `hub:found,pcap=${fifo}`, '--timeout', '5000'), /cannot create pcap file .*: ENXIO$/);
  });

  it('a value with a line break is quoted on one line; a huge value is shortened', () => {
    const f = write('newline.yaml', `devices:\n  a: { type: "x\\ny" }\nboot: { kernel: ${JSON.stringify(hello32)} }\n`);
    expectOneLine(cli('validate', f), /unknown device type "x\\ny"/);
    const big = write('long.yaml', `devices:\n  a: { type: ${'z'.repeat(200_000)} }\nboot: { kernel: ${JSON.stringify(hello32)} }\n`);
    const r = cli('validate', big);
    expectOneLine(r, /characters left out/);
    expect(r.stderr.length).toBeLessThan(2100);
  });

  it('lists nested 100,000 deep are refused in milliseconds, before the parser spends seconds on them', () => {
    const f = write('deep.yaml', `memory: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    expectOneLine(cli('validate', f), new RegExp(`^${f}:1:73: the YAML nests lists or maps more than 64 deep`));
  });

  it('a list or map as a key is refused at its position (no warning on stderr)', () => {
    const f = write('complex-key.yaml', `? [a, b]\n: 1\nboot: { kernel: ${JSON.stringify(hello32)} }\n`);
    expectOneLine(cli('validate', f), new RegExp(`^${f}:1:3: a key must be a single word or number, not a list or map$`));
  });

  it('a device id the pattern refuses ("49") is reported, not passed on without a type (was exit 70: TypeError in didYouMean)', () => {
    const f = write('id.yaml', `devices: { "49": {} }\nboot: { kernel: ${JSON.stringify(hello32)} }\n`);
    expectOneLine(cli('validate', f), new RegExp(`^${f}:1:12: "49" is not a device id; an id starts with a letter or _`));
  });

  it('an alias inside the value its anchor names (&a [*a]) is refused where it is written', () => {
    const f = write('recursive.yaml', `devices:\n  pic: { type: i8259 }\n  com1: { type: uart-16550, irq: &a [ *a ] }\nboot: { kernel: ${JSON.stringify(hello32)} }\n`);
    expectOneLine(cli('validate', f), new RegExp(`^${f}:3:39: alias \\*a is inside the value &a names`));
  });

  it('a kernel that fails to load after the devices were built closes their sockets (the process exits)', () => {
    const yaml = write(
      'udp.yaml',
      `devices:\n  pic: { type: i8259 }\n  pci: { type: pci-host }\n  net0: { type: virtio-net-pci, backend: { type: udp, local: "127.0.0.1:0", remote: "127.0.0.1:9" } }\n` +
        `boot: { kernel: ${JSON.stringify(path.join(tmp, 'not-a-kernel.elf'))} }\n`,
    );
    writeFileSync(path.join(tmp, 'not-a-kernel.elf'), Buffer.from('\x7fELF truncated'));
    const started = performance.now();
    const r = cli('validate', yaml);
    expectOneLine(r, /not-a-kernel\.elf/);
    expect(performance.now() - started).toBeLessThan(15_000); // an open socket kept the process alive until killed
  });
});
