// Encodings of every form of the instruction table (src/insn-table.ts), found by decoding the opcode
// space: each legacy map opcode (one-byte, 0F, 0F 38 F0/F1) and the VEX BMI opcodes, under each
// mandatory prefix (and REX.W in 64-bit mode), with every ModRM byte. The table tests check each form
// against iced-x86 through these encodings, so no form is left out for want of a test vector.
import { decodeInsn } from '../../src/index.js';
import type { Insn } from '../../src/insn.js';

export interface FormExample {
  bytes: Uint8Array;
  bitness: 16 | 32 | 64;
  ins: Insn;
}

/** The first encodings found per form, per mode: one with a register operand, one with memory. */
export function formExamples(): Map<number, FormExample[]> {
  const found = new Map<number, FormExample[]>();
  const seen = new Set<string>();
  const tail = new Array(10).fill(0);
  const take = (bitness: 16 | 32 | 64, head: number[]): void => {
    const bytes = Uint8Array.from([...head, ...tail]);
    const ins = decodeInsn(bytes, bitness, 'max');
    if (!ins.valid || ins.len === 0 || ins.form === 0) return;
    const key = `${ins.form}/${bitness}/${ins.isMem}`;
    if (seen.has(key)) return;
    seen.add(key);
    const list = found.get(ins.form) ?? [];
    list.push({ bytes: bytes.slice(0, ins.len), bitness, ins });
    found.set(ins.form, list);
  };
  for (const bitness of [16, 32, 64] as const) {
    const prefixes: number[][] = [[], [0x66], [0xf3], [0xf2]];
    if (bitness === 64) prefixes.push([0x48], [0x66, 0x48], [0xf3, 0x48], [0xf2, 0x48]);
    for (const p of prefixes) {
      for (let b = 0; b < 256; b++) {
        const head = b === 0x0f ? [] : [...p, b];
        for (let m = 0; m < 256; m++) {
          if (b !== 0x0f) take(bitness, [...head, m]);
          take(bitness, [...p, 0x0f, b, m]);
        }
      }
      for (const b of [0xf0, 0xf1]) for (let m = 0; m < 256; m++) take(bitness, [...p, 0x0f, 0x38, b, m]);
    }
    // VEX (three-byte C4: R X B set, map 0F38 or 0F3A; W, vvvv = 0, L = 0 and each pp).
    for (const [map, ops] of [[0xe2, [0xf2, 0xf3, 0xf5, 0xf6, 0xf7]], [0xe3, [0xf0]]] as const) {
      for (const w of [0, 0x80]) {
        for (let pp = 0; pp < 4; pp++) {
          for (const op of ops) for (let m = 0; m < 256; m++) take(bitness, [0xc4, map, w | 0x78 | pp, op, m]);
        }
      }
    }
  }
  return found;
}
