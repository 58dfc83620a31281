import type { IrqLine, MmioBus, PortBus } from '@unimachine/core';
import type { AddressSpace, PciDevice } from './pci-device.js';
import { BridgeCfg, Cfg, HEADER_TYPE_MULTI_FUNCTION } from './registers.js';

export const SLOTS = 32;
export const FUNCTIONS = 8;

/** The root's boot-firmware stand-in, reachable from every bus of the tree. */
export interface FirmwareHooks {
  /** A function was plugged in somewhere: number the buses and lay out every resource again. */
  relayout(): void;
  /** Give one function its share of the current layout again (after its reset). */
  setUp(device: PciDevice): void;
  /** A chassis number for a bridge that was given none (1, 2, 3, ... in plug order). */
  nextChassis(): number;
}

/** What a bus's functions connect to, supplied by whatever sits upstream (host bridge or PCI-to-PCI bridge). */
export interface BusUpstream {
  readonly ports: PortBus;
  readonly mmio: MmioBus;
  /** A fresh wired-OR input onto the wire that INTx `pin` (1 = INTA) of a function in `slot` drives. */
  intx(slot: number, pin: number): IrqLine;
  /** Absent on bus 0, where every address decodes (see PciBusConnection.decodes). */
  decodes?(space: AddressSpace, start: number, length: number): boolean;
  readonly firmware: FirmwareHooks;
}

/** A function with a bus of its own behind it: a PCI-to-PCI bridge. */
export interface BusOwner {
  readonly secondary: PciBusSegment;
  /** Plugged into `slot` of a bus fed by `parent`: the secondary bus comes alive. */
  linkUpstream(parent: BusUpstream, slot: number): void;
}

export function ownsBus(device: PciDevice): device is PciDevice & BusOwner {
  return (device as Partial<BusOwner>).secondary instanceof PciBusSegment;
}

export interface PlacedFunction {
  slot: number;
  fn: number;
  device: PciDevice;
}

export interface BusSegmentOptions {
  /** How error messages name a slot of this bus, e.g. "00:03.0". */
  describe(slot: number, fn: number): string;
  /** Lowest usable slot (1 behind a bridge with a hot-plug controller, as QEMU's SHPC allows). */
  firstSlot?: number;
  /** Why slots below firstSlot are refused. */
  firstSlotReason?: string;
}

/**
 * One PCI bus: 32 slots of 8 functions. Bus 0 belongs to the host; each bridge owns its
 * secondary bus. Functions may be attached before the bus is linked to an upstream (a bridge
 * not yet plugged in); they are connected when it is.
 */
export class PciBusSegment {
  private readonly functions: (PciDevice | undefined)[] = new Array(SLOTS * FUNCTIONS).fill(undefined);
  private upstream: BusUpstream | undefined;

  constructor(private readonly options: BusSegmentOptions) {}

  attach(slot: number, device: PciDevice, fn = 0): void {
    const first = this.options.firstSlot ?? 0;
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new RangeError(`PCI slot ${slot} does not exist (0..31)`);
    if (slot < first) throw new RangeError(`PCI slot ${slot} cannot be used here: ${this.options.firstSlotReason ?? `slots start at ${first}`}`);
    if (!Number.isInteger(fn) || fn < 0 || fn >= FUNCTIONS) throw new RangeError(`PCI function ${fn} does not exist (0..7)`);
    const existing = this.functions[slot * FUNCTIONS + fn];
    if (existing) throw new Error(`PCI ${this.options.describe(slot, fn)} is taken by ${existing.name}; ${device.name} needs another slot`);
    if (device.attachedTo) throw new Error(`${device.name} is already attached to the PCI bus`);
    const fn0 = this.functionAt(slot, 0);
    const fn0HeaderType = fn0?.config.get8(Cfg.HEADER_TYPE);
    this.functions[slot * FUNCTIONS + fn] = device;
    this.placedList = undefined;
    device.attachedTo = this;
    this.markMultiFunction(slot);
    if (!this.upstream) return;
    try {
      this.plug(slot, device);
      this.upstream.firmware.relayout();
    } catch (e) {
      // A layout that does not fit is a build error; the slot stays free and the old layout stays in force.
      this.functions[slot * FUNCTIONS + fn] = undefined;
      this.placedList = undefined;
      device.attachedTo = undefined;
      if (fn0 && fn0HeaderType !== undefined) fn0.config.set8(Cfg.HEADER_TYPE, fn0HeaderType);
      throw e;
    }
  }

  /** Connect this bus (and everything already attached to it) to what feeds it. */
  link(upstream: BusUpstream): void {
    if (this.upstream) throw new Error('PCI bus segment is already linked');
    this.upstream = upstream;
    for (const { slot, device } of this.placed()) this.plug(slot, device);
  }

  get linked(): boolean {
    return this.upstream !== undefined;
  }

  functionAt(slot: number, fn = 0): PciDevice | undefined {
    return this.functions[slot * FUNCTIONS + fn];
  }

  /** The lowest usable slot whose function 0 is free, or undefined when the bus is full. */
  freeSlot(): number | undefined {
    for (let slot = this.options.firstSlot ?? 0; slot < SLOTS; slot++) if (!this.functionAt(slot, 0)) return slot;
    return undefined;
  }

  /**
   * Every function on this bus in device/function order (the order firmware scans). Kept until a
   * function is plugged or removed: every configuration cycle for a bus behind a bridge walks it.
   */
  placed(): readonly PlacedFunction[] {
    if (this.placedList === undefined) {
      const out: PlacedFunction[] = [];
      this.functions.forEach((device, i) => {
        if (device) out.push({ slot: Math.floor(i / FUNCTIONS), fn: i % FUNCTIONS, device });
      });
      this.placedList = out;
      this.bridgeList = out.map((p) => p.device).filter(ownsBus);
    }
    return this.placedList;
  }
  private placedList: PlacedFunction[] | undefined;
  /** The bridges among placed(), in the same order: a firmware scan of buses 1..255 asks this bus about each of them. */
  private bridgeList: (PciDevice & BusOwner)[] = [];

  private bridges(): readonly (PciDevice & BusOwner)[] {
    if (this.placedList === undefined) this.placed();
    return this.bridgeList;
  }

  /**
   * The function a configuration cycle for `bus`/`slot`/`fn` reaches, this bus being number
   * `ownNumber`: its own functions for a type-0 cycle, otherwise through the first bridge whose
   * secondary..subordinate range holds `bus` (which passes it on as type 0 or type 1).
   * Bridges forward config cycles whatever their command register says. The walk follows the
   * object tree, so even misprogrammed bus numbers cannot loop.
   */
  resolve(bus: number, slot: number, fn: number, ownNumber: number): PciDevice | undefined {
    return this.segmentFor(bus, ownNumber)?.functionAt(slot, fn);
  }

  /** The bus a configuration cycle for `bus` reaches (see resolve): routing depends on the bus number alone. */
  segmentFor(bus: number, ownNumber: number): PciBusSegment | undefined {
    if (bus === ownNumber) return this;
    for (const device of this.bridges()) {
      const secondary = device.config.get8(BridgeCfg.SECONDARY_BUS);
      const subordinate = device.config.get8(BridgeCfg.SUBORDINATE_BUS);
      if (bus >= secondary && bus <= subordinate) {
        return device.secondary.segmentFor(bus, secondary);
      }
    }
    return undefined;
  }

  /** Bit n set: slot n holds at least one function. */
  occupiedSlots(): number {
    let mask = 0;
    for (const { slot } of this.placed()) mask |= 1 << slot;
    return mask;
  }

  private plug(slot: number, device: PciDevice): void {
    const up = this.upstream!;
    // A bridge links its own bus first, so the chassis number is part of its power-on image.
    if (ownsBus(device)) device.linkUpstream(up, slot);
    const pin = device.config.get8(Cfg.INTERRUPT_PIN);
    const irq = pin >= 1 && pin <= 4 ? up.intx(slot, pin) : undefined;
    const decodes = up.decodes ? (space: AddressSpace, start: number, length: number) => up.decodes!(space, start, length) : undefined;
    device.connect({ ports: up.ports, mmio: up.mmio, irq, decodes });
    device.firmwareSetup = () => up.firmware.setUp(device);
  }

  /** Function 0 advertises more functions through bit 7 of its header type. */
  private markMultiFunction(slot: number): void {
    const fn0 = this.functionAt(slot, 0);
    if (!fn0) return;
    let others = false;
    for (let fn = 1; fn < FUNCTIONS; fn++) others ||= this.functionAt(slot, fn) !== undefined;
    if (others) fn0.config.set8(Cfg.HEADER_TYPE, fn0.config.get8(Cfg.HEADER_TYPE) | HEADER_TYPE_MULTI_FUNCTION);
  }
}
