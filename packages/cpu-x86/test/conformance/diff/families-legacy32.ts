// 32-bit-only instructions and forms, run at CPL 3 in the environment of env32.ts (QEMU as the
// reference): INTO, ARPL, far-pointer loads (LDS/LES/LSS/LFS/LGS), segment register pushes, pops and
// moves, and 16-bit address forms (0x67) through GS, which holds a 64 KiB segment based at the window.
// A segment load is followed by MOV r16, Sreg (and sometimes a read through the segment) so its effect
// reaches the compared registers. In 16-bit code (every data segment the window segment) the same
// generators run with 16-bit operand and address defaults, except the 0x67 forms.
//
// Not generated, because QEMU's TCG does not implement the check the SDM describes (so it would not
// be a reference): accesses past a segment limit (QEMU ignores data segment limits), writes through a
// read-only or code segment and accesses through a null selector (QEMU checks neither on access).
import type { Prng } from '../prng.js';
import { build, memForm16 } from './encode.js';
import { WINDOW_BASE, WINDOW_SIZE } from './layout.js';
import type { Bits, Patch } from './state.js';
import { bytesOf, intValue } from './values.js';
import { baseState, f, INTEGER_FEATURES, patchAt, RSP, type Draft, type Family } from './family.js';
import { INTERESTING_SELECTORS, USER_CONFORMING_CS, USER_CS, USER_DS, USER_RO_DS, USER_WINDOW_DS } from './env32.js';

const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

/** A selector for a segment load: mostly loadable ones, often one that must fault. */
function selector(r: Prng): number {
  if (r.chance(0.6)) return r.pick([USER_DS, USER_DS, USER_WINDOW_DS, USER_RO_DS, USER_CS, USER_CONFORMING_CS, 0]);
  return r.pick(INTERESTING_SELECTORS) | (r.chance(0.2) ? r.int(4) : 0);
}

/** Loadable into a data segment register without a fault, and usable for a read afterwards. */
const readableData = (sel: number) => [USER_DS, USER_WINDOW_DS, USER_RO_DS, USER_CS, USER_CONFORMING_CS].includes(sel);

/** MOV r16/r32, Sreg: makes the selector visible (zero-extended to 32 bits with a 32-bit operand). */
function movFromSreg(r: Prng, sreg: number, avoid: number[]): number[] {
  let reg = r.int(8);
  while (avoid.includes(reg) || reg === RSP) reg = r.int(8);
  return [...(r.chance(0.3) ? [0x66] : []), 0x8c, 0xc0 | (sreg << 3) | reg];
}

/**
 * A read through the segment just loaded (when it can be read): MOV EAX-class, sreg:[disp32], at a
 * window address (the window segment is based at the window: its offsets are small).
 */
function readThrough(r: Prng, sreg: number, sel: number, avoid: number[], bits: Bits): number[] {
  if (sreg === SS || !readableData(sel & ~3)) return [];
  const off = 0x100 + r.int(WINDOW_SIZE - 0x200);
  let reg = r.int(8);
  while (avoid.includes(reg) || reg === RSP) reg = r.int(8);
  const prefix = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65][sreg];
  // 16-bit code: [disp16], an offset: the window through the window segment, a supervisor page
  // below 64 KiB (#PF) through a flat one.
  if (bits === 16) return [prefix, 0x8b, (reg << 3) | 6, ...bytesOf(BigInt(off), 2)];
  const disp = (sel & ~3) === USER_WINDOW_DS ? off : WINDOW_BASE + off;
  return [prefix, 0x8b, (reg << 3) | 5, ...bytesOf(BigInt(disp), 4)];
}

function into(r: Prng, bits: Bits): Draft {
  const st = baseState(r, bits);
  if (r.chance(0.5)) st.rflags ^= 0x800; // OF set or clear, half each
  return { code: Uint8Array.of(0xce), state: st, patches: [] };
}

/** ARPL r/m16, r16: raises the destination's RPL to the source's (ZF=1) or leaves it (ZF=0). */
function arpl(r: Prng, bits: Bits): Draft | undefined {
  const st = baseState(r, bits);
  const built = build(r, f('', 0x63, 'r', 'x', 0), pickWindow(r), false, bits);
  if (!built) return undefined;
  const patches: Patch[] = [];
  if (built.ea !== undefined) patchAt(patches, built.ea, bytesOf(intValue(r), 2));
  for (const [reg, v] of built.regs) st.gpr[reg] = v;
  return { code: built.bytes, state: st, patches, ea: built.ea };
}

const pickWindow = (r: Prng) => BigInt(WINDOW_BASE + 0x100 + r.int(WINDOW_SIZE - 0x200));

/** LDS/LES (C5/C4), LSS/LFS/LGS (0F B2/B4/B5) from an m16:16 or m16:32 far pointer, then MOV r, Sreg. */
/** A selector SS can take at CPL 3 (RPL 3 is required: the wrong RPL faults). */
const stackSelector = (r: Prng, bits: Bits) => ((bits === 16 && r.chance(0.5) ? USER_WINDOW_DS : USER_DS) & ~3) | (r.chance(0.1) ? r.int(4) : 3);

function farLoad(r: Prng, bits: Bits): Draft | undefined {
  const [map, op, sreg] = r.pick([['', 0xc5, DS], ['', 0xc4, ES], ['0f', 0xb2, SS], ['0f', 0xb4, FS], ['0f', 0xb5, GS]] as const);
  const built = build(r, f(map, op, 'r', 'v', 0, { rm: 'mem' }), pickWindow(r), false, bits);
  if (!built || built.ea === undefined) return undefined;
  const st = baseState(r, bits);
  for (const [reg, v] of built.regs) st.gpr[reg] = v;
  const sel = sreg === SS && r.chance(0.6) ? stackSelector(r, bits) : selector(r);
  const patches: Patch[] = [];
  patchAt(patches, built.ea, bytesOf(intValue(r), built.opSize));
  patchAt(patches, built.ea + BigInt(built.opSize), bytesOf(BigInt(sel), 2));
  const avoid = [built.regOperand];
  const code = [...built.bytes, ...movFromSreg(r, sreg, avoid), ...(r.chance(0.4) ? readThrough(r, sreg, sel, avoid, bits) : [])];
  return { code: Uint8Array.from(code), state: st, patches, ea: built.ea };
}

/** PUSH Sreg: with a 32-bit operand, whether the upper half of the slot is written is model-specific. */
/** A stack operand size (2 or 4) and the 0x66 prefix it takes in this code size. */
function stackWidth(r: Prng, bits: Bits): [number, number[]] {
  const size = r.chance(0.3) ? (bits === 16 ? 4 : 2) : bits === 16 ? 2 : 4;
  return [size, size === (bits === 16 ? 2 : 4) ? [] : [0x66]];
}

/** Window offset of stack address `sp` (an offset already in 16-bit code, where SS is the window). */
const stackOffset = (sp: bigint, bits: Bits) => Number(sp) - (bits === 16 ? 0 : WINDOW_BASE);

function pushSreg(r: Prng, bits: Bits): Draft {
  const st = baseState(r, bits);
  const sreg = r.int(6);
  const [size, prefix] = stackWidth(r, bits);
  const o16 = size === 2;
  const code = [...prefix, ...(sreg >= FS ? [0x0f, sreg === FS ? 0xa0 : 0xa8] : [0x06 | (sreg << 3)])];
  const slot = stackOffset(st.gpr[RSP], bits) - size;
  // SDM vol. 2B PUSH: a 32-bit push of a segment register either zero-extends or writes only 16 bits.
  const masks = o16 ? [] : [{ offset: slot + 2, mask: 0 }, { offset: slot + 3, mask: 0 }];
  return { code: Uint8Array.from(code), state: st, patches: [], masks };
}

/** POP Sreg (not CS) from a stacked selector, then MOV r, Sreg. */
function popSreg(r: Prng, bits: Bits): Draft {
  const st = baseState(r, bits);
  const sreg = r.pick([ES, SS, DS, FS, GS]);
  const [size, prefix] = stackWidth(r, bits);
  const code = [...prefix, ...(sreg >= FS ? [0x0f, sreg === FS ? 0xa1 : 0xa9] : [0x07 | (sreg << 3)])];
  const sel = sreg === SS && r.chance(0.6) ? stackSelector(r, bits) : selector(r);
  const patches: Patch[] = [];
  patchAt(patches, BigInt(WINDOW_BASE + stackOffset(st.gpr[RSP], bits)), bytesOf(BigInt(sel) | (BigInt(r.u32() & 0xffff) << 16n), size));
  code.push(...movFromSreg(r, sreg, []));
  return { code: Uint8Array.from(code), state: st, patches };
}

/** MOV Sreg, r/m16 (MOV CS, ... is #UD), then MOV r, Sreg. */
function movToSreg(r: Prng, bits: Bits): Draft | undefined {
  const sreg = r.int(6);
  const built = build(r, f('', 0x8e, sreg, 'x', 0), pickWindow(r), false, bits);
  if (!built) return undefined;
  const st = baseState(r, bits);
  const sel = sreg === SS && r.chance(0.6) ? stackSelector(r, bits) : selector(r);
  const patches: Patch[] = [];
  if (built.ea !== undefined) patchAt(patches, built.ea, bytesOf(BigInt(sel), 2));
  else st.gpr[built.rmReg!] = (st.gpr[built.rmReg!] & ~0xffffn) | BigInt(sel);
  for (const [reg, v] of built.regs) st.gpr[reg] = v;
  const code = [...built.bytes, ...(sreg === CS ? [] : movFromSreg(r, sreg, built.rmReg !== undefined ? [built.rmReg] : []))];
  return { code: Uint8Array.from(code), state: st, patches, ea: built.ea };
}

// ALU r/m, r and r, r/m (byte and word/dword), MOV both ways, TEST, and CMP.
const ADDR16_OPS = [0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x20, 0x21, 0x28, 0x29, 0x2a, 0x30, 0x31, 0x38, 0x39, 0x3a, 0x3b, 0x84, 0x85, 0x88, 0x89, 0x8a, 0x8b];

/**
 * An ALU or MOV with a 16-bit address (0x67) in 32-bit code: mostly GS: (the window segment) so the
 * offset lands in the window; sometimes no override, so the default segment (SS for BP-based forms,
 * DS otherwise, both flat) gives a linear address below 64 KiB, a supervisor page: #PF with the
 * wrapped offset in CR2.
 */
function addr16(r: Prng): Draft | undefined {
  const st = baseState(r);
  const op = r.pick(ADDR16_OPS);
  const size = op & 1 ? r.pick([2, 4]) : 1;
  const viaGs = r.chance(0.85);
  const target = 0x100 + r.int(0x10000 - 0x200); // the whole operand inside the 64 KiB limit
  const reg = r.int(8);
  const m = memForm16(r, reg, target);
  // The register operand must not be an address register (the target would no longer describe the case).
  if (m.regs.has(reg)) return undefined;
  for (const [k, v] of m.regs) st.gpr[k] = v;
  const code = [...(viaGs ? [0x65] : []), ...(size === 2 ? [0x66] : []), 0x67, op, ...m.bytes];
  const ea = BigInt(WINDOW_BASE + target);
  const patches: Patch[] = [];
  if (viaGs && r.chance(0.6)) patchAt(patches, ea, bytesOf(intValue(r), size));
  return { code: Uint8Array.from(code), state: st, patches, ea: viaGs ? ea : undefined };
}

export const legacy32Family: Family = {
  name: 'legacy32',
  features: INTEGER_FEATURES,
  mnemonics: new Set(['Into', 'Arpl', 'Lds', 'Les', 'Lss', 'Lfs', 'Lgs', 'Push', 'Pop', 'Mov', 'Add', 'Or', 'Adc', 'Sbb', 'And', 'Sub', 'Xor', 'Cmp', 'Test']),
  modes: [32, 16],
  generate(r, bits) {
    // 16-bit code: no 0x67 address forms here (16-bit addressing is the default; the window segment
    // is every data segment, so the other families already use it).
    const k = r.int(bits === 16 ? 8 : 12);
    if (k < 1) return into(r, bits);
    if (k < 2) return arpl(r, bits);
    if (k < 5) return farLoad(r, bits);
    if (k < 6) return pushSreg(r, bits);
    if (k < 7) return popSreg(r, bits);
    if (k < 8) return movToSreg(r, bits);
    return addr16(r);
  },
};
