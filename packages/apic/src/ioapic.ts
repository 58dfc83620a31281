import { StateReader, type AccessSize, type Device, type IrqLine, type IrqProvider, type MmioHandler } from '@unimachine/core';
import type { ApicBus, EoiListener } from './apic-bus.js';
import {
  IOAPIC_PINS,
  IOAPIC_VERSION,
  IoApicMmio,
  IoApicReg,
  REDIR_LOW_WRITABLE,
  RedirBit,
  Shorthand,
} from './registers.js';

/** The saved form of an IoApic. */
export interface IoApicState {
  version: 1;
  id: number;
  ioregsel: number;
  redirLow: number[];
  redirHigh: number[];
  irr: number;
  wire: number;
}

/** One input pin, handed out as `<id>.<pin>`. */
class IoApicPin implements IrqLine {
  constructor(private readonly ioapic: IoApic, private readonly pin: number) {}
  raise(): void {
    this.ioapic.setPin(this.pin, true);
  }
  lower(): void {
    this.ioapic.setPin(this.pin, false);
  }
  pulse(): void {
    this.raise();
    this.lower();
  }
}

/**
 * An I/O APIC (82093AA register model, version 0x20 as QEMU's): IOREGSEL at offset 0x00,
 * IOWIN at 0x10, the EOI register at 0x40; 24 redirection entries that turn pin activity into
 * APIC bus messages.
 *
 * Pins are logical: raise() means asserted whatever the programmed polarity (QEMU does the
 * same; devices model the asserted state, not the voltage). Edge pins deliver on a rising edge
 * and ignore edges while masked (82093AA manual); level pins deliver while asserted, once per
 * remote-IRR cycle: the entry's remote IRR is set on delivery and cleared by the EOI of its
 * vector (a LAPIC's EOI broadcast or this EOI register), and a pin still asserted then delivers again.
 */
export class IoApic implements Device, IrqProvider, EoiListener {
  readonly mmio: MmioHandler;
  /** 4-bit I/O APIC ID (register 0 bits 24-27). */
  id: number;
  ioregsel = 0;
  readonly redirLow = new Uint32Array(IOAPIC_PINS);
  readonly redirHigh = new Uint32Array(IOAPIC_PINS);
  /** Pins with a request waiting for delivery (bit n = pin n). */
  private irr = 0;
  /** Pin levels. */
  private wire = 0;
  private readonly pins: IoApicPin[] = [];
  private readonly initialId: number;

  constructor(readonly bus: ApicBus, id = 0) {
    this.initialId = id & 0xf;
    this.id = this.initialId;
    for (let n = 0; n < IOAPIC_PINS; n++) this.pins.push(new IoApicPin(this, n));
    this.mmio = {
      read: (offset: number, size: AccessSize) => this.readMmio(offset, size),
      write: (offset: number, size: AccessSize, value: number) => this.writeMmio(offset, size, value),
    };
    bus.onEoi(this);
    this.reset();
  }

  /** Reset: every entry masked, edge, vector 0. Pin levels are the devices' and stay. */
  reset(): void {
    this.id = this.initialId;
    this.ioregsel = 0;
    this.redirLow.fill(RedirBit.MASKED);
    this.redirHigh.fill(0);
    this.irr = 0;
  }

  line(n: number): IrqLine {
    if (!Number.isInteger(n) || n < 0 || n >= IOAPIC_PINS) throw new RangeError(`ioapic has pins 0..${IOAPIC_PINS - 1}, not ${n}`);
    return this.pins[n];
  }

  setPin(pin: number, high: boolean): void {
    const bit = 1 << pin;
    const wasHigh = (this.wire & bit) !== 0;
    if (high) this.wire |= bit;
    else this.wire &= ~bit;
    const low = this.redirLow[pin];
    if (low & RedirBit.LEVEL_TRIGGER) {
      if (high) {
        this.irr |= bit;
        this.service(pin);
      } else {
        this.irr &= ~bit;
      }
    } else if (high && !wasHigh && !(low & RedirBit.MASKED)) {
      this.irr |= bit;
      this.service(pin);
    }
  }

  /** Deliver pin `pin`'s pending request if its entry lets it through. */
  private service(pin: number): void {
    const bit = 1 << pin;
    if (!(this.irr & bit)) return;
    const low = this.redirLow[pin];
    if (low & RedirBit.MASKED) return;
    const level = (low & RedirBit.LEVEL_TRIGGER) !== 0;
    if (level) {
      if (low & RedirBit.REMOTE_IRR) return; // the previous one is still being handled
      this.redirLow[pin] = low | RedirBit.REMOTE_IRR;
    } else {
      this.irr &= ~bit;
    }
    this.bus.send({
      vector: low & RedirBit.VECTOR,
      deliveryMode: (low >>> RedirBit.DELIVERY_MODE_SHIFT) & 7,
      logical: (low & RedirBit.DEST_LOGICAL) !== 0,
      dest: this.redirHigh[pin] >>> 24,
      wide: false,
      level,
      assert: true,
      shorthand: Shorthand.NONE,
    });
  }

  /** EOI of `vector`: clear remote IRR of the level entries using it; a still-asserted pin delivers again. */
  eoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const low = this.redirLow[pin];
      if ((low & RedirBit.VECTOR) !== vector || !(low & RedirBit.LEVEL_TRIGGER) || !(low & RedirBit.REMOTE_IRR)) continue;
      this.redirLow[pin] = low & ~RedirBit.REMOTE_IRR;
      this.service(pin);
    }
  }

  /** Read an indirect register (what IOWIN shows for IOREGSEL = `reg`). */
  readRegister(reg: number): number {
    switch (reg) {
      case IoApicReg.ID:
      case IoApicReg.ARBITRATION:
        return (this.id << 24) >>> 0;
      case IoApicReg.VERSION:
        return IOAPIC_VERSION;
    }
    const pin = (reg - IoApicReg.REDIRECTION_BASE) >> 1;
    if (reg < IoApicReg.REDIRECTION_BASE || pin >= IOAPIC_PINS) return 0;
    return reg & 1 ? this.redirHigh[pin] : this.redirLow[pin];
  }

  writeRegister(reg: number, value: number): void {
    value >>>= 0;
    if (reg === IoApicReg.ID) {
      this.id = (value >>> 24) & 0xf;
      return;
    }
    const pin = (reg - IoApicReg.REDIRECTION_BASE) >> 1;
    if (reg < IoApicReg.REDIRECTION_BASE || pin >= IOAPIC_PINS) return; // version, arbitration: read-only
    if (reg & 1) {
      this.redirHigh[pin] = value & 0xff000000;
    } else {
      let low = (value & REDIR_LOW_WRITABLE) | (this.redirLow[pin] & RedirBit.REMOTE_IRR);
      // Remote IRR means nothing for edge entries; Linux relies on an edge round-trip clearing it.
      if (!(low & RedirBit.LEVEL_TRIGGER)) low &= ~RedirBit.REMOTE_IRR;
      this.redirLow[pin] = low;
      // A level entry sees the pin as it is now (it may have been asserted while edge or masked).
      const bit = 1 << pin;
      // Edge requests are never latched here (they are delivered on the edge or dropped).
      this.irr = low & RedirBit.LEVEL_TRIGGER ? (this.irr & ~bit) | (this.wire & bit) : this.irr & ~bit;
    }
    this.service(pin);
  }

  private readMmio(offset: number, size: AccessSize): number {
    switch (offset & 0xff) {
      case IoApicMmio.IOREGSEL:
        return this.ioregsel;
      case IoApicMmio.IOWIN:
        return size === 4 ? this.readRegister(this.ioregsel) : 0;
      default:
        return 0;
    }
  }

  private writeMmio(offset: number, size: AccessSize, value: number): void {
    switch (offset & 0xff) {
      case IoApicMmio.IOREGSEL:
        this.ioregsel = value & 0xff;
        return;
      case IoApicMmio.IOWIN:
        if (size === 4) this.writeRegister(this.ioregsel, value);
        return;
      case IoApicMmio.EOI:
        if (size === 4) this.eoi(value & 0xff);
        return;
    }
  }

  snapshot(): IoApicState {
    return {
      version: 1,
      id: this.id,
      ioregsel: this.ioregsel,
      redirLow: Array.from(this.redirLow),
      redirHigh: Array.from(this.redirHigh),
      irr: this.irr,
      wire: this.wire,
    };
  }

  restore(state: unknown): void {
    const r = StateReader.open('I/O APIC', state, 1);
    const pins = this.redirLow.length;
    const s: IoApicState = {
      version: 1, id: r.uint('id', 8), ioregsel: r.uint('ioregsel', 8), redirLow: r.ints('redirLow', pins, 0, 0xffffffff),
      redirHigh: r.ints('redirHigh', pins, 0, 0xffffffff), irr: r.uint('irr', 32), wire: r.uint('wire', 32),
    };
    this.id = s.id & 0xf;
    this.ioregsel = s.ioregsel & 0xff;
    this.redirLow.set(s.redirLow);
    this.redirHigh.set(s.redirHigh);
    this.irr = s.irr;
    this.wire = s.wire;
  }
}
