/**
 * bench:cpu: instructions per second of our CPU (interpreter, and with the WebAssembly tier) on a
 * fixed guest workload, side by side with QEMU TCG and v86.
 *
 *   node bench/lib/run-bundled.mjs bench/cpu/run.ts [--rounds 10] [--runs 5]   (npm run bench:cpu)
 *        [--variants 32,64,64sse] [--skip-kernels] [--skip-qemu] [--skip-peers] [--profile] [--strict]
 *        [--peer-pairs 3] [--qemu-rounds 20,200] [--v86-rounds 20,150]
 *        [--skip-jit] [--jit-rounds 20,200] [--jit-threshold 50]
 *
 * Builds bench/build (make), computes the reference output natively, checks it against
 * QEMU running the same kernels, then runs each kernel on the bare CPU (see
 * lib/direct-cpu.ts), each variant in a process of its own: two warm-up runs, then --runs timed
 * runs. Writes results/cpu.json (latest run + history) and results/cpu.md. --profile also records a V8 CPU profile of the
 * timed runs (results/profiles/<variant>.cpuprofile) and prints the top functions by self time.
 * Then the same images run on QEMU TCG (every variant) and v86 (32-bit) at two sizes, n=small and
 * n=large, so their start-up cancels out (lib/peer-speed.ts); their instruction counts are our
 * interpreter's for the same image. The WebAssembly tier (compiling a block after --jit-threshold
 * runs) is timed the same way, in process: pairs of runs at the two --jit-rounds sizes, so compiling
 * and V8's tier-up drop out; the long run's own figure, all costs in, is reported beside it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBenchKernels } from '../lib/build.js';
import type { DirectRunResult, runDirect as RunDirect } from '../lib/direct-cpu.js';
import { nativeOutput } from '../lib/native.js';
import { Profiler } from '../lib/profile.js';
import { CPU32_ELF, CPU64_ELF, CPU64SSE_ELF, RESULTS_DIR } from '../lib/paths.js';
import { commitLabel, describeHost, provenance, type Provenance } from '../lib/provenance.js';
import { measurePeer, type PeerSpeed } from '../lib/peer-speed.js';
import { QEMU, qemuArgs, runQemu } from '../lib/qemu.js';
import { ROOT } from '../lib/paths.js';
import { fmt, log, max, median, positiveInt } from '../lib/stats.js';

let runDirect: typeof RunDirect;

const KERNELS = ['crc32', 'sort', 'sieve', 'memcpy', 'div'];
const WARM_UP_RUNS = 2;
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
  minCpuMips?: number;
  maxCpuMips?: number;
  /** Instructions one round of the workload retires on our interpreter: (count(n=rounds) - count(n=0)) / rounds. */
  instructionsPerRound?: number;
  /** QEMU TCG on the same image, start-up subtracted (undefined: not measured). */
  qemuSpeed?: PeerSpeed;
  /** v86 on the same image (32-bit only). */
  v86Speed?: PeerSpeed;
  /** Our CPU with the WebAssembly tier on, on a longer run (undefined: not measured). */
  jit?: JitResult;
  kernels: KernelFigure[];
}

interface JitOptions {
  /** Rounds of the short and the long run of each pair (their difference is timed). */
  small: number;
  large: number;
  threshold: number;
  runs: number;
}

interface JitResult {
  small: number;
  large: number;
  threshold: number;
  ok: boolean;
  reason?: string;
  /** Steady-state MIPS per CPU second of each pair: (large − small) instructions / (large − small) CPU seconds. */
  steady: number[];
  /** The long runs on their own (compiling and V8's warm-up included). */
  runs: RunFigure[];
  medianCpuMips?: number;
  minCpuMips?: number;
  maxCpuMips?: number;
  medianMips?: number;
  /** The long runs' own median MIPS per CPU second. */
  wholeCpuMips?: number;
  /** Regions compiled and the host milliseconds compiling took (the median long run's). */
  compiled?: number;
  compileMs?: number;
}

/**
 * The same image with the WebAssembly tier on (packages/cpu-x86/src/jit), measured as QEMU and v86
 * are: pairs of a short and a long run (fresh CPU and memory each, the output checked against the
 * native build's), timed by their difference, so compiling and V8's tier-up drop out as QEMU's
 * translation and start-up do; the long runs' own figure (all costs in) is reported beside it.
 */
function benchJit(key: VariantKey, o: JitOptions): JitResult {
  const v = VARIANTS[key];
  const result: JitResult = { small: o.small, large: o.large, threshold: o.threshold, ok: false, steady: [], runs: [] };
  const stats: { compiled: number; compileMs: number }[] = [];
  const once = (rounds: number): ReturnType<typeof runDirect> | undefined => {
    const append = `n=${rounds}`;
    const r = runDirect(v.elf, { append, maxInstructions: 100_000_000 * rounds, jit: { threshold: o.threshold } });
    const problem = problemOf(r, nativeOutput(append));
    if (!problem) return r;
    result.reason = problem;
    log(`${v.name} + WebAssembly tier: failed: ${problem}`);
    return undefined;
  };
  for (let i = 0; i <= o.runs; i++) {
    const a = once(o.small);
    const b = a && once(o.large);
    if (!a || !b) return result;
    if (i === 0) continue; // warm-up
    const fa = figure(a), fb = figure(b);
    const steady = (fb.instructions - fa.instructions) / (fb.cpuSeconds - fa.cpuSeconds) / 1e6;
    result.steady.push(steady);
    result.runs.push(fb);
    stats.push({ compiled: b.jit?.compiled ?? 0, compileMs: b.jit?.compileMs ?? 0 });
    log(`${v.name} + WebAssembly tier: pair ${i}/${o.runs}: ${steady.toFixed(0)} MIPS per CPU second (n=${o.small} → n=${o.large}); the n=${o.large} run alone ${fb.cpuMips.toFixed(0)}, ${b.jit?.compiled} regions compiled in ${b.jit?.compileMs.toFixed(0)} ms`);
  }
  result.ok = true;
  result.medianCpuMips = median(result.steady);
  result.minCpuMips = Math.min(...result.steady);
  result.maxCpuMips = max(result.steady);
  result.medianMips = median(result.runs.map((r) => r.mips));
  result.wholeCpuMips = median(result.runs.map((r) => r.cpuMips));
  const mid = stats.map((s, i) => ({ s, m: result.steady[i] })).sort((x, y) => x.m - y.m)[Math.floor(stats.length / 2)].s;
  result.compiled = mid.compiled;
  result.compileMs = Math.round(mid.compileMs);
  return result;
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
  /** Median MIPS per CPU second of QEMU TCG and v86 per variant (start-up subtracted); null when failed. */
  qemuCpuMips?: Partial<Record<VariantKey, number | null>>;
  v86CpuMips?: Partial<Record<VariantKey, number | null>>;
  /** Median MIPS per CPU second with the WebAssembly tier on. */
  jitCpuMips?: Partial<Record<VariantKey, number | null>>;
}

interface CpuBenchFile {
  latest: CpuBenchRecord;
  history: HistoryEntry[];
}

const METHOD =
  'bare CPU: X86Cpu + GuestMemory (128 MiB) + PortBus with a transmit-only COM1 and isa-debug-exit; ' +
  'no machine, devices, clock or event-loop turns; cpu.run() in slices of 1M instructions; ' +
  "each variant's interpreter runs in a Node process of its own; each run builds fresh memory and CPU (cold decode cache), after two warm-up runs in that process";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      // 10 rounds: about 80M instructions and 1.3 s a run, so the interpreter's runs after the warm-up one
      // measure its steady state (at 2 rounds, V8 was still re-optimising in the first timed runs).
      rounds: { type: 'string', default: '10' },
      runs: { type: 'string', default: '5' },
      variants: { type: 'string', default: Object.keys(VARIANTS).join(',') },
      'skip-kernels': { type: 'boolean', default: false },
      'skip-qemu': { type: 'boolean', default: false },
      'skip-peers': { type: 'boolean', default: false },
      'peer-pairs': { type: 'string', default: '3' },
      'qemu-rounds': { type: 'string', default: '20,200' },
      'v86-rounds': { type: 'string', default: '20,150' },
      profile: { type: 'boolean', default: false },
      'skip-jit': { type: 'boolean', default: false },
      'jit-rounds': { type: 'string', default: '20,200' },
      'jit-threshold': { type: 'string', default: '50' },
      strict: { type: 'boolean', default: false },
      // Internal: run one variant's interpreter runs and print them as JSON (see interpreterInChild).
      'interp-child': { type: 'string' },
    },
  });
  const rounds = positiveInt(values.rounds, 'rounds');
  const runs = positiveInt(values.runs, 'runs');
  const variants = values.variants.split(',').map((v) => {
    if (!(v in VARIANTS)) throw new Error(`unknown variant ${v}; known: ${Object.keys(VARIANTS).join(', ')}`);
    return v as VariantKey;
  });

  const child = values['interp-child'];
  if (child !== undefined) return interpreterChild(child, rounds, runs, !values['skip-kernels'], values.profile);

  const started = provenance(); // before the runs: the load average of interest is the one they start under
  buildBenchKernels();
  const append = `n=${rounds}`;
  const expected = nativeOutput(append);
  const referenceChecksum = /^checksum ([0-9a-f]{8})$/m.exec(expected)?.[1] ?? '?';
  log(`reference (native build): checksum ${referenceChecksum} for ${append}`);
  const loadProblem = await loadCpu();
  const peers: PeerOptions | undefined = values['skip-peers']
    ? undefined
    : {
        pairs: positiveInt(values['peer-pairs'], 'peer-pairs'),
        qemu: values['skip-qemu'] ? undefined : roundPair(values['qemu-rounds'], 'qemu-rounds'),
        v86: roundPair(values['v86-rounds'], 'v86-rounds'),
      };
  const results: VariantResult[] = [];
  const jit: JitOptions | undefined = values['skip-jit']
    ? undefined
    : { ...jitRounds(values['jit-rounds']), threshold: Number(values['jit-threshold']), runs };
  for (const key of variants) {
    const result = await benchVariant(key, rounds, runs, expected, !values['skip-qemu'], !values['skip-kernels'], loadProblem, values.profile);
    if (jit && result.ok) result.jit = benchJit(key, jit);
    results.push(result);
  }
  // The other emulators after all interpreter runs, so their child processes never share the host with them.
  if (peers) for (const r of results) await benchPeers(r, peers);

  const record: CpuBenchRecord = { provenance: started, method: METHOD, cpuBuild: cpuBuild(), rounds, runsPerVariant: runs, referenceChecksum, variants: results };
  save(record);
  log(`\n${latestTable(record)}`);
  // A variant the CPU cannot run yet is a result (in the table), not an error, unless --strict.
  if (values.strict && results.some((r) => !r.ok)) process.exitCode = 1;
}

/**
 * Load the CPU (dynamically, so a CPU package that does not load yet still gives a results file:
 * every variant failed, with the reason, beside the QEMU/native checks). Returns the problem, if any.
 */
async function loadCpu(): Promise<string | undefined> {
  try {
    runDirect = (await import('../lib/direct-cpu.js')).runDirect;
    return undefined;
  } catch (e) {
    const problem = `cannot load the CPU: ${String((e as Error).message).split('\n')[0]}`;
    log(problem);
    return problem;
  }
}

/** --interp-child: one variant's interpreter runs (interpreterRuns), printed as JSON for interpreterInChild. */
async function interpreterChild(key: string, rounds: number, runs: number, withKernels: boolean, profile: boolean): Promise<void> {
  if (!(key in VARIANTS)) throw new Error(`unknown variant ${key}`);
  const expected = nativeOutput(`n=${rounds}`);
  const loadProblem = await loadCpu();
  const figures: InterpreterFigures = loadProblem
    ? { runs: [], kernels: [], reason: loadProblem }
    : await interpreterRuns(key as VariantKey, rounds, runs, expected, withKernels, profile);
  process.stdout.write(JSON.stringify(figures));
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

  const figures = interpreterInChild(key, rounds, runs, withKernels, profile);
  result.runs = figures.runs;
  result.kernels = figures.kernels;
  if (figures.reason !== undefined) {
    result.reason = figures.reason;
    return result;
  }
  result.ok = true;
  result.instructions = result.runs[0]!.instructions;
  result.deterministic = result.runs.every((r) => r.instructions === result.instructions);
  result.medianSeconds = median(result.runs.map((r) => r.seconds));
  result.medianMips = median(result.runs.map((r) => r.mips));
  result.medianCpuMips = median(result.runs.map((r) => r.cpuMips));
  result.bestMips = max(result.runs.map((r) => r.mips));
  result.minCpuMips = Math.min(...result.runs.map((r) => r.cpuMips));
  result.maxCpuMips = max(result.runs.map((r) => r.cpuMips));
  // Per round, for the other emulators' figures: the count at n=0 is boot and exit alone.
  if (figures.bootInstructions !== undefined) result.instructionsPerRound = (result.instructions - figures.bootInstructions) / rounds;
  return result;
}

/** What one variant's interpreter runs gave (interpreterRuns), as the child process reports it. */
interface InterpreterFigures {
  runs: RunFigure[];
  kernels: KernelFigure[];
  /** Instructions of a run at n=0 (boot and exit alone), when it exited. */
  bootInstructions?: number;
  /** Why the variant failed (a run's problem), if it did. */
  reason?: string;
}

/**
 * A variant's interpreter runs in a Node process of their own (this script again, --interp-child):
 * V8 optimises the run loop for the guest code it has seen, and a process that ran another variant
 * first starts this one with that code and its deoptimisations. A user's process runs one guest.
 */
function interpreterInChild(key: VariantKey, rounds: number, runs: number, withKernels: boolean, profile: boolean): InterpreterFigures {
  const args = [...process.execArgv, process.argv[1]!, '--interp-child', key, '--rounds', String(rounds), '--runs', String(runs)];
  if (!withKernels) args.push('--skip-kernels');
  if (profile) args.push('--profile');
  const child = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) return { runs: [], kernels: [], reason: `the interpreter's process failed (status ${child.status ?? child.signal})` };
  return JSON.parse(child.stdout) as InterpreterFigures;
}

/** WARM_UP_RUNS untimed runs, then `runs` timed runs, the n=0 run and (withKernels) one run per workload kernel. */
async function interpreterRuns(key: VariantKey, rounds: number, runs: number, expected: string, withKernels: boolean, profile: boolean): Promise<InterpreterFigures> {
  const v = VARIANTS[key];
  const append = `n=${rounds}`;
  const out: InterpreterFigures = { runs: [], kernels: [] };
  // A run that retires far more instructions than the workload has (about 8 million per
  // round) is a guest gone astray: stop it rather than wait.
  const maxInstructions = 100_000_000 * rounds;
  const run = (a: string) => runDirect(v.elf, { append: a, maxInstructions, jit: false });

  // Warm-up: let V8 compile the interpreter's hot paths before anything is timed. In a fresh process
  // V8 still re-optimises the run loop during the second run (a 64-bit run's figures, one process:
  // 53, 64, 73, 77, 73, 79, 77 MIPS per CPU second), so two runs.
  for (let w = 0; w < WARM_UP_RUNS; w++) {
    const warmProblem = problemOf(run(append), expected);
    if (warmProblem) {
      out.reason = warmProblem;
      log(`${v.name}: unsupported/failed: ${warmProblem}`);
      return out;
    }
  }

  // Profiling slows the interpreter a little; the figures of a profiled run say so in the log only.
  const profiler = profile ? new Profiler() : undefined;
  await profiler?.start();
  for (let i = 0; i < runs; i++) {
    const r = run(append);
    const problem = problemOf(r, expected);
    if (problem) {
      out.reason = `run ${i + 1}: ${problem}`;
      log(`${v.name}: failed: ${out.reason}`);
      return out;
    }
    const fig = figure(r);
    out.runs.push(fig);
    log(`${v.name}: run ${i + 1}/${runs}: ${fig.instructions} instructions in ${fig.seconds.toFixed(3)} s = ${fig.mips.toFixed(2)} MIPS (${fig.cpuMips.toFixed(2)} per CPU second)`);
  }
  if (profiler) {
    const dir = join(RESULTS_DIR, 'profiles');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${v.name}.cpuprofile`);
    log(`${v.name}: top functions by self time (profile in ${file}):\n${await profiler.stop(file)}`);
  }
  const boot = run('n=0');
  if (boot.end === 'exit') out.bootInstructions = boot.instructions;

  if (withKernels) {
    for (const kernel of KERNELS) {
      const kAppend = `n=${rounds} ${kernel}`;
      const r = run(kAppend);
      const problem = problemOf(r, nativeOutput(kAppend));
      out.kernels.push({ kernel, ...figure(r), ok: !problem, reason: problem });
      log(`${v.name}: kernel ${kernel}: ${problem ?? `${figure(r).mips.toFixed(2)} MIPS`}`);
    }
  }
  return out;
}

interface PeerOptions {
  pairs: number;
  /** [n small, n large] for QEMU; undefined: QEMU skipped. */
  qemu?: [number, number];
  v86: [number, number];
}

const V86_SCRIPT = join(ROOT, 'bench/lib/v86-run.mjs');

/** QEMU TCG (every variant) and v86 (32-bit) on the same image, start-up subtracted (lib/peer-speed.ts). */
async function benchPeers(result: VariantResult, o: PeerOptions): Promise<void> {
  const v = VARIANTS[result.variant];
  const perRound = result.instructionsPerRound;
  if (perRound === undefined) {
    log(`${v.name}: QEMU/v86 speed not measured: no instruction count from our interpreter`);
    return;
  }
  const common = { pairs: o.pairs, instructionsPerRound: perRound, expected: nativeOutput, timeoutMs: 120_000 };
  const show = (who: string, s: PeerSpeed) =>
    log(s.ok ? `${v.name}: ${who}: ${fmt(s.medianCpuMips, 0)} MIPS per CPU s (${fmt(s.minCpuMips, 0)}-${fmt(s.maxCpuMips, 0)}), ${fmt(s.medianMips, 0)} by the wall clock` : `${v.name}: ${who}: failed: ${s.reason}`);
  if (o.qemu) {
    result.qemuSpeed = await measurePeer({ ...common, nSmall: o.qemu[0], nLarge: o.qemu[1], cmd: { command: QEMU, args: (a) => qemuArgs(v.elf, a) } });
    show('QEMU', result.qemuSpeed);
  }
  if (result.variant === '32') {
    result.v86Speed = await measurePeer({ ...common, nSmall: o.v86[0], nLarge: o.v86[1], cmd: { command: process.execPath, args: (a) => [V86_SCRIPT, v.elf, a, '120000'], cwd: ROOT } });
    show('v86', result.v86Speed);
  }
}

/** `--qemu-rounds 20,200`: n small and n large. */
function jitRounds(s: string): { small: number; large: number } {
  const [small, large] = roundPair(s, 'jit-rounds');
  return { small, large };
}

function roundPair(s: string, name: string): [number, number] {
  const [a, b] = s.split(',').map((x) => positiveInt(x, name));
  if (a === undefined || b === undefined || b <= a) throw new Error(`--${name} must be two round counts, small,large (small < large), got ${s}`);
  return [a, b];
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
  const qemuCpuMips: NonNullable<HistoryEntry['qemuCpuMips']> = {};
  const v86CpuMips: NonNullable<HistoryEntry['v86CpuMips']> = {};
  const jitCpuMips: NonNullable<HistoryEntry['jitCpuMips']> = {};
  const peer = (s: PeerSpeed | undefined) => (s === undefined ? undefined : s.ok ? Math.round(s.medianCpuMips!) : null);
  for (const v of record.variants) {
    mips[v.variant] = v.ok ? round2(v.medianMips!) : null;
    cpuMips[v.variant] = v.ok ? round2(v.medianCpuMips!) : null;
    if (v.qemuSpeed) qemuCpuMips[v.variant] = peer(v.qemuSpeed);
    if (v.v86Speed) v86CpuMips[v.variant] = peer(v.v86Speed);
    if (v.jit) jitCpuMips[v.variant] = v.jit.ok ? Math.round(v.jit.medianCpuMips!) : null;
  }
  history.push({ commit: commitLabel(record.provenance), date: record.provenance.date, rounds: record.rounds, mips, cpuMips, qemuCpuMips, v86CpuMips, jitCpuMips });
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

/** Unimachine, QEMU and v86 on the same images: MIPS per CPU second, median (min-max). */
function sideBySideTable(r: CpuBenchRecord): string {
  const range = (med?: number, lo?: number, hi?: number) => (med === undefined ? '-' : `${fmt(med, med < 100 ? 1 : 0)} (${fmt(lo, med < 100 ? 1 : 0)}–${fmt(hi, med < 100 ? 1 : 0)})`);
  const peer = (s: PeerSpeed | undefined, what: 'cpu' | 'wall') => {
    if (!s) return 'not run';
    if (!s.ok) return `failed: ${cell(s.reason ?? '')}`;
    return what === 'cpu' ? range(s.medianCpuMips, s.minCpuMips, s.maxCpuMips) : range(s.medianMips, s.minMips, s.maxMips);
  };
  const sizes = (s: PeerSpeed | undefined) => (s ? `n=${s.nSmall} / n=${s.nLarge}` : '-');
  const lines = [
    '| guest | instructions per round (our count) | Unimachine per CPU s | Unimachine + WebAssembly tier per CPU s | QEMU TCG per CPU s | QEMU by wall clock | QEMU sizes | v86 per CPU s | v86 by wall clock | v86 sizes |',
    '|---|---:|---:|---:|---:|---:|---|---:|---:|---|',
  ];
  for (const v of r.variants) {
    const um = v.ok ? range(v.medianCpuMips, v.minCpuMips, v.maxCpuMips) : 'failed';
    const j = v.jit;
    const tier = !j ? 'not run' : !j.ok ? `failed: ${cell(j.reason ?? '')}` : `${range(j.medianCpuMips, j.minCpuMips, j.maxCpuMips)} (n=${j.small} / n=${j.large}; the n=${j.large} run alone ${fmt(j.wholeCpuMips ?? 0, 0)}; threshold ${j.threshold}, ${j.compiled} regions in ${j.compileMs} ms)`;
    const v86 = v.variant === '32' ? [peer(v.v86Speed, 'cpu'), peer(v.v86Speed, 'wall'), sizes(v.v86Speed)] : ['n/a (32-bit only)', '-', '-'];
    lines.push(
      `| ${v.name} | ${v.instructionsPerRound === undefined ? '-' : Math.round(v.instructionsPerRound)} | ${um} | ${tier} | ${peer(v.qemuSpeed, 'cpu')} | ${peer(v.qemuSpeed, 'wall')} | ${sizes(v.qemuSpeed)} | ${v86.join(' | ')} |`,
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
    `| date (UTC) | commit | rounds | ${variantKeys.map((k) => `${VARIANTS[k].name} MIPS | per CPU s`).join(' | ')} | WebAssembly tier per CPU s (${variantKeys.join('/')}) | QEMU per CPU s (${variantKeys.join('/')}) | v86 per CPU s (32) |`,
    `|---|---|---:|${variantKeys.map(() => '---:|---:').join('|')}|---:|---:|---:|`,
    ...[...f.history]
      .reverse()
      .map(
        (h) =>
          `| ${h.date.slice(0, 16).replace('T', ' ')} | ${h.commit} | ${h.rounds} | ${variantKeys.map((k) => `${show(h.mips[k])} | ${show(h.cpuMips?.[k])}`).join(' | ')} | ${h.jitCpuMips ? variantKeys.map((k) => show(h.jitCpuMips?.[k])).join(' / ') : '-'} | ${h.qemuCpuMips ? variantKeys.map((k) => show(h.qemuCpuMips?.[k])).join(' / ') : '-'} | ${show(h.v86CpuMips?.['32'])} |`,
      ),
  ];
  return [
    '# bench:cpu: CPU speed (interpreter, WebAssembly tier, QEMU TCG, v86)',
    '',
    `Latest: commit ${commitLabel(p)}, ${p.date}, ${describeHost(p)}.`,
    `Workload: bench/cpu (crc32, sort, sieve, memcpy, div), \`n=${r.rounds}\`, reference checksum ${r.referenceChecksum} (native build).`,
    `CPU build: ${r.cpuBuild}.`,
    `Method: ${r.method}. ${r.runsPerVariant} timed runs per variant after two warm-up runs; MIPS = instructions retired / host seconds / 10^6.`,
    '',
    latestTable(r),
    '',
    '## Side by side: Unimachine, QEMU 7.2 TCG, v86 (same images)',
    '',
    'MIPS per host CPU second, median (min–max) over the runs. Unimachine: the timed runs above (warm process, no start-up in the figure). ' +
      'QEMU and v86 do not count instructions, so their figures use our interpreter\'s count for the same image (the same guest code; ' +
      'a REP string instruction counts once per chunk of iterations, as our interpreter retires it): instructions per round = ' +
      '(count(n=rounds) − count(n=0)) / rounds (rounds differ by about 0.3 % in count, data-dependent: the figures are good to that). ' +
      'Each pair is one run at n=small and one at n=large as whole processes (`' + QEMU + ' ' + qemuArgs('ELF', 'n=N').join(' ') + '`; v86: `node bench/lib/v86-run.mjs ELF n=N`); ' +
      'MIPS = (large − small) × instructions per round / (time(large) − time(small)), so boot, BIOS, process start-up and the JIT warm-up of the first rounds drop out. ' +
      'CPU time is the child\'s user + system time of all its threads (from /proc/self/stat cutime/cstime, 10 ms ticks). ' +
      'v86 runs the 32-bit image only.',
    '',
    sideBySideTable(r),
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

declare const BENCH_BUNDLED: boolean | undefined;

/** How the CPU under test was built and loaded (npm run bench:cpu bundles it: lib/run-bundled.mjs). */
function cpuBuild(): string {
  if (typeof BENCH_BUNDLED !== 'undefined') return 'src bundled by esbuild (lib/run-bundled.mjs), plain Node without loader hooks';
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
