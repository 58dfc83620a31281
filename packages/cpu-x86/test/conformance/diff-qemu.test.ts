// Differential execution of 32- and 16-bit protected-mode code at CPL 3 against QEMU: the host cannot
// run 32-bit code segments, so harness/diffexec-qemu32.{c,S,ld}, a bare-metal multiboot runner, runs
// the cases under qemu-system-x86_64 (diff/qemu.ts) in the environment the interpreter side builds
// too (diff/env32.ts). Same families, comparison and ratchet as diff.test.ts (keys `<family>/32`,
// `<family>/16`); a separate file so vitest runs it beside the 64-bit one.
import { afterAll, describe, it } from 'vitest';
import { FAMILIES } from './diff/families.js';
import { familyTest } from './diff/family-test.js';
import { QEMU_EXCLUDED_FAMILIES, qemuUnavailableReason } from './diff/qemu.js';
import { diffReportTable } from './diff/report.js';
import { familyKey, type FamilyReport } from './diff/run.js';
import { coverageReportWanted, writeCoverageSection } from './coverage-report.js';

/** 15 families x 1500 (one QEMU boot each); DIFF_CASES_32 overrides. */
const PER_FAMILY_32 = Number(process.env.DIFF_CASES_32 ?? 1500);
/** 15 families x 800; DIFF_CASES_16 overrides. */
const PER_FAMILY_16 = Number(process.env.DIFF_CASES_16 ?? 800);
const SEED = 0xd1ff;
const reason = qemuUnavailableReason();
const reports: FamilyReport[] = [];

describe.skipIf(reason !== undefined)(`differential execution vs QEMU${reason ? ` (skipped: ${reason})` : ''}`, () => {
  // 32-bit protected mode at CPL 3 with paging, on both sides.
  describe('32-bit code vs QEMU', () => {
    FAMILIES.forEach((fam, i) => {
      if (!fam.modes.includes(32)) return;
      const excluded = QEMU_EXCLUDED_FAMILIES.get(fam.name);
      if (excluded) it.skip(`${familyKey(fam, 32)}: not compared against QEMU (${excluded})`, () => {});
      else familyTest(reports, fam, SEED + 100 + i, 32, PER_FAMILY_32);
    });
  });

  // 16-bit code at CPL 3: a 16-bit code segment at the code page, every data segment and SS the
  // 64 KiB window segment, 16-bit address forms (diff/env32.ts, encode.ts memForm16).
  describe('16-bit code vs QEMU', () => {
    FAMILIES.forEach((fam, i) => {
      if (fam.modes.includes(16)) familyTest(reports, fam, SEED + 200 + i, 16, PER_FAMILY_16);
    });
  });

  afterAll(() => {
    if (!coverageReportWanted() || reports.length === 0) return;
    writeCoverageSection('diffqemu', `## Differential execution vs QEMU (seed 0x${SEED.toString(16)}, ${PER_FAMILY_32} cases per 32-bit family, ${PER_FAMILY_16} per 16-bit family)\n\n${diffReportTable(reports)}`);
  });
});
