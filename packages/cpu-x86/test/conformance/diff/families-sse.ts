// SSE/SSE2 families: floating point (packed and scalar, compares, conversions, MXCSR) and integer.
import type { Prng } from '../prng.js';
import type { Built, Form } from './encode.js';
import { onQemu, type Bits, type CpuState, type Patch } from './state.js';
import { bytesOf, mxcsrValue, xmmValue } from './values.js';
import { baseState, f, formFamily, patchAt, SSE_FEATURES } from './family.js';

const SSE_FLOAT_OPS = [0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f];
const sseForms: Form[] = [];
for (const op of SSE_FLOAT_OPS) for (const p of [undefined, 0x66, 0xf3, 0xf2]) sseForms.push(f('0f', op, 'r', 'x', 0, { prefix: p }));
for (const p of [undefined, 0x66, 0xf3, 0xf2]) sseForms.push(f('0f', 0xc2, 'r', 'x', 1, { prefix: p }), f('0f', 0x5a, 'r', 'x', 0, { prefix: p }));
for (const p of [undefined, 0x66]) {
  for (const op of [0x2e, 0x2f, 0x54, 0x55, 0x56, 0x57, 0x14, 0x15, 0x28, 0x29, 0x10, 0x11, 0x12, 0x13, 0x16, 0x17]) sseForms.push(f('0f', op, 'r', 'x', 0, { prefix: p }));
  sseForms.push(f('0f', 0xc6, 'r', 'x', 1, { prefix: p }), f('0f', 0x50, 'r', 'x', 0, { prefix: p, rm: 'reg' }));
}
sseForms.push(f('0f', 0x10, 'r', 'x', 0, { prefix: 0xf3 }), f('0f', 0x11, 'r', 'x', 0, { prefix: 0xf2 }), f('0f', 0x10, 'r', 'x', 0, { prefix: 0xf2 }), f('0f', 0x11, 'r', 'x', 0, { prefix: 0xf3 }));
for (const op of [0x2a, 0x2c, 0x2d]) for (const p of [0xf3, 0xf2]) sseForms.push(f('0f', op, 'r', 'v', 0, { prefix: p }));
sseForms.push(
  f('0f', 0x5b, 'r', 'x', 0), f('0f', 0x5b, 'r', 'x', 0, { prefix: 0x66 }), f('0f', 0x5b, 'r', 'x', 0, { prefix: 0xf3 }),
  f('0f', 0xe6, 'r', 'x', 0, { prefix: 0xf3 }), f('0f', 0xe6, 'r', 'x', 0, { prefix: 0xf2 }), f('0f', 0xe6, 'r', 'x', 0, { prefix: 0x66 }),
  f('0f', 0xae, 2, 'x', 0, { rm: 'mem' }), f('0f', 0xae, 3, 'x', 0, { rm: 'mem' }),
);
// SSE2 integer: moves, arithmetic, compares, logic, shifts, shuffles, packs.
const SSE2_INT_OPS = [
  0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x74, 0x75, 0x76,
  0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
  0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
  0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
];
const sse2IntForms: Form[] = SSE2_INT_OPS.map((op) => f('0f', op, 'r', 'x', 0, { prefix: 0x66 }));
sse2IntForms.push(
  f('0f', 0x6f, 'r', 'x', 0, { prefix: 0x66 }), f('0f', 0x7f, 'r', 'x', 0, { prefix: 0x66 }), f('0f', 0x6f, 'r', 'x', 0, { prefix: 0xf3 }), f('0f', 0x7f, 'r', 'x', 0, { prefix: 0xf3 }),
  f('0f', 0x6e, 'r', 'v', 0, { prefix: 0x66 }), f('0f', 0x7e, 'r', 'v', 0, { prefix: 0x66 }), f('0f', 0x7e, 'r', 'x', 0, { prefix: 0xf3 }), f('0f', 0xd6, 'r', 'x', 0, { prefix: 0x66 }),
  f('0f', 0x70, 'r', 'x', 1, { prefix: 0x66 }), f('0f', 0x70, 'r', 'x', 1, { prefix: 0xf3 }), f('0f', 0x70, 'r', 'x', 1, { prefix: 0xf2 }),
  f('0f', 0x71, 2, 'x', 1, { prefix: 0x66, rm: 'reg' }), f('0f', 0x71, 4, 'x', 1, { prefix: 0x66, rm: 'reg' }), f('0f', 0x71, 6, 'x', 1, { prefix: 0x66, rm: 'reg' }),
  f('0f', 0x72, 2, 'x', 1, { prefix: 0x66, rm: 'reg' }), f('0f', 0x72, 4, 'x', 1, { prefix: 0x66, rm: 'reg' }), f('0f', 0x72, 6, 'x', 1, { prefix: 0x66, rm: 'reg' }),
  f('0f', 0x73, 2, 'x', 1, { prefix: 0x66, rm: 'reg' }), f('0f', 0x73, 3, 'x', 1, { prefix: 0x66, rm: 'reg' }), f('0f', 0x73, 6, 'x', 1, { prefix: 0x66, rm: 'reg' }), f('0f', 0x73, 7, 'x', 1, { prefix: 0x66, rm: 'reg' }),
  f('0f', 0xd7, 'r', 'x', 0, { prefix: 0x66, rm: 'reg' }), f('0f', 0xc5, 'r', 'x', 1, { prefix: 0x66, rm: 'reg' }), f('0f', 0xc4, 'r', 'x', 1, { prefix: 0x66 }),
  f('0f', 0xc3, 'r', 'v', 0, { rm: 'mem' }), f('0f', 0x2b, 'r', 'x', 0, { rm: 'mem' }), f('0f', 0xe7, 'r', 'x', 0, { prefix: 0x66, rm: 'mem' }),
  // Fences (no architectural effect) and prefetches, which never fault, even on a bad address.
  f('0f', 0xae, 5, 'x', 0, { rm: 'reg' }), f('0f', 0xae, 6, 'x', 0, { rm: 'reg' }), f('0f', 0xae, 7, 'x', 0, { rm: 'reg' }),
  f('0f', 0x18, 0, 'x', 0, { rm: 'mem' }), f('0f', 0x18, 1, 'x', 0, { rm: 'mem' }), f('0f', 0x18, 2, 'x', 0, { rm: 'mem' }), f('0f', 0x18, 3, 'x', 0, { rm: 'mem' }),
);

// 32-bit cases run on QEMU, whose TCG SSE never raises #XM: an unmasked SIMD exception only sets its
// MXCSR flag there. Those cases keep all exceptions masked (the 64-bit ones test #XM on the host).
const qemuMxcsr = (v: number, bits: Bits) => (onQemu(bits) ? v | 0x1f80 : v);
const sseState = (r: Prng, bits: Bits): CpuState => ({ ...baseState(r, bits), mxcsr: qemuMxcsr(mxcsrValue(r), bits) });

/** Memory operands of SSE forms: patch 16 bytes of float specials; LDMXCSR gets a plausible MXCSR. */
function setupSse(r: Prng, form: Form, built: Built, st: CpuState, patches: Patch[], bits: Bits): void {
  // QEMU's MIN/MAX compare DAZ-flushed inputs but return the unflushed denormal operand (the SDM: the
  // flushed zero): 32-bit cases, which run on QEMU, test them without DAZ.
  if (onQemu(bits) && form.map === '0f' && (form.op === 0x5d || form.op === 0x5f)) st.mxcsr &= ~0x40;
  if (onQemu(bits) && form.op >= 0x58 && form.op <= 0x5f) {
    // QEMU's softfloat picks the NaN with the larger significand when both operands are NaNs (the
    // x87 rule); SSE returns the first source operand (SDM vol. 1, 4.8.3.5, table 4-7). 32-bit cases,
    // which run on QEMU, never put NaNs in both operands of a lane.
    const src = built.rmReg !== undefined ? st.xmm[built.rmReg] : xmmValue(r);
    if (built.rmReg === undefined) patchAt(patches, built.ea!, src);
    if (built.rmReg !== built.regOperand) noDoubleNans(st.xmm[built.regOperand], src);
    return;
  }
  if (built.ea === undefined) return;
  if (form.op === 0xae) {
    // A reserved bit gives #GP; not bit 17, which AMD defines (MM, misaligned SSE) and Westmere does not.
    // (Not in 32-bit cases: QEMU's LDMXCSR ignores reserved bits instead of raising #GP.)
    const v = qemuMxcsr(r.chance(onQemu(bits) ? 1 : 0.9) ? mxcsrValue(r) : mxcsrValue(r) | (1 << r.pick([16, 18, 19, 20, 24, 28, 31])), bits);
    patchAt(patches, built.ea, bytesOf(BigInt(v >>> 0), 4));
  } else if (r.chance(0.7)) patchAt(patches, built.ea, xmmValue(r));
}

/** Replace lanes of `src` (as floats and as doubles) that are NaN where `dst` is NaN too, with 1.0. */
function noDoubleNans(dst: Uint8Array, src: Uint8Array): void {
  const d = new DataView(dst.buffer, dst.byteOffset, 16), v = new DataView(src.buffer, src.byteOffset, 16);
  const nan32 = (x: DataView, i: number) => (x.getUint32(4 * i, true) & 0x7fff_ffff) > 0x7f80_0000;
  const nan64 = (x: DataView, i: number) => {
    const hi = x.getUint32(8 * i + 4, true) & 0x7fff_ffff;
    return hi > 0x7ff0_0000 || (hi === 0x7ff0_0000 && x.getUint32(8 * i, true) !== 0);
  };
  for (let i = 0; i < 4; i++) if (nan32(d, i) && nan32(v, i)) v.setUint32(4 * i, 0x3f80_0000, true);
  for (let i = 0; i < 2; i++) {
    if (nan64(d, i) && nan64(v, i)) { v.setUint32(8 * i, 0, true); v.setUint32(8 * i + 4, 0x3ff0_0000, true); }
  }
}

// 16-byte aligned by default (pickTarget misaligns some on purpose: #GP for aligned forms).
const sseAlign = () => 16;

// QEMU 7.2's TCG checks the 16-byte alignment of legacy-SSE m128 operands only for some instructions
// (not for ORPS/ANDPS/..., nor the m128 shift count of PSRL/PSRA/PSLL), where the SDM requires #GP(0)
// for all but the unaligned moves: 32-bit cases, which run on QEMU, keep memory operands aligned.
// (The 64-bit cases test the alignment faults against the host CPU.)
const qemuAlignOk = (_form: Form, built: Built, _st: CpuState, bits: Bits) => !onQemu(bits) || built.ea === undefined || (built.ea & 15n) === 0n;


export const sseFloatFamily = formFamily('sse-float', sseForms, undefined, { state: sseState, setup: setupSse, align: sseAlign, check: qemuAlignOk, features: SSE_FEATURES, modes: [64, 32, 16] });
export const sseIntFamily = formFamily('sse-int', sse2IntForms, undefined, { state: sseState, setup: setupSse, align: sseAlign, check: qemuAlignOk, features: SSE_FEATURES, modes: [64, 32, 16] });
