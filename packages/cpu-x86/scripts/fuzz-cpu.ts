// Differential fuzzing of the interpreter against the host CPU (see test/conformance/README.md).
//   node --conditions=source --import tsx packages/cpu-x86/scripts/fuzz-cpu.ts --cases 100000 --seed 7 [--family alu] [--bits 32|16] [--jit]
// --jit runs every case through the WebAssembly tier (every block compiled at once, UNIMACHINE_JIT=0).
// Prints a summary per family and a reproducer (bytes, disassembly, initial state, both results, the
// differences) for each mismatch, up to --max-repro. Exits 1 when any implemented instruction disagrees.
import { Command } from 'commander';
import { FAMILIES, familyByName } from '../test/conformance/diff/families.js';
import { nativeUnavailableReason } from '../test/conformance/diff/native.js';
import { QEMU_EXCLUDED_FAMILIES, qemuUnavailableReason } from '../test/conformance/diff/qemu.js';
import { familyKey, runFamily, topList, type FamilyReport } from '../test/conformance/diff/run.js';

const BATCH = 20_000;

const opts = new Command()
  .name('fuzz-cpu')
  .option('--cases <n>', 'total number of cases (split evenly over the families)', '20000')
  .option('--seed <s>', 'PRNG seed', '1')
  .option('--family <name>', `one family: ${FAMILIES.map((f) => f.name).join(', ')}`)
  .option('--max-repro <n>', 'reproducers to print per family', '10')
  .option('--bits <n>', '64 (long mode, on the host CPU), 32 or 16 (protected mode at CPL 3, on QEMU)', '64')
  .option('--jit', 'run the cases through the WebAssembly tier (every block compiled at once)')
  .parse()
  .opts<{ cases: string; seed: string; family?: string; maxRepro: string; bits: string; jit?: boolean }>();

// The CPU reads UNIMACHINE_JIT when it is made: every case's CPU gets the tier.
if (opts.jit) process.env.UNIMACHINE_JIT = '0';

const bits: 16 | 32 | 64 = opts.bits === '32' ? 32 : opts.bits === '16' ? 16 : 64;
const unavailable = bits !== 64 ? qemuUnavailableReason() : nativeUnavailableReason(); // 32- and 16-bit cases run on QEMU
if (unavailable) {
  console.error(`fuzz-cpu: the ${bits !== 64 ? 'QEMU runner' : 'native harness'} cannot run here: ${unavailable}`);
  process.exit(2);
}
// Without --family, 32-bit runs leave out the families QEMU cannot judge (QEMU_EXCLUDED_FAMILIES).
const families = opts.family ? [familyByName(opts.family)] : FAMILIES.filter((f) => f.modes.includes(bits) && !(bits !== 64 && QEMU_EXCLUDED_FAMILIES.has(f.name)));
if (families.some((f) => !f || !f.modes.includes(bits))) {
  console.error(`fuzz-cpu: no ${bits}-bit family '${opts.family}'; known: ${FAMILIES.filter((f) => f.modes.includes(bits)).map((f) => f.name).join(', ')}`);
  process.exit(2);
}
const perFamily = Math.max(1, Math.ceil(Number(opts.cases) / families.length));
const seed = Number(opts.seed);
const maxRepro = Number(opts.maxRepro);

let mismatches = 0;
const started = performance.now();
for (const fam of families) {
  const total: FamilyReport = {
    family: familyKey(fam!, bits), cases: 0, match: 0, mismatch: 0, unimplemented: 0, hostTimeout: 0, hostExceptions: 0,
    mismatchByMnemonic: new Map(), unimplementedByMnemonic: new Map(), reproducers: [],
  };
  for (let done = 0, batch = 0; done < perFamily; done += BATCH, batch++) {
    const rep = runFamily(fam!, seed * 7919 + FAMILIES.indexOf(fam!) * 104_729 + batch, Math.min(BATCH, perFamily - done), maxRepro - total.reproducers.length, bits);
    for (const k of ['cases', 'match', 'mismatch', 'unimplemented', 'hostTimeout', 'hostExceptions'] as const) total[k] += rep[k];
    for (const [m, c] of rep.mismatchByMnemonic) total.mismatchByMnemonic.set(m, (total.mismatchByMnemonic.get(m) ?? 0) + c);
    for (const [m, c] of rep.unimplementedByMnemonic) total.unimplementedByMnemonic.set(m, (total.unimplementedByMnemonic.get(m) ?? 0) + c);
    total.reproducers.push(...rep.reproducers);
  }
  mismatches += total.mismatch;
  console.log(
    `${total.family.padEnd(10)} ${String(total.cases).padStart(7)} cases  ${String(total.match).padStart(7)} match  ${String(total.mismatch).padStart(6)} mismatch  ` +
      `${String(total.unimplemented).padStart(6)} unimplemented  ${total.hostTimeout} host timeouts`,
  );
  if (total.mismatch) console.log(`  mismatches by mnemonic: ${topList(total.mismatchByMnemonic)}`);
  if (total.unimplemented) console.log(`  unimplemented by mnemonic: ${topList(total.unimplementedByMnemonic)}`);
  for (const r of total.reproducers) console.log(`\n${r}`);
  if (total.reproducers.length) console.log('');
}
console.log(`\n${mismatches} mismatches; ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(mismatches ? 1 : 0);
