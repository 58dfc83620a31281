// --trace: one line per event in the categories asked for, nothing otherwise.
import path from 'node:path';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMachine } from '../src/index.js';
import { ensureGuests, guestBuild, machines } from './support/paths.js';

beforeAll(() => ensureGuests('pci.elf', 'dma-code.elf', 'hello.elf'));

async function traced(kernel: string, trace: string[], disks: string[] = []): Promise<{ lines: string[]; console: string }> {
  const lines: string[] = [];
  const m = await createMachine(path.join(machines, 'hello.yaml'), {
    kernel: path.join(guestBuild, kernel),
    disks,
    trace,
    traceTo: (line) => lines.push(line),
  });
  await m.run({ timeoutMs: 60_000 });
  const text = m.console('com1').text();
  await m.dispose();
  return { lines, console: text };
}

describe('--trace', () => {
  it('io and pci: port accesses and decoded configuration cycles, stamped with virtual time', async () => {
    const { lines } = await traced('pci.elf', ['io', 'pci']);
    expect(lines.some((l) => / io: out8 0x03f8 <- 0x/.test(l))).toBe(true);
    expect(lines.some((l) => / pci: config read 00:00\.0 reg 0x00\+0 \(4\) -> 0x12378086/.test(l))).toBe(true);
    expect(lines.every((l) => /^\[\d+\.\d{6} ms\] (io|pci): /.test(l))).toBe(true);
  });

  it('io: every access, also those compiled code makes through the devices\' fast paths when not traced', async () => {
    const saved = process.env.UNIMACHINE_JIT;
    process.env.UNIMACHINE_JIT = '0';
    try {
      const { lines } = await traced('hello.elf', ['io']);
      // hello's calibration latches and reads the PIT about 33,000 times; its PCI scan probes 8,192 slots.
      expect(lines.filter((l) => / io: in8 0x0040 -> /.test(l)).length).toBeGreaterThan(60_000);
      expect(lines.filter((l) => / io: in32 0x0cfc -> 0xffffffff/.test(l)).length).toBeGreaterThan(8_000);
    } finally {
      if (saved === undefined) delete process.env.UNIMACHINE_JIT;
      else process.env.UNIMACHINE_JIT = saved;
    }
  });

  it('virtio: the device lifecycle, and nothing from categories that are off', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'unimachine-trace-'));
    const img = path.join(dir, 'disk.img');
    writeFileSync(img, Buffer.alloc(64 * 1024));
    const { lines } = await traced('dma-code.elf', ['virtio'], [img]);
    expect(lines.some((l) => /virtio: disk0: DRIVER_OK/.test(l))).toBe(true);
    expect(lines.filter((l) => !/\] virtio: /.test(l))).toEqual([]);
  });

  it('off by default', async () => {
    const { lines, console } = await traced('pci.elf', []);
    expect(console.length).toBeGreaterThan(0);
    expect(lines).toEqual([]);
  });
});
