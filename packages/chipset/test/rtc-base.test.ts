import { MachineClock } from '@unimachine/core';
import { describe, expect, it } from 'vitest';
import { isRtcBase, mc146818Plugin, parseRtcDateTime, rtcEpochMs } from '../src/index.js';
import { fakeContext } from './fakes.js';

/** Reads the RTC's date and time registers (BCD, 24-hour) as an ISO string. */
function readRtc(ports: { read(p: number, s: 1): number; write(p: number, s: 1, v: number): void }): string {
  const reg = (r: number) => {
    ports.write(0x70, 1, r);
    const v = ports.read(0x71, 1);
    return (v >> 4) * 10 + (v & 15);
  };
  const two = (n: number) => String(n).padStart(2, '0');
  return `${reg(0x32)}${two(reg(0x09))}-${two(reg(0x08))}-${two(reg(0x07))}T${two(reg(0x04))}:${two(reg(0x02))}:${two(reg(0x00))}Z`;
}

describe('RTC base (QEMU -rtc base=)', () => {
  it('defaults to the host clock in UTC in deterministic mode too', async () => {
    const { ctx, ports } = fakeContext();
    const before = Math.floor(Date.now() / 1000) * 1000;
    await mc146818Plugin.create(ctx, {});
    const after = Date.now();
    const shown = Date.parse(readRtc(ports));
    expect(shown).toBeGreaterThanOrEqual(before);
    expect(shown).toBeLessThanOrEqual(after);
  });

  it('a fixed date-time starts every machine at the same second, in either clock mode', async () => {
    for (const mode of ['deterministic', 'realtime'] as const) {
      const { ctx, ports } = fakeContext({ clock: new MachineClock(mode) });
      await mc146818Plugin.create(ctx, { base: '2026-01-01T00:00:00Z' });
      expect(readRtc(ports)).toBe('2026-01-01T00:00:00Z');
    }
  });

  it('utc subtracts the machine time already elapsed, so the guest reads the host time now', () => {
    const clock = new MachineClock('deterministic');
    clock.advance(5e9);
    expect(rtcEpochMs(clock, 'utc', Date.parse('2030-05-05T00:00:05Z'))).toBe(Date.parse('2030-05-05T00:00:00Z'));
  });

  it('localtime adds the host zone offset (TZ)', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata'; // +05:30 all year
    try {
      const host = Date.parse('2030-05-05T00:00:00Z');
      expect(rtcEpochMs(new MachineClock('deterministic'), 'localtime', host)).toBe(Date.parse('2030-05-05T05:30:00Z'));
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('reads ISO 8601 dates: no zone is UTC (as QEMU), offsets are applied, impossible dates are refused', () => {
    expect(parseRtcDateTime('2026-01-01')).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(parseRtcDateTime('2026-01-01T12:34')).toBe(Date.parse('2026-01-01T12:34:00Z'));
    expect(parseRtcDateTime('2026-01-01T12:34:56.789')).toBe(Date.parse('2026-01-01T12:34:56.789Z'));
    expect(parseRtcDateTime('2026-01-01T05:30:00+05:30')).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(parseRtcDateTime('2025-12-31T19:00:00-05:00')).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(parseRtcDateTime('0099-03-04T00:00:00Z')).toBe(Date.parse('0099-03-04T00:00:00Z')); // not 1999
    for (const bad of ['2026-02-30', '2026-13-01', '2026-01-01T24:00:00Z', '2026-1-1', 'yesterday', '2026-01-01T00:00:00+5']) {
      expect(parseRtcDateTime(bad), bad).toBeUndefined();
      expect(isRtcBase(bad), bad).toBe(false);
    }
    expect(isRtcBase('utc')).toBe(true);
    expect(isRtcBase('localtime')).toBe(true);
    expect(() => rtcEpochMs(new MachineClock('deterministic'), '2026-02-30')).toThrow('mc146818: base "2026-02-30" is not a date; give utc');
  });
});
