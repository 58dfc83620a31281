import { describe, expect, it } from 'vitest';
import { NO_TRACE, type DeviceContext } from '@unimachine/core';
import { FeatureSet } from '@unimachine/virtio';
import { ModernTestDriver, TestPc } from '@unimachine/virtio/testing';
import { NetConfig, RX_QUEUE, formatMac, macForId, virtioNetPlugin, type VirtioNetPci } from '../src/index.js';
import { FakeNet } from './fake-backend.js';

function context(pc: TestPc, backend: FakeNet, id = 'net0') {
  let wakes = 0;
  const ctx = {
    id,
    memory: pc.memory,
    ports: pc.ports,
    mmio: pc.mmio,
    host: { hold: () => ({ release() {} }), wake: () => wakes++ },
    trace: NO_TRACE,
    capability: () => pc.host,
    backend: async () => backend,
  } as unknown as DeviceContext;
  return { ctx, wakes: () => wakes };
}

describe('virtio-net-pci plugin', () => {
  it('declares bus, slot, backend (net), mac, transport', () => {
    const props = (virtioNetPlugin.schema as any).properties;
    expect(virtioNetPlugin.type).toBe('virtio-net-pci');
    expect(props.backend['x-unimachine-backend']).toBe('net');
    expect(props.bus.default).toBe('pci');
    expect(new RegExp(props.mac.pattern).test('52:54:00:12:34:56')).toBe(true);
  });

  it('default MAC from the id; frames reach a modern driver and wake the machine', async () => {
    const pc = new TestPc();
    const backend = new FakeNet();
    const { ctx, wakes } = context(pc, backend);
    const dev = (await virtioNetPlugin.create(ctx, { slot: 3, backend: { type: 'hub' } } as never)) as VirtioNetPci;
    const d = new ModernTestDriver(pc, 3);
    d.start(FeatureSet.of(5, 16, 32));
    const mac = Array.from({ length: 6 }, (_, i) => d.config8(NetConfig.MAC + i));
    expect(formatMac(Uint8Array.from(mac))).toBe(formatMac(macForId('net0')));
    const rx = d.setupQueue(RX_QUEUE);
    d.setupQueue(1);
    d.driverOk();
    rx.post([{ addr: pc.alloc(1600), len: 1600, write: true }]);
    backend.inject(new Uint8Array(60));
    expect(rx.takeUsed()?.len).toBe(72);
    expect(wakes()).toBe(1);
    expect(dev.counters.rxFrames).toBe(1);
    await dev.dispose?.();
    expect(backend.disposed).toBe(true);
  });

  it('an explicit mac property wins', async () => {
    const pc = new TestPc();
    const { ctx } = context(pc, new FakeNet());
    const dev = (await virtioNetPlugin.create(ctx, { slot: 5, mac: '02:00:00:00:00:07', backend: { type: 'hub' } } as never)) as VirtioNetPci;
    expect(formatMac(dev.net.mac)).toBe('02:00:00:00:00:07');
  });
});
