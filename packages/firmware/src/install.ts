import type { GuestMemory } from '@unimachine/core';
import { ACPI_RSDP_FILE, ACPI_TABLES_FILE, TABLE_LOADER_FILE, type AcpiBlobs } from './acpi/build.js';
import { runLoaderCommands } from './linker-loader.js';
import { buildMpConfigTable, buildMpFloatingPointer, MP_FLOATING_POINTER_SIZE, type MpTableOptions } from './mptable.js';

/** The BIOS area guests scan for the RSDP and the MP floating pointer (the F segment). */
export const FSEG_START = 0xf0000;
export const FSEG_END = 0x100000;
/** Where our stand-in firmware starts allocating in the F segment (SeaBIOS's own code sits below). */
export const FSEG_ALLOC_START = 0xf5000;

/** A guest-physical range the e820 map must not report as usable RAM. */
export interface ReservedRange {
  base: number;
  length: number;
  /** e820 type: 2 (reserved), as SeaBIOS marks both its F segment and the ACPI tables. */
  type: 2;
  what: string;
}

export interface AcpiPlacement {
  /** Where the RSDP goes (16-byte aligned, inside 0xe0000-0xfffff). Default: FSEG_ALLOC_START. */
  rsdpAddress?: number;
  /** Where the tables blob goes (64-byte aligned). Default: top of RAM minus the blob (as SeaBIOS). */
  tablesAddress?: number;
}

export interface InstalledAcpi {
  rsdpAddress: number;
  tablesAddress: number;
  /** Guest-physical address of each table, by signature (FACS, DSDT, FACP, APIC, ...). */
  tables: Record<string, number>;
  /** Ranges to mark reserved in the e820 map. */
  reserved: ReservedRange[];
  /** The first F-segment byte after the RSDP (where an MP table can go). */
  fsegNext: number;
}

const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;

/**
 * Put the ACPI tables into guest RAM as SeaBIOS would after reading them from fw_cfg: run the
 * same linker/loader commands, with the RSDP in the F segment and the tables at the top of RAM.
 */
export function installAcpiTables(memory: GuestMemory, acpi: AcpiBlobs, placement: AcpiPlacement = {}): InstalledAcpi {
  const rsdpAddress = placement.rsdpAddress ?? FSEG_ALLOC_START;
  const tablesAddress = placement.tablesAddress ?? memory.size - acpi.tables.length;
  if (rsdpAddress < 0xe0000 || rsdpAddress + acpi.rsdp.length > FSEG_END) {
    throw new RangeError(`ACPI: the RSDP must lie in 0xe0000-0xfffff, not at 0x${rsdpAddress.toString(16)}`);
  }
  if (!memory.contains(tablesAddress, acpi.tables.length) || tablesAddress < FSEG_END) {
    throw new RangeError(`ACPI: no room for ${acpi.tables.length} bytes of tables at 0x${tablesAddress.toString(16)} in ${memory.size} bytes of RAM`);
  }
  const files = new Map([
    [ACPI_RSDP_FILE, acpi.rsdp],
    [ACPI_TABLES_FILE, acpi.tables],
  ]);
  const loaded = runLoaderCommands(acpi.commands, files, (file, _size, align) => {
    const at = file === ACPI_RSDP_FILE ? rsdpAddress : file === ACPI_TABLES_FILE ? tablesAddress : NaN;
    if (Number.isNaN(at)) throw new Error(`ACPI: no placement for ${file}`);
    if (at % align) throw new RangeError(`ACPI: ${file} at 0x${at.toString(16)} is not ${align}-byte aligned`);
    return at;
  });
  for (const { address, bytes } of loaded.values()) memory.write(address, bytes);

  const tables: Record<string, number> = {};
  for (const l of acpi.locations) tables[l.signature] = tablesAddress + l.offset;
  return {
    rsdpAddress,
    tablesAddress,
    tables,
    reserved: [{ base: tablesAddress, length: acpi.tables.length, type: 2, what: 'ACPI tables' }],
    fsegNext: alignUp(rsdpAddress + acpi.rsdp.length, 16),
  };
}

/** The three fw_cfg files QEMU exposes for the ACPI tables. */
export function acpiFwCfgFiles(acpi: AcpiBlobs): [string, Uint8Array][] {
  return [
    [ACPI_RSDP_FILE, acpi.rsdp],
    [ACPI_TABLES_FILE, acpi.tables],
    [TABLE_LOADER_FILE, acpi.loader],
  ];
}

export interface InstalledMpTable {
  floatingPointer: number;
  configTable: number;
  /** First byte after the configuration table. */
  end: number;
}

/** Write the MP floating pointer at `address` (16-byte aligned, in the F segment) and the table right after it, as SeaBIOS does. */
export function installMpTable(memory: GuestMemory, options: MpTableOptions, address = FSEG_ALLOC_START + 0x100): InstalledMpTable {
  if (address % 16 || address < FSEG_START || address >= FSEG_END) throw new RangeError(`MP table: the floating pointer must be 16-byte aligned in the F segment`);
  const configTable = address + MP_FLOATING_POINTER_SIZE;
  const table = buildMpConfigTable(options);
  if (configTable + table.length > FSEG_END) throw new RangeError('MP table: does not fit in the F segment');
  memory.write(address, buildMpFloatingPointer(configTable));
  memory.write(configTable, table);
  return { floatingPointer: address, configTable, end: configTable + table.length };
}

/** The BIOS area as SeaBIOS reserves it (the machine's e820 map already has it on `-machine pc`). */
export const FSEG_RESERVED: ReservedRange = { base: FSEG_START, length: FSEG_END - FSEG_START, type: 2, what: 'BIOS area (RSDP, MP table)' };
