/**
 * CPU benchmark: boots bench/workload.c (built with the system gcc) on an X86Cpu and reports
 * instructions per second. Usage: npx tsx packages/cpu-x86/bench/cpu-bench.ts [--rounds N] [--json]
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
const rounds = Number(args[args.indexOf('--rounds') + 1] || 0) || 20;
const json = args.includes('--json');

function build(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-bench-'));
  try {
    execFileSync('gcc', ['-O2', '-m64', '-mno-red-zone', '-ffreestanding', '-nostdlib', '-fno-pic', '-no-pie', '-static',
      '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-Wl,--no-warn-rwx-segments', `-DROUNDS=${rounds}`,
      '-T', join(here, '../test/unit/fixtures/flat.ld'), '-o', join(dir, 'w.elf'), join(here, 'workload.c')], { stdio: 'pipe' });
    execFileSync('objcopy', ['-O', 'binary', join(dir, 'w.elf'), join(dir, 'w.bin')]);
    return new Uint8Array(readFileSync(join(dir, 'w.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same workload built natively (-DHOST): its output is the expected checksum. */
function hostOutput(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-bench-host-'));
  try {
    execFileSync('gcc', ['-O2', '-DHOST', `-DROUNDS=${rounds}`, '-o', join(dir, 'w'), join(here, 'workload.c')], { stdio: 'pipe' });
    return execFileSync(join(dir, 'w'), { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const image = build();
const expected = hostOutput();
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
const ns = Number(process.hrtime.bigint() - t0);
const used = process.cpuUsage(cpu0);
// CPU time (user+system) rather than wall time: the machine may be shared with other work.
const cpuSeconds = (used.user + used.system) / 1e6;
const ips = cpu.instructionsRetired / cpuSeconds;
const result = { workload: 'workload.c', rounds, exit, instructions: cpu.instructionsRetired, wallSeconds: ns / 1e9, cpuSeconds, instructionsPerSecond: Math.round(ips), output: out.trim(), matchesHost: expected === undefined ? null : expected === out.trim() };
if (json) console.log(JSON.stringify(result));
else {
  console.log(`exit=${exit} output=${result.output} (native: ${expected ?? 'n/a'})`);
  console.log(`${(cpu.instructionsRetired / 1e6).toFixed(1)} M instructions in ${cpuSeconds.toFixed(2)} s CPU (${(ns / 1e9).toFixed(2)} s wall) = ${(ips / 1e6).toFixed(1)} M instructions/s`);
}
if (exit !== 'stopped') { console.error(cpu.deathReason ?? 'did not finish'); process.exit(1); }
if (result.matchesHost === false) { console.error('checksum differs from the native run'); process.exit(1); }
