import type { FormSetter, Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import * as F from './f80.js';
import {
  C1, IE, SF, arith, commit, fcmov, fcom, fcomUnderflow, fcomi, fetch, fldcw, fldenv, fnsave, fnstcw, fnstenv, fnstswMem,
  frstor, fst, fxch, isEmpty, phys, pop, prologue, pushRes, record, setIndef, underflow,
} from './x87.js';
import { memArith, push, storeBcd, storeExt, storeInt, storeReal } from './x87-mem.js';
import { x87Control, x87Transcendental } from './x87-misc.js';

// The x87 instructions (D8-DF), one handler per form of the instruction table: by opcode, ModRM.reg
// digit, operand kind and, where one register digit holds several instructions (D9 E0-FF, FNINIT,
// FCOMPP...), ModRM.rm. No handler chooses by ModRM; an encoding without a form is #UD at decode.

/** ST(0) with ST(k): the body of a register form. */
type RegBody = (c: X86Cpu, k: number) => void;

/** A waiting register form: pending exceptions, then FOP/FIP, then the operation. */
function waitingReg(body: RegBody): Handler {
  return (c, i) => { prologue(c, true); record(c, i, 0); body(c, i.rm & 7); };
}
/** A waiting memory form that records FOP/FIP/FDP. */
function waitingMem(body: (c: X86Cpu, lin: number) => void): Handler {
  return (c, i) => { prologue(c, true); const lin = ea(c, i); record(c, i, lin); body(c, lin); };
}
/** A memory control form (environment, control and status words): leaves FOP/FIP/FDP alone. */
function controlMem(waiting: boolean, body: (c: X86Cpu, i: Insn, lin: number) => void): Handler {
  return (c, i) => { prologue(c, waiting); body(c, i, ea(c, i)); };
}

/** D8 /r: ST(0) = ST(0) op ST(k). */
const st0Arith = (kind: number): RegBody => (c, k) => {
  if (isEmpty(c, 0) || isEmpty(c, k)) { underflow(c, 0, false); return; }
  fetch(c, 0, 0); fetch(c, 1, k);
  arith(c, kind, 0, false);
};
/** DC /r and DE /r: ST(k) = ST(k) op ST(0), popping for DE (the reversed SUB/DIV digits swap). */
const stiArith = (digit: number, popAfter: boolean): RegBody => {
  const kind = digit >= 4 ? digit ^ 1 : digit;
  return (c, k) => {
    if (isEmpty(c, 0) || isEmpty(c, k)) { underflow(c, k, popAfter); return; }
    fetch(c, 0, k); fetch(c, 1, 0);
    arith(c, kind, k, popAfter);
  };
};
/** FCOM/FCOMP/FCOMPP (quiet: FUCOM...): compare ST(0) with ST(k), then pop `pops` registers. */
const compare = (quiet: boolean, pops: number): RegBody => (c, k) => {
  if (isEmpty(c, 0) || isEmpty(c, k)) { fcomUnderflow(c, pops, false); return; }
  fetch(c, 0, 0); fetch(c, 1, k);
  fcom(c, quiet, pops);
};
const fldSt: RegBody = (c, k) => {
  if (isEmpty(c, k)) { if (!commit(c, IE | SF)) return; c.x87.top = (c.x87.top - 1) & 7; setIndef(c, 0); return; } // underflow wins over overflow
  const s = c.x87.st, p = phys(c, k) * 3;
  F.res.se = s[p]; F.res.hi = s[p + 1]; F.res.lo = s[p + 2]; F.st.up = false;
  pushRes(c, 0);
};
const ffree: RegBody = (c, k) => { c.x87.empty |= 1 << phys(c, k); c.x87.sw &= ~C1; };
const ffreep: RegBody = (c, k) => { c.x87.empty |= 1 << phys(c, k); pop(c); };
const nothing: RegBody = () => {}; // FNOP; FNENI / FNDISI / FNSETPM are no-ops on a 387 and later
/** FNINIT, FNCLEX, FNSTSW AX: no wait for pending exceptions, FOP/FIP left alone. */
const noWait = (body: (c: X86Cpu) => void): Handler => (c) => { prologue(c, false); body(c); };

const ALL = [0, 1, 2, 3, 4, 5, 6, 7];

export function registerX87Forms(set: FormSetter): void {
  const reg = (op: number, digit: number, body: RegBody, rm?: number): void => set([op], digit, waitingReg(body), false, rm);
  const mem = (op: number, digit: number, body: (c: X86Cpu, lin: number) => void): void => set([op], digit, waitingMem(body), true);
  const control = (op: number, digit: number, waiting: boolean, body: (c: X86Cpu, i: Insn, lin: number) => void): void => {
    set([op], digit, controlMem(waiting, body), true);
  };

  // Arithmetic and compares with a memory operand: m32 real, m64 real, m32 int, m16 int.
  [0xd8, 0xdc, 0xda, 0xde].forEach((op, kind) => { for (const r of ALL) mem(op, r, (c, lin) => memArith(c, r, kind, lin)); });
  // Loads: FLD m32/m64/m80, FILD m32/m16/m64, FBLD.
  mem(0xd9, 0, (c, lin) => push(c, 0, lin));
  mem(0xdd, 0, (c, lin) => push(c, 1, lin));
  mem(0xdb, 0, (c, lin) => push(c, 2, lin));
  mem(0xdf, 0, (c, lin) => push(c, 3, lin));
  mem(0xdf, 5, (c, lin) => push(c, 4, lin));
  mem(0xdb, 5, (c, lin) => push(c, 5, lin));
  mem(0xdf, 4, (c, lin) => push(c, 6, lin));
  // Stores: FST(P) m32/m64, FIST(P) m32/m16, FISTP m64, FSTP m80, FBSTP; FISTTP (SSE3) has no form
  // while CPUID does not advertise SSE3 (x87-names.ts), so its registrations are skipped.
  for (const r of [2, 3]) {
    mem(0xd9, r, (c, lin) => storeReal(c, lin, 0, r === 3));
    mem(0xdd, r, (c, lin) => storeReal(c, lin, 1, r === 3));
    mem(0xdb, r, (c, lin) => storeInt(c, lin, 4, r === 3, false));
    mem(0xdf, r, (c, lin) => storeInt(c, lin, 2, r === 3, false));
  }
  mem(0xdf, 7, (c, lin) => storeInt(c, lin, 8, true, false));
  mem(0xdb, 7, storeExt);
  mem(0xdf, 6, storeBcd);
  mem(0xdb, 1, (c, lin) => storeInt(c, lin, 4, true, true));
  mem(0xdd, 1, (c, lin) => storeInt(c, lin, 8, true, true));
  mem(0xdf, 1, (c, lin) => storeInt(c, lin, 2, true, true));
  // Environment, control and status words: the FN forms do not wait.
  control(0xd9, 4, true, fldenv);
  control(0xd9, 5, true, fldcw);
  control(0xd9, 6, false, fnstenv);
  control(0xd9, 7, false, fnstcw);
  control(0xdd, 4, true, frstor);
  control(0xdd, 6, false, fnsave);
  control(0xdd, 7, false, fnstswMem);

  // Register forms.
  for (const r of ALL) {
    const isCompare = r === 2 || r === 3;
    reg(0xd8, r, isCompare ? compare(false, r - 2) : st0Arith(r));
    reg(0xdc, r, isCompare ? compare(false, r - 2) : stiArith(r, false)); // DC D0-DF: FCOM/FCOMP aliases
    if (r !== 3) reg(0xde, r, r === 2 ? compare(false, 1) : stiArith(r, true)); // DE D0-D7: FCOMP alias
  }
  reg(0xde, 3, compare(false, 2), 1); // FCOMPP
  reg(0xd9, 0, fldSt);
  for (const op of [0xd9, 0xdd, 0xdf]) reg(op, 1, fxch); // DD C8 and DF C8: FXCH aliases
  reg(0xd9, 2, nothing, 0); // FNOP
  reg(0xd9, 3, (c, k) => fst(c, k, true)); // FSTP1 alias (undocumented)
  for (let modrm = 0xe0; modrm <= 0xff; modrm++) {
    // D9 E0-FF: constants, FCHS FABS FTST FXAM, stack, FPREM..., and the transcendentals.
    const transcendental = modrm >= 0xf0 && ![0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xfa, 0xfc, 0xfd].includes(modrm);
    reg(0xd9, (modrm >> 3) & 7, transcendental ? (c) => x87Transcendental(c, modrm) : (c) => x87Control(c, modrm), modrm & 7);
  }
  reg(0xdd, 0, ffree);
  reg(0xdd, 2, (c, k) => fst(c, k, false));
  reg(0xdd, 3, (c, k) => fst(c, k, true));
  reg(0xdd, 4, compare(true, 0)); // FUCOM
  reg(0xdd, 5, compare(true, 1)); // FUCOMP
  for (let r = 0; r < 4; r++) {
    reg(0xda, r, (c, k) => fcmov(c, 0xda, r, k));
    reg(0xdb, r, (c, k) => fcmov(c, 0xdb, r, k));
  }
  reg(0xda, 5, compare(true, 2), 1); // FUCOMPP
  for (const rm of [0, 1, 4]) reg(0xdb, 4, nothing, rm); // FNENI FNDISI FNSETPM
  set([0xdb], 4, noWait((c) => x87Control(c, 0x1e2)), false, 2); // FNCLEX
  set([0xdb], 4, noWait((c) => x87Control(c, 0x1e3)), false, 3); // FNINIT
  set([0xdf], 4, noWait((c) => { c.r[0] = (c.r[0] & ~0xffff) | c.x87.status(); }), false, 0); // FNSTSW AX
  reg(0xdb, 5, (c, k) => fcomi(c, k, true, false)); // FUCOMI
  reg(0xdb, 6, (c, k) => fcomi(c, k, false, false)); // FCOMI
  reg(0xdf, 5, (c, k) => fcomi(c, k, true, true)); // FUCOMIP
  reg(0xdf, 6, (c, k) => fcomi(c, k, false, true)); // FCOMIP
  reg(0xdf, 0, ffreep);
  for (const r of [2, 3]) reg(0xdf, r, (c, k) => fst(c, k, true)); // DF D0-DF: FSTP aliases
}
