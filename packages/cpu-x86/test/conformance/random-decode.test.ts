// Random decoder sweep: our decode() against iced-x86 on biased random byte strings (seeded).
// In scope (per scope.ts): length, validity and mnemonic must agree. Out of scope or invalid for
// iced: ours must be invalid too, except the 0F 18-1F hint space, which older CPUs run as NOPs.
import { afterAll, describe, expect, it } from 'vitest';
import { cpuDecode } from './cpu-api.js';
import { hex, IcedDecoder } from './iced.js';
import { Prng } from './prng.js';
import { randomInstructionBytes } from './random-bytes.js';
import { inScope, MODEL_DECODER_OPTIONS } from './scope.js';
import { ceiling, ratchetNote } from './ratchet.js';
import { coverageReportWanted, table, writeCoverageSection } from './coverage-report.js';

const PER_MODE = { 16: 50_000, 32: 50_000, 64: 110_000 } as const;
const SEED = 0x5eed_dec0;
const rows: (string | number)[][] = [];

describe('random decoder sweep vs iced-x86', () => {
  const ref = new IcedDecoder(MODEL_DECODER_OPTIONS);
  for (const bitness of [16, 32, 64] as const) {
    it(`${bitness}-bit: ${PER_MODE[bitness]} random strings`, () => {
      const r = new Prng(SEED + bitness);
      let inScopeCount = 0, inScopeAgree = 0, rest = 0, restAgree = 0;
      const repro: string[] = [];
      const byMnemonic = new Map<string, number>();
      for (let n = 0; n < PER_MODE[bitness]; n++) {
        const bytes = randomInstructionBytes(r, bitness);
        const want = ref.decode(bytes, bitness);
        const scoped = want.valid && inScope(want.features);
        const hint = want.valid && !scoped && want.reservedNopSpace;
        let ok = false;
        let gotText = 'decode() not exported';
        if (cpuDecode) {
          let got;
          try {
            got = cpuDecode(bytes, bitness);
            gotText = got.valid ? `valid '${got.mnemonic}'/${got.length}` : 'invalid';
          } catch (e) {
            gotText = `threw ${(e as Error).message}`;
          }
          if (got) {
            if (scoped) ok = got.valid && got.length === want.length && got.mnemonic === want.mnemonic;
            else if (hint) ok = got.valid && got.length === want.length;
            else ok = !got.valid;
          }
        }
        if (scoped) { inScopeCount++; if (ok) inScopeAgree++; }
        else { rest++; if (ok) restAgree++; }
        if (!ok) {
          const key = want.valid ? want.mnemonic : 'INVALID';
          byMnemonic.set(key, (byMnemonic.get(key) ?? 0) + 1);
          if (repro.length < 12) {
            const wantText = want.valid ? `${want.mnemonic}/${want.length}${scoped ? '' : hint ? ' (hint NOP space)' : ' (out of scope: expect invalid)'}` : 'invalid';
            repro.push(`${bitness}-bit ${hex(bytes.subarray(0, Math.max(want.length, 4)))} ...: iced ${wantText}, ours ${gotText}`);
          }
        }
      }
      const disagreements = inScopeCount - inScopeAgree + (rest - restAgree);
      const top = [...byMnemonic].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([m, c]) => `${m} ${c}`).join(', ');
      rows.push([bitness, PER_MODE[bitness], `${inScopeAgree} / ${inScopeCount}`, `${restAgree} / ${rest}`, disagreements]);
      console.log(
        `${bitness}-bit sweep: in scope ${inScopeAgree} / ${inScopeCount} agree; invalid/out of scope ${restAgree} / ${rest} agree; ` +
          `${disagreements} disagreements\n${ratchetNote('sweep', `mode${bitness}`, disagreements)}\n` +
          (repro.length ? `by iced mnemonic: ${top}\nfirst reproducers:\n  ${repro.join('\n  ')}` : ''),
      );
      expect(inScopeCount).toBeGreaterThan(PER_MODE[bitness] / 10);
      expect(disagreements, `disagreements exceed the ceiling in baseline.json (sweep/mode${bitness})`).toBeLessThanOrEqual(ceiling('sweep', `mode${bitness}`));
    });
  }

  afterAll(() => {
    if (!coverageReportWanted()) return;
    writeCoverageSection(
      'sweep',
      `## Random decoder sweep (seed 0x${SEED.toString(16)})\n\n` +
        table(['mode', 'strings', 'in scope: agree / total', 'invalid or out of scope: agree / total', 'disagreements'], rows),
    );
  });
});
