import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import {
  addAcpiFiles,
  buildAcpiTables,
  DmaControl,
  encodeE820,
  FwCfg,
  FwCfgKey,
  FW_CFG_DMA_PORT,
  FW_CFG_PORT,
  HPET_ADDRESS,
} from '../src/index.js';
import { blob, hex, loadDump } from './qemu-dump.js';

const MiB = 1024 * 1024;
const SEL = FW_CFG_PORT;
const DATA = FW_CFG_PORT + 1;
const swap32 = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

/** fw_cfg as the machine sets it up for `-m 256 -smp 2`, on a real port bus over 256 MiB of RAM. */
function machine(cpus = 2) {
  const memory = new GuestMemory(256 * MiB);
  const ports = new PortBus();
  const fw = new FwCfg(memory);
  fw.setMachine({ memoryBytes: memory.size, cpus });
  addAcpiFiles(fw, buildAcpiTables({ memoryBytes: memory.size, cpus, hpet: { address: HPET_ADDRESS } }));
  ports.claim({ start: SEL, length: 2 }, fw.ports, 'fw_cfg');
  ports.claim({ start: FW_CFG_DMA_PORT, length: 8 }, fw.dmaPorts(FW_CFG_DMA_PORT), 'fw_cfg');
  return { memory, ports, fw };
}

/** What a guest driver does: an FWCfgDmaAccess in RAM (big-endian), its address written high half first. */
function dma(m: ReturnType<typeof machine>, control: number, length: number, address: number, at = 0x1000): number {
  const v = new DataView(m.memory.buffer, at, 16);
  v.setUint32(0, control);
  v.setUint32(4, length);
  v.setUint32(8, Math.floor(address / 2 ** 32));
  v.setUint32(12, address >>> 0);
  m.ports.write(FW_CFG_DMA_PORT, 4, 0);
  m.ports.write(FW_CFG_DMA_PORT + 4, 4, swap32(at));
  return v.getUint32(0);
}

function readItem(ports: PortBus, key: number, n: number): Uint8Array {
  ports.write(SEL, 2, key);
  return Uint8Array.from({ length: n }, () => ports.read(DATA, 1));
}

describe('fw_cfg registers, compared with what the dump guest read on QEMU 7.2', () => {
  const qemu = loadDump(2);

  it('reads the same 24 bytes from every standard key through the data port', () => {
    const m = machine();
    for (const key of [FwCfgKey.SIGNATURE, FwCfgKey.ID, FwCfgKey.UUID, FwCfgKey.RAM_SIZE, FwCfgKey.NOGRAPHIC, FwCfgKey.NB_CPUS, FwCfgKey.MACHINE_ID, FwCfgKey.BOOT_MENU, FwCfgKey.MAX_CPUS, FwCfgKey.SMBIOS_ENTRIES, FwCfgKey.IRQ0_OVERRIDE]) {
      expect(hex(readItem(m.ports, key, 24)), `key 0x${key.toString(16)}`).toBe(hex(qemu.keys.get(key)!));
    }
    expect(String.fromCharCode(...readItem(m.ports, FwCfgKey.SIGNATURE, 4))).toBe('QEMU');
    expect(readItem(m.ports, FwCfgKey.ID, 4)).toEqual(Uint8Array.of(3, 0, 0, 0)); // traditional + DMA
  });

  it('answers the DMA register with "QEMU CFG" and only byte reads on the data ports, as QEMU', () => {
    const m = machine();
    const sig = Array.from({ length: 8 }, (_, i) => m.ports.read(FW_CFG_DMA_PORT + i, 1).toString(16).padStart(2, '0')).join('');
    const line = qemu.lines.find((l) => l.startsWith('DMASIG '))!;
    const [, bytes, hi, lo, word] = line.split(' ');
    expect(sig).toBe(bytes);
    expect(m.ports.read(FW_CFG_DMA_PORT, 4).toString(16).padStart(8, '0')).toBe(hi);
    expect(m.ports.read(FW_CFG_DMA_PORT + 4, 4).toString(16).padStart(8, '0')).toBe(lo);
    expect(m.ports.read(FW_CFG_DMA_PORT + 2, 2).toString(16).padStart(4, '0')).toBe(word);
    // PORTSIZES: after selecting the signature: inb 0x510, inw 0x510, inw 0x511, inl 0x510.
    m.ports.write(SEL, 2, 0);
    const got = [m.ports.read(SEL, 1).toString(16).padStart(2, '0'), m.ports.read(SEL, 2).toString(16).padStart(4, '0'), m.ports.read(DATA, 2).toString(16).padStart(4, '0'), m.ports.read(SEL, 4).toString(16).padStart(8, '0')];
    expect(`PORTSIZES ${got.join(' ')}`).toBe(qemu.lines.find((l) => l.startsWith('PORTSIZES '))!);
  });

  it('lists a sorted file directory; the ACPI files and etc/e820 match QEMU in size, key order and content', () => {
    const m = machine();
    const count = new DataView(readItem(m.ports, FwCfgKey.FILE_DIR, 4).buffer).getUint32(0);
    const dir = readItem(m.ports, FwCfgKey.FILE_DIR, 4 + 64 * count).subarray(4);
    const files = Array.from({ length: count }, (_, i) => {
      const e = dir.subarray(64 * i, 64 * i + 64);
      const v = new DataView(e.buffer, e.byteOffset);
      return { size: v.getUint32(0), select: v.getUint16(4), name: String.fromCharCode(...e.subarray(8)).replace(/\0.*$/s, '') };
    });
    expect(files.map((f) => f.name)).toEqual(['etc/acpi/rsdp', 'etc/acpi/tables', 'etc/e820', 'etc/table-loader']);
    expect(files.map((f) => f.select)).toEqual([0x20, 0x21, 0x22, 0x23]);
    for (const f of files) expect(f.size, f.name).toBe(qemu.files.find((q) => q.name === f.name)!.size);
    expect(hex(readItem(m.ports, m.fw.fileKey('etc/e820')!, 20))).toBe(hex(blob(qemu, 'file:etc/e820')));
    expect(hex(encodeE820([{ base: 0, length: 256 * MiB, type: 1 }]))).toBe(hex(blob(qemu, 'file:etc/e820')));
  });

  it('copies a whole file into guest memory with one DMA read, and clears the control word', () => {
    const m = machine();
    const key = m.fw.fileKey('etc/table-loader')!;
    const target = 0x200000;
    m.memory.u8.fill(0xaa, target, target + 0x1000);
    expect(dma(m, (key << 16) | DmaControl.SELECT | DmaControl.READ, 0x1000, target)).toBe(0);
    expect(m.memory.readU32(target)).toBe(1); // ALLOCATE
    expect(String.fromCharCode(...m.memory.bytes(target + 4, 13))).toBe('etc/acpi/rsdp');
  });

  it('behaves as QEMU in every DMA case the dump guest tried', () => {
    const m = machine();
    const buf = 0x3000;
    const fill = () => m.memory.u8.fill(0xaa, buf, buf + 16);
    const bytes = (n: number) => hex(m.memory.bytes(buf, n));
    const same = (name: string, control: number, shown: string) => {
      const q = qemu.dmaTests.get(name)!;
      expect({ name, control, shown }).toEqual({ name, control: q.control, shown: q.bytes });
    };
    fill();
    same('sig-past-end', dma(m, DmaControl.SELECT | DmaControl.READ, 8, buf), bytes(12));
    fill();
    same('invalid-key', dma(m, (0x3fff << 16) | DmaControl.SELECT | DmaControl.READ, 4, buf), bytes(8));
    fill();
    same('key-0x40', dma(m, (0x40 << 16) | DmaControl.SELECT | DmaControl.READ, 4, buf), bytes(8));
    same('read-outside-ram', dma(m, DmaControl.SELECT | DmaControl.READ, 4, 0x20000000), '');
    fill();
    same('skip-then-read', dma(m, (FwCfgKey.FILE_DIR << 16) | DmaControl.SELECT | DmaControl.SKIP, 4, 0), '');
    // After skipping the count, the read returns the first entry's size: QEMU's first file is the
    // empty bios-geometry, ours etc/acpi/rsdp; each must be its own directory's first size.
    expect(dma(m, DmaControl.READ, 4, buf)).toBe(qemu.dmaTests.get('after-skip')!.control);
    expect(bytes(4)).toBe('00000014');
    expect(qemu.dmaTests.get('after-skip')!.bytes).toBe(qemu.files[0].size.toString(16).padStart(8, '0'));
    same('write-readonly', dma(m, DmaControl.SELECT | DmaControl.WRITE, 4, buf), '');
    same('select-only', dma(m, (FwCfgKey.NB_CPUS << 16) | DmaControl.SELECT, 4, buf), '');
    const afterSelect = [m.ports.read(DATA, 1), m.ports.read(DATA, 1)].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(`AFTER-SELECT-ONLY ${afterSelect}`).toBe(qemu.lines.find((l) => l.startsWith('AFTER-SELECT-ONLY'))!);
    fill();
    const mixed = dma(m, DmaControl.SELECT | DmaControl.READ, 2, buf);
    expect(`MIXED ${mixed.toString(16).padStart(8, '0')} ${bytes(2)}`).toBe(qemu.lines.find((l) => l.startsWith('MIXED '))!);
    const port = [0, 1, 2].map(() => m.ports.read(DATA, 1).toString(16).padStart(2, '0')).join('');
    expect(`MIXED-PORT ${port}`).toBe(qemu.lines.find((l) => l.startsWith('MIXED-PORT'))!);
  });

  it('reports an error for a read that runs off the end of RAM, and writes nothing outside it', () => {
    const m = machine();
    const last = m.memory.size - 2;
    m.memory.u8.fill(0x55, last, last + 2);
    expect(dma(m, DmaControl.SELECT | DmaControl.READ, 4, last)).toBe(DmaControl.ERROR);
    expect([...m.memory.bytes(last, 2)]).toEqual([0x55, 0x55]);
    // A 64-bit address above 4 GiB is outside RAM too.
    expect(dma(m, DmaControl.SELECT | DmaControl.READ, 4, 2 ** 33)).toBe(DmaControl.ERROR);
    // An access structure outside RAM is dropped: nothing happens and nothing throws.
    m.ports.write(FW_CFG_DMA_PORT, 4, 0);
    expect(() => m.ports.write(FW_CFG_DMA_PORT + 4, 4, swap32(0x20000000))).not.toThrow();
  });

  it('tells the CPU about every byte DMA wrote', () => {
    const m = machine();
    const seen: [number, number][] = [];
    m.memory.observeWrites((a, n) => seen.push([a, n]));
    dma(m, DmaControl.SELECT | DmaControl.READ, 8, 0x5000);
    expect(seen).toContainEqual([0x5000, 4]); // the data present ("QEMU")
    expect(seen).toContainEqual([0x5004, 4]); // zeros past the end
    expect(seen).toContainEqual([0x1000, 4]); // the control word
  });

  it('has no DMA interface when turned off: ID bit 1 clear', () => {
    const fw = new FwCfg(new GuestMemory(1 * MiB), { dma: false });
    fw.select(FwCfgKey.ID);
    expect(fw.readData()).toBe(1);
  });

  it('keeps selection and offset across snapshot/restore and rejects a foreign state', () => {
    const a = machine();
    readItem(a.ports, FwCfgKey.SIGNATURE, 2);
    const b = machine();
    b.fw.restore(JSON.parse(JSON.stringify(a.fw.snapshot())));
    expect(String.fromCharCode(b.ports.read(DATA, 1), b.ports.read(DATA, 1))).toBe('MU');
    expect(() => b.fw.restore({ version: 9 })).toThrow(/version/);
    b.fw.reset();
    expect(b.ports.read(DATA, 1)).toBe(0x51);
  });
});
