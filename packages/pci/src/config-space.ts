import { CONFIG_SPACE_SIZE } from './registers.js';

/**
 * 256 bytes of configuration space with, per byte, a mask of guest-writable bits and a mask of
 * write-1-to-clear bits. Guest writes go through the masks; the device model sets values
 * directly with the set* methods.
 */
export class ConfigSpace {
  readonly bytes = new Uint8Array(CONFIG_SPACE_SIZE);
  readonly writable = new Uint8Array(CONFIG_SPACE_SIZE);
  readonly writeOneToClear = new Uint8Array(CONFIG_SPACE_SIZE);

  /** Little-endian read of `size` bytes; bytes past the end read as all ones. */
  read(offset: number, size: number): number {
    let value = 0;
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const byte = o < CONFIG_SPACE_SIZE ? this.bytes[o] : 0xff;
      value += byte * 2 ** (8 * i);
    }
    return value;
  }

  /** A guest write: read-only bits keep their value, write-1-to-clear bits clear where a 1 is written. */
  write(offset: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      if (o >= CONFIG_SPACE_SIZE) return;
      const v = Math.floor(value / 2 ** (8 * i)) & 0xff;
      const w = this.writable[o];
      let next = (this.bytes[o] & ~w) | (v & w);
      next &= ~(v & this.writeOneToClear[o]);
      this.bytes[o] = next;
    }
  }

  set8(offset: number, value: number): void {
    this.bytes[offset] = value;
  }
  set16(offset: number, value: number): void {
    this.bytes[offset] = value & 0xff;
    this.bytes[offset + 1] = (value >>> 8) & 0xff;
  }
  set32(offset: number, value: number): void {
    this.set16(offset, value & 0xffff);
    this.set16(offset + 2, (value >>> 16) & 0xffff);
  }
  get8(offset: number): number {
    return this.bytes[offset];
  }
  get16(offset: number): number {
    return this.bytes[offset] | (this.bytes[offset + 1] << 8);
  }
  get32(offset: number): number {
    return (this.get16(offset) | (this.get16(offset + 2) << 16)) >>> 0;
  }

  /** Mark `size` bytes at `offset` with a guest-writable mask (little-endian). */
  setWritable(offset: number, size: number, mask: number): void {
    for (let i = 0; i < size; i++) this.writable[offset + i] = Math.floor(mask / 2 ** (8 * i)) & 0xff;
  }

  setWriteOneToClear(offset: number, size: number, mask: number): void {
    for (let i = 0; i < size; i++) this.writeOneToClear[offset + i] = Math.floor(mask / 2 ** (8 * i)) & 0xff;
  }
}
