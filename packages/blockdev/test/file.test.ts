import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BlockIoError } from '@unimachine/core';
import { FileBlockBackend } from '../src/index.js';
import { patterned, patternedFile, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => {
  vi.restoreAllMocks();
  tmp.cleanup();
});

describe('FileBlockBackend', () => {
  it('reads at any offset what the file holds there', () => {
    const file = path.join(tmp.dir, 'disk.img');
    const data = patternedFile(file, 64 * 1024);
    const disk = FileBlockBackend.open(file);
    expect(disk.size).toBe(64 * 1024);
    expect(disk.readOnly).toBe(false);
    for (const [offset, len] of [[0, 512], [512, 4096], [1000, 1], [65536 - 512, 512], [3 * 4096 + 7, 9000]]) {
      const target = new Uint8Array(len);
      disk.read(offset, target);
      expect(Buffer.from(target).equals(data.subarray(offset, offset + len))).toBe(true);
    }
    disk.dispose();
  });

  it('writes land at their offset and nowhere else', () => {
    const file = path.join(tmp.dir, 'disk.img');
    const before = patternedFile(file, 16 * 1024);
    const disk = FileBlockBackend.open(file);
    disk.write(4096, new Uint8Array(512).fill(0xaa));
    disk.write(10_000, Uint8Array.of(1, 2, 3));
    const back = new Uint8Array(512);
    disk.read(4096, back);
    expect(back.every((b) => b === 0xaa)).toBe(true);
    disk.dispose();
    const after = fs.readFileSync(file);
    const expected = Buffer.from(before);
    expected.fill(0xaa, 4096, 4608);
    expected.set([1, 2, 3], 10_000);
    expect(after.equals(expected)).toBe(true);
  });

  it('flush calls fsync on the image descriptor, and the data is visible through another descriptor', () => {
    const file = path.join(tmp.dir, 'disk.img');
    fs.writeFileSync(file, Buffer.alloc(8192));
    const disk = FileBlockBackend.open(file);
    const fsync = vi.spyOn(fs, 'fsyncSync');
    disk.write(512, new Uint8Array(512).fill(0x77));
    expect(fsync).not.toHaveBeenCalled();
    disk.flush();
    expect(fsync).toHaveBeenCalledTimes(1);
    const fd = fs.openSync(file, 'r');
    const seen = Buffer.alloc(512);
    fs.readSync(fd, seen, 0, 512, 512);
    fs.closeSync(fd);
    expect(seen.every((b) => b === 0x77)).toBe(true);
    disk.dispose();
  });

  it('refuses accesses outside the disk with BlockIoError and leaves the file alone', () => {
    const file = path.join(tmp.dir, 'disk.img');
    fs.writeFileSync(file, Buffer.alloc(4096));
    const disk = FileBlockBackend.open(file);
    expect(() => disk.read(4096, new Uint8Array(1))).toThrow(BlockIoError);
    expect(() => disk.read(3584, new Uint8Array(1024))).toThrow(/outside the 4096-byte disk/);
    expect(() => disk.write(4095, new Uint8Array(2))).toThrow(BlockIoError);
    expect(() => disk.read(-512, new Uint8Array(512))).toThrow(BlockIoError);
    expect(() => disk.read(0.5, new Uint8Array(1))).toThrow(BlockIoError);
    disk.dispose();
    expect(fs.statSync(file).size).toBe(4096);
  });

  it('readonly: reads work, writes throw BlockIoError, the file is unchanged', () => {
    const file = path.join(tmp.dir, 'disk.img');
    const data = patternedFile(file, 4096);
    const disk = FileBlockBackend.open(file, { readOnly: true });
    expect(disk.readOnly).toBe(true);
    const target = new Uint8Array(512);
    disk.read(512, target);
    expect(Buffer.from(target).equals(data.subarray(512, 1024))).toBe(true);
    expect(() => disk.write(0, new Uint8Array(512))).toThrow(BlockIoError);
    expect(() => disk.write(0, new Uint8Array(512))).toThrow(/read-only/);
    disk.flush(); // nothing to make durable, and no error
    disk.dispose();
    expect(fs.readFileSync(file).equals(data)).toBe(true);
  });

  it('an image of 1000 bytes is a 1024-byte disk (QEMU rounds up); the tail reads as zeros, a write there extends the file', () => {
    const file = path.join(tmp.dir, 'odd.img');
    const data = patternedFile(file, 1000);
    const disk = FileBlockBackend.open(file);
    expect(disk.size).toBe(1024);
    const last = new Uint8Array(512).fill(0xee);
    disk.read(512, last);
    expect(Buffer.from(last.subarray(0, 488)).equals(data.subarray(512))).toBe(true);
    expect(last.subarray(488).every((b) => b === 0)).toBe(true);
    disk.write(1020, Uint8Array.of(9, 9, 9, 9));
    disk.dispose();
    expect(fs.statSync(file).size).toBe(1024);
  });

  it('serial is the base name cut to 20 bytes, or the one given', () => {
    const file = path.join(tmp.dir, 'a-rather-long-disk-image-name.img');
    fs.writeFileSync(file, Buffer.alloc(512));
    const disk = FileBlockBackend.open(file);
    expect(disk.serial).toBe('a-rather-long-disk-i');
    expect(Buffer.byteLength(disk.serial)).toBeLessThanOrEqual(20);
    disk.dispose();
    const named = FileBlockBackend.open(file, { serial: 'SN42' });
    expect(named.serial).toBe('SN42');
    named.dispose();
  });

  it('after dispose, requests fail with BlockIoError instead of touching a recycled descriptor', () => {
    const file = path.join(tmp.dir, 'disk.img');
    fs.writeFileSync(file, Buffer.alloc(512));
    const disk = FileBlockBackend.open(file);
    disk.dispose();
    disk.dispose();
    expect(() => disk.read(0, new Uint8Array(512))).toThrow(/closed/);
  });

  it('reads and writes straight into WebAssembly.Memory (guest RAM) views', () => {
    const file = path.join(tmp.dir, 'disk.img');
    const data = patternedFile(file, 8192);
    const ram = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const view = new Uint8Array(ram.buffer, 1000, 4096);
    const disk = FileBlockBackend.open(file);
    disk.read(2048, view);
    expect(Buffer.from(view).equals(data.subarray(2048, 6144))).toBe(true);
    disk.write(0, new Uint8Array(ram.buffer, 1000, 512));
    disk.dispose();
    expect(fs.readFileSync(file).subarray(0, 512).equals(data.subarray(2048, 2560))).toBe(true);
  });

  it('reads a large multi-megabyte range in one call', () => {
    const file = path.join(tmp.dir, 'big.img');
    const data = patterned(4 * 1024 * 1024, 3);
    fs.writeFileSync(file, data);
    const disk = FileBlockBackend.open(file);
    const target = new Uint8Array(data.length - 1024);
    disk.read(512, target);
    expect(Buffer.from(target).equals(data.subarray(512, data.length - 512))).toBe(true);
    disk.dispose();
  });
});
