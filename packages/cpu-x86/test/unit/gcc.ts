import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

export function haveGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Build a freestanding C file into a flat binary linked at 0x100000 (fixtures/flat.ld). */
export function buildFlat(cFile: string, extraFlags: string[]): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-x86-gcc-'));
  try {
    const elf = join(dir, 'k.elf');
    const bin = join(dir, 'k.bin');
    execFileSync('gcc', [...extraFlags, '-O2', '-ffreestanding', '-nostdlib', '-fno-pic', '-no-pie', '-static',
      '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-Wl,--no-warn-rwx-segments',
      '-T', join(FIXTURES, 'flat.ld'), '-o', elf, join(FIXTURES, cFile)], { stdio: 'pipe' });
    execFileSync('objcopy', ['-O', 'binary', elf, bin], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(bin));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Build a C file natively with -DHOST and return what it prints (ground truth). */
export function runHost(cFile: string, extraFlags: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-x86-host-'));
  try {
    const exe = join(dir, 'host');
    execFileSync('gcc', ['-O2', '-DHOST', ...extraFlags, '-o', exe, join(FIXTURES, cFile)], { stdio: 'pipe' });
    return execFileSync(exe, { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
