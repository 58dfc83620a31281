import { BlockIoError } from '@unimachine/core';

/** Sector size every backend's capacity is a multiple of. */
export const SECTOR_SIZE = 512;

/** Refuse an access that does not lie entirely inside the disk (the device reports IOERR). */
export function checkRange(size: number, offset: number, length: number, what: 'read' | 'write'): void {
  if (Number.isInteger(offset) && offset >= 0 && offset + length <= size) return;
  throw new BlockIoError(`${what} of ${length} bytes at offset ${offset} is outside the ${size}-byte disk`);
}

/** A virtio-blk serial: printable ASCII, at most 20 bytes (the GET_ID buffer size). */
export function serialFrom(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').slice(0, 20);
}

export function roundUpToSector(bytes: number): number {
  return Math.ceil(bytes / SECTOR_SIZE) * SECTOR_SIZE;
}
