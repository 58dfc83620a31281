import { describe, expect, it } from 'vitest';
import { Capability, GuestMemory, MmioBus, PortBus, RecordingIrqLine, type DeviceContext, type DevicePlugin } from '@unimachine/core';
import { Cfg, PciBridge, pciBridgePlugin, pciHostPlugin, type PciBus } from '../src/index.js';
import { BusConfig } from './bridge-helpers.js';
import { TestDevice } from './helpers.js';

/** Enough of the machine builder: shared buses, IRQ lines, and devices found by id as capabilities. */
function fakeMachine() {
  const ports = new PortBus();
  const mmio = new MmioBus();
  const lines = new Map<string, RecordingIrqLine>();
  const devices = new Map<string, unknown>();
  const contextFor = (id: string) =>
    ({
      id,
      ports,
      mmio,
      memory: new GuestMemory(1 << 20),
      irq(ref: string) {
        if (!lines.has(ref)) lines.set(ref, new RecordingIrqLine());
        return lines.get(ref)!;
      },
      capability<T>(name: string, target: string): T {
        expect(name).toBe(Capability.pciBus);
        if (!devices.has(target)) throw new Error(`no device ${target}`);
        return devices.get(target) as T;
      },
    }) as unknown as DeviceContext;
  const create = async (plugin: DevicePlugin, id: string, props: object) => {
    const device = await plugin.create(contextFor(id), props as never);
    devices.set(id, device);
    return device;
  };
  /** How a device plugin with `bus: <id>` finds its bus. */
  const busOf = (id: string) => contextFor('device').capability<PciBus>(Capability.pciBus, id);
  return { ports, lines, create, busOf };
}

describe('pci-bridge plugin', () => {
  it('declares bus (a pci-bus reference, default pci), slot, chassis and shpc, and provides a pci-bus', () => {
    const props = (pciBridgePlugin.schema as any).properties;
    expect(pciBridgePlugin.type).toBe('pci-bridge');
    expect(pciBridgePlugin.provides).toEqual([Capability.pciBus]);
    expect(props.bus['x-unimachine-capability']).toBe(Capability.pciBus);
    expect(props.bus.default).toBe('pci');
    expect(props.shpc.default).toBe(true);
    expect(props.slot.maximum).toBe(31);
    for (const p of ['bus', 'slot', 'chassis', 'shpc']) expect(props[p].description).toBeTruthy();
  });

  it('bridge1: { type: pci-bridge, bus: pci, slot: 5 } and a device with bus: bridge1', async () => {
    const m = fakeMachine();
    await m.create(pciHostPlugin, 'pci', {});
    const bridge = (await m.create(pciBridgePlugin, 'bridge1', { bus: 'pci', slot: 5 })) as PciBridge;
    expect(bridge).toBeInstanceOf(PciBridge);
    // What a device plugin does with `bus: bridge1`.
    const nic = new TestDevice('net0');
    const bus = m.busOf('bridge1');
    bus.attach(bus.freeSlot()!, nic);
    const cfg = new BusConfig(m.ports);
    expect(cfg.read32(0, 5, 0)).toBe(0x00011b36);
    expect(cfg.read32(1, 1, 0)).toBe(0xabcd1234); // slot 1: the first one a bridge with SHPC offers
    expect(cfg.read8(1, 1, Cfg.INTERRUPT_LINE)).toBe(10); // slot 1 behind slot 5: PIRQ (1 + 5 - 1) & 3 = B
    nic.setInterrupt(true);
    expect(m.lines.get('pic.10')!.level).toBe(true);
  });

  it('defaults: the pci bus, its lowest free slot, chassis numbers in plug order; nesting through bus: <bridge>', async () => {
    const m = fakeMachine();
    await m.create(pciHostPlugin, 'pci', {});
    const outer = (await m.create(pciBridgePlugin, 'outer', {})) as PciBridge;
    const inner = (await m.create(pciBridgePlugin, 'inner', { bus: 'outer', shpc: false })) as PciBridge;
    const cfg = new BusConfig(m.ports);
    expect(cfg.read32(0, 2, 0)).toBe(0x00011b36); // slots 0 and 1 hold the host bridge and PIIX3
    expect(cfg.read32(1, 1, 0)).toBe(0x00011b36);
    expect([outer.secondaryBus, outer.subordinateBus, inner.secondaryBus]).toEqual([1, 2, 2]);
    const chassis = (bus: number, slot: number) => {
      let at = cfg.read8(bus, slot, Cfg.CAPABILITIES);
      while (cfg.read8(bus, slot, at) !== 0x04) at = cfg.read8(bus, slot, at + 1);
      return cfg.read8(bus, slot, at + 3);
    };
    expect([chassis(0, 2), chassis(1, 1)]).toEqual([1, 2]);
    inner.attach(0, new TestDevice('deep'));
    expect(cfg.read32(2, 0, 0)).toBe(0xabcd1234);
  });
});
