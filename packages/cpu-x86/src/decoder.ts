import { DEC_ISA, DEC_LOCK, DEC_NO64, DEC_ONLY64, FORM_ALT, FORM_DECODE, FORM_ISA, FORM_OP, formOf } from './insn-table.js';
import { Insn, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from './insn.js';
import { ISA_VEX, OP_VEX_0F38, OP_VEX_0F3A } from './isa.js';

// Per-opcode encoding attributes (one entry per opcode id, see Insn.op): how long the instruction is and
// its operand size. Whether it exists (in this mode, on this CPU model) is the instruction table's.
const M = 1; // has ModRM
const B = 2; // byte operand size
const D64 = 4; // long mode: default operand size 64 (push/pop)
const F64 = 8; // long mode: operand size forced to 64 (near branches)
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
set(range(0x50, 0x5f), D64);
set(0x62, M);
set(0x63, M);
set(0x68, IZ | D64);
set(0x69, M | IZ);
set(0x6a, IB | D64);
set(0x6b, M | IB);
set([0x6c, 0x6e], B);
set(range(0x70, 0x7f), JB | F64);
set(0x80, M | B | IB);
set(0x81, M | IZ);
set(0x82, M | B | IB);
set(0x83, M | IB);
set([0x84, 0x86, 0x88, 0x8a], M | B);
set([0x85, 0x87, 0x89, 0x8b, 0x8c, 0x8d, 0x8e], M);
set(0x8f, M | D64);
set(0x9a, FAR);
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
set([0xc4, 0xc5], M);
set(0xc6, M | B | IB);
set(0xc7, M | IZ);
set(0xc8, ENTER | D64);
set(0xc9, D64);
set(0xca, IW);
set(0xcd, IB);
set([0xd0, 0xd2], M | B);
set([0xd1, 0xd3], M);
set([0xd4, 0xd5], IB);
set(0xd7, B);
set(range(0xd8, 0xdf), M);
set(range(0xe0, 0xe3), JB | F64);
set([0xe4, 0xe6], B | IB);
set([0xe5, 0xe7], IB);
set([0xe8, 0xe9], JZ | F64);
set(0xea, FAR);
set(0xeb, JB | F64);
set([0xec, 0xee], B);
set(0xf6, M | B | GRP3);
set(0xf7, M | GRP3);
set(0xfe, M | B);
set(0xff, M);

// ---- 0F map
const T = 1;
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
// 0F38 / 0F3A maps: nothing implemented yet (SSSE3+ is not advertised), except MOVBE (0F 38 F0/F1).
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
    pos = vexPrefix(ins, buf, pos, lim, b === 0xc4, mode, rex);
    if (pos < 0) return truncated(ins, 0, avail);
    op = ins.op;
    rex = ins.rex;
    vex = true;
  }
  ins.op = op;
  let f = vex ? (op === (OP_VEX_0F3A | 0xf0) ? M | IB : M) : OPC[op];
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
  if (ins.valid) checkOperands(ins);
  // The form (0: no such instruction); a form the table marks (mode, extension, LOCK) is checked further.
  let form = ins.valid ? formOf(ins) : 0;
  const d = FORM_DECODE[form];
  if (d !== 0 || ins.lock) form = checkForm(ins, form, d, mode, isa);
  if (form === 0) ins.valid = false;
  else ins.op = FORM_OP[form]; // the op it executes as (OP_TZCNT for F3 0F BC, ...)
  ins.form = form;
}

/** The DEC_* attributes of a form: its extensions (else what the bytes mean without them), modes, LOCK. */
function checkForm(ins: Insn, form: number, d: number, mode: number, isa: number): number {
  if (d & DEC_ISA && (FORM_ISA[form] & ~isa) !== 0) {
    form = FORM_ALT[form];
    d = FORM_DECODE[form];
  }
  if (d & (mode === 64 ? DEC_NO64 : DEC_ONLY64)) return 0;
  // LOCK: only on the forms that take it, and only with a memory operand.
  if (ins.lock && !(ins.isMem && (d & DEC_LOCK) !== 0)) return 0;
  return form;
}

/**
 * The VEX prefix at buf[pos] (after C4/C5): fills ins.op (OP_VEX_0F38/0F3A | opcode), the REX-like
 * bits in ins.rex (W always; R/X/B only in 64-bit mode), vvvv and the implied 66/F3/F2 prefix. Only the
 * BMI1/BMI2 GPR instructions exist here: anything else is left invalid (#UD). Returns the position after
 * the opcode byte, or -1 when the bytes run out.
 */
function vexPrefix(ins: Insn, buf: Uint8Array, pos: number, lim: number, three: boolean, mode: number, rex: number): number {
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
  // Only maps 0F38 and 0F3A exist here (the BMI instructions, which the table lists by opcode and pp);
  // VEX.L1 is #UD for all of them, and RORX's unused vvvv must be 1111 (register 0).
  if ((map !== 2 && map !== 3) || (b2 & 4) !== 0 || (map === 3 && ((~b2 >> 3) & 15) !== 0)) ins.valid = false;
  ins.op = (map === 3 ? OP_VEX_0F3A : OP_VEX_0F38) | opb;
  return pos;
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

/** What the form table cannot see: which control/debug registers exist (REX.R extends ModRM.reg). */
function checkOperands(ins: Insn): void {
  const op = ins.op;
  if (op === 0x120 || op === 0x122) { const n = ins.reg; if (n === 1 || (n > 4 && n !== 8)) ins.valid = false; } // CR0 CR2-CR4 CR8
  else if ((op === 0x121 || op === 0x123) && ins.reg > 7) ins.valid = false; // no DR8-DR15
}

/** Sign-extend helpers used by several handlers. */
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
export { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };
