import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CHILD_SCRIPT = fileURLToPath(new URL('./fixtures/disk-child.ts', import.meta.url));

/** A fresh folder under the OS temp dir, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unimachine-blockdev-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A file of `size` bytes where byte i is a function of i (so misplaced reads show). */
export function patternedFile(file: string, size: number, seed = 1): Buffer {
  const data = patterned(size, seed);
  fs.writeFileSync(file, data);
  return data;
}

export function patterned(size: number, seed = 1): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return data;
}

export function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Run the disk child under node + tsx (TypeScript sources through the "source" condition). */
export function spawnChild(args: string[]) {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD_SCRIPT, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Run the child to completion and return its stdout. */
export function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
