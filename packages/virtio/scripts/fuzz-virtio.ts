/**
 * The virtqueue fuzzer from the command line, against virtio-blk and virtio-net:
 *
 *   node --conditions=source --import tsx packages/virtio/scripts/fuzz-virtio.ts --cases 1000000 --seed 7 [--device blk|net] [--first N]
 *
 * Each case is reproducible from (seed, case number): a failure prints the command that reruns it.
 * The device targets live with the devices' tests (they know what a correct completion is).
 */
import { Command } from 'commander';
import { runVirtqueueFuzz, type FuzzOptions } from '../src/testing/index.js';
import { buildBlkFuzzTarget } from '../../virtio-blk/test/fuzz-target.js';
import { buildNetFuzzTarget } from '../../virtio-net/test/fuzz-target.js';

const TARGETS: Record<string, FuzzOptions['build']> = { blk: buildBlkFuzzTarget, net: buildNetFuzzTarget };

const cli = new Command('fuzz-virtio')
  .option('--cases <n>', 'cases per device', (v) => Number(v), 100_000)
  .option('--seed <s>', 'seed', (v) => Number(v), Date.now() % 0x1_0000_0000)
  .option('--first <n>', 'first case number (rerun one case with --first N --cases N+1)', (v) => Number(v), 0)
  .option('--device <name>', 'blk, net or all', 'all')
  .option('--max-failures <n>', 'stop a device after this many failures', (v) => Number(v), 5)
  .parse();
const opts = cli.opts<{ cases: number; seed: number; first: number; device: string; maxFailures: number }>();

let failed = false;
for (const [name, build] of Object.entries(TARGETS)) {
  if (opts.device !== 'all' && opts.device !== name) continue;
  const t0 = performance.now();
  const r = runVirtqueueFuzz({ cases: opts.cases, seed: opts.seed, first: opts.first, build, maxFailures: opts.maxFailures });
  const s = r.stats;
  console.log(
    `${name}: ${r.cases} cases (seed ${opts.seed}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
      `${s.completed} chains checked, ${s.malformed} malformed, ${s.ringErrors} ring errors, ${s.chaos} chaos cases, ${r.failures.length} failures`,
  );
  for (const f of r.failures) {
    failed = true;
    console.log(`  FAIL case ${f.caseIndex} (${f.description}): ${f.problem}`);
    console.log(`    rerun: node --conditions=source --import tsx packages/virtio/scripts/fuzz-virtio.ts --device ${name} --seed ${f.seed} --first ${f.caseIndex} --cases ${f.caseIndex + 1}`);
  }
}
process.exitCode = failed ? 1 : 0;
