// Whole fuzz cases: a machine file (mutated from a seed, or none) and a command line for
// validate, run, devices or schema built from the real option list with odd values.
import { parse } from 'yaml';
import type { Rng } from './random.js';
import { ODD_VALUES, mutateMachineFile, randomText, type MachineFileText } from './yaml-mutate.js';
import type { FuzzWorkspace } from './workspace.js';
import { Rng as CaseRng } from './random.js';

/** In argv, this prefix stands for the workspace folder (it differs from run to run). */
export const WORKSPACE = '@W@';
/** In argv, the case's machine file. */
export const CASE_FILE = `${WORKSPACE}/case.yaml`;
/** `run` cases stop after this long (host time): the fuzz is about input handling, not guests. */
export const RUN_TIMEOUT_MS = 1500;

export type CaseMode = 'validate' | 'run' | 'other';

export interface ConfigFuzzCase {
  index: number;
  mode: CaseMode;
  /** The machine file written to CASE_FILE, if the case has one. */
  file?: MachineFileText;
  argv: string[];
}

export interface CaseSources {
  seeds: string[];
  workspace: Pick<FuzzWorkspace, 'kernels' | 'files' | 'devices'>;
}

const GOOD_KERNELS = ['hello32.elf', 'hello32.elf', 'flat.bin', 'hello.elf'];

function kernelArg(rng: Rng, ws: CaseSources['workspace']): string {
  return rng.weighted([
    [6, () => rng.pick(ws.kernels)],
    [2, () => `${WORKSPACE}/${rng.pick(ws.kernels)}`],
    [1, () => rng.pick(ws.devices)],
    [1, () => rng.pick(['', '.', '..', WORKSPACE, `${WORKSPACE}/`, 'hello.elf/', 'hello.elf\u0000x', ' hello.elf', '-', '--', randomText(rng, 20)])],
  ])();
}

function fileArg(rng: Rng, ws: CaseSources['workspace']): string {
  return rng.chance(0.8) ? rng.pick(ws.files) : rng.pick([...ws.devices, '', 'missing.img', 'folder/', randomText(rng, 10)]);
}

const pathsBySeed = new Map<string, string[]>();

/** Dotted paths that exist in the seed (for --set), and some that go through scalars and lists. */
function setPaths(text: string, rng: Rng): string[] {
  let paths = pathsBySeed.get(text);
  if (!paths) pathsBySeed.set(text, (paths = pathsIn(text)));
  return [...paths, ...paths, ...ODD_PATHS, rng.chance(0.2) ? randomText(rng, 20) : 'memory'];
}

function pathsIn(text: string): string[] {
  const paths: string[] = [];
  const walk = (v: unknown, at: string[], depth: number) => {
    if (at.length) paths.push(at.join('.'));
    if (depth > 4 || v === null || typeof v !== 'object') return;
    for (const [k, child] of Object.entries(v as object)) walk(child, [...at, k], depth + 1);
  };
  try {
    walk(parse(text, { maxAliasCount: 100 }), [], 0);
  } catch {
    // an unparsable seed still gets the fixed paths
  }
  return paths;
}

const ODD_PATHS = [
  'memory', 'clock', 'machine', 'rtc.base', 'cpu.model', 'boot.kernel', 'boot.cmdline', 'plugins', 'plugins.0', 'on-reset',
  'devices', 'devices.com1', 'devices.com1.console', 'devices.com1.port', 'devices.pic.type', 'devices.new.type', 'devices.pci.irqs.0',
  'devices.pci.irqs.7', 'devices.pci.irqs.-1', 'devices.pci.irqs.x', 'devices.pci.irqs.0.x', 'memory.x', 'memory.0', 'devices.com1.port.x',
  'devices..x', '.memory', 'memory.', '..', '', ' ', 'a b', '__proto__.polluted', 'constructor.prototype.polluted', 'devices.__proto__.type',
  'devices.toString', 'boot.kernel.0', 'plugins.5', 'plugins.0.x', 'devices.disk9.backend.type', '0', '0.1', 'é.漢字', 'x'.repeat(500),
  Array(200).fill('d').join('.'),
];

function setArg(rng: Rng, paths: string[]): string {
  const value = rng.weighted([
    [6, () => rng.pick(ODD_VALUES)],
    [1, () => randomText(rng, 30)],
    [1, () => 'v'.repeat(rng.pick([1000, 100_000]))],
  ])();
  return rng.weighted([
    [10, () => `${rng.pick(paths)}=${value}`],
    [1, () => rng.pick(['memory', '=1', '=', 'memory==1', 'memory=', ' = ', '\u0000=1'])],
  ])();
}

function diskArg(rng: Rng, ws: CaseSources['workspace']): string {
  const opts = ['readonly', 'snapshot', 'readonly', 'fast', '', 'readonly=1', 'snapshot,snapshot', 'SNAPSHOT', randomText(rng, 6)];
  const file = rng.chance(0.1) ? '' : fileArg(rng, ws);
  const n = rng.int(3);
  return [file, ...Array.from({ length: n }, () => rng.pick(opts))].join(',');
}

/** Network specs: hub names, malformed specs, and udp on loopback only (never another address). */
function netArg(rng: Rng, ws: CaseSources['workspace']): string {
  const what = rng.pick([
    'hub:fuzz', 'hub:', 'hub', `hub:${randomText(rng, 12).replace(/,/g, '')}`, 'udp:0:9', 'udp:127.0.0.1:0:127.0.0.1:9', 'udp:5000',
    'udp::', 'udp:a:b', 'udp:0:0', 'udp:99999:9', 'udp:-1:9', 'udp:0:9:9', 'tap:', 'tap', 'bogus:x', '', ':', 'HUB:x',
  ]);
  const opts = [`pcap=${fileArg(rng, ws)}`, 'pcap=out.pcap', 'pcap=', 'mac=52:54:00:12:34:56', 'mac=zz', 'mac=', 'mac=ff:ff:ff:ff:ff:ff', 'junk', ''];
  const n = rng.int(3);
  return [what, ...Array.from({ length: n }, () => rng.pick(opts))].join(',');
}

type OptionGen = (rng: Rng) => string[];

function optionGenerators(ws: CaseSources['workspace'], paths: string[], mode: 'validate' | 'run'): [number, OptionGen][] {
  const common: [number, OptionGen][] = [
    [4, (r) => ['--set', setArg(r, paths)]],
    [2, (r) => ['--kernel', kernelArg(r, ws)]],
    [1, (r) => [r.pick(['--bogus', '-x', '--kernel', '--set', '--', '-', '--help', '-h', '--version', `--${randomText(r, 8)}`])]],
    [1, (r) => [r.pick(['extra-arg', 'hello.elf', CASE_FILE, randomText(r, 8)])]],
  ];
  if (mode === 'validate') return common;
  return [
    ...common,
    [2, (r) => ['--append', r.weighted([[6, () => randomText(r, 60)], [1, () => 'a'.repeat(r.pick([4096, 65536, 1_000_000]))]])()]],
    [2, (r) => ['-m', r.pick(['64', '2', '1', '0', '4096', '4095', '999999', '256MiB', '3.5MiB', '-1', 'lots', '', '0x100', '1e400', '4GiB', '2MiB'])]],
    [2, (r) => ['--disk', diskArg(r, ws)]],
    [2, (r) => ['--net', netArg(r, ws)]],
    [1, (r) => ['--trace', r.pick(['all', 'int,io', '', ',', 'bogus', 'virtio,blk,net,pci', 'all,all'])]],
    [1, (r) => ['--rtc-base', r.pick(['utc', 'localtime', '2026-01-01', '2026-02-30', 'junk', '', '1970-01-01T00:00:00Z', '275760-09-13', '-1'])]],
    [1, (r) => ['--success-code', r.pick(['1', '0', '-1', 'abc', '1.5', '99999999999999999999', '0x3'])]],
    [1, (r) => ['--timeout', r.pick(['-5', '0', 'abc', '1e3', '1.5', ''])]],
  ];
}

/** The case number `index` of a run with `seed`: the same inputs every time. */
export function generateCase(seed: number, index: number, src: CaseSources): ConfigFuzzCase {
  const rng = new CaseRng(seed, index);
  const ws = src.workspace;
  const mode = rng.weighted([[1000, 'validate'], [15, 'run'], [40, 'other']] as const);
  if (mode === 'other') return { index, mode, ...otherCommand(rng, src) };

  // `run` cases mostly boot the 32-bit hello (about 50 ms warm; the 64-bit one calibrates its TSC first).
  const seedText = mode === 'run' && rng.chance(0.8) ? rng.pick(src.seeds).replace(/\bhello\.elf\b/g, 'hello32.elf') : rng.pick(src.seeds);
  const target = rng.weighted([[70, 'mutated'], [12, 'seed'], [12, 'kernel'], [6, 'special']] as const);
  // `run` cases mostly boot a machine that works, so the guest's end is reached within the timeout.
  const mutate = target === 'mutated' && (mode === 'validate' || rng.chance(0.4));
  const file = target === 'mutated' || target === 'seed' ? (mutate ? mutateMachineFile(seedText, rng) : { text: seedText, encoding: 'utf8' as const }) : undefined;
  const argv: string[] = [mode];
  if (file) argv.push(CASE_FILE);
  else if (target === 'kernel') {
    const k = mode === 'run' && rng.chance(0.9) ? rng.pick(GOOD_KERNELS) : kernelArg(rng, ws);
    if (rng.chance(0.5)) argv.push(k);
    else argv.push('--kernel', k);
  } else argv.push(fileArg(rng, ws));

  const gens = optionGenerators(ws, setPaths(seedText, rng), mode);
  for (let n = rng.weighted([[4, 0], [4, 1], [2, 2], [1, 4]] as const); n > 0; n--) argv.push(...rng.weighted(gens)(rng));
  if (mode === 'run') argv.push('--timeout', String(RUN_TIMEOUT_MS));
  return { index, mode, file, argv };
}

function otherCommand(rng: Rng, src: CaseSources): { file?: MachineFileText; argv: string[] } {
  const seed = rng.pick(src.seeds);
  return rng.weighted([
    [3, () => ({ file: mutateMachineFile(seed, rng), argv: [rng.pick(['devices', 'schema']), CASE_FILE] })],
    [2, () => ({ argv: [rng.pick(['devices', 'schema']), ...(rng.chance(0.5) ? [fileArg(rng, src.workspace)] : [])] })],
    [2, () => ({
      argv: rng.pick([
        ['--version'], ['-V'], ['--help'], ['help'], ['help', 'run'], ['help', 'nothing'], [], ['bogus'], ['run', '--help'],
        ['validate', '--set'], ['devices', 'a', 'b'], ['schema', '--bogus'], ['--bogus'], ['-'], ['--'], [''], ['run', '--kernel'],
      ]),
    })],
  ])();
}
