/**
 * bench:build: how long building a machine takes as its device count grows (YAML parse,
 * validation, dependency ordering, device creation and port claims, kernel load; no CPU).
 * The time per device should stay flat: building is proportional to the number of devices.
 *
 *   node --conditions=source --import tsx bench/build-scaling.ts [--counts 250,1000,4000,16000] [--runs 3]
 *
 * Writes results/build-scaling.json and results/build-scaling.md. Not a test: the numbers are read, not asserted.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createMachine } from '../packages/machine/src/index.js';
import { GUEST_BUILD, RESULTS_DIR } from './lib/paths.js';
import { commitLabel, describeHost, provenance } from './lib/provenance.js';

const { values } = parseArgs({ options: { counts: { type: 'string', default: '250,1000,4000,16000' }, runs: { type: 'string', default: '3' } } });
const counts = values.counts!.split(',').map(Number);
const runs = Number(values.runs);

/** A PC plus `n` extra ISA devices: isa-debug-exit registers, one port each from 0x1000, every 16th wired to an IRQ-less UART block. */
function machineYaml(n: number): string {
  const lines = ['memory: 16MiB', 'devices:', '  pic: { type: i8259 }', '  pit: { type: i8254, irq: pic.0 }', '  com1: { type: uart-16550, port: 0x3f8, irq: pic.4, console: none }'];
  for (let i = 0; i < n; i++) lines.push(`  exit${i}: { type: isa-debug-exit, port: ${0x1000 + i}, iosize: 1 }`);
  lines.push(`boot: { kernel: ${JSON.stringify(join(GUEST_BUILD, 'hello32.elf'))} }`);
  return lines.join('\n') + '\n';
}

interface Row {
  devices: number;
  yamlBytes: number;
  /** Median of the runs. */
  ms: number;
  usPerDevice: number;
}

// Warm up (module loading, schema compilation) so the first row measures building, not start-up.
await (await createMachine({ yaml: machineYaml(10), file: 'warm-up.yaml' }, { validateOnly: true })).dispose();

const rows: Row[] = [];
for (const n of counts) {
  const yaml = machineYaml(n);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const m = await createMachine({ yaml, file: `build-${n}.yaml` }, { validateOnly: true });
    times.push(performance.now() - t0);
    await m.dispose();
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  rows.push({ devices: n, yamlBytes: Buffer.byteLength(yaml), ms: Math.round(ms), usPerDevice: Math.round((ms * 1000) / n) });
  console.log(`${n} devices: ${ms.toFixed(0)} ms (${((ms * 1000) / n).toFixed(0)} µs per device; runs ${times.map((t) => t.toFixed(0)).join(', ')} ms)`);
}

const p = provenance();
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(join(RESULTS_DIR, 'build-scaling.json'), JSON.stringify({ provenance: p, runs, rows }, null, 2) + '\n');
writeFileSync(
  join(RESULTS_DIR, 'build-scaling.md'),
  [
    '# Machine build time vs device count',
    '',
    `createMachine(validateOnly) of a PC plus N isa-debug-exit devices (one I/O port each), median of ${runs} runs in one process.`,
    `Includes YAML parse, validation, dependency ordering, device creation, port claims and loading hello32.elf. ${describeHost(p)}, ${commitLabel(p)}.`,
    '',
    '| devices | YAML | build (ms) | µs per device |',
    '|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.devices} | ${(r.yamlBytes / 1024).toFixed(0)} KiB | ${r.ms} | ${r.usPerDevice} |`),
    '',
  ].join('\n'),
);
