import type { AccessSize, StateReader } from '@unimachine/core';
import { PciBusSegment, type BusOwner, type BusUpstream } from './bus-segment.js';
import { bridgeSwizzle, WiredOrIrq } from './irq-routing.js';
import { PciDevice, type AddressSpace, type BarHandler, type PciBus } from './pci-device.js';
import {
  BRIDGE_CONTROL_WRITABLE, BridgeCfg, BridgeControl, CapabilityId, Cfg, CLASS_PCI_BRIDGE, Command, HEADER_TYPE_BRIDGE,
  IO_RANGE_TYPE_16, PREF_RANGE_TYPE_64, Status, STATUS_WRITE_1_TO_CLEAR,
} from './registers.js';

/** QEMU's `pci-bridge`: Red Hat, Inc. QEMU PCI-PCI bridge. */
export const PCI_BRIDGE_IDS = { vendorId: 0x1b36, deviceId: 0x0001 } as const;

/** Slot-id capability: "first in chassis" bit of the expansion slot register. */
const SLOT_ID_FIRST_IN_CHASSIS = 0x20;
/** QEMU sizes the SHPC register BAR to 256 bytes (64-bit, non-prefetchable). */
const SHPC_BAR_SIZE = 0x100;
const TWO_16 = 0x10000;
const TWO_32 = 0x1_0000_0000;

export interface PciBridgeOptions {
  name?: string;
  /**
   * Mirror QEMU's default `shpc=on`: a standard hot-plug controller capability, its register BAR
   * and INTA. Its buses use slots 1..31, and firmware reserves windows for an empty bridge.
   * The controller's registers read as zero here (no hot-plug). Default true.
   */
  shpc?: boolean;
  /** Slot-id capability chassis number; default: 1, 2, 3, ... in the order bridges are plugged in. */
  chassis?: number;
}

/** An address range a bridge forwards downstream (limit inclusive); empty when base > limit. */
export interface BridgeWindow {
  base: number;
  limit: number;
}

/**
 * A PCI-to-PCI bridge with a type-1 header, as QEMU's `pci-bridge` (1b36:0001). On its primary
 * bus it is an ordinary function; behind it is a secondary bus of 32 slots x 8 functions.
 * - Configuration cycles for buses secondary..subordinate are forwarded (see PciBusSegment.resolve).
 * - Memory and I/O reach a device behind it only inside the windows and only while the command
 *   register enables the space; every change re-evaluates decoding below.
 * - INTx pin P of slot S below arrives on the primary side as pin ((S + P - 1) mod 4) + 1.
 * - Bridge control bit 6 (secondary bus reset) resets every function below, which then stays
 *   unprogrammed until the guest sets it up again.
 */
export class PciBridge extends PciDevice implements PciBus, BusOwner {
  readonly secondary: PciBusSegment;
  readonly shpc: boolean;
  private readonly slotIdOffset: number;
  private chassis: number | undefined;
  private upstreamPins: WiredOrIrq[] = [];
  private parent: BusUpstream | undefined;
  private secondaryResetAsserted = false;

  constructor(options: PciBridgeOptions = {}) {
    const shpc = options.shpc ?? true;
    super({ ...PCI_BRIDGE_IDS, classCode: CLASS_PCI_BRIDGE, interruptPin: shpc ? 1 : 0 }, options.name ?? 'pci-bridge');
    this.shpc = shpc;
    this.chassis = options.chassis;
    const c = this.config;
    c.set8(Cfg.HEADER_TYPE, HEADER_TYPE_BRIDGE);
    c.set16(Cfg.STATUS, c.get16(Cfg.STATUS) | Status.CAPABLE_66MHZ | Status.FAST_BACK_TO_BACK);
    for (const reg of [BridgeCfg.PRIMARY_BUS, BridgeCfg.SECONDARY_BUS, BridgeCfg.SUBORDINATE_BUS, BridgeCfg.SECONDARY_LATENCY_TIMER]) {
      c.setWritable(reg, 1, 0xff);
    }
    // 16-bit I/O decode: the low nibble (range type) and the upper-16 registers are read-only zero.
    c.set8(BridgeCfg.IO_BASE, IO_RANGE_TYPE_16);
    c.set8(BridgeCfg.IO_LIMIT, IO_RANGE_TYPE_16);
    c.setWritable(BridgeCfg.IO_BASE, 1, 0xf0);
    c.setWritable(BridgeCfg.IO_LIMIT, 1, 0xf0);
    c.set16(BridgeCfg.SECONDARY_STATUS, Status.CAPABLE_66MHZ | Status.FAST_BACK_TO_BACK);
    c.setWriteOneToClear(BridgeCfg.SECONDARY_STATUS, 2, STATUS_WRITE_1_TO_CLEAR);
    c.setWritable(BridgeCfg.MEMORY_BASE, 2, 0xfff0);
    c.setWritable(BridgeCfg.MEMORY_LIMIT, 2, 0xfff0);
    c.set16(BridgeCfg.PREF_MEMORY_BASE, PREF_RANGE_TYPE_64);
    c.set16(BridgeCfg.PREF_MEMORY_LIMIT, PREF_RANGE_TYPE_64);
    c.setWritable(BridgeCfg.PREF_MEMORY_BASE, 2, 0xfff0);
    c.setWritable(BridgeCfg.PREF_MEMORY_LIMIT, 2, 0xfff0);
    c.setWritable(BridgeCfg.PREF_BASE_UPPER32, 4, 0xffffffff);
    c.setWritable(BridgeCfg.PREF_LIMIT_UPPER32, 4, 0xffffffff);
    c.setWritable(BridgeCfg.BRIDGE_CONTROL, 2, BRIDGE_CONTROL_WRITABLE);
    c.setWriteOneToClear(BridgeCfg.BRIDGE_CONTROL, 2, BridgeControl.DISCARD_TIMER_STATUS);
    if (shpc) {
      this.addMemoryBar(0, SHPC_BAR_SIZE, new ZeroRegisters(), { is64: true });
      // DWORD select (writable), pending/status, DWORD data: the data reads as zero.
      this.addCapability(CapabilityId.SHPC, [0, 0, 0, 0, 0, 0], [0xff, 0, 0, 0, 0, 0]);
    }
    this.slotIdOffset = this.addCapability(CapabilityId.SLOT_ID, [SLOT_ID_FIRST_IN_CHASSIS, this.chassis ?? 0]);
    this.secondary = new PciBusSegment({
      describe: (slot, fn) => `${this.name} slot ${slot}.${fn} (bus ${this.secondaryBus})`,
      firstSlot: shpc ? 1 : 0,
      firstSlotReason: shpc ? 'a bridge with a hot-plug controller (shpc) has slots 1..31, as QEMU; set shpc: false to use slot 0' : undefined,
    });
  }

  // --- PciBus: devices plug into the secondary bus ---

  attach(slot: number, device: PciDevice, fn = 0): void {
    this.secondary.attach(slot, device, fn);
  }

  freeSlot(): number | undefined {
    return this.secondary.freeSlot();
  }

  functionAt(slot: number, fn = 0): PciDevice | undefined {
    return this.secondary.functionAt(slot, fn);
  }

  // --- registers as the guest (or firmware) programmed them ---

  get primaryBus(): number {
    return this.config.get8(BridgeCfg.PRIMARY_BUS);
  }
  get secondaryBus(): number {
    return this.config.get8(BridgeCfg.SECONDARY_BUS);
  }
  get subordinateBus(): number {
    return this.config.get8(BridgeCfg.SUBORDINATE_BUS);
  }

  ioWindow(): BridgeWindow {
    const c = this.config;
    return {
      base: (c.get8(BridgeCfg.IO_BASE) & 0xf0) << 8,
      limit: ((c.get8(BridgeCfg.IO_LIMIT) & 0xf0) << 8) | 0xfff,
    };
  }

  memoryWindow(): BridgeWindow {
    const c = this.config;
    return {
      base: (c.get16(BridgeCfg.MEMORY_BASE) & 0xfff0) * TWO_16,
      limit: (c.get16(BridgeCfg.MEMORY_LIMIT) & 0xfff0) * TWO_16 + 0xfffff,
    };
  }

  prefetchableWindow(): BridgeWindow {
    const c = this.config;
    return {
      base: c.get32(BridgeCfg.PREF_BASE_UPPER32) * TWO_32 + (c.get16(BridgeCfg.PREF_MEMORY_BASE) & 0xfff0) * TWO_16,
      limit: c.get32(BridgeCfg.PREF_LIMIT_UPPER32) * TWO_32 + (c.get16(BridgeCfg.PREF_MEMORY_LIMIT) & 0xfff0) * TWO_16 + 0xfffff,
    };
  }

  /** Whether this bridge passes an access to [start, start + length) down to its secondary bus. */
  forwards(space: AddressSpace, start: number, length: number): boolean {
    const end = start + length - 1;
    const inside = (w: BridgeWindow) => start >= w.base && end <= w.limit;
    if (space === 'io') return (this.command & Command.IO_SPACE) !== 0 && inside(this.ioWindow());
    return (this.command & Command.MEMORY_SPACE) !== 0 && (inside(this.memoryWindow()) || inside(this.prefetchableWindow()));
  }

  // --- the bus side ---

  linkUpstream(parent: BusUpstream, slot: number): void {
    this.parent = parent;
    this.chassis ??= parent.firmware.nextChassis();
    this.config.set8(this.slotIdOffset + 3, this.chassis);
    // Each primary-side pin is one wire on the parent bus; the functions below share it wired-OR.
    this.upstreamPins = [1, 2, 3, 4].map((pin) => new WiredOrIrq(parent.intx(slot, pin)));
    this.secondary.link({
      ports: parent.ports,
      mmio: parent.mmio,
      intx: (s, pin) => this.upstreamPins[bridgeSwizzle(s, pin) - 1].input(),
      decodes: (space, start, length) => this.forwards(space, start, length) && (parent.decodes?.(space, start, length) ?? true),
      firmware: parent.firmware,
    });
  }

  override refreshDecoding(): void {
    super.refreshDecoding();
    this.refreshBelow();
  }

  override reset(): void {
    const firmware = this.firmwareSetup !== undefined;
    super.reset();
    this.secondaryResetAsserted = false;
    this.refreshBelow();
    // RST# reaches the secondary bus too; after a system reset the firmware sets everything up again.
    for (const { device } of this.secondary.placed()) {
      if (firmware) device.reset();
      else device.resetWithoutFirmware();
    }
  }

  protected override restoreChecked(r: StateReader): void {
    super.restoreChecked(r);
    this.secondaryResetAsserted = (this.config.get16(BridgeCfg.BRIDGE_CONTROL) & BridgeControl.SECONDARY_BUS_RESET) !== 0;
    this.refreshBelow();
  }

  protected override onConfigWrite(offset: number, size: number): void {
    const end = offset + size;
    const touches = (reg: number, len: number) => offset < reg + len && end > reg;
    const windows = touches(BridgeCfg.IO_BASE, 2) || touches(BridgeCfg.MEMORY_BASE, 0x10) || touches(BridgeCfg.IO_BASE_UPPER16, 4);
    if (touches(Cfg.COMMAND, 2) || windows) this.refreshBelow();
    if (touches(BridgeCfg.BRIDGE_CONTROL, 2)) this.onBridgeControl();
  }

  private onBridgeControl(): void {
    const asserted = (this.config.get16(BridgeCfg.BRIDGE_CONTROL) & BridgeControl.SECONDARY_BUS_RESET) !== 0;
    const rising = asserted && !this.secondaryResetAsserted;
    this.secondaryResetAsserted = asserted;
    if (rising) for (const { device } of this.secondary.placed()) device.resetWithoutFirmware();
  }

  private refreshBelow(): void {
    if (!this.parent) return;
    for (const { device } of this.secondary.placed()) device.refreshDecoding();
  }
}

/** Register space that reads as zero and ignores writes (the SHPC registers, not modelled). */
class ZeroRegisters implements BarHandler {
  read(_offset: number, _size: AccessSize): number {
    return 0;
  }
  write(): void {}
}
