import type { StateReader } from '@unimachine/core';

/** Chunk maps as snapshots keep them: the chunk numbers, and their bytes back to back. */
export interface PackedChunks {
  indexes: number[];
  data: Uint8Array;
}

export function packChunks(chunks: ReadonlyMap<number, Uint8Array>): PackedChunks {
  const indexes = [...chunks.keys()].sort((a, b) => a - b);
  let total = 0;
  for (const i of indexes) total += chunks.get(i)!.length;
  const data = new Uint8Array(total);
  let at = 0;
  for (const i of indexes) {
    const c = chunks.get(i)!;
    data.set(c, at);
    at += c.length;
  }
  return { indexes, data };
}

/**
 * Check and copy packed chunks of `chunkSize` bytes (the last chunk of a disk may be shorter, unless
 * `fullChunks`: every chunk is whole) for a disk of `diskSize` bytes.
 */
export function unpackChunks(r: StateReader, chunkSize: number, diskSize: number, fullChunks = false): Map<number, Buffer> {
  const count = Math.ceil(diskSize / chunkSize);
  const indexes = r.ints('indexes', undefined, 0, count - 1);
  const data = r.bytes('data');
  const lengthOf = (i: number) => (fullChunks ? chunkSize : Math.min(chunkSize, diskSize - i * chunkSize));
  let expected = 0;
  indexes.forEach((i, k) => {
    if (k > 0 && i <= indexes[k - 1]) r.fail(`indexes[${k}]`, `above ${indexes[k - 1]} (chunk numbers in increasing order)`, i);
    expected += lengthOf(i);
  });
  if (data.length !== expected) r.fail('data', `${expected} bytes (the chunks listed in indexes)`, data);
  const out = new Map<number, Buffer>();
  let at = 0;
  for (const i of indexes) {
    const n = lengthOf(i);
    out.set(i, Buffer.from(data.subarray(at, at + n)));
    at += n;
  }
  return out;
}

/**
 * Walk the byte range [offset, offset + length) of a disk cut into `chunkSize`-byte chunks: one
 * call per chunk it touches, with the chunk number, the offset inside the chunk, the position in
 * the range and how many bytes of it fall in this chunk.
 */
export function forEachChunk(
  offset: number,
  length: number,
  chunkSize: number,
  visit: (index: number, within: number, pos: number, n: number) => void,
): void {
  let pos = 0;
  while (pos < length) {
    const at = offset + pos;
    const within = at % chunkSize;
    const n = Math.min(chunkSize - within, length - pos);
    visit((at - within) / chunkSize, within, pos, n);
    pos += n;
  }
}
