import { describe, expect, it } from 'vitest';
import { MachineClock, MmioBus } from '@unimachine/core';
import { ApicBus, LapicMmioWindow } from '../src/index.js';
import { drain, makeApic, rd } from './support.js';

const EN = 0x800;
const EXTD = 0x400;

function x2(id: number, bus = new ApicBus(), clock = new MachineClock('deterministic')) {
  const made = makeApic({ id, bus, clock, bsp: id === 0 });
  expect(made.apic.wrmsr(0x1b, 0xfee00000 | EN | EXTD, 0)).toBe(true);
  return made;
}

describe('x2APIC mode', () => {
  it('EXTD moves the registers to MSRs 0x800-0x8ff and takes the MMIO window away', () => {
    const clock = new MachineClock('deterministic');
    const mmio = new MmioBus();
    const { apic } = makeApic({ id: 0x23, bsp: true, clock });
    const window = new LapicMmioWindow(mmio, apic, 'lapic');
    expect(apic.rdmsr(0x802)).toBeUndefined(); // xAPIC mode: the MSRs fault
    expect(apic.wrmsr(0x1b, 0xfee00000 | 0x100 | EN | EXTD, 0)).toBe(true);
    expect(apic.rdmsr(0x1b)![0]).toBe(0xfee00d00);
    expect(window.address).toBe(-1);
    expect(mmio.isMapped(0xfee00000)).toBe(false);
    expect(rd(apic, 0x30)).toBe(0); // the window no longer decodes
    expect(apic.rdmsr(0x802)).toEqual([0x23, 0]);
    expect(apic.rdmsr(0x803)).toEqual([0x50014, 0]);
    expect(apic.rdmsr(0x80d)).toEqual([0x00020008, 0]); // cluster 2, member bit 3
    expect(apic.rdmsr(0x80f)).toEqual([0x1ff, 0]);
  });

  it('faults on registers x2APIC lacks, write-only reads, read-only writes and reserved bits', () => {
    const { apic } = x2(1);
    for (const msr of [0x809, 0x80c, 0x80e, 0x831, 0x82f, 0x840, 0x8ff, 0x80b, 0x83f]) expect(apic.rdmsr(msr)).toBeUndefined();
    expect(apic.wrmsr(0x802, 5, 0)).toBe(false); // ID is read-only
    expect(apic.wrmsr(0x80d, 1, 0)).toBe(false); // LDR is read-only
    expect(apic.wrmsr(0x839, 1, 0)).toBe(false); // current count
    expect(apic.wrmsr(0x820, 1, 0)).toBe(false); // IRR
    expect(apic.wrmsr(0x80b, 1, 0)).toBe(false); // EOI takes only 0
    expect(apic.wrmsr(0x828, 1, 0)).toBe(false); // ESR takes only 0
    expect(apic.wrmsr(0x808, 0x100, 0)).toBe(false); // TPR bits 31-8
    expect(apic.wrmsr(0x808, 0x10, 1)).toBe(false); // high half of a 32-bit register
    expect(apic.wrmsr(0x80f, 0x11ff, 0)).toBe(false); // EOI-broadcast suppression is not offered
    expect(apic.wrmsr(0x83e, 0x4, 0)).toBe(false);
    expect(apic.wrmsr(0x835, 0x40000, 0)).toBe(false); // LINT0 has no timer-mode bits
    expect(apic.wrmsr(0x83f, 0x140, 0)).toBe(false);
    expect(apic.wrmsr(0x830, 0x1040, 0)).toBe(false); // delivery status bit is reserved here
    expect(apic.wrmsr(0x808, 0x20, 0)).toBe(true);
    expect(apic.rdmsr(0x808)).toEqual([0x20, 0]);
    expect(apic.rdmsr(0x80a)).toEqual([0x20, 0]);
  });

  it('follows the mode transitions of SDM 11.12.5', () => {
    const { apic } = x2(0);
    expect(apic.wrmsr(0x1b, 0xfee00000 | EN, 0)).toBe(false); // x2APIC -> xAPIC directly
    expect(apic.wrmsr(0x1b, 0xfee00000 | EXTD, 0)).toBe(false); // EXTD without EN
    expect(apic.wrmsr(0x1b, 0xfee00000, 0)).toBe(true); // x2APIC -> disabled
    expect(apic.wrmsr(0x1b, 0xfee00000 | EN | EXTD, 0)).toBe(false); // disabled -> x2APIC
    expect(apic.wrmsr(0x1b, 0xfee00000 | EN, 0)).toBe(true);
    expect(apic.wrmsr(0x1b, 0xfee00000 | EN | EXTD, 0)).toBe(true);
    const { apic: plain } = makeApic({ x2apic: false });
    expect(plain.wrmsr(0x1b, 0xfee00000 | EN | EXTD, 0)).toBe(false);
  });

  it('the 64-bit ICR write at 0x830 sends with a 32-bit destination, physical or logical cluster', () => {
    const bus = new ApicBus();
    const clock = new MachineClock('deterministic');
    const { apic: a } = x2(0, bus, clock);
    const { apic: b } = x2(0x13, bus, clock);
    expect(a.wrmsr(0x830, 0x4051, 0x13)).toBe(true);
    expect(a.rdmsr(0x830)).toEqual([0x4051, 0x13]);
    expect(drain(b)).toEqual([0x51]);
    expect(b.rdmsr(0x80d)).toEqual([0x00010008, 0]);
    a.wrmsr(0x830, 0x4852, 0x00010008); // logical: cluster 1, member 3
    a.wrmsr(0x830, 0x4853, 0x00010001); // cluster 1, member 0: nobody
    a.wrmsr(0x830, 0x4854, 0xffffffff); // broadcast
    expect(drain(b)).toEqual([0x54, 0x52]);
    expect(drain(a)).toEqual([0x54]);
  });

  it('SELF IPI (0x83f) interrupts this APIC with a fixed edge vector; EOI and the timer work through MSRs', () => {
    const { apic, clock } = x2(0);
    expect(apic.wrmsr(0x83f, 0x66, 0)).toBe(true);
    expect(apic.acknowledge()).toBe(0x66);
    expect(apic.rdmsr(0x813)).toEqual([1 << (0x66 - 0x60), 0]); // ISR word 3
    expect(apic.wrmsr(0x80b, 0, 0)).toBe(true);
    expect(apic.isr.highest()).toBe(-1);
    apic.wrmsr(0x83e, 0b1011, 0);
    apic.wrmsr(0x832, 0x67, 0);
    apic.wrmsr(0x838, 500, 0);
    clock.advance(200);
    expect(apic.rdmsr(0x839)).toEqual([300, 0]);
    clock.advance(300);
    clock.runDue();
    expect(apic.acknowledge()).toBe(0x67);
    expect(apic.wrmsr(0x83f, 0x05, 0)).toBe(true); // illegal vector: logged, not delivered
    expect(apic.wrmsr(0x828, 0, 0)).toBe(true);
    expect(apic.rdmsr(0x828)).toEqual([0x20, 0]);
  });

  it('IPIs from an xAPIC-format sender still reach an x2APIC receiver by ID and broadcast', () => {
    const bus = new ApicBus();
    const clock = new MachineClock('deterministic');
    const { apic: legacy } = makeApic({ id: 0, bus, clock });
    const { apic: modern } = x2(2, bus, clock);
    legacy.mmio.write(0x310, 4, 2 << 24);
    legacy.mmio.write(0x300, 4, 0x4070);
    legacy.mmio.write(0x310, 4, 0xff << 24);
    legacy.mmio.write(0x300, 4, 0x4071);
    expect(drain(modern)).toEqual([0x71, 0x70]);
  });
});
