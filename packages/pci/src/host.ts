import type { AccessSize, Device, IrqLine, MmioBus, PortBus } from '@unimachine/core';
import { applyFirmwareSetup, layoutBars, markLevelTriggered, type BarAssignment } from './firmware.js';
import { I440fxHostBridge } from './host-bridge.js';
import { Piix3Ide, Piix3IsaBridge } from './piix3.js';
import { pirqFor, WiredOrIrq } from './irq-routing.js';
import type { PciBus, PciDevice } from './pci-device.js';
import { Cfg, HEADER_TYPE_MULTI_FUNCTION } from './registers.js';

export const CONFIG_ADDRESS_PORT = 0xcf8;
export const CONFIG_DATA_PORT = 0xcfc;
const ENABLE = 0x80000000;
/** Bits 30..24 and 1..0 of CONFIG_ADDRESS are reserved and read as zero. */
const ADDRESS_MASK = 0x80fffffc;
export const SLOTS = 32;
export const FUNCTIONS = 8;

/** One PIRQ line: the interrupt controller input it drives and the ISA IRQ number firmware reports. */
export interface PirqRoute {
  line: IrqLine;
  /** Written to each device's interrupt line register (what `lspci` shows as IRQ). */
  irq: number;
}

export interface PciHostOptions {
  ports: PortBus;
  mmio: MmioBus;
  /** PIRQA..PIRQD. Routes that share an IrqLine object are wired-OR onto it. */
  pirqs: readonly PirqRoute[];
  /** Guest RAM size: the PCI memory window starts above it (and at least at 2 GiB, as SeaBIOS does). */
  memorySize?: number;
  /** Put the PIIX3 functions QEMU's PC has at slot 1: ISA bridge 00:01.0 and IDE 00:01.1 (default true). */
  piix3?: boolean;
  name?: string;
}

/**
 * PCI bus 0 behind configuration mechanism #1 (ports 0xCF8/0xCFC), with a 440FX host bridge
 * at 00:00.0. Devices plug in with attach(); as the machine has no BIOS, the host plays the
 * firmware: it lays out every BAR, fills the interrupt line and enables decoding each time a
 * device is attached, so the final layout is the one SeaBIOS would compute for the whole set,
 * and it marks the PIRQ IRQs level-triggered in the ELCR (0x4D0/0x4D1) as SeaBIOS does.
 */
export class PciHost implements Device, PciBus {
  private address = 0;
  private readonly functions: (PciDevice | undefined)[] = new Array(SLOTS * FUNCTIONS).fill(undefined);
  private readonly pirqInputs: (() => IrqLine)[];
  private readonly pirqIrqs: number[];
  private readonly memWindowStart: number;
  private assignment = new Map<PciDevice, BarAssignment>();
  readonly hostBridge: I440fxHostBridge;
  readonly isaBridge: Piix3IsaBridge | undefined;
  readonly ide: Piix3Ide | undefined;
  readonly name: string;

  constructor(private readonly options: PciHostOptions) {
    if (options.pirqs.length !== 4) throw new Error('PCI host: exactly four PIRQ routes (A..D) are needed');
    this.name = options.name ?? 'pci';
    const gates = new Map<IrqLine, WiredOrIrq>();
    this.pirqInputs = options.pirqs.map(({ line }) => {
      let gate = gates.get(line);
      if (!gate) gates.set(line, (gate = new WiredOrIrq(line)));
      return () => gate.input();
    });
    this.pirqIrqs = options.pirqs.map((r) => r.irq);
    this.memWindowStart = Math.max(options.memorySize ?? 0, (options.memorySize ?? 0) <= 0x80000000 ? 0x80000000 : 0xc0000000);

    options.ports.claim(
      { start: CONFIG_ADDRESS_PORT, length: 1 }, // 0xCF9 stays free for the chipset's reset control register
      { read: (_p, size) => this.readAddress(size), write: (_p, size, v) => this.writeAddress(size, v) },
      this.name,
    );
    options.ports.claim(
      { start: CONFIG_DATA_PORT, length: 4 },
      { read: (p, size) => this.readData(p, size), write: (p, size, v) => this.writeData(p, size, v) },
      this.name,
    );
    markLevelTriggered(options.ports, this.pirqIrqs);
    this.hostBridge = new I440fxHostBridge(`${this.name} 00:00.0`);
    this.attach(0, this.hostBridge);
    if (options.piix3 === false) {
      this.isaBridge = this.ide = undefined;
    } else {
      this.isaBridge = new Piix3IsaBridge(this.pirqIrqs, `${this.name} 00:01.0`);
      this.ide = new Piix3Ide(`${this.name} 00:01.1`);
      this.attach(1, this.isaBridge);
      this.attach(1, this.ide, 1);
    }
  }

  /** Plug `device` into slot 0..31 (function 0..7) of bus 0; BARs and IRQ are set up as firmware would. */
  attach(slot: number, device: PciDevice, fn = 0): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new RangeError(`PCI slot ${slot} does not exist (0..31)`);
    if (!Number.isInteger(fn) || fn < 0 || fn >= FUNCTIONS) throw new RangeError(`PCI function ${fn} does not exist (0..7)`);
    const existing = this.functions[slot * FUNCTIONS + fn];
    if (existing) throw new Error(`PCI ${bdf(slot, fn)} is taken by ${existing.name}; ${device.name} needs another slot`);
    if (this.functions.includes(device)) throw new Error(`${device.name} is already attached to the PCI bus`);
    this.functions[slot * FUNCTIONS + fn] = device;
    this.markMultiFunction(slot);

    const pin = device.config.get8(Cfg.INTERRUPT_PIN);
    const irq = pin >= 1 && pin <= 4 ? this.pirqInputs[pirqFor(slot, pin)]() : undefined;
    device.connect({ ports: this.options.ports, mmio: this.options.mmio, irq });
    device.firmwareSetup = () => this.setUpLikeFirmware(device);
    this.assignResources();
  }

  freeSlot(): number | undefined {
    for (let slot = 0; slot < SLOTS; slot++) if (!this.functionAt(slot, 0)) return slot;
    return undefined;
  }

  /** The function at bus 0, `slot`.`fn`, if any. */
  functionAt(slot: number, fn = 0): PciDevice | undefined {
    return this.functions[slot * FUNCTIONS + fn];
  }

  /** The ISA IRQ a device in `slot` using `pin` (1 = INTA) is routed to. */
  irqFor(slot: number, pin: number): number {
    return this.pirqIrqs[pirqFor(slot, pin)];
  }

  /** Lay out all BARs again and redo every function's firmware setup (decoding off while moving). */
  assignResources(): void {
    const devices = this.functions.filter((d): d is PciDevice => d !== undefined);
    this.assignment = layoutBars(devices, this.memWindowStart);
    for (const d of devices) d.writeConfig(Cfg.COMMAND, 2, 0); // release every claim before anything moves
    for (const d of devices) this.setUpLikeFirmware(d);
  }

  reset(): void {
    this.address = 0;
    markLevelTriggered(this.options.ports, this.pirqIrqs);
    // PCI RST# reaches every function; each one then gets its firmware setup back.
    for (const d of this.functions) d?.reset();
  }

  /** The host's own functions (host bridge, PIIX3); attached devices snapshot themselves. */
  snapshot(): unknown {
    return {
      address: this.address,
      hostBridge: this.hostBridge.snapshot(),
      isaBridge: this.isaBridge?.snapshot(),
      ide: this.ide?.snapshot(),
    };
  }

  restore(state: unknown): void {
    const s = state as { address: number; hostBridge: unknown; isaBridge?: unknown; ide?: unknown };
    this.address = (s.address & ADDRESS_MASK) >>> 0;
    this.hostBridge.restore(s.hostBridge);
    if (this.isaBridge && s.isaBridge) this.isaBridge.restore(s.isaBridge);
    if (this.ide && s.ide) this.ide.restore(s.ide);
  }

  // --- configuration mechanism #1 ---

  private readAddress(size: AccessSize): number {
    // Only dword accesses reach CONFIG_ADDRESS; narrower ones are ordinary (here unclaimed) I/O.
    return size === 4 ? this.address : ALL_ONES[size];
  }

  private writeAddress(size: AccessSize, value: number): void {
    if (size === 4) this.address = (value & ADDRESS_MASK) >>> 0;
  }

  /** The function and dword-aligned register CONFIG_ADDRESS selects, or undefined if disabled/absent. */
  private selected(): { dev: PciDevice; reg: number } | undefined {
    const a = this.address;
    if (!(a & ENABLE)) return undefined;
    const bus = (a >>> 16) & 0xff;
    const dev = bus === 0 ? this.functionAt((a >>> 11) & 31, (a >>> 8) & 7) : undefined;
    return dev && { dev, reg: a & 0xfc };
  }

  private readData(port: number, size: AccessSize): number {
    const sel = this.selected();
    if (!sel) return ALL_ONES[size];
    const lane = port - CONFIG_DATA_PORT;
    if (lane + size <= 4) return sel.dev.readConfig(sel.reg + lane, size);
    // An access running past the selected dword: only its bytes inside the dword are config data.
    let value = 0;
    for (let i = 0; i < size; i++) {
      const byte = lane + i < 4 ? sel.dev.readConfig(sel.reg + lane + i, 1) : 0xff;
      value += byte * 2 ** (8 * i);
    }
    return value;
  }

  private writeData(port: number, size: AccessSize, value: number): void {
    const sel = this.selected();
    if (!sel) return;
    const lane = port - CONFIG_DATA_PORT;
    if (lane + size <= 4) return sel.dev.writeConfig(sel.reg + lane, size, value);
    for (let i = 0; lane + i < 4; i++) sel.dev.writeConfig(sel.reg + lane + i, 1, (value >>> (8 * i)) & 0xff);
  }

  // --- firmware ---

  private setUpLikeFirmware(device: PciDevice): void {
    const index = this.functions.indexOf(device);
    if (index < 0) return;
    const slot = Math.floor(index / FUNCTIONS);
    const pin = device.config.get8(Cfg.INTERRUPT_PIN);
    const line = pin >= 1 && pin <= 4 ? this.irqFor(slot, pin) : undefined;
    applyFirmwareSetup(device, this.assignment.get(device) ?? new Map(), line);
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

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff];

function bdf(slot: number, fn: number): string {
  return `00:${slot.toString(16).padStart(2, '0')}.${fn}`;
}
