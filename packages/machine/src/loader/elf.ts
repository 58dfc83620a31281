/** The parts of an ELF file a multiboot loader needs (little-endian x86 only). */
export interface ElfImage {
  bits: 32 | 64;
  machine: number;
  entry: number;
  segments: ElfSegment[];
}

export interface ElfSegment {
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  executable: boolean;
}

export const EM_386 = 3;
export const EM_X86_64 = 62;
const PT_LOAD = 1;
const PF_X = 1;

export class ElfFormatError extends Error {}

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

export function elfClass(bytes: Uint8Array): 32 | 64 | undefined {
  return bytes[4] === 1 ? 32 : bytes[4] === 2 ? 64 : undefined;
}

/** Parse the header and PT_LOAD program headers; throws ElfFormatError on anything malformed. */
export function parseElf(bytes: Uint8Array): ElfImage {
  if (!isElf(bytes)) throw new ElfFormatError('not an ELF file (no \\x7fELF magic)');
  const bits = elfClass(bytes);
  if (!bits) throw new ElfFormatError(`unknown ELF class ${bytes[4]}`);
  if (bytes[5] !== 1) throw new ElfFormatError('big-endian ELF; x86 kernels are little-endian');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = bits === 32 ? 52 : 64;
  if (bytes.length < need) throw new ElfFormatError(`truncated ELF header (${bytes.length} bytes)`);
  const u64 = (o: number) => v.getUint32(o, true) + v.getUint32(o + 4, true) * 0x1_0000_0000;
  const word = bits === 32 ? (o: number) => v.getUint32(o, true) : u64;
  const machine = v.getUint16(18, true);
  const entry = word(24);
  const phoff = bits === 32 ? v.getUint32(28, true) : u64(32);
  const phentsize = v.getUint16(bits === 32 ? 42 : 54, true);
  const phnum = v.getUint16(bits === 32 ? 44 : 56, true);
  const minEntry = bits === 32 ? 32 : 56;
  if (phnum > 0 && phentsize < minEntry) throw new ElfFormatError(`program header entries of ${phentsize} bytes are too small`);
  if (phoff + phnum * phentsize > bytes.length) throw new ElfFormatError('program headers run past the end of the file');

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (v.getUint32(o, true) !== PT_LOAD) continue;
    const seg =
      bits === 32
        ? { offset: v.getUint32(o + 4, true), vaddr: v.getUint32(o + 8, true), paddr: v.getUint32(o + 12, true), filesz: v.getUint32(o + 16, true), memsz: v.getUint32(o + 20, true), flags: v.getUint32(o + 24, true) }
        : { flags: v.getUint32(o + 4, true), offset: u64(o + 8), vaddr: u64(o + 16), paddr: u64(o + 24), filesz: u64(o + 32), memsz: u64(o + 40) };
    if (seg.offset + seg.filesz > bytes.length) throw new ElfFormatError(`segment ${i} runs past the end of the file`);
    if (seg.filesz > seg.memsz) throw new ElfFormatError(`segment ${i} has more file bytes than memory bytes`);
    segments.push({ offset: seg.offset, vaddr: seg.vaddr, paddr: seg.paddr, filesz: seg.filesz, memsz: seg.memsz, executable: (seg.flags & PF_X) !== 0 });
  }
  return { bits, machine, entry, segments };
}
