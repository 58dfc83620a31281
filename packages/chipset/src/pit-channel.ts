import type { StateReader } from '@unimachine/core';
import { fromBcd, toBcd } from './pit-time.js';

/** Access mode field of the control word (RW1 RW0). */
const enum Access {
  Latch = 0,
  Low = 1,
  High = 2,
  LowHigh = 3,
}

/** Fields saved by snapshot(): the whole state of a counter, as plain JSON. */
const STATE_KEYS = [
  'mode', 'modeBits', 'bcd', 'access', 'initial', 'active', 'switchTick', 'loaded', 'triggered', 'counting', 'loadTick',
  'frozenElapsed', 'heldCount', 'gate', 'nullCount', 'writeHighNext', 'pendingLow', 'readHighNext',
  'latched', 'latchValue', 'latchHighNext', 'statusLatched', 'statusValue',
] as const;

export type PitChannelState = Record<(typeof STATE_KEYS)[number], number | boolean>;

/**
 * A counter's cells, shared with the PIT's WebAssembly fast path (pit-fast-path.ts): int32 slots,
 * then the load tick as a float64. The latch and read flip-flops live only here; ACCESS, FAST_MODE,
 * PERIOD and LOAD_TICK are copies the JS side publishes after every change (publish()).
 */
export const CELL = {
  LATCHED: 0, LATCH_VALUE: 1, LATCH_HIGH_NEXT: 2, STATUS_LATCHED: 3, READ_HIGH_NEXT: 4, ACCESS: 5,
  /** The mode, when the count is a plain function of the time since LOAD_TICK (binary, counting, no count change pending); else -1. */
  FAST_MODE: 6,
  /** N in clocks (1..65536). */
  PERIOD: 7,
  /** Float64 slot (byte offset 32). */
  LOAD_TICK_F64: 4,
  BYTES: 40,
} as const;

/** Cells of their own for `counters` counters, for a PIT that is not in a machine's memory. */
export function ownCells(counters = 1): ArrayBuffer {
  return new ArrayBuffer(counters * CELL.BYTES);
}

/** Fields that are true/false; every other one is an integer. */
const BOOLEAN_KEYS = new Set<string>([
  'bcd', 'loaded', 'triggered', 'counting', 'gate', 'nullCount', 'writeHighNext', 'readHighNext', 'latched', 'latchHighNext', 'statusLatched',
]);
/** Integer ranges of the fields that index or select something. */
const INT_RANGES: Partial<Record<(typeof STATE_KEYS)[number], [number, number]>> = {
  mode: [0, 5], modeBits: [0, 7], access: [0, 3], initial: [0, 0xffff], active: [0, 0xffff], switchTick: [-1, Number.MAX_SAFE_INTEGER],
  heldCount: [0, 0xffff], pendingLow: [0, 0xff], latchValue: [0, 0xffff], statusValue: [0, 0xff],
};

/** Check one saved counter (each field's type and range). */
export function restorePitChannel(r: StateReader): PitChannelState {
  const state = {} as PitChannelState;
  for (const key of STATE_KEYS) {
    if (BOOLEAN_KEYS.has(key)) state[key] = r.bool(key);
    else state[key] = r.int(key, ...(INT_RANGES[key] ?? [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]));
  }
  return state;
}

/**
 * One 8254 counter. It does not tick: the count and the OUT pin at any moment are computed from
 * the number of input clocks since the count was loaded (`tick - loadTick`), so reading it is
 * exact at any virtual time and costs nothing while nobody looks.
 */
export class PitChannel {
  /** Effective mode 0..5 (6 and 7 alias 2 and 3). */
  mode = 0;
  /** Mode bits as written, reported by the read-back status. */
  private modeBits = 0;
  bcd = false;
  access: number = Access.LowHigh;
  /** The count register as last written (0 means the maximum). */
  initial = 0;
  /** The initial count the counting element is running with (the count register moves here on load). */
  private active = 0;
  /** Modes 2/3: tick at which a count written mid-period takes over (end of the period), or -1. */
  private switchTick = -1;
  /** A count has been written since the last control word. */
  loaded = false;
  /** Modes 1 and 5: a gate rising edge started the count. */
  private triggered = false;
  /** The clock is counting (not suspended by the gate). */
  private counting = false;
  private loadTick = 0;
  /** Clocks counted when counting stopped (gate low). */
  private frozenElapsed = 0;
  /** The count shown before any count is loaded after a control word. */
  private heldCount = 0;
  gate: boolean;
  private nullCount = true;
  private writeHighNext = false;
  private pendingLow = 0;
  private statusValue = 0;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;

  /**
   * @param ticksNow the current PIT input clock count
   * @param changed called when the counting state changes (the owner reschedules interrupts)
   * @param cells where the counter keeps its CELL slots: `buffer` at `offset` (CELL.BYTES, 8-aligned)
   */
  constructor(
    private readonly ticksNow: () => number,
    private readonly initialGate: boolean,
    private readonly changed: () => void = () => {},
    cells: { buffer: ArrayBufferLike; offset: number } = { buffer: ownCells(), offset: 0 },
  ) {
    this.i32 = new Int32Array(cells.buffer, cells.offset, CELL.BYTES / 4);
    this.f64 = new Float64Array(cells.buffer, cells.offset, CELL.BYTES / 8);
    this.gate = initialGate;
    this.publish();
  }

  // The flip-flops the fast path moves too: kept in the cells.
  private get latched(): boolean { return this.i32[CELL.LATCHED] !== 0; }
  private set latched(v: boolean) { this.i32[CELL.LATCHED] = v ? 1 : 0; }
  private get latchValue(): number { return this.i32[CELL.LATCH_VALUE]; }
  private set latchValue(v: number) { this.i32[CELL.LATCH_VALUE] = v; }
  private get latchHighNext(): boolean { return this.i32[CELL.LATCH_HIGH_NEXT] !== 0; }
  private set latchHighNext(v: boolean) { this.i32[CELL.LATCH_HIGH_NEXT] = v ? 1 : 0; }
  private get statusLatched(): boolean { return this.i32[CELL.STATUS_LATCHED] !== 0; }
  private set statusLatched(v: boolean) { this.i32[CELL.STATUS_LATCHED] = v ? 1 : 0; }
  private get readHighNext(): boolean { return this.i32[CELL.READ_HIGH_NEXT] !== 0; }
  private set readHighNext(v: boolean) { this.i32[CELL.READ_HIGH_NEXT] = v ? 1 : 0; }

  /** Copy what the fast path computes counts from into the cells; after every change to it. */
  private publish(): void {
    const c = this.i32;
    c[CELL.ACCESS] = this.access;
    const waiting = (this.mode === 1 || this.mode === 5) && !this.triggered;
    c[CELL.FAST_MODE] = this.loaded && this.counting && this.switchTick < 0 && !this.bcd && !waiting ? this.mode : -1;
    c[CELL.PERIOD] = this.period;
    this.f64[CELL.LOAD_TICK_F64] = this.loadTick;
  }

  /** Power-on: no count loaded, OUT high, nothing scheduled. */
  reset(): void {
    this.mode = 0;
    this.modeBits = 0;
    this.bcd = false;
    this.access = Access.LowHigh;
    this.initial = 0;
    this.active = 0;
    this.switchTick = -1;
    this.loaded = false;
    this.triggered = false;
    this.counting = false;
    this.loadTick = 0;
    this.frozenElapsed = 0;
    this.heldCount = 0;
    this.gate = this.initialGate;
    this.nullCount = true;
    this.writeHighNext = false;
    this.readHighNext = false;
    this.latched = false;
    this.statusLatched = false;
    this.changed();
    this.publish();
  }

  snapshot(): PitChannelState {
    const self = this as unknown as PitChannelState;
    const state = {} as PitChannelState;
    for (const key of STATE_KEYS) state[key] = self[key];
    return state;
  }

  /** Restore a snapshot (the owner reschedules its interrupt afterwards). */
  restore(state: PitChannelState): void {
    const self = this as unknown as PitChannelState;
    for (const key of STATE_KEYS) self[key] = state[key];
    this.publish();
  }

  /** N: the initial count as a number of clocks (0 = 65536 binary, 10000 BCD). */
  get period(): number {
    const n = this.bcd ? fromBcd(this.active) : this.active;
    return n === 0 ? this.modulus : n;
  }

  private get modulus(): number {
    return this.bcd ? 10000 : 0x10000;
  }

  /** Clocks counted since the count started, or -1 if it has not started. */
  elapsed(tick = this.ticksNow()): number {
    if (!this.loaded) return -1;
    if (this.switchTick >= 0 && tick >= this.switchTick) {
      // The period a new count was written in has ended: the counting element reloads with it.
      this.active = this.initial;
      this.loadTick = this.switchTick;
      this.switchTick = -1;
      this.nullCount = false;
      this.publish();
    }
    if ((this.mode === 1 || this.mode === 5) && !this.triggered) return -1;
    return this.counting ? tick - this.loadTick : this.frozenElapsed;
  }

  /** The counting element's value now, in binary. */
  count(tick = this.ticksNow()): number {
    const d = this.elapsed(tick);
    if (d < 0) return this.loaded ? this.period % this.modulus : this.heldCount;
    const n = this.period;
    const m = this.modulus;
    switch (this.mode) {
      case 2:
        return (n - (d % n)) % m; // n, n-1, ..., 1, reload
      case 3: {
        // Counts down by two through each half period.
        const phase = d % n;
        const highLength = (n + 1) >> 1;
        const inHalf = phase < highLength ? phase : phase - highLength;
        return ((n & ~1) - 2 * inHalf + m) % m;
      }
      default: // 0, 1, 4, 5: count down once, then keep wrapping
        return (((n - d) % m) + m) % m;
    }
  }

  /** The OUT pin now. */
  out(tick = this.ticksNow()): boolean {
    if (!this.loaded) return this.mode !== 0;
    const d = this.elapsed(tick);
    const n = this.period;
    switch (this.mode) {
      case 0:
        return d >= n;
      case 1:
        return d < 0 || d >= n;
      case 2:
        return !this.gate || d < 0 || d % n !== n - 1;
      case 3:
        return !this.gate || d < 0 || d % n < (n + 1) >> 1;
      default: // 4, 5: one clock low when the count expires
        return d !== n;
    }
  }

  /** Tick of the next OUT rising edge after `tick`, or -1 (used to drive IRQ 0). */
  nextRisingEdge(tick: number): number {
    const d = this.elapsed(tick);
    if (d < 0 || !this.counting) return -1;
    const n = this.period;
    const start = this.loadTick;
    switch (this.mode) {
      case 0:
        return d < n ? start + n : -1;
      case 2:
      case 3:
        // A count of 1 (illegal in these modes) leaves OUT stuck: no edges, no timer per tick.
        return n === 1 ? -1 : start + (Math.floor(d / n) + 1) * n;
      case 4:
      case 5:
        return d < n + 1 ? start + n + 1 : -1;
      default:
        return -1;
    }
  }

  /** Control word for this channel (select bits already decoded). */
  writeControl(value: number): void {
    const access = (value >> 4) & 3;
    if (access === Access.Latch) {
      this.latchCount();
      return;
    }
    this.heldCount = this.count();
    this.access = access;
    this.modeBits = (value >> 1) & 7;
    this.mode = this.modeBits > 5 ? this.modeBits - 4 : this.modeBits;
    this.bcd = (value & 1) !== 0;
    this.loaded = false;
    this.switchTick = -1;
    this.triggered = false;
    this.counting = false;
    this.nullCount = true;
    this.writeHighNext = false;
    this.readHighNext = false;
    this.latched = false;
    this.statusLatched = false;
    this.changed();
    this.publish();
  }

  latchCount(): void {
    if (this.latched) return; // a second latch before reading is ignored
    this.latched = true;
    this.latchValue = this.encoded(this.count());
    this.latchHighNext = this.access === Access.High;
  }

  latchStatus(): void {
    if (this.statusLatched) return;
    this.statusLatched = true;
    this.statusValue =
      (this.out() ? 0x80 : 0) | (this.nullCount ? 0x40 : 0) | (this.access << 4) | (this.modeBits << 1) | (this.bcd ? 1 : 0);
  }

  writeData(byte: number): void {
    switch (this.access) {
      case Access.Low:
        this.load(byte);
        break;
      case Access.High:
        this.load(byte << 8);
        break;
      default:
        if (!this.writeHighNext) {
          this.pendingLow = byte;
          this.writeHighNext = true;
          if (this.mode === 0 && this.loaded) {
            // Mode 0: the first byte of a new count stops counting and drops OUT.
            this.heldCount = this.count();
            this.loaded = false;
            this.changed();
          }
        } else {
          this.writeHighNext = false;
          this.load(this.pendingLow | (byte << 8));
        }
    }
    this.publish();
  }

  readData(): number {
    if (this.statusLatched) {
      this.statusLatched = false;
      return this.statusValue;
    }
    if (this.latched) {
      const value = this.latchValue;
      if (this.access === Access.LowHigh && !this.latchHighNext) {
        this.latchHighNext = true;
        return value & 0xff;
      }
      this.latched = false;
      return this.latchHighNext ? value >> 8 : value & 0xff;
    }
    const value = this.encoded(this.count());
    switch (this.access) {
      case Access.Low:
        return value & 0xff;
      case Access.High:
        return value >> 8;
      default:
        this.readHighNext = !this.readHighNext;
        return this.readHighNext ? value & 0xff : value >> 8;
    }
  }

  /** Gate input (only channel 2's is wired, to port 0x61 bit 0). */
  setGate(high: boolean): void {
    if (high === this.gate) return;
    this.gate = high;
    const tick = this.ticksNow();
    if (!this.loaded) return;
    if (high) {
      switch (this.mode) {
        case 1:
        case 5: // (re)trigger: the count register is loaded and counting starts over
        case 2:
        case 3: // a rising gate reloads the counter
          this.triggered = true;
          this.transfer();
          this.startCounting(tick, 0);
          break;
        default: // 0, 4: resume where it stopped
          this.startCounting(tick, this.frozenElapsed);
      }
    } else if (this.mode !== 1 && this.mode !== 5) {
      this.frozenElapsed = this.elapsed(tick);
      this.counting = false;
      this.switchTick = -1; // the rising gate will reload from the count register anyway
    }
    this.changed();
    this.publish();
  }

  private load(value: number): void {
    this.initial = value & 0xffff;
    const wasLoaded = this.loaded;
    this.loaded = true;
    const tick = this.ticksNow();
    switch (this.mode) {
      case 1:
      case 5:
        // Waits for a gate rising edge; a one-shot in progress finishes with its old count.
        if (!wasLoaded || !this.triggered) this.transfer();
        else this.nullCount = true;
        break;
      case 2:
      case 3:
        if (wasLoaded && this.counting) {
          // Rate generator / square wave: the new count takes over at the end of this period.
          const d = this.elapsed(tick);
          this.switchTick = this.loadTick + (Math.floor(d / this.period) + 1) * this.period;
          this.nullCount = true;
          break;
        }
        this.transfer();
        this.restart(tick);
        break;
      default: // 0, 4: counting restarts with the new count
        this.transfer();
        this.restart(tick);
    }
    this.changed();
  }

  /** Count register to counting element. */
  private transfer(): void {
    this.active = this.initial;
    this.switchTick = -1;
    this.nullCount = false;
  }

  private restart(tick: number): void {
    if (this.gate) {
      this.startCounting(tick, 0);
    } else {
      this.counting = false;
      this.frozenElapsed = 0;
    }
  }

  private startCounting(tick: number, alreadyElapsed: number): void {
    this.counting = true;
    this.loadTick = tick - alreadyElapsed;
  }

  private encoded(count: number): number {
    return this.bcd ? toBcd(count) : count & 0xffff;
  }
}
