import * as aml from './aml.js';
import type { AcpiConfig } from './config.js';

/** SLP_TYP that \_S5 gives (PM1a_CNT bits 12:10): the acpi-pm device powers off on it. */
export const S5_SLEEP_TYPE = 0;

/** QEMU's i440FX 64-bit PCI window: 2 GiB from 4 GiB (its pci-hole64-size default). */
const PCI_HOLE64_START = 0x1_0000_0000;
const PCI_HOLE64_SIZE = 0x8000_0000;
/** The 32-bit PCI window ends below the IOAPIC. */
const PCI_HOLE_END = 0xfebfffff;

/** The host bridge's windows, as QEMU's DSDT gives them for `-machine pc`. */
function hostBridgeResources(config: AcpiConfig): number[] {
  const holeStart = Math.min(config.memoryBytes, PCI_HOLE_END + 1);
  const windows: aml.Aml[] = [
    aml.wordBusNumber(0x00, 0xff),
    aml.io(0x0cf8, 0x0cf8, 0x01, 0x08),
    aml.wordIo(0x0000, 0x0cf7),
    aml.wordIo(0x0d00, 0xffff),
    aml.dwordMemory(0x000a0000, 0x000bffff, true),
  ];
  if (holeStart <= PCI_HOLE_END) windows.push(aml.dwordMemory(holeStart, PCI_HOLE_END, false));
  windows.push(aml.qwordMemory(PCI_HOLE64_START, PCI_HOLE64_START + PCI_HOLE64_SIZE - 1, true));
  return aml.resourceTemplate(...windows);
}

/**
 * Static PCI routing for bus 0: every slot's INTA..INTD goes to the ISA IRQ of its PIRQ
 * (slot S pin P -> PIRQ[(S + P - 2) mod 4], the PIIX swizzle). Slot 1 INTA is the PIIX4
 * power-management function's SCI on QEMU. The "GSI" form (source Zero) is used: on this
 * chipset a PIRQ's ISA IRQ and its I/O APIC pin have the same number, so it reads the same
 * in PIC and APIC mode.
 */
function routingTable(config: AcpiConfig): number[] {
  const entries: aml.Aml[] = [];
  for (let slot = 0; slot < 32; slot++) {
    for (let pin = 0; pin < 4; pin++) {
      const irq = slot === 1 && pin === 0 ? config.pm.sciIrq : config.pirqIrqs[(slot + pin + 3) & 3];
      entries.push(aml.pkg(aml.int(slot * 0x10000 + 0xffff), aml.int(pin), aml.int(0), aml.int(irq)));
    }
  }
  return aml.pkg(...entries);
}

function fwCfgDevice(): number[] {
  return aml.device(
    'FWCF',
    aml.name('_HID', aml.string('QEMU0002')),
    aml.name('_STA', aml.int(0x0b)),
    aml.name('_CRS', aml.resourceTemplate(aml.io(0x0510, 0x0510, 0x01, 0x0c))),
  );
}

/**
 * The DSDT's AML body (everything after the table header): \_SB.PCI0 with its resources and
 * routing, fw_cfg, and the S5 (soft-off) sleep type that the PM1a_CNT register acts on.
 */
export function dsdtBody(config: AcpiConfig): number[] {
  const pci0 = aml.device(
    'PCI0',
    aml.name('_HID', aml.eisaId('PNP0A03')),
    aml.name('_ADR', aml.int(0)),
    aml.name('_UID', aml.int(0)),
    aml.name('_CRS', hostBridgeResources(config)),
    aml.name('_PRT', routingTable(config)),
    config.fwCfg ? fwCfgDevice() : [],
  );
  // Top-level names without the root prefix: at the root they mean the same, and it is what iasl emits.
  return [...aml.scope('_SB', pci0), ...aml.name('_S5', aml.pkg(aml.int(S5_SLEEP_TYPE), aml.int(S5_SLEEP_TYPE), aml.int(0), aml.int(0)))];
}
