import type { X86Cpu } from './cpu.js';
import { LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SBB, LF_SUB } from './flags.js';

const TWO32 = 4294967296;

/**
 * The eight classic ALU operations (0 ADD, 1 OR, 2 ADC, 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP) on operands
 * of `size` bytes (unsigned, or for 32/64-bit halves any int32/uint32 bit pattern). Returns the low
 * result as an int32 bit pattern (a Smi: no heap number when the call is not inlined); for 64-bit the
 * high half is left in c.hi. Flags are recorded lazily, on unsigned values.
 */
export function alu(c: X86Cpu, op: number, size: number, a: number, ah: number, b: number, bh: number): number {
  return size === 8 ? alu64(c, op, a, ah, b, bh) : aluN(c, op, size, a, b);
}

/** 8/16/32-bit ALU operation (see alu); kept small so V8 can inline it into the handlers. */
export function aluN(c: X86Cpu, op: number, size: number, a: number, b: number): number {
  if (size === 4) { a |= 0; b |= 0; } // int32 bit patterns in the record (flags.ts)
  const f = c.fl;
  const mask = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
  let r: number;
  // ADC/SBB read the previous operation's CF (which depends on its size and high halves) first.
  if (op === 1 || op === 4 || op === 6) {
    r = (op === 1 ? a | b : op === 4 ? a & b : a ^ b) & mask;
    f.op = LF_LOGIC;
  } else {
    let cin = 0;
    if (op === 0) { r = (a + b) & mask; f.op = LF_ADD; }
    else if (op === 5 || op === 7) { r = (a - b) & mask; f.op = LF_SUB; }
    else if (op === 2) { cin = f.cf(); r = (a + b + cin) & mask; f.op = LF_ADC; }
    else { cin = f.cf(); r = (a - b - cin) & mask; f.op = LF_SBB; }
    f.a = a; f.b = b; f.cin = cin;
  }
  f.size = size;
  f.rh = 0;
  f.r = r | 0;
  c.hi = 0;
  return r | 0;
}

export function alu64(c: X86Cpu, op: number, a: number, ah: number, b: number, bh: number): number {
  const f = c.fl;
  let r = 0, rh = 0, cin = 0;
  a >>>= 0; ah >>>= 0; b >>>= 0; bh >>>= 0;
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
  f.size = 8;
  f.r = r | 0;
  f.rh = rh | 0;
  switch (op) {
    case 1: case 4: case 6: f.op = LF_LOGIC; break;
    default:
      f.op = op === 0 ? LF_ADD : op === 2 ? LF_ADC : op === 3 ? LF_SBB : LF_SUB;
      f.a = a | 0; f.b = b | 0; f.ah = ah | 0; f.bh = bh | 0; f.cin = cin;
  }
  c.hi = rh;
  return r | 0;
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
  f.a = a | 0; f.ah = ah | 0; f.b = 1; f.bh = 0;
  f.r = r | 0; f.rh = rh | 0;
  c.hi = rh;
  return r;
}

/** Sign-extend a value of `size` bytes to int32 (size <= 4). */
export function sx(v: number, size: number): number {
  return size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v | 0;
}
