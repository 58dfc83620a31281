import { ByteWriter, checksumByte } from './bytes.js';

/**
 * The Intel MultiProcessor Specification 1.4 tables (floating pointer + configuration table)
 * as SeaBIOS writes them on QEMU `-machine pc`, for guests older than ACPI.
 */
export interface MpTableOptions {
  cpus: number;
  /**
   * Logical CPUs per package as CPUID.1 EBX[23:16] reports them. SeaBIOS lists only the first
   * CPU of each package (the count rounded up to a power of two). QEMU 7.2 puts all of `-smp N`
   * in one package, so its MP table shows one processor: the default.
   */
  cpusPerPackage?: number;
  /** CPUID.1 EAX of the CPUs. Default: QEMU's Westmere (0x206c1). */
  cpuSignature?: number;
  /** CPUID.1 EDX. Default: QEMU's Westmere under TCG, 0x078bfbfd, plus HTT when cpus > 1. */
  cpuFeatures?: number;
  lapicAddress?: number;
  ioapic?: { id: number; address: number };
  /** PCI buses 0..n-1 get bus entries; the ISA bus is numbered n. */
  pciBuses?: number;
  /** Interrupting functions on PCI bus 0, in bus/device/function order: pin 1 = INTA, irq = its interrupt line. */
  pciInterrupts?: readonly { slot: number; pin: number; irq: number }[];
  /** ISA IRQs that are PCI interrupts on this chipset (no ISA entry for them). */
  pciIrqs?: readonly number[];
}

export const MP_FLOATING_POINTER_SIZE = 16;
const MP_HEADER_SIZE = 44;
const SPEC_REV_1_4 = 4;
const CPU_HTT = 1 << 28;
const CPU_ENABLED = 1;
const CPU_BSP = 2;
/** SeaBIOS reports an 82093AA-era I/O APIC version. */
const IOAPIC_VERSION = 0x11;
const LAPIC_VERSION = 0x14;
const Entry = { processor: 0, bus: 1, ioapic: 2, ioInterrupt: 3, localInterrupt: 4 } as const;
const IntType = { int: 0, nmi: 1, extInt: 3 } as const;
const POLARITY_HIGH = 0x0001;

function roundUpPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** The configuration table ("PCMP") with its checksum. */
export function buildMpConfigTable(options: MpTableOptions): Uint8Array {
  const cpus = options.cpus;
  const lapicAddress = options.lapicAddress ?? 0xfee00000;
  const ioapic = options.ioapic ?? { id: 0, address: 0xfec00000 };
  const pciBuses = options.pciBuses ?? 1;
  const pciIrqs = new Set(options.pciIrqs ?? [5, 9, 10, 11]);
  const features = options.cpuFeatures ?? (0x078bfbfd | (cpus > 1 ? CPU_HTT : 0));
  const step = features & CPU_HTT ? roundUpPow2(options.cpusPerPackage ?? cpus) : 1;

  const e = new ByteWriter();
  let count = 0;
  for (let id = 0; id < cpus; id += step, count++) {
    e.u8(Entry.processor).u8(id).u8(LAPIC_VERSION).u8(CPU_ENABLED | (id === 0 ? CPU_BSP : 0));
    e.u32(options.cpuSignature ?? 0x000206c1).u32(features).zeros(8);
  }
  for (let bus = 0; bus < pciBuses; bus++, count++) e.u8(Entry.bus).u8(bus).ascii('PCI', 6);
  const isaBus = pciBuses;
  e.u8(Entry.bus).u8(isaBus).ascii('ISA', 6);
  e.u8(Entry.ioapic).u8(ioapic.id).u8(IOAPIC_VERSION).u8(1).u32(ioapic.address);
  count += 2;
  // One entry per (device, pin), as SeaBIOS skips a pin a device's other functions already use.
  const seen = new Set<string>();
  for (const { slot, pin, irq } of options.pciInterrupts ?? []) {
    if (pin < 1 || pin > 4 || seen.has(`${slot}.${pin}`)) continue;
    seen.add(`${slot}.${pin}`);
    e.u8(Entry.ioInterrupt).u8(IntType.int).u16(POLARITY_HIGH).u8(0).u8((slot << 2) | (pin - 1)).u8(ioapic.id).u8(irq);
    count++;
  }
  for (let irq = 0; irq < 16; irq++) {
    // IRQ 2 is the 8259 cascade; the PIT's IRQ 0 takes its I/O APIC pin.
    if (pciIrqs.has(irq) || irq === 2) continue;
    e.u8(Entry.ioInterrupt).u8(IntType.int).u16(0).u8(isaBus).u8(irq).u8(ioapic.id).u8(irq === 0 ? 2 : irq);
    count++;
  }
  e.u8(Entry.localInterrupt).u8(IntType.extInt).u16(0).u8(isaBus).u8(0).u8(0).u8(0);
  e.u8(Entry.localInterrupt).u8(IntType.nmi).u16(0).u8(isaBus).u8(0).u8(0xff).u8(1);
  count += 2;

  const entries = e.toBytes();
  const w = new ByteWriter();
  w.ascii('PCMP', 4).u16(MP_HEADER_SIZE + entries.length).u8(SPEC_REV_1_4).u8(0);
  w.ascii('BOCHSCPU', 8).ascii('0.1', 12).u32(0).u16(0).u16(count).u32(lapicAddress).u16(0).u8(0).u8(0);
  w.bytes(entries);
  const table = w.toBytes();
  table[7] = checksumByte(table, 0, table.length, 7);
  return table;
}

/** The 16-byte floating pointer structure pointing at the configuration table. */
export function buildMpFloatingPointer(configAddress: number): Uint8Array {
  const w = new ByteWriter();
  w.ascii('_MP_', 4).u32(configAddress).u8(1).u8(SPEC_REV_1_4).u8(0).zeros(5);
  const fp = w.toBytes();
  fp[10] = checksumByte(fp, 0, fp.length, 10);
  return fp;
}
