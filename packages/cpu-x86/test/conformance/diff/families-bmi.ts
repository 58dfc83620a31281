// The extensions of the `max` CPU model against the host (which has them all): MOVBE, TZCNT/LZCNT,
// the VEX-encoded BMI1/BMI2 groups and RDRAND/RDSEED, plus BSF/BSR/POPCNT/BSWAP next to them (family
// `bmi`), and XSAVE/XSAVEOPT/XRSTOR of the x87 and SSE components (family `xsave`). The interpreter
// runs these cases as `-cpu max` (Family.model). VEX encodings are made from a
// legacy build (random ModRM/SIB/REX addressing) by moving REX.RXBW and the opcode map into a C4/C5
// prefix and adding vvvv.
import type { Prng } from '../prng.js';
import { build, pickTarget, type Built, type Form } from './encode.js';
import { baseState, f, patchAt, RSP, type Draft, type Family } from './family.js';
import { CODE_BASE, WINDOW_BASE } from './layout.js';
import type { CpuState } from './state.js';
import { bytesOf, intValue } from './values.js';

const MASK64 = (1n << 64n) - 1n;
const FEATURES = new Set(['INTEL386', 'INTEL486', 'X64', 'MOVBE', 'LZCNT', 'BMI1', 'BMI2', 'RDRAND', 'RDSEED', 'POPCNT']);
const MNEMONICS = [
  'Tzcnt', 'Lzcnt', 'Bsf', 'Bsr', 'Popcnt', 'Bswap', 'Movbe', 'Andn', 'Bextr', 'Blsi', 'Blsmsk', 'Blsr', 'Bzhi', 'Mulx',
  'Pdep', 'Pext', 'Rorx', 'Sarx', 'Shlx', 'Shrx', 'Rdrand', 'Rdseed',
  // the RDRAND/RDSEED check sequence around the instruction
  'Mov', 'Pushfq', 'Cmp', 'Setne', 'And', 'Shr', 'Xor', 'Add',
];

/** Values for bit-manipulation sources: edges, single bits, low/high masks, random. */
function bitValue(r: Prng): bigint {
  switch (r.int(6)) {
    case 0: return 1n << BigInt(r.int(64));
    case 1: return (1n << BigInt(r.int(65))) - 1n; // low mask (0 .. all ones)
    case 2: return (MASK64 << BigInt(r.int(64))) & MASK64; // high mask
    case 3: return r.pick([0n, MASK64, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x8000_0000_0000_0000n]);
    default: return intValue(r);
  }
}

/** A count/index/control byte pattern: small, around the widths, or anything up to 255 (+ junk above). */
function countValue(r: Prng): bigint {
  const k = r.int(4);
  const low = k === 0 ? r.int(8) : k === 1 ? r.pick([15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255]) : r.int(256);
  return r.chance(0.3) ? (intValue(r) & ~0xffn) | BigInt(low) : BigInt(low);
}

/** BEXTR control: start in bits 7:0, length in 15:8 (either may pass the operand width). */
function bextrControl(r: Prng): bigint {
  const v = (countValue(r) & 0xffn) | ((countValue(r) & 0xffn) << 8n);
  return r.chance(0.3) ? (intValue(r) & ~0xffffn) | v : v;
}

function setSource(r: Prng, built: Built, st: CpuState, patches: Draft['patches'], v: bigint): void {
  if (built.rmReg !== undefined) st.gpr[built.rmReg] = v;
  else if (built.ea !== undefined && r.chance(0.9)) patchAt(patches, built.ea, bytesOf(v, 8));
}

// ---- legacy forms: TZCNT/LZCNT, BSF/BSR, POPCNT, BSWAP, MOVBE

const LEGACY: Form[] = [
  f('0f', 0xbc, 'r', 'v', 0, { prefix: 0xf3 }), f('0f', 0xbd, 'r', 'v', 0, { prefix: 0xf3 }),
  f('0f', 0xbc, 'r', 'v', 0), f('0f', 0xbd, 'r', 'v', 0), f('0f', 0xb8, 'r', 'v', 0, { prefix: 0xf3 }),
  f('0f', 0xc8, 'none', 'x', 0, { plusReg: true }), f('0f', 0xc8, 'none', 'w', 0, { plusReg: true }),
  f('0f38', 0xf0, 'r', 'v', 0, { rm: 'mem' }), f('0f38', 0xf1, 'r', 'v', 0, { rm: 'mem' }),
];

function legacyCase(r: Prng): Draft | undefined {
  const form = r.pick(LEGACY);
  const built = build(r, form, pickTarget(r, 1, true), false, 64);
  if (!built) return undefined;
  const st = baseState(r);
  const patches: Draft['patches'] = [];
  if (form.map === '0f38') {
    // MOVBE: random memory or register value, both directions
    if (built.ea !== undefined && r.chance(0.7)) patchAt(patches, built.ea, bytesOf(intValue(r), 8));
  } else if (!form.plusReg) {
    setSource(r, built, st, patches, bitValue(r));
  }
  for (const [reg, v] of built.regs) st.gpr[reg] = v;
  return { code: built.bytes, state: st, patches, ea: built.ea };
}

// ---- VEX forms

interface VexForm {
  map: 2 | 3;
  op: number;
  pp: 0 | 1 | 2 | 3;
  /** ModRM.reg digit (group 17), else 'r'. */
  digit?: number;
  /** vvvv role: 'src' (a value operand), 'ctl' (count/index/control), 'dst' (written only), 'none' (1111). */
  vvvv: 'src' | 'ctl' | 'bextr' | 'dst' | 'none';
  imm?: boolean;
}

const VEX: VexForm[] = [
  { map: 2, op: 0xf2, pp: 0, vvvv: 'src' }, // ANDN
  { map: 2, op: 0xf3, pp: 0, digit: 1, vvvv: 'dst' }, // BLSR
  { map: 2, op: 0xf3, pp: 0, digit: 2, vvvv: 'dst' }, // BLSMSK
  { map: 2, op: 0xf3, pp: 0, digit: 3, vvvv: 'dst' }, // BLSI
  { map: 2, op: 0xf5, pp: 0, vvvv: 'ctl' }, // BZHI
  { map: 2, op: 0xf5, pp: 2, vvvv: 'src' }, // PEXT
  { map: 2, op: 0xf5, pp: 3, vvvv: 'src' }, // PDEP
  { map: 2, op: 0xf6, pp: 3, vvvv: 'dst' }, // MULX
  { map: 2, op: 0xf7, pp: 0, vvvv: 'bextr' }, // BEXTR
  { map: 2, op: 0xf7, pp: 1, vvvv: 'ctl' }, // SHLX
  { map: 2, op: 0xf7, pp: 2, vvvv: 'ctl' }, // SARX
  { map: 2, op: 0xf7, pp: 3, vvvv: 'ctl' }, // SHRX
  { map: 3, op: 0xf0, pp: 3, vvvv: 'none', imm: true }, // RORX
];

const LEGACY_PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x67]);

/** Turn a legacy 0F38/0F3A build into its VEX form: [seg/67] C4|C5 ... opcode ModRM ... */
function toVex(built: Built, form: VexForm, w: boolean, vreg: number): Uint8Array | undefined {
  const b = built.bytes;
  let p = 0;
  const pre: number[] = [];
  while (LEGACY_PREFIXES.has(b[p])) pre.push(b[p++]);
  let rex = 0;
  if ((b[p] & 0xf0) === 0x40) rex = b[p++];
  if (b[p] !== 0x0f) return undefined;
  p += 3; // 0F 38/3A op
  const tail = Array.from(b.subarray(p));
  const R = (rex >> 2) & 1, X = (rex >> 1) & 1, B = rex & 1;
  const vvvvBits = (~vreg & 15) << 3;
  const pp = form.pp;
  // The two-byte form exists for map 0F only: BMI lives in 0F38/0F3A, so always C4.
  const vex = [0xc4, ((R ^ 1) << 7) | ((X ^ 1) << 6) | ((B ^ 1) << 5) | form.map, (w ? 0x80 : 0) | vvvvBits | pp, form.op];
  const out = Uint8Array.from([...pre, ...vex, ...tail]);
  if (built.ea !== undefined && (tail[0] & 0xc7) === 0x05 && !pre.includes(0x67)) {
    // RIP-relative: the displacement was computed for the legacy length.
    const d = Number(built.ea - BigInt(CODE_BASE + out.length));
    if (d < -0x8000_0000 || d > 0x7fff_ffff) return undefined;
    new DataView(out.buffer).setInt32(pre.length + vex.length + 1, d, true);
  } else if (built.ea !== undefined && (tail[0] & 0xc7) === 0x05) return undefined;
  return out;
}

function vexCase(r: Prng): Draft | undefined {
  const form = r.pick(VEX);
  const legacy: Form = f(form.map === 2 ? '0f38' : '0f3a', form.op, form.digit ?? 'r', 'x', form.imm ? 1 : 0);
  const built = build(r, legacy, pickTarget(r, 1, true), false, 64);
  if (!built) return undefined;
  const w = r.chance(0.5); // 64-bit operation
  const vreg = form.vvvv === 'none' ? 0 : r.int(16);
  // vvvv must not be an addressing register (its value is chosen below) nor RSP (the stack).
  if (form.vvvv !== 'none' && (built.regs.has(vreg) || vreg === RSP)) return undefined;
  const bytes = toVex(built, form, w, vreg);
  if (!bytes) return undefined;
  const st = baseState(r);
  const patches: Draft['patches'] = [];
  setSource(r, built, st, patches, bitValue(r));
  if (form.vvvv === 'src') st.gpr[vreg] = bitValue(r);
  else if (form.vvvv === 'ctl') st.gpr[vreg] = countValue(r);
  else if (form.vvvv === 'bextr') st.gpr[vreg] = bextrControl(r);
  // MULX: EDX/RDX is the implicit source (unless it addresses memory).
  if (form.op === 0xf6 && !built.regs.has(2)) st.gpr[2] = bitValue(r);
  for (const [reg, v] of built.regs) st.gpr[reg] = v;
  return { code: bytes, state: st, patches, ea: built.ea };
}

// ---- RDRAND/RDSEED: the value is random on the host, so the case checks what is architectural:
//   mov s, d ; RDRAND/RDSEED d ; pushfq ; cmp d, s (operand size) ; setne s8 ; <clear d's random part> ;
//   add d, 0
// The pushed flags show CF=1 and OF SF ZF AF PF = 0; s8 = 1 shows the destination was written (the old
// and new low bits differ: for a 16-bit operand 1 in 65536 cases could coincide); what is left of d
// shows the upper bits: kept for 16-bit, zeroed for 32-bit operands.

function rex(w: boolean, reg: number, rm: number): number[] {
  const v = 0x40 | (w ? 8 : 0) | ((reg >> 3) << 2) | (rm >> 3);
  return v === 0x40 ? [] : [v];
}

function rdrandCase(r: Prng): Draft | undefined {
  const seed = r.chance(0.5);
  const size = r.pick([2, 4, 8]);
  const d = r.int(16), s = r.int(16);
  if (d === s || d === RSP || s === RSP) return undefined;
  const st = baseState(r);
  const code: number[] = [];
  code.push(...[0x48 | ((d >> 3) << 2) | (s >> 3), 0x89, 0xc0 | ((d & 7) << 3) | (s & 7)]); // mov s, d
  if (size === 2) code.push(0x66);
  code.push(...rex(size === 8, 0, d), 0x0f, 0xc7, 0xc0 | ((seed ? 7 : 6) << 3) | (d & 7));
  code.push(0x9c); // pushfq
  if (size === 2) code.push(0x66);
  code.push(...rex(size === 8, s, d), 0x39, 0xc0 | ((s & 7) << 3) | (d & 7)); // cmp d, s
  code.push(0x40 | (s >> 3), 0x0f, 0x95, 0xc0 | (s & 7)); // setne s8 (REX: SPL..DIL, not AH..BH)
  if (size === 2) code.push(0x48 | (d >> 3), 0x81, 0xe0 | (d & 7), 0x00, 0x00, 0xff, 0xff); // and d, ~0xffff
  else if (size === 4) code.push(0x48 | (d >> 3), 0xc1, 0xe8 | (d & 7), 32); // shr d, 32
  else code.push(...rex(false, d, d), 0x31, 0xc0 | ((d & 7) << 3) | (d & 7)); // xor d32, d32
  code.push(0x48 | (d >> 3), 0x83, 0xc0 | (d & 7), 0); // add d, 0: every flag defined at the end
  return { code: Uint8Array.from(code), state: st, patches: [], focus: 1 };
}

export const bmiFamily: Family = {
  name: 'bmi',
  model: 'max',
  mnemonics: new Set(MNEMONICS),
  features: FEATURES,
  modes: [64],
  generate(r) {
    const k = r.int(10);
    if (k < 3) return legacyCase(r);
    if (k < 9) return vexCase(r);
    return rdrandCase(r);
  },
};

// ---- XSAVE / XSAVEOPT / XRSTOR (x87 + SSE components, standard form)
// Each case starts from a known x87/SSE state loaded by FXRSTOR from a random image (FNINIT would
// leave stale register contents that the host's XSAVE reports as zeros: x87 in its initial state), then:
//   XSAVE/XSAVEOPT [a] with EDX:EAX = a random request: the image is compared byte for byte except
//   what differs by design: XSTATE_BV bits 0-1 (the host reports XINUSE = 0 for a component in its
//   initial configuration, this CPU always 1: both allowed), MXCSR_MASK (a model constant), and
//   FOP/FIP/FDP (vendor-specific, as for FXSAVE);
//   XRSTOR [a] from a random image (XSTATE_BV, header bytes, MXCSR sometimes invalid), then FXSAVE [b]
//   to show the loaded x87 state (XMM and MXCSR are compared as registers).
// The request never includes bits the host's XCR0 has beyond x87/SSE (AVX and AVX-512: 2, 5, 6, 7),
// and XSTATE_BV never holds them either: this CPU has no such components.

const XSAVE_SIZE = 576;
/** Registers usable as a plain [base] (mod=00): not RAX/RDX (the request), RSP/RBP/R12/R13 (SIB/RIP forms). */
const BASES = [1, 3, 6, 7, 8, 9, 10, 11, 14, 15];

function modrmMem(rexW: boolean, digit: number, base: number): number[] {
  const rex = 0x40 | (rexW ? 8 : 0) | (base >> 3);
  return [...(rex === 0x40 ? [] : [rex]), 0x0f, 0xae, (digit << 3) | (base & 7)];
}

/** A request mask: bits 0-1 random, sometimes bits no CPU here has (3, 4, 8): ignored via XCR0. */
function requestMask(r: Prng): bigint {
  let lo = r.int(4);
  if (r.chance(0.2)) lo |= r.pick([0x8, 0x10, 0x100]);
  return BigInt(lo) | (BigInt(r.u32()) << 32n);
}

function xsaveCase(r: Prng): Draft | undefined {
  const st = baseState(r);
  const patches: Draft['patches'] = [];
  const [a, b, c] = [r.pick(BASES), r.pick(BASES), r.pick(BASES)];
  if (a === b || a === c || b === c) return undefined;
  const offC = 0x6000 + 16 * r.int(0x100);
  const start = r.bytes(512);
  new DataView(start.buffer).setUint32(24, r.u32() & 0xffff, true); // a valid MXCSR
  patchAt(patches, BigInt(WINDOW_BASE + offC), start);
  st.gpr[c] = BigInt(WINDOW_BASE + offC);
  const code: number[] = modrmMem(r.chance(0.5), 1, c); // fxrstor [c]
  const focus = 1;
  const restore = r.chance(0.45);
  const rexW = r.chance(0.5);
  const offA = 0x1000 + 64 * r.int(0x40);
  const offB = 0x4000 + 16 * r.int(0x100);
  const misaligned = r.chance(0.04) ? 8 * (1 + r.int(7)) : 0;
  st.gpr[a] = BigInt(WINDOW_BASE + offA + misaligned);
  st.gpr[b] = BigInt(WINDOW_BASE + offB);
  const req = requestMask(r);
  st.gpr[0] = (st.gpr[0] & ~0xffff_ffffn) | (req & 0xffff_ffffn);
  st.gpr[2] = (st.gpr[2] & ~0xffff_ffffn) | (req >> 32n);
  const img = r.bytes(XSAVE_SIZE);
  if (restore) {
    // A loadable image, mostly: valid MXCSR, XSTATE_BV within x87/SSE, header bytes 8-23 zero.
    const mx = r.chance(0.05) ? r.u32() : r.u32() & 0xffff;
    new DataView(img.buffer).setUint32(24, mx >>> 0, true);
    img.fill(0, 512, 536);
    img[512] = r.int(4) | (r.chance(0.03) ? r.pick([0x8, 0x10]) : 0); // bits 3-4: in neither XCR0 (#GP)
    if (r.chance(0.03)) img[520 + r.int(15)] = 1 + r.int(255);
    code.push(...modrmMem(rexW, 5, a)); // xrstor [a]
    code.push(...modrmMem(r.chance(0.5), 0, b)); // fxsave [b]
    patchAt(patches, BigInt(WINDOW_BASE + offA + misaligned), img);
    return { code: Uint8Array.from(code), state: st, patches, focus, fxsaveAt: offB };
  }
  code.push(...modrmMem(rexW, r.chance(0.7) ? 4 : 6, a)); // xsave / xsaveopt [a]
  patchAt(patches, BigInt(WINDOW_BASE + offA + misaligned), img);
  const at = offA + misaligned;
  const masks = [{ offset: at + 512, mask: 0xfc }, { offset: at + 28, mask: 0 }, { offset: at + 29, mask: 0 }, { offset: at + 30, mask: 0 }, { offset: at + 31, mask: 0 }];
  for (let k = 6; k < 24; k++) masks.push({ offset: at + k, mask: 0 });
  return { code: Uint8Array.from(code), state: st, patches, focus, masks };
}

export const xsaveFamily: Family = {
  name: 'xsave',
  model: 'max',
  mnemonics: new Set(['Fxrstor', 'Fxrstor64', 'Xsave', 'Xsave64', 'Xsaveopt', 'Xsaveopt64', 'Xrstor', 'Xrstor64', 'Fxsave', 'Fxsave64']),
  features: new Set(['FPU', 'FPU387', 'FXSR', 'XSAVE', 'XSAVEOPT', 'X64', 'INTEL386']),
  modes: [64],
  generate: (r) => xsaveCase(r),
};
