/**
 * IEEE-754 details JavaScript arithmetic does not give us: MXCSR rounding modes, exception flags
 * (IE ZE OE UE PE) and flush-to-zero. JS computes round-to-nearest; the exact error of that result
 * (TwoSum / Dekker TwoProduct) tells whether it was inexact and which way a directed mode must move.
 */
export const MX_IE = 0x01;
export const MX_DE = 0x02;
export const MX_ZE = 0x04;
export const MX_OE = 0x08;
export const MX_UE = 0x10;
export const MX_PE = 0x20;
const MX_FTZ = 0x8000;
const MX_UM = 0x800; // underflow mask: when clear, any tiny result (even exact) raises UE and FTZ does not apply

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const f32 = new Float32Array(1);
const u32f = new Uint32Array(f32.buffer);

/** The next double toward +Infinity (dir > 0) or -Infinity (dir < 0). */
export function nextAfter64(x: number, dir: number): number {
  if (x !== x || x === dir * Infinity) return x;
  if (x === 0) return dir > 0 ? 5e-324 : -5e-324;
  f64[0] = x;
  const up = (x > 0) === (dir > 0);
  let lo = u32[0], hi = u32[1];
  if (up) { lo = (lo + 1) >>> 0; if (lo === 0) hi = (hi + 1) >>> 0; }
  else { if (lo === 0) hi = (hi - 1) >>> 0; lo = (lo - 1) >>> 0; }
  u32[0] = lo; u32[1] = hi;
  return f64[0];
}

export function nextAfter32(x: number, dir: number): number {
  if (x !== x || x === dir * Infinity) return x;
  if (x === 0) return dir > 0 ? 1.401298464324817e-45 : -1.401298464324817e-45;
  f32[0] = x;
  const up = (x > 0) === (dir > 0);
  u32f[0] = up ? u32f[0] + 1 : u32f[0] - 1;
  return f32[0];
}

const SPLIT = 134217729; // 2^27 + 1
/** Exact error of a*b - fl(a*b) (Dekker), valid when nothing overflows. */
function mulError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** Operation codes shared with sse.ts. */
export const OP_ADD = 0, OP_MUL = 1, OP_SUB = 4, OP_DIV = 6, OP_SQRT = 8;

let flags = 0;

/** Split |x| (finite, non-zero) into m * 2^e with m in [1, 2): returns m, exponent in EXP. */
let EXP = 0;
function frexp(x: number): number {
  x = Math.abs(x);
  f64[0] = x;
  let e = (u32[1] >>> 20) & 0x7ff;
  let bias = 0;
  if (e === 0) { // denormal: normalise first
    f64[0] = x * 18014398509481984; // 2^54
    e = (u32[1] >>> 20) & 0x7ff;
    bias = 54;
  }
  EXP = e - 1023 - bias;
  u32[1] = (u32[1] & 0x800fffff) | (1023 << 20);
  return f64[0];
}

/** x * 2^n without intermediate overflow/underflow for |n| up to a few thousand. */
function scale(x: number, n: number): number {
  while (n > 1000) { x *= 2 ** 1000; n -= 1000; }
  while (n < -1000) { x *= 2 ** -1000; n += 1000; }
  return x * 2 ** n;
}

/**
 * The sign of (exact result - r) for r = fl(a op b) computed in doubles: -1, 0 or 1.
 * Operands are scaled to [1, 2) first so the Dekker products never overflow or underflow.
 * For sqrt, `a` is unused and b is the operand.
 */
function errorSign(op: number, a: number, b: number, r: number): number {
  if (!isFinite(r) || !isFinite(a) || !isFinite(b)) return 0;
  let e: number;
  switch (op) {
    case OP_ADD: case OP_SUB: {
      const bb = op === OP_ADD ? b : -b;
      const v = r - a;
      e = (a - (r - v)) + (bb - v);
      break;
    }
    case OP_MUL: {
      if (a === 0 || b === 0) return 0;
      const ma = frexp(a), ea = EXP, mb = frexp(b), eb = EXP;
      const neg = (a < 0) !== (b < 0);
      const pm = ma * mb;
      const rs = scale(Math.abs(r), -(ea + eb));
      e = (pm - rs) + mulError(ma, mb, pm);
      if (neg) e = -e;
      break;
    }
    case OP_DIV: {
      if (b === 0 || a === 0) return 0;
      const ma = frexp(a), ea = EXP, mb = frexp(b), eb = EXP;
      const neg = (a < 0) !== (b < 0);
      const rs = scale(Math.abs(r), -(ea - eb)); // ~ ma / mb
      const p = rs * mb;
      e = (ma - p) - mulError(rs, mb, p);
      if (neg) e = -e;
      break;
    }
    default: {
      if (b === 0) return 0;
      const mb = frexp(b);
      let eb = EXP, m = mb;
      if (eb & 1) { m *= 2; eb -= 1; }
      const rs = scale(r, -eb / 2);
      const p = rs * rs;
      e = (m - p) - mulError(rs, rs, p);
    }
  }
  return e > 0 ? 1 : e < 0 ? -1 : 0;
}

function apply(op: number, a: number, b: number): number {
  switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    default: return Math.sqrt(b);
  }
}

/** Move a round-to-nearest result `r` (exact value = r + err*tiny) to the MXCSR rounding mode. */
function directed(r: number, err: number, rc: number, next: (x: number, d: number) => number): number {
  if (err === 0 || rc === 0) return r;
  if (rc === 1) return err < 0 ? next(r, -1) : r; // down
  if (rc === 2) return err > 0 ? next(r, 1) : r; // up
  // toward zero
  if (r > 0 && err < 0) return next(r, -1);
  if (r < 0 && err > 0) return next(r, 1);
  return r;
}

const MAX64 = 1.7976931348623157e308;
const MAX32 = 3.4028234663852886e38;
const MIN_NORMAL64 = 2.2250738585072014e-308;
const MIN_NORMAL32 = 1.1754943508222875e-38;
const MX_OM = 0x400;

function overflowResult(sign: number, rc: number, max: number): number {
  // Round-to-nearest and the direction toward the sign give infinity; the others the largest finite.
  if (rc === 0 || (rc === 1 && sign < 0) || (rc === 2 && sign > 0)) return sign * Infinity;
  return sign * max;
}

/**
 * Whether the exact double-precision result of a op b, rounded with an unbounded exponent, is inexact.
 * That is what PE reports beside an unmasked OE or UE (the CPU then faults and writes nothing).
 * Tiny or huge sums of doubles are exact; products and quotients are judged on scaled significands.
 */
function inexactUnbounded64(op: number, a: number, b: number): boolean {
  switch (op) {
    case OP_ADD: case OP_SUB: {
      const ha = a * 0.5, hb = b * 0.5; // halves: a huge sum stays finite
      return errorSign(op, ha, hb, apply(op, ha, hb)) !== 0;
    }
    case OP_MUL: {
      const ma = frexp(a), mb = frexp(b), pm = ma * mb;
      return mulError(ma, mb, pm) !== 0;
    }
    case OP_DIV: {
      const ma = frexp(a), mb = frexp(b), q = ma / mb, p = q * mb;
      return p !== ma || mulError(q, mb, p) !== 0;
    }
    default: return false;
  }
}

/** Whether `d` (a double whose own rounding error sign is derr) needs more than 24 significant bits. */
function inexactUnbounded32(d: number, derr: number): boolean {
  if (derr !== 0) return true;
  if (d === 0 || !isFinite(d)) return false;
  const m = frexp(d);
  return Math.fround(m) !== m;
}

/**
 * Overflow: masked, OE and PE with infinity or the largest finite value by rounding mode; unmasked,
 * OE alone plus PE when the unbounded result is inexact (no result is written).
 */
function overflow(sign: number, rc: number, mxcsr: number, max: number, inexact: () => boolean): number {
  if (mxcsr & MX_OM) { flags = (flags & ~MX_PE) | MX_OE | MX_PE; return overflowResult(sign, rc, max); }
  flags = (flags & ~MX_PE) | MX_OE | (inexact() ? MX_PE : 0);
  return sign * Infinity;
}

/**
 * a op b in double precision under `mxcsr`; NaN inputs are handled by the caller. Returns the
 * result; the exception flags raised are in `lastFlags()`.
 */
export function arith64(op: number, a: number, b: number, mxcsr: number): number {
  flags = 0;
  const rc = (mxcsr >> 13) & 3;
  let r = apply(op, a, b);
  if (r !== r) { flags = MX_IE; return r; }
  if (op === OP_DIV && b === 0 && isFinite(a)) { flags = MX_ZE; return r; }
  const finiteIn = isFinite(a) && isFinite(b);
  if (!isFinite(r) && finiteIn) {
    const sign = r > 0 ? 1 : -1;
    // Rounding toward zero keeps an exact value below 2^1024 finite: the largest double, inexact.
    if (towardZero(rc, sign) && below2pow1024(op, a, b)) { flags = MX_PE; return sign * MAX64; }
    return overflow(sign, rc, mxcsr, MAX64, () => inexactUnbounded64(op, a, b));
  }
  if (!isFinite(r)) return r;
  if (r === 0 && rc === 1 && (op === OP_ADD || op === OP_SUB)) r = exactZeroRoundingDown(op, a, b);
  const err = errorSign(op, a, b, r);
  if (err !== 0) {
    flags = MX_PE;
    r = directed(r, err, rc, nextAfter64);
    if (!isFinite(r)) return overflow(r > 0 ? 1 : -1, rc, mxcsr, MAX64, () => true);
  }
  const tiny = (Math.abs(r) < MIN_NORMAL64 && (r !== 0 || err !== 0)) ||
    (err !== 0 && Math.abs(r) === MIN_NORMAL64 && tinyBeforeBounding64(op, a, b, rc));
  if (tiny && !(mxcsr & MX_UM)) {
    flags = MX_UE | (inexactUnbounded64(op, a, b) ? MX_PE : 0);
    return r;
  }
  return tiny ? underflow(r, err, mxcsr) : r;
}

const TWO64 = 18446744073709551616;

/**
 * Tininess is judged on the result rounded with an unbounded exponent: an exact value just below the
 * smallest normal can round (with the denormal spacing) up to it and still be tiny. Called only for an
 * inexact result equal to the smallest normal; recomputes it 2^64 times larger, where it is normal.
 */
function tinyBeforeBounding64(op: number, a: number, b: number, rc: number): boolean {
  let sa = a, sb = b;
  if (op === OP_MUL) { if (Math.abs(a) <= Math.abs(b)) sa = a * TWO64; else sb = b * TWO64; }
  else if (op === OP_DIV) sa = a * TWO64;
  else return false; // tiny sums and differences are exact; square roots are never tiny
  let t = apply(op, sa, sb);
  t = directed(t, errorSign(op, sa, sb, t), rc, nextAfter64);
  return Math.abs(t) < MIN_NORMAL64 * TWO64;
}

/** The same for a single-precision result: `d` is the double result, `derr` the sign of its error. */
function tinyBeforeBounding32(d: number, derr: number, rc: number): boolean {
  const ds = d * TWO64;
  let t = Math.fround(ds);
  const e = t === ds ? derr : ds > t ? 1 : -1;
  if (rc !== 0) t = directed(t, e, rc, nextAfter32);
  return Math.abs(t) < MIN_NORMAL32 * TWO64;
}

/** Whether rounding mode `rc` moves a result of this sign toward zero (truncate, or down/up for +/-). */
function towardZero(rc: number, sign: number): boolean {
  return rc === 3 || (rc === 1 && sign > 0) || (rc === 2 && sign < 0);
}

const TWO1023 = 2 ** 1023;
/** For a result JavaScript rounded to infinity: is the exact |a op b| below 2^1024? Judged at half scale. */
function below2pow1024(op: number, a: number, b: number): boolean {
  let ha = a * 0.5, hb = b;
  if (op === OP_ADD || op === OP_SUB) hb = b * 0.5;
  else if (op !== OP_MUL && op !== OP_DIV) return false;
  const h = apply(op, ha, hb);
  const m = Math.abs(h);
  return m < TWO1023 || (m === TWO1023 && errorSign(op, ha, hb, h) * Math.sign(h) < 0);
}

/**
 * An exact zero sum of operands that are not both +0 is -0 when rounding down (+0 in the other modes,
 * which is what JavaScript computes).
 */
function exactZeroRoundingDown(op: number, a: number, b: number): number {
  const bPositiveZero = op === OP_ADD ? Object.is(b, 0) : Object.is(b, -0);
  return Object.is(a, 0) && bPositiveZero ? 0 : -0;
}

/**
 * Masked underflow of a tiny result: UE only when inexact; flush-to-zero turns it into a signed zero
 * with UE and PE.
 */
function underflow(r: number, err: number, mxcsr: number): number {
  if (err !== 0) flags |= MX_UE;
  if (mxcsr & MX_FTZ && r !== 0) {
    flags |= MX_UE | MX_PE;
    r = r < 0 ? -0 : 0;
  }
  return r;
}

/** a op b on single-precision operands under `mxcsr`. */
export function arith32(op: number, a: number, b: number, mxcsr: number): number {
  flags = 0;
  const rc = (mxcsr >> 13) & 3;
  let d = apply(op, a, b);
  if (d !== d) { flags = MX_IE; return d; }
  if (op === OP_DIV && b === 0 && isFinite(a)) { flags = MX_ZE; return d; }
  if (d === 0 && rc === 1 && (op === OP_ADD || op === OP_SUB)) d = exactZeroRoundingDown(op, a, b);
  return roundTo32(d, errorSign(op, a, b, d), rc, mxcsr, isFinite(a) && isFinite(b));
}

/** Round a double `d` (whose own error sign is `derr`) to single precision under the mode. */
export function roundTo32(d: number, derr: number, rc: number, mxcsr: number, finiteInputs = true): number {
  let r = Math.fround(d);
  if (derr !== 0 && r !== d && isFinite(r)) {
    // d was itself rounded: if it sits exactly halfway between two floats, the exact value decides.
    const up = d > r;
    const other = nextAfter32(r, up ? 1 : -1);
    if (d - r === other - d && (derr > 0) === up) r = other;
  }
  if (!isFinite(r) && isFinite(d) && finiteInputs) {
    const sign = d > 0 ? 1 : -1;
    // Rounding toward zero keeps an exact value below 2^128 finite: the largest float, inexact.
    if (towardZero(rc, sign) && Math.abs(d) < 2 ** 128) { flags |= MX_PE; return sign * MAX32; }
    return overflow(sign, rc, mxcsr, MAX32, () => inexactUnbounded32(d, derr));
  }
  const err = r === d ? derr : d > r ? 1 : -1;
  if (err !== 0 && isFinite(r)) {
    flags |= MX_PE;
    if (rc !== 0) r = directed(r, err, rc, nextAfter32);
    if (!isFinite(r)) return overflow(r > 0 ? 1 : -1, rc, mxcsr, MAX32, () => true);
  }
  const tiny = (Math.abs(r) < MIN_NORMAL32 && (r !== 0 || err !== 0)) ||
    (err !== 0 && Math.abs(r) === MIN_NORMAL32 && tinyBeforeBounding32(d, derr, rc));
  if (tiny && !(mxcsr & MX_UM)) {
    flags = (flags & ~MX_PE) | MX_UE | (inexactUnbounded32(d, derr) ? MX_PE : 0);
    return r;
  }
  return tiny ? underflow(r, err, mxcsr) : r;
}

/** Flags raised by the last arith64/arith32/roundTo32 call (roundTo32 accumulates; reset with clearFlags). */
export function lastFlags(): number {
  return flags;
}
export function clearFlags(): void {
  flags = 0;
}

/** A double -> integer conversion result with IE/PE flags (`bits` 32 or 64). NaN/overflow -> undefined. */
export function roundToInteger(v: number, truncate: boolean, mxcsr: number): number {
  const rc = truncate ? 3 : (mxcsr >> 13) & 3;
  switch (rc) {
    case 0: {
      const f = Math.floor(v), diff = v - f;
      if (diff < 0.5) return f;
      if (diff > 0.5) return f + 1;
      return f % 2 === 0 ? f : f + 1;
    }
    case 1: return Math.floor(v);
    case 2: return Math.ceil(v);
    default: return Math.trunc(v);
  }
}
