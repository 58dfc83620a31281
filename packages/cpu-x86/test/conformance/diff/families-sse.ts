// SSE/SSE2 families: floating point (packed and scalar, compares, conversions, MXCSR) and integer.
import type { Prng } from '../prng.js';
import type { Built, Form } from './encode.js';
import type { CpuState, Patch } from './state.js';
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

const sseState = (r: Prng): CpuState => ({ ...baseState(r), mxcsr: mxcsrValue(r) });

/** Memory operands of SSE forms: patch 16 bytes of float specials; LDMXCSR gets a plausible MXCSR. */
function setupSse(r: Prng, form: Form, built: Built, st: CpuState, patches: Patch[]): void {
  void st;
  if (built.ea === undefined) return;
  if (form.op === 0xae) {
    // A reserved bit gives #GP; not bit 17, which AMD defines (MM, misaligned SSE) and Westmere does not.
    const v = r.chance(0.9) ? mxcsrValue(r) : mxcsrValue(r) | (1 << r.pick([16, 18, 19, 20, 24, 28, 31]));
    patchAt(patches, built.ea, bytesOf(BigInt(v >>> 0), 4));
  } else if (r.chance(0.7)) patchAt(patches, built.ea, xmmValue(r));
}

// 16-byte aligned by default (pickTarget misaligns some on purpose: #GP for aligned forms).
const sseAlign = () => 16;


export const sseFloatFamily = formFamily('sse-float', sseForms, undefined, { state: sseState, setup: setupSse, align: sseAlign, features: SSE_FEATURES });
export const sseIntFamily = formFamily('sse-int', sse2IntForms, undefined, { state: sseState, setup: setupSse, align: sseAlign, features: SSE_FEATURES });
