// One vitest test per differential family: run it, print the figures and the first reproducers, and
// hold the mismatches under the ratchet (shared by diff.test.ts and diff-qemu.test.ts).
import { expect, it } from 'vitest';
import type { Family } from './families.js';
import { familyKey, runFamily, topList, type FamilyReport } from './run.js';
import type { Bits } from './state.js';
import { ceiling, ratchetNote } from '../ratchet.js';

export function familyTest(reports: FamilyReport[], fam: Family, seed: number, bits: Bits, count: number): void {
  const key = familyKey(fam, bits);
  it(`${key}: ${count} cases`, () => {
    const rep = runFamily(fam, seed, count, 5, bits);
    reports.push(rep);
    const implemented = rep.cases - rep.unimplemented - rep.hostTimeout;
    console.log(
      `${key}: ${rep.cases} cases (${rep.hostExceptions} fault on the ${bits === 64 ? 'host' : 'QEMU'}), ${rep.match} match, ${rep.mismatch} mismatch, ` +
        `${rep.unimplemented} unimplemented, ${rep.hostTimeout} reference timeouts; ${implemented} compared\n` +
        `${ratchetNote('diff', key, rep.mismatch)}\n` +
        (rep.mismatch ? `mismatches by mnemonic: ${topList(rep.mismatchByMnemonic)}\n` : '') +
        (rep.unimplemented ? `unimplemented by mnemonic: ${topList(rep.unimplementedByMnemonic)}\n` : '') +
        (rep.reproducers.length ? `first mismatches:\n${rep.reproducers.join('\n')}` : ''),
    );
    expect(rep.hostTimeout, 'the generator produced cases that never end').toBe(0);
    // The generator must keep producing what the family is for: mostly completing instructions, or
    // (system) instructions that fault at CPL 3.
    if (fam.name === 'system') expect(rep.hostExceptions).toBe(rep.cases);
    else expect(rep.hostExceptions, 'most cases fault on the reference: the generator is broken').toBeLessThan(rep.cases * 0.25);
    expect(rep.mismatch, `mismatches exceed the ceiling in baseline.json (diff/${key})`).toBeLessThanOrEqual(ceiling('diff', key));
  });
}
