import { describe, expect, it } from 'vitest';
import { MachineClock, RecordingIrqLine } from '@unimachine/core';
import { I8254, Mc146818, PcReset, ticksToNs } from '../src/index.js';
import { FakeMachine } from './fakes.js';

/** JSON-safe copy, keeping typed arrays as the contract allows. */
const roundTrip = <T>(state: T): T => structuredClone(state);

describe('snapshot/restore', () => {
  it('PIT: a restored timer on a new clock reads the same counts and fires the same IRQ edges', () => {
    const clockA = new MachineClock('deterministic');
    const irqA = new RecordingIrqLine();
    const a = new I8254(clockA, irqA);
    a.write(0x43, 1, 0x34);
    a.write(0x40, 1, 0xa9);
    a.write(0x40, 1, 0x04); // 1193: 1000 Hz
    a.write(0x43, 1, 0x00);
    a.read(0x40, 1); // half-read latch survives too
    clockA.advance(ticksToNs(300));

    const clockB = new MachineClock('deterministic');
    clockB.advance(clockA.now());
    const irqB = new RecordingIrqLine();
    const b = new I8254(clockB, irqB);
    b.restore(roundTrip(a.snapshot()));
    expect(b.read(0x40, 1)).toBe(a.read(0x40, 1)); // high byte of the latched 1193
    for (const [clock, pit] of [[clockA, a], [clockB, b]] as const) {
      clock.advance(ticksToNs(1193 * 3) - ticksToNs(300));
      clock.runDue();
      pit.write(0x43, 1, 0x00);
    }
    expect(b.read(0x40, 1) | (b.read(0x40, 1) << 8)).toBe(a.read(0x40, 1) | (a.read(0x40, 1) << 8));
    expect(irqB.edges).toBe(1); // coalesced: periods 1..3 passed in one slice
    expect(irqA.edges).toBe(1);
    expect(clockB.nextDeadline()).toBe(clockA.nextDeadline());
  });

  it('RTC: time, CMOS RAM and a pending interrupt come back', () => {
    const clock = new MachineClock('deterministic');
    const irq = new RecordingIrqLine();
    const a = new Mc146818(clock, irq, { epochMs: Date.parse('2010-10-10T10:10:10Z'), memoryBytes: 64 << 20 });
    a.writeRegister(0x40, 0x99);
    a.writeRegister(0x0b, 0x52); // PIE + UIE
    clock.advance(5e9);
    clock.runDue();
    expect(irq.level).toBe(true);
    const b = new Mc146818(clock, new RecordingIrqLine(), { epochMs: 0 });
    b.restore(roundTrip(a.snapshot()));
    expect(b.readRegister(0x00)).toBe(0x15);
    expect(b.readRegister(0x40)).toBe(0x99);
    expect(b.readRegister(0x0c) & 0xd0).toBe(0xd0);
  });

  it('reset device: A20 and a pending 8042 command', () => {
    const machine = new FakeMachine();
    const a = new PcReset(machine);
    a.write(0x92, 1, 0x00);
    a.write(0x64, 1, 0xd1);
    const b = new PcReset(machine);
    b.restore(roundTrip(a.snapshot()));
    expect(b.a20).toBe(false);
    b.write(0x60, 1, 0x00);
    expect(machine.resets).toEqual(['keyboard controller output port']);
  });
});
