// The coverage.md table of a differential run (diff.test.ts, diff-qemu.test.ts).
import { table } from '../coverage-report.js';
import { topList, type FamilyReport } from './run.js';

export function diffReportTable(reports: FamilyReport[]): string {
  const total = reports.reduce((a, r) => ({ cases: a.cases + r.cases, match: a.match + r.match, mismatch: a.mismatch + r.mismatch, unimplemented: a.unimplemented + r.unimplemented }), { cases: 0, match: 0, mismatch: 0, unimplemented: 0 });
  return table(
    ['family', 'cases', 'reference faults', 'match', 'mismatch', 'unimplemented', 'top mismatching', 'top unimplemented'],
    [...reports.map((r) => [r.family, r.cases, r.hostExceptions, r.match, r.mismatch, r.unimplemented, topList(r.mismatchByMnemonic, 5) || '-', topList(r.unimplementedByMnemonic, 5) || '-']),
      ['**total**', total.cases, '', total.match, total.mismatch, total.unimplemented, '', '']],
  );
}
