// The worker side of the fuzz: runs cases in this process, one after another, and reports each
// to the supervisor over IPC before and after it runs (so a hang names its case).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { generateCase } from './cases.js';
import { seedMachineFiles } from './corpus.js';
import { runCase, type CaseOutcome } from './run-case.js';
import { createWorkspace } from './workspace.js';

export interface WorkerRequest {
  seed: number;
  first: number;
  /** One past the last case. */
  end: number;
  root: string;
}

export type WorkerMessage =
  | { t: 'ready'; dir: string }
  | { t: 'start'; index: number }
  | { t: 'end'; outcome: CaseOutcome }
  | { t: 'leak'; problem: string; index: number }
  | { t: 'done'; heapAfterGcMiB: number; openFds: number };

/** Cases after which the heap (after a full GC) and open descriptors are compared with the end. */
const WARM_CASES = 200;
/** Allowed growth of the collected heap and of open descriptors over a whole run. */
const LEAK_HEAP_MIB = 96;
const LEAK_FDS = 16;
/** A single case must not grow the heap by more than this (the 50 MB string took 1.7 GB before the size limit). */
export const CASE_HEAP_BOUND_MIB = 256;

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

function collectedHeapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

export async function runWorker(req: WorkerRequest, send: (m: WorkerMessage) => void): Promise<void> {
  const guestBuild = path.join(req.root, 'guest', 'build');
  const ws = createWorkspace(req.seed, path.join(guestBuild, 'hello.elf'), path.join(guestBuild, 'hello32.elf'));
  send({ t: 'ready', dir: ws.dir });
  const sources = { seeds: seedMachineFiles(path.join(req.root, 'machines')), workspace: ws };
  process.chdir(ws.dir); // the CLI resolves option paths (and the built-in machine's) from here

  let current = req.first;
  const late = (e: unknown) => send({ t: 'leak', index: current, problem: `an error escaped after or during the case: ${(e as Error)?.stack ?? e}` });
  process.on('uncaughtException', late);
  process.on('unhandledRejection', late);

  let warm: { heap: number; fds: number } | undefined;
  for (let i = req.first; i < req.end; i++) {
    current = i;
    const c = generateCase(req.seed, i, sources);
    send({ t: 'start', index: i });
    const outcome = await runCase(c, ws.dir);
    if (!outcome.problem && outcome.heapGrowthMiB > CASE_HEAP_BOUND_MIB) outcome.problem = `the heap grew by ${outcome.heapGrowthMiB.toFixed(0)} MiB in one case (bound ${CASE_HEAP_BOUND_MIB} MiB)`;
    if (!outcome.problem) {
      outcome.stdout = outcome.stdout.slice(0, 200);
      outcome.stderr = outcome.stderr.slice(0, 300);
    }
    send({ t: 'end', outcome });
    if (i === req.first + WARM_CASES) warm = { heap: collectedHeapMiB(), fds: openFds() };
  }
  const heapAfterGcMiB = collectedHeapMiB();
  const fds = openFds();
  if (warm && heapAfterGcMiB - warm.heap > LEAK_HEAP_MIB) {
    send({ t: 'leak', index: req.end - 1, problem: `the collected heap grew from ${warm.heap.toFixed(0)} to ${heapAfterGcMiB.toFixed(0)} MiB over the run (bound +${LEAK_HEAP_MIB} MiB)` });
  }
  if (warm && fds - warm.fds > LEAK_FDS) send({ t: 'leak', index: req.end - 1, problem: `open file descriptors grew from ${warm.fds} to ${fds} over the run` });
  send({ t: 'done', heapAfterGcMiB, openFds: fds });
  process.chdir(req.root);
  ws.dispose();
}
