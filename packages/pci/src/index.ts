export { PciDevice, type PciBus, type BarHandler, type BarKind, type PciIds, type PciBusConnection } from './pci-device.js';
export { ConfigSpace } from './config-space.js';
export { PciHost, type PciHostOptions, type PirqRoute, CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT, SLOTS, FUNCTIONS } from './host.js';
export { I440fxHostBridge, QEMU_SUBSYSTEM } from './host-bridge.js';
export { Piix3IsaBridge, Piix3Ide, BusMasterIdeRegisters } from './piix3.js';
export { pirqFor, WiredOrIrq } from './irq-routing.js';
export {
  layoutBars, applyFirmwareSetup, markLevelTriggered, ELCR_PORTS, IO_WINDOW_START, MEM_WINDOW_END, MEM_MIN_ALLOCATION,
  type BarAssignment,
} from './firmware.js';
export { pciHostPlugin, DEFAULT_PIRQ_IRQS } from './plugin.js';
export * from './registers.js';
