// The supervisor: runs the cases in a child process and watches it. A case that takes too long,
// hangs the event loop (a blocking open of a FIFO) or kills the process (out of memory) is a
// failure named by its index; the child is restarted after it and the run goes on.
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { generateCase, RUN_TIMEOUT_MS, type ConfigFuzzCase } from './cases.js';
import { seedMachineFiles } from './corpus.js';
import type { CaseOutcome } from './run-case.js';
import type { WorkerMessage } from './worker.js';
import { workspaceNames } from './workspace.js';

export interface ConfigFuzzOptions {
  seed: number;
  first: number;
  cases: number;
  /** Repository root (machines/, guest/build/, the fuzz script). */
  root: string;
  maxFailures?: number;
  /** A validate/devices/schema case must end within this (ms). */
  caseLimitMs?: number;
  /** Heap limit of the worker (MiB): a case that needs more kills it, and is reported. */
  workerHeapMiB?: number;
  /** Child processes running cases side by side, each on its own share of the range (default 2). */
  jobs?: number;
  onProgress?: (done: number) => void;
}

export interface ConfigFuzzFailure {
  index: number;
  problem: string;
  outcome?: CaseOutcome;
}

export interface ConfigFuzzReport {
  seed: number;
  first: number;
  cases: number;
  ran: number;
  skipped: number;
  /** Cases by mode and exit status, e.g. "validate 2": 8123. */
  statuses: Record<string, number>;
  skipReasons: Record<string, number>;
  failures: ConfigFuzzFailure[];
  slowest: { index: number; ms: number; mode: string }[];
  maxHeapGrowthMiB: number;
  wallMs: number;
}

const RUN_LIMIT_MS = RUN_TIMEOUT_MS + 6000;
/** Silence from the worker this long means its event loop is stuck. */
const HANG_MS = 30_000;

export const FUZZ_SCRIPT = 'packages/machine/scripts/fuzz-config.ts';

export function rerunCommand(seed: number, index: number): string {
  return `npm run fuzz:config -- --seed ${seed} --case ${index}`;
}

/** The case as a person reads it: the machine file's text and the command line. */
export function describeCase(root: string, seed: number, index: number): string {
  const c: ConfigFuzzCase = generateCase(seed, index, { seeds: seedMachineFiles(path.join(root, 'machines')), workspace: workspaceNames() });
  const file = c.file ? `\n--- @W@/case.yaml (${c.file.encoding}, ${Buffer.byteLength(c.file.text, c.file.encoding)} bytes${c.file.text.length > 3000 ? ', first 3000 characters' : ''}):\n${JSON.stringify(c.file.text.slice(0, 3000))}` : '';
  const argv = c.argv.map((a) => (a.length > 300 ? `${a.slice(0, 300)}...(${a.length} chars)` : a));
  return `case ${index} (seed ${seed}, ${c.mode}): unimachine ${argv.map((a) => JSON.stringify(a)).join(' ')}${file}\n(@W@ is the fuzz workspace folder, the current directory)`;
}

export async function superviseConfigFuzz(o: ConfigFuzzOptions): Promise<ConfigFuzzReport> {
  const started = performance.now();
  const caseLimitMs = o.caseLimitMs ?? 5000;
  const maxFailures = o.maxFailures ?? 10;
  const report: ConfigFuzzReport = {
    seed: o.seed, first: o.first, cases: o.cases, ran: 0, skipped: 0, statuses: {}, skipReasons: {}, failures: [], slowest: [], maxHeapGrowthMiB: 0, wallMs: 0,
  };
  const jobs = Math.max(1, Math.min(o.jobs ?? 2, o.cases));
  const share = Math.ceil(o.cases / jobs);
  const ranges = Array.from({ length: jobs }, (_, j) => [o.first + j * share, Math.min(o.first + (j + 1) * share, o.first + o.cases)] as const);
  await Promise.all(
    ranges.map(async ([from, end]) => {
      let next = from;
      while (next < end && report.failures.length < maxFailures) next = await runChild(next, end);
    }),
  );
  report.slowest.sort((a, b) => b.ms - a.ms);
  report.slowest.length = Math.min(report.slowest.length, 10);
  report.failures.sort((a, b) => a.index - b.index);
  report.wallMs = performance.now() - started;
  return report;

  /** Run cases [from, end) in a fresh child; returns where to go on. */
  function runChild(from: number, end: number): Promise<number> {
    return new Promise((resolve) => {
      const child: ChildProcess = fork(path.join(o.root, FUZZ_SCRIPT), ['--worker', '--seed', String(o.seed), '--first', String(from), '--end', String(end)], {
        cwd: o.root,
        execArgv: ['--conditions=source', '--import', 'tsx', '--expose-gc', '--max-semi-space-size=32', `--max-old-space-size=${o.workerHeapMiB ?? 2048}`],
        // Guest consoles set to stdio write to fd 1: it goes nowhere. stderr is kept for a crash report.
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderrTail = '';
      child.stderr!.on('data', (d: Buffer) => (stderrTail = (stderrTail + d.toString()).slice(-3000)));
      let dir: string | undefined;
      let current: number | undefined;
      let caseStarted = 0;
      let settled = false;
      let lastDone = from - 1;
      const finish = (resume: number) => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        if (child.exitCode === null) child.kill('SIGKILL');
        if (dir) rmSync(dir, { recursive: true, force: true });
        resolve(resume);
      };
      const fail = (index: number, problem: string, outcome?: CaseOutcome) => {
        report.failures.push({ index, problem, outcome });
        o.onProgress?.(report.ran + report.skipped);
      };
      const watchdog = setInterval(() => {
        if (current === undefined) return;
        const ms = performance.now() - caseStarted;
        if (ms > HANG_MS) {
          fail(current, `no answer after ${(ms / 1000).toFixed(0)} s: a hang (the worker was killed)`);
          finish(current + 1);
        }
      }, 250);
      child.on('message', (m: WorkerMessage) => {
        if (m.t === 'ready') dir = m.dir;
        else if (m.t === 'start') {
          current = m.index;
          caseStarted = performance.now();
        } else if (m.t === 'end') {
          const out = m.outcome;
          current = undefined;
          lastDone = out.index;
          if (out.skipped) {
            report.skipped++;
            const reason = out.skipped.replace(/ .*/, '');
            report.skipReasons[reason] = (report.skipReasons[reason] ?? 0) + 1;
          } else {
            report.ran++;
            const key = `${out.mode} ${out.status ?? 'threw'}`;
            report.statuses[key] = (report.statuses[key] ?? 0) + 1;
            report.maxHeapGrowthMiB = Math.max(report.maxHeapGrowthMiB, out.heapGrowthMiB);
            report.slowest.push({ index: out.index, ms: Math.round(out.ms), mode: out.mode });
            if (report.slowest.length > 20) {
              report.slowest.sort((a, b) => b.ms - a.ms);
              report.slowest.length = 10;
            }
            const limit = out.mode === 'run' ? RUN_LIMIT_MS : caseLimitMs;
            if (out.problem) fail(out.index, out.problem, out);
            else if (out.ms > limit) fail(out.index, `took ${Math.round(out.ms)} ms (limit ${limit} ms)`, out);
          }
          o.onProgress?.(report.ran + report.skipped);
          if (report.failures.length >= maxFailures) finish(end);
        } else if (m.t === 'leak') fail(m.index, m.problem);
        else if (m.t === 'done') finish(end);
      });
      child.on('exit', (code, signal) => {
        if (settled) return;
        const at = current ?? lastDone + 1;
        fail(at, `the worker died (exit ${code ?? signal}) during the case; its stderr ends: ${stderrTail.slice(-1500)}`);
        finish(at + 1);
      });
    });
  }
}
