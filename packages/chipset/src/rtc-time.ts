/** Register B bits that shape how the clock registers read. */
export interface RtcFormat {
  binary: boolean;
  hour24: boolean;
}

/** The clock registers as the chip stores them. */
export interface RtcFields {
  seconds: number;
  minutes: number;
  hours: number;
  dayOfWeek: number;
  day: number;
  month: number;
  year: number;
  century: number;
}

const encode = (v: number, f: RtcFormat) => (f.binary ? v : Math.floor(v / 10) * 16 + (v % 10));
const decode = (v: number, f: RtcFormat) => (f.binary ? v : (v >> 4) * 10 + (v & 15));

/** Unix seconds (UTC) to register contents. Day of week: 1 = Sunday. */
export function encodeTime(unixSeconds: number, f: RtcFormat): RtcFields {
  const d = new Date(unixSeconds * 1000);
  const h = d.getUTCHours();
  const year = d.getUTCFullYear();
  const hours = f.hour24 ? encode(h, f) : encode(h % 12 || 12, f) | (h >= 12 ? 0x80 : 0);
  return {
    seconds: encode(d.getUTCSeconds(), f),
    minutes: encode(d.getUTCMinutes(), f),
    hours,
    dayOfWeek: encode(d.getUTCDay() + 1, f),
    day: encode(d.getUTCDate(), f),
    month: encode(d.getUTCMonth() + 1, f),
    year: encode(year % 100, f),
    century: encode(Math.floor(year / 100), f),
  };
}

/** Register contents to Unix seconds, or undefined when they name no date. */
export function decodeTime(r: RtcFields, f: RtcFormat): number | undefined {
  let h: number;
  if (f.hour24) h = decode(r.hours, f);
  else h = (decode(r.hours & 0x7f, f) % 12) + (r.hours & 0x80 ? 12 : 0);
  const year = decode(r.century, f) * 100 + decode(r.year, f);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const d = new Date(0);
  d.setUTCFullYear(year, decode(r.month, f) - 1, decode(r.day, f));
  d.setUTCHours(h, decode(r.minutes, f), decode(r.seconds, f), 0);
  const ms = d.getTime();
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}
