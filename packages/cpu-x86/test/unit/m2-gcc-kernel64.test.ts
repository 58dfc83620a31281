import { describe, expect, it } from 'vitest';
import { machine } from './helpers.js';
import { buildFlat, haveGcc, runHost } from './gcc.js';

describe.skipIf(!haveGcc())('a gcc -O2 64-bit freestanding kernel', () => {
  it('boots from the multiboot entry into long mode, runs C with SSE and prints what the host prints', () => {
    const flags = ['-m64', '-mno-red-zone', '-fno-math-errno'];
    const expected = runHost('kernel64.c', ['-fno-math-errno']);
    const bin = buildFlat('kernel64.c', flags);
    const m = machine();
    m.mem.write(0x100000, bin);
    m.cpu.enterMultiboot(0x100000, 0x9000);
    const exit = m.cpu.run(20_000_000);
    expect(m.cpu.deathReason).toBeUndefined();
    expect(exit).toBe('stopped');
    expect(m.serial()).toBe(expected);
    expect(expected).toContain('SUCCESS');
  });
});
