import { describe, expect, it } from 'vitest';
import { machine } from './helpers.js';
import { buildFlat, haveGcc } from './gcc.js';

describe.skipIf(!haveGcc())('CPU snapshot / restore', () => {
  it('a restored CPU (with a copy of RAM) continues exactly like the original', () => {
    const bin = buildFlat('kernel64.c', ['-m64', '-mno-red-zone', '-fno-math-errno']);
    const a = machine();
    a.mem.write(0x100000, bin);
    a.cpu.enterMultiboot(0x100000, 0x9000);
    expect(a.cpu.run(6_000)).toBe('budget'); // somewhere in the middle: long mode, C, SSE
    const snap = a.cpu.snapshot();
    const ram = a.mem.u8.slice();
    const printedBefore = a.serial().length;
    expect(printedBefore).toBeGreaterThan(0); // already printing from C in long mode
    expect(a.cpu.getCr(0) & 0x80000000n).toBe(0x80000000n);

    const b = machine();
    b.mem.u8.set(ram);
    b.cpu.restore(structuredClone(snap));
    expect(b.cpu.dumpRegisters()).toBe(a.cpu.dumpRegisters());

    expect(a.cpu.run(20_000_000)).toBe('stopped');
    expect(b.cpu.run(20_000_000)).toBe('stopped');
    expect(b.serial()).toBe(a.serial().slice(printedBefore));
    expect(b.cpu.instructionsRetired).toBe(a.cpu.instructionsRetired);
    expect(b.serial()).toContain('SUCCESS');
  });
});
