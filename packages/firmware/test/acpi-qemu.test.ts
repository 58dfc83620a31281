import { describe, expect, it } from 'vitest';
import { GuestMemory } from '@unimachine/core';
import { buildAcpiTables, byteSum, decodeLoaderCommands, HPET_ADDRESS, installAcpiTables, type AcpiBlobs, type LoaderCommand } from '../src/index.js';
import { blob, hex, loadDump, type QemuDump } from './qemu-dump.js';

const MiB = 1024 * 1024;

/** Our tables for the machine QEMU dumped: `-machine pc -m 256 -smp N` (QEMU's pc has an HPET). */
function ours(cpus: number): { acpi: AcpiBlobs; memory: GuestMemory; installed: ReturnType<typeof installAcpiTables> } {
  const acpi = buildAcpiTables({ memoryBytes: 256 * MiB, cpus, hpet: { address: HPET_ADDRESS } });
  const memory = new GuestMemory(256 * MiB);
  const installed = installAcpiTables(memory, acpi);
  return { acpi, memory, installed };
}

const table = (m: GuestMemory, address: number) => m.bytes(address, m.readU32(address + 4)).slice();

/** A loader command with its offsets given relative to the table they fall in, so layouts with a different DSDT size compare. */
function normalise(commands: LoaderCommand[], tables: Uint8Array): string[] {
  const where = (offset: number) => {
    let at = 0;
    while (at < tables.length) {
      const len = new DataView(tables.buffer, tables.byteOffset).getUint32(at + 4, true);
      const sig = String.fromCharCode(...tables.subarray(at, at + 4));
      if (offset >= at && offset < at + len) return `${sig}+${offset - at}`;
      at += len;
    }
    return `?${offset}`;
  };
  return commands.map((c) => {
    if (c.kind === 'allocate') return `allocate ${c.file} align=${c.align} ${c.zone}`;
    if (c.kind === 'add-pointer') return `pointer ${c.destFile}:${c.destFile.endsWith('rsdp') ? c.offset : where(c.offset)} <- ${c.srcFile} size=${c.size}`;
    // "whole table" rather than a length: our DSDT is smaller than QEMU's.
    const whole = !c.file.endsWith('rsdp') && new DataView(tables.buffer, tables.byteOffset).getUint32(c.start + 4, true) === c.length;
    return `checksum ${c.file}:${c.file.endsWith('rsdp') ? c.offset : where(c.offset)} over ${c.file.endsWith('rsdp') ? c.start : where(c.start)}+${whole ? 'whole table' : c.length}`;
  });
}

describe.each([1, 2, 4] as const)('ACPI tables against QEMU 7.2 -machine pc -m 256 -smp %i', (cpus) => {
  const qemu: QemuDump = loadDump(cpus);
  const { acpi, memory, installed } = ours(cpus);

  it('places the tables where SeaBIOS does: 128 KiB at the top of RAM, FACS first, then the DSDT', () => {
    expect(installed.tablesAddress).toBe(qemu.blobs.get('mem:FACS')!.address);
    expect(installed.tables.FACS).toBe(qemu.blobs.get('mem:FACS')!.address);
    expect(installed.tables.DSDT).toBe(qemu.blobs.get('mem:DSDT')!.address);
    expect(installed.reserved).toEqual([{ base: 0x0ffe0000, length: 0x20000, type: 2, what: 'ACPI tables' }]);
    // SeaBIOS's e820 map (from the multiboot memory map) reserves exactly this range.
    expect(qemu.text).toContain('MMAP 000000000ffe0000 0000000000020000 02');
  });

  it('builds FADT, MADT, HPET, WAET and FACS byte for byte as QEMU (same OEM ids, same addresses, same checksums)', () => {
    for (const sig of ['FACP', 'APIC', 'HPET', 'WAET', 'FACS']) {
      expect(hex(table(memory, installed.tables[sig])), sig).toBe(hex(blob(qemu, `mem:${sig}`)));
    }
  });

  it('has an RSDT listing the same tables in the same order, and an RSDP revision 0 pointing at it', () => {
    const rsdt = table(memory, installed.tables.RSDT);
    const theirs = blob(qemu, 'mem:RSDT');
    expect(hex(rsdt.subarray(0, 9))).toBe(hex(theirs.subarray(0, 9))); // signature, length, revision
    expect(hex(rsdt.subarray(10, 36))).toBe(hex(theirs.subarray(10, 36))); // OEM and creator fields
    const sigs = (m: (a: number) => string, t: Uint8Array) =>
      Array.from({ length: (t.length - 36) / 4 }, (_, i) => m(new DataView(t.buffer, t.byteOffset).getUint32(36 + 4 * i, true)));
    const qemuSigs = sigs((a) => [...qemu.blobs.entries()].find(([, b]) => b.address === a)![0].slice(4), theirs);
    expect(sigs((a) => String.fromCharCode(...memory.bytes(a, 4)), rsdt)).toEqual(qemuSigs);
    expect(qemuSigs).toEqual(['FACP', 'APIC', 'HPET', 'WAET']);

    const rsdp = memory.bytes(installed.rsdpAddress, 20);
    const theirRsdp = blob(qemu, 'mem:RSDP');
    expect(hex(rsdp.subarray(0, 8))).toBe(hex(theirRsdp.subarray(0, 8)));
    expect(hex(rsdp.subarray(9, 16))).toBe(hex(theirRsdp.subarray(9, 16))); // OEM id, revision 0
    expect(memory.readU32(installed.rsdpAddress + 16)).toBe(installed.tables.RSDT);
  });

  it('makes every checksum come out to zero', () => {
    expect(byteSum(memory.bytes(installed.rsdpAddress, 20))).toBe(0);
    for (const [sig, address] of Object.entries(installed.tables)) {
      if (sig !== 'FACS') expect(byteSum(table(memory, address)), sig).toBe(0);
    }
  });

  it('offers the same fw_cfg blobs: unpatched tables, the RSDP with an offset, the same loader commands', () => {
    expect(acpi.tables.length).toBe(qemu.files.find((f) => f.name === 'etc/acpi/tables')!.size);
    expect(acpi.loader.length).toBe(qemu.files.find((f) => f.name === 'etc/table-loader')!.size);
    expect(acpi.rsdp.length).toBe(qemu.files.find((f) => f.name === 'etc/acpi/rsdp')!.size);
    const theirTables = blob(qemu, 'file:etc/acpi/tables');
    const theirCommands = decodeLoaderCommands(blob(qemu, 'file:etc/table-loader'));
    expect(normalise(decodeLoaderCommands(acpi.loader), acpi.tables)).toEqual(normalise(theirCommands, theirTables));
    // Every unpatched table but the DSDT is identical in the blob too (checksums 0, pointers as offsets).
    for (const l of acpi.locations.filter((l) => l.signature !== 'DSDT' && l.signature !== 'RSDT')) {
      const at = findTable(theirTables, l.signature);
      expect(hex(acpi.tables.subarray(l.offset, l.offset + l.length)), l.signature).toBe(hex(theirTables.subarray(at, at + l.length)));
    }
    const theirRsdp = blob(qemu, 'file:etc/acpi/rsdp');
    expect(hex(acpi.rsdp.subarray(0, 16))).toBe(hex(theirRsdp.subarray(0, 16)));
    expect(new DataView(acpi.rsdp.buffer).getUint32(16, true)).toBe(acpi.locations.find((l) => l.signature === 'RSDT')!.offset);
  });
});

function findTable(tables: Uint8Array, sig: string): number {
  const v = new DataView(tables.buffer, tables.byteOffset);
  for (let at = 0; at < tables.length; ) {
    if (String.fromCharCode(...tables.subarray(at, at + 4)) === sig) return at;
    const len = v.getUint32(at + 4, true);
    if (!len) break;
    at += len;
  }
  throw new Error(`no ${sig}`);
}
