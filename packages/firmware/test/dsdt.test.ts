import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aml, buildAcpiTables, byteSum, type AcpiBlobs } from '../src/index.js';
import { blob, loadDump } from './qemu-dump.js';

const MiB = 1024 * 1024;
const hasIasl = spawnSync('iasl', ['-v']).status === 0;

function dsdtOf(acpi: AcpiBlobs): Uint8Array {
  const l = acpi.locations.find((t) => t.signature === 'DSDT')!;
  const t = acpi.tables.slice(l.offset, l.offset + l.length);
  t[9] = (t[9] - byteSum(t)) & 0xff; // what the loader's checksum command does
  return t;
}

/** Does `needle` occur in `hay`? */
function contains(hay: Uint8Array, needle: readonly number[]): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('AML encoder', () => {
  it('encodes package lengths in one to four bytes, the length counting its own bytes', () => {
    expect(aml.pkgLength(10)).toEqual([11]);
    expect(aml.pkgLength(62)).toEqual([63]);
    // 63 bytes of body + 2 length bytes = 65 = 0x41: lead byte 0x41 (1 follow byte, low nibble 1), then 0x04.
    expect(aml.pkgLength(63)).toEqual([0x41, 0x04]);
    const long = aml.pkgLength(5000);
    const total = 5000 + long.length;
    expect((long[0] & 0x0f) | (long[1] << 4) | ((long[2] ?? 0) << 12)).toBe(total);
  });

  it('encodes integers in their shortest form and EISA ids as dwords', () => {
    expect(aml.int(0)).toEqual([0x00]);
    expect(aml.int(1)).toEqual([0x01]);
    expect(aml.int(0x0b)).toEqual([0x0a, 0x0b]);
    expect(aml.int(0xffff)).toEqual([0x0b, 0xff, 0xff]);
    expect(aml.int(0x1ffff)).toEqual([0x0c, 0xff, 0xff, 0x01, 0x00]);
    expect(aml.eisaId('PNP0A03')).toEqual([0x0c, 0x41, 0xd0, 0x0a, 0x03]);
    expect(aml.nameString('\\_SB.PCI0')).toEqual([0x5c, 0x2e, ...Buffer.from('_SB_PCI0')]);
    expect(() => aml.nameString('pci0')).toThrow(/name segment/);
  });
});

describe('DSDT', () => {
  const acpi = buildAcpiTables({ memoryBytes: 256 * MiB, cpus: 2 });
  const dsdt = dsdtOf(acpi);
  const qemuDsdt = blob(loadDump(2), 'mem:DSDT');

  it("carries QEMU's host bridge resources, fw_cfg device and S5 package byte for byte", () => {
    // _HID/_ADR/_UID of PCI0, as QEMU's DSDT names them.
    const ids = [...aml.name('_HID', aml.eisaId('PNP0A03')), ...aml.name('_ADR', aml.int(0)), ...aml.name('_UID', aml.int(0))];
    expect(contains(qemuDsdt, ids)).toBe(true);
    expect(contains(dsdt, ids)).toBe(true);
    // The whole _CRS of \_SB.PCI0: bus numbers, I/O and memory windows for 256 MiB of RAM.
    const crs = aml.name(
      '_CRS',
      aml.resourceTemplate(
        aml.wordBusNumber(0, 0xff),
        aml.io(0xcf8, 0xcf8, 1, 8),
        aml.wordIo(0, 0xcf7),
        aml.wordIo(0xd00, 0xffff),
        aml.dwordMemory(0xa0000, 0xbffff, true),
        aml.dwordMemory(256 * MiB, 0xfebfffff, false),
        aml.qwordMemory(0x1_0000_0000, 0x1_7fff_ffff, true),
      ),
    );
    expect(contains(qemuDsdt, crs)).toBe(true);
    expect(contains(dsdt, crs)).toBe(true);
    const fwcf = aml.device('FWCF', aml.name('_HID', aml.string('QEMU0002')), aml.name('_STA', aml.int(0x0b)), aml.name('_CRS', aml.resourceTemplate(aml.io(0x510, 0x510, 1, 0x0c))));
    expect(contains(qemuDsdt, fwcf)).toBe(true);
    expect(contains(dsdt, fwcf)).toBe(true);
    const s5 = aml.name('_S5', aml.pkg(aml.int(0), aml.int(0), aml.int(0), aml.int(0)));
    expect(contains(qemuDsdt, s5)).toBe(true);
    expect(contains(dsdt, s5)).toBe(true);
  });

  it('leaves out fw_cfg when the machine has none, and sizes the PCI hole from RAM', () => {
    const small = dsdtOf(buildAcpiTables({ memoryBytes: 64 * MiB, cpus: 1, fwCfg: false }));
    expect(indexOfBytes(small, Buffer.from('QEMU0002'))).toBe(-1);
    expect(contains(small, aml.dwordMemory(64 * MiB, 0xfebfffff, false))).toBe(true);
  });

  it.skipIf(!hasIasl)('disassembles with iasl, and recompiling the listing gives the same AML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'um-dsdt-'));
    writeFileSync(join(dir, 'dsdt.aml'), dsdt);
    execFileSync('iasl', ['-d', 'dsdt.aml'], { cwd: dir, stdio: 'pipe' });
    const dsl = readFileSync(join(dir, 'dsdt.dsl'), 'utf8');
    expect(dsl).toContain('Device (PCI0)');
    expect(dsl).toContain('Name (_HID, EisaId ("PNP0A03") /* PCI Bus */)');
    expect(dsl).toContain('Name (_PRT, Package (0x80)');
    expect(dsl).toContain('Name (_HID, "QEMU0002")');
    expect(dsl).toContain('Name (_S5, Package (0x04)');
    expect(dsl).not.toMatch(/Unknown|Invalid|error/i);
    // A listing that compiles back to the same bytes: our encoder writes canonical AML.
    const out = spawnSync('iasl', ['-p', 'again', 'dsdt.dsl'], { cwd: dir, encoding: 'utf8' });
    expect(out.stdout).toMatch(/0 Errors/);
    const again = readFileSync(join(dir, 'again.aml'));
    expect(Buffer.from(again.subarray(36)).equals(Buffer.from(dsdt.subarray(36)))).toBe(true);
  });

  it('routes every slot and pin through the PIIX swizzle to PIRQ IRQs 10, 10, 11, 11, slot 1 INTA to the SCI', () => {
    const route = (slot: number, pin: number, irq: number) => aml.pkg(aml.int(slot * 0x10000 + 0xffff), aml.int(pin), aml.int(0), aml.int(irq));
    expect(contains(dsdt, route(1, 0, 9))).toBe(true);
    expect(contains(dsdt, route(1, 1, 10))).toBe(true); // slot 1 INTB: PIRQB
    expect(contains(dsdt, route(2, 0, 10))).toBe(true); // slot 2 INTA: PIRQB
    expect(contains(dsdt, route(3, 0, 11))).toBe(true); // PIRQC
    expect(contains(dsdt, route(4, 0, 11))).toBe(true); // PIRQD
    expect(contains(dsdt, route(5, 0, 10))).toBe(true); // PIRQA
    expect(contains(dsdt, route(31, 3, 10))).toBe(true); // slot 31 INTD: (31 + 4 - 2) mod 4 = 1, PIRQB
  });
});

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
