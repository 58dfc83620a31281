/**
 * 80-bit extended-precision arithmetic without BigInt. A packed value is (se, hi, lo): se = sign << 15 |
 * biased exponent, hi:lo the 64-bit significand with its explicit integer bit. Operands are unpacked
 * into slots (class, sign, unbiased exponent of the normalised top bit, significand); results are
 * computed exactly into a 128-bit working significand W (plus a sticky bit) and rounded once by
 * `round()` to the precision (24/53/64 bits) and exponent range of the destination.
 * Module-level scratch only: nothing is allocated per operation.
 */

export const F_IE = 1, F_DE = 2, F_ZE = 4, F_OE = 8, F_UE = 0x10, F_PE = 0x20;

export const C_ZERO = 0, C_NORMAL = 1, C_INF = 2, C_QNAN = 3, C_SNAN = 4, C_BAD = 5;

/** Exceptions raised by the current operation (F_*), and whether the last rounding went up in magnitude. */
export const st = { flags: 0, up: false };

// ---- operand slots (0, 1) and the packed result
export const cls = new Int32Array(2);
export const sgn = new Int32Array(2);
export const exp = new Int32Array(2);
export const mh = new Uint32Array(2);
export const ml = new Uint32Array(2);
export const den = new Uint8Array(2);

/** The packed result: sign/exponent word and significand halves. */
export const res = { se: 0, hi: 0, lo: 0 };

/** 128-bit working significand, most significant word first. */
const W = new Uint32Array(4);
let sticky = 0;

export const EXT_EMIN = -16382, EXT_EMAX = 16383;
export const BIAS_ADJUST = 24576;

function clz32(x: number): number { return Math.clz32(x); }

/** Unpack a packed 80-bit value into slot k. */
export function unpack(k: number, se: number, hi: number, lo: number): void {
  hi >>>= 0; lo >>>= 0;
  const e = se & 0x7fff;
  sgn[k] = (se >> 15) & 1;
  den[k] = 0;
  if (e === 0x7fff) {
    if (!(hi & 0x80000000)) cls[k] = C_BAD; // pseudo-infinity / pseudo-NaN
    else if ((hi & 0x7fffffff) === 0 && lo === 0) cls[k] = C_INF;
    else cls[k] = hi & 0x40000000 ? C_QNAN : C_SNAN;
    mh[k] = hi; ml[k] = lo; exp[k] = 0x7fff;
    return;
  }
  if (e !== 0 && !(hi & 0x80000000)) { cls[k] = C_BAD; mh[k] = hi; ml[k] = lo; exp[k] = e; return; } // unnormal
  if (hi === 0 && lo === 0) { cls[k] = C_ZERO; mh[k] = 0; ml[k] = 0; exp[k] = 0; return; }
  cls[k] = C_NORMAL;
  let ee = (e === 0 ? 1 : e) - 16383;
  if (e === 0) den[k] = 1;
  if (!(hi & 0x80000000)) { // normalise a denormal
    let n: number;
    if (hi === 0) { n = 32 + clz32(lo); hi = lo; lo = 0; n -= 32; hi = n ? hi << n : hi; ee -= n + 32; }
    else { n = clz32(hi); hi = (hi << n) | (lo >>> (32 - n)); lo = lo << n; ee -= n; }
  }
  mh[k] = hi >>> 0; ml[k] = lo >>> 0; exp[k] = ee;
}

/** Unpack a single-precision bit pattern (DE for denormals, SNaN kept as SNaN). */
export function unpack32(k: number, bits: number): void {
  const s = bits >>> 31, e = (bits >>> 23) & 0xff, f = bits & 0x7fffff;
  if (e === 0xff) { unpack(k, (s << 15) | 0x7fff, (0x80000000 | (f << 8)) >>> 0, 0); return; }
  if (e === 0) {
    if (f === 0) { unpack(k, s << 15, 0, 0); return; }
    const n = clz32(f) - 8; // shift to put the top set bit at bit 23
    unpack(k, (s << 15) | (16383 - 126 - n), ((f << n) << 8) >>> 0, 0);
    den[k] = 1;
    return;
  }
  unpack(k, (s << 15) | (e - 127 + 16383), (0x80000000 | (f << 8)) >>> 0, 0);
}

/** Unpack a double-precision bit pattern given as two halves. */
export function unpack64(k: number, hiBits: number, loBits: number): void {
  const s = hiBits >>> 31, e = (hiBits >>> 20) & 0x7ff;
  const fh = hiBits & 0xfffff, fl = loBits >>> 0;
  // significand bits 51..0 placed below an integer bit at 63: shift left by 11
  let h = ((fh << 11) | (fl >>> 21)) >>> 0, l = (fl << 11) >>> 0;
  if (e === 0x7ff) { unpack(k, (s << 15) | 0x7fff, (h | 0x80000000) >>> 0, l); return; }
  if (e === 0) {
    if (h === 0 && l === 0) { unpack(k, s << 15, 0, 0); return; }
    let n: number;
    if (h === 0) { n = clz32(l); h = n === 0 ? l : (l << n) >>> 0; n += 32; l = 0; }
    else { n = clz32(h); if (n) { h = ((h << n) | (l >>> (32 - n))) >>> 0; l = (l << n) >>> 0; } }
    // value = 0.f * 2^-1022; after shifting by n the top bit is the integer bit: exponent -1022 - n
    unpack(k, (s << 15) | (16383 - 1022 - n), h, l);
    den[k] = 1;
    return;
  }
  unpack(k, (s << 15) | (e - 1023 + 16383), (h | 0x80000000) >>> 0, l);
}

/** Unpack a signed integer given as two 32-bit halves (exact). */
export function unpackInt(k: number, hi: number, lo: number): void {
  let s = 0;
  hi >>>= 0; lo >>>= 0;
  if (hi & 0x80000000) { s = 1; lo = (~lo + 1) >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
  if (hi === 0 && lo === 0) { unpack(k, s << 15, 0, 0); return; }
  let e = 63, h = hi, l = lo;
  if (h === 0) { h = l; l = 0; e -= 32; }
  const n = clz32(h);
  if (n) { h = ((h << n) | (l >>> (32 - n))) >>> 0; l = (l << n) >>> 0; e -= n; }
  unpack(k, (s << 15) | (e + 16383), h, l);
}

// ---- 128-bit helpers on W (bit 127 = W[0] bit 31)
function bit(i: number): number { return (W[3 - (i >> 5)] >>> (i & 31)) & 1; }
function anyBelow(i: number): boolean {
  const w = 3 - (i >> 5), b = i & 31;
  for (let k = 3; k > w; k--) if (W[k]) return true;
  return b !== 0 && (W[w] & (b === 32 ? -1 : (1 << b) - 1)) !== 0;
}
function clearBelow(i: number): void {
  const w = 3 - (i >> 5), b = i & 31;
  for (let k = 3; k > w; k--) W[k] = 0;
  if (w >= 0 && b) W[w] &= ~((1 << b) - 1);
}
/** Add 2^i; returns the carry out of bit 127. */
function addPow(i: number): number {
  let w = 3 - (i >> 5);
  let v = W[w] + (2 ** (i & 31));
  W[w] = v >>> 0;
  let carry = v > 0xffffffff ? 1 : 0;
  while (carry && w > 0) { w--; v = W[w] + 1; W[w] = v >>> 0; carry = v > 0xffffffff ? 1 : 0; }
  return carry;
}
/** Shift W right by n bits, folding lost bits into sticky. */
function shr(n: number): void {
  if (n <= 0) return;
  if (n >= 128) { if (W[0] | W[1] | W[2] | W[3]) sticky = 1; W.fill(0); return; }
  if (anyBelow(n)) sticky = 1;
  const ws = n >> 5, bs = n & 31;
  for (let k = 3; k >= 0; k--) {
    const src = k - ws;
    const a = src >= 0 ? W[src] : 0, b = src - 1 >= 0 ? W[src - 1] : 0;
    W[k] = bs === 0 ? a : ((a >>> bs) | (b << (32 - bs))) >>> 0;
  }
}
function shl(n: number): void {
  if (n <= 0) return;
  const ws = n >> 5, bs = n & 31;
  for (let k = 0; k < 4; k++) {
    const src = k + ws;
    const a = src < 4 ? W[src] : 0, b = src + 1 < 4 ? W[src + 1] : 0;
    W[k] = bs === 0 ? a : ((a << bs) | (b >>> (32 - bs))) >>> 0;
  }
}
function isZeroW(): boolean { return (W[0] | W[1] | W[2] | W[3]) === 0; }
/** Leading zero count of W (128 when zero). */
function clzW(): number {
  for (let k = 0; k < 4; k++) if (W[k]) return k * 32 + clz32(W[k]);
  return 128;
}

/** Does rounding the normalised W to p bits carry out of the top bit? */
function carriesAt(p: number, rc: number, s: number): boolean {
  const pos = 128 - p;
  for (let i = 127; i >= pos; i--) if (!bit(i)) return false;
  const rb = bit(pos - 1), rest = anyBelow(pos - 1) || sticky !== 0;
  if (rc === 0) return rb === 1; // all ones: lsb is odd, so a half rounds up too
  if (rc === 1) return s === 1 && (rb === 1 || rest);
  if (rc === 2) return s === 0 && (rb === 1 || rest);
  return false;
}

/** The target format of `round`: precision and exponent range. */
export const TGT_EXT = 0, TGT_F64 = 1, TGT_F32 = 2;
const T_EMIN = [EXT_EMIN, -1022, -126];
const T_EMAX = [EXT_EMAX, 1023, 127];
const T_ADJ = [BIAS_ADJUST, 1536, 192];

/**
 * Round sign/e/W(+sticky) to `p` bits in format `tgt` under rounding control `rc`; `mask` = the
 * control word's exception masks (for the OE/UE responses). Writes res (for TGT_EXT: the packed
 * 80-bit value; for F64/F32: se = biased exponent and sign, hi:lo = top 64 significand bits after
 * denormalisation). Sets st.flags / st.up. The caller guarantees W is normalised and non-zero.
 */
export function round(s: number, e: number, p: number, rc: number, tgt: number, mask: number): void {
  const emin = T_EMIN[tgt], emax = T_EMAX[tgt];
  let up = false, inexact = false;
  const unmaskedUE = !(mask & F_UE);
  let tiny = e < emin;
  if (e === emin - 1 && carriesAt(p, rc, s)) tiny = false; // tininess after rounding (unbounded exponent)
  let keep = p;
  if (e < emin && !unmaskedUE) keep = p - (emin - e);
  if (keep <= 0) {
    inexact = true;
    const rest = anyBelow(127) || sticky !== 0;
    let inc: boolean;
    if (rc === 0) inc = keep === 0 && rest;
    else inc = (rc === 1 && s === 1) || (rc === 2 && s === 0);
    W.fill(0);
    if (inc) { W[0] = 0x80000000; e = emin - p + 1; up = true; }
    else e = emin; // zero
  } else {
    const pos = 128 - keep;
    const rb = bit(pos - 1), rest = anyBelow(pos - 1) || sticky !== 0;
    inexact = rb === 1 || rest;
    clearBelow(pos);
    let inc = false;
    if (inexact) {
      if (rc === 0) inc = rb === 1 && (rest || bit(pos) === 1);
      else if (rc === 1) inc = s === 1;
      else if (rc === 2) inc = s === 0;
    }
    if (inc) { up = true; if (addPow(pos)) { W[0] = 0x80000000; e++; } }
  }
  sticky = 0;
  if (tiny && (inexact || unmaskedUE)) st.flags |= F_UE;
  if (inexact) st.flags |= F_PE;
  st.up = up;
  const zero = isZeroW();
  if (!zero && e > emax) {
    st.flags |= F_OE;
    if (mask & F_OE) {
      st.flags |= F_PE;
      if (rc === 0 || (rc === 1 && s === 1) || (rc === 2 && s === 0)) { packInf(s, tgt); st.up = true; return; }
      // the largest finite value of precision p
      W.fill(0);
      for (let i = 127; i >= 128 - p; i--) W[3 - (i >> 5)] |= 1 << (i & 31);
      W[0] >>>= 0; W[1] >>>= 0;
      e = emax;
      st.up = false;
    } else {
      e -= T_ADJ[tgt];
      // beyond what the bias adjustment can bring back: infinity, inexact (as measured on hardware)
      if (e > emax) { st.flags |= F_PE; packInf(s, tgt); st.up = true; return; }
    }
  } else if (tiny && unmaskedUE && !zero) {
    e += T_ADJ[tgt];
    if (e < emin) { st.flags |= F_PE; st.up = false; res.se = s << 15; res.hi = 0; res.lo = 0; return; }
  }
  if (zero) { res.se = s << 15; res.hi = 0; res.lo = 0; return; }
  let biased: number;
  if (e < emin) { shr(emin - e); sticky = 0; biased = 0; }
  else biased = e + (tgt === TGT_EXT ? 16383 : tgt === TGT_F64 ? 1023 : 127);
  res.se = (s << 15) | biased;
  res.hi = W[0]; res.lo = W[1];
}

function packInf(s: number, tgt: number): void {
  res.se = (s << 15) | (tgt === TGT_EXT ? 0x7fff : tgt === TGT_F64 ? 0x7ff : 0xff);
  res.hi = tgt === TGT_EXT ? 0x80000000 : 0x80000000;
  res.lo = 0;
}

/** The QNaN indefinite. */
export function setIndefinite(): void { res.se = 0xffff; res.hi = 0xc0000000; res.lo = 0; }

function loadW(k: number): void { W[0] = mh[k]; W[1] = ml[k]; W[2] = 0; W[3] = 0; sticky = 0; }

/** Re-round slot k (a finite non-zero value) to the destination format. */
export function roundSlot(k: number, p: number, rc: number, tgt: number, mask: number): void {
  loadW(k);
  round(sgn[k], exp[k], p, rc, tgt, mask);
}

/** NaN result of an operation with NaN operand(s) among slots 0..n-1 (x87 rules). IE for SNaN. */
export function propagateNaN(n: number): void {
  let pick = -1;
  for (let k = 0; k < n; k++) {
    if (cls[k] === C_SNAN) st.flags |= F_IE;
    if (cls[k] !== C_QNAN && cls[k] !== C_SNAN) continue;
    if (pick < 0) { pick = k; continue; }
    // both NaN: a QNaN beats an SNaN; otherwise the larger significand wins, then the positive one
    const a = pick, b = k;
    if (cls[a] !== cls[b]) { if (cls[b] === C_QNAN) pick = k; continue; }
    const ah = mh[a] & 0xbfffffff, bh = mh[b] & 0xbfffffff;
    if (bh > ah || (bh === ah && ml[b] > ml[a])) pick = k;
    else if (bh === ah && ml[b] === ml[a] && sgn[b] === 0 && sgn[a] === 1) pick = k;
  }
  res.se = (sgn[pick] << 15) | 0x7fff; res.hi = (mh[pick] | 0x40000000) >>> 0; res.lo = ml[pick];
}

function isNaNCls(c: number): boolean { return c === C_QNAN || c === C_SNAN; }

/** Common NaN / unsupported screening for two operands; true when the result is already in res. */
function screen2(): boolean {
  if (cls[0] === C_BAD || cls[1] === C_BAD) { st.flags |= F_IE; setIndefinite(); return true; }
  if (isNaNCls(cls[0]) || isNaNCls(cls[1])) { propagateNaN(2); return true; }
  if (den[0] && cls[0] === C_NORMAL) st.flags |= F_DE;
  if (den[1] && cls[1] === C_NORMAL) st.flags |= F_DE;
  return false;
}

function setZero(s: number): void { res.se = s << 15; res.hi = 0; res.lo = 0; }
function setInf(s: number): void { res.se = (s << 15) | 0x7fff; res.hi = 0x80000000; res.lo = 0; }

/** slot0 + slot1 (sub: slot0 - slot1) rounded to p bits under rc. */
export function add(sub: boolean, p: number, rc: number, mask: number): void {
  st.up = false;
  if (screen2()) return;
  const sa = sgn[0], sb = sgn[1] ^ (sub ? 1 : 0);
  const ca = cls[0], cb = cls[1];
  if (ca === C_INF || cb === C_INF) {
    if (ca === C_INF && cb === C_INF && sa !== sb) { st.flags |= F_IE; setIndefinite(); return; }
    setInf(ca === C_INF ? sa : sb);
    return;
  }
  if (ca === C_ZERO && cb === C_ZERO) { setZero(sa === sb ? sa : rc === 1 ? 1 : 0); return; }
  if (ca === C_ZERO || cb === C_ZERO) {
    const k = ca === C_ZERO ? 1 : 0;
    loadW(k);
    round(k === 0 ? sa : sb, exp[k], p, rc, TGT_EXT, mask);
    return;
  }
  // big = the operand with the larger magnitude
  let big = 0;
  if (exp[1] > exp[0] || (exp[1] === exp[0] && (mh[1] > mh[0] || (mh[1] === mh[0] && ml[1] > ml[0])))) big = 1;
  const small = 1 - big;
  const sBig = big === 0 ? sa : sb, sSmall = big === 0 ? sb : sa;
  const d = exp[big] - exp[small];
  // small operand shifted into W first, then combined with the big one
  W[0] = mh[small]; W[1] = ml[small]; W[2] = 0; W[3] = 0; sticky = 0;
  shr(d);
  const s0 = W[0], s1 = W[1], s2 = W[2], s3 = W[3], st0 = sticky;
  let e = exp[big];
  if (sBig === sSmall) {
    let v = s3; W[3] = v >>> 0;
    v = s2; W[2] = v >>> 0;
    v = ml[big] + s1; W[1] = v >>> 0; let c = v > 0xffffffff ? 1 : 0;
    v = mh[big] + s0 + c; W[0] = v >>> 0; c = v > 0xffffffff ? 1 : 0;
    sticky = st0;
    if (c) { shr(1); W[0] = (W[0] | 0x80000000) >>> 0; e++; }
  } else {
    // big - small - (sticky ? 1 ulp : 0), the sticky kept for rounding
    let borrow = st0;
    let v = 0 - s3 - borrow; W[3] = v >>> 0; borrow = v < 0 ? 1 : 0;
    v = 0 - s2 - borrow; W[2] = v >>> 0; borrow = v < 0 ? 1 : 0;
    v = ml[big] - s1 - borrow; W[1] = v >>> 0; borrow = v < 0 ? 1 : 0;
    v = mh[big] - s0 - borrow; W[0] = v >>> 0;
    sticky = st0;
    if (isZeroW() && !sticky) { setZero(rc === 1 ? 1 : 0); return; }
    const n = clzW();
    shl(n); e -= n;
  }
  round(sBig, e, p, rc, TGT_EXT, mask);
}

/** 64x64 -> 128-bit product of the significands of slots 0 and 1 into W. */
const L = new Uint32Array(8);
function mulSig(): void {
  const a0 = ml[0] & 0xffff, a1 = ml[0] >>> 16, a2 = mh[0] & 0xffff, a3 = mh[0] >>> 16;
  const b0 = ml[1] & 0xffff, b1 = ml[1] >>> 16, b2 = mh[1] & 0xffff, b3 = mh[1] >>> 16;
  const a = LA, b = LB;
  a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3; b[0] = b0; b[1] = b1; b[2] = b2; b[3] = b3;
  const col = MULCOL; col.fill(0);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) col[i + j] += a[i] * b[j];
  let carry = 0;
  for (let k = 0; k < 8; k++) {
    const v = col[k] + carry;
    L[k] = v % 65536;
    carry = Math.floor(v / 65536);
  }
  W[3] = (L[0] | (L[1] << 16)) >>> 0;
  W[2] = (L[2] | (L[3] << 16)) >>> 0;
  W[1] = (L[4] | (L[5] << 16)) >>> 0;
  W[0] = (L[6] | (L[7] << 16)) >>> 0;
}
const MULCOL = new Float64Array(8);
const LA = new Float64Array(4), LB = new Float64Array(4);

export function mul(p: number, rc: number, mask: number): void {
  st.up = false;
  if (screen2()) return;
  const s = sgn[0] ^ sgn[1];
  const ca = cls[0], cb = cls[1];
  if (ca === C_INF || cb === C_INF) {
    if (ca === C_ZERO || cb === C_ZERO) { st.flags |= F_IE; setIndefinite(); return; }
    setInf(s); return;
  }
  if (ca === C_ZERO || cb === C_ZERO) { setZero(s); return; }
  mulSig();
  sticky = 0;
  let e = exp[0] + exp[1];
  if (W[0] & 0x80000000) e++;
  else shl(1);
  round(s, e, p, rc, TGT_EXT, mask);
}

/** Long division of the significands (slot0 / slot1) into W with 68 quotient bits; returns the exponent adjustment. */
function divSig(): number {
  let rh = mh[0], rl = ml[0], rc = 0;
  const dh = mh[1], dl = ml[1];
  let adj = 0;
  if (rh < dh || (rh === dh && rl < dl)) { rc = rh >>> 31; rh = ((rh << 1) | (rl >>> 31)) >>> 0; rl = (rl << 1) >>> 0; adj = -1; }
  W.fill(0);
  for (let i = 127; i >= 60; i--) {
    if (rc || rh > dh || (rh === dh && rl >= dl)) {
      let v = rl - dl, b = 0;
      if (v < 0) { v += 4294967296; b = 1; }
      rl = v; rh = (rh - dh - b) >>> 0; rc = 0;
      W[3 - (i >> 5)] |= 1 << (i & 31);
    }
    rc = rh >>> 31; rh = ((rh << 1) | (rl >>> 31)) >>> 0; rl = (rl << 1) >>> 0;
  }
  W[0] >>>= 0; W[1] >>>= 0; W[2] >>>= 0;
  sticky = rc | rh | rl ? 1 : 0;
  return adj;
}

export function div(p: number, rc: number, mask: number): void {
  st.up = false;
  if (screen2()) return;
  const s = sgn[0] ^ sgn[1];
  const ca = cls[0], cb = cls[1];
  if (ca === C_INF) { if (cb === C_INF) { st.flags |= F_IE; setIndefinite(); } else setInf(s); return; }
  if (cb === C_INF) { setZero(s); return; }
  if (cb === C_ZERO) {
    st.flags &= ~F_DE; // divide-by-zero outranks a denormal dividend
    if (ca === C_ZERO) { st.flags |= F_IE; setIndefinite(); return; }
    st.flags |= F_ZE; setInf(s); return;
  }
  if (ca === C_ZERO) { setZero(s); return; }
  const adj = divSig();
  round(s, exp[0] - exp[1] + adj, p, rc, TGT_EXT, mask);
}

/** Square root of slot 0. */
const R = new Uint32Array(3), T = new Uint32Array(3);
export function sqrt(p: number, rc: number, mask: number): void {
  st.up = false;
  const c = cls[0];
  if (c === C_BAD) { st.flags |= F_IE; setIndefinite(); return; }
  if (c === C_QNAN || c === C_SNAN) { propagateNaN(1); return; }
  if (c === C_ZERO) { setZero(sgn[0]); return; }
  if (sgn[0]) { st.flags |= F_IE; setIndefinite(); return; }
  if (c === C_INF) { setInf(0); return; }
  if (den[0]) st.flags |= F_DE;
  const e = exp[0];
  const odd = e & 1;
  // radicand N = M * 2^(67 + odd): bit k of N is bit (k - 67 - odd) of M; root has 66 bits.
  const shift = 67 + odd;
  R.fill(0); T.fill(0);
  const q = T; // root, little-endian words
  q.fill(0);
  W.fill(0);
  const rr = R;
  for (let it = 0; it < 66; it++) {
    const k = 131 - 2 * it; // top bit index of this pair
    const b1 = mbit(k - shift), b0 = mbit(k - 1 - shift);
    // R = R*4 + pair
    shl3(rr, 2); rr[0] |= (b1 << 1) | b0;
    // trial = Q*4 + 1 ; compare with R
    TT[2] = q[2]; TT[1] = q[1]; TT[0] = q[0];
    shl3(TT, 2); TT[0] |= 1;
    shl3(q, 1);
    if (ge3(rr, TT)) { sub3(rr, TT); q[0] |= 1; W[3 - ((127 - it) >> 5)] |= 1 << ((127 - it) & 31); }
  }
  for (let k = 0; k < 4; k++) W[k] >>>= 0;
  sticky = rr[0] | rr[1] | rr[2] ? 1 : 0;
  round(0, (e - odd) / 2, p, rc, TGT_EXT, mask);
}
const TT = new Uint32Array(3);
function mbit(i: number): number {
  if (i < 0 || i > 63) return 0;
  return i >= 32 ? (mh[0] >>> (i - 32)) & 1 : (ml[0] >>> i) & 1;
}
function shl3(x: Uint32Array, n: number): void {
  x[2] = (x[2] << n) | (x[1] >>> (32 - n));
  x[1] = (x[1] << n) | (x[0] >>> (32 - n));
  x[0] = x[0] << n;
}
function ge3(a: Uint32Array, b: Uint32Array): boolean {
  for (let k = 2; k >= 0; k--) if (a[k] !== b[k]) return a[k] > b[k];
  return true;
}
function sub3(a: Uint32Array, b: Uint32Array): void {
  let borrow = 0;
  for (let k = 0; k < 3; k++) {
    let v = a[k] - b[k] - borrow;
    borrow = v < 0 ? 1 : 0;
    if (v < 0) v += 4294967296;
    a[k] = v;
  }
}

/**
 * Compare slots 0 and 1: 0 equal, 1 greater, -1 less, 2 unordered. `quiet`: QNaN operands do not
 * raise IE (FUCOM). Denormals raise DE.
 */
export function compare(quiet: boolean): number {
  const ca = cls[0], cb = cls[1];
  if (ca === C_BAD || cb === C_BAD) { st.flags |= F_IE; return 2; }
  if (isNaNCls(ca) || isNaNCls(cb)) {
    if (!quiet || ca === C_SNAN || cb === C_SNAN) st.flags |= F_IE;
    return 2;
  }
  if (den[0] && ca === C_NORMAL) st.flags |= F_DE;
  if (den[1] && cb === C_NORMAL) st.flags |= F_DE;
  return compareMag();
}
function compareMag(): number {
  const ca = cls[0], cb = cls[1];
  if (ca === C_ZERO && cb === C_ZERO) return 0;
  const sa = sgn[0], sb = sgn[1];
  if (ca === C_ZERO) return sb ? 1 : -1;
  if (cb === C_ZERO) return sa ? -1 : 1;
  if (sa !== sb) return sa ? -1 : 1;
  let m: number; // magnitude comparison
  if (ca === C_INF || cb === C_INF) m = ca === cb ? 0 : ca === C_INF ? 1 : -1;
  else if (exp[0] !== exp[1]) m = exp[0] > exp[1] ? 1 : -1;
  else if (mh[0] !== mh[1]) m = mh[0] > mh[1] ? 1 : -1;
  else m = ml[0] === ml[1] ? 0 : ml[0] > ml[1] ? 1 : -1;
  return sa ? -m : m;
}

/**
 * Round slot 0 (finite non-zero) to an integer under rc: magnitude in res.hi:res.lo, or res.se = -1
 * when it needs more than 64 bits. Sets PE / st.up.
 */
export function toIntegerMag(rc: number): void {
  const e = exp[0];
  st.up = false;
  if (e >= 64) { res.se = -1; return; }
  loadW(0);
  const keep = e + 1;
  if (keep <= 0) {
    let inc: boolean;
    if (rc === 0) inc = keep === 0 && anyBelow(127);
    else inc = (rc === 1 && sgn[0] === 1) || (rc === 2 && sgn[0] === 0);
    st.flags |= F_PE;
    res.se = 0; res.hi = 0; res.lo = inc ? 1 : 0; st.up = inc;
    return;
  }
  const pos = 128 - keep;
  const rb = bit(pos - 1), rest = anyBelow(pos - 1);
  const inexact = rb === 1 || rest;
  clearBelow(pos);
  let inc = false;
  if (inexact) {
    st.flags |= F_PE;
    if (rc === 0) inc = rb === 1 && (rest || bit(pos) === 1);
    else if (rc === 1) inc = sgn[0] === 1;
    else if (rc === 2) inc = sgn[0] === 0;
  }
  let carry = 0;
  if (inc) carry = addPow(pos);
  st.up = inc;
  if (carry) { // the magnitude became 2^(e+1)
    if (e + 1 >= 64) { res.se = -1; return; }
    W[0] = 0x80000000; W[1] = 0; W[2] = 0; W[3] = 0;
    shr(127 - (e + 1));
  } else shr(127 - e);
  res.se = 0; res.hi = W[2]; res.lo = W[3];
}

/** Round slot 0 (finite non-zero) to an integral 80-bit value (FRNDINT) under rc. */
export function roundToIntegral(rc: number): void {
  const e = exp[0];
  st.up = false;
  if (e >= 63) { res.se = (sgn[0] << 15) | (e + 16383); res.hi = mh[0]; res.lo = ml[0]; return; }
  toIntegerMag(rc);
  const h = res.hi, l = res.lo;
  if (h === 0 && l === 0) { setZero(sgn[0]); return; }
  if (h & 0x80000000) { res.se = (sgn[0] << 15) | (63 + 16383); res.hi = h; res.lo = l; return; }
  unpackInt(1, h, l); // magnitude < 2^63 here, positive
  res.se = (sgn[0] << 15) | (exp[1] + 16383); res.hi = mh[1]; res.lo = ml[1];
}

/** Pack slot k back (finite normal or denormal in ext range). */
export function packSlot(k: number): void {
  loadW(k);
  round(sgn[k], exp[k], 64, 0, TGT_EXT, 0x3f);
}

/** The working significand / sticky, for x87.ts helpers that build values directly. */
export function setW(h0: number, h1: number, h2: number, h3: number, st0: number): void {
  W[0] = h0 >>> 0; W[1] = h1 >>> 0; W[2] = h2 >>> 0; W[3] = h3 >>> 0; sticky = st0;
}

/**
 * Partial remainder (FPREM / FPREM1) of slot0 by slot1, both finite non-zero. Writes res and returns
 * the low quotient bits (bits 0-2) or -1 when the reduction is incomplete (C2 = 1).
 */
export function remainder(ieee: boolean, mask: number): number {
  REM.mask = mask;
  const d = exp[0] - exp[1];
  if (d < 0) { // |a| < |b|: quotient 0 (FPREM1 may still round to 1)
    if (ieee && d === -1) {
      // a/b in [0.5, 1): rounds to 1 when |a| > |b|/2, or exactly half with even rule -> 0
      const cmpHalf = cmpSig(mh[0], ml[0], mh[1], ml[1]);
      if (cmpHalf > 0) return remainderAboveHalf();
    }
    loadW(0); round(sgn[0], exp[0], 64, 0, TGT_EXT, mask);
    return 0;
  }
  const partial = d >= 64;
  const steps = partial ? 0 : d;
  let rh = mh[0], rl = ml[0], rcarry = 0;
  const dh = mh[1], dl = ml[1];
  let q = 0;
  const n = partial ? (d % 32) + 32 : steps; // reduce by 32..63 quotient bits at a time
  for (let i = 0; i <= n; i++) {
    q = (q << 1) & 7;
    if (rcarry || rh > dh || (rh === dh && rl >= dl)) {
      let v = rl - dl, b = 0;
      if (v < 0) { v += 4294967296; b = 1; }
      rl = v; rh = (rh - dh - b) >>> 0; rcarry = 0; q |= 1;
    }
    if (i < n) { rcarry = rh >>> 31; rh = ((rh << 1) | (rl >>> 31)) >>> 0; rl = (rl << 1) >>> 0; }
  }
  // remainder = r * 2^(exp[1]-63) (value units of b's lsb), sign of a
  REM.h = rh; REM.l = rl; REM.e = exp[0] - n;
  if (partial) { finishRem(sgn[0]); return -1; }
  if (ieee) {
    const c = cmpSig2(rh, rl, dh, dl); // compare 2r with d
    if (c > 0 || (c === 0 && q & 1)) {
      // r = d - r, sign flips, quotient + 1
      let v = dl - rl, b = 0;
      if (v < 0) { v += 4294967296; b = 1; }
      REM.l = v; REM.h = (dh - rh - b) >>> 0;
      q = (q + 1) & 7;
      finishRem(sgn[0] ^ 1);
      return q;
    }
  }
  finishRem(sgn[0]);
  return q;
}
const REM = { h: 0, l: 0, e: 0, mask: 0x3f };
function cmpSig(ah: number, al: number, bh: number, bl: number): number {
  if (ah !== bh) return ah > bh ? 1 : -1;
  return al === bl ? 0 : al > bl ? 1 : -1;
}
/** Compare 2*r with d. */
function cmpSig2(rh: number, rl: number, dh: number, dl: number): number {
  if (rh & 0x80000000) return 1;
  const h = ((rh << 1) | (rl >>> 31)) >>> 0, l = (rl << 1) >>> 0;
  return cmpSig(h, l, dh, dl);
}
function finishRem(s: number): void {
  if (REM.h === 0 && REM.l === 0) { setZero(s); return; }
  // value = REM (64-bit integer) * 2^(REM.e - 63)
  W[0] = REM.h; W[1] = REM.l; W[2] = 0; W[3] = 0; sticky = 0;
  const n = clzW();
  shl(n);
  round(s, REM.e - n, 64, 0, TGT_EXT, REM.mask);
}
/**
 * FPREM1 with |b|/2 < |a| < |b| (exponents differ by one): the quotient rounds to 1 and the remainder
 * is a - b, i.e. |b| - |a| with the sign flipped, computed exactly as (2B - A) * 2^(exp[1] - 64).
 */
function remainderAboveHalf(): number {
  const ah = mh[0], al = ml[0];
  const bl2 = (ml[1] << 1) >>> 0, bh2 = ((mh[1] << 1) | (ml[1] >>> 31)) >>> 0, bc = mh[1] >>> 31;
  let v = bl2 - al, borrow = 0;
  if (v < 0) { v += 4294967296; borrow = 1; }
  const rl = v;
  let vh = bh2 - ah - borrow, borrow2 = 0;
  if (vh < 0) { vh += 4294967296; borrow2 = 1; }
  W[0] = bc - borrow2; W[1] = vh; W[2] = rl; W[3] = 0; sticky = 0; // a 65-bit integer, times 2^32
  if (isZeroW()) { setZero(sgn[0] ^ 1); return 1; }
  const n = clzW();
  shl(n);
  round(sgn[0] ^ 1, exp[1] - 64 + (95 - n), 64, 0, TGT_EXT, REM.mask);
  return 1;
}

/** Result of loading slot k (an f32/f64/int operand) as an 80-bit value, exact: DE for denormals, IE for SNaN. */
export function packLoaded(k: number): void {
  st.up = false;
  switch (cls[k]) {
    case C_ZERO: setZero(sgn[k]); return;
    case C_INF: setInf(sgn[k]); return;
    case C_SNAN: case C_QNAN:
      if (cls[k] === C_SNAN) st.flags |= F_IE; // quietened
      res.se = (sgn[k] << 15) | 0x7fff; res.hi = (mh[k] | 0x40000000) >>> 0; res.lo = ml[k]; return;
    case C_BAD: st.flags |= F_IE; setIndefinite(); return;
  }
  if (den[k]) st.flags |= F_DE;
  packSlot(k);
}

/** The significand W after a round to F32/F64: the format's bit pattern from res (se = sign/biased exponent). */
export function bitsF64Hi(): number {
  const s = res.se >>> 15, e = res.se & 0x7fff;
  return ((s << 31) | (e << 20) | ((res.hi >>> 11) & 0xfffff)) >>> 0;
}
export function bitsF64Lo(): number {
  return ((res.hi << 21) | (res.lo >>> 11)) >>> 0;
}
export function bitsF32(): number {
  const s = res.se >>> 15, e = res.se & 0x7fff;
  return ((s << 31) | (e << 23) | ((res.hi >>> 8) & 0x7fffff)) >>> 0;
}

/**
 * FPREM / FPREM1 of slot0 by slot1 with the special cases: returns the low quotient bits, -1 for an
 * incomplete reduction, -2 when ST0 is returned unchanged (the caller copies it), -3 for a NaN or
 * invalid result (C0/C3 then keep their values), with res and flags set.
 */
export function prem(ieee: boolean, mask: number): number {
  st.flags = 0; st.up = false;
  const a = cls[0], b = cls[1];
  if (a === C_BAD || b === C_BAD) { st.flags |= F_IE; setIndefinite(); return -3; }
  if (isNaNCls(a) || isNaNCls(b)) { propagateNaN(2); return -3; }
  if (a === C_INF || b === C_ZERO) { st.flags |= F_IE; setIndefinite(); return -3; }
  if ((den[0] && a === C_NORMAL) || (den[1] && b === C_NORMAL)) st.flags |= F_DE;
  if (a === C_ZERO || b === C_INF) return -2;
  return remainder(ieee, mask);
}
