import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { ssePrefix } from './sse-names.js';
import { fxsaveX87, fxrstorX87 } from './x87.js';
import { ARITH, CF, PF, ZF } from './flags.js';
import { arith32, arith64, nextAfter64, clearFlags, lastFlags, roundTo32, roundToInteger, MX_IE, MX_PE } from './fpenv.js';

/**
 * SSE/SSE2: the subset gcc -O2 emits for ordinary freestanding C (moves, scalar and packed float
 * arithmetic, conversions, compares, integer packed add/sub/logic/shuffles/unpacks), MXCSR, FXSAVE.
 * Rounding follows MXCSR.RC only for float->int conversions; arithmetic is round-to-nearest.
 * MXCSR exception flags are not accumulated and unmasked exceptions (#XM) are not raised.
 */

const MEM = 16; // scratch slot for a memory source operand
const TMP = 17; // scratch slot for results that overlap their sources

/** #UD / #NM checks shared by every SSE instruction. */
function check(c: X86Cpu): void {
  if (c.cr0 & 4 || !(c.cr4 & 0x200)) c.fault(6); // CR0.EM or !CR4.OSFXSR
  if (c.cr0 & 8) c.fault(7); // CR0.TS
}

function xreg(i: Insn): number {
  return i.reg;
}

/** Load a 16-byte memory operand into slot `slot` (alignment-checked if `aligned`). */
function load128(c: X86Cpu, lin: number, slot: number, aligned: boolean): void {
  if (aligned && lin % 16 !== 0) c.fault(13, 0);
  const x = c.xmm32;
  x[slot * 4] = c.rd64(lin);
  x[slot * 4 + 1] = c.hi;
  x[slot * 4 + 2] = c.rd64(lin + 8);
  x[slot * 4 + 3] = c.hi;
}

function store128(c: X86Cpu, lin: number, slot: number, aligned: boolean): void {
  if (aligned && lin % 16 !== 0) c.fault(13, 0);
  const x = c.xmm32;
  if (c.paging && (lin & 0xfff) > 4080) { c.translate(lin, 1 | c.accUser); c.translate(c.nextPage(lin), 1 | c.accUser); }
  c.wr64(lin, x[slot * 4], x[slot * 4 + 1]);
  c.wr64(lin + 8, x[slot * 4 + 2], x[slot * 4 + 3]);
}

/** The xmm slot holding the source operand (register, or memory loaded into MEM). `bytes`: 4, 8 or 16. */
function src(c: X86Cpu, i: Insn, bytes: number, aligned = true): number {
  if (!i.isMem) return i.rm;
  const lin = ea(c, i);
  const x = c.xmm32;
  if (bytes === 16) load128(c, lin, MEM, aligned);
  else if (bytes === 8) { x[MEM * 4] = c.rd64(lin); x[MEM * 4 + 1] = c.hi; x[MEM * 4 + 2] = 0; x[MEM * 4 + 3] = 0; }
  else { x[MEM * 4] = c.rd32(lin); x[MEM * 4 + 1] = 0; x[MEM * 4 + 2] = 0; x[MEM * 4 + 3] = 0; }
  return MEM;
}

function copy(c: X86Cpu, dst: number, s: number): void {
  const x = c.xmm32;
  x[dst * 4] = x[s * 4]; x[dst * 4 + 1] = x[s * 4 + 1]; x[dst * 4 + 2] = x[s * 4 + 2]; x[dst * 4 + 3] = x[s * 4 + 3];
}

// ---------------------------------------------------------------- NaN-correct float helpers

const F64_IDX_HI = 1; // little-endian: high dword of a double lane
/** True if the double at lane `k` (of xmmF64) is NaN, judged on its bits. */
function isNaN64(c: X86Cpu, k: number): boolean {
  const hi = c.xmm32[k * 2 + F64_IDX_HI];
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || c.xmm32[k * 2] !== 0);
}
function isNaN32(c: X86Cpu, k: number): boolean {
  const v = c.xmm32[k];
  return (v & 0x7f800000) === 0x7f800000 && (v & 0x7fffff) !== 0;
}

/** Denormal operand checks: DE is raised (or, with MXCSR.DAZ, the operand reads as zero). */
function isDen64(c: X86Cpu, k: number): boolean {
  const hi = c.xmm32[k * 2 + 1];
  return (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) !== 0 || c.xmm32[k * 2] !== 0);
}
function isDen32(c: X86Cpu, k: number): boolean {
  const v = c.xmm32[k];
  return (v & 0x7f800000) === 0 && (v & 0x7fffff) !== 0;
}
/** Value of double lane k after denormal handling (flags DE unless DAZ, which flushes it to zero). */
function in64(c: X86Cpu, k: number): number {
  const v = c.xmmF64[k];
  if (!isDen64(c, k)) return v;
  if (c.mxcsrValue & 0x40) return v < 0 ? -0 : 0;
  c.mxcsrValue |= 2;
  return v;
}
function in32(c: X86Cpu, k: number): number {
  const v = c.xmmF32[k];
  if (!isDen32(c, k)) return v;
  if (c.mxcsrValue & 0x40) return v < 0 ? -0 : 0;
  c.mxcsrValue |= 2;
  return v;
}

/** Lane value for conversions to integer (which raise no DE): denormals read as zero under MXCSR.DAZ. */
function daz64(c: X86Cpu, k: number): number {
  return c.mxcsrValue & 0x40 && isDen64(c, k) ? 0 : c.xmmF64[k];
}
function daz32(c: X86Cpu, k: number): number {
  return c.mxcsrValue & 0x40 && isDen32(c, k) ? 0 : c.xmmF32[k];
}

/** Binary double op on lanes: dst lane d <- op(dst lane d, src lane s), with x86 NaN rules and MXCSR. */
function binF64(c: X86Cpu, op: number, d: number, s: number): void {
  const f = c.xmmF64;
  const x = c.xmm32;
  const dNaN = op !== 8 && isNaN64(c, d), sNaN = isNaN64(c, s);
  if (op === 5 || op === 7) { // MIN/MAX: the second operand unless strictly less/greater; any NaN is invalid
    if (dNaN || sNaN) c.mxcsrValue |= MX_IE;
    const a = dNaN || sNaN ? f[d] : in64(c, d), b = dNaN || sNaN ? f[s] : in64(c, s);
    const takeA = op === 5 ? a < b : a > b;
    if (!takeA) { x[d * 2] = x[s * 2]; x[d * 2 + 1] = x[s * 2 + 1]; }
    if (c.mxcsrValue & 0x40 && isDen64(c, d)) f[d] = f[d] < 0 ? -0 : 0; // DAZ: the operand was read as zero
    return;
  }
  if (dNaN || sNaN) {
    if ((dNaN && !(x[d * 2 + 1] & 0x80000)) || (sNaN && !(x[s * 2 + 1] & 0x80000))) c.mxcsrValue |= MX_IE; // SNaN
    if (dNaN) x[d * 2 + 1] |= 0x80000;
    else { x[d * 2] = x[s * 2]; x[d * 2 + 1] = x[s * 2 + 1] | 0x80000; }
    return;
  }
  const b = op === 8 && f[s] < 0 && !(c.mxcsrValue & 0x40 && isDen64(c, s)) ? f[s] : in64(c, s);
  // A denormal dividend over zero raises only ZE (no DE), as the hardware does.
  const a = op === 8 ? 0 : op === 6 && b === 0 ? daz64(c, d) : in64(c, d);
  const r = arith64(op, a, b, c.mxcsrValue);
  c.mxcsrValue |= lastFlags();
  if (r !== r) { x[d * 2] = 0; x[d * 2 + 1] = 0xfff80000 | 0; return; } // real indefinite
  f[d] = r;
}

function binF32(c: X86Cpu, op: number, d: number, s: number): void {
  const f = c.xmmF32;
  const x = c.xmm32;
  const dNaN = op !== 8 && isNaN32(c, d), sNaN = isNaN32(c, s);
  if (op === 5 || op === 7) {
    if (dNaN || sNaN) c.mxcsrValue |= MX_IE;
    const a = dNaN || sNaN ? f[d] : in32(c, d), b = dNaN || sNaN ? f[s] : in32(c, s);
    const takeA = op === 5 ? a < b : a > b;
    if (!takeA) x[d] = x[s];
    if (c.mxcsrValue & 0x40 && isDen32(c, d)) f[d] = f[d] < 0 ? -0 : 0;
    return;
  }
  if (dNaN || sNaN) {
    if ((dNaN && !(x[d] & 0x400000)) || (sNaN && !(x[s] & 0x400000))) c.mxcsrValue |= MX_IE;
    if (dNaN) x[d] |= 0x400000;
    else x[d] = x[s] | 0x400000;
    return;
  }
  const b = op === 8 && f[s] < 0 && !(c.mxcsrValue & 0x40 && isDen32(c, s)) ? f[s] : in32(c, s);
  // A denormal dividend over zero raises only ZE (no DE), as the hardware does.
  const a = op === 8 ? 0 : op === 6 && b === 0 ? daz32(c, d) : in32(c, d);
  const r = arith32(op, a, b, c.mxcsrValue);
  c.mxcsrValue |= lastFlags();
  if (r !== r) { x[d] = 0xffc00000 | 0; return; }
  f[d] = r;
}

// 0F 51 SQRT, 58 ADD, 59 MUL, 5C SUB, 5D MIN, 5E DIV, 5F MAX -> op codes used above
const ARITH_OP: Record<number, number> = { 0x51: 8, 0x58: 0, 0x59: 1, 0x5c: 4, 0x5d: 5, 0x5e: 6, 0x5f: 7 };

function arith(c: X86Cpu, i: Insn): void {
  check(c);
  const op = ARITH_OP[i.op & 0xff];
  const p = ssePrefix(i);
  const d = xreg(i);
  switch (p) {
    case 0: { const s = src(c, i, 16); for (let k = 0; k < 4; k++) binF32(c, op, d * 4 + k, s * 4 + k); break; }
    case 1: { const s = src(c, i, 16); for (let k = 0; k < 2; k++) binF64(c, op, d * 2 + k, s * 2 + k); break; }
    case 2: { const s = src(c, i, 4); binF32(c, op, d * 4, s * 4); break; }
    default: { const s = src(c, i, 8); binF64(c, op, d * 2, s * 2); break; }
  }
}

// ---------------------------------------------------------------- moves

function movups(c: X86Cpu, i: Insn): void { // 0F 10/11 (none/66/F3/F2), 28/29
  check(c);
  const p = ssePrefix(i);
  const store = (i.op & 1) === 1;
  const aligned = (i.op & 0xfe) === 0x28;
  const d = xreg(i);
  const x = c.xmm32;
  if (aligned && p >= 2) c.fault(6);
  if (p <= 1) { // full 128-bit move
    if (store) { if (i.isMem) store128(c, ea(c, i), d, aligned); else copy(c, i.rm, d); }
    else { const s = src(c, i, 16, aligned); copy(c, d, s); }
    return;
  }
  const n = p === 2 ? 1 : 2; // dwords moved: MOVSS 1, MOVSD 2
  if (store) {
    if (i.isMem) {
      const lin = ea(c, i);
      if (n === 1) c.wr32(lin, x[d * 4]); else c.wr64(lin, x[d * 4], x[d * 4 + 1]);
    } else { for (let k = 0; k < n; k++) x[i.rm * 4 + k] = x[d * 4 + k]; }
    return;
  }
  if (i.isMem) { // load zero-extends
    const s = src(c, i, n * 4);
    copy(c, d, s);
  } else for (let k = 0; k < n; k++) x[d * 4 + k] = x[i.rm * 4 + k];
}

function movlhps(c: X86Cpu, i: Insn): void { // 0F 12/13/16/17 (none/66)
  check(c);
  const p = ssePrefix(i);
  if (p >= 2) c.fault(6);
  const x = c.xmm32;
  const d = xreg(i);
  const high = (i.op & 0xfe) === 0x16;
  const off = high ? 2 : 0;
  if (i.op & 1) { // store to memory: m64 <- low/high qword
    if (!i.isMem) c.fault(6);
    c.wr64(ea(c, i), x[d * 4 + off], x[d * 4 + off + 1]);
    return;
  }
  if (i.isMem) {
    const lin = ea(c, i);
    x[d * 4 + off] = c.rd64(lin);
    x[d * 4 + off + 1] = c.hi;
  } else {
    if (p === 1) c.fault(6);
    // MOVHLPS (12): low <- src high; MOVLHPS (16): high <- src low
    const s = i.rm;
    if (high) { x[d * 4 + 2] = x[s * 4]; x[d * 4 + 3] = x[s * 4 + 1]; }
    else { x[d * 4] = x[s * 4 + 2]; x[d * 4 + 1] = x[s * 4 + 3]; }
  }
}

function movdqa(c: X86Cpu, i: Insn): void { // 66/F3 0F 6F / 7F
  check(c);
  const p = ssePrefix(i);
  if (p !== 1 && p !== 2) c.fault(6);
  const aligned = p === 1;
  const d = xreg(i);
  if (i.op === 0x17f) {
    if (i.isMem) store128(c, ea(c, i), d, aligned); else copy(c, i.rm, d);
  } else copy(c, d, src(c, i, 16, aligned));
}

function movntps(c: X86Cpu, i: Insn): void { // 0F 2B, 66 0F E7
  check(c);
  if (!i.isMem) c.fault(6);
  store128(c, ea(c, i), xreg(i), true);
}

function movnti(c: X86Cpu, i: Insn): void { // 0F C3
  const size = i.size === 8 ? 8 : 4;
  const v = c.getReg(i.reg, size, i.rex);
  c.wrSize(ea(c, i), size, v, c.hi);
}

function movd(c: X86Cpu, i: Insn): void { // 66 0F 6E / 7E, F3 0F 7E, 66 0F D6
  check(c);
  const p = ssePrefix(i);
  const x = c.xmm32;
  const d = xreg(i);
  if (i.op === 0x17e && p === 2) { // MOVQ xmm, xmm/m64
    const s = src(c, i, 8);
    x[d * 4] = x[s * 4]; x[d * 4 + 1] = x[s * 4 + 1]; x[d * 4 + 2] = 0; x[d * 4 + 3] = 0;
    return;
  }
  if (p !== 1) c.fault(6);
  if (i.op === 0x1d6) { // MOVQ xmm/m64, xmm
    if (i.isMem) c.wr64(ea(c, i), x[d * 4], x[d * 4 + 1]);
    else { x[i.rm * 4] = x[d * 4]; x[i.rm * 4 + 1] = x[d * 4 + 1]; x[i.rm * 4 + 2] = 0; x[i.rm * 4 + 3] = 0; }
    return;
  }
  const q = i.size === 8;
  if (i.op === 0x16e) {
    const lo = i.isMem ? c.rdSize(ea(c, i), q ? 8 : 4) : c.getReg(i.rm, q ? 8 : 4, i.rex);
    x[d * 4] = lo; x[d * 4 + 1] = q ? c.hi : 0; x[d * 4 + 2] = 0; x[d * 4 + 3] = 0;
  } else {
    if (i.isMem) c.wrSize(ea(c, i), q ? 8 : 4, x[d * 4], x[d * 4 + 1]);
    else c.setReg(i.rm, q ? 8 : 4, x[d * 4], q ? x[d * 4 + 1] : 0, i.rex);
  }
}

function movmsk(c: X86Cpu, i: Insn): void { // 0F 50 (none/66), 66 0F D7
  check(c);
  const p = ssePrefix(i);
  if (i.isMem) c.fault(6);
  const x = c.xmm32;
  const s = i.rm;
  let m = 0;
  if (i.op === 0x1d7) {
    if (p !== 1) c.fault(6);
    for (let k = 0; k < 16; k++) m |= (c.xmmU8[s * 16 + k] >> 7) << k;
  } else if (p === 0) for (let k = 0; k < 4; k++) m |= (x[s * 4 + k] >>> 31) << k;
  else if (p === 1) m = (x[s * 4 + 1] >>> 31) | ((x[s * 4 + 3] >>> 31) << 1);
  else c.fault(6);
  c.setReg(i.reg, 4, m, 0, i.rex);
}

// ---------------------------------------------------------------- logic, integer packed

function logic(c: X86Cpu, i: Insn): void { // 0F 54-57 (none/66), 66 0F DB DF EB EF
  check(c);
  const p = ssePrefix(i);
  if (p >= 2) c.fault(6);
  if (i.op >= 0x1d0 && p !== 1) c.fault(6);
  const s = src(c, i, 16);
  const d = xreg(i);
  const x = c.xmm32;
  const o = i.op & 0xff;
  for (let k = 0; k < 4; k++) {
    const a = x[d * 4 + k], b = x[s * 4 + k];
    let r: number;
    if (o === 0x54 || o === 0xdb) r = a & b;
    else if (o === 0x55 || o === 0xdf) r = ~a & b;
    else if (o === 0x56 || o === 0xeb) r = a | b;
    else r = a ^ b;
    x[d * 4 + k] = r;
  }
}

/** Packed integer add/sub/compare/min/max/multiply (66 prefix only; MMX forms are not implemented). */
function packedInt(c: X86Cpu, i: Insn): void {
  check(c);
  if (ssePrefix(i) !== 1) c.fault(6);
  const s = src(c, i, 16);
  const d = xreg(i);
  const o = i.op & 0xff;
  const b8 = c.xmmU8, w = c.xmm16, x = c.xmm32;
  switch (o) {
    case 0xfc: for (let k = 0; k < 16; k++) b8[d * 16 + k] = b8[d * 16 + k] + b8[s * 16 + k]; break;
    case 0xfd: for (let k = 0; k < 8; k++) w[d * 8 + k] = w[d * 8 + k] + w[s * 8 + k]; break;
    case 0xfe: for (let k = 0; k < 4; k++) x[d * 4 + k] = x[d * 4 + k] + x[s * 4 + k]; break;
    case 0xf8: for (let k = 0; k < 16; k++) b8[d * 16 + k] = b8[d * 16 + k] - b8[s * 16 + k]; break;
    case 0xf9: for (let k = 0; k < 8; k++) w[d * 8 + k] = w[d * 8 + k] - w[s * 8 + k]; break;
    case 0xfa: for (let k = 0; k < 4; k++) x[d * 4 + k] = x[d * 4 + k] - x[s * 4 + k]; break;
    case 0xd4: case 0xfb: // PADDQ / PSUBQ
      for (let q = 0; q < 2; q++) {
        const dl = x[d * 4 + q * 2] >>> 0, dh = x[d * 4 + q * 2 + 1];
        const sl = x[s * 4 + q * 2] >>> 0, sh = x[s * 4 + q * 2 + 1];
        const lo = o === 0xd4 ? dl + sl : dl - sl;
        const carry = o === 0xd4 ? (lo >= 4294967296 ? 1 : 0) : lo < 0 ? -1 : 0;
        x[d * 4 + q * 2] = lo >>> 0;
        x[d * 4 + q * 2 + 1] = o === 0xd4 ? dh + sh + carry : dh - sh + carry;
      }
      break;
    case 0x74: for (let k = 0; k < 16; k++) b8[d * 16 + k] = b8[d * 16 + k] === b8[s * 16 + k] ? 0xff : 0; break;
    case 0x75: for (let k = 0; k < 8; k++) w[d * 8 + k] = w[d * 8 + k] === w[s * 8 + k] ? 0xffff : 0; break;
    case 0x76: for (let k = 0; k < 4; k++) x[d * 4 + k] = x[d * 4 + k] === x[s * 4 + k] ? -1 : 0; break;
    case 0x64: for (let k = 0; k < 16; k++) b8[d * 16 + k] = ((b8[d * 16 + k] << 24) >> 24) > ((b8[s * 16 + k] << 24) >> 24) ? 0xff : 0; break;
    case 0x65: for (let k = 0; k < 8; k++) w[d * 8 + k] = ((w[d * 8 + k] << 16) >> 16) > ((w[s * 8 + k] << 16) >> 16) ? 0xffff : 0; break;
    case 0x66: for (let k = 0; k < 4; k++) x[d * 4 + k] = x[d * 4 + k] > x[s * 4 + k] ? -1 : 0; break;
    case 0xda: for (let k = 0; k < 16; k++) b8[d * 16 + k] = Math.min(b8[d * 16 + k], b8[s * 16 + k]); break;
    case 0xde: for (let k = 0; k < 16; k++) b8[d * 16 + k] = Math.max(b8[d * 16 + k], b8[s * 16 + k]); break;
    case 0xd5: for (let k = 0; k < 8; k++) w[d * 8 + k] = Math.imul(w[d * 8 + k], w[s * 8 + k]); break;
    case 0xf4: { // PMULUDQ: low dwords of each qword, unsigned 64-bit products
      for (let q = 0; q < 2; q++) {
        const a = x[d * 4 + q * 2] >>> 0, b = x[s * 4 + q * 2] >>> 0;
        const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
        const ll = al * bl, mid = (ll >>> 16) + (al * bh & 0xffff) + (ah * bl & 0xffff);
        x[d * 4 + q * 2] = ((mid & 0xffff) << 16) | (ll & 0xffff);
        x[d * 4 + q * 2 + 1] = ah * bh + ((al * bh) >>> 16) + ((ah * bl) >>> 16) + Math.floor(mid / 65536);
      }
      break;
    }
    default: packedInt2(c, o, d, s);
  }
}

const sat = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);
const s16 = (v: number) => (v << 16) >> 16;
const s8 = (v: number) => (v << 24) >> 24;

/** Saturating arithmetic, averages, high multiplies, packs, SAD (66 0F xx). */
function packedInt2(c: X86Cpu, o: number, d: number, s: number): void {
  const b8 = c.xmmU8, w = c.xmm16, x = c.xmm32;
  const D8 = d * 16, S8 = s * 16, D16 = d * 8, S16 = s * 8;
  switch (o) {
    case 0xd8: for (let k = 0; k < 16; k++) b8[D8 + k] = sat(b8[D8 + k] - b8[S8 + k], 0, 255); return;
    case 0xd9: for (let k = 0; k < 8; k++) w[D16 + k] = sat(w[D16 + k] - w[S16 + k], 0, 65535); return;
    case 0xdc: for (let k = 0; k < 16; k++) b8[D8 + k] = sat(b8[D8 + k] + b8[S8 + k], 0, 255); return;
    case 0xdd: for (let k = 0; k < 8; k++) w[D16 + k] = sat(w[D16 + k] + w[S16 + k], 0, 65535); return;
    case 0xe8: for (let k = 0; k < 16; k++) b8[D8 + k] = sat(s8(b8[D8 + k]) - s8(b8[S8 + k]), -128, 127); return;
    case 0xe9: for (let k = 0; k < 8; k++) w[D16 + k] = sat(s16(w[D16 + k]) - s16(w[S16 + k]), -32768, 32767); return;
    case 0xec: for (let k = 0; k < 16; k++) b8[D8 + k] = sat(s8(b8[D8 + k]) + s8(b8[S8 + k]), -128, 127); return;
    case 0xed: for (let k = 0; k < 8; k++) w[D16 + k] = sat(s16(w[D16 + k]) + s16(w[S16 + k]), -32768, 32767); return;
    case 0xe0: for (let k = 0; k < 16; k++) b8[D8 + k] = (b8[D8 + k] + b8[S8 + k] + 1) >> 1; return;
    case 0xe3: for (let k = 0; k < 8; k++) w[D16 + k] = (w[D16 + k] + w[S16 + k] + 1) >> 1; return;
    case 0xe4: for (let k = 0; k < 8; k++) w[D16 + k] = (w[D16 + k] * w[S16 + k]) >>> 16; return;
    case 0xe5: for (let k = 0; k < 8; k++) w[D16 + k] = (s16(w[D16 + k]) * s16(w[S16 + k])) >> 16; return;
    case 0xea: for (let k = 0; k < 8; k++) w[D16 + k] = Math.min(s16(w[D16 + k]), s16(w[S16 + k])); return;
    case 0xee: for (let k = 0; k < 8; k++) w[D16 + k] = Math.max(s16(w[D16 + k]), s16(w[S16 + k])); return;
    case 0xf5: // PMADDWD
      for (let k = 0; k < 4; k++) {
        x[d * 4 + k] = s16(w[D16 + 2 * k]) * s16(w[S16 + 2 * k]) + s16(w[D16 + 2 * k + 1]) * s16(w[S16 + 2 * k + 1]);
      }
      return;
    case 0xf6: // PSADBW
      for (let q = 0; q < 2; q++) {
        let sum = 0;
        for (let k = 0; k < 8; k++) sum += Math.abs(b8[D8 + q * 8 + k] - b8[S8 + q * 8 + k]);
        x[d * 4 + q * 2] = sum; x[d * 4 + q * 2 + 1] = 0;
      }
      return;
    case 0x63: case 0x67: { // PACKSSWB / PACKUSWB
      const lo = o === 0x63 ? -128 : 0, hi = o === 0x63 ? 127 : 255;
      for (let k = 0; k < 8; k++) { b8[TMP * 16 + k] = sat(s16(w[D16 + k]), lo, hi); b8[TMP * 16 + 8 + k] = sat(s16(w[S16 + k]), lo, hi); }
      copy(c, d, TMP);
      return;
    }
    case 0x6b: // PACKSSDW
      for (let k = 0; k < 4; k++) { w[TMP * 8 + k] = sat(x[d * 4 + k], -32768, 32767); w[TMP * 8 + 4 + k] = sat(x[s * 4 + k], -32768, 32767); }
      copy(c, d, TMP);
      return;
  }
  c.fault(6);
}

function unpack(c: X86Cpu, i: Insn): void { // 66 0F 60-62, 68-6A, 6C, 6D; 0F 14/15 (none/66)
  check(c);
  const p = ssePrefix(i);
  const o = i.op & 0xff;
  if (o === 0x14 || o === 0x15) { if (p >= 2) c.fault(6); } else if (p !== 1) c.fault(6);
  const s = src(c, i, 16);
  const d = xreg(i);
  const b8 = c.xmmU8;
  // element size in bytes and whether we take the high halves
  let esz: number, high: boolean;
  switch (o) {
    case 0x60: esz = 1; high = false; break;
    case 0x61: esz = 2; high = false; break;
    case 0x62: esz = 4; high = false; break;
    case 0x6c: esz = 8; high = false; break;
    case 0x68: esz = 1; high = true; break;
    case 0x69: esz = 2; high = true; break;
    case 0x6a: esz = 4; high = true; break;
    case 0x6d: esz = 8; high = true; break;
    case 0x14: esz = p === 1 ? 8 : 4; high = false; break;
    default: esz = p === 1 ? 8 : 4; high = true; break;
  }
  const base = high ? 8 : 0;
  const n = 8 / esz;
  for (let k = 0; k < n; k++) {
    for (let b = 0; b < esz; b++) {
      b8[TMP * 16 + 2 * k * esz + b] = b8[d * 16 + base + k * esz + b];
      b8[TMP * 16 + (2 * k + 1) * esz + b] = b8[s * 16 + base + k * esz + b];
    }
  }
  copy(c, d, TMP);
}

function pshufd(c: X86Cpu, i: Insn): void { // 66/F3/F2 0F 70
  check(c);
  const p = ssePrefix(i);
  if (p === 0) c.fault(6);
  const s = src(c, i, 16);
  const d = xreg(i);
  const imm = i.imm & 0xff;
  const x = c.xmm32, w = c.xmm16;
  copy(c, TMP, s);
  if (p === 1) for (let k = 0; k < 4; k++) x[d * 4 + k] = x[TMP * 4 + ((imm >> (2 * k)) & 3)];
  else {
    const off = p === 2 ? 4 : 0; // F3: PSHUFHW shuffles the high words, F2: PSHUFLW the low ones
    copy(c, d, TMP);
    for (let k = 0; k < 4; k++) w[d * 8 + off + k] = w[TMP * 8 + off + ((imm >> (2 * k)) & 3)];
  }
}

function shufps(c: X86Cpu, i: Insn): void { // 0F C6 (none/66)
  check(c);
  const p = ssePrefix(i);
  if (p >= 2) c.fault(6);
  const s = src(c, i, 16);
  const d = xreg(i);
  const imm = i.imm & 0xff;
  const x = c.xmm32;
  if (p === 0) {
    x[TMP * 4] = x[d * 4 + (imm & 3)];
    x[TMP * 4 + 1] = x[d * 4 + ((imm >> 2) & 3)];
    x[TMP * 4 + 2] = x[s * 4 + ((imm >> 4) & 3)];
    x[TMP * 4 + 3] = x[s * 4 + ((imm >> 6) & 3)];
  } else {
    const q0 = imm & 1, q1 = (imm >> 1) & 1;
    x[TMP * 4] = x[d * 4 + q0 * 2]; x[TMP * 4 + 1] = x[d * 4 + q0 * 2 + 1];
    x[TMP * 4 + 2] = x[s * 4 + q1 * 2]; x[TMP * 4 + 3] = x[s * 4 + q1 * 2 + 1];
  }
  copy(c, d, TMP);
}

/** Shifts by immediate: 66 0F 71/72/73 /2 /4 /6 (and /3 /7 byte shifts for 73). */
function shiftImm(c: X86Cpu, i: Insn): void {
  check(c);
  if (ssePrefix(i) !== 1 || i.isMem) c.fault(6);
  const d = i.rm;
  const n = i.imm & 0xff;
  const r = i.reg & 7;
  const g = i.op & 0xff;
  shiftLanes(c, d, g === 0x71 ? 2 : g === 0x72 ? 4 : 8, r, n);
}

/** Shifts by xmm count: 66 0F D1-D3 (srl), E1-E2 (sra), F1-F3 (sll). */
function shiftXmm(c: X86Cpu, i: Insn): void {
  check(c);
  if (ssePrefix(i) !== 1) c.fault(6);
  const s = src(c, i, 16);
  const x = c.xmm32;
  const count = x[s * 4 + 1] !== 0 ? 255 : Math.min(x[s * 4] >>> 0, 255);
  const o = i.op & 0xff;
  const lane = [0, 2, 4, 8][o & 3];
  const kind = o >= 0xf0 ? 6 : o >= 0xe0 ? 4 : 2;
  shiftLanes(c, xreg(i), lane, kind, count);
}

/** kind: 2 logical right, 4 arithmetic right, 6 left, 3 byte right (PSRLDQ), 7 byte left (PSLLDQ). */
function shiftLanes(c: X86Cpu, d: number, lane: number, kind: number, n: number): void {
  const b8 = c.xmmU8, w = c.xmm16, x = c.xmm32;
  if (kind === 3 || kind === 7) {
    if (lane !== 8) c.fault(6);
    const k = Math.min(n, 16);
    for (let b = 0; b < 16; b++) {
      const from = kind === 3 ? b + k : b - k;
      b8[TMP * 16 + b] = from >= 0 && from < 16 ? b8[d * 16 + from] : 0;
    }
    copy(c, d, TMP);
    return;
  }
  if (kind !== 2 && kind !== 4 && kind !== 6) c.fault(6);
  if (lane === 2) {
    for (let k = 0; k < 8; k++) {
      const v = w[d * 8 + k];
      if (kind === 6) w[d * 8 + k] = n > 15 ? 0 : v << n;
      else if (kind === 2) w[d * 8 + k] = n > 15 ? 0 : v >>> n;
      else w[d * 8 + k] = ((v << 16) >> 16) >> Math.min(n, 15);
    }
  } else if (lane === 4) {
    for (let k = 0; k < 4; k++) {
      const v = x[d * 4 + k];
      if (kind === 6) x[d * 4 + k] = n > 31 ? 0 : v << n;
      else if (kind === 2) x[d * 4 + k] = n > 31 ? 0 : v >>> n;
      else x[d * 4 + k] = v >> Math.min(n, 31);
    }
  } else {
    if (kind === 4) c.fault(6);
    for (let q = 0; q < 2; q++) {
      const lo = x[d * 4 + q * 2] >>> 0, hi = x[d * 4 + q * 2 + 1] >>> 0;
      let rl = 0, rh = 0;
      if (n < 64) {
        if (kind === 6) {
          if (n >= 32) { rh = lo << (n - 32); rl = 0; } else if (n === 0) { rl = lo; rh = hi; } else { rh = (hi << n) | (lo >>> (32 - n)); rl = lo << n; }
        } else if (n >= 32) { rl = hi >>> (n - 32); rh = 0; } else if (n === 0) { rl = lo; rh = hi; } else { rl = (lo >>> n) | (hi << (32 - n)); rh = hi >>> n; }
      }
      x[d * 4 + q * 2] = rl; x[d * 4 + q * 2 + 1] = rh;
    }
  }
}

// ---------------------------------------------------------------- compares

function ucomis(c: X86Cpu, i: Insn): void { // 0F 2E/2F (none: ss, 66: sd)
  check(c);
  const p = ssePrefix(i);
  if (p >= 2) c.fault(6);
  const d = xreg(i);
  let unordered: boolean, lt: boolean, eq: boolean;
  if (p === 0) {
    const s = src(c, i, 4);
    unordered = isNaN32(c, d * 4) || isNaN32(c, s * 4);
    const a = unordered ? 0 : in32(c, d * 4), b = unordered ? 0 : in32(c, s * 4);
    lt = a < b; eq = a === b;
  } else {
    const s = src(c, i, 8);
    unordered = isNaN64(c, d * 2) || isNaN64(c, s * 2);
    const a = unordered ? 0 : in64(c, d * 2), b = unordered ? 0 : in64(c, s * 2);
    lt = a < b; eq = a === b;
  }
  if (unordered) {
    // COMIS: any NaN is invalid; UCOMIS: only signalling NaNs.
    const snanD = p === 0 ? isNaN32(c, d * 4) && (c.xmm32[d * 4] & 0x400000) === 0 : isNaN64(c, d * 2) && (c.xmm32[d * 4 + 1] & 0x80000) === 0;
    if ((i.op & 0xff) === 0x2f || snanD || !quietSrc(c, i, p)) c.mxcsrValue |= MX_IE;
  }
  const f = c.fl;
  f.materialize();
  let bits = f.bits & ~ARITH;
  if (unordered) bits |= ZF | PF | CF;
  else if (lt) bits |= CF;
  else if (eq) bits |= ZF;
  f.bits = bits;
}

/** Whether the (already loaded) source of a scalar compare is a quiet NaN or not a NaN at all. */
function quietSrc(c: X86Cpu, i: Insn, p: number): boolean {
  const s = i.isMem ? MEM : i.rm;
  if (p === 0) return !isNaN32(c, s * 4) || (c.xmm32[s * 4] & 0x400000) !== 0;
  return !isNaN64(c, s * 2) || (c.xmm32[s * 4 + 1] & 0x80000) !== 0;
}

function cmpPred(a: number, b: number, pred: number): boolean {
  const un = a !== a || b !== b;
  switch (pred & 7) {
    case 0: return a === b;
    case 1: return a < b;
    case 2: return a <= b;
    case 3: return un;
    case 4: return !(a === b);
    case 5: return !(a < b);
    case 6: return !(a <= b);
    default: return !un;
  }
}

/** Compare predicates LT/LE/NLT/NLE signal invalid on any NaN; the others only on signalling NaNs. */
function cmpFlags32(c: X86Cpu, pred: number, d: number, s: number): void {
  const dn = isNaN32(c, d), sn = isNaN32(c, s);
  if (dn || sn) {
    const snan = (dn && !(c.xmm32[d] & 0x400000)) || (sn && !(c.xmm32[s] & 0x400000));
    if (snan || (pred & 3) === 1 || (pred & 3) === 2) c.mxcsrValue |= MX_IE;
  } else { in32(c, d); in32(c, s); }
}
function cmpFlags64(c: X86Cpu, pred: number, d: number, s: number): void {
  const dn = isNaN64(c, d), sn = isNaN64(c, s);
  if (dn || sn) {
    const snan = (dn && !(c.xmm32[d * 2 + 1] & 0x80000)) || (sn && !(c.xmm32[s * 2 + 1] & 0x80000));
    if (snan || (pred & 3) === 1 || (pred & 3) === 2) c.mxcsrValue |= MX_IE;
  } else { in64(c, d); in64(c, s); }
}

function cmpps(c: X86Cpu, i: Insn): void { // 0F C2 ib
  check(c);
  const p = ssePrefix(i);
  const d = xreg(i);
  const x = c.xmm32;
  const pred = i.imm & 7; // legacy SSE encodings use only imm8[2:0]
  const daz = (c.mxcsrValue & 0x40) !== 0;
  const v32 = (k: number) => (daz && isDen32(c, k) ? 0 : c.xmmF32[k]);
  const v64 = (k: number) => (daz && isDen64(c, k) ? 0 : c.xmmF64[k]);
  switch (p) {
    case 0: { const s = src(c, i, 16); for (let k = 0; k < 4; k++) { cmpFlags32(c, pred, d * 4 + k, s * 4 + k); x[d * 4 + k] = cmpPred(v32(d * 4 + k), v32(s * 4 + k), pred) ? -1 : 0; } break; }
    case 1: { const s = src(c, i, 16); for (let k = 0; k < 2; k++) { cmpFlags64(c, pred, d * 2 + k, s * 2 + k); const r = cmpPred(v64(d * 2 + k), v64(s * 2 + k), pred) ? -1 : 0; x[d * 4 + k * 2] = r; x[d * 4 + k * 2 + 1] = r; } break; }
    case 2: { const s = src(c, i, 4); cmpFlags32(c, pred, d * 4, s * 4); x[d * 4] = cmpPred(v32(d * 4), v32(s * 4), pred) ? -1 : 0; break; }
    default: { const s = src(c, i, 8); cmpFlags64(c, pred, d * 2, s * 2); const r = cmpPred(v64(d * 2), v64(s * 2), pred) ? -1 : 0; x[d * 4] = r; x[d * 4 + 1] = r; }
  }
}

// ---------------------------------------------------------------- conversions

const TWO32 = 4294967296;

function nextDown(x: number): number {
  return nextAfter64(x, -1);
}

/** Round per MXCSR.RC (0 nearest-even, 1 down, 2 up, 3 toward zero). */
function roundMx(c: X86Cpu, v: number): number {
  return roundToInteger(v, false, c.mxcsrValue);
}

/** Convert a float to int32/int64 into a GPR (integer indefinite and IE on NaN/overflow, PE if inexact). */
function toInt(c: X86Cpu, i: Insn, v: number, truncate: boolean): void {
  const q = i.size === 8;
  const r = v !== v ? NaN : roundToInteger(v, truncate, c.mxcsrValue);
  const ok = q ? r >= -9223372036854775808 && r < 9223372036854775808 : r >= -2147483648 && r <= 2147483647;
  if (!ok) {
    c.mxcsrValue |= MX_IE;
    c.setReg(i.reg, q ? 8 : 4, q ? 0 : 0x80000000, q ? 0x80000000 : 0, i.rex);
    return;
  }
  if (r !== v) c.mxcsrValue |= MX_PE;
  if (q) {
    const hi = Math.floor(r / TWO32);
    c.setReg(i.reg, 8, (r - hi * TWO32) >>> 0, hi >>> 0, i.rex);
  } else c.setReg(i.reg, 4, r >>> 0, 0, i.rex);
}

function cvtsi2s(c: X86Cpu, i: Insn): void { // F3/F2 0F 2A
  check(c);
  const p = ssePrefix(i);
  if (p < 2) { cvtpi2p(c, i, p); return; }
  const q = i.size === 8;
  const lo = i.isMem ? c.rdSize(ea(c, i), q ? 8 : 4) : c.getReg(i.rm, q ? 8 : 4, i.rex);
  const hiPart = q ? (c.hi | 0) * TWO32 : 0, loPart = q ? lo : lo | 0;
  const v = hiPart + loPart;
  // Sign of the rounding error of hiPart + loPart (TwoSum), for directed modes and PE.
  const t = v - hiPart;
  const e = (hiPart - (v - t)) + (loPart - t);
  const err = e > 0 ? 1 : e < 0 ? -1 : 0;
  const rc = (c.mxcsrValue >> 13) & 3;
  clearFlags();
  if (p === 2) c.xmmF32[xreg(i) * 4] = roundTo32(v, err, rc, c.mxcsrValue);
  else {
    let r = v;
    if (err !== 0) {
      c.mxcsrValue |= MX_PE;
      if (rc === 1 && err < 0) r = nextDown(r);
      else if (rc === 2 && err > 0) r = -nextDown(-r);
      else if (rc === 3 && ((r > 0 && err < 0) || (r < 0 && err > 0))) r = r > 0 ? nextDown(r) : -nextDown(-r);
    }
    c.xmmF64[xreg(i) * 2] = r;
  }
  c.mxcsrValue |= lastFlags();
}

/**
 * CVTPI2PS / CVTPI2PD xmm, m64: two int32 from memory to floats (rounded per MXCSR) or doubles (exact).
 * The MMX-register source needs MMX, which is not advertised (the decoder rejects it). With a memory
 * source the x87 state is untouched (no switch to MMX mode), as the host shows.
 */
function cvtpi2p(c: X86Cpu, i: Insn, p: number): void {
  if (!i.isMem) c.fault(6);
  const lin = ea(c, i);
  const lo = c.rd64(lin) | 0, hi = c.hi | 0;
  const d = xreg(i);
  if (p === 1) { c.xmmF64[d * 2] = lo; c.xmmF64[d * 2 + 1] = hi; return; }
  const rc = (c.mxcsrValue >> 13) & 3;
  clearFlags();
  const r0 = roundTo32(lo, 0, rc, c.mxcsrValue);
  const r1 = roundTo32(hi, 0, rc, c.mxcsrValue);
  c.mxcsrValue |= lastFlags();
  c.xmmF32[d * 4] = r0; c.xmmF32[d * 4 + 1] = r1;
}

function cvtts2si(c: X86Cpu, i: Insn): void { // F3/F2 0F 2C (truncate) / 2D (MXCSR rounding)
  check(c);
  const p = ssePrefix(i);
  if (p < 2) c.fault(6);
  const truncate = (i.op & 0xff) === 0x2c;
  if (p === 2) { const s = src(c, i, 4); toInt(c, i, daz32(c, s * 4), truncate); }
  else { const s = src(c, i, 8); toInt(c, i, daz64(c, s * 2), truncate); }
}

function cvtFloat(c: X86Cpu, i: Insn): void { // 0F 5A: none cvtps2pd, 66 cvtpd2ps, F3 cvtss2sd, F2 cvtsd2ss
  check(c);
  const p = ssePrefix(i);
  const d = xreg(i);
  const f32 = c.xmmF32, f64 = c.xmmF64, x = c.xmm32;
  switch (p) {
    case 0: { // CVTPS2PD
      const s = src(c, i, 8);
      copy(c, TMP, s);
      for (let k = 0; k < 2; k++) f32ToF64(c, TMP * 4 + k, d * 2 + k);
      break;
    }
    case 1: { // CVTPD2PS
      const s = src(c, i, 16);
      copy(c, TMP, s);
      for (let k = 0; k < 2; k++) f64ToF32(c, TMP * 2 + k, d * 4 + k);
      x[d * 4 + 2] = 0; x[d * 4 + 3] = 0;
      break;
    }
    case 2: { const s = src(c, i, 4); f32ToF64(c, s * 4, d * 2); break; }
    default: { const s = src(c, i, 8); f64ToF32(c, s * 2, d * 4); break; }
  }
}

/** Double lane `from` (xmmF64 index) to float lane `to` (xmmF32 index) with NaN payloads and flags. */
function f64ToF32(c: X86Cpu, from: number, to: number): void {
  const x = c.xmm32;
  if (isNaN64(c, from)) { // keep the payload's top bits, quieted
    if (!(x[from * 2 + 1] & 0x80000)) c.mxcsrValue |= MX_IE;
    x[to] = (x[from * 2 + 1] & 0x80000000) | 0x7fc00000 | ((x[from * 2 + 1] & 0x7ffff) << 3) | (x[from * 2] >>> 29);
    return;
  }
  clearFlags();
  c.xmmF32[to] = roundTo32(in64(c, from), 0, (c.mxcsrValue >> 13) & 3, c.mxcsrValue);
  c.mxcsrValue |= lastFlags();
}

function f32ToF64(c: X86Cpu, from: number, to: number): void {
  const x = c.xmm32;
  if (isNaN32(c, from)) {
    if (!(x[from] & 0x400000)) c.mxcsrValue |= MX_IE;
    const v = x[from] | 0x400000;
    x[to * 2 + 1] = (v & 0x80000000) | 0x7ff00000 | ((v & 0x7fffff) >>> 3);
    x[to * 2] = v << 29;
    return;
  }
  c.xmmF64[to] = in32(c, from);
}

function cvtdq(c: X86Cpu, i: Insn): void { // 0F 5B: none cvtdq2ps, 66 cvtps2dq, F3 cvttps2dq
  check(c);
  const p = ssePrefix(i);
  if (p === 3) c.fault(6);
  const s = src(c, i, 16);
  const d = xreg(i);
  const x = c.xmm32;
  copy(c, TMP, s);
  const rc = (c.mxcsrValue >> 13) & 3;
  for (let k = 0; k < 4; k++) {
    if (p === 0) {
      clearFlags();
      c.xmmF32[d * 4 + k] = roundTo32(x[TMP * 4 + k], 0, rc, c.mxcsrValue);
      c.mxcsrValue |= lastFlags();
    } else x[d * 4 + k] = toInt32Lane(c, daz32(c, TMP * 4 + k), p === 2);
  }
}

/** One lane of a float -> int32 conversion: integer indefinite + IE on NaN/overflow, PE if inexact. */
function toInt32Lane(c: X86Cpu, v: number, truncate: boolean): number {
  const r = v !== v ? NaN : roundToInteger(v, truncate, c.mxcsrValue);
  if (!(r >= -2147483648 && r <= 2147483647)) { c.mxcsrValue |= MX_IE; return 0x80000000 | 0; }
  if (r !== v) c.mxcsrValue |= MX_PE;
  return r;
}

function cvtpd2dq(c: X86Cpu, i: Insn): void { // 0F E6: 66 cvttpd2dq, F3 cvtdq2pd, F2 cvtpd2dq
  check(c);
  const p = ssePrefix(i);
  if (p === 0) c.fault(6);
  const d = xreg(i);
  const x = c.xmm32;
  if (p === 2) {
    const s = src(c, i, 8);
    const a = x[s * 4], b = x[s * 4 + 1];
    c.xmmF64[d * 2] = a; c.xmmF64[d * 2 + 1] = b;
    return;
  }
  const s = src(c, i, 16);
  copy(c, TMP, s);
  for (let k = 0; k < 2; k++) x[d * 4 + k] = toInt32Lane(c, daz64(c, TMP * 2 + k), p === 1);
  x[d * 4 + 2] = 0; x[d * 4 + 3] = 0;
}

// ---------------------------------------------------------------- state: MXCSR, FXSAVE/FXRSTOR, fences

const MXCSR_MASK = 0xffff;

function grp15(c: X86Cpu, i: Insn): void { // 0F AE
  const r = i.reg & 7;
  if (!i.isMem) {
    if (r >= 5) return; // LFENCE / MFENCE / SFENCE: no reordering to fence here
    c.fault(6);
  }
  const lin = ea(c, i);
  switch (r) {
    case 0: fxsave(c, i, lin); return;
    case 1: fxrstor(c, i, lin); return;
    case 2: { // LDMXCSR
      check(c);
      const v = c.rd32(lin);
      if (v & ~MXCSR_MASK) c.fault(13, 0);
      c.mxcsrValue = v;
      return;
    }
    case 3: check(c); c.wr32(lin, c.mxcsrValue); return;
    case 7: return; // CLFLUSH: caches are not modelled
  }
  c.fault(6); // XSAVE family: not advertised
}

function fxsave(c: X86Cpu, i: Insn, lin: number): void {
  if (c.cr0 & 0xc) c.fault(c.cr0 & 4 ? 6 : 7);
  if (lin % 16 !== 0) c.fault(13, 0);
  if (c.paging) { c.translate(lin, 1 | c.accUser); if ((lin & 0xfff) > 3584) c.translate(c.nextPage(lin), 1 | c.accUser); }
  fxsaveX87(c, lin, i.size === 8); // FCW FSW FTW FOP FIP FDP, ST0-7
  c.wr32(lin + 24, c.mxcsrValue);
  c.wr32(lin + 28, MXCSR_MASK);
  const n = c.codeSize === 64 ? 16 : 8;
  if (c.cr4 & 0x200) for (let k = 0; k < n; k++) store128(c, lin + 160 + k * 16, k, false);
  void i;
}

function fxrstor(c: X86Cpu, i: Insn, lin: number): void {
  if (c.cr0 & 0xc) c.fault(c.cr0 & 4 ? 6 : 7);
  if (lin % 16 !== 0) c.fault(13, 0);
  const mx = c.rd32(lin + 24);
  if (mx & ~MXCSR_MASK) c.fault(13, 0);
  fxrstorX87(c, lin, i.size === 8); // FCW FSW FTW FOP FIP FDP, ST0-7
  c.mxcsrValue = mx;
  const n = c.codeSize === 64 ? 16 : 8;
  if (c.cr4 & 0x200) for (let k = 0; k < n; k++) load128(c, lin + 160 + k * 16, k, false);
  void i;
}

/**
 * RCPPS/RCPSS/RSQRTPS/RSQRTSS (0F 53/52): the architecture only bounds the relative error (1.5 * 2^-12);
 * we return the correctly rounded value, which is within that bound but not bit-identical to hardware.
 * Denormal inputs count as zero and tiny results flush to zero, as on Intel CPUs.
 */
function approx(c: X86Cpu, i: Insn): void {
  check(c);
  const p = ssePrefix(i);
  if (p === 1 || p === 3) c.fault(6);
  const rsqrt = (i.op & 0xff) === 0x52;
  const s = src(c, i, p === 2 ? 4 : 16);
  const d = xreg(i);
  const f = c.xmmF32;
  copy(c, TMP, s);
  const n = p === 2 ? 1 : 4;
  for (let k = 0; k < n; k++) {
    let v = f[TMP * 4 + k];
    if (isDen32(c, TMP * 4 + k)) v = v < 0 ? -0 : 0;
    let r = rsqrt ? 1 / Math.sqrt(v) : 1 / v;
    if (r !== r && !(v !== v)) r = NaN;
    if (Math.abs(r) < 1.1754943508222875e-38) r = r < 0 ? -0 : 0;
    if (v !== v) c.xmm32[d * 4 + k] = c.xmm32[TMP * 4 + k] | 0x400000;
    else if (r !== r) c.xmm32[d * 4 + k] = 0xffc00000 | 0;
    else f[d * 4 + k] = r;
  }
}

/** MASKMOVDQU xmm1, xmm2: store the bytes of xmm1 whose mask byte in xmm2 has its top bit set, at DS:rDI. */
function maskmovdqu(c: X86Cpu, i: Insn): void {
  check(c);
  if (ssePrefix(i) !== 1 || i.isMem) c.fault(6);
  const b8 = c.xmmU8;
  const off = i.asize === 8 ? c.regNum(7) : i.asize === 4 ? c.r[14] >>> 0 : c.r[14] & 0xffff;
  const base = c.codeSize === 64 ? off + (i.seg >= 4 ? c.segBase[i.seg] : 0) : (c.segBase[i.seg] + off) >>> 0;
  for (let k = 0; k < 16; k++) if (b8[i.rm * 16 + k] & 0x80) c.wr8(base + k, b8[i.reg * 16 + k]);
}

function pextrw(c: X86Cpu, i: Insn): void { // 66 0F C5 /r ib: r32 <- word imm of xmm
  check(c);
  if (ssePrefix(i) !== 1 || i.isMem) c.fault(6);
  c.setReg(i.reg, i.size === 8 ? 8 : 4, c.xmm16[i.rm * 8 + (i.imm & 7)], 0, i.rex);
}

function pinsrw(c: X86Cpu, i: Insn): void { // 66 0F C4 /r ib: word imm of xmm <- r32/m16
  check(c);
  if (ssePrefix(i) !== 1) c.fault(6);
  const v = i.isMem ? c.rd16(ea(c, i)) : c.getReg(i.rm, 2, i.rex);
  c.xmm16[i.reg * 8 + (i.imm & 7)] = v;
}

// ---------------------------------------------------------------- unmasked exceptions (#XM)

const SAVE = 18;

/**
 * Run a float instruction so that an unmasked MXCSR exception leaves its destination untouched and
 * raises #XM (or #UD when CR4.OSXMMEXCPT is clear), with the exception's flag set in MXCSR.
 */
function guarded(fn: Handler): Handler {
  return (c, i) => {
    const old = c.mxcsrValue & 0x3f;
    c.mxcsrValue &= ~0x3f;
    const d = i.reg;
    copy(c, SAVE, d);
    const gLo = c.r[2 * d], gHi = c.r[2 * d + 1];
    const fl = c.fl.bits, fop = c.fl.op;
    try {
      fn(c, i);
    } catch (e) {
      c.mxcsrValue |= old;
      throw e;
    }
    let raised = c.mxcsrValue & 0x3f;
    const unmasked = raised & ~(c.mxcsrValue >> 7) & 0x3f;
    // An unmasked invalid/denormal/divide exception stops the instruction before any rounding flags.
    if (unmasked & 7) raised &= 7;
    c.mxcsrValue = (c.mxcsrValue & ~0x3f) | raised | old;
    if (unmasked) {
      copy(c, d, SAVE);
      c.r[2 * d] = gLo; c.r[2 * d + 1] = gHi;
      c.fl.bits = fl; c.fl.op = fop;
      c.fault(c.cr4 & 0x400 ? 19 : 6);
    }
  };
}

// ---------------------------------------------------------------- table

export function registerSse(h: Handler[]): void {
  h[0x110] = h[0x111] = h[0x128] = h[0x129] = movups;
  h[0x112] = h[0x113] = h[0x116] = h[0x117] = movlhps;
  h[0x114] = h[0x115] = unpack;
  h[0x12a] = guarded(cvtsi2s);
  h[0x12b] = h[0x1e7] = movntps;
  h[0x12c] = h[0x12d] = guarded(cvtts2si);
  h[0x12e] = h[0x12f] = guarded(ucomis);
  h[0x150] = h[0x1d7] = movmsk;
  for (const o of [0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f]) h[0x100 + o] = guarded(arith);
  h[0x154] = h[0x155] = h[0x156] = h[0x157] = h[0x1db] = h[0x1df] = h[0x1eb] = h[0x1ef] = logic;
  h[0x15a] = guarded(cvtFloat);
  h[0x15b] = guarded(cvtdq);
  for (const o of [0x60, 0x61, 0x62, 0x68, 0x69, 0x6a, 0x6c, 0x6d]) h[0x100 + o] = unpack;
  for (const o of [0xfc, 0xfd, 0xfe, 0xf8, 0xf9, 0xfa, 0xd4, 0xfb, 0x74, 0x75, 0x76, 0x64, 0x65, 0x66, 0xda, 0xde, 0xd5, 0xf4,
    0xd8, 0xd9, 0xdc, 0xdd, 0xe8, 0xe9, 0xec, 0xed, 0xe0, 0xe3, 0xe4, 0xe5, 0xea, 0xee, 0xf5, 0xf6, 0x63, 0x67, 0x6b]) h[0x100 + o] = packedInt;
  h[0x16e] = h[0x17e] = h[0x1d6] = movd;
  h[0x16f] = h[0x17f] = movdqa;
  h[0x170] = pshufd;
  h[0x171] = h[0x172] = h[0x173] = shiftImm;
  for (const o of [0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3]) h[0x100 + o] = shiftXmm;
  h[0x1c2] = guarded(cmpps);
  h[0x1c6] = shufps;
  h[0x1c3] = movnti;
  h[0x1e6] = guarded(cvtpd2dq);
  h[0x1ae] = grp15;
  h[0x1c5] = pextrw;
  h[0x1f7] = maskmovdqu;
  h[0x152] = h[0x153] = approx;
  h[0x1c4] = pinsrw;
}
