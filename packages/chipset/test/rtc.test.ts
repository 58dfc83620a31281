import { describe, expect, it } from 'vitest';
import { MachineClock, RecordingIrqLine } from '@unimachine/core';
import { Mc146818, mc146818Plugin, UIP_LEAD_NS } from '../src/index.js';
import { fakeContext } from './fakes.js';

function setup(epoch = '2000-01-01T00:00:00Z', memoryBytes = 128 * 1024 * 1024) {
  const clock = new MachineClock('deterministic');
  const irq = new RecordingIrqLine();
  const rtc = new Mc146818(clock, irq, { epochMs: Date.parse(epoch), memoryBytes });
  /** outb(0x70, reg); inb(0x71): how every OS reads the CMOS. */
  const cmos = (reg: number) => {
    rtc.write(0x70, 1, reg);
    return rtc.read(0x71, 1);
  };
  const set = (reg: number, v: number) => {
    rtc.write(0x70, 1, reg);
    rtc.write(0x71, 1, v);
  };
  return { clock, irq, rtc, cmos, set };
}

describe('MC146818 RTC', () => {
  it('reads the epoch in BCD, 24-hour, with century and day of week', () => {
    const { cmos } = setup('2024-02-29T23:59:30Z');
    expect(cmos(0x00)).toBe(0x30);
    expect(cmos(0x02)).toBe(0x59);
    expect(cmos(0x04)).toBe(0x23);
    expect(cmos(0x06)).toBe(0x05); // Thursday (Sunday = 1)
    expect(cmos(0x07)).toBe(0x29);
    expect(cmos(0x08)).toBe(0x02);
    expect(cmos(0x09)).toBe(0x24);
    expect(cmos(0x32)).toBe(0x20);
    expect(cmos(0x0d)).toBe(0x80); // VRT
  });

  it('binary mode and 12-hour mode with the PM bit', () => {
    const { cmos, set } = setup('2024-02-29T23:59:30Z');
    set(0x0b, 0x06); // binary, 24-hour
    expect(cmos(0x00)).toBe(30);
    expect(cmos(0x04)).toBe(23);
    expect(cmos(0x09)).toBe(24);
    expect(cmos(0x32)).toBe(20);
    set(0x0b, 0x04); // binary, 12-hour
    expect(cmos(0x04)).toBe(0x80 | 11);
    set(0x0b, 0x00); // BCD, 12-hour
    expect(cmos(0x04)).toBe(0x91); // 11 PM
  });

  it('12-hour mode shows midnight as 12 AM and noon as 12 PM', () => {
    const midnight = setup('2000-01-01T00:10:00Z');
    midnight.set(0x0b, 0x00);
    expect(midnight.cmos(0x04)).toBe(0x12);
    const noon = setup('2000-01-01T12:10:00Z');
    noon.set(0x0b, 0x00);
    expect(noon.cmos(0x04)).toBe(0x92);
  });

  it('advancing the machine clock 61 virtual seconds moves minutes and seconds, across a leap day', () => {
    const { clock, cmos } = setup('2024-02-29T23:59:30Z');
    clock.advance(61e9);
    expect(cmos(0x00)).toBe(0x31);
    expect(cmos(0x02)).toBe(0x00);
    expect(cmos(0x04)).toBe(0x00);
    expect(cmos(0x07)).toBe(0x01);
    expect(cmos(0x08)).toBe(0x03);
    expect(cmos(0x06)).toBe(0x06); // Friday
  });

  it('sets UIP during the 244 us before each update', () => {
    const { clock, cmos } = setup();
    expect(cmos(0x0a)).toBe(0x26);
    clock.advance(1e9 - UIP_LEAD_NS - 1);
    expect(cmos(0x0a) & 0x80).toBe(0);
    clock.advance(2);
    expect(cmos(0x0a) & 0x80).toBe(0x80);
    expect(cmos(0x00)).toBe(0x00); // the old second until the update
    clock.advance(UIP_LEAD_NS);
    expect(cmos(0x0a) & 0x80).toBe(0);
    expect(cmos(0x00)).toBe(0x01);
  });

  it('setting the time with SET freezes the registers and restarts from the written values', () => {
    const { clock, cmos, set } = setup();
    set(0x0b, 0x82); // SET, 24-hour, BCD
    set(0x00, 0x45);
    set(0x02, 0x30);
    set(0x04, 0x12);
    set(0x07, 0x15);
    set(0x08, 0x06);
    set(0x09, 0x99);
    set(0x32, 0x19);
    clock.advance(5e9);
    expect(cmos(0x00)).toBe(0x45); // frozen while SET
    expect(cmos(0x0a) & 0x80).toBe(0);
    set(0x0b, 0x02);
    clock.advance(2e9);
    expect(cmos(0x00)).toBe(0x47);
    expect(cmos(0x09)).toBe(0x99);
    expect(cmos(0x32)).toBe(0x19);
    expect(cmos(0x06)).toBe(0x03); // 1999-06-15 was a Tuesday
  });

  it('periodic interrupt at the register A rate; register C read clears IRQF and lowers the line', () => {
    const { clock, irq, cmos, set } = setup();
    set(0x0a, 0x26); // 1024 Hz
    set(0x0b, 0x42); // PIE
    let interrupts = 0;
    for (let t = 0; t < 10_000; t++) {
      clock.advance(100_000);
      clock.runDue();
      if (irq.level) {
        interrupts++;
        const c = cmos(0x0c);
        expect(c & 0xc0).toBe(0xc0);
        expect(irq.level).toBe(false);
      }
    }
    expect(interrupts).toBe(1024);
    expect(cmos(0x0c)).toBe(0); // read clears
    set(0x0a, 0x2f); // 2 Hz
    irq.edges = 0;
    for (let t = 0; t < 100; t++) {
      clock.advance(10_000_000);
      clock.runDue();
      if (irq.level) cmos(0x0c);
    }
    expect(irq.edges).toBe(2);
  });

  it('without a register C read, IRQ 8 stays up and no more edges (or timers) come', () => {
    const { clock, irq, cmos, set } = setup();
    set(0x0b, 0x42);
    clock.advance(10e6);
    clock.runDue();
    expect(irq.edges).toBe(1);
    expect(clock.nextDeadline()).toBe(Infinity);
    clock.advance(1e9);
    expect(irq.edges).toBe(1);
    expect(cmos(0x0c)).toBe(0xc0 | 0x10); // PF, and UF (an update passed) without UIE
  });

  it('update-ended interrupt once per second', () => {
    const { clock, irq, cmos, set } = setup();
    set(0x0a, 0x20); // periodic rate off, so PF stays clear
    set(0x0b, 0x12); // UIE
    let interrupts = 0;
    for (let t = 0; t < 500; t++) {
      clock.advance(10_000_000);
      clock.runDue();
      if (irq.level) {
        interrupts++;
        expect(cmos(0x0c)).toBe(0x90);
      }
    }
    expect(interrupts).toBe(5);
  });

  it('alarm interrupt when hours/minutes/seconds match, with don\'t-care bytes', () => {
    const { clock, irq, cmos, set } = setup('2000-01-01T10:00:00Z');
    set(0x01, 0x05); // seconds 05
    set(0x03, 0xc0); // any minute
    set(0x05, 0xff); // any hour
    set(0x0a, 0x20);
    set(0x0b, 0x22); // AIE
    clock.advance(4.5e9);
    clock.runDue();
    expect(irq.level).toBe(false);
    clock.advance(1e9);
    clock.runDue();
    expect(irq.level).toBe(true);
    expect(cmos(0x0c)).toBe(0xb0); // IRQF, AF, UF
    clock.advance(59e9);
    clock.runDue();
    expect(irq.level).toBe(false);
    clock.advance(1e9);
    clock.runDue();
    expect(irq.level).toBe(true); // 10:01:05
  });

  it('index register: bit 7 masks NMI, reads of 0x70 float, CMOS RAM is read/write', () => {
    const { rtc, cmos, set } = setup();
    rtc.write(0x70, 1, 0x80 | 0x40);
    expect(rtc.nmiMasked).toBe(true);
    rtc.write(0x71, 1, 0x5a);
    expect(cmos(0x40)).toBe(0x5a);
    expect(rtc.nmiMasked).toBe(false);
    expect(rtc.read(0x70, 1)).toBe(0xff);
    set(0x0d, 0);
    expect(cmos(0x0d)).toBe(0x80);
    set(0x7f, 1);
    expect(cmos(0x7f)).toBe(1);
  });

  it('fills the memory-size bytes like a BIOS for 128 MiB', () => {
    const { cmos } = setup('2000-01-01T00:00:00Z', 128 * 1024 * 1024);
    expect(cmos(0x15) | (cmos(0x16) << 8)).toBe(640);
    expect(cmos(0x17) | (cmos(0x18) << 8)).toBe(0xffff); // 127 MiB = 130048 KiB, capped
    expect(cmos(0x30) | (cmos(0x31) << 8)).toBe(0xffff);
    expect(cmos(0x34) | (cmos(0x35) << 8)).toBe(0x0700); // 112 MiB / 64 KiB
    expect(cmos(0x5b) | (cmos(0x5c) << 8) | (cmos(0x5d) << 16)).toBe(0);
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += cmos(i);
    expect((cmos(0x2e) << 8) | cmos(0x2f)).toBe(sum);
  });

  it('small memories: 32 MiB has 31744 KiB extended and 256 units above 16 MiB', () => {
    const { cmos } = setup('2000-01-01T00:00:00Z', 32 * 1024 * 1024);
    expect(cmos(0x17) | (cmos(0x18) << 8)).toBe(31 * 1024);
    expect(cmos(0x34) | (cmos(0x35) << 8)).toBe(256);
  });

  it('system reset clears interrupt enables and flags but keeps the time and CMOS RAM', () => {
    const { clock, irq, rtc, cmos, set } = setup();
    set(0x0b, 0x42);
    set(0x50, 0x77);
    clock.advance(3e9);
    clock.runDue();
    expect(irq.level).toBe(true);
    rtc.reset();
    expect(irq.level).toBe(false);
    expect(cmos(0x0b)).toBe(0x02);
    expect(cmos(0x50)).toBe(0x77);
    expect(cmos(0x00)).toBe(0x03);
  });

  it('the plugin claims 0x70/0x71, wires pic.8 and takes a fixed base from YAML', async () => {
    const { ctx, ports, clock, lines } = fakeContext({ memory: 64 * 1024 * 1024 });
    await mc146818Plugin.create(ctx, { base: '2031-07-04T08:09:10Z' });
    ports.write(0x70, 1, 0x09);
    expect(ports.read(0x71, 1)).toBe(0x31);
    ports.write(0x70, 1, 0x35);
    expect(ports.read(0x71, 1)).toBe(0x03); // 48 MiB above 16 MiB = 768 units = 0x300
    ports.write(0x70, 1, 0x0b);
    ports.write(0x71, 1, 0x12);
    clock.advance(1e9);
    clock.runDue();
    expect(lines.get('pic.8')!.level).toBe(true);
    await expect(async () => mc146818Plugin.create(fakeContext().ctx, { base: 'yesterday' })).rejects.toThrow(/is not a date; give utc/);
  });
});

describe('ISA byte cycles', () => {
  it('outw(0x70, reg | value << 8) selects the register and writes it; inw reads index and data', () => {
    const clock = new MachineClock('deterministic');
    const rtc = new Mc146818(clock, undefined, { epochMs: Date.parse('2000-01-01T05:06:07Z') });
    rtc.write(0x70, 2, 0x40 | (0xab << 8));
    rtc.write(0x70, 1, 0x40);
    expect(rtc.read(0x71, 1)).toBe(0xab);
    rtc.write(0x70, 1, 0x02);
    expect(rtc.read(0x70, 2)).toBe(0x06ff); // 0x70 floats, 0x71 = minutes
    expect(rtc.read(0x71, 2)).toBe(0xff06); // 0x72 is not the RTC's
  });
});
