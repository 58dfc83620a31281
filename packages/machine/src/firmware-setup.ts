import type { GuestMemory, PortBus } from '@unimachine/core';
import {
  addAcpiFiles,
  buildAcpiTables,
  installAcpiTables,
  installMpTable,
  IOAPIC_ADDRESS,
  PC_PM_BLOCK,
  type AcpiBlobs,
  type FwCfg,
  type PmBlock,
  type ReservedRange,
} from '@unimachine/firmware';
import { markLevelTriggered, PciHost } from '@unimachine/pci';
import type { BuiltDevices } from './build-devices.js';
import type { ValidatedDevice } from './validate.js';

/** PCI config space: the interrupt line the firmware wrote, and the pin (1 = INTA) the function uses. */
const CFG_INTERRUPT_LINE = 0x3c;
const CFG_INTERRUPT_PIN = 0x3d;

/** What SeaBIOS would leave in RAM and chipset before jumping to the kernel, for this machine. */
export interface MachineFirmware {
  /** Write the tables and the ELCR bits (at power-on and each reboot); returns the ranges the e820 map must reserve. */
  install(memory: GuestMemory, ports: PortBus): ReservedRange[];
}

/**
 * Plan the firmware tables from the machine description: ACPI (when `acpi: on`) for `cpus` CPUs (APIC IDs 0..cpus-1), the
 * RAM, the I/O APIC and the PM block the machine has; the MP table when it has an I/O APIC (as
 * SeaBIOS always writes one; PIC-only machines stay table-less, as before). A `fw-cfg` device
 * also offers the ACPI files, as QEMU's does.
 */
export function planFirmware(acpiOn: boolean, memoryBytes: number, devices: readonly ValidatedDevice[], built: BuiltDevices['devices'], cpus = 1): MachineFirmware {
  const ioapicDevice = devices.find((d) => d.plugin.type === 'ioapic');
  const ioapic = ioapicDevice ? { id: (ioapicDevice.props.id as number | undefined) ?? 0, address: (ioapicDevice.props.address as number | undefined) ?? IOAPIC_ADDRESS } : undefined;
  const pmDevice = devices.find((d) => d.plugin.type === 'acpi-pm');
  const pm = pmDevice ? pmBlockOf(pmDevice.props) : PC_PM_BLOCK;
  const fwCfgIds = new Set(devices.filter((d) => d.plugin.type === 'fw-cfg').map((d) => d.id));

  let acpi: AcpiBlobs | undefined;
  if (acpiOn) {
    acpi = buildAcpiTables({ memoryBytes, cpus, ioapic, pm, fwCfg: fwCfgIds.size > 0 });
    for (const d of built) if (fwCfgIds.has(d.id)) addAcpiFiles(d.instance as unknown as FwCfg, acpi);
  }
  const pciHost = built.find((d) => d.instance instanceof PciHost)?.instance as PciHost | undefined;

  return {
    install(memory, ports) {
      const installed = acpi ? installAcpiTables(memory, acpi) : undefined;
      if (ioapic) installMpTable(memory, { cpus, ioapic, pciInterrupts: pciHost ? bus0Interrupts(pciHost) : [] }, installed?.fsegNext);
      // The SCI is a level-triggered, shared PCI-style interrupt: SeaBIOS sets its ELCR bit.
      if (pmDevice) markLevelTriggered(ports, [pm.sciIrq]);
      return installed?.reserved ?? [];
    },
  };
}

/** The FADT's PM block from the `acpi-pm` device's properties (defaults filled in by validation). */
function pmBlockOf(props: Record<string, unknown>): PmBlock {
  const sci = props.sci as string | undefined;
  const sciIrq = sci ? Number(sci.slice(sci.lastIndexOf('.') + 1)) : PC_PM_BLOCK.sciIrq;
  return {
    ...PC_PM_BLOCK,
    base: (props.port as number | undefined) ?? PC_PM_BLOCK.base,
    gpe0: (props.gpe0 as number | undefined) ?? PC_PM_BLOCK.gpe0,
    timer32: (props.timer32 as boolean | undefined) ?? PC_PM_BLOCK.timer32,
    sciIrq: Number.isInteger(sciIrq) ? sciIrq : PC_PM_BLOCK.sciIrq,
  };
}

/** The interrupting functions on PCI bus 0, as the MP table lists them. */
function bus0Interrupts(host: PciHost): { slot: number; pin: number; irq: number }[] {
  const out: { slot: number; pin: number; irq: number }[] = [];
  for (const f of host.listFunctions()) {
    if (f.bus !== 0) continue;
    const pin = f.device.config.get8(CFG_INTERRUPT_PIN);
    if (pin >= 1 && pin <= 4) out.push({ slot: f.slot, pin, irq: f.device.config.get8(CFG_INTERRUPT_LINE) });
  }
  return out;
}
