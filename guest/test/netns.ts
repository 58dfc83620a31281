/**
 * Host-side tools for tap tests and benchmarks that run inside a private network namespace
 * (`unshare -n`): the check that nothing can leave it, and `ping` as a child process.
 */
import { execFileSync, spawn } from 'node:child_process';

/** The addresses every tap test uses inside its namespace. */
export const TAP = 'tap0';
export const TAP_HOST_IP = '10.0.0.1';
export const TAP_GUEST_IP = '10.0.0.2';

/** What a child that floods a guest through a tap prints (one JSON line, last on stdout). */
export interface TapFloodResult {
  ok: boolean;
  problem?: string;
  count: number;
  transmitted?: number;
  received?: number;
  /** Host ms from starting `ping -f` to its exit. */
  elapsedMs?: number;
  /** ping's last two lines (packets, rtt). */
  summary?: string;
  /** Echo requests the guest says it answered (its `replied` lines), the probe included. */
  guestReplied?: number;
  /** How the machine's run ended after the flood. */
  machineEnd?: string;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

/** A namespace just made by `unshare -n` has the loopback interface and nothing else: refuse to run anywhere else. */
export function assertFreshNamespace(): void {
  const links = ip('-o', 'link', 'show').split('\n').filter((l) => l.trim()).map((l) => l.split(':')[1]?.trim().split('@')[0]);
  const others = links.filter((name) => name !== 'lo');
  if (others.length > 0) throw new Error(`not in a fresh network namespace (interfaces: ${others.join(', ')}); run under \`unshare -n\``);
}

/** Create tap0 with the host address, up. */
export function createTap(): void {
  ip('link', 'set', 'lo', 'up');
  ip('tuntap', 'add', TAP, 'mode', 'tap');
  ip('link', 'set', TAP, 'up');
  ip('addr', 'add', `${TAP_HOST_IP}/24`, 'dev', TAP);
}

/** Run iputils `ping` with `args`; killed after `timeoutMs`. */
export function runPing(args: string[], timeoutMs: number): Promise<{ out: string; status: number; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const p = spawn('ping', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => (out += e.message));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out, status: code ?? -1, ms: performance.now() - started });
    });
  });
}

/** `N packets transmitted, M received` from ping's summary. */
export function pingCounts(out: string): { transmitted: number; received: number } | undefined {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  return m ? { transmitted: Number(m[1]), received: Number(m[2]) } : undefined;
}
