import type { X86Cpu } from './cpu.js';
import * as F from './f80.js';
import {
  IE, SF, C1, OE, UE, arith, checkWritable, commit, fcom, fetch, isEmpty, pop, pushRes, pushOverflows, rc, underflow, writeExt,
} from './x87.js';

/** Read the operand of an arithmetic / compare / load form into f80 slot k. */
function readOperand(c: X86Cpu, k: number, kind: number, lin: number): void {
  switch (kind) {
    case 0: F.unpack32(k, c.rd32(lin)); return; // m32 real
    case 1: { const lo = c.rd64(lin); F.unpack64(k, c.hi, lo); return; } // m64 real
    case 2: { const v = c.rd32(lin) | 0; F.unpackInt(k, v >> 31, v); return; } // m32 int
    case 3: { const v = (c.rd16(lin) << 16) >> 16; F.unpackInt(k, v >> 31, v); return; } // m16 int
    case 4: { const lo = c.rd64(lin); F.unpackInt(k, c.hi, lo); return; } // m64 int
    case 5: { const lo = c.rd64(lin), hi = c.hi; F.unpack(k, c.rd16(lin + 8), hi, lo); return; } // m80
    default: readBcd(c, k, lin);
  }
}

/** FBLD operand: 18 packed BCD digits (bytes 0-8, low digit first) and a sign byte. */
function readBcd(c: X86Cpu, k: number, lin: number): void {
  let hiPart = 0, loPart = 0; // top 9 and low 9 decimal digits
  const lo32 = c.rd64(lin), hi32 = c.hi, top16 = c.rd16(lin + 8); // ascending, as the hardware faults
  for (let b = 8; b >= 0; b--) {
    const v = b < 4 ? (lo32 >>> (8 * b)) & 0xff : b < 8 ? (hi32 >>> (8 * (b - 4))) & 0xff : top16 & 0xff;
    const d = ((v >> 4) & 15) * 10 + (v & 15);
    if (b > 4) hiPart = hiPart * 100 + d;
    else if (b === 4) { hiPart = hiPart * 10 + ((v >> 4) & 15); loPart = v & 15; }
    else loPart = loPart * 100 + d;
  }
  const sign = (top16 >> 8) & 0x80;
  // value = hiPart * 1e9 + loPart as a 64-bit integer, exactly
  const hh = Math.floor(hiPart / 32768), hl = hiPart % 32768;
  const a = hl * 1e9 + loPart, b = hh * 1e9; // value = b * 2^15 + a
  let lo = (b % 131072) * 32768 + (a % 4294967296);
  let hi = Math.floor(b / 131072) + Math.floor(a / 4294967296);
  if (lo >= 4294967296) { lo -= 4294967296; hi++; }
  if (sign) { lo = (~lo + 1) >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
  if (hi === 0 && lo === 0) { F.unpack(k, sign ? 0x8000 : 0, 0, 0); return; }
  F.unpackInt(k, hi, lo);
}

/** D8 DC DA DE with memory: ST(0) op m (kind: 0 m32 real, 1 m64 real, 2 m32 int, 3 m16 int); /2 /3 compare. */
export function memArith(c: X86Cpu, r: number, kind: number, lin: number): void {
  readOperand(c, 1, kind, lin);
  if (isEmpty(c, 0)) {
    if (r === 2 || r === 3) { const ok = commit(c, IE | SF); c.x87.sw = (c.x87.sw & ~0x4700) | 0x4500; if (ok && r === 3) pop(c); return; }
    underflow(c, 0, false);
    return;
  }
  fetch(c, 0, 0);
  if (r === 2 || r === 3) { fcom(c, false, r - 2); return; }
  arith(c, r, 0, false);
}

/** FLD / FILD / FBLD m: kind 0 m32 real, 1 m64 real, 2 m32 int, 3 m16 int, 4 m64 int, 5 m80, 6 BCD. */
export function push(c: X86Cpu, kind: number, lin: number): void {
  readOperand(c, 0, kind, lin);
  F.st.flags = 0;
  if (kind === 5) { // m80: loaded as is, no exceptions
    F.res.se = c.rd16(lin + 8); F.res.lo = c.rd64(lin); F.res.hi = c.hi; F.st.up = false;
  } else F.packLoaded(0);
  if (pushOverflows(c)) { pushRes(c, 0); return; }
  pushRes(c, F.st.flags, true);
}

/** FSTP m80. */
export function storeExt(c: X86Cpu, lin: number): void {
  if (isEmpty(c, 0)) {
    if (c.fpuCw & IE) { if (c.alignCheck) c.alignOperand(lin, 8); checkWritable(c, lin, 10); c.wr64(lin, 0, 0xc0000000); c.wr16(lin + 8, 0xffff); }
    underflow(c, -1, true);
    return;
  }
  if (c.alignCheck) c.alignOperand(lin, 8); // #AC before the #PF of a crossing store (host)
  checkWritable(c, lin, 10);
  writeExt(c, lin, 0);
  commit(c, 0);
  pop(c);
}

/** FST/FSTP m32 (fmt 0) or m64 (fmt 1). */
export function storeReal(c: X86Cpu, lin: number, fmt: number, popAfter: boolean): void {
  const size = fmt === 0 ? 4 : 8;
  let fl = 0, hi = 0, lo = 0;
  F.st.up = false;
  if (isEmpty(c, 0)) { fl = IE | SF; hi = fmt === 0 ? 0xffc00000 : 0xfff80000; }
  else {
    fetch(c, 0, 0);
    F.st.flags = 0;
    const s = F.sgn[0];
    switch (F.cls[0]) {
      case F.C_ZERO: hi = s ? 0x80000000 : 0; break;
      case F.C_INF: hi = fmt === 0 ? (s << 31 | 0x7f800000) >>> 0 : (s << 31 | 0x7ff00000) >>> 0; break;
      case F.C_BAD: fl = IE; hi = fmt === 0 ? 0xffc00000 : 0xfff80000; break;
      case F.C_SNAN: case F.C_QNAN: {
        if (F.cls[0] === F.C_SNAN) fl = IE;
        const mh = (F.mh[0] | 0x40000000) >>> 0, ml = F.ml[0];
        if (fmt === 0) hi = ((s << 31) | 0x7f800000 | ((mh >>> 8) & 0x7fffff)) >>> 0;
        else { hi = ((s << 31) | 0x7ff00000 | ((mh >>> 11) & 0xfffff)) >>> 0; lo = ((mh << 21) | (ml >>> 11)) >>> 0; }
        break;
      }
      default:
        F.roundSlot(0, fmt === 0 ? 24 : 53, rc(c), fmt === 0 ? F.TGT_F32 : F.TGT_F64, c.fpuCw & 0x3f);
        fl = F.st.flags;
        if (fmt === 0) hi = F.bitsF32(); else { hi = F.bitsF64Hi(); lo = F.bitsF64Lo(); }
    }
  }
  const unmasked = fl & ~c.fpuCw & (IE | OE | UE);
  if (unmasked & (OE | UE)) { fl &= ~0x20; F.st.up = false; } // no rounded result: no PE
  if (c.alignCheck) c.alignOperand(lin, size); // #AC before the #PF of a crossing store (host)
  checkWritable(c, lin, size);
  if (!unmasked) {
    if (size === 4) c.wr32(lin, hi);
    else c.wr64(lin, lo, hi);
  }
  const ok = commit(c, fl | (F.st.up ? C1 : 0));
  if (popAfter && ok && !unmasked) pop(c);
}

/** FIST/FISTP/FISTTP to a `size`-byte integer. */
export function storeInt(c: X86Cpu, lin: number, size: number, popAfter: boolean, truncate: boolean): void {
  let fl = 0, lo = 0, hi = 0;
  F.st.up = false;
  if (isEmpty(c, 0)) fl = IE | SF;
  else {
    fetch(c, 0, 0);
    F.st.flags = 0;
    const cl = F.cls[0];
    if (cl === F.C_ZERO) { lo = 0; hi = 0; }
    else if (cl !== F.C_NORMAL) fl = IE;
    else {
      F.toIntegerMag(truncate ? 3 : rc(c));
      fl = F.st.flags;
      const neg = F.sgn[0] === 1;
      let mh = F.res.hi, ml = F.res.lo;
      const big = F.res.se === -1;
      // range check: magnitude <= 2^(bits-1) - 1, or == 2^(bits-1) when negative
      let fits: boolean;
      if (big) fits = false;
      else if (size === 8) fits = mh < 0x80000000 || (neg && mh === 0x80000000 && ml === 0);
      else if (size === 4) fits = mh === 0 && (ml < 0x80000000 || (neg && ml === 0x80000000));
      else fits = mh === 0 && (ml < 0x8000 || (neg && ml === 0x8000));
      if (!fits) { fl = IE; F.st.up = false; }
      else {
        if (neg) { ml = (~ml + 1) >>> 0; mh = (~mh + (ml === 0 ? 1 : 0)) >>> 0; }
        lo = ml; hi = mh;
      }
    }
  }
  if (fl & IE) { // integer indefinite
    lo = size === 8 ? 0 : size === 4 ? 0x80000000 : 0x8000; hi = size === 8 ? 0x80000000 : 0;
    fl &= IE | SF;
  }
  const unmasked = fl & ~c.fpuCw & IE;
  if (c.alignCheck) c.alignOperand(lin, size); // #AC before the #PF of a crossing store (host)
  checkWritable(c, lin, size);
  if (!unmasked) {
    if (size === 8) c.wr64(lin, lo, hi);
    else if (size === 4) c.wr32(lin, lo);
    else c.wr16(lin, lo);
  }
  const ok = commit(c, fl | (F.st.up ? C1 : 0));
  if (popAfter && ok) pop(c);
}

/** FBSTP: round to an integer, store 18 packed BCD digits and the sign; pop. */
export function storeBcd(c: X86Cpu, lin: number): void {
  let fl = 0, hi = 0, lo = 0, neg = 0;
  F.st.up = false;
  if (isEmpty(c, 0)) fl = IE | SF;
  else {
    fetch(c, 0, 0);
    F.st.flags = 0;
    neg = F.sgn[0];
    const cl = F.cls[0];
    if (cl === F.C_NORMAL) {
      F.toIntegerMag(rc(c));
      fl = F.st.flags;
      hi = F.res.hi; lo = F.res.lo;
      // 10^18 - 1 = 0x0DE0B6B3_A763FFFF
      if (F.res.se === -1 || hi > 0x0de0b6b3 || (hi === 0x0de0b6b3 && lo > 0xa763ffff)) { fl = IE; F.st.up = false; }
    } else if (cl !== F.C_ZERO) fl = IE;
  }
  if (c.alignCheck) c.alignOperand(lin, 8); // m80: 8-byte unit (host), stored here byte by byte
  checkWritable(c, lin, 10);
  const unmasked = fl & ~c.fpuCw & IE;
  if (fl & IE) {
    if (!unmasked) { c.wr64(lin, 0, 0xc0000000); c.wr16(lin + 8, 0xffff); }
  } else {
    for (let b = 0; b < 9; b++) {
      let byte = 0;
      for (let d = 0; d < 2; d++) {
        const r = hi % 10; hi = Math.floor(hi / 10);
        const t = r * 4294967296 + lo;
        lo = Math.floor(t / 10);
        byte |= (t % 10) << (4 * d);
      }
      c.wr8(lin + b, byte);
    }
    c.wr8(lin + 9, neg ? 0x80 : 0);
  }
  const ok = commit(c, (fl & (IE | SF | 0x20)) | (F.st.up ? C1 : 0));
  if (ok) pop(c);
}
