/**
 * bench: boot each benchmark guest on Unimachine, QEMU and (32-bit guests) v86, side by side.
 *
 *   node --conditions=source --import tsx bench/run.ts [--runs 5] [--rounds 1] [--timeout 30000]
 *        [--only name,name] [--emulators unimachine,unimachine-api,qemu,v86] [--machine machines/solo5-virtio.yaml]
 *        [--skip-virtio]
 *
 * Emulator ids: unimachine (the CLI, deterministic clock as in the machine YAML),
 * unimachine-bundle (dist/unimachine.mjs, the one-file CLI; in the default list when built),
 * unimachine-realtime (the CLI with --set clock=realtime; not in the default list),
 * unimachine-api (in-process createMachine + run), qemu, v86 (32-bit guests only).
 *
 * Every run is timed from process start to exit (median of --runs) and its console output and
 * exit status are checked. A guest an emulator cannot run gets a cell saying why; nothing
 * else stops. Writes results/bench.json and results/bench.md, then runs bench/virtio.ts (the
 * virtio rows) unless --only or --skip-virtio is given.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBenchKernels } from './lib/build.js';
import { qemu, unimachineApi, unimachineCli, v86, type Emulator, type Outcome } from './lib/emulators.js';
import { benchGuests, type BenchGuest } from './lib/guests.js';
import { RESULTS_DIR, ROOT } from './lib/paths.js';
import { commitLabel, describeHost, provenance, type Provenance, toolVersions } from './lib/provenance.js';
import { QEMU } from './lib/qemu.js';
import { timedRun } from './lib/timed-process.js';
import { fmt, log, max, median, min, positiveInt } from './lib/stats.js';

const BUNDLED_CLI = join(ROOT, 'packages/machine/dist/unimachine.mjs');

interface RunRecord {
  wallMs: number;
  ok: boolean;
  problem?: string;
  instructions?: number;
  buildMs?: number;
}

interface Cell {
  /** 'ok': every run printed the expected output and exit status. */
  state: 'ok' | 'failed' | 'n/a';
  reason?: string;
  runs: RunRecord[];
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
}

interface GuestRow {
  guest: string;
  elf: string;
  append: string;
  bits: number;
  expectedStatus: number;
  cells: Record<string, Cell>;
}

interface BenchFile {
  provenance: Provenance;
  versions: Record<string, string>;
  runsPerCell: number;
  timeoutMs: number;
  emulators: { id: string; describe: string }[];
  guests: GuestRow[];
  missingGuests: string[];
  /** Guest cases left out, with why (e.g. they need a disk image). */
  skippedGuests: string[];
  /** Median wall time of `node -e 0`: the floor under every Node-based column (unimachine CLI, v86). */
  nodeFloorMs: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '30000' },
      only: { type: 'string' },
      emulators: { type: 'string' },
      machine: { type: 'string', default: 'machines/solo5-virtio.yaml' },
      'skip-virtio': { type: 'boolean', default: false },
    },
  });
  const runs = positiveInt(values.runs, 'runs');
  const rounds = positiveInt(values.rounds, 'rounds');
  const timeoutMs = positiveInt(values.timeout, 'timeout');
  const machineYaml = resolve(ROOT, values.machine);

  const started = provenance(); // before the runs: the load average of interest is the one they start under
  buildBenchKernels();
  buildGuests();

  const all: Emulator[] = [
    unimachineCli(machineYaml),
    unimachineCli(machineYaml, { id: 'unimachine-bundle', cli: BUNDLED_CLI }),
    unimachineCli(machineYaml, { id: 'unimachine-realtime', extraArgs: ['--set', 'clock=realtime'] }),
    unimachineApi(machineYaml),
    qemu(),
    v86(),
  ];
  // The bundled CLI is benchmarked when it has been built (npm run bundle -w @unimachine/machine).
  const defaults = ['unimachine', ...(existsSync(BUNDLED_CLI) ? ['unimachine-bundle'] : []), 'unimachine-api', 'qemu', 'v86'];
  const wanted = values.emulators?.split(',') ?? defaults;
  for (const id of wanted) if (!all.some((e) => e.id === id)) throw new Error(`unknown emulator ${id}; known: ${all.map((e) => e.id).join(', ')}`);
  const emulators = all.filter((e) => wanted.includes(e.id));

  const { guests: allGuests, missing, skipped } = benchGuests(rounds);
  const only = values.only?.split(',');
  const guests = only ? allGuests.filter((g) => only.some((o) => g.name.includes(o))) : allGuests;
  if (missing.length) log(`not built, skipped: ${missing.join(', ')}`);
  if (skipped.length) log(`not benchmarked: ${skipped.join(', ')}`);

  const nodeFloorMs = await nodeFloor(runs);
  log(`node -e 0: median ${nodeFloorMs.toFixed(0)} ms`);
  // Load modules and warm the JIT of in-process emulators, so their first timed run is like the others.
  for (const e of emulators) if (e.warmUp && guests[0]) await e.warmUp(guests[0], timeoutMs);

  const rows: GuestRow[] = [];
  for (const g of guests) rows.push(await benchGuest(g, emulators, runs, timeoutMs));

  const file: BenchFile = {
    provenance: started,
    versions: versions(),
    runsPerCell: runs,
    timeoutMs,
    emulators: emulators.map((e) => ({ id: e.id, describe: e.describe })),
    guests: rows,
    missingGuests: missing,
    skippedGuests: skipped,
    nodeFloorMs,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'bench.json'), JSON.stringify(file, null, 2) + '\n');
  const md = markdown(file);
  writeFileSync(join(RESULTS_DIR, 'bench.md'), md);
  log(`\n${table(file)}\n\nwrote bench/results/bench.json and bench/results/bench.md`);

  // The virtio rows (bench/virtio.ts: blk, tap, wire), in a process of their own, unless only some guests were asked for.
  if (!values['skip-virtio'] && !only) {
    const virtio = spawnSync(process.execPath, [...process.execArgv, join(ROOT, 'bench/virtio.ts')], { cwd: ROOT, stdio: 'inherit' });
    if (virtio.status !== 0) {
      log(`bench/virtio.ts failed (${virtio.error?.message ?? `exit status ${virtio.status}`})`);
      process.exitCode = 1;
    }
  }
}

/** Runs are interleaved across emulators (run 1 on each, then run 2, ...) so a burst of host load hits all columns alike. */
async function benchGuest(g: BenchGuest, emulators: Emulator[], runs: number, timeoutMs: number): Promise<GuestRow> {
  const cells: Record<string, Cell> = {};
  const active: Emulator[] = [];
  for (const e of emulators) {
    const why = e.cannotRun(g);
    if (why) cells[e.id] = { state: 'n/a', reason: why, runs: [] };
    else {
      cells[e.id] = { state: 'ok', runs: [] };
      active.push(e);
    }
  }
  for (let i = 0; i < runs; i++) {
    for (const e of active) {
      const cell = cells[e.id]!;
      if (cell.state === 'failed') continue; // one failed run decides the cell; do not wait for more
      const outcome = await e.run(g, timeoutMs);
      const problem = judge(g, outcome);
      cell.runs.push({ wallMs: round1(outcome.wallMs), ok: !problem, problem, instructions: outcome.instructions, buildMs: outcome.buildMs === undefined ? undefined : round1(outcome.buildMs) });
      if (problem) {
        cell.state = 'failed';
        cell.reason = problem;
      }
      log(`${g.name} on ${e.id}: run ${i + 1}: ${outcome.wallMs.toFixed(0)} ms ${problem ? `FAILED: ${problem}` : 'ok'}`);
    }
  }
  for (const cell of Object.values(cells)) {
    if (cell.state !== 'ok') continue;
    const ms = cell.runs.map((r) => r.wallMs);
    cell.medianMs = round1(median(ms));
    cell.minMs = min(ms);
    cell.maxMs = max(ms);
  }
  return { guest: g.name, elf: rel(g.elf), append: g.append, bits: g.bits, expectedStatus: g.status, cells };
}

function judge(g: BenchGuest, o: Outcome): string | undefined {
  const why = o.diagnostic ? ` (${o.diagnostic})` : '';
  if (o.timedOut) return `timed out${why}`;
  if (o.status !== g.status) return `exit status ${o.status}, expected ${g.status}${why}`;
  const outputProblem = g.checkOutput(o.stdout);
  return outputProblem ? `${outputProblem}${why}` : undefined;
}

// ---------------------------------------------------------------- output

/** Failure reasons become numbered notes under the table, so cells stay short. */
class Notes {
  readonly list: string[] = [];
  ref(reason: string): number {
    const i = this.list.indexOf(reason);
    if (i >= 0) return i + 1;
    this.list.push(reason);
    return this.list.length;
  }
}

function cellText(c: Cell | undefined, notes?: Notes): string {
  if (!c) return '-';
  if (c.state === 'n/a') return 'n/a';
  if (c.state === 'failed') return notes ? `failed [${notes.ref(oneLine(c.reason ?? ''))}]` : 'failed';
  return `${fmt(c.medianMs, 0)} ms ok`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 400);
}

function table(f: BenchFile, notes?: Notes): string {
  const ids = f.emulators.map((e) => e.id);
  const ratio = ids.includes('unimachine') && ids.includes('qemu');
  const head = `| guest | ${ids.join(' | ')}${ratio ? ' | unimachine ÷ qemu' : ''} |`;
  const sep = `|---|${ids.map(() => '---').join('|')}${ratio ? '|---:' : ''}|`;
  const lines = [head, sep];
  for (const row of f.guests) {
    let r = '';
    if (ratio) {
      const u = row.cells.unimachine;
      const q = row.cells.qemu;
      r = u?.state === 'ok' && q?.state === 'ok' ? ` | ${(u.medianMs! / q.medianMs!).toFixed(2)}×` : ' | -';
    }
    lines.push(`| ${row.guest} | ${ids.map((id) => cellText(row.cells[id], notes)).join(' | ')}${r} |`);
  }
  return lines.join('\n');
}

function markdown(f: BenchFile): string {
  const p = f.provenance;
  const notes = new Notes();
  const body = table(f, notes);
  // n/a cells grouped by emulator and reason: "v86: n/a: 64-bit guest (...): hello, time, ...".
  const notApplicable = new Map<string, string[]>();
  for (const row of f.guests) {
    for (const [id, c] of Object.entries(row.cells)) {
      if (c.state !== 'n/a') continue;
      const key = `${id}: ${c.reason}`;
      notApplicable.set(key, [...(notApplicable.get(key) ?? []), row.guest]);
    }
  }
  return [
    '# bench: Unimachine side by side with QEMU and v86',
    '',
    `Commit ${commitLabel(p)}, ${p.date}, ${describeHost(p)}.`,
    `Versions: ${Object.entries(f.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Each cell: median host wall time of ${f.runsPerCell} run(s), process start to exit, and "ok" when every run printed the expected console output and exit status; "failed [n]" after the first bad run (reasons below; timeout ${f.timeoutMs} ms).`,
    `Start-up floor: \`node -e 0\` takes ${f.nodeFloorMs.toFixed(0)} ms here (median); every unimachine CLI and v86 run pays it.`,
    '',
    body,
    '',
    ...machineSpeed(f),
    ...(notes.list.length ? ['## Failures', '', ...notes.list.map((n, i) => `${i + 1}. ${n}`), ''] : []),
    '## How each emulator was run',
    '',
    ...f.emulators.map((e) => `- **${e.id}**: \`${e.describe}\``),
    '',
    ...(notApplicable.size ? ['## Not applicable', '', ...[...notApplicable].map(([k, guests]) => `- ${k}: ${guests.join(', ')}`), ''] : []),
    ...(f.missingGuests.length ? [`Not built (skipped): ${f.missingGuests.join(', ')}`, ''] : []),
    ...(f.skippedGuests.length ? [`Not benchmarked yet: ${f.skippedGuests.join(', ')}.`, ''] : []),
  ].join('\n');
}

async function nodeFloor(runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await timedRun(process.execPath, ['-e', '0'], { timeoutMs: 30_000 })).wallMs);
  return round1(median(times));
}

/**
 * Instructions retired per guest on the in-process machine, and instructions per second of the
 * whole machine (CPU + devices + clock + run loop): compare with bench:cpu's bare-CPU MIPS.
 */
function machineSpeed(f: BenchFile): string[] {
  const rows = f.guests.flatMap((row) => {
    const c = row.cells['unimachine-api'];
    const ins = c?.runs[0]?.instructions;
    if (c?.state !== 'ok' || ins === undefined) return [];
    const build = median(c.runs.map((r) => r.buildMs ?? NaN));
    const run = median(c.runs.map((r) => r.wallMs - (r.buildMs ?? NaN)));
    return [`| ${row.guest} | ${ins} | ${fmt(build, 1)} | ${fmt(run, 1)} | ${fmt(ins / run / 1e3, 2)} |`];
  });
  if (rows.length === 0) return [];
  return [
    '## Whole-machine speed (unimachine-api)',
    '',
    'In-process runs split into building the machine (`createMachine`: YAML, schemas, devices, kernel load) and running it; MIPS = instructions retired / run time: the whole machine (CPU, devices, virtual clock, run loop, event-loop turns), to compare with the bare CPU of `bench:cpu`. Guests that halt waiting for a timer (time) skip ahead in deterministic mode, and short guests are dominated by fixed costs, so only long-running guests give a meaningful MIPS.',
    '',
    '| guest | instructions | median build ms | median run ms | MIPS |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
  ];
}

function versions(): Record<string, string> {
  return toolVersions(QEMU, {
    v86: () => (JSON.parse(execFileSync(process.execPath, ['-p', 'JSON.stringify(require("v86/package.json").version)'], { cwd: ROOT, encoding: 'utf8' })) as string) ?? '?',
  });
}

function buildGuests(): void {
  try {
    execFileSync('make', ['-s', '-C', join(ROOT, 'guest')], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    log('warning: `make -C guest` failed; benchmarking the guest kernels already built');
  }
}

function rel(p: string): string {
  return p.startsWith(ROOT + '/') ? p.slice(ROOT.length + 1) : p;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}


await main();
