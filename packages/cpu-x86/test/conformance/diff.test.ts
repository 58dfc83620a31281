// Differential execution of 64-bit code: random cases per instruction family run natively on the host
// CPU (harness/diffexec.c) and in the interpreter; registers, flags (undefined ones masked),
// XMM/MXCSR, memory and exceptions must agree. Mismatches per family are held under the ceilings in
// baseline.json; instructions the CPU does not implement yet (#UD where the host runs them) are
// reported separately as "unimplemented". 32- and 16-bit code runs against QEMU: diff-qemu.test.ts.
import { afterAll, describe } from 'vitest';
import { FAMILIES } from './diff/families.js';
import { familyTest } from './diff/family-test.js';
import { nativeUnavailableReason } from './diff/native.js';
import { diffReportTable } from './diff/report.js';
import type { FamilyReport } from './diff/run.js';
import { coverageReportWanted, writeCoverageSection } from './coverage-report.js';

/** 18 families x 4000 = 72,000 cases in 64-bit code; DIFF_CASES overrides the per-family count. */
const PER_FAMILY = Number(process.env.DIFF_CASES ?? 4000);
const SEED = 0xd1ff;
const reason = nativeUnavailableReason();
const reports: FamilyReport[] = [];

describe.skipIf(reason !== undefined)(`differential execution vs the host CPU${reason ? ` (skipped: ${reason})` : ''}`, () => {
  FAMILIES.forEach((fam, i) => {
    if (fam.modes.includes(64)) familyTest(reports, fam, SEED + i, 64, PER_FAMILY);
  });

  afterAll(() => {
    if (!coverageReportWanted() || reports.length === 0) return;
    writeCoverageSection('diff', `## Differential execution vs the host (seed 0x${SEED.toString(16)}, ${PER_FAMILY} cases per family)\n\n${diffReportTable(reports)}`);
  });
});
