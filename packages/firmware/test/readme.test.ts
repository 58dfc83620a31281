import { describe, expect, it } from 'vitest';
import { GuestMemory } from '@unimachine/core';
import { addAcpiFiles, buildAcpiTables, FwCfg, FwCfgKey, installAcpiTables, installMpTable } from '../src/index.js';

describe('README example', () => {
  it('gives the values the README states', () => {
    const memory = new GuestMemory(256 << 20);
    const acpi = buildAcpiTables({ memoryBytes: memory.size, cpus: 2 });
    const installed = installAcpiTables(memory, acpi);
    expect(installed.rsdpAddress).toBe(0xf5000);
    expect(installed.tables.APIC).toBe(0xffe0820);
    expect(installed.reserved).toEqual([{ base: 0xffe0000, length: 0x20000, type: 2, what: 'ACPI tables' }]);
    const mp = installMpTable(memory, { cpus: 2, pciInterrupts: [{ slot: 3, pin: 1, irq: 11 }] }, installed.fsegNext);
    expect(String.fromCharCode(...memory.bytes(mp.floatingPointer, 4))).toBe('_MP_');

    const fw = new FwCfg(memory);
    fw.setMachine({ memoryBytes: memory.size, cpus: 2 });
    addAcpiFiles(fw, acpi);
    expect(['etc/acpi/rsdp', 'etc/acpi/tables', 'etc/e820', 'etc/table-loader'].map((f) => fw.fileKey(f))).toEqual([0x20, 0x21, 0x22, 0x23]);
    fw.select(FwCfgKey.NB_CPUS);
    expect(fw.readData()).toBe(2);
  });
});
