import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlockIoError, type BlockBackend } from '@unimachine/core';
import { COW_CHUNK_SIZE, CopyOnWriteBlockBackend, fileBackendPlugin, FileBlockBackend, standaloneBackendContext } from '../src/index.js';
import { patternedFile, sha256, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let file: string;
let base: Buffer;
const SIZE = 256 * 1024;
beforeEach(() => {
  tmp = tempDir();
  file = path.join(tmp.dir, 'base.img');
  base = patternedFile(file, SIZE);
});
afterEach(() => tmp.cleanup());

async function snapshotDisk(extra: Record<string, unknown> = {}): Promise<BlockBackend> {
  return (await fileBackendPlugin.create(standaloneBackendContext({ baseDir: tmp.dir }), { path: 'base.img', snapshot: true, ...extra } as never)) as BlockBackend;
}

function readAll(disk: BlockBackend): Buffer {
  const all = new Uint8Array(disk.size);
  disk.read(0, all);
  return Buffer.from(all);
}

describe('snapshot (copy-on-write overlay)', () => {
  it('writes are read back merged with the base, and the base file stays byte-identical', async () => {
    const before = sha256(file);
    const mtime = fs.statSync(file).mtimeMs;
    const disk = await snapshotDisk();
    const model = Buffer.from(base);
    // Partial chunk, whole chunk, chunk-crossing, the very end, single bytes.
    const writes: [number, number, number][] = [
      [512, 512, 0x11],
      [COW_CHUNK_SIZE * 3, COW_CHUNK_SIZE, 0x22],
      [COW_CHUNK_SIZE * 5 - 700, 3000, 0x33],
      [SIZE - 512, 512, 0x44],
      [100_001, 1, 0x55],
      [600, 10, 0x66], // inside an already-copied chunk
    ];
    for (const [offset, len, value] of writes) {
      disk.write(offset, new Uint8Array(len).fill(value));
      model.fill(value, offset, offset + len);
    }
    expect(readAll(disk).equals(model)).toBe(true);
    // Unaligned reads that straddle overlay and base chunks.
    for (const [offset, len] of [[0, 5000], [COW_CHUNK_SIZE * 3 - 10, COW_CHUNK_SIZE + 20], [COW_CHUNK_SIZE * 4 + 1, 9000], [SIZE - 600, 600]]) {
      const part = new Uint8Array(len);
      disk.read(offset, part);
      expect(Buffer.from(part).equals(model.subarray(offset, offset + len))).toBe(true);
    }
    disk.flush();
    await disk.dispose?.();
    expect(sha256(file)).toBe(before);
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
  });

  it('the base is opened read-only: the snapshot never holds a writable descriptor', async () => {
    fs.chmodSync(file, 0o444);
    const disk = await snapshotDisk();
    disk.write(0, new Uint8Array(512).fill(1));
    await disk.dispose?.();
    expect(fs.readFileSync(file).equals(base)).toBe(true);
  });

  it('only touched chunks are held in memory', async () => {
    const disk = (await snapshotDisk()) as CopyOnWriteBlockBackend;
    expect(disk.overlayBytes).toBe(0);
    disk.write(10, Uint8Array.of(1));
    disk.write(COW_CHUNK_SIZE * 2 - 1, Uint8Array.of(1, 2)); // spans two chunks
    expect(disk.overlayBytes).toBe(3 * COW_CHUNK_SIZE);
    disk.discard();
    expect(readAll(disk).equals(base)).toBe(true);
    await disk.dispose?.();
  });

  it('a new snapshot of the same base starts clean', async () => {
    const first = await snapshotDisk();
    first.write(0, new Uint8Array(4096).fill(0xff));
    await first.dispose?.();
    const second = await snapshotDisk();
    expect(readAll(second).equals(base)).toBe(true);
    await second.dispose?.();
  });

  it('readonly + snapshot refuses writes', async () => {
    const disk = await snapshotDisk({ readonly: true });
    expect(disk.readOnly).toBe(true);
    expect(() => disk.write(0, new Uint8Array(512))).toThrow(BlockIoError);
    await disk.dispose?.();
  });

  it('out-of-range requests fail with BlockIoError', async () => {
    const disk = await snapshotDisk();
    expect(() => disk.write(SIZE - 511, new Uint8Array(512))).toThrow(BlockIoError);
    expect(() => disk.read(SIZE, new Uint8Array(1))).toThrow(BlockIoError);
    await disk.dispose?.();
  });

  it('works over an image whose last chunk is partial (size not a multiple of the chunk)', () => {
    const odd = path.join(tmp.dir, 'odd.img');
    const data = patternedFile(odd, COW_CHUNK_SIZE + 1536);
    const disk = new CopyOnWriteBlockBackend(FileBlockBackend.open(odd, { readOnly: true }));
    disk.write(COW_CHUNK_SIZE + 1024, new Uint8Array(512).fill(7));
    const expected = Buffer.from(data).fill(7, COW_CHUNK_SIZE + 1024);
    expect(readAll(disk).equals(expected)).toBe(true);
    disk.dispose();
    expect(fs.readFileSync(odd).equals(data)).toBe(true);
  });
});
