import type { Clock, Timer } from '@unimachine/core';

/**
 * A realtime Clock that fires its timers from Node's event loop. Outside a machine nobody runs a
 * MachineClock's due timers, so standalone hub ports use this one: a frame scheduled for
 * `sentAt + HUB_LATENCY_NS` arrives about 10 µs (one event-loop turn) later.
 */
export class HostTimerClock implements Clock {
  readonly mode = 'realtime' as const;
  private readonly startMs = performance.now();

  now(): number {
    return Math.round((performance.now() - this.startMs) * 1e6);
  }

  schedule(atNs: number, callback: () => void): Timer {
    const handle = setTimeout(callback, Math.max(0, (atNs - this.now()) / 1e6));
    return { deadline: atNs, cancel: () => clearTimeout(handle) };
  }
}
