import { ownsBus, type PciBusSegment } from './bus-segment.js';
import { layoutResources, type BarAssignment, type BridgeWindows, type BusNumbers, type BusResources } from './firmware.js';
import { bridgeSwizzle } from './irq-routing.js';
import type { PciDevice } from './pci-device.js';
import { CapabilityId, Cfg, Status } from './registers.js';

/** What the firmware stand-in writes into one function. */
export interface FunctionSetup {
  bars: BarAssignment;
  /** The ISA IRQ the function's INTx pin reaches; absent without a pin. */
  interruptLine?: number;
  bridge?: { numbers: BusNumbers; windows: BridgeWindows };
}

/** The ISA IRQ that INTx `pin` of the function in `slot` of some bus reaches. */
type Route = (slot: number, pin: number) => number;

const MAX_BUS = 255;

/**
 * SeaBIOS's pciinit over the whole tree, as pure computation:
 * - buses are numbered depth-first (pci_bios_init_bus): the bridges of a bus in slot/function
 *   order, each taking the next number as its secondary bus, then numbering its own subtree,
 *   then taking the last number used as its subordinate bus;
 * - BARs and bridge windows are laid out by layoutResources, buses in number order;
 * - a function's interrupt line is the ISA IRQ its pin reaches through each bridge's swizzle
 *   and bus 0's routing.
 * Every function reachable from bus 0 gets an entry, in bus-number then slot order.
 */
export function planFirmware(bus0: PciBusSegment, routeOnBus0: Route, memWindowStart: number): Map<PciDevice, FunctionSetup> {
  const buses: BusResources[] = [];
  const numbers = new Map<PciDevice, BusNumbers>();
  const lines = new Map<PciDevice, number>();
  let last = 0;

  const visit = (segment: PciBusSegment, number: number, route: Route, bridge?: BusResources['bridge']) => {
    const placed = segment.placed();
    buses.push({ number, functions: placed.map((p) => p.device), bridge });
    for (const { slot, device } of placed) {
      const pin = device.config.get8(Cfg.INTERRUPT_PIN);
      if (pin >= 1 && pin <= 4) lines.set(device, route(slot, pin));
    }
    for (const { slot, device } of placed) {
      if (!ownsBus(device)) continue;
      if (last === MAX_BUS) throw new Error(`PCI: ${device.name} would need bus ${MAX_BUS + 1}; there are at most 255 buses behind bridges`);
      const secondary = ++last;
      const hotplug = hasCapability(device, CapabilityId.SHPC);
      visit(device.secondary, secondary, (s, p) => route(slot, bridgeSwizzle(s, p)), { device, parent: number, hotplug });
      numbers.set(device, { primary: number, secondary, subordinate: last });
    }
  };
  visit(bus0, 0, routeOnBus0);

  const layout = layoutResources(buses, memWindowStart);
  const plan = new Map<PciDevice, FunctionSetup>();
  for (const bus of buses) {
    for (const device of bus.functions) {
      const setup: FunctionSetup = { bars: layout.bars.get(device) ?? new Map(), interruptLine: lines.get(device) };
      const busNumbers = numbers.get(device);
      const windows = layout.windows.get(device);
      if (busNumbers && windows) setup.bridge = { numbers: busNumbers, windows };
      plan.set(device, setup);
    }
  }
  return plan;
}

/** Whether the function's capability list holds `id` (as firmware finds it: through config space). */
export function hasCapability(device: PciDevice, id: number): boolean {
  if (!(device.config.get16(Cfg.STATUS) & Status.CAPABILITIES_LIST)) return false;
  let offset = device.config.get8(Cfg.CAPABILITIES) & 0xfc;
  for (let hops = 0; offset !== 0 && hops < 48; hops++) {
    if (device.config.get8(offset) === id) return true;
    offset = device.config.get8(offset + 1) & 0xfc;
  }
  return false;
}

/** Whether two setups write the same registers (so a function that keeps its setup need not be touched). */
export function sameSetup(a: FunctionSetup | undefined, b: FunctionSetup | undefined): boolean {
  if (!a || !b) return false;
  if (a.interruptLine !== b.interruptLine || a.bars.size !== b.bars.size) return false;
  for (const [bar, address] of a.bars) if (b.bars.get(bar) !== address) return false;
  return JSON.stringify(a.bridge) === JSON.stringify(b.bridge);
}
