import type { Insn } from './insn.js';
import { formName } from './insn-table.js';

/** iced-x86 Mnemonic name of a decoded instruction, from its form (insn-table.ts); not on the execution path. */
export function mnemonicOf(i: Insn): string {
  return i.valid ? formName(i, i.form) : 'INVALID';
}
