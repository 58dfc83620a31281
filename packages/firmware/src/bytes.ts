/**
 * A growable little-endian byte buffer for building firmware tables. Values are plain JS
 * numbers: 64-bit fields take any integer below 2^53 (every guest-physical address).
 */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private room(n: number): number {
    const at = this.len;
    if (at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
    }
    this.len += n;
    return at;
  }

  u8(v: number): this {
    this.buf[this.room(1)] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    const at = this.room(2);
    this.buf[at] = v & 0xff;
    this.buf[at + 1] = (v >>> 8) & 0xff;
    return this;
  }

  u32(v: number): this {
    const at = this.room(4);
    for (let i = 0; i < 4; i++) this.buf[at + i] = (v >>> (8 * i)) & 0xff;
    return this;
  }

  u64(v: number): this {
    return this.u32(v >>> 0).u32(Math.floor(v / 0x1_0000_0000) >>> 0);
  }

  bytes(data: ArrayLike<number>): this {
    const at = this.room(data.length);
    this.buf.set(data, at);
    return this;
  }

  /** `text` as ASCII, cut or padded with `pad` to exactly `width` bytes. */
  ascii(text: string, width: number, pad = 0x20): this {
    const at = this.room(width);
    for (let i = 0; i < width; i++) this.buf[at + i] = i < text.length ? text.charCodeAt(i) & 0x7f : pad;
    return this;
  }

  zeros(n: number): this {
    this.buf.fill(0, this.room(n), this.len);
    return this;
  }

  /** Pad with zeros up to a multiple of `alignment`. */
  align(alignment: number): this {
    const rest = this.len % alignment;
    return rest ? this.zeros(alignment - rest) : this;
  }

  /** Overwrite a 32-bit field already written (lengths known only at the end). */
  patchU32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.buf[at + i] = (v >>> (8 * i)) & 0xff;
  }

  patchU8(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  /** A copy of what was written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** The byte that makes the 8-bit sum of `data[start, start+length)` zero, the field itself counted as 0. */
export function checksumByte(data: Uint8Array, start = 0, length = data.length - start, fieldAt = -1): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) if (i !== fieldAt) sum += data[i];
  return (0x100 - (sum & 0xff)) & 0xff;
}

/** The 8-bit sum of a range: 0 for a table with a correct checksum. */
export function byteSum(data: Uint8Array, start = 0, length = data.length - start): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum += data[i];
  return sum & 0xff;
}

export const readU16 = (b: Uint8Array, at: number): number => b[at] | (b[at + 1] << 8);
export const readU32 = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
export const readU64 = (b: Uint8Array, at: number): number => readU32(b, at) + readU32(b, at + 4) * 0x1_0000_0000;
export const readAscii = (b: Uint8Array, at: number, n: number): string => String.fromCharCode(...b.subarray(at, at + n));
