// Differential execution: random cases per instruction family run natively (harness/diffexec.c) and
// in the interpreter; registers, flags (undefined ones masked), XMM/MXCSR, memory and exceptions must
// agree. Mismatches per family are held under the ceilings in baseline.json; instructions the CPU does
// not implement yet (#UD where the host runs them) are reported separately as "unimplemented".
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILIES } from './diff/families.js';
import { native32UnavailableReason, nativeUnavailableReason } from './diff/native.js';
import { familyKey, runFamily, topList, type FamilyReport } from './diff/run.js';
import type { Family } from './diff/families.js';
import { ceiling, ratchetNote } from './ratchet.js';
import { coverageReportWanted, table, writeCoverageSection } from './coverage-report.js';

/** 15 families x 4000 = 60,000 cases in 64-bit code; DIFF_CASES overrides the per-family count. */
const PER_FAMILY = Number(process.env.DIFF_CASES ?? 4000);
const SEED = 0xd1ff;
const reason = nativeUnavailableReason();
// 32-bit cases (compatibility mode on the host) are opt-in: the machine this suite was written on
// cannot run 32-bit user code, so their generators and ceilings are not verified yet.
const reason32 = reason ?? (process.env.DIFF_32 === '1' ? native32UnavailableReason() : 'set DIFF_32=1 to run them');
const reports: FamilyReport[] = [];

function familyTest(fam: Family, seed: number, bits: 32 | 64): void {
  const key = familyKey(fam, bits);
  it(`${key}: ${PER_FAMILY} cases`, () => {
    const rep = runFamily(fam, seed, PER_FAMILY, 5, bits);
    reports.push(rep);
    const implemented = rep.cases - rep.unimplemented - rep.hostTimeout;
    console.log(
      `${key}: ${rep.cases} cases (${rep.hostExceptions} fault on the host), ${rep.match} match, ${rep.mismatch} mismatch, ` +
        `${rep.unimplemented} unimplemented, ${rep.hostTimeout} host timeouts; ${implemented} compared\n` +
        `${ratchetNote('diff', key, rep.mismatch)}\n` +
        (rep.mismatch ? `mismatches by mnemonic: ${topList(rep.mismatchByMnemonic)}\n` : '') +
        (rep.unimplemented ? `unimplemented by mnemonic: ${topList(rep.unimplementedByMnemonic)}\n` : '') +
        (rep.reproducers.length ? `first mismatches:\n${rep.reproducers.join('\n')}` : ''),
    );
    expect(rep.hostTimeout, 'the generator produced cases that never end').toBe(0);
    // The generator must keep producing what the family is for: mostly completing instructions, or
    // (system) instructions that fault at CPL 3.
    if (fam.name === 'system') expect(rep.hostExceptions).toBe(rep.cases);
    else expect(rep.hostExceptions, 'most cases fault on the host: the generator is broken').toBeLessThan(rep.cases * 0.25);
    expect(rep.mismatch, `mismatches exceed the ceiling in baseline.json (diff/${key})`).toBeLessThanOrEqual(ceiling('diff', key));
  });
}

describe.skipIf(reason !== undefined)(`differential execution vs the host CPU${reason ? ` (skipped: ${reason})` : ''}`, () => {
  FAMILIES.forEach((fam, i) => {
    if (fam.modes.includes(64)) familyTest(fam, SEED + i, 64);
  });
  describe.skipIf(reason32 !== undefined)(`32-bit code${reason32 ? ` (skipped: ${reason32})` : ''}`, () => {
    FAMILIES.forEach((fam, i) => {
      if (fam.modes.includes(32)) familyTest(fam, SEED + 100 + i, 32);
    });
  });

  afterAll(() => {
    if (!coverageReportWanted() || reports.length === 0) return;
    const total = reports.reduce((a, r) => ({ cases: a.cases + r.cases, match: a.match + r.match, mismatch: a.mismatch + r.mismatch, unimplemented: a.unimplemented + r.unimplemented }), { cases: 0, match: 0, mismatch: 0, unimplemented: 0 });
    writeCoverageSection(
      'diff',
      `## Differential execution vs the host (seed 0x${SEED.toString(16)}, ${PER_FAMILY} cases per family)\n\n` +
        table(
          ['family', 'cases', 'host faults', 'match', 'mismatch', 'unimplemented', 'top mismatching', 'top unimplemented'],
          [...reports.map((r) => [r.family, r.cases, r.hostExceptions, r.match, r.mismatch, r.unimplemented, topList(r.mismatchByMnemonic, 5) || '-', topList(r.unimplementedByMnemonic, 5) || '-']),
            ['**total**', total.cases, '', total.match, total.mismatch, total.unimplemented, '', '']],
        ),
    );
  });
});
