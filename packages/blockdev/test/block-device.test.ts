import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBlockBackend } from '../src/index.js';
import { patternedFile, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

/** Attach a loop device, or undefined with the reason when this host does not allow it. */
function attachLoop(file: string): string | undefined {
  try {
    return execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    console.warn(`skipping the block device test: losetup failed (${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

describe('host block device', () => {
  it('a loop device is a disk whose size comes from sysfs', (ctx) => {
    const file = path.join(tmp.dir, 'loop.img');
    const data = patternedFile(file, 1024 * 1024);
    const dev = attachLoop(file);
    if (!dev) return ctx.skip();
    try {
      const disk = FileBlockBackend.open(dev);
      expect(disk.size).toBe(1024 * 1024);
      const target = new Uint8Array(4096);
      disk.read(512 * 1024, target);
      expect(Buffer.from(target).equals(data.subarray(512 * 1024, 516 * 1024))).toBe(true);
      disk.write(0, new Uint8Array(512).fill(0x42));
      disk.flush();
      disk.dispose();
      expect(fs.readFileSync(file).subarray(0, 512).every((b) => b === 0x42)).toBe(true);
    } finally {
      execFileSync('losetup', ['-d', dev]);
    }
  });
});
