import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostActivity } from '@unimachine/core';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unimachine-netdev-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** HostActivity that records holds and wake-ups. */
export class RecordingHost implements HostActivity {
  holds = new Set<string>();
  wakes = 0;
  private n = 0;
  hold(reason: string) {
    const key = `${reason}#${this.n++}`;
    this.holds.add(key);
    return { release: () => void this.holds.delete(key) };
  }
  wake() {
    this.wakes++;
  }
  get reasons(): string[] {
    return [...this.holds].map((k) => k.slice(0, k.lastIndexOf('#')));
  }
}

/** A UDP port on 127.0.0.1 that was free a moment ago (for programs that must be told a port). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function which(program: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Resolve when `cond()` holds, polling; reject after `timeoutMs`. `tick` runs every poll (e.g. resend a datagram). */
export async function until(cond: () => boolean, timeoutMs: number, tick?: () => void, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    tick?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}
