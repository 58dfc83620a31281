import type { Cpu, GuestMemory } from '@unimachine/core';
import { KernelLoadError } from './multiboot.js';
import { e820Map, type E820Range } from './e820.js';

/**
 * The Linux/x86 boot protocol (Documentation/arch/x86/boot.rst) for a bzImage, entered through
 * its 32-bit entry point as a boot loader without a BIOS does it, with QEMU's `-kernel` layout:
 * - the protected-mode kernel (after the (setup_sects + 1) * 512 bytes of real-mode setup) at
 *   1 MiB, entered at code32_start with ESI = boot_params;
 * - boot_params (the "zero page") at 0x10000: zeroed, the image's setup header copied in, the
 *   loader's fields filled in, and the e820 map SeaBIOS would report;
 * - the command line at 0x20000 (at most cmdline_size bytes);
 * - the initrd page-aligned at the top of RAM, below initrd_addr_max.
 * The real-mode setup code is not run: there is no BIOS for it to call.
 */
export const BZIMAGE_HEADER_MAGIC = 0x53726448; // "HdrS" at 0x202
export const LINUX_MIN_PROTOCOL = 0x206; // cmdline_size, initrd_addr_max and the 32-bit protocol as used here
export const LINUX_KERNEL_ADDRESS = 0x100000;
export const LINUX_BOOT_PARAMS_ADDRESS = 0x10000;
export const LINUX_CMDLINE_ADDRESS = 0x20000;

/** Offsets in the setup header, which sits at the same offsets in the image and in boot_params. */
export const HDR = {
  setupSects: 0x1f1,
  bootFlag: 0x1fe,
  jump: 0x200,
  header: 0x202,
  version: 0x206,
  typeOfLoader: 0x210,
  loadflags: 0x211,
  code32Start: 0x214,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  cmdLinePtr: 0x228,
  initrdAddrMax: 0x22c,
  kernelAlignment: 0x230,
  relocatableKernel: 0x234,
  xloadflags: 0x236,
  cmdlineSize: 0x238,
  prefAddress: 0x258,
  initSize: 0x260,
} as const;

/** Offsets of boot_params fields outside the setup header. */
export const BOOT_PARAMS = {
  size: 4096,
  extRamdiskImage: 0x0c0,
  extRamdiskSize: 0x0c4,
  extCmdLinePtr: 0x0c8,
  e820Entries: 0x1e8,
  e820Table: 0x2d0,
  e820MaxEntries: 128,
} as const;

const BOOT_FLAG = 0xaa55;
const LOADED_HIGH = 0x01; // loadflags: the protected-mode kernel loads at 1 MiB (a bzImage, not a zImage)
const XLF_KERNEL_64 = 0x01; // xloadflags: a 64-bit entry at load address + 0x200
const LOADER_TYPE_UNDEFINED = 0xff; // a loader with no assigned id
const DEFAULT_SETUP_SECTS = 4; // a 0 in setup_sects means 4
const E820_ENTRY_SIZE = 20;
const PAGE = 4096;
// The BIOS data area words the kernel reads to find the EBDA: what SeaBIOS leaves there.
const BDA_EBDA_SEGMENT = 0x40e;
const BDA_BASE_MEMORY_KIB = 0x413;
const EBDA_SEGMENT = 0x9fc0;
const BASE_MEMORY_KIB = 639;

export interface LinuxSetupHeader {
  setupSects: number;
  version: number;
  loadflags: number;
  code32Start: number;
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  xloadflags: number;
  cmdlineSize: number;
  prefAddress: number;
  initSize: number;
  /** Offset just past the setup header: 0x202 plus the jump's displacement byte at 0x201. */
  headerEnd: number;
}

export interface LinuxBootOptions {
  cmdline: string;
  initrd?: Uint8Array;
  /** Ranges the firmware reserved (ACPI tables): boot_params' e820 marks them, and the initrd stays below. */
  reserved?: readonly E820Range[];
}

export interface LoadedLinux {
  kind: 'linux';
  /** code32_start: where the 32-bit boot protocol enters. */
  entry32: number;
  /** The 64-bit entry (startup_64 at load address + 0x200) when xloadflags says the kernel has one. */
  entry64: number | undefined;
  bootParams: number;
  kernelAddress: number;
  /** Physical end of what the kernel needs: decompression buffer and its own bss (init_size). */
  kernelEnd: number;
  initrdAddress: number | undefined;
  initrdSize: number;
  protocol: number;
}

/** A bzImage carries "HdrS" at 0x202 and the boot sector flag 0xAA55 at 0x1fe. */
export function isBzImage(image: Uint8Array): boolean {
  if (image.length < HDR.header + 4) return false;
  const v = view(image);
  return v.getUint32(HDR.header, true) === BZIMAGE_HEADER_MAGIC && v.getUint16(HDR.bootFlag, true) === BOOT_FLAG;
}

/** Read and check the setup header of a bzImage. */
export function readSetupHeader(image: Uint8Array): LinuxSetupHeader {
  if (!isBzImage(image)) throw new KernelLoadError('not a Linux bzImage: no "HdrS" setup header at 0x202 with the 0xAA55 boot flag');
  const v = view(image);
  const version = v.getUint16(HDR.version, true);
  if (version < LINUX_MIN_PROTOCOL) {
    throw new KernelLoadError(
      `Linux boot protocol ${protocolText(version)} is too old; this loader needs ${protocolText(LINUX_MIN_PROTOCOL)} or later (Linux 2.6.22+)`,
    );
  }
  const headerEnd = HDR.header + image[HDR.jump + 1]!;
  if (image.length < Math.max(headerEnd, HDR.initSize + 4)) throw new KernelLoadError(`bzImage of ${image.length} bytes ends inside its setup header`);
  const loadflags = image[HDR.loadflags]!;
  if (!(loadflags & LOADED_HIGH)) throw new KernelLoadError('a zImage (loadflags bit 0 clear: loads below 1 MiB); only bzImages are supported');
  const atLeast = (v2: number, read: () => number, otherwise = 0) => (version >= v2 ? read() : otherwise);
  return {
    setupSects: image[HDR.setupSects]! || DEFAULT_SETUP_SECTS,
    version,
    loadflags,
    code32Start: v.getUint32(HDR.code32Start, true),
    initrdAddrMax: v.getUint32(HDR.initrdAddrMax, true),
    kernelAlignment: v.getUint32(HDR.kernelAlignment, true),
    relocatable: image[HDR.relocatableKernel] !== 0,
    xloadflags: atLeast(0x20c, () => v.getUint16(HDR.xloadflags, true)),
    cmdlineSize: v.getUint32(HDR.cmdlineSize, true),
    prefAddress: atLeast(0x20a, () => v.getUint32(HDR.prefAddress, true) + v.getUint32(HDR.prefAddress + 4, true) * 2 ** 32, LINUX_KERNEL_ADDRESS),
    initSize: atLeast(0x20a, () => v.getUint32(HDR.initSize, true)),
    headerEnd,
  };
}

/** Load a bzImage (and an initrd) into guest RAM and write boot_params; returns where to enter. */
export function loadLinux(image: Uint8Array, memory: GuestMemory, opts: LinuxBootOptions): LoadedLinux {
  const h = readSetupHeader(image);
  const setupBytes = (h.setupSects + 1) * 512;
  if (setupBytes >= image.length) throw new KernelLoadError(`bzImage setup (${h.setupSects} sectors) covers the whole ${image.length}-byte file: no kernel after it`);
  const payload = image.subarray(setupBytes);
  const ramTop = lowRamTop(memory, opts.reserved);

  // The decompressor works in place from the load address, or from pref_address when it relocates.
  const workBase = h.relocatable ? Math.max(LINUX_KERNEL_ADDRESS, h.prefAddress) : LINUX_KERNEL_ADDRESS;
  const kernelEnd = Math.max(LINUX_KERNEL_ADDRESS + payload.length, workBase + h.initSize);
  if (kernelEnd > ramTop) {
    throw new KernelLoadError(
      `the kernel needs RAM up to 0x${hex(kernelEnd)} (init_size ${mib(h.initSize)} from 0x${hex(workBase)}) but RAM ends at 0x${hex(ramTop)}; give the machine more memory`,
    );
  }
  memory.write(LINUX_KERNEL_ADDRESS, payload);
  if (h.code32Start < LINUX_KERNEL_ADDRESS || h.code32Start >= LINUX_KERNEL_ADDRESS + payload.length) {
    throw new KernelLoadError(`code32_start 0x${hex(h.code32Start)} lies outside the kernel loaded at 0x${hex(LINUX_KERNEL_ADDRESS)}`);
  }

  const cmdline = new TextEncoder().encode(opts.cmdline);
  // cmdline_size excludes the terminating NUL.
  if (cmdline.length > h.cmdlineSize) throw new KernelLoadError(`command line of ${cmdline.length} bytes is longer than the kernel's cmdline_size (${h.cmdlineSize})`);
  memory.write(LINUX_CMDLINE_ADDRESS, cmdline);
  memory.writeU8(LINUX_CMDLINE_ADDRESS + cmdline.length, 0);

  const initrd = opts.initrd && opts.initrd.length > 0 ? placeInitrd(opts.initrd, h, kernelEnd, ramTop) : undefined;
  if (initrd && opts.initrd) memory.write(initrd, opts.initrd);

  writeBootParams(memory, image, h, { cmdline: LINUX_CMDLINE_ADDRESS, initrd, initrdSize: opts.initrd?.length ?? 0, reserved: opts.reserved });
  memory.writeU16(BDA_EBDA_SEGMENT, EBDA_SEGMENT);
  memory.writeU16(BDA_BASE_MEMORY_KIB, BASE_MEMORY_KIB);

  return {
    kind: 'linux',
    entry32: h.code32Start,
    entry64: h.xloadflags & XLF_KERNEL_64 ? LINUX_KERNEL_ADDRESS + 0x200 : undefined,
    bootParams: LINUX_BOOT_PARAMS_ADDRESS,
    kernelAddress: LINUX_KERNEL_ADDRESS,
    kernelEnd,
    initrdAddress: initrd,
    initrdSize: initrd === undefined ? 0 : opts.initrd!.length,
    protocol: h.version,
  };
}

/** Put the CPU at the 32-bit entry: flat 4 GiB segments 0x10/0x18, paging and interrupts off, ESI = boot_params. */
export function enterLinux(cpu: Cpu, loaded: LoadedLinux): void {
  if (!cpu.enterLinux32) throw new KernelLoadError('this CPU has no Linux 32-bit boot protocol entry (Cpu.enterLinux32)');
  cpu.enterLinux32(loaded.entry32, loaded.bootParams);
}

/** The highest usable page-aligned address below initrd_addr_max and the end of low RAM, as QEMU places it. */
function placeInitrd(initrd: Uint8Array, h: LinuxSetupHeader, kernelEnd: number, ramTop: number): number {
  const limit = Math.min(h.initrdAddrMax + 1, ramTop);
  const address = Math.floor((limit - initrd.length) / PAGE) * PAGE;
  if (address < kernelEnd) {
    throw new KernelLoadError(
      `initrd of ${mib(initrd.length)} does not fit between the kernel (up to 0x${hex(kernelEnd)}) and 0x${hex(limit)} (end of RAM or initrd_addr_max); give the machine more memory`,
    );
  }
  return address;
}

/** Where the last usable RAM below 4 GiB ends, by the same e820 map the kernel is given. */
function lowRamTop(memory: GuestMemory, reserved: readonly E820Range[] | undefined): number {
  let top = 0;
  for (const e of e820Map(memory.size, reserved)) if (e.type === 1 && e.base + e.length <= 2 ** 32) top = Math.max(top, e.base + e.length);
  return top;
}

function writeBootParams(memory: GuestMemory, image: Uint8Array, h: LinuxSetupHeader, at: { cmdline: number; initrd: number | undefined; initrdSize: number; reserved?: readonly E820Range[] }): void {
  const bp = LINUX_BOOT_PARAMS_ADDRESS;
  memory.bytes(bp, BOOT_PARAMS.size).fill(0);
  memory.markWritten(bp, BOOT_PARAMS.size);
  // The setup header as the image has it, then the fields a loader owns.
  memory.write(bp + HDR.setupSects, image.subarray(HDR.setupSects, h.headerEnd));
  memory.writeU8(bp + HDR.typeOfLoader, LOADER_TYPE_UNDEFINED);
  memory.writeU32(bp + HDR.cmdLinePtr, at.cmdline);
  memory.writeU32(bp + HDR.ramdiskImage, at.initrd ?? 0);
  memory.writeU32(bp + HDR.ramdiskSize, at.initrd === undefined ? 0 : at.initrdSize);

  const map = e820Map(memory.size, at.reserved).slice(0, BOOT_PARAMS.e820MaxEntries);
  map.forEach((e, i) => {
    const p = bp + BOOT_PARAMS.e820Table + i * E820_ENTRY_SIZE;
    memory.writeU64(p, e.base);
    memory.writeU64(p + 8, e.length);
    memory.writeU32(p + 16, e.type);
  });
  memory.writeU8(bp + BOOT_PARAMS.e820Entries, map.length);
}

function view(image: Uint8Array): DataView {
  return new DataView(image.buffer, image.byteOffset, image.byteLength);
}

function protocolText(v: number): string {
  return `${v >> 8}.${(v & 0xff).toString().padStart(2, '0')}`;
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

function hex(n: number): string {
  return n.toString(16);
}
