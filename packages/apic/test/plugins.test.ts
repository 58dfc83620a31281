import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import {
  GuestMemory,
  MachineClock,
  MmioBus,
  NO_HOST,
  NO_TRACE,
  PortBus,
  type Device,
  type DeviceContext,
  type IrqLine,
} from '@unimachine/core';
import { i8259Plugin, type I8259Pair } from '@unimachine/pic';
import { APIC_BUS_CAPABILITY, ioapicPlugin, lapicPlugin, pcIrqPlugin, type IoApic, type LocalApic, type PcIrqRouter } from '../src/index.js';

/** A context like the machine builder's, with devices registered by id (capabilities by id too). */
function machineContext() {
  const devices = new Map<string, Device>();
  const mmio = new MmioBus();
  const ports = new PortBus();
  const clock = new MachineClock('deterministic');
  const none = () => {
    throw new Error('not available in this test');
  };
  const ctx = (id: string): DeviceContext => ({
    id,
    memory: new GuestMemory(1 << 16),
    ports,
    mmio,
    clock,
    machine: { exit: none, reset: none, stop: none },
    irq: (ref: string): IrqLine => {
      const [dev, n] = ref.split('.');
      return (devices.get(dev) as unknown as { line(n: number): IrqLine }).line(Number(n));
    },
    device: <T>(target: string) => devices.get(target) as T,
    capability: <T>(_name: string, target: string) => devices.get(target) as T,
    backend: none,
    host: NO_HOST,
    trace: NO_TRACE,
    console: none,
    resolvePath: (p: string) => p,
  });
  return { devices, mmio, ports, clock, ctx };
}

function validator(schema: object) {
  return new Ajv({ strict: false, useDefaults: true }).compile(schema);
}

describe('device plugins', () => {
  it('lapic + ioapic + pc-irq with a real i8259: the YAML wiring of an APIC PC', async () => {
    const m = machineContext();
    const pic = (await i8259Plugin.create(m.ctx('pic'), { elcr: 0 })) as I8259Pair;
    m.devices.set('pic', pic);
    const lapicProps = { pic: 'pic' };
    expect(validator(lapicPlugin.schema)(lapicProps)).toBe(true);
    const lapic = (await lapicPlugin.create(m.ctx('lapic'), lapicProps)) as LocalApic;
    m.devices.set('lapic', lapic);
    expect(lapicPlugin.provides).toContain(APIC_BUS_CAPABILITY);
    expect(m.mmio.ownerOf(0xfee00000)).toBe('lapic');
    expect(m.mmio.read(0xfee000f0, 4)).toBe(0x1ff); // firmwareState defaults on
    expect(m.mmio.read(0xfee00350, 4)).toBe(0x8700);

    const ioProps = { apic: 'lapic' };
    expect(validator(ioapicPlugin.schema)(ioProps)).toBe(true);
    const io = (await ioapicPlugin.create(m.ctx('ioapic'), ioProps)) as IoApic;
    m.devices.set('ioapic', io);
    expect(m.mmio.ownerOf(0xfec00000)).toBe('ioapic');
    m.mmio.write(0xfec00000, 4, 0x01);
    expect(m.mmio.read(0xfec00010, 4)).toBe(0x00170020);

    const irqs = (await pcIrqPlugin.create(m.ctx('irqs'), { pic: 'pic', ioapic: 'ioapic' })) as PcIrqRouter;
    m.devices.set('irqs', irqs);
    for (const [port, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0x00]]) m.ports.write(port, 1, v);
    m.ctx('com1').irq('irqs.4').pulse();
    expect(lapic.interruptSource.pending()).toBe(true);
    expect(lapic.interruptSource.acknowledge()).toBe(0x24);

    // The guest moves to the I/O APIC: pin 4 -> vector 0x41, 8259 masked.
    m.ports.write(0x21, 1, 0xff);
    m.mmio.write(0xfec00000, 4, 0x18);
    m.mmio.write(0xfec00010, 4, 0x41);
    m.ctx('com1').irq('irqs.4').pulse();
    expect(lapic.interruptSource.acknowledge()).toBe(0x41);


    // pc-irq is wiring only: it saves an empty, versioned state, so a machine using it can be snapshotted,
    // and the levels it carried stay with the controllers (a level pin still asserted after a restore).
    m.mmio.write(0xfec00000, 4, 0x1a);
    m.mmio.write(0xfec00010, 4, 0xa051); // pin 5 level, vector 0x51
    m.ctx('dev').irq('irqs.5').raise();
    expect(lapic.interruptSource.acknowledge()).toBe(0x51);
    const saved = { irqs: irqs.snapshot(), io: io.snapshot() };
    expect(saved.irqs).toEqual({ version: 1 });
    irqs.restore(JSON.parse(JSON.stringify(saved.irqs)));
    expect(() => irqs.restore({ version: 2 })).toThrow(/version/);
    io.restore(saved.io);
    m.mmio.write(0xfee000b0, 4, 0); // EOI: remote IRR clears, the pin is still high, so it comes again
    expect(lapic.interruptSource.acknowledge()).toBe(0x51);
    await lapic.dispose();
    expect(m.mmio.isMapped(0xfee00000)).toBe(false);
  });

  it('lapic refuses a pic reference that is no interrupt controller', async () => {
    const m = machineContext();
    m.devices.set('rtc', {});
    expect(() => lapicPlugin.create(m.ctx('lapic'), { pic: 'rtc' })).toThrow(/not an interrupt controller/);
  });

  it('schemas fill defaults and reject what is not a property', () => {
    const lapic = validator(lapicPlugin.schema);
    const props: Record<string, unknown> = {};
    expect(lapic(props)).toBe(true);
    expect(props).toEqual({ id: 0, tscHz: 2_000_000_000, tscDeadline: true, x2apic: true, firmwareState: true });
    expect(lapic({ id: 255 })).toBe(false);
    expect(lapic({ timer: 1 })).toBe(false);
    const io = validator(ioapicPlugin.schema);
    const ioProps: Record<string, unknown> = { apic: 'lapic' };
    expect(io(ioProps)).toBe(true);
    expect(ioProps).toEqual({ apic: 'lapic', id: 0, address: 0xfec00000 });
    expect(io({})).toBe(false);
    expect(io({ apic: 'lapic', address: 0xfec00800 })).toBe(false);
    expect(io({ apic: 'lapic', id: 16 })).toBe(false);
    expect(validator(pcIrqPlugin.schema)({ pic: 'pic' })).toBe(false);
  });
});
