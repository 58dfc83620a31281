import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GuestMemory } from '@unimachine/core';
import { findMultibootHeader, loadMultiboot, parseElf, MULTIBOOT_BOOTLOADER_MAGIC } from '../src/index.js';
import { buildKernels, read, type BuiltKernels } from './support/kernels.js';
import { probeOutput } from './support/probe-view.js';

const MiB = 1024 * 1024;
let k: BuiltKernels;
beforeAll(() => {
  k = buildKernels();
});

// What the probe kernel printed under QEMU 7.2 (-m 128 -kernel probe32.elf -append "x y").
const QEMU_PROBE32 = `magic=2badb002 mbi=00009500
0000024f 0000027f 0001fc00 8000ffff 00102000 00000000 00102000 00000000
00000000 00000000 00000000 00000078 00009000 00000000 00000000 00000000
00102010 00000000 00000000 00000000 00000000 00000000 
cmdline=[probe32.elf x y]
loader=[qemu]
mmap size=00000014 base=0000000000000000 len=000000000009fc00 type=00000001
mmap size=00000014 base=000000000009fc00 len=0000000000000400 type=00000002
mmap size=00000014 base=00000000000f0000 len=0000000000010000 type=00000002
mmap size=00000014 base=0000000000100000 len=0000000007f00000 type=00000001
mmap size=00000014 base=00000000fffc0000 len=0000000000040000 type=00000002
`;

function load(file: string, name: string, cmdline: string, size = 128 * MiB) {
  const memory = new GuestMemory(size);
  const loaded = loadMultiboot(read(file), memory, { kernelName: name, cmdline });
  return { memory, loaded };
}

describe('ELF32 multiboot kernel', () => {
  it('loads PT_LOAD segments at their physical addresses and enters at e_entry', () => {
    const image = read(k.elf32);
    const elf = parseElf(image);
    const { memory, loaded } = load(k.elf32, 'probe32.elf', 'x y');
    expect(loaded.format).toBe('elf32');
    expect(loaded.entry).toBe(elf.entry);
    expect(loaded.infoAddress).toBe(0x9500);
    for (const s of elf.segments) {
      expect(memory.bytes(s.paddr, s.filesz)).toEqual(image.subarray(s.offset, s.offset + s.filesz));
      expect(memory.bytes(s.paddr + s.filesz, s.memsz - s.filesz).every((b) => b === 0)).toBe(true);
    }
    // The multiboot header is the first thing at 1 MiB, with its magic.
    expect(memory.readU32(0x100000)).toBe(0x1badb002);
  });

  it('writes the multiboot information QEMU 7.2 writes', () => {
    const { memory, loaded } = load(k.elf32, 'probe32.elf', 'x y');
    expect(probeOutput(memory, MULTIBOOT_BOOTLOADER_MAGIC, loaded.infoAddress)).toBe(QEMU_PROBE32);
  });

  it('reports upper memory and the RAM map for other sizes', () => {
    const { memory } = load(k.elf32, 'k', '', 64 * MiB);
    expect(memory.readU32(0x9500 + 8)).toBe(63 * 1024);
    expect(memory.readU64(0x9000 + 3 * 24 + 12)).toBe(63 * MiB);
  });
});

describe('ELF64 multiboot kernel with the a.out kludge', () => {
  it('loads the file image by the header address fields, zeroes the bss and enters at entry_addr', () => {
    const image = read(k.elf64);
    const header = findMultibootHeader(image)!;
    expect(header.flags & 0x10000).toBe(0x10000);
    const { memory, loaded } = load(k.elf64, 'probe64.elf', '');
    expect(loaded.format).toBe('aout-kludge');
    expect(loaded.entry).toBe(header.entryAddr);
    expect(loaded.loadAddress).toBe(header.loadAddr);
    const fileStart = header.offset - (header.headerAddr - header.loadAddr);
    const loadSize = header.loadEndAddr - header.loadAddr;
    expect(memory.bytes(header.loadAddr, loadSize)).toEqual(image.subarray(fileStart, fileStart + loadSize));
    expect(memory.bytes(header.loadEndAddr, header.bssEndAddr - header.loadEndAddr).every((b) => b === 0)).toBe(true);
    expect(loaded.kernelEnd).toBe(header.bssEndAddr);
  });

  it('places the same boot information as for the ELF32 build', () => {
    const { memory, loaded } = load(k.elf64, 'probe32.elf', 'x y');
    expect(probeOutput(memory, MULTIBOOT_BOOTLOADER_MAGIC, loaded.infoAddress)).toBe(QEMU_PROBE32);
  });

  it('refuses an ELF64 without the kludge, as QEMU does', () => {
    expect(() => load(k.elf64NoKludge, 'x', '')).toThrow(/ELF64 kernel whose multiboot header has no load addresses \(flag bit 16, the a.out kludge\); QEMU refuses it too/);
  });
});

describe('malformed kernels', () => {
  it('rejects a file with no multiboot header', () => {
    const memory = new GuestMemory(4 * MiB);
    expect(() => loadMultiboot(new Uint8Array(16384), memory, { kernelName: 'k', cmdline: '' })).toThrow(
      'no multiboot header in the first 8192 bytes; a multiboot 1 kernel carries the magic 0x1badb002, its flags and a checksum making the sum zero, 4-byte aligned',
    );
  });

  it('ignores a header with a bad checksum or beyond 8192 bytes', () => {
    const img = new Uint8Array(20000);
    const v = new DataView(img.buffer);
    v.setUint32(64, 0x1badb002, true);
    v.setUint32(68, 0, true);
    v.setUint32(72, 1, true); // wrong checksum
    v.setUint32(8192, 0x1badb002, true);
    v.setUint32(8196, 0, true);
    v.setUint32(8200, (-0x1badb002) >>> 0, true); // valid, but too far in
    expect(findMultibootHeader(img)).toBeUndefined();
    v.setUint32(72, (-0x1badb002) >>> 0, true);
    expect(findMultibootHeader(img)?.offset).toBe(64);
  });

  it('rejects a truncated ELF', () => {
    const full = read(k.elf32);
    const header = findMultibootHeader(full)!;
    // Keep the multiboot header but cut the code segment short.
    const image = full.slice(0, header.offset + 64);
    const memory = new GuestMemory(4 * MiB);
    expect(() => loadMultiboot(image, memory, { kernelName: 'k', cmdline: '' })).toThrow(/^malformed ELF: segment \d+ runs past the end of the file$/);
  });

  it('rejects a kernel that does not fit in RAM', () => {
    expect(() => load(k.elf32, 'k', '', 1 * MiB)).toThrow(/ELF segment at 0x100000-0x[0-9a-f]+ lies outside guest RAM \(1 MiB\); give the machine more memory/);
  });
});

// The strongest check: the probe's own output under QEMU equals what it would read from our memory.
const qemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0;
describe.skipIf(!qemu)('against QEMU (qemu-system-x86_64 found on PATH)', () => {
  for (const [label, file] of [['ELF32', 'elf32'], ['ELF64 a.out kludge', 'elf64']] as const) {
    it(`${label}: the boot information matches what QEMU gives the probe`, () => {
      const kernel = k[file];
      const name = path.basename(kernel);
      const run = spawnSync(
        'qemu-system-x86_64',
        ['-accel', 'tcg', '-cpu', 'Westmere', '-m', '128', '-nodefaults', '-no-reboot', '-machine', 'acpi=off', '-display', 'none',
          '-serial', `file:${name}.out`, '-device', 'isa-debug-exit', '-kernel', name, '-append', 'first second'],
        { cwd: k.dir, timeout: 20_000 },
      );
      expect(run.status).toBe((7 << 1) | 1);
      const { memory, loaded } = load(kernel, name, 'first second');
      expect(probeOutput(memory, MULTIBOOT_BOOTLOADER_MAGIC, loaded.infoAddress)).toBe(readFileSync(path.join(k.dir, `${name}.out`), 'latin1'));
    });
  }
});
