/**
 * A small AML (ACPI Machine Language) encoder: just the terms a static DSDT needs (scopes,
 * devices, names, integers, strings, packages, buffers and resource templates). Opcodes and
 * encodings are from the ACPI specification, chapter 20 (AML grammar) and 6.4 (resources).
 */
export type Aml = readonly number[];

const enum Op {
  Zero = 0x00,
  One = 0x01,
  Name = 0x08,
  BytePrefix = 0x0a,
  WordPrefix = 0x0b,
  DWordPrefix = 0x0c,
  StringPrefix = 0x0d,
  QWordPrefix = 0x0e,
  Scope = 0x10,
  Buffer = 0x11,
  Package = 0x12,
  ExtPrefix = 0x5b,
  DeviceExt = 0x82,
  Ones = 0xff,
  RootChar = 0x5c,
  DualNamePrefix = 0x2e,
  MultiNamePrefix = 0x2f,
}

/**
 * PkgLength: the length of what follows including the PkgLength bytes themselves; one byte up
 * to 63, else a lead byte holding the count of following bytes and the low 4 bits.
 */
export function pkgLength(bodyLength: number): number[] {
  if (bodyLength + 1 < 0x40) return [bodyLength + 1];
  for (let extra = 1; extra <= 3; extra++) {
    const total = bodyLength + 1 + extra;
    if (total < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (total & 0x0f)];
      for (let i = 0; i < extra; i++) out.push((total >>> (4 + 8 * i)) & 0xff);
      return out;
    }
  }
  throw new RangeError(`AML package of ${bodyLength} bytes is too long`);
}

const nameSeg = (seg: string): number[] => {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new Error(`bad AML name segment ${JSON.stringify(seg)}`);
  return [...seg.padEnd(4, '_')].map((c) => c.charCodeAt(0));
};

/** A NameString: `\_SB.PCI0`, `_HID`, `PCI0.FWCF`. */
export function nameString(path: string): number[] {
  const out: number[] = [];
  let rest = path;
  if (rest.startsWith('\\')) {
    out.push(Op.RootChar);
    rest = rest.slice(1);
  }
  const segs = rest ? rest.split('.') : [];
  if (segs.length === 0) out.push(0x00);
  else if (segs.length === 2) out.push(Op.DualNamePrefix);
  else if (segs.length > 2) out.push(Op.MultiNamePrefix, segs.length);
  for (const s of segs) out.push(...nameSeg(s));
  return out;
}

/** An Integer with the shortest encoding (Zero/One/Ones, then byte, word, dword, qword prefixes). */
export function int(v: number): number[] {
  if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) throw new RangeError(`bad AML integer ${v}`);
  if (v === 0) return [Op.Zero];
  if (v === 1) return [Op.One];
  if (v <= 0xff) return [Op.BytePrefix, v];
  if (v <= 0xffff) return [Op.WordPrefix, v & 0xff, v >>> 8];
  if (v <= 0xffffffff) return [Op.DWordPrefix, ...le(v, 4)];
  return [Op.QWordPrefix, ...le(v, 8)];
}

/** A DWord constant whatever its value (EISA ids are always encoded this way). */
export const dword = (v: number): number[] => [Op.DWordPrefix, ...le(v, 4)];

export function le(v: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) out.push(i < 4 ? (v >>> (8 * i)) & 0xff : (Math.floor(v / 0x1_0000_0000) >>> (8 * (i - 4))) & 0xff);
  return out;
}

export function string(s: string): number[] {
  return [Op.StringPrefix, ...[...s].map((c) => c.charCodeAt(0) & 0x7f), 0x00];
}

/** EisaId("PNP0A03"): three 5-bit letters and four hex digits, in a byte-swapped dword. */
export function eisaId(id: string): number[] {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new Error(`bad EISA id ${id}`);
  const c = (i: number) => id.charCodeAt(i) - 0x40;
  const hi = (c(0) << 10) | (c(1) << 5) | c(2);
  const lo = parseInt(id.slice(3), 16);
  return dword((((hi >> 8) & 0xff) | ((hi & 0xff) << 8) | (((lo >> 8) & 0xff) << 16) | ((lo & 0xff) << 24)) >>> 0);
}

export function name(path: string, value: Aml): number[] {
  return [Op.Name, ...nameString(path), ...value];
}

export function scope(path: string, ...body: Aml[]): number[] {
  const inner = [...nameString(path), ...body.flat()];
  return [Op.Scope, ...pkgLength(inner.length), ...inner];
}

export function device(path: string, ...body: Aml[]): number[] {
  const inner = [...nameString(path), ...body.flat()];
  return [Op.ExtPrefix, Op.DeviceExt, ...pkgLength(inner.length), ...inner];
}

export function pkg(...elements: Aml[]): number[] {
  if (elements.length > 255) throw new RangeError('AML Package of more than 255 elements needs VarPackage');
  const inner = [elements.length, ...elements.flat()];
  return [Op.Package, ...pkgLength(inner.length), ...inner];
}

export function buffer(bytes: Aml): number[] {
  const inner = [...int(bytes.length), ...bytes];
  return [Op.Buffer, ...pkgLength(inner.length), ...inner];
}

/** A ResourceTemplate: the descriptors, then an End Tag with a zero checksum (as iasl emits it). */
export function resourceTemplate(...descriptors: Aml[]): number[] {
  return buffer([...descriptors.flat(), 0x79, 0x00]);
}

/** Small IO Port descriptor, 16-bit decode. */
export function io(min: number, max: number, alignment: number, length: number): number[] {
  return [0x47, 0x01, ...le(min, 2), ...le(max, 2), alignment, length];
}

// Address space descriptors. General flags: producer, min and max fixed, positive decode.
const PRODUCER_FIXED = 0x0c;

export function wordBusNumber(min: number, max: number): number[] {
  return [0x88, 13, 0, 0x02, PRODUCER_FIXED, 0x00, ...le(0, 2), ...le(min, 2), ...le(max, 2), ...le(0, 2), ...le(max - min + 1, 2)];
}

/** WordIO, EntireRange (type flags 3). */
export function wordIo(min: number, max: number): number[] {
  return [0x88, 13, 0, 0x01, PRODUCER_FIXED, 0x03, ...le(0, 2), ...le(min, 2), ...le(max, 2), ...le(0, 2), ...le(max - min + 1, 2)];
}

/** Memory type flags: ReadWrite, and Cacheable (1) or NonCacheable (0) in bits 2:1. */
const memFlags = (cacheable: boolean) => (cacheable ? 0x03 : 0x01);

export function dwordMemory(min: number, max: number, cacheable: boolean): number[] {
  return [0x87, 23, 0, 0x00, PRODUCER_FIXED, memFlags(cacheable), ...le(0, 4), ...le(min, 4), ...le(max, 4), ...le(0, 4), ...le(max - min + 1, 4)];
}

export function qwordMemory(min: number, max: number, cacheable: boolean): number[] {
  return [0x8a, 43, 0, 0x00, PRODUCER_FIXED, memFlags(cacheable), ...le(0, 8), ...le(min, 8), ...le(max, 8), ...le(0, 8), ...le(max - min + 1, 8)];
}
