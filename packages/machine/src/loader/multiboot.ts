import type { GuestMemory } from '@unimachine/core';
import { EM_X86_64, elfClass, ElfFormatError, isElf, parseElf } from './elf.js';
import { e820Map, type E820Range } from './e820.js';

export { e820Map } from './e820.js';

/**
 * Multiboot 1 loading as QEMU 7.2 does it for `-kernel` (hw/i386/multiboot.c plus its option ROM),
 * so a guest that prints its boot information sees the same values on both:
 * - the info structure at 0x9500, the BIOS e820 memory map at 0x9000 (entries of size 20);
 * - mem_lower from INT 12h (639 KiB), mem_upper = contiguous RAM above 1 MiB in KiB;
 * - command line "<kernel path as given> <args>" and the loader name "qemu" just after the
 *   page-aligned end of the kernel, where QEMU's loader buffer puts them;
 * - flags MEMORY|BOOT_DEVICE|CMDLINE|MODULES|MMAP|LOADER_NAME (0x24f), boot_device 0x8000ffff.
 */
export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
export const MULTIBOOT_INFO_ADDRESS = 0x9500;
export const MULTIBOOT_MMAP_ADDRESS = 0x9000;
export const MULTIBOOT_BOOT_LOADER_NAME = 'qemu';
const SEARCH_LIMIT = 8192;
const FLAG_AOUT_KLUDGE = 0x10000;
const PAGE = 4096;
const LOW_MEMORY_KIB = 639; // what SeaBIOS reports through INT 12h (EBDA at 0x9fc00)

export class KernelLoadError extends Error {}

export interface MultibootHeader {
  offset: number;
  flags: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

export interface LoadedKernel {
  entry: number;
  infoAddress: number;
  /** Physical range the kernel image (bss included) occupies. */
  loadAddress: number;
  kernelEnd: number;
  format: 'elf32' | 'aout-kludge';
}

export interface MultibootOptions {
  /** The kernel path as the user wrote it: QEMU puts it first on the command line. */
  kernelName: string;
  cmdline: string;
  /** Ranges the firmware reserved (ACPI tables): the memory map marks them, not usable RAM. */
  reserved?: readonly E820Range[];
}

/** The multiboot header: in the first 8192 bytes, 4-byte aligned, with a valid checksum. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader | undefined {
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const limit = Math.min(SEARCH_LIMIT - 48, image.length - 12);
  for (let i = 0; i <= limit; i += 4) {
    if (v.getUint32(i, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = v.getUint32(i + 4, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + v.getUint32(i + 8, true)) >>> 0) !== 0) continue;
    const field = (n: number) => (i + 12 + n * 4 + 4 <= image.length ? v.getUint32(i + 12 + n * 4, true) : 0);
    return { offset: i, flags, headerAddr: field(0), loadAddr: field(1), loadEndAddr: field(2), bssEndAddr: field(3), entryAddr: field(4) };
  }
  return undefined;
}

/** Load `image` into guest RAM and write the multiboot information; returns where to enter. */
export function loadMultiboot(image: Uint8Array, memory: GuestMemory, opts: MultibootOptions): LoadedKernel {
  const header = findMultibootHeader(image);
  if (!header) {
    throw new KernelLoadError(
      `no multiboot header in the first ${SEARCH_LIMIT} bytes; a multiboot 1 kernel carries the magic 0x1badb002, its flags and a checksum making the sum zero, 4-byte aligned`,
    );
  }
  const loaded = header.flags & FLAG_AOUT_KLUDGE ? loadByHeaderAddresses(image, header, memory) : loadElf32(image, memory);
  writeBootInformation(memory, loaded, opts);
  return loaded;
}

function loadElf32(image: Uint8Array, memory: GuestMemory): LoadedKernel {
  if (!isElf(image)) throw new KernelLoadError('not an ELF file, and its multiboot header has no load addresses (flag bit 16)');
  if (elfClass(image) === 64) {
    throw new KernelLoadError(
      'ELF64 kernel whose multiboot header has no load addresses (flag bit 16, the a.out kludge); QEMU refuses it too ("Cannot load x86-64 image, give a 32bit one"): add header_addr/load_addr/load_end_addr/bss_end_addr/entry_addr to the header or build a 32-bit ELF',
    );
  }
  let elf;
  try {
    elf = parseElf(image);
  } catch (e) {
    if (e instanceof ElfFormatError) throw new KernelLoadError(`malformed ELF: ${e.message}`);
    throw e;
  }
  if (elf.machine === EM_X86_64) throw new KernelLoadError('ELF32 file for x86-64 (e_machine 62); a multiboot ELF32 is built for i386');
  const segments = elf.segments.filter((s) => s.memsz > 0);
  if (segments.length === 0) throw new KernelLoadError('malformed ELF: no loadable (PT_LOAD) segment');
  let low = Infinity;
  let high = 0;
  let entry = elf.entry;
  for (const s of segments) {
    ensureInRam(memory, s.paddr, s.memsz, 'ELF segment');
    memory.write(s.paddr, image.subarray(s.offset, s.offset + s.filesz));
    memory.bytes(s.paddr + s.filesz, s.memsz - s.filesz).fill(0);
    low = Math.min(low, s.paddr);
    high = Math.max(high, s.paddr + s.memsz);
    // e_entry is virtual; where the code segment is linked elsewhere than it loads, enter its physical copy.
    if (s.executable && s.vaddr !== s.paddr && elf.entry >= s.vaddr && elf.entry < s.vaddr + s.filesz) {
      entry = elf.entry - s.vaddr + s.paddr;
    }
  }
  return { entry, infoAddress: MULTIBOOT_INFO_ADDRESS, loadAddress: low, kernelEnd: high, format: 'elf32' };
}

function loadByHeaderAddresses(image: Uint8Array, h: MultibootHeader, memory: GuestMemory): LoadedKernel {
  if (h.headerAddr < h.loadAddr) throw new KernelLoadError(`multiboot header_addr 0x${hex(h.headerAddr)} lies below load_addr 0x${hex(h.loadAddr)}`);
  if (h.headerAddr - h.loadAddr > h.offset) {
    throw new KernelLoadError(`multiboot header_addr 0x${hex(h.headerAddr)} - load_addr 0x${hex(h.loadAddr)} exceeds the header's file offset 0x${hex(h.offset)}`);
  }
  const textOffset = h.offset - (h.headerAddr - h.loadAddr);
  let loadSize: number;
  if (h.loadEndAddr) {
    if (h.loadEndAddr < h.loadAddr) throw new KernelLoadError(`multiboot load_end_addr 0x${hex(h.loadEndAddr)} lies below load_addr 0x${hex(h.loadAddr)}`);
    loadSize = h.loadEndAddr - h.loadAddr;
  } else {
    loadSize = image.length - textOffset;
  }
  if (textOffset + loadSize > image.length) {
    throw new KernelLoadError(`multiboot load_end_addr asks for ${loadSize} bytes from file offset 0x${hex(textOffset)}, past the end of the ${image.length}-byte file`);
  }
  let kernelSize = loadSize;
  if (h.bssEndAddr) {
    if (h.bssEndAddr < h.loadAddr + loadSize) throw new KernelLoadError(`multiboot bss_end_addr 0x${hex(h.bssEndAddr)} lies below the end of the loaded image`);
    kernelSize = h.bssEndAddr - h.loadAddr;
  }
  ensureInRam(memory, h.loadAddr, kernelSize, 'kernel image');
  memory.write(h.loadAddr, image.subarray(textOffset, textOffset + loadSize));
  memory.bytes(h.loadAddr + loadSize, kernelSize - loadSize).fill(0);
  return { entry: h.entryAddr, infoAddress: MULTIBOOT_INFO_ADDRESS, loadAddress: h.loadAddr, kernelEnd: h.loadAddr + kernelSize, format: 'aout-kludge' };
}

function ensureInRam(memory: GuestMemory, address: number, length: number, what: string): void {
  if (!memory.contains(address, length)) {
    throw new KernelLoadError(`${what} at 0x${hex(address)}-0x${hex(address + length)} lies outside guest RAM (${memory.size / 1048576} MiB); give the machine more memory`);
  }
}

function writeBootInformation(memory: GuestMemory, k: LoadedKernel, opts: MultibootOptions): void {
  const info = MULTIBOOT_INFO_ADDRESS;
  memory.bytes(info, 88).fill(0);

  let p = MULTIBOOT_MMAP_ADDRESS;
  for (const e of e820Map(memory.size, opts.reserved)) {
    memory.writeU32(p, 20);
    memory.writeU64(p + 4, e.base);
    memory.writeU64(p + 12, e.length);
    memory.writeU32(p + 20, e.type);
    p += 24;
  }

  // QEMU's loader buffer: kernel, page-aligned, then module records (none), command line, loader name.
  const tail = k.loadAddress + alignUp(k.kernelEnd - k.loadAddress, PAGE);
  const cmdline = encodeCString(`${opts.kernelName} ${opts.cmdline}`);
  const loaderName = encodeCString(MULTIBOOT_BOOT_LOADER_NAME);
  ensureInRam(memory, tail, cmdline.length + loaderName.length, 'multiboot command line');
  memory.write(tail, cmdline);
  memory.write(tail + cmdline.length, loaderName);

  memory.writeU32(info + 0, 0x24f);
  memory.writeU32(info + 4, LOW_MEMORY_KIB);
  memory.writeU32(info + 8, Math.floor((memory.size - 0x100000) / 1024));
  memory.writeU32(info + 12, 0x8000ffff);
  memory.writeU32(info + 16, tail);
  memory.writeU32(info + 20, 0); // mods_count
  memory.writeU32(info + 24, tail); // mods_addr: the (empty) module records
  memory.writeU32(info + 44, p - MULTIBOOT_MMAP_ADDRESS);
  memory.writeU32(info + 48, MULTIBOOT_MMAP_ADDRESS);
  memory.writeU32(info + 64, tail + cmdline.length);
}

function encodeCString(s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function hex(n: number): string {
  return n.toString(16);
}
