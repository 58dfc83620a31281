// Operand values that find bugs: boundaries of every width, sign bits, special floats.
import type { Prng } from '../prng.js';

const INT_EDGES: bigint[] = [
  0n, 1n, 2n, 3n, 7n, 8n, 0x1fn, 0x20n, 0x3fn, 0x40n, 0x41n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x1_0000n,
  0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n,
  0xffff_ffff_ffff_ffffn, 0xffff_ffff_ffff_fffen, 0x8000_0000_0000_0001n, 0xffff_ffff_8000_0000n, 0x0000_0001_8000_0000n,
];

/** A 64-bit value: an edge value, a small or negative number, or random bits. */
export function intValue(r: Prng): bigint {
  const k = r.int(10);
  if (k < 4) return r.pick(INT_EDGES);
  if (k < 5) return BigInt.asUintN(64, BigInt(r.range(-300, 300)));
  if (k < 6) return BigInt((r.u32() & r.pick([0xff, 0xffff, 0xffff_ffff])) >>> 0);
  return r.u64();
}

export function bytesOf(v: bigint, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return b;
}

const F32_SPECIAL = [
  0x0000_0000, 0x8000_0000, 0x3f80_0000, 0xbf80_0000, 0x7f80_0000, 0xff80_0000, // ±0, ±1, ±inf
  0x7fc0_0000, 0xffc0_0000, 0x7fa0_0001, 0xffa0_0000, 0x7fff_ffff, // QNaN, indefinite, SNaNs, NaN payload
  0x0000_0001, 0x807f_ffff, 0x0080_0000, 0x7f7f_ffff, 0xff7f_ffff, // denormals, min normal, max
  0x4f00_0000, 0xcf00_0000, 0x5f00_0000, 0xdf00_0000, 0x4effffff, // near integer conversion limits
  0x3f00_0000, 0x3fc0_0000, 0x4020_0000, 0xbfc0_0000, 0x3eaa_aaab, // 0.5, 1.5, 2.5, -1.5, 1/3
];
const F64_SPECIAL: bigint[] = [
  0x0n, 0x8000_0000_0000_0000n, 0x3ff0_0000_0000_0000n, 0xbff0_0000_0000_0000n, 0x7ff0_0000_0000_0000n, 0xfff0_0000_0000_0000n,
  0x7ff8_0000_0000_0000n, 0xfff8_0000_0000_0000n, 0x7ff4_0000_0000_0001n, 0xfff0_0000_0000_0001n,
  0x1n, 0x800f_ffff_ffff_ffffn, 0x0010_0000_0000_0000n, 0x7fef_ffff_ffff_ffffn,
  0x41e0_0000_0000_0000n, 0xc1e0_0000_0000_0000n, 0x43e0_0000_0000_0000n, 0xc3e0_0000_0000_0000n, 0x41df_ffff_ffc0_0000n,
  0x3fe0_0000_0000_0000n, 0x3ff8_0000_0000_0000n, 0x4004_0000_0000_0000n, 0x3fd5_5555_5555_5555n,
  0x36a0_0000_0000_0000n, 0x47f0_0000_0000_0000n, // overflow/underflow when narrowed to float
];

const F64_SPECIAL_HALVES = F64_SPECIAL.map((v) => [Number(v & 0xffff_ffffn), Number(v >> 32n)]);

/** 16 bytes of XMM content: lanes of special or random floats (as 32- or 64-bit lanes), or random bytes. */
export function xmmValue(r: Prng): Uint8Array {
  const out = new Uint8Array(16);
  const dv = new DataView(out.buffer);
  const k = r.int(3);
  if (k === 0) {
    for (let i = 0; i < 4; i++) dv.setUint32(4 * i, r.chance(0.6) ? r.pick(F32_SPECIAL) : r.u32(), true);
  } else if (k === 1) {
    for (let i = 0; i < 2; i++) {
      const [lo, hi] = r.chance(0.6) ? r.pick(F64_SPECIAL_HALVES) : [r.u32(), r.u32()];
      dv.setUint32(8 * i, lo, true);
      dv.setUint32(8 * i + 4, hi, true);
    }
  } else {
    for (let i = 0; i < 4; i++) dv.setUint32(4 * i, r.u32(), true);
    if (r.chance(0.3)) for (let i = 0; i < 4; i++) dv.setInt32(4 * i, r.range(-5, 5), true); // small ints for CVTDQ2*
  }
  return out;
}

/** MXCSR: mostly the default, sometimes random rounding/FTZ/DAZ/unmasked exceptions, sticky flags. */
export function mxcsrValue(r: Prng): number {
  let m = 0x1f80;
  if (r.chance(0.5)) m = (m & ~0x6000) | (r.int(4) << 13); // rounding control
  if (r.chance(0.2)) m |= 0x8000; // FTZ
  if (r.chance(0.2)) m |= 0x40; // DAZ
  if (r.chance(0.15)) m &= ~(r.int(64) << 7); // unmask some exceptions: #XM when they occur
  if (r.chance(0.3)) m |= r.int(64); // sticky exception flags already set
  return m;
}
