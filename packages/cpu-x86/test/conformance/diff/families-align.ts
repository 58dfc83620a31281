// #AC (alignment check) for x87, SSE and integer memory forms: EFLAGS.AC is set in the initial RFLAGS of
// most cases (both sides run at CPL 3 with CR0.AM=1: Linux sets it on the host, guest.ts on the CPU) and
// the operand sits at a random small offset from a 64-byte boundary. About one case in six is misaligned
// for its form's alignment unit (#AC(0), or #GP(0) for the forms that require 16-byte alignment); the
// others are aligned to the unit but often not to the access pieces (FNSAVE at 4 mod 8, MOVSD at 8 mod
// 16, ...), or run with AC clear.
//   FXRSTOR [IN] ; instruction under test ; FXSAVE [OUT]
// The units are the host's (AMD EPYC, measured with SIGBUS; table in test/unit/alignment-check.test.ts).
// 64-bit only: the 32-bit reference is QEMU TCG, which does not implement #AC at all.
import type { Prng } from '../prng.js';
import { WINDOW_BASE } from './layout.js';
import type { Patch } from './state.js';
import { bytesOf, intValue, xmmValue } from './values.js';
import { baseState, RDI, type Family } from './family.js';
import { ext80, fxImage } from './families-x87.js';
import { fxsaveMask } from './undefined.js';

const IN = 0xe000;
const OUT = 0xe200;
const AREA = 0xc000; // operands: AREA + 64 * k + offset (an FNSAVE image is 108 bytes)
const AC = 0x40000;

interface AlignForm {
  /** Bytes before the ModRM (prefixes, REX, opcode). */
  op: number[];
  /** ModRM reg field (/digit or a register number chosen at random when undefined). */
  digit?: number;
  imm?: number[];
  /** Alignment unit for #AC (host); `gp`: the form #GPs below 16-byte alignment. */
  unit: number;
  gp?: boolean;
  /** Operand bytes to patch at the address (loads); default: random bytes of `size`. */
  size: number;
  operand?: (r: Prng) => Uint8Array;
  /** Stored images whose pointer fields (bytes [from, to)) are vendor-specific: not compared. */
  pointers?: [number, number];
}

const fp32 = (r: Prng) => xmmValue(r).subarray(0, 4);
const fp64 = (r: Prng) => xmmValue(r).subarray(0, 8);
const bcd = (r: Prng) => {
  const b = new Uint8Array(10);
  for (let i = 0; i < 9; i++) b[i] = (r.int(10) << 4) | r.int(10);
  b[9] = r.chance(0.5) ? 0x80 : 0;
  return b;
};
/** An FLDENV/FRSTOR image: masks set (nothing pending), random tags and pointers, then the registers. */
function envImage(r: Prng, small: boolean, regs: boolean): Uint8Array {
  const env = small ? 14 : 28, step = small ? 2 : 4;
  const img = new Uint8Array(env + (regs ? 80 : 0));
  const dv = new DataView(img.buffer);
  for (let i = 0; i < env; i++) img[i] = r.int(256);
  dv.setUint16(0, 0x037f | (r.int(4) << 10), true);
  dv.setUint16(step, r.int(0x10000) & 0x7f00, true); // TOP and condition codes; no exception flags
  dv.setUint16(2 * step, r.int(0x10000), true);
  for (let i = 0; regs && i < 8; i++) img.set(ext80(r), env + 10 * i);
  return img;
}

const x87 = (op: number, digit: number, unit: number, size: number, operand?: AlignForm['operand']): AlignForm => ({ op: [op], digit, unit, size, operand });
const sse = (op: number[], unit: number, size: number, extra: Partial<AlignForm> = {}): AlignForm => ({ op, unit, size, ...extra });

const FORMS: AlignForm[] = [
  // x87 loads, arithmetic and stores: m16 2, m32 4, m64 8, m80 8 (not 16)
  x87(0xd9, 0, 4, 4, fp32), x87(0xdd, 0, 8, 8, fp64), x87(0xdb, 5, 8, 10, ext80), x87(0xdf, 0, 2, 2), x87(0xdb, 0, 4, 4),
  x87(0xdf, 5, 8, 8), x87(0xdf, 4, 8, 10, bcd), x87(0xd8, 0, 4, 4, fp32), x87(0xdc, 1, 8, 8, fp64), x87(0xde, 0, 2, 2),
  x87(0xda, 4, 4, 4), x87(0xd8, 3, 4, 4, fp32), x87(0xdc, 2, 8, 8, fp64),
  x87(0xd9, 2, 4, 4), x87(0xdd, 3, 8, 8), x87(0xdb, 7, 8, 10), x87(0xdf, 2, 2, 2), x87(0xdb, 3, 4, 4), x87(0xdf, 7, 8, 8),
  x87(0xdf, 6, 8, 10), // (FISTTP is SSE3: #UD on the CPU's model)
  // control: FLDCW/FNSTCW/FNSTSW m16; environment (28/14 bytes) and state (108/94 bytes) images: 4 or 2
  x87(0xd9, 5, 2, 2, (r) => bytesOf(BigInt(0x037f | (r.int(4) << 10)), 2)), x87(0xd9, 7, 2, 2), x87(0xdd, 7, 2, 2),
  { ...x87(0xd9, 6, 4, 28), pointers: [12, 28] }, { op: [0x66, 0xd9], digit: 6, unit: 2, size: 14, pointers: [6, 14] },
  { ...x87(0xd9, 4, 4, 28, (r) => envImage(r, false, false)) }, { op: [0x66, 0xd9], digit: 4, unit: 2, size: 14, operand: (r) => envImage(r, true, false) },
  { ...x87(0xdd, 6, 4, 108), pointers: [12, 28] }, { op: [0x66, 0xdd], digit: 6, unit: 2, size: 94, pointers: [6, 14] },
  { ...x87(0xdd, 4, 4, 108, (r) => envImage(r, false, true)) }, { op: [0x66, 0xdd], digit: 4, unit: 2, size: 94, operand: (r) => envImage(r, true, true) },
  // SSE scalar, conversions, 64-bit halves: their operand size
  sse([0xf3, 0x0f, 0x10], 4, 4, { operand: fp32 }), sse([0xf3, 0x0f, 0x11], 4, 4), sse([0xf2, 0x0f, 0x10], 8, 8, { operand: fp64 }), sse([0xf2, 0x0f, 0x11], 8, 8),
  sse([0xf3, 0x0f, 0x58], 4, 4, { operand: fp32 }), sse([0xf2, 0x0f, 0x59], 8, 8, { operand: fp64 }), sse([0x0f, 0x2e], 4, 4, { operand: fp32 }), sse([0x66, 0x0f, 0x2f], 8, 8, { operand: fp64 }),
  sse([0xf3, 0x0f, 0x5a], 4, 4, { operand: fp32 }), sse([0xf2, 0x0f, 0x5a], 8, 8, { operand: fp64 }), sse([0xf3, 0x0f, 0x2a], 4, 4), sse([0xf2, 0x48, 0x0f, 0x2a], 8, 8),
  sse([0xf3, 0x0f, 0x2c], 4, 4, { operand: fp32 }), sse([0xf2, 0x48, 0x0f, 0x2d], 8, 8, { operand: fp64 }), sse([0x0f, 0x5a], 8, 8), sse([0xf3, 0x0f, 0xe6], 8, 8),
  sse([0x66, 0x0f, 0x6e], 4, 4), sse([0x66, 0x0f, 0x7e], 4, 4), sse([0xf3, 0x0f, 0x7e], 8, 8), sse([0x66, 0x0f, 0xd6], 8, 8), sse([0x66, 0x48, 0x0f, 0x6e], 8, 8), sse([0x66, 0x48, 0x0f, 0x7e], 8, 8),
  sse([0x0f, 0x12], 8, 8), sse([0x0f, 0x13], 8, 8), sse([0x0f, 0x16], 8, 8), sse([0x0f, 0x17], 8, 8), sse([0x66, 0x0f, 0x12], 8, 8), sse([0x66, 0x0f, 0x17], 8, 8),
  // unaligned 16-byte forms: #AC below 16 (AMD leaves them unchecked only with MXCSR.MM, which is clear)
  sse([0x0f, 0x10], 16, 16), sse([0x0f, 0x11], 16, 16), sse([0x66, 0x0f, 0x10], 16, 16), sse([0x66, 0x0f, 0x11], 16, 16), sse([0xf3, 0x0f, 0x6f], 16, 16), sse([0xf3, 0x0f, 0x7f], 16, 16),
  // aligned 16-byte forms: #GP(0) wins over #AC
  sse([0x0f, 0x28], 16, 16, { gp: true }), sse([0x66, 0x0f, 0x29], 16, 16, { gp: true }), sse([0x66, 0x0f, 0x6f], 16, 16, { gp: true }), sse([0x0f, 0x2b], 16, 16, { gp: true }),
  sse([0x66, 0x0f, 0xe7], 16, 16, { gp: true }), sse([0x0f, 0x58], 16, 16, { gp: true, operand: (r) => xmmValue(r) }), sse([0x66, 0x0f, 0x70], 16, 16, { gp: true, imm: [0x1b] }),
  // MXCSR, MOVNTI, FXSAVE/FXRSTOR (#AC below 4, #GP below 16)
  { op: [0x0f, 0xae], digit: 2, unit: 4, size: 4, operand: (r) => bytesOf(BigInt(0x1f80 | (r.int(4) << 13) | r.int(64)), 4) }, { op: [0x0f, 0xae], digit: 3, unit: 4, size: 4 },
  sse([0x0f, 0xc3], 4, 4), sse([0x48, 0x0f, 0xc3], 8, 8),
  { op: [0x0f, 0xae], digit: 0, unit: 4, gp: true, size: 512 }, { op: [0x48, 0x0f, 0xae], digit: 0, unit: 4, gp: true, size: 512 },
  // integer, for reference: operand size; CMPXCHG8B 8, CMPXCHG16B #GP below 16
  sse([0x8b], 4, 4), sse([0x48, 0x89], 8, 8), sse([0x66, 0x8b], 2, 2), sse([0x0f, 0xc7], 8, 8, { digit: 1 }), sse([0x48, 0x0f, 0xc7], 16, 16, { digit: 1, gp: true }),
];
/** MASKMOVDQU xmm, xmm stores to [RDI]: #AC below 8-byte alignment, whatever the mask. */
const MASKMOV: AlignForm = { op: [0x66, 0x0f, 0xf7], unit: 8, size: 16 };
/** FXRSTOR images are loaded through the image at IN, so that form only runs aligned (see below). */
const FXRSTOR: AlignForm = { op: [0x0f, 0xae], digit: 1, unit: 4, gp: true, size: 512 };

/** An offset from a 64-byte boundary: misaligned for `unit` (`bad`), or a multiple of it below 16. */
function pickOffset(r: Prng, unit: number, bad: boolean): number {
  if (!bad) return unit >= 16 ? 0 : unit * r.int(16 / unit);
  let off;
  do off = r.int(16); while (off % unit === 0);
  return off;
}

export const alignFamily: Family = {
  name: 'align',
  features: new Set(['FPU', 'FPU387', 'FXSR', 'SSE', 'SSE2', 'X64', 'CX8', 'CMPXCHG16B', 'INTEL386', 'INTEL8086']),
  modes: [64],
  generate(r) {
    const st = baseState(r);
    const withAc = r.chance(0.85);
    if (withAc) st.rflags |= AC;
    const form = r.chance(0.04) ? MASKMOV : r.chance(0.02) ? FXRSTOR : r.pick(FORMS);
    // #AC/#GP cases stay a minority (diff.test.ts wants most cases to complete on the host).
    const bad = r.chance(0.15);
    const off = pickOffset(r, form.gp ? 16 : form.unit, bad); // gp forms: any misalignment (#AC or #GP)
    // A few operands start below the window, in unmapped memory, and end inside it: #AC (misaligned)
    // comes before that #PF on the host.
    const cross = r.chance(0.05);
    const at = cross ? -1 - r.int(Math.min(form.size, 64) - 1) : AREA + 64 * r.int(16) + off;
    const addr = BigInt(WINDOW_BASE + at);
    const img = fxImage(r, st.xmm);
    // Exceptions masked and nothing pending, ST(7) empty, ST(0) valid: loads push, stores store.
    const dv = new DataView(img.buffer);
    const top = r.int(8);
    dv.setUint16(0, dv.getUint16(0, true) | 0x3f, true);
    dv.setUint16(2, (top << 11) | (r.int(8) << 8), true);
    img[4] = 0xff & ~(1 << ((top + 7) & 7));
    const patches: Patch[] = [{ offset: IN, bytes: img }];
    if (cross) { /* nothing to load: the operand's first byte is unmapped */ }
    else if (form === FXRSTOR) patches.push({ offset: at, bytes: img.slice() });
    else patches.push({ offset: at, bytes: form.operand ? form.operand(r) : bytesOf(intValue(r), Math.min(form.size, 8)) });
    let test: number[];
    if (form === MASKMOV) {
      st.gpr[RDI] = addr;
      test = [...form.op, 0xc0 | (r.int(8) << 3) | r.int(8)];
    } else {
      const reg = form.digit ?? r.int(4); // RAX..RBX / XMM0..XMM3: never RSP
      test = [...form.op, (reg << 3) | 4, 0x25, ...bytesOf(addr, 4), ...(form.imm ?? [])];
    }
    const masks = [];
    if (form.pointers && !cross) for (let i = form.pointers[0]; i < form.pointers[1]; i++) masks.push({ offset: at + i, mask: 0 });
    if (form.size === 512 && form !== FXRSTOR && !cross) {
      masks.push(...fxsaveMask(at, 'Fxsave'));
      for (let i = 416; i < 512; i++) masks.push({ offset: at + i, mask: 0 }); // reserved and available bytes
    }
    const absolute = (digit: number, offset: number) => [0x0f, 0xae, (digit << 3) | 4, 0x25, ...bytesOf(BigInt(WINDOW_BASE + offset), 4)];
    const code = Uint8Array.from([...absolute(1, IN), ...test, ...absolute(0, OUT)]);
    return { code, state: st, patches, ea: addr, focus: 1, fxsaveAt: OUT, masks };
  },
};

