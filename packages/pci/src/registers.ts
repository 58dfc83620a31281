/** Type-0 configuration header offsets (PCI Local Bus spec 3.0, section 6.1). */
export const Cfg = {
  VENDOR_ID: 0x00,
  DEVICE_ID: 0x02,
  COMMAND: 0x04,
  STATUS: 0x06,
  REVISION: 0x08,
  PROG_IF: 0x09,
  SUBCLASS: 0x0a,
  CLASS: 0x0b,
  CACHE_LINE_SIZE: 0x0c,
  LATENCY_TIMER: 0x0d,
  HEADER_TYPE: 0x0e,
  BAR0: 0x10,
  SUBSYSTEM_VENDOR_ID: 0x2c,
  SUBSYSTEM_ID: 0x2e,
  EXPANSION_ROM: 0x30,
  CAPABILITIES: 0x34,
  INTERRUPT_LINE: 0x3c,
  INTERRUPT_PIN: 0x3d,
} as const;

export const CONFIG_SPACE_SIZE = 256;
export const BAR_COUNT = 6;
/** Capabilities live after the standard header. */
export const FIRST_CAPABILITY_OFFSET = 0x40;

export const Command = {
  IO_SPACE: 0x0001,
  MEMORY_SPACE: 0x0002,
  BUS_MASTER: 0x0004,
  PARITY_ERROR_RESPONSE: 0x0040,
  SERR: 0x0100,
  INTX_DISABLE: 0x0400,
} as const;

/** The command bits a guest may change; the rest are hardwired to zero. */
export const COMMAND_WRITABLE =
  Command.IO_SPACE | Command.MEMORY_SPACE | Command.BUS_MASTER | Command.PARITY_ERROR_RESPONSE | Command.SERR |
  Command.INTX_DISABLE;

export const Status = {
  INTERRUPT: 0x0008,
  CAPABILITIES_LIST: 0x0010,
  CAPABLE_66MHZ: 0x0020,
  FAST_BACK_TO_BACK: 0x0080,
  MASTER_DATA_PARITY_ERROR: 0x0100,
  SIGNALED_TARGET_ABORT: 0x0800,
  RECEIVED_TARGET_ABORT: 0x1000,
  RECEIVED_MASTER_ABORT: 0x2000,
  SIGNALED_SYSTEM_ERROR: 0x4000,
  DETECTED_PARITY_ERROR: 0x8000,
} as const;

/** Error bits of the status register: the guest clears them by writing 1. */
export const STATUS_WRITE_1_TO_CLEAR =
  Status.MASTER_DATA_PARITY_ERROR | Status.SIGNALED_TARGET_ABORT | Status.RECEIVED_TARGET_ABORT |
  Status.RECEIVED_MASTER_ABORT | Status.SIGNALED_SYSTEM_ERROR | Status.DETECTED_PARITY_ERROR;

export const BarFlags = {
  IO: 0x1,
  MEM_TYPE_64: 0x4,
  MEM_PREFETCHABLE: 0x8,
} as const;

export const HEADER_TYPE_MULTI_FUNCTION = 0x80;
/** Header type 0x01: a PCI-to-PCI bridge (type-1 header). */
export const HEADER_TYPE_BRIDGE = 0x01;
/** Class 06, subclass 04: PCI-to-PCI bridge. */
export const CLASS_PCI_BRIDGE = 0x060400;

/** Type-1 (PCI-to-PCI bridge) header offsets (PCI-to-PCI Bridge Architecture spec 1.2, chapter 3). */
export const BridgeCfg = {
  PRIMARY_BUS: 0x18,
  SECONDARY_BUS: 0x19,
  SUBORDINATE_BUS: 0x1a,
  SECONDARY_LATENCY_TIMER: 0x1b,
  IO_BASE: 0x1c,
  IO_LIMIT: 0x1d,
  SECONDARY_STATUS: 0x1e,
  MEMORY_BASE: 0x20,
  MEMORY_LIMIT: 0x22,
  PREF_MEMORY_BASE: 0x24,
  PREF_MEMORY_LIMIT: 0x26,
  PREF_BASE_UPPER32: 0x28,
  PREF_LIMIT_UPPER32: 0x2c,
  IO_BASE_UPPER16: 0x30,
  IO_LIMIT_UPPER16: 0x32,
  EXPANSION_ROM: 0x38,
  BRIDGE_CONTROL: 0x3e,
} as const;

/** Low nibble of the I/O base/limit registers: 0 = 16-bit decode. */
export const IO_RANGE_TYPE_16 = 0x0;
/** Low nibble of the prefetchable base/limit registers: 1 = 64-bit addresses. */
export const PREF_RANGE_TYPE_64 = 0x1;

export const BridgeControl = {
  PARITY_ERROR_RESPONSE: 0x0001,
  SERR: 0x0002,
  ISA_ENABLE: 0x0004,
  VGA_ENABLE: 0x0008,
  VGA_16BIT_DECODE: 0x0010,
  MASTER_ABORT_MODE: 0x0020,
  SECONDARY_BUS_RESET: 0x0040,
  FAST_BACK_TO_BACK: 0x0080,
  PRIMARY_DISCARD_TIMEOUT: 0x0100,
  SECONDARY_DISCARD_TIMEOUT: 0x0200,
  DISCARD_TIMER_STATUS: 0x0400,
  DISCARD_TIMER_SERR: 0x0800,
} as const;

/** Every bridge control bit except the discard timer status, which is write-1-to-clear (as QEMU). */
export const BRIDGE_CONTROL_WRITABLE = 0x0bff;

/** Interrupt pin register values. */
export const IntxPin = { NONE: 0, INTA: 1, INTB: 2, INTC: 3, INTD: 4 } as const;

/** Capability ids (PCI Code and ID Assignment spec). */
export const CapabilityId = {
  POWER_MANAGEMENT: 0x01,
  MSI: 0x05,
  SLOT_ID: 0x04,
  VENDOR_SPECIFIC: 0x09,
  SHPC: 0x0c,
  PCI_EXPRESS: 0x10,
  MSIX: 0x11,
} as const;
