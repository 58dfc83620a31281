import { describe, expect, it } from 'vitest';
import { NO_HOST, NO_TRACE, type DeviceContext } from '@unimachine/core';
import { FeatureSet } from '@unimachine/virtio';
import { LegacyTestDriver, TestPc } from '@unimachine/virtio/testing';
import { BlkConfig, BlkStatus, virtioBlkPlugin, type VirtioBlkPci } from '../src/index.js';
import { BlkIo } from './helpers.js';
import { MemoryDisk } from './memory-backend.js';

function context(pc: TestPc, disk: MemoryDisk) {
  const asked: string[] = [];
  const ctx = {
    id: 'disk0',
    memory: pc.memory,
    ports: pc.ports,
    mmio: pc.mmio,
    host: NO_HOST,
    trace: NO_TRACE,
    capability(name: string, id: string) {
      asked.push(`${name}:${id}`);
      return pc.host;
    },
    async backend(property: string) {
      asked.push(`backend:${property}`);
      return disk;
    },
  } as unknown as DeviceContext;
  return { ctx, asked };
}

describe('virtio-blk-pci plugin', () => {
  it('declares bus, slot, backend, transport, serial', () => {
    const props = (virtioBlkPlugin.schema as any).properties;
    expect(virtioBlkPlugin.type).toBe('virtio-blk-pci');
    expect(props.bus['x-unimachine-capability']).toBe('pci-bus');
    expect(props.bus.default).toBe('pci');
    expect(props.backend['x-unimachine-backend']).toBe('block');
    expect(props.slot.maximum).toBe(31);
    expect(props.transport.default).toBe('transitional');
  });

  it('creates the disk on the named bus in the given slot; a driver reads it; dispose closes the backend', async () => {
    const pc = new TestPc();
    const disk = new MemoryDisk(8 * 512);
    disk.data.fill(0x42, 512, 1024);
    const { ctx, asked } = context(pc, disk);
    const dev = (await virtioBlkPlugin.create(ctx, { bus: 'pci', slot: 4, backend: { type: 'memory' } } as never)) as VirtioBlkPci;
    expect(asked).toEqual(['pci-bus:pci', 'backend:backend']);
    expect(pc.host.functionAt(4)).toBe(dev.transport.pci);
    const d = new LegacyTestDriver(pc, 4);
    d.start(new FeatureSet());
    expect(d.config32(BlkConfig.CAPACITY)).toBe(8);
    const q = d.setupQueue(0);
    d.driverOk();
    const r = new BlkIo(pc, q).read(1, 512);
    expect(r.status).toBe(BlkStatus.OK);
    expect(pc.memory.u8[r.dataAt]).toBe(0x42);
    dev.reset?.();
    expect(d.status).toBe(0);
    await dev.dispose?.();
    expect(disk.disposed).toBe(true);
  });

  it('without a slot it takes the lowest free one', async () => {
    const pc = new TestPc();
    const { ctx } = context(pc, new MemoryDisk(512));
    const dev = (await virtioBlkPlugin.create(ctx, { backend: { type: 'memory' } } as never)) as VirtioBlkPci;
    expect(pc.host.functionAt(2)).toBe(dev.transport.pci); // 0 host bridge, 1 PIIX3
  });
});
