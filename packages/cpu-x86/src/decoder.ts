import { x87Name } from './x87-names.js';
import { isSseOpcode, sseEncodingValid } from './sse-names.js';
import { DEC_LOCK, FORM_DECODE, formOf } from './insn-table.js';
import { Insn, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from './insn.js';
import { ISA_BMI1, ISA_BMI2, ISA_LZCNT, ISA_MOVBE, ISA_RDRAND, ISA_RDSEED, ISA_VEX, ISA_XSAVE, OP_LZCNT, OP_RDRAND, OP_TZCNT, OP_VEX_0F38, OP_VEX_0F3A, OP_XGETBV, OP_XSAVE } from './isa.js';

// Per-opcode decode attributes (one entry per opcode id, see Insn.op).
const M = 1; // has ModRM
const B = 2; // byte operand size
const D64 = 4; // long mode: default operand size 64 (push/pop)
const F64 = 8; // long mode: operand size forced to 64 (near branches)
const I64 = 16; // undefined in 64-bit mode
const BAD = 32; // undefined in every mode
const REGONLY = 64; // ModRM mod field ignored: always a register (MOV CRn/DRn)
const IMM = 256; // immediate kind lives in bits 8..11
const IB = 1 * IMM; // imm8, sign-extended
const IW = 2 * IMM; // imm16, zero-extended
const IZ = 3 * IMM; // imm16/imm32 by operand size (imm32 sign-extended for 64-bit)
const IV = 4 * IMM; // imm16/32/64 by operand size (MOV r, imm)
const MOFFS = 5 * IMM; // address-size offset (MOV AL, moffs)
const ENTER = 6 * IMM; // imm16 then imm8
const FAR = 7 * IMM; // offset (16/32) then selector (16)
const GRP3 = 8 * IMM; // F6/F7: imm only for /0 and /1 (TEST)
const JB = 9 * IMM; // rel8
const JZ = 10 * IMM; // rel16/rel32

export const OPC = new Uint16Array(1024);

function set(ops: number[] | number, flags: number, map = 0): void {
  for (const o of typeof ops === 'number' ? [ops] : ops) OPC[map * 256 + o] = flags;
}
function range(a: number, b: number): number[] {
  const r: number[] = [];
  for (let i = a; i <= b; i++) r.push(i);
  return r;
}

// ---- one-byte map
for (let g = 0; g < 8; g++) {
  const b = g * 8;
  set(b + 0, M | B);
  set(b + 1, M);
  set(b + 2, M | B);
  set(b + 3, M);
  set(b + 4, B | IB);
  set(b + 5, IZ);
}
set([0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f], I64);
set(range(0x40, 0x4f), 0);
set(range(0x50, 0x5f), D64);
set([0x60, 0x61], I64);
set(0x62, M | I64);
set(0x63, M);
set(0x68, IZ | D64);
set(0x69, M | IZ);
set(0x6a, IB | D64);
set(0x6b, M | IB);
set([0x6c, 0x6e], B);
set(range(0x70, 0x7f), JB | F64);
set(0x80, M | B | IB);
set(0x81, M | IZ);
set(0x82, M | B | IB | I64);
set(0x83, M | IB);
set([0x84, 0x86, 0x88, 0x8a], M | B);
set([0x85, 0x87, 0x89, 0x8b, 0x8c, 0x8d, 0x8e], M);
set(0x8f, M | D64);
set(0x9a, FAR | I64);
set([0x9c, 0x9d], D64);
set([0xa0, 0xa2], MOFFS | B);
set([0xa1, 0xa3], MOFFS);
set([0xa4, 0xa6, 0xaa, 0xac, 0xae], B);
set(0xa8, B | IB);
set(0xa9, IZ);
set(range(0xb0, 0xb7), B | IB);
set(range(0xb8, 0xbf), IV);
set(0xc0, M | B | IB);
set(0xc1, M | IB);
set(0xc2, IW | F64);
set(0xc3, F64);
set([0xc4, 0xc5], M | I64);
set(0xc6, M | B | IB);
set(0xc7, M | IZ);
set(0xc8, ENTER | D64);
set(0xc9, D64);
set(0xca, IW);
set(0xcd, IB);
set(0xce, I64);
set([0xd0, 0xd2], M | B);
set([0xd1, 0xd3], M);
set([0xd4, 0xd5], IB | I64);
set(0xd6, I64);
set(0xd7, B);
set(range(0xd8, 0xdf), M);
set(range(0xe0, 0xe3), JB | F64);
set([0xe4, 0xe6], B | IB);
set([0xe5, 0xe7], IB);
set([0xe8, 0xe9], JZ | F64);
set(0xea, FAR | I64);
set(0xeb, JB | F64);
set([0xec, 0xee], B);
set(0xf6, M | B | GRP3);
set(0xf7, M | GRP3);
set(0xfe, M | B);
set(0xff, M);

// ---- 0F map
const T = 1;
set(range(0, 255), BAD, T);
set([0x00, 0x01, 0x02, 0x03, 0x0d], M, T);
set([0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x77, 0xa2], 0, T);
set(range(0x10, 0x1f), M, T);
set(range(0x20, 0x23), M | REGONLY, T);
set(range(0x28, 0x2f), M, T);
set(range(0x40, 0x4f), M, T);
set(range(0x50, 0x76), M, T);
set(range(0x78, 0x7f), M, T);
set(range(0x70, 0x73), M | IB, T);
set(range(0x80, 0x8f), JZ | F64, T);
set(range(0x90, 0x9f), M | B, T);
set([0xa0, 0xa1, 0xa8, 0xa9], D64, T);
set([0xa3, 0xa5, 0xab, 0xad, 0xae, 0xaf], M, T);
set([0xa4, 0xac], M | IB, T);
set([0xb0, 0xc0], M | B, T);
set([0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc1, 0xc3, 0xc7], M, T);
set([0xba, 0xc2, 0xc4, 0xc5, 0xc6], M | IB, T);
set(range(0xc8, 0xcf), 0, T);
set(range(0xd0, 0xff), M, T);
// 0F38 / 0F3A maps: nothing implemented yet (SSSE3+ is not advertised), except MOVBE (0F 38 F0/F1,
// valid only when the model has it: see checkValidity).
set(range(0, 255), BAD, 2);
set(range(0, 255), BAD, 3);
set([0xf0, 0xf1], M, 2);

/**
 * Decode one instruction from buf[pos .. pos+avail) in the given mode into `ins`. `isa` (isa.ts bits)
 * says which optional extensions the CPU model has; without them their encodings decode as on a CPU
 * that lacks them.
 */
export function decodeInto(ins: Insn, buf: Uint8Array, pos: number, avail: number, mode: number, isa = 0): void {
  const start = pos;
  const lim = pos + (avail < 15 ? avail : 15);
  ins.mode = mode;
  ins.valid = true;
  ins.len = 0;
  ins.rep = 0;
  ins.lock = false;
  ins.opsizePrefix = false;
  ins.rex = 0;
  ins.segOverride = false;
  ins.seg = SEG_DS;
  ins.hasModrm = false;
  ins.isMem = false;
  ins.ripRel = false;
  ins.base = -1;
  ins.index = -1;
  ins.scale = 0;
  ins.disp = 0;
  ins.dispHi = 0;
  ins.imm = 0;
  ins.imm2 = 0;
  ins.mod = 0;
  ins.reg = 0;
  ins.rm = 0;
  ins.vvvv = 0;
  ins.eaKind = 0;
  let asizePfx = false;
  let rex = 0;
  let b = 0;
  // Prefixes
  for (;;) {
    if (pos >= lim) return truncated(ins, pos - start, avail);
    b = buf[pos++];
    switch (b) {
      case 0x66: ins.opsizePrefix = true; rex = 0; continue;
      case 0x67: asizePfx = true; rex = 0; continue;
      case 0xf0: ins.lock = true; rex = 0; continue;
      case 0xf2: ins.rep = 2; rex = 0; continue;
      case 0xf3: ins.rep = 1; rex = 0; continue;
      case 0x26: if (mode !== 64) { ins.seg = SEG_ES; ins.segOverride = true; } rex = 0; continue;
      case 0x2e: if (mode !== 64) { ins.seg = SEG_CS; ins.segOverride = true; } rex = 0; continue;
      case 0x36: if (mode !== 64) { ins.seg = SEG_SS; ins.segOverride = true; } rex = 0; continue;
      case 0x3e: if (mode !== 64) { ins.seg = SEG_DS; ins.segOverride = true; } rex = 0; continue;
      case 0x64: ins.seg = SEG_FS; ins.segOverride = true; rex = 0; continue;
      case 0x65: ins.seg = SEG_GS; ins.segOverride = true; rex = 0; continue;
    }
    if (mode === 64 && (b & 0xf0) === 0x40) { rex = b; continue; }
    break;
  }
  ins.rex = rex;
  let op = b;
  let vex = false;
  if (b === 0x0f) {
    if (pos >= lim) return truncated(ins, pos - start, avail);
    b = buf[pos++];
    if (b === 0x38 || b === 0x3a) {
      if (pos >= lim) return truncated(ins, pos - start, avail);
      op = (b === 0x38 ? 0x200 : 0x300) | buf[pos++];
    } else op = 0x100 | b;
  } else if ((b & 0xfe) === 0xc4 && (isa & ISA_VEX) !== 0 && (mode === 64 || (pos < lim && buf[pos] >= 0xc0))) {
    // A VEX prefix. Outside 64-bit mode C4/C5 are LES/LDS unless the next byte has mod = 11.
    pos = vexPrefix(ins, buf, pos, lim, b === 0xc4, mode, rex, isa);
    if (pos < 0) return truncated(ins, 0, avail);
    op = ins.op;
    rex = ins.rex;
    vex = true;
  }
  ins.op = op;
  let f = vex ? (op === (OP_VEX_0F3A | 0xf0) ? M | IB : M) : OPC[op];
  if (f & BAD) ins.valid = false;
  if (mode === 64) {
    if (f & I64) ins.valid = false;
    // EVEX (62) is not supported: undefined. VEX (C4/C5) only for the BMI groups, when the model has them.
  }
  // Operand size
  const rexW = (rex & 8) !== 0;
  let size: number;
  if (f & B) size = 1;
  else if (mode === 64) {
    if (rexW) size = 8;
    else if (f & F64) size = 8;
    else if (ins.opsizePrefix) size = 2;
    else size = f & D64 ? 8 : 4;
  } else if (mode === 32) size = ins.opsizePrefix ? 2 : 4;
  else size = ins.opsizePrefix ? 4 : 2;
  if (vex) size = mode === 64 && rexW ? 8 : 4; // VEX.W selects 64-bit only in 64-bit mode; 66 is VEX.pp
  ins.asize = mode === 64 ? (asizePfx ? 4 : 8) : mode === 32 ? (asizePfx ? 2 : 4) : asizePfx ? 4 : 2;

  if (f & M) {
    if (pos >= lim) return truncated(ins, pos - start, avail);
    const modrm = buf[pos++];
    ins.hasModrm = true;
    const mod = modrm >> 6;
    ins.mod = mod;
    ins.reg = ((modrm >> 3) & 7) | ((rex & 4) << 1);
    const rm = modrm & 7;
    if (mod === 3 || f & REGONLY) {
      ins.mod = 3;
      ins.rm = rm | ((rex & 1) << 3);
    } else {
      ins.isMem = true;
      ins.rm = rm;
      if (ins.asize === 2) {
        pos = modrm16(ins, buf, pos, lim, mod, rm);
        if (pos > lim) return truncated(ins, 0, avail);
      } else {
        let base = rm;
        if (rm === 4) {
          if (pos >= lim) return truncated(ins, pos - start, avail);
          const sib = buf[pos++];
          ins.scale = sib >> 6;
          const idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
          ins.index = idx === 4 ? -1 : idx;
          base = sib & 7;
          if (base === 5 && mod === 0) {
            ins.base = -1;
            if (pos + 4 > lim) return truncated(ins, pos - start, avail);
            ins.disp = rd32(buf, pos); pos += 4;
          } else {
            ins.base = base | ((rex & 1) << 3);
          }
        } else if (rm === 5 && mod === 0) {
          if (pos + 4 > lim) return truncated(ins, pos - start, avail);
          ins.disp = rd32(buf, pos); pos += 4;
          ins.base = -1;
          if (mode === 64) ins.ripRel = true;
        } else {
          ins.base = base | ((rex & 1) << 3);
        }
        if (mod === 1) {
          if (pos >= lim) return truncated(ins, pos - start, avail);
          ins.disp = (buf[pos++] << 24) >> 24;
        } else if (mod === 2) {
          if (pos + 4 > lim) return truncated(ins, pos - start, avail);
          ins.disp = rd32(buf, pos); pos += 4;
        }
        // RSP/RBP as base select SS (R12/R13 do not).
        if (!ins.segOverride && (ins.base === 4 || ins.base === 5)) ins.seg = SEG_SS;
        ins.dispHi = ins.disp >> 31;
      }
    }
    // Group-dependent operand-size rules.
    if (mode === 64 && op === 0xff) {
      const r = ins.reg & 7;
      if (r === 2 || r === 4) size = 8;
      else if (r === 6 && !rexW) size = ins.opsizePrefix ? 2 : 8;
    }
    if (op === 0xf6 || op === 0xf7) {
      if ((ins.reg & 6) === 0) f = (f & ~(15 * IMM)) | (op === 0xf6 ? IB : IZ);
    }
    if (mode === 64 && op >= 0x120 && op <= 0x123) size = 8;
  }
  ins.size = size;
  // Immediates
  const ik = (f >> 8) & 15;
  if (ik !== 0 && ik !== 8) {
    switch (ik) {
      case 1: case 9: // IB, JB
        if (pos >= lim) return truncated(ins, pos - start, avail);
        ins.imm = (buf[pos++] << 24) >> 24;
        break;
      case 2: // IW
        if (pos + 2 > lim) return truncated(ins, pos - start, avail);
        ins.imm = buf[pos] | (buf[pos + 1] << 8); pos += 2;
        break;
      case 3: case 10: // IZ, JZ
        if (size === 2) {
          if (pos + 2 > lim) return truncated(ins, pos - start, avail);
          ins.imm = ((buf[pos] | (buf[pos + 1] << 8)) << 16) >> 16; pos += 2;
        } else if (size === 1 && ik === 3) {
          if (pos >= lim) return truncated(ins, pos - start, avail);
          ins.imm = (buf[pos++] << 24) >> 24;
        } else {
          if (pos + 4 > lim) return truncated(ins, pos - start, avail);
          ins.imm = rd32(buf, pos); pos += 4;
        }
        ins.imm2 = ins.imm >> 31;
        break;
      case 4: // IV
        if (size === 2) {
          if (pos + 2 > lim) return truncated(ins, pos - start, avail);
          ins.imm = buf[pos] | (buf[pos + 1] << 8); pos += 2;
        } else {
          if (pos + 4 > lim) return truncated(ins, pos - start, avail);
          ins.imm = rd32(buf, pos); pos += 4;
          if (size === 8) {
            if (pos + 4 > lim) return truncated(ins, pos - start, avail);
            ins.imm2 = rd32(buf, pos); pos += 4;
          }
        }
        break;
      case 5: { // MOFFS
        ins.isMem = true;
        ins.base = -1;
        const n = ins.asize;
        if (pos + n > lim) return truncated(ins, pos - start, avail);
        if (n === 2) { ins.disp = buf[pos] | (buf[pos + 1] << 8); ins.dispHi = 0; }
        else if (n === 4) { ins.disp = rd32(buf, pos); ins.dispHi = 0; }
        else { ins.disp = rd32(buf, pos); ins.dispHi = rd32(buf, pos + 4); }
        pos += n;
        break;
      }
      case 6: // ENTER
        if (pos + 3 > lim) return truncated(ins, pos - start, avail);
        ins.imm = buf[pos] | (buf[pos + 1] << 8);
        ins.imm2 = buf[pos + 2];
        pos += 3;
        break;
      case 7: { // FAR ptr16:16/32
        const n = size === 2 ? 2 : 4;
        if (pos + n + 2 > lim) return truncated(ins, pos - start, avail);
        ins.imm = n === 2 ? buf[pos] | (buf[pos + 1] << 8) : rd32(buf, pos);
        pos += n;
        ins.imm2 = buf[pos] | (buf[pos + 1] << 8);
        pos += 2;
        break;
      }
    }
  }
  // An int32 (a Smi): `pos` may arrive as a double (a physical address), and one heap-number store
  // would turn Insn.len into a boxed-double field for every instruction the run loop reads.
  ins.len = (pos - start) | 0;
  if (ins.valid) checkValidity(ins, mode, isa);
  let form = ins.valid ? formOf(ins) : 0;
  // LOCK: only on the forms that take it (the table's DEC_LOCK), and only with a memory operand.
  if (ins.lock && !(ins.isMem && (FORM_DECODE[form] & DEC_LOCK) !== 0)) { ins.valid = false; form = 0; }
  ins.form = form;
}

/**
 * The VEX prefix at buf[pos] (after C4/C5): fills ins.op (OP_VEX_0F38/0F3A | opcode), the REX-like
 * bits in ins.rex (W always; R/X/B only in 64-bit mode), vvvv and the implied 66/F3/F2 prefix. Only the
 * BMI1/BMI2 GPR instructions exist here: anything else is left invalid (#UD). Returns the position after
 * the opcode byte, or -1 when the bytes run out.
 */
function vexPrefix(ins: Insn, buf: Uint8Array, pos: number, lim: number, three: boolean, mode: number, rex: number, isa: number): number {
  // 66, F2, F3, LOCK or REX in front of VEX: #UD (SDM 2.3.2).
  if (ins.opsizePrefix || ins.rep !== 0 || ins.lock || rex !== 0) ins.valid = false;
  if (pos >= lim) return -1;
  const b1 = buf[pos++];
  let b2 = b1;
  let map = 1;
  let rxbw: number; // REX-format bits: W=8 R=4 X=2 B=1
  if (three) {
    if (pos >= lim) return -1;
    b2 = buf[pos++];
    map = b1 & 0x1f;
    rxbw = ((~b1 >> 5) & 7) | ((b2 >> 4) & 8);
  } else {
    rxbw = (~b1 >> 5) & 4;
  }
  if (pos >= lim) return -1;
  const opb = buf[pos++];
  let vvvv = (~b2 >> 3) & 15;
  // Outside 64-bit mode only 8 registers exist: R/X/B and vvvv[3] are ignored.
  if (mode !== 64) { rxbw &= 8; vvvv &= 7; }
  const pp = b2 & 3;
  ins.rex = rxbw === 0 ? 0 : 0x40 | rxbw;
  ins.vvvv = vvvv;
  ins.opsizePrefix = pp === 1;
  ins.rep = pp === 2 ? 1 : pp === 3 ? 2 : 0;
  ins.op = (map === 3 ? OP_VEX_0F3A : OP_VEX_0F38) | opb;
  // VEX.L1 is #UD for every BMI instruction, and so is any map/opcode/pp that is not one of them.
  if ((b2 & 4) !== 0 || !vexDefined(map, opb, pp, (~b2 >> 3) & 15, isa)) ins.valid = false;
  return pos;
}

/** The BMI1/BMI2 encodings (VEX.LZ): map, opcode, pp, and RORX's unused vvvv (encoded 1111: register 0). */
function vexDefined(map: number, opb: number, pp: number, vreg: number, isa: number): boolean {
  const bmi1 = (isa & ISA_BMI1) !== 0, bmi2 = (isa & ISA_BMI2) !== 0;
  if (map === 2) {
    switch (opb) {
      case 0xf2: return bmi1 && pp === 0; // ANDN
      case 0xf3: return bmi1 && pp === 0; // group 17: BLSR/BLSMSK/BLSI (ModRM.reg checked later)
      case 0xf5: return bmi2 && pp !== 1; // BZHI, PEXT (F3), PDEP (F2)
      case 0xf6: return bmi2 && pp === 3; // MULX
      case 0xf7: return pp === 0 ? bmi1 : bmi2; // BEXTR, SHLX (66), SARX (F3), SHRX (F2)
    }
    return false;
  }
  return map === 3 && opb === 0xf0 && pp === 3 && bmi2 && vreg === 0; // RORX
}

function truncated(ins: Insn, _used: number, _avail: number): void {
  ins.len = 0;
  ins.form = 0;
  ins.valid = false;
}

function rd32(buf: Uint8Array, p: number): number {
  return buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
}

const BASE16 = [3, 3, 5, 5, 6, 7, 5, 3]; // BX BX BP BP SI DI BP BX
const INDEX16 = [6, 7, 6, 7, -1, -1, -1, -1]; // SI DI SI DI

function modrm16(ins: Insn, buf: Uint8Array, pos: number, lim: number, mod: number, rm: number): number {
  if (mod === 0 && rm === 6) {
    if (pos + 2 > lim) { ins.len = 0; return lim + 1; }
    ins.base = -1;
    ins.disp = buf[pos] | (buf[pos + 1] << 8);
    pos += 2;
  } else {
    ins.base = BASE16[rm];
    ins.index = INDEX16[rm];
    if (!ins.segOverride && (rm === 2 || rm === 3 || rm === 6)) ins.seg = SEG_SS;
    if (mod === 1) {
      if (pos >= lim) return lim + 1;
      ins.disp = (buf[pos++] << 24) >> 24;
    } else if (mod === 2) {
      if (pos + 2 > lim) return lim + 1;
      ins.disp = ((buf[pos] | (buf[pos + 1] << 8)) << 16) >> 16;
      pos += 2;
    }
  }
  ins.dispHi = ins.disp >> 31;
  return pos;
}

/** Encodings that need the ModRM to know whether they exist. */
function checkValidity(ins: Insn, mode: number, isa: number): void {
  const op = ins.op;
  const r = ins.reg & 7;
  const mem = ins.isMem;
  switch (op) {
    case 0x8d: if (!mem) ins.valid = false; break; // LEA needs memory
    case 0x8e: if (r === 1 || r > 5) ins.valid = false; break; // MOV CS / bad segreg
    case 0x8c: if (r > 5) ins.valid = false; break;
    case 0x8f: if (r !== 0) ins.valid = false; break;
    case 0xc6: case 0xc7: if (r !== 0) ins.valid = false; break;
    case 0xfe: if (r > 1) ins.valid = false; break;
    case 0xff: if (r === 7 || ((r === 3 || r === 5) && !mem)) ins.valid = false; break;
    case 0x63: break;
    case 0x62: case 0xc4: case 0xc5: if (!mem) ins.valid = false; break;
    case 0x10b: break;
    case 0x100: if (r > 5) ins.valid = false; break;
    case 0x1b2: case 0x1b4: case 0x1b5: if (!mem) ins.valid = false; break;
    case 0x1c3: if (!mem || ins.rep !== 0 || ins.opsizePrefix) ins.valid = false; break; // MOVNTI: no 66/F2/F3 form
    case 0x101:
      if (mem ? r === 5 : r === 7 && (ins.rm & 7) === 0 && mode !== 64) ins.valid = false; // SWAPGS: 64-bit only
      else if (!mem && r === 2 && (ins.rm & 7) < 2 && isa & ISA_XSAVE && ins.rep === 0 && !ins.opsizePrefix) ins.op = OP_XGETBV; // XGETBV/XSETBV
      break;
    case 0x109: if (ins.rep === 1) ins.valid = false; break; // F3 0F 09 is WBNOINVD (not advertised)
    case 0x10d: if (mem) ins.valid = false; break; // PREFETCHW/PREFETCHWT1 are not advertised; register forms are NOPs
    case 0x1ba: if (r < 4) ins.valid = false; break;
    case 0x1c7: // CMPXCHG8B/16B; register forms /6 and /7 are RDRAND/RDSEED (F2/F3 forms are other things)
      if (!mem && ins.rep === 0 && ((r === 6 && isa & ISA_RDRAND) || (r === 7 && isa & ISA_RDSEED))) ins.op = OP_RDRAND;
      else if (mem ? r !== 1 : true) ins.valid = false;
      break;
    // Without BMI1/LZCNT the F3 prefix is ignored: BSF/BSR (as on CPUs that lack them).
    case 0x1bc: if (ins.rep === 1 && isa & ISA_BMI1) ins.op = OP_TZCNT; break;
    case 0x1bd: if (ins.rep === 1 && isa & ISA_LZCNT) ins.op = OP_LZCNT; break;
    // MOVBE: memory operand only; F2 is CRC32 (SSE4.2, not implemented), F3 undefined.
    case 0x2f0: case 0x2f1: if (!(isa & ISA_MOVBE) || !mem || ins.rep !== 0) ins.valid = false; break;
    case OP_VEX_0F38 | 0xf3: if (r < 1 || r > 3) ins.valid = false; break; // BLSR /1, BLSMSK /2, BLSI /3
    // 0F AE: memory forms take no 66/F2/F3 (those are CLFLUSHOPT, CLWB, PTWRITE..., not advertised).
    case 0x1ae:
      if (mem && r >= 4 && r <= 6 && ins.rep === 0 && !ins.opsizePrefix && isa & ISA_XSAVE) ins.op = OP_XSAVE; // XSAVE XRSTOR XSAVEOPT
      else if (mem ? r === 4 || r === 5 || r === 6 || ins.rep !== 0 || ins.opsizePrefix : r < 5) ins.valid = false;
      break;
    case 0x118: case 0x119: case 0x11a: case 0x11b: case 0x11c: case 0x11d: case 0x11e: case 0x11f: break;
    case 0x1b8: if (ins.rep !== 1) ins.valid = false; break; // POPCNT needs F3 (JMPE otherwise)
  }
  if (mode === 64 && op === 0x163) ins.valid = true;
  if (op === 0x120 || op === 0x122) { const n = ins.reg; if (n === 1 || (n > 4 && n !== 8)) ins.valid = false; }
  if ((op === 0x121 || op === 0x123) && ins.reg > 7) ins.valid = false; // no DR8-DR15
  if (op >= 0xd8 && op <= 0xdf && x87Name(op, mem, ins.reg, ins.rm) === undefined) ins.valid = false;
  if (op === 0x1ae && !mem && (ins.rep !== 0 || ins.opsizePrefix)) ins.valid = false;
  if (isSseOpcode(op) && !sseEncodingValid(ins)) ins.valid = false; // prefix variant / operand form
}

/** Sign-extend helpers used by several handlers. */
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
export { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };
