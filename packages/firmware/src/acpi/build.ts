import { ByteWriter } from '../bytes.js';
import { encodeLoaderCommands, type LoaderCommand } from '../linker-loader.js';
import { acpiConfig, type AcpiConfig, type AcpiOptions } from './config.js';
import { dsdtBody } from './dsdt.js';
import {
  FADT_DSDT,
  FADT_FIRMWARE_CTRL,
  RSDP_CHECKSUM,
  RSDP_RSDT_ADDRESS,
  RSDP_SIZE,
  SDT_CHECKSUM,
  SDT_HEADER_SIZE,
  SDT_LENGTH,
  writeFacs,
  writeFadt,
  writeHpet,
  writeMadt,
  writeRsdp,
  writeSdtHeader,
  writeWaet,
} from './tables.js';

/** The fw_cfg file names QEMU uses for the ACPI blobs. */
export const ACPI_TABLES_FILE = 'etc/acpi/tables';
export const ACPI_RSDP_FILE = 'etc/acpi/rsdp';
export const TABLE_LOADER_FILE = 'etc/table-loader';

/** QEMU pads the tables blob to 128 KiB (and SeaBIOS reserves that much at the top of RAM). */
export const ACPI_TABLES_PAD = 0x20000;
/** The FACS must be 64-byte aligned; the tables blob is allocated with that alignment. */
export const ACPI_TABLES_ALIGN = 64;
export const RSDP_ALIGN = 16;

export interface TableLocation {
  signature: string;
  /** Offset in the tables blob. */
  offset: number;
  length: number;
}

/** What QEMU's fw_cfg offers SeaBIOS: the blobs, the loader commands, and where each table is. */
export interface AcpiBlobs {
  config: AcpiConfig;
  /** `etc/acpi/tables`: FACS, DSDT, FACP, APIC, [HPET], [WAET], RSDT, unpatched, padded. */
  tables: Uint8Array;
  /** `etc/acpi/rsdp`: the RSDP with the RSDT's offset in `tables`. */
  rsdp: Uint8Array;
  /** `etc/table-loader`: the encoded commands, padded to 4 KiB. */
  loader: Uint8Array;
  commands: LoaderCommand[];
  locations: TableLocation[];
}

/**
 * Build the ACPI tables in QEMU 7.2's layout and order for `-machine pc`, with the linker/loader
 * commands that place and patch them (the same commands QEMU hands SeaBIOS).
 */
export function buildAcpiTables(options: AcpiOptions | AcpiConfig): AcpiBlobs {
  const config = acpiConfig(options);
  const w = new ByteWriter();
  const commands: LoaderCommand[] = [
    { kind: 'allocate', file: ACPI_RSDP_FILE, align: RSDP_ALIGN, zone: 'fseg' },
    { kind: 'allocate', file: ACPI_TABLES_FILE, align: ACPI_TABLES_ALIGN, zone: 'high' },
  ];
  const locations: TableLocation[] = [];
  const pointer = (offset: number) => commands.push({ kind: 'add-pointer', destFile: ACPI_TABLES_FILE, srcFile: ACPI_TABLES_FILE, offset, size: 4 });

  /** Write one table with `body`, then patch its length and queue its checksum. */
  const table = (signature: string, body: () => void, checksummed = true): number => {
    const start = w.length;
    body();
    const length = w.length - start;
    w.patchU32(start + SDT_LENGTH, length);
    locations.push({ signature, offset: start, length });
    if (checksummed) commands.push({ kind: 'add-checksum', file: ACPI_TABLES_FILE, offset: start + SDT_CHECKSUM, start, length });
    return start;
  };

  const facs = table('FACS', () => writeFacs(w), false);
  const dsdt = table('DSDT', () => {
    writeSdtHeader(w, 'DSDT', 1, config.oem);
    w.bytes(dsdtBody(config));
  });
  const rsdtEntries: number[] = [];
  const fadtStart = w.length;
  pointer(fadtStart + FADT_FIRMWARE_CTRL);
  pointer(fadtStart + FADT_DSDT);
  rsdtEntries.push(table('FACP', () => writeFadt(w, config, facs, dsdt)));
  rsdtEntries.push(table('APIC', () => writeMadt(w, config)));
  const hpet = config.hpet;
  if (hpet) rsdtEntries.push(table('HPET', () => writeHpet(w, config, hpet.address)));
  if (config.waet) rsdtEntries.push(table('WAET', () => writeWaet(w, config)));

  const rsdtStart = w.length;
  for (let i = 0; i < rsdtEntries.length; i++) pointer(rsdtStart + SDT_HEADER_SIZE + 4 * i);
  table('RSDT', () => {
    writeSdtHeader(w, 'RSDT', 1, config.oem);
    for (const offset of rsdtEntries) w.u32(offset);
  });

  const tables = new Uint8Array(Math.ceil(w.length / ACPI_TABLES_PAD) * ACPI_TABLES_PAD);
  tables.set(w.toBytes());

  const r = new ByteWriter();
  writeRsdp(r, config.oem, rsdtStart);
  commands.push({ kind: 'add-pointer', destFile: ACPI_RSDP_FILE, srcFile: ACPI_TABLES_FILE, offset: RSDP_RSDT_ADDRESS, size: 4 });
  commands.push({ kind: 'add-checksum', file: ACPI_RSDP_FILE, offset: RSDP_CHECKSUM, start: 0, length: RSDP_SIZE });

  return { config, tables, rsdp: r.toBytes(), loader: encodeLoaderCommands(commands), commands, locations };
}
