import { describe, expect, it } from 'vitest';
import { MachineClock, RecordingIrqLine } from '@unimachine/core';
import { ApicBus, IoApic, isaIrqToGsi, PcIrqRouter } from '../src/index.js';
import { drain, ioRead, ioWrite, makeApic, route, wr } from './support.js';

function setup() {
  const bus = new ApicBus();
  const clock = new MachineClock('deterministic');
  const a = makeApic({ id: 0, bus, clock });
  const b = makeApic({ id: 1, bus, clock });
  const io = new IoApic(bus);
  return { bus, io, a: a.apic, b: b.apic, cpuA: a.cpu, cpuB: b.cpu };
}

const LEVEL = 0x8000;
const MASKED = 0x10000;
const REMOTE_IRR = 0x4000;

describe('I/O APIC registers', () => {
  it('reports ID, version 0x170020 (24 pins) and arbitration ID; entries reset masked', () => {
    const { io } = setup();
    expect(ioRead(io, 0x01)).toBe(0x00170020);
    expect(ioRead(io, 0x00)).toBe(0);
    ioWrite(io, 0x00, 0x0fffffff);
    expect(ioRead(io, 0x00)).toBe(0x0f000000);
    expect(ioRead(io, 0x02)).toBe(0x0f000000);
    ioWrite(io, 0x01, 0);
    expect(ioRead(io, 0x01)).toBe(0x00170020);
    for (let pin = 0; pin < 24; pin++) {
      expect(ioRead(io, 0x10 + 2 * pin)).toBe(MASKED);
      expect(ioRead(io, 0x11 + 2 * pin)).toBe(0);
    }
    expect(ioRead(io, 0x40)).toBe(0); // past entry 23
    io.mmio.write(0x00, 4, 0x12345611);
    expect(io.mmio.read(0x00, 4)).toBe(0x11); // IOREGSEL is 8 bits
  });

  it('keeps writable redirection bits; delivery status and remote IRR are read-only', () => {
    const { io } = setup();
    ioWrite(io, 0x10, 0xffffffff);
    expect(ioRead(io, 0x10)).toBe(0x1afff);
    ioWrite(io, 0x11, 0xffffffff);
    expect(ioRead(io, 0x11)).toBe(0xff000000);
  });
});

describe('I/O APIC delivery', () => {
  it('an edge pin delivers once per rising edge to the physical destination', () => {
    const { io, a, b } = setup();
    route(io, 4, 0x34, 1);
    io.line(4).raise();
    io.line(4).raise(); // no new edge
    expect(drain(a)).toEqual([]);
    expect(drain(b)).toEqual([0x34]);
    io.line(4).lower();
    io.line(4).pulse();
    expect(drain(b)).toEqual([0x34]);
  });

  it('drops edges on a masked pin (82093AA), delivering nothing when unmasked later', () => {
    const { io, a } = setup();
    route(io, 3, MASKED | 0x33);
    io.line(3).pulse();
    route(io, 3, 0x33);
    expect(drain(a)).toEqual([]);
  });

  it('level: remote IRR holds further deliveries until the EOI broadcast; a still-asserted pin delivers again', () => {
    const { io, a } = setup();
    route(io, 10, LEVEL | 0x3a);
    io.line(10).raise();
    expect(ioRead(io, 0x10 + 20) & REMOTE_IRR).toBe(REMOTE_IRR);
    expect(a.acknowledge()).toBe(0x3a);
    expect(a.tmr.has(0x3a)).toBe(true);
    expect(a.pending()).toBe(false);
    wr(a, 0xb0, 0); // level-triggered EOI: broadcast, remote IRR cleared, pin still high
    expect(a.irr.has(0x3a)).toBe(true);
    expect(ioRead(io, 0x10 + 20) & REMOTE_IRR).toBe(REMOTE_IRR);
    expect(a.acknowledge()).toBe(0x3a);
    io.line(10).lower(); // the device was serviced
    wr(a, 0xb0, 0);
    expect(ioRead(io, 0x10 + 20) & REMOTE_IRR).toBe(0);
    expect(a.pending()).toBe(false);
  });

  it('an edge EOI is not broadcast; the version 0x20 EOI register clears remote IRR directly', () => {
    const { io, a } = setup();
    route(io, 11, LEVEL | 0x3b);
    io.line(11).raise();
    expect(a.acknowledge()).toBe(0x3b);
    io.line(11).lower();
    io.mmio.write(0x40, 4, 0x3c); // another vector: no effect
    expect(ioRead(io, 0x10 + 22) & REMOTE_IRR).toBe(REMOTE_IRR);
    io.mmio.write(0x40, 4, 0x3b);
    expect(ioRead(io, 0x10 + 22) & REMOTE_IRR).toBe(0);
  });

  it('Linux\'s remote-IRR reset (mask, edge, level, unmask) works and re-samples the pin', () => {
    const { io, a } = setup();
    route(io, 9, LEVEL | 0x39);
    io.line(9).raise();
    expect(a.acknowledge()).toBe(0x39);
    a.isr.delete(0x39); // pretend the EOI got lost
    route(io, 9, MASKED | 0x39);
    route(io, 9, MASKED | LEVEL | 0x39);
    expect(ioRead(io, 0x10 + 18) & REMOTE_IRR).toBe(0);
    route(io, 9, LEVEL | 0x39);
    expect(a.irr.has(0x39)).toBe(true);
  });

  it('a level pin asserted while masked delivers on unmask', () => {
    const { io, a } = setup();
    route(io, 12, MASKED | LEVEL | 0x3c);
    io.line(12).raise();
    expect(a.pending()).toBe(false);
    route(io, 12, LEVEL | 0x3c);
    expect(a.acknowledge()).toBe(0x3c);
  });

  it('logical and lowest-priority redirections use the LAPICs\' LDR and priorities', () => {
    const { io, a, b } = setup();
    wr(a, 0xd0, 0x01000000);
    wr(b, 0xd0, 0x02000000);
    wr(a, 0x80, 0x40);
    route(io, 5, 0x800 | 0x100 | 0x35, 0x03); // logical, lowest priority, both APICs
    io.line(5).pulse();
    expect(drain(b)).toEqual([0x35]);
    expect(drain(a)).toEqual([]);
    route(io, 6, 0x800 | 0x36, 0x01); // logical fixed to APIC a's bit
    io.line(6).pulse();
    wr(a, 0x80, 0);
    expect(drain(a)).toEqual([0x36]);
  });

  it('NMI and INIT redirections reach the processor', () => {
    const { io, cpuB } = setup();
    route(io, 7, 0x400, 1);
    route(io, 8, 0x500, 1);
    io.line(7).pulse();
    io.line(8).pulse();
    expect(cpuB.events).toEqual([{ kind: 'nmi' }, { kind: 'init' }]);
  });

  it('its snapshot round-trips', () => {
    const { io, bus } = setup();
    route(io, 2, LEVEL | 0x32, 1);
    io.line(2).raise();
    const other = new IoApic(bus);
    other.restore(JSON.parse(JSON.stringify(io.snapshot())));
    expect(ioRead(other, 0x14)).toBe(LEVEL | REMOTE_IRR | 0x32);
    expect(ioRead(other, 0x15)).toBe(0x01000000);
    expect(() => other.restore({})).toThrow(/version/);
  });
});

describe('QEMU PC interrupt routing', () => {
  it('ISA IRQ n goes to pin n except IRQ 0 on pin 2; the 8259 sees the same wire', () => {
    expect([0, 1, 2, 3, 4, 8, 14, 15].map(isaIrqToGsi)).toEqual([2, 1, 9, 3, 4, 8, 14, 15]);
    const { io, a } = setup();
    const picLines = Array.from({ length: 16 }, () => new RecordingIrqLine());
    const router = new PcIrqRouter({ line: (n) => picLines[n] }, io);
    route(io, 2, 0x30); // the PIT's IRQ 0, as Linux programs it from the MADT override
    route(io, 4, 0x34);
    route(io, 16, LEVEL | 0x50); // PIRQA
    router.line(0).pulse();
    router.line(4).raise();
    router.line(16).raise();
    expect(picLines[0].edges).toBe(1);
    expect(picLines[4].level).toBe(true);
    expect([0x30, 0x34, 0x50].map((v) => a.irr.has(v))).toEqual([true, true, true]);
    expect(a.tmr.has(0x50)).toBe(true);
    expect(() => router.line(24)).toThrow(RangeError);
    expect(() => io.line(24)).toThrow(RangeError);
  });
});
