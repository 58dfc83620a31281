/**
 * What the ACPI tables describe, as plain data. Defaults are what QEMU 7.2 builds for
 * `-machine pc` (i440FX + PIIX3, PIIX4 power management at 0x600, IOAPIC at 0xfec00000).
 */
export interface AcpiOem {
  /** 6 characters; QEMU's "BOCHS ". */
  id: string;
  /** 8 characters; QEMU's "BXPC    ". */
  tableId: string;
  revision: number;
  /** Creator (compiler) id, 4 characters; QEMU's "BXPC". */
  creatorId: string;
  creatorRevision: number;
}

export interface PmBlock {
  /** PM1a event block (PM1_STS, PM1_EN); PM1a_CNT is at +4 and PM_TMR at +8. */
  base: number;
  /** ISA IRQ (= GSI) of the SCI. */
  sciIrq: number;
  /** 32-bit PM timer (FADT TMR_VAL_EXT); QEMU's PIIX4 timer is 24-bit. */
  timer32: boolean;
  /** GPE0 block (4 ports: status, enable), or 0 for none. */
  gpe0: number;
  /** SMI command port and the values that enable/disable ACPI mode (PIIX4 APM_CNT). */
  smiCommand: number;
  acpiEnable: number;
  acpiDisable: number;
}

export interface AcpiConfig {
  /** Guest RAM in bytes (below 4 GiB). */
  memoryBytes: number;
  /** Number of CPUs; their APIC IDs are 0..cpus-1. */
  cpus: number;
  lapicAddress: number;
  /** The I/O APIC, or undefined for a machine without one (MADT lists only the LAPICs). */
  ioapic?: { id: number; address: number };
  /** An HPET (adds the HPET table), or undefined. */
  hpet?: { address: number };
  pm: PmBlock;
  /** ISA IRQs that carry level-triggered, active-high PCI interrupts (MADT overrides). */
  levelIrqs: readonly number[];
  /** ISA IRQ of PIRQA..PIRQD (the _PRT's GSIs). */
  pirqIrqs: readonly [number, number, number, number];
  /** Describe fw_cfg (QEMU0002 at 0x510) in the DSDT. */
  fwCfg: boolean;
  /** Add the WAET table ("the PM timer is reliable"), as QEMU does. */
  waet: boolean;
  oem: AcpiOem;
}

export const QEMU_OEM: AcpiOem = { id: 'BOCHS ', tableId: 'BXPC    ', revision: 1, creatorId: 'BXPC', creatorRevision: 1 };

export const PC_PM_BLOCK: PmBlock = {
  base: 0x600,
  sciIrq: 9,
  timer32: false,
  gpe0: 0xafe0,
  smiCommand: 0xb2,
  acpiEnable: 0xf1,
  acpiDisable: 0xf0,
};

export const LAPIC_ADDRESS = 0xfee00000;
export const IOAPIC_ADDRESS = 0xfec00000;
export const HPET_ADDRESS = 0xfed00000;

export type AcpiOptions = Partial<Omit<AcpiConfig, 'memoryBytes' | 'cpus' | 'pm' | 'oem'>> & {
  memoryBytes: number;
  cpus: number;
  pm?: Partial<PmBlock>;
  oem?: Partial<AcpiOem>;
};

/** The full configuration: QEMU 7.2 `-machine pc` values for everything not given. */
export function acpiConfig(options: AcpiOptions): AcpiConfig {
  if (!Number.isInteger(options.cpus) || options.cpus < 1 || options.cpus > 255) {
    throw new RangeError(`ACPI: cpus must be 1..255, got ${options.cpus}`);
  }
  return {
    lapicAddress: LAPIC_ADDRESS,
    levelIrqs: [5, 9, 10, 11],
    pirqIrqs: [10, 10, 11, 11],
    fwCfg: true,
    waet: true,
    ...options,
    // `ioapic: undefined` (explicit) means none; absent means QEMU's.
    ioapic: 'ioapic' in options ? options.ioapic : { id: 0, address: IOAPIC_ADDRESS },
    pm: { ...PC_PM_BLOCK, ...options.pm },
    oem: { ...QEMU_OEM, ...options.oem },
  };
}
