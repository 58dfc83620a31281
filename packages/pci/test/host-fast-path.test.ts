// Configuration mechanism #1 in WebAssembly (host-fast-path.ts) against the host in JS alone: two
// hosts with the same bridges and devices get the same random configuration cycles (addresses on
// buses that exist and do not, every access width and lane, writes that renumber the bridges'
// buses). One host takes every access in JS; the other offers each to its fast path first, as
// compiled guest code does. Every value read must be the same.
import { describe, expect, it } from 'vitest';
import { seededRandom, GuestMemory, MmioBus, PortBus, RecordingIrqLine, type AccessSize } from '@unimachine/core';
import { PciBridge, PciHost } from '../src/index.js';
import { TestDevice } from './helpers.js';

/** bus 0: host bridge, PIIX3, a device at 3, a bridge at 5 (a device at 1 and a bridge at 2 behind it, with a device at 4). */
function host(memory?: GuestMemory) {
  const ports = new PortBus();
  const irq = new RecordingIrqLine();
  const h = new PciHost({ ports, mmio: new MmioBus(), pirqs: [0, 1, 2, 3].map(() => ({ line: irq, irq: 10 })), memorySize: 128 << 20, memory });
  h.attach(3, new TestDevice('dev3'));
  const outer = new PciBridge({ name: 'outer', shpc: false });
  const inner = new PciBridge({ name: 'inner', shpc: false });
  outer.secondary.attach(1, new TestDevice('dev1'));
  inner.secondary.attach(4, new TestDevice('dev4'));
  outer.secondary.attach(2, inner);
  h.attach(5, outer);
  return { ports, h };
}

describe('PCI host fast path', () => {
  it('reads what the JS host reads through random configuration cycles, bridges renumbered on the way', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const r = seededRandom(seed * 104729);
      const js = host();
      const fast = host(new GuestMemory(1 << 20));
      const fastPath = (port: number) => fast.ports.fastPaths().find((p) => port >= p.start && port < p.start + p.length)!.fn;
      const taken = { fast: 0, js: 0 };
      const access = (port: number, size: AccessSize, write: boolean, value = 0): [number, number] => {
        let viaFast = fastPath(port)(port, size, value, write ? 1 : 0, 0);
        if (viaFast < 0) {
          taken.js++;
          viaFast = write ? (fast.ports.write(port, size, value), 0) : fast.ports.read(port, size) >>> 0;
        } else taken.fast++;
        const viaJs = write ? (js.ports.write(port, size, value), 0) : js.ports.read(port, size) >>> 0;
        return [viaFast, viaJs];
      };
      for (let step = 0; step < 4000; step++) {
        const what = r(100);
        let read: [number, number] | undefined;
        if (what < 35) {
          const bus = r(4) === 0 ? r(256) : r(4);
          const slot = r(3) === 0 ? r(32) : [0, 1, 2, 3, 4, 5][r(6)];
          const enable = r(10) === 0 ? 0 : 0x80000000;
          access(0xcf8, 4, true, (enable | (bus << 16) | (slot << 11) | (r(4) === 0 ? r(8) << 8 : 0) | r(256)) >>> 0);
        } else if (what < 40) read = access(0xcf8, 4, false);
        else if (what < 43) read = access(0xcf8, ([1, 2] as const)[r(2)], false);
        else if (what < 85) {
          const size = ([1, 2, 4] as const)[r(3)];
          read = access(0xcfc + r(4), size, false);
        } else if (what < 92) {
          // Renumber a bridge's buses now and then: primary, secondary, subordinate at 0x18.
          access(0xcf8, 4, true, (0x80000000 | ((r(2) ? 0 : 1) << 16) | ((r(2) ? 5 : 2) << 11) | 0x18) >>> 0);
          access(0xcfc, 4, true, (r(3) << 16) | ((1 + r(3)) << 8) | r(2));
        } else {
          const size = ([1, 2, 4] as const)[r(3)];
          access(0xcfc + r(4), size, true, r(2 ** 31));
        }
        if (read) expect(read[0], `seed ${seed}, step ${step}`).toBe(read[1]);
      }
      expect(taken.fast).toBeGreaterThan(taken.js);
      expect(taken.js).toBeGreaterThan(100);
    }
  });

  it('answers a scan of all 256 buses alone, except for the slots that hold functions', () => {
    const { ports, h } = host(new GuestMemory(1 << 20));
    const fn = ports.fastPaths()[0].fn;
    let declined = 0;
    for (let bus = 0; bus < 256; bus++) {
      for (let slot = 0; slot < 32; slot++) {
        expect(fn(0xcf8, 4, (0x80000000 | (bus << 16) | (slot << 11)) | 0, 1, 0)).toBe(0);
        const id = fn(0xcfc, 4, 0, 0, 0);
        if (id < 0) declined++;
        else expect(id).toBe(0xffffffff);
      }
    }
    // 00:00, 00:01, 00:03, 00:05 and, once the firmware numbered the bridges, 01:01, 01:02, 02:04.
    expect(h.listFunctions().map((f) => f.bdf)).toEqual(['00:00.0', '00:01.0', '00:01.1', '00:03.0', '00:05.0', '01:01.0', '01:02.0', '02:04.0']);
    expect(declined).toBe(7);
  });
});
