import { describe, expect, it } from 'vitest';
import { BusConflictError, GuestMemory, GuestMemoryFault, MachineClock, MmioBus, PortBus, parseByteSize } from '../src/index.js';

describe('GuestMemory', () => {
  it('reads and writes little-endian values and rejects accesses outside RAM', () => {
    const m = new GuestMemory(1 << 20);
    m.writeU32(0x1000, 0xdeadbeef);
    expect(m.readU8(0x1000)).toBe(0xef);
    expect(m.readU16(0x1002)).toBe(0xdead);
    m.writeU64(0x2000, 0x1234_5678_9abc);
    expect(m.readU64(0x2000)).toBe(0x1234_5678_9abc);
    expect(() => m.readU32((1 << 20) - 2)).toThrow(GuestMemoryFault);
    expect(m.tryBytes(-1, 4)).toBeUndefined();
    expect(m.bytes(0x1000, 4)).toEqual(new Uint8Array([0xef, 0xbe, 0xad, 0xde]));
  });
});

describe('PortBus', () => {
  it('dispatches to the claiming handler, reads all ones when unclaimed, and detects overlaps', () => {
    const bus = new PortBus();
    const writes: number[] = [];
    bus.claim({ start: 0x3f8, length: 8 }, { read: (p) => p - 0x3f8, write: (_p, _s, v) => writes.push(v) }, 'com1');
    expect(bus.read(0x3fa, 1)).toBe(2);
    expect(bus.read(0x80, 1)).toBe(0xff);
    expect(bus.read(0x80, 2)).toBe(0xffff);
    bus.write(0x3f8, 1, 0x41);
    expect(writes).toEqual([0x41]);
    expect(() => bus.claim({ start: 0x3ff, length: 1 }, { read: () => 0, write: () => {} }, 'other')).toThrow(
      /other claims I\/O ports 0x3ff, which overlaps 0x3f8-0x3ff already claimed by com1/,
    );
    expect(() => bus.claim({ start: 0x3ff, length: 1 }, { read: () => 0, write: () => {} }, 'x')).toThrow(BusConflictError);
  });

  it('frees ports when a registration is released', () => {
    const bus = new PortBus();
    const r = bus.claim({ start: 0x60, length: 1 }, { read: () => 7, write: () => {} }, 'a');
    expect(bus.read(0x60, 1)).toBe(7);
    r.release();
    expect(bus.read(0x60, 1)).toBe(0xff);
  });
});

describe('MmioBus', () => {
  it('passes offsets relative to the region', () => {
    const bus = new MmioBus();
    bus.claim({ start: 0xfebf0000, length: 0x1000 }, { read: (o) => o, write: () => {} }, 'dev');
    expect(bus.read(0xfebf0010, 4)).toBe(0x10);
    expect(bus.read(0xfec00000, 4)).toBe(0xffffffff);
  });
});

describe('MachineClock', () => {
  it('fires timers in deadline order in deterministic mode and counts instructions', () => {
    const c = new MachineClock('deterministic');
    let retired = 0;
    c.countInstructions(() => retired, 2);
    const fired: string[] = [];
    c.schedule(100, () => fired.push('b'));
    c.schedule(50, () => fired.push('a'));
    const t = c.schedule(75, () => fired.push('cancelled'));
    t.cancel();
    expect(c.nextDeadline()).toBe(50);
    retired = 30; // 60 ns
    expect(c.now()).toBe(60);
    c.runDue();
    expect(fired).toEqual(['a']);
    c.advanceTo(100);
    c.runDue();
    expect(fired).toEqual(['a', 'b']);
    expect(c.nextDeadline()).toBe(Infinity);
  });
});

describe('parseByteSize', () => {
  it('understands binary units and rejects junk', () => {
    expect(parseByteSize('128MiB')).toBe(128 * 1024 * 1024);
    expect(parseByteSize('64K')).toBe(65536);
    expect(parseByteSize('1G')).toBe(1 << 30);
    expect(parseByteSize(4096)).toBe(4096);
    expect(parseByteSize('12 apples')).toBeUndefined();
  });
});
