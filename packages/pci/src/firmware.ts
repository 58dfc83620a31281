import { BAR_COUNT, BridgeCfg, BridgeControl, Cfg, Command } from './registers.js';
import type { PortBus } from '@unimachine/core';
import type { PciDevice } from './pci-device.js';

/** Where the boot firmware put things, per device: BAR index to address. */
export type BarAssignment = Map<number, number>;

/** SeaBIOS's I/O window for PCI on QEMU's PC: 0xC000 upward while the total stays under 16 KiB. */
export const IO_WINDOW_START = 0xc000;
export const IO_WINDOW_END = 0x10000;
/** SeaBIOS's fallback for more I/O: 0x1000 upward, below 0xA000 (QEMU's PIIX hot-plug ports). */
export const IO_LOW_WINDOW_START = 0x1000;
export const IO_LOW_WINDOW_END = 0xa000;
/** The 32-bit memory window ends below the IOAPIC at 0xFEC00000. */
export const MEM_WINDOW_END = 0xfec00000;
/** SeaBIOS gives every memory BAR at least a 4 KiB page. */
export const MEM_MIN_ALLOCATION = 0x1000;
/** SeaBIOS's bridge window granularity: 4 KiB of I/O (the register's), 2 MiB of memory (a huge page). */
export const BRIDGE_IO_ALIGN = 0x1000;
export const BRIDGE_MEM_ALIGN = 0x200000;

export type RegionKind = 'io' | 'mem' | 'prefetchable';
const KINDS: readonly RegionKind[] = ['io', 'mem', 'prefetchable'];

/** A bridge window as firmware programs it; size 0 leaves it closed (base above limit). */
export interface WindowAssignment {
  base: number;
  size: number;
}
export type BridgeWindows = Record<RegionKind, WindowAssignment>;

/** One bus as the firmware sees it after numbering. */
export interface BusResources {
  number: number;
  /** The functions on the bus in device/function order. */
  functions: readonly PciDevice[];
  /** The bridge whose secondary bus this is, and its primary bus number; absent for bus 0. */
  bridge?: { device: PciDevice; parent: number; hotplug: boolean };
}

export interface ResourceLayout {
  bars: Map<PciDevice, BarAssignment>;
  windows: Map<PciDevice, BridgeWindows>;
}

/** One request: a device BAR, or a bridge window (bar -1) standing for everything behind it. */
interface Entry {
  device: PciDevice;
  bar: number;
  size: number;
  align: number;
}

/** A bus's list for one kind, kept sorted as SeaBIOS keeps it: alignment, then size, descending; stable. */
class Region {
  readonly entries: Entry[] = [];
  base = 0;

  insert(entry: Entry): void {
    const i = this.entries.findIndex((e) => e.align < entry.align || (e.align === entry.align && e.size < entry.size));
    this.entries.splice(i < 0 ? this.entries.length : i, 0, entry);
  }

  /** The first (largest) alignment; an empty region needs none. */
  get align(): number {
    return this.entries.length ? this.entries[0].align : 1;
  }

  get sum(): number {
    return this.entries.reduce((total, e) => total + e.size, 0);
  }
}

/**
 * Lay out every BAR and bridge window the way SeaBIOS's pciinit does for QEMU's i440FX, so
 * guests see the addresses they would see on QEMU:
 * - each bus has three lists (I/O, memory, prefetchable memory) sorted by alignment, then size,
 *   largest first, scan order among equals; memory BARs take at least 4 KiB;
 * - from the highest bus number down, each bridge's lists become one window entry per kind on its
 *   parent bus: aligned to the larger of its largest child and 4 KiB (I/O) or 2 MiB (memory),
 *   sized to the sum rounded up to that; an empty window is size 0, or one alignment unit when
 *   the bridge has a hot-plug controller (QEMU's SHPC);
 * - bus 0's I/O goes at 0xC000 if it totals under 16 KiB, else at 0x1000 if under 36 KiB;
 * - bus 0's memory is two regions: the one with the larger alignment (prefetchable on a tie)
 *   on top, ending at or below 0xFEC00000, the other right under it;
 * - then every list is packed upward from its base, bus by bus, a window's address becoming
 *   its bus's base. 64-bit BARs are placed below 4 GiB with the rest.
 * Throws when a window overflows (a build-time error).
 */
export function layoutResources(buses: readonly BusResources[], memWindowStart: number): ResourceLayout {
  const regions = new Map<number, Record<RegionKind, Region>>();
  for (const bus of buses) regions.set(bus.number, { io: new Region(), mem: new Region(), prefetchable: new Region() });
  const result: ResourceLayout = { bars: new Map(), windows: new Map() };

  for (const bus of buses) {
    const lists = regions.get(bus.number)!;
    for (const device of bus.functions) {
      result.bars.set(device, new Map());
      for (let bar = 0; bar < BAR_COUNT; bar++) {
        const info = device.barInfo(bar);
        if (!info) continue;
        const kind: RegionKind = info.kind === 'io' ? 'io' : info.prefetchable ? 'prefetchable' : 'mem';
        const size = kind === 'io' ? info.size : Math.max(info.size, MEM_MIN_ALLOCATION);
        lists[kind].insert({ device, bar, size, align: size });
      }
    }
  }

  // Children before parents: depth-first numbering gives every secondary bus a higher number.
  for (const bus of [...buses].sort((a, b) => b.number - a.number)) {
    if (!bus.bridge) continue;
    const parent = regions.get(bus.bridge.parent);
    if (!parent) throw new Error(`PCI: bus ${bus.number}'s parent bus ${bus.bridge.parent} is not in the layout`);
    for (const kind of KINDS) {
      const child = regions.get(bus.number)![kind];
      const align = Math.max(kind === 'io' ? BRIDGE_IO_ALIGN : BRIDGE_MEM_ALIGN, child.align);
      const sum = child.sum || (bus.bridge.hotplug ? align : 0);
      parent[kind].insert({ device: bus.bridge.device, bar: -1, size: alignUp(sum, align), align });
    }
  }

  const root = regions.get(0);
  if (!root) throw new Error('PCI: the layout has no bus 0');
  root.io.base = ioBase(root.io.sum);
  let [lower, upper] = [root.mem, root.prefetchable];
  if (lower.align < upper.align) [lower, upper] = [upper, lower];
  upper.base = alignDown(MEM_WINDOW_END - upper.sum, upper.align);
  lower.base = alignDown(upper.base - lower.sum, lower.align);
  if (lower.base < memWindowStart) throw new Error('PCI: the memory BARs do not fit below 0xFEC00000');

  for (const bus of [...buses].sort((a, b) => a.number - b.number)) {
    for (const kind of KINDS) {
      const region = regions.get(bus.number)![kind];
      let address = region.base;
      for (const entry of region.entries) {
        if (entry.bar >= 0) {
          result.bars.get(entry.device)!.set(entry.bar, address);
        } else {
          const secondary = buses.find((b) => b.bridge?.device === entry.device)!;
          regions.get(secondary.number)![kind].base = address;
          let windows = result.windows.get(entry.device);
          if (!windows) result.windows.set(entry.device, (windows = { io: closed(), mem: closed(), prefetchable: closed() }));
          windows[kind] = { base: address, size: entry.size };
        }
        address += entry.size;
      }
    }
  }
  return result;
}

/** Bus 0 only, as before bridges existed: BAR index to address for every device. */
export function layoutBars(devices: readonly PciDevice[], memWindowStart: number): Map<PciDevice, BarAssignment> {
  return layoutResources([{ number: 0, functions: devices }], memWindowStart).bars;
}

function ioBase(sum: number): number {
  if (sum < IO_WINDOW_END - IO_WINDOW_START) return IO_WINDOW_START;
  if (sum < IO_LOW_WINDOW_END - IO_LOW_WINDOW_START) return IO_LOW_WINDOW_START;
  throw new Error(`PCI: the I/O BARs and bridge windows need 0x${sum.toString(16)} bytes; SeaBIOS has at most 0x8fff (0x1000-0x9fff)`);
}

function closed(): WindowAssignment {
  return { base: 0, size: 0 };
}

/**
 * What SeaBIOS does to each function after sizing: write the BAR addresses and the interrupt
 * line, then enable I/O, memory and SERR (not bus mastering: drivers turn that on).
 */
export function applyFirmwareSetup(device: PciDevice, bars: BarAssignment, interruptLine: number | undefined): void {
  for (const [index, address] of bars) {
    const reg = Cfg.BAR0 + 4 * index;
    device.writeConfig(reg, 4, address % 0x1_0000_0000);
    if (device.barInfo(index)?.kind === 'mem64') device.writeConfig(reg + 4, 4, Math.floor(address / 0x1_0000_0000));
  }
  if (interruptLine !== undefined) device.writeConfig(Cfg.INTERRUPT_LINE, 1, interruptLine);
  device.writeConfig(Cfg.COMMAND, 2, device.command | Command.IO_SPACE | Command.MEMORY_SPACE | Command.SERR);
}

export interface BusNumbers {
  primary: number;
  secondary: number;
  subordinate: number;
}

/** A bridge's bus numbers and windows, written through its config registers as SeaBIOS writes them. */
export function applyBridgeSetup(bridge: PciDevice, numbers: BusNumbers, windows: BridgeWindows): void {
  bridge.writeConfig(BridgeCfg.PRIMARY_BUS, 1, numbers.primary);
  bridge.writeConfig(BridgeCfg.SECONDARY_BUS, 1, numbers.secondary);
  bridge.writeConfig(BridgeCfg.SUBORDINATE_BUS, 1, numbers.subordinate);
  const io = windows.io;
  const ioLimit = io.base + io.size - 1;
  bridge.writeConfig(BridgeCfg.IO_BASE, 1, (io.base >>> 8) & 0xff);
  bridge.writeConfig(BridgeCfg.IO_BASE_UPPER16, 2, 0);
  bridge.writeConfig(BridgeCfg.IO_LIMIT, 1, (ioLimit >>> 8) & 0xff);
  bridge.writeConfig(BridgeCfg.IO_LIMIT_UPPER16, 2, 0);
  const mem = windows.mem;
  bridge.writeConfig(BridgeCfg.MEMORY_BASE, 2, Math.floor(mem.base / 0x10000) & 0xffff);
  bridge.writeConfig(BridgeCfg.MEMORY_LIMIT, 2, Math.floor((mem.base + mem.size - 1) / 0x10000) & 0xffff);
  const pref = windows.prefetchable;
  const prefLimit = pref.base + pref.size - 1;
  bridge.writeConfig(BridgeCfg.PREF_MEMORY_BASE, 2, Math.floor(pref.base / 0x10000) & 0xffff);
  bridge.writeConfig(BridgeCfg.PREF_MEMORY_LIMIT, 2, Math.floor(prefLimit / 0x10000) & 0xffff);
  bridge.writeConfig(BridgeCfg.PREF_BASE_UPPER32, 4, Math.floor(pref.base / 0x1_0000_0000));
  bridge.writeConfig(BridgeCfg.PREF_LIMIT_UPPER32, 4, Math.max(0, Math.floor(prefLimit / 0x1_0000_0000)));
}

/** After the command register, SeaBIOS lets a bridge forward SERR# from its secondary side. */
export function enableBridgeSerr(bridge: PciDevice): void {
  const control = bridge.readConfig(BridgeCfg.BRIDGE_CONTROL, 2);
  bridge.writeConfig(BridgeCfg.BRIDGE_CONTROL, 2, control | BridgeControl.SERR);
}

function alignDown(n: number, alignment: number): number {
  return Math.floor(n / alignment) * alignment;
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** The PIIX edge/level control registers (one bit per ISA IRQ, IRQ 0..7 then 8..15). */
export const ELCR_PORTS = [0x4d0, 0x4d1] as const;

/**
 * PCI interrupts are level-triggered and shared, so SeaBIOS marks the PIRQ IRQs level-triggered
 * in the ELCR. We do the same through the port bus (read-modify-write, so other level bits stay);
 * with no ELCR on the bus the writes go nowhere.
 */
export function markLevelTriggered(ports: PortBus, irqs: readonly number[]): void {
  const bits = [0, 0];
  for (const irq of irqs) if (irq >= 0 && irq < 16) bits[irq >> 3] |= 1 << (irq & 7);
  ELCR_PORTS.forEach((port, i) => {
    if (bits[i]) ports.write(port, 1, ports.read(port, 1) | bits[i]);
  });
}
