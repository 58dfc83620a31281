import { BlockIoError, type BlockBackend } from '@unimachine/core';

/** A disk in a Uint8Array, for this package's tests only (the real backends live in @unimachine/blockdev). */
export class MemoryDisk implements BlockBackend {
  readonly data: Uint8Array;
  flushes = 0;
  disposed = false;
  /** Make the next read or write throw, as a failing host disk would. */
  failNext = false;
  constructor(readonly size: number, readonly readOnly = false, readonly serial = 'MEMDISK-1') {
    this.data = new Uint8Array(size);
  }
  read(offset: number, target: Uint8Array): void {
    this.check(offset, target.length);
    target.set(this.data.subarray(offset, offset + target.length));
  }
  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new BlockIoError('read-only');
    this.check(offset, data.length);
    this.data.set(data, offset);
  }
  flush(): void {
    this.flushes++;
  }
  dispose(): void {
    this.disposed = true;
  }
  private check(offset: number, length: number): void {
    if (this.failNext) {
      this.failNext = false;
      throw new BlockIoError('injected failure');
    }
    if (offset < 0 || offset + length > this.size) throw new BlockIoError('out of range');
  }
}
