import { ticksAt, ticksToNsAt } from '@unimachine/core';

/** The PIT's input clock: 14.31818 MHz / 12, as on every PC since the 5150. */
export const PIT_HZ = 1_193_182;

/** Whole PIT input ticks elapsed at `ns` virtual nanoseconds. */
export function nsToTicks(ns: number): number {
  return ticksAt(ns, PIT_HZ);
}

/** The first virtual nanosecond at which tick `ticks` has happened (inverse of nsToTicks). */
export function ticksToNs(ticks: number): number {
  return ticksToNsAt(ticks, PIT_HZ);
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
