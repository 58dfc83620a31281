/**
 * bench:start: how long a whole `unimachine run` process takes, from spawn to exit, beside
 * QEMU running the same kernel, with Unimachine's time split into phases.
 *
 *   node --import tsx bench/start.ts [--runs 7] [--only minimal,hello,time]
 *        [--variants cli,cli-modules,qemu] [--flags-variant=--some-v8-flag]... [--cli-from DIR]...
 *
 * Guests (64-bit):
 *   minimal  bench-cpu64 with n=0: multiboot -> long mode, prints a header and exits (no timer work)
 *   hello    guest/build/hello.elf: our base, which calibrates its TSC against the PIT for 100 ms of
 *            guest time (polling latched counts, as Solo5 does), then prints and exits
 *   time     guest/build/time.elf: the same calibration, then three 1 s sleeps (QEMU sleeps in real time)
 * Variants:
 *   cli          node packages/machine/dist/cli.cjs run machines/solo5-virtio.yaml --kernel ELF --append ARGS
 *                (the installed path: one bundled file with a V8 code cache)
 *   cli-modules  the same with UNIMACHINE_NO_BUNDLE=1 (the separate ES modules)
 *   qemu         qemu-system-x86_64 (DESIGN §10 command line) -kernel ELF -append ARGS
 *   flags:<F>    `node F dist/cli.cjs ...` (--flags-variant F): start-up experiments with V8/Node flags
 *   from:<DIR>   (--cli-from DIR) another installed CLI: DIR holds its dist/ (cli.js, the bundle and its
 *                manifest), e.g. one staged from an earlier commit, for a before/after in one run
 *   snapshot     node --snapshot-blob dist/unimachine.snapshot.blob ... (when that file exists; see
 *                packages/machine/scripts/build-snapshot.mjs)
 * Runs are interleaved (run 1 of every variant, then run 2, ...). Unimachine runs with
 * UNIMACHINE_PHASES=1 (packages/machine/src/phases.ts), whose stderr line gives the phases.
 * Every child (and `node -e 0`) runs without NODE_EXTRA_CA_CERTS unless --keep-extra-ca-certs
 * (see childEnvironment). Writes results/start.json and results/start.md.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBenchKernels } from './lib/build.js';
import { exitStatus } from '../guest/test/expected.js';
import { CPU64_ELF, GUEST_BUILD, RESULTS_DIR, ROOT } from './lib/paths.js';
import { commitLabel, describeHost, provenance, toolVersions, type Provenance } from './lib/provenance.js';
import { childCpuSeconds } from './lib/peer-speed.js';
import { QEMU, qemuArgs } from './lib/qemu.js';
import { timedRun } from './lib/timed-process.js';
import { fmt, log, max, median, min, positiveInt } from './lib/stats.js';

const MACHINE_PKG = join(ROOT, 'packages/machine');
/**
 * The CLI as npm installs it: dist/cli.js, fast-start.js, phases.js and a bundle made now (the bundle
 * script also writes the one-module dist/cli.js over the copied one, and dist/cli.cjs), under a node_modules folder
 * (an installed bundle is never checked against the workspace's mtimes). In
 * the workspace the bundle is used only while no input changed since `npm run bundle`, and on a
 * tree where others rebuild packages that is rarely true for long: the figures would flip
 * between the bundle and the modules from one run to the next.
 */
const STAGE_ROOT = join(ROOT, 'bench/build/start-install');
const STAGE = join(STAGE_ROOT, 'cli/node_modules/@unimachine/machine');
/**
 * Each variant with other V8 flags gets a copy of its own: V8 rejects a code cache made under
 * different flags, and variants sharing one cache file would keep rewriting it for each other.
 */
const stagedCli = (variant: string, launcher = 'cli.cjs') => join(STAGE_ROOT, variant.replace(/[^a-z0-9]+/gi, '_'), 'node_modules/@unimachine/machine/dist', launcher);
/** The launcher the bin and `npm start` run: the CommonJS one (an ES module entry starts about 10 ms later). */
const CLI = join(STAGE, 'dist/cli.cjs');
const MACHINE = join(ROOT, 'machines/solo5-virtio.yaml');

/**
 * Node 20 loads the certificates NODE_EXTRA_CA_CERTS names while it starts, before any JavaScript
 * and whatever the program. The sandboxes this bench runs in set it to the system bundle (144
 * certificates), which costs every `node` process about 50 ms of main-thread CPU (2026-12-07:
 * Node's bootstrap before cli.ts's first line, 82 -> 33 ms, median of 10). It is the host's
 * setting, not part of Unimachine (a user's shell rarely has it), and QEMU pays nothing like it,
 * so the children run without it unless --keep-extra-ca-certs; the report says which.
 */
let childEnvironment: NodeJS.ProcessEnv = process.env;
let extraCaCerts: 'not set' | 'removed for the children' | 'kept' = 'not set';
const SNAPSHOT_BLOB = join(ROOT, 'bench/build/start-install/unimachine.snapshot.blob');

interface StartGuest {
  name: string;
  describe: string;
  elf: string;
  append: string;
  /** A line the console must show (the rest of the output is checked by the guest tests). */
  mustPrint: string;
}

const GUESTS: StartGuest[] = [
  { name: 'minimal', describe: 'bench-cpu64 n=0: long-mode stub, prints a header, exits; no timer work', elf: CPU64_ELF, append: 'n=0', mustPrint: 'checksum ' },
  { name: 'hello', describe: 'guest/build/hello.elf: base with a 100 ms PIT-polling TSC calibration (as Solo5), prints, exits', elf: join(GUEST_BUILD, 'hello.elf'), append: 'foo bar=1', mustPrint: 'Hello from Unimachine!' },
  { name: 'time', describe: 'guest/build/time.elf: the same calibration, then three 1 s sleeps of guest time', elf: join(GUEST_BUILD, 'time.elf'), append: '', mustPrint: 'monotonic' },
];

/** The phases of one Unimachine run, in ms; they add up to the whole process time. */
interface Phases {
  /** Spawn to the end of Node's bootstrap (exec, V8 and Node start-up). */
  node: number;
  /** Loading the launcher dist/cli.cjs (CommonJS, its imports inlined), to its first line. */
  entry: number;
  /** Loading the CLI: the bundle through its code cache, or the ES modules. */
  load: number;
  /** Argument parsing, YAML, validation, createMachine (devices, memory, kernel load). */
  build: number;
  /** machine.run(): the guest, from its first instruction to isa-debug-exit. */
  run: number;
  /** dispose, stdout drain, process.exit, until the parent sees the process end. */
  exit: number;
  instructions?: number;
  /** Inside run: ms the WebAssembly tier spent compiling, and the regions it compiled. */
  jitMs?: number;
  jitRegions?: number;
  /** The same phases in CPU time of the main thread (Linux), which waiting for a core does not inflate. */
  cpu?: ThreadCpu;
}

/** Main-thread CPU ms: `start` is everything before cli.ts's first line (Node's bootstrap + entry). */
interface ThreadCpu {
  start: number;
  load: number;
  build: number;
  run: number;
}

interface RunRecord {
  wallMs: number;
  /** CPU time of the process (user + system, all threads): steadier than wall time on a busy host. */
  cpuMs: number;
  ok: boolean;
  problem?: string;
  phases?: Phases;
}

interface Cell {
  variant: string;
  guest: string;
  runs: RunRecord[];
  ok: boolean;
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  medianCpuMs?: number;
  minCpuMs?: number;
  maxCpuMs?: number;
  /** Median of each phase over the runs. */
  phases?: Phases;
}

interface Variant {
  id: string;
  describe: string;
  available(): string | undefined;
  run(g: StartGuest): Promise<RunRecord>;
}

function cliVariant(id: string, describe: string, nodeArgs: string[], env: NodeJS.ProcessEnv = {}, cli = CLI): Variant {
  return {
    id,
    describe,
    available: () => (existsSync(CLI) ? undefined : 'the staged CLI is missing'),
    async run(g) {
      const spawnEpoch = performance.timeOrigin + performance.now();
      const cpu0 = childCpuSeconds();
      const r = await timedRun(process.execPath, [...nodeArgs, ...(cli ? [cli] : []), 'run', MACHINE, '--kernel', g.elf, '--append', g.append, '--success-code', '1'], {
        cwd: ROOT,
        timeoutMs: 60_000,
        env: { ...childEnvironment, ...env, UNIMACHINE_PHASES: '1' },
      });
      const endEpoch = spawnEpoch + r.wallMs;
      const problem = r.timedOut ? 'timed out' : r.status !== 0 ? `exit status ${r.status}: ${r.stderr.trim().slice(0, 200)}` : r.stdout.includes(g.mustPrint) ? undefined : `no "${g.mustPrint}" on the console`;
      return { wallMs: r.wallMs, cpuMs: (childCpuSeconds() - cpu0) * 1000, ok: !problem, problem, phases: parsePhases(r.stderr, spawnEpoch, endEpoch) };
    },
  };
}

function parsePhases(stderr: string, spawnEpoch: number, endEpoch: number): Phases | undefined {
  const line = stderr.split('\n').find((l) => l.startsWith('unimachine-phases '));
  if (!line) return undefined;
  const p = JSON.parse(line.slice('unimachine-phases '.length)) as { timeOrigin: number; nodeBootstrapComplete: number; marks: Record<string, number>; cpu?: Record<string, number>; instructions?: number; jit?: { compiled: number; compileMs: number } };
  const at = (ms: number) => p.timeOrigin + ms; // child-relative -> epoch ms
  const m = p.marks;
  if ([m['cli-start'], m['cli-loaded'], m['machine-built'], m['guest-run']].some((x) => x === undefined)) return undefined;
  return {
    node: at(p.nodeBootstrapComplete) - spawnEpoch,
    entry: m['cli-start']! - p.nodeBootstrapComplete,
    load: m['cli-loaded']! - m['cli-start']!,
    build: m['machine-built']! - m['cli-loaded']!,
    run: m['guest-run']! - m['machine-built']!,
    exit: endEpoch - at(m['guest-run']!),
    instructions: p.instructions,
    jitMs: p.jit?.compileMs,
    jitRegions: p.jit?.compiled,
    cpu: threadCpu(p.cpu),
  };
}

function threadCpu(c: Record<string, number> | undefined): ThreadCpu | undefined {
  if (!c || ['cli-start', 'cli-loaded', 'machine-built', 'guest-run'].some((k) => c[k] === undefined)) return undefined;
  return { start: c['cli-start']!, load: c['cli-loaded']! - c['cli-start']!, build: c['machine-built']! - c['cli-loaded']!, run: c['guest-run']! - c['machine-built']! };
}

const qemuVariant: Variant = {
  id: 'qemu',
  describe: `${QEMU} ${qemuArgs('ELF', 'ARGS').join(' ')}`,
  available: () => undefined,
  async run(g) {
    const cpu0 = childCpuSeconds();
    const r = await timedRun(QEMU, qemuArgs(g.elf, g.append), { timeoutMs: 60_000, env: childEnvironment });
    const cpuMs = (childCpuSeconds() - cpu0) * 1000;
    const problem = r.spawnError ?? (r.status !== exitStatus(0) ? `exit status ${r.status}` : r.stdout.includes(g.mustPrint) ? undefined : `no "${g.mustPrint}" on the console`);
    return { wallMs: r.wallMs, cpuMs, ok: !problem, problem };
  },
};

/** Where a --cli-from copy is staged (a node_modules folder of its own, so it is taken as installed). */
const stagedFrom = (dir: string, launcher?: string) => stagedCli(`from_${basename(dir)}`, launcher);

function variants(ids: string[], flagVariants: string[], fromDirs: string[]): Variant[] {
  const known: Record<string, Variant> = {
    cli: cliVariant('cli', 'node node_modules/@unimachine/machine/dist/cli.cjs run machines/solo5-virtio.yaml --kernel ELF --append ARGS: the installed CLI (one bundled file + V8 code cache), staged under bench/build/start-install', []),
    'cli-modules': cliVariant('cli-modules', 'the same with UNIMACHINE_NO_BUNDLE=1: the separate ES modules of the workspace (what runs in the workspace after a `tsc -b` without a new bundle)', [], { UNIMACHINE_NO_BUNDLE: '1' }, join(MACHINE_PKG, 'dist/cli.cjs')),
    qemu: qemuVariant,
    snapshot: {
      ...cliVariant('snapshot', `node --snapshot-blob ${SNAPSHOT_BLOB.slice(ROOT.length + 1)} run ... (V8 startup snapshot with the bundle evaluated, bench/lib/start-snapshot.mjs)`, ['--snapshot-blob', SNAPSHOT_BLOB], {}, ''),
      available: () => (existsSync(SNAPSHOT_BLOB) ? undefined : `${SNAPSHOT_BLOB} missing`),
    },
  };
  const list = ids.filter(Boolean).map((id) => {
    const v = known[id];
    if (!v) throw new Error(`unknown variant ${id}; known: ${Object.keys(known).join(', ')}`);
    return v;
  });
  for (const f of flagVariants) {
    const id = `flags:${f}`;
    list.push(cliVariant(id, `node ${f} node_modules/@unimachine/machine/dist/cli.cjs run ... (a staged copy of its own, for its own code cache)`, f.split(' ').filter(Boolean), {}, stagedCli(id)));
  }
  for (const dir of fromDirs) {
    // Builds from before the CommonJS launcher have only dist/cli.js.
    const launcher = existsSync(join(dir, 'dist/cli.cjs')) ? 'cli.cjs' : 'cli.js';
    const v = cliVariant(`from:${basename(dir)}`, `the installed CLI of ${dir} (its dist/ staged under a node_modules folder of its own), run as \`cli\` (dist/${launcher})`, [], {}, stagedFrom(dir, launcher));
    list.push({ ...v, available: () => (existsSync(join(dir, 'dist', launcher)) ? undefined : `${dir}/dist/${launcher} missing`) });
  }
  return list;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '7' },
      only: { type: 'string', default: GUESTS.map((g) => g.name).join(',') },
      variants: { type: 'string', default: 'cli,cli-modules,qemu' },
      'flags-variant': { type: 'string', multiple: true, default: [] },
      'cli-from': { type: 'string', multiple: true, default: [] },
      out: { type: 'string', default: 'start' },
      'keep-extra-ca-certs': { type: 'boolean', default: false },
    },
  });
  if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
    if (values['keep-extra-ca-certs']) extraCaCerts = 'kept';
    else {
      const { NODE_EXTRA_CA_CERTS: _dropped, ...rest } = process.env;
      childEnvironment = rest;
      extraCaCerts = 'removed for the children';
    }
  }
  const runs = positiveInt(values.runs, 'runs');
  const guests = values.only.split(',').map((n) => {
    const g = GUESTS.find((x) => x.name === n);
    if (!g) throw new Error(`unknown guest ${n}; known: ${GUESTS.map((x) => x.name).join(', ')}`);
    return g;
  });
  const vs = variants(values.variants.split(','), values['flags-variant'], values['cli-from']);
  const started = provenance();
  buildBenchKernels();
  stageInstall();
  if (vs.some((v) => v.id === 'snapshot')) {
    execFileSync(process.execPath, [join(ROOT, 'bench/lib/start-snapshot.mjs'), join(STAGE, 'dist'), SNAPSHOT_BLOB], { stdio: ['ignore', 'ignore', 'ignore'] });
  }
  for (const v of vs) if (v.id.startsWith('flags:')) cpSync(STAGE, dirname(dirname(stagedCli(v.id))), { recursive: true });
  for (const dir of values['cli-from']) stageFrom(dir);
  const floor = await nodeFloor(runs);
  log(`node -e 0: median ${floor.toFixed(0)} ms`);

  const cells: Cell[] = [];
  for (const g of guests) {
    for (const v of vs) {
      const why = v.available();
      cells.push({ variant: v.id, guest: g.name, runs: [], ok: !why, ...(why ? { problem: why } : {}) });
    }
    // One untimed run each: the code cache is written by a first run, files are in the page cache.
    for (const v of vs) if (!v.available()) await v.run(g);
    for (let i = 0; i < runs; i++) {
      for (const v of vs) {
        const cell = cells.find((c) => c.variant === v.id && c.guest === g.name)!;
        if (!cell.ok) continue;
        const r = await v.run(g);
        cell.runs.push(r);
        if (!r.ok) {
          cell.ok = false;
          log(`${g.name} / ${v.id}: failed: ${r.problem}`);
        }
      }
    }
    for (const c of cells.filter((c) => c.guest === g.name && c.runs.length)) {
      const walls = c.runs.map((r) => r.wallMs);
      c.medianMs = median(walls);
      c.minMs = min(walls);
      c.maxMs = max(walls);
      const cpus = c.runs.map((r) => r.cpuMs);
      c.medianCpuMs = median(cpus);
      c.minCpuMs = min(cpus);
      c.maxCpuMs = max(cpus);
      const ph = c.runs.map((r) => r.phases).filter((p): p is Phases => p !== undefined);
      if (ph.length) {
        const med = (k: Exclude<keyof Phases, 'cpu'>) => median(ph.map((p) => p[k] ?? NaN));
        c.phases = { node: med('node'), entry: med('entry'), load: med('load'), build: med('build'), run: med('run'), exit: med('exit'), instructions: ph[0]!.instructions,
          jitMs: ph[0]!.jitMs === undefined ? undefined : med('jitMs'), jitRegions: ph[0]!.jitRegions };
        const threadCpus = ph.map((p) => p.cpu).filter((x): x is ThreadCpu => x !== undefined);
        const medCpu = (k: keyof ThreadCpu) => median(threadCpus.map((x) => x[k]));
        if (threadCpus.length) c.phases.cpu = { start: medCpu('start'), load: medCpu('load'), build: medCpu('build'), run: medCpu('run') };
      }
      log(`${g.name} / ${c.variant}: median ${fmt(c.medianMs, 0)} ms (${fmt(c.minMs, 0)}-${fmt(c.maxMs, 0)}), CPU ${fmt(c.medianCpuMs, 0)} ms${c.phases ? ` = ${phaseText(c.phases)}` : ''}`);
    }
  }
  const record = { provenance: started, nodeFloorMs: floor, extraCaCerts, versions: toolVersions(QEMU), runs, guests, variants: vs.map((v) => ({ id: v.id, describe: v.describe })), cells };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${values.out}.json`), JSON.stringify(record, null, 1) + '\n');
  writeFileSync(join(RESULTS_DIR, `${values.out}.md`), markdown(record));
  log(`wrote results/${values.out}.json and ${values.out}.md`);
}

function stageInstall(): void {
  rmSync(STAGE_ROOT, { recursive: true, force: true });
  mkdirSync(join(STAGE, 'dist'), { recursive: true });
  copyFileSync(join(MACHINE_PKG, 'package.json'), join(STAGE, 'package.json'));
  for (const f of ['cli.js', 'fast-start.js', 'phases.js']) copyFileSync(join(MACHINE_PKG, 'dist', f), join(STAGE, 'dist', f));
  execFileSync(process.execPath, [join(MACHINE_PKG, 'scripts/bundle-cli.mjs'), join(STAGE, 'dist')], { stdio: ['ignore', 'inherit', 'inherit'] });
  // The bundle finds netdev's tap-helper.c through the installed @unimachine/netdev (as in a real
  // install, where it is a dependency); without it every start pays a failed module resolution.
  const netdev = join(dirname(STAGE), 'netdev');
  mkdirSync(netdev, { recursive: true });
  copyFileSync(join(ROOT, 'packages/netdev/package.json'), join(netdev, 'package.json'));
  cpSync(join(ROOT, 'packages/netdev/native'), join(netdev, 'native'), { recursive: true });
  // Built-time only (the bundle has the validators compiled in); npm's files list leaves it out too.
  rmSync(join(STAGE, 'dist/unimachine-validators.mjs'), { force: true });
  log(`staged the installed CLI (bundle made now from the workspace's dist/) in ${STAGE.slice(ROOT.length + 1)}`);
}

/** A --cli-from CLI: its dist/ (without code caches: the untimed first run writes its own) beside a copy of the staged netdev. */
function stageFrom(dir: string): void {
  const pkg = dirname(dirname(stagedFrom(dir)));
  mkdirSync(pkg, { recursive: true });
  cpSync(join(dir, 'dist'), join(pkg, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.v8cache') });
  copyFileSync(join(MACHINE_PKG, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(dirname(STAGE), 'netdev'), join(dirname(pkg), 'netdev'), { recursive: true });
}

async function nodeFloor(runs: number): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) t.push((await timedRun(process.execPath, ['-e', '0'], { timeoutMs: 10_000, env: childEnvironment })).wallMs);
  return median(t);
}

function phaseText(p: Phases): string {
  return `node ${p.node.toFixed(0)} + entry ${p.entry.toFixed(0)} + load ${p.load.toFixed(0)} + build ${p.build.toFixed(0)} + run ${p.run.toFixed(0)} + exit ${p.exit.toFixed(0)}`;
}

function markdown(r: { provenance: Provenance; nodeFloorMs: number; extraCaCerts: string; versions: Record<string, string>; runs: number; guests: StartGuest[]; variants: { id: string; describe: string }[]; cells: Cell[] }): string {
  const p = r.provenance;
  const cellText = (c: Cell | undefined) => (!c ? '-' : !c.runs.length ? 'n/a' : !c.ok ? `failed: ${c.runs.find((x) => !x.ok)?.problem ?? ''}` : `${fmt(c.medianMs, 0)} (${fmt(c.minMs, 0)}–${fmt(c.maxMs, 0)})`);
  const ids = r.variants.map((v) => v.id);
  const cpuText = (c: Cell | undefined) => (!c || !c.ok || !c.runs.length ? '-' : `${fmt(c.medianCpuMs, 0)} (${fmt(c.minCpuMs, 0)}–${fmt(c.maxCpuMs, 0)})`);
  const tableOf = (text: (c: Cell | undefined) => string) => [
    `| guest | ${ids.join(' | ')} |`,
    `|---|${ids.map(() => '---:').join('|')}|`,
    ...r.guests.map((g) => `| ${g.name} | ${ids.map((id) => text(r.cells.find((c) => c.guest === g.name && c.variant === id))).join(' | ')} |`),
  ];
  const table = tableOf(cellText);
  const cpuTable = tableOf(cpuText);
  const phaseRows = r.cells
    .filter((c) => c.phases)
    .map((c) => {
      const ph = c.phases!;
      return `| ${c.guest} | ${c.variant} | ${fmt(c.medianMs, 0)} | ${ph.node.toFixed(0)} | ${ph.entry.toFixed(0)} | ${ph.load.toFixed(0)} | ${ph.build.toFixed(0)} | ${ph.run.toFixed(0)} | ${ph.instructions ?? '-'} | ${ph.jitMs === undefined ? '-' : `${ph.jitMs.toFixed(0)} (${ph.jitRegions})`} | ${ph.exit.toFixed(0)} |`;
    });
  const cpuRows = r.cells
    .filter((c) => c.phases?.cpu)
    .map((c) => {
      const t = c.phases!.cpu!;
      return `| ${c.guest} | ${c.variant} | ${t.start.toFixed(0)} | ${t.load.toFixed(1)} | ${t.build.toFixed(1)} | ${(t.load + t.build).toFixed(1)} | ${t.run.toFixed(0)} |`;
    });
  return [
    '# bench:start: whole-process start-up, Unimachine CLI vs QEMU',
    '',
    `Commit ${commitLabel(p)}, ${p.date}, ${describeHost(p)}; versions ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `\`node -e 0\` on this host now: ${r.nodeFloorMs.toFixed(0)} ms (median). The host is shared with other work: compare columns of one run, not runs made under different loads.`,
    `NODE_EXTRA_CA_CERTS: ${r.extraCaCerts} (Node 20 parses those certificates at every start, about 50 ms of CPU for the system bundle; see childEnvironment in bench/start.ts).`,
    '',
    'Guests:',
    ...r.guests.map((g) => `- \`${g.name}\`: ${g.describe} (\`--append ${JSON.stringify(g.append)}\`)`),
    '',
    'Variants:',
    ...r.variants.map((v) => `- \`${v.id}\`: ${v.describe}`),
    '',
    `## Whole process, spawn to exit: median (min–max) ms over ${r.runs} interleaved runs (after one untimed run each)`,
    '',
    ...table,
    '',
    '## CPU time of the process (user + system, all threads; /proc cutime/cstime, 10 ms ticks): median (min–max) ms',
    '',
    'Less sensitive than wall time to other work on the host (time spent waiting for a core is not counted); a process that keeps two threads busy counts both.',
    '',
    ...cpuTable,
    '',
    '## Unimachine phases (medians, ms; UNIMACHINE_PHASES=1)',
    '',
    'node = spawn to the end of Node\'s bootstrap; entry = loading the launcher dist/cli.cjs (CommonJS; its imports inlined); load = the CLI itself (bundle + code cache, or the ES modules); ' +
      'build = argument parsing, YAML, validation, createMachine; run = machine.run() (the guest; instructions retired beside it; tier = of the run, ms the WebAssembly tier spent compiling, with the regions it compiled); exit = dispose, stdout drain, process exit as the parent sees it. ' +
      'Medians are taken per phase, so they need not add up to the median total exactly.',
    '',
    '| guest | variant | total | node | entry | load | build | run | instructions | tier | exit |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...phaseRows,
    '',
    ...(cpuRows.length
      ? [
          '## Main-thread CPU per phase (medians, ms; /proc/thread-self/schedstat at each mark)',
          '',
          'What the CLI\'s own thread computes in each phase: time spent waiting for a core is not counted, so this is the steadier comparison on a busy host. ' +
            'node + entry = from the thread\'s start to the first line of cli.ts (Node\'s bootstrap included); the other threads (V8\'s background compilers and GC helpers) are not in it.',
          '',
          '| guest | variant | node + entry | load | build | load + build | run |',
          '|---|---|---:|---:|---:|---:|---:|',
          ...cpuRows,
          '',
        ]
      : []),
  ].join('\n');
}

await main();
