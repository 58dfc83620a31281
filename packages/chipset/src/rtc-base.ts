import { Type, type Clock } from '@unimachine/core';

/**
 * Where the RTC's wall clock starts, in QEMU's `-rtc base=` vocabulary: `utc` (the host's current
 * UTC time, the default), `localtime` (the host's current local time), or a fixed ISO 8601
 * date-time such as `2026-01-01T00:00:00Z` (the same start on every run, for byte-identical
 * consoles). A date-time without a zone is UTC, as in QEMU.
 */
export type RtcBase = string;

export const RTC_BASE_DEFAULT = 'utc';

const DATE_TIME =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,9}))?)?)?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?$/;

/** The same syntax as a JSON Schema pattern (ajv), so YAML mistakes are caught with their position. */
export const RTC_BASE_PATTERN = `^(utc|localtime|${DATE_TIME.source.slice(1, -1)})$`;

export const RTC_BASE_HINT = 'give utc (the host clock), localtime, or a date-time such as 2026-01-01T00:00:00Z';

/** The schema of a `base` property, shared by the device and the machine-level `rtc:` key. */
export const RtcBaseSchema = (description: string) => Type.String({ pattern: RTC_BASE_PATTERN, description });

/** Unix milliseconds of a fixed date-time, or undefined when `text` names no real date (2026-02-30). */
export function parseRtcDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0)) as number[];
  const ms = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
  const d = new Date(0);
  d.setUTCFullYear(year!, month! - 1, day!); // unlike Date.UTC, keeps years 0-99 as written
  d.setUTCHours(hour!, minute!, second!, ms);
  // Date rolls 2026-02-30 over into March: refuse any field that did not survive as written.
  const exact =
    d.getUTCFullYear() === year && d.getUTCMonth() === month! - 1 && d.getUTCDate() === day &&
    d.getUTCHours() === hour && d.getUTCMinutes() === minute && d.getUTCSeconds() === second;
  if (!exact) return undefined;
  const zone = m[8];
  if (!zone || zone === 'Z') return d.getTime();
  const sign = zone[0] === '-' ? -1 : 1;
  const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
  return d.getTime() - sign * offsetMinutes * 60_000;
}

/** True when `text` is a base the RTC accepts. */
export function isRtcBase(text: string): boolean {
  return text === 'utc' || text === 'localtime' || parseRtcDateTime(text) !== undefined;
}

/**
 * Wall-clock time (Unix ms) at machine time 0, in either clock mode: the host's clock for `utc`
 * and `localtime` (minus the machine time already elapsed, so the guest reads "now"), the given
 * date-time otherwise.
 */
export function rtcEpochMs(clock: Clock, base: RtcBase = RTC_BASE_DEFAULT, hostNowMs = Date.now()): number {
  if (base === 'utc' || base === 'localtime') {
    const atZero = hostNowMs - clock.now() / 1e6;
    return base === 'localtime' ? atZero - new Date(hostNowMs).getTimezoneOffset() * 60_000 : atZero;
  }
  const ms = parseRtcDateTime(base);
  if (ms === undefined) throw new Error(`mc146818: base "${base}" is not a date; ${RTC_BASE_HINT}`);
  return ms;
}
