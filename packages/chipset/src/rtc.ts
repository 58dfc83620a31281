import { rearmTimer, saveTimer, StateReader, type AccessSize, type Clock, type Device, type IrqLine, type PortHandler, type SavedTimer, type Timer } from '@unimachine/core';
import { fillMemorySize } from './cmos-layout.js';
import { isaByteHandler, type BytePorts } from './isa-bytes.js';
import { decodeTime, encodeTime, type RtcFields, type RtcFormat } from './rtc-time.js';

const NS_PER_S = 1_000_000_000;
/** UIP is set this long before each update cycle (MC146818 datasheet, 32.768 kHz time base). */
export const UIP_LEAD_NS = 244_000;
/** One period of the 32.768 kHz time base. */
const NS_PER_32K_CYCLE = NS_PER_S / 32768;

const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
const CENTURY = 0x32;
/** Registers that hold the time (not the alarm): seconds, minutes, hours, day of week, day, month, year, century. */
const TIME_REGS = [0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, CENTURY];

const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_BINARY = 0x04;
const B_24H = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
/** Register A divider bits for the normal 32.768 kHz time base. */
const DV_RUNNING = 0x20;

export const MC146818_STATE_VERSION = 1;

/** What snapshot() saves: CMOS bytes (typed array), the wall-clock base and the pending flag timer. */
export interface Mc146818State {
  version: number;
  cmos: Uint8Array;
  index: number;
  nmiMasked: boolean;
  baseSeconds: number;
  baseNs: number;
  syncedNs: number;
  lineHigh: boolean;
  timer: SavedTimer | null;
}

export interface Mc146818Options {
  /** Wall-clock time (Unix milliseconds) when the machine clock reads 0. */
  epochMs: number;
  /** Guest RAM size, written to the CMOS memory-size bytes. */
  memoryBytes?: number;
}

/**
 * MC146818 real-time clock and its CMOS RAM at 0x70 (index, bit 7 masks NMI) and 0x71 (data).
 *
 * Nothing ticks: the wall clock is `baseSeconds` at virtual time `baseNs`, plus elapsed machine
 * time. The status flags of register C are brought up to date lazily (when read, or when a timer
 * for an enabled interrupt fires), so an RTC nobody listens to schedules no timers at all.
 */
export class Mc146818 implements Device, PortHandler, BytePorts {
  readonly cmos = new Uint8Array(128);
  private index = 0;
  /** Bit 7 of the last index write: NMIs disabled. */
  nmiMasked = false;
  private baseSeconds = 0;
  private baseNs = 0;
  /** Virtual time up to which the flags in register C are current. */
  private syncedNs = 0;
  private timer: Timer | undefined;
  private lineHigh = false;
  private readonly bytes = isaByteHandler(this, (p) => p === 0x70 || p === 0x71);

  constructor(
    private readonly clock: Clock,
    private readonly irq: IrqLine | undefined,
    options: Mc146818Options,
  ) {
    // Power-on: the battery-backed state a BIOS would have left behind.
    const ms = options.epochMs;
    this.baseSeconds = Math.floor(ms / 1000);
    this.baseNs = -(ms - this.baseSeconds * 1000) * 1e6;
    this.cmos[REG_A] = DV_RUNNING | 0x06; // 32.768 kHz time base, 1024 Hz periodic rate
    this.cmos[REG_B] = B_24H;
    fillMemorySize(this.cmos, options.memoryBytes ?? 0);
    this.syncedNs = clock.now();
  }

  /**
   * System reset (the chip's RESET pin): interrupt enables and flags clear; the time and the
   * CMOS RAM survive, as they do on a PC.
   */
  reset(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.syncFlags(this.clock.now());
    this.cmos[REG_B] &= ~(B_PIE | B_AIE | B_UIE | 0x08);
    this.cmos[REG_C] = 0;
    this.index = 0;
    this.nmiMasked = false;
    this.setLine(false);
  }

  snapshot(): Mc146818State {
    return {
      version: MC146818_STATE_VERSION, cmos: this.cmos.slice(), index: this.index, nmiMasked: this.nmiMasked,
      baseSeconds: this.baseSeconds, baseNs: this.baseNs, syncedNs: this.syncedNs, lineHigh: this.lineHigh,
      timer: saveTimer(this.timer),
    };
  }

  /** Checks the whole state first; the pending flag timer is re-armed as it was. */
  restore(state: unknown): void {
    const r = StateReader.open('mc146818', state, MC146818_STATE_VERSION);
    const cmos = r.bytes('cmos', 128);
    const index = r.int('index', 0, 0x7f);
    const nmiMasked = r.bool('nmiMasked');
    const baseSeconds = r.int('baseSeconds');
    const baseNs = r.num('baseNs');
    const syncedNs = r.num('syncedNs');
    const lineHigh = r.bool('lineHigh');
    const timer = r.timer('timer');
    this.cmos.set(cmos);
    this.index = index;
    this.nmiMasked = nmiMasked;
    this.baseSeconds = baseSeconds;
    this.baseNs = baseNs;
    this.syncedNs = syncedNs;
    this.setLine(lineHigh);
    this.timer?.cancel();
    this.timer = this.irq ? rearmTimer(this.clock, timer, this.flagTimerFired) : undefined;
  }

  dispose(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Port access; wider accesses are split into byte cycles. */
  read(port: number, size: AccessSize): number {
    return size === 1 ? this.readByte(port) : this.bytes.read(port, size);
  }

  write(port: number, size: AccessSize, value: number): void {
    if (size === 1) this.writeByte(port, value);
    else this.bytes.write(port, size, value);
  }

  readByte(port: number): number {
    if (port === 0x70) return 0xff; // the index register is write-only
    return this.readRegister(this.index);
  }

  writeByte(port: number, value: number): void {
    value &= 0xff;
    if (port === 0x70) {
      this.index = value & 0x7f;
      this.nmiMasked = (value & 0x80) !== 0;
    } else {
      this.writeRegister(this.index, value);
    }
  }

  readRegister(reg: number): number {
    const now = this.clock.now();
    switch (reg) {
      case REG_A:
        return this.cmos[REG_A] | (this.updateInProgress(now) ? 0x80 : 0);
      case REG_C: {
        this.syncFlags(now);
        const value = this.cmos[REG_C];
        this.cmos[REG_C] = 0;
        this.setLine(false);
        this.scheduleNext();
        return value;
      }
      case REG_D:
        return 0x80;
    }
    if (this.isTimeRegister(reg) && this.running()) this.storeTime(now);
    return this.cmos[reg];
  }

  writeRegister(reg: number, value: number): void {
    const now = this.clock.now();
    switch (reg) {
      case REG_A:
        this.changeControl(now, value & 0x7f, this.cmos[REG_B]); // UIP is read-only
        return;
      case REG_B:
        // Setting SET also clears UIE (datasheet).
        this.changeControl(now, this.cmos[REG_A], value & B_SET ? value & ~B_UIE : value);
        return;
      case REG_C:
      case REG_D:
        return; // read-only
    }
    if (this.isTimeRegister(reg) && this.running()) {
      // A write while the clock runs moves the time but keeps the sub-second phase.
      this.syncFlags(now);
      this.storeTime(now);
      this.cmos[reg] = value;
      const seconds = decodeTime(this.fields(), this.format());
      if (seconds !== undefined) this.baseSeconds = seconds - Math.floor((now - this.baseNs) / NS_PER_S);
      this.scheduleNext();
      return;
    }
    this.cmos[reg] = value;
  }

  /** The wall clock in Unix seconds at virtual time `ns` (while running). */
  secondsAt(ns: number): number {
    return this.baseSeconds + Math.floor((ns - this.baseNs) / NS_PER_S);
  }

  private isTimeRegister(reg: number): boolean {
    return TIME_REGS.includes(reg);
  }

  /** Updates happen: SET clear and the divider on the 32.768 kHz time base. */
  private running(a = this.cmos[REG_A], b = this.cmos[REG_B]): boolean {
    return (b & B_SET) === 0 && (a & 0x70) === DV_RUNNING;
  }

  private dividerRunning(a = this.cmos[REG_A]): boolean {
    return (a & 0x70) === DV_RUNNING;
  }

  private format(b = this.cmos[REG_B]): RtcFormat {
    return { binary: (b & B_BINARY) !== 0, hour24: (b & B_24H) !== 0 };
  }

  private updateInProgress(now: number): boolean {
    if (!this.running()) return false;
    const phase = (((now - this.baseNs) % NS_PER_S) + NS_PER_S) % NS_PER_S;
    return phase >= NS_PER_S - UIP_LEAD_NS;
  }

  /** Periodic interrupt period from register A's rate select, or 0 when off. */
  private periodNs(a = this.cmos[REG_A]): number {
    const rs = a & 0x0f;
    if (rs === 0 || !this.dividerRunning(a)) return 0;
    const cycles = rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1); // rates 1 and 2 repeat 8 and 9
    return cycles * NS_PER_32K_CYCLE;
  }

  /** Write the current time into the clock registers, in the current format. */
  private storeTime(now: number): void {
    const r = encodeTime(this.secondsAt(now), this.format());
    this.cmos[0x00] = r.seconds;
    this.cmos[0x02] = r.minutes;
    this.cmos[0x04] = r.hours;
    this.cmos[0x06] = r.dayOfWeek;
    this.cmos[0x07] = r.day;
    this.cmos[0x08] = r.month;
    this.cmos[0x09] = r.year;
    this.cmos[CENTURY] = r.century;
  }

  private fields(): RtcFields {
    const c = this.cmos;
    return {
      seconds: c[0x00], minutes: c[0x02], hours: c[0x04], dayOfWeek: c[0x06],
      day: c[0x07], month: c[0x08], year: c[0x09], century: c[CENTURY],
    };
  }

  /** Register A or B changed: freeze or restart the clock, then re-evaluate interrupts. */
  private changeControl(now: number, a: number, b: number): void {
    this.syncFlags(now);
    const wasRunning = this.running();
    const dividerWasRunning = this.dividerRunning();
    if (wasRunning) this.storeTime(now); // freeze what the registers show
    this.cmos[REG_A] = a;
    this.cmos[REG_B] = b;
    if (!wasRunning && this.running()) {
      // Restart from the registers. Leaving divider reset, the first update comes 500 ms later.
      const seconds = decodeTime(this.fields(), this.format());
      if (seconds !== undefined) this.baseSeconds = seconds;
      this.baseNs = dividerWasRunning ? now : now - NS_PER_S / 2;
    }
    this.syncedNs = now;
    this.updateIrqf();
    this.scheduleNext();
  }

  /** Bring PF, UF and AF up to `now`: which events happened since the last sync. */
  private syncFlags(now: number): void {
    const from = this.syncedNs;
    if (now <= from) return;
    this.syncedNs = now;
    let flags = 0;
    const period = this.periodNs();
    if (period > 0 && Math.floor(now / period) > Math.floor(from / period)) flags |= C_PF;
    if (this.running()) {
      const s0 = this.secondsAt(from);
      const s1 = this.secondsAt(now);
      if (s1 > s0) {
        flags |= C_UF;
        // Any of the updates in between may have matched the alarm; a day covers every pattern.
        for (let s = Math.max(s0 + 1, s1 - 86_400); s <= s1; s++) {
          if (this.alarmMatches(s)) {
            flags |= C_AF;
            break;
          }
        }
      }
    }
    this.cmos[REG_C] |= flags;
    this.updateIrqf();
  }

  private alarmMatches(seconds: number): boolean {
    const t = encodeTime(seconds, this.format());
    const match = (alarm: number, value: number) => (alarm & 0xc0) === 0xc0 || alarm === value;
    return match(this.cmos[0x01], t.seconds) && match(this.cmos[0x03], t.minutes) && match(this.cmos[0x05], t.hours);
  }

  /** IRQF = PF·PIE + AF·AIE + UF·UIE; the IRQ pin follows it. */
  private updateIrqf(): void {
    const b = this.cmos[REG_B];
    const c = this.cmos[REG_C];
    const active = (c & C_PF && b & B_PIE) || (c & C_AF && b & B_AIE) || (c & C_UF && b & B_UIE);
    if (active) this.cmos[REG_C] |= C_IRQF;
    else this.cmos[REG_C] &= ~C_IRQF;
    this.setLine(!!active);
  }

  private setLine(high: boolean): void {
    if (high === this.lineHigh) return;
    this.lineHigh = high;
    if (high) this.irq?.raise();
    else this.irq?.lower();
  }

  /** One timer, for the next event of an enabled interrupt, only while the line is not already up. */
  private scheduleNext(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (!this.irq || this.lineHigh) return;
    const now = this.clock.now();
    const b = this.cmos[REG_B];
    let next = Infinity;
    const period = this.periodNs();
    if (b & B_PIE && period > 0) next = (Math.floor(now / period) + 1) * period;
    if (b & (B_UIE | B_AIE) && this.running()) {
      next = Math.min(next, this.baseNs + (Math.floor((now - this.baseNs) / NS_PER_S) + 1) * NS_PER_S);
    }
    if (next === Infinity) return;
    this.timer = this.clock.schedule(next, this.flagTimerFired);
  }

  private readonly flagTimerFired = (): void => {
    this.timer = undefined;
    this.syncFlags(this.clock.now());
    this.scheduleNext();
  };
}
