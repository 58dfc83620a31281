import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { registerAlu } from './exec-alu.js';
import { registerShift } from './exec-shift.js';
import { registerMulDiv } from './exec-muldiv.js';
import { registerMove } from './exec-move.js';
import { registerStack } from './exec-stack.js';
import { registerControl } from './exec-control.js';
import { registerString } from './exec-string.js';
import { registerSystem } from './exec-system.js';
import { registerBits } from './exec-bits.js';
import { registerSse } from './sse.js';
import { registerX87 } from './x87.js';
import { registerBmi } from './exec-bmi.js';
import { registerXsave } from './exec-xsave.js';
import { registerLegacy } from './exec-legacy.js';
import { OP_COUNT } from './isa.js';

export type Handler = (c: X86Cpu, i: Insn) => void;

function undefinedOpcode(c: X86Cpu): void {
  c.fault(6);
}

/** One handler per opcode id (see Insn.op); groups dispatch further on ModRM.reg. */
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
registerXsave(HANDLERS);
registerLegacy(HANDLERS);
