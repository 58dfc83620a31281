/** Device status bits (virtio 1.x §2.1; the first four are the same in 0.9.5). */
export const DeviceStatus = {
  ACKNOWLEDGE: 0x01,
  DRIVER: 0x02,
  DRIVER_OK: 0x04,
  FEATURES_OK: 0x08,
  DEVICE_NEEDS_RESET: 0x40,
  FAILED: 0x80,
} as const;

/** Transport feature bits (virtio 1.x §6). Device-specific bits are 0..23. */
export const TransportFeature = {
  NOTIFY_ON_EMPTY: 24,
  ANY_LAYOUT: 27,
  INDIRECT_DESC: 28,
  EVENT_IDX: 29,
  /** Bit 32: only a modern (1.x) driver can see and accept it. */
  VERSION_1: 32,
} as const;

/** Virtio device type ids (virtio 1.x §5). */
export const VirtioDeviceType = { NET: 1, BLOCK: 2 } as const;

/** Descriptor flags (§2.7.5). */
export const DescFlags = { NEXT: 1, WRITE: 2, INDIRECT: 4 } as const;
/** avail->flags: the driver asks for no interrupts (ignored by the device when EVENT_IDX is negotiated). */
export const AVAIL_F_NO_INTERRUPT = 1;

/** ISR status bits, read-to-clear (§4.1.4.5). */
export const Isr = { QUEUE: 0x01, CONFIG: 0x02 } as const;

/** Split-ring geometry (§2.7). */
export const DESC_SIZE = 16;
export const USED_ELEM_SIZE = 8;
/** The largest queue this implementation offers (the spec allows up to 32768). */
export const MAX_QUEUE_SIZE = 1024;
/** Entries an indirect table may hold (QEMU's limit too). */
export const MAX_INDIRECT_ENTRIES = 1024;

/** Legacy (0.9.5) register block in I/O BAR 0, without MSI-X. */
export const LegacyReg = {
  HOST_FEATURES: 0x00,
  GUEST_FEATURES: 0x04,
  QUEUE_PFN: 0x08,
  QUEUE_SIZE: 0x0c,
  QUEUE_SELECT: 0x0e,
  QUEUE_NOTIFY: 0x10,
  STATUS: 0x12,
  ISR: 0x13,
  DEVICE_CONFIG: 0x14,
} as const;
/** Legacy rings: QUEUE_PFN counts 4 KiB pages, and the used ring starts on the next 4 KiB boundary. */
export const LEGACY_VRING_ALIGN = 4096;

/** Modern common configuration structure (§4.1.4.3), offsets inside the common region. */
export const CommonCfg = {
  DEVICE_FEATURE_SELECT: 0x00,
  DEVICE_FEATURE: 0x04,
  DRIVER_FEATURE_SELECT: 0x08,
  DRIVER_FEATURE: 0x0c,
  CONFIG_MSIX_VECTOR: 0x10,
  NUM_QUEUES: 0x12,
  DEVICE_STATUS: 0x14,
  CONFIG_GENERATION: 0x15,
  QUEUE_SELECT: 0x16,
  QUEUE_SIZE: 0x18,
  QUEUE_MSIX_VECTOR: 0x1a,
  QUEUE_ENABLE: 0x1c,
  QUEUE_NOTIFY_OFF: 0x1e,
  QUEUE_DESC: 0x20,
  QUEUE_DRIVER: 0x28,
  QUEUE_DEVICE: 0x30,
} as const;
export const COMMON_CFG_SIZE = 0x38;
/** MSI-X "no vector": what the vector registers read with no MSI-X capability. */
export const NO_VECTOR = 0xffff;

/** virtio_pci_cap.cfg_type (§4.1.4). */
export const PciCapType = { COMMON: 1, NOTIFY: 2, ISR: 3, DEVICE: 4, PCI_CFG: 5 } as const;

/** Where each modern structure sits in the 16 KiB memory BAR (QEMU's layout). */
export const ModernLayout = {
  BAR: 4,
  BAR_SIZE: 0x4000,
  COMMON: 0x0000,
  ISR: 0x1000,
  DEVICE: 0x2000,
  NOTIFY: 0x3000,
  REGION_SIZE: 0x1000,
  /** queue_notify_off × multiplier = the queue's doorbell offset inside the notify region. */
  NOTIFY_OFF_MULTIPLIER: 4,
} as const;

/** PCI identity of virtio devices (§4.1.2). */
export const VIRTIO_PCI_VENDOR = 0x1af4;
/** Transitional device ids: 0x1000 + (type-specific); net 0x1000, block 0x1001. */
export const TRANSITIONAL_DEVICE_ID: Record<number, number> = { 1: 0x1000, 2: 0x1001 };
/** Modern-only devices use 0x1040 + device type. */
export const MODERN_DEVICE_ID_BASE = 0x1040;

/** PCI class code per virtio device type: Ethernet controller, SCSI-class storage (what QEMU reports). */
export const PCI_CLASS_FOR_TYPE: Record<number, number> = { 1: 0x020000, 2: 0x010000 };
