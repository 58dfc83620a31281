import { describe, expect, it } from 'vitest';
import { drain, rd, twoApics, wr } from './support.js';

const ICR_LO = 0x300;
const ICR_HI = 0x310;

describe('IPIs between two local APICs', () => {
  it('fixed IPI, physical destination: the target takes the vector, the sender nothing', () => {
    const { a, b } = twoApics();
    wr(a, ICR_HI, 1 << 24);
    wr(a, ICR_LO, 0x4050);
    expect(rd(a, ICR_LO)).toBe(0x4050);
    expect(rd(a, ICR_HI)).toBe(0x01000000);
    expect(drain(b)).toEqual([0x50]);
    expect(b.tmr.has(0x50)).toBe(false);
    expect(a.pending()).toBe(false);
  });

  it('a destination nobody has is dropped; physical 0xff is a broadcast', () => {
    const { a, b, bus } = twoApics();
    wr(a, ICR_HI, 7 << 24);
    wr(a, ICR_LO, 0x4051);
    expect(bus.undelivered).toBe(1);
    wr(a, ICR_HI, 0xff << 24);
    wr(a, ICR_LO, 0x4052);
    expect(drain(a)).toEqual([0x52]);
    expect(drain(b)).toEqual([0x52]);
  });

  it('SeaBIOS\'s AP wake-up: INIT then SIPI to all-excluding-self reach the AP\'s processor as events', () => {
    const { a, b, cpuA, cpuB } = twoApics();
    expect(b.waitingForSipi).toBe(true);
    wr(a, ICR_LO, 0x000c4500); // INIT, assert, all excluding self
    wr(a, ICR_LO, 0x000c4600 | 0x9f); // SIPI vector 0x9f: start at 0x9f000
    expect(cpuB.events).toEqual([{ kind: 'init' }, { kind: 'startup', vector: 0x9f }]);
    expect(cpuA.events).toEqual([]);
    expect(b.waitingForSipi).toBe(false);
    wr(a, ICR_LO, 0x000c4600 | 0x10); // a second SIPI finds the AP running: ignored
    expect(cpuB.events).toHaveLength(2);
  });

  it('INIT resets the target APIC (not its ID); INIT level de-assert does nothing to the processor', () => {
    const { a, b, cpuB } = twoApics();
    wr(b, 0x80, 0x30);
    wr(b, 0x20, 0x01000000);
    wr(a, ICR_HI, 1 << 24);
    wr(a, ICR_LO, 0x8500); // level trigger, de-assert: arbitration resync only
    expect(cpuB.events).toEqual([]);
    expect(rd(b, 0x80)).toBe(0x30);
    wr(a, ICR_LO, 0xc500); // INIT level assert
    expect(cpuB.events).toEqual([{ kind: 'init' }]);
    expect(rd(b, 0x80)).toBe(0);
    expect(rd(b, 0xf0)).toBe(0xff);
    expect(rd(b, 0x20)).toBe(0x01000000);
  });

  it('NMI IPIs go to the processor\'s NMI input, even to a software-disabled APIC', () => {
    const { a, b, cpuB } = twoApics();
    wr(b, 0xf0, 0xff);
    wr(a, ICR_HI, 1 << 24);
    wr(a, ICR_LO, 0x4400);
    expect(cpuB.events).toEqual([{ kind: 'nmi' }]);
  });

  it('logical flat destinations select by LDR bit', () => {
    const { a, b } = twoApics();
    wr(a, 0xd0, 0x01000000);
    wr(b, 0xd0, 0x02000000);
    wr(a, ICR_HI, 0x02 << 24);
    wr(a, ICR_LO, 0x4860);
    expect(drain(a)).toEqual([]);
    expect(drain(b)).toEqual([0x60]);
    wr(a, ICR_HI, 0x03 << 24);
    wr(a, ICR_LO, 0x4861);
    expect(drain(a)).toEqual([0x61]);
    expect(drain(b)).toEqual([0x61]);
  });

  it('logical cluster destinations match the cluster nibble and a member bit', () => {
    const { a, b } = twoApics();
    for (const apic of [a, b]) wr(apic, 0xe0, 0x0fffffff);
    wr(a, 0xd0, 0x11000000);
    wr(b, 0xd0, 0x12000000);
    const send = (dest: number, vector: number) => {
      wr(a, ICR_HI, dest << 24);
      wr(a, ICR_LO, 0x4800 | vector);
    };
    send(0x12, 0x70);
    send(0x13, 0x71);
    send(0x22, 0x72);
    send(0xf2, 0x73); // cluster 0xf: every cluster
    expect(drain(a)).toEqual([0x71]);
    expect(drain(b)).toEqual([0x73, 0x71, 0x70]);
  });

  it('destination shorthands: self, all including self, all excluding self', () => {
    const { a, b } = twoApics();
    wr(a, ICR_LO, 0x44055);
    expect(drain(a)).toEqual([0x55]);
    expect(drain(b)).toEqual([]);
    wr(a, ICR_LO, 0x84056);
    expect(drain(a)).toEqual([0x56]);
    expect(drain(b)).toEqual([0x56]);
    wr(a, ICR_LO, 0xc4057);
    expect(drain(a)).toEqual([]);
    expect(drain(b)).toEqual([0x57]);
    wr(a, ICR_LO, 0x44400); // NMI to self is not a valid combination: dropped
    expect(drain(a)).toEqual([]);
  });

  it('lowest priority goes to the lowest arbitration priority, ties to the first APIC, else to the focus processor', () => {
    const { a, b } = twoApics();
    for (const apic of [a, b]) wr(apic, 0xd0, 0xff000000);
    const send = (vector: number) => {
      wr(a, ICR_HI, 0x03 << 24);
      wr(a, ICR_LO, 0x4900 | vector); // logical, lowest priority
    };
    wr(a, 0x80, 0x20);
    wr(b, 0x80, 0x10);
    send(0x80);
    expect(b.irr.has(0x80)).toBe(true);
    expect(a.irr.has(0x80)).toBe(false);
    wr(b, 0x80, 0x20);
    send(0x81);
    expect(a.irr.has(0x81)).toBe(true); // tie: first on the bus
    expect(b.acknowledge()).toBe(0x80); // b now has 0x80 in service: its focus
    wr(b, 0x80, 0xf0);
    send(0x80);
    expect(b.irr.has(0x80)).toBe(true);
    wr(b, 0xf0, 0x3ff); // focus checking off: priority decides again
    wr(b, 0xb0, 0);
    send(0x80);
    expect(a.irr.has(0x80)).toBe(true);
  });

  it('an illegal vector is not sent and sets "send illegal vector" in the sender\'s ESR', () => {
    const { a, b } = twoApics();
    wr(a, ICR_HI, 1 << 24);
    wr(a, ICR_LO, 0x400f);
    expect(b.irr.highest()).toBe(-1);
    wr(a, 0x280, 0);
    expect(rd(a, 0x280)).toBe(0x20);
    wr(b, 0x280, 0);
    expect(rd(b, 0x280)).toBe(0);
  });

  it('a globally disabled APIC hears nothing on the bus', () => {
    const { a, b, cpuB } = twoApics();
    expect(b.wrmsr(0x1b, 0xfee00000, 0)).toBe(true);
    wr(a, ICR_LO, 0xc4500);
    wr(a, ICR_LO, 0xc4060);
    expect(cpuB.events).toEqual([]);
    expect(b.irr.highest()).toBe(-1);
  });

  it('MSI writes become bus messages (address 0xfeeXX00X, data = vector | mode | trigger)', () => {
    const { b, bus } = twoApics();
    expect(bus.sendMsi(0xfee01000, 0x0065)).toBe(true);
    expect(drain(b)).toEqual([0x65]);
    expect(bus.sendMsi(0xfed01000, 0x0066)).toBe(false);
    expect(b.pending()).toBe(false);
  });
});
