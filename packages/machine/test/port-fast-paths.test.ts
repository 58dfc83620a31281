// Compiled guest code reaching device fast paths (port-fast-paths.ts): hello's TSC calibration polls
// the PIT about 100,000 times and its PCI scan probes 8,192 slots; with the WebAssembly tier those
// accesses stay in WebAssembly, and the run must end exactly where the interpreter's does (same
// console, instructions and virtual time).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMachine } from '../src/create.js';
import type { Machine } from '../src/machine.js';
import { ensureGuests, guestBuild, machines } from './support/paths.js';
import path from 'node:path';

beforeAll(() => ensureGuests('hello.elf'));

const saved = process.env.UNIMACHINE_JIT;
afterEach(() => {
  if (saved === undefined) delete process.env.UNIMACHINE_JIT;
  else process.env.UNIMACHINE_JIT = saved;
});

/** Boot hello with the tier set as UNIMACHINE_JIT says; count the accesses that reached the JS port bus. */
async function hello(jit: string): Promise<{ console: string; retired: number; ns: number; jsAccesses: number }> {
  process.env.UNIMACHINE_JIT = jit;
  const m: Machine = await createMachine(path.join(machines, 'hello.yaml'), { kernel: path.join(guestBuild, 'hello.elf'), set: { 'rtc.base': '2026-01-01T00:00:00Z' } });
  try {
    let jsAccesses = 0;
    const charge = m.ports.onAccess!;
    m.ports.onAccess = () => { jsAccesses++; charge(); };
    const result = await m.run({ timeoutMs: 60_000 });
    expect(result.end).toBe('exit');
    return { console: m.console('com1').text(), retired: m.cpu.instructionsRetired, ns: m.clock.now(), jsAccesses };
  } finally {
    await m.dispose();
  }
}

describe('port fast paths', () => {
  it('keep the PIT polling and the bus scan in WebAssembly, and end where the interpreter ends', async () => {
    const interpreted = await hello('off');
    const compiled = await hello('0');
    expect(compiled.console).toBe(interpreted.console);
    expect(compiled.retired).toBe(interpreted.retired);
    expect(compiled.ns).toBe(interpreted.ns);
    expect(interpreted.jsAccesses).toBeGreaterThan(100_000);
    // What is left: the console, the RTC, the PIC, the slots that hold functions.
    expect(compiled.jsAccesses).toBeLessThan(1000);
  });
});
