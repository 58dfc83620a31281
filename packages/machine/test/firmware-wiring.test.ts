// machines/pc-acpi.yaml: `acpi: on` puts QEMU pc's ACPI tables where a guest looks for them
// (RSDP in 0xe0000-0xfffff, the rest at the top of RAM, reserved in the e820 map), fw_cfg answers
// on 0x510/0x511 and offers the ACPI files; `acpi: off` machines stay table-less.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GuestMemory } from '@unimachine/core';
import { createMachine, e820Map, MULTIBOOT_INFO_ADDRESS, MULTIBOOT_MMAP_ADDRESS, type Machine } from '../src/index.js';
import { buildKernels, type BuiltKernels } from './support/kernels.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const yamlOf = (name: string) => readFileSync(path.join(REPO, 'machines', `${name}.yaml`), 'utf8');
const MIB = 1024 * 1024;

const ascii = (m: GuestMemory, at: number, n: number) => String.fromCharCode(...m.bytes(at, n));
const sumIsZero = (m: GuestMemory, at: number, n: number) => m.bytes(at, n).reduce((s, b) => (s + b) & 0xff, 0) === 0;

/** Every 16-byte aligned `signature` in 0xe0000-0xfffff, as guests scan for the RSDP and the MP pointer. */
function scanBiosArea(m: GuestMemory, signature: string): number[] {
  const found: number[] = [];
  for (let a = 0xe0000; a < 0x100000; a += 16) if (ascii(m, a, signature.length) === signature) found.push(a);
  return found;
}

/** A table's signature and length after checking its checksum. */
function table(m: GuestMemory, at: number): { signature: string; length: number } {
  const length = m.readU32(at + 4);
  expect(sumIsZero(m, at, length), `checksum of ${ascii(m, at, 4)} at 0x${at.toString(16)}`).toBe(true);
  return { signature: ascii(m, at, 4), length };
}

/** The memory map the multiboot loader handed the kernel. */
function multibootMap(m: GuestMemory): { base: number; length: number; type: number }[] {
  const bytes = m.readU32(MULTIBOOT_INFO_ADDRESS + 44);
  expect(m.readU32(MULTIBOOT_INFO_ADDRESS + 48)).toBe(MULTIBOOT_MMAP_ADDRESS);
  const out = [];
  for (let p = MULTIBOOT_MMAP_ADDRESS; p < MULTIBOOT_MMAP_ADDRESS + bytes; p += m.readU32(p) + 4) {
    out.push({ base: m.readU32(p + 4) + m.readU32(p + 8) * 2 ** 32, length: m.readU32(p + 12) + m.readU32(p + 16) * 2 ** 32, type: m.readU32(p + 20) });
  }
  return out;
}

/** fw_cfg item `key` through the selector and byte-wide data ports. */
function fwCfgRead(m: Machine, key: number, n: number): Uint8Array {
  m.ports.write(0x510, 2, key);
  return Uint8Array.from({ length: n }, () => m.ports.read(0x511, 1));
}

describe('firmware wiring', () => {
  let k: BuiltKernels;
  beforeAll(() => {
    k = buildKernels();
  });

  const machine = (name: string, opts: { validateOnly?: boolean } = {}) =>
    createMachine({ yaml: yamlOf(name), baseDir: k.dir, file: `${name}.yaml` }, { set: { 'boot.kernel': path.basename(k.elf32) }, ...opts });

  it('acpi: on installs RSDP, RSDT, FACP and a MADT with one LAPIC and the I/O APIC, reserved in the e820 map', async () => {
    const m = await machine('pc-acpi');
    const mem = m.memory;
    const rsdps = scanBiosArea(mem, 'RSD PTR ').filter((a) => sumIsZero(mem, a, 20));
    expect(rsdps).toEqual([0xf5000]);
    const rsdt = mem.readU32(rsdps[0] + 16);
    const { signature, length } = table(mem, rsdt);
    expect(signature).toBe('RSDT');
    const tables = new Map<string, number>();
    for (let p = rsdt + 36; p < rsdt + length; p += 4) {
      const at = mem.readU32(p);
      tables.set(table(mem, at).signature, at);
    }
    expect([...tables.keys()]).toEqual(expect.arrayContaining(['FACP', 'APIC']));

    const facp = tables.get('FACP')!;
    expect(table(mem, mem.readU32(facp + 40)).signature).toBe('DSDT');
    expect(mem.readU16(facp + 46)).toBe(9); // SCI_INT
    expect(mem.readU32(facp + 76)).toBe(0x608); // PM_TMR_BLK of the acpi-pm device

    const madt = tables.get('APIC')!;
    const madtEnd = madt + mem.readU32(madt + 4);
    const lapics: number[] = [];
    const ioapics: { id: number; address: number }[] = [];
    for (let p = madt + 44; p < madtEnd; p += mem.readU8(p + 1)) {
      if (mem.readU8(p) === 0) lapics.push(mem.readU8(p + 3));
      if (mem.readU8(p) === 1) ioapics.push({ id: mem.readU8(p + 2), address: mem.readU32(p + 4) });
    }
    expect(lapics).toEqual([0]);
    expect(ioapics).toEqual([{ id: 0, address: 0xfec00000 }]);

    // Every table lies in a reserved e820 range, and no usable RAM overlaps the 128 KiB at the top.
    const map = multibootMap(mem);
    const top = { base: 128 * MIB - 0x20000, length: 0x20000, type: 2 };
    expect(map).toContainEqual(top);
    for (const at of [rsdt, ...tables.values()]) expect(at >= top.base && at < top.base + top.length).toBe(true);
    for (const e of map.filter((e) => e.type === 1)) expect(e.base + e.length <= top.base || e.base >= top.base + top.length).toBe(true);
    expect(map).toEqual(e820Map(128 * MIB, [top]));

    // The MP table follows the RSDP, as the machine has an I/O APIC.
    expect(scanBiosArea(mem, '_MP_').filter((a) => sumIsZero(mem, a, 16))).toEqual([0xf5020]);
    // The SCI (IRQ 9) is level-triggered in the ELCR.
    expect(m.ports.read(0x4d1, 1) & 0x02).toBe(0x02);
    await m.dispose();
  });

  it('fw_cfg answers "QEMU" on 0x510/0x511 and lists the ACPI files and etc/e820', async () => {
    const m = await machine('pc-acpi');
    expect(new TextDecoder().decode(fwCfgRead(m, 0, 4))).toBe('QEMU');
    const count = new DataView(fwCfgRead(m, 0x19, 4).buffer).getUint32(0);
    const dir = fwCfgRead(m, 0x19, 4 + count * 64);
    const names = Array.from({ length: count }, (_, i) => new TextDecoder().decode(dir.subarray(4 + i * 64 + 8, 4 + (i + 1) * 64)).replace(/\0+$/, ''));
    expect(names).toEqual(['etc/acpi/rsdp', 'etc/acpi/tables', 'etc/e820', 'etc/table-loader']);
    // The RAM size item (0x03) is the machine's.
    expect(new DataView(fwCfgRead(m, 0x03, 8).buffer).getUint32(0, true)).toBe(128 * MIB);
    await m.dispose();
  });

  it('writes the same tables when only validating (no CPU)', async () => {
    const m = await machine('pc-acpi', { validateOnly: true });
    expect(scanBiosArea(m.memory, 'RSD PTR ')).toEqual([0xf5000]);
    await m.dispose();
  });

  it('acpi: off machines have no RSDP; pc-apic gets the MP table, PIC-only machines nothing', async () => {
    const apic = await machine('pc-apic');
    expect(scanBiosArea(apic.memory, 'RSD PTR ')).toEqual([]);
    expect(scanBiosArea(apic.memory, '_MP_').filter((a) => sumIsZero(apic.memory, a, 16))).toEqual([0xf5100]);
    expect(multibootMap(apic.memory)).toEqual(e820Map(128 * MIB));
    expect(apic.ports.read(0x4d1, 1) & 0x02).toBe(0); // no acpi-pm: IRQ 9 stays edge-triggered
    await apic.dispose();

    const solo5 = await machine('solo5-virtio');
    expect(scanBiosArea(solo5.memory, 'RSD PTR ')).toEqual([]);
    expect(scanBiosArea(solo5.memory, '_MP_')).toEqual([]);
    expect(multibootMap(solo5.memory)).toEqual(e820Map(128 * MIB));
    await solo5.dispose();
  });

  it('e820Map cuts reserved ranges out of usable RAM', () => {
    expect(e820Map(128 * MIB, [{ base: 0x200000, length: 0x1000, type: 2 }])).toEqual([
      { base: 0, length: 0x9fc00, type: 1 },
      { base: 0x9fc00, length: 0x400, type: 2 },
      { base: 0xf0000, length: 0x10000, type: 2 },
      { base: 0x100000, length: 0x100000, type: 1 },
      { base: 0x200000, length: 0x1000, type: 2 },
      { base: 0x201000, length: 128 * MIB - 0x201000, type: 1 },
      { base: 0xfffc0000, length: 0x40000, type: 2 },
    ]);
  });
});
