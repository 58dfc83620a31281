import type { X86Cpu } from './cpu.js';
import { LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SBB, LF_SUB } from './flags.js';

const TWO32 = 4294967296;

/**
 * The eight classic ALU operations (0 ADD, 1 OR, 2 ADC, 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP) on unsigned
 * operands of `size` bytes. Returns the low result; for 64-bit the high half is left in c.hi.
 * Flags are recorded lazily.
 */
export function alu(c: X86Cpu, op: number, size: number, a: number, ah: number, b: number, bh: number): number {
  const f = c.fl;
  let r = 0, rh = 0, cin = 0;
  if (size === 8) {
    ah >>>= 0; bh >>>= 0;
    switch (op) {
      case 0: case 2: {
        if (op === 2) cin = f.cf();
        const lo = a + b + cin;
        r = lo >>> 0;
        rh = (ah + bh + (lo >= TWO32 ? 1 : 0)) >>> 0;
        break;
      }
      case 3: case 5: case 7: {
        if (op === 3) cin = f.cf();
        const lo = a - b - cin;
        r = lo >>> 0;
        rh = (ah - bh - (lo < 0 ? 1 : 0)) >>> 0;
        break;
      }
      case 1: r = (a | b) >>> 0; rh = (ah | bh) >>> 0; break;
      case 4: r = (a & b) >>> 0; rh = (ah & bh) >>> 0; break;
      default: r = (a ^ b) >>> 0; rh = (ah ^ bh) >>> 0; break;
    }
  } else {
    const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    switch (op) {
      case 0: r = (a + b) & mask; break;
      case 2: cin = f.cf(); r = (a + b + cin) & mask; break;
      case 3: cin = f.cf(); r = (a - b - cin) & mask; break;
      case 5: case 7: r = (a - b) & mask; break;
      case 1: r = (a | b) & mask; break;
      case 4: r = a & b & mask; break;
      default: r = (a ^ b) & mask; break;
    }
    if (size === 4) r >>>= 0;
  }
  f.size = size;
  f.r = r;
  f.rh = rh;
  switch (op) {
    case 1: case 4: case 6: f.op = LF_LOGIC; break;
    default:
      f.op = op === 0 ? LF_ADD : op === 2 ? LF_ADC : op === 3 ? LF_SBB : LF_SUB;
      f.a = a; f.b = b; f.ah = ah; f.bh = bh; f.cin = cin;
  }
  c.hi = rh;
  return r;
}

/** INC (dec=false) / DEC: CF is preserved. */
export function incDec(c: X86Cpu, size: number, a: number, ah: number, dec: boolean): number {
  const f = c.fl;
  const cf = f.cf();
  f.bits = (f.bits & ~1) | cf;
  let r: number, rh = 0;
  ah >>>= 0;
  if (size === 8) {
    const lo = dec ? a - 1 : a + 1;
    r = lo >>> 0;
    rh = (ah + (lo < 0 ? -1 : lo >= TWO32 ? 1 : 0)) >>> 0;
  } else {
    const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    r = (dec ? a - 1 : a + 1) & mask;
    if (size === 4) r >>>= 0;
  }
  f.op = dec ? LF_DEC : LF_INC;
  f.size = size;
  f.a = a; f.ah = ah; f.b = 1; f.bh = 0;
  f.r = r; f.rh = rh;
  c.hi = rh;
  return r;
}

/** Sign-extend a value of `size` bytes to int32 (size <= 4). */
export function sx(v: number, size: number): number {
  return size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v | 0;
}
