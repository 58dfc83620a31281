import { BlockIoError, SnapshotError, StateReader, type BlockBackend } from '@unimachine/core';
import { forEachChunk, packChunks, unpackChunks } from './chunks.js';
import { checkRange } from './range.js';

/**
 * Overlay granularity. 4 KiB is the block size of the file systems guests put on disks, so a
 * typical write copies nothing from the base, and a 512-byte write copies at most 3.5 KiB.
 */
export const COW_CHUNK_SIZE = 4096;

export interface CopyOnWriteOptions {
  readOnly?: boolean;
  chunkSize?: number;
}

/**
 * `snapshot: true`: the base disk is only ever read; writes land in an in-memory map of chunks
 * (copy-on-write: a partly written chunk first takes the base's bytes) and reads merge the two.
 * Everything written is lost at dispose(), so flush() has nothing to make durable.
 */
export class CopyOnWriteBlockBackend implements BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  readonly serial: string;
  private readonly chunkSize: number;
  private readonly chunks = new Map<number, Buffer>();

  constructor(
    private readonly base: BlockBackend,
    opts: CopyOnWriteOptions = {},
  ) {
    this.size = base.size;
    this.serial = base.serial;
    this.readOnly = opts.readOnly === true;
    this.chunkSize = opts.chunkSize ?? COW_CHUNK_SIZE;
  }

  /** Bytes held by the overlay. */
  get overlayBytes(): number {
    let n = 0;
    for (const c of this.chunks.values()) n += c.length;
    return n;
  }

  read(offset: number, target: Uint8Array): void {
    checkRange(this.size, offset, target.length, 'read');
    let baseRunStart = -1; // a run of chunks the overlay does not hold: one base read for all
    forEachChunk(offset, target.length, this.chunkSize, (index, within, pos, n) => {
      const chunk = this.chunks.get(index);
      if (chunk) {
        if (baseRunStart >= 0) this.readBase(target, baseRunStart, pos, offset);
        baseRunStart = -1;
        chunk.copy(target, pos, within, within + n);
      } else if (baseRunStart < 0) {
        baseRunStart = pos;
      }
    });
    if (baseRunStart >= 0) this.readBase(target, baseRunStart, target.length, offset);
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new BlockIoError('write to a read-only disk');
    checkRange(this.size, offset, data.length, 'write');
    const size = this.chunkSize;
    forEachChunk(offset, data.length, size, (index, within, pos, n) => {
      let chunk = this.chunks.get(index);
      if (!chunk) {
        const chunkStart = index * size;
        chunk = Buffer.allocUnsafe(Math.min(size, this.size - chunkStart));
        if (n < chunk.length) this.base.read(chunkStart, chunk); // copy before the partial write
        this.chunks.set(index, chunk);
      }
      chunk.set(data.subarray(pos, pos + n), within);
    });
  }

  flush(): void {}

  /** Forget every write: the disk reads as the base again. */
  discard(): void {
    this.chunks.clear();
  }

  /** The overlay (written chunks, packed) and the base's own state (an image's identity). */
  snapshot(): unknown {
    if (!this.base.snapshot) throw new SnapshotError('copy-on-write disk', 'its base disk cannot be snapshotted');
    return { version: 1, kind: 'copy-on-write', size: this.size, chunkSize: this.chunkSize, base: this.base.snapshot(), ...packChunks(this.chunks) };
  }

  /** Checks the base (same image, unmodified) and the overlay's shape, then replaces the overlay with a copy. */
  restore(state: unknown): void {
    const owner = 'copy-on-write disk';
    const r = StateReader.open(owner, state, 1);
    r.str('kind', ['copy-on-write']);
    if (r.int('size', 0) !== this.size) r.fail('size', `${this.size} (this disk's size)`, r.raw('size'));
    if (r.int('chunkSize', 1) !== this.chunkSize) r.fail('chunkSize', `${this.chunkSize}`, r.raw('chunkSize'));
    if (!this.base.restore) throw new SnapshotError(owner, 'its base disk cannot be restored');
    this.base.restore(r.raw('base'));
    const chunks = unpackChunks(r, this.chunkSize, this.size);
    this.chunks.clear();
    for (const [i, c] of chunks) this.chunks.set(i, c);
  }

  dispose(): void | Promise<void> {
    this.chunks.clear();
    return this.base.dispose?.();
  }

  private readBase(target: Uint8Array, from: number, to: number, offset: number): void {
    this.base.read(offset + from, target.subarray(from, to));
  }
}

