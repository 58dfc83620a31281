import { SnapshotError, StateReader, type AccessSize, type Device, type GuestMemory, type IrqLine, type MmioBus, type PortBus } from '@unimachine/core';
import { buildPciHostFastPath, PCI_CELL } from './host-fast-path.js';
import { FUNCTIONS, ownsBus, PciBusSegment, SLOTS, type BusUpstream } from './bus-segment.js';
import { applyBridgeSetup, applyFirmwareSetup, enableBridgeSerr, markLevelTriggered } from './firmware.js';
import { planFirmware, sameSetup, type FunctionSetup } from './firmware-plan.js';
import { I440fxHostBridge } from './host-bridge.js';
import { Piix3Ide, Piix3IsaBridge } from './piix3.js';
import { pirqFor, WiredOrIrq } from './irq-routing.js';
import type { PciBus, PciDevice, PciDeviceState } from './pci-device.js';
import { BridgeCfg, Cfg } from './registers.js';

export const PCI_HOST_STATE_VERSION = 1;

/** What PciHost.snapshot() saves: CONFIG_ADDRESS and the host's own functions (attached devices save themselves). */
export interface PciHostState {
  version: number;
  address: number;
  hostBridge: PciDeviceState;
  isaBridge: PciDeviceState | null;
  ide: PciDeviceState | null;
}

export const CONFIG_ADDRESS_PORT = 0xcf8;
export const CONFIG_DATA_PORT = 0xcfc;
const ENABLE = 0x80000000;
/** Bits 30..24 and 1..0 of CONFIG_ADDRESS are reserved and read as zero. */
const ADDRESS_MASK = 0x80fffffc;
export { SLOTS, FUNCTIONS };

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
  /**
   * The machine's memory: CONFIG_ADDRESS and the bus routing then live in its host area, where
   * compiled guest code probes empty slots without leaving WebAssembly (host-fast-path.ts).
   */
  memory?: GuestMemory;
}

/** One function as `lspci` lists it. */
export interface PciFunctionInfo {
  bus: number;
  slot: number;
  fn: number;
  /** "bb:ss.f" in hex, as lspci and QEMU print it. */
  bdf: string;
  device: PciDevice;
}

/**
 * PCI bus 0 behind configuration mechanism #1 (ports 0xCF8/0xCFC), with a 440FX host bridge
 * at 00:00.0, and the root of every bus behind PCI-to-PCI bridges. Devices plug in with
 * attach() (here or on a bridge); as the machine has no BIOS, the host plays the firmware:
 * each time a function is plugged in anywhere it numbers the buses, lays out every BAR and
 * bridge window, fills the interrupt lines and enables decoding, so the final layout is the one
 * SeaBIOS would compute for the whole set, and it marks the PIRQ IRQs level-triggered in the
 * ELCR (0x4D0/0x4D1) as SeaBIOS does.
 */
export class PciHost implements Device, PciBus {
  /** PCI_CELL: CONFIG_ADDRESS and the slots each bus number reaches, shared with the fast path. */
  private readonly cells: Int32Array;
  private readonly bus0: PciBusSegment;
  private readonly pirqInputs: (() => IrqLine)[];
  private readonly pirqIrqs: number[];
  private readonly memWindowStart: number;
  private plan = new Map<PciDevice, FunctionSetup>();
  private chassisCount = 0;
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

    const memory = options.memory;
    const cellsAt = memory?.allocateHostArea(PCI_CELL.BYTES, 8) ?? 0;
    this.cells = new Int32Array(memory?.buffer ?? new ArrayBuffer(PCI_CELL.BYTES), cellsAt, PCI_CELL.BYTES / 4);
    const fastPath = memory ? buildPciHostFastPath(memory.wasm, cellsAt) : undefined;
    options.ports.claim(
      { start: CONFIG_ADDRESS_PORT, length: 1 }, // 0xCF9 stays free for the chipset's reset control register
      { read: (_p, size) => this.readAddress(size), write: (_p, size, v) => this.writeAddress(size, v), fastPath },
      this.name,
    );
    options.ports.claim(
      { start: CONFIG_DATA_PORT, length: 4 },
      { read: (p, size) => this.readData(p, size), write: (p, size, v) => this.writeData(p, size, v), fastPath },
      this.name,
    );
    markLevelTriggered(options.ports, this.pirqIrqs);
    this.bus0 = new PciBusSegment({ describe: (slot, fn) => bdf(0, slot, fn) });
    const upstream: BusUpstream = {
      ports: options.ports,
      mmio: options.mmio,
      intx: (slot, pin) => this.pirqInputs[pirqFor(slot, pin)](),
      firmware: {
        relayout: () => this.assignResources(),
        setUp: (device) => this.setUpLikeFirmware(device),
        nextChassis: () => ++this.chassisCount,
      },
    };
    this.bus0.link(upstream);
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

  /**
   * Plug `device` into slot 0..31 (function 0..7) of bus 0; BARs and IRQ are set up as firmware
   * would. A PciBridge plugged in here brings its secondary bus (and whatever is on it) along.
   */
  attach(slot: number, device: PciDevice, fn = 0): void {
    this.bus0.attach(slot, device, fn);
  }

  freeSlot(): number | undefined {
    return this.bus0.freeSlot();
  }

  /** The function at bus 0, `slot`.`fn`, if any. */
  functionAt(slot: number, fn = 0): PciDevice | undefined {
    return this.bus0.functionAt(slot, fn);
  }

  /**
   * The function a configuration cycle for `bus`:`slot`.`fn` reaches, routed through the bridges
   * by their bus number registers as they are programmed right now.
   */
  findFunction(bus: number, slot: number, fn = 0): PciDevice | undefined {
    return this.bus0.resolve(bus, slot, fn, 0);
  }

  /**
   * Every function the guest can reach, with its address, in bus then slot order (as `lspci`
   * lists them). Functions behind a bridge whose bus numbers are not (yet) programmed are left out.
   */
  listFunctions(): PciFunctionInfo[] {
    const out: PciFunctionInfo[] = [];
    const walk = (segment: PciBusSegment, bus: number) => {
      for (const { slot, fn, device } of segment.placed()) {
        if (this.findFunction(bus, slot, fn) === device) out.push({ bus, slot, fn, bdf: bdf(bus, slot, fn), device });
        if (ownsBus(device)) {
          const secondary = device.config.get8(BridgeCfg.SECONDARY_BUS);
          if (secondary !== 0) walk(device.secondary, secondary);
        }
      }
    };
    walk(this.bus0, 0);
    return out.sort((a, b) => a.bus - b.bus || a.slot - b.slot || a.fn - b.fn);
  }

  /** CONFIG_ADDRESS as a signed 32-bit value (a small integer to V8 even with the enable bit set); unsigned where it leaves. */
  private get address(): number {
    return this.cells[PCI_CELL.ADDRESS];
  }

  private set address(value: number) {
    this.cells[PCI_CELL.ADDRESS] = value;
  }

  /** Write which slots each bus number reaches, for the fast path: after anything that may change it. */
  private publishRouting(): void {
    for (let bus = 0; bus < 256; bus++) this.cells[PCI_CELL.SLOTS_OF_BUS + bus] = this.bus0.segmentFor(bus, 0)?.occupiedSlots() ?? 0;
  }

  /** The ISA IRQ a device in `slot` using `pin` (1 = INTA) is routed to. */
  irqFor(slot: number, pin: number): number {
    return this.pirqIrqs[pirqFor(slot, pin)];
  }

  /**
   * Number the buses, lay out all BARs and bridge windows again and redo the firmware setup of
   * every function whose share changed (decoding off while moving), bus by bus so bridges open
   * before their devices. Functions that keep their setup are left alone: the machine is built
   * before the guest runs, so their registers still hold it, and skipping them keeps building a
   * machine with many devices fast.
   */
  assignResources(): void {
    const previous = this.plan;
    this.plan = planFirmware(this.bus0, (slot, pin) => this.irqFor(slot, pin), this.memWindowStart);
    const moved = [...this.plan].filter(([device, setup]) => !sameSetup(previous.get(device), setup)).map(([device]) => device);
    for (const d of moved) d.writeConfig(Cfg.COMMAND, 2, 0); // release every claim before anything moves
    for (const d of moved) this.setUpLikeFirmware(d);
    this.publishRouting();
  }

  reset(): void {
    this.address = 0;
    markLevelTriggered(this.options.ports, this.pirqIrqs);
    // PCI RST# reaches every function (bridges pass it on); each one then gets its firmware setup back.
    for (const { device } of this.bus0.placed()) device.reset();
    this.publishRouting();
  }

  /** The host's own functions (host bridge, PIIX3); attached devices snapshot themselves. */
  snapshot(): PciHostState {
    return {
      version: PCI_HOST_STATE_VERSION,
      address: this.address >>> 0,
      hostBridge: this.hostBridge.snapshot(),
      isaBridge: this.isaBridge?.snapshot() ?? null,
      ide: this.ide?.snapshot() ?? null,
    };
  }

  /**
   * The host's own functions, then every function on every bus re-decodes its BARs: devices and
   * bridges were restored before the host, and a BAR that moved onto a place another function had
   * not left yet is mapped now.
   */
  restore(state: unknown): void {
    const r = StateReader.open(this.name, state, PCI_HOST_STATE_VERSION);
    const address = r.uint('address', 32);
    const hasPiix3 = this.isaBridge !== undefined;
    if ((r.raw('isaBridge') !== null) !== hasPiix3 || (r.raw('ide') !== null) !== hasPiix3) {
      throw new SnapshotError(this.name, hasPiix3 ? 'the saved host has no PIIX3 functions, this one has' : 'the saved host has PIIX3 functions, this one has none');
    }
    this.hostBridge.restore(r.raw('hostBridge'));
    this.isaBridge?.restore(r.raw('isaBridge'));
    this.ide?.restore(r.raw('ide'));
    this.address = address & ADDRESS_MASK;
    const refresh = (segment: PciBusSegment) => {
      for (const { device } of segment.placed()) {
        device.refreshDecoding();
        if (ownsBus(device)) refresh(device.secondary);
      }
    };
    refresh(this.bus0);
    this.publishRouting();
  }

  // --- configuration mechanism #1 ---

  private readAddress(size: AccessSize): number {
    // Only dword accesses reach CONFIG_ADDRESS; narrower ones are ordinary (here unclaimed) I/O.
    return size === 4 ? this.address >>> 0 : ALL_ONES[size];
  }

  private writeAddress(size: AccessSize, value: number): void {
    if (size === 4) this.address = value & ADDRESS_MASK;
  }

  /**
   * The function CONFIG_ADDRESS selects (its dword-aligned register is address & 0xfc), or
   * undefined if disabled or absent: bus 0 is a type-0 cycle, any other bus a type-1 cycle routed
   * through the bridges.
   */
  private selected(): PciDevice | undefined {
    const a = this.address;
    if (!(a & ENABLE)) return undefined;
    return this.bus0.resolve((a >>> 16) & 0xff, (a >>> 11) & 31, (a >>> 8) & 7, 0);
  }

  private readData(port: number, size: AccessSize): number {
    const dev = this.selected();
    if (!dev) return ALL_ONES[size];
    const reg = this.address & 0xfc;
    const lane = port - CONFIG_DATA_PORT;
    if (lane + size <= 4) return dev.readConfig(reg + lane, size);
    // An access running past the selected dword: only its bytes inside the dword are config data.
    let value = 0;
    for (let i = 0; i < size; i++) {
      const byte = lane + i < 4 ? dev.readConfig(reg + lane + i, 1) : 0xff;
      value += byte * 2 ** (8 * i);
    }
    return value;
  }

  private writeData(port: number, size: AccessSize, value: number): void {
    const dev = this.selected();
    if (!dev) return;
    const reg = this.address & 0xfc;
    const lane = port - CONFIG_DATA_PORT;
    if (lane + size <= 4) dev.writeConfig(reg + lane, size, value);
    else for (let i = 0; lane + i < 4; i++) dev.writeConfig(reg + lane + i, 1, (value >>> (8 * i)) & 0xff);
    if (ownsBus(dev)) this.publishRouting(); // its bus numbers may have changed
  }

  // --- firmware ---

  /** SeaBIOS's order: bus numbers and windows, BARs, interrupt line, command, then a bridge's SERR forwarding. */
  private setUpLikeFirmware(device: PciDevice): void {
    const setup = this.plan.get(device);
    if (!setup) return;
    if (setup.bridge) applyBridgeSetup(device, setup.bridge.numbers, setup.bridge.windows);
    applyFirmwareSetup(device, setup.bars, setup.interruptLine);
    if (setup.bridge) enableBridgeSerr(device);
  }
}

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff];

function bdf(bus: number, slot: number, fn: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `${hex(bus)}:${hex(slot)}.${fn}`;
}

/** `lspci -n`-like lines for diagnostics: "01:02.0 1af4:1001 class 010000 disk0". */
export function formatFunctionList(functions: readonly PciFunctionInfo[]): string {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  return functions
    .map(({ bdf: address, device }) => {
      const c = device.config;
      const classCode = (c.get8(Cfg.CLASS) << 16) | (c.get8(Cfg.SUBCLASS) << 8) | c.get8(Cfg.PROG_IF);
      return `${address} ${hex(c.get16(Cfg.VENDOR_ID), 4)}:${hex(c.get16(Cfg.DEVICE_ID), 4)} class ${hex(classCode, 6)} ${device.name}`;
    })
    .join('\n');
}
