// Jcc handlers, one per condition (70-7F, 0F 80-8F), chosen when a block is decoded: the run loop
// recognises them (exec-inline.ts) and evaluates the condition itself; the WebAssembly tier's call-outs
// run them. Either way the condition is LazyFlags.cond(), whose fast path reads a CMP/SUB's operands.
import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { branchTarget } from './operands.js';

function jcc(cc: number): Handler {
  return (c: X86Cpu, i: Insn) => {
    if (c.fl.cond(cc)) c.nextRip = branchTarget(c, c.nextRip + i.imm, i.size);
  };
}

/** By condition code (O NO B AE Z NZ BE A S NS P NP L GE LE G). */
export const BY_CONDITION: Handler[] = Array.from({ length: 16 }, (_, cc) => jcc(cc));

/** The handler of a Jcc (70-7F, 0F 80-8F), or undefined for anything else. */
export function jccHandler(ins: Insn): Handler | undefined {
  const op = ins.op;
  if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) return BY_CONDITION[op & 15];
  return undefined;
}
