// SSE2 packed integer instructions (XMM forms), SSE/SSE2 logic, shuffles and unpacks, MASKMOVDQU,
// PEXTRW/PINSRW.
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { ssePrefix } from './sse-names.js';
import { check, copy, src, TMP, xreg } from './sse-common.js';
import { ACC_WRITE, checkSegAccess } from './segment-check.js';

// ---------------------------------------------------------------- logic, integer packed

export function logic(c: X86Cpu, i: Insn): void { // 0F 54-57 (none/66), 66 0F DB DF EB EF
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
export function packedInt(c: X86Cpu, i: Insn): void {
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

export function unpack(c: X86Cpu, i: Insn): void { // 66 0F 60-62, 68-6A, 6C, 6D; 0F 14/15 (none/66)
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

export function pshufd(c: X86Cpu, i: Insn): void { // 66/F3/F2 0F 70
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

export function shufps(c: X86Cpu, i: Insn): void { // 0F C6 (none/66)
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
export function shiftImm(c: X86Cpu, i: Insn): void {
  check(c);
  if (ssePrefix(i) !== 1 || i.isMem) c.fault(6);
  const d = i.rm;
  const n = i.imm & 0xff;
  const r = i.reg & 7;
  const g = i.op & 0xff;
  shiftLanes(c, d, g === 0x71 ? 2 : g === 0x72 ? 4 : 8, r, n);
}

/** Shifts by xmm count: 66 0F D1-D3 (srl), E1-E2 (sra), F1-F3 (sll). */
export function shiftXmm(c: X86Cpu, i: Insn): void {
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

/** MASKMOVDQU xmm1, xmm2: store the bytes of xmm1 whose mask byte in xmm2 has its top bit set, at DS:rDI. */
export function maskmovdqu(c: X86Cpu, i: Insn): void {
  check(c);
  if (ssePrefix(i) !== 1 || i.isMem) c.fault(6);
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
  if (ssePrefix(i) !== 1 || i.isMem) c.fault(6);
  c.setReg(i.reg, i.size === 8 ? 8 : 4, c.xmm16[i.rm * 8 + (i.imm & 7)], 0, i.rex);
}

export function pinsrw(c: X86Cpu, i: Insn): void { // 66 0F C4 /r ib: word imm of xmm <- r32/m16
  check(c);
  if (ssePrefix(i) !== 1) c.fault(6);
  const v = i.isMem ? c.rd16(ea(c, i)) : c.getReg(i.rm, 2, i.rex);
  c.xmm16[i.reg * 8 + (i.imm & 7)] = v;
}
