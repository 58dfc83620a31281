// The test kit: waiting for console lines in virtual time, expect sequences, sending input, matchers.
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consoleMatchers, createMachine, parseDuration, type ConsoleMatchers, type Machine } from '../src/index.js';
import { ensureGuests, guestBuild, machines } from './support/paths.js';
import { buildKernels } from './support/kernels.js';

declare module 'vitest' {
  interface Assertion<T> extends ConsoleMatchers<T> {}
}
expect.extend(consoleMatchers);

beforeAll(() => ensureGuests('time.elf', 'hello.elf'));
let m: Machine | undefined;
afterEach(async () => {
  await m?.dispose();
  m = undefined;
});
const boot = async (app: string) => (m = await createMachine(path.join(machines, 'hello.yaml'), { kernel: path.join(guestBuild, app), append: 'foo bar=1' }));

describe('waitForLine', () => {
  it('runs the machine until the line appears, in virtual time, and continues after it', async () => {
    const machine = await boot('time.elf');
    const first = await machine.uart('com1').waitForLine(/^sleep 1 until \+1 s: (\w+)/, { timeout: '5s' });
    expect(first.match[1]).toBe('OK');
    expect(machine.clock.now()).toBeGreaterThanOrEqual(1e9); // the guest slept a virtual second
    expect(machine.clock.now()).toBeLessThan(2e9); // and the wait stopped at the line
    const [two, three] = await machine.uart('com1').expect(['sleep 2 until', /sleep 3 until \+3 s: OK/]);
    expect(two.lineNumber).toBeLessThan(three.lineNumber);
    expect(machine).toHaveConsoleLine('sleep 3 until +3 s: OK');
    expect(machine).not.toHaveConsoleLine(/all checks passed/);
  });

  it('fails after the virtual timeout with the pattern, the wait and the last lines', async () => {
    const machine = await boot('time.elf');
    await machine.uart('com1').waitForLine('monotonic clock never goes backwards');
    const started = machine.clock.now();
    const err = await machine.uart('com1').waitForLine(/sleep 3 until/, { timeout: '500ms' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^com1: waited 500ms of virtual time for a line matching \/sleep 3 until\/; no line matched\./);
    expect((err as Error).message).toContain('| monotonic clock never goes backwards: OK');
    expect(machine.clock.now() - started).toBeGreaterThanOrEqual(500e6);
    expect(machine.clock.now() - started).toBeLessThan(600e6);
  });

  it('says when the machine ended first', async () => {
    const machine = await boot('hello.elf');
    const err = await machine.uart('com1').waitForLine(/never printed/).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/the machine ended \(exit, status 1\) first/);
    expect(machine).toHaveConsoleLine(/cmdline: foo bar=1/);
  });

  it('sendLine types a line the guest reads from the UART; expect follows the answers in order', async () => {
    const k = buildKernels(); // echo.elf: prints "type:", then echoes input upper-cased; 'q' exits
    m = await createMachine(path.join(machines, 'hello.yaml'), { kernel: k.echo });
    const com1 = m.uart('com1');
    await com1.waitForLine('type:');
    com1.sendLine('hello uart', '\n');
    com1.sendLine('second line', '\n');
    const [first, second] = await com1.expect([/^HELLO UART$/, 'SECOND LINE'], { timeout: '100ms' });
    expect(second.lineNumber).toBe(first.lineNumber + 1);
    com1.send('q');
    expect((await m.run({ timeoutMs: 10_000 })).exitCode).toBe((20 << 1) | 1);
  });

  it('parses durations', () => {
    expect(parseDuration('5s')).toBe(5e9);
    expect(parseDuration('250ms')).toBe(250e6);
    expect(parseDuration('20us')).toBe(20e3);
    expect(parseDuration(7)).toBe(7);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });
});
