/**
 * Row 1: sequential 64 KiB reads and writes on a file-backed virtio-blk disk (guest app blk-bench).
 * The guest brackets each phase with console markers; the host stamps the marker lines as they
 * arrive, so every figure is host wall-clock time on both machines. The guest's own TSC durations
 * are kept too (on deterministic Unimachine they are virtual time, not speed).
 */
import { closeSync, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import { LineStamper, followConsole, spawnStamped } from './console-lines.js';
import { QEMU } from './qemu.js';
import { UNIMACHINE_SET, UNIMACHINE_YAML, guestElf, qemuDisk, qemuKernel, tail } from './virtio-machines.js';

export const BLK_APP = 'blk-bench';
const PHASES = ['write', 'flush', 'read'] as const;
type Phase = (typeof PHASES)[number];

export interface BlkRun {
  ok: boolean;
  problem?: string;
  /** Bytes moved per pass (write, then read). */
  bytes: number;
  /** Host milliseconds between each phase's start and end markers. */
  hostMs: Partial<Record<Phase, number>>;
  /** The guest's own TSC measure of each phase, in ns. */
  guestNs: Partial<Record<Phase, number>>;
  /** Whole run: machine start (createMachine / process spawn) to exit. */
  totalMs: number;
}

/** A raw image of `bytes` with every block allocated (zeros written), so a run overwrites blocks rather than allocating them. */
export function createImage(path: string, bytes: number): void {
  try {
    if (statSync(path).size === bytes) return;
  } catch {
    // not there yet
  }
  const fd = openSync(path, 'w');
  try {
    const zeros = Buffer.alloc(1 << 20);
    for (let done = 0; done < bytes; done += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - done));
    fsyncSync(fd); // so the kernel is not still writing these zeros back during the first timed run
  } finally {
    closeSync(fd);
  }
}

/** Reads the phases, the guest's durations and its verdict from the console lines. */
function judge(lines: LineStamper, status: number, expectedStatus: number, totalMs: number, extra?: string): BlkRun {
  const hostMs: BlkRun['hostMs'] = {};
  for (const p of PHASES) {
    const start = lines.find(`phase ${p} start`);
    const end = lines.find(`phase ${p} end`);
    if (start && end) hostMs[p] = end.at - start.at;
  }
  const guestNs: BlkRun['guestNs'] = {};
  const clock = /guest clock: write (\d+) ns, flush (\d+) ns, read (\d+) ns/.exec(lines.find('guest clock:')?.text ?? '');
  if (clock) PHASES.forEach((p, i) => (guestNs[p] = Number(clock[i + 1])));
  const bytes = Number(/blk-bench: (\d+) bytes/.exec(lines.find(' bytes in ')?.text ?? '')?.[1] ?? NaN);
  const text = lines.text();
  let problem: string | undefined;
  if (status !== expectedStatus) problem = `exit status ${status}, expected ${expectedStatus}${extra ? ` (${extra})` : ''}: ${tail(text)}`;
  else if (!lines.find('blk-bench: verified')) problem = `the guest did not verify the disk: ${tail(text)}`;
  else if (PHASES.some((p) => hostMs[p] === undefined) || !Number.isFinite(bytes)) problem = `phase markers missing: ${tail(text)}`;
  return { ok: !problem, problem, bytes, hostMs, guestNs, totalMs };
}

/** `append`: blk-bench's arguments, e.g. `size=16` (MiB) for a short warm-up run. */
export async function blkOnUnimachine(image: string, timeoutMs: number, append = ''): Promise<BlkRun> {
  const started = performance.now();
  const { createMachine } = await import('@unimachine/machine');
  const m = await createMachine(UNIMACHINE_YAML, { kernel: guestElf(BLK_APP), append, disks: [image], set: UNIMACHINE_SET });
  try {
    const lines = new LineStamper();
    const r = await m.run({ until: followConsole(m.console('com1'), lines), timeoutMs });
    return judge(lines, r.exitCode, 1, performance.now() - started, r.end === 'exit' ? undefined : `${r.end}: ${r.message ?? ''}`);
  } finally {
    await m.dispose();
  }
}

export function blkQemuArgs(image: string): string[] {
  return [...qemuKernel(BLK_APP, ''), ...qemuDisk(image)];
}

export async function blkOnQemu(image: string, timeoutMs: number): Promise<BlkRun> {
  const started = performance.now();
  const q = spawnStamped(QEMU, blkQemuArgs(image));
  const timer = setTimeout(() => q.kill(), timeoutMs);
  const status = await q.exited;
  clearTimeout(timer);
  return judge(q.stdout, status, 1, performance.now() - started, q.stderr().trim().split('\n')[0]);
}
