import { ticksAt, ticksToNsAt } from '@unimachine/core';
import { PM_TIMER_HZ } from './registers.js';

/** Whole PM timer ticks at `ns` virtual nanoseconds. */
export function pmTicksAt(ns: number): number {
  return ticksAt(ns, PM_TIMER_HZ);
}

/** The first virtual nanosecond at which `ticks` ticks have elapsed (inverse of pmTicksAt). */
export function pmTicksToNs(ticks: number): number {
  return ticksToNsAt(ticks, PM_TIMER_HZ);
}
