import { describe, expect, it } from 'vitest';
import { MachineClock, PortBus, RecordingIrqLine } from '@unimachine/core';
import { I8254, i8254Plugin, nsToTicks, PIT_HZ, ticksToNs } from '../src/index.js';
import { fakeContext } from './fakes.js';

function setup() {
  const clock = new MachineClock('deterministic');
  const irq = new RecordingIrqLine();
  const pit = new I8254(clock, irq);
  const out = (port: number, v: number) => pit.write(port, 1, v);
  const inb = (port: number) => pit.read(port, 1);
  /** Counter latch command, then lo/hi reads: how Linux and Solo5 read a channel. */
  const latched = (ch: number) => {
    out(0x43, ch << 6);
    const lo = inb(0x40 + ch);
    return lo | (inb(0x40 + ch) << 8);
  };
  return { clock, irq, pit, out, inb, latched };
}

/** Ticks elapsed after `ns`, computed independently of the device. */
const ticksAfter = (ns: number) => Math.floor((ns * PIT_HZ) / 1e9);

describe('PIT clock arithmetic', () => {
  it('converts nanoseconds to 1.193182 MHz ticks exactly, even after days of virtual time', () => {
    expect(nsToTicks(1e9)).toBe(PIT_HZ);
    expect(nsToTicks(838)).toBe(0);
    expect(nsToTicks(839)).toBe(1);
    expect(ticksToNs(1)).toBe(839);
    const day = 86_400e9 + 123_456_789;
    expect(nsToTicks(day)).toBe(86_400 * PIT_HZ + 147_306); // floor(0.123456789 s * PIT_HZ)
    for (const t of [1, 1193, 65536, PIT_HZ * 10 + 7, PIT_HZ * 86_400 * 3 + 12_345]) {
      expect(nsToTicks(ticksToNs(t))).toBe(t);
      expect(nsToTicks(ticksToNs(t) - 1)).toBe(t - 1);
    }
  });
});

describe('8254 PIT', () => {
  it('mode 2: the count read back follows virtual time and reloads', () => {
    const { clock, out, latched } = setup();
    out(0x43, 0x34); // channel 0, lo/hi, mode 2, binary
    out(0x40, 1000 & 0xff);
    out(0x40, 1000 >> 8);
    expect(latched(0)).toBe(1000);
    clock.advance(100_000);
    expect(latched(0)).toBe(1000 - ticksAfter(100_000)); // 881
    expect(latched(0)).toBe(881);
    clock.advance(ticksToNs(1500) - 100_000); // 1500 ticks: one reload, 500 into the second period
    expect(latched(0)).toBe(500);
  });

  it('a latched count stays until both bytes are read; a second latch is ignored meanwhile', () => {
    const { clock, out, inb, latched } = setup();
    out(0x43, 0x30); // channel 0, lo/hi, mode 0
    out(0x40, 0x00);
    out(0x40, 0x30); // 0x3000
    clock.advance(ticksToNs(0x123));
    out(0x43, 0x00); // latch: 0x3000 - 0x123 = 0x2edd
    clock.advance(ticksToNs(0x500));
    expect(inb(0x40)).toBe(0xdd);
    out(0x43, 0x00); // ignored: the first latch is half read
    clock.advance(ticksToNs(0x100));
    expect(inb(0x40)).toBe(0x2e);
    // Unlatched: live reads, still lo then hi.
    const now = 0x3000 - nsToTicks(clock.now());
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(now);
    expect(latched(0)).toBe(now);
  });

  it('lo-only and hi-only access modes', () => {
    const { out, inb } = setup();
    out(0x43, 0x50); // channel 1, lo only, mode 0
    out(0x41, 0x80);
    expect(inb(0x41)).toBe(0x80);
    expect(inb(0x41)).toBe(0x80); // no byte toggle
    out(0x43, 0x60); // channel 1, hi only, mode 0
    out(0x41, 0x02);
    expect(inb(0x41)).toBe(0x02);
    out(0x43, 0x40); // latch channel 1: a single (high) byte comes back
    expect(inb(0x41)).toBe(0x02);
  });

  it('BCD counting reads and wraps in decimal', () => {
    const { clock, out, latched } = setup();
    out(0x43, 0x31); // channel 0, lo/hi, mode 0, BCD
    out(0x40, 0x00);
    out(0x40, 0x05); // 0500 decimal
    clock.advance(ticksToNs(123));
    expect(latched(0)).toBe(0x0377);
    clock.advance(ticksToNs(623) - ticksToNs(123)); // 123 past terminal count: 10000 - 123
    expect(latched(0)).toBe(0x9877);
    out(0x43, 0x37); // mode 3, BCD, count 0 = 10000
    out(0x40, 0);
    out(0x40, 0);
    expect(latched(0)).toBe(0x0000);
  });

  it('read-back: status byte (OUT, null count, access, mode, BCD) comes before the count', () => {
    const { clock, out, inb } = setup();
    out(0x43, 0x36); // channel 0, lo/hi, mode 3
    out(0x43, 0xe2); // read-back status of channel 0
    expect(inb(0x40)).toBe(0xf6); // OUT high, null count (no count yet), lo/hi, mode 3
    out(0x40, 0x00);
    out(0x40, 0x10);
    out(0x43, 0xe2);
    expect(inb(0x40)).toBe(0xb6);

    out(0x43, 0xb0); // channel 2, lo/hi, mode 0
    out(0x42, 100);
    out(0x42, 0);
    out(0x61, 0x01); // gate 2 on
    out(0x43, 0xc8); // read-back count and status of channel 2
    clock.advance(ticksToNs(40));
    expect(inb(0x42)).toBe(0x30); // OUT low in mode 0 until terminal count
    expect(inb(0x42) | (inb(0x42) << 8)).toBe(100); // the count latched before advancing
    clock.advance(ticksToNs(100));
    out(0x43, 0xe8);
    expect(inb(0x42)).toBe(0xb0);
  });

  it('mode 0 raises IRQ 0 once at terminal count; reprogramming lowers it', () => {
    const { clock, irq, out } = setup();
    out(0x43, 0x30);
    out(0x40, 100);
    out(0x40, 0);
    clock.advance(83_000); // 99 ticks
    clock.runDue();
    expect(irq.level).toBe(false);
    clock.advance(1_000);
    expect(clock.runDue()).toBe(1);
    expect(irq.level).toBe(true);
    expect(irq.edges).toBe(1);
    clock.advance(1e9);
    expect(clock.runDue()).toBe(0); // one-shot
    expect(clock.nextDeadline()).toBe(Infinity);
    out(0x43, 0x30);
    expect(irq.level).toBe(false);
    // From a raised mode 0 line straight to mode 2: the first period still makes an edge.
    out(0x40, 1);
    out(0x40, 0);
    clock.advance(1000);
    clock.runDue();
    expect(irq.edges).toBe(2);
    out(0x43, 0x34);
    out(0x40, 100);
    out(0x40, 0);
    clock.advance(ticksToNs(100));
    clock.runDue();
    expect(irq.edges).toBe(3);
  });

  it('mode 2 with count 1193 gives 1000 IRQs per virtual second; count 0 gives 18.2 Hz', () => {
    for (const [count, seconds, expected] of [
      [1193, 1, 1000],
      [0, 1, 18],
      [0, 10, 182],
    ]) {
      const { clock, irq, out } = setup();
      out(0x43, 0x34);
      out(0x40, count & 0xff);
      out(0x40, count >> 8);
      for (let t = 0; t < seconds * 10_000; t++) {
        clock.advance(100_000);
        clock.runDue();
      }
      expect(irq.edges).toBe(expected);
    }
  });

  it('mode 4 one-shot as Solo5 sleeps: IRQ after N+1 ticks, a new count retriggers', () => {
    const { clock, irq, out } = setup();
    out(0x43, 0x38); // TIMER_SEL0 | TIMER_ONESHOT | TIMER_16BIT: mode 4, no count yet
    expect(clock.nextDeadline()).toBe(Infinity);
    const ticks = 1000;
    out(0x40, (ticks - 1) & 0xff);
    out(0x40, (ticks - 1) >> 8);
    expect(clock.nextDeadline()).toBe(ticksToNs(ticks));
    clock.advance(ticksToNs(500));
    clock.runDue();
    expect(irq.edges).toBe(0);
    out(0x40, (ticks - 1) & 0xff); // re-armed before expiry: counts from here
    out(0x40, (ticks - 1) >> 8);
    expect(clock.nextDeadline()).toBe(ticksToNs(500 + ticks));
    clock.advanceTo(ticksToNs(500 + ticks));
    expect(clock.runDue()).toBe(1);
    expect(irq.edges).toBe(1);
    clock.advance(1e9);
    expect(clock.runDue()).toBe(0);
    expect(irq.edges).toBe(1);
  });

  it('mode 2: a count rewritten mid-period takes over at the end of the period', () => {
    const { clock, irq, out, inb, latched } = setup();
    out(0x43, 0x34);
    out(0x40, 0xe8);
    out(0x40, 0x03); // 1000
    clock.advance(ticksToNs(400));
    out(0x40, 100);
    out(0x40, 0); // 100, waiting for the end of this period
    out(0x43, 0xe2);
    expect(inb(0x40) & 0x40).toBe(0x40); // null count: not yet in the counting element
    expect(latched(0)).toBe(600);
    expect(clock.nextDeadline()).toBe(ticksToNs(1000));
    clock.advanceTo(ticksToNs(1000));
    clock.runDue();
    expect(irq.edges).toBe(1);
    clock.advanceTo(ticksToNs(1030));
    expect(latched(0)).toBe(70);
    out(0x43, 0xe2);
    expect(inb(0x40) & 0x40).toBe(0);
    expect(clock.nextDeadline()).toBe(ticksToNs(1100));
  });

  it('mode 0: the first byte of a new count stops counting until the second arrives', () => {
    const { clock, irq, pit, out, latched } = setup();
    out(0x43, 0x30);
    out(0x40, 100);
    out(0x40, 0);
    clock.advanceTo(ticksToNs(50));
    out(0x40, 200); // low byte only
    expect(latched(0)).toBe(50);
    clock.advanceTo(ticksToNs(1050));
    clock.runDue();
    expect(irq.edges).toBe(0);
    expect(pit.channels[0].out()).toBe(false);
    expect(latched(0)).toBe(50);
    out(0x40, 0); // count 200 starts at tick 1050
    clock.advanceTo(ticksToNs(1249));
    clock.runDue();
    expect(latched(0)).toBe(1);
    expect(irq.edges).toBe(0);
    clock.advanceTo(ticksToNs(1250));
    clock.runDue();
    expect(irq.edges).toBe(1);
  });

  it('mode 3 square wave: periodic IRQs, OUT high for the first half', () => {
    const { clock, irq, pit, out } = setup();
    out(0x43, 0x36);
    out(0x40, 200);
    out(0x40, 0);
    clock.advance(ticksToNs(50));
    expect(pit.channels[0].out()).toBe(true);
    clock.advance(ticksToNs(150) - ticksToNs(50));
    expect(pit.channels[0].out()).toBe(false);
    clock.advanceTo(ticksToNs(200 * 7));
    clock.runDue(); // a late slice: missed periods coalesce into one edge
    expect(irq.edges).toBe(1);
    clock.advanceTo(ticksToNs(200 * 8));
    clock.runDue();
    expect(irq.edges).toBe(2);
  });

  it('channel 2 through port 0x61: gate, OUT readback, refresh toggle', () => {
    const { clock, out, inb } = setup();
    // Linux's pit_calibrate_tsc: gate on, speaker off, mode 0 one-shot on channel 2.
    out(0x61, (inb(0x61) & ~0x02) | 0x01);
    out(0x43, 0xb0);
    out(0x42, 0xe8);
    out(0x42, 0x03); // 1000
    expect(inb(0x61) & 0x20).toBe(0);
    clock.advance(ticksToNs(999));
    expect(inb(0x61) & 0x20).toBe(0);
    clock.advance(ticksToNs(1000) - ticksToNs(999));
    expect(inb(0x61) & 0x20).toBe(0x20);
    // Gate low stops the count.
    out(0x61, 0x00);
    out(0x43, 0xb0);
    out(0x42, 10);
    out(0x42, 0);
    clock.advance(ticksToNs(1000));
    expect(inb(0x61) & 0x20).toBe(0);
    out(0x61, 0x01);
    clock.advance(ticksToNs(10));
    expect(inb(0x61) & 0x21).toBe(0x21);
    // Bit 4 flips on every read; bits 0-3 read back.
    out(0x61, 0x03);
    const a = inb(0x61);
    const b = inb(0x61);
    expect((a ^ b) & 0x10).toBe(0x10);
    expect(a & 0x0f).toBe(0x03);
  });

  it('mode 1 on channel 2 starts on a gate rising edge and retriggers', () => {
    const { clock, out, inb } = setup();
    out(0x43, 0xb2); // channel 2, lo/hi, mode 1
    out(0x42, 50);
    out(0x42, 0);
    expect(inb(0x61) & 0x20).toBe(0x20); // OUT high until triggered
    out(0x61, 0x01);
    expect(inb(0x61) & 0x20).toBe(0);
    clock.advance(ticksToNs(49));
    expect(inb(0x61) & 0x20).toBe(0);
    out(0x61, 0x00);
    out(0x61, 0x01); // retrigger: another 50 clocks
    clock.advance(ticksToNs(49 + 40) - ticksToNs(49));
    expect(inb(0x61) & 0x20).toBe(0);
    clock.advance(ticksToNs(49 + 50) - ticksToNs(49 + 40));
    expect(inb(0x61) & 0x20).toBe(0x20);
  });

  it('a guest polling the count through the port bus sees it move (I/O costs virtual time)', async () => {
    const { ctx, ports, clock, lines } = fakeContext();
    ports.onAccess = () => clock.advance(1000); // 1 µs per ISA access
    await i8254Plugin.create(ctx, {});
    // Solo5-style: channel 0 one-shot, poll with latch reads until the count wraps past zero.
    ports.write(0x43, 1, 0x30);
    ports.write(0x40, 1, 0xff);
    ports.write(0x40, 1, 0xff);
    let reads = 0;
    let last = 0xffff;
    while (reads < 1_000_000) {
      ports.write(0x43, 1, 0x00);
      const v = ports.read(0x40, 1) | (ports.read(0x40, 1) << 8);
      reads++;
      if (v > last) break;
      last = v;
    }
    // 65535 ticks = 54.9 ms; each poll costs 3 µs of virtual time.
    expect(Math.abs(reads - ticksToNs(0x10000) / 3000)).toBeLessThanOrEqual(1);
    clock.runDue();
    expect(lines.get('pic.0')!.level).toBe(true);
  });

  it('an illegal count of 1 in mode 2 leaves OUT low and schedules nothing', () => {
    const { clock, irq, pit, out } = setup();
    out(0x43, 0x34);
    out(0x40, 1);
    out(0x40, 0);
    expect(clock.nextDeadline()).toBe(Infinity);
    clock.advance(1e6);
    expect(pit.channels[0].out()).toBe(false);
    expect(irq.edges).toBe(0);
  });

  it('a power-on channel takes a count as mode 0 lo/hi; reset cancels its timer', () => {
    const { clock, pit, out, latched } = setup();
    out(0x40, 5);
    out(0x40, 0);
    expect(latched(0)).toBe(5);
    expect(clock.nextDeadline()).toBe(ticksToNs(5));
    pit.reset();
    expect(clock.nextDeadline()).toBe(Infinity);
    clock.advance(1e9);
    expect(clock.runDue()).toBe(0);
  });
});
