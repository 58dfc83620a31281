// Which instructions the run loop (X86Cpu.runBlock) executes inline instead of calling their handler:
// the register forms that dominate compiled code (counted on the bench/cpu images: MOV, ADD, SUB, CMP,
// AND, OR, XOR, TEST between 32/64-bit registers or with an immediate, INC/DEC r32, Jcc). A call per
// instruction through the handler array costs more than these ops themselves. The kind is derived
// from the handler handlerFor() chose, so an inline op does exactly what that handler does (the
// inline bodies in X86Cpu.runBlock mirror exec-alu-reg32.ts, exec-alu-reg64.ts, exec-move-reg.ts and
// exec-jcc.ts; runBlock's case labels are these values as literals).
import type { Handler } from './dispatch.js';
import type { Insn } from './insn.js';
import { AI, EG, EI, GE, testAI, testEG, testEI } from './exec-alu-reg32.js';
import { AI64, EG64, EI64, GE64, testEG64 } from './exec-alu-reg64.js';
import { movRR32EG, movRR32GE, movRR64EG, movRR64GE } from './exec-move-reg.js';
import { BY_CONDITION } from './exec-jcc.js';
import { decE32, decR32, incE32, incR32 } from './exec-fast.js';

export const K_CALL = 0;
export const K_MOV32 = 1;
export const K_MOV64 = 2;
/** + ALU op (0 ADD, 1 OR, 4 AND, 5 SUB, 6 XOR, 7 CMP); + 8 is TEST. */
export const K_ALU32_RR = 10;
export const K_ALU32_RI = 20;
export const K_ALU64_RR = 30;
export const K_ALU64_RI = 40;
export const K_INC32 = 50;
export const K_DEC32 = 51;
export const K_JCC = 60;

const TEST = 8;

/** Operands: where the destination and the source come from in each form. */
const enum Form { EG, GE, EI, AI, OP_REG }

const KINDS = new Map<Handler, { kind: number; form: Form }>();

function add(fn: Handler | undefined, kind: number, form: Form): void {
  if (fn !== undefined) KINDS.set(fn, { kind, form });
}
for (let op = 0; op < 8; op++) {
  add(EG[op], K_ALU32_RR + op, Form.EG);
  add(GE[op], K_ALU32_RR + op, Form.GE);
  add(EI[op], K_ALU32_RI + op, Form.EI);
  add(AI[op], K_ALU32_RI + op, Form.AI);
  add(EG64[op], K_ALU64_RR + op, Form.EG);
  add(GE64[op], K_ALU64_RR + op, Form.GE);
  add(EI64[op], K_ALU64_RI + op, Form.EI);
  add(AI64[op], K_ALU64_RI + op, Form.AI);
}
add(testEG, K_ALU32_RR + TEST, Form.EG);
add(testEI, K_ALU32_RI + TEST, Form.EI);
add(testAI, K_ALU32_RI + TEST, Form.AI);
add(testEG64, K_ALU64_RR + TEST, Form.EG);
add(movRR32EG, K_MOV32, Form.EG);
add(movRR32GE, K_MOV32, Form.GE);
add(movRR64EG, K_MOV64, Form.EG);
add(movRR64GE, K_MOV64, Form.GE);
add(incR32, K_INC32, Form.OP_REG);
add(decR32, K_DEC32, Form.OP_REG);
add(incE32, K_INC32, Form.EI);
add(decE32, K_DEC32, Form.EI);

/** Set ins.fast / fd / fs for a block instruction whose handler is `fn` (K_CALL: not inline). */
export function setInlineKind(ins: Insn, fn: Handler): void {
  ins.fast = K_CALL;
  const cc = BY_CONDITION.indexOf(fn);
  if (cc >= 0) {
    ins.fast = K_JCC;
    ins.fd = cc;
    return;
  }
  const k = KINDS.get(fn);
  if (k === undefined) return;
  ins.fast = k.kind;
  switch (k.form) {
    case Form.EG: ins.fd = 2 * ins.rm; ins.fs = 2 * ins.reg; break;
    case Form.GE: ins.fd = 2 * ins.reg; ins.fs = 2 * ins.rm; break;
    case Form.EI: ins.fd = 2 * ins.rm; break;
    case Form.AI: ins.fd = 0; break;
    case Form.OP_REG: ins.fd = 2 * (ins.op & 7); break;
  }
}

