export type ClockMode = 'deterministic' | 'realtime';

export interface Timer {
  readonly deadline: number;
  cancel(): void;
}

/** Virtual time in nanoseconds since the machine started. TSC, PIT and RTC all read one Clock. */
export interface Clock {
  readonly mode: ClockMode;
  now(): number;
  /** Run `callback` once when virtual time reaches `atNs` (from the run loop, between CPU slices). */
  schedule(atNs: number, callback: () => void): Timer;
}

interface PendingTimer extends Timer {
  callback: () => void;
  seq: number;
  cancelled: boolean;
}

/**
 * The machine's clock.
 *
 * deterministic: time is a pure function of guest activity: retired instructions (through the
 * counter the machine attaches) plus explicit advances (I/O costs, idle jumps to the next
 * deadline). Two runs of the same guest see the same times.
 * realtime: time follows the host's monotonic clock; advances are ignored.
 */
export class MachineClock implements Clock {
  private offsetNs = 0;
  private counter: () => number = () => 0;
  private nsPerInstruction = 0;
  // performance.now() rather than hrtime.bigint(): no BigInt on every TSC/PIT read.
  private readonly hostStartMs = performance.now();
  private timers: PendingTimer[] = [];
  private seq = 0;

  constructor(readonly mode: ClockMode = 'deterministic') {}

  /** Deterministic mode: each instruction retired (as reported by `counter`) costs `nsPerInstruction`. */
  countInstructions(counter: () => number, nsPerInstruction: number): void {
    this.offsetNs = this.now();
    const base = counter();
    this.counter = () => counter() - base;
    this.nsPerInstruction = nsPerInstruction;
  }

  now(): number {
    if (this.mode === 'realtime') return Math.round((performance.now() - this.hostStartMs) * 1e6);
    return this.offsetNs + this.counter() * this.nsPerInstruction;
  }

  /** Deterministic mode: move time forward by `ns` (no-op in realtime mode). */
  advance(ns: number): void {
    if (this.mode === 'deterministic' && ns > 0) this.offsetNs += ns;
  }

  /** Deterministic mode: jump forward to `atNs` if it lies in the future. */
  advanceTo(atNs: number): void {
    const now = this.now();
    if (atNs > now) this.advance(atNs - now);
  }

  schedule(atNs: number, callback: () => void): Timer {
    const t: PendingTimer = {
      deadline: atNs,
      callback,
      seq: this.seq++,
      cancelled: false,
      cancel: () => {
        t.cancelled = true;
        const i = this.timers.indexOf(t);
        if (i >= 0) this.timers.splice(i, 1);
      },
    };
    // Keep timers sorted by deadline, then by scheduling order (stable, deterministic).
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1].deadline > atNs) i--;
    this.timers.splice(i, 0, t);
    return t;
  }

  /** The earliest pending deadline, or Infinity. */
  nextDeadline(): number {
    return this.timers.length ? this.timers[0].deadline : Infinity;
  }

  /** Fire every timer whose deadline has passed; returns how many fired. */
  runDue(): number {
    let fired = 0;
    const now = this.now();
    while (this.timers.length && this.timers[0].deadline <= now) {
      const t = this.timers.shift()!;
      if (t.cancelled) continue;
      t.cancelled = true;
      fired++;
      t.callback();
    }
    return fired;
  }
}
