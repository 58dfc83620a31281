// Deterministic case lists: draw from a family's generator, keep what iced decodes to an in-scope,
// allowed instruction sequence, and attach the undefined-effects mask.
import { iced, mnemonicName, featureName } from '../iced.js';
import { Prng } from '../prng.js';
import { decoderOptions, MODEL_DECODER_OPTIONS } from '../scope.js';
import type { Draft, Family } from './families.js';
import { WINDOW_BASE, WINDOW_SIZE } from './layout.js';
import { onQemu, type Bits, type TestCase } from './state.js';
import { fxsaveMask, undefinedEffects } from './undefined.js';

const instr = new iced.Instruction();

/** The value at `address` after the patches are applied to the pristine window. */
function initialMemoryReader(pristine: Uint8Array, d: Draft) {
  return (address: bigint, n: number): bigint | undefined => {
    const off = Number(address) - WINDOW_BASE;
    if (!(off >= 0 && off + n <= WINDOW_SIZE)) return undefined;
    const bytes = pristine.slice(off, off + n);
    for (const p of d.patches) {
      for (let i = 0; i < p.bytes.length; i++) {
        const k = p.offset + i - off;
        if (k >= 0 && k < n) bytes[k] = p.bytes[i];
      }
    }
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    return v;
  };
}

/** Validate a draft with iced; returns the case or undefined when it must be redrawn. */
function accept(fam: Family, d: Draft, pristine: Uint8Array, bits: Bits): TestCase | undefined {
  // 16-bit code: ESP's upper half must start clear (an IRET to a 16-bit stack segment loads only SP).
  if (bits === 16 && d.state.gpr[4] >> 16n !== 0n) return undefined;
  const dec = new iced.Decoder(bits, d.code, fam.model ? decoderOptions(fam.model) : MODEL_DECODER_OPTIONS);
  try {
    let first: { mnemonic: string; flags: number; gprs: number[] } | undefined;
    let pos = 0;
    for (let n = 0; pos < d.code.length; n++) {
      dec.decodeOut(instr);
      if (instr.isInvalid) {
        if (!fam.allowInvalid || pos !== 0) return undefined;
        return { family: fam.name, bitness: bits, mnemonic: 'INVALID', code: d.code, state: d.state, patches: d.patches, undefinedFlags: 0, undefinedGprs: [] };
      }
      const mnemonic = mnemonicName(instr.mnemonic);
      if (fam.mnemonics && !fam.mnemonics.has(mnemonic)) return undefined;
      if (![...instr.cpuidFeatures()].every((x) => fam.features.has(featureName(x)))) return undefined;
      if (n === (d.focus ?? 0)) {
        const u = undefinedEffects(instr, d.state, d.ea, initialMemoryReader(pristine, d));
        first = { mnemonic, flags: u.flags, gprs: u.gprs };
      }
      pos += instr.length;
    }
    if (!first || pos !== d.code.length) return undefined;
    const c: TestCase = { family: fam.name, bitness: bits, mnemonic: first.mnemonic, code: d.code, state: d.state, patches: d.patches, undefinedFlags: first.flags, undefinedGprs: first.gprs };
    if (d.fxsaveAt !== undefined) c.memoryMask = fxsaveMask(d.fxsaveAt, first.mnemonic, onQemu(bits));
    if (d.masks?.length) c.memoryMask = [...(c.memoryMask ?? []), ...d.masks];
    return c;
  } finally {
    dec.free();
  }
}

export function generateCases(fam: Family, seed: number, count: number, pristine: Uint8Array, bits: Bits = 64): TestCase[] {
  const r = new Prng(seed);
  const out: TestCase[] = [];
  let attempts = 0;
  while (out.length < count) {
    if (++attempts > count * 50) throw new Error(`family ${fam.name}: generator rejects almost everything`);
    const d = fam.generate(r, bits);
    const c = d && accept(fam, d, pristine, bits);
    if (c) out.push(c);
  }
  return out;
}

/** The pristine window both sides start every case from. */
export function pristineWindow(): Uint8Array {
  const r = new Prng(0x77_1d0);
  const w = r.bytes(WINDOW_SIZE);
  // Some zero and all-ones stretches, so loads see those values too.
  w.fill(0, 0x3000, 0x3400);
  w.fill(0xff, 0x5000, 0x5400);
  return w;
}
