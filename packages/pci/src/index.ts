export { PciDevice, PCI_DEVICE_STATE_VERSION, type PciDeviceState, type PciBus, type BarHandler, type BarKind, type PciIds, type PciBusConnection, type AddressSpace } from './pci-device.js';
export { ConfigSpace } from './config-space.js';
export { PciHost, PCI_HOST_STATE_VERSION, type PciHostState, formatFunctionList, type PciHostOptions, type PirqRoute, type PciFunctionInfo, CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT, SLOTS, FUNCTIONS } from './host.js';
export { PciBridge, PCI_BRIDGE_IDS, type PciBridgeOptions, type BridgeWindow } from './bridge.js';
export { PciBusSegment, ownsBus, type BusUpstream, type BusOwner, type FirmwareHooks, type PlacedFunction } from './bus-segment.js';
export { planFirmware, hasCapability, type FunctionSetup } from './firmware-plan.js';
export { I440fxHostBridge, QEMU_SUBSYSTEM } from './host-bridge.js';
export { Piix3IsaBridge, Piix3Ide, BusMasterIdeRegisters } from './piix3.js';
export { pirqFor, bridgeSwizzle, WiredOrIrq } from './irq-routing.js';
export {
  layoutBars, layoutResources, applyFirmwareSetup, applyBridgeSetup, markLevelTriggered, ELCR_PORTS, IO_WINDOW_START,
  IO_LOW_WINDOW_START, MEM_WINDOW_END, MEM_MIN_ALLOCATION, BRIDGE_IO_ALIGN, BRIDGE_MEM_ALIGN,
  type BarAssignment, type BusResources, type ResourceLayout, type BridgeWindows, type WindowAssignment, type BusNumbers,
  type RegionKind,
} from './firmware.js';
export { pciHostPlugin, pciBridgePlugin, DEFAULT_PIRQ_IRQS, PCI_BRIDGE_DEFAULTS } from './plugin.js';
export * from './registers.js';
