// iced's decoder test vectors (../shared/vectors/iced): parsing and judging one vector against our
// decoder, with iced itself (under our model's decoder options) as the reference.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpuDecode } from './cpu-api.js';
import { hex, iced, IcedDecoder } from './iced.js';
import { DEFAULT_MODEL, decoderOptions, inScope } from './scope.js';

export const VECTORS_DIR = fileURLToPath(new URL('../../../../../shared/vectors/iced', import.meta.url));

export interface Vector {
  line: number;
  bytes: Uint8Array;
  /** iced Code name from the file, or 'INVALID'. */
  code: string;
  decoderOptions: number;
}

export function vectorFiles(): { file: string; bitness: 16 | 32 | 64 }[] {
  if (!existsSync(VECTORS_DIR)) return [];
  return readdirSync(VECTORS_DIR)
    .filter((f) => /^(DecoderTest|DecoderTestMisc|MemoryTest)(16|32|64)\.txt$/.test(f))
    .sort()
    .map((file) => ({ file, bitness: Number(/(16|32|64)\.txt$/.exec(file)![1]) as 16 | 32 | 64 }));
}

export function parseVectors(file: string): Vector[] {
  const out: Vector[] = [];
  readFileSync(`${VECTORS_DIR}/${file}`, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(',').map((f) => f.trim());
    const hexText = fields[0].replace(/\s+/g, '');
    if (!/^([0-9A-Fa-f]{2})+$/.test(hexText)) return;
    const bytes = Uint8Array.from(hexText.match(/../g)!, (h) => parseInt(h, 16));
    let decoderOptions = 0;
    for (const m of line.matchAll(/\bdecopt=([\w;]+)/g)) {
      for (const name of m[1].split(';')) decoderOptions |= (iced.DecoderOptions as unknown as Record<string, number>)[name] ?? 0x4000_0000;
    }
    out.push({ line: i + 1, bytes, code: fields[1], decoderOptions });
  });
  return out;
}

export type Verdict =
  | { kind: 'other-model' } // needs decoder options our CPU model does not have
  | { kind: 'out-of-scope' }
  | { kind: 'pass'; invalid: boolean }
  | { kind: 'fail'; invalid: boolean; detail: string; expected: string };

/** Judge one vector: does our decoder agree with iced on it, for the CPU model `model`? */
export function judge(v: Vector, bitness: 16 | 32 | 64, ref: IcedDecoder, model = DEFAULT_MODEL): Verdict {
  const options = decoderOptions(model);
  if ((v.decoderOptions & ~options) !== 0) return { kind: 'other-model' };
  const want = ref.decode(v.bytes, bitness, options);
  const invalid = v.code === 'INVALID';
  if (invalid === want.valid) return { kind: 'other-model' }; // our model's options change the verdict
  if (!invalid && iced.Code[want.code] !== v.code) return { kind: 'other-model' };
  if (!invalid && !inScope(want.features, model)) return { kind: 'out-of-scope' };
  const where = `line ${v.line}: ${hex(v.bytes)}`;
  const expected = invalid ? 'INVALID' : want.mnemonic;
  if (!cpuDecode) return { kind: 'fail', invalid, expected, detail: `${where}: decode() is not exported yet` };
  let got;
  try {
    got = model === DEFAULT_MODEL ? cpuDecode(v.bytes, bitness) : cpuDecode(v.bytes, bitness, model);
  } catch (e) {
    return { kind: 'fail', invalid, expected, detail: `${where}: decode() threw ${(e as Error).message}` };
  }
  if (invalid) {
    return got.valid ? { kind: 'fail', invalid, expected, detail: `${where}: expected INVALID, got valid '${got.mnemonic}' (${got.length} bytes)` } : { kind: 'pass', invalid };
  }
  if (got.valid && got.length === want.length && got.mnemonic === want.mnemonic) return { kind: 'pass', invalid };
  const gotText = got.valid ? `valid '${got.mnemonic}' (${got.length} bytes)` : 'INVALID';
  return { kind: 'fail', invalid, expected, detail: `${where}: expected ${want.mnemonic} (${want.length} bytes, ${v.code}), got ${gotText}` };
}
