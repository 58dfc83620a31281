export type ClockMode = 'deterministic' | 'realtime';

export interface Timer {
  readonly deadline: number;
  /** Ordering among timers due at the same time (MachineClock): lower fires first. Saved by snapshots. */
  readonly seq?: number;
  cancel(): void;
}

/** Virtual time in nanoseconds since the machine started. TSC, PIT and RTC all read one Clock. */
export interface Clock {
  readonly mode: ClockMode;
  now(): number;
  /**
   * Run `callback` once when virtual time reaches `atNs` (from the run loop, between CPU slices).
   * `seq` is for re-arming a timer from a snapshot (see rearmTimer): the Timer.seq it had, so that
   * timers due at the same time fire in their original order.
   */
  schedule(atNs: number, callback: () => void, seq?: number): Timer;
}

/** What MachineClock.snapshot() saves. Pending timers are not in it: their owners save and re-arm them. */
export interface ClockState {
  version: 1;
  mode: ClockMode;
  now: number;
  /** The next sequence number a new timer gets. */
  seq: number;
}

/**
 * MachineClock's cells: float64 slots that compiled guest code reads and writes too (a port fast
 * path charges an access and reads the time without calling back into JavaScript). In deterministic
 * mode now() = (OFFSET + (instructions retired - COUNTER_BASE) * NS_PER_INSTRUCTION); NEXT_DEADLINE is
 * the earliest pending timer's deadline, or Infinity.
 */
export const CLOCK_CELLS = { OFFSET: 0, COUNTER_BASE: 1, NS_PER_INSTRUCTION: 2, NEXT_DEADLINE: 3, COUNT: 4 } as const;

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
  /** CLOCK_CELLS; their own buffer until placeCells moves them where compiled code can reach them. */
  private cells: Float64Array = new Float64Array(CLOCK_CELLS.COUNT);
  /** The counter attached by countInstructions (time counts from its value then, COUNTER_BASE). */
  private counter: () => number = () => 0;
  /** The mode as a boolean: the mode string may come from a YAML file, and comparing such a string is slower than a field test. */
  private readonly deterministic: boolean;
  // performance.now() rather than hrtime.bigint(): no BigInt on every TSC/PIT read.
  private readonly hostStartMs = performance.now();
  private timers: PendingTimer[] = [];
  private seq = 0;
  /** Realtime: added to host time (a restored snapshot continues from its own time). */
  private realtimeOffsetNs = 0;
  /** Realtime: the host time at which a debugger froze the clock (now() stands still until thawed). */
  private frozenAtMs: number | undefined;

  readonly mode: ClockMode;

  constructor(mode: ClockMode = 'deterministic') {
    this.deterministic = mode !== 'realtime';
    this.mode = this.deterministic ? 'deterministic' : 'realtime';
    this.cells[CLOCK_CELLS.NEXT_DEADLINE] = Infinity;
  }

  /** Keep the cells in `view` (CLOCK_CELLS.COUNT float64 slots, e.g. in the machine's memory) from now on. */
  placeCells(view: Float64Array): void {
    if (view.length < CLOCK_CELLS.COUNT) throw new RangeError(`clock: ${CLOCK_CELLS.COUNT} cells are needed, got ${view.length}`);
    view.set(this.cells.subarray(0, CLOCK_CELLS.COUNT));
    this.cells = view;
  }

  private get offsetNs(): number {
    return this.cells[CLOCK_CELLS.OFFSET];
  }

  private set offsetNs(ns: number) {
    this.cells[CLOCK_CELLS.OFFSET] = ns;
  }

  /** Deterministic mode: each instruction retired (as reported by `counter`) costs `nsPerInstruction`. */
  countInstructions(counter: () => number, nsPerInstruction: number): void {
    this.offsetNs = this.now();
    this.counter = counter;
    this.cells[CLOCK_CELLS.COUNTER_BASE] = counter();
    this.cells[CLOCK_CELLS.NS_PER_INSTRUCTION] = nsPerInstruction;
  }

  now(): number {
    if (!this.deterministic) return Math.round(((this.frozenAtMs ?? performance.now()) - this.hostStartMs) * 1e6) + this.realtimeOffsetNs;
    const c = this.cells;
    return c[CLOCK_CELLS.OFFSET] + (this.counter() - c[CLOCK_CELLS.COUNTER_BASE]) * c[CLOCK_CELLS.NS_PER_INSTRUCTION];
  }

  /**
   * Realtime: stop time while a debugger holds the machine, and go on from the same time after
   * (deterministic time stands still by itself when no instruction runs).
   */
  freeze(frozen: boolean): void {
    if (this.deterministic) return;
    if (frozen) this.frozenAtMs ??= performance.now();
    else if (this.frozenAtMs !== undefined) {
      this.realtimeOffsetNs -= Math.round((performance.now() - this.frozenAtMs) * 1e6);
      this.frozenAtMs = undefined;
    }
  }

  /**
   * Deterministic mode: move time forward by `ns` (no-op in realtime mode). Returns whether a
   * pending timer is due now, so a caller charging time for an I/O access can end the CPU's
   * slice in the same call.
   */
  advance(ns: number): boolean {
    if (this.deterministic && ns > 0) this.cells[CLOCK_CELLS.OFFSET] += ns;
    return this.timers.length !== 0 && this.now() >= this.timers[0].deadline;
  }

  /** Deterministic mode: jump forward to `atNs` if it lies in the future. */
  advanceTo(atNs: number): void {
    const now = this.now();
    if (atNs > now) this.advance(atNs - now);
  }

  schedule(atNs: number, callback: () => void, seq?: number): Timer {
    const t: PendingTimer = {
      deadline: atNs,
      callback,
      seq: seq ?? this.seq++,
      cancelled: false,
      cancel: () => {
        t.cancelled = true;
        const i = this.timers.indexOf(t);
        if (i >= 0) this.timers.splice(i, 1);
        if (i === 0) this.timersChanged();
      },
    };
    // Keep timers sorted by deadline, then by sequence number (scheduling order): deterministic.
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1].deadline > atNs || (this.timers[i - 1].deadline === atNs && this.timers[i - 1].seq > t.seq))) i--;
    this.timers.splice(i, 0, t);
    if (i === 0) this.timersChanged();
    return t;
  }

  /** The first timer changed: publish its deadline. */
  private timersChanged(): void {
    this.cells[CLOCK_CELLS.NEXT_DEADLINE] = this.nextDeadline();
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
      this.timersChanged();
      if (t.cancelled) continue;
      t.cancelled = true;
      fired++;
      t.callback();
    }
    return fired;
  }

  /** Time and the timer sequence counter (timers themselves are re-armed by their owners). */
  snapshot(): ClockState {
    return { version: 1, mode: this.mode, now: this.now(), seq: this.seq };
  }

  /**
   * Continue from a snapshot: now() reads the saved time (deterministic mode: given the instruction
   * counter as it is now, so restore the CPU first) and every pending timer is dropped: each owner
   * re-arms its own from its restored state (closures cannot be saved).
   */
  restore(state: ClockState): void {
    if (state.mode !== this.mode) throw new Error(`clock: the snapshot's clock is ${state.mode}, this machine's is ${this.mode}`);
    for (const t of this.timers) t.cancelled = true;
    this.timers = [];
    this.timersChanged();
    this.seq = state.seq;
    if (!this.deterministic) {
      this.realtimeOffsetNs = 0;
      this.realtimeOffsetNs = state.now - this.now();
    } else {
      this.offsetNs = 0;
      this.offsetNs = state.now - this.now();
    }
  }

  /** How many timers are pending (tests and diagnostics). */
  get pendingTimers(): number {
    return this.timers.length;
  }
}

const NS_PER_S = 1_000_000_000;

/**
 * Whole ticks of a `hz` clock elapsed at `ns` virtual nanoseconds (PIT, PM timer, ...). Split into
 * seconds and remainder so the products stay exact in a double for any machine lifetime (no BigInt).
 */
export function ticksAt(ns: number, hz: number): number {
  const t = Math.floor(ns);
  const seconds = Math.floor(t / NS_PER_S);
  const rest = t - seconds * NS_PER_S;
  return seconds * hz + Math.floor((rest * hz) / NS_PER_S);
}

/** The first virtual nanosecond at which `ticks` ticks of a `hz` clock have elapsed (inverse of ticksAt). */
export function ticksToNsAt(ticks: number, hz: number): number {
  const seconds = Math.floor(ticks / hz);
  const rest = ticks - seconds * hz;
  return seconds * NS_PER_S + Math.ceil((rest * NS_PER_S) / hz);
}
