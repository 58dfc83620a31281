// Random byte strings biased toward plausible x86 encodings: legacy prefixes, REX, the 0F/0F38/0F3A
// maps, VEX/EVEX/XOP escapes, ModRM forms. Every string is 15 bytes (the longest legal instruction),
// so the decoder never runs out of bytes.
import type { Prng } from './prng.js';

const LEGACY_PREFIXES = [0x66, 0x66, 0x67, 0xf2, 0xf3, 0xf3, 0xf0, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65];
const MODRM_MOD_WEIGHTS = [0x00, 0x00, 0x40, 0x80, 0xc0, 0xc0, 0xc0];

export function randomInstructionBytes(r: Prng, bitness: 16 | 32 | 64): Uint8Array {
  const out: number[] = [];
  const prefixCount = r.pick([0, 0, 0, 1, 1, 2, 3, 4]);
  for (let i = 0; i < prefixCount; i++) out.push(r.pick(LEGACY_PREFIXES));
  if (bitness === 64 && r.chance(0.4)) out.push(0x40 | r.int(16));
  const map = r.int(100);
  if (map < 50) out.push(r.int(256));
  else if (map < 85) out.push(0x0f, r.int(256));
  else if (map < 91) out.push(0x0f, 0x38, r.int(256));
  else if (map < 96) out.push(0x0f, 0x3a, r.int(256));
  else out.push(r.pick([0xc4, 0xc5, 0x62, 0x8f]), r.int(256), r.int(256));
  // ModRM with a realistic mod distribution, then SIB/displacement/immediate material.
  out.push(r.pick(MODRM_MOD_WEIGHTS) | (r.int(8) << 3) | r.int(8));
  while (out.length < 15) out.push(r.int(256));
  return Uint8Array.from(out.slice(0, 15));
}
