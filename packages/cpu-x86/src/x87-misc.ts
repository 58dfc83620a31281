import type { X86Cpu } from './cpu.js';
import * as F from './f80.js';
import {
  IE, DE, ZE, SF, C0, C1, C2, C3, commit, fetch, isEmpty, phys, pop, pushRes, pushOverflows, rc, setReg, setRes, underflow, setIndef,
} from './x87.js';

const CC = 0x4700; // C0 | C1 | C2 | C3 (a literal: x87.ts imports this module)

/**
 * The constants' significands to 128 bits (pi, log2(10), log2(e), log10(2), ln(2)): FLDxx rounds
 * them to 64 bits under the rounding control, as the hardware does.
 */
const CONST: Record<number, [number, number, number, number, number]> = {
  0xeb: [1, 0xc90fdaa2, 0x2168c234, 0xc4c6628b, 0x80dc1cd1], // pi
  0xe9: [1, 0xd49a784b, 0xcd1b8afe, 0x492bf6ff, 0x4dafdb4c], // log2(10)
  0xea: [0, 0xb8aa3b29, 0x5c17f0bb, 0xbe87fed0, 0x691d3e89], // log2(e)
  0xec: [-2, 0x9a209a84, 0xfbcff798, 0x8f8959ac, 0x0b7c9178], // log10(2)
  0xed: [-1, 0xb17217f7, 0xd1cf79ab, 0xc9e3b398, 0x03f2f6af], // ln(2)
};

/** D9 register forms other than FLD/FXCH/FSTP1 (code = ModRM), and DB E2/E3 (code = 0x100 | ModRM). */
export function x87Control(c: X86Cpu, code: number): void {
  const f = c.x87;
  switch (code) {
    case 0x1e2: f.sw &= 0x7f00; return; // FNCLEX: clear IE..ES and B
    case 0x1e3: c.fpuCw = 0x37f; f.init(); return; // FNINIT: register contents stay
    case 0xd0: return; // FNOP
    case 0xe0: case 0xe1: { // FCHS / FABS
      if (isEmpty(c, 0)) { underflow(c, 0, false); return; }
      commit(c, 0);
      const p = phys(c, 0) * 3;
      f.st[p] = code === 0xe0 ? f.st[p] ^ 0x8000 : f.st[p] & 0x7fff;
      return;
    }
    case 0xe4: { // FTST
      if (isEmpty(c, 0)) { commit(c, IE | SF); f.sw = (f.sw & ~CC) | C0 | C2 | C3; return; }
      fetch(c, 0, 0);
      F.unpack(1, 0, 0, 0);
      F.st.flags = 0;
      const r = F.compare(false);
      commit(c, F.st.flags);
      f.sw = (f.sw & ~CC) | (r === 1 ? 0 : r === -1 ? C0 : r === 0 ? C3 : C0 | C2 | C3);
      return;
    }
    case 0xe5: fxam(c); return;
    case 0xe8: case 0xee: // FLD1 / FLDZ
      F.res.se = code === 0xe8 ? 0x3fff : 0; F.res.hi = code === 0xe8 ? 0x80000000 : 0; F.res.lo = 0; F.st.up = false;
      pushRes(c, 0);
      return;
    case 0xe9: case 0xea: case 0xeb: case 0xec: case 0xed: {
      const k = CONST[code];
      F.setW(k[1], k[2], k[3], k[4], 0);
      F.st.flags = 0;
      F.round(0, k[0], 64, rc(c), F.TGT_EXT, 0x3f);
      F.st.up = false;
      pushRes(c, 0);
      return;
    }
    case 0xf6: f.top = (f.top - 1) & 7; f.sw &= ~C1; return; // FDECSTP
    case 0xf7: f.top = (f.top + 1) & 7; f.sw &= ~C1; return; // FINCSTP
    case 0xfa: // FSQRT
      if (isEmpty(c, 0)) { underflow(c, 0, false); return; }
      fetch(c, 0, 0);
      F.st.flags = 0;
      F.sqrt(pcBits(c), rc(c), c.fpuCw & 0x3f);
      if (commit(c, F.st.flags | (F.st.up ? C1 : 0))) setRes(c, 0);
      return;
    case 0xfc: frndint(c); return;
    case 0xfd: fscale(c); return;
    case 0xf4: fxtract(c); return;
    case 0xf5: case 0xf8: fprem(c, code === 0xf5); return;
  }
  c.fault(6);
}

function pcBits(c: X86Cpu): number {
  const p = (c.fpuCw >> 8) & 3;
  return p === 0 ? 24 : p === 2 ? 53 : 64;
}

function fxam(c: X86Cpu): void {
  const f = c.x87;
  const p = phys(c, 0) * 3;
  const sign = f.st[p] & 0x8000 ? C1 : 0;
  let cc: number;
  if (isEmpty(c, 0)) cc = C3 | C0;
  else {
    fetch(c, 0, 0);
    switch (F.cls[0]) {
      case F.C_ZERO: cc = C3; break;
      case F.C_INF: cc = C2 | C0; break;
      case F.C_QNAN: case F.C_SNAN: cc = C0; break;
      case F.C_BAD: cc = 0; break;
      default: cc = F.den[0] ? C3 | C2 : C2;
    }
  }
  f.sw = (f.sw & ~CC) | cc | sign;
}

/** NaN / unsupported screening of ST0 alone; true when res holds the result. */
function screen1(): boolean {
  const cl = F.cls[0];
  if (cl === F.C_BAD) { F.st.flags |= IE; F.setIndefinite(); return true; }
  if (cl === F.C_QNAN || cl === F.C_SNAN) { F.propagateNaN(1); return true; }
  return false;
}

function frndint(c: X86Cpu): void {
  if (isEmpty(c, 0)) { underflow(c, 0, false); return; }
  fetch(c, 0, 0);
  F.st.flags = 0; F.st.up = false;
  if (!screen1()) {
    const cl = F.cls[0];
    if (cl === F.C_NORMAL) {
      if (F.den[0]) F.st.flags |= DE;
      F.roundToIntegral(rc(c));
    } else { const p = phys(c, 0) * 3; F.res.se = c.x87.st[p]; F.res.hi = c.x87.st[p + 1]; F.res.lo = c.x87.st[p + 2]; }
  }
  if (commit(c, F.st.flags | (F.st.up ? C1 : 0))) setRes(c, 0);
}

function fscale(c: X86Cpu): void {
  if (isEmpty(c, 0) || isEmpty(c, 1)) { underflow(c, 0, false); return; }
  fetch(c, 0, 0); fetch(c, 1, 1);
  F.st.flags = 0; F.st.up = false;
  const a = F.cls[0], b = F.cls[1];
  if (a === F.C_BAD || b === F.C_BAD) { F.st.flags |= IE; F.setIndefinite(); }
  else if (a === F.C_QNAN || a === F.C_SNAN || b === F.C_QNAN || b === F.C_SNAN) F.propagateNaN(2);
  else {
    if (F.den[0]) F.st.flags |= DE;
    if (F.den[1]) F.st.flags |= DE;
    const sa = F.sgn[0];
    if (b === F.C_INF) {
      if (F.sgn[1]) { // * 2^-inf
        if (a === F.C_INF) { F.st.flags |= IE; F.setIndefinite(); } else { F.res.se = sa << 15; F.res.hi = 0; F.res.lo = 0; }
      } else if (a === F.C_ZERO) { F.st.flags |= IE; F.setIndefinite(); }
      else { F.res.se = (sa << 15) | 0x7fff; F.res.hi = 0x80000000; F.res.lo = 0; }
    } else if (a === F.C_ZERO || a === F.C_INF) {
      const p = phys(c, 0) * 3; F.res.se = c.x87.st[p]; F.res.hi = c.x87.st[p + 1]; F.res.lo = c.x87.st[p + 2];
    } else {
      let n = 0;
      if (b === F.C_NORMAL) {
        const e = F.exp[1];
        if (e >= 30) n = 0x40000000; // far beyond any exponent range: overflow / underflow
        else if (e >= 0) n = F.mh[1] >>> (31 - e); // trunc(ST1)
        if (F.sgn[1]) n = -n;
      }
      F.setW(F.mh[0], F.ml[0], 0, 0, 0);
      F.round(sa, F.exp[0] + n, 64, rc(c), F.TGT_EXT, c.fpuCw & 0x3f);
    }
  }
  if (commit(c, F.st.flags | (F.st.up ? C1 : 0))) setRes(c, 0);
}

function fxtract(c: X86Cpu): void {
  if (isEmpty(c, 0)) { // underflow (wins over overflow): indefinite in both
    if (commit(c, IE | SF)) { setIndef(c, 0); c.x87.top = (c.x87.top - 1) & 7; setIndef(c, 0); }
    return;
  }
  if (pushOverflows(c)) { if (commit(c, IE | SF | C1)) { setIndef(c, 0); c.x87.top = (c.x87.top - 1) & 7; setIndef(c, 0); } return; }
  fetch(c, 0, 0);
  F.st.flags = 0; F.st.up = false;
  const cl = F.cls[0], s = F.sgn[0];
  let e1 = 0, h1 = 0, l1 = 0; // exponent part -> ST(1)
  if (cl === F.C_BAD || cl === F.C_QNAN || cl === F.C_SNAN) {
    if (cl === F.C_BAD) { F.st.flags |= IE; F.setIndefinite(); } else F.propagateNaN(1);
    e1 = F.res.se; h1 = F.res.hi; l1 = F.res.lo;
  } else if (cl === F.C_ZERO) {
    F.st.flags |= ZE;
    e1 = 0xffff; h1 = 0x80000000; l1 = 0; // -inf
    F.res.se = s << 15; F.res.hi = 0; F.res.lo = 0;
  } else if (cl === F.C_INF) {
    e1 = 0x7fff; h1 = 0x80000000; l1 = 0;
    F.res.se = (s << 15) | 0x7fff; F.res.hi = 0x80000000; F.res.lo = 0;
  } else {
    if (F.den[0]) F.st.flags |= DE;
    const x = F.exp[0], mh = F.mh[0], ml = F.ml[0];
    F.unpackInt(1, x < 0 ? -1 : 0, x);
    F.packLoaded(1);
    e1 = F.res.se; h1 = F.res.hi; l1 = F.res.lo;
    F.res.se = (s << 15) | 16383; F.res.hi = mh; F.res.lo = ml;
  }
  if (!commit(c, F.st.flags)) return;
  const sigSe = F.res.se, sigHi = F.res.hi, sigLo = F.res.lo;
  setReg(c, 0, e1, h1, l1);
  c.x87.top = (c.x87.top - 1) & 7;
  setReg(c, 0, sigSe, sigHi, sigLo);
}

function fprem(c: X86Cpu, ieee: boolean): void {
  const f = c.x87;
  if (isEmpty(c, 0) || isEmpty(c, 1)) { if (commit(c, IE | SF)) setIndef(c, 0); f.sw &= ~C2; return; }
  fetch(c, 0, 0); fetch(c, 1, 1);
  F.st.flags = 0; F.st.up = false;
  const q = F.prem(ieee, c.fpuCw & 0x3f);
  if (q === -2) { // ST0 itself (a pseudo-denormal comes back normalised)
    if (F.cls[0] === F.C_NORMAL) F.packSlot(0);
    else { const p = phys(c, 0) * 3; F.res.se = f.st[p]; F.res.hi = f.st[p + 1]; F.res.lo = f.st[p + 2]; }
  }
  if (!commit(c, F.st.flags) || q === -3) { f.sw &= ~(C1 | C2); if (q === -3 && !(F.st.flags & ~c.fpuCw & 0x3f)) setRes(c, 0); return; }
  setRes(c, 0);
  if (q === -2) f.sw &= ~CC;
  else if (q === -1) f.sw = (f.sw & ~CC) | C2; // incomplete: C0, C1, C3 cleared
  else f.sw = (f.sw & ~CC) | (q & 4 ? C0 : 0) | (q & 2 ? C3 : 0) | (q & 1 ? C1 : 0);
}

// ---- transcendental instructions: computed through doubles (not bit-exact; excluded from the
// differential comparison, as real CPUs differ from each other in the last bits too).

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function toDouble(k: number): number {
  switch (F.cls[k]) {
    case F.C_ZERO: return F.sgn[k] ? -0 : 0;
    case F.C_INF: return F.sgn[k] ? -Infinity : Infinity;
    case F.C_NORMAL: {
      const m = F.mh[k] * 4294967296 + F.ml[k]; // rounded to 53 bits
      let v = m * 2 ** -63;
      let e = F.exp[k];
      while (e > 1000) { v *= 2 ** 1000; e -= 1000; }
      while (e < -1000) { v *= 2 ** -1000; e += 1000; }
      v *= 2 ** e;
      return F.sgn[k] ? -v : v;
    }
  }
  return NaN;
}
function fromDouble(v: number): void {
  f64[0] = v;
  F.unpack64(0, u32[1], u32[0]);
  F.packLoaded(0);
}

export function x87Transcendental(c: X86Cpu, modrm: number): void {
  const two = modrm === 0xf1 || modrm === 0xf3 || modrm === 0xf9;
  if (isEmpty(c, 0) || (two && isEmpty(c, 1))) { underflow(c, two ? 1 : 0, two); return; }
  fetch(c, 0, 0);
  if (two) fetch(c, 1, 1);
  F.st.flags = 0; F.st.up = false;
  const nan = F.cls[0] === F.C_QNAN || F.cls[0] === F.C_SNAN || (two && (F.cls[1] === F.C_QNAN || F.cls[1] === F.C_SNAN));
  if (nan) { F.propagateNaN(two ? 2 : 1); if (commit(c, F.st.flags)) { if (two) { setRes(c, 1); pop(c); } else setRes(c, 0); } return; }
  const x = toDouble(0), y = two ? toDouble(1) : 0;
  const f = c.x87;
  switch (modrm) {
    case 0xf0: fromDouble(Math.expm1(x * Math.LN2)); break; // F2XM1 (expm1 keeps small results accurate)
    case 0xf1: fromDouble(y * Math.log2(x)); break; // FYL2X
    case 0xf9: fromDouble(y * (Math.log1p(x) / Math.LN2)); break; // FYL2XP1
    case 0xf3: fromDouble(Math.atan2(y, x)); break; // FPATAN
    case 0xfe: case 0xff: case 0xf2: case 0xfb: {
      if (!isFinite(x) || Math.abs(x) >= 2 ** 63) {
        if (!isFinite(x)) { F.st.flags |= IE; F.setIndefinite(); if (commit(c, F.st.flags)) setRes(c, 0); return; }
        f.sw |= C2; return; // out of range: operand unchanged
      }
      f.sw &= ~C2;
      if (modrm === 0xfe) fromDouble(Math.sin(x));
      else if (modrm === 0xff) fromDouble(Math.cos(x));
      else {
        if (pushOverflows(c)) { commit(c, IE | SF | C1); return; }
        fromDouble(modrm === 0xf2 ? Math.tan(x) : Math.sin(x));
        F.st.flags |= 0x20;
        if (!commit(c, F.st.flags)) return;
        setRes(c, 0);
        if (modrm === 0xf2) { F.res.se = 0x3fff; F.res.hi = 0x80000000; F.res.lo = 0; } else fromDouble(Math.cos(x));
        f.top = (f.top - 1) & 7;
        setRes(c, 0);
        return;
      }
      break;
    }
  }
  F.st.flags |= 0x20; // results are rounded
  if (!commit(c, F.st.flags)) return;
  if (two) { setRes(c, 1); pop(c); } else setRes(c, 0);
}
