/** The PIT's input clock: 14.31818 MHz / 12, as on every PC since the 5150. */
export const PIT_HZ = 1_193_182;
const NS_PER_S = 1_000_000_000;

/**
 * Whole PIT input ticks elapsed at `ns` virtual nanoseconds. Split into seconds and remainder
 * so the products stay exact in a double for any machine lifetime (no BigInt).
 */
export function nsToTicks(ns: number): number {
  const t = Math.floor(ns);
  const seconds = Math.floor(t / NS_PER_S);
  const rest = t - seconds * NS_PER_S;
  return seconds * PIT_HZ + Math.floor((rest * PIT_HZ) / NS_PER_S);
}

/** The first virtual nanosecond at which tick `ticks` has happened (inverse of nsToTicks). */
export function ticksToNs(ticks: number): number {
  const seconds = Math.floor(ticks / PIT_HZ);
  const rest = ticks - seconds * PIT_HZ;
  return seconds * NS_PER_S + Math.ceil((rest * NS_PER_S) / PIT_HZ);
}

/** 16-bit binary value to four BCD digits (value below 10000). */
export function toBcd(value: number): number {
  return (
    (Math.floor(value / 1000) % 10) * 0x1000 +
    (Math.floor(value / 100) % 10) * 0x100 +
    (Math.floor(value / 10) % 10) * 0x10 +
    (value % 10)
  );
}

/** Four BCD digits to binary. Digits above 9 are taken at face value, as the counter would. */
export function fromBcd(bcd: number): number {
  return ((bcd >> 12) & 15) * 1000 + ((bcd >> 8) & 15) * 100 + ((bcd >> 4) & 15) * 10 + (bcd & 15);
}
