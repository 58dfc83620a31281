/** fw_cfg on the PC (QEMU docs/specs/fw_cfg.txt): I/O ports and the DMA interface. */
export const FW_CFG_PORT = 0x510;
/** Selector (16-bit write) at +0, data (8-bit) at +1. */
export const FW_CFG_PORT_COUNT = 2;
export const FW_CFG_DMA_PORT = 0x514;
/** The 64-bit big-endian DMA address register: high half at +0, low half (the trigger) at +4. */
export const FW_CFG_DMA_PORT_COUNT = 8;
/** What the DMA address register reads as: "QEMU CFG" in big-endian byte order. */
export const FW_CFG_DMA_SIGNATURE = 'QEMU CFG';

/** Selector keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h and hw/i386/fw_cfg.h). */
export const FwCfgKey = {
  SIGNATURE: 0x00,
  ID: 0x01,
  UUID: 0x02,
  RAM_SIZE: 0x03,
  NOGRAPHIC: 0x04,
  NB_CPUS: 0x05,
  MACHINE_ID: 0x06,
  NUMA: 0x0d,
  BOOT_MENU: 0x0e,
  MAX_CPUS: 0x0f,
  FILE_DIR: 0x19,
  FILE_FIRST: 0x20,
  /** x86 (arch-local, bit 15) keys. */
  ACPI_TABLES: 0x8000,
  SMBIOS_ENTRIES: 0x8001,
  IRQ0_OVERRIDE: 0x8002,
  E820_TABLE: 0x8003,
  HPET: 0x8004,
} as const;

/** Selector bits: bit 15 = architecture-specific item, bit 14 = write channel (ignored since QEMU 2.4). */
export const ARCH_LOCAL = 0x8000;
export const ENTRY_MASK = 0x3fff;
/** QEMU's default file slots (x-file-slots = 32): keys 0x20..0x3f; higher keys select nothing. */
export const FILE_SLOTS = 0x20;

/** FW_CFG_ID bits. */
export const FwCfgFeature = { TRADITIONAL: 1 << 0, DMA: 1 << 1 } as const;

/** FWCfgDmaAccess: { be32 control; be32 length; be64 address }. */
export const DMA_ACCESS_SIZE = 16;
export const DmaControl = { ERROR: 0x01, READ: 0x02, SKIP: 0x04, SELECT: 0x08, WRITE: 0x10 } as const;

/** One file directory entry: be32 size, be16 select, be16 reserved, char name[56]. */
export const FILE_ENTRY_SIZE = 64;
export const FILE_NAME_SIZE = 56;

/** etc/e820 entry: le64 address, le64 length, le32 type (packed, 20 bytes). */
export const E820_ENTRY_SIZE = 20;
export const E820_RAM = 1;
export const E820_RESERVED = 2;
