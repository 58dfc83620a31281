// Decoder conformance against iced's test vectors, filtered to the instruction set in scope.ts.
// One test per vector file and CPU model (scope.ts MODELS: the default, then `max` with its ratchet
// keys suffixed '@max'): it reports coverage and fails only when mismatches exceed the ratchet.
import { afterAll, describe, expect, it } from 'vitest';
import { IcedDecoder } from './iced.js';
import { judge, parseVectors, vectorFiles, VECTORS_DIR } from './vectors.js';
import { ceiling, ratchetNote } from './ratchet.js';
import { coverageReportWanted, table, writeCoverageSection } from './coverage-report.js';
import { MODELS, modelKey, SCOPE_SOURCE } from './scope.js';

const files = vectorFiles();
const rows: (string | number)[][] = [];

describe.skipIf(files.length === 0)(`iced decoder vectors (${VECTORS_DIR})`, () => {
  const ref = new IcedDecoder();
  for (const model of MODELS) for (const { file, bitness } of files) {
    const key = modelKey(model, file.replace(/\.txt$/, ''));
    it(`${key}: decode() agrees with iced on in-scope vectors (model ${model})`, () => {
      const n = { pass: 0, fail: 0, invalidPass: 0, invalidTotal: 0, outOfScope: 0, otherModel: 0 };
      const failures: string[] = [];
      const byMnemonic = new Map<string, number>();
      for (const v of parseVectors(file)) {
        const r = judge(v, bitness, ref, model);
        if (r.kind === 'other-model') n.otherModel++;
        else if (r.kind === 'out-of-scope') n.outOfScope++;
        else {
          if (r.invalid) n.invalidTotal++;
          if (r.kind === 'pass') { n.pass++; if (r.invalid) n.invalidPass++; }
          else {
            n.fail++;
            byMnemonic.set(r.expected, (byMnemonic.get(r.expected) ?? 0) + 1);
            if (failures.length < 15) failures.push(r.detail);
          }
        }
      }
      const total = n.pass + n.fail;
      rows.push([key, bitness, `${n.pass} / ${total}`, `${n.invalidPass} / ${n.invalidTotal}`, n.fail, n.outOfScope, n.otherModel]);
      console.log(
        `${key} (${bitness}-bit): ${n.pass} / ${total} in-scope vectors pass (${((100 * n.pass) / Math.max(1, total)).toFixed(1)}%), ` +
          `INVALID ${n.invalidPass} / ${n.invalidTotal}; ${n.outOfScope} out of scope, ${n.otherModel} for other CPU models\n` +
          `${ratchetNote('vectors', key, n.fail)}\n` +
          (failures.length ? `by expected mnemonic: ${[...byMnemonic].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([m, c]) => `${m} ${c}`).join(', ')}\n` : '') +
          (failures.length ? `first mismatches:\n  ${failures.join('\n  ')}` : ''),
      );
      expect(total, 'no in-scope vector found: the scope filter is broken').toBeGreaterThan(0);
      expect(n.fail, `mismatches exceed the ceiling in baseline.json (vectors/${key})`).toBeLessThanOrEqual(ceiling('vectors', key));
    });
  }

  afterAll(() => {
    if (!coverageReportWanted()) return;
    writeCoverageSection(
      'vectors',
      `## Decoder vectors (iced)\n\nScope: ${SCOPE_SOURCE}.\n\n` +
        table(['file', 'mode', 'in-scope passed', 'INVALID passed', 'mismatches', 'out of scope', 'other CPU model'], rows),
    );
  });
});

if (files.length === 0) {
  describe('iced decoder vectors', () => {
    it.skip(`skipped: vector folder ${VECTORS_DIR} is absent`, () => {});
  });
}
