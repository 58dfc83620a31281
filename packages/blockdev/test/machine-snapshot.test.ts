// Disk backends in machine snapshots: overlays and RAM disks carry their data, images their identity.
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CopyOnWriteBlockBackend, FileBlockBackend, MemoryBlockBackend } from '../src/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'blockdev-snapshot-'));
const image = (name: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.alloc(64 * 1024, 0x11));
  return file;
};
const read = (d: { read(o: number, t: Uint8Array): void }, at: number, n = 4) => {
  const out = new Uint8Array(n);
  d.read(at, out);
  return Array.from(out);
};

describe('block backend snapshots', () => {
  it('a copy-on-write disk: the overlay comes back, later writes are forgotten, the base is checked', () => {
    const file = image('cow.img');
    const disk = new CopyOnWriteBlockBackend(FileBlockBackend.open(file, { readOnly: true }));
    disk.write(4096 + 10, Uint8Array.of(1, 2, 3, 4));
    const state = disk.snapshot();
    disk.write(4096 + 10, Uint8Array.of(9, 9, 9, 9));
    disk.write(8192, Uint8Array.of(7));
    const other = new CopyOnWriteBlockBackend(FileBlockBackend.open(file, { readOnly: true }));
    other.restore(state);
    disk.restore(state);
    for (const d of [disk, other]) {
      expect(read(d, 4096 + 10)).toEqual([1, 2, 3, 4]);
      expect(read(d, 8192, 1)).toEqual([0x11]);
    }
    utimesSync(file, new Date(), new Date(Date.now() + 5000)); // the image changed behind the snapshot's back
    const later = new CopyOnWriteBlockBackend(FileBlockBackend.open(file, { readOnly: true }));
    expect(() => later.restore(state)).toThrow(/was modified after the snapshot was taken/);
  });

  it('a memory disk carries its chunks; a foreign state is refused by field', () => {
    const disk = new MemoryBlockBackend(1 << 20);
    disk.write(70_000, Uint8Array.of(5, 6));
    const copy = new MemoryBlockBackend(1 << 20);
    copy.restore(disk.snapshot());
    expect(read(copy, 70_000, 2)).toEqual([5, 6]);
    expect(() => new MemoryBlockBackend(2 << 20).restore(disk.snapshot())).toThrow('memory disk: size must be 2097152 (this disk\'s size), got number 1048576');
    expect(() => copy.restore({ version: 1, kind: 'memory', size: 1 << 20, indexes: [3], data: new Uint8Array(5) })).toThrow(
      'memory disk: data must be 65536 bytes (the chunks listed in indexes), got 5 bytes',
    );
  });

  it('a writable image file cannot be snapshotted (its writes are on the host already)', () => {
    const disk = FileBlockBackend.open(image('rw.img'));
    expect(() => disk.snapshot()).toThrow(/a writable image file cannot be snapshotted .*snapshot: true \(copy-on-write\) or readonly: true/);
    disk.dispose();
  });
});
