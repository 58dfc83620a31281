/**
 * bench:cpu: instructions per second of the interpreter on a fixed guest workload.
 *
 *   node --conditions=source --import tsx bench/cpu/run.ts [--rounds 2] [--runs 3]
 *        [--variants 32,64,64sse] [--skip-kernels] [--skip-qemu] [--profile] [--strict]
 *
 * Builds bench/build (make), computes the reference output natively, checks it against
 * QEMU running the same kernels, then runs each kernel on the bare CPU (see
 * lib/direct-cpu.ts): one warm-up, then --runs timed runs. Writes results/cpu.json
 * (latest run + history) and results/cpu.md. --profile also records a V8 CPU profile of the
 * timed runs (results/profiles/<variant>.cpuprofile) and prints the top functions by self time.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBenchKernels } from '../lib/build.js';
import type { DirectRunResult, runDirect as RunDirect } from '../lib/direct-cpu.js';
import { nativeOutput } from '../lib/native.js';
import { Profiler } from '../lib/profile.js';
import { CPU32_ELF, CPU64_ELF, CPU64SSE_ELF, RESULTS_DIR } from '../lib/paths.js';
import { commitLabel, describeHost, provenance, type Provenance } from '../lib/provenance.js';
import { runQemu } from '../lib/qemu.js';
import { fmt, log, max, median, positiveInt } from '../lib/stats.js';

let runDirect: typeof RunDirect;

const KERNELS = ['crc32', 'sort', 'sieve', 'memcpy', 'div'];
const HISTORY_LIMIT = 200;

const VARIANTS = {
  '32': { name: 'bench-cpu32', elf: CPU32_ELF, mode: '32-bit protected mode, multiboot entry' },
  '64': { name: 'bench-cpu64', elf: CPU64_ELF, mode: '64-bit long mode (own stub: PAE, 2 MiB pages)' },
  '64sse': { name: 'bench-cpu64sse', elf: CPU64SSE_ELF, mode: '64-bit long mode, gcc free to use SSE2 (vectorised loops)' },
} as const;
type VariantKey = keyof typeof VARIANTS;

interface RunFigure {
  instructions: number;
  /** Host wall-clock seconds. */
  seconds: number;
  /** Host CPU seconds of the benchmark process (user + system). */
  cpuSeconds: number;
  /** Instructions / wall seconds / 1e6. */
  mips: number;
  /** Instructions / CPU seconds / 1e6: steadier when other work shares the host. */
  cpuMips: number;
}

interface KernelFigure extends RunFigure {
  kernel: string;
  ok: boolean;
  reason?: string;
}

interface VariantResult {
  variant: VariantKey;
  name: string;
  mode: string;
  ok: boolean;
  /** Why the variant failed: the CPU died, wrong output, ... */
  reason?: string;
  qemu: string;
  runs: RunFigure[];
  instructions?: number;
  /** All timed runs retired the same number of instructions. */
  deterministic?: boolean;
  medianSeconds?: number;
  medianMips?: number;
  medianCpuMips?: number;
  bestMips?: number;
  kernels: KernelFigure[];
}

interface CpuBenchRecord {
  provenance: Provenance;
  method: string;
  /** Which build of the CPU ran: its TypeScript sources through tsx, or tsc's dist/. */
  cpuBuild: string;
  rounds: number;
  runsPerVariant: number;
  referenceChecksum: string;
  variants: VariantResult[];
}

interface HistoryEntry {
  commit: string;
  date: string;
  rounds: number;
  /** Median MIPS (wall clock) per variant; null when the variant failed. */
  mips: Partial<Record<VariantKey, number | null>>;
  /** Median MIPS per host CPU second per variant. */
  cpuMips?: Partial<Record<VariantKey, number | null>>;
}

interface CpuBenchFile {
  latest: CpuBenchRecord;
  history: HistoryEntry[];
}

const METHOD =
  'bare CPU: X86Cpu + GuestMemory (128 MiB) + PortBus with a transmit-only COM1 and isa-debug-exit; ' +
  'no machine, devices, clock or event-loop turns; cpu.run() in slices of 1M instructions; ' +
  'each run builds fresh memory and CPU (cold decode cache) in a warmed-up process';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '2' },
      runs: { type: 'string', default: '3' },
      variants: { type: 'string', default: Object.keys(VARIANTS).join(',') },
      'skip-kernels': { type: 'boolean', default: false },
      'skip-qemu': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
    },
  });
  const rounds = positiveInt(values.rounds, 'rounds');
  const runs = positiveInt(values.runs, 'runs');
  const variants = values.variants.split(',').map((v) => {
    if (!(v in VARIANTS)) throw new Error(`unknown variant ${v}; known: ${Object.keys(VARIANTS).join(', ')}`);
    return v as VariantKey;
  });

  const started = provenance(); // before the runs: the load average of interest is the one they start under
  buildBenchKernels();
  const append = `n=${rounds}`;
  const expected = nativeOutput(append);
  const referenceChecksum = /^checksum ([0-9a-f]{8})$/m.exec(expected)?.[1] ?? '?';
  log(`reference (native build): checksum ${referenceChecksum} for ${append}`);

  // The CPU is loaded dynamically so a CPU package that does not load yet still gives a
  // results file (every variant failed, with the reason) and the QEMU/native checks.
  let loadProblem: string | undefined;
  try {
    runDirect = (await import('../lib/direct-cpu.js')).runDirect;
  } catch (e) {
    loadProblem = `cannot load the CPU: ${String((e as Error).message).split('\n')[0]}`;
    log(loadProblem);
  }
  const results: VariantResult[] = [];
  for (const key of variants) results.push(await benchVariant(key, rounds, runs, expected, !values['skip-qemu'], !values['skip-kernels'], loadProblem, values.profile));

  const record: CpuBenchRecord = { provenance: started, method: METHOD, cpuBuild: cpuBuild(), rounds, runsPerVariant: runs, referenceChecksum, variants: results };
  save(record);
  log(`\n${latestTable(record)}`);
  // A variant the CPU cannot run yet is a result (in the table), not an error, unless --strict.
  if (values.strict && results.some((r) => !r.ok)) process.exitCode = 1;
}

async function benchVariant(
  key: VariantKey,
  rounds: number,
  runs: number,
  expected: string,
  withQemu: boolean,
  withKernels: boolean,
  loadProblem: string | undefined,
  profile: boolean,
): Promise<VariantResult> {
  const v = VARIANTS[key];
  const result: VariantResult = { variant: key, name: v.name, mode: v.mode, ok: false, qemu: 'skipped', runs: [], kernels: [] };
  const append = `n=${rounds}`;

  if (withQemu) result.qemu = await qemuAgrees(v.elf, append, expected);
  log(`${v.name}: QEMU ${result.qemu}`);
  if (loadProblem) {
    result.reason = loadProblem;
    return result;
  }

  // A run that retires far more instructions than the workload has (about 8 million per
  // round) is a guest gone astray: stop it rather than wait.
  const maxInstructions = 100_000_000 * rounds;
  const run = (a: string) => runDirect(v.elf, { append: a, maxInstructions });

  // Warm-up: let V8 compile the interpreter's hot paths before anything is timed.
  const warm = run(append);
  const warmProblem = problemOf(warm, expected);
  if (warmProblem) {
    result.reason = warmProblem;
    log(`${v.name}: unsupported/failed: ${warmProblem}`);
    return result;
  }

  // Profiling slows the interpreter a little; the figures of a profiled run say so in the log only.
  const profiler = profile ? new Profiler() : undefined;
  await profiler?.start();
  for (let i = 0; i < runs; i++) {
    const r = run(append);
    const problem = problemOf(r, expected);
    if (problem) {
      result.reason = `run ${i + 1}: ${problem}`;
      log(`${v.name}: failed: ${result.reason}`);
      return result;
    }
    const fig = figure(r);
    result.runs.push(fig);
    log(`${v.name}: run ${i + 1}/${runs}: ${fig.instructions} instructions in ${fig.seconds.toFixed(3)} s = ${fig.mips.toFixed(2)} MIPS (${fig.cpuMips.toFixed(2)} per CPU second)`);
  }
  if (profiler) {
    const dir = join(RESULTS_DIR, 'profiles');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${v.name}.cpuprofile`);
    log(`${v.name}: top functions by self time (profile in ${file}):\n${await profiler.stop(file)}`);
  }
  result.ok = true;
  result.instructions = result.runs[0]!.instructions;
  result.deterministic = result.runs.every((r) => r.instructions === result.instructions);
  result.medianSeconds = median(result.runs.map((r) => r.seconds));
  result.medianMips = median(result.runs.map((r) => r.mips));
  result.medianCpuMips = median(result.runs.map((r) => r.cpuMips));
  result.bestMips = max(result.runs.map((r) => r.mips));

  if (withKernels) {
    for (const kernel of KERNELS) {
      const kAppend = `n=${rounds} ${kernel}`;
      const r = run(kAppend);
      const problem = problemOf(r, nativeOutput(kAppend));
      result.kernels.push({ kernel, ...figure(r), ok: !problem, reason: problem });
      log(`${v.name}: kernel ${kernel}: ${problem ?? `${figure(r).mips.toFixed(2)} MIPS`}`);
    }
  }
  return result;
}

function figure(r: DirectRunResult): RunFigure {
  return {
    instructions: r.instructions,
    seconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    mips: r.instructions / r.seconds / 1e6,
    cpuMips: r.instructions / r.cpuSeconds / 1e6,
  };
}

/** Why a run does not count, or undefined when it exited cleanly with the reference output. */
function problemOf(r: DirectRunResult, expected: string): string | undefined {
  if (r.end !== 'exit') return `${r.end}: ${r.reason ?? ''} (after ${r.instructions} instructions; output so far ${JSON.stringify(r.output.slice(-120))})`;
  if (r.status !== 1) return `exit status ${r.status}, expected 1; output ${JSON.stringify(r.output.slice(-200))}`;
  if (r.output !== expected) return `output differs from the native build: ${JSON.stringify(r.output)} vs ${JSON.stringify(expected)}`;
  return undefined;
}

async function qemuAgrees(elf: string, append: string, expected: string): Promise<string> {
  const q = await runQemu(elf, append, 120_000);
  if (q.spawnError) return `unavailable (${q.spawnError})`;
  if (q.timedOut) return 'timed out';
  if (q.status !== 1) return `exit status ${q.status} (stderr: ${q.stderr.trim().slice(0, 200)})`;
  return q.stdout === expected ? 'same output as native' : `DIFFERENT output: ${JSON.stringify(q.stdout)}`;
}

// ---------------------------------------------------------------- results files

function save(record: CpuBenchRecord): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const jsonPath = join(RESULTS_DIR, 'cpu.json');
  let history: HistoryEntry[] = [];
  if (existsSync(jsonPath)) {
    try {
      history = (JSON.parse(readFileSync(jsonPath, 'utf8')) as CpuBenchFile).history ?? [];
    } catch {
      log(`(could not read the history in ${jsonPath}; starting a new one)`);
    }
  }
  const mips: HistoryEntry['mips'] = {};
  const cpuMips: NonNullable<HistoryEntry['cpuMips']> = {};
  for (const v of record.variants) {
    mips[v.variant] = v.ok ? round2(v.medianMips!) : null;
    cpuMips[v.variant] = v.ok ? round2(v.medianCpuMips!) : null;
  }
  history.push({ commit: commitLabel(record.provenance), date: record.provenance.date, rounds: record.rounds, mips, cpuMips });
  history = history.slice(-HISTORY_LIMIT);
  const file: CpuBenchFile = { latest: record, history };
  writeFileSync(jsonPath, JSON.stringify(file, null, 2) + '\n');
  writeFileSync(join(RESULTS_DIR, 'cpu.md'), markdown(file));
  log(`wrote ${jsonPath} and cpu.md`);
}

function latestTable(r: CpuBenchRecord): string {
  const lines = [
    '| guest | mode | result | instructions | median s | median MIPS | best MIPS | median MIPS per CPU s | QEMU check |',
    '|---|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const v of r.variants) {
    const result = v.ok ? (v.deterministic ? 'ok' : 'ok (instruction count varied!)') : `unsupported/failed: ${cell(v.reason ?? '')}`;
    lines.push(
      `| ${v.name} | ${v.mode} | ${result} | ${v.instructions ?? '-'} | ${fmt(v.medianSeconds, 3)} | ${fmt(v.medianMips, 2)} | ${fmt(v.bestMips, 2)} | ${fmt(v.medianCpuMips, 2)} | ${cell(v.qemu)} |`,
    );
  }
  return lines.join('\n');
}

function kernelTable(r: CpuBenchRecord): string {
  const withKernels = r.variants.filter((v) => v.kernels.length > 0);
  if (withKernels.length === 0) return '(per-kernel runs skipped or no variant ran)';
  const lines = [
    `| kernel | ${withKernels.map((v) => `${v.name} instructions | ${v.name} MIPS | ${v.name} MIPS per CPU s`).join(' | ')} |`,
    `|---|${withKernels.map(() => '---:|---:|---:').join('|')}|`,
  ];
  for (const k of KERNELS) {
    const cells = withKernels.map((v) => {
      const f = v.kernels.find((x) => x.kernel === k);
      if (!f) return '- | - | -';
      return f.ok ? `${f.instructions} | ${f.mips.toFixed(2)} | ${f.cpuMips.toFixed(2)}` : `${f.instructions} | failed | failed`;
    });
    lines.push(`| ${k} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function markdown(f: CpuBenchFile): string {
  const r = f.latest;
  const p = r.provenance;
  const variantKeys = Object.keys(VARIANTS) as VariantKey[];
  const show = (x: number | null | undefined) => (x === undefined ? '-' : x === null ? 'failed' : String(x));
  const history = [
    `| date (UTC) | commit | rounds | ${variantKeys.map((k) => `${VARIANTS[k].name} MIPS | per CPU s`).join(' | ')} |`,
    `|---|---|---:|${variantKeys.map(() => '---:|---:').join('|')}|`,
    ...[...f.history]
      .reverse()
      .map((h) => `| ${h.date.slice(0, 16).replace('T', ' ')} | ${h.commit} | ${h.rounds} | ${variantKeys.map((k) => `${show(h.mips[k])} | ${show(h.cpuMips?.[k])}`).join(' | ')} |`),
  ];
  return [
    '# bench:cpu: interpreter speed',
    '',
    `Latest: commit ${commitLabel(p)}, ${p.date}, ${describeHost(p)}.`,
    `Workload: bench/cpu (crc32, sort, sieve, memcpy, div), \`n=${r.rounds}\`, reference checksum ${r.referenceChecksum} (native build).`,
    `CPU build: ${r.cpuBuild}.`,
    `Method: ${r.method}. ${r.runsPerVariant} timed runs per variant after one warm-up run; MIPS = instructions retired / host seconds / 10^6.`,
    '',
    latestTable(r),
    '',
    '## Per workload kernel (one run each, same rounds; indicative)',
    '',
    kernelTable(r),
    '',
    '## History (median MIPS, newest first)',
    '',
    ...history,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- helpers

/** 'src' under --conditions=source (tsx compiles the TypeScript), 'dist' otherwise (tsc output). */
function cpuBuild(): string {
  const url = import.meta.resolve('@unimachine/cpu-x86');
  return url.includes('/src/') ? 'src (TypeScript through tsx, --conditions=source)' : url.includes('/dist/') ? 'dist (tsc output)' : url;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 300);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}


await main();
