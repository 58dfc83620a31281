// SSE2 packed integer instructions (XMM forms), SSE/SSE2 logic, shuffles and unpacks, MASKMOVDQU,
// PEXTRW/PINSRW.
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import type { Handler } from './dispatch.js';
import { check, copy, src, TMP, xreg } from './sse-common.js';
import { ACC_WRITE, checkSegAccess } from './segment-check.js';

// ---------------------------------------------------------------- logic, integer packed

/** A packed operation on the destination register `d` and the source slot `s` (register or loaded memory). */
type Lanes = (c: X86Cpu, d: number, s: number) => void;

/** The handler of a packed op with a 16-byte source (xmm/m128, aligned). */
function packed(body: Lanes): Handler {
  return (c, i) => {
    check(c);
    const s = src(c, i, 16);
    body(c, i.reg, s);
  };
}

// Logic: 0F 54-57 (none/66: the float forms), 66 0F DB DF EB EF.
export const pand = packed((c, d, s) => { const x = c.xmm32; for (let k = 0; k < 4; k++) x[d * 4 + k] &= x[s * 4 + k]; });
export const pandn = packed((c, d, s) => { const x = c.xmm32; for (let k = 0; k < 4; k++) x[d * 4 + k] = ~x[d * 4 + k] & x[s * 4 + k]; });
export const por = packed((c, d, s) => { const x = c.xmm32; for (let k = 0; k < 4; k++) x[d * 4 + k] |= x[s * 4 + k]; });
export const pxor = packed((c, d, s) => { const x = c.xmm32; for (let k = 0; k < 4; k++) x[d * 4 + k] ^= x[s * 4 + k]; });

/** PADDQ / PSUBQ: 64-bit lanes from 32-bit halves. */
function addSubQ(sub: boolean): Lanes {
  return (c, d, s) => {
    const x = c.xmm32;
    for (let q = 0; q < 2; q++) {
      const dl = x[d * 4 + q * 2] >>> 0, dh = x[d * 4 + q * 2 + 1];
      const sl = x[s * 4 + q * 2] >>> 0, sh = x[s * 4 + q * 2 + 1];
      const lo = sub ? dl - sl : dl + sl;
      const carry = sub ? (lo < 0 ? -1 : 0) : lo >= 4294967296 ? 1 : 0;
      x[d * 4 + q * 2] = lo >>> 0;
      x[d * 4 + q * 2 + 1] = sub ? dh - sh + carry : dh + sh + carry;
    }
  };
}

const sat = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);
const s16 = (v: number) => (v << 16) >> 16;
const s8 = (v: number) => (v << 24) >> 24;

/** Packed integer add/sub/compare/min/max/multiply/pack/SAD (66 0F xx; MMX forms are not implemented). */
const PACKED_INT: Record<number, Lanes> = {
  0xfc: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = b8[d * 16 + k] + b8[s * 16 + k]; },
  0xfd: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = w[d * 8 + k] + w[s * 8 + k]; },
  0xfe: (c, d, s) => { const x = c.xmm32; for (let k = 0; k < 4; k++) x[d * 4 + k] = x[d * 4 + k] + x[s * 4 + k]; },
  0xf8: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = b8[d * 16 + k] - b8[s * 16 + k]; },
  0xf9: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = w[d * 8 + k] - w[s * 8 + k]; },
  0xfa: (c, d, s) => { const x = c.xmm32; for (let k = 0; k < 4; k++) x[d * 4 + k] = x[d * 4 + k] - x[s * 4 + k]; },
  0xd4: addSubQ(false),
  0xfb: addSubQ(true),
  0x74: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = b8[d * 16 + k] === b8[s * 16 + k] ? 0xff : 0; },
  0x75: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = w[d * 8 + k] === w[s * 8 + k] ? 0xffff : 0; },
  0x76: (c, d, s) => { const x = c.xmm32; for (let k = 0; k < 4; k++) x[d * 4 + k] = x[d * 4 + k] === x[s * 4 + k] ? -1 : 0; },
  0x64: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = s8(b8[d * 16 + k]) > s8(b8[s * 16 + k]) ? 0xff : 0; },
  0x65: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = s16(w[d * 8 + k]) > s16(w[s * 8 + k]) ? 0xffff : 0; },
  0x66: (c, d, s) => { const x = c.xmm32; for (let k = 0; k < 4; k++) x[d * 4 + k] = x[d * 4 + k] > x[s * 4 + k] ? -1 : 0; },
  0xda: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = Math.min(b8[d * 16 + k], b8[s * 16 + k]); },
  0xde: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = Math.max(b8[d * 16 + k], b8[s * 16 + k]); },
  0xd5: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = Math.imul(w[d * 8 + k], w[s * 8 + k]); },
  0xf4: (c, d, s) => { // PMULUDQ: low dwords of each qword, unsigned 64-bit products
    const x = c.xmm32;
    for (let q = 0; q < 2; q++) {
      const a = x[d * 4 + q * 2] >>> 0, b = x[s * 4 + q * 2] >>> 0;
      const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
      const ll = al * bl, mid = (ll >>> 16) + (al * bh & 0xffff) + (ah * bl & 0xffff);
      x[d * 4 + q * 2] = ((mid & 0xffff) << 16) | (ll & 0xffff);
      x[d * 4 + q * 2 + 1] = ah * bh + ((al * bh) >>> 16) + ((ah * bl) >>> 16) + Math.floor(mid / 65536);
    }
  },
  // Saturating arithmetic, averages, high multiplies
  0xd8: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = sat(b8[d * 16 + k] - b8[s * 16 + k], 0, 255); },
  0xd9: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = sat(w[d * 8 + k] - w[s * 8 + k], 0, 65535); },
  0xdc: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = sat(b8[d * 16 + k] + b8[s * 16 + k], 0, 255); },
  0xdd: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = sat(w[d * 8 + k] + w[s * 8 + k], 0, 65535); },
  0xe8: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = sat(s8(b8[d * 16 + k]) - s8(b8[s * 16 + k]), -128, 127); },
  0xe9: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = sat(s16(w[d * 8 + k]) - s16(w[s * 8 + k]), -32768, 32767); },
  0xec: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = sat(s8(b8[d * 16 + k]) + s8(b8[s * 16 + k]), -128, 127); },
  0xed: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = sat(s16(w[d * 8 + k]) + s16(w[s * 8 + k]), -32768, 32767); },
  0xe0: (c, d, s) => { const b8 = c.xmmU8; for (let k = 0; k < 16; k++) b8[d * 16 + k] = (b8[d * 16 + k] + b8[s * 16 + k] + 1) >> 1; },
  0xe3: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = (w[d * 8 + k] + w[s * 8 + k] + 1) >> 1; },
  0xe4: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = (w[d * 8 + k] * w[s * 8 + k]) >>> 16; },
  0xe5: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = (s16(w[d * 8 + k]) * s16(w[s * 8 + k])) >> 16; },
  0xea: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = Math.min(s16(w[d * 8 + k]), s16(w[s * 8 + k])); },
  0xee: (c, d, s) => { const w = c.xmm16; for (let k = 0; k < 8; k++) w[d * 8 + k] = Math.max(s16(w[d * 8 + k]), s16(w[s * 8 + k])); },
  0xf5: (c, d, s) => { // PMADDWD
    const w = c.xmm16, x = c.xmm32;
    for (let k = 0; k < 4; k++) x[d * 4 + k] = s16(w[d * 8 + 2 * k]) * s16(w[s * 8 + 2 * k]) + s16(w[d * 8 + 2 * k + 1]) * s16(w[s * 8 + 2 * k + 1]);
  },
  0xf6: (c, d, s) => { // PSADBW
    const b8 = c.xmmU8, x = c.xmm32;
    for (let q = 0; q < 2; q++) {
      let sum = 0;
      for (let k = 0; k < 8; k++) sum += Math.abs(b8[d * 16 + q * 8 + k] - b8[s * 16 + q * 8 + k]);
      x[d * 4 + q * 2] = sum; x[d * 4 + q * 2 + 1] = 0;
    }
  },
  0x63: packWords(-128, 127), // PACKSSWB
  0x67: packWords(0, 255), // PACKUSWB
  0x6b: (c, d, s) => { // PACKSSDW
    const w = c.xmm16, x = c.xmm32;
    for (let k = 0; k < 4; k++) { w[TMP * 8 + k] = sat(x[d * 4 + k], -32768, 32767); w[TMP * 8 + 4 + k] = sat(x[s * 4 + k], -32768, 32767); }
    copy(c, d, TMP);
  },
};

function packWords(lo: number, hi: number): Lanes {
  return (c, d, s) => {
    const b8 = c.xmmU8, w = c.xmm16;
    for (let k = 0; k < 8; k++) { b8[TMP * 16 + k] = sat(s16(w[d * 8 + k]), lo, hi); b8[TMP * 16 + 8 + k] = sat(s16(w[s * 8 + k]), lo, hi); }
    copy(c, d, TMP);
  };
}

/** The packed integer opcodes (0F-map bytes) with their handlers (66 prefix). */
export const PACKED_INT_OPS: [number, Handler][] = Object.keys(PACKED_INT).map((o) => [Number(o), packed(PACKED_INT[Number(o)])]);

/**
 * Interleave the low (or high) halves of destination and source in `esz`-byte elements:
 * 66 0F 60-62/6C (low), 68-6A/6D (high); UNPCKLPS/PD, UNPCKHPS/PD (0F 14/15, none: 4-byte, 66: 8-byte).
 */
export function unpack(esz: number, high: boolean): Handler {
  const base = high ? 8 : 0;
  const n = 8 / esz;
  return packed((c, d, s) => {
    const b8 = c.xmmU8;
    for (let k = 0; k < n; k++) {
      for (let b = 0; b < esz; b++) {
        b8[TMP * 16 + 2 * k * esz + b] = b8[d * 16 + base + k * esz + b];
        b8[TMP * 16 + (2 * k + 1) * esz + b] = b8[s * 16 + base + k * esz + b];
      }
    }
    copy(c, d, TMP);
  });
}

export function pshufd(c: X86Cpu, i: Insn): void { // 66 0F 70 ib
  check(c);
  const s = src(c, i, 16);
  const d = xreg(i);
  const imm = i.imm & 0xff;
  const x = c.xmm32;
  copy(c, TMP, s);
  for (let k = 0; k < 4; k++) x[d * 4 + k] = x[TMP * 4 + ((imm >> (2 * k)) & 3)];
}

/** PSHUFHW (F3 0F 70 ib: off 4, the high words) / PSHUFLW (F2 0F 70 ib: off 0, the low ones). */
export function pshufw(off: number): Handler {
  return (c, i) => {
    check(c);
    const s = src(c, i, 16);
    const d = xreg(i);
    const imm = i.imm & 0xff;
    const w = c.xmm16;
    copy(c, TMP, s);
    copy(c, d, TMP);
    for (let k = 0; k < 4; k++) w[d * 8 + off + k] = w[TMP * 8 + off + ((imm >> (2 * k)) & 3)];
  };
}

export function shufps(c: X86Cpu, i: Insn): void { // 0F C6 ib
  check(c);
  const s = src(c, i, 16);
  const d = xreg(i);
  const imm = i.imm & 0xff;
  const x = c.xmm32;
  x[TMP * 4] = x[d * 4 + (imm & 3)];
  x[TMP * 4 + 1] = x[d * 4 + ((imm >> 2) & 3)];
  x[TMP * 4 + 2] = x[s * 4 + ((imm >> 4) & 3)];
  x[TMP * 4 + 3] = x[s * 4 + ((imm >> 6) & 3)];
  copy(c, d, TMP);
}

export function shufpd(c: X86Cpu, i: Insn): void { // 66 0F C6 ib
  check(c);
  const s = src(c, i, 16);
  const d = xreg(i);
  const imm = i.imm & 0xff;
  const x = c.xmm32;
  const q0 = imm & 1, q1 = (imm >> 1) & 1;
  x[TMP * 4] = x[d * 4 + q0 * 2]; x[TMP * 4 + 1] = x[d * 4 + q0 * 2 + 1];
  x[TMP * 4 + 2] = x[s * 4 + q1 * 2]; x[TMP * 4 + 3] = x[s * 4 + q1 * 2 + 1];
  copy(c, d, TMP);
}

/**
 * Shifts by immediate: 66 0F 71/72/73 /2 /4 /6 (and /3 /7 byte shifts for 73), register operand only;
 * `lane` bytes per element, `kind` the ModRM.reg digit (see shiftLanes).
 */
export function shiftImm(lane: number, kind: number): Handler {
  return (c, i) => {
    check(c);
    shiftLanes(c, i.rm, lane, kind, i.imm & 0xff);
  };
}

/** Shifts by an xmm/m128 count: 66 0F D1-D3 (srl), E1-E2 (sra), F1-F3 (sll); the opcode's low bits give the lane. */
export function shiftXmm(op: number): Handler {
  const lane = [0, 2, 4, 8][op & 3];
  const kind = op >= 0xf0 ? 6 : op >= 0xe0 ? 4 : 2;
  return (c, i) => {
    check(c);
    const s = src(c, i, 16);
    const x = c.xmm32;
    const count = x[s * 4 + 1] !== 0 ? 255 : Math.min(x[s * 4] >>> 0, 255);
    shiftLanes(c, xreg(i), lane, kind, count);
  };
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

/** MASKMOVDQU xmm1, xmm2: store the bytes of xmm1 whose mask byte in xmm2 has its top bit set, at DS:rDI. */
export function maskmovdqu(c: X86Cpu, i: Insn): void {
  check(c);
  const b8 = c.xmmU8;
  const off = i.asize === 8 ? c.regNum(7) : i.asize === 4 ? c.r[14] >>> 0 : c.r[14] & 0xffff;
  if (c.codeSize !== 64 && c.segChecked[i.seg] !== 0) checkSegAccess(c, i.seg, off, 16, ACC_WRITE); // all 16 bytes
  const base = c.codeSize === 64 ? off + (i.seg >= 4 ? c.segBase[i.seg] : 0) : (c.segBase[i.seg] + off) >>> 0;
  if (c.alignCheck) c.alignOperand(base, 8); // 8, not 16, whatever the mask (host)
  // All 16 bytes are probed for a write whatever the mask, even an all-zero one: #PF reports the
  // operand's first byte (host).
  if (c.paging) { c.translate(base, 1 | c.accUser); if ((base & 0xfff) > 4080) c.translate(c.nextPage(base), 1 | c.accUser); }
  for (let k = 0; k < 16; k++) if (b8[i.rm * 16 + k] & 0x80) c.wr8(base + k, b8[i.reg * 16 + k]);
}

export function pextrw(c: X86Cpu, i: Insn): void { // 66 0F C5 /r ib: r32 <- word imm of xmm
  check(c);
  c.setReg(i.reg, i.size === 8 ? 8 : 4, c.xmm16[i.rm * 8 + (i.imm & 7)], 0, i.rex);
}

export function pinsrw(c: X86Cpu, i: Insn): void { // 66 0F C4 /r ib: word imm of xmm <- r32/m16
  check(c);
  const v = i.isMem ? c.rd16(ea(c, i)) : c.getReg(i.rm, 2, i.rex);
  c.xmm16[i.reg * 8 + (i.imm & 7)] = v;
}
