import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { SEG_CS, SEG_SS } from './insn.js';
import { DESC, descLimit, readDescriptor } from './segments.js';

/**
 * Segment limit and type checks (Intel SDM Vol. 3A §5.3 limit checking, §5.4-5.5 type checking,
 * §5.4.1 null segment selectors) for real mode, 16/32-bit protected mode and compatibility mode.
 *
 * Speed design: c.segChecked[s] is 0 when accesses through segment s can skip every check: 64-bit mode
 * (no limit checks there), or a "flat" segment (present, expand-up writable data, limit 0xFFFFFFFF).
 * The hot paths (ea(), push/pop, string ops, branches) pay one typed-array load and a branch; everything
 * else happens here. The flags are recomputed by refreshSegChecks() from X86Cpu.updateMode() (CS/SS
 * loads, mode switches, reset, restore, SYSCALL/SYSENTER...) and by refreshSegCheck() after a data
 * segment load (loadSegment). Segment *base* changes (FS/GS base MSRs, SWAPGS, LEA's trick) never affect
 * the flags.
 */

/** Data accesses through this segment need the slow check. */
export const CHK_DATA = 1;
/** CS only: instruction fetches and branch targets must be checked against the CS limit. */
export const CHK_FETCH = 2;

/** Access kinds for checkSegAccess. */
export const ACC_READ = 1;
export const ACC_WRITE = 2;
export const ACC_RMW = 3;

const FLAT = 0xffffffff;

export function refreshSegChecks(c: X86Cpu): void {
  for (let s = 0; s < 6; s++) refreshSegCheck(c, s);
}

/** Recompute c.segChecked[s] from the segment cache and the current mode. */
export function refreshSegCheck(c: X86Cpu, s: number): void {
  if (c.codeSize === 64) { c.segChecked[s] = 0; return; }
  const limit = c.segLimit[s];
  const attr = c.segAttr[s];
  let f: number;
  if (!(c.cr0 & 1)) {
    // Real mode: only the cached limit applies (normally 0xFFFF; an "unreal" 4 GiB limit persists).
    f = limit < FLAT ? CHK_DATA : 0;
    if (s === SEG_CS && f) f |= CHK_FETCH;
  } else if (s === SEG_CS) {
    // A CS override can never write; execute-only code cannot be read.
    f = CHK_DATA | (limit < FLAT ? CHK_FETCH : 0);
  } else {
    // Present (not null), S=1, data, expand-up, writable, 4 GiB: nothing to check.
    f = (attr & 0x9e) === 0x92 && limit >= FLAT ? 0 : CHK_DATA;
  }
  c.segChecked[s] = f;
}

function segFault(c: X86Cpu, s: number): never {
  return c.fault(s === SEG_SS ? 12 : 13, 0);
}

/**
 * Check an access of `size` bytes at offset `off` (already truncated to the address size) through
 * segment `s`. Raises #SS(0) for SS, #GP(0) otherwise. Called only when c.segChecked[s] !== 0.
 */
export function checkSegAccess(c: X86Cpu, s: number, off: number, size: number, kind: number): void {
  if (!segAccessOk(c, s, off, size, kind)) segFault(c, s);
}

/** The rules of checkSegAccess, as a predicate (bulk string paths probe a whole range with it). */
export function segAccessOk(c: X86Cpu, s: number, off: number, size: number, kind: number): boolean {
  const limit = c.segLimit[s];
  const last = off + size - 1;
  // Real-address mode (Vol. 2 "Real-Address Mode Exceptions"): an operand not wholly inside the
  // cached limit (0xFFFF unless raised in protected mode) is #GP / #SS; attributes are not checked.
  if (!(c.cr0 & 1)) return last <= limit;
  const attr = c.segAttr[s];
  if (!(attr & 0x80)) return false; // null selector (unusable): any access #GP(0) (§5.4.1)
  if (attr & 0x08) {
    // Code segment: never writable; readable only with the R bit (§5.5 "type checking").
    if (kind & ACC_WRITE || !(attr & 0x02)) return false;
  } else if (kind & ACC_WRITE && !(attr & 0x02)) return false; // read-only data
  if ((attr & 0x0c) === 0x04) {
    // Expand-down data (§5.3): valid offsets are limit+1 .. 0xFFFF (B=0) or 0xFFFFFFFF (B=1).
    const upper = attr & 0x4000 ? FLAT : 0xffff;
    return off > limit && last <= upper;
  }
  return last <= limit || limit >= FLAT;
}

/**
 * Check the `bytes` bytes at rSP+delta (a multi-slot push/pop about to happen), so the instruction
 * faults before anything moves. The slots themselves wrap at the stack width (SP 0 -> 0xFFFE), so a
 * range that wraps is checked as its two pieces.
 */
export function checkStackRange(c: X86Cpu, delta: number, bytes: number, kind: number): void {
  if (c.stackSize === 8 || c.segChecked[SEG_SS] === 0 || bytes <= 0) return;
  const span = c.stackSize === 4 ? 4294967296 : 0x10000;
  const off = c.stackSize === 4 ? (c.r[8] + delta) >>> 0 : (c.r[8] + delta) & 0xffff;
  if (off + bytes <= span) { checkSegAccess(c, SEG_SS, off, bytes, kind); return; }
  checkSegAccess(c, SEG_SS, off, span - off, kind);
  checkSegAccess(c, SEG_SS, 0, off + bytes - span, kind);
}

// ------------------------------------------------------------------ memory operands of instructions

/** Packed access: size in bits 0-11, kind (ACC_*) in bits 12-13; 0 = no memory access to check. */
function acc(size: number, kind: number): number {
  return size | (kind << 12);
}

const R = ACC_READ, W = ACC_WRITE, RW = ACC_RMW;

/**
 * Size and kind of the memory operand of `i`, for the instruction forms this CPU executes. Exact for
 * the integer, system, x87 and SSE/SSE2 forms; see the comments for the approximations.
 */
export function memAccess(c: X86Cpu, i: Insn): number {
  const op = i.op;
  const size = i.size;
  const reg = i.reg & 7;
  if (op < 0x100) {
    if (op < 0x40) {
      const lo = op & 7;
      if (lo > 3) return acc(size, R); // not a ModRM form (does not reach ea())
      if ((op & 0xf8) === 0x38) return acc(size, R); // CMP
      return acc(size, lo < 2 ? RW : R);
    }
    switch (op) {
      case 0x62: return acc(2 * size, R); // BOUND: a pair of bounds
      case 0x63: return acc(c.codeSize === 64 ? 4 : 2, c.codeSize === 64 ? R : RW); // MOVSXD / ARPL
      case 0x80: case 0x81: case 0x82: case 0x83: return acc(size, reg === 7 ? R : RW);
      case 0x86: case 0x87: return acc(size, RW);
      case 0x88: case 0x89: case 0x8f: case 0xa2: case 0xa3: case 0xc6: case 0xc7: return acc(size, W);
      case 0x8c: return acc(2, W); // MOV m16, Sreg: always a word in memory
      case 0x8d: return 0; // LEA: no access
      case 0x8e: return acc(2, R);
      case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: return acc(size, RW);
      case 0xc4: case 0xc5: return acc(size + 2, R); // LES/LDS m16:16/32
      case 0xf6: case 0xf7: return acc(size, reg === 2 || reg === 3 ? RW : R);
      case 0xfe: return acc(size, RW);
      case 0xff:
        if (reg < 2) return acc(size, RW);
        if (reg === 3 || reg === 5) return acc(size + 2, R); // far CALL/JMP m16:16/32/64
        return acc(size, R);
    }
    if (op >= 0xd8 && op <= 0xdf) return x87Access(op, reg, size);
    return acc(size, R);
  }
  if (op < 0x200) {
    const b = op & 0xff;
    switch (b) {
      case 0x00: return acc(2, reg < 2 ? W : R); // SLDT/STR store, LLDT/LTR/VERR/VERW read
      case 0x01: {
        const tbl = c.codeSize === 64 ? 10 : 6;
        if (reg < 2) return acc(tbl, W); // SGDT/SIDT
        if (reg < 4) return acc(tbl, R); // LGDT/LIDT
        if (reg === 4) return acc(2, W); // SMSW
        if (reg === 6) return acc(2, R); // LMSW
        return 0; // INVLPG: no limit check
      }
      case 0x02: case 0x03: return acc(2, R); // LAR/LSL
      case 0xa3: case 0xbc: case 0xbd: case 0xb8: case 0xaf: return acc(size, R);
      // Bit-string forms with a register offset (BT/BTS/BTR/BTC Ev,Gv) may address outside
      // [ea, ea+size): only the operand at ea is checked (approximation).
      case 0xab: case 0xb3: case 0xbb: return acc(size, RW);
      case 0xba: return acc(size, reg === 4 ? R : RW);
      case 0xa4: case 0xa5: case 0xac: case 0xad: case 0xb0: case 0xb1: case 0xc0: case 0xc1: return acc(size, RW);
      case 0xb2: case 0xb4: case 0xb5: return acc(size + 2, R); // LSS/LFS/LGS
      case 0xb6: case 0xbe: return acc(1, R);
      case 0xb7: case 0xbf: return acc(2, R);
      case 0xc3: return acc(size, W); // MOVNTI
      case 0xc7: return acc(i.rex & 8 ? 16 : 8, RW); // CMPXCHG8B/16B
      case 0x0d: case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f: return 0; // hints
      case 0xae:
        switch (reg) {
          case 0: return acc(512, W); // FXSAVE
          case 1: return acc(512, R); // FXRSTOR
          case 2: return acc(4, R); // LDMXCSR
          case 3: return acc(4, W); // STMXCSR
          case 7: return acc(1, R); // CLFLUSH: checked like a byte read
          default: return 0;
        }
    }
    if (b >= 0x40 && b <= 0x4f) return acc(size, R); // CMOVcc always reads
    if (b >= 0x90 && b <= 0x9f) return acc(1, W); // SETcc
    return sseAccess(i, b);
  }
  if (op >= 0x400) {
    // Extension forms (isa.ts): XSAVE/XSAVEOPT and XRSTOR touch the legacy region and the XSAVE header
    // (576 bytes; the extended components of a larger XCR0 are not counted: approximation).
    if ((op & 0xfff) === 0x4ae) return acc(576, reg === 5 ? R : W);
    return acc(size, R); // TZCNT/LZCNT and the VEX BMI forms read an operand-size r/m
  }
  if (op === 0x2f0) return acc(size, R); // MOVBE load
  if (op === 0x2f1) return acc(size, W); // MOVBE store
  // Other 0F38 / 0F3A forms: with 66 a 16-byte vector operand, else the operand size (approximation).
  return acc(i.opsizePrefix ? 16 : size, R);
}

function x87Access(op: number, reg: number, size: number): number {
  const env = size === 2 ? 14 : 28;
  const state = size === 2 ? 94 : 108;
  switch (op) {
    case 0xd8: return acc(4, R);
    case 0xd9:
      switch (reg) {
        case 0: return acc(4, R);
        case 2: case 3: return acc(4, W);
        case 4: return acc(env, R); // FLDENV
        case 5: return acc(2, R); // FLDCW
        case 6: return acc(env, W); // FNSTENV
        case 7: return acc(2, W); // FNSTCW
        default: return 0; // invalid: #UD comes first
      }
    case 0xda: return acc(4, R);
    case 0xdb:
      switch (reg) {
        case 0: return acc(4, R);
        case 1: case 2: case 3: return acc(4, W);
        case 5: return acc(10, R);
        case 7: return acc(10, W);
        default: return 0;
      }
    case 0xdc: return acc(8, R);
    case 0xdd:
      switch (reg) {
        case 0: return acc(8, R);
        case 1: case 2: case 3: return acc(8, W);
        case 4: return acc(state, R); // FRSTOR
        case 6: return acc(state, W); // FNSAVE
        case 7: return acc(2, W); // FNSTSW
        default: return 0;
      }
    case 0xde: return acc(2, R);
    default: // DF
      switch (reg) {
        case 0: return acc(2, R);
        case 1: case 2: case 3: return acc(2, W);
        case 4: return acc(10, R); // FBLD
        case 5: return acc(8, R); // FILD m64
        case 6: return acc(10, W); // FBSTP
        default: return acc(8, W); // FISTP m64
      }
  }
}

/** SSE/SSE2 0F-map forms: size by mandatory prefix (none/66 = packed, F3 = ss, F2 = sd). */
function sseAccess(i: Insn, b: number): number {
  const f3 = i.rep === 1, f2 = i.rep === 2, p66 = i.opsizePrefix && !f3 && !f2;
  const scalar = f3 ? 4 : f2 ? 8 : 16;
  switch (b) {
    case 0x10: return acc(scalar, R);
    case 0x11: return acc(scalar, W);
    case 0x12: case 0x16: return acc(8, R); // MOVLPS/MOVHPS/MOVLPD/MOVHPD loads
    case 0x13: case 0x17: return acc(8, W);
    case 0x29: case 0x2b: case 0x7f: case 0xe7: return acc(p66 || f3 || b === 0x29 || b === 0x2b ? 16 : 8, W);
    case 0x2a: return acc(f3 || f2 ? i.size === 8 ? 8 : 4 : 8, R); // CVTSI2SS/SD r/m32/64, CVTPI2PS/PD m64
    case 0x2c: case 0x2d: return acc(f3 ? 4 : p66 ? 16 : 8, R);
    case 0x2e: case 0x2f: return acc(p66 ? 8 : 4, R);
    case 0x5a: return acc(f3 ? 4 : f2 || !p66 ? 8 : 16, R); // CVTSS2SD m32, CVTSD2SS m64, CVTPS2PD m64, CVTPD2PS m128
    case 0x6e: return acc(i.size === 8 ? 8 : 4, R); // MOVD/MOVQ xmm, r/m
    case 0x7e: return f3 ? acc(8, R) : acc(i.size === 8 ? 8 : 4, W); // MOVQ xmm, m64 / MOVD r/m, xmm
    case 0xc2: return acc(scalar, R); // CMPPS/PD/SS/SD
    case 0xc4: return acc(2, R); // PINSRW
    case 0xd6: return acc(8, W); // MOVQ m64, xmm
    case 0xe6: return acc(f3 ? 8 : 16, R); // CVTDQ2PD m64, CVT(T)PD2DQ m128
  }
  if (b >= 0x51 && b <= 0x5f && b !== 0x5b) return acc(scalar, R);
  // Integer vectors: 8 bytes for the MMX (no prefix) forms, else 16.
  if ((b >= 0x60 && b <= 0x76) || b >= 0xd0) return acc(i.opsizePrefix || i.rep ? 16 : 8, R);
  return acc(16, R);
}

/** Slow path of ea(): check the memory operand of `i` at offset `off` (non-64-bit modes). */
export function checkOperand(c: X86Cpu, i: Insn, off: number): void {
  const a = memAccess(c, i);
  if (a !== 0) checkSegAccess(c, i.seg, off, a & 0xfff, a >>> 12);
}

// ------------------------------------------------------------------ instruction fetch and branches

/** #GP(0) when a branch target lies beyond the CS limit (called when segChecked[CS] & CHK_FETCH). */
export function checkBranchTarget(c: X86Cpu, target: number): void {
  if (target > c.segLimit[SEG_CS]) c.fault(13, 0);
}

/**
 * Far JMP/CALL target check before anything is committed: the descriptor of the new CS is the last one
 * read (DESC, protected mode) or, in real mode, the cached CS limit applies.
 */
export function checkFarTarget(c: X86Cpu, target: number): void {
  let limit: number;
  if (!(c.cr0 & 1)) limit = c.segLimit[SEG_CS];
  else {
    if (c.efer & 0x400 && DESC.hi & 0x200000) return; // to a 64-bit code segment: no limit check
    limit = descLimit(DESC.lo, DESC.hi);
  }
  if (target > limit) c.fault(13, 0);
}

/**
 * RETF/IRET: the whole frame (`slots` of `size` bytes, `gap` extra bytes before the outer SS:rSP pair
 * for RETF imm16) must be readable before rSP moves; the outer-privilege part only when the CS slot's
 * RPL says the return goes outward.
 */
export function checkReturnFrame(c: X86Cpu, size: number, slots: number, gap: number): void {
  if (c.stackSize === 8 || c.segChecked[SEG_SS] === 0) return;
  checkStackRange(c, 0, slots * size, ACC_READ);
  if (!(c.cr0 & 1)) return;
  const off = c.stackSize === 4 ? (c.r[8] + size) >>> 0 : (c.r[8] + size) & 0xffff;
  const cs = c.readLin((c.segBase[SEG_SS] + off) >>> 0, 2, c.accUser);
  if ((cs & 3) > c.cpl) checkStackRange(c, slots * size + gap, 2 * size, ACC_READ);
}

/**
 * RETF/IRET outside 64-bit mode: #GP(0) when the return EIP lies beyond the limit of the CS it returns
 * to, before anything is popped (the SDM checks it before CS and EIP are loaded). A selector that is not
 * a present code segment is left to loadCodeSegment, which reports it with its own error code.
 */
export function checkReturnTarget(c: X86Cpu, size: number): void {
  if (c.stackSize === 8) return; // from 64-bit mode: a compat-mode target is caught at its fetch
  const sp = c.r[8];
  const csOff = c.stackSize === 4 ? (sp + size) >>> 0 : (sp + size) & 0xffff;
  const cs = c.readLin((c.segBase[SEG_SS] + csOff) >>> 0, 2, c.accUser);
  // The common case, a return into the current code segment: its cached limit decides (no descriptor read).
  const same = (c.cr0 & 1) === 0 || (cs & 0xffff) === c.segSel[SEG_CS];
  if (same && !(c.segChecked[SEG_CS] & CHK_FETCH)) return;
  const ipOff = c.stackSize === 4 ? sp >>> 0 : sp & 0xffff;
  const ip = c.readLin((c.segBase[SEG_SS] + ipOff) >>> 0, size === 2 ? 2 : 4, c.accUser);
  let limit: number;
  if (same) limit = c.segLimit[SEG_CS];
  else {
    if ((cs & 0xfffc) === 0 || !readDescriptor(c, cs)) return;
    const hi = DESC.hi;
    if ((hi & 0x1800) !== 0x1800 || !(hi & 0x8000)) return;
    if (c.efer & 0x400 && hi & 0x200000) return; // to a 64-bit code segment
    limit = descLimit(DESC.lo, hi);
  }
  if (ip > limit) c.fault(13, 0);
}

/** Before decoding at rip (segChecked[CS] & CHK_FETCH): the first byte must be inside the CS limit. */
export function checkFetchStart(c: X86Cpu): void {
  if (c.rip > c.segLimit[SEG_CS]) c.fault(13, 0);
}

/** After decoding: the last byte of the instruction must be inside the CS limit too. */
export function checkFetchEnd(c: X86Cpu, len: number): void {
  if (c.rip + len - 1 > c.segLimit[SEG_CS]) c.fault(13, 0);
}

/**
 * True when every instruction starting in the linear code page at `pageBase` ends inside the CS limit,
 * so step() may keep using the cached page without re-checking (at most 15 bytes per instruction).
 */
export function fetchPageWithinLimit(c: X86Cpu, pageBase: number): boolean {
  const base = c.segBase[SEG_CS];
  if (pageBase + 4095 + 14 - base > c.segLimit[SEG_CS]) return false;
  // 16-bit IP cannot reach below the base; a 32-bit EIP could, by wrapping past 4 GiB.
  return pageBase >= base || c.codeSize === 16;
}
