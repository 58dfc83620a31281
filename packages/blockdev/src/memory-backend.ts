import fs from 'node:fs';
import nodePath from 'node:path';
import { BlockIoError, StateReader, type BlockBackend } from '@unimachine/core';
import { forEachChunk, packChunks, unpackChunks } from './chunks.js';
import { openImage } from './image.js';
import { checkRange, SECTOR_SIZE, serialFrom } from './range.js';

/** Allocation granularity: a sparse disk costs memory only for the 64 KiB chunks ever written. */
export const MEMORY_CHUNK_SIZE = 64 * 1024;

export interface MemoryBackendOptions {
  readOnly?: boolean;
  /** Default `memory`. */
  serial?: string;
}

/**
 * A RAM disk. Chunks are allocated on first write, so `size: 8GiB` costs nothing until used;
 * unwritten bytes read as zeros. Contents vanish at dispose().
 */
export class MemoryBlockBackend implements BlockBackend {
  readonly readOnly: boolean;
  readonly serial: string;
  private readonly chunks = new Map<number, Buffer>();

  /** `size` must be a positive multiple of 512 (throws RangeError otherwise). */
  constructor(
    readonly size: number,
    opts: MemoryBackendOptions = {},
  ) {
    if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR_SIZE !== 0) {
      throw new RangeError(`memory disk size ${size} is not a positive multiple of ${SECTOR_SIZE} bytes`);
    }
    this.readOnly = opts.readOnly === true;
    this.serial = opts.serial ?? 'memory';
  }

  /**
   * A RAM disk holding a copy of a raw image (read once, then closed). `size` defaults to the
   * image's size rounded up to a sector; a larger size leaves zeros after the image.
   * Throws ImageOpenError for an unusable image and RangeError for a size too small for it.
   */
  static fromImage(path: string, opts: MemoryBackendOptions & { size?: number } = {}): MemoryBlockBackend {
    const image = openImage(path, true);
    try {
      const size = opts.size ?? image.capacity;
      if (size < image.fileSize) throw new RangeError(`memory disk size ${size} is smaller than the image ${path} (${image.fileSize} bytes)`);
      const disk = new MemoryBlockBackend(size, { readOnly: opts.readOnly, serial: opts.serial ?? serialFrom(nodePath.basename(path)) });
      disk.preload(image.fd, image.fileSize);
      return disk;
    } finally {
      fs.closeSync(image.fd);
    }
  }

  /** Bytes of chunks allocated so far. */
  get allocatedBytes(): number {
    return this.chunks.size * MEMORY_CHUNK_SIZE;
  }

  read(offset: number, target: Uint8Array): void {
    checkRange(this.size, offset, target.length, 'read');
    forEachChunk(offset, target.length, MEMORY_CHUNK_SIZE, (index, within, pos, n) => {
      const chunk = this.chunks.get(index);
      if (chunk) chunk.copy(target, pos, within, within + n);
      else target.fill(0, pos, pos + n);
    });
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new BlockIoError('write to a read-only memory disk');
    checkRange(this.size, offset, data.length, 'write');
    this.store(offset, data);
  }

  flush(): void {}

  /** The chunks written so far, packed (a restore copies them, so forks never share a chunk). */
  snapshot(): unknown {
    return { version: 1, kind: 'memory', size: this.size, ...packChunks(this.chunks) };
  }

  restore(state: unknown): void {
    const r = StateReader.open('memory disk', state, 1);
    r.str('kind', ['memory']);
    if (r.int('size', 0) !== this.size) r.fail('size', `${this.size} (this disk's size)`, r.raw('size'));
    const chunks = unpackChunks(r, MEMORY_CHUNK_SIZE, this.size, true);
    this.chunks.clear();
    for (const [i, c] of chunks) this.chunks.set(i, c);
  }

  dispose(): void {
    this.chunks.clear();
  }

  private store(offset: number, data: Uint8Array): void {
    forEachChunk(offset, data.length, MEMORY_CHUNK_SIZE, (index, within, pos, n) => {
      let chunk = this.chunks.get(index);
      if (!chunk) this.chunks.set(index, (chunk = Buffer.alloc(MEMORY_CHUNK_SIZE)));
      chunk.set(data.subarray(pos, pos + n), within);
    });
  }


  /** Copy the image in, skipping all-zero chunks so a sparse image stays sparse in memory. */
  private preload(fd: number, length: number): void {
    const buf = Buffer.alloc(MEMORY_CHUNK_SIZE);
    for (let at = 0; at < length; at += MEMORY_CHUNK_SIZE) {
      const want = Math.min(MEMORY_CHUNK_SIZE, length - at);
      let got = 0;
      while (got < want) {
        const n = fs.readSync(fd, buf, got, want - got, at + got);
        if (n === 0) break;
        got += n;
      }
      buf.fill(0, got);
      if (!isZero(buf)) this.chunks.set(at / MEMORY_CHUNK_SIZE, Buffer.from(buf));
    }
  }
}

function isZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
