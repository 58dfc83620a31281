import { describe, expect, it } from 'vitest';
import { MachineClock } from '@unimachine/core';
import { I8259Pair } from '@unimachine/pic';
import { ApicBus, IoApic, LocalApic, PcIrqRouter } from '../src/index.js';
import { rd, route, wr } from './support.js';

/** Linux's init_8259A(): vectors 0x20 (master) and 0x28 (slave), everything unmasked. */
function initPic(pic: I8259Pair): void {
  const out = (port: number, v: number) => pic.ports.write(port, 1, v);
  for (const [port, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0], [0xa1, 0]]) {
    out(port, v);
  }
}
const picEoi = (pic: I8259Pair) => pic.ports.write(0x20, 1, 0x20);

function machine(firmwareState = true, id = 0) {
  const pic = new I8259Pair();
  initPic(pic);
  const bus = new ApicBus();
  const lapic = new LocalApic({ id, clock: new MachineClock('deterministic'), bus, extInt: pic, firmwareState });
  return { pic, lapic, bus };
}

describe('virtual-wire mode: the 8259 reaches the CPU through LINT0 as ExtINT', () => {
  it('a PIC-only guest works unchanged with the LAPIC as the CPU\'s interrupt source (SeaBIOS state)', () => {
    const { pic, lapic } = machine(true);
    expect(lapic.interruptSource).toBe(lapic);
    pic.line(4).pulse();
    expect(lapic.pending()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x24);
    expect(lapic.pending()).toBe(false);
    expect(lapic.isr.highest()).toBe(-1); // the APIC is not involved in an ExtINT
    picEoi(pic);
    pic.line(12).pulse();
    expect(lapic.acknowledge()).toBe(0x2c);
  });

  it('also after a bare reset (QEMU puts the BSP\'s LINT0 in ExtINT while the APIC is software-disabled)', () => {
    const { pic, lapic } = machine(false);
    expect(rd(lapic, 0xf0)).toBe(0xff);
    pic.line(1).pulse();
    expect(lapic.acknowledge()).toBe(0x21);
  });

  it('an AP\'s masked LINT0 keeps the PIC away', () => {
    const { pic, lapic } = machine(false, 1);
    pic.line(1).pulse();
    expect(pic.pending()).toBe(true);
    expect(lapic.pending()).toBe(false);
  });

  it('masking LINT0, or making it a fixed entry, cuts the wire; unmasking restores it', () => {
    const { pic, lapic } = machine(true);
    pic.line(3).pulse();
    wr(lapic, 0x350, 0x10700);
    expect(lapic.pending()).toBe(false);
    wr(lapic, 0x350, 0x0030);
    expect(lapic.pending()).toBe(false);
    wr(lapic, 0x350, 0x0700);
    expect(lapic.pending()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x23);
  });

  it('a globally disabled APIC is out of the way: LINT0 is the plain INTR pin', () => {
    const { pic, lapic } = machine(true);
    wr(lapic, 0x350, 0x10700);
    expect(lapic.wrmsr(0x1b, 0xfee00100, 0)).toBe(true);
    pic.line(6).pulse();
    expect(lapic.acknowledge()).toBe(0x26);
  });

  it('ExtINT goes before APIC vectors (it ignores APIC priority), which follow', () => {
    const { pic, lapic } = machine(true);
    lapic.accept(0xe0, false);
    pic.line(5).pulse();
    expect(lapic.acknowledge()).toBe(0x25);
    expect(lapic.acknowledge()).toBe(0xe0);
    expect(lapic.pending()).toBe(false);
  });

  it('an I/O APIC pin in ExtINT mode (pin 0, MP-table "mixed mode") asks the 8259 for the vector', () => {
    const { pic, lapic, bus } = machine(true);
    wr(lapic, 0x350, 0x10700); // LINT0 masked: only the I/O APIC path is left
    const io = new IoApic(bus);
    const isa = new PcIrqRouter(pic, io);
    route(io, 0, 0x700, 0); // ExtINT to APIC 0
    isa.line(7).pulse(); // the 8259 gets IRQ 7; the I/O APIC's pin 7 stays masked
    expect(lapic.pending()).toBe(false);
    io.line(0).pulse(); // the 8259's INTR wired to I/O APIC pin 0, as on the MP spec's mixed mode
    expect(lapic.pending()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x27);
    expect(lapic.pending()).toBe(false);
  });

  it('the timer tick of a PIC-then-APIC guest: IRQ 0 on the 8259 first, then on I/O APIC pin 2', () => {
    const { pic, lapic, bus } = machine(true);
    const io = new IoApic(bus);
    const isa = new PcIrqRouter(pic, io);
    isa.line(0).pulse();
    expect(lapic.acknowledge()).toBe(0x20);
    picEoi(pic);
    // The guest switches: masks the 8259, routes pin 2 to vector 0x30, masks LINT0.
    pic.ports.write(0x21, 1, 0xff);
    pic.ports.write(0xa1, 1, 0xff);
    route(io, 2, 0x30, 0);
    wr(lapic, 0x350, 0x10700);
    isa.line(0).pulse();
    expect(lapic.acknowledge()).toBe(0x30);
    expect(pic.pending()).toBe(false);
  });
});
