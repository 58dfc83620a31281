/**
 * Wide multiply and divide without BigInt: 32-bit limbs for values, 16-bit digits where exactness in
 * a double needs them. Results go to the shared scratch array W (no allocation).
 */
const TWO32 = 4294967296;

/** Scratch result words (little-endian 32-bit limbs). */
export const W = new Uint32Array(4);

/** Unsigned 32x32 -> 64: low in W[0], high in W[1]. */
export function mul32(a: number, b: number): void {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  W[0] = ((mid & 0xffff) * 65536 + (ll & 0xffff)) >>> 0;
  W[1] = (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/** Signed 32x32 -> 64 (operands as int32 or uint32 bit patterns). */
export function imul32(a: number, b: number): void {
  mul32(a >>> 0, b >>> 0);
  let hi = W[1];
  if ((a | 0) < 0) hi -= b >>> 0;
  if ((b | 0) < 0) hi -= a >>> 0;
  W[1] = hi >>> 0;
}

/** Unsigned 64x64 -> 128 into W[0..3]. */
export function mul64(a0: number, a1: number, b0: number, b1: number): void {
  mul32(a0, b0); const p00l = W[0], p00h = W[1];
  mul32(a0, b1); const p01l = W[0], p01h = W[1];
  mul32(a1, b0); const p10l = W[0], p10h = W[1];
  mul32(a1, b1); const p11l = W[0], p11h = W[1];
  const t1 = p00h + p01l + p10l;
  const c1 = Math.floor(t1 / TWO32);
  const t2 = p01h + p10h + p11l + c1;
  const c2 = Math.floor(t2 / TWO32);
  W[0] = p00l;
  W[1] = t1 >>> 0;
  W[2] = t2 >>> 0;
  W[3] = (p11h + c2) >>> 0;
}

/** Signed 64x64 -> 128 into W[0..3]. */
export function imul64(a0: number, a1: number, b0: number, b1: number): void {
  mul64(a0 >>> 0, a1 >>> 0, b0 >>> 0, b1 >>> 0);
  let lo = W[2], hi = W[3];
  if ((a1 | 0) < 0) { const d = lo - (b0 >>> 0); lo = d >>> 0; hi = (hi - (b1 >>> 0) - (d < 0 ? 1 : 0)) >>> 0; }
  if ((b1 | 0) < 0) { const d = lo - (a0 >>> 0); lo = d >>> 0; hi = (hi - (a1 >>> 0) - (d < 0 ? 1 : 0)) >>> 0; }
  W[2] = lo;
  W[3] = hi;
}

/** Remainder of the last division. */
export const REM = new Uint32Array(2);

/**
 * Unsigned 128/64 division: dividend n3:n2:n1:n0, divisor d1:d0 (non-zero). Quotient (low 64 bits)
 * in W[0..1], remainder in REM. Returns false when the quotient does not fit in 64 bits.
 */
export function udiv128(n0: number, n1: number, n2: number, n3: number, d0: number, d1: number): boolean {
  // Quotient overflow: high 64 bits of the dividend >= divisor.
  if (n3 > d1 || (n3 === d1 && n2 >= d0)) return false;
  if (d1 === 0) {
    // Divisor fits in 32 bits: schoolbook division on 16-bit digits keeps every step exact.
    let r = 0;
    const digits = [n3 >>> 16, n3 & 0xffff, n2 >>> 16, n2 & 0xffff, n1 >>> 16, n1 & 0xffff, n0 >>> 16, n0 & 0xffff];
    let q1 = 0, q0 = 0;
    for (let k = 0; k < 8; k++) {
      const cur = r * 65536 + digits[k];
      const q = Math.floor(cur / d0);
      r = cur - q * d0;
      if (k >= 4) {
        if (k < 6) q1 = q1 * 65536 + q;
        else q0 = q0 * 65536 + q;
      }
    }
    W[0] = q0 >>> 0;
    W[1] = q1 >>> 0;
    REM[0] = r >>> 0;
    REM[1] = 0;
    return true;
  }
  // General case: restoring binary division over the 128-bit dividend (rare: divisor >= 2^32).
  let r0 = 0, r1 = 0, r2 = 0; // remainder, up to 65 bits
  let q0 = 0, q1 = 0;
  const words = [n3, n2, n1, n0];
  for (let bit = 127; bit >= 0; bit--) {
    const w = words[3 - (bit >> 5)];
    const inBit = (w >>> (bit & 31)) & 1;
    r2 = ((r2 << 1) | (r1 >>> 31)) >>> 0;
    r1 = ((r1 << 1) | (r0 >>> 31)) >>> 0;
    r0 = ((r0 << 1) | inBit) >>> 0;
    let ge = r2 !== 0 || r1 > d1 || (r1 === d1 && r0 >= d0);
    if (ge) {
      const lo = r0 - d0;
      r0 = lo >>> 0;
      const hi = r1 - d1 - (lo < 0 ? 1 : 0);
      r1 = hi >>> 0;
      r2 = 0; // the remainder is now below the divisor
    }
    if (bit < 64) {
      q1 = ((q1 << 1) | (q0 >>> 31)) >>> 0;
      q0 = ((q0 << 1) | (ge ? 1 : 0)) >>> 0;
    }
    ge = false;
  }
  W[0] = q0; W[1] = q1;
  REM[0] = r0; REM[1] = r1;
  return true;
}

/** Two's-complement negate a 128-bit value held in 4 words (in place in the given array). */
export function neg128(v: Uint32Array): void {
  let carry = 1;
  for (let k = 0; k < 4; k++) {
    const s = (~v[k] >>> 0) + carry;
    v[k] = s >>> 0;
    carry = s >= TWO32 ? 1 : 0;
  }
}

const N = new Uint32Array(4);

/**
 * Signed 128/64 division (IDIV r64): dividend n3:n2:n1:n0, divisor d1:d0. Quotient in W[0..1],
 * remainder in REM (both two's complement). Returns false on overflow (#DE).
 */
export function idiv128(n0: number, n1: number, n2: number, n3: number, d0: number, d1: number): boolean {
  const nNeg = (n3 | 0) < 0;
  const dNeg = (d1 | 0) < 0;
  N[0] = n0; N[1] = n1; N[2] = n2; N[3] = n3;
  if (nNeg) neg128(N);
  let e0 = d0 >>> 0, e1 = d1 >>> 0;
  if (dNeg) { const lo = (~e0 >>> 0) + 1; e0 = lo >>> 0; e1 = ((~e1 >>> 0) + (lo >= TWO32 ? 1 : 0)) >>> 0; }
  if (!udiv128(N[0], N[1], N[2], N[3], e0, e1)) return false;
  let q0 = W[0], q1 = W[1];
  const qNeg = nNeg !== dNeg;
  // Magnitude must fit: positive <= 2^63-1, negative <= 2^63.
  if (q1 > 0x80000000 || (q1 === 0x80000000 && (q0 !== 0 || !qNeg))) return false;
  if (qNeg) { const lo = (~q0 >>> 0) + 1; q0 = lo >>> 0; q1 = ((~q1 >>> 0) + (lo >= TWO32 ? 1 : 0)) >>> 0; }
  W[0] = q0; W[1] = q1;
  if (nNeg) {
    const lo = (~REM[0] >>> 0) + 1;
    REM[0] = lo >>> 0;
    REM[1] = ((~REM[1] >>> 0) + (lo >= TWO32 ? 1 : 0)) >>> 0;
  }
  return true;
}
