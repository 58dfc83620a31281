// The whole SSE/SSE2 part of the 0F map against iced-x86: every opcode byte with every mandatory-prefix
// combination, REX and ModRM byte, in 16-, 32- and 64-bit mode. An encoding iced decodes to an SSE/SSE2
// instruction without MMX registers must decode to the same name and length; anything else there (MMX
// forms, SSE3+, invalid encodings) must be invalid for us, since the CPU does not advertise it.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type * as Iced from 'iced-x86';
import { decode } from '../../src/index.js';

const iced = createRequire(import.meta.url)('iced-x86') as typeof Iced;
// No BMI1/LZCNT in our model: F3 0F BC/BD are BSF/BSR (outside the opcodes below anyway).
const OPTIONS = iced.DecoderOptions.NoMPFX_0FBC | iced.DecoderOptions.NoMPFX_0FBD;
const SSE_ONLY = new Set(['SSE', 'SSE2']);

const OPCODES = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f];
for (let op = 0x50; op <= 0x7f; op++) if (op !== 0x77) OPCODES.push(op);
OPCODES.push(0xc2, 0xc3, 0xc4, 0xc5, 0xc6);
for (let op = 0xd0; op <= 0xfe; op++) OPCODES.push(op); // 0F FF is UD0
const PREFIXES = [[], [0x66], [0xf3], [0xf2], [0x66, 0xf3], [0xf2, 0x66], [0xf3, 0xf2], [0xf0]];
const TAIL = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11];

function usesMmx(i: Iced.Instruction): boolean {
  for (let k = 0; k < i.opCount; k++) {
    if (i.opKind(k) !== iced.OpKind.Register) continue;
    const r = i.opRegister(k);
    if (r >= iced.Register.MM0 && r <= iced.Register.MM7) return true;
  }
  return false;
}

describe('SSE/SSE2 opcode space vs iced-x86', () => {
  for (const mode of [16, 32, 64] as const) {
    it(`${mode}-bit: every prefix, opcode and ModRM`, () => {
      const instr = new iced.Instruction();
      const wrong: string[] = [];
      let compared = 0;
      for (const pfx of PREFIXES) {
        for (const rex of mode === 64 ? [0, 0x4d] : [0]) {
          for (const op of OPCODES) {
            for (let modrm = 0; modrm < 256; modrm++) {
              const bytes = Uint8Array.from([...pfx, ...(rex ? [rex] : []), 0x0f, op, modrm, ...TAIL]);
              const dec = new iced.Decoder(mode, bytes, OPTIONS);
              dec.decodeOut(instr);
              dec.free();
              const features = [...instr.cpuidFeatures()].map((f) => iced.CpuidFeature[f]);
              const ours = !instr.isInvalid && features.every((f) => SSE_ONLY.has(f)) && !usesMmx(instr);
              const want = ours ? `${iced.Mnemonic[instr.mnemonic]}/${instr.length}` : 'invalid';
              const d = decode(bytes, mode);
              const got = d.valid ? `${d.mnemonic}/${d.length}` : 'invalid';
              compared++;
              if (got !== want && wrong.length < 20) wrong.push(`${Array.from(bytes.subarray(0, pfx.length + (rex ? 4 : 3)), (b) => b.toString(16).padStart(2, '0')).join(' ')}: iced ${want}, ours ${got}`);
            }
          }
        }
      }
      instr.free();
      expect(compared).toBeGreaterThan(50_000);
      expect(wrong).toEqual([]);
    });
  }
});
