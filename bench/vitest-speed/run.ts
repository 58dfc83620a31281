/**
 * Why is the interpreter slower under vitest than under tsx? Runs the same workload
 * (workload.ts: bench-cpu64 n=2 on the bare CPU, MIPS per CPU second) under tsx and under
 * vitest with each config variant of vitest.config.ts here, interleaved, and writes
 * results/vitest-speed.md/.json.
 *
 *   node --import tsx bench/vitest-speed/run.ts [--rounds 3] [--variants default,native-tsx,...]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RESULTS_DIR, ROOT } from '../lib/paths.js';
import { commitLabel, describeHost, provenance } from '../lib/provenance.js';
import { fmt, log, max, median, min, positiveInt } from '../lib/stats.js';
import type { SpeedFigures } from './workload.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    variants: { type: 'string', default: 'default,native-tsx,no-sourcemap' },
  },
});
const rounds = positiveInt(values.rounds, 'rounds');
const variants = ['tsx', ...values.variants.split(',').map((v) => `vitest:${v}`)];
const started = provenance();
const out = join(tmpdir(), `vitest-speed-${process.pid}.json`);
const figures: Record<string, { mips: number[]; warmUpMs: number[] }> = Object.fromEntries(variants.map((v) => [v, { mips: [], warmUpMs: [] }]));

for (let i = 0; i < rounds; i++) {
  for (const v of variants) {
    rmSync(out, { force: true });
    const env = { ...process.env, SPEED_OUT: out, SPEED_RUNS: '3' };
    const f = v === 'tsx' ? tsxRun(env) : vitestRun(v.slice('vitest:'.length), env);
    figures[v]!.mips.push(...f.cpuMips);
    figures[v]!.warmUpMs.push(f.warmUpMs);
    log(`${v}: ${f.cpuMips.map((x) => x.toFixed(1)).join(', ')} MIPS per CPU s; first run ${f.warmUpMs.toFixed(0)} ms`);
  }
}

function tsxRun(env: NodeJS.ProcessEnv): SpeedFigures {
  execFileSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'bench/vitest-speed/tsx-entry.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(readFileSync(out, 'utf8')) as SpeedFigures;
}

function vitestRun(variant: string, env: NodeJS.ProcessEnv): SpeedFigures {
  execFileSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'bench/vitest-speed/vitest.config.ts'], {
    cwd: ROOT,
    env: { ...env, SPEED_VARIANT: variant },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return JSON.parse(readFileSync(out, 'utf8')) as SpeedFigures;
}

const rows = variants.map((v) => {
  const f = figures[v]!;
  return `| ${v} | ${fmt(median(f.mips), 1)} | ${fmt(min(f.mips), 1)}–${fmt(max(f.mips), 1)} | ${fmt(median(f.warmUpMs), 0)} |`;
});
const md = [
  '# Interpreter speed under tsx and under vitest',
  '',
  `Commit ${commitLabel(started)}, ${started.date}, ${describeHost(started)} (shared host: other engineers' tests ran at the same time).`,
  `Workload: bench/vitest-speed/workload.ts, bench-cpu64 n=2 on the bare CPU (lib/direct-cpu.ts), one untimed warm-up run then 3 timed runs per process; ${rounds} processes per variant, interleaved.`,
  '',
  '| how | median MIPS per CPU s | min–max | first (cold) run ms |',
  '|---|---:|---:|---:|',
  ...rows,
  '',
].join('\n');
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(join(RESULTS_DIR, 'vitest-speed.json'), JSON.stringify({ provenance: started, rounds, figures }, null, 1) + '\n');
writeFileSync(join(RESULTS_DIR, 'vitest-speed.md'), md);
log(md);
