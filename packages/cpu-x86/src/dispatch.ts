import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { registerAlu, registerAluForms } from './exec-alu.js';
import { registerShift, registerShiftForms } from './exec-shift.js';
import { registerMulDiv, registerMulDivForms } from './exec-muldiv.js';
import { registerMove, registerMoveForms } from './exec-move.js';
import { registerStack, registerStackForms } from './exec-stack.js';
import { registerControl, registerControlForms } from './exec-control.js';
import { registerString } from './exec-string.js';
import { registerSystem, registerSystemForms } from './exec-system.js';
import { registerBits, registerBitsForms } from './exec-bits.js';
import { registerSse, registerSseForms } from './sse.js';
import { registerX87 } from './x87.js';
import { registerX87Forms } from './x87-forms.js';
import { registerBmi } from './exec-bmi.js';
import { registerXsaveForms } from './exec-xsave.js';
import { registerLegacy } from './exec-legacy.js';
import { OP_COUNT } from './isa.js';
import { FORM_COUNT, formAt, formsAt } from './insn-table.js';

export type Handler = (c: X86Cpu, i: Insn) => void;
/**
 * Registers the handler of some forms of a group: its opcodes, ModRM.reg digit, operand kind (both if
 * `mem` is absent) and, for register forms the table tells apart by ModRM.rm, rm (every rm if absent).
 */
export type FormSetter = (ops: readonly number[], digit: number, h: Handler, mem?: boolean, rm?: number) => void;
/** Registers the handlers of an SSE opcode's mandatory-prefix forms: none, 66, F3, F2 (undefined: no such form). */
export type PrefixFormSetter = (op: number, ...byPrefix: (Handler | undefined)[]) => void;

export function undefinedOpcode(c: X86Cpu): void {
  c.fault(6);
}

/** One handler per opcode id (see Insn.op); a group's goes through FORM_HANDLERS. */
export const HANDLERS: Handler[] = new Array(OP_COUNT).fill(undefinedOpcode);

registerAlu(HANDLERS);
registerShift(HANDLERS);
registerMulDiv(HANDLERS);
registerMove(HANDLERS);
registerStack(HANDLERS);
registerControl(HANDLERS);
registerString(HANDLERS);
registerSystem(HANDLERS);
registerBits(HANDLERS);
registerSse(HANDLERS);
registerX87(HANDLERS);
registerBmi(HANDLERS);
registerLegacy(HANDLERS);

/**
 * Handlers per form (insn-table.ts) for the groups (80-83, 8F, C0/C1, C6/C7, D0-D3, F6/F7, FE, FF,
 * 0F 00, 0F 01, 0F AE, 0F BA, 0F C7, XSAVE), x87 (D8-DF) and SSE/SSE2 (0F map): the ModRM.reg digit, the operand
 * kind and the mandatory prefix are resolved at decode time, so a block runs the form's handler directly.
 */
export const FORM_HANDLERS: (Handler | undefined)[] = new Array(FORM_COUNT).fill(undefined);

const setForm: FormSetter = (ops, digit, h, kind, onlyRm) => {
  for (const op of ops) {
    for (const mem of kind === undefined ? [false, true] : [kind]) {
      // Any mandatory prefix the group's forms take (66 0F 71-73), any rm unless one is named.
      for (const form of formsAt(op, digit, mem, onlyRm)) { FORM_HANDLERS[form] = h; HANDLERS[op] = viaForm; }
    }
  }
};
const setPrefixForms: PrefixFormSetter = (op, ...byPrefix) => {
  const id = 0x100 | op;
  byPrefix.forEach((h, pfx) => {
    if (h === undefined) return;
    // The register and memory forms (one of them when the other does not exist; MOVHLPS beside MOVLPS).
    const forms = [formAt(id, 0, false, pfx), formAt(id, 0, true, pfx)].filter((f) => f !== 0);
    if (forms.length === 0) throw new Error(`no form for 0F ${op.toString(16)} prefix variant ${pfx}`);
    for (const form of forms) FORM_HANDLERS[form] = h;
    HANDLERS[id] = viaForm;
  });
};
/** A group opcode's handler outside blocks (X86Cpu.step): its form's. */
export function viaForm(c: X86Cpu, i: Insn): void {
  (FORM_HANDLERS[i.form] ?? undefinedOpcode)(c, i);
}
registerAluForms(setForm);
registerShiftForms(setForm);
registerMulDivForms(setForm);
registerControlForms(setForm);
registerSseForms(setPrefixForms, setForm);
registerSystemForms(setForm);
registerBitsForms(setForm);
registerMoveForms(setForm);
registerStackForms(setForm);
registerXsaveForms(setForm);
registerX87Forms(setForm);
