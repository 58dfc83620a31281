/**
 * iced-x86 mnemonics of the x87 encodings x87-forms.ts executes (D8-DF): the instruction table
 * (insn-table.ts) makes one form of each, and only those; anything else decodes as invalid (#UD).
 */
/** FISTTP is SSE3: x87-mem.ts executes it, but it decodes as invalid (#UD) while CPUID does not advertise SSE3. */
const FISTTP: string | undefined = undefined;
const ARITH = ['Fadd', 'Fmul', 'Fcom', 'Fcomp', 'Fsub', 'Fsubr', 'Fdiv', 'Fdivr'];
const IARITH = ['Fiadd', 'Fimul', 'Ficom', 'Ficomp', 'Fisub', 'Fisubr', 'Fidiv', 'Fidivr'];
const MEM: Record<number, (string | undefined)[]> = {
  0xd8: ARITH,
  0xdc: ARITH,
  0xda: IARITH,
  0xde: IARITH,
  0xd9: ['Fld', undefined, 'Fst', 'Fstp', 'Fldenv', 'Fldcw', 'Fnstenv', 'Fnstcw'],
  0xdb: ['Fild', FISTTP, 'Fist', 'Fistp', undefined, 'Fld', undefined, 'Fstp'],
  0xdd: ['Fld', FISTTP, 'Fst', 'Fstp', 'Frstor', undefined, 'Fnsave', 'Fnstsw'],
  0xdf: ['Fild', FISTTP, 'Fist', 'Fistp', 'Fbld', 'Fild', 'Fbstp', 'Fistp'],
};
const REG_D8 = ['Fadd', 'Fmul', 'Fcom', 'Fcomp', 'Fsub', 'Fsubr', 'Fdiv', 'Fdivr'];
const REG_DC = ['Fadd', 'Fmul', 'Fcom', 'Fcomp', 'Fsubr', 'Fsub', 'Fdivr', 'Fdiv'];
const REG_DE = ['Faddp', 'Fmulp', 'Fcomp', undefined, 'Fsubrp', 'Fsubp', 'Fdivrp', 'Fdivp'];
const D9_E0: (string | undefined)[] = [
  'Fchs', 'Fabs', undefined, undefined, 'Ftst', 'Fxam', undefined, undefined,
  'Fld1', 'Fldl2t', 'Fldl2e', 'Fldpi', 'Fldlg2', 'Fldln2', 'Fldz', undefined,
  'F2xm1', 'Fyl2x', 'Fptan', 'Fpatan', 'Fxtract', 'Fprem1', 'Fdecstp', 'Fincstp',
  'Fprem', 'Fyl2xp1', 'Fsqrt', 'Fsincos', 'Frndint', 'Fscale', 'Fsin', 'Fcos',
];
const FCMOV_DA = ['Fcmovb', 'Fcmove', 'Fcmovbe', 'Fcmovu'];
const FCMOV_DB = ['Fcmovnb', 'Fcmovne', 'Fcmovnbe', 'Fcmovnu'];

export function x87Name(op: number, isMem: boolean, reg: number, rm: number): string | undefined {
  const r = reg & 7;
  if (isMem) return MEM[op]?.[r];
  const modrm = 0xc0 | (r << 3) | (rm & 7);
  switch (op) {
    case 0xd8: return REG_D8[r];
    case 0xdc: return REG_DC[r];
    case 0xde: return r === 3 ? (modrm === 0xd9 ? 'Fcompp' : undefined) : REG_DE[r];
    case 0xd9:
      if (r === 0) return 'Fld';
      if (r === 1) return 'Fxch';
      if (r === 2) return modrm === 0xd0 ? 'Fnop' : undefined;
      if (r === 3) return 'Fstpnce';
      return D9_E0[modrm - 0xe0];
    case 0xda:
      if (r < 4) return FCMOV_DA[r];
      return modrm === 0xe9 ? 'Fucompp' : undefined;
    case 0xdb:
      if (r < 4) return FCMOV_DB[r];
      if (r === 5) return 'Fucomi';
      if (r === 6) return 'Fcomi';
      if (r === 4) return modrm === 0xe2 ? 'Fnclex' : modrm === 0xe3 ? 'Fninit' : modrm === 0xe0 ? 'Fneni' : modrm === 0xe1 ? 'Fndisi' : modrm === 0xe4 ? 'Fnsetpm' : undefined;
      return undefined;
    case 0xdd: return ['Ffree', 'Fxch', 'Fst', 'Fstp', 'Fucom', 'Fucomp', undefined, undefined][r];
    case 0xdf:
      if (r === 4) return modrm === 0xe0 ? 'Fnstsw' : undefined;
      return ['Ffreep', 'Fxch', 'Fstp', 'Fstp', undefined, 'Fucomip', 'Fcomip', undefined][r];
  }
  return undefined;
}
