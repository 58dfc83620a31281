import { BAR_COUNT, Cfg, Command } from './registers.js';
import type { PortBus } from '@unimachine/core';
import type { PciDevice } from './pci-device.js';

/** Where the boot firmware put things, per device: BAR index to address. */
export type BarAssignment = Map<number, number>;

/** SeaBIOS's I/O window for PCI on QEMU's PC: 0xC000 upward. */
export const IO_WINDOW_START = 0xc000;
export const IO_WINDOW_END = 0x10000;
/** The 32-bit memory window ends below the IOAPIC at 0xFEC00000. */
export const MEM_WINDOW_END = 0xfec00000;
/** SeaBIOS gives every memory BAR at least a 4 KiB page. */
export const MEM_MIN_ALLOCATION = 0x1000;

interface Request {
  device: PciDevice;
  index: number;
  size: number;
}

/**
 * Lay out every BAR the way SeaBIOS's pciinit does for QEMU's i440FX, so guests see the
 * addresses they would see on QEMU:
 * - requests are sorted by size (= alignment), largest first, slot order among equals;
 * - I/O is packed upward from 0xC000;
 * - memory is two regions, non-prefetchable and prefetchable. The prefetchable one goes on
 *   top, ending at or below 0xFEC00000 (the IOAPIC), unless the other has the smaller
 *   alignment; the second sits right under the first; each starts at the lowest naturally
 *   aligned base that fits its whole set.
 *   64-bit BARs go below 4 GiB with the rest (they fit).
 * Throws when a window overflows (a build-time error).
 */
export function layoutBars(devices: readonly PciDevice[], memWindowStart: number): Map<PciDevice, BarAssignment> {
  const io: Request[] = [];
  const mem: Request[] = [];
  const prefetchable: Request[] = [];
  for (const device of devices) {
    for (let index = 0; index < BAR_COUNT; index++) {
      const bar = device.barInfo(index);
      if (!bar) continue;
      if (bar.kind === 'io') io.push({ device, index, size: bar.size });
      else (bar.prefetchable ? prefetchable : mem).push({ device, index, size: Math.max(bar.size, MEM_MIN_ALLOCATION) });
    }
  }
  for (const list of [io, mem, prefetchable]) list.sort((a, b) => b.size - a.size); // stable: slot order kept

  const result = new Map<PciDevice, BarAssignment>(devices.map((d) => [d, new Map()]));
  const place = (list: Request[], base: number) => {
    for (const r of list) {
      result.get(r.device)!.set(r.index, base);
      base += r.size;
    }
  };

  if (sum(io) > IO_WINDOW_END - IO_WINDOW_START) throw new Error('PCI: the I/O BARs do not fit in 0xC000-0xFFFF');
  place(io, IO_WINDOW_START);

  let [lower, upper] = [mem, prefetchable];
  if (align(mem) < align(prefetchable)) [lower, upper] = [prefetchable, mem];
  const upperBase = alignDown(MEM_WINDOW_END - sum(upper), align(upper));
  const lowerBase = alignDown(upperBase - sum(lower), align(lower));
  if (lowerBase < memWindowStart) throw new Error('PCI: the memory BARs do not fit below 0xFEC00000');
  place(upper, upperBase);
  place(lower, lowerBase);
  return result;
}

/** A sorted region's alignment is its first (largest) request's; an empty region needs none. */
function align(list: readonly Request[]): number {
  return list.length ? list[0].size : 1;
}

function sum(list: readonly Request[]): number {
  return list.reduce((total, r) => total + r.size, 0);
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

function alignDown(n: number, alignment: number): number {
  return Math.floor(n / alignment) * alignment;
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
