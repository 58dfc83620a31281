import type { Handler } from './dispatch.js';
import type { X86Cpu } from './cpu.js';
import type { Insn } from './insn.js';
import { ea } from './operands.js';
import { ssePrefix } from './sse-names.js';
import { check, copy, load128, src, store128, xreg } from './sse-common.js';
import { approx, arith, cmpps, guarded, ucomis } from './sse-arith.js';
import { cvtdq, cvtFloat, cvtpd2dq, cvtsi2s, cvtts2si } from './sse-convert.js';
import { logic, maskmovdqu, packedInt, pextrw, pinsrw, pshufd, shiftImm, shiftXmm, shufps, unpack } from './sse-int.js';
import { checkReadable, fxsaveX87, fxrstorX87 } from './x87.js';

/**
 * SSE/SSE2 (XMM forms; the MMX-register forms need MMX, which is not advertised): moves, scalar and
 * packed float arithmetic, conversions, compares, packed integer operations, MXCSR, FXSAVE/FXRSTOR.
 * Float results follow MXCSR: rounding control, DAZ/FTZ, sticky exception flags, and #XM (#UD when
 * CR4.OSXMMEXCPT is clear) for unmasked exceptions, with the destination left untouched (fpenv.ts).
 * This file: moves, MXCSR/FXSAVE/FXRSTOR and the opcode table; see sse-arith.ts, sse-convert.ts, sse-int.ts.
 */

// ---------------------------------------------------------------- moves

function movups(c: X86Cpu, i: Insn): void { // 0F 10/11 (none/66/F3/F2), 28/29
  check(c);
  const p = ssePrefix(i);
  const store = (i.op & 1) === 1;
  const aligned = (i.op & 0xfe) === 0x28;
  const d = xreg(i);
  const x = c.xmm32;
  if (aligned && p >= 2) c.fault(6);
  if (p <= 1) { // full 128-bit move
    if (store) { if (i.isMem) store128(c, ea(c, i), d, aligned); else copy(c, i.rm, d); }
    else { const s = src(c, i, 16, aligned); copy(c, d, s); }
    return;
  }
  const n = p === 2 ? 1 : 2; // dwords moved: MOVSS 1, MOVSD 2
  if (store) {
    if (i.isMem) {
      const lin = ea(c, i);
      if (n === 1) c.wr32(lin, x[d * 4]); else c.wr64(lin, x[d * 4], x[d * 4 + 1]);
    } else { for (let k = 0; k < n; k++) x[i.rm * 4 + k] = x[d * 4 + k]; }
    return;
  }
  if (i.isMem) { // load zero-extends
    const s = src(c, i, n * 4);
    copy(c, d, s);
  } else for (let k = 0; k < n; k++) x[d * 4 + k] = x[i.rm * 4 + k];
}

function movlhps(c: X86Cpu, i: Insn): void { // 0F 12/13/16/17 (none/66)
  check(c);
  const p = ssePrefix(i);
  if (p >= 2) c.fault(6);
  const x = c.xmm32;
  const d = xreg(i);
  const high = (i.op & 0xfe) === 0x16;
  const off = high ? 2 : 0;
  if (i.op & 1) { // store to memory: m64 <- low/high qword
    if (!i.isMem) c.fault(6);
    c.wr64(ea(c, i), x[d * 4 + off], x[d * 4 + off + 1]);
    return;
  }
  if (i.isMem) {
    const lin = ea(c, i);
    x[d * 4 + off] = c.rd64(lin);
    x[d * 4 + off + 1] = c.hi;
  } else {
    if (p === 1) c.fault(6);
    // MOVHLPS (12): low <- src high; MOVLHPS (16): high <- src low
    const s = i.rm;
    if (high) { x[d * 4 + 2] = x[s * 4]; x[d * 4 + 3] = x[s * 4 + 1]; }
    else { x[d * 4] = x[s * 4 + 2]; x[d * 4 + 1] = x[s * 4 + 3]; }
  }
}

function movdqa(c: X86Cpu, i: Insn): void { // 66/F3 0F 6F / 7F
  check(c);
  const p = ssePrefix(i);
  if (p !== 1 && p !== 2) c.fault(6);
  const aligned = p === 1;
  const d = xreg(i);
  if (i.op === 0x17f) {
    if (i.isMem) store128(c, ea(c, i), d, aligned); else copy(c, i.rm, d);
  } else copy(c, d, src(c, i, 16, aligned));
}

function movntps(c: X86Cpu, i: Insn): void { // 0F 2B, 66 0F E7
  check(c);
  if (!i.isMem) c.fault(6);
  store128(c, ea(c, i), xreg(i), true);
}

function movnti(c: X86Cpu, i: Insn): void { // 0F C3
  const size = i.size === 8 ? 8 : 4;
  const v = c.getReg(i.reg, size, i.rex);
  c.wrSize(ea(c, i), size, v, c.hi);
}

function movd(c: X86Cpu, i: Insn): void { // 66 0F 6E / 7E, F3 0F 7E, 66 0F D6
  check(c);
  const p = ssePrefix(i);
  const x = c.xmm32;
  const d = xreg(i);
  if (i.op === 0x17e && p === 2) { // MOVQ xmm, xmm/m64
    const s = src(c, i, 8);
    x[d * 4] = x[s * 4]; x[d * 4 + 1] = x[s * 4 + 1]; x[d * 4 + 2] = 0; x[d * 4 + 3] = 0;
    return;
  }
  if (p !== 1) c.fault(6);
  if (i.op === 0x1d6) { // MOVQ xmm/m64, xmm
    if (i.isMem) c.wr64(ea(c, i), x[d * 4], x[d * 4 + 1]);
    else { x[i.rm * 4] = x[d * 4]; x[i.rm * 4 + 1] = x[d * 4 + 1]; x[i.rm * 4 + 2] = 0; x[i.rm * 4 + 3] = 0; }
    return;
  }
  const q = i.size === 8;
  if (i.op === 0x16e) {
    const lo = i.isMem ? c.rdSize(ea(c, i), q ? 8 : 4) : c.getReg(i.rm, q ? 8 : 4, i.rex);
    x[d * 4] = lo; x[d * 4 + 1] = q ? c.hi : 0; x[d * 4 + 2] = 0; x[d * 4 + 3] = 0;
  } else {
    if (i.isMem) c.wrSize(ea(c, i), q ? 8 : 4, x[d * 4], x[d * 4 + 1]);
    else c.setReg(i.rm, q ? 8 : 4, x[d * 4], q ? x[d * 4 + 1] : 0, i.rex);
  }
}

function movmsk(c: X86Cpu, i: Insn): void { // 0F 50 (none/66), 66 0F D7
  check(c);
  const p = ssePrefix(i);
  if (i.isMem) c.fault(6);
  const x = c.xmm32;
  const s = i.rm;
  let m = 0;
  if (i.op === 0x1d7) {
    if (p !== 1) c.fault(6);
    for (let k = 0; k < 16; k++) m |= (c.xmmU8[s * 16 + k] >> 7) << k;
  } else if (p === 0) for (let k = 0; k < 4; k++) m |= (x[s * 4 + k] >>> 31) << k;
  else if (p === 1) m = (x[s * 4 + 1] >>> 31) | ((x[s * 4 + 3] >>> 31) << 1);
  else c.fault(6);
  c.setReg(i.reg, 4, m, 0, i.rex);
}

// ---------------------------------------------------------------- state: MXCSR, FXSAVE/FXRSTOR, fences

const MXCSR_MASK = 0xffff;

function grp15(c: X86Cpu, i: Insn): void { // 0F AE
  const r = i.reg & 7;
  if (!i.isMem) {
    if (r >= 5) return; // LFENCE / MFENCE / SFENCE: no reordering to fence here
    c.fault(6);
  }
  const lin = ea(c, i);
  switch (r) {
    case 0: fxsave(c, i, lin); return;
    case 1: fxrstor(c, i, lin); return;
    case 2: { // LDMXCSR
      check(c);
      const v = c.rd32(lin);
      if (v & ~MXCSR_MASK) c.fault(13, 0);
      c.mxcsrValue = v;
      return;
    }
    case 3: check(c); c.wr32(lin, c.mxcsrValue); return;
    case 7: return; // CLFLUSH: caches are not modelled
  }
  c.fault(6); // XSAVE family: not advertised
}

function fxsave(c: X86Cpu, i: Insn, lin: number): void {
  if (c.cr0 & 0xc) c.fault(c.cr0 & 4 ? 6 : 7);
  if (c.alignCheck) c.alignOperand(lin, 4); // below 4-byte alignment #AC wins over #GP (host)
  if (lin % 16 !== 0) c.fault(13, 0);
  if (c.paging) { c.translate(lin, 1 | c.accUser); if ((lin & 0xfff) > 3584) c.translate(c.nextPage(lin), 1 | c.accUser); }
  fxsaveX87(c, lin, i.size === 8); // FCW FSW FTW FOP FIP FDP, ST0-7
  c.wr32(lin + 24, c.mxcsrValue);
  c.wr32(lin + 28, MXCSR_MASK);
  const n = c.codeSize === 64 ? 16 : 8;
  if (c.cr4 & 0x200) for (let k = 0; k < n; k++) store128(c, lin + 160 + k * 16, k, false);
  void i;
}

function fxrstor(c: X86Cpu, i: Insn, lin: number): void {
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
  void i;
}

// ---------------------------------------------------------------- table

export function registerSse(h: Handler[]): void {
  h[0x110] = h[0x111] = h[0x128] = h[0x129] = movups;
  h[0x112] = h[0x113] = h[0x116] = h[0x117] = movlhps;
  h[0x114] = h[0x115] = unpack;
  h[0x12a] = guarded(cvtsi2s);
  h[0x12b] = h[0x1e7] = movntps;
  h[0x12c] = h[0x12d] = guarded(cvtts2si);
  h[0x12e] = h[0x12f] = guarded(ucomis);
  h[0x150] = h[0x1d7] = movmsk;
  for (const o of [0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f]) h[0x100 + o] = guarded(arith);
  h[0x154] = h[0x155] = h[0x156] = h[0x157] = h[0x1db] = h[0x1df] = h[0x1eb] = h[0x1ef] = logic;
  h[0x15a] = guarded(cvtFloat);
  h[0x15b] = guarded(cvtdq);
  for (const o of [0x60, 0x61, 0x62, 0x68, 0x69, 0x6a, 0x6c, 0x6d]) h[0x100 + o] = unpack;
  for (const o of [0xfc, 0xfd, 0xfe, 0xf8, 0xf9, 0xfa, 0xd4, 0xfb, 0x74, 0x75, 0x76, 0x64, 0x65, 0x66, 0xda, 0xde, 0xd5, 0xf4,
    0xd8, 0xd9, 0xdc, 0xdd, 0xe8, 0xe9, 0xec, 0xed, 0xe0, 0xe3, 0xe4, 0xe5, 0xea, 0xee, 0xf5, 0xf6, 0x63, 0x67, 0x6b]) h[0x100 + o] = packedInt;
  h[0x16e] = h[0x17e] = h[0x1d6] = movd;
  h[0x16f] = h[0x17f] = movdqa;
  h[0x170] = pshufd;
  h[0x171] = h[0x172] = h[0x173] = shiftImm;
  for (const o of [0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3]) h[0x100 + o] = shiftXmm;
  h[0x1c2] = guarded(cmpps);
  h[0x1c6] = shufps;
  h[0x1c3] = movnti;
  h[0x1e6] = guarded(cvtpd2dq);
  h[0x1ae] = grp15;
  h[0x1c5] = pextrw;
  h[0x1f7] = maskmovdqu;
  h[0x152] = h[0x153] = approx;
  h[0x1c4] = pinsrw;
}
