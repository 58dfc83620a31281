import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { matchExpected } from '../../../guest/test/expected.js';
import { createMachine, type Machine } from '../src/index.js';
import { buildKernels, type BuiltKernels } from './support/kernels.js';
import { ensureGuests, guestBuild, machines, root } from './support/paths.js';

// clock: realtime with the real CPU, PIT, RTC, PIC and UART: guest time follows the host clock,
// and a halted guest sleeps (little host CPU) until a timer or host input wakes it.
beforeAll(() => ensureGuests('time.elf'));

const HELLO_YAML = path.join(machines, 'hello.yaml');
const TIME_EXPECTED = readFileSync(path.join(root, 'guest/apps/time/expected.txt'), 'latin1');

/** Run to the end, measuring host wall time and this process's CPU time (user + system). */
async function measuredRun(m: Machine) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await m.run({ timeoutMs: 60_000 });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { result, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

describe('realtime clock: the time app (three sleeps, 1 + 2 + 3 s after its start)', () => {
  it('takes at least 3 s of host time, prints what QEMU prints, and sleeps while halted', async () => {
    const m = await createMachine(HELLO_YAML, { kernel: path.join(guestBuild, 'time.elf'), set: { clock: 'realtime' } });
    expect(m.clock.mode).toBe('realtime');
    const { result, wallMs, cpuMs } = await measuredRun(m);
    const text = m.console('com1').text();
    const guestNs = m.clock.now();
    await m.dispose();
    console.log(`realtime time app: ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (${((100 * cpuMs) / wallMs).toFixed(0)}%), guest ${(guestNs / 1e9).toFixed(3)} s`);

    expect(result).toEqual({ end: 'exit', exitCode: 1 });
    expect(matchExpected(TIME_EXPECTED, text)).toEqual({ ok: true, diff: '' });
    expect(wallMs).toBeGreaterThanOrEqual(3000);
    expect(guestNs).toBeGreaterThanOrEqual(3e9);
    // A guest busy-waiting its sleeps (HLT spinning) would use about 100% of one core.
    expect(cpuMs).toBeLessThan(wallMs / 2);
  });

  it('deterministic: the same app, the same expected output, in much less host time', async () => {
    const m = await createMachine(HELLO_YAML, { kernel: path.join(guestBuild, 'time.elf') });
    expect(m.clock.mode).toBe('deterministic');
    const { result, wallMs, cpuMs } = await measuredRun(m);
    const text = m.console('com1').text();
    const guestNs = m.clock.now();
    await m.dispose();
    console.log(`deterministic time app: ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU for ${(guestNs / 1e9).toFixed(3)} s of guest time`);

    expect(result).toEqual({ end: 'exit', exitCode: 1 });
    expect(matchExpected(TIME_EXPECTED, text)).toEqual({ ok: true, diff: '' });
    expect(guestNs).toBeGreaterThanOrEqual(3e9);
  });
});

describe('realtime clock: a guest halted waiting for UART input', () => {
  let k: BuiltKernels;
  beforeAll(() => {
    k = buildKernels();
  });

  it('sleeps while halted and wakes on the receive interrupt', async () => {
    const yaml = readFileSync(HELLO_YAML, 'utf8');
    const m = await createMachine(
      { yaml, baseDir: k.dir, file: 'hello.yaml' },
      { set: { clock: 'realtime', 'boot.kernel': path.basename(k.irqEcho) } },
    );
    m.inputPossible = true;
    const com1 = m.console('com1');
    expect(await m.run({ until: () => com1.text() === 'ready\n', timeoutMs: 30_000 })).toEqual({ end: 'until', exitCode: 0 });

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const running = m.run({ timeoutMs: 30_000 });
    await sleep(1000); // the guest sits in HLT: nothing is due, no input yet
    const idle = process.cpuUsage(cpu0);
    const idleWallMs = performance.now() - t0;
    const idleCpuMs = (idle.user + idle.system) / 1000;
    expect(com1.text()).toBe('ready\n');

    const sent = performance.now();
    com1.send('hi q');
    const result = await running;
    const wakeMs = performance.now() - sent;
    await m.dispose();
    console.log(`halted ${idleWallMs.toFixed(0)} ms waiting for input: ${idleCpuMs.toFixed(1)} ms CPU; input to exit: ${wakeMs.toFixed(1)} ms`);

    expect(result).toEqual({ end: 'exit', exitCode: (20 << 1) | 1 });
    expect(com1.text()).toBe('ready\nHI ');
    expect(idleCpuMs).toBeLessThan(idleWallMs / 4);
  });
});
