import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlockIoError, type BlockBackend } from '@unimachine/core';
import { BackendConfigError, MEMORY_CHUNK_SIZE, memoryBackendPlugin, MemoryBlockBackend, standaloneBackendContext } from '../src/index.js';
import { patternedFile, sha256, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

async function create(props: Record<string, unknown>): Promise<MemoryBlockBackend> {
  return (await memoryBackendPlugin.create(standaloneBackendContext({ baseDir: tmp.dir }), props as never)) as MemoryBlockBackend;
}

async function refusal(props: Record<string, unknown>): Promise<BackendConfigError> {
  const e = await create(props).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BackendConfigError);
  return e as BackendConfigError;
}

describe('memory backend', () => {
  it('size: 64MiB is a zeroed disk of that size that allocates only what is written', async () => {
    const disk = await create({ size: '64MiB' });
    expect(disk.size).toBe(64 * 1024 * 1024);
    expect(disk.allocatedBytes).toBe(0);
    const probe = new Uint8Array(1024).fill(0xcc);
    disk.read(disk.size - 1024, probe);
    expect(probe.every((b) => b === 0)).toBe(true);
    disk.write(MEMORY_CHUNK_SIZE - 2, Uint8Array.of(1, 2, 3, 4));
    expect(disk.allocatedBytes).toBe(2 * MEMORY_CHUNK_SIZE);
    const back = new Uint8Array(6);
    disk.read(MEMORY_CHUNK_SIZE - 3, back);
    expect([...back]).toEqual([0, 1, 2, 3, 4, 0]);
  });

  it('accepts a plain byte count', async () => {
    expect((await create({ size: 1048576 })).size).toBe(1048576);
  });

  it('image: preloads the file; writes never reach it', async () => {
    const file = path.join(tmp.dir, 'seed.img');
    const data = patternedFile(file, 3 * MEMORY_CHUNK_SIZE + 1000);
    fs.writeFileSync(file, Buffer.concat([data, Buffer.alloc(MEMORY_CHUNK_SIZE)])); // a zero tail stays unallocated
    const hash = sha256(file);
    const disk = await create({ image: 'seed.img' });
    expect(disk.size).toBe(Math.ceil((data.length + MEMORY_CHUNK_SIZE) / 512) * 512);
    expect(disk.serial).toBe('seed.img');
    expect(disk.allocatedBytes).toBe(4 * MEMORY_CHUNK_SIZE);
    const all = new Uint8Array(data.length);
    disk.read(0, all);
    expect(Buffer.from(all).equals(data)).toBe(true);
    disk.write(0, new Uint8Array(512).fill(9));
    expect(sha256(file)).toBe(hash);
  });

  it('image with a larger size leaves zeros after the image', async () => {
    patternedFile(path.join(tmp.dir, 'seed.img'), 4096);
    const disk = await create({ image: 'seed.img', size: '1MiB' });
    expect(disk.size).toBe(1024 * 1024);
    const tail = new Uint8Array(512).fill(1);
    disk.read(4096, tail);
    expect(tail.every((b) => b === 0)).toBe(true);
  });

  it('readonly refuses writes', async () => {
    const disk = await create({ size: '1MiB', readonly: true });
    expect(() => disk.write(0, new Uint8Array(512))).toThrow(BlockIoError);
  });

  it('refuses bad configurations at the right property', async () => {
    expect(await refusal({})).toMatchObject({ property: undefined, message: 'a memory disk needs a size (e.g. size: 64MiB) or an image to preload' });
    expect(await refusal({ size: 1000 })).toMatchObject({ property: 'size', message: 'memory disk size must be a positive multiple of 512 bytes, got 1000' });
    expect(await refusal({ size: '0' })).toMatchObject({ property: 'size' });
    expect(await refusal({ image: 'missing.img' })).toMatchObject({ property: 'image', message: `disk image not found: ${path.join(tmp.dir, 'missing.img')}` });
    patternedFile(path.join(tmp.dir, 'seed.img'), 8192);
    expect(await refusal({ image: 'seed.img', size: 4096 })).toMatchObject({ property: 'size', message: expect.stringMatching(/smaller than the image/) });
  });

  it('out-of-range requests fail with BlockIoError', () => {
    const disk: BlockBackend = new MemoryBlockBackend(4096);
    expect(() => disk.read(4096, new Uint8Array(1))).toThrow(BlockIoError);
    expect(() => disk.write(-1, new Uint8Array(1))).toThrow(BlockIoError);
    expect(() => new MemoryBlockBackend(100)).toThrow(RangeError);
  });
});
