export { ByteWriter, checksumByte, byteSum } from './bytes.js';
export * as aml from './acpi/aml.js';
export { acpiConfig, QEMU_OEM, PC_PM_BLOCK, LAPIC_ADDRESS, IOAPIC_ADDRESS, HPET_ADDRESS, type AcpiConfig, type AcpiOptions, type AcpiOem, type PmBlock } from './acpi/config.js';
export { buildAcpiTables, ACPI_TABLES_FILE, ACPI_RSDP_FILE, TABLE_LOADER_FILE, ACPI_TABLES_PAD, type AcpiBlobs, type TableLocation } from './acpi/build.js';
export { dsdtBody, S5_SLEEP_TYPE } from './acpi/dsdt.js';
export { FadtFlag, MadtEntry, INTI_LEVEL_HIGH, QEMU_HPET_BLOCK_ID, RSDP_SIZE } from './acpi/tables.js';
export {
  encodeLoaderCommands,
  decodeLoaderCommands,
  runLoaderCommands,
  LOADER_COMMAND_SIZE,
  type LoaderCommand,
  type LoadedFile,
} from './linker-loader.js';
export {
  installAcpiTables,
  installMpTable,
  acpiFwCfgFiles,
  FSEG_START,
  FSEG_END,
  FSEG_ALLOC_START,
  FSEG_RESERVED,
  type AcpiPlacement,
  type InstalledAcpi,
  type InstalledMpTable,
  type ReservedRange,
} from './install.js';
export { buildMpConfigTable, buildMpFloatingPointer, type MpTableOptions } from './mptable.js';
export { FwCfg, encodeE820, type FwCfgOptions, type E820Entry } from './fw-cfg/fw-cfg.js';
export * from './fw-cfg/registers.js';
export { AcpiPm, type AcpiPmOptions } from './pm/acpi-pm.js';
export { pmTicksAt, pmTicksToNs } from './pm/pm-timer.js';
export { PmOffset, Pm1Status, Pm1Control, PM_TIMER_HZ, APM_CNT_PORT, APM_STS_PORT } from './pm/registers.js';
export { fwCfgPlugin, acpiPmPlugin, firmwarePlugins } from './plugins.js';

import type { FwCfg } from './fw-cfg/fw-cfg.js';
import type { AcpiBlobs } from './acpi/build.js';
import { acpiFwCfgFiles } from './install.js';

/** Offer the ACPI tables through fw_cfg as QEMU does (etc/acpi/rsdp, etc/acpi/tables, etc/table-loader). */
export function addAcpiFiles(fw: FwCfg, acpi: AcpiBlobs): void {
  for (const [name, data] of acpiFwCfgFiles(acpi)) fw.addFile(name, data);
}
