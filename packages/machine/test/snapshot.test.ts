// Whole-machine snapshots: a restored machine continues exactly as the original does (console bytes,
// instruction counts, virtual time), forks are cheap, and a bad snapshot fails with a clear message.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  captureRam, createMachine, decodeSnapshot, encodeSnapshot, MachineConfigError, type Machine, type MachineSnapshot,
} from '../src/index.js';
import { main } from '../src/cli-main.js';
import { ensureGuests, guestBuild, machines, root } from './support/paths.js';

beforeAll(() => ensureGuests('time.elf', 'hello.elf'));

const open: Machine[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.dispose();
});
const track = (m: Machine) => (open.push(m), m);
const hello = path.join(machines, 'hello.yaml');
const boot = async (app: string, append = 'fork me') => track(await createMachine(hello, { kernel: path.join(guestBuild, app), append }));
const fromSnapshot = async (s: MachineSnapshot) => track(await createMachine(s));

/** What must be identical between the original continuing and a restored copy. */
const outcome = (m: Machine) => ({
  console: m.console('com1').text(),
  instructions: m.cpu.instructionsRetired,
  now: m.clock.now(),
  result: m.result,
});

describe('Machine.snapshot / createMachine(snapshot)', () => {
  it('a restored machine continues exactly as the original: same console bytes, instruction count and clock', async () => {
    const m = await boot('time.elf');
    await m.uart('com1').waitForLine(/^sleep 1 until/);
    m.uart('com1').send('queued input\r'); // paced input in flight: its delivery timer is part of the state
    await m.run({ untilTime: m.clock.now() + 200_000 }); // a few bytes delivered, the rest still queued
    const snap = m.snapshot();
    expect(snap.consoles[0].input.length).toBeGreaterThan(0);
    expect(snap.consoles[0].pacing).not.toBeNull();

    const original = await m.run();
    expect(original).toMatchObject({ end: 'exit' });
    expect(m.console('com1').text()).toMatch(/time: all checks passed/);

    const copy = await fromSnapshot(snap);
    expect(copy.console('com1').text()).toBe(new TextDecoder().decode(snap.consoles[0].output)); // output so far comes along
    await copy.run();
    expect(outcome(copy)).toEqual(outcome(m));

    // restore() on a used machine (it ran to the end): same result again.
    m.restore(snap);
    expect(m.result).toBeUndefined();
    await m.run();
    expect(outcome(m)).toEqual(outcome(copy));
  });

  it('a snapshot survives the file encoding, and a snapshot of a restored machine is as good as the first', async () => {
    const m = await boot('time.elf');
    await m.uart('com1').waitForLine('monotonic clock never goes backwards');
    const snap = decodeSnapshot(encodeSnapshot(m.snapshot()));
    await m.run();

    const a = await fromSnapshot(snap);
    await a.uart('com1').waitForLine(/^sleep 2 until/); // the test kit's cursor came along: this is a new line
    const again = decodeSnapshot(encodeSnapshot(a.snapshot()));
    await a.run();
    const b = await fromSnapshot(again);
    await b.run();
    expect(outcome(a)).toEqual(outcome(m));
    expect(outcome(b)).toEqual(outcome(m));
  });

  it('forks: boot hello once to its first line, restore it into 10 machines that each finish identically', async () => {
    const full = await boot('hello.elf');
    await full.run();

    const m = await boot('hello.elf');
    await m.uart('com1').waitForLine('Hello from Unimachine!');
    let t = performance.now();
    const snap = m.snapshot();
    const snapshotMs = performance.now() - t;

    const forkMs: number[] = [];
    for (let i = 0; i < 10; i++) {
      t = performance.now();
      const fork = await fromSnapshot(snap);
      forkMs.push(performance.now() - t);
      await fork.run();
      expect(outcome(fork)).toEqual(outcome(full));
    }
    console.log(
      `fork timing (hello, ${snap.memory.pages.length} non-zero 4 KiB pages of ${snap.memory.size >> 20} MiB): snapshot ${snapshotMs.toFixed(1)} ms; ` +
        `createMachine(snapshot) ${forkMs.map((x) => x.toFixed(1)).join(', ')} ms`,
    );
  });

  it('128 MiB: snapshot and restore take milliseconds, not seconds (only non-zero pages are kept and copied)', async () => {
    const m = await boot('hello.elf');
    await m.uart('com1').waitForLine('Hello from Unimachine!');
    m.memory.u8.fill(0x5a, 64 << 20, (64 << 20) + (4 << 20)); // 4 MiB of guest data besides the kernel
    const ms = (f: () => void) => {
      const t = performance.now();
      f();
      return performance.now() - t;
    };
    let snap!: MachineSnapshot;
    const take = ms(() => (snap = m.snapshot()));
    expect(snap.memory.data.length).toBeLessThan(8 << 20);
    const restore = ms(() => m.restore(snap));
    const scan = ms(() => captureRam(m.memory.u8));
    console.log(`128 MiB guest: snapshot ${take.toFixed(1)} ms, restore into a used machine ${restore.toFixed(1)} ms (RAM scan ${scan.toFixed(1)} ms), kept ${snap.memory.data.length >> 10} KiB`);
    expect(take).toBeLessThan(1000);
    expect(restore).toBeLessThan(1000);
    expect(m.memory.u8[(64 << 20) + 5]).toBe(0x5a);
  });

  it('refuses to snapshot a machine that has ended or is running', async () => {
    const m = await boot('hello.elf');
    const running = m.run();
    expect(() => m.snapshot()).toThrow(/is running; take a snapshot between runs/);
    await running;
    expect(() => m.snapshot()).toThrow(/has ended \(exit, status 1\); there is nothing to continue/);
  });
});

describe('bad snapshots fail with a message naming the part and the problem', () => {
  let snap: MachineSnapshot;
  beforeAll(async () => {
    const m = await createMachine(hello, { kernel: path.join(guestBuild, 'hello.elf') });
    await m.uart('com1').waitForLine('Hello from Unimachine!');
    snap = m.snapshot();
    await m.dispose();
  });
  const tweak = (f: (s: MachineSnapshot) => void): MachineSnapshot => {
    const s = decodeSnapshot(encodeSnapshot(snap)); // a deep copy
    f(s);
    return s;
  };
  const failure = async (s: MachineSnapshot) => {
    const e = await createMachine(s).then(
      async (m) => (await m.dispose(), undefined),
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(MachineConfigError);
    return (e as Error).message;
  };

  it('a device state of another version', async () => {
    const msg = await failure(tweak((s) => ((s.devices.find((d) => d.id === 'pit')!.state as { version: number }).version = 7)));
    expect(msg).toBe('device "pit" (i8254): i8254: saved state has version 7; this build restores version 1');
  });

  it('a device state of the wrong shape', async () => {
    const msg = await failure(tweak((s) => (((s.devices.find((d) => d.id === 'pit')!.state as { channels: { mode: unknown }[] }).channels[0].mode = 'x'))));
    expect(msg).toBe('device "pit" (i8254): i8254: channels[0].mode must be an integer 0..5, got the string "x"');
    const uart = await failure(tweak((s) => delete (s.devices.find((d) => d.id === 'com1')!.state as { lsr?: number }).lsr));
    expect(uart).toBe('device "com1" (uart-16550): uart-16550: lsr must be an integer 0..255, got nothing');
    const cpu = await failure(tweak((s) => ((s.cpu as { state: unknown }).state = [1, 2, 3])));
    expect(cpu).toBe('the CPU: x86 CPU: state must be 512 bytes, got an array');
  });

  it('a snapshot of another machine, or of another format version', async () => {
    expect(await failure(tweak((s) => (s.devices.find((d) => d.id === 'rtc')!.type = 'i8254')))).toBe(
      'the snapshot is of another machine: its device "rtc" is a i8254, this one is a mc146818',
    );
    expect(await failure(tweak((s) => ((s as { version: number }).version = 2)))).toBe('snapshot: machine snapshot version 2; this build restores version 1');
    expect(await failure(tweak((s) => (s.memory.size = 64 << 20)))).toMatch(/^snapshot memory: the snapshot's machine has 67108864 bytes of RAM, this one 134217728/);
  });

  it('a truncated or damaged file', () => {
    const bytes = encodeSnapshot(snap);
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 100), 'x.snap')).toThrow(/^x\.snap: truncated: /);
    const damaged = Uint8Array.from(bytes);
    damaged[damaged.length - 50] ^= 1;
    expect(() => decodeSnapshot(damaged, 'x.snap')).toThrow('x.snap: damaged: the CRC-32 does not match its contents');
    expect(() => decodeSnapshot(new TextEncoder().encode('machine: hello\n'), 'x.snap')).toThrow('x.snap: not a Unimachine snapshot (no UNIMSNAP header)');
  });
});

describe('unimachine run --snapshot-to / --restore', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unimachine-snapshot-'));
  const CLI = ['--conditions=source', '--import', 'tsx', path.join(root, 'packages/machine/src/cli.ts')];
  const cli = (...args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const inProcess = async (...args: string[]) => {
    let stderr = '';
    const status = await main(args, { stdout: () => {}, stderr: (t) => (stderr += t) });
    return { status, stderr };
  };

  it('saves at a console line and continues from the file: the two runs print the whole console once', () => {
    const file = path.join(dir, 'hello.snap');
    const kernel = path.join(guestBuild, 'hello.elf');
    const full = cli('run', 'machines/hello.yaml', '--kernel', kernel, '--append', 'a b');
    const first = cli('run', 'machines/hello.yaml', '--kernel', kernel, '--append', 'a b', '--snapshot-to', file, '--snapshot-on', 'Hello');
    expect(first.status).toBe(0);
    expect(first.stdout).toBe('Hello from Unimachine!\n');
    expect(first.stderr).toMatch(new RegExp(`snapshot written to ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} at \\d+ ns`));
    const second = cli('run', '--restore', file);
    expect(second.stderr).toBe('');
    expect(first.stdout + second.stdout).toBe(full.stdout);
    expect(second.status).toBe(full.status);
  });

  it('a bad snapshot file or a conflicting option: exit 2 and one line', async () => {
    const truncated = path.join(dir, 'truncated.snap');
    const good = encodeSnapshot(await (async () => {
      const m = await createMachine(hello, { kernel: path.join(guestBuild, 'hello.elf') });
      await m.uart('com1').waitForLine('Hello');
      const s = m.snapshot();
      await m.dispose();
      return s;
    })());
    writeFileSync(truncated, good.subarray(0, 1000));
    let r = await inProcess('run', '--restore', truncated);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${truncated.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: truncated: 1000 bytes, the header describes \\d+\\n$`));

    const wrongShape = path.join(dir, 'shape.snap');
    const s = decodeSnapshot(good);
    (s.devices.find((d) => d.id === 'pic')!.state as { master: { imr: unknown } }).master.imr = 300;
    writeFileSync(wrongShape, encodeSnapshot(s));
    r = await inProcess('run', '--restore', wrongShape);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`--restore ${wrongShape}: device "pic" (i8259): i8259: master.imr must be an integer 0..255, got number 300\n`);

    r = await inProcess('run', '--restore', wrongShape, '-m', '256');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`--restore ${wrongShape}: a snapshot brings its own machine, kernel and settings; drop -m\n`);
    expect(readFileSync(wrongShape).length).toBeGreaterThan(0);
  });
});
