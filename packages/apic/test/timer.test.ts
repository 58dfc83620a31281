import { describe, expect, it } from 'vitest';
import { MachineClock } from '@unimachine/core';
import { makeApic, rd, wr } from './support.js';

/** Divide configuration register values and their divisors (SDM figure 11-10). */
const DIVIDES: [number, number][] = [
  [0b1011, 1],
  [0b0000, 2],
  [0b0001, 4],
  [0b0010, 8],
  [0b0011, 16],
  [0b1000, 32],
  [0b1001, 64],
  [0b1010, 128],
];

const TIMER_LVT = 0x320;
const INITIAL = 0x380;
const CURRENT = 0x390;
const DIVIDE = 0x3e0;

describe('APIC timer, one tick per virtual ns before the divider (QEMU\'s 1 GHz)', () => {
  for (const [config, divisor] of DIVIDES) {
    it(`one-shot with divide by ${divisor}: counts down, interrupts once at zero`, () => {
      const { apic, clock } = makeApic();
      clock.advance(12345); // not aligned to anything
      wr(apic, DIVIDE, config);
      expect(rd(apic, DIVIDE)).toBe(config);
      wr(apic, TIMER_LVT, 0x40);
      wr(apic, INITIAL, 1000);
      expect(rd(apic, CURRENT)).toBe(1000);
      clock.advance(250 * divisor);
      expect(clock.runDue()).toBe(0);
      expect(rd(apic, CURRENT)).toBe(750);
      clock.advance(750 * divisor - 1);
      expect(clock.runDue()).toBe(0);
      expect(rd(apic, CURRENT)).toBe(1);
      expect(apic.pending()).toBe(false);
      clock.advance(1);
      expect(clock.runDue()).toBe(1);
      expect(rd(apic, CURRENT)).toBe(0);
      expect(apic.acknowledge()).toBe(0x40);
      wr(apic, 0xb0, 0);
      clock.advance(5000 * divisor);
      expect(clock.runDue()).toBe(0);
      expect(clock.nextDeadline()).toBe(Infinity);
      expect(rd(apic, CURRENT)).toBe(0);
      expect(rd(apic, INITIAL)).toBe(1000);
    });

    it(`periodic with divide by ${divisor}: reloads every N ticks and interrupts each period`, () => {
      const { apic, clock } = makeApic();
      wr(apic, DIVIDE, config);
      wr(apic, TIMER_LVT, 0x20000 | 0x41);
      wr(apic, INITIAL, 100);
      const start = clock.now();
      for (let period = 1; period <= 3; period++) {
        expect(clock.nextDeadline()).toBe(start + period * 100 * divisor);
        clock.advanceTo(clock.nextDeadline());
        expect(clock.runDue()).toBe(1);
        expect(rd(apic, CURRENT)).toBe(100); // just reloaded
        expect(apic.acknowledge()).toBe(0x41);
        wr(apic, 0xb0, 0);
      }
      clock.advance(37 * divisor);
      expect(rd(apic, CURRENT)).toBe(63);
    });
  }

  it('a masked timer keeps counting without interrupting; unmasking a periodic one resumes at the next period', () => {
    const { apic, clock } = makeApic();
    wr(apic, DIVIDE, 0b1011);
    wr(apic, TIMER_LVT, 0x10000 | 0x20000 | 0x42);
    wr(apic, INITIAL, 1000);
    expect(clock.nextDeadline()).toBe(Infinity);
    clock.advance(2500);
    expect(rd(apic, CURRENT)).toBe(500);
    wr(apic, TIMER_LVT, 0x20000 | 0x42);
    expect(clock.nextDeadline()).toBe(3000);
    clock.advance(500);
    expect(clock.runDue()).toBe(1);
    expect(apic.irr.has(0x42)).toBe(true);
  });

  it('writing the initial count restarts the count; zero stops it', () => {
    const { apic, clock } = makeApic();
    wr(apic, DIVIDE, 0b1011);
    wr(apic, TIMER_LVT, 0x43);
    wr(apic, INITIAL, 500);
    clock.advance(400);
    wr(apic, INITIAL, 500);
    clock.advance(400);
    expect(clock.runDue()).toBe(0);
    expect(rd(apic, CURRENT)).toBe(100);
    wr(apic, INITIAL, 0);
    expect(clock.nextDeadline()).toBe(Infinity);
    expect(rd(apic, CURRENT)).toBe(0);
  });

  it('a new divider mid-count carries on from the current count at the new rate', () => {
    const { apic, clock } = makeApic();
    wr(apic, DIVIDE, 0b1011); // 1
    wr(apic, TIMER_LVT, 0x44);
    wr(apic, INITIAL, 1000);
    clock.advance(400);
    wr(apic, DIVIDE, 0b0001); // 4
    expect(rd(apic, CURRENT)).toBe(600);
    clock.advance(4 * 100);
    expect(rd(apic, CURRENT)).toBe(500);
    expect(clock.nextDeadline()).toBe(400 + 4 * 600);
    clock.advanceTo(clock.nextDeadline());
    expect(clock.runDue()).toBe(1);
    expect(apic.irr.has(0x44)).toBe(true);
  });

  it('a guest calibrating against 10 ms of time reads the count QEMU would give (divide 16: 625,000 ticks)', () => {
    const { apic, clock } = makeApic();
    wr(apic, DIVIDE, 0b0011);
    wr(apic, TIMER_LVT, 0x10000); // masked, as Linux calibrates
    wr(apic, INITIAL, 0xffffffff);
    clock.advance(10_000_000);
    expect(0xffffffff - rd(apic, CURRENT)).toBe(625_000);
  });

  describe('TSC-deadline mode', () => {
    it('interrupts when the TSC reaches IA32_TSC_DEADLINE, which then reads 0 (TSC at 2 GHz)', () => {
      const { apic, clock } = makeApic();
      wr(apic, TIMER_LVT, 0x40000 | 0x45);
      clock.advance(1000); // TSC = 2000
      expect(apic.wrmsr(0x6e0, 2000 + 3000, 0)).toBe(true);
      expect(apic.rdmsr(0x6e0)).toEqual([5000, 0]);
      expect(clock.nextDeadline()).toBe(1000 + 1500);
      clock.advance(1499);
      expect(clock.runDue()).toBe(0);
      clock.advance(1);
      expect(clock.runDue()).toBe(1);
      expect(apic.rdmsr(0x6e0)).toEqual([0, 0]);
      expect(apic.acknowledge()).toBe(0x45);
    });

    it('a deadline in the past interrupts at once; zero disarms; initial count writes are ignored', () => {
      const { apic, clock } = makeApic();
      wr(apic, TIMER_LVT, 0x40000 | 0x46);
      clock.advance(1000);
      apic.wrmsr(0x6e0, 10, 0);
      expect(apic.irr.has(0x46)).toBe(true);
      apic.wrmsr(0x6e0, 1_000_000, 0);
      apic.wrmsr(0x6e0, 0, 0);
      expect(clock.nextDeadline()).toBe(Infinity);
      wr(apic, INITIAL, 100);
      expect(rd(apic, INITIAL)).toBe(0);
      expect(rd(apic, CURRENT)).toBe(0);
    });

    it('uses the CPU\'s TSC function and rate, and a masked expiry still disarms', () => {
      let offset = 1_000_000;
      const clock = new MachineClock('deterministic');
      const { apic } = makeApic({ clock, tscHz: 3_000_000_000, tsc: () => Math.floor((clock.now() * 3e9) / 1e9) + offset });
      wr(apic, TIMER_LVT, 0x10000 | 0x40000 | 0x47);
      apic.wrmsr(0x6e0, offset + 3000, 0);
      expect(clock.nextDeadline()).toBe(1000);
      offset -= 300; // the guest rewrote the TSC: 100 ns more to go
      clock.advance(1000);
      expect(clock.runDue()).toBe(1);
      expect(apic.rdmsr(0x6e0)![0]).toBe(1_000_000 + 3000);
      clock.advance(100);
      expect(clock.runDue()).toBe(1);
      expect(apic.rdmsr(0x6e0)).toEqual([0, 0]);
      expect(apic.irr.has(0x47)).toBe(false);
    });

    it('switching between TSC-deadline and other modes disarms the timer; the MSR reads 0 in other modes', () => {
      const { apic, clock } = makeApic();
      wr(apic, TIMER_LVT, 0x40000 | 0x48);
      apic.wrmsr(0x6e0, 100_000, 0);
      wr(apic, TIMER_LVT, 0x48);
      expect(apic.rdmsr(0x6e0)).toEqual([0, 0]);
      expect(clock.nextDeadline()).toBe(Infinity);
      apic.wrmsr(0x6e0, 100_000, 0); // ignored in one-shot mode
      wr(apic, INITIAL, 50);
      wr(apic, TIMER_LVT, 0x40000 | 0x48);
      expect(rd(apic, INITIAL)).toBe(0);
      expect(apic.rdmsr(0x6e0)).toEqual([0, 0]);
    });

    it('without TSC-deadline support, mode bit 18 is reserved and MSR 0x6e0 faults', () => {
      const { apic } = makeApic({ tscDeadline: false });
      wr(apic, TIMER_LVT, 0x40000 | 0x49);
      expect(rd(apic, TIMER_LVT)).toBe(0x49);
      expect(apic.handlesMsr(0x6e0)).toBe(false);
      expect(apic.rdmsr(0x6e0)).toBeUndefined();
      expect(apic.wrmsr(0x6e0, 1, 0)).toBe(false);
    });
  });
});
