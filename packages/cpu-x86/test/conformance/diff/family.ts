// What a family of random cases is, and the shared pieces of their generators. Each case is one
// instruction (or a short sequence whose outcome is visible in registers) that only touches the data
// window, the stack inside it, or a deliberate fault address (see pickTarget).
import type { Prng } from '../prng.js';
import { build, pickTarget, type Built, type Form } from './encode.js';
import { WINDOW_BASE, WINDOW_SIZE } from './layout.js';
import type { Bits, CpuState, Patch } from './state.js';
import { bytesOf, intValue, xmmValue } from './values.js';

export interface Draft {
  code: Uint8Array;
  state: CpuState;
  patches: Patch[];
  /** Effective address of the tested instruction's memory operand, when it has one. */
  ea?: bigint;
  /** Index of the instruction under test in a sequence (default 0). */
  focus?: number;
  /** Window offset of an FXSAVE image the sequence ends with (x87 cases): its undefined parts are masked. */
  fxsaveAt?: number;
  /** Further window bytes compared only under a bit mask (e.g. the pointer fields of an FNSTENV image). */
  masks?: { offset: number; mask: number }[];
}

export interface Family {
  name: string;
  /** iced mnemonics this family may produce (undefined: any); anything else is rejected (a safety net). */
  mnemonics?: ReadonlySet<string>;
  /** CPUID features (iced names) the family's instructions may need. */
  features: ReadonlySet<string>;
  /** Cases iced decodes as invalid are wanted (they must raise #UD on both sides). */
  allowInvalid?: boolean;
  /** Code sizes the family runs in (32: protected mode at CPL 3, QEMU as the reference, see qemu.ts). */
  modes: readonly (Bits)[];
  /** CPUID model the interpreter runs the cases as (default: the CPU's default, westmere). */
  model?: string;
  generate(r: Prng, bits: Bits): Draft | undefined;
}

export const INTEGER_FEATURES = new Set(['INTEL8086', 'INTEL186', 'INTEL286', 'INTEL386', 'INTEL486', 'X64', 'CMOV', 'CX8', 'CMPXCHG16B', 'POPCNT', 'MULTIBYTENOP', 'MSR']);
export const SSE_FEATURES = new Set(['SSE', 'SSE2']);

export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
const ARITH_FLAGS = [0x1, 0x4, 0x10, 0x40, 0x80, 0x800];

export function randomFlags(r: Prng): number {
  let f = 0x202;
  for (const b of ARITH_FLAGS) if (r.chance(0.5)) f |= b;
  if (r.chance(0.25)) f |= 0x400; // DF
  return f;
}

/**
 * Random registers, RSP in the window (room both ways), random flags, default MXCSR. In 16-bit code
 * SS is the window segment: ESP is an offset, with its upper half clear (an IRET to a 16-bit stack
 * segment loads only SP, so the runner's upper half would show otherwise).
 */
export function baseState(r: Prng, bits: Bits = 64): CpuState {
  const gpr = Array.from({ length: 16 }, () => intValue(r));
  gpr[RSP] = BigInt((bits === 16 ? 0 : WINDOW_BASE) + 0x8000 + 8 * r.int(0x400) + (r.chance(0.05) ? r.int(8) : 0));
  return { gpr, rflags: randomFlags(r), mxcsr: 0x1f80, xmm: Array.from({ length: 16 }, () => xmmValue(r)) };
}

const inWindow = (a: bigint, n: number) => a >= BigInt(WINDOW_BASE) && a + BigInt(n) <= BigInt(WINDOW_BASE + WINDOW_SIZE);

export function patchAt(patches: Patch[], address: bigint, bytes: Uint8Array): void {
  if (inWindow(address, bytes.length)) patches.push({ offset: Number(address) - WINDOW_BASE, bytes });
}

export const f = (map: Form['map'], op: number, modrm: Form['modrm'], size: Form['size'], imm: Form['imm'], extra: Partial<Form> = {}): Form => ({ map, op, modrm, size, imm, ...extra });

export interface FormFamilyOptions {
  /** Alignment the memory operand usually gets (16 for SSE aligned forms). */
  align?: (form: Form) => number;
  /** Family-specific register/memory setup, before the addressing registers are applied. */
  setup?: (r: Prng, form: Form, built: Built, st: CpuState, patches: Patch[], bits: Bits) => void;
  /** Reject a case (return false) after setup, e.g. when two roles need one register. */
  check?: (form: Form, built: Built, st: CpuState, bits: Bits) => boolean;
  lock?: number; // probability of a LOCK prefix
  state?: (r: Prng, bits: Bits) => CpuState;
  noFaults?: boolean;
  features?: ReadonlySet<string>;
  modes?: readonly (Bits)[];
}

export function formFamily(name: string, forms: Form[], mnemonics: string[] | undefined, o: FormFamilyOptions = {}): Family {
  return {
    name,
    mnemonics: mnemonics && new Set(mnemonics),
    features: o.features ?? INTEGER_FEATURES,
    modes: o.modes ?? [64, 32],
    generate(r, bits) {
      const form = r.pick(forms);
      const target = pickTarget(r, o.align?.(form) ?? 1, !o.noFaults, bits);
      const built = build(r, form, target, o.lock !== undefined && r.chance(o.lock), bits);
      if (!built) return undefined;
      const st = (o.state ?? baseState)(r, bits);
      const patches: Patch[] = [];
      if (built.ea !== undefined && r.chance(0.6)) {
        patchAt(patches, built.ea, bytesOf(intValue(r), Math.min(built.opSize || 8, 8)));
      }
      o.setup?.(r, form, built, st, patches, bits);
      for (const [reg, v] of built.regs) st.gpr[reg] = v;
      if (o.check && !o.check(form, built, st, bits)) return undefined;
      return { code: built.bytes, state: st, patches, ea: built.ea };
    },
  };
}

