import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMachine } from '../src/index.js';
import { buildKernels, type BuiltKernels } from './support/kernels.js';
import { ensureGuests, guestBuild, machines } from './support/paths.js';

// Real guests on the real CPU and devices, through machines/hello.yaml.
beforeAll(() => ensureGuests('hello.elf', 'hello32.elf', 'time.elf'));

const HELLO = 'Hello from Unimachine!\ncmdline: arg1 arg2\n';
// Byte-identical runs need a fixed wall clock (the machine's RTC otherwise starts at the host's time).
const FIXED_RTC = { 'rtc.base': '2026-01-01T00:00:00Z' };

async function boot(kernel?: string) {
  const m = await createMachine(path.join(machines, 'hello.yaml'), { kernel, append: 'arg1 arg2', set: FIXED_RTC });
  const result = await m.run({ timeoutMs: 30_000 });
  const out = { result, bytes: m.console('com1').bytes(), now: m.clock.now() };
  await m.dispose();
  return out;
}

describe('machines/hello.yaml', () => {
  it('boots the 32-bit hello guest: exact console bytes, exit status 1 (isa-debug-exit 0)', async () => {
    const { result, bytes } = await boot(path.join(guestBuild, 'hello32.elf'));
    expect(result).toEqual({ end: 'exit', exitCode: 1 });
    expect(new TextDecoder().decode(bytes)).toBe(HELLO);
  });

  it('is deterministic: two runs give identical bytes and virtual time', async () => {
    const a = await boot();
    const b = await boot();
    expect(b.bytes).toEqual(a.bytes);
    expect(b.now).toBe(a.now);
  });

  it('boots the 64-bit hello guest (ELF64, a.out kludge) as configured', async () => {
    const { result, bytes } = await boot();
    expect(result).toEqual({ end: 'exit', exitCode: 1 });
    expect(new TextDecoder().decode(bytes)).toBe(HELLO);
  });
});

describe('machines/solo5-virtio.yaml', () => {
  it('boots (with the hello guest until a Solo5 kernel is given)', async () => {
    const m = await createMachine(path.join(machines, 'solo5-virtio.yaml'), { append: 'arg1 arg2' });
    expect(await m.run({ timeoutMs: 30_000 })).toEqual({ end: 'exit', exitCode: 1 });
    expect(m.console('com1').text()).toBe(HELLO);
    expect(m.memory.size).toBe(128 * 1024 * 1024);
    expect(m.clock.mode).toBe('deterministic');
    await m.dispose();
  });
});

describe('deterministic time with the real PIT, RTC and PIC', () => {
  async function timeGuest() {
    const m = await createMachine(path.join(machines, 'hello.yaml'), { kernel: path.join(guestBuild, 'time.elf'), set: FIXED_RTC });
    const t0 = performance.now();
    const result = await m.run({ timeoutMs: 60_000 });
    const out = { result, text: m.console('com1').text(), guestNs: m.clock.now(), hostMs: performance.now() - t0 };
    await m.dispose();
    return out;
  }

  it('sleeps of 1+2+3 guest seconds take far less host time, and two runs print the same bytes', async () => {
    const a = await timeGuest();
    expect(a.result).toEqual({ end: 'exit', exitCode: 1 });
    expect(a.text).toMatch(/time: all checks passed\n$/);
    expect(a.guestNs).toBeGreaterThan(3e9);
    expect(a.hostMs).toBeLessThan(a.guestNs / 1e6);
    const b = await timeGuest();
    expect(b.text).toBe(a.text);
    expect(b.guestNs).toBe(a.guestNs);
  });
});

// A guest printing its multiboot information sees the same values here and under QEMU.
const qemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0;
describe.skipIf(!qemu)('multiboot information as a guest sees it, against QEMU', () => {
  let k: BuiltKernels;
  beforeAll(() => {
    k = buildKernels();
  });

  for (const which of ['elf32', 'elf64'] as const) {
    it(`${which}: identical console output and exit status`, async () => {
      const name = path.basename(k[which]);
      const q = spawnSync(
        'qemu-system-x86_64',
        ['-accel', 'tcg', '-cpu', 'Westmere', '-m', '128', '-nodefaults', '-no-reboot', '-machine', 'acpi=off', '-display', 'none',
          '-serial', `file:${name}.qemu.out`, '-device', 'isa-debug-exit', '-kernel', name, '-append', 'one two'],
        { cwd: k.dir, timeout: 20_000 },
      );
      const yaml = readFileSync(path.join(machines, 'hello.yaml'), 'utf8');
      const m = await createMachine({ yaml, baseDir: k.dir, file: 'hello.yaml' }, { set: { 'boot.kernel': name, 'boot.cmdline': 'one two' } });
      const r = await m.run({ timeoutMs: 30_000 });
      expect(m.console('com1').text()).toBe(readFileSync(path.join(k.dir, `${name}.qemu.out`), 'latin1'));
      expect(r.exitCode).toBe(q.status);
      await m.dispose();
    });
  }
});
