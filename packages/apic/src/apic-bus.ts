import { NO_TRACE, type Tracer } from '@unimachine/core';
import type { ApicMessage } from './message.js';
import { DeliveryMode, Shorthand } from './registers.js';

/** What the bus needs from a local APIC (implemented by LocalApic). */
export interface BusLocalApic {
  /** Globally enabled (IA32_APIC_BASE.EN): a disabled APIC takes no messages. */
  readonly acceptsMessages: boolean;
  /** Does this APIC's ID or logical destination register select it for `dest`? */
  matchesDestination(dest: number, logical: boolean, wide: boolean): boolean;
  /** Arbitration priority (the APR value) for lowest-priority delivery. */
  arbitrationPriority(): number;
  /** Is this the focus processor for `vector` (already has it in IRR or ISR, focus checking on)? */
  isFocusFor(vector: number): boolean;
  receive(message: ApicMessage): void;
}

/** Who hears the EOI of a level-triggered interrupt (the I/O APICs, to clear remote IRR). */
export interface EoiListener {
  eoi(vector: number): void;
}

/** MSI address and data fields (PCI local bus spec / SDM 11.11). */
const MSI_ADDRESS_MASK = 0xfff00000;
const MSI_ADDRESS_BASE = 0xfee00000;

/**
 * The APIC bus (a system bus message, since the Pentium 4): local APICs and I/O APICs exchange
 * interrupt messages and EOIs on it. Local APICs are kept in the order they joined, which is the
 * order ties are broken in lowest-priority arbitration, so delivery is deterministic.
 */
export class ApicBus {
  private readonly lapics: BusLocalApic[] = [];
  private readonly eoiListeners: EoiListener[] = [];
  /** Messages that found no destination (diagnostics and tests). */
  undelivered = 0;

  constructor(private readonly trace: Tracer = NO_TRACE) {}

  attach(lapic: BusLocalApic): void {
    if (!this.lapics.includes(lapic)) this.lapics.push(lapic);
  }

  detach(lapic: BusLocalApic): void {
    const i = this.lapics.indexOf(lapic);
    if (i >= 0) this.lapics.splice(i, 1);
  }

  onEoi(listener: EoiListener): void {
    if (!this.eoiListeners.includes(listener)) this.eoiListeners.push(listener);
  }

  /** The local APICs on this bus, in arbitration order. */
  get localApics(): readonly BusLocalApic[] {
    return this.lapics;
  }

  /** Deliver `message`; `source` is the sending local APIC (needed for destination shorthands). */
  send(message: ApicMessage, source?: BusLocalApic): void {
    const targets = this.targets(message, source);
    if (this.trace.on('int')) {
      this.trace.log(
        'int',
        `apic-bus: mode ${message.deliveryMode} vector 0x${message.vector.toString(16)} dest 0x${message.dest.toString(16)}` +
          `${message.logical ? ' logical' : ''} shorthand ${message.shorthand} -> ${targets.length} apic(s)`,
      );
    }
    if (targets.length === 0) {
      this.undelivered++;
      return;
    }
    if (message.deliveryMode === DeliveryMode.LOWEST_PRIORITY) {
      this.lowestPriority(targets, message.vector).receive(message);
      return;
    }
    for (const t of targets) t.receive(message);
  }

  /** A local APIC's EOI of a level-triggered vector: every I/O APIC clears the matching remote IRR. */
  broadcastEoi(vector: number): void {
    for (const l of this.eoiListeners) l.eoi(vector);
  }

  /**
   * A PCI MSI write (address 0xFEExxxxx, data): destination ID in address bits 19-12, logical
   * mode in bit 2; vector, delivery mode, level and trigger in the data. Returns false when the
   * address is not an MSI address (the write goes nowhere).
   */
  sendMsi(address: number, data: number): boolean {
    if ((address & MSI_ADDRESS_MASK) >>> 0 !== MSI_ADDRESS_BASE) return false;
    this.send({
      vector: data & 0xff,
      deliveryMode: (data >>> 8) & 7,
      logical: (address & 0x4) !== 0,
      dest: (address >>> 12) & 0xff,
      wide: false,
      level: (data & 0x8000) !== 0,
      assert: (data & 0x4000) !== 0 || (data & 0x8000) === 0,
      shorthand: Shorthand.NONE,
    });
    return true;
  }

  private targets(message: ApicMessage, source: BusLocalApic | undefined): BusLocalApic[] {
    switch (message.shorthand) {
      case Shorthand.SELF:
        return source && source.acceptsMessages ? [source] : [];
      case Shorthand.ALL_INCLUDING_SELF:
        return this.lapics.filter((l) => l.acceptsMessages);
      case Shorthand.ALL_EXCLUDING_SELF:
        return this.lapics.filter((l) => l !== source && l.acceptsMessages);
      default:
        return this.lapics.filter((l) => l.acceptsMessages && l.matchesDestination(message.dest, message.logical, message.wide));
    }
  }

  /**
   * Lowest-priority arbitration: the focus processor if there is one, else the APIC with the
   * lowest arbitration priority class; ties go to the one that joined the bus first.
   */
  private lowestPriority(targets: BusLocalApic[], vector: number): BusLocalApic {
    const focus = targets.find((t) => t.isFocusFor(vector));
    if (focus) return focus;
    let best = targets[0];
    let bestClass = best.arbitrationPriority() >> 4;
    for (let i = 1; i < targets.length; i++) {
      const c = targets[i].arbitrationPriority() >> 4;
      if (c < bestClass) {
        best = targets[i];
        bestClass = c;
      }
    }
    return best;
  }
}
