import { describe, expect, it } from 'vitest';
import { BusConflictError, CLOCK_CELLS, GuestMemory, GuestMemoryFault, MachineClock, MmioBus, PortBus, parseByteSize } from '../src/index.js';

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

  it('calls a device object\'s methods on the device, whichever device a port belongs to', () => {
    class Latch {
      value = 0;
      constructor(private readonly base: number) {}
      read(port: number): number {
        return this.value + port - this.base;
      }
      write(_port: number, _size: number, value: number): void {
        this.value = value;
      }
    }
    const bus = new PortBus();
    const a = new Latch(0x40);
    const b = new Latch(0x70);
    bus.claim({ start: 0x40, length: 4 }, a, 'a');
    bus.claim({ start: 0x70, length: 2 }, b, 'b');
    bus.write(0x40, 1, 0x10);
    bus.write(0x71, 1, 0x20);
    expect([a.value, b.value]).toEqual([0x10, 0x20]);
    expect(bus.read(0x43, 1)).toBe(0x13);
    expect(bus.read(0x71, 1)).toBe(0x21);
    expect(bus.read(0x72, 4)).toBe(0xffffffff); // after b's two ports
    expect(bus.ownerOf(0x41)).toBe('a');
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

  it('advance() says whether a timer is due after it, counting from where the instruction counter stood', () => {
    const c = new MachineClock('deterministic');
    let retired = 500;
    expect(Object.is(c.now(), 0)).toBe(true); // never -0
    c.countInstructions(() => retired, 1);
    expect(c.now()).toBe(0);
    retired = 600;
    expect(c.now()).toBe(100);
    c.schedule(3000, () => {});
    expect(c.advance(1000)).toBe(false); // 1100
    expect(c.advance(1000)).toBe(false); // 2100
    retired = 1500; // 3000: due through the instruction count alone
    expect(c.advance(0)).toBe(true);
    expect(c.now()).toBe(3000);
    c.runDue();
    expect(c.advance(1000)).toBe(false); // nothing pending
    expect(c.now()).toBe(4000);
    // Past 2^31 ns (a double, not a small integer) time still adds up exactly.
    c.advance(2 ** 31);
    expect(c.now()).toBe(4000 + 2 ** 31);
  });

  it('keeps its cells where placeCells puts them: time, the counter base and the next deadline, for compiled code', () => {
    const c = new MachineClock('deterministic');
    let retired = 10;
    c.countInstructions(() => retired, 1);
    c.advance(500);
    const memory = new Float64Array(8);
    const view = memory.subarray(2, 2 + CLOCK_CELLS.COUNT);
    c.placeCells(view);
    expect(view[CLOCK_CELLS.OFFSET]).toBe(500);
    expect(view[CLOCK_CELLS.COUNTER_BASE]).toBe(10);
    expect(view[CLOCK_CELLS.NEXT_DEADLINE]).toBe(Infinity);
    // A writer of the cells (a compiled port access) moves the clock.
    view[CLOCK_CELLS.OFFSET] += 1000;
    retired = 20;
    expect(c.now()).toBe(1510);
    const late = c.schedule(9000, () => {});
    expect(view[CLOCK_CELLS.NEXT_DEADLINE]).toBe(9000);
    const early = c.schedule(4000, () => {});
    expect(view[CLOCK_CELLS.NEXT_DEADLINE]).toBe(4000);
    early.cancel();
    expect(view[CLOCK_CELLS.NEXT_DEADLINE]).toBe(9000);
    c.advanceTo(9000);
    c.runDue();
    expect(view[CLOCK_CELLS.NEXT_DEADLINE]).toBe(Infinity);
    late.cancel();
    expect(memory[0]).toBe(0); // nothing outside the cells
  });

  it('realtime mode ignores advances and reports a due timer by host time', () => {
    const c = new MachineClock('realtime');
    expect(c.mode).toBe('realtime');
    const before = c.now();
    expect(c.advance(10 ** 12)).toBe(false);
    expect(c.now() - before).toBeLessThan(10 ** 9);
    c.schedule(0, () => {});
    expect(c.advance(0)).toBe(true);
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
