import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import * as F from './f80.js';

/**
 * The x87 FPU: eight 80-bit registers (as sign/exponent + two 32-bit significand halves, see f80.ts),
 * the register stack with tags, status/control words, exceptions (masked responses, and ES / #MF at
 * the next waiting instruction when unmasked, CR0.NE=1). Arithmetic is exact 80-bit soft-float with
 * the control word's precision (24/53/64 bits) and rounding control.
 */
export class X87 {
  /** Physical registers R0-R7 as [sign/exponent, significand high, significand low] triples. */
  readonly st = new Float64Array(24);
  top = 0;
  /** 8 tag bits: 1 = empty. */
  empty = 0xff;
  /** Status word without TOP (bits 11-13). */
  sw = 0;
  /** Last non-control instruction: opcode (11 bits), instruction and data pointers and selectors. */
  fop = 0;
  fip = 0;
  fcs = 0;
  fdp = 0;
  fds = 0;

  reset(): void {
    this.top = 0;
    this.empty = 0xff;
    this.sw = 0;
    this.st.fill(0);
    this.fop = this.fip = this.fcs = this.fdp = this.fds = 0;
  }

  /** FNINIT / FNSAVE: empty stack, cleared status and pointers; register contents are kept. */
  init(): void {
    this.top = 0;
    this.empty = 0xff;
    this.sw = 0;
    this.fop = this.fip = this.fcs = this.fdp = this.fds = 0;
  }

  status(): number {
    return (this.sw & ~0x3800) | (this.top << 11);
  }

  /** Full 16-bit tag word: 00 valid, 01 zero, 10 special, 11 empty, per physical register. */
  tagWord(): number {
    let t = 0;
    for (let r = 0; r < 8; r++) t |= this.tagOf(r) << (2 * r);
    return t;
  }

  tagOf(r: number): number {
    if (this.empty & (1 << r)) return 3;
    const se = this.st[r * 3], hi = this.st[r * 3 + 1], lo = this.st[r * 3 + 2];
    const e = se & 0x7fff;
    if (e === 0x7fff) return 2;
    if (e === 0) return hi === 0 && lo === 0 ? 1 : 2;
    return hi >= 0x80000000 ? 0 : 2;
  }
}

export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 0x10, PE = 0x20, SF = 0x40, ES = 0x80;
export const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, B = 0x8000;
const CC = C0 | C1 | C2 | C3;

/** #NM for EM/TS; a waiting instruction first delivers a pending unmasked exception (#MF, CR0.NE=1). */
export function prologue(c: X86Cpu, waiting: boolean): void {
  if (c.cr0 & 0xc) c.fault(7);
  if (waiting && c.x87.sw & ES && c.cr0 & 0x20) c.fault(16);
}

/**
 * Record exception flags `fl` (IE..PE, SF, and C1 as the caller computed it: it replaces C1).
 * Returns false when an unmasked pre-computation exception (IE, DE, ZE) forbids writing the result.
 */
export function commit(c: X86Cpu, fl: number): boolean {
  const f = c.x87;
  // An unmasked denormal operand stops the instruction before the result is rounded.
  if (fl & DE & ~c.fpuCw) fl &= ~(PE | UE | OE | C1);
  f.sw = (f.sw & ~C1) | fl;
  const unmasked = fl & ~c.fpuCw & 0x3f;
  if (unmasked) f.sw |= ES | B;
  return (unmasked & (IE | DE | ZE)) === 0;
}

export function phys(c: X86Cpu, i: number): number {
  return (c.x87.top + i) & 7;
}
export function isEmpty(c: X86Cpu, i: number): boolean {
  return (c.x87.empty & (1 << phys(c, i))) !== 0;
}
/** Unpack ST(i) into f80 slot k (the register must not be empty). */
export function fetch(c: X86Cpu, k: number, i: number): void {
  const r = phys(c, i) * 3, s = c.x87.st;
  F.unpack(k, s[r], s[r + 1], s[r + 2]);
}
export function setReg(c: X86Cpu, i: number, se: number, hi: number, lo: number): void {
  const p = phys(c, i), s = c.x87.st;
  s[p * 3] = se & 0xffff; s[p * 3 + 1] = hi >>> 0; s[p * 3 + 2] = lo >>> 0;
  c.x87.empty &= ~(1 << p);
}
export function setRes(c: X86Cpu, i: number): void {
  setReg(c, i, F.res.se, F.res.hi, F.res.lo);
}
export function setIndef(c: X86Cpu, i: number): void {
  setReg(c, i, 0xffff, 0xc0000000, 0);
}
export function pop(c: X86Cpu): void {
  const f = c.x87;
  f.empty |= 1 << f.top;
  f.top = (f.top + 1) & 7;
}
/** True when a push would overflow (the register below TOP is in use). */
export function pushOverflows(c: X86Cpu): boolean {
  return (c.x87.empty & (1 << ((c.x87.top - 1) & 7))) === 0;
}
/** Push res (or the indefinite on overflow, masked); returns false when nothing was pushed. */
export function pushRes(c: X86Cpu, fl: number, load = false): boolean {
  const f = c.x87;
  if (pushOverflows(c)) {
    if (!commit(c, fl | IE | SF | C1)) return false;
    f.top = (f.top - 1) & 7;
    setIndef(c, 0);
    return true;
  }
  // FLD m32/m64 of a denormal loads even when DE is unmasked
  if (!commit(c, fl | (F.st.up ? C1 : 0)) && !(load && !(fl & ~c.fpuCw & (IE | ZE)))) return false;
  f.top = (f.top - 1) & 7;
  setRes(c, 0);
  return true;
}
/** Stack underflow: IE|SF, C1=0; the masked response writes the indefinite to ST(dest). */
export function underflow(c: X86Cpu, dest: number, popAfter: boolean): void {
  if (!commit(c, IE | SF)) return;
  if (dest >= 0) setIndef(c, dest);
  if (popAfter) pop(c);
}

function pc(c: X86Cpu): number {
  const p = (c.fpuCw >> 8) & 3;
  return p === 0 ? 24 : p === 2 ? 53 : 64;
}
export function rc(c: X86Cpu): number {
  return (c.fpuCw >> 10) & 3;
}

/** Slots 0 (X) and 1 (Y) hold the operands; kind = ModRM.reg: 0 add 1 mul 4 X-Y 5 Y-X 6 X/Y 7 Y/X. */
function compute(c: X86Cpu, kind: number): void {
  F.st.flags = 0;
  const mask = c.fpuCw & 0x3f;
  if (kind === 5 || kind === 7) swapSlots();
  switch (kind) {
    case 0: F.add(false, pc(c), rc(c), mask); break;
    case 1: F.mul(pc(c), rc(c), mask); break;
    case 4: case 5: F.add(true, pc(c), rc(c), mask); break;
    default: F.div(pc(c), rc(c), mask); break;
  }
}
function swapSlots(): void {
  let t: number;
  t = F.cls[0]; F.cls[0] = F.cls[1]; F.cls[1] = t;
  t = F.sgn[0]; F.sgn[0] = F.sgn[1]; F.sgn[1] = t;
  t = F.exp[0]; F.exp[0] = F.exp[1]; F.exp[1] = t;
  t = F.mh[0]; F.mh[0] = F.mh[1]; F.mh[1] = t;
  t = F.ml[0]; F.ml[0] = F.ml[1]; F.ml[1] = t;
  t = F.den[0]; F.den[0] = F.den[1]; F.den[1] = t;
}

/** ST(dest) = X op Y with X, Y in slots 0/1; pops after when asked. */
export function arith(c: X86Cpu, kind: number, dest: number, popAfter: boolean): void {
  compute(c, kind);
  if (!commit(c, F.st.flags | (F.st.up ? C1 : 0))) return;
  setRes(c, dest);
  if (popAfter) pop(c);
}

/** Condition codes of a compare result (-1 less, 0 equal, 1 greater, 2 unordered). */
function ccOf(r: number): number {
  return r === 1 ? 0 : r === -1 ? C0 : r === 0 ? C3 : C0 | C2 | C3;
}
/** FCOM-style compare of slots 0/1, result in C0/C2/C3; `pops` registers popped afterwards. */
export function fcom(c: X86Cpu, quiet: boolean, pops: number): void {
  F.st.flags = 0;
  const r = F.compare(quiet);
  const ok = commit(c, F.st.flags);
  c.x87.sw = (c.x87.sw & ~CC) | ccOf(r); // written even when an unmasked exception stops the pop
  if (ok) for (let k = 0; k < pops; k++) pop(c);
}
export function fcomUnderflow(c: X86Cpu, pops: number, eflags: boolean): void {
  const ok = commit(c, IE | SF);
  if (eflags) setEflags(c, 2);
  else c.x87.sw = (c.x87.sw & ~CC) | ccOf(2);
  if (ok) for (let k = 0; k < pops; k++) pop(c);
}
function setEflags(c: X86Cpu, r: number): void {
  const z = r === 0 || r === 2 ? 0x40 : 0, p = r === 2 ? 4 : 0, cf = r === -1 || r === 2 ? 1 : 0;
  c.fl.set((c.fl.get() & ~0x8d5) | z | p | cf);
}
export function fcomi(c: X86Cpu, i: number, quiet: boolean, popAfter: boolean): void {
  if (isEmpty(c, 0) || isEmpty(c, i)) { fcomUnderflow(c, popAfter ? 1 : 0, true); return; }
  fetch(c, 0, 0); fetch(c, 1, i);
  F.st.flags = 0;
  const r = F.compare(quiet);
  const f = c.x87, c1 = f.sw & C1;
  const ok = commit(c, F.st.flags);
  f.sw |= c1; // FCOMI leaves C1 alone
  setEflags(c, r);
  if (popAfter && ok) pop(c);
}

export function fxch(c: X86Cpu, i: number): void {
  const e0 = isEmpty(c, 0), ei = isEmpty(c, i);
  if (e0 || ei) {
    if (!commit(c, IE | SF)) return;
    if (e0) setIndef(c, 0);
    if (ei) setIndef(c, i);
  } else commit(c, 0);
  const a = phys(c, 0) * 3, b = phys(c, i) * 3, s = c.x87.st;
  for (let k = 0; k < 3; k++) { const t = s[a + k]; s[a + k] = s[b + k]; s[b + k] = t; }
}

export function fcmov(c: X86Cpu, op: number, r: number, i: number): void {
  let cond: boolean;
  switch (r) {
    case 0: cond = c.fl.cf() !== 0; break;
    case 1: cond = c.fl.zf() !== 0; break;
    case 2: cond = c.fl.cf() !== 0 || c.fl.zf() !== 0; break;
    default: cond = c.fl.pf() !== 0; break;
  }
  if (op === 0xdb) cond = !cond;
  if (isEmpty(c, i) || isEmpty(c, 0)) { underflow(c, 0, false); return; } // indefinite whatever the condition
  commit(c, c.x87.sw & C1); // C1 unchanged
  if (cond) { const s = c.x87.st, p = phys(c, i) * 3; setReg(c, 0, s[p], s[p + 1], s[p + 2]); }
}

function pushOverflow(c: X86Cpu): void {
  if (!commit(c, IE | SF | C1)) return;
  c.x87.top = (c.x87.top - 1) & 7;
  setIndef(c, 0);
}

/** FST / FSTP ST(i). */
export function fst(c: X86Cpu, i: number, popAfter: boolean): void {
  if (isEmpty(c, 0)) { underflow(c, i, popAfter); return; }
  commit(c, 0);
  const s = c.x87.st, p = phys(c, 0) * 3;
  setReg(c, i, s[p], s[p + 1], s[p + 2]);
  if (popAfter) pop(c);
}

/** FOP / FIP / FDP for FXSAVE, FNSTENV and FNSAVE. */
export function record(c: X86Cpu, i: Insn, lin: number): void {
  const f = c.x87;
  f.fop = ((i.op & 7) << 8) | (i.mod << 6) | ((i.reg & 7) << 3) | (i.rm & 7);
  f.fip = c.rip;
  f.fcs = c.segSel[1];
  if (i.isMem) { f.fdp = lin; f.fds = c.segSel[i.seg]; }
}

// Memory control forms (x87-forms.ts): they leave FOP/FIP/FDP alone.
export function fldcw(c: X86Cpu, _i: Insn, lin: number): void { setCw(c, c.rd16(lin)); }
export function fnstcw(c: X86Cpu, _i: Insn, lin: number): void { c.wr16(lin, c.fpuCw); }
export function fnstswMem(c: X86Cpu, _i: Insn, lin: number): void { c.wr16(lin, c.x87.status()); }

/** The environment image's format (16-bit with a 66 prefix in 32-bit code); it needs 4- (2-) byte alignment, #AC before any #PF (host). */
function envFormat(c: X86Cpu, i: Insn, lin: number): boolean {
  const o16 = i.size === 2;
  if (c.alignCheck) c.alignOperand(lin, o16 ? 2 : 4);
  return o16;
}
export function fnstenv(c: X86Cpu, i: Insn, lin: number): void {
  storeEnv(c, lin, envFormat(c, i, lin));
  c.fpuCw |= 0x3f;
}
export function fldenv(c: X86Cpu, i: Insn, lin: number): void { loadEnv(c, lin, envFormat(c, i, lin)); }
export function fnsave(c: X86Cpu, i: Insn, lin: number): void {
  const o16 = envFormat(c, i, lin), envLen = o16 ? 14 : 28;
  checkWritable(c, lin, envLen + 80);
  storeEnv(c, lin, o16);
  for (let k = 0; k < 8; k++) saveSlot(c, lin + envLen + 10 * k, k);
  c.fpuCw = 0x37f; c.x87.init();
}
export function frstor(c: X86Cpu, i: Insn, lin: number): void {
  const o16 = envFormat(c, i, lin), envLen = o16 ? 14 : 28;
  checkReadable(c, lin, envLen + 80); // fault before changing anything; #PF names the first page (host)
  loadEnv(c, lin, o16);
  for (let k = 0; k < 8; k++) restoreSlot(c, lin + envLen + 10 * k, k);
}

/** New control word: pending unmasked exceptions set ES (delivered at the next waiting instruction). */
export function setCw(c: X86Cpu, cw: number): void {
  c.fpuCw = (cw & 0x1f3f) | 0x40; // reserved bits read as 0, bit 6 as 1
  syncEs(c);
}
function syncEs(c: X86Cpu): void {
  const f = c.x87;
  if (f.sw & ~c.fpuCw & 0x3f) f.sw |= ES | B;
  else f.sw &= ~(ES | B);
}

/** Fault (#PF/#GP) on any of the `len` bytes at lin before writing anything. */
export function checkWritable(c: X86Cpu, lin: number, len: number): void {
  probePages(c, lin, len, 1 | c.accUser);
}
/** #PF on any of the `len` bytes at lin before reading (and changing) anything. */
export function checkReadable(c: X86Cpu, lin: number, len: number): void {
  probePages(c, lin, len, c.accUser);
}
function probePages(c: X86Cpu, lin: number, len: number, acc: number): void {
  if (!c.paging) return;
  c.translate(lin, acc);
  for (let a = lin - (lin & 0xfff) + 4096; a < lin + len; a += 4096) c.translate(a, acc);
}

/** 80-bit ST(k) to memory. */
export function writeExt(c: X86Cpu, lin: number, k: number): void {
  const p = phys(c, k) * 3, s = c.x87.st;
  c.wr64(lin, s[p + 2], s[p + 1]);
  c.wr16(lin + 8, s[p]);
}
/**
 * FNSAVE/FRSTOR register slots sit at 10-byte steps: the image needs only 4- (2-) byte alignment for
 * #AC (host), so while alignment checking is on they move as 16-bit pieces, which that alignment
 * already covers; an 8-byte piece would raise a false #AC.
 */
function saveSlot(c: X86Cpu, lin: number, k: number): void {
  if (!c.alignCheck) { writeExt(c, lin, k); return; }
  const p = phys(c, k) * 3, s = c.x87.st;
  const lo = s[p + 2], hi = s[p + 1];
  c.wr16(lin, lo & 0xffff); c.wr16(lin + 2, lo >>> 16); c.wr16(lin + 4, hi & 0xffff); c.wr16(lin + 6, hi >>> 16);
  c.wr16(lin + 8, s[p]);
}
function restoreSlot(c: X86Cpu, lin: number, k: number): void {
  if (!c.alignCheck) { readExt(c, lin, k); return; }
  const lo = c.rd16(lin) + c.rd16(lin + 2) * 65536, hi = c.rd16(lin + 4) + c.rd16(lin + 6) * 65536, se = c.rd16(lin + 8);
  const p = phys(c, k) * 3, s = c.x87.st;
  s[p] = se; s[p + 1] = hi >>> 0; s[p + 2] = lo >>> 0;
}
/** Memory to ST(k) (tag from the stored tag word is applied by the caller). */
function readExt(c: X86Cpu, lin: number, k: number): void {
  const lo = c.rd64(lin), hi = c.hi, se = c.rd16(lin + 8);
  const p = phys(c, k) * 3, s = c.x87.st;
  s[p] = se; s[p + 1] = hi >>> 0; s[p + 2] = lo >>> 0;
}

function storeEnv(c: X86Cpu, lin: number, o16: boolean): void {
  const f = c.x87;
  if (o16) {
    checkWritable(c, lin, 14);
    c.wr16(lin, c.fpuCw); c.wr16(lin + 2, f.status()); c.wr16(lin + 4, f.tagWord());
    c.wr16(lin + 6, f.fip); c.wr16(lin + 8, f.fcs); c.wr16(lin + 10, f.fdp); c.wr16(lin + 12, f.fds);
    return;
  }
  checkWritable(c, lin, 28);
  c.wr32(lin, 0xffff0000 | c.fpuCw);
  c.wr32(lin + 4, 0xffff0000 | f.status());
  c.wr32(lin + 8, 0xffff0000 | f.tagWord());
  c.wr32(lin + 12, f.fip >>> 0);
  c.wr32(lin + 16, (f.fcs & 0xffff) | ((f.fop & 0x7ff) << 16));
  c.wr32(lin + 20, f.fdp >>> 0);
  c.wr32(lin + 24, 0xffff0000 | f.fds);
}

function loadEnv(c: X86Cpu, lin: number, o16: boolean): void {
  const f = c.x87;
  const step = o16 ? 2 : 4;
  const cw = c.rd16(lin), sw = c.rd16(lin + step), tw = c.rd16(lin + 2 * step);
  f.fip = o16 ? c.rd16(lin + 3 * step) : c.rd32(lin + 12);
  const csop = o16 ? c.rd16(lin + 8) : c.rd32(lin + 16);
  f.fcs = csop & 0xffff; f.fop = o16 ? 0 : (csop >>> 16) & 0x7ff;
  f.fdp = o16 ? c.rd16(lin + 10) : c.rd32(lin + 20);
  f.fds = o16 ? c.rd16(lin + 12) : c.rd16(lin + 24);
  f.top = (sw >> 11) & 7;
  f.sw = sw & ~0x3800;
  let empty = 0;
  for (let r = 0; r < 8; r++) if (((tw >> (2 * r)) & 3) === 3) empty |= 1 << r;
  f.empty = empty;
  setCw(c, cw);
}

/** FXSAVE's x87 part: bytes 0-23 and the eight 16-byte register slots at 32-159. */
export function fxsaveX87(c: X86Cpu, lin: number, rexW: boolean): void {
  const f = c.x87;
  c.wr16(lin, c.fpuCw);
  c.wr16(lin + 2, f.status());
  c.wr16(lin + 4, ~f.empty & 0xff); // abridged tag: 1 = valid
  c.wr16(lin + 6, f.fop);
  if (rexW) {
    c.wr64(lin + 8, f.fip >>> 0, Math.floor(f.fip / 4294967296) >>> 0);
    c.wr64(lin + 16, f.fdp >>> 0, Math.floor(f.fdp / 4294967296) >>> 0);
  } else {
    c.wr64(lin + 8, f.fip >>> 0, f.fcs);
    c.wr64(lin + 16, f.fdp >>> 0, f.fds);
  }
  for (let k = 0; k < 8; k++) {
    writeExt(c, lin + 32 + 16 * k, k);
    c.wr16(lin + 42 + 16 * k, 0);
    c.wr32(lin + 44 + 16 * k, 0);
  }
}

/** FXRSTOR's x87 part (the caller has already validated the image's MXCSR). */
export function fxrstorX87(c: X86Cpu, lin: number, rexW: boolean): void {
  const f = c.x87;
  const cw = c.rd16(lin), sw = c.rd16(lin + 2), tag = c.rd8(lin + 4);
  f.fop = c.rd16(lin + 6) & 0x7ff;
  const ipLo = c.rd64(lin + 8), ipHi = c.hi, dpLo = c.rd64(lin + 16), dpHi = c.hi;
  f.fip = rexW ? (ipHi | 0) * 4294967296 + ipLo : ipLo;
  f.fcs = rexW ? 0 : ipHi & 0xffff;
  f.fdp = rexW ? (dpHi | 0) * 4294967296 + dpLo : dpLo;
  f.fds = rexW ? 0 : dpHi & 0xffff;
  f.top = (sw >> 11) & 7;
  f.sw = sw & ~0x3800;
  f.empty = ~tag & 0xff;
  for (let k = 0; k < 8; k++) readExt(c, lin + 32 + 16 * k, k);
  setCw(c, cw); // ES follows the loaded flags and masks, whatever the image's ES bit says
}

/** FWAIT: #NM when CR0.MP and CR0.TS are both set, #MF for a pending unmasked x87 exception. */
export function fwait(c: X86Cpu): void {
  if ((c.cr0 & 0xa) === 0xa) c.fault(7);
  if (c.x87.sw & ES && c.cr0 & 0x20) c.fault(16);
}

/** FWAIT; the D8-DF forms are registered by x87-forms.ts. */
export function registerX87(h: Handler[]): void {
  h[0x9b] = fwait;
}
