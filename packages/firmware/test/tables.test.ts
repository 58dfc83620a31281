import { describe, expect, it } from 'vitest';
import { GuestMemory } from '@unimachine/core';
import {
  buildAcpiTables,
  buildMpConfigTable,
  byteSum,
  FadtFlag,
  FSEG_RESERVED,
  installAcpiTables,
  installMpTable,
  INTI_LEVEL_HIGH,
  MadtEntry,
  runLoaderCommands,
  decodeLoaderCommands,
} from '../src/index.js';
import { blob, hex, loadDump } from './qemu-dump.js';

const MiB = 1024 * 1024;

/** Parse MADT entries after the 44-byte fixed part. */
function madtEntries(m: GuestMemory, address: number) {
  const len = m.readU32(address + 4);
  const out: number[][] = [];
  for (let at = address + 44; at < address + len; at += m.readU8(at + 1)) out.push([...m.bytes(at, m.readU8(at + 1))]);
  return out;
}

describe('MADT', () => {
  it.each([1, 2])('lists %i enabled LAPICs, the IOAPIC, IRQ0 -> GSI 2 and the level-triggered PCI IRQs', (cpus) => {
    const memory = new GuestMemory(64 * MiB);
    const t = installAcpiTables(memory, buildAcpiTables({ memoryBytes: memory.size, cpus }));
    const apic = t.tables.APIC;
    expect(byteSum(memory.bytes(apic, memory.readU32(apic + 4)))).toBe(0);
    expect(memory.readU32(apic + 36)).toBe(0xfee00000);
    expect(memory.readU32(apic + 40)).toBe(1); // PCAT_COMPAT: there are 8259s
    const entries = madtEntries(memory, apic);
    const lapics = entries.filter((e) => e[0] === MadtEntry.localApic);
    expect(lapics).toEqual(Array.from({ length: cpus }, (_, i) => [0, 8, i, i, 1, 0, 0, 0]));
    expect(entries.filter((e) => e[0] === MadtEntry.ioApic)).toEqual([[1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0]]);
    const overrides = entries.filter((e) => e[0] === MadtEntry.interruptOverride).map((e) => ({ irq: e[3], gsi: e[4], flags: e[8] | (e[9] << 8) }));
    expect(overrides).toEqual([
      { irq: 0, gsi: 2, flags: 0 },
      ...[5, 9, 10, 11].map((irq) => ({ irq, gsi: irq, flags: INTI_LEVEL_HIGH })),
    ]);
    expect(entries.at(-1)).toEqual([4, 6, 0xff, 0, 0, 1]); // NMI on LINT1 of every CPU
  });

  it('has only the LAPICs and their NMI for a machine without an IOAPIC', () => {
    const memory = new GuestMemory(64 * MiB);
    const t = installAcpiTables(memory, buildAcpiTables({ memoryBytes: memory.size, cpus: 2, ioapic: undefined }));
    expect(madtEntries(memory, t.tables.APIC).map((e) => e[0])).toEqual([0, 0, 4]);
  });
});

describe('FADT and the PM timer width', () => {
  it('points at the PM blocks, 24-bit timer by default, TMR_VAL_EXT with timer32', () => {
    for (const timer32 of [false, true]) {
      const memory = new GuestMemory(64 * MiB);
      const t = installAcpiTables(memory, buildAcpiTables({ memoryBytes: memory.size, cpus: 1, pm: { timer32 } }));
      const f = t.tables.FACP;
      expect(memory.readU32(f + 36)).toBe(t.tables.FACS);
      expect(memory.readU32(f + 40)).toBe(t.tables.DSDT);
      expect(memory.readU16(f + 46)).toBe(9); // SCI
      expect([memory.readU32(f + 56), memory.readU32(f + 64), memory.readU32(f + 76)]).toEqual([0x600, 0x604, 0x608]);
      expect(memory.readU8(f + 91)).toBe(4); // PM_TMR_LEN
      expect((memory.readU32(f + 112) & FadtFlag.TMR_VAL_EXT) !== 0).toBe(timer32);
      expect(byteSum(memory.bytes(f, 116))).toBe(0);
    }
  });
});

describe('install', () => {
  it('refuses an RSDP outside the BIOS area and tables that do not fit', () => {
    const memory = new GuestMemory(4 * MiB);
    const acpi = buildAcpiTables({ memoryBytes: memory.size, cpus: 1 });
    expect(() => installAcpiTables(memory, acpi, { rsdpAddress: 0x9000 })).toThrow(/0xe0000-0xfffff/);
    expect(() => installAcpiTables(memory, acpi, { tablesAddress: memory.size - 0x1000 })).toThrow(/no room/);
    expect(() => installAcpiTables(memory, acpi, { rsdpAddress: 0xf5008 })).toThrow(/aligned/);
  });

  it('does what SeaBIOS does with the loader commands it reads from fw_cfg', () => {
    const acpi = buildAcpiTables({ memoryBytes: 64 * MiB, cpus: 2 });
    const memory = new GuestMemory(64 * MiB);
    const direct = installAcpiTables(memory, acpi);
    // Same commands decoded from the etc/table-loader bytes, placed at the same addresses.
    const loaded = runLoaderCommands(decodeLoaderCommands(acpi.loader), new Map([['etc/acpi/rsdp', acpi.rsdp], ['etc/acpi/tables', acpi.tables]]), (f) =>
      f === 'etc/acpi/rsdp' ? direct.rsdpAddress : direct.tablesAddress,
    );
    expect(hex(loaded.get('etc/acpi/tables')!.bytes)).toBe(hex(memory.bytes(direct.tablesAddress, acpi.tables.length)));
    expect(hex(loaded.get('etc/acpi/rsdp')!.bytes)).toBe(hex(memory.bytes(direct.rsdpAddress, 20)));
  });
});

describe('MP table against SeaBIOS on QEMU 7.2', () => {
  // QEMU's -nodefaults pc: the only interrupting PCI function on bus 0 is the PIIX4 PM (00:01.3, INTA, IRQ 9).
  const pciInterrupts = [{ slot: 1, pin: 1, irq: 9 }];

  it.each([1, 2, 4] as const)('is byte for byte what SeaBIOS writes for -smp %i (one processor per package)', (cpus) => {
    const qemu = loadDump(cpus);
    const fp = qemu.blobs.get('mem:_MP_')!;
    const memory = new GuestMemory(16 * MiB);
    const mp = installMpTable(memory, { cpus, pciInterrupts }, fp.address);
    expect(hex(memory.bytes(mp.floatingPointer, 16))).toBe(hex(fp.bytes));
    expect(mp.configTable).toBe(qemu.blobs.get('mem:PCMP')!.address);
    expect(hex(memory.bytes(mp.configTable, mp.end - mp.configTable))).toBe(hex(blob(qemu, 'mem:PCMP')));
  });

  it('lists every package when CPUs are one per package, and sums to zero', () => {
    const table = buildMpConfigTable({ cpus: 4, cpusPerPackage: 1 });
    expect(byteSum(table)).toBe(0);
    const processors = [];
    for (let at = 44; at < table.length; ) {
      if (table[at] === 0) {
        processors.push({ id: table[at + 1], flags: table[at + 3] });
        at += 20;
      } else at += 8;
    }
    expect(processors).toEqual([{ id: 0, flags: 3 }, { id: 1, flags: 1 }, { id: 2, flags: 1 }, { id: 3, flags: 1 }]);
  });

  it('gives one entry per device and pin, with the device number and pin in the source IRQ', () => {
    const table = buildMpConfigTable({ cpus: 1, pciInterrupts: [{ slot: 3, pin: 1, irq: 11 }, { slot: 3, pin: 1, irq: 11 }, { slot: 4, pin: 2, irq: 10 }] });
    const pci: number[][] = [];
    for (let at = 44 + 20 + 8 + 8 + 8; at < table.length; at += 8) if (table[at] === 3 && table[at + 4] === 0) pci.push([...table.subarray(at, at + 8)]);
    expect(pci).toEqual([
      [3, 0, 1, 0, 0, (3 << 2) | 0, 0, 11],
      [3, 0, 1, 0, 0, (4 << 2) | 1, 0, 10],
    ]);
  });

  it('reserves the BIOS area the machine already reports as reserved', () => {
    expect(FSEG_RESERVED).toMatchObject({ base: 0xf0000, length: 0x10000, type: 2 });
  });
});
