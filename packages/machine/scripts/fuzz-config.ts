/**
 * Throws random and mutated machine files and command lines at `unimachine validate`, `run`,
 * `devices` and `schema`, in-process, and checks that every case ends with exit 0, 2 or a guest
 * status: never 70, never a throw or a stack trace, never a hang, never an unbounded heap.
 *
 *   npm run fuzz:config -- [--cases 10000] [--seed S] [--first I]     a run of cases
 *   npm run fuzz:config -- --seed S --case I                            one case, shown in full
 *
 * Each case is a pure function of (seed, index). The cases run in a child process watched by
 * this one, so a case that blocks the event loop or exhausts the heap is caught and named.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describeCase, rerunCommand, runWorker, superviseConfigFuzz, type WorkerMessage } from '../test/support/config-fuzz/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const whole = (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`expected a whole number, got ${v}`);
  return n;
};

const opts = new Command('fuzz-config')
  .option('--cases <n>', 'number of cases', whole, 10_000)
  .option('--seed <s>', 'seed (default: from the clock; printed)', whole)
  .option('--first <i>', 'first case index', whole, 0)
  .option('--case <i>', 'run only case I and show its input and outcome', whole)
  .option('--max-failures <n>', 'stop after this many failures', whole, 10)
  .option('--jobs <n>', 'child processes running cases side by side', whole, 2)
  .option('--json', 'print the report as JSON')
  .option('--worker', '(internal) run cases and report to the parent over IPC')
  .option('--end <i>', '(internal) one past the last case, for --worker', whole)
  .parse()
  .opts<{ cases: number; seed?: number; first: number; case?: number; maxFailures: number; jobs: number; json?: boolean; worker?: boolean; end?: number }>();

const seed = opts.seed ?? Date.now() % 0x1_0000_0000;

if (opts.worker) {
  await runWorker({ seed, first: opts.first, end: opts.end ?? opts.first + opts.cases, root }, (m: WorkerMessage) => process.send!(m));
  process.exit(0);
}

const single = opts.case !== undefined;
const first = single ? opts.case! : opts.first;
const cases = single ? 1 : opts.cases;
if (single) console.log(describeCase(root, seed, first));
else console.log(`fuzz:config: ${cases} cases from ${first}, seed ${seed}`);

let lastShown = 0;
const report = await superviseConfigFuzz({
  seed, first, cases, root, maxFailures: opts.maxFailures, jobs: opts.jobs,
  onProgress: (done) => {
    if (!single && done - lastShown >= 1000) {
      lastShown = done;
      process.stderr.write(`  ${done} cases...\n`);
    }
  },
});

if (opts.json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`${report.ran} cases ran, ${report.skipped} skipped (could reach outside the sandbox: ${JSON.stringify(report.skipReasons)}) in ${(report.wallMs / 1000).toFixed(1)} s`);
  console.log(`exit statuses: ${JSON.stringify(report.statuses)}`);
  console.log(`slowest: ${report.slowest.slice(0, 5).map((s) => `case ${s.index} (${s.mode}) ${s.ms} ms`).join(', ')}; largest heap growth in one case ${report.maxHeapGrowthMiB.toFixed(1)} MiB`);
}
if (single && report.ran === 1 && !report.failures.length) console.log('outcome: ok');
for (const f of report.failures) {
  console.log(`\nFAIL ${f.problem}`);
  if (f.outcome) console.log(`  exit ${f.outcome.status ?? '(threw)'} after ${Math.round(f.outcome.ms)} ms\n  stderr: ${JSON.stringify(f.outcome.stderr.slice(0, 2000))}`);
  console.log(describeCase(root, seed, f.index));
  console.log(`rerun: ${rerunCommand(seed, f.index)}`);
}
process.exit(report.failures.length ? 1 : 0);
