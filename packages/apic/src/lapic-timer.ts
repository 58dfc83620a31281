import { rearmTimer, saveTimer, type Clock, type SavedTimer, type StateReader, type Timer } from '@unimachine/core';
import { LvtBit, TimerMode } from './registers.js';

/**
 * The APIC timer's input clock: one tick per virtual nanosecond before the divider, as in QEMU
 * (a 1 GHz bus clock), so guests that calibrate it against the PIT measure what they would on QEMU.
 */
export const APIC_TIMER_HZ = 1_000_000_000;
const NS_PER_S = 1_000_000_000;
const TWO32 = 4294967296;

/** What the timer needs from its local APIC. */
export interface TimerOwner {
  /** The LVT timer entry now. */
  lvtTimer(): number;
  /** The count reached zero (or the TSC deadline passed): deliver through the LVT timer entry. */
  expired(): void;
  /** The time-stamp counter now, and its rate. */
  tsc(): number;
  readonly tscHz: number;
}

/** The saved form of the timer (see LapicTimer.snapshot()). */
export interface LapicTimerState {
  initial: number;
  divideConfig: number;
  loadTime: number;
  deadlineLo: number;
  deadlineHi: number;
  /** The scheduled expiry, re-armed as it was (a restore never recomputes it, so it never fires one early). */
  pending: SavedTimer | null;
}

/** Check a saved timer (fields and ranges). */
export function readLapicTimerState(r: StateReader): LapicTimerState {
  return {
    initial: r.uint('initial', 32), divideConfig: r.uint('divideConfig', 4), loadTime: r.num('loadTime'),
    deadlineLo: r.uint('deadlineLo', 32), deadlineHi: r.uint('deadlineHi', 32), pending: r.timer('pending'),
  };
}

/**
 * The local APIC timer: one-shot, periodic and TSC-deadline modes. It does not tick: the current
 * count is computed from the clock when read, and one clock timer is scheduled for the next
 * expiry while the LVT entry is unmasked (a masked one-shot or periodic timer keeps counting
 * but interrupts nobody, so it schedules nothing).
 *
 * Counting follows the SDM: a count N reads N, N-1, ..., 1 and reaches 0 after N ticks, when the
 * interrupt is generated; periodic mode reloads N at that moment (period N ticks; QEMU uses N+1).
 */
export class LapicTimer {
  /** Initial count register. */
  initial = 0;
  /** Divide configuration register as written (bits 0, 1 and 3). */
  divideConfig = 0;
  /** log2 of the divisor: divide configuration 0b1011 is 1, 0b0000 is 2, ..., 0b1010 is 128. */
  private shift = 1;
  /** Clock time at which the current count was loaded with `initial`. */
  private loadTime = 0;
  /** TSC-deadline MSR as written (0 = disarmed), kept as two halves for an exact read-back. */
  private deadlineLo = 0;
  private deadlineHi = 0;
  private timer: Timer | undefined;
  /** Clock time the scheduled timer fires at. */
  private expiry = -1;

  constructor(private readonly clock: Clock, private readonly owner: TimerOwner) {}

  reset(): void {
    this.cancel();
    this.initial = 0;
    this.divideConfig = 0;
    this.shift = 1;
    this.loadTime = 0;
    this.deadlineLo = this.deadlineHi = 0;
  }

  /** Current mode from the LVT entry (the reserved mode 3 counts as one-shot). */
  mode(): number {
    const m = (this.owner.lvtTimer() >>> LvtBit.TIMER_MODE_SHIFT) & 3;
    return m === 3 ? TimerMode.ONE_SHOT : m;
  }

  get divisor(): number {
    return 1 << this.shift;
  }

  /** Ticks counted since the count was loaded. */
  private elapsedTicks(now: number): number {
    return Math.floor((now - this.loadTime) / this.divisor);
  }

  /** Current count register. */
  current(now = this.clock.now()): number {
    if (this.mode() === TimerMode.TSC_DEADLINE || this.initial === 0) return 0;
    const d = this.elapsedTicks(now);
    if (this.mode() === TimerMode.PERIODIC) return this.initial - (d % this.initial);
    return d >= this.initial ? 0 : this.initial - d;
  }

  /** A write to the initial count register (ignored in TSC-deadline mode). */
  writeInitial(value: number): void {
    if (this.mode() === TimerMode.TSC_DEADLINE) return;
    this.initial = value >>> 0;
    this.loadTime = this.clock.now();
    this.reschedule();
  }

  /** A write to the divide configuration register; a running count carries on at the new rate. */
  writeDivide(value: number): void {
    const now = this.clock.now();
    const ticks = this.elapsedTicks(now);
    this.divideConfig = value & 0xb;
    const v = (this.divideConfig & 3) | ((this.divideConfig >> 1) & 4);
    this.shift = (v + 1) & 7;
    this.loadTime = now - ticks * this.divisor;
    this.reschedule();
  }

  /** IA32_TSC_DEADLINE as [lo, hi]: zero unless armed in TSC-deadline mode. */
  readDeadline(): [number, number] {
    if (this.mode() !== TimerMode.TSC_DEADLINE) return [0, 0];
    return [this.deadlineLo, this.deadlineHi];
  }

  /** A write to IA32_TSC_DEADLINE: arms (or with 0 disarms) the timer; ignored in other modes. */
  writeDeadline(lo: number, hi: number): void {
    if (this.mode() !== TimerMode.TSC_DEADLINE) return;
    this.deadlineLo = lo >>> 0;
    this.deadlineHi = hi >>> 0;
    this.reschedule();
  }

  private get deadline(): number {
    return this.deadlineHi * TWO32 + this.deadlineLo;
  }

  /** The LVT timer entry changed: a switch into or out of TSC-deadline mode disarms the timer (SDM 11.5.4.1). */
  lvtChanged(oldLvt: number): void {
    const wasDeadline = ((oldLvt >>> LvtBit.TIMER_MODE_SHIFT) & 3) === TimerMode.TSC_DEADLINE;
    if (wasDeadline !== (this.mode() === TimerMode.TSC_DEADLINE)) {
      this.initial = 0;
      this.deadlineLo = this.deadlineHi = 0;
    }
    this.reschedule();
  }

  /** Recompute the next expiry from the registers and the clock. */
  reschedule(): void {
    this.cancel();
    const now = this.clock.now();
    const masked = (this.owner.lvtTimer() & LvtBit.MASKED) !== 0;
    switch (this.mode()) {
      case TimerMode.TSC_DEADLINE: {
        // Armed even when masked: expiry still clears the MSR.
        if (this.deadline === 0) return;
        const remaining = this.deadline - this.owner.tsc();
        if (remaining <= 0) {
          this.expire();
          return;
        }
        this.arm(now + Math.max(1, Math.ceil((remaining * NS_PER_S) / this.owner.tscHz)));
        return;
      }
      case TimerMode.PERIODIC: {
        if (masked || this.initial === 0) return;
        const period = this.initial * this.divisor;
        const k = Math.floor(this.elapsedTicks(now) / this.initial) + 1;
        this.arm(this.loadTime + k * period);
        return;
      }
      default: {
        if (masked || this.initial === 0 || this.elapsedTicks(now) >= this.initial) return;
        this.arm(this.loadTime + this.initial * this.divisor);
      }
    }
  }

  private arm(at: number): void {
    this.expiry = at;
    this.timer = this.clock.schedule(at, () => this.fired());
  }

  private cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.expiry = -1;
  }

  private fired(): void {
    const at = this.expiry;
    this.timer = undefined;
    this.expiry = -1;
    switch (this.mode()) {
      case TimerMode.TSC_DEADLINE:
        // The TSC may have been rewritten since arming: check the deadline really passed.
        if (this.deadline !== 0 && this.owner.tsc() < this.deadline) this.reschedule();
        else this.expire();
        return;
      case TimerMode.PERIODIC:
        this.owner.expired();
        // The expiry may have changed the registers (a handler does not run here, but be safe).
        if (this.timer === undefined && this.initial !== 0 && this.mode() === TimerMode.PERIODIC) {
          if ((this.owner.lvtTimer() & LvtBit.MASKED) === 0) this.arm(at + this.initial * this.divisor);
        }
        return;
      default:
        this.owner.expired();
    }
  }

  /** TSC deadline reached: the MSR reads 0 again and the interrupt is delivered (if unmasked). */
  private expire(): void {
    this.deadlineLo = this.deadlineHi = 0;
    this.owner.expired();
  }

  snapshot(): LapicTimerState {
    return {
      initial: this.initial,
      divideConfig: this.divideConfig,
      loadTime: this.loadTime,
      deadlineLo: this.deadlineLo,
      deadlineHi: this.deadlineHi,
      pending: saveTimer(this.timer),
    };
  }

  restore(s: LapicTimerState): void {
    this.initial = s.initial >>> 0;
    this.divideConfig = s.divideConfig & 0xb;
    const v = (this.divideConfig & 3) | ((this.divideConfig >> 1) & 4);
    this.shift = (v + 1) & 7;
    this.loadTime = s.loadTime;
    this.deadlineLo = s.deadlineLo >>> 0;
    this.deadlineHi = s.deadlineHi >>> 0;
    this.cancel();
    this.timer = rearmTimer(this.clock, s.pending, () => this.fired());
    this.expiry = s.pending ? s.pending.at : -1;
  }
}
