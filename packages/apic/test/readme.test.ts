import { describe, expect, it } from 'vitest';
import { MachineClock } from '@unimachine/core';
import { I8259Pair } from '@unimachine/pic';
import { IoApic, LocalApic, PcIrqRouter, RecordingProcessor } from '../src/index.js';

describe('README example', () => {
  it('runs as written', () => {
    const clock = new MachineClock('deterministic');
    const pic = new I8259Pair();
    const cpu = new RecordingProcessor();
    const lapic = new LocalApic({ id: 0, clock, processor: cpu, extInt: pic, firmwareState: true });
    const io = new IoApic(lapic.bus);
    const irqs = new PcIrqRouter(pic, io);
    const w = (off: number, v: number) => lapic.mmio.write(off, 4, v);
    w(0x3e0, 0b1011);
    w(0x320, 0x20030);
    w(0x380, 1_000_000);
    clock.advance(1_000_000);
    clock.runDue();
    expect(lapic.pending()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x30);
    w(0xb0, 0);
    pic.ports.write(0x21, 1, 0xff);
    io.mmio.write(0x00, 4, 0x14);
    io.mmio.write(0x10, 4, 0x34);
    irqs.line(0).pulse();
    expect(lapic.acknowledge()).toBe(0x34);
    expect(cpu.events).toEqual([]);
  });
});
