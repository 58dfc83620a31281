import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GuestMemory } from '@unimachine/core';
import { createMachine, MachineConfigError } from '../src/index.js';
import { isBzImage, loadLinux, readSetupHeader } from '../src/loader/linux.js';
import { loadBootableKernel } from '../src/loader/kernel.js';
import { KernelLoadError } from '../src/loader/multiboot.js';

const MiB = 1024 * 1024;

/**
 * 32-bit code run at code32_start (nasm, bits 32): checks the boot protocol hand-off and writes
 * to isa-debug-exit (0x501) what it found:
 *   mov esp,0x8000                                                      ; the protocol gives no stack
 *   mov dx,0x501; mov ax,0x10; cmp dword [esi+0x202],'HdrS'; jne out   ; 0x10: ESI is not boot_params
 *   mov ax,0x11; or ebx,ebp; or ebx,edi; jnz out                        ; 0x11: EBX/EBP/EDI not zero
 *   mov ax,0x12; pushfd; pop ecx; test ecx,0x200; jnz out                ; 0x12: IF set
 *   mov ax,0x13; mov ecx,[esi+0x228]; cmp byte [ecx],'c'; jne out       ; 0x13: no command line
 *   mov ecx,[esi+0x218]; add ecx,[esi+0x21c]; movzx eax,byte [ecx-1]     ; else: the initrd's last byte
 *   out: out dx,ax; hlt
 */
const PROBE_CODE = hexBytes(
  'bc0080000066ba010566b8100081be0202000048647253753766b8110009eb09fb752d66b812009c59f7c100020000751f' +
    '66b813008b8e2802000080396375108b8e18020000038e1c0200000fb641ff66eff4',
);

interface FakeBzImage {
  version?: number;
  loadflags?: number;
  setupSects?: number;
  initrdAddrMax?: number;
  initSize?: number;
  cmdlineSize?: number;
  xloadflags?: number;
  payload?: Uint8Array;
}

/** A bzImage as the kernel's build lays it out: boot sector with the setup header, setup sectors, then the payload. */
function fakeBzImage(o: FakeBzImage = {}): Uint8Array {
  const setupSects = o.setupSects ?? 1;
  const payload = o.payload ?? PROBE_CODE;
  const setupBytes = ((setupSects || 4) + 1) * 512;
  const image = new Uint8Array(setupBytes + payload.length);
  const v = new DataView(image.buffer);
  image[0x1f1] = setupSects;
  v.setUint16(0x1fe, 0xaa55, true);
  image[0x200] = 0xeb; // jmp short past the header: the header ends at 0x202 + 0x6a
  image[0x201] = 0x6a;
  v.setUint32(0x202, 0x53726448, true);
  v.setUint16(0x206, o.version ?? 0x20f, true);
  image[0x211] = o.loadflags ?? 0x01;
  v.setUint32(0x214, 0x100000, true);
  v.setUint32(0x22c, o.initrdAddrMax ?? 0x7fffffff, true);
  v.setUint32(0x230, 0x200000, true);
  image[0x234] = 1;
  v.setUint16(0x236, o.xloadflags ?? 0x7f, true);
  v.setUint32(0x238, o.cmdlineSize ?? 2047, true);
  v.setUint32(0x258, 0x1000000, true); // pref_address 16 MiB
  v.setUint32(0x260, o.initSize ?? 4 * MiB, true);
  v.setUint32(0x26c, 0xdeadbeef, true); // past the header: must not reach boot_params
  image.set(payload, setupBytes);
  return image;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}

function initrdEndingWith(size: number, last: number): Uint8Array {
  const b = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
  b[size - 1] = last;
  return b;
}

describe('bzImage recognition and setup header', () => {
  it('knows a bzImage by "HdrS" at 0x202 and the boot flag, and nothing else', () => {
    expect(isBzImage(fakeBzImage())).toBe(true);
    const noFlag = fakeBzImage();
    noFlag[0x1fe] = 0;
    expect(isBzImage(noFlag)).toBe(false);
    expect(isBzImage(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, ...new Uint8Array(1000)]))).toBe(false);
    expect(isBzImage(new Uint8Array(0x100))).toBe(false);
  });

  it('reads the fields the loader needs', () => {
    const h = readSetupHeader(fakeBzImage({ setupSects: 3 }));
    expect(h).toMatchObject({
      setupSects: 3, version: 0x20f, code32Start: 0x100000, initrdAddrMax: 0x7fffffff, relocatable: true,
      cmdlineSize: 2047, prefAddress: 0x1000000, initSize: 4 * MiB, headerEnd: 0x26c,
    });
    // setup_sects 0 means 4.
    expect(readSetupHeader(fakeBzImage({ setupSects: 0 })).setupSects).toBe(4);
  });

  it('refuses protocols before 2.06 and zImages', () => {
    expect(() => readSetupHeader(fakeBzImage({ version: 0x205 }))).toThrow(/protocol 2\.05 is too old.*2\.06/);
    expect(() => readSetupHeader(fakeBzImage({ loadflags: 0 }))).toThrow(/zImage/);
  });
});

describe('loadLinux', () => {
  it('puts the kernel at 1 MiB, the command line at 0x20000 and boot_params at 0x10000', () => {
    const memory = new GuestMemory(64 * MiB);
    const image = fakeBzImage({ setupSects: 2 });
    const k = loadLinux(image, memory, { cmdline: 'console=ttyS0 root=/dev/ram0' });
    expect(k).toMatchObject({ entry32: 0x100000, entry64: 0x100200, bootParams: 0x10000, protocol: 0x20f, initrdAddress: undefined });
    expect(memory.bytes(0x100000, PROBE_CODE.length)).toEqual(PROBE_CODE);
    const bp = 0x10000;
    // The setup header copied from the image (but for the loader's fields), up to its end and no further.
    const loaderFields = new Set([0x210, 0x218, 0x219, 0x21a, 0x21b, 0x21c, 0x21d, 0x21e, 0x21f, 0x228, 0x229, 0x22a, 0x22b]);
    for (let i = 0x1f1; i < 0x26c; i++) if (!loaderFields.has(i)) expect(memory.readU8(bp + i), `boot_params byte 0x${i.toString(16)}`).toBe(image[i]);
    expect(memory.readU32(bp + 0x26c)).toBe(0);
    expect(memory.readU8(bp + 0x210)).toBe(0xff); // type_of_loader: undefined
    expect(memory.readU32(bp + 0x228)).toBe(0x20000);
    expect(new TextDecoder().decode(memory.bytes(0x20000, 28))).toBe('console=ttyS0 root=/dev/ram0');
    expect(memory.readU8(0x20000 + 28)).toBe(0);
    expect(memory.readU32(bp + 0x218)).toBe(0);
    expect(memory.readU32(bp + 0x21c)).toBe(0);
    expect(memory.readU8(bp + 0x1ef)).toBe(0); // sentinel: boot_params was zeroed by a loader that knows the format
  });

  it('gives the kernel the e820 map', () => {
    const memory = new GuestMemory(64 * MiB);
    loadLinux(fakeBzImage(), memory, { cmdline: '' });
    const bp = 0x10000;
    const entries = memory.readU8(bp + 0x1e8);
    const map = Array.from({ length: entries }, (_, i) => {
      const p = bp + 0x2d0 + i * 20;
      return [memory.readU64(p), memory.readU64(p + 8), memory.readU32(p + 16)];
    });
    expect(map).toEqual([
      [0, 0x9fc00, 1],
      [0x9fc00, 0x400, 2],
      [0xf0000, 0x10000, 2],
      [0x100000, 63 * MiB, 1],
      [0xfffc0000, 0x40000, 2],
    ]);
  });

  it('places the initrd page-aligned at the top of RAM', () => {
    const memory = new GuestMemory(64 * MiB);
    const initrd = initrdEndingWith(100_000, 0x5a);
    const k = loadLinux(fakeBzImage(), memory, { cmdline: '', initrd });
    const expected = Math.floor((64 * MiB - 100_000) / 4096) * 4096;
    expect(k.initrdAddress).toBe(expected);
    expect(memory.readU32(0x10000 + 0x218)).toBe(expected);
    expect(memory.readU32(0x10000 + 0x21c)).toBe(100_000);
    expect(memory.bytes(expected, initrd.length)).toEqual(initrd);
  });

  it('keeps the initrd below initrd_addr_max', () => {
    const memory = new GuestMemory(64 * MiB);
    const k = loadLinux(fakeBzImage({ initrdAddrMax: 32 * MiB - 1 }), memory, { cmdline: '', initrd: new Uint8Array(5000) });
    expect(k.initrdAddress).toBe(32 * MiB - 8192);
  });

  it('refuses what does not fit: kernel work area, initrd, command line', () => {
    // init_size from pref_address (16 MiB) past the end of 32 MiB of RAM.
    expect(() => loadLinux(fakeBzImage({ initSize: 20 * MiB }), new GuestMemory(32 * MiB), { cmdline: '' })).toThrow(
      /needs RAM up to 0x2400000.*give the machine more memory/,
    );
    expect(() => loadLinux(fakeBzImage(), new GuestMemory(32 * MiB), { cmdline: '', initrd: new Uint8Array(13 * MiB) })).toThrow(
      /initrd of 13\.0 MiB does not fit/,
    );
    expect(() => loadLinux(fakeBzImage({ cmdlineSize: 8 }), new GuestMemory(32 * MiB), { cmdline: '123456789' })).toThrow(
      /command line of 9 bytes is longer than the kernel's cmdline_size \(8\)/,
    );
    expect(() => loadLinux(fakeBzImage({ cmdlineSize: 8 }), new GuestMemory(32 * MiB), { cmdline: '12345678' })).not.toThrow();
  });

  it('is chosen over multiboot by content; multiboot takes no initrd', () => {
    const memory = new GuestMemory(32 * MiB);
    expect(() => loadBootableKernel(fakeBzImage(), memory, { kernelName: 'k', cmdline: '' })).not.toThrow();
    const notLinux = new Uint8Array(4096);
    expect(() => loadBootableKernel(notLinux, memory, { kernelName: 'k', cmdline: '', initrd: new Uint8Array(10) })).toThrow(KernelLoadError);
    expect(() => loadBootableKernel(notLinux, memory, { kernelName: 'k', cmdline: '', initrd: new Uint8Array(10) })).toThrow(/needs a Linux bzImage/);
  });
});

describe('a bzImage on a machine', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unimachine-linux-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const yaml = `
memory: 64MiB
devices:
  pic:  { type: i8259 }
  com1: { type: uart-16550, port: 0x3f8, irq: pic.4, console: none }
  exit: { type: isa-debug-exit, port: 0x501 }
boot:
  kernel: probe.bzImage
  initrd: probe.initrd
  cmdline: console=ttyS0
`;
  writeFileSync(path.join(dir, 'probe.bzImage'), fakeBzImage());
  writeFileSync(path.join(dir, 'probe.initrd'), initrdEndingWith(3000, 0x21));

  it('enters code32_start with ESI = boot_params, EBX/EBP/EDI zero, IF clear, and the initrd in place', async () => {
    const m = await createMachine({ yaml, baseDir: dir, file: 'linux.yaml' });
    try {
      // The probe exits with the initrd's last byte: (0x21 << 1) | 1.
      expect(await m.run({ timeoutMs: 10_000 })).toEqual({ end: 'exit', exitCode: 0x43 });
    } finally {
      await m.dispose();
    }
  });

  it('takes --initrd over boot.initrd, relative to the current directory', async () => {
    const other = path.join(dir, 'other.initrd');
    writeFileSync(other, initrdEndingWith(10, 0x30));
    const m = await createMachine({ yaml, baseDir: dir, file: 'linux.yaml' }, { initrd: path.relative(process.cwd(), other) });
    try {
      expect(await m.run({ timeoutMs: 10_000 })).toEqual({ end: 'exit', exitCode: 0x61 });
    } finally {
      await m.dispose();
    }
  });

  it('names boot.initrd in the YAML when the file is missing', async () => {
    const err = await createMachine({ yaml: yaml.replace('probe.initrd', 'missing.initrd'), baseDir: dir, file: 'linux.yaml' }).catch((e) => e);
    expect(err).toBeInstanceOf(MachineConfigError);
    expect(err.message).toMatch(/^linux\.yaml:9:\d+: cannot read initrd "missing\.initrd" .*ENOENT/);
  });

  it('refuses an initrd for a multiboot kernel', async () => {
    writeFileSync(path.join(dir, 'mb.bin'), new Uint8Array(64));
    const err = await createMachine({ yaml: yaml.replace('probe.bzImage', 'mb.bin'), baseDir: dir, file: 'linux.yaml' }).catch((e) => e);
    expect(err).toBeInstanceOf(MachineConfigError);
    expect(err.message).toMatch(/an initrd needs a Linux bzImage kernel/);
  });
});
