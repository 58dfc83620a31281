import type { FormSetter, Handler, PrefixFormSetter } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { check, copy, load128, src, store128, xreg } from './sse-common.js';
import { approx, ARITH_OP, arithForms, cmppd, cmpps, cmpsd, cmpss, comisd, comiss, guarded } from './sse-arith.js';
import { cvtdq2pd, cvtdq2ps, cvtpd2dq, cvtpd2ps, cvtpi2p, cvtps2dq, cvtps2pd, cvts2si, cvtsd2ss, cvtsi2s, cvtss2sd } from './sse-convert.js';
import { maskmovdqu, PACKED_INT_OPS, pand, pandn, pextrw, pinsrw, por, pshufd, pshufw, pxor, shiftImm, shiftXmm, shufpd, shufps, unpack } from './sse-int.js';
import { checkReadable, fxsaveX87, fxrstorX87 } from './x87.js';

/**
 * SSE/SSE2 (XMM forms; the MMX-register forms need MMX, which is not advertised): moves, scalar and
 * packed float arithmetic, conversions, compares, packed integer operations, MXCSR, FXSAVE/FXRSTOR.
 * Float results follow MXCSR: rounding control, DAZ/FTZ, sticky exception flags, and #XM (#UD when
 * CR4.OSXMMEXCPT is clear) for unmasked exceptions, with the destination left untouched (fpenv.ts).
 * This file: moves, MXCSR/FXSAVE/FXRSTOR and the handlers per form; see sse-arith.ts, sse-convert.ts, sse-int.ts.
 */

// ---------------------------------------------------------------- moves

function movupsLoad(c: X86Cpu, i: Insn): void { // 0F 10 (none/66), F3 0F 6F
  check(c);
  copy(c, i.reg, src(c, i, 16, false));
}
function movapsLoad(c: X86Cpu, i: Insn): void { // 0F 28 (none/66), 66 0F 6F
  check(c);
  copy(c, i.reg, src(c, i, 16, true));
}
function movupsStore(c: X86Cpu, i: Insn): void { // 0F 11 (none/66), F3 0F 7F
  check(c);
  if (i.isMem) store128(c, ea(c, i), i.reg, false); else copy(c, i.rm, i.reg);
}
function movapsStore(c: X86Cpu, i: Insn): void { // 0F 29 (none/66), 66 0F 7F
  check(c);
  if (i.isMem) store128(c, ea(c, i), i.reg, true); else copy(c, i.rm, i.reg);
}

/** MOVSS / MOVSD xmm, xmm/m (F3/F2 0F 10): a load zero-extends, a register source keeps the rest. */
function movScalarLoad(dwords: number): Handler {
  return (c, i) => {
    check(c);
    const x = c.xmm32;
    const d = i.reg;
    if (i.isMem) copy(c, d, src(c, i, dwords * 4));
    else for (let k = 0; k < dwords; k++) x[d * 4 + k] = x[i.rm * 4 + k];
  };
}
/** MOVSS / MOVSD xmm/m, xmm (F3/F2 0F 11). */
function movScalarStore(dwords: number): Handler {
  return (c, i) => {
    check(c);
    const x = c.xmm32;
    const d = i.reg;
    if (i.isMem) {
      const lin = ea(c, i);
      if (dwords === 1) c.wr32(lin, x[d * 4]); else c.wr64(lin, x[d * 4], x[d * 4 + 1]);
    } else for (let k = 0; k < dwords; k++) x[i.rm * 4 + k] = x[d * 4 + k];
  };
}

/**
 * 0F 12/16 (none/66): MOVLPS/MOVLPD and MOVHPS/MOVHPD load a qword into the low/high half; the register
 * forms (no prefix only) are MOVHLPS (12: low <- source high) and MOVLHPS (16: high <- source low).
 */
function movHalfLoad(high: boolean): Handler {
  const off = high ? 2 : 0;
  return (c, i) => {
    check(c);
    const x = c.xmm32;
    const d = i.reg;
    if (i.isMem) {
      const lin = ea(c, i);
      x[d * 4 + off] = c.rd64(lin);
      x[d * 4 + off + 1] = c.hi;
      return;
    }
    const s = i.rm;
    if (high) { x[d * 4 + 2] = x[s * 4]; x[d * 4 + 3] = x[s * 4 + 1]; }
    else { x[d * 4] = x[s * 4 + 2]; x[d * 4 + 1] = x[s * 4 + 3]; }
  };
}
/** 0F 13/17 (none/66), memory only: m64 <- the low/high qword. */
function movHalfStore(high: boolean): Handler {
  const off = high ? 2 : 0;
  return (c, i) => {
    check(c);
    const x = c.xmm32;
    const d = i.reg;
    c.wr64(ea(c, i), x[d * 4 + off], x[d * 4 + off + 1]);
  };
}

function movntps(c: X86Cpu, i: Insn): void { // 0F 2B (none/66), 66 0F E7: memory only
  check(c);
  store128(c, ea(c, i), xreg(i), true);
}

function movnti(c: X86Cpu, i: Insn): void { // 0F C3
  const size = i.size === 8 ? 8 : 4;
  const v = c.getReg(i.reg, size, i.rex);
  c.wrSize(ea(c, i), size, v, c.hi);
}

function movdLoad(c: X86Cpu, i: Insn): void { // 66 0F 6E: MOVD/MOVQ xmm, r/m32/64
  check(c);
  const x = c.xmm32;
  const d = i.reg;
  const q = i.size === 8;
  const lo = i.isMem ? c.rdSize(ea(c, i), q ? 8 : 4) : c.getReg(i.rm, q ? 8 : 4, i.rex);
  x[d * 4] = lo; x[d * 4 + 1] = q ? c.hi : 0; x[d * 4 + 2] = 0; x[d * 4 + 3] = 0;
}
function movdStore(c: X86Cpu, i: Insn): void { // 66 0F 7E: MOVD/MOVQ r/m32/64, xmm
  check(c);
  const x = c.xmm32;
  const d = i.reg;
  const q = i.size === 8;
  if (i.isMem) c.wrSize(ea(c, i), q ? 8 : 4, x[d * 4], x[d * 4 + 1]);
  else c.setReg(i.rm, q ? 8 : 4, x[d * 4], q ? x[d * 4 + 1] : 0, i.rex);
}
function movqLoad(c: X86Cpu, i: Insn): void { // F3 0F 7E: MOVQ xmm, xmm/m64 (zero-extends)
  check(c);
  const x = c.xmm32;
  const d = i.reg;
  const s = src(c, i, 8);
  x[d * 4] = x[s * 4]; x[d * 4 + 1] = x[s * 4 + 1]; x[d * 4 + 2] = 0; x[d * 4 + 3] = 0;
}
function movqStore(c: X86Cpu, i: Insn): void { // 66 0F D6: MOVQ xmm/m64, xmm (a register destination is zero-extended)
  check(c);
  const x = c.xmm32;
  const d = i.reg;
  if (i.isMem) c.wr64(ea(c, i), x[d * 4], x[d * 4 + 1]);
  else { x[i.rm * 4] = x[d * 4]; x[i.rm * 4 + 1] = x[d * 4 + 1]; x[i.rm * 4 + 2] = 0; x[i.rm * 4 + 3] = 0; }
}

// Sign masks into a GPR (register sources only).
function movmskps(c: X86Cpu, i: Insn): void { // 0F 50
  check(c);
  const x = c.xmm32;
  const s = i.rm;
  let m = 0;
  for (let k = 0; k < 4; k++) m |= (x[s * 4 + k] >>> 31) << k;
  c.setReg(i.reg, 4, m, 0, i.rex);
}
function movmskpd(c: X86Cpu, i: Insn): void { // 66 0F 50
  check(c);
  const x = c.xmm32;
  const s = i.rm;
  c.setReg(i.reg, 4, (x[s * 4 + 1] >>> 31) | ((x[s * 4 + 3] >>> 31) << 1), 0, i.rex);
}
function pmovmskb(c: X86Cpu, i: Insn): void { // 66 0F D7
  check(c);
  const s = i.rm;
  let m = 0;
  for (let k = 0; k < 16; k++) m |= (c.xmmU8[s * 16 + k] >> 7) << k;
  c.setReg(i.reg, 4, m, 0, i.rex);
}

// ---------------------------------------------------------------- state: MXCSR, FXSAVE/FXRSTOR, fences

const MXCSR_MASK = 0xffff;

// 0F AE (group 15), memory forms /0-/3, /7; the register forms /5-/7 are the fences.
function ldmxcsr(c: X86Cpu, i: Insn): void { // 0F AE /2
  const lin = ea(c, i);
  check(c);
  const v = c.rd32(lin);
  if (v & ~MXCSR_MASK) c.fault(13, 0);
  c.mxcsrValue = v;
}
function stmxcsr(c: X86Cpu, i: Insn): void { // 0F AE /3
  const lin = ea(c, i);
  check(c);
  c.wr32(lin, c.mxcsrValue);
}
/** CLFLUSH (0F AE /7): caches are not modelled, but the address is formed (and may fault). */
function clflush(c: X86Cpu, i: Insn): void {
  ea(c, i);
}
/** LFENCE / MFENCE / SFENCE: no reordering to fence here. */
function fence(): void {}

function fxsave(c: X86Cpu, i: Insn): void { // 0F AE /0
  const lin = ea(c, i);
  if (c.cr0 & 0xc) c.fault(c.cr0 & 4 ? 6 : 7);
  if (c.alignCheck) c.alignOperand(lin, 4); // below 4-byte alignment #AC wins over #GP (host)
  if (lin % 16 !== 0) c.fault(13, 0);
  if (c.paging) { c.translate(lin, 1 | c.accUser); if ((lin & 0xfff) > 3584) c.translate(c.nextPage(lin), 1 | c.accUser); }
  fxsaveX87(c, lin, i.size === 8); // FCW FSW FTW FOP FIP FDP, ST0-7
  c.wr32(lin + 24, c.mxcsrValue);
  c.wr32(lin + 28, MXCSR_MASK);
  const n = c.codeSize === 64 ? 16 : 8;
  if (c.cr4 & 0x200) for (let k = 0; k < n; k++) store128(c, lin + 160 + k * 16, k, false);
}

function fxrstor(c: X86Cpu, i: Insn): void { // 0F AE /1
  const lin = ea(c, i);
  if (c.cr0 & 0xc) c.fault(c.cr0 & 4 ? 6 : 7);
  if (c.alignCheck) c.alignOperand(lin, 4); // below 4-byte alignment #AC wins over #GP (host)
  if (lin % 16 !== 0) c.fault(13, 0);
  checkReadable(c, lin, 512); // #PF (first page) before the MXCSR check's #GP (host)
  const mx = c.rd32(lin + 24);
  if (mx & ~MXCSR_MASK) c.fault(13, 0);
  fxrstorX87(c, lin, i.size === 8); // FCW FSW FTW FOP FIP FDP, ST0-7
  c.mxcsrValue = mx;
  const n = c.codeSize === 64 ? 16 : 8;
  if (c.cr4 & 0x200) for (let k = 0; k < n; k++) load128(c, lin + 160 + k * 16, k, false);
}

// ---------------------------------------------------------------- table

/**
 * One handler per form (insn-table.ts): the mandatory prefix (none/66/F3/F2) and, for 66 0F 71-73 and
 * 0F AE, the ModRM.reg digit (and operand kind) are resolved at decode time. The decoder rejects the
 * prefix variants and operand kinds a form lacks (sse-names.ts), so no handler checks them again.
 */
export function registerSseForms(sse: PrefixFormSetter, digit: FormSetter): void {
  sse(0x10, movupsLoad, movupsLoad, movScalarLoad(1), movScalarLoad(2));
  sse(0x11, movupsStore, movupsStore, movScalarStore(1), movScalarStore(2));
  sse(0x28, movapsLoad, movapsLoad);
  sse(0x29, movapsStore, movapsStore);
  sse(0x6f, undefined, movapsLoad, movupsLoad); // MOVDQA, MOVDQU
  sse(0x7f, undefined, movapsStore, movupsStore);
  sse(0x12, movHalfLoad(false), movHalfLoad(false));
  sse(0x16, movHalfLoad(true), movHalfLoad(true));
  sse(0x13, movHalfStore(false), movHalfStore(false));
  sse(0x17, movHalfStore(true), movHalfStore(true));
  sse(0x2b, movntps, movntps);
  sse(0xe7, undefined, movntps); // MOVNTDQ
  sse(0x6e, undefined, movdLoad);
  sse(0x7e, undefined, movdStore, movqLoad);
  sse(0xd6, undefined, movqStore);
  sse(0x50, movmskps, movmskpd);
  sse(0xd7, undefined, pmovmskb);
  for (const o of [0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f]) sse(o, ...arithForms(ARITH_OP[o]).map(guarded));
  sse(0x52, approx(true, false), undefined, approx(true, true));
  sse(0x53, approx(false, false), undefined, approx(false, true));
  sse(0x2e, guarded(comiss(false)), guarded(comisd(false)));
  sse(0x2f, guarded(comiss(true)), guarded(comisd(true)));
  sse(0xc2, guarded(cmpps), guarded(cmppd), guarded(cmpss), guarded(cmpsd));
  sse(0x2a, guarded(cvtpi2p(false)), guarded(cvtpi2p(true)), guarded(cvtsi2s(false)), guarded(cvtsi2s(true)));
  sse(0x2c, undefined, undefined, guarded(cvts2si(false, true)), guarded(cvts2si(true, true)));
  sse(0x2d, undefined, undefined, guarded(cvts2si(false, false)), guarded(cvts2si(true, false)));
  sse(0x5a, guarded(cvtps2pd), guarded(cvtpd2ps), guarded(cvtss2sd), guarded(cvtsd2ss));
  sse(0x5b, guarded(cvtdq2ps), guarded(cvtps2dq(false)), guarded(cvtps2dq(true)));
  sse(0xe6, undefined, guarded(cvtpd2dq(true)), guarded(cvtdq2pd), guarded(cvtpd2dq(false)));
  sse(0x54, pand, pand); sse(0x55, pandn, pandn); sse(0x56, por, por); sse(0x57, pxor, pxor);
  sse(0xdb, undefined, pand); sse(0xdf, undefined, pandn); sse(0xeb, undefined, por); sse(0xef, undefined, pxor);
  for (const [o, h] of PACKED_INT_OPS) sse(o, undefined, h);
  sse(0x14, unpack(4, false), unpack(8, false));
  sse(0x15, unpack(4, true), unpack(8, true));
  const UNPACK: [number, number, boolean][] = [[0x60, 1, false], [0x61, 2, false], [0x62, 4, false], [0x6c, 8, false], [0x68, 1, true], [0x69, 2, true], [0x6a, 4, true], [0x6d, 8, true]];
  for (const [o, esz, high] of UNPACK) sse(o, undefined, unpack(esz, high));
  sse(0x70, undefined, pshufd, pshufw(4), pshufw(0));
  sse(0xc6, shufps, shufpd);
  for (const [o, lane] of [[0x71, 2], [0x72, 4], [0x73, 8]]) for (const kind of [2, 3, 4, 6, 7]) digit([0x100 | o], kind, shiftImm(lane, kind));
  for (const o of [0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3]) sse(o, undefined, shiftXmm(o));
  sse(0xc5, undefined, pextrw);
  sse(0xc4, undefined, pinsrw);
  sse(0xf7, undefined, maskmovdqu);
  digit([0x1ae], 0, fxsave, true);
  digit([0x1ae], 1, fxrstor, true);
  digit([0x1ae], 2, ldmxcsr, true);
  digit([0x1ae], 3, stmxcsr, true);
  digit([0x1ae], 7, clflush, true);
  for (const d of [5, 6, 7]) digit([0x1ae], d, fence, false);
}

export function registerSse(h: Handler[]): void {
  h[0x1c3] = movnti;
}
