import { describe, expect, it } from 'vitest';
import { GuestMemory, MachineClock, MmioBus, PortBus, type DeviceContext, type InterruptSource } from '@unimachine/core';
import { Ajv } from 'ajv';
import { I8259Pair, i8259Plugin } from '../src/index.js';

function context(ports: PortBus): DeviceContext {
  const none = () => {
    throw new Error('not available in this test');
  };
  return {
    id: 'pic',
    memory: new GuestMemory(1 << 16),
    ports,
    mmio: new MmioBus(),
    clock: new MachineClock('deterministic'),
    machine: { exit: none, reset: none, stop: none },
    irq: none,
    device: none,
    console: none,
    resolvePath: (p) => p,
  };
}

describe('i8259 plugin', () => {
  it('claims 0x20-0x21, 0xa0-0xa1 and 0x4d0-0x4d1 and exposes its interrupt source', async () => {
    const ports = new PortBus();
    const pic = (await i8259Plugin.create(context(ports), { elcr: 0x0c00 })) as I8259Pair;
    expect(ports.ownerOf(0x21)).toBe('pic');
    expect(ports.ownerOf(0xa0)).toBe('pic');
    expect(ports.ownerOf(0x4d1)).toBe('pic');
    expect(ports.ownerOf(0x22)).toBeUndefined();
    expect(ports.read(0x4d1, 1)).toBe(0x0c);
    const source: InterruptSource = pic.interruptSource;
    // Program through the bus, as a guest would, and take IRQ 1.
    for (const [port, v] of [[0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfd]]) ports.write(port, 1, v);
    pic.line(1).pulse();
    expect(source.pending()).toBe(true);
    expect(source.acknowledge()).toBe(0x31);
  });

  it('its schema accepts a 16-bit ELCR and nothing else', () => {
    const validate = new Ajv({ strict: false, useDefaults: true }).compile(i8259Plugin.schema);
    const props: Record<string, unknown> = {};
    expect(validate(props)).toBe(true);
    expect(props.elcr).toBe(0);
    expect(validate({ elcr: 0x0e20 })).toBe(true);
    expect(validate({ elcr: 0x10000 })).toBe(false);
    expect(validate({ elcr: 1, extra: 2 })).toBe(false);
  });
});
