// x87: the CPU API has no x87 accessors, so each case carries its x87 state in memory:
//   FXRSTOR [IN] ; instruction under test ; FXSAVE [OUT]
// Both sides load the same image and the saved image lands in the window, where it is compared (with
// the vendor- and instruction-dependent parts masked, see fxsaveMask in undefined.ts).
import type { Prng } from '../prng.js';
import { build, pickTarget, type Form } from './encode.js';
import { WINDOW_BASE } from './layout.js';
import type { Patch } from './state.js';
import { bytesOf, intValue, xmmValue } from './values.js';
import { baseState, f, patchAt, type Family } from './family.js';

const IN = 0xe000; // window offsets, 16-byte aligned as FXRSTOR/FXSAVE require
const OUT = 0xe200;

/** FXRSTOR/FXSAVE [disp32] (ModRM with a SIB that has no base and no index: absolute in both modes). */
const absolute = (reg: number, offset: number) => [0x0f, 0xae, (reg << 3) | 4, 0x25, ...bytesOf(BigInt(WINDOW_BASE + offset), 4)];

/** A valid 80-bit extended value: normal, integral, zero, denormal, infinity or NaN (no unnormals). */
export function ext80(r: Prng): Uint8Array {
  const sign = r.chance(0.5) ? 0x8000 : 0;
  const random63 = () => r.u64() & ((1n << 63n) - 1n);
  const J = 1n << 63n; // the explicit integer bit
  let exp: number, mant: bigint;
  const k = r.int(10);
  if (k < 4) { exp = 0x3fff + r.range(-20, 20); mant = J | random63(); }
  else if (k < 6) { const e = r.int(40); exp = 0x3fff + e; mant = (J | random63()) & ~((1n << BigInt(63 - e)) - 1n); } // an integer
  else if (k === 6) { exp = 0; mant = 0n; }
  else if (k === 7) { exp = 0; mant = random63(); } // denormal
  else if (k === 8) { exp = 0x7fff; mant = J; } // infinity
  else { exp = 0x7fff; mant = J | (r.chance(0.5) ? 1n << 62n : 0n) | random63() | 1n; } // QNaN or SNaN
  const out = bytesOf(mant, 10);
  out[8] = exp & 0xff;
  out[9] = ((sign | exp) >> 8) & 0xff;
  return out;
}

/** The FXSAVE image FXRSTOR loads: random control/status/tag words and stack, the case's XMM. */
export function fxImage(r: Prng, xmm: Uint8Array[]): Uint8Array {
  const img = new Uint8Array(512);
  const dv = new DataView(img.buffer);
  let fcw = 0x037f;
  if (r.chance(0.5)) fcw = (fcw & ~0x0c00) | (r.int(4) << 10); // rounding control
  if (r.chance(0.3)) fcw = (fcw & ~0x0300) | (r.pick([0, 2, 3]) << 8); // precision control
  if (r.chance(0.1)) fcw &= ~r.int(64); // unmask some exceptions: they only set ES here (FXSAVE does not wait)
  const masked = fcw & 0x3f;
  const fsw = (r.int(8) << 11) | (r.int(8) << 8) | (r.chance(0.5) ? 0x4000 : 0) | (r.int(64) & masked); // TOP, C0-C3, masked sticky flags
  dv.setUint16(0, fcw, true);
  dv.setUint16(2, fsw, true);
  img[4] = r.chance(0.7) ? 0xff : r.int(256); // abridged tag: mostly a full stack
  dv.setUint32(24, 0x1f80, true); // MXCSR
  for (let i = 0; i < 8; i++) img.set(ext80(r), 32 + 16 * i);
  for (let i = 0; i < 16; i++) img.set(xmm[i], 160 + 16 * i);
  return img;
}

// Memory forms (/digit of D8-DF) and register forms (second byte ranges), documented opcodes only;
// the transcendental instructions (F2XM1, FYL2X, FPTAN, FPATAN, FYL2XP1, FSINCOS, FSIN, FCOS) are left
// out: their last-bit accuracy differs between implementations.
const MEM_FORMS: [number, number[]][] = [
  [0xd8, [0, 1, 2, 3, 4, 5, 6, 7]], [0xdc, [0, 1, 2, 3, 4, 5, 6, 7]], [0xda, [0, 1, 2, 3, 4, 5, 6, 7]], [0xde, [0, 1, 2, 3, 4, 5, 6, 7]],
  [0xd9, [0, 2, 3, 5, 7]], [0xdd, [0, 2, 3]], [0xdb, [0, 2, 3, 5, 7]], [0xdf, [0, 2, 3, 4, 5, 6, 7]],
];
const REG_FORMS: [number, number, number][] = [
  [0xd8, 0xc0, 0xff], [0xdc, 0xc0, 0xcf], [0xdc, 0xe0, 0xff], [0xde, 0xc0, 0xcf], [0xde, 0xd9, 0xd9], [0xde, 0xe0, 0xff],
  [0xd9, 0xc0, 0xcf], [0xd9, 0xd0, 0xd0], [0xd9, 0xe0, 0xe1], [0xd9, 0xe4, 0xe5], [0xd9, 0xe8, 0xee], [0xd9, 0xf4, 0xf8], [0xd9, 0xfa, 0xfa],
  [0xd9, 0xfc, 0xfd], [0xdd, 0xc0, 0xc7], [0xdd, 0xd0, 0xdf], [0xdd, 0xe0, 0xef], [0xda, 0xc0, 0xdf], [0xda, 0xe9, 0xe9],
  [0xdb, 0xc0, 0xdf], [0xdb, 0xe2, 0xe3], [0xdb, 0xe8, 0xf7], [0xdf, 0xe0, 0xe0], [0xdf, 0xe8, 0xf7],
];

/** Operand bytes for a memory form: its size follows from the opcode and /digit. */
function memOperand(r: Prng, op: number, digit: number): Uint8Array {
  const fp32 = () => xmmValue(r).subarray(0, 4), fp64 = () => xmmValue(r).subarray(0, 8);
  if (op === 0xd8 || (op === 0xd9 && digit === 0)) return fp32();
  if (op === 0xdc || (op === 0xdd && digit === 0)) return fp64();
  if (op === 0xdb && digit === 5) return ext80(r);
  if (op === 0xdf && digit === 4) { // FBLD: 18 packed BCD digits and a sign byte
    const b = new Uint8Array(10);
    for (let i = 0; i < 9; i++) b[i] = (r.int(10) << 4) | r.int(10);
    b[9] = r.chance(0.5) ? 0x80 : 0;
    return b;
  }
  if (op === 0xd9 && digit === 5) return bytesOf(BigInt(0x0300 | (r.int(4) << 10) | 0x7f), 2); // FLDCW: masks set
  const n = op === 0xda || op === 0xdb ? 4 : op === 0xde ? 2 : digit === 5 || digit === 7 ? 8 : 2;
  return bytesOf(intValue(r), n);
}

export const x87Family: Family = {
  name: 'x87',
  features: new Set(['FPU', 'FPU387', 'FXSR', 'CMOV']),
  modes: [64, 32],
  generate(r, bits) {
    const st = baseState(r);
    const patches: Patch[] = [{ offset: IN, bytes: fxImage(r, st.xmm) }];
    let test: number[];
    let ea: bigint | undefined;
    if (r.chance(0.5)) {
      const [op, digits] = r.pick(MEM_FORMS);
      const digit = r.pick(digits);
      const form: Form = f('', op, digit, 'x', 0, { rm: 'mem' });
      const built = build(r, form, pickTarget(r, 8, bits === 64), false, bits);
      if (!built) return undefined;
      for (const [reg, v] of built.regs) st.gpr[reg] = v;
      if (built.ea !== undefined && r.chance(0.8)) patchAt(patches, built.ea, memOperand(r, op, digit));
      test = [...built.bytes];
      ea = built.ea;
    } else {
      const [op, lo, hi] = r.pick(REG_FORMS);
      test = [op, r.range(lo, hi)];
    }
    const code = Uint8Array.from([...absolute(1, IN), ...test, ...absolute(0, OUT)]);
    return { code, state: st, patches, ea, focus: 1, fxsaveAt: OUT };
  },
};
