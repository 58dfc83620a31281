// Specialised handlers for further frequent forms in compiled code (counted on the bench/cpu images):
// 32-bit shifts by an immediate/CL/1, byte loads and stores, MOVZX/MOVSX/MOVSXD, LEA, INC/DEC,
// two/three-operand IMUL, DIV/IDIV r/m32, TEST and CMP on bytes. block.ts picks them when a block is
// decoded; each does what the generic handler (named in its comment) does for that form, with the
// form's tests (size, operand kind, group field, byte register) resolved at decode time.
import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { HANDLERS } from './dispatch.js';
import { ARITH, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_NONE, LF_SUB, parity, type LazyFlags } from './flags.js';
import { ea } from './operands.js';
import { REM, W, idiv128, udiv128 } from './muldiv.js';

const TWO32 = 4294967296;

/** LazyFlags.setResult(4, v >>> 0, 0, cf, of) for an int32 result `v` (cf, of: 0 or 1). */
function result32(f: LazyFlags, v: number, cf: number, of: number): void {
  f.size = 4;
  f.bits = (f.bits & ~ARITH) | cf | (parity(v) << 2) | ((v === 0 ? 1 : 0) << 6) | ((v >>> 31) << 7) | (of << 11);
  f.op = LF_NONE;
}

// ---------------------------------------------------------------- shifts (grp2 / shift, exec-shift.ts)
// 32-bit register operand, SHL/SAL, SHR, SAR. A count of 0 changes no flag; the register's high half
// is cleared whatever the count, as grp2 does.

function shl32(c: X86Cpu, d: number, n: number): void {
  const r = c.r;
  if (n !== 0) {
    const a = r[2 * d];
    const v = a << n;
    const cf = (a >>> (32 - n)) & 1;
    result32(c.fl, v, cf, (v >>> 31) ^ cf);
    r[2 * d] = v;
  }
  r[2 * d + 1] = 0;
  c.hi = 0;
}
function shr32(c: X86Cpu, d: number, n: number): void {
  const r = c.r;
  if (n !== 0) {
    const a = r[2 * d];
    const v = a >>> n;
    result32(c.fl, v | 0, (a >>> (n - 1)) & 1, a >>> 31);
    r[2 * d] = v;
  }
  r[2 * d + 1] = 0;
  c.hi = 0;
}
function sar32(c: X86Cpu, d: number, n: number): void {
  const r = c.r;
  if (n !== 0) {
    const a = r[2 * d];
    const v = a >> n;
    result32(c.fl, v, (a >> (n - 1)) & 1, 0);
    r[2 * d] = v;
  }
  r[2 * d + 1] = 0;
  c.hi = 0;
}
function shlI(c: X86Cpu, i: Insn): void { shl32(c, i.rm, i.imm & 0x1f); }
function shrI(c: X86Cpu, i: Insn): void { shr32(c, i.rm, i.imm & 0x1f); }
function sarI(c: X86Cpu, i: Insn): void { sar32(c, i.rm, i.imm & 0x1f); }
function shl1(c: X86Cpu, i: Insn): void { shl32(c, i.rm, 1); }
function shr1(c: X86Cpu, i: Insn): void { shr32(c, i.rm, 1); }
function sar1(c: X86Cpu, i: Insn): void { sar32(c, i.rm, 1); }
function shlCl(c: X86Cpu, i: Insn): void { shl32(c, i.rm, c.r[2] & 0x1f); }
function shrCl(c: X86Cpu, i: Insn): void { shr32(c, i.rm, c.r[2] & 0x1f); }
function sarCl(c: X86Cpu, i: Insn): void { sar32(c, i.rm, c.r[2] & 0x1f); }

function shiftHandler(ins: Insn): Handler | undefined {
  if (ins.size !== 4 || ins.isMem) return undefined;
  const kind = ins.reg & 7; // 4 SHL, 5 SHR, 6 SAL (= SHL), 7 SAR
  if (kind < 4) return undefined;
  const k = kind === 6 ? 4 : kind;
  switch (ins.op) {
    case 0xc1: return k === 4 ? shlI : k === 5 ? shrI : sarI;
    case 0xd1: return k === 4 ? shl1 : k === 5 ? shr1 : sar1;
    case 0xd3: return k === 4 ? shlCl : k === 5 ? shrCl : sarCl;
    default: return undefined;
  }
}

// ---------------------------------------------------------------- byte registers and moves
// A byte register operand is AL..BL, or without REX AH..BH (4-7), or with REX SPL..R15B.

const byteLo = (c: X86Cpu, n: number): number => c.r[2 * n] & 0xff;
const byteHi = (c: X86Cpu, n: number): number => (c.r[2 * (n - 4)] >> 8) & 0xff;
function setByteLo(c: X86Cpu, n: number, v: number): void { const r = c.r; r[2 * n] = (r[2 * n] & ~0xff) | (v & 0xff); }
function setByteHi(c: X86Cpu, n: number, v: number): void { const r = c.r; const k = 2 * (n - 4); r[k] = (r[k] & ~0xff00) | ((v & 0xff) << 8); }
const isHighByte = (ins: Insn, n: number): boolean => ins.rex === 0 && n >= 4 && n < 8;

const read8 = (c: X86Cpu, i: Insn): number => c.readLin(ea(c, i), 1, c.accUser);

// movEI / movEG / movGE (exec-move.ts), byte forms.
function storeImm8(c: X86Cpu, i: Insn): void { c.writeLin(ea(c, i), 1, i.imm & 0xff, c.accUser); }
function storeLo8(c: X86Cpu, i: Insn): void { const v = byteLo(c, i.reg); c.writeLin(ea(c, i), 1, v, c.accUser); }
function storeHi8(c: X86Cpu, i: Insn): void { const v = byteHi(c, i.reg); c.writeLin(ea(c, i), 1, v, c.accUser); }
function loadLo8(c: X86Cpu, i: Insn): void { setByteLo(c, i.reg, read8(c, i)); }
function loadHi8(c: X86Cpu, i: Insn): void { setByteHi(c, i.reg, read8(c, i)); }

// movzx / movsx (exec-move.ts) into a 32/64-bit register: the high half is cleared or sign-filled.
function setZx(c: X86Cpu, n: number, v: number): void { const r = c.r; r[2 * n] = v; r[2 * n + 1] = 0; }
function movzx8M(c: X86Cpu, i: Insn): void { setZx(c, i.reg, read8(c, i)); }
function movzx8Lo(c: X86Cpu, i: Insn): void { setZx(c, i.reg, byteLo(c, i.rm)); }
function movzx8Hi(c: X86Cpu, i: Insn): void { setZx(c, i.reg, byteHi(c, i.rm)); }
function movzx16M(c: X86Cpu, i: Insn): void { setZx(c, i.reg, c.readLin(ea(c, i), 2, c.accUser)); }
function movzx16R(c: X86Cpu, i: Insn): void { setZx(c, i.reg, c.r[2 * i.rm] & 0xffff); }
function setSx32(c: X86Cpu, n: number, s: number): void { const r = c.r; r[2 * n] = s; r[2 * n + 1] = 0; }
function setSx64(c: X86Cpu, n: number, s: number): void { const r = c.r; r[2 * n] = s; r[2 * n + 1] = s >> 31; }
const sx8 = (v: number): number => (v << 24) >> 24;
const sx16 = (v: number): number => (v << 16) >> 16;
function movsx8M32(c: X86Cpu, i: Insn): void { setSx32(c, i.reg, sx8(read8(c, i))); }
function movsx8Lo32(c: X86Cpu, i: Insn): void { setSx32(c, i.reg, sx8(byteLo(c, i.rm))); }
function movsx8Hi32(c: X86Cpu, i: Insn): void { setSx32(c, i.reg, sx8(byteHi(c, i.rm))); }
function movsx16M32(c: X86Cpu, i: Insn): void { setSx32(c, i.reg, sx16(c.readLin(ea(c, i), 2, c.accUser))); }
function movsx16R32(c: X86Cpu, i: Insn): void { setSx32(c, i.reg, sx16(c.r[2 * i.rm])); }
function movsx8M64(c: X86Cpu, i: Insn): void { setSx64(c, i.reg, sx8(read8(c, i))); }
function movsx8Lo64(c: X86Cpu, i: Insn): void { setSx64(c, i.reg, sx8(byteLo(c, i.rm))); }
function movsx8Hi64(c: X86Cpu, i: Insn): void { setSx64(c, i.reg, sx8(byteHi(c, i.rm))); }
function movsx16M64(c: X86Cpu, i: Insn): void { setSx64(c, i.reg, sx16(c.readLin(ea(c, i), 2, c.accUser))); }
function movsx16R64(c: X86Cpu, i: Insn): void { setSx64(c, i.reg, sx16(c.r[2 * i.rm])); }
// movsxd (63 in 64-bit mode) with REX.W.
function movsxdM(c: X86Cpu, i: Insn): void { setSx64(c, i.reg, c.readLin(ea(c, i), 4, c.accUser) | 0); }
function movsxdR(c: X86Cpu, i: Insn): void { setSx64(c, i.reg, c.r[2 * i.rm]); }

function extendHandler(ins: Insn): Handler | undefined {
  const size = ins.size;
  if (size !== 4 && size !== 8) return undefined;
  const mem = ins.isMem;
  const high = !mem && isHighByte(ins, ins.rm);
  switch (ins.op) {
    case 0x1b6: return mem ? movzx8M : high ? movzx8Hi : movzx8Lo;
    case 0x1b7: return mem ? movzx16M : movzx16R;
    case 0x1be:
      if (size === 4) return mem ? movsx8M32 : high ? movsx8Hi32 : movsx8Lo32;
      return mem ? movsx8M64 : high ? movsx8Hi64 : movsx8Lo64;
    case 0x1bf:
      if (size === 4) return mem ? movsx16M32 : movsx16R32;
      return mem ? movsx16M64 : movsx16R64;
    case 0x63: return ins.mode === 64 && size === 8 ? (mem ? movsxdM : movsxdR) : undefined;
    default: return undefined;
  }
}

// ---------------------------------------------------------------- LEA (lea, exec-move.ts)

/** 64-bit address size: the raw 64-bit sum (no canonical check), as rawEa64 computes it. */
function lea64(c: X86Cpu, i: Insn): void {
  const r = c.r;
  let lo = (i.disp >>> 0), hi = i.dispHi;
  const b = i.base, x = i.index;
  if (b >= 0) { lo += r[2 * b] >>> 0; hi += r[2 * b + 1]; }
  if (x >= 0) { const m = 1 << i.scale; lo += (r[2 * x] >>> 0) * m; hi += r[2 * x + 1] * m; }
  hi += Math.floor(lo / TWO32);
  const h = hi >>> 0;
  c.hi = h;
  r[2 * i.reg] = lo >>> 0;
  r[2 * i.reg + 1] = i.size === 8 ? h : 0;
}

/** 32-bit address size (no RIP-relative form), flat segment: the offset, truncated to 32 bits. */
function lea32(c: X86Cpu, i: Insn): void {
  // A checked segment: the generic path (ea() consults the segment checks).
  if (i.mode !== 64 && c.segChecked[i.seg] !== 0) { HANDLERS[0x8d](c, i); return; }
  const r = c.r;
  let off = i.disp;
  if (i.base >= 0) off += r[2 * i.base];
  if (i.index >= 0) off += r[2 * i.index] << i.scale;
  r[2 * i.reg] = off;
  r[2 * i.reg + 1] = 0;
}

function leaHandler(ins: Insn): Handler | undefined {
  if (ins.op !== 0x8d || !ins.isMem || (ins.size !== 4 && ins.size !== 8)) return undefined;
  if (ins.asize === 8) return ins.ripRel ? undefined : lea64;
  if (ins.asize === 4) return ins.ripRel ? undefined : lea32;
  return undefined;
}

// ---------------------------------------------------------------- INC/DEC (incDec, alu.ts)

/** CF as LazyFlags.cf() computes it, with the common 32-bit ADD/SUB records inline. */
function carry(f: LazyFlags): number {
  const op = f.op;
  if (f.size === 4) {
    if (op === LF_ADD) return (f.r >>> 0) < (f.a >>> 0) ? 1 : 0;
    if (op === LF_SUB) return (f.a >>> 0) < (f.b >>> 0) ? 1 : 0;
  }
  if (op === LF_NONE || op === LF_INC || op === LF_DEC) return f.bits & 1;
  if (op === LF_LOGIC) return 0;
  return f.cf();
}

export function incDec32(c: X86Cpu, n: number, dec: boolean): void {
  const f = c.fl, r = c.r;
  const cf = carry(f);
  f.bits = (f.bits & ~1) | cf;
  const a = r[2 * n] >>> 0;
  const v = ((dec ? a - 1 : a + 1) & 0xffffffff) >>> 0;
  f.op = dec ? LF_DEC : LF_INC;
  f.size = 4;
  f.a = a | 0; f.ah = c.hi | 0; f.b = 1; f.bh = 0;
  f.r = v | 0; f.rh = 0;
  c.hi = 0;
  r[2 * n] = v; r[2 * n + 1] = 0;
}
function incDec64(c: X86Cpu, n: number, dec: boolean): void {
  const f = c.fl, r = c.r;
  const cf = carry(f);
  f.bits = (f.bits & ~1) | cf;
  const a = r[2 * n] >>> 0, ah = r[2 * n + 1] >>> 0;
  const lo = dec ? a - 1 : a + 1;
  const v = lo >>> 0;
  const vh = (ah + (lo < 0 ? -1 : lo >= TWO32 ? 1 : 0)) >>> 0;
  f.op = dec ? LF_DEC : LF_INC;
  f.size = 8;
  f.a = a | 0; f.ah = ah | 0; f.b = 1; f.bh = 0;
  f.r = v | 0; f.rh = vh | 0;
  c.hi = vh;
  r[2 * n] = v; r[2 * n + 1] = vh;
}
export function incR32(c: X86Cpu, i: Insn): void { incDec32(c, i.op & 7, false); } // 40-47
export function decR32(c: X86Cpu, i: Insn): void { incDec32(c, i.op & 7, true); } // 48-4F
export function incE32(c: X86Cpu, i: Insn): void { incDec32(c, i.rm, false); } // FF /0
export function decE32(c: X86Cpu, i: Insn): void { incDec32(c, i.rm, true); } // FF /1
function incE64(c: X86Cpu, i: Insn): void { incDec64(c, i.rm, false); }
function decE64(c: X86Cpu, i: Insn): void { incDec64(c, i.rm, true); }

function incDecHandler(ins: Insn): Handler | undefined {
  const op = ins.op;
  if (op >= 0x40 && op <= 0x4f) return ins.size === 4 ? (op < 0x48 ? incR32 : decR32) : undefined;
  if (op !== 0xff || ins.isMem || ins.lock) return undefined;
  const k = ins.reg & 7;
  if (k > 1) return undefined;
  if (ins.size === 4) return k === 0 ? incE32 : decE32;
  if (ins.size === 8) return k === 0 ? incE64 : decE64;
  return undefined;
}

// ---------------------------------------------------------------- IMUL, DIV, IDIV (exec-muldiv.ts)

/** IMUL r32, r/m32[, imm]: the truncated product, CF = OF = the full product does not fit. */
function imul32To(c: X86Cpu, i: Insn, a: number, b: number): void {
  const v = Math.imul(a, b);
  // The double product is exact below 2^53, and any larger one cannot equal an int32.
  const o = (a | 0) * (b | 0) !== v ? 1 : 0;
  result32(c.fl, v, o, o);
  const r = c.r;
  r[2 * i.reg] = v; r[2 * i.reg + 1] = 0;
}
function imulRI(c: X86Cpu, i: Insn): void { imul32To(c, i, c.r[2 * i.rm], i.imm); }
function imulMI(c: X86Cpu, i: Insn): void { imul32To(c, i, c.readLin(ea(c, i), 4, c.accUser), i.imm); }
function imulRR(c: X86Cpu, i: Insn): void { imul32To(c, i, c.r[2 * i.rm], c.r[2 * i.reg]); }
function imulRM(c: X86Cpu, i: Insn): void { imul32To(c, i, c.readLin(ea(c, i), 4, c.accUser), c.r[2 * i.reg]); }

/** DIV r/m32: EDX:EAX / src. Quotients of dividends below 2^53 are exact in doubles. */
function div32(c: X86Cpu, src: number): void {
  if (src === 0) c.fault(0);
  const R = c.r;
  const lo = R[0] >>> 0, hi = R[4] >>> 0;
  let q: number, rem: number;
  if (hi === 0) {
    q = Math.floor(lo / src); rem = lo - q * src;
  } else if (hi < src && hi < 0x200000) {
    const n = hi * TWO32 + lo;
    q = Math.floor(n / src); rem = n - q * src;
  } else {
    if (!udiv128(lo, hi, 0, 0, src, 0)) c.fault(0);
    if (W[1] !== 0) c.fault(0);
    q = W[0]; rem = REM[0];
  }
  R[0] = q; R[1] = 0; R[4] = rem; R[5] = 0;
}

/** IDIV r/m32: EDX:EAX / src, truncating; a dividend that is EAX sign-extended is divided directly. */
function idiv32(c: X86Cpu, src: number): void {
  if (src === 0) c.fault(0);
  const R = c.r;
  const n = R[0], d = src | 0;
  if (R[4] === n >> 31 && !(d === -1 && n === -0x80000000)) {
    const q = Math.trunc(n / d);
    R[0] = q; R[1] = 0; R[4] = n - q * d; R[5] = 0;
    return;
  }
  const lo = R[0] >>> 0, hi = R[4] >>> 0;
  const ext = (hi | 0) < 0 ? 0xffffffff : 0;
  if (!idiv128(lo, hi, ext, ext, d >>> 0, d < 0 ? 0xffffffff : 0)) c.fault(0);
  if (W[1] !== ((W[0] | 0) < 0 ? 0xffffffff : 0)) c.fault(0);
  R[0] = W[0]; R[1] = 0; R[4] = REM[0]; R[5] = 0;
}
function divR(c: X86Cpu, i: Insn): void { div32(c, c.r[2 * i.rm] >>> 0); }
function divM(c: X86Cpu, i: Insn): void { div32(c, c.readLin(ea(c, i), 4, c.accUser)); }
function idivR(c: X86Cpu, i: Insn): void { idiv32(c, c.r[2 * i.rm] >>> 0); }
function idivM(c: X86Cpu, i: Insn): void { idiv32(c, c.readLin(ea(c, i), 4, c.accUser)); }

function mulDivHandler(ins: Insn): Handler | undefined {
  if (ins.size !== 4) return undefined;
  const mem = ins.isMem;
  switch (ins.op) {
    case 0x69: case 0x6b: return mem ? imulMI : imulRI;
    case 0x1af: return mem ? imulRM : imulRR;
    case 0xf7: {
      const k = ins.reg & 7;
      if (k === 6) return mem ? divM : divR;
      if (k === 7) return mem ? idivM : idivR;
      return undefined;
    }
    default: return undefined;
  }
}

// ---------------------------------------------------------------- byte TEST / CMP (aluN, alu.ts)

function test8(c: X86Cpu, v: number): void {
  const f = c.fl;
  f.op = LF_LOGIC; f.size = 1; f.rh = 0; f.r = v & 0xff;
  c.hi = 0;
}
function cmp8(c: X86Cpu, a: number, b: number): void {
  const f = c.fl;
  f.op = LF_SUB; f.a = a; f.b = b; f.cin = 0; f.size = 1; f.rh = 0; f.r = (a - b) & 0xff;
  c.hi = 0;
}
function testLoI(c: X86Cpu, i: Insn): void { test8(c, byteLo(c, i.rm) & i.imm); } // F6 /0 reg
function testHiI(c: X86Cpu, i: Insn): void { test8(c, byteHi(c, i.rm) & i.imm); }
function testMI8(c: X86Cpu, i: Insn): void { test8(c, read8(c, i) & i.imm); }
function cmpMI8(c: X86Cpu, i: Insn): void { cmp8(c, read8(c, i), i.imm & 0xff); } // 80 /7 mem
function cmpLoI(c: X86Cpu, i: Insn): void { cmp8(c, byteLo(c, i.rm), i.imm & 0xff); } // 80 /7 reg
function cmpHiI(c: X86Cpu, i: Insn): void { cmp8(c, byteHi(c, i.rm), i.imm & 0xff); }

function byteHandler(ins: Insn): Handler | undefined {
  if (ins.size !== 1 || ins.lock) return undefined;
  const mem = ins.isMem;
  switch (ins.op) {
    case 0x88: if (!mem) return undefined; return isHighByte(ins, ins.reg) ? storeHi8 : storeLo8;
    case 0x8a: if (!mem) return undefined; return isHighByte(ins, ins.reg) ? loadHi8 : loadLo8;
    case 0xc6: return mem && (ins.reg & 7) === 0 ? storeImm8 : undefined;
    case 0xf6:
      if ((ins.reg & 7) > 1) return undefined;
      return mem ? testMI8 : isHighByte(ins, ins.rm) ? testHiI : testLoI;
    case 0x80: case 0x82:
      if ((ins.reg & 7) !== 7) return undefined;
      return mem ? cmpMI8 : isHighByte(ins, ins.rm) ? cmpHiI : cmpLoI;
    default: return undefined;
  }
}

/** A specialised handler for `ins` from this file, or undefined. */
export function fastHandler(ins: Insn): Handler | undefined {
  switch (ins.op) {
    case 0xc1: case 0xd1: case 0xd3: return shiftHandler(ins);
    case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf: case 0x63: return extendHandler(ins);
    case 0x8d: return leaHandler(ins);
    case 0xff: return incDecHandler(ins);
    case 0x69: case 0x6b: case 0x1af: case 0xf7: return mulDivHandler(ins);
    case 0x88: case 0x8a: case 0xc6: case 0xf6: case 0x80: case 0x82: return byteHandler(ins);
    default: return ins.op >= 0x40 && ins.op <= 0x4f ? incDecHandler(ins) : undefined;
  }
}
