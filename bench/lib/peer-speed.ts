/**
 * MIPS of another emulator (QEMU TCG, v86) on the bench workload, with its start-up taken out.
 *
 * Neither emulator counts instructions for us, so the count comes from our interpreter running
 * the same image (the same guest code): instructions per round = (count(n=R) - count(n=0)) / R.
 * Each pair of runs is one run at n=small and one at n=large, back to back; the pair's figure is
 *   (large - small) rounds × instructions per round / (time(large) - time(small))
 * so boot, BIOS, process start-up and JIT warm-up of the first `small` rounds cancel out.
 * Time is taken twice: the host's wall clock and the child's CPU time (user + system, all its
 * threads, from this process's cutime/cstime in /proc/self/stat: Linux, 10 ms ticks).
 */
import { readFileSync } from 'node:fs';
import { timedRun, type TimedRun } from './timed-process.js';
import { max, median, min } from './stats.js';

/** USER_HZ: /proc reports CPU times in these ticks (100 on every Linux architecture we run on). */
const TICKS_PER_SECOND = 100;

export interface PeerCommand {
  command: string;
  args(append: string): string[];
  cwd?: string;
}

export interface PeerPair {
  smallWallS: number;
  largeWallS: number;
  smallCpuS: number;
  largeCpuS: number;
  /** Instructions / (large - small) wall seconds / 1e6. */
  mips: number;
  /** Instructions / (large - small) child CPU seconds / 1e6. */
  cpuMips: number;
}

export interface PeerSpeed {
  ok: boolean;
  reason?: string;
  nSmall: number;
  nLarge: number;
  /** Instructions the extra (large - small) rounds retire, by our interpreter's count. */
  instructions?: number;
  pairs: PeerPair[];
  medianMips?: number;
  minMips?: number;
  maxMips?: number;
  medianCpuMips?: number;
  minCpuMips?: number;
  maxCpuMips?: number;
  /** Median wall seconds of the n=small run: start-up plus the first rounds. */
  medianSmallWallS?: number;
}

/** CPU seconds of this process's reaped children so far (cutime + cstime). */
export function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name (which may hold spaces) start at state (field 3); cutime is field 16.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

/** One run: wall seconds and CPU seconds of the child. Other children must not exit meanwhile. */
async function timedChild(cmd: PeerCommand, append: string, timeoutMs: number): Promise<TimedRun & { cpuS: number }> {
  const before = childCpuSeconds();
  const r = await timedRun(cmd.command, cmd.args(append), { timeoutMs, cwd: cmd.cwd });
  return { ...r, cpuS: childCpuSeconds() - before };
}

export async function measurePeer(opts: {
  cmd: PeerCommand;
  nSmall: number;
  nLarge: number;
  pairs: number;
  instructionsPerRound: number;
  /** The reference output for an append string (the native build's). */
  expected(append: string): string;
  timeoutMs: number;
}): Promise<PeerSpeed> {
  const { cmd, nSmall, nLarge } = opts;
  const instructions = Math.round((nLarge - nSmall) * opts.instructionsPerRound);
  const result: PeerSpeed = { ok: false, nSmall, nLarge, instructions, pairs: [] };
  const check = (r: TimedRun, append: string): string | undefined => {
    if (r.spawnError) return `cannot start: ${r.spawnError}`;
    if (r.timedOut) return `${append}: no exit after ${opts.timeoutMs} ms`;
    if (r.status !== 1) return `${append}: exit status ${r.status} (${r.stderr.trim().split('\n')[0]?.slice(0, 200) ?? ''})`;
    if (r.stdout !== opts.expected(append)) return `${append}: output differs from the native build`;
    return undefined;
  };
  for (let i = 0; i < opts.pairs; i++) {
    const small = await timedChild(cmd, `n=${nSmall}`, opts.timeoutMs);
    const large = await timedChild(cmd, `n=${nLarge}`, opts.timeoutMs);
    const problem = check(small, `n=${nSmall}`) ?? check(large, `n=${nLarge}`);
    if (problem) {
      result.reason = problem;
      return result;
    }
    const dWall = (large.wallMs - small.wallMs) / 1000;
    const dCpu = large.cpuS - small.cpuS;
    result.pairs.push({
      smallWallS: small.wallMs / 1000,
      largeWallS: large.wallMs / 1000,
      smallCpuS: small.cpuS,
      largeCpuS: large.cpuS,
      mips: dWall > 0 ? instructions / dWall / 1e6 : NaN,
      cpuMips: dCpu > 0 ? instructions / dCpu / 1e6 : NaN,
    });
  }
  const mips = result.pairs.map((p) => p.mips).filter(Number.isFinite);
  const cpuMips = result.pairs.map((p) => p.cpuMips).filter(Number.isFinite);
  result.ok = true;
  result.medianMips = median(mips);
  result.minMips = min(mips);
  result.maxMips = max(mips);
  result.medianCpuMips = median(cpuMips);
  result.minCpuMips = min(cpuMips);
  result.maxCpuMips = max(cpuMips);
  result.medianSmallWallS = median(result.pairs.map((p) => p.smallWallS));
  return result;
}
