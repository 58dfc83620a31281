// One case, in-process: write its machine file, call the CLI's main(), and judge the outcome.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { main } from '../../../src/cli-main.js';
import { CASE_FILE, WORKSPACE, type ConfigFuzzCase } from './cases.js';
import { unsafeCase } from './safety.js';

/** Output kept per stream: enough to judge and to show. */
const KEEP_CHARS = 4000;

export interface CaseOutcome {
  index: number;
  mode: ConfigFuzzCase['mode'];
  /** The exit status main() returned, or undefined when it threw. */
  status?: number;
  /** main() threw (a bug: it must always return a status). */
  thrown?: string;
  stdout: string;
  stderr: string;
  ms: number;
  /** heapUsed right after the case, less heapUsed before it (MiB; garbage included). */
  heapGrowthMiB: number;
  /** The reason the case was not run (it could reach outside the sandbox). */
  skipped?: string;
  /** What is wrong, when the outcome breaks the rules. */
  problem?: string;
}

export function caseArgv(c: ConfigFuzzCase, dir: string): string[] {
  return c.argv.map((a) => a.split(WORKSPACE).join(dir));
}

function keep(into: { text: string; dropped: number }, t: string): void {
  if (into.text.length < KEEP_CHARS) into.text += t.slice(0, KEEP_CHARS - into.text.length);
  else into.dropped += t.length;
}

/** Run one case; the current directory must be the workspace `dir`. */
export async function runCase(c: ConfigFuzzCase, dir: string): Promise<CaseOutcome> {
  const argv = caseArgv(c, dir);
  const fileText = c.file === undefined ? undefined : Buffer.from(c.file.text, c.file.encoding).toString('utf8');
  const base = { index: c.index, mode: c.mode, stdout: '', stderr: '', ms: 0, heapGrowthMiB: 0 };
  const skipped = unsafeCase(c, argv, fileText, dir);
  if (skipped) return { ...base, skipped };
  if (c.file) writeFileSync(path.join(dir, path.basename(CASE_FILE)), Buffer.from(c.file.text, c.file.encoding));

  const out = { text: '', dropped: 0 };
  const err = { text: '', dropped: 0 };
  const heapBefore = getHeapStatistics().used_heap_size;
  const handlesBefore = activeHandles();
  const started = performance.now();
  let status: number | undefined;
  let thrown: string | undefined;
  try {
    status = await main(argv, { stdout: (t) => keep(out, t), stderr: (t) => keep(err, t) });
  } catch (e) {
    thrown = (e as Error)?.stack ?? String(e);
  }
  const ms = performance.now() - started;
  const heapGrowthMiB = (getHeapStatistics().used_heap_size - heapBefore) / 2 ** 20;
  const outcome: CaseOutcome = { ...base, status, thrown, stdout: out.text, stderr: err.text, ms, heapGrowthMiB };
  outcome.problem = judge(outcome) ?? (await leftOpen(handlesBefore));
  return outcome;
}

function activeHandles(): string[] {
  return (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().map((h) => h.constructor?.name ?? 'handle');
}

/** Sockets, files or timers a finished case left open (they would keep the CLI from exiting). */
async function leftOpen(before: string[]): Promise<string | undefined> {
  let after = activeHandles();
  for (let i = 0; i < 20 && after.length > before.length; i++) {
    await new Promise((r) => setTimeout(r, i < 5 ? 0 : 5)); // closing a socket takes a turn or two
    after = activeHandles();
  }
  if (after.length <= before.length) return undefined;
  return `the case left ${after.length - before.length} handle(s) open: ${after.slice(before.length).join(', ')}`;
}

/** Statuses `run` may end with besides 0 and 2: machine stopped, timeout, and any guest status (odd). */
const RUN_STATUSES = new Set([4, 124]);
const isGuestStatus = (s: number) => s % 2 === 1 && s > 0 && s <= 0x1ffff;

/** The rules: 0, 2 or a guest status; never 70, a throw or a stack; bad input is one line. */
export function judge(o: CaseOutcome): string | undefined {
  if (o.thrown !== undefined) return `main() threw instead of returning a status: ${o.thrown}`;
  const s = o.status!;
  if (s === 70 || /internal error/.test(o.stderr)) return `internal error (exit ${s})`;
  if (/\n\s+at .+[:(]\d+/.test(o.stderr)) return `a stack trace on stderr (exit ${s})`;
  const allowed = s === 0 || s === 2 || (o.mode === 'run' && (RUN_STATUSES.has(s) || isGuestStatus(s)));
  if (!allowed) return `exit status ${s} is not 0, 2${o.mode === 'run' ? ' or a guest status' : ''}`;
  if (s === 2 && o.stderr.startsWith('Usage: unimachine')) return undefined; // no command given: the usage, as for --help
  if (s === 2) {
    const lines = o.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('(run with --help for usage)'));
    if (lines.length !== 1 || lines[0].trim() === '') return `bad input must be one message line, got ${lines.length}`;
  }
  return undefined;
}
