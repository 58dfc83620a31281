import { describe, expect, it } from 'vitest';
import { MachineClock, RecordingIrqLine } from '@unimachine/core';
import { I8254, Mc146818, ticksToNs } from '../src/index.js';

describe('README example', () => {
  it('gives the values the README states', () => {
    const clock = new MachineClock('deterministic');
    const irq0 = new RecordingIrqLine();
    const pit = new I8254(clock, irq0);
    pit.write(0x43, 1, 0x34);
    pit.write(0x40, 1, 1193 & 0xff);
    pit.write(0x40, 1, 1193 >> 8);
    clock.advance(ticksToNs(100));
    pit.write(0x43, 1, 0x00);
    expect(pit.read(0x40, 1) | (pit.read(0x40, 1) << 8)).toBe(1093);
    clock.advance(1e6);
    clock.runDue();
    expect(irq0.edges).toBe(1);

    const rtc = new Mc146818(clock, new RecordingIrqLine(), { epochMs: Date.parse('2024-05-01T12:00:00Z'), memoryBytes: 128 << 20 });
    rtc.write(0x70, 1, 0x04);
    expect(rtc.read(0x71, 1)).toBe(0x12);
  });
});
