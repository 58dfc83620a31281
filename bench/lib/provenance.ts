/** Where a figure came from: commit, date, host, so tables can be compared over time. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { ROOT } from './paths.js';

export interface Provenance {
  commit: string;
  /** True when the work tree had uncommitted changes to tracked or untracked files. */
  dirty: boolean;
  date: string;
  node: string;
  host: string;
  cpus: number;
  /** 1-minute load average when the run started: above `cpus`, other work competed for the host. */
  loadAverage: number;
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export function provenance(): Provenance {
  const status = git(['status', '--porcelain']);
  return {
    commit: git(['rev-parse', '--short=12', 'HEAD']) ?? 'unknown',
    dirty: status === undefined ? false : status.length > 0,
    date: new Date().toISOString(),
    node: process.version,
    host: `${os.cpus()[0]?.model ?? 'unknown cpu'}`.trim(),
    cpus: os.cpus().length,
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

/** One line for the Markdown results. */
export function describeHost(p: Provenance): string {
  return `Node ${p.node}, ${p.cpus} × ${p.host}, load average ${p.loadAverage} at the start`;
}

export function commitLabel(p: Provenance): string {
  return p.dirty ? `${p.commit}+dirty` : p.commit;
}

/** Node's version, QEMU's and each extra tool's (probe throws when it is missing: "not installed"). */
export function toolVersions(qemu: string, extra: Record<string, () => string> = {}): Record<string, string> {
  const probes: Record<string, () => string> = {
    qemu: () => /version ([^\s]+)/.exec(execFileSync(qemu, ['--version'], { encoding: 'utf8' }))?.[1] ?? '?',
    ...extra,
  };
  const v: Record<string, string> = { node: process.version };
  for (const [tool, probe] of Object.entries(probes)) {
    try {
      v[tool] = probe();
    } catch {
      v[tool] = 'not installed';
    }
  }
  return v;
}
