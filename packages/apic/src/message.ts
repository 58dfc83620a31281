import { DeliveryMode, Shorthand } from './registers.js';

/**
 * One interrupt message on the APIC bus (an IPI from an ICR, an I/O APIC redirection, an MSI).
 * Delivery is immediate: the targets' IRR (or their processor's NMI/INIT/SIPI input) changes
 * before the write that sent the message returns.
 */
export interface ApicMessage {
  vector: number;
  /** DeliveryMode.*: fixed, lowest priority, SMI, NMI, INIT, start-up, ExtINT. */
  deliveryMode: number;
  /** Logical (true) or physical (false) destination mode. */
  logical: boolean;
  /**
   * Destination: an 8-bit xAPIC destination (0xff = broadcast) unless `wide`, then a 32-bit
   * x2APIC destination (0xffffffff = broadcast; logical = cluster in bits 31-16, members in 15-0).
   */
  dest: number;
  wide: boolean;
  /** Level-triggered (sets the TMR bit, and its EOI is broadcast to the I/O APICs). */
  level: boolean;
  /** ICR level bit: false with `level` set and INIT mode is the INIT level de-assert message. */
  assert: boolean;
  /** Shorthand.*; anything but NONE needs `source`. */
  shorthand: number;
}

export function fixedMessage(vector: number, dest: number, level = false): ApicMessage {
  return {
    vector,
    deliveryMode: DeliveryMode.FIXED,
    logical: false,
    dest,
    wide: false,
    level,
    assert: true,
    shorthand: Shorthand.NONE,
  };
}

/**
 * What a local APIC needs from its processor. The CPU model implements it (or the machine adapts
 * its CPU to it); `RecordingProcessor` records the calls for tests.
 */
export interface ApicProcessor {
  /** An NMI arrived (LVT, IPI, I/O APIC): the CPU's NMI input, edge. */
  nmi(): void;
  /** An INIT arrived: the processor does an INIT reset (the LAPIC has already reset itself). */
  init(): void;
  /** A start-up IPI arrived while the processor waited for one: start in real mode at CS=vector<<8, IP=0. */
  startup(vector: number): void;
  /** An SMI arrived; processors without SMM ignore it. */
  smi?(): void;
  /**
   * The LAPIC's interrupt output may have changed from outside this processor's own instruction
   * stream (an IPI from another CPU, a timer, an I/O APIC message): wake it if halted.
   */
  kick?(): void;
}

/** One event a RecordingProcessor saw. */
export type ProcessorEvent =
  | { kind: 'nmi' }
  | { kind: 'init' }
  | { kind: 'startup'; vector: number }
  | { kind: 'smi' };

/** An ApicProcessor that records what it is told: for tests and for tracing. */
export class RecordingProcessor implements ApicProcessor {
  readonly events: ProcessorEvent[] = [];
  kicks = 0;
  nmi(): void {
    this.events.push({ kind: 'nmi' });
  }
  init(): void {
    this.events.push({ kind: 'init' });
  }
  startup(vector: number): void {
    this.events.push({ kind: 'startup', vector });
  }
  smi(): void {
    this.events.push({ kind: 'smi' });
  }
  kick(): void {
    this.kicks++;
  }
}

/** A processor that ignores everything (a LAPIC with no CPU model attached yet). */
export const NO_PROCESSOR: ApicProcessor = { nmi() {}, init() {}, startup() {} };
