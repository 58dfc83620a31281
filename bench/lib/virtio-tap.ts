/**
 * Row 2: ICMP echo round trips per second through a tap, each run in a network namespace of its
 * own (`unshare -n`), so the flood never leaves it. The work happens in tap-ping-child.ts.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR, ROOT } from './paths.js';
import { timedRun } from './timed-process.js';
import type { TapPingResult } from './tap-ping-child.js';

const CHILD = join(BENCH_DIR, 'lib/tap-ping-child.ts');

/** Why the tap row cannot run on this host (undefined: it can). */
export function tapUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  const probe = spawnSync('unshare', ['-n', 'true']);
  if (probe.error || probe.status !== 0) return `\`unshare -n\` is not permitted here (needs root or CAP_SYS_ADMIN): ${String(probe.error?.message ?? probe.stderr).trim()}`;
  if (spawnSync('ping', ['-V']).error) return '`ping` (iputils-ping) is not installed: apt-get install iputils-ping';
  if (spawnSync('ip', ['-V']).error) return '`ip` (iproute2) is not installed';
  return undefined;
}

export async function tapPing(emulator: 'unimachine' | 'qemu', count: number, timeoutMs: number): Promise<TapPingResult> {
  // The same Node flags as this process (--conditions=source, --import tsx), so the child loads the same sources.
  const args = ['-n', process.execPath, ...process.execArgv, CHILD, emulator, String(count), String(timeoutMs)];
  const r = await timedRun('unshare', args, { cwd: ROOT, timeoutMs: timeoutMs + 90_000 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as TapPingResult;
  } catch {
    const why = r.timedOut ? 'timed out' : `exit status ${r.status}`;
    return { ok: false, count, problem: `the namespace child failed (${why}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}` };
  }
}
