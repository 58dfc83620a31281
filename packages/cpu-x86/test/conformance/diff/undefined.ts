// What Intel documents as undefined after an instruction, per mnemonic: the flags (and rarely a
// destination register) the differential comparison must not look at. The ONE place for this table.
// References are to the Intel SDM Vol. 2 "Flags Affected" section of each instruction.
import { iced, type IcedInstruction } from '../iced.js';
import type { CpuState } from './state.js';

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ALL = CF | PF | AF | ZF | SF | OF;

export interface Undefined {
  flags: number;
  /** GPR indexes whose final value is undefined. */
  gprs: number[];
}

const NONE: Undefined = { flags: 0, gprs: [] };

interface Ctx {
  size: number; // destination operand size in bits
  count: number; // shift/rotate count as encoded (before masking)
  srcIsZero: boolean | undefined; // BSF/BSR source
  dest: number | undefined; // destination GPR index
}

type Rule = (c: Ctx) => Undefined;
const flags = (f: number): Undefined => ({ flags: f, gprs: [] });

/** Shift count masking: 5 bits, 6 with a 64-bit operand (SDM SAL/SAR/SHL/SHR "count is masked"). */
const masked = (c: Ctx) => c.count & (c.size === 64 ? 63 : 31);

const RULES: Record<string, Rule> = {
  // AND/OR/XOR/TEST: "The OF and CF flags are cleared; SF, ZF, PF set per result. AF is undefined."
  And: () => flags(AF), Or: () => flags(AF), Xor: () => flags(AF), Test: () => flags(AF),
  // MUL/IMUL: "The SF, ZF, AF, and PF flags are undefined."
  Mul: () => flags(SF | ZF | AF | PF), Imul: () => flags(SF | ZF | AF | PF),
  // DIV/IDIV: "The CF, OF, SF, ZF, AF, and PF flags are undefined."
  Div: () => flags(ALL), Idiv: () => flags(ALL),
  // BT/BTS/BTR/BTC: "CF contains the selected bit. ZF is unaffected. OF, SF, AF, PF are undefined."
  Bt: () => flags(OF | SF | AF | PF), Bts: () => flags(OF | SF | AF | PF), Btr: () => flags(OF | SF | AF | PF), Btc: () => flags(OF | SF | AF | PF),
  // BSF/BSR: "ZF is set if the source is 0, else cleared. CF, OF, SF, AF, PF are undefined." The
  // destination is undefined when the source is 0 (AMD documents it unchanged; Intel: undefined).
  Bsf: (c) => ({ flags: CF | OF | SF | AF | PF, gprs: c.srcIsZero && c.dest !== undefined ? [c.dest] : [] }),
  Bsr: (c) => ({ flags: CF | OF | SF | AF | PF, gprs: c.srcIsZero && c.dest !== undefined ? [c.dest] : [] }),
  // SAL/SAR/SHL/SHR: count 0 leaves flags alone. "OF is affected only for 1-bit shifts, otherwise
  // undefined. AF is undefined for a non-zero count. CF is undefined for SHL and SHR where the count
  // is greater than or equal to the size of the destination operand."
  Shl: (c) => shiftRule(c, true), Sal: (c) => shiftRule(c, true), Shr: (c) => shiftRule(c, true), Sar: (c) => shiftRule(c, false),
  // RCL/RCR/ROL/ROR: "If the masked count is 0, the flags are not affected. If the masked count is 1,
  // OF is affected, otherwise (masked count > 1) OF is undefined." CF is defined.
  Rol: (c) => flags(masked(c) > 1 ? OF : 0), Ror: (c) => flags(masked(c) > 1 ? OF : 0),
  Rcl: (c) => flags(masked(c) > 1 ? OF : 0), Rcr: (c) => flags(masked(c) > 1 ? OF : 0),
  // SHLD/SHRD: "If the count is 1 or greater, CF gets the last bit shifted out and SF, ZF, PF are set
  // per result; for a 1-bit shift OF is set, otherwise OF is undefined; AF is undefined. If the count
  // is greater than the operand size, the flags are undefined." (and so is the destination: the
  // generator never makes 16-bit counts above 16)
  Shld: (c) => shldRule(c), Shrd: (c) => shldRule(c),
  // DAA/DAS: "The OF flag is undefined." AAA/AAS: "The OF, SF, ZF, and PF flags are undefined."
  // AAM/AAD: "The OF, AF, and CF flags are undefined."
  Daa: () => flags(OF), Das: () => flags(OF),
  Aaa: () => flags(OF | SF | ZF | PF), Aas: () => flags(OF | SF | ZF | PF),
  Aam: () => flags(OF | AF | CF), Aad: () => flags(OF | AF | CF),
  // TZCNT/LZCNT: "ZF is set to 1 in case of zero output ... CF is set to 1 if the input was zero.
  // The OF, SF, PF and AF flags are undefined."
  Tzcnt: () => flags(OF | SF | PF | AF), Lzcnt: () => flags(OF | SF | PF | AF),
  // ANDN: "SF and ZF are updated; OF and CF are cleared; AF and PF are undefined." BLSI/BLSR (ZF SF
  // updated, CF per source, OF cleared), BLSMSK (SF updated, ZF OF cleared), BZHI (ZF SF updated, CF if
  // the index is out of range, OF cleared): "AF and PF are undefined." BEXTR: "ZF is updated; CF and OF
  // are cleared; AF, SF and PF are undefined."
  Andn: () => flags(AF | PF), Blsi: () => flags(AF | PF), Blsmsk: () => flags(AF | PF), Blsr: () => flags(AF | PF),
  Bzhi: () => flags(AF | PF), Bextr: () => flags(AF | SF | PF),
};

function shiftRule(c: Ctx, cfUndefinedPastSize: boolean): Undefined {
  const n = masked(c);
  if (n === 0) return NONE;
  let f = AF;
  if (n > 1) f |= OF;
  if (cfUndefinedPastSize && n >= c.size) f |= CF;
  return flags(f);
}

function shldRule(c: Ctx): Undefined {
  const n = masked(c);
  if (n === 0) return NONE;
  if (n > c.size) return flags(ALL);
  return flags(AF | (n > 1 ? OF : 0));
}

// x87 condition codes C0, C2, C3 (FSW bits 8, 10, 14) are "undefined" after most instructions; the
// compares, FXAM, FPREM and the instructions that only move control/status words define them (or leave
// them alone). C1 is defined (rounding direction or stack fault) everywhere.
const X87_CC_DEFINED = new Set([
  'Fcom', 'Fcomp', 'Fcompp', 'Fucom', 'Fucomp', 'Fucompp', 'Ficom', 'Ficomp', 'Ftst', 'Fxam', 'Fprem', 'Fprem1',
  'Fcomi', 'Fcomip', 'Fucomi', 'Fucomip', 'Fnstsw', 'Fnstcw', 'Fnclex', 'Fninit', 'Fincstp', 'Fdecstp', 'Ffree', 'Fcmovb',
  'Fcmove', 'Fcmovbe', 'Fcmovu', 'Fcmovnb', 'Fcmovne', 'Fcmovnbe', 'Fcmovnu', 'Fnop',
  'Fnstenv', 'Fnsave', 'Fldenv', 'Frstor', 'Wait', 'Fstsw',
]);

/**
 * Bits of an FXSAVE image (at window offset `at`) that may differ for reasons outside the instruction:
 * FOP, FIP/FCS and FDP/FDS (what they record differs between vendors: AMD saves them only with a
 * pending exception), MXCSR_MASK (a model constant), and the undefined x87 condition codes.
 */
export function fxsaveMask(at: number, mnemonic: string, qemu = false): { offset: number; mask: number }[] {
  const out: { offset: number; mask: number }[] = [];
  if (qemu) {
    // QEMU's FXSAVE writes only the 10 bytes of each ST register and leaves bytes 10..15 of its slot
    // as they were (hardware writes zeros; the SDM calls them reserved). QEMU's softfloat x87 never
    // sets C1 for a rounded-up result (FSW bit 9).
    for (let i = 0; i < 8; i++) for (let k = 10; k < 16; k++) out.push({ offset: at + 32 + 16 * i + k, mask: 0 });
    out.push({ offset: at + 3, mask: 0xff & ~0x02 });
  }
  for (let i = 6; i < 24; i++) out.push({ offset: at + i, mask: 0 }); // FOP, FIP, FCS, FDP, FDS
  for (let i = 28; i < 32; i++) out.push({ offset: at + i, mask: 0 }); // MXCSR_MASK
  if (!X87_CC_DEFINED.has(mnemonic)) {
    out.push({ offset: at + 3, mask: 0xff & ~(0x01 | 0x04 | 0x40) }); // FSW high byte: C0 bit 8, C2 bit 10, C3 bit 14
  }
  return out;
}

const REGISTER_INFO = buildRegisterInfo();

/** iced Register -> [GPR index, size in bits, high-byte register (AH..BH)]. */
function buildRegisterInfo(): Map<number, [number, number, boolean]> {
  const m = new Map<number, [number, number, boolean]>();
  const R = iced.Register as unknown as Record<string, number>;
  const legacy = ['AX', 'CX', 'DX', 'BX', 'SP', 'BP', 'SI', 'DI'];
  legacy.forEach((n, i) => {
    m.set(R['R' + n], [i, 64, false]);
    m.set(R['E' + n], [i, 32, false]);
    m.set(R[n], [i, 16, false]);
  });
  ['AL', 'CL', 'DL', 'BL', 'SPL', 'BPL', 'SIL', 'DIL'].forEach((n, i) => m.set(R[n], [i, 8, false]));
  ['AH', 'CH', 'DH', 'BH'].forEach((n, i) => m.set(R[n], [i, 8, true]));
  for (let i = 8; i < 16; i++) {
    m.set(R[`R${i}`], [i, 64, false]);
    m.set(R[`R${i}D`], [i, 32, false]);
    m.set(R[`R${i}W`], [i, 16, false]);
    m.set(R[`R${i}L`], [i, 8, false]);
  }
  return m;
}

export function gprInfo(reg: number): [number, number, boolean] | undefined {
  return REGISTER_INFO.get(reg);
}

const MEMORY_BITS: Record<string, number> = { UInt8: 8, Int8: 8, UInt16: 16, Int16: 16, UInt32: 32, Int32: 32, UInt64: 64, Int64: 64 };

/**
 * The undefined effects of `instr` started from `st`. `readMem(address, bytes)` gives the initial
 * memory (for BSF/BSR with a memory source); `ea` is the memory operand's address.
 */
export function undefinedEffects(instr: IcedInstruction, st: CpuState, ea: bigint | undefined, readMem: (a: bigint, n: number) => bigint | undefined): Undefined {
  const rule = RULES[iced.Mnemonic[instr.mnemonic]];
  if (!rule) return NONE;
  const K = iced.OpKind;
  const opSize = (i: number): number => {
    const kind = instr.opKind(i);
    if (kind === K.Register) return gprInfo(instr.opRegister(i))?.[1] ?? 0;
    if (kind === K.Memory) return MEMORY_BITS[iced.MemorySize[instr.memorySize]] ?? 0;
    return 0;
  };
  const size = instr.opCount > 0 ? opSize(0) : 0;
  let count = 0;
  // The count operand is the last one: imm8 (the "1" forms are imm8 = 1 in iced) or CL.
  const last = instr.opCount - 1;
  const lastKind = last >= 0 ? instr.opKind(last) : undefined;
  if (lastKind === K.Immediate8) count = instr.immediate8;
  else if (lastKind === K.Register && instr.opRegister(last) === iced.Register.CL) count = Number(st.gpr[1] & 0xffn);
  let srcIsZero: boolean | undefined;
  let dest: number | undefined;
  if (instr.opCount >= 2) {
    if (instr.op0Kind === K.Register) dest = gprInfo(instr.op0Register)?.[0];
    const srcBits = opSize(1);
    const mask = (1n << BigInt(srcBits)) - 1n;
    if (instr.op1Kind === K.Register) {
      const info = gprInfo(instr.op1Register);
      if (info) srcIsZero = ((st.gpr[info[0]] >> (info[2] ? 8n : 0n)) & mask) === 0n;
    } else if (instr.op1Kind === K.Memory && ea !== undefined) {
      const v = readMem(ea, srcBits / 8);
      srcIsZero = v === undefined ? undefined : v === 0n;
    }
  }
  return rule({ size, count, srcIsZero, dest });
}
