import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnChild, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

describe('durability', () => {
  it('a write flushed before the process is SIGKILLed is in the file', async () => {
    const file = path.join(tmp.dir, 'disk.img');
    fs.writeFileSync(file, Buffer.alloc(64 * 1024));
    const child = spawnChild(['write-flush-wait', file]);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('flushed\n')) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('exit', (_code, sig) => resolve(sig));
    });
    expect(signal, stderr).toBe('SIGKILL');
    const after = fs.readFileSync(file);
    expect(after.subarray(8192, 8192 + 4096).every((b) => b === 0x5a)).toBe(true);
    expect(after.subarray(0, 8192).every((b) => b === 0)).toBe(true);
    expect(after.subarray(8192 + 4096).every((b) => b === 0)).toBe(true);
  });
});
