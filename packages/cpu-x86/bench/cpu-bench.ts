/**
 * CPU benchmark: boots bench/workload.c (built with the system gcc) on an X86Cpu and reports instructions
 * per second of CPU time, checking the guest's checksum against the same C code run natively.
 *
 * Workloads: mixed64 (integer loops, calls, memory, strings, SSE math; long mode with paging),
 * mixed32 (the same C in flat 32-bit protected mode, no paging), tight64 / tight32 (a register-only
 * integer loop). Usage (from the repo root):
 *   node --import tsx packages/cpu-x86/bench/cpu-bench.ts [--workload NAME]... [--runs N] [--rounds N] [--json]
 * Each workload runs in its own Node process, --runs times (default 3); min / median / max MIPS are reported.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
function option(name: string): string | undefined {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
}
const json = args.includes('--json');
const runs = Number(option('--runs') ?? 3) || 3;
const roundsOverride = Number(option('--rounds') ?? 0) || 0;

interface Workload { name: string; bits: 32 | 64; defines: string[]; rounds: number }
const WORKLOADS: Workload[] = [
  { name: 'mixed64', bits: 64, defines: [], rounds: 20 },
  { name: 'mixed32', bits: 32, defines: [], rounds: 20 },
  { name: 'tight64', bits: 64, defines: ['-DTIGHT'], rounds: 40 },
  { name: 'tight32', bits: 32, defines: ['-DTIGHT'], rounds: 40 },
];
const wanted = args.flatMap((a, k) => (args[k - 1] === '--workload' ? [a] : []));
const selected = wanted.length ? WORKLOADS.filter((w) => wanted.includes(w.name)) : WORKLOADS;
if (wanted.length && selected.length !== wanted.length) {
  console.error(`unknown workload; known: ${WORKLOADS.map((w) => w.name).join(', ')}`);
  process.exit(2);
}

// Several workloads: one fresh Node process each. In one process the JIT's type feedback from the first
// workload (say 64-bit code) slows the next ones (32-bit) by up to 2x, which is not what a machine sees.
if (selected.length > 1) {
  const script = fileURLToPath(import.meta.url);
  const rest = args.filter((a, k) => a !== '--workload' && args[k - 1] !== '--workload');
  let status = 0;
  for (const w of selected) {
    try {
      process.stdout.write(execFileSync(process.execPath, [...process.execArgv, script, ...rest, '--workload', w.name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
    } catch (e) {
      process.stdout.write((e as { stdout?: string }).stdout ?? '');
      status = 1;
    }
  }
  process.exit(status);
}

function build(w: Workload, rounds: number): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-bench-'));
  try {
    const arch = w.bits === 64 ? ['-m64', '-mno-red-zone'] : ['-m32', '-msse2', '-mfpmath=sse'];
    execFileSync('gcc', ['-O2', ...arch, '-ffreestanding', '-nostdlib', '-fno-pic', '-no-pie', '-static',
      '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-Wl,--no-warn-rwx-segments', `-DROUNDS=${rounds}`, ...w.defines,
      '-T', join(here, '../test/unit/fixtures/flat.ld'), '-o', join(dir, 'w.elf'), join(here, 'workload.c')], { stdio: 'pipe' });
    execFileSync('objcopy', ['-O', 'binary', join(dir, 'w.elf'), join(dir, 'w.bin')]);
    return new Uint8Array(readFileSync(join(dir, 'w.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same workload built natively (-DHOST): its output is the expected checksum. */
function hostOutput(w: Workload, rounds: number): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-bench-host-'));
  try {
    execFileSync('gcc', ['-O2', '-DHOST', `-DROUNDS=${rounds}`, ...w.defines, '-o', join(dir, 'w'), join(here, 'workload.c')], { stdio: 'pipe' });
    return execFileSync(join(dir, 'w'), { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RunResult { exit: string; instructions: number; cpuSeconds: number; wallSeconds: number; output: string; deathReason?: string }

function runOnce(image: Uint8Array): RunResult {
  const memory = new GuestMemory(32 * 1024 * 1024);
  const ports = new PortBus();
  let out = '';
  const cpu = new X86Cpu({ memory, ports });
  ports.claim({ start: 0x3f8, length: 8 }, { read: (p) => (p === 0x3fd ? 0x60 : 0), write: (p, _s, v) => { if (p === 0x3f8) out += String.fromCharCode(v); } }, 'uart');
  ports.claim({ start: 0x501, length: 2 }, { read: () => 0, write: () => cpu.requestStop() }, 'exit');
  memory.write(0x100000, image);
  cpu.enterMultiboot(0x100000, 0x9000);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let exit = 'budget';
  while (exit === 'budget') exit = cpu.run(10_000_000);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const used = process.cpuUsage(cpu0);
  // CPU time (user+system) rather than wall time: the machine may be shared with other work.
  return { exit, instructions: cpu.instructionsRetired, cpuSeconds: (used.user + used.system) / 1e6, wallSeconds: wall, output: out.trim(), deathReason: cpu.deathReason };
}

let failed = false;
const results = [];
for (const w of selected) {
  const rounds = roundsOverride || w.rounds;
  const image = build(w, rounds);
  const expected = hostOutput(w, rounds);
  const mips: number[] = [];
  let last: RunResult | undefined;
  for (let k = 0; k < runs; k++) {
    const r = runOnce(image);
    last = r;
    if (r.exit !== 'stopped' || (expected !== undefined && r.output !== expected)) {
      console.error(`${w.name}: exit=${r.exit} output=${r.output} native=${expected ?? 'n/a'}\n${r.deathReason ?? ''}`);
      failed = true;
      break;
    }
    mips.push(r.instructions / r.cpuSeconds / 1e6);
  }
  if (!last || mips.length !== runs) continue;
  const sorted = [...mips].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const result = {
    workload: w.name, rounds, instructions: last.instructions, runs,
    cpuSecondsMedian: last.instructions / median / 1e6,
    mipsMin: sorted[0], mipsMedian: median, mipsMax: sorted[sorted.length - 1],
    output: last.output, matchesHost: expected === undefined ? null : expected === last.output,
  };
  results.push(result);
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`${w.name.padEnd(8)} ${(result.instructions / 1e6).toFixed(1).padStart(6)} M instr  ` +
      `${result.cpuSecondsMedian.toFixed(2)} s  MIPS min ${sorted[0].toFixed(1)} / median ${median.toFixed(1)} / max ${sorted[sorted.length - 1].toFixed(1)}  ` +
      `checksum ${result.output} (native ${expected ?? 'n/a'})`);
  }
}
if (failed) process.exit(1);
