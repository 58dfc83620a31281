// Builds legacy-encoded 64-bit instructions with random prefixes, REX bits and ModRM/SIB forms, and
// chooses register values so that a memory operand lands where the case wants it (usually inside the
// data window). Every encoding is later checked with iced's decoder before it is used.
import type { Prng } from '../prng.js';
import { CODE_BASE, GUARD_HI, GUARD_LO, WINDOW_BASE, WINDOW_SIZE } from './layout.js';
import type { Bits } from './state.js';

export type ModrmKind = 'r' | 'none' | number; // '/r', no ModRM, or '/digit'
export type ImmKind = 0 | 1 | 2 | 3 | 4 | 8 | 'z' | 'v'; // 'z': 2 with a 16-bit operand, else 4; 'v': 2/4/8 (MOV r, imm)

export interface Form {
  map: '' | '0f' | '0f38' | '0f3a';
  op: number;
  /** Mandatory prefix (SSE) or a fixed prefix such as F3 for POPCNT. */
  prefix?: number;
  modrm: ModrmKind;
  /** 'v': random 16/32/64-bit operand size; 'b': byte operation; 'q': 64-bit default (push/pop);
   *  'w': 64-bit through REX.W (CMPXCHG16B, BSWAP r64); 'x': no operand-size choice (SSE, fixed forms). */
  size: 'v' | 'b' | 'q' | 'x' | 'w';
  imm: ImmKind;
  /** Operand register in the low 3 opcode bits (50+r, B8+r, C8+r). */
  plusReg?: boolean;
  /** Allowed ModRM forms. */
  rm?: 'reg' | 'mem' | 'any';
}

export interface Built {
  bytes: Uint8Array;
  /** Register values the addressing needs (index -> value); they override the family's choices. */
  regs: Map<number, bigint>;
  /** Effective address of the memory operand, if any, as the CPU computes it (unsigned 64-bit). */
  ea?: bigint;
  opSize: number; // bytes: 1, 2, 4, 8 (0 for 'x')
  regOperand: number; // ModRM.reg extended by REX.R (or the +r register)
  rmReg?: number; // ModRM.rm register when mod=11
}

const M64 = (1n << 64n) - 1n;
const M32 = (1n << 32n) - 1n;

/** A target address: mostly inside the window (aligned or not), sometimes a deliberate fault. */
export function pickTarget(r: Prng, align: number, faults = true, bits: Bits = 64): bigint {
  // 16-bit code addresses the window through a 64 KiB segment: anything outside it is a limit
  // violation, which QEMU (its reference) does not check. No deliberate faults there.
  if (faults && bits !== 16 && r.chance(0.04)) {
    return r.pick([
      BigInt(GUARD_LO + r.int(0x1_0000 - 64)), // reserved, not present
      BigInt(GUARD_HI - 0x8000 + r.int(0x7000)), // past the code page, not present
      BigInt(CODE_BASE + r.int(0xff0)), // code page: readable, not writable
      // 64-bit: non-canonical: #GP(0), or #SS(0) through RSP/RBP. Aligned, because which of #SS and
      // the #GP of a misaligned SSE operand wins differs between vendors. 32-bit: above 3 GiB, where
      // the page directory has no entries (both sides map only the window and the code page there).
      bits === 64 ? 0x8000_0000_0000_0000n + BigInt((r.u32() & ~15) >>> 0) : BigInt(0xc000_0000 + (r.u32() & 0x3fff_fff0)),
      BigInt(WINDOW_BASE + WINDOW_SIZE - 1 - r.int(8)), // crosses from the window into the code page
    ]);
  }
  let off = 0x100 + r.int(WINDOW_SIZE - 0x200);
  if (align > 1 && !r.chance(0.1)) off -= off % align;
  return BigInt(WINDOW_BASE + off);
}

/**
 * Encode one instruction form with random operand size, REX and ModRM. `target` is where a memory
 * operand should point (`lock` adds a LOCK prefix). Returns undefined when the random choices
 * cannot produce the address.
 */
export function build(r: Prng, f: Form, target: bigint, lock = false, bits: Bits = 64): Built | undefined {
  const long = bits === 64;
  const b16 = bits === 16;
  const pre: number[] = lock ? [0xf0] : [];
  let opSize = 0;
  let rexW = false;
  switch (f.size) {
    case 'b': opSize = 1; break;
    case 'x': opSize = 0; break;
    case 'q': opSize = r.chance(0.2) ? (b16 ? 4 : 2) : long ? 8 : b16 ? 2 : 4; break; // PUSH/POP: stack width by default, 66 gives the other
    case 'w': if (!long) return undefined; opSize = 8; rexW = true; break;
    case 'v': opSize = long ? r.pick([2, 4, 4, 8, 8]) : b16 ? r.pick([2, 2, 4]) : r.pick([2, 4, 4]); break;
  }
  const nregs = long ? 16 : 8; // no REX outside 64-bit mode
  if (f.size === 'v' && opSize === 8) rexW = true;
  // 0x66 selects the operand size that is not the default: 16 in 32/64-bit code, 32 in 16-bit code.
  if (f.size !== 'x' && (opSize === 2 || opSize === 4) && opSize !== (b16 ? 2 : 4)) pre.push(0x66);
  // A redundant segment prefix now and then (ignored in 64-bit mode for ES/CS/SS/DS). Not with a
  // non-canonical address: whether SS: then gives #SS or #GP differs between vendors (AMD: #GP).
  // 32-bit code: no CS: (QEMU's TCG does not check segment types on data accesses, so a write through
  // CS completes there instead of raising #GP(0) as the SDM says), but FS: (flat, like DS).
  if (r.chance(0.03) && target < 0x8000_0000_0000n) pre.unshift(r.pick(long ? [0x26, 0x2e, 0x36, 0x3e] : [0x26, 0x36, 0x3e, 0x64]));
  const regs = new Map<number, bigint>();
  let rex = 0x40 | (rexW ? 8 : 0);
  let wantRex = rexW || (long && r.chance(0.35)); // a REX with no bits set still changes AH..BH into SPL..DIL

  let modrmBytes: number[] = [];
  let ea: bigint | undefined;
  let regOperand = 0;
  let rmReg: number | undefined;
  let ripFixup: ((len: number) => number | undefined) | undefined;
  const opBytes = f.map === '' ? [] : f.map === '0f' ? [0x0f] : f.map === '0f38' ? [0x0f, 0x38] : [0x0f, 0x3a];

  if (f.plusReg) {
    const reg = r.int(nregs);
    if (reg >= 8) { rex |= 1; wantRex = true; }
    regOperand = reg;
  }
  if (f.modrm !== 'none') {
    const reg = typeof f.modrm === 'number' ? f.modrm : r.int(nregs);
    if (reg >= 8) { rex |= 4; wantRex = true; }
    regOperand = reg;
    const useReg = f.rm === 'reg' || (f.rm !== 'mem' && r.chance(0.4));
    if (useReg) {
      const rm = r.int(nregs);
      if (rm >= 8) { rex |= 1; wantRex = true; }
      rmReg = rm;
      modrmBytes = [0xc0 | ((reg & 7) << 3) | (rm & 7)];
    } else if (b16 && r.chance(0.85)) {
      // 16-bit code: offsets into the window segment, mostly with 16-bit address forms.
      const m = memForm16(r, reg & 7, Number(target) - WINDOW_BASE);
      modrmBytes = m.bytes;
      for (const [k, v] of m.regs) regs.set(k, v);
      ea = target;
    } else if (b16) {
      // 0x67 in 16-bit code: 32-bit address forms, still offsets into the window segment.
      pre.push(0x67);
      const m = memForm(r, reg & 7, target - BigInt(WINDOW_BASE), true, 8, false);
      if (!m) return undefined;
      modrmBytes = m.bytes;
      for (const [k, v] of m.regs) regs.set(k, v);
      ea = target;
    } else {
      // 0x67 in 64-bit mode: 32-bit addressing. (In 32-bit mode it would select 16-bit addressing,
      // which cannot reach the window through the flat DS: legacy32 tests it through GS.)
      const addr32 = long ? r.chance(0.08) && target < 0x1_0000_0000n : true;
      if (addr32 && long) pre.push(0x67);
      const m = memForm(r, reg & 7, target, addr32, nregs, long);
      if (!m) return undefined;
      modrmBytes = m.bytes;
      rex |= m.rexBits;
      if (m.rexBits) wantRex = true;
      for (const [k, v] of m.regs) regs.set(k, v);
      ripFixup = m.ripFixup;
      ea = target;
    }
  }
  const immLen = f.imm === 'z' ? (opSize === 2 ? 2 : 4) : f.imm === 'v' ? (opSize === 8 ? 8 : opSize === 2 ? 2 : 4) : f.imm;
  if (f.prefix !== undefined) pre.push(f.prefix);
  const opcode = f.plusReg ? f.op + (regOperand & 7) : f.op;
  const bytes = [...pre, ...(wantRex ? [rex] : []), ...opBytes, opcode, ...modrmBytes];
  for (let i = 0; i < immLen; i++) bytes.push(r.u32() & 0xff);
  const out = Uint8Array.from(bytes);
  if (ripFixup) {
    // RIP-relative: the displacement depends on the instruction's length, known only now.
    const d = ripFixup(out.length);
    if (d === undefined) return undefined;
    new DataView(out.buffer).setInt32(out.length - immLen - 4, d, true);
  }
  return { bytes: out, regs, ea, opSize, regOperand, rmReg };
}

interface MemForm {
  bytes: number[];
  rexBits: number; // X and B
  regs: Map<number, bigint>;
  ripFixup?: (len: number) => number | undefined;
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** A ModRM(+SIB+disp) memory form whose effective address equals `target`, with register values. */
function memForm(r: Prng, reg3: number, target: bigint, addr32: boolean, nregs: number, long: boolean): MemForm | undefined {
  const mask = addr32 ? M32 : M64;
  const regs = new Map<number, bigint>();
  // With 0x67 in 64-bit mode the upper halves are ignored: fill them with garbage.
  const garbageHigh = (v: bigint) => (!long ? v & M32 : addr32 ? (v & M32) | (BigInt(r.u32()) << 32n) : v & M64);
  const kind = r.pick(['base', 'base', 'disp8', 'disp32', 'sib', 'sib', 'sibnobase', 'rip']);
  if (kind === 'rip' && !long) {
    // mod=00 rm=101 outside 64-bit mode: an absolute disp32.
    return { bytes: [(reg3 << 3) | 5, ...le32(Number(target & M32))], rexBits: 0, regs };
  }
  if (kind === 'rip') {
    return {
      bytes: [(reg3 << 3) | 5, 0, 0, 0, 0],
      rexBits: 0,
      regs,
      ripFixup: (len) => {
        const next = BigInt(CODE_BASE + len);
        const d = addr32 ? Number(BigInt.asIntN(32, (target - next) & M32)) : Number(target - next);
        return d < -0x8000_0000 || d > 0x7fff_ffff ? undefined : d;
      },
    };
  }
  const dispKind = kind === 'disp8' ? 1 : kind === 'disp32' ? 4 : kind === 'sibnobase' ? 4 : r.pick([0, 0, 1, 4]);
  const disp = dispKind === 0 ? 0 : dispKind === 1 ? r.range(-128, 127) : r.chance(0.5) ? r.range(-0x1000, 0x1000) : (r.u32() | 0);
  let rexBits = 0;
  if (kind === 'base' || kind === 'disp8' || kind === 'disp32') {
    const base = r.int(nregs);
    if ((base & 7) === 4) {
      // [rsp+disp] style: SIB with no index
      const mod = dispKind === 0 ? 0 : dispKind === 1 ? 1 : 2;
      if (base >= 8) rexBits |= 1;
      regs.set(base, garbageHigh((target - BigInt(disp)) & mask));
      return { bytes: [(mod << 6) | (reg3 << 3) | 4, (0 << 6) | (4 << 3) | 4, ...dispBytes(dispKind, disp)], rexBits, regs };
    }
    let dk = dispKind;
    if ((base & 7) === 5 && dk === 0) dk = 1; // mod=00 rm=101 means RIP-relative
    const mod = dk === 0 ? 0 : dk === 1 ? 1 : 2;
    const d = dk === 1 && dispKind === 0 ? 0 : disp;
    if (base >= 8) rexBits |= 1;
    regs.set(base, garbageHigh((target - BigInt(d)) & mask));
    return { bytes: [(mod << 6) | (reg3 << 3) | (base & 7), ...dispBytes(dk, d)], rexBits, regs };
  }
  // SIB forms
  const scale = r.int(4);
  const index = r.int(nregs);
  const noIndex = index === 4; // index=100 (no REX.X) means none
  if (index >= 8) rexBits |= 2;
  if (kind === 'sibnobase') {
    // [index*scale + disp32]: base=101 with mod=00
    if (noIndex) {
      const d = Number(BigInt.asIntN(32, target & mask));
      if (addr32 ? false : BigInt(d) !== target) return undefined;
      return { bytes: [(reg3 << 3) | 4, (scale << 6) | (4 << 3) | 5, ...le32(d)], rexBits, regs };
    }
    const idxVal = BigInt(r.int(0x100));
    const d = Number(BigInt.asIntN(32, (target - (idxVal << BigInt(scale))) & mask));
    if (!addr32 && ((BigInt(d) + (idxVal << BigInt(scale))) & M64) !== target) return undefined;
    regs.set(index, garbageHigh(idxVal));
    return { bytes: [(reg3 << 3) | 4, (scale << 6) | ((index & 7) << 3) | 5, ...le32(d)], rexBits, regs };
  }
  const base = r.int(nregs);
  let dk = dispKind;
  if ((base & 7) === 5 && dk === 0) dk = 1;
  const mod = dk === 0 ? 0 : dk === 1 ? 1 : 2;
  const d = dk === 1 && dispKind === 0 ? 0 : disp;
  if (base >= 8) rexBits |= 1;
  if (noIndex) {
    regs.set(base, garbageHigh((target - BigInt(d)) & mask));
  } else if (index === base) {
    // base + base*scale = target - d: needs divisibility
    const want = (target - BigInt(d)) & mask;
    const k = 1n + (1n << BigInt(scale));
    if (want % k !== 0n) return undefined;
    regs.set(base, garbageHigh(want / k));
  } else {
    const idxVal = BigInt(r.range(-0x100, 0x100));
    regs.set(index, garbageHigh(idxVal & M64));
    regs.set(base, garbageHigh((target - BigInt(d) - (idxVal << BigInt(scale))) & mask));
  }
  return { bytes: [(mod << 6) | (reg3 << 3) | 4, (scale << 6) | ((index & 7) << 3) | (base & 7), ...dispBytes(dk, d)], rexBits, regs };
}

// 16-bit address forms: ModRM rm -> [base, index] registers (rm 6 with mod 0 is [disp16]).
const RBX_ = 3, RBP_ = 5, RSI_ = 6, RDI_ = 7;
const ADDR16: [number, number | undefined][] = [
  [RBX_, RSI_], [RBX_, RDI_], [RBP_, RSI_], [RBP_, RDI_], [RSI_, undefined], [RDI_, undefined], [RBP_, undefined], [RBX_, undefined],
];

/**
 * A 16-bit ModRM form whose effective address (wrapping at 64 KiB) is `offset`, with register values
 * whose upper halves are garbage (16-bit addressing ignores them).
 */
export function memForm16(r: Prng, reg3: number, offset: number): { bytes: number[]; regs: Map<number, bigint> } {
  const mod = r.pick([0, 1, 2]);
  const rm = r.int(8);
  const regs = new Map<number, bigint>();
  if (mod === 0 && rm === 6) return { bytes: [(reg3 << 3) | 6, offset & 0xff, (offset >> 8) & 0xff], regs };
  const disp = mod === 0 ? 0 : mod === 1 ? r.range(-128, 127) : r.range(-0x8000, 0x7fff);
  const garbage = () => BigInt(r.u32() & 0xffff_0000);
  const [base, index] = ADDR16[rm];
  let rest = (offset - disp) & 0xffff;
  if (index !== undefined) {
    const iv = r.int(0x10000);
    regs.set(index, garbage() | BigInt(iv));
    rest = (rest - iv) & 0xffff;
  }
  regs.set(base, garbage() | BigInt(rest));
  const dispBytes = mod === 0 ? [] : mod === 1 ? [disp & 0xff] : [disp & 0xff, (disp >> 8) & 0xff];
  return { bytes: [(mod << 6) | (reg3 << 3) | rm, ...dispBytes], regs };
}

function dispBytes(kind: number, d: number): number[] {
  if (kind === 0) return [];
  if (kind === 1) return [d & 0xff];
  return le32(d);
}
