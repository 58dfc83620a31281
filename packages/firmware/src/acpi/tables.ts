import { ByteWriter } from '../bytes.js';
import type { AcpiConfig, AcpiOem } from './config.js';

/** Byte offsets inside a System Description Table header (ACPI 5.2.6). */
export const SDT_HEADER_SIZE = 36;
export const SDT_LENGTH = 4;
export const SDT_CHECKSUM = 9;

/** The 36-byte header with length and checksum left 0 (patched by the caller / the loader). */
export function writeSdtHeader(w: ByteWriter, signature: string, revision: number, oem: AcpiOem): void {
  w.ascii(signature, 4).u32(0).u8(revision).u8(0);
  w.ascii(oem.id, 6).ascii(oem.tableId, 8).u32(oem.revision);
  w.ascii(oem.creatorId, 4).u32(oem.creatorRevision);
}

/** FACS (ACPI 1.0 layout, 64 bytes): no waking vector, no global lock in use. */
export function writeFacs(w: ByteWriter): void {
  w.ascii('FACS', 4).u32(64).zeros(56);
}

/** Offsets inside the FADT (revision 1, 116 bytes) that the linker patches. */
export const FADT_FIRMWARE_CTRL = 36;
export const FADT_DSDT = 40;
export const FADT_REV1_SIZE = 116;

/** FADT flags (ACPI 5.2.9 table 5-35). */
export const FadtFlag = {
  WBINVD: 1 << 0,
  PROC_C1: 1 << 2,
  SLP_BUTTON: 1 << 5,
  RTC_S4: 1 << 7,
  TMR_VAL_EXT: 1 << 8,
  USE_PLATFORM_CLOCK: 1 << 15,
} as const;

/** P_LVL2/P_LVL3 latencies above 100/1000 µs: C2 and C3 are not supported. */
const NO_C2_C3 = 0x0fff;
/** The RTC's century byte in CMOS. */
const RTC_CENTURY = 0x32;
/** INT_MODEL (ACPI 1.0): 1 = multiple APIC. */
const INT_MODEL_APIC = 1;

/**
 * The FADT as QEMU 7.2 builds it for the PIIX4 (revision 1): FACS and DSDT pointers are 0
 * here (the linker adds the addresses), PM blocks at `pm.base`, 24- or 32-bit PM timer.
 */
export function writeFadt(w: ByteWriter, config: AcpiConfig, facsOffset: number, dsdtOffset: number): void {
  const pm = config.pm;
  writeSdtHeader(w, 'FACP', 1, config.oem);
  w.u32(facsOffset).u32(dsdtOffset);
  w.u8(INT_MODEL_APIC).u8(0); // preferred PM profile: unspecified
  w.u16(pm.sciIrq).u32(pm.smiCommand).u8(pm.acpiEnable).u8(pm.acpiDisable).u8(0).u8(0);
  w.u32(pm.base).u32(0); // PM1a/PM1b event blocks
  w.u32(pm.base + 4).u32(0); // PM1a/PM1b control blocks
  w.u32(0); // PM2 control
  w.u32(pm.base + 8); // PM timer
  w.u32(pm.gpe0).u32(0); // GPE0, GPE1
  w.u8(4).u8(2).u8(0).u8(4).u8(pm.gpe0 ? 4 : 0).u8(0).u8(0).u8(0); // block lengths, GPE1 base, CST_CNT
  w.u16(NO_C2_C3).u16(NO_C2_C3).u16(0).u16(0); // C2/C3 latency, flush size/stride
  w.u8(0).u8(0).u8(0).u8(0).u8(RTC_CENTURY); // duty offset/width, day/month alarm, century
  w.u16(0).u8(0); // IAPC_BOOT_ARCH (reserved in revision 1), reserved
  const flags = FadtFlag.WBINVD | FadtFlag.PROC_C1 | FadtFlag.SLP_BUTTON | FadtFlag.RTC_S4 | FadtFlag.USE_PLATFORM_CLOCK;
  w.u32(flags | (pm.timer32 ? FadtFlag.TMR_VAL_EXT : 0));
}

/** MADT entry types and flags (ACPI 5.2.12). */
export const MadtEntry = { localApic: 0, ioApic: 1, interruptOverride: 2, localApicNmi: 4 } as const;
export const MADT_PCAT_COMPAT = 1;
export const LAPIC_ENABLED = 1;
/** MPS INTI flags: polarity active high (01), trigger level (11 << 2). */
export const INTI_LEVEL_HIGH = 0x000d;
/** LINT1 carries NMI on every processor (ACPI processor UID 0xff = all). */
const ALL_PROCESSORS = 0xff;

export function writeMadt(w: ByteWriter, config: AcpiConfig): void {
  writeSdtHeader(w, 'APIC', 1, config.oem);
  w.u32(config.lapicAddress).u32(MADT_PCAT_COMPAT);
  for (let cpu = 0; cpu < config.cpus; cpu++) w.u8(MadtEntry.localApic).u8(8).u8(cpu).u8(cpu).u32(LAPIC_ENABLED);
  if (config.ioapic) {
    w.u8(MadtEntry.ioApic).u8(12).u8(config.ioapic.id).u8(0).u32(config.ioapic.address).u32(0);
    // The PIT's IRQ 0 arrives on I/O APIC pin 2 (the 8259 cascade pin on ISA).
    w.u8(MadtEntry.interruptOverride).u8(10).u8(0).u8(0).u32(2).u16(0);
    for (const irq of config.levelIrqs) w.u8(MadtEntry.interruptOverride).u8(10).u8(0).u8(irq).u32(irq).u16(INTI_LEVEL_HIGH);
  }
  w.u8(MadtEntry.localApicNmi).u8(6).u8(ALL_PROCESSORS).u16(0).u8(1);
}

/** HPET event timer block id of QEMU's HPET: Intel, revision 1, 3 comparators, 64-bit, legacy routing. */
export const QEMU_HPET_BLOCK_ID = 0x8086a201;

export function writeHpet(w: ByteWriter, config: AcpiConfig, address: number): void {
  writeSdtHeader(w, 'HPET', 1, config.oem);
  w.u32(QEMU_HPET_BLOCK_ID);
  w.u8(0).u8(0).u8(0).u8(0).u64(address); // Generic Address: system memory
  w.u8(0).u16(0).u8(0); // HPET number, minimum tick, page protection
}

/** WAET: "ACPI PM timer good" (bit 1): guests may read the PM timer once instead of until stable. */
export function writeWaet(w: ByteWriter, config: AcpiConfig): void {
  writeSdtHeader(w, 'WAET', 1, config.oem);
  w.u32(1 << 1);
}

/** RSDP revision 0 (ACPI 1.0, 20 bytes): RSDT only, as QEMU gives `-machine pc`. */
export const RSDP_SIZE = 20;
export const RSDP_CHECKSUM = 8;
export const RSDP_RSDT_ADDRESS = 16;

export function writeRsdp(w: ByteWriter, oem: AcpiOem, rsdtOffset: number): void {
  w.ascii('RSD PTR ', 8).u8(0).ascii(oem.id, 6).u8(0).u32(rsdtOffset);
}
