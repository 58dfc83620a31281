import { BusConflictError, StateReader, type AccessSize, type Device, type IrqLine, type MmioBus, type MmioHandler, type PortBus, type Registration } from '@unimachine/core';
import { ConfigSpace } from './config-space.js';
import {
  BAR_COUNT, BarFlags, Cfg, Command, COMMAND_WRITABLE, CONFIG_SPACE_SIZE, FIRST_CAPABILITY_OFFSET, Status,
  STATUS_WRITE_1_TO_CLEAR,
} from './registers.js';

/** What a BAR's owner sees: accesses relative to the BAR's start, wherever the guest put it. */
export type BarHandler = MmioHandler;

export type BarKind = 'io' | 'mem32' | 'mem64';

export interface PciIds {
  vendorId: number;
  deviceId: number;
  /** Class, subclass and programming interface as 0xCCSSPP (0x020000 = Ethernet controller). */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** INTx pin the device uses: 1 = INTA .. 4 = INTD; 0 or absent = no interrupt pin. */
  interruptPin?: number;
}

export type AddressSpace = 'io' | 'memory';

/** What the host bridge (or a PCI-to-PCI bridge) hands a device when it is plugged into a slot. */
export interface PciBusConnection {
  ports: PortBus;
  mmio: MmioBus;
  /** The INTx wire after slot/pin routing; absent for devices without an interrupt pin. */
  irq?: IrqLine;
  /**
   * Behind bridges: whether a BAR at [start, start + length) is forwarded down to this bus (it lies in
   * every ancestor bridge's window and each has the space enabled). Absent on bus 0: all of it is.
   * The bridge calls refreshDecoding() on the devices below it when the answer may have changed.
   */
  decodes?(space: AddressSpace, start: number, length: number): boolean;
}

interface Bar {
  kind: BarKind;
  size: number;
  prefetchable: boolean;
  handler: BarHandler;
  mappedAt: number | undefined;
  registration: Registration | undefined;
}

const TWO_32 = 0x1_0000_0000;

export const PCI_DEVICE_STATE_VERSION = 1;

/** What PciDevice.snapshot() saves. */
export interface PciDeviceState {
  version: number;
  config: Uint8Array;
  intx: boolean;
  [extra: string]: unknown;
}

/**
 * A PCI function with a type-0 header: 256 bytes of config space with read-only and
 * write-1-to-clear bits, the command/status pair, BARs (sizing, I/O and 32/64-bit memory,
 * decoded on the buses only while the command register enables them), a capability list
 * and INTx. Device models (virtio, ...) extend it or wrap it.
 */
export class PciDevice implements Device {
  readonly config = new ConfigSpace();
  private readonly bars: (Bar | undefined)[] = new Array(BAR_COUNT).fill(undefined);
  private nextCapabilityOffset = FIRST_CAPABILITY_OFFSET;
  private lastCapabilityOffset = 0;
  private intxAsserted = false;
  private intxLineLevel = false;
  private bus: PciBusConnection | undefined;
  private powerOnImage: Uint8Array | undefined;
  /** Set by the host bridge: redoes the boot firmware's setup (BARs, interrupt line, command) after a reset. */
  firmwareSetup: (() => void) | undefined;
  /** The bus this function is plugged into (set by the bus; a function sits in one place only). */
  attachedTo: object | undefined;

  constructor(ids: PciIds, readonly name = 'pci-device') {
    const c = this.config;
    c.set16(Cfg.VENDOR_ID, ids.vendorId);
    c.set16(Cfg.DEVICE_ID, ids.deviceId);
    c.set8(Cfg.REVISION, ids.revision ?? 0);
    c.set8(Cfg.PROG_IF, ids.classCode & 0xff);
    c.set8(Cfg.SUBCLASS, (ids.classCode >>> 8) & 0xff);
    c.set8(Cfg.CLASS, (ids.classCode >>> 16) & 0xff);
    c.set16(Cfg.SUBSYSTEM_VENDOR_ID, ids.subsystemVendorId ?? 0);
    c.set16(Cfg.SUBSYSTEM_ID, ids.subsystemId ?? 0);
    c.set8(Cfg.INTERRUPT_PIN, ids.interruptPin ?? 0);
    c.setWritable(Cfg.COMMAND, 2, COMMAND_WRITABLE);
    c.setWriteOneToClear(Cfg.STATUS, 2, STATUS_WRITE_1_TO_CLEAR);
    c.setWritable(Cfg.CACHE_LINE_SIZE, 1, 0xff);
    c.setWritable(Cfg.LATENCY_TIMER, 1, 0xff);
    c.setWritable(Cfg.INTERRUPT_LINE, 1, 0xff);
  }

  // --- declaration (by the device model, before it is plugged in) ---

  /** An I/O BAR of `size` bytes (a power of two, at least 4). */
  addIoBar(index: number, size: number, handler: BarHandler): void {
    if (!isPowerOfTwo(size) || size < 4 || size > 0x10000) throw new RangeError(`${this.name}: bad I/O BAR size ${size}`);
    this.declareBar(index, { kind: 'io', size, prefetchable: false, handler }, BarFlags.IO);
  }

  /** A memory BAR of `size` bytes (a power of two, at least 16); 64-bit BARs take two slots. */
  addMemoryBar(index: number, size: number, handler: BarHandler, options: { is64?: boolean; prefetchable?: boolean } = {}): void {
    if (!isPowerOfTwo(size) || size < 16 || size > 2 ** 40) throw new RangeError(`${this.name}: bad memory BAR size ${size}`);
    const kind: BarKind = options.is64 ? 'mem64' : 'mem32';
    if (kind === 'mem32' && size > 2 ** 31) throw new RangeError(`${this.name}: a 32-bit BAR cannot be ${size} bytes`);
    const prefetchable = options.prefetchable ?? false;
    const flags = (options.is64 ? BarFlags.MEM_TYPE_64 : 0) | (prefetchable ? BarFlags.MEM_PREFETCHABLE : 0);
    this.declareBar(index, { kind, size, prefetchable, handler }, flags);
  }

  /**
   * Append a capability: a 2-byte header (id, next pointer) followed by `body`. `writable`
   * gives per-byte guest-writable masks for the body (default: read-only). Returns the
   * capability's offset in config space.
   */
  addCapability(id: number, body: ArrayLike<number>, writable?: ArrayLike<number>): number {
    if (this.bus) throw new Error(`${this.name}: capabilities must be added before the device is plugged in`);
    const offset = this.nextCapabilityOffset;
    const end = offset + 2 + body.length;
    if (end > CONFIG_SPACE_SIZE) throw new RangeError(`${this.name}: no room in config space for capability 0x${id.toString(16)}`);
    const c = this.config;
    c.set8(offset, id);
    c.set8(offset + 1, 0);
    for (let i = 0; i < body.length; i++) {
      c.set8(offset + 2 + i, body[i]);
      c.writable[offset + 2 + i] = writable?.[i] ?? 0;
    }
    if (this.lastCapabilityOffset) c.set8(this.lastCapabilityOffset + 1, offset);
    else c.set8(Cfg.CAPABILITIES, offset);
    c.set16(Cfg.STATUS, c.get16(Cfg.STATUS) | Status.CAPABILITIES_LIST);
    this.lastCapabilityOffset = offset;
    this.nextCapabilityOffset = (end + 3) & ~3; // capabilities are dword aligned
    return offset;
  }

  // --- the bus side ---

  /** Called by the host bridge when the device is plugged in. */
  connect(bus: PciBusConnection): void {
    this.bus = bus;
    this.powerOnImage = this.config.bytes.slice();
    this.updateDecoding();
    this.updateIntxLine();
  }

  readConfig(offset: number, size: AccessSize): number {
    return this.config.read(offset, size);
  }

  writeConfig(offset: number, size: AccessSize, value: number): void {
    this.config.write(offset, size, value);
    const end = offset + size;
    const touchesCommand = offset < Cfg.COMMAND + 2 && end > Cfg.COMMAND;
    const touchesBars = offset < Cfg.BAR0 + 4 * BAR_COUNT && end > Cfg.BAR0;
    if (touchesCommand || touchesBars) this.updateDecoding();
    if (touchesCommand) this.updateIntxLine();
    this.onConfigWrite(offset, size, value);
  }

  /** Hook for device-specific config registers (capability bodies); runs after the masked write. */
  protected onConfigWrite(_offset: number, _size: number, _value: number): void {}

  get command(): number {
    return this.config.get16(Cfg.COMMAND);
  }

  get busMasterEnabled(): boolean {
    return (this.command & Command.BUS_MASTER) !== 0;
  }

  /** Where BAR `index` is decoded right now, or undefined when it is not on a bus. */
  barAddress(index: number): number | undefined {
    return this.bars[index]?.mappedAt;
  }

  barInfo(index: number): { kind: BarKind; size: number; prefetchable: boolean } | undefined {
    const b = this.bars[index];
    return b && { kind: b.kind, size: b.size, prefetchable: b.prefetchable };
  }

  // --- INTx ---

  /** The device's interrupt condition. Status bit 3 follows it; the pin is asserted unless INTx is disabled. */
  setInterrupt(asserted: boolean): void {
    this.intxAsserted = asserted;
    const status = this.config.get16(Cfg.STATUS);
    this.config.set16(Cfg.STATUS, asserted ? status | Status.INTERRUPT : status & ~Status.INTERRUPT);
    this.updateIntxLine();
  }

  get interruptAsserted(): boolean {
    return this.intxAsserted;
  }

  // --- Device ---

  reset(): void {
    if (this.powerOnImage) this.config.bytes.set(this.powerOnImage);
    this.intxAsserted = false;
    this.updateDecoding();
    this.updateIntxLine();
    this.firmwareSetup?.();
  }

  /**
   * RST# from a bridge's secondary bus reset: the same reset (device models' overrides run too),
   * but no firmware runs afterwards, so the function stays in its power-on state until the guest
   * programs it again.
   */
  resetWithoutFirmware(): void {
    const setup = this.firmwareSetup;
    this.firmwareSetup = undefined;
    try {
      this.reset();
    } finally {
      this.firmwareSetup = setup;
    }
  }

  /** Claim or release BARs again because something upstream (a bridge window) changed. */
  refreshDecoding(): void {
    this.updateDecoding();
  }

  /** Config space (256 bytes) and the interrupt condition; subclasses add their own fields. */
  snapshot(): PciDeviceState {
    return { version: PCI_DEVICE_STATE_VERSION, config: this.config.bytes.slice(), intx: this.intxAsserted };
  }

  /**
   * Checks the state, then takes its config space: BARs are re-decoded where it puts them and the
   * INTx pin follows. A BAR that clashes with a device not yet restored stays off the bus until the
   * host's restore refreshes every function (the machine restores the host after its devices).
   */
  restore(state: unknown): void {
    const r = StateReader.open(this.name, state, PCI_DEVICE_STATE_VERSION);
    this.restoreChecked(r);
  }

  /** Restore from an already opened state (subclasses read their extra fields from `r` too). */
  protected restoreChecked(r: StateReader): void {
    const config = r.bytes('config', CONFIG_SPACE_SIZE);
    const intx = r.bool('intx');
    this.config.bytes.set(config);
    this.intxAsserted = intx;
    this.updateDecoding();
    this.updateIntxLine();
  }

  // --- internals ---

  private declareBar(index: number, bar: Omit<Bar, 'mappedAt' | 'registration'>, flags: number): void {
    const slots = bar.kind === 'mem64' ? 2 : 1;
    if (!Number.isInteger(index) || index < 0 || index + slots > BAR_COUNT) throw new RangeError(`${this.name}: BAR index ${index} out of range`);
    for (let i = index; i < index + slots; i++) {
      if (this.bars[i] || this.isUpperHalf(i)) throw new Error(`${this.name}: BAR ${i} is already declared`);
    }
    if (this.bus) throw new Error(`${this.name}: BARs must be declared before the device is plugged in`);
    this.bars[index] = { ...bar, mappedAt: undefined, registration: undefined };
    const reg = Cfg.BAR0 + 4 * index;
    // The sizing protocol falls out of the mask: writing all ones reads back ~(size-1) | flags.
    const lowMask = bar.kind === 'io' ? ~(bar.size - 1) & ~0x3 : bar.size >= TWO_32 ? 0 : ~(bar.size - 1) & ~0xf;
    this.config.set32(reg, flags);
    this.config.setWritable(reg, 4, lowMask >>> 0);
    if (bar.kind === 'mem64') {
      const highMask = bar.size > TWO_32 ? (0xffffffff - (bar.size / TWO_32 - 1)) >>> 0 : 0xffffffff;
      this.config.setWritable(reg + 4, 4, highMask);
    }
  }

  private isUpperHalf(i: number): boolean {
    return i > 0 && this.bars[i - 1]?.kind === 'mem64';
  }

  /** The address the BAR register asks for, if its space is enabled and the address is usable. */
  private decodedAddress(index: number, bar: Bar): number | undefined {
    const reg = Cfg.BAR0 + 4 * index;
    const cmd = this.command;
    let address: number;
    let limit: number;
    if (bar.kind === 'io') {
      if (!(cmd & Command.IO_SPACE)) return undefined;
      address = (this.config.get32(reg) & ~0x3) >>> 0;
      limit = 0x10000;
    } else {
      if (!(cmd & Command.MEMORY_SPACE)) return undefined;
      address = (this.config.get32(reg) & ~0xf) >>> 0;
      if (bar.kind === 'mem64') address += this.config.get32(reg + 4) * TWO_32;
      limit = bar.kind === 'mem64' ? 2 ** 52 : TWO_32;
    }
    // Address 0 means "not assigned" (as QEMU treats it); ranges past the space are not decoded.
    if (address === 0 || address + bar.size > limit) return undefined;
    // Behind a bridge, only what the bridges forward reaches the device.
    const bus = this.bus;
    if (bus?.decodes && !bus.decodes(bar.kind === 'io' ? 'io' : 'memory', address, bar.size)) return undefined;
    return address;
  }

  private updateDecoding(): void {
    if (!this.bus) return;
    for (let i = 0; i < BAR_COUNT; i++) {
      const bar = this.bars[i];
      if (!bar) continue;
      const want = this.decodedAddress(i, bar);
      if (want === bar.mappedAt) continue;
      bar.registration?.release();
      bar.registration = undefined;
      bar.mappedAt = undefined;
      if (want !== undefined) this.map(bar, want, i);
    }
  }

  private map(bar: Bar, address: number, index: number): void {
    const bus = this.bus!;
    const owner = `${this.name} BAR${index}`;
    try {
      if (bar.kind === 'io') {
        const h = bar.handler;
        bar.registration = bus.ports.claim(
          { start: address, length: bar.size },
          { read: (port, size) => h.read(port - address, size), write: (port, size, v) => h.write(port - address, size, v) },
          owner,
        );
      } else {
        bar.registration = bus.mmio.claim({ start: address, length: bar.size }, bar.handler, owner);
      }
      bar.mappedAt = address;
    } catch (e) {
      if (!(e instanceof BusConflictError)) throw e;
      // The guest placed the BAR over another device: real hardware would decode garbage;
      // we leave the BAR off the bus until it is moved somewhere free.
      bar.registration = undefined;
      bar.mappedAt = undefined;
    }
  }

  private updateIntxLine(): void {
    const irq = this.bus?.irq;
    if (!irq) return;
    const level = this.intxAsserted && !(this.command & Command.INTX_DISABLE);
    if (level === this.intxLineLevel) return;
    this.intxLineLevel = level;
    if (level) irq.raise();
    else irq.lower();
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * The `pci-bus` capability (`Capability.pciBus`): what a PCI device plugin plugs into. The host
 * bridge's bus 0 and each PCI-to-PCI bridge's secondary bus provide it.
 */
export interface PciBus {
  /** Plug `device` into `slot` 0..31, function `fn`; the firmware stand-in assigns its BARs and IRQ. */
  attach(slot: number, device: PciDevice, fn?: number): void;
  /** The lowest slot whose function 0 is free, or undefined when the bus is full. */
  freeSlot(): number | undefined;
}
