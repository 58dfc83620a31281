import type { StateReader } from '@unimachine/core';

/** The saved form of one chip (see snapshot()). */
export interface I8259State {
  irr: number; isr: number; imr: number; wire: number; elcr: number; vectorBase: number; lowest: number;
  ltim: boolean; single: boolean; autoEoi: boolean; rotateOnAutoEoi: boolean; specialFullyNested: boolean;
  mode8086: boolean; icw3: number; readIsr: boolean; pollNext: boolean; specialMask: boolean;
  initStep: number; icw4Expected: boolean;
}

const STATE_KEYS: readonly (keyof I8259State)[] = [
  'irr', 'isr', 'imr', 'wire', 'elcr', 'vectorBase', 'lowest', 'ltim', 'single', 'autoEoi', 'rotateOnAutoEoi',
  'specialFullyNested', 'mode8086', 'icw3', 'readIsr', 'pollNext', 'specialMask', 'initStep', 'icw4Expected',
];

const BOOLEAN_KEYS = new Set<keyof I8259State>([
  'ltim', 'single', 'autoEoi', 'rotateOnAutoEoi', 'specialFullyNested', 'mode8086', 'readIsr', 'pollNext', 'specialMask', 'icw4Expected',
]);
const INT_RANGES: Partial<Record<keyof I8259State, [number, number]>> = { lowest: [0, 7], initStep: [0, 4] };

/** One chip's saved state, every field checked (8-bit registers 0..255). */
export function readI8259State(r: StateReader): I8259State {
  const state = {} as Record<string, number | boolean>;
  for (const key of STATE_KEYS) state[key] = BOOLEAN_KEYS.has(key) ? r.bool(key) : r.int(key, ...(INT_RANGES[key] ?? [0, 0xff]));
  return state as unknown as I8259State;
}

/**
 * One 8259A programmable interrupt controller (8 inputs). Pure register logic: the pair
 * (I8259Pair) wires two of them together, handles the cascade and talks to the CPU.
 *
 * Priorities: `lowest` is the line with the lowest priority (7 after ICW1); the line after it
 * has the highest. Rotation only moves `lowest`.
 */
export class I8259 {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Wire level of each input, for edge detection. */
  private wire = 0;
  /** Lines that are level-triggered through the ELCR (ICW1 LTIM makes all of them level). */
  elcr = 0;
  vectorBase = 0;
  lowest = 7;
  /** ICW1 LTIM: every input level-triggered. */
  ltim = false;
  single = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  /** ICW4 uPM: false means MCS-80/85 mode, which an x86 CPU cannot use; recorded only. */
  mode8086 = false;
  /** ICW3 as written: slave bitmap on a master, cascade id on a slave. */
  icw3 = 0;
  readIsr = false;
  pollNext = false;
  specialMask = false;
  /** 0: ready for OCWs; 2, 3, 4: expecting that ICW on the data port. */
  private initStep = 0;
  private icw4Expected = false;

  constructor(readonly elcrWritable: number, readonly isMaster: boolean) {}

  /** Every register and latch, as plain JSON. */
  snapshot(): I8259State {
    const state = {} as Record<string, number | boolean>;
    for (const key of STATE_KEYS) state[key] = (this as unknown as Record<string, number | boolean>)[key];
    return state as unknown as I8259State;
  }

  restore(state: I8259State): void {
    for (const key of STATE_KEYS) (this as unknown as Record<string, unknown>)[key] = state[key];
  }

  /** Power-on / system reset: like an ICW1 with everything cleared. */
  reset(): void {
    this.irr = 0;
    this.isr = 0;
    this.imr = 0;
    this.wire = 0;
    this.vectorBase = 0;
    this.lowest = 7;
    this.ltim = false;
    this.single = false;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
    this.specialFullyNested = false;
    this.mode8086 = false;
    this.icw3 = 0;
    this.readIsr = false;
    this.pollNext = false;
    this.specialMask = false;
    this.initStep = 0;
  }

  private get levelMask(): number {
    return this.ltim ? 0xff : this.elcr;
  }

  /** Drive input `n` to `high`. Level inputs follow the wire; edge inputs latch rising edges. */
  setInput(n: number, high: boolean): void {
    const bit = 1 << n;
    const wasHigh = (this.wire & bit) !== 0;
    if (high) this.wire |= bit;
    else this.wire &= ~bit;
    if (this.levelMask & bit) {
      if (high) this.irr |= bit;
      else this.irr &= ~bit;
    } else if (high && !wasHigh) {
      this.irr |= bit;
    }
  }

  /** Re-derive level-triggered IRR bits after the trigger mode changed. */
  private syncLevelInputs(): void {
    const level = this.levelMask;
    this.irr = (this.irr & ~level) | (this.wire & level);
  }

  setElcr(value: number): void {
    this.elcr = value & this.elcrWritable;
    this.syncLevelInputs();
  }

  /** Priority rank of line n: 0 highest .. 7 lowest. */
  private rank(n: number): number {
    return (n - this.lowest - 1) & 7;
  }

  /** The highest-priority line set in `mask`, or -1. */
  private highest(mask: number): number {
    for (let r = 0; r < 8; r++) {
      const n = (r + this.lowest + 1) & 7;
      if (mask & (1 << n)) return n;
    }
    return -1;
  }

  /** The request this chip would present to the CPU now, or -1 (what drives its INT pin). */
  requested(): number {
    const irq = this.highest(this.irr & ~this.imr);
    if (irq < 0) return -1;
    let inService = this.isr;
    // Special mask mode: masked lines no longer block lower priorities.
    if (this.specialMask) inService &= ~this.imr;
    // Special fully nested mode: a higher slave request may nest inside the cascade line's service.
    if (this.specialFullyNested && this.isMaster) inService &= ~(1 << 2);
    const current = this.highest(inService);
    if (current >= 0 && this.rank(current) <= this.rank(irq)) return -1;
    return irq;
  }

  /** INTA on this chip: the line being serviced moves from IRR to ISR. Returns the line, or -1 (spurious). */
  acknowledge(): number {
    const irq = this.requested();
    if (irq < 0) return -1;
    this.take(irq);
    return irq;
  }

  private take(irq: number): void {
    const bit = 1 << irq;
    // An edge request is consumed; a level request stays while the wire is high.
    if (!(this.levelMask & bit)) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.lowest = irq;
    } else {
      this.isr |= bit;
    }
  }

  /** Command port read (A0=0): the poll byte after an OCW3 poll, else IRR or ISR. */
  readCommand(): number {
    if (this.pollNext) {
      this.pollNext = false;
      const irq = this.acknowledge();
      return irq < 0 ? 0 : 0x80 | irq;
    }
    return this.readIsr ? this.isr : this.irr;
  }

  /** Data port read (A0=1): the mask register. */
  readData(): number {
    return this.imr;
  }

  writeCommand(value: number): void {
    if (value & 0x10) this.icw1(value);
    else if (value & 0x08) this.ocw3(value);
    else this.ocw2(value);
  }

  writeData(value: number): void {
    switch (this.initStep) {
      case 2:
        // In 8086 mode T7..T3 come from ICW2 and the low three bits are the line number.
        this.vectorBase = value & 0xf8;
        this.initStep = this.single ? (this.icw4Expected ? 4 : 0) : 3;
        return;
      case 3:
        this.icw3 = value;
        this.initStep = this.icw4Expected ? 4 : 0;
        return;
      case 4:
        this.mode8086 = (value & 0x01) !== 0;
        this.autoEoi = (value & 0x02) !== 0;
        this.specialFullyNested = (value & 0x10) !== 0;
        this.initStep = 0;
        return;
      default:
        this.imr = value;
    }
  }

  private icw1(value: number): void {
    // The datasheet's initialisation: IMR cleared, IR7 lowest priority, special mask off,
    // status read set to IRR, edge-sense reset (a high edge input needs a new rising edge).
    this.imr = 0;
    this.isr = 0;
    this.lowest = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.pollNext = false;
    this.rotateOnAutoEoi = false;
    this.ltim = (value & 0x08) !== 0;
    this.single = (value & 0x02) !== 0;
    this.icw4Expected = (value & 0x01) !== 0;
    if (!this.icw4Expected) {
      this.mode8086 = false;
      this.autoEoi = false;
      this.specialFullyNested = false;
    }
    this.irr &= this.levelMask;
    this.syncLevelInputs();
    this.initStep = 2;
  }

  private ocw2(value: number): void {
    const level = value & 7;
    switch (value >> 5) {
      case 0b001: // non-specific EOI
        this.eoi(this.highest(this.isr), false);
        break;
      case 0b011: // specific EOI
        this.eoi(level, false);
        break;
      case 0b101: // rotate on non-specific EOI
        this.eoi(this.highest(this.isr), true);
        break;
      case 0b111: // rotate on specific EOI
        this.eoi(level, true);
        break;
      case 0b100:
        this.rotateOnAutoEoi = true;
        break;
      case 0b000:
        this.rotateOnAutoEoi = false;
        break;
      case 0b110: // set priority: `level` becomes the lowest
        this.lowest = level;
        break;
      default: // 0b010: no operation
        break;
    }
  }

  private eoi(irq: number, rotate: boolean): void {
    if (irq < 0) return;
    this.isr &= ~(1 << irq);
    if (rotate) this.lowest = irq;
  }

  private ocw3(value: number): void {
    if (value & 0x02) this.readIsr = (value & 0x01) !== 0;
    if (value & 0x04) this.pollNext = true;
    if (value & 0x40) this.specialMask = (value & 0x20) !== 0;
  }
}
