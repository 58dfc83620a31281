// Random decoder sweep: our decode() against iced-x86 on biased random byte strings (seeded).
// In scope (per scope.ts): length, validity and mnemonic must agree. Out of scope or invalid for
// iced: ours must be invalid too, except the 0F 18-1F hint space, which older CPUs run as NOPs.
// Run once per CPU model in scope.ts MODELS (same strings; `max` figures are keyed mode64@max), plus a
// sweep of the VEX space (C4/C5 with BMI-like maps, opcodes and prefixes in front) per model: where
// the model has BMI1/BMI2 the BMI encodings must decode, and every other VEX encoding must be #UD
// (or LES/LDS in 16/32-bit modes when ModRM.mod != 11).
import { afterAll, describe, expect, it } from 'vitest';
import { cpuDecode } from './cpu-api.js';
import { hex, IcedDecoder } from './iced.js';
import { Prng } from './prng.js';
import { randomInstructionBytes } from './random-bytes.js';
import { DEFAULT_MODEL, decoderOptions, inScope, MODELS, modelKey } from './scope.js';
import { ceiling, ratchetNote } from './ratchet.js';
import { coverageReportWanted, table, writeCoverageSection } from './coverage-report.js';

const PER_MODE = { 16: 50_000, 32: 50_000, 64: 110_000 } as const;
const VEX_PER_MODE = 20_000;
const SEED = 0x5eed_dec0;
const rows: (string | number)[][] = [];

/** A VEX-prefixed string: mostly the BMI maps/opcodes, sometimes a stray legacy prefix or REX in front. */
function randomVexBytes(r: Prng, bitness: 16 | 32 | 64): Uint8Array {
  const out: number[] = [];
  if (r.chance(0.15)) out.push(r.pick([0x66, 0xf2, 0xf3, 0xf0, 0x67, 0x2e, 0x64]));
  if (bitness === 64 && r.chance(0.05)) out.push(0x40 | r.int(16));
  const three = r.chance(0.85);
  // Outside 64-bit mode the byte after C4/C5 needs its top two bits set to be VEX (else LES/LDS).
  const top = bitness === 64 || r.chance(0.9) ? 0xc0 : r.int(4) << 6;
  if (three) {
    const map = r.chance(0.85) ? r.pick([2, 2, 2, 3]) : r.int(32);
    out.push(0xc4, (top | (r.int(2) << 5) | map) & 0xff);
    const vvvv = r.chance(0.3) ? 15 : r.int(16);
    out.push((r.int(2) << 7) | (vvvv << 3) | (r.chance(0.9) ? 0 : 4) | r.int(4));
  } else {
    out.push(0xc5, (top & 0x80) | (r.int(16) << 3) | (r.chance(0.9) ? 0 : 4) | r.int(4) | (top & 0x40 ? 0x40 : 0));
  }
  out.push(r.chance(0.8) ? 0xf0 + r.int(8) : r.int(256));
  out.push(r.pick([0x00, 0x40, 0x80, 0xc0, 0xc0]) | (r.int(8) << 3) | r.int(8));
  while (out.length < 15) out.push(r.int(256));
  return Uint8Array.from(out.slice(0, 15));
}

interface SweepResult {
  inScopeCount: number;
  inScopeAgree: number;
  rest: number;
  restAgree: number;
  repro: string[];
  byMnemonic: Map<string, number>;
}

function sweep(model: string, bitness: 16 | 32 | 64, count: number, seed: number, gen: (r: Prng, b: 16 | 32 | 64) => Uint8Array): SweepResult {
  const ref = new IcedDecoder(decoderOptions(model));
  const r = new Prng(seed);
  const res: SweepResult = { inScopeCount: 0, inScopeAgree: 0, rest: 0, restAgree: 0, repro: [], byMnemonic: new Map() };
  for (let n = 0; n < count; n++) {
    const bytes = gen(r, bitness);
    const want = ref.decode(bytes, bitness);
    const scoped = want.valid && inScope(want.features, model);
    const hint = want.valid && !scoped && want.reservedNopSpace;
    let ok = false;
    let gotText = 'decode() not exported';
    if (cpuDecode) {
      let got;
      try {
        got = model === DEFAULT_MODEL ? cpuDecode(bytes, bitness) : cpuDecode(bytes, bitness, model);
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
    if (scoped) { res.inScopeCount++; if (ok) res.inScopeAgree++; }
    else { res.rest++; if (ok) res.restAgree++; }
    if (!ok) {
      const key = want.valid ? want.mnemonic : 'INVALID';
      res.byMnemonic.set(key, (res.byMnemonic.get(key) ?? 0) + 1);
      if (res.repro.length < 12) {
        const wantText = want.valid ? `${want.mnemonic}/${want.length}${scoped ? '' : hint ? ' (hint NOP space)' : ' (out of scope: expect invalid)'}` : 'invalid';
        res.repro.push(`${bitness}-bit ${hex(bytes.subarray(0, Math.max(want.length, 4)))} ...: iced ${wantText}, ours ${gotText}`);
      }
    }
  }
  return res;
}

function report(label: string, key: string, model: string, bitness: number, count: number, s: SweepResult): number {
  const disagreements = s.inScopeCount - s.inScopeAgree + (s.rest - s.restAgree);
  const top = [...s.byMnemonic].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([m, c]) => `${m} ${c}`).join(', ');
  rows.push([`${label}${model === DEFAULT_MODEL ? '' : ` (${model})`}`, count, `${s.inScopeAgree} / ${s.inScopeCount}`, `${s.restAgree} / ${s.rest}`, disagreements]);
  console.log(
    `${bitness}-bit ${label === String(bitness) ? '' : 'VEX '}sweep: in scope ${s.inScopeAgree} / ${s.inScopeCount} agree; invalid/out of scope ${s.restAgree} / ${s.rest} agree; ` +
      `${disagreements} disagreements (model ${model})\n${ratchetNote('sweep', key, disagreements)}\n` +
      (s.repro.length ? `by iced mnemonic: ${top}\nfirst reproducers:\n  ${s.repro.join('\n  ')}` : ''),
  );
  return disagreements;
}

describe('random decoder sweep vs iced-x86', () => {
  for (const model of MODELS) for (const bitness of [16, 32, 64] as const) {
    const key = modelKey(model, `mode${bitness}`);
    it(`${bitness}-bit: ${PER_MODE[bitness]} random strings (model ${model})`, () => {
      const s = sweep(model, bitness, PER_MODE[bitness], SEED + bitness, randomInstructionBytes);
      const disagreements = report(String(bitness), key, model, bitness, PER_MODE[bitness], s);
      expect(s.inScopeCount).toBeGreaterThan(PER_MODE[bitness] / 10);
      expect(disagreements, `disagreements exceed the ceiling in baseline.json (sweep/${key})`).toBeLessThanOrEqual(ceiling('sweep', key));
    });
  }
  for (const model of MODELS) for (const bitness of [16, 32, 64] as const) {
    const key = modelKey(model, `vex${bitness}`);
    it(`${bitness}-bit: ${VEX_PER_MODE} random VEX strings (model ${model})`, () => {
      const s = sweep(model, bitness, VEX_PER_MODE, SEED + 0x100 + bitness, randomVexBytes);
      const disagreements = report(`VEX ${bitness}`, key, model, bitness, VEX_PER_MODE, s);
      // With BMI the sweep must hit real BMI encodings; without, everything is #UD or LES/LDS.
      if (model !== DEFAULT_MODEL) expect(s.inScopeCount).toBeGreaterThan(VEX_PER_MODE / 20);
      expect(disagreements, `disagreements exceed the ceiling in baseline.json (sweep/${key})`).toBeLessThanOrEqual(ceiling('sweep', key));
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
