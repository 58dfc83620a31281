export { X86Cpu, type X86CpuOptions } from './cpu.js';
export { Insn } from './insn.js';
import { Insn } from './insn.js';
import { decodeInto } from './decoder.js';
import { mnemonicOf } from './mnemonics.js';

export interface DecodedInfo {
  /** Bytes consumed (0 if invalid). */
  length: number;
  /** False when executing it raises #UD. */
  valid: boolean;
  /** iced-x86 Mnemonic name, e.g. 'Add', 'Mov', 'Movaps'. */
  mnemonic: string;
}

/** Decode one instruction without executing it (for conformance tests and tools). */
export function decode(bytes: Uint8Array, mode: 16 | 32 | 64): DecodedInfo {
  const ins = new Insn();
  decodeInto(ins, bytes, 0, bytes.length, mode);
  const valid = ins.valid && ins.len > 0;
  return { length: valid ? ins.len : 0, valid, mnemonic: valid ? mnemonicOf(ins) : 'INVALID' };
}

/** The structured decoded form, for tools (e.g. a future code generator). */
export function decodeInsn(bytes: Uint8Array, mode: 16 | 32 | 64): Insn {
  const ins = new Insn();
  decodeInto(ins, bytes, 0, bytes.length, mode);
  return ins;
}
