import { describe, expect, it } from 'vitest';
import { isaDebugExitPlugin } from '../src/index.js';
import { fakeContext } from './fakes.js';

describe('isa-debug-exit', () => {
  it('turns outw(0x501, 41) into exit status 83, as Solo5 tests expect', async () => {
    const { ctx, machine, ports } = fakeContext();
    await isaDebugExitPlugin.create(ctx, {});
    ports.write(0x501, 2, 41);
    expect(machine.exits).toEqual([83]);
    ports.write(0x502, 1, 0); // iosize 2 claims 0x501-0x502
    expect(machine.exits).toEqual([83, 1]);
  });

  it('reads 0 like QEMU, honours port and iosize, and never produces a negative status', async () => {
    const { ctx, machine, ports } = fakeContext();
    await isaDebugExitPlugin.create(ctx, { port: 0xf4, iosize: 4 });
    expect(ports.read(0xf4, 1)).toBe(0);
    expect(ports.read(0x501, 1)).toBe(0xff); // not claimed any more
    ports.write(0xf4, 4, 0xffffffff);
    expect(machine.exits).toEqual([0x1_ffff_ffff]);
    expect(machine.exits[0]).toBeGreaterThan(0);
    ports.write(0xf7, 1, 0x10);
    expect(machine.exits[1]).toBe(0x21);
  });
});
