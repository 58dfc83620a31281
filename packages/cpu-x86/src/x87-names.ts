/**
 * The x87 forms x87.ts executes, with their iced-x86 mnemonics. Anything else in D8-DF decodes as
 * invalid (executing it raises #UD), so decode() and execution agree.
 */
const ARITH_D8 = ['Fadd', 'Fmul', '', '', 'Fsub', 'Fsubr', 'Fdiv', 'Fdivr'];
const ARITH_DC = ['Fadd', 'Fmul', '', '', 'Fsubr', 'Fsub', 'Fdivr', 'Fdiv'];
const ARITH_DE = ['Faddp', 'Fmulp', '', '', 'Fsubrp', 'Fsubp', 'Fdivrp', 'Fdivp'];
const D9_REG: Record<number, string> = { 0xe8: 'Fld1', 0xee: 'Fldz', 0xeb: 'Fldpi', 0xe0: 'Fchs', 0xe1: 'Fabs', 0xfa: 'Fsqrt', 0xd0: 'Fnop' };

export function x87Name(op: number, isMem: boolean, reg: number, rm: number): string | undefined {
  const r = reg & 7;
  if (isMem) {
    switch ((op << 3) | r) {
      case (0xd9 << 3) | 0: case (0xdd << 3) | 0: return 'Fld';
      case (0xd9 << 3) | 2: case (0xdd << 3) | 2: return 'Fst';
      case (0xd9 << 3) | 3: case (0xdd << 3) | 3: return 'Fstp';
      case (0xd9 << 3) | 5: return 'Fldcw';
      case (0xd9 << 3) | 7: return 'Fnstcw';
      case (0xdd << 3) | 7: return 'Fnstsw';
      case (0xdb << 3) | 0: case (0xdf << 3) | 5: return 'Fild';
      case (0xdb << 3) | 3: case (0xdf << 3) | 7: return 'Fistp';
    }
    return undefined;
  }
  const modrm = 0xc0 | (r << 3) | (rm & 7);
  switch (op) {
    case 0xd8: return ARITH_D8[r] || undefined;
    case 0xd9: return D9_REG[modrm] ?? (r === 0 ? 'Fld' : r === 1 ? 'Fxch' : undefined);
    case 0xdb: return modrm === 0xe3 ? 'Fninit' : modrm === 0xe2 ? 'Fnclex' : undefined;
    case 0xdc: return ARITH_DC[r] || undefined;
    case 0xdd: return r === 0 ? 'Ffree' : r === 2 ? 'Fst' : r === 3 ? 'Fstp' : undefined;
    case 0xde: return ARITH_DE[r] || undefined;
    case 0xdf: return modrm === 0xe0 ? 'Fnstsw' : undefined;
  }
  return undefined;
}
