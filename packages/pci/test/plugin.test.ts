import { describe, expect, it } from 'vitest';
import { GuestMemory, MmioBus, PortBus, RecordingIrqLine, type DeviceContext } from '@unimachine/core';
import { Cfg, PciHost, pciHostPlugin } from '../src/index.js';
import { GuestConfig, TestDevice } from './helpers.js';

function fakeContext() {
  const ports = new PortBus();
  const mmio = new MmioBus();
  const requested: string[] = [];
  const lines = new Map<string, RecordingIrqLine>();
  const ctx = {
    id: 'pci',
    ports,
    mmio,
    memory: new GuestMemory(1 << 20),
    irq(ref: string) {
      requested.push(ref);
      if (!lines.has(ref)) lines.set(ref, new RecordingIrqLine());
      return lines.get(ref)!;
    },
  } as unknown as DeviceContext;
  return { ctx, ports, mmio, lines, requested };
}

describe('pci-host plugin', () => {
  it('declares irqs (QEMU PIIX defaults) and piix3 with descriptions', () => {
    const props = (pciHostPlugin.schema as any).properties;
    expect(pciHostPlugin.type).toBe('pci-host');
    expect(props.irqs.default).toEqual(['pic.10', 'pic.10', 'pic.11', 'pic.11']);
    expect(props.irqs.items['x-unimachine-ref']).toBe('irq');
    expect(props.piix3.default).toBe(true);
    expect(props.irqs.description).toBeTruthy();
    expect(props.piix3.description).toBeTruthy();
  });

  it('creates bus 0 on the machine buses; a device plugin attaches like virtio will', async () => {
    const f = fakeContext();
    const host = (await pciHostPlugin.create(f.ctx, {} as never)) as PciHost;
    expect(host).toBeInstanceOf(PciHost);
    expect(f.requested).toEqual(['pic.10', 'pic.11']); // one line per distinct reference
    expect(f.ports.ownerOf(0xcf8)).toBe('pci');

    // What a device plugin does: ctx.device<PciHost>(props.bus).attach(props.slot, dev).
    const nic = new TestDevice('net0');
    host.attach(3, nic);
    const guest = new GuestConfig(f.ports);
    expect(guest.read32(3, 0, 0)).toBe(0xabcd1234);
    expect(guest.read8(3, 0, Cfg.INTERRUPT_LINE)).toBe(11);
    nic.setInterrupt(true);
    expect(f.lines.get('pic.11')!.level).toBe(true);
    expect(f.lines.get('pic.10')!.level).toBe(false);
  });

  it('custom routing: the interrupt line register follows the line numbers given', async () => {
    const f = fakeContext();
    const host = (await pciHostPlugin.create(f.ctx, { irqs: ['pic.5', 'pic.9', 'pic.10', 'pic.11'], piix3: false } as never)) as PciHost;
    const d = new TestDevice();
    host.attach(2, d); // slot 2 INTA -> PIRQB
    const guest = new GuestConfig(f.ports);
    expect(guest.read8(2, 0, Cfg.INTERRUPT_LINE)).toBe(9);
    expect(guest.read32(1, 0, 0)).toBe(0xffffffff);
    d.setInterrupt(true);
    expect(f.lines.get('pic.9')!.level).toBe(true);
  });
});
